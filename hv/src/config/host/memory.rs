//! Places the hypervisor reservation and every LPAR's memory in the machine's RAM, in whole
//! 256 MiB blocks.
//!
//! Order: the blocks holding the firmware's ranges are taken first; then every fixed base (the
//! hypervisor's, then LPARs' in file order), each of which must be RAM and collide with nothing
//! placed before; then the hypervisor reservation without a base; then LPARs without a base, in
//! file order, each at the lowest free range large enough (first fit). Before any of that, the
//! total is compared with the RAM: an over-committed machine is reported once, as a whole.

use super::error::ConfigErrorKind;
use super::fields::{Diagnostics, Located};
use super::spec::{LparSpec, SystemSpec};
use crate::config::model::Region;
use crate::config::ram::{firmware_blocks, merged_ram, ram_covers, whole_blocks};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use oxiboot_platform::model::Platform;

/// Where the memory went: the hypervisor's, and each LPAR's (`None` where there were errors).
pub struct Placement {
    /// The hypervisor reservation.
    pub hypervisor: Option<Region>,
    /// Each LPAR's memory, in `lpars` order.
    pub lpars: Vec<Option<Region>>,
}

/// A placed range and whose it is.
struct Taken {
    region: Region,
    owner: String,
    line: Option<usize>,
}

/// Places everything, reporting what does not fit.
pub fn place_memory(
    system: &SystemSpec,
    lpars: &[LparSpec],
    platform: &Platform,
    diag: &mut Diagnostics<'_>,
) -> Placement {
    let ram = merged_ram(platform);
    let usable = whole_blocks(&ram);
    let failed = Placement { hypervisor: None, lpars: lpars.iter().map(|_| None).collect() };
    if !check_commitment(system, lpars, &usable, diag) {
        return failed;
    }

    let mut taken: Vec<Taken> = firmware_blocks()
        .into_iter()
        .map(|region| Taken { region, owner: "the firmware".to_string(), line: None })
        .collect();
    let hypervisor_size = system.hypervisor_memory.value;
    let mut hypervisor = system.hypervisor_memory_base.as_ref().and_then(|base| {
        let region = Region { base: base.value, size: hypervisor_size };
        fixed(region, base, None, "the hypervisor reservation", &ram, &mut taken, diag)
    });
    let mut placed: Vec<Option<Region>> = lpars
        .iter()
        .map(|lpar| {
            let base = lpar.memory_base.as_ref()?;
            let region = Region { base: base.value, size: lpar.memory.value };
            fixed(region, base, Some(&lpar.label), &lpar.label, &ram, &mut taken, diag)
        })
        .collect();

    if system.hypervisor_memory_base.is_none() {
        hypervisor = first_fit(hypervisor_size, &usable, &taken);
        match hypervisor {
            Some(region) => {
                taken.push(Taken { region, owner: "the hypervisor reservation".into(), line: None })
            }
            None => no_room(&system.hypervisor_memory, None, &usable, &taken, diag),
        }
    }
    for (lpar, slot) in lpars.iter().zip(placed.iter_mut()) {
        if lpar.memory_base.is_some() {
            continue;
        }
        *slot = first_fit(lpar.memory.value, &usable, &taken);
        match *slot {
            Some(region) => {
                let line = Some(diag.line(lpar.memory.span.start));
                taken.push(Taken { region, owner: lpar.label.clone(), line });
            }
            None => no_room(&lpar.memory, Some(&lpar.label), &usable, &taken, diag),
        }
    }
    Placement { hypervisor, lpars: placed }
}

/// Reports over-commitment (at the first LPAR whose memory no longer fits); true if it all fits.
fn check_commitment(
    system: &SystemSpec,
    lpars: &[LparSpec],
    usable: &[Region],
    diag: &mut Diagnostics<'_>,
) -> bool {
    let installed: u64 = usable.iter().map(|r| r.size).sum();
    let firmware: u64 = firmware_blocks()
        .iter()
        .map(|fw| usable.iter().filter(|r| r.overlaps(fw)).map(|r| overlap_len(r, fw)).sum::<u64>())
        .sum();
    let hypervisor = system.hypervisor_memory.value;
    let total_lpars = lpars.iter().map(|l| l.memory.value).fold(0u64, u64::saturating_add);
    let mut running = firmware.saturating_add(hypervisor);
    let kind = ConfigErrorKind::OverCommitted { lpars: total_lpars, hypervisor, firmware, installed };
    if running > installed {
        diag.at(&system.hypervisor_memory, None, kind);
        return false;
    }
    for lpar in lpars {
        running = running.saturating_add(lpar.memory.value);
        if running > installed {
            diag.at(&lpar.memory, Some(&lpar.label), kind);
            return false;
        }
    }
    true
}

fn overlap_len(a: &Region, b: &Region) -> u64 {
    a.end().min(b.end()).saturating_sub(a.base.max(b.base))
}

/// Takes a fixed range if it is aligned, RAM and free.
fn fixed(
    region: Region,
    base: &Located<u64>,
    lpar: Option<&str>,
    owner: &str,
    ram: &[Region],
    taken: &mut Vec<Taken>,
    diag: &mut Diagnostics<'_>,
) -> Option<Region> {
    if !region.is_whole_blocks() {
        diag.at(base, lpar, ConfigErrorKind::BaseNotAligned { base: region.base });
        return None;
    }
    if !ram_covers(ram, &region) {
        diag.at(base, lpar, ConfigErrorKind::MemoryNotInstalled { region });
        return None;
    }
    if let Some(other) = taken.iter().find(|t| t.region.overlaps(&region)) {
        let kind = ConfigErrorKind::MemoryOverlap {
            region,
            other: other.owner.clone(),
            other_region: other.region,
            other_line: other.line,
        };
        diag.at(base, lpar, kind);
        return None;
    }
    taken.push(Taken { region, owner: owner.to_string(), line: Some(diag.line(base.span.start)) });
    Some(region)
}

/// The free whole-block ranges, in address order.
fn free_ranges(usable: &[Region], taken: &[Taken]) -> Vec<Region> {
    let mut taken: Vec<Region> = taken.iter().map(|t| t.region).collect();
    taken.sort();
    let mut free = Vec::new();
    for range in usable {
        let mut cursor = range.base;
        for t in taken.iter().filter(|t| t.overlaps(range)) {
            if t.base > cursor {
                free.push(Region { base: cursor, size: t.base - cursor });
            }
            cursor = cursor.max(t.end());
        }
        if range.end() > cursor {
            free.push(Region { base: cursor, size: range.end() - cursor });
        }
    }
    free
}

/// The lowest free range of `size` bytes.
fn first_fit(size: u64, usable: &[Region], taken: &[Taken]) -> Option<Region> {
    free_ranges(usable, taken)
        .into_iter()
        .find(|free| free.size >= size)
        .map(|free| Region { base: free.base, size })
}

fn no_room(
    size: &Located<u64>,
    lpar: Option<&str>,
    usable: &[Region],
    taken: &[Taken],
    diag: &mut Diagnostics<'_>,
) {
    let largest_free = free_ranges(usable, taken).iter().map(|r| r.size).max().unwrap_or(0);
    diag.at(size, lpar, ConfigErrorKind::NoRoomForMemory { size: size.value, largest_free });
}
