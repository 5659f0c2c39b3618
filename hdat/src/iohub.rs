//! I/O hubs (`IO HUB`): on POWER9 each chip's PHB4 (PCI Host Bridge) units, described as
//! three PBCQ (PCIe Bridge Controller Queue) nodes with their stacks and lane equalization
//! settings, and the slot map (`IOSLOT`) describing what is wired to each PHB
//! (`/ibm,pcie-slots`: root complexes, switches, slots, built-in devices).

use crate::chip::{pcid_to_chip_id, xscom_path};
use crate::error::Result;
use crate::hdif::Hdif;
use crate::slca::{Slca, LOC_CODE_SIZE};
use crate::tree::{join, new_child, set_cstr, unit, unit2, Ctx, PRIVATE};
use crate::window::Rec;
use alloc::string::String;
use oxiboot_devtree::Node;

/// FRU type of an I/O hub on a processor card.
pub const FRU_TYPE_CPU_CARD: u32 = 2;
const FRU_TYPE_CEC_BACKPLANE: u32 = 3;
const FRU_HEADLESS_OR_PASSTHROUGH: u8 = 0xc0;
const HUB_MIN_SIZE: usize = 0x68;
const HUB_STATE_MASK: u8 = 0xc0;
const HUB_NOT_INSTALLED: u8 = 0x80;
const HUB_UNUSABLE: u8 = 0xc0;
/// Hub types of POWER9 chips (Nimbus with its three I/O configurations, Cumulus).
const P9_HUBS: [u16; 4] = [0x20, 0x21, 0x22, 0x30];
/// Private property: a slot map entry's id, for parent and NVLink lookups.
pub const ENTRY_ID: &str = "oxiboot-hdat,entry-id";
const _: () = assert!(ENTRY_ID.len() > PRIVATE.len());
const LX_RECORD_VINI: u32 = 0xff;

/// skiboot's `io_parse`.
pub fn parse(ctx: &mut Ctx<'_>, slca: &Slca<'_>) -> Result<()> {
    for fru in ctx.instances(ctx.t.cec_iohub_fru, "IO HUB")? {
        let Some(id) = fru.idata(2)?.filter(|r| r.len() >= 16) else { continue };
        let kind = id.be32(0)?;
        if kind != FRU_TYPE_CEC_BACKPLANE && kind != FRU_TYPE_CPU_CARD {
            continue;
        }
        if id.u8(10)? & FRU_HEADLESS_OR_PASSTHROUGH != 0 {
            continue;
        }
        parse_fru(ctx, slca, &fru)?;
    }
    Ok(())
}

fn parse_fru(ctx: &mut Ctx<'_>, slca: &Slca<'_>, fru: &Hdif<'_>) -> Result<()> {
    let Some(hubs) = fru.iarray(3, "I/O hub array")? else { return Ok(()) };
    for hub in hubs.items() {
        let hub = hub?.named("I/O hub");
        if hub.len() < HUB_MIN_SIZE {
            continue;
        }
        let state = hub.u8(14)? & HUB_STATE_MASK;
        if state == HUB_NOT_INSTALLED || state == HUB_UNUSABLE {
            continue;
        }
        let chip = pcid_to_chip_id(ctx, hub.be32(40)?)?;
        if P9_HUBS.contains(&hub.be16(18)?) {
            if let Some(x) = xscom_path(ctx, chip) {
                for (pec, stacks, phb_base) in [(0u32, 1u32, 0u32), (1, 2, 1), (2, 3, 3)] {
                    add_pbcq(ctx, slca, fru, &hub, &x, pec, stacks, phb_base)?;
                }
            }
        }
        parse_slots(ctx, fru, chip)?;
    }
    // The base location code for slots and the LX (load) info come from the first IO KID.
    let Some(ptr) = fru.child_ptr(0)? else { return Ok(()) };
    if ptr.count == 0 {
        return Ok(());
    }
    let kid = fru.child(ptr, 0, "IO KID")?;
    let root = &mut ctx.root;
    if root.prop("ibm,io-base-loc-code").is_none() {
        if let Some(fru_id) = kid.idata(0)?.filter(|r| r.len() >= 2) {
            if let Some(e) = slca.entry(fru_id.be16(0)?)? {
                set_cstr(root, "ibm,io-base-loc-code", e.loc_code(LOC_CODE_SIZE));
            }
        }
    }
    if let Some(vpd) = kid.idata(1)? {
        let (idx, lx) = match crate::vpd::find(vpd.data(), b"LXR0", b"LX") {
            Some(lx) => (0, Some(lx)),
            None => (LX_RECORD_VINI, crate::vpd::find(vpd.data(), b"VINI", b"LX")),
        };
        if let Some(lx) = lx {
            let mut b = [0u8; 8];
            let n = lx.len().min(8);
            b[..n].copy_from_slice(&lx[..n]);
            if root.prop("ibm,vpd-lx-info").is_none() {
                let w = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
                root.set_cells("ibm,vpd-lx-info", &[idx, w(0), w(4)]);
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn add_pbcq(
    ctx: &mut Ctx<'_>,
    slca: &Slca<'_>,
    fru: &Hdif<'_>,
    hub: &Rec<'_>,
    x: &str,
    pec: u32,
    stacks: u32,
    phb_base: u32,
) -> Result<()> {
    let active = hub.u8(16)?;
    let pe = 0x401_0c00 + pec * 0x400;
    let pci = 0xd01_0800 + pec * 0x100_0000;
    let loc = match fru.idata(0)?.filter(|r| r.len() >= 2) {
        Some(id) => slca.entry(id.be16(0)?)?.map(|e| e.loc_code(LOC_CODE_SIZE)),
        None => None,
    };
    let Some(pbcq) = ctx.node(x).and_then(|n| new_child(n, &unit("pbcq", pe.into()))) else { return Ok(()) };
    pbcq.set_cells("reg", &[pe, 0x100, pci, 0x200]);
    pbcq.set_str("compatible", "ibm,power9-pbcq");
    pbcq.set_u32("ibm,pec-index", pec);
    pbcq.set_u32("#address-cells", 1).set_u32("#size-cells", 0);
    for i in 0..stacks {
        add_stack(pbcq, hub, i, phb_base + i, active)?;
    }
    pbcq.set_u32("ibm,hub-id", hub.be16(12)?.into());
    if let Some(loc) = loc {
        set_cstr(pbcq, "ibm,loc-code", loc);
    }
    Ok(())
}

/// One PHB stack: its index, state and lane equalization (four gen3 words, then the gen4
/// settings repacked from two bytes per lane to one).
fn add_stack(pbcq: &mut Node, hub: &Rec<'_>, stack: u32, phb: u32, active: u8) -> Result<()> {
    let Some(s) = new_child(pbcq, &unit("stack", stack.into())) else { return Ok(()) };
    s.set_u32("reg", stack);
    s.set_u32("ibm,phb-index", phb);
    s.set_str("compatible", "ibm,power9-phb-stack");
    let on = phb < 8 && active & (0x80 >> phb) != 0;
    s.set_str("status", if on { "okay" } else { "disabled" });
    let phb = phb as usize;
    let mut eq = alloc::vec::Vec::with_capacity(48);
    eq.extend_from_slice(hub.bytes(64 + phb * 32, 32)?);
    let gen4 = if hub.len() >= 256 + (phb + 1) * 32 { Some(hub.bytes(256 + phb * 32, 32)?) } else { None };
    for lane in 0..16 {
        eq.push(gen4.map_or(0, |g| g[2 * lane]));
    }
    s.set("ibm,lane-eq", eq);
    Ok(())
}

/// Path of the first node below `under` (exclusive) whose slot entry id is `id`.
pub fn find_slot_entry(root: &Node, under: &str, id: u32) -> Option<String> {
    crate::tree::find_all(root, under, &|n| n.prop_u32(ENTRY_ID) == Some(id))
        .into_iter()
        .find(|p| p.as_str() != under)
}

/// The slot map of an I/O hub FRU, under `/ibm,pcie-slots`.
fn parse_slots(ctx: &mut Ctx<'_>, fru: &Hdif<'_>, chip: u32) -> Result<()> {
    let Some(ptr) = fru.child_ptr(1)? else { return Ok(()) };
    if ptr.count == 0 {
        return Ok(());
    }
    if ctx.root.child("ibm,pcie-slots").is_none() {
        let s = ctx.root.ensure_child("ibm,pcie-slots");
        s.set_u32("#address-cells", 2).set_u32("#size-cells", 0);
    }
    let slot = fru.child(ptr, 0, "IOSLOT")?;
    let Some(entries) = slot.iarray(0, "IOSLOT slot map")? else { return Ok(()) };
    let details = slot.iarray(1, "IOSLOT slot details")?;
    for e in entries.items() {
        let e = e?.named("IOSLOT slot map entry");
        let eid = e.be16(0)?;
        let mut det = None;
        if let Some(d) = details {
            for item in d.items() {
                let item = item?.named("IOSLOT slot details");
                if item.be16(0)? == eid {
                    det = Some(item);
                    break;
                }
            }
        }
        parse_slot(ctx, &e, det.as_ref(), chip)?;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SlotType {
    Root,
    RcSlot,
    Slot,
    SwitchUp,
    SwitchDown,
    Builtin,
}

fn parse_slot(ctx: &mut Ctx<'_>, e: &Rec<'_>, det: Option<&Rec<'_>>, chip: u32) -> Result<()> {
    let (eid, pid, phb, raw) = (e.be16(0)?, e.be16(2)?, e.u8(4)?, e.u8(5)?);
    let is_slot = e.be32(16)? & 1 != 0;
    let ty = match raw {
        0 if is_slot => SlotType::RcSlot,
        0 => SlotType::Root,
        1 => SlotType::SwitchUp,
        2 if is_slot => SlotType::Slot,
        2 => SlotType::SwitchDown,
        3 => SlotType::Builtin,
        _ => return Ok(()),
    };
    if eid == 0 && pid == 0 {
        return Ok(());
    }
    let slots = "/ibm,pcie-slots";
    let mut parent = String::new();
    if ty != SlotType::Root && ty != SlotType::RcSlot {
        match find_slot_entry(&ctx.root, slots, pid.into()) {
            Some(p) => parent = p,
            None => return Ok(()),
        }
    }
    let path = match ty {
        SlotType::Root | SlotType::RcSlot => {
            let name = unit2("root-complex", chip.into(), phb.into());
            let Some(rc) = ctx.node(slots).and_then(|s| new_child(s, &name)) else { return Ok(()) };
            rc.set_cells("reg", &[chip, phb.into()]);
            rc.set_u32("#address-cells", 2).set_u32("#size-cells", 0);
            rc.set_strs("compatible", &["ibm,pcie-port", "ibm,pcie-root-port"]);
            rc.set_u32("ibm,chip-id", chip);
            parent = join(slots, &name);
            if ty == SlotType::Root {
                parent.clone()
            } else {
                match add_device(ctx, &parent, ty, e)? {
                    Some(p) => p,
                    None => return Ok(()),
                }
            }
        }
        SlotType::SwitchUp | SlotType::Builtin | SlotType::Slot => match add_device(ctx, &parent, ty, e)? {
            Some(p) => p,
            None => return Ok(()),
        },
        SlotType::SwitchDown => {
            let port = e.u8(21)?;
            let Some(n) = ctx.node(&parent).and_then(|p| new_child(p, &unit("down-port", port.into())))
            else {
                return Ok(());
            };
            n.set_str("compatible", "ibm,pcie-port");
            n.set_u32("reg", port.into());
            join(&parent, &unit("down-port", port.into()))
        }
    };
    slot_properties(ctx, &path, e, raw, det)
}

/// A device below a port: a switch upstream port (named by vendor/device id when known), a
/// slot or a built-in device. Returns its path.
fn add_device(ctx: &mut Ctx<'_>, parent: &str, ty: SlotType, e: &Rec<'_>) -> Result<Option<String>> {
    let Some(p) = ctx.node(parent) else { return Ok(None) };
    if !p.is_compatible("ibm,pcie-port") {
        return Ok(None);
    }
    let (vid, did) = (e.be32(22)? & 0xffff, e.be32(26)? & 0xffff);
    let name = match ty {
        SlotType::SwitchUp if vid != 0 && did != 0 => unit2("switch-up", vid.into(), did.into()),
        SlotType::SwitchUp => String::from("switch-up"),
        SlotType::Builtin => String::from("builtin"),
        _ => String::from("pluggable"),
    };
    let Some(n) = new_child(p, &name) else { return Ok(None) };
    if name.contains('@') {
        n.set_cells("reg", &[vid, did]);
    }
    if ty == SlotType::SwitchUp {
        n.set_u32("#address-cells", 1).set_u32("#size-cells", 0);
        n.set_u32("upstream-port", e.u8(20)?.into());
    }
    Ok(Some(join(parent, &name)))
}

/// Properties every slot map node gets: entry id, MRW slot id, lanes, label, pluggability
/// and the slot details (power, reset, presence detection, capabilities).
fn slot_properties(ctx: &mut Ctx<'_>, path: &str, e: &Rec<'_>, raw: u8, det: Option<&Rec<'_>>) -> Result<()> {
    let label = e.cstr(38, 8)?;
    if !label.is_empty() {
        let parent = path.rsplit_once('/').map_or("/", |(p, _)| if p.is_empty() { "/" } else { p });
        if let Some(p) = ctx.node(parent) {
            if p.is_compatible("ibm,pcie-port") && p.prop("ibm,slot-label").is_none() {
                set_cstr(p, "ibm,slot-label", label);
            }
        }
    }
    let Some(n) = ctx.node(path) else { return Ok(()) };
    n.set_u32(ENTRY_ID, e.be16(0)?.into());
    let (mrw, mask, rev) = (e.be16(14)?, e.be16(8)?, e.be16(10)?);
    if mrw != 0 {
        n.set_u32("mrw-slot-id", mrw.into());
    }
    if mask != 0 {
        n.set_u32("lane-mask", mask.into());
    }
    if rev != 0 {
        n.set_u32("lanes-reversed", rev.into());
    }
    if !label.is_empty() {
        set_cstr(n, "ibm,slot-label", label);
    }
    // skiboot compares the raw HDAT type with its own slot enum here: raw types 1 and 2
    // (switch up and down ports) end up marked pluggable.
    if raw == 1 || raw == 2 {
        n.set_flag("ibm,pluggable");
    }
    if let Some(d) = det {
        slot_details(n, d)?;
    }
    Ok(())
}

fn slot_details(n: &mut Node, d: &Rec<'_>) -> Result<()> {
    let (power, presence, perst, gpio) = (d.u8(12)?, d.u8(13)?, d.u8(14)?, d.u8(15)?);
    n.set_u32("max-power", d.be16(16)?.into());
    match perst {
        1 => {
            n.set_flag("pci-perst");
        }
        2 => {
            n.set_u32("gpio-perst", gpio.into());
        }
        _ => {}
    }
    if presence == 1 {
        n.set_flag("pci-presence-detect");
    }
    let caps = d.be32(20)?;
    if caps & 0x01 != 0 {
        n.set_flag("lsi");
    }
    if caps & 0x02 != 0 {
        n.set_flag("capi");
    }
    if caps & 0x04 != 0 {
        n.set_flag("cable-card");
        if presence == 2 {
            n.set_u32("i2c-presence-detect", d.be32(36)?);
        }
    }
    if caps & 0x08 != 0 {
        n.set_flag("hotplug");
        if power == 1 {
            n.set_u32("i2c-power-ctrl", d.be32(28)?);
        }
    }
    if caps & 0x30 != 0 {
        n.set_flag("nvlink");
    }
    Ok(())
}
