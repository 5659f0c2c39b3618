//! Gives every LPAR its hardware threads: explicit cores and threads first (file order), then
//! LPARs that ask for a number of cores get the lowest-numbered cores still wholly free (by
//! chip, then core number). Cores or threads the machine lacks, and anything given twice, are
//! errors.

use super::error::ConfigErrorKind;
use super::fields::{Diagnostics, Located};
use super::spec::{CpuSpec, LparSpec};
use crate::config::model::core_number;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use oxiboot_platform::model::Platform;

/// A core of the target machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineCore {
    /// Chip id.
    pub chip: u32,
    /// Core number within the chip (from its PIR).
    pub number: u32,
    /// PIRs of its threads.
    pub threads: Vec<u32>,
}

/// The machine's cores, by chip and core number.
pub fn machine_cores(platform: &Platform) -> Vec<MachineCore> {
    let mut cores: Vec<MachineCore> = platform
        .chips
        .iter()
        .flat_map(|chip| {
            chip.cores.iter().map(|core| MachineCore {
                chip: chip.id,
                number: core_number(core.pir),
                threads: core.threads.clone(),
            })
        })
        .collect();
    cores.sort_by_key(|core| (core.chip, core.number));
    cores
}

/// Who holds a thread: the LPAR's label and the line where it was given.
type Owners = BTreeMap<u32, (String, usize)>;

/// The threads of each LPAR (ascending, in `lpars` order), or `None` where there were errors.
pub fn assign_threads(
    lpars: &[LparSpec],
    platform: &Platform,
    diag: &mut Diagnostics<'_>,
) -> Vec<Option<Vec<u32>>> {
    let cores = machine_cores(platform);
    let mut owners = Owners::new();
    let mut result: Vec<Option<Vec<u32>>> = Vec::with_capacity(lpars.len());
    for lpar in lpars {
        result.push(match &lpar.cpus {
            CpuSpec::Cores(list) => explicit_cores(lpar, list, &cores, &mut owners, diag),
            CpuSpec::Threads(list) => explicit_threads(lpar, list, &cores, &mut owners, diag),
            CpuSpec::CoreCount(_) => Some(Vec::new()),
        });
    }
    for (lpar, slot) in lpars.iter().zip(result.iter_mut()) {
        if let CpuSpec::CoreCount(count) = &lpar.cpus {
            *slot = counted_cores(lpar, count, &cores, &mut owners, diag);
        }
    }
    for threads in result.iter_mut().flatten() {
        threads.sort_unstable();
    }
    result
}

fn explicit_cores(
    lpar: &LparSpec,
    list: &[Located<(u32, u32, u32)>],
    cores: &[MachineCore],
    owners: &mut Owners,
    diag: &mut Diagnostics<'_>,
) -> Option<Vec<u32>> {
    let mut threads = Vec::new();
    let mut ok = true;
    for entry in list {
        let (chip, first, last) = entry.value;
        // Only cores the machine has are looked at: a range like "0:0-4000000000" costs
        // nothing, and reports its first missing core once.
        let in_range: Vec<&MachineCore> =
            cores.iter().filter(|c| c.chip == chip && (first..=last).contains(&c.number)).collect();
        let missing = (first..=last).find(|n| !in_range.iter().any(|c| c.number == *n));
        if let Some(core) = missing {
            diag.at(entry, Some(&lpar.label), ConfigErrorKind::CoreNotPresent { chip, core });
            ok = false;
        }
        for core in in_range {
            if let Some((other, other_line)) = core.threads.iter().find_map(|pir| owners.get(pir)) {
                let kind = ConfigErrorKind::CoreUsedTwice {
                    chip,
                    core: core.number,
                    other: other.clone(),
                    other_line: *other_line,
                };
                diag.at(entry, Some(&lpar.label), kind);
                ok = false;
                continue;
            }
            let line = diag.line(entry.span.start);
            for &pir in &core.threads {
                owners.insert(pir, (lpar.label.clone(), line));
                threads.push(pir);
            }
        }
    }
    ok.then_some(threads)
}

fn explicit_threads(
    lpar: &LparSpec,
    list: &[Located<u32>],
    cores: &[MachineCore],
    owners: &mut Owners,
    diag: &mut Diagnostics<'_>,
) -> Option<Vec<u32>> {
    let mut threads = Vec::new();
    let mut ok = true;
    for entry in list {
        let pir = entry.value;
        if !cores.iter().any(|core| core.threads.contains(&pir)) {
            diag.at(entry, Some(&lpar.label), ConfigErrorKind::ThreadNotPresent { pir });
            ok = false;
        } else if let Some((other, other_line)) = owners.get(&pir) {
            let kind =
                ConfigErrorKind::ThreadUsedTwice { pir, other: other.clone(), other_line: *other_line };
            diag.at(entry, Some(&lpar.label), kind);
            ok = false;
        } else {
            owners.insert(pir, (lpar.label.clone(), diag.line(entry.span.start)));
            threads.push(pir);
        }
    }
    ok.then_some(threads)
}

fn counted_cores(
    lpar: &LparSpec,
    count: &Located<u32>,
    cores: &[MachineCore],
    owners: &mut Owners,
    diag: &mut Diagnostics<'_>,
) -> Option<Vec<u32>> {
    let free: Vec<&MachineCore> =
        cores.iter().filter(|core| core.threads.iter().all(|pir| !owners.contains_key(pir))).collect();
    let wanted = count.value;
    if free.len() < wanted as usize {
        let free = u32::try_from(free.len()).unwrap_or(u32::MAX);
        diag.at(count, Some(&lpar.label), ConfigErrorKind::NotEnoughCores { wanted, free });
        return None;
    }
    let line = diag.line(count.span.start);
    let mut threads = Vec::new();
    for core in free.into_iter().take(wanted as usize) {
        for &pir in &core.threads {
            owners.insert(pir, (lpar.label.clone(), line));
            threads.push(pir);
        }
    }
    Some(threads)
}
