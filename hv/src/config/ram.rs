//! The machine's RAM as the partitioning sees it: the device tree's memory ranges with adjacent
//! ones merged (QEMU's two-chip `powernv9` describes 0–1 GiB and 1–2 GiB as two nodes; an LPAR
//! may span both), and the blocks the firmware's own ranges make unusable.

use super::model::{Region, BLOCK_SIZE, FIRMWARE_RESERVED};
use alloc::vec::Vec;
use oxiboot_platform::model::Platform;

/// The RAM ranges of `platform`, sorted, with touching or overlapping ranges merged.
pub fn merged_ram(platform: &Platform) -> Vec<Region> {
    merge(platform.memory.iter().map(|m| Region { base: m.base, size: m.size }).collect())
}

/// Sorts `ranges` and merges those that touch or overlap; empty ranges are dropped.
pub fn merge(mut ranges: Vec<Region>) -> Vec<Region> {
    ranges.retain(|r| r.size != 0);
    ranges.sort();
    let mut merged: Vec<Region> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.base <= last.end() => {
                let end = last.end().max(range.end());
                last.size = end - last.base;
            }
            _ => merged.push(range),
        }
    }
    merged
}

/// Whether `region` lies entirely in one of the (merged) `ram` ranges.
pub fn ram_covers(ram: &[Region], region: &Region) -> bool {
    let Some(end) = region.base.checked_add(region.size) else { return false };
    ram.iter().any(|r| r.base <= region.base && end <= r.end())
}

/// The whole blocks of `ram` (each range trimmed inwards to block boundaries).
pub fn whole_blocks(ram: &[Region]) -> Vec<Region> {
    ram.iter()
        .filter_map(|r| {
            let base = r.base.checked_next_multiple_of(BLOCK_SIZE)?;
            let end = r.end() - r.end() % BLOCK_SIZE;
            (end > base).then(|| Region { base, size: end - base })
        })
        .collect()
}

/// The blocks the firmware's reserved ranges fall in, merged, in address order.
pub fn firmware_blocks() -> Vec<Region> {
    let mut blocks: Vec<Region> = Vec::new();
    for reserved in FIRMWARE_RESERVED {
        let base = reserved.base - reserved.base % BLOCK_SIZE;
        let end = reserved.end().div_ceil(BLOCK_SIZE).saturating_mul(BLOCK_SIZE);
        match blocks.last_mut() {
            Some(last) if base <= last.end() => last.size = end.max(last.end()) - last.base,
            _ => blocks.push(Region { base, size: end - base }),
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const GIB: u64 = 1 << 30;

    #[test]
    fn firmware_takes_the_first_and_fourth_block() {
        let blocks = firmware_blocks();
        assert_eq!(
            blocks,
            [Region { base: 0, size: BLOCK_SIZE }, Region { base: 3 * BLOCK_SIZE, size: BLOCK_SIZE }]
        );
    }

    #[test]
    fn touching_ranges_merge_in_address_order() {
        let chip1 = Region { base: GIB, size: GIB };
        let chip0 = Region { base: 0, size: GIB };
        let far = Region { base: 8 * GIB, size: GIB };
        let merged = merge(vec![far, chip1, Region { base: 5, size: 0 }, chip0]);
        assert_eq!(merged, [Region { base: 0, size: 2 * GIB }, far]);
    }

    #[test]
    fn ranges_trim_inwards_to_whole_blocks() {
        let blocks =
            whole_blocks(&[Region { base: 0x1000, size: 2 * GIB - 0x1000 }, Region { base: 0, size: 5 }]);
        assert_eq!(blocks, [Region { base: BLOCK_SIZE, size: 2 * GIB - BLOCK_SIZE }]);
    }

    #[test]
    fn coverage_needs_one_range_and_no_wrap() {
        let ram = [Region { base: 0, size: 2 * GIB }];
        assert!(ram_covers(&ram, &Region { base: 0x7000_0000, size: BLOCK_SIZE }));
        assert!(!ram_covers(&ram, &Region { base: 0x7000_0000, size: 2 * BLOCK_SIZE }));
        assert!(!ram_covers(&ram, &Region { base: u64::MAX, size: 2 }));
    }
}
