//! NVLink NPUs (NVLink Processing Units) of POWER9 Nimbus chips, from each chip's SMP link
//! table (SPPCRD internal data 7): an `npu@5011000` node per chip with GPU links, one
//! `link@` node per link, grouped by the PCIe slot of the GPU it reaches.

use crate::chip::{xscom_paths, IDATA_SMP_LINK, SPPCRD_INDEX};
use crate::error::Result;
use crate::iohub::find_slot_entry;
use crate::tree::{join, new_child, unit, Ctx};
use crate::window::Rec;
use alloc::string::String;
use alloc::vec::Vec;

const NPU_BASE: u32 = 0x501_1000;
const NPU_SIZE: u32 = 0x2c;
const PHY_INDIRECT: [u64; 2] = [0x8000_0000_0901_0c3f, 0x8000_0000_0c01_0c3f];
const LINK_USE_GPU: u32 = 1;
const MAX_LINKS: u32 = 6;
/// Private property: the OCC (On-Chip Controller) flag bit of a link.
const OCC_FLAG_POS: &str = "oxiboot-hdat,occ-flag-pos";

/// skiboot's `add_npus`.
pub fn parse(ctx: &mut Ctx<'_>) -> Result<()> {
    if ctx.pvr >> 16 != crate::PVR_TYPE_P9 {
        return Ok(());
    }
    let chips = ctx.instances(ctx.t.proc_chip, "SPPCRD")?;
    let mut npu_index = 0;
    for x in xscom_paths(ctx) {
        let Some(i) = ctx.root.find(&x).and_then(|n| n.prop_u32(SPPCRD_INDEX)) else { continue };
        let Some(chip) = chips.get(i as usize) else { continue };
        let Some(block) = chip.idata(IDATA_SMP_LINK)? else { continue };
        if block.is_empty() || crate::slca::find_by_name(&ctx.root, "/", "ibm,pcie-slots").is_none() {
            continue;
        }
        let Some(links) = chip.iarray(IDATA_SMP_LINK, "SPPCRD SMP links")? else { continue };
        if !links.is_empty() {
            let items: Vec<Rec<'_>> = links.items().collect::<Result<_>>()?;
            add_npu(ctx, &x, &items, links.elem_size(), npu_index)?;
            npu_index += 1;
        }
    }
    Ok(())
}

fn add_npu(ctx: &mut Ctx<'_>, x: &str, links: &[Rec<'_>], elem_size: usize, index: u32) -> Result<()> {
    let name = unit("npu", NPU_BASE.into());
    let Some(npu) = ctx.node(x).and_then(|n| new_child(n, &name)) else { return Ok(()) };
    npu.set_cells("reg", &[NPU_BASE, NPU_SIZE]);
    npu.set_u32("#size-cells", 0).set_u32("#address-cells", 1);
    npu.set_str("compatible", "ibm,power9-npu");
    npu.set_u32("ibm,npu-index", index);
    let npu_path = join(x, &name);
    let mut groups: Vec<u16> = Vec::new();
    let mut count = 0u32;
    for link in links {
        let link = link.named("SPPCRD SMP link");
        if link.be32(4)? != LINK_USE_GPU {
            continue;
        }
        if count >= MAX_LINKS {
            break;
        }
        let slot = link.be16(16)?;
        let lname = unit("link", count.into());
        let Some(n) = ctx.node(&npu_path).and_then(|p| new_child(p, &lname)) else { continue };
        n.set_str("compatible", "ibm,npu-link");
        n.set_u32("reg", count).set_u32("ibm,npu-link-index", count);
        n.set_u32("ibm,workbook-link-id", link.be32(0)?);
        n.set_u64("ibm,npu-phy", PHY_INDIRECT[usize::from(count >= 3)]);
        n.set_u32("ibm,npu-lane-mask", link.be32(12)?);
        n.set_u32("ibm,npu-brick-id", link.be32(8)?);
        count += 1;
        let lpath = join(&npu_path, &lname);
        if slot != 0 {
            let group = match groups.iter().position(|&g| g == slot) {
                Some(g) => g,
                None => {
                    groups.push(slot);
                    groups.len() - 1
                }
            };
            if let Some(n) = ctx.node(&lpath) {
                n.set_u32("ibm,npu-group-id", group as u32);
            }
            let Some(target) = find_slot_entry(&ctx.root, "/", slot.into()) else { continue };
            // The slot node marks where the GPU appears; its parent carries the slot label.
            let parent = target.rsplit_once('/').map_or(String::from("/"), |(p, _)| String::from(p));
            let label = ctx.root.find(&parent).and_then(|p| p.prop("ibm,slot-label")).map(|l| l.to_vec());
            if let Some(n) = ctx.node(&lpath) {
                match label {
                    Some(l) => n.set("ibm,slot-label", l),
                    None => n.set_str("ibm,slot-label", "<SLOT NAME MISSING>"),
                };
            }
            ctx.refer(&lpath, "ibm,pcie-slot", &[&target]);
        }
        if elem_size <= 0x24 {
            continue;
        }
        let (speed, nvlink): (u64, u32) = match link.u8(36)? {
            0 => (20_000_000_000, 0x3),
            1 => (25_000_000_000, 0x9),
            2 => (25_781_250_000, 0x8),
            _ => (0, 0),
        };
        if let Some(n) = ctx.node(&lpath) {
            n.set_u64("ibm,link-speed", speed);
            n.set_u32("nvidia,link-speed", nvlink);
            let bit = link.u8(37)?;
            n.set_u64(OCC_FLAG_POS, if bit < 64 { 1u64 << (63 - bit) } else { 0 });
        }
    }
    if let Some(npu) = ctx.node(&npu_path) {
        npu.set_u32("ibm,npu-links", count);
    }
    Ok(())
}
