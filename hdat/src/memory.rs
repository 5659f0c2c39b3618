//! Main store (`MS VPD`, main store Vital Product Data): memory ranges (`memory@` nodes with
//! their chip affinity), the DIMMs (memory modules) behind each memory controller (`mcbist`/`mcs`/`mca`/`dimm` under the chip's `xscom@`
//! node), DIMM VPD under `/vpd`, and the ranges hostboot reserved
//! (`/ibm,hostboot/reserved-memory`).

use crate::chip::{cleanup_addr, pcid_to_chip_id, xscom_path};
use crate::error::{HdatError, Result};
use crate::hdif::Hdif;
use crate::slca::{find_by_name, Slca};
use crate::tree::{join, new_child, unit, Ctx};
use crate::window::Rec;
use alloc::format;
use alloc::string::String;
use oxiboot_devtree::Node;

const AREA_INSTALLED: u16 = 0x8000;
const AREA_FUNCTIONAL: u16 = 0x4000;
const AREA_SHARED: u16 = 0x2000;
const PARENT_RISER_CARD: u16 = 0x8000;
const RAM_INSTALLED: u16 = 0x8000;
const RAM_FUNCTIONAL: u16 = 0x4000;
/// Bit 63: the service processor's marker for a physical (not TCE-mapped) address.
const HRMOR_BIT: u64 = 1 << 63;
const RESERVE_LABEL_SIZE: usize = 64;
/// Reservations larger than this are bogus (seen on broken HDATs) and ignored.
const MAX_RESERVE: u64 = 0x2000_0000;

/// skiboot's `memory_parse`.
pub fn parse(ctx: &mut Ctx<'_>, slca: &Slca<'_>) -> Result<()> {
    let Some(ms) = ctx.first(ctx.t.ms_vpd, "MS VPD")? else {
        return Err(HdatError::Missing { what: "MS VPD (main store)" });
    };
    if ctx.t.ms_vpd.act_len < crate::hdif::HDR_LEN as u32 {
        return Err(HdatError::BadValue { what: "MS VPD length", value: ctx.t.ms_vpd.act_len.into() });
    }
    if ms.idata(0)?.is_none_or(|r| r.len() < 8) {
        return Err(HdatError::Missing { what: "MS VPD address configuration" });
    }
    if ms.idata(1)?.is_none_or(|r| r.len() < 8) {
        return Err(HdatError::Missing { what: "MS VPD total configured memory" });
    }
    areas(ctx, slca, &ms)?;
    reservations(ctx, &ms)?;
    traces(ctx, &ms)
}

fn areas(ctx: &mut Ctx<'_>, slca: &Slca<'_>, ms: &Hdif<'_>) -> Result<()> {
    for area in ms.children(0, "MSAREA")? {
        let Some(id) = area.idata(2)? else { return Ok(()) };
        if id.len() < 8 {
            return Ok(());
        }
        let (parent_type, flags) = (id.be16(2)?, id.be16(4)?);
        if flags & (AREA_INSTALLED | AREA_FUNCTIONAL) != AREA_INSTALLED | AREA_FUNCTIONAL {
            continue;
        }
        let Some(ranges) = area.iarray(4, "MS area address ranges")? else { continue };
        if ranges.actual_size() < 24 || area.idata(0)?.is_none() {
            return Ok(());
        }
        if parent_type & PARENT_RISER_CARD != 0 {
            crate::fru::add_vpd_node(ctx, slca, &area, 0, 1)?;
        }
        ram_vpd(ctx, slca, &area, &ranges.item(0)?)?;
        for r in ranges.items() {
            let r = r?;
            if r.len() >= 36 {
                controller(ctx, slca, &area, &r)?;
            }
            let attr = if r.len() >= 40 { r.be32(36)? } else { 0 };
            address_range(ctx, flags, &r, attr >> 24, (attr >> 16) & 0xff)?;
        }
    }
    Ok(())
}

/// DIMM VPD under `/vpd` for each installed RAM area of a memory area.
fn ram_vpd(ctx: &mut Ctx<'_>, slca: &Slca<'_>, area: &Hdif<'_>, first_range: &Rec<'_>) -> Result<()> {
    for ram in area.children(0, "RAM   ")? {
        let Some(ram_id) = ram.idata(2)? else { continue };
        if ram_id.len() < 4 || ram_id.be16(2)? & RAM_INSTALLED == 0 {
            continue;
        }
        let Some(path) = crate::fru::add_vpd_node(ctx, slca, &ram, 0, 1)? else { continue };
        let chip = pcid_to_chip_id(ctx, first_range.be32(16)?)?;
        let bus_freq = memory_bus_frequency(ctx, chip)?;
        let blob = ram.idata(1)?;
        let size = ram.idata(3)?;
        let Some(node) = ctx.node(&path) else { continue };
        node.set_u32("ibm,chip-id", chip);
        if let Some(f) = bus_freq {
            node.set_u64("ibm,memory-bus-frequency", f);
        }
        if ram_id.len() >= 8 {
            let speed = if ram_id.len() >= 12 { ram_id.be32(8)? } else { 0 };
            node.set_u32("frequency", speed.wrapping_mul(1_000_000));
        }
        if let Some(sz) = size {
            if sz.len() >= 8 {
                node.set_str("size", &format!("{}", sz.be32(4)? as i32));
            }
        }
        if let Some(blob) = blob {
            if !crate::vpd::is_valid(blob.data()) {
                node.set("spd", blob.data().to_vec());
            }
        }
    }
    Ok(())
}

/// Memory bus frequency of the first core (SPPCIA) on chip `chip`, in Hz.
fn memory_bus_frequency(ctx: &Ctx<'_>, chip: u32) -> Result<Option<u64>> {
    for core in ctx.instances(ctx.t.pcia, "SPPCIA")? {
        let Some(id) = core.idata(0)?.filter(|r| r.len() >= crate::cpu::CORE_UNIQUE_LEN) else {
            return Ok(None);
        };
        if pcid_to_chip_id(ctx, id.be32(20)?)? != chip {
            continue;
        }
        let Some(tb) = core.idata(1)?.filter(|r| r.len() >= 16) else { return Ok(None) };
        return Ok(Some(u64::from(tb.be32(12)?) * 1_000_000));
    }
    Ok(None)
}

/// The child `name` of `parent` (searched below it) or a new one with `#address-cells = 1`,
/// `#size-cells = 0` and `reg`.
fn mc_level(ctx: &mut Ctx<'_>, parent: &str, name: &str, reg: &[u32]) -> Option<String> {
    if let Some(p) = find_by_name(&ctx.root, parent, name) {
        return Some(p);
    }
    let n = new_child(ctx.node(parent)?, name)?;
    n.set_u32("#address-cells", 1).set_u32("#size-cells", 0);
    n.set_cells("reg", reg);
    Some(join(parent, name))
}

/// `mcbist@`/`mcs@`/`mca@` nodes for a range's memory controller (POWER9 Nimbus), and the
/// DIMMs behind it.
fn controller(ctx: &mut Ctx<'_>, slca: &Slca<'_>, area: &Hdif<'_>, range: &Rec<'_>) -> Result<()> {
    if ctx.pvr >> 16 != crate::PVR_TYPE_P9 {
        return Ok(());
    }
    let chip = pcid_to_chip_id(ctx, range.be32(16)?)?;
    let ctl = range.be32(32)?;
    let Some(x) = xscom_path(ctx, chip) else { return Ok(()) };
    let (mcbist, mcs, mca) = (ctl >> 30, (ctl >> 24) & 0xf, (ctl >> 16) & 0xff);
    let Some(p) = mc_level(ctx, &x, &unit("mcbist", mcbist.into()), &[mcbist, 0]) else { return Ok(()) };
    let Some(p) = mc_level(ctx, &p, &unit("mcs", mcs.into()), &[mcs]) else { return Ok(()) };
    let Some(p) = mc_level(ctx, &p, &unit("mca", mca.into()), &[mca]) else { return Ok(()) };
    dimms(ctx, slca, area, &p)
}

fn dimms(ctx: &mut Ctx<'_>, slca: &Slca<'_>, area: &Hdif<'_>, mca: &str) -> Result<()> {
    for ram in area.children(0, "RAM   ")? {
        let Some(fru) = ram.idata(0)? else { continue };
        let rsrc = fru.be16(2)?;
        let name = unit("dimm", rsrc.into());
        if find_by_name(&ctx.root, mca, &name).is_some() {
            continue;
        }
        let (size, ram_id, blob) = (ram.idata(3)?, ram.idata(2)?, ram.idata(1)?);
        let Some(d) = ctx.node(mca).and_then(|m| new_child(m, &name)) else { continue };
        d.set_u32("reg", rsrc.into());
        slca.add_loc_code(d, fru.be16(0)?)?;
        let Some(size) = size else { continue };
        d.set_u32("size", size.be32(4)?);
        let Some(ram_id) = ram_id else { continue };
        let flags = ram_id.be16(2)?;
        let ok = flags & RAM_INSTALLED != 0 && flags & RAM_FUNCTIONAL != 0;
        d.set_str("status", if ok { "okay" } else { "disabled" });
        let Some(blob) = blob else { continue };
        if crate::vpd::is_valid(blob.data()) {
            crate::vpd::add_fru_properties(d, blob.data());
        } else {
            spd(d, &blob.named("DIMM SPD"))?;
        }
    }
    Ok(())
}

/// Properties from a DDR4 SPD (Serial Presence Detect) EEPROM image. Bytes are read as C
/// `char`, which is signed on the platforms skiboot's test runs on.
fn spd(d: &mut Node, spd: &Rec<'_>) -> Result<()> {
    let signed = |b: u8| b as i8 as i32 as u32;
    if spd.len() < 512 || (spd.u8(2)? as i8) < 0xc {
        return Ok(());
    }
    d.set_str("device_type", "memory-dimm-ddr4");
    d.set_u32("memory-id", signed(spd.u8(2)?));
    d.set_u32("product-version", signed(spd.u8(0x15d)?));
    d.set_u32("serial-number", spd.be32(0x145)?);
    crate::tree::set_cstr(d, "part-number", spd.bytes(0x149, 20)?);
    d.set_u32("manufacturer-id", spd.be16(0x140)?.into());
    Ok(())
}

/// A `memory@` (or `nvdimm@`) node for one address range; shared ranges add their chip to
/// the existing node instead.
fn address_range(ctx: &mut Ctx<'_>, flags: u16, r: &Rec<'_>, kind: u32, status: u32) -> Result<()> {
    let chip = pcid_to_chip_id(ctx, r.be32(16)?)?;
    let start = cleanup_addr(r.be64(0)?);
    let size = cleanup_addr(r.be64(8)?).wrapping_sub(start);
    let (name, compat, dev_type) = match kind {
        0 => ("memory", None, Some("memory")),
        1..=3 => ("nvdimm", Some("pmem-region"), None),
        _ => return Ok(()),
    };
    let uname = unit(name, start);
    if flags & AREA_SHARED != 0 {
        if let Some(p) = find_by_name(&ctx.root, "/", &uname) {
            if let Some(mem) = ctx.node(&p) {
                let mut chips = mem.prop_cells("ibm,chip-id").unwrap_or_default();
                if !chips.contains(&chip) {
                    chips.push(chip);
                    mem.set_cells("ibm,chip-id", &chips);
                }
                if kind == 1 {
                    nvdimm_status(mem, status);
                }
            }
            return Ok(());
        }
    }
    let Some(mem) = new_child(&mut ctx.root, &uname) else { return Ok(()) };
    if let Some(c) = compat {
        mem.set_str("compatible", c);
    }
    if let Some(t) = dev_type {
        mem.set_str("device_type", t);
    }
    if kind == 1 {
        nvdimm_status(mem, status);
    }
    mem.set_u64s("reg", &[start, size]);
    mem.set_u32("ibm,chip-id", chip);
    Ok(())
}

/// NVDIMM backup state. skiboot tests for `save-trigged-unarmed` but sets
/// `save-trigger-unarmed`; kept as is for an identical tree.
fn nvdimm_status(mem: &mut Node, status: u32) {
    match status {
        0x01 if mem.prop("save-trigged-unarmed").is_none() => {
            mem.set_flag("save-trigger-unarmed");
        }
        0x02 if mem.prop("save-failed").is_none() => {
            mem.set_flag("save-failed");
        }
        0xff if mem.prop("save-trigged-unarmed").is_some() => {
            mem.set_str("status", "disabled-memory-invalid");
        }
        _ => {}
    }
}

/// A node under `/ibm,hostboot/reserved-memory` for the range `start..=end`.
fn reserve_node<'n>(root: &'n mut Node, label: &[u8], start: u64, end: u64) -> Option<&'n mut Node> {
    let hb = root.ensure_child("ibm,hostboot");
    if hb.child("reserved-memory").is_none() {
        hb.set_u32("#size-cells", 2).set_u32("#address-cells", 2);
        let r = hb.ensure_child("reserved-memory");
        r.set_flag("ranges");
        r.set_u32("#size-cells", 2).set_u32("#address-cells", 2);
    }
    let prefixed = label.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(b"ibm"));
    let text = crate::window::text(label);
    let name = if prefixed { String::from(text) } else { format!("ibm,{text}") };
    if name.contains('/') {
        return None;
    }
    let n = new_child(hb.ensure_child("reserved-memory"), &unit(&name, start))?;
    n.set_u64s("reg", &[start, end.wrapping_sub(start).wrapping_add(1)]);
    Some(n)
}

/// Hostboot's reserved ranges (HOMER, OCC, hostboot runtime, ...), named by their labels.
fn reservations(ctx: &mut Ctx<'_>, ms: &Hdif<'_>) -> Result<()> {
    let Some(arr) = ms.iarray(5, "MS VPD hostboot reservations")? else { return Ok(()) };
    for r in arr.items() {
        let r = r?;
        let (start, end) = (r.be64(4)?, r.be64(12)?);
        if start == end || end.wrapping_sub(start) > MAX_RESERVE {
            continue;
        }
        let (start, end) = (start & !HRMOR_BIT, end & !HRMOR_BIT);
        let len = (r.be32(20)? as usize).min(RESERVE_LABEL_SIZE);
        let label = crate::window::until_nul(r.bytes(24, len)?);
        if label.is_empty() {
            continue;
        }
        let instance = r.be32(0)? & 0xff_ffff;
        let Some(n) = reserve_node(&mut ctx.root, label, start, end) else { continue };
        n.set_u32("ibm,prd-instance", instance);
        if label == b"hbrt-code-image" {
            n.set_str("ibm,prd-label", "ibm,hbrt-code-image");
        } else {
            crate::tree::set_cstr(n, "ibm,prd-label", label);
        }
    }
    Ok(())
}

/// Hostboot trace buffers (only when hostboot was built to keep them).
fn traces(ctx: &mut Ctx<'_>, ms: &Hdif<'_>) -> Result<()> {
    let Some(arr) = ms.iarray(3, "MS VPD trace areas")? else { return Ok(()) };
    for t in arr.items() {
        let t = t?;
        let (start, end) = (t.be64(0)? & !HRMOR_BIT, t.be64(8)? & !HRMOR_BIT);
        if let Some(n) = reserve_node(&mut ctx.root, b"trace-area", start, end) {
            n.set_flag("no-map");
        }
    }
    Ok(())
}
