//! Node secure and trusted boot data (`TPMREL`): where the TPM (Trusted Platform Module)
//! event log hostboot wrote is (`linux,sml-base`/`linux,sml-size` on the TPM's I2C node),
//! and the services of the container verification code hostboot left in reserved memory
//! (`/ibm,secureboot/ibm,cvc`).

use crate::chip::xscom_path;
use crate::error::Result;
use crate::tree::{find_all, new_child, unit, Ctx};

const IDATA_TPM_INFO: usize = 0;
const IDATA_HASH_VERIFY: usize = 2;
const TPM_PRESENT_NOT_FUNCTIONAL: u8 = 0x02;
const TPM_NOT_PRESENT: u8 = 0x03;

/// skiboot's `node_stb_parse`.
pub fn parse(ctx: &mut Ctx<'_>) -> Result<()> {
    let Some(h) = ctx.first(ctx.t.node_stb_data, "TPMREL")? else { return Ok(()) };
    event_log(ctx, &h)?;
    cvc(ctx, &h)
}

fn event_log(ctx: &mut Ctx<'_>, h: &crate::hdif::Hdif<'_>) -> Result<()> {
    let Some(block) = h.idata(IDATA_TPM_INFO)? else { return Ok(()) };
    if block.len() < crate::hdif::ARRAY_HDR_LEN {
        return Ok(());
    }
    let Some(arr) = h.iarray(IDATA_TPM_INFO, "TPMREL TPM information")? else { return Ok(()) };
    if arr.len() > 1 {
        return Ok(());
    }
    for info in arr.items() {
        let info = info?;
        let status = info.u8(12)?;
        if status == TPM_NOT_PRESENT {
            continue;
        }
        // The chip id here is already the hardware (XSCOM) id.
        let Some(x) = xscom_path(ctx, info.be32(0)?) else { continue };
        let tpm = find_all(&ctx.root, &x, &|n| n.prop("label") == Some(&b"tpm\0"[..]))
            .into_iter()
            .find(|p| *p != x);
        let Some(tpm) = tpm else { continue };
        // The log is addressed relative to this entry, as a physical address.
        let entry = (info.data().as_ptr() as usize).wrapping_sub(ctx.win.bytes().as_ptr() as usize);
        let base = ctx.win.addr_of(entry).wrapping_add(info.be32(16)?.into());
        let size = info.be32(20)?;
        if let Some(n) = ctx.node(&tpm) {
            n.set_u64("linux,sml-base", base);
            n.set_u32("linux,sml-size", size);
            if status == TPM_PRESENT_NOT_FUNCTIONAL {
                n.set_str("status", "disabled");
            }
        }
    }
    Ok(())
}

/// The reserved-memory node hostboot labelled `label`.
fn reserved(ctx: &Ctx<'_>, label: &str) -> Option<alloc::string::String> {
    let under = "/ibm,hostboot/reserved-memory";
    ctx.root.find(under)?;
    find_all(&ctx.root, under, &|n| n.prop_str("ibm,prd-label") == Some(label))
        .into_iter()
        .find(|p| p != under)
}

fn cvc(ctx: &mut Ctx<'_>, h: &crate::hdif::Hdif<'_>) -> Result<()> {
    let Some(block) = h.idata(IDATA_HASH_VERIFY)? else { return Ok(()) };
    if block.len() < crate::hdif::ARRAY_HDR_LEN || ctx.root.child("ibm,secureboot").is_none() {
        return Ok(());
    }
    let Some(mem) =
        reserved(ctx, "secure-crypt-algo-code").or_else(|| reserved(ctx, "ibm,secure-crypt-algo-code"))
    else {
        return Ok(());
    };
    let Some(sb) = ctx.node("/ibm,secureboot") else { return Ok(()) };
    let Some(cvc) = new_child(sb, "ibm,cvc") else { return Ok(()) };
    cvc.set_u32("#address-cells", 1).set_u32("#size-cells", 0);
    cvc.set_str("compatible", "ibm,container-verification-code");
    ctx.refer("/ibm,secureboot/ibm,cvc", "memory-region", &[&mem]);
    let Some(arr) = h.iarray(IDATA_HASH_VERIFY, "TPMREL hash and verification")? else { return Ok(()) };
    for hv in arr.items() {
        let hv = hv?;
        let (kind, version, offset) = (hv.be32(0)?, hv.be32(4)?, hv.be32(12)?);
        let compat = match kind {
            0 => "ibm,cvc-sha512",
            1 => "ibm,cvc-verify",
            _ => continue,
        };
        let Some(cvc) = ctx.node("/ibm,secureboot/ibm,cvc") else { return Ok(()) };
        if let Some(n) = new_child(cvc, &unit("ibm,cvc-service", offset.into())) {
            n.set_str("compatible", compat);
            n.set_u32("reg", offset);
            n.set_u32("version", version);
        }
    }
    Ok(())
}
