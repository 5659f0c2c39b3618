//! Service processors (`SPINFO`): the BMC (Baseboard Management Controller) of OpenPOWER
//! systems with its LPC (Low Pin Count) bus, UART (serial port) and IPMI (Intelligent
//! Platform Management Interface) sensors, or the FSPs (Flexible Service Processors) of IBM enterprise systems
//! with their PSI (Processor Support Interface) links.

use crate::chip::pcid_to_chip_id;
use crate::error::{HdatError, Result};
use crate::hdif::Hdif;
use crate::slca::Slca;
use crate::tree::{new_child, unit, Ctx};
use crate::window::Rec;
use alloc::format;
use alloc::vec::Vec;
use oxiboot_devtree::Node;

const IDATA_SP_IMPL: usize = 2;
const IDATA_IOPATH: usize = 5;
const FLAG_INSTALLED: u16 = 0x8000;
const FLAG_FUNCTIONAL: u16 = 0x4000;
const FLAG_PRIMARY: u16 = 0x2000;
const IOPATH_PSI: u16 = 2;
const IOPATH_LPC: u16 = 3;
const LPC_ACTIVE: u16 = 1;
/// Sensor type skiboot's sensor table cannot hold (it has 255 entries, types 0-254).
const IPMI_SENSOR_TYPE_LIMIT: u8 = 255;
/// Base of the LPC MMIO window of chip 0 in the POWER9 (Nimbus) physical map; other chips
/// are offset by their chip id shifted to bit 42.
const P9_LPC_BUS: u64 = 0x0006_0300_0000_0000;
const P9_CHIP_SHIFT: u32 = 42;
const GB: u64 = 1 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpType {
    Bad,
    Unknown,
    Fsp,
    Bmc,
}

fn sp_impl<'a>(sp: &Hdif<'a>) -> Result<Option<Rec<'a>>> {
    Ok(sp.idata(IDATA_SP_IMPL)?.map(|r| r.named("SP implementation")))
}

fn sp_type(sp: &Hdif<'_>) -> Result<SpType> {
    let Some(imp) = sp_impl(sp)? else { return Ok(SpType::Bad) };
    let t = match imp.be16(0)? {
        1 | 2 => SpType::Fsp,
        3 => SpType::Bmc,
        _ => return Ok(SpType::Unknown),
    };
    let flags = imp.be16(4)?;
    if flags & FLAG_INSTALLED == 0 || flags & FLAG_FUNCTIONAL == 0 {
        return Ok(SpType::Bad);
    }
    Ok(t)
}

/// skiboot's `bmc_parse`: a `/bmc` node, its sensors, and the LPC bus the BMC sits on.
pub fn parse_bmc(ctx: &mut Ctx<'_>, slca: &Slca<'_>) -> Result<()> {
    for sp in ctx.instances(ctx.t.sp_subsys, "SPINFO")? {
        if sp_type(&sp)? == SpType::Bmc {
            bmc_node(ctx, slca, &sp)?;
        }
    }
    Ok(())
}

fn bmc_node(ctx: &mut Ctx<'_>, slca: &Slca<'_>, sp: &Hdif<'_>) -> Result<()> {
    let Some(bmc) = new_child(&mut ctx.root, "bmc") else { return Ok(()) };
    bmc.set_u32("#address-cells", 1).set_u32("#size-cells", 0);
    add_sensors(ctx, slca)?;
    if let Some(imp) = sp_impl(sp)? {
        if imp.len() > 8 {
            let family = imp.cstr(8, imp.len().min(8 + 64) - 8)?;
            if let Some(bmc) = ctx.node("/bmc") {
                crate::tree::set_cstr(bmc, "compatible", family);
            }
        }
    }
    let Some(paths) = sp.iarray(IDATA_IOPATH, "SP I/O paths")? else { return Ok(()) };
    if paths.is_empty() {
        return Ok(());
    }
    let io = paths.item(0)?;
    if io.be16(0)? != IOPATH_LPC || io.be16(2)? != LPC_ACTIVE {
        return Ok(());
    }
    add_lpc(ctx, io)
}

fn add_lpc(ctx: &mut Ctx<'_>, io: Rec<'_>) -> Result<()> {
    let chip_id = pcid_to_chip_id(ctx, io.be32(8)?)?;
    if chip_id >= 1 << (64 - P9_CHIP_SHIFT) {
        return Err(HdatError::BadValue { what: "LPC chip id", value: chip_id.into() });
    }
    let base = P9_LPC_BUS | (u64::from(chip_id) << P9_CHIP_SHIFT);
    let (io_bar, mem_bar, fw_bar) = (io.be32(12)?, io.be32(16)?, io.be32(20)?);
    let internal = io.be32(24)? & 0xf000_0000;
    let Some(lpcm) = new_child(&mut ctx.root, &unit("lpcm-opb", base)) else { return Ok(()) };
    lpcm.set_u32("#address-cells", 1).set_u32("#size-cells", 1);
    lpcm.set_strs("compatible", &["ibm,power9-lpcm-opb", "simple-bus"]);
    lpcm.set_u64s("reg", &[base, 1 << 32]);
    lpcm.set_u32("ibm,chip-id", chip_id);
    let end = base + 2 * GB;
    let hi = |a: u64| (a >> 32) as u32;
    let gb2 = (2 * GB) as u32;
    lpcm.set_cells("ranges", &[0, hi(base), base as u32, gb2, 0x8000_0000, hi(end), end as u32, gb2]);
    for (name, compat, off, size) in [
        ("opb-master", "ibm,power9-lpcm-opb-master", 0x10000u32, 0x60u32),
        ("opb-arbiter", "ibm,power9-lpcm-opb-arbiter", 0x11000, 0x8),
        ("lpc-controller", "ibm,power9-lpc-controller", 0x12000, 0x100),
    ] {
        let at = internal.wrapping_add(off);
        if let Some(n) = new_child(lpcm, &unit(name, at.into())) {
            n.set_str("compatible", compat);
            n.set_cells("reg", &[at, size]);
        }
    }
    let Some(lpc) = new_child(lpcm, "lpc@0") else { return Ok(()) };
    lpc.set_u32("#address-cells", 2).set_u32("#size-cells", 1);
    lpc.set_strs("compatible", &["ibm,power9-lpc", "ibm,power8-lpc"]);
    lpc.set_cells("ranges", &[0, 0, mem_bar, 0x1000_0000, 1, 0, io_bar, 0x1_0000, 3, 0, fw_bar, 0x1000_0000]);
    // The UART base is documented as an MMIO address but is in practice an LPC I/O offset.
    let uart = io.be64(32)? as u32;
    if let Some(s) = new_child(lpc, &format!("serial@i{uart:x}")) {
        s.set_cells("reg", &[1, uart, io.be32(40)?]);
        s.set_str("compatible", "ns16550");
        s.set_u32("current-speed", io.be32(48)?);
        s.set_u32("clock-frequency", io.be32(44)?);
        s.set_u32("interrupts", io.u8(52)?.into());
        s.set_str("device_type", "serial");
    }
    Ok(())
}

/// `/bmc/sensors`: one node per IPMI sensor, with the chip it belongs to when its SLCA entry
/// is a processor's.
fn add_sensors(ctx: &mut Ctx<'_>, slca: &Slca<'_>) -> Result<()> {
    let Some(h) = ctx.first(ctx.t.ipmi_sensor, "FRUSE ")? else { return Ok(()) };
    let Some(data) = h.idata(0)? else { return Ok(()) };
    let data = data.named("IPMI sensors");
    let count = data.be32(0)?;
    if 4 + 8 * u64::from(count) > data.len() as u64 {
        return Err(HdatError::CountPastSection {
            what: "IPMI sensors",
            count,
            elem_size: 8,
            available: data.len() as u64,
        });
    }
    let chips = sensor_chips(ctx)?;
    let Some(sensors) = ctx.node("/bmc").and_then(|b| new_child(b, "sensors")) else { return Ok(()) };
    sensors.set_u32("#address-cells", 1).set_u32("#size-cells", 0);
    for i in 0..count as usize {
        let e = data.sub(4 + 8 * i, 8)?;
        let (slca_index, kind, id) = (e.be32(0)?, e.u8(4)?, e.u8(5)?);
        let name = unit("sensor", id.into());
        if sensors.child(&name).is_some() || kind == IPMI_SENSOR_TYPE_LIMIT {
            continue;
        }
        let s = sensors.add_child(Node::new(&name));
        s.set_str("compatible", "ibm,ipmi-sensor");
        s.set_u32("reg", id.into());
        s.set_u32("ipmi-sensor-type", kind.into());
        // skiboot passes the 32-bit index to a 16-bit parameter.
        if let Some(entry) = slca.entry(slca_index as u16)? {
            if let Some((_, Some(chip))) = chips.iter().find(|(r, _)| *r == entry.rsrc_id) {
                s.set_u32("ibm,chip-id", *chip);
            }
        }
    }
    Ok(())
}

/// For each processor chip, in SPPCRD order up to the first without FRU data: the resource id
/// of its FRU and its chip id (if its chip information is present).
fn sensor_chips(ctx: &Ctx<'_>) -> Result<Vec<(u16, Option<u32>)>> {
    let mut out = Vec::new();
    for h in ctx.instances(ctx.t.proc_chip, "SPPCRD")? {
        let Some(fru) = h.idata(2)? else { break };
        let chip = match h.idata(0)? {
            Some(info) => Some(info.be32(16)?),
            None => None,
        };
        out.push((fru.be16(2)?, chip));
    }
    Ok(out)
}

/// skiboot's `fsp_parse`: `/fsps` with one node per usable FSP and its PSI links.
pub fn parse_fsp(ctx: &mut Ctx<'_>) -> Result<()> {
    for (index, sp) in ctx.instances(ctx.t.sp_subsys, "SPINFO")?.into_iter().enumerate() {
        if sp_type(&sp)? != SpType::Fsp {
            continue;
        }
        let Some(imp) = sp_impl(&sp)? else { continue };
        let fsps = ctx.root.ensure_child("fsps");
        if fsps.prop("#address-cells").is_none() {
            fsps.set_u32("#address-cells", 1).set_u32("#size-cells", 0);
        }
        let Some(node) = new_child(fsps, &unit("fsp", index as u64)) else { continue };
        node.set_u32("reg", index as u32);
        let hw = imp.be16(0)?;
        if hw == 1 {
            node.set_strs("compatible", &["ibm,fsp", "ibm,fsp1"]);
            node.set_u32("reg-offset", 0xb001_6000);
        } else {
            node.set_strs("compatible", &["ibm,fsp", "ibm,fsp2"]);
            node.set_u32("reg-offset", 0xb001_1000);
        }
        node.set_u32("hw-version", hw.into());
        node.set_u32("sw-version", imp.be16(2)?.into());
        if imp.be16(4)? & FLAG_PRIMARY != 0 {
            node.set_flag("primary");
        }
        let links = psi_links(ctx, &sp)?;
        if !links.is_empty() {
            if let Some(n) = ctx.node(&format!("/fsps/{}", unit("fsp", index as u64))) {
                n.set_cells("ibm,psi-links", &links);
            }
        }
    }
    Ok(())
}

/// Marks the PSI host bridge of each PSI link's chip and returns the chips' ids.
fn psi_links(ctx: &mut Ctx<'_>, sp: &Hdif<'_>) -> Result<Vec<u32>> {
    let mut chips = Vec::new();
    let Some(paths) = sp.iarray(IDATA_IOPATH, "SP I/O paths")? else { return Ok(chips) };
    for io in paths.items() {
        let io = io?;
        if io.be16(0)? != IOPATH_PSI {
            continue;
        }
        let status = io.be16(2)?;
        let chip = pcid_to_chip_id(ctx, io.be32(24)?)?;
        if let Some(n) = crate::chip::psihb_path(ctx, chip).and_then(|p| ctx.node(&p)) {
            if status == 1 {
                n.set_flag("boot-link");
            }
            n.set_str("status", if status == 1 || status == 2 { "ok" } else { "bad" });
        }
        chips.push(chip);
    }
    Ok(chips)
}
