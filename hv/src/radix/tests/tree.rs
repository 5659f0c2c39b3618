//! `PartitionTree` with real LPAR layouts: exact PATE (partition table entry) values, page
//! kinds and counts, translations, refusal and replacement, unmap, and table accounting.

use super::FakeMemory;
use crate::radix::format::{leaf, pde, Attribute, Perms};
use crate::radix::{
    MapMode, PageCounts, PageSize, PartitionTree, RadixError, TableMemory, WalkFault, ROOT_TABLE_BYTES,
    TABLE_BYTES,
};

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

fn hpa(tree: &PartitionTree, mem: &FakeMemory, gpa: u64) -> u64 {
    tree.translate(mem, gpa).unwrap().hpa
}

#[test]
fn lpars_of_2g_and_1g_use_1g_leaves() {
    let mut mem = FakeMemory::new();
    let mut a = PartitionTree::new(&mut mem).unwrap();
    let stats = a.map(&mut mem, 0, 0x4000_0000, 2 * GIB, Perms::RWX).unwrap();
    let mut b = PartitionTree::new(&mut mem).unwrap();
    b.map(&mut mem, 0, 0xC000_0000, GIB, Perms::RWX).unwrap();

    // HR | RTS = 52 bits (RTS1 0b10, RTS2 0b101) | RPDB | RPDS = 13.
    assert_eq!(a.pate_dw0(), 0xC000_0000_3800_00AD);
    assert_eq!(b.pate_dw0(), 0xC000_0000_3802_00AD);
    assert_eq!(stats.mapped, PageCounts { pages_1g: 2, pages_2m: 0, pages_4k: 0 });
    assert_eq!(stats.tables_allocated, 1);
    assert_eq!(a.page_counts(), PageCounts { pages_1g: 2, ..PageCounts::default() });
    assert_eq!(b.page_counts(), PageCounts { pages_1g: 1, ..PageCounts::default() });
    assert_eq!(a.table_bytes(), ROOT_TABLE_BYTES + TABLE_BYTES);
    assert_eq!(mem.live_bytes(), a.table_bytes() + b.table_bytes());
    // The entries themselves: root → level-2 table → two 1 GiB leaves.
    assert_eq!(mem.read_u64(0x3800_0000), Some(pde(0x3801_0000, 9)));
    assert_eq!(mem.read_u64(0x3801_0000), Some(0xC000_0000_4000_0187));
    assert_eq!(mem.read_u64(0x3801_0008), Some(0xC000_0000_8000_0187));
    assert_eq!(mem.read_u64(0x3801_0010), Some(0));

    for (gpa, expected) in [
        (0, 0x4000_0000),
        (0x1234, 0x4000_1234),
        (0x3FFF_FFFF, 0x7FFF_FFFF),
        (0x4000_0000, 0x8000_0000),
        (0x7FFF_FFFF, 0xBFFF_FFFF),
    ] {
        let t = a.translate(&mem, gpa).unwrap();
        assert_eq!((t.hpa, t.page_size, t.leaf_level), (expected, GIB, 2), "gpa {gpa:#x}");
        assert_eq!(t.perms, Perms::RWX);
        assert!(t.referenced && t.changed);
    }
    assert_eq!(a.translate(&mem, 2 * GIB), Err(WalkFault::NotMapped { level: 2 }));
    assert_eq!(hpa(&b, &mem, 0), 0xC000_0000);
    assert_eq!(hpa(&b, &mem, 0x2345_6789), 0xE345_6789);
    assert_eq!(hpa(&b, &mem, GIB - 1), 0xFFFF_FFFF);
    assert_eq!(b.translate(&mem, GIB), Err(WalkFault::NotMapped { level: 2 }));
    assert_eq!(b.translate(&mem, 1 << 39), Err(WalkFault::NotMapped { level: 1 }));

    a.destroy(&mut mem);
    b.destroy(&mut mem);
    assert_eq!((mem.live_bytes(), mem.allocs, mem.frees), (0, 4, 4));
}

#[test]
fn lpar_of_768m_not_1g_aligned_uses_2m_pages() {
    let mut mem = FakeMemory::new();
    let mut tree = PartitionTree::new(&mut mem).unwrap();
    let stats = tree.map(&mut mem, 0, 0x1_1000_0000, 768 * MIB, Perms::RWX).unwrap();
    assert_eq!(stats.mapped, PageCounts { pages_1g: 0, pages_2m: 384, pages_4k: 0 });
    assert_eq!(stats.tables_allocated, 2);
    assert_eq!(tree.table_bytes(), ROOT_TABLE_BYTES + 2 * TABLE_BYTES);
    let t = tree.translate(&mem, 0).unwrap();
    assert_eq!((t.hpa, t.page_size, t.leaf_level), (0x1_1000_0000, 2 * MIB, 3));
    assert_eq!(hpa(&tree, &mem, 0x1F_FFFF), 0x1_101F_FFFF);
    assert_eq!(hpa(&tree, &mem, 0x200_0000), 0x1_1200_0000);
    assert_eq!(hpa(&tree, &mem, 768 * MIB - 1), 0x1_3FFF_FFFF);
    assert_eq!(tree.translate(&mem, 768 * MIB), Err(WalkFault::NotMapped { level: 3 }));
    tree.destroy(&mut mem);
    assert_eq!(mem.live_bytes(), 0);
}

#[test]
fn map_uses_the_largest_page_both_addresses_allow() {
    let mut mem = FakeMemory::new();
    let mut tree = PartitionTree::new(&mut mem).unwrap();
    // 4 KiB pages up to the first 2 MiB boundary, 2 MiB pages up to 1 GiB, a last 4 KiB page.
    let stats = tree.map(&mut mem, 0x1000, 0x4000_1000, GIB, Perms::RW).unwrap();
    assert_eq!(stats.mapped, PageCounts { pages_1g: 0, pages_2m: 511, pages_4k: 512 });
    assert_eq!(stats.mapped.bytes(), GIB);
    assert_eq!(tree.translate(&mem, 0x1000).unwrap().page_size, 4096);
    assert_eq!(tree.translate(&mem, 0x20_0000).unwrap().page_size, 2 * MIB);
    assert_eq!(tree.translate(&mem, GIB).unwrap().page_size, 4096);
    assert_eq!(hpa(&tree, &mem, GIB + 0xFFF), 0x8000_0FFF);
    assert_eq!(tree.translate(&mem, 0), Err(WalkFault::NotMapped { level: 4 }));
    assert_eq!(tree.translate(&mem, GIB + 0x1000), Err(WalkFault::NotMapped { level: 4 }));
    // Addresses 2 MiB apart in alignment: 4 KiB pages only.
    let stats = tree.map(&mut mem, 4 * GIB, 0x10_0000, 4 * MIB, Perms::R).unwrap();
    assert_eq!(stats.mapped, PageCounts { pages_1g: 0, pages_2m: 0, pages_4k: 1024 });
    tree.destroy(&mut mem);
    assert_eq!(mem.allocs, mem.frees);
}

#[test]
fn requests_are_checked() {
    let mut mem = FakeMemory::new();
    let mut tree = PartitionTree::new(&mut mem).unwrap();
    let rw = Perms::RW;
    assert_eq!(tree.map(&mut mem, 0, 0, 0, rw), Err(RadixError::ZeroSize));
    assert_eq!(
        tree.map(&mut mem, 0x800, 0, 4096, rw),
        Err(RadixError::MisalignedGuest { value: 0x800, align: 4096 })
    );
    assert_eq!(
        tree.map(&mut mem, 0, 0, 100, rw),
        Err(RadixError::MisalignedGuest { value: 100, align: 4096 })
    );
    assert_eq!(
        tree.map(&mut mem, 0, 0x10, 4096, rw),
        Err(RadixError::MisalignedHost { value: 0x10, align: 4096 })
    );
    let top = 1 << 52;
    assert_eq!(
        tree.map(&mut mem, top - 4096, 0, 8192, rw),
        Err(RadixError::GuestRangeTooLarge { start: top - 4096, size: 8192 })
    );
    let far = u64::MAX - 4095;
    assert_eq!(
        tree.map(&mut mem, far, 0, 4096, rw),
        Err(RadixError::GuestRangeTooLarge { start: far, size: 4096 })
    );
    assert_eq!(
        tree.map(&mut mem, 0, (1 << 57) - 4096, 8192, rw),
        Err(RadixError::HostRangeTooLarge { start: (1 << 57) - 4096, size: 8192 })
    );
    assert_eq!(
        tree.map(&mut mem, 0, far, 4096, rw),
        Err(RadixError::HostRangeTooLarge { start: far, size: 4096 })
    );
    assert_eq!(
        tree.map_page(&mut mem, 0x1000, 0, PageSize::Size2M, rw),
        Err(RadixError::MisalignedGuest { value: 0x1000, align: 2 * MIB })
    );
    assert_eq!(
        tree.map_page(&mut mem, 0, 0x1000, PageSize::Size1G, rw),
        Err(RadixError::MisalignedHost { value: 0x1000, align: GIB })
    );
    assert_eq!(tree.unmap(&mut mem, 0, 0), Err(RadixError::ZeroSize));
    assert_eq!(
        tree.unmap(&mut mem, 0x10, 4096),
        Err(RadixError::MisalignedGuest { value: 0x10, align: 4096 })
    );
    // The highest page of the address space is fine.
    tree.map_page(&mut mem, top - 4096, 0x1000, PageSize::Size4K, rw).unwrap();
    assert_eq!(hpa(&tree, &mem, top - 1), 0x1FFF);
    // Nothing above was allocated by the failed requests: root + 3 tables for the last page.
    assert_eq!(mem.allocs, 4);
    tree.destroy(&mut mem);
    assert_eq!(mem.live_bytes(), 0);
}

#[test]
fn overlap_is_refused_without_change() {
    let mut mem = FakeMemory::new();
    let mut tree = PartitionTree::new(&mut mem).unwrap();
    tree.map_page(&mut mem, 2 * MIB, 0x4000_0000, PageSize::Size2M, Perms::RWX).unwrap();
    let before = (mem.tables(), tree.page_counts(), tree.table_bytes());
    let dump = |mem: &FakeMemory| {
        mem.tables()
            .iter()
            .flat_map(|&(pa, bytes)| (0..bytes / 8).map(move |i| pa + i * 8))
            .map(|pa| mem.read_u64(pa))
            .collect::<alloc::vec::Vec<_>>()
    };
    let contents = dump(&mem);
    assert_eq!(tree.map(&mut mem, 0, 0, 8 * MIB, Perms::RW), Err(RadixError::AlreadyMapped { gpa: 2 * MIB }));
    assert_eq!(
        tree.map_page(&mut mem, 3 * MIB, 0, PageSize::Size4K, Perms::RW),
        Err(RadixError::AlreadyMapped { gpa: 3 * MIB })
    );
    assert_eq!(
        tree.map_page(&mut mem, 0, 0, PageSize::Size1G, Perms::RW),
        Err(RadixError::AlreadyMapped { gpa: 2 * MIB })
    );
    // Replace may not cut the 2 MiB page.
    assert_eq!(
        tree.map_page_with(
            &mut mem,
            3 * MIB,
            0,
            PageSize::Size4K,
            Perms::RW,
            Attribute::Normal,
            MapMode::Replace
        ),
        Err(RadixError::WouldSplit { gpa: 2 * MIB, page_size: 2 * MIB })
    );
    assert_eq!((mem.tables(), tree.page_counts(), tree.table_bytes()), before);
    assert_eq!(dump(&mem), contents);
    tree.destroy(&mut mem);
}

#[test]
fn replace_swaps_pages_of_other_sizes() {
    let mut mem = FakeMemory::new();
    let mut tree = PartitionTree::new(&mut mem).unwrap();
    let replace = |tree: &mut PartitionTree, mem: &mut FakeMemory, gpa, hpa, size| {
        tree.map_with(mem, gpa, hpa, size, Perms::R, Attribute::Normal, MapMode::Replace)
    };
    tree.map(&mut mem, 0, 0x4000_0000, GIB, Perms::RWX).unwrap();
    // Part of the 1 GiB page: refused, it would be cut.
    assert_eq!(
        replace(&mut tree, &mut mem, 0, 0, 4 * MIB),
        Err(RadixError::WouldSplit { gpa: 0, page_size: GIB })
    );
    // The whole page, to a host address only 2 MiB aligned: 512 pages of 2 MiB.
    let stats = replace(&mut tree, &mut mem, 0, 0x9020_0000, GIB).unwrap();
    assert_eq!((stats.replaced_pages, stats.tables_allocated), (1, 1));
    assert_eq!(tree.page_counts(), PageCounts { pages_1g: 0, pages_2m: 512, pages_4k: 0 });
    assert_eq!(hpa(&tree, &mem, GIB - 1), 0xD01F_FFFF);
    assert_eq!(tree.translate(&mem, 5).unwrap().perms, Perms::R);
    // Sixteen 4 KiB pages replaced by one 2 MiB page: their table is freed.
    tree.map(&mut mem, GIB, 0x1000, 64 << 10, Perms::RW).unwrap();
    let tables = tree.table_bytes();
    let stats = tree
        .map_page_with(
            &mut mem,
            GIB,
            0x20_0000,
            PageSize::Size2M,
            Perms::RW,
            Attribute::Normal,
            MapMode::Replace,
        )
        .unwrap();
    assert_eq!((stats.replaced_pages, stats.tables_freed, stats.tables_allocated), (16, 1, 0));
    assert_eq!(tree.table_bytes(), tables - TABLE_BYTES);
    assert_eq!(tree.page_counts(), PageCounts { pages_1g: 0, pages_2m: 513, pages_4k: 0 });
    // 512 pages of 2 MiB replaced by one 1 GiB page: their table is freed too.
    let stats = tree
        .map_page_with(
            &mut mem,
            0,
            0x4000_0000,
            PageSize::Size1G,
            Perms::RW,
            Attribute::Normal,
            MapMode::Replace,
        )
        .unwrap();
    assert_eq!((stats.replaced_pages, stats.tables_freed), (512, 1));
    assert_eq!(tree.page_counts(), PageCounts { pages_1g: 1, pages_2m: 1, pages_4k: 0 });
    // Same size in place: the leaf is rewritten.
    let stats = tree
        .map_page_with(
            &mut mem,
            0,
            0x8000_0000,
            PageSize::Size1G,
            Perms::RWX,
            Attribute::TolerantIo,
            MapMode::Replace,
        )
        .unwrap();
    assert_eq!(stats.replaced_pages, 1);
    let t = tree.translate(&mem, 0x10).unwrap();
    assert_eq!((t.hpa, t.attribute), (0x8000_0010, Attribute::TolerantIo));
    tree.destroy(&mut mem);
    assert_eq!((mem.live_bytes(), mem.allocs), (0, mem.frees));
}

#[test]
fn map_page_unmap_and_destroy_free_every_table() {
    let mut mem = FakeMemory::new();
    let mut tree = PartitionTree::new(&mut mem).unwrap();
    let pages = [
        (0x0, 0x10_0000, PageSize::Size4K),
        (0x1000, 0x7000, PageSize::Size4K),
        (0x40_0000, 0x1_0000_0000, PageSize::Size2M),
        (5 * GIB, 0x2_0000_0000, PageSize::Size1G),
        (3 << 39, 0xABC_D000, PageSize::Size4K),
        ((1 << 52) - GIB, 0x4000_0000, PageSize::Size1G),
    ];
    for &(gpa, host, size) in &pages {
        tree.map_page(&mut mem, gpa, host, size, Perms::RW).unwrap();
    }
    // Level 2: three tables (root slots 0, 3, 8191); level 3: two; level 4: two.
    assert_eq!(tree.table_bytes(), ROOT_TABLE_BYTES + 7 * TABLE_BYTES);
    assert_eq!(mem.live_bytes(), tree.table_bytes());
    assert_eq!(tree.page_counts(), PageCounts { pages_1g: 2, pages_2m: 1, pages_4k: 3 });
    for &(gpa, host, size) in &pages {
        let t = tree.translate(&mem, gpa + size.bytes() - 8).unwrap();
        assert_eq!((t.hpa, t.page_size), (host + size.bytes() - 8, size.bytes()));
    }
    for &(gpa, _, size) in &pages {
        assert_eq!(tree.unmap(&mut mem, gpa, size.bytes()), Ok(1));
        assert!(matches!(tree.translate(&mem, gpa), Err(WalkFault::NotMapped { .. })));
        assert_eq!(mem.live_bytes(), tree.table_bytes());
    }
    assert_eq!(tree.table_bytes(), ROOT_TABLE_BYTES);
    assert_eq!(tree.page_counts(), PageCounts::default());
    assert_eq!(tree.unmap(&mut mem, 0, 1 << 52), Ok(0));
    tree.destroy(&mut mem);
    assert_eq!(mem.live_bytes(), 0);
    assert_eq!(mem.allocs, 8);
    assert_eq!(mem.frees, 8);
}

#[test]
fn unmapping_part_of_a_large_page_removes_it_whole() {
    let mut mem = FakeMemory::new();
    let mut tree = PartitionTree::new(&mut mem).unwrap();
    tree.map(&mut mem, 0, 0x4000_0000, 2 * GIB, Perms::RWX).unwrap();
    let report = tree.unmap_report(&mut mem, GIB + 0x5000, 0x1000).unwrap();
    assert_eq!((report.pages, report.removed, report.tables_freed), (1, Some(GIB..2 * GIB), 0));
    assert_eq!(tree.translate(&mem, GIB + 0x5000), Err(WalkFault::NotMapped { level: 2 }));
    assert_eq!(tree.translate(&mem, 2 * GIB - 1), Err(WalkFault::NotMapped { level: 2 }));
    assert_eq!(hpa(&tree, &mem, GIB - 1), 0x7FFF_FFFF);
    let report = tree.unmap_report(&mut mem, 0, 4 * GIB).unwrap();
    assert_eq!((report.pages, report.removed, report.tables_freed), (1, Some(0..GIB), 1));
    assert_eq!(tree.table_bytes(), ROOT_TABLE_BYTES);
    tree.destroy(&mut mem);
}

#[test]
fn clear_removes_everything_but_the_root() {
    let mut mem = FakeMemory::new();
    let mut tree = PartitionTree::new(&mut mem).unwrap();
    tree.map(&mut mem, 0x1000, 0x1000, 3 * GIB, Perms::RW).unwrap();
    tree.map(&mut mem, 7 << 39, 0, 4 * MIB, Perms::RW).unwrap();
    let counts = tree.page_counts();
    let report = tree.clear(&mut mem).unwrap();
    assert_eq!(report.pages, counts.total());
    assert_eq!(report.removed, Some(0..(8 << 39)));
    assert_eq!(tree.page_counts(), PageCounts::default());
    assert_eq!(mem.live_bytes(), ROOT_TABLE_BYTES);
    tree.destroy(&mut mem);
    assert_eq!(mem.live_bytes(), 0);
}

#[test]
fn out_of_memory_leaves_the_tree_as_it_was() {
    let mut mem = FakeMemory::new();
    let mut tree = PartitionTree::new(&mut mem).unwrap();
    tree.map_page(&mut mem, 0, 0, PageSize::Size4K, Perms::RW).unwrap();
    let before = (tree.page_counts(), tree.table_bytes(), mem.tables());
    // 4 KiB pages over two 2 MiB slots and a second 1 GiB slot need three new tables.
    mem.budget = Some(2);
    let result = tree.map(&mut mem, GIB - 2 * MIB, 0x1000, 4 * MIB, Perms::RW);
    assert_eq!(result, Err(RadixError::OutOfMemory { bytes: TABLE_BYTES }));
    assert_eq!((tree.page_counts(), tree.table_bytes(), mem.tables()), before);
    assert_eq!(hpa(&tree, &mem, 0x10), 0x10);
    mem.budget = Some(0);
    assert_eq!(PartitionTree::new(&mut mem), Err(RadixError::OutOfMemory { bytes: ROOT_TABLE_BYTES }));
    mem.budget = None;
    tree.destroy(&mut mem);
    assert_eq!(mem.live_bytes(), 0);
}

/// An allocator that hands out misaligned tables.
struct Misaligned(FakeMemory);

impl TableMemory for Misaligned {
    fn read_u64(&self, pa: u64) -> Option<u64> {
        self.0.read_u64(pa)
    }
    fn write_u64(&mut self, pa: u64, value: u64) -> bool {
        self.0.write_u64(pa, value)
    }
    fn alloc_table(&mut self, bytes: u64) -> Option<u64> {
        self.0.alloc_table(bytes * 2).map(|pa| pa + bytes / 2)
    }
    fn free_table(&mut self, pa: u64, bytes: u64) {
        self.0.free_table(pa - bytes / 2, bytes * 2)
    }
}

#[test]
fn misaligned_allocation_is_refused_and_returned() {
    let mut mem = Misaligned(FakeMemory::new());
    let pa = 0x3800_0000 + ROOT_TABLE_BYTES / 2;
    assert_eq!(PartitionTree::new(&mut mem), Err(RadixError::BadAllocation { pa, bytes: ROOT_TABLE_BYTES }));
    assert_eq!(mem.0.live_bytes(), 0);
}

#[test]
fn entries_changed_behind_the_tree_give_errors_not_panics() {
    let mut mem = FakeMemory::new();
    let mut tree = PartitionTree::new(&mut mem).unwrap();
    tree.map(&mut mem, 0, 0, 4 * MIB, Perms::RW).unwrap();
    let root = tree.root();
    // Root entry pointing at a 64 KiB-page table: not this module's geometry.
    let good = mem.read_u64(root).unwrap();
    mem.write_u64(root, pde(0x3801_0000, 5));
    assert_eq!(
        tree.map_page(&mut mem, 8 * MIB, 0, PageSize::Size4K, Perms::RW),
        Err(RadixError::Corrupt { pa: root })
    );
    assert_eq!(tree.unmap(&mut mem, 0, 4096), Err(RadixError::Corrupt { pa: root }));
    // A leaf in the root directory.
    mem.write_u64(root, leaf(0, Perms::RW, Attribute::Normal));
    assert_eq!(tree.unmap(&mut mem, 0, 4096), Err(RadixError::Corrupt { pa: root }));
    // A directory entry pointing outside every table.
    mem.write_u64(root, pde(0x7000_0000, 9));
    assert_eq!(tree.unmap(&mut mem, 0, 4096), Err(RadixError::Corrupt { pa: 0x7000_0000 }));
    assert!(matches!(tree.translate(&mem, 0), Err(WalkFault::Unreadable { level: 2, .. })));
    mem.write_u64(root, good);
    assert_eq!(tree.unmap(&mut mem, 0, 4 * MIB), Ok(2));
    tree.destroy(&mut mem);
    assert_eq!(mem.live_bytes(), 0);
}

#[test]
fn works_through_a_trait_object() {
    let mut fake = FakeMemory::new();
    let mem: &mut dyn TableMemory = &mut fake;
    let mut tree = PartitionTree::new(mem).unwrap();
    tree.map(mem, 0, 0x4000_0000, 2 * MIB, Perms::RWX).unwrap();
    assert_eq!(tree.translate(&*mem, 0x1234).unwrap().hpa, 0x4000_1234);
    tree.destroy(mem);
    assert_eq!(fake.live_bytes(), 0);
}

#[test]
fn errors_display() {
    let text = alloc::format!("{}", RadixError::WouldSplit { gpa: 0, page_size: GIB });
    assert_eq!(
        text,
        "the 0x40000000-byte page at guest address 0x0 extends past the range (large pages are not split)"
    );
}
