//! Property test: random map, replace and unmap sequences on a `PartitionTree` agree with a
//! simple model (a sorted map of leaves), and the tree's table accounting agrees with the
//! allocator at every step.

use alloc::collections::BTreeMap;

use super::{FakeMemory, XorShift};
use crate::radix::format::{Attribute, Perms, ENTRY_VALID};
use crate::radix::{MapMode, PageCounts, PageSize, PartitionTree, RadixError, WalkFault, ROOT_TABLE_BYTES};

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

/// Guest windows the test works in: low memory, across the first 512 GiB boundary, the top.
const WINDOWS: [u64; 3] = [0, (512 * GIB) - 2 * GIB, (1 << 52) - 4 * GIB];
const WINDOW_BYTES: u64 = 4 * GIB;

/// Leaves by guest address: (bytes, host address).
#[derive(Default)]
struct Model {
    leaves: BTreeMap<u64, (u64, u64)>,
}

impl Model {
    fn overlapping(&self, start: u64, end: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        // Leaves are disjoint, so only one starting below `start` can reach into the range.
        let before = self.leaves.range(..start).next_back().filter(|(&gpa, &(bytes, _))| gpa + bytes > start);
        before.into_iter().chain(self.leaves.range(start..end)).map(|(&gpa, &(bytes, _))| (gpa, bytes))
    }

    fn lookup(&self, gpa: u64) -> Option<(u64, u64)> {
        let (&start, &(bytes, hpa)) = self.leaves.range(..=gpa).next_back()?;
        (gpa < start + bytes).then_some((hpa + (gpa - start), bytes))
    }

    fn counts(&self) -> PageCounts {
        let mut counts = PageCounts::default();
        for &(bytes, _) in self.leaves.values() {
            match bytes {
                GIB => counts.pages_1g += 1,
                0x20_0000 => counts.pages_2m += 1,
                _ => counts.pages_4k += 1,
            }
        }
        counts
    }

    /// The pages a range map writes: the largest page both addresses allow that fits.
    fn insert_range(&mut self, gpa: u64, hpa: u64, size: u64) {
        let mut offset = 0;
        while offset < size {
            let (g, h) = (gpa + offset, hpa + offset);
            let bytes = [GIB, 2 * MIB, 4096]
                .into_iter()
                .find(|&bytes| (g | h) % bytes == 0 && bytes <= size - offset)
                .unwrap_or(4096);
            self.leaves.insert(g, (bytes, h));
            offset += bytes;
        }
    }

    fn remove(&mut self, start: u64, end: u64) -> u64 {
        let doomed: alloc::vec::Vec<_> = self.overlapping(start, end).collect();
        for (gpa, _) in &doomed {
            self.leaves.remove(gpa);
        }
        doomed.len() as u64
    }
}

fn random_page_size(rng: &mut XorShift) -> PageSize {
    match rng.below(10) {
        0 => PageSize::Size1G,
        1..=3 => PageSize::Size2M,
        _ => PageSize::Size4K,
    }
}

fn random_gpa(rng: &mut XorShift, align: u64) -> u64 {
    let window = WINDOWS[rng.below(3) as usize];
    window + rng.below(WINDOW_BYTES / align) * align
}

/// A host address for `size` bytes at `gpa`: often congruent to it so large pages fit, always
/// for ranges of 64 MiB or more (to keep the number of 4 KiB pages small).
fn random_hpa(rng: &mut XorShift, gpa: u64, align: u64, size: u64) -> u64 {
    let base = rng.below(1 << 10) * GIB;
    match rng.below(if size >= 64 * MIB { 2 } else { 3 }) {
        0 => base + gpa % GIB,
        1 => base + gpa % (2 * MIB),
        _ => base + rng.below(GIB / align) * align,
    }
}

fn random_range(rng: &mut XorShift) -> (u64, u64) {
    let gpa = random_gpa(rng, 4096);
    let size = match rng.below(10) {
        0 => GIB + rng.below(512) * 4096,
        1..=3 => rng.below(8) * 2 * MIB + 4096 * (1 + rng.below(4)),
        _ => 4096 * (1 + rng.below(64)),
    };
    let limit = WINDOWS.iter().map(|&w| w + WINDOW_BYTES).find(|&end| gpa < end).unwrap_or(1 << 52);
    (gpa, size.min(limit - gpa))
}

/// Every table below the root holds a valid entry; the tree's byte count is the allocator's.
fn check_tables(tree: &PartitionTree, mem: &FakeMemory) {
    assert_eq!(tree.table_bytes(), mem.live_bytes());
    for (pa, bytes) in mem.tables() {
        if bytes == ROOT_TABLE_BYTES {
            continue;
        }
        let used = mem.entries(pa).any(|entry| entry & ENTRY_VALID != 0);
        assert!(used, "empty table left at {pa:#x}");
    }
}

fn check_translations(tree: &PartitionTree, mem: &FakeMemory, model: &Model, rng: &mut XorShift) {
    for _ in 0..16 {
        let gpa = if !model.leaves.is_empty() && rng.below(2) == 0 {
            let index = rng.below(model.leaves.len() as u64) as usize;
            let (&start, &(bytes, _)) = model.leaves.iter().nth(index).unwrap();
            start + [0, bytes - 1, rng.below(bytes)][rng.below(3) as usize]
        } else {
            random_gpa(rng, 1)
        };
        match (tree.translate(mem, gpa), model.lookup(gpa)) {
            (Ok(t), Some((hpa, bytes))) => assert_eq!((t.hpa, t.page_size), (hpa, bytes), "gpa {gpa:#x}"),
            (Err(WalkFault::NotMapped { .. }), None) => {}
            (got, want) => panic!("gpa {gpa:#x}: tree {got:?}, model {want:?}"),
        }
    }
}

/// Runs `steps` random operations; returns, per kind (map_page, map, replace, unmap), how
/// often it was refused / did nothing and how often it succeeded / removed something.
fn run(seed: u64, steps: usize) -> [[u32; 2]; 4] {
    let mut outcomes = [[0; 2]; 4];
    let mut rng = XorShift(seed);
    let mut mem = FakeMemory::new();
    let mut tree = PartitionTree::new(&mut mem).unwrap();
    let mut model = Model::default();
    for step in 0..steps {
        match rng.below(8) {
            0..=2 => {
                let size = random_page_size(&mut rng);
                let gpa = random_gpa(&mut rng, size.bytes());
                let hpa = random_hpa(&mut rng, gpa, size.bytes(), size.bytes()) & !(size.bytes() - 1);
                let free = model.overlapping(gpa, gpa + size.bytes()).next().is_none();
                let result = tree.map_page(&mut mem, gpa, hpa, size, Perms::RW);
                outcomes[0][usize::from(free)] += 1;
                assert_eq!(result.is_ok(), free, "step {step}: map_page {gpa:#x} {result:?}");
                if free {
                    model.leaves.insert(gpa, (size.bytes(), hpa));
                }
            }
            3 => {
                let (gpa, size) = random_range(&mut rng);
                let hpa = random_hpa(&mut rng, gpa, 4096, size);
                let free = model.overlapping(gpa, gpa + size).next().is_none();
                let result = tree.map(&mut mem, gpa, hpa, size, Perms::RWX);
                outcomes[1][usize::from(free)] += 1;
                assert_eq!(result.is_ok(), free, "step {step}: map {gpa:#x}+{size:#x} {result:?}");
                if free {
                    model.insert_range(gpa, hpa, size);
                }
            }
            4 => {
                let (gpa, size) = random_range(&mut rng);
                let hpa = random_hpa(&mut rng, gpa, 4096, size);
                let end = gpa + size;
                let splits = model.overlapping(gpa, end).any(|(g, bytes)| g < gpa || g + bytes > end);
                let result =
                    tree.map_with(&mut mem, gpa, hpa, size, Perms::R, Attribute::Normal, MapMode::Replace);
                outcomes[2][usize::from(!splits)] += 1;
                if splits {
                    assert!(matches!(result, Err(RadixError::WouldSplit { .. })), "step {step}: {result:?}");
                } else {
                    let replaced = model.remove(gpa, end);
                    assert_eq!(result.map(|s| s.replaced_pages), Ok(replaced), "step {step}");
                    model.insert_range(gpa, hpa, size);
                }
            }
            _ => {
                let (gpa, mut size) = random_range(&mut rng);
                if rng.below(3) == 0 {
                    // Sometimes whole gigabytes, so the tree also shrinks.
                    size = (size + rng.below(4) * GIB).min((1 << 52) - gpa);
                }
                let removed = model.remove(gpa, gpa + size);
                outcomes[3][usize::from(removed > 0)] += 1;
                assert_eq!(tree.unmap(&mut mem, gpa, size), Ok(removed), "step {step}");
            }
        }
        assert_eq!(tree.page_counts(), model.counts(), "step {step}");
        check_tables(&tree, &mem);
        check_translations(&tree, &mem, &model, &mut rng);
    }
    tree.destroy(&mut mem);
    assert_eq!(mem.live_bytes(), 0);
    assert_eq!(mem.allocs, mem.frees);
    outcomes
}

#[test]
fn random_map_unmap_sequences_agree_with_the_model() {
    let mut outcomes = [[0; 2]; 4];
    for seed in [1, 0xDEAD_BEEF, 0x0123_4567_89AB_CDEF, 42] {
        for (total, run) in outcomes.iter_mut().zip(run(seed, 300)) {
            total[0] += run[0];
            total[1] += run[1];
        }
    }
    // Every kind of operation both failed (or found nothing) and succeeded some of the time.
    assert!(outcomes.iter().flatten().all(|&n| n > 0), "{outcomes:?}");
}
