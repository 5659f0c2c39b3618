//! IPL (Initial Program Load) parameters (`IPLPMS`): system parameters (model, platform
//! compatible strings, nest frequency, vendor, bus speeds, secure boot settings), IPL side and
//! mode, the LED (indicator light) mode, the serial ports of the FSP (Flexible Service
//! Processor), the platform dump descriptor and firmware feature flags.

use crate::error::Result;
use crate::hdif::Hdif;
use crate::tree::{new_child, set_cstr, unit, Ctx};
use crate::window::Rec;
use alloc::vec::Vec;
use oxiboot_devtree::Node;

const IDATA_SYSPARAMS: usize = 0;
const IDATA_IPLPARAMS: usize = 1;
const IDATA_PLATFORM_DUMP: usize = 4;
const IDATA_SERIAL: usize = 8;
const IDATA_FEATURES: usize = 9;
const SYS_ATTR_RISK_LEVEL: u32 = 0x1000_0000;
const SEC_CONTAINER_SIG_CHECKING: u16 = 0x8000;
const SEC_HASHES_EXTENDED_TO_TPM: u16 = 0x4000;
const PHYSICAL_PRESENCE_ASSERTED: u16 = 0x1000;
const KEY_CLEAR_ALL: u16 = 0x8000;
const KEY_CLEAR_OS_KEYS: u16 = 0x4000;
const KEY_CLEAR_MFG: u16 = 0x0100;
const HW_KEY_HASH_MAX: u16 = 64;
const OATTR_RST_PCI_BUSNO: u32 = 0x0800_0000;
const OATTR_LIGHT_PATH: u32 = 0x0000_0004;
const CEC_SIDE_TEMP: u8 = 0x10;
const SP_SIDE_TEMP: u8 = 0x01;

/// skiboot's `add_iplparams`.
pub fn parse(ctx: &mut Ctx<'_>) -> Result<()> {
    let Some(ipl) = ctx.first(ctx.t.ipl_parms, "IPLPMS")? else { return Ok(()) };
    let node = ctx.root.ensure_child("ipl-params");
    node.set_u32("#address-cells", 0).set_u32("#size-cells", 0);
    sys_params(ctx, &ipl)?;
    ipl_params(ctx, &ipl)?;
    serials(ctx, &ipl)?;
    platform_dump(ctx, &ipl)?;
    features(ctx, &ipl)
}

fn sys_params(ctx: &mut Ctx<'_>, ipl: &Hdif<'_>) -> Result<()> {
    let Some(p) = ipl.idata(IDATA_SYSPARAMS)? else {
        ctx.root.set_str("compatible", "ibm,powernv");
        return Ok(());
    };
    let p = p.named("IPL system parameters");
    let version = ipl.version();
    let root = &mut ctx.root;
    let mut compat = Vec::from(&b"ibm,powernv\0"[..]);
    for off in [200, crate::fru::SYS_TYPE_STR] {
        compat.extend_from_slice(p.cstr(off, 64)?);
        compat.push(0);
    }
    root.set("compatible", compat);
    if version >= 0x5b {
        root.set_u64("nest-frequency", u64::from(p.be32(56)?) * 1_000_000);
    }
    let vendor = if version >= 0x5f { p.cstr(64, 64)? } else { &[] };
    if vendor.is_empty() {
        root.set_str("vendor", "IBM");
    } else {
        set_cstr(root, "vendor", vendor);
    }
    let Some(sys) = ctx.node("/ipl-params").and_then(|n| new_child(n, "sys-params")) else { return Ok(()) };
    sys.set_u32("#address-cells", 0).set_u32("#size-cells", 0);
    set_cstr(sys, "ibm,sys-model", p.bytes(0, 4)?);
    for (off, name) in [(24, "abc-bus-freq-mhz"), (28, "wxyz-bus-freq-mhz")] {
        let speed = p.be32(off)?;
        if speed != 0 {
            sys.set_u64(name, speed.into());
        }
    }
    if p.be32(36)? & SYS_ATTR_RISK_LEVEL != 0 {
        sys.set_flag("elevated-risk-level");
    }
    if version >= 0x60 {
        secureboot(&mut ctx.root, &p)?;
    }
    Ok(())
}

/// `/ibm,secureboot`: secure and trusted boot state and the hardware key hash.
fn secureboot(root: &mut Node, p: &Rec<'_>) -> Result<()> {
    let Some(n) = new_child(root, "ibm,secureboot") else { return Ok(()) };
    n.set_strs("compatible", &["ibm,secureboot", "ibm,secureboot-v2"]);
    let sec = p.be16(128)?;
    if sec & SEC_CONTAINER_SIG_CHECKING != 0 {
        n.set_flag("secure-enabled");
    }
    if sec & SEC_HASHES_EXTENDED_TO_TPM != 0 {
        n.set_flag("trusted-enabled");
    }
    if sec & PHYSICAL_PRESENCE_ASSERTED != 0 {
        n.set_flag("physical-presence-asserted");
    }
    let clear = p.be16(62)?;
    for (bit, name) in [
        (KEY_CLEAR_OS_KEYS, "clear-os-keys"),
        (KEY_CLEAR_MFG, "clear-mfg-keys"),
        (KEY_CLEAR_ALL, "clear-all-keys"),
    ] {
        if clear & bit != 0 {
            n.set_flag(name);
        }
    }
    let size = p.be16(134)?.min(HW_KEY_HASH_MAX);
    n.set("hw-key-hash", p.bytes(136, size.into())?.to_vec());
    n.set_u32("hw-key-hash-size", size.into());
    Ok(())
}

fn ipl_params(ctx: &mut Ctx<'_>, ipl: &Hdif<'_>) -> Result<()> {
    let Some(p) = ipl.idata(IDATA_IPLPARAMS)? else { return Ok(()) };
    let p = p.named("IPL parameters");
    let other = p.be32(16)?;
    let Some(n) = ctx.node("/ipl-params").and_then(|n| new_child(n, "ipl-params")) else { return Ok(()) };
    n.set_u32("#address-cells", 0).set_u32("#size-cells", 0);
    if other & OATTR_RST_PCI_BUSNO != 0 {
        n.set_u32("pci-busno-reset-ipl", 1);
    }
    let side = p.u8(2)?;
    n.set_str("cec-ipl-side", if side & CEC_SIDE_TEMP != 0 { "temp" } else { "perm" });
    n.set_str("sp-ipl-side", if side & SP_SIDE_TEMP != 0 { "temp" } else { "perm" });
    n.set_u32("os-ipl-mode", p.u8(8)?.into());
    n.set_str("cec-major-type", if p.u8(6)? != 0 { "hot" } else { "cold" });
    if let Some(leds) = ctx.node("/ibm,opal/leds") {
        leds.set_str("led-mode", if other & OATTR_LIGHT_PATH != 0 { "lightpath" } else { "guidinglight" });
    }
    Ok(())
}

fn serials(ctx: &mut Ctx<'_>, ipl: &Hdif<'_>) -> Result<()> {
    let Some(arr) = ipl.iarray(IDATA_SERIAL, "IPL serial ports")? else { return Ok(()) };
    if arr.is_empty() {
        return Ok(());
    }
    let Some(node) = ctx.node("/ipl-params").and_then(|n| new_child(n, "fsp-serial")) else { return Ok(()) };
    node.set_u32("#address-cells", 1).set_u32("#size-cells", 0);
    for s in arr.items() {
        let s = s?;
        let rsrc = s.be16(80)?;
        if let Some(n) = new_child(node, &unit("serial", rsrc.into())) {
            n.set_u32("reg", rsrc.into());
            set_cstr(n, "ibm,loc-code", s.bytes(0, 80)?);
            n.set_str("compatible", "ibm,fsp-serial");
        }
    }
    Ok(())
}

fn platform_dump(ctx: &mut Ctx<'_>, ipl: &Hdif<'_>) -> Result<()> {
    let Some(d) = ipl.idata(IDATA_PLATFORM_DUMP)? else { return Ok(()) };
    let d = d.named("IPL platform dump");
    let Some(n) = ctx.node("/ipl-params").and_then(|n| new_child(n, "platform-dump")) else { return Ok(()) };
    if d.is_empty() {
        return Ok(());
    }
    let id = d.be32(4)?;
    if id != 0 {
        n.set_u32("dump-id", id);
        n.set_u64("total-size", d.be64(16)?);
        n.set_u64("hw-dump-size", d.be32(28)?.into());
        n.set_u32("plog-id", d.be32(36)?);
    }
    Ok(())
}

/// `/ibm,opal/fw-features`: one node per firmware feature, `enabled` or `disabled`.
fn features(ctx: &mut Ctx<'_>, ipl: &Hdif<'_>) -> Result<()> {
    let Some(arr) = ipl.iarray(IDATA_FEATURES, "IPL firmware features")? else { return Ok(()) };
    if arr.is_empty() || arr.actual_size() == 0 {
        return Ok(());
    }
    let opal = ctx.root.ensure_child("ibm,opal");
    let Some(ff) = new_child(opal, "fw-features") else { return Ok(()) };
    for f in arr.items() {
        let f = f?;
        let name = f.cstr(0, 64)?;
        if name.is_empty() {
            continue;
        }
        let name = if name == b"tm-suspend-mode-enabled" { &b"tm-suspend-mode"[..] } else { name };
        let name = crate::window::text(name);
        if name.contains('/') {
            continue;
        }
        if let Some(n) = new_child(ff, &name) {
            n.set_flag(if f.be64(64)? >> 63 != 0 { "enabled" } else { "disabled" });
        }
    }
    Ok(())
}
