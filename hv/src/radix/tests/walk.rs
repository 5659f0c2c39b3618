//! `walk` over trees encoded by hand in a guest memory image, as Linux builds them (4 KiB
//! pages, and a 64 KiB-page table), and every validation failure.

use super::{GuestMemory, XorShift};
use crate::radix::format::{encode_pate_dw0, leaf, pde, Attribute, Perms, ENTRY_LEAF, ENTRY_VALID, PTE_C};
use crate::radix::walk::dsisr;
use crate::radix::{walk, walk_access, Access, BadTreeReason, Translation, WalkFault};

const ROOT: u64 = 0x1_0000; // 64 KiB root directory, 8192 entries
const PUD: u64 = 0x2_0000; // level 2
const PMD: u64 = 0x2_1000; // level 3
const PTE: u64 = 0x2_2000; // level 4, 4 KiB pages
const PTE_64K: u64 = 0x2_3100; // level 4, 32 entries of 64 KiB pages (256 bytes)

/// A guest tree (partition-scoped, as an L1 builds for its L2) with one page of each kind:
/// 4 KiB at 0x40_5000, 2 MiB at 0x60_0000, 64 KiB at 0x83_0000, 1 GiB at 0x4000_0000.
fn linux_like_tree() -> (GuestMemory, u64) {
    let mut mem = GuestMemory::new(0x4_0000);
    mem.set(ROOT, pde(PUD, 9));
    mem.set(PUD, pde(PMD, 9));
    mem.set(PUD + 8, leaf(0x8000_0000, Perms::RWX, Attribute::Normal));
    mem.set(PMD + 2 * 8, pde(PTE, 9));
    mem.set(PMD + 3 * 8, leaf(0x2_0000_0000, Perms::RX, Attribute::Normal));
    mem.set(PMD + 4 * 8, pde(PTE_64K, 5));
    mem.set(PTE + 5 * 8, leaf(0x0ABC_D000, Perms::RW, Attribute::Normal));
    mem.set(PTE_64K + 3 * 8, leaf(0x0777_0000, Perms::RWX, Attribute::TolerantIo));
    (mem, encode_pate_dw0(ROOT, 52, 64 << 10).unwrap())
}

fn run(mem: &GuestMemory, dw0: u64, addr: u64) -> Result<Translation, WalkFault> {
    walk(|pa| mem.read(pa), dw0, addr)
}

#[test]
fn translates_every_page_size() {
    let (mem, dw0) = linux_like_tree();
    let t = run(&mem, dw0, 0x40_5ABC).unwrap();
    assert_eq!((t.hpa, t.page_size, t.leaf_level, t.perms), (0x0ABC_DABC, 4096, 4, Perms::RW));
    assert_eq!(t.pte_addr, PTE + 5 * 8);
    assert!(t.referenced && t.changed);
    let t = run(&mem, dw0, 0x60_0000 + 0x1_2345).unwrap();
    assert_eq!((t.hpa, t.page_size, t.leaf_level, t.perms), (0x2_0001_2345, 2 << 20, 3, Perms::RX));
    assert!(t.referenced && !t.changed);
    let t = run(&mem, dw0, 0x83_0ABC).unwrap();
    assert_eq!((t.hpa, t.page_size, t.leaf_level), (0x0777_0ABC, 64 << 10, 4));
    assert_eq!(t.attribute, Attribute::TolerantIo);
    let t = run(&mem, dw0, 0x4000_0000 + 0x123_4567).unwrap();
    assert_eq!((t.hpa, t.page_size, t.leaf_level), (0x8123_4567, 1 << 30, 2));
    // Last byte of the 1 GiB page, and the next page.
    assert_eq!(run(&mem, dw0, 0x7FFF_FFFF).unwrap().hpa, 0xBFFF_FFFF);
    assert_eq!(run(&mem, dw0, 0x8000_0000), Err(WalkFault::NotMapped { level: 2 }));
}

#[test]
fn invalid_entry_at_each_level_is_not_mapped() {
    let (mem, dw0) = linux_like_tree();
    assert_eq!(run(&mem, dw0, 1 << 39), Err(WalkFault::NotMapped { level: 1 }));
    assert_eq!(run(&mem, dw0, 2 << 30), Err(WalkFault::NotMapped { level: 2 }));
    assert_eq!(run(&mem, dw0, 0), Err(WalkFault::NotMapped { level: 3 }));
    assert_eq!(run(&mem, dw0, 0x40_6000), Err(WalkFault::NotMapped { level: 4 }));
    assert_eq!(run(&mem, dw0, 0x84_0000), Err(WalkFault::NotMapped { level: 4 }));
    assert_eq!(run(&mem, dw0, 1 << 52), Err(WalkFault::AddressOutOfRange { addr: 1 << 52 }));
    assert_eq!(run(&mem, dw0, u64::MAX), Err(WalkFault::AddressOutOfRange { addr: u64::MAX }));
}

#[test]
fn pate_checks() {
    let (mem, dw0) = linux_like_tree();
    let bad = |level, why| Err(WalkFault::BadTree { level, why });
    // HR clear: hashed page table.
    assert_eq!(run(&mem, dw0 & !(1 << 63), 0), bad(0, BadTreeReason::NotRadix));
    // RTS for 48 bits.
    let dw0_48 = encode_pate_dw0(ROOT, 48, 64 << 10).unwrap();
    assert_eq!(run(&mem, dw0_48, 0), bad(0, BadTreeReason::AddressBits { bits: 48 }));
    // RPDS 12 and 14 instead of 13.
    assert_eq!(run(&mem, dw0 - 1, 0), bad(0, BadTreeReason::TableSize { bits: 12 }));
    assert_eq!(run(&mem, dw0 + 1, 0), bad(0, BadTreeReason::TableSize { bits: 14 }));
    // Root not aligned to its 64 KiB.
    assert_eq!(
        run(&mem, dw0 + 0x8000, 0),
        bad(0, BadTreeReason::MisalignedTable { base: ROOT + 0x8000, bytes: 64 << 10 })
    );
}

#[test]
fn directory_checks_name_the_level() {
    let bad = |level, why| Err(WalkFault::BadTree { level, why });
    let (mut mem, dw0) = linux_like_tree();
    // NLS too big in the root entry (level 1 PDE describing the level-2 table).
    mem.set(ROOT, pde(PUD, 10));
    assert_eq!(run(&mem, dw0, 0x40_5000), bad(1, BadTreeReason::TableSize { bits: 10 }));
    // 64 KiB geometry (NLS 5) is only allowed for the last table.
    mem.set(ROOT, pde(PUD, 5));
    assert_eq!(run(&mem, dw0, 0x40_5000), bad(1, BadTreeReason::TableSize { bits: 5 }));
    // NLB not aligned to the 4 KiB table.
    mem.set(ROOT, pde(PUD + 0x800, 9));
    assert_eq!(
        run(&mem, dw0, 0x40_5000),
        bad(1, BadTreeReason::MisalignedTable { base: PUD + 0x800, bytes: 4096 })
    );
    let (mut mem, dw0) = linux_like_tree();
    // NLS too small in a level-3 PDE (describing the last table).
    mem.set(PMD + 2 * 8, pde(PTE, 4));
    assert_eq!(run(&mem, dw0, 0x40_5000), bad(3, BadTreeReason::TableSize { bits: 4 }));
    mem.set(PMD + 2 * 8, pde(PTE, 13));
    assert_eq!(run(&mem, dw0, 0x40_5000), bad(3, BadTreeReason::TableSize { bits: 13 }));
    // The 4 KiB last table misaligned (a 256-byte table for 64 KiB pages is always aligned:
    // NLB has no bits below 256).
    mem.set(PMD + 2 * 8, pde(PTE + 0x100, 9));
    assert_eq!(
        run(&mem, dw0, 0x40_5000),
        bad(3, BadTreeReason::MisalignedTable { base: PTE + 0x100, bytes: 4096 })
    );
    // NLS of the level-2 PDE.
    mem.set(PUD, pde(PMD, 8));
    assert_eq!(run(&mem, dw0, 0x40_5000), bad(2, BadTreeReason::TableSize { bits: 8 }));
}

#[test]
fn leaf_checks() {
    let bad = |level, why| Err(WalkFault::BadTree { level, why });
    let (mut mem, dw0) = linux_like_tree();
    // A leaf in the root directory would be a 512 GiB page.
    mem.set(ROOT + 8, leaf(0, Perms::RWX, Attribute::Normal));
    assert_eq!(run(&mem, dw0, 1 << 39), bad(1, BadTreeReason::LeafAtRoot));
    // A 2 MiB leaf whose RPN is only 4 KiB aligned.
    mem.set(PMD + 3 * 8, leaf(0x2_0000_1000, Perms::RX, Attribute::Normal));
    assert_eq!(
        run(&mem, dw0, 0x60_0000),
        bad(3, BadTreeReason::MisalignedPage { rpn: 0x2_0000_1000, page_size: 2 << 20 })
    );
    // A 64 KiB leaf whose RPN is only 4 KiB aligned.
    mem.set(PTE_64K + 3 * 8, leaf(0x0777_1000, Perms::RWX, Attribute::Normal));
    assert_eq!(
        run(&mem, dw0, 0x83_0000),
        bad(4, BadTreeReason::MisalignedPage { rpn: 0x0777_1000, page_size: 64 << 10 })
    );
    // A directory entry in the last table.
    mem.set(PTE + 5 * 8, pde(PTE, 9));
    assert_eq!(run(&mem, dw0, 0x40_5000), bad(4, BadTreeReason::NoLeaf));
}

#[test]
fn loop_shaped_tree_terminates() {
    // Every table's first entry points at the same table: the walk stops after four reads.
    let mut mem = GuestMemory::new(0x3_0000);
    mem.set(ROOT, pde(PUD, 9));
    mem.set(PUD, pde(PUD, 9));
    let dw0 = encode_pate_dw0(ROOT, 52, 64 << 10).unwrap();
    let reads = core::cell::Cell::new(0);
    let result = walk(
        |pa| {
            reads.set(reads.get() + 1);
            mem.read(pa)
        },
        dw0,
        0,
    );
    assert_eq!(result, Err(WalkFault::BadTree { level: 4, why: BadTreeReason::NoLeaf }));
    assert_eq!(reads.get(), 4);
    // The root pointing at itself as a 9-bit table: misaligned is not the issue, size is.
    mem.set(ROOT, pde(ROOT, 13));
    assert_eq!(
        run(&mem, dw0, 0),
        Err(WalkFault::BadTree { level: 1, why: BadTreeReason::TableSize { bits: 13 } })
    );
}

#[test]
fn unreadable_table_is_reported_with_its_address() {
    let (mut mem, dw0) = linux_like_tree();
    mem.set(PUD, pde(0x10_0000, 9)); // beyond the 256 KiB memory
    assert_eq!(run(&mem, dw0, 0x40_5000), Err(WalkFault::Unreadable { level: 3, entry_addr: 0x10_0010 }));
    let root_outside = encode_pate_dw0(0x100_0000, 52, 64 << 10).unwrap();
    assert_eq!(run(&mem, root_outside, 0), Err(WalkFault::Unreadable { level: 1, entry_addr: 0x100_0000 }));
}

#[test]
fn access_checks() {
    let (mut mem, dw0) = linux_like_tree();
    let go = |mem: &GuestMemory, addr, access| walk_access(|pa| mem.read(pa), dw0, addr, access);
    assert!(go(&mem, 0x40_5000, Access::Load).is_ok());
    assert!(go(&mem, 0x40_5000, Access::Store).is_ok());
    assert_eq!(
        go(&mem, 0x40_5000, Access::Fetch),
        Err(WalkFault::Permission { level: 4, access: Access::Fetch })
    );
    assert_eq!(
        go(&mem, 0x60_0000, Access::Store),
        Err(WalkFault::Permission { level: 3, access: Access::Store })
    );
    assert!(go(&mem, 0x60_0000, Access::Fetch).is_ok());
    // R set but C clear on a writable page: a store needs the change bit set first.
    mem.set(PTE + 5 * 8, leaf(0x0ABC_D000, Perms::RW, Attribute::Normal) & !PTE_C);
    assert!(go(&mem, 0x40_5000, Access::Load).is_ok());
    let fault = go(&mem, 0x40_5000, Access::Store).unwrap_err();
    assert_eq!(fault, WalkFault::ReferenceChange { pte_addr: PTE + 5 * 8, access: Access::Store });
    assert_eq!(fault.dsisr(Access::Store), dsisr::SET_RC | dsisr::ISSTORE);
    let t = run(&mem, dw0, 0x40_5000).unwrap();
    assert_eq!(t.pte_with_rc(Access::Store), leaf(0x0ABC_D000, Perms::RW, Attribute::Normal));
    // R clear: every access.
    mem.set(PTE + 5 * 8, ENTRY_VALID | ENTRY_LEAF | 0x0ABC_D000 | 0x6);
    assert!(matches!(go(&mem, 0x40_5000, Access::Load), Err(WalkFault::ReferenceChange { .. })));
    // Instruction fetch from non-idempotent I/O is refused even if EAA allows execute.
    mem.set(PTE + 5 * 8, leaf(0x0ABC_D000, Perms::RWX, Attribute::NonIdempotentIo));
    assert_eq!(go(&mem, 0x40_5000, Access::Fetch), Err(WalkFault::GuardedFetch { level: 4 }));
    // The privileged bit is ignored in partition scope.
    mem.set(PTE + 5 * 8, leaf(0x0ABC_D000, Perms { privileged: true, ..Perms::RW }, Attribute::Normal));
    assert!(go(&mem, 0x40_5000, Access::Store).is_ok());
}

#[test]
fn faults_map_to_dsisr_causes() {
    let bad = WalkFault::BadTree { level: 0, why: BadTreeReason::NotRadix };
    assert_eq!(WalkFault::NotMapped { level: 2 }.dsisr(Access::Load), 0x4000_0000);
    assert_eq!(WalkFault::NotMapped { level: 2 }.dsisr(Access::Store), 0x4200_0000);
    assert_eq!(bad.dsisr(Access::Load), 0x0008_0000);
    assert_eq!(WalkFault::Unreadable { level: 1, entry_addr: 0 }.dsisr(Access::Load), 0x0002_0000);
    assert_eq!(WalkFault::Permission { level: 4, access: Access::Store }.dsisr(Access::Store), 0x0A00_0000);
    let text =
        alloc::format!("{}", WalkFault::BadTree { level: 3, why: BadTreeReason::TableSize { bits: 4 } });
    assert_eq!(text, "bad tree at level 3: table size of 2^4 entries not supported");
}

#[test]
fn random_trees_never_panic() {
    // Tables full of random entries (mostly valid, any NLB/NLS/RPN): every walk ends with a
    // translation or a fault.
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for round in 0..64 {
        let mut mem = GuestMemory::new(0x4_0000);
        for addr in (0..0x4_0000).step_by(8) {
            let mut value = rng.next();
            if rng.below(4) != 0 {
                value |= ENTRY_VALID;
            }
            if rng.below(2) == 0 {
                // Keep pointers inside the memory sometimes, with a plausible NLS.
                value =
                    (value & 0xC000_0000_0000_0000) | (rng.below(0x4_0000) & !0xFF) | [5, 9, 13][round % 3];
            }
            mem.set(addr, value);
        }
        let dw0 = if round % 2 == 0 { encode_pate_dw0(ROOT, 52, 64 << 10).unwrap() } else { rng.next() };
        for _ in 0..256 {
            let addr = if rng.below(8) == 0 { rng.next() } else { rng.below(1 << 52) };
            if let Ok(t) = run(&mem, dw0, addr) {
                assert!(t.page_size.is_power_of_two() && (2..=4).contains(&t.leaf_level));
                assert_eq!(t.hpa & (t.page_size - 1), addr & (t.page_size - 1));
            }
        }
    }
}
