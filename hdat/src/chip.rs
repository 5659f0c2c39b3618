//! Processor chips (`SPPCRD`, Service Processor Processor Chip Related Data): one `xscom@`
//! node per chip (XSCOM: the chip's register bus as mapped in memory) with the units skiboot
//! describes under it (PSI (Processor Support Interface) host bridge, XIVE (eXternal
//! Interrupt Virtualization Engine), VAS (Virtual Accelerator Switchboard), NX (the nest
//! accelerators), nest MMU (Memory Management Unit), chip TOD (Time Of Day)), the chip's
//! module VPD (Vital Product Data), ECID (Electronic Chip ID) and I2C devices, and the
//! chip-wide properties: supported STOP idle levels and the software checkstop FIR (Fault
//! Isolation Register).

use crate::error::Result;
use crate::hdif::Hdif;
use crate::slca::Slca;
use crate::tree::{join, new_child, unit, Ctx, PRIVATE};
use crate::window::Rec;
use alloc::string::String;
use alloc::vec::Vec;

const IDATA_CHIP_INFO: usize = 0;
const IDATA_CHIP_TOD: usize = 1;
const IDATA_FRU_ID: usize = 2;
const IDATA_KW_VPD: usize = 3;
const IDATA_MODULE_VPD: usize = 4;
/// Chip-attached I2C devices.
pub const IDATA_HOST_I2C: usize = 5;
/// SMP/NVLink/OpenCAPI link information.
pub const IDATA_SMP_LINK: usize = 7;
const IDATA_EC_LEVEL: usize = 8;
/// Private property holding a chip node's SPPCRD instance index.
pub const SPPCRD_INDEX: &str = "oxiboot-hdat,sppcrd-index";

const VERIFY_NOT_INSTALLED: u32 = 2;
const VERIFY_UNUSABLE: u32 = 3;
const VERIFY_MASTER_PROC: u32 = 0x0800_0000;
const TOD_PRIMARY: u32 = 0x02;
const TOD_SECONDARY: u32 = 0x01;
const TOD_STATUS_MASK: u32 = 0x0c;
const TOD_STATUS_OK: u32 = 0x04;
/// The MS VPD page-mover structure says whether it carries the XSCOM base.
const PMS_XSCOM_BASE_VALID: u32 = 0x1000_0000;

/// Chip information block of one SPPCRD.
fn chip_info<'a>(h: &Hdif<'a>) -> Result<Option<Rec<'a>>> {
    Ok(h.idata(IDATA_CHIP_INFO)?.map(|r| r.named("SPPCRD chip info")))
}

/// Whether a chip's verify/exist flags say it is usable.
fn usable(info: &Rec<'_>) -> Result<bool> {
    let ve = info.be32(4)? >> 30;
    Ok(ve != VERIFY_NOT_INSTALLED && ve != VERIFY_UNUSABLE)
}

/// Masks off the stray high bits the service processor sets (52 real address bits).
pub fn cleanup_addr(a: u64) -> u64 {
    a & ((1 << 52) - 1)
}

/// The hardware chip id (XSCOM id) of HDAT processor chip id `pcid`, or `0xffff_ffff`.
pub fn pcid_to_chip_id(ctx: &Ctx<'_>, pcid: u32) -> Result<u32> {
    for h in ctx.instances(ctx.t.proc_chip, "SPPCRD")? {
        if let Some(info) = chip_info(&h)? {
            if info.be32(0)? == pcid {
                return info.be32(16);
            }
        }
    }
    Ok(u32::MAX)
}

/// Path of the `xscom@` node of hardware chip `chip`.
pub fn xscom_path(ctx: &Ctx<'_>, chip: u32) -> Option<String> {
    ctx.root
        .children()
        .iter()
        .find(|n| n.is_compatible("ibm,xscom") && n.prop_u32("ibm,chip-id") == Some(chip))
        .map(|n| join("/", n.name()))
}

/// Paths of all `xscom@` nodes, in tree order.
pub fn xscom_paths(ctx: &Ctx<'_>) -> Vec<String> {
    ctx.root.children().iter().filter(|n| n.is_compatible("ibm,xscom")).map(|n| join("/", n.name())).collect()
}

/// Path of the PSI host bridge of chip `chip`.
pub fn psihb_path(ctx: &Ctx<'_>, chip: u32) -> Option<String> {
    let x = xscom_path(ctx, chip)?;
    let n = ctx.root.find(&x)?.children().iter().find(|c| c.is_compatible("ibm,psihb-x"))?;
    Some(join(&x, n.name()))
}

/// skiboot's `add_xscom`: one node per usable chip, if the MS VPD gives the XSCOM base.
pub fn add_xscom(ctx: &mut Ctx<'_>, slca: &Slca<'_>) -> Result<()> {
    let Some(ms) = ctx.first(ctx.t.ms_vpd, "MS VPD")? else { return Ok(()) };
    let Some(pmbs) = ms.idata(2)? else { return Ok(()) };
    if pmbs.len() < 40 || pmbs.be32(0)? & PMS_XSCOM_BASE_VALID == 0 {
        return Ok(());
    }
    let base = cleanup_addr(pmbs.be64(32)?);
    for (i, h) in ctx.instances(ctx.t.proc_chip, "SPPCRD")?.into_iter().enumerate() {
        let Some(info) = chip_info(&h)? else { continue };
        if usable(&info)? {
            add_chip(ctx, slca, &h, &info, i, base)?;
        }
    }
    Ok(())
}

fn add_chip(
    ctx: &mut Ctx<'_>,
    slca: &Slca<'_>,
    h: &Hdif<'_>,
    info: &Rec<'_>,
    i: usize,
    base: u64,
) -> Result<()> {
    let (pcid, hw_id) = (info.be32(0)?, info.be32(16)?);
    let addr = base | (u64::from(hw_id) << 42);
    let name = unit("xscom", addr);
    let nest = ctx.root.prop_u64("nest-frequency").unwrap_or(0);
    let Some(x) = new_child(&mut ctx.root, &name) else { return Ok(()) };
    x.set_u32("ibm,chip-id", hw_id).set_u32("ibm,proc-chip-id", pcid);
    x.set_u32("#address-cells", 1).set_u32("#size-cells", 1);
    x.set_flag("scom-controller");
    x.set_strs("compatible", &["ibm,xscom", "ibm,power9-xscom"]);
    x.set_u64s("reg", &[addr, 1 << 35]);
    if nest / 4 != 0 {
        x.set_u64("bus-frequency", nest / 4);
    }
    x.set_u32(SPPCRD_INDEX, i as u32);
    debug_assert!(SPPCRD_INDEX.starts_with(PRIVATE));
    let path = join("/", &name);
    if h.version() >= 0xa {
        x.set_u32("ibm,dbob-id", info.be32(24)?);
        x.set_u32("ibm,occ-functional-state", info.be32(28)?);
    }
    let vpd_node = crate::fru::add_vpd_node(ctx, slca, h, IDATA_FRU_ID, IDATA_KW_VPD)?;
    if let Some(v) = vpd_node.as_deref().and_then(|p| ctx.root.find_mut(p)) {
        v.set_u32("ibm,chip-id", hw_id);
    }
    if let Some(fru) = h.idata(IDATA_FRU_ID)? {
        if fru.len() >= 2 {
            if let Some(x) = ctx.root.find_mut(&path) {
                slca.add_loc_code(x, fru.be16(0)?)?;
            }
        }
    }
    if h.version() >= 0xa {
        if let Some(mvpd) = h.idata(IDATA_MODULE_VPD)? {
            if let Some(x) = ctx.root.find_mut(&path) {
                x.set("ibm,module-vpd", mvpd.data().to_vec());
                crate::vpd::add_fru_properties(x, mvpd.data());
            }
            if let Some(v) = vpd_node.as_deref().and_then(|p| ctx.root.find_mut(p)) {
                crate::vpd::add_proc_vendor(v, mvpd.data());
            }
        }
    }
    add_core_affinity(ctx, &path, pcid)?;
    let Some(x) = ctx.root.find_mut(&path) else { return Ok(()) };
    add_unit(x, "psihb", 0x501_2900, 0x100, &["ibm,power9-psihb-x", "ibm,psihb-x"]);
    if let Some(xive) = add_unit(x, "xive", 0x501_3000, 0x300, &["ibm,power9-xive-x"]) {
        xive.set_flag("force-assign-bars");
    }
    crate::i2c::parse_devices(x, h, IDATA_HOST_I2C)?;
    if let Some(vas) = add_unit(x, "vas", 0x301_1800, 0x300, &["ibm,power9-vas-x"]) {
        vas.set_u32("ibm,vas-id", i as u32);
    }
    add_ecid(x, h)?;
    if info.be32(4)? & VERIFY_MASTER_PROC != 0 {
        x.set_flag("primary");
    }
    if info.len() >= 73 && info.be32(68)? != 0 && ctx.root.prop("ibm,sw-checkstop-fir").is_none() {
        ctx.root.set_cells("ibm,sw-checkstop-fir", &[info.be32(68)?, info.u8(72)?.into()]);
    }
    Ok(())
}

/// A unit under an `xscom@` node: `name@scom` with `reg = <scom len>` and `compatible`.
fn add_unit<'n>(
    x: &'n mut oxiboot_devtree::Node,
    name: &str,
    scom: u32,
    len: u32,
    compat: &[&str],
) -> Option<&'n mut oxiboot_devtree::Node> {
    let n = new_child(x, &unit(name, scom.into()))?;
    n.set_cells("reg", &[scom, len]);
    n.set_strs("compatible", compat);
    Some(n)
}

/// Affinity ids the SPPCRD lacks, taken from the first core (SPPCIA) of the chip.
fn add_core_affinity(ctx: &mut Ctx<'_>, path: &str, pcid: u32) -> Result<()> {
    for core in ctx.instances(ctx.t.pcia, "SPPCIA")? {
        let Some(id) = core.idata(0)? else { continue };
        if id.len() < crate::cpu::CORE_UNIQUE_LEN || id.be32(20)? != pcid {
            continue;
        }
        if let Some(x) = ctx.root.find_mut(path) {
            x.set_u32("ibm,ccm-node-id", id.be32(60)?);
            x.set_u32("ibm,hw-card-id", id.be32(64)?);
            x.set_u32("ibm,hw-module-id", id.be32(36)?);
            if x.prop("ibm,dbob-id").is_none() {
                x.set_u32("ibm,dbob-id", id.be32(72)?);
            }
        }
        break;
    }
    Ok(())
}

/// `ecid`, `wafer-id` and `wafer-location` from the chip's first EC level entry.
fn add_ecid(x: &mut oxiboot_devtree::Node, h: &Hdif<'_>) -> Result<()> {
    let Some(ec) = h.idata(IDATA_EC_LEVEL)? else { return Ok(()) };
    if ec.is_empty() {
        return Ok(());
    }
    let ec = ec.named("SPPCRD EC level");
    let first = ec.be32(0)? as usize;
    let (low, high) = (ec.be64(first + 8)?, ec.be64(first + 16)?);
    x.set_u64s("ecid", &[low, high]);
    // Bits 4..63 of the low half hold the wafer id: ten 6-bit character codes.
    let mut wafer = [0u8; 10];
    for (i, c) in wafer.iter_mut().rev().enumerate() {
        let code = ((low >> (i * 6)) & 0x3f) as u8;
        *c = match code {
            0..=9 => b'0' + code,
            0xa..=0x23 => b'0' + code + 7,
            0x3d => b'-',
            0x3e => b'.',
            0x3f => b' ',
            _ => b'0' + code,
        };
    }
    crate::tree::set_cstr(x, "wafer-id", &wafer);
    x.set_cells("wafer-location", &[((high >> 56) & 0xff) as u32, ((high >> 48) & 0xff) as u32]);
    Ok(())
}

/// `chiptod@40000` under each chip whose TOD (Time Of Day) unit is usable, marked primary or
/// secondary. A chip whose TOD data was stripped is assumed usable, chip 0 primary.
pub fn add_chiptod(ctx: &mut Ctx<'_>) -> Result<()> {
    for h in ctx.instances(ctx.t.proc_chip, "SPPCRD")? {
        let Some(info) = chip_info(&h)? else { continue };
        if !usable(&info)? {
            continue;
        }
        let Some(tod) = h.idata(IDATA_CHIP_TOD)? else { continue };
        let hw_id = info.be32(16)?;
        let flags = if tod.is_empty() {
            TOD_STATUS_OK | if hw_id == 0 { TOD_PRIMARY } else { 0 }
        } else {
            tod.named("SPPCRD chip TOD").be32(0)?
        };
        if flags & TOD_STATUS_MASK != TOD_STATUS_OK {
            continue;
        }
        let Some(x) = xscom_path(ctx, hw_id).and_then(|p| ctx.root.find_mut(&p)) else { continue };
        if let Some(n) = add_unit(x, "chiptod", 0x40000, 0x34, &["ibm,power-chiptod", "ibm,power9-chiptod"]) {
            if flags & TOD_PRIMARY != 0 {
                n.set_flag("primary");
            }
            if flags & TOD_SECONDARY != 0 {
                n.set_flag("secondary");
            }
        }
    }
    Ok(())
}

/// `nx@2010000` under each usable chip whose NX (accelerator) unit is enabled, then
/// `nmmu@5012c40` (nest MMU) under every chip.
pub fn add_nx_and_nmmu(ctx: &mut Ctx<'_>) -> Result<()> {
    for h in ctx.instances(ctx.t.proc_chip, "SPPCRD")? {
        let Some(info) = chip_info(&h)? else { continue };
        if !usable(&info)? || info.be32(8)? == 0 {
            continue;
        }
        if let Some(x) = xscom_path(ctx, info.be32(16)?).and_then(|p| ctx.root.find_mut(&p)) {
            add_unit(x, "nx", 0x201_0000, 0x4000, &["ibm,power9-nx"]);
        }
    }
    for p in xscom_paths(ctx) {
        if let Some(x) = ctx.root.find_mut(&p) {
            add_unit(x, "nmmu", 0x501_2c40, 0x20, &["ibm,power9-nest-mmu"]);
        }
    }
    Ok(())
}

/// `/ibm,opal/power-mgt/ibm,enabled-stop-levels`: the STOP levels every usable chip supports.
pub fn add_stop_levels(ctx: &mut Ctx<'_>) -> Result<()> {
    let mut levels = u32::MAX;
    let mut valid = false;
    for h in ctx.instances(ctx.t.proc_chip, "SPPCRD")? {
        let Some(info) = chip_info(&h)? else { continue };
        if info.len() < 0x44 {
            levels = 0;
            break;
        }
        if !usable(&info)? {
            continue;
        }
        levels &= info.be32(64)?;
        valid = true;
    }
    if !valid {
        levels = 0;
    }
    let opal = ctx.root.ensure_child("ibm,opal");
    opal.ensure_child("power-mgt").set_u32("ibm,enabled-stop-levels", levels);
    Ok(())
}
