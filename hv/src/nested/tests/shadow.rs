//! Shadow-table decisions: faults of an L2 against a real L1 tree built in fake L1 memory,
//! the invalidation hypercalls' arguments, the LPID pool, and the switch arithmetic.

use std::collections::BTreeMap;

use crate::nested::hcall::{H_P2, H_P3};
use crate::nested::shadow::{
    fault_access, fault_decision, hisi_cause, parse_rpt_invalidate, parse_tlb_invalidate, rpt_type,
    Invalidation, LpidPool, ShadowFault, LPIDS,
};
use crate::nested::state::VcpuState;
use crate::nested::switch::{
    deadline_passed, decrementer_expiry, decrementer_for, hypervisor_decrementer_for, l2_lpcr,
    ThreadRegisters, VectorRegisters, L2_LPCR_FIXED,
};
use crate::radix::format::PTE_C;
use crate::radix::walk::dsisr;
use crate::radix::{walk_access, Access, Attribute, PageSize, PartitionTree, Perms, TableMemory};

/// L1 memory holding an L1's tree for its L2: tables allocated upwards from 16 MiB.
struct L1Tables {
    words: BTreeMap<u64, u64>,
    next: u64,
}

impl TableMemory for L1Tables {
    fn read_u64(&self, pa: u64) -> Option<u64> {
        Some(self.words.get(&pa).copied().unwrap_or(0))
    }
    fn write_u64(&mut self, pa: u64, value: u64) -> bool {
        self.words.insert(pa, value);
        true
    }
    fn alloc_table(&mut self, bytes: u64) -> Option<u64> {
        let at = self.next.next_multiple_of(bytes);
        self.next = at + bytes;
        Some(at)
    }
    fn free_table(&mut self, _pa: u64, _bytes: u64) {}
}

const L1_BYTES: u64 = 1 << 30;

/// An L1 tree mapping L2 0x10000 → L1 0x200000 (RW), 0x11000 → 0x201000 (read only),
/// 0x12000 → 0x80000000 (outside the L1), 2 MiB at 0x40000000 → 0x400000 (RWX).
fn l1_tree() -> (L1Tables, u64) {
    let mut mem = L1Tables { words: BTreeMap::new(), next: 16 << 20 };
    let mut tree = PartitionTree::new(&mut mem).expect("tree");
    tree.map_page(&mut mem, 0x10000, 0x200000, PageSize::Size4K, Perms::RW).expect("map");
    tree.map_page(&mut mem, 0x11000, 0x201000, PageSize::Size4K, Perms::R).expect("map");
    tree.map_page(&mut mem, 0x12000, 0x8000_0000, PageSize::Size4K, Perms::RW).expect("map");
    tree.map_page(&mut mem, 0x4000_0000, 0x40_0000, PageSize::Size2M, Perms::RWX).expect("map");
    let dw0 = tree.pate_dw0();
    (mem, dw0)
}

fn decide(mem: &L1Tables, dw0: u64, addr: u64, access: Access) -> ShadowFault {
    let walk = walk_access(|pa| mem.read_u64(pa), dw0, addr, access);
    fault_decision(addr, access, walk, L1_BYTES)
}

#[test]
fn a_mapped_page_becomes_a_4k_shadow_page() {
    let (mem, dw0) = l1_tree();
    assert_eq!(
        decide(&mem, dw0, 0x10abc, Access::Store),
        ShadowFault::Map {
            l2_page: 0x10000,
            l1_page: 0x200000,
            perms: Perms::RW,
            attribute: Attribute::Normal
        }
    );
    // Inside a 2 MiB L1 page: the 4 KiB piece that was touched.
    assert_eq!(
        decide(&mem, dw0, 0x4012_3456, Access::Fetch),
        ShadowFault::Map {
            l2_page: 0x4012_3000,
            l1_page: 0x52_3000,
            perms: Perms::RWX,
            attribute: Attribute::Normal
        }
    );
}

#[test]
fn a_page_without_its_change_bit_is_shadowed_read_only() {
    let (mut mem, dw0) = l1_tree();
    let walk = walk_access(|pa| mem.read_u64(pa), dw0, 0x10000, Access::Load).expect("walk");
    mem.words.insert(walk.pte_addr, walk.pte & !PTE_C);
    match decide(&mem, dw0, 0x10000, Access::Load) {
        ShadowFault::Map { perms, .. } => assert_eq!(perms, Perms::R),
        other => panic!("{other:?}"),
    }
    // A store then needs C: reflected to the L1 with "set R/C" and the store bit.
    assert_eq!(
        decide(&mem, dw0, 0x10000, Access::Store),
        ShadowFault::Reflect { status: dsisr::SET_RC | dsisr::ISSTORE }
    );
}

#[test]
fn faults_of_the_l1_tree_are_reflected_with_hardware_status_bits() {
    let (mem, dw0) = l1_tree();
    assert_eq!(decide(&mem, dw0, 0x5000, Access::Load), ShadowFault::Reflect { status: dsisr::NOPTE });
    assert_eq!(
        decide(&mem, dw0, 0x5000, Access::Store),
        ShadowFault::Reflect { status: dsisr::NOPTE | dsisr::ISSTORE }
    );
    assert_eq!(
        decide(&mem, dw0, 0x11000, Access::Store),
        ShadowFault::Reflect { status: dsisr::PROTFAULT | dsisr::ISSTORE }
    );
    assert_eq!(decide(&mem, dw0, 0x5000, Access::Fetch), ShadowFault::Reflect { status: hisi_cause::NOPTE });
    assert_eq!(
        decide(&mem, dw0, 0x10000, Access::Fetch),
        ShadowFault::Reflect { status: hisi_cause::PROTECTION }
    );
    // A tree the hardware cannot walk (not radix): "unsupported configuration".
    assert_eq!(
        decide(&mem, dw0 & !(1 << 63), 0x10000, Access::Load),
        ShadowFault::Reflect { status: dsisr::BADCONFIG }
    );
}

#[test]
fn an_l1_cannot_map_its_l2_outside_its_own_memory() {
    let (mem, dw0) = l1_tree();
    assert_eq!(decide(&mem, dw0, 0x12000, Access::Load), ShadowFault::OutsideL1 { l1_address: 0x8000_0000 });
}

#[test]
fn the_access_comes_from_the_vector_and_hdsisr() {
    assert_eq!(fault_access(true, dsisr::ISSTORE), Access::Fetch);
    assert_eq!(fault_access(false, dsisr::ISSTORE | dsisr::NOPTE), Access::Store);
    assert_eq!(fault_access(false, dsisr::NOPTE), Access::Load);
}

#[test]
fn rpt_invalidate_arguments() {
    let nested_tlb = rpt_type::NESTED | rpt_type::TLB;
    assert_eq!(
        parse_rpt_invalidate(3, 1, nested_tlb, 1, 0x10100, 0x12001),
        Ok(Invalidation::ShadowRange { guest_id: 3, start: 0x10000, end: 0x13000 })
    );
    assert_eq!(
        parse_rpt_invalidate(3, 1, nested_tlb | rpt_type::PWC, u64::MAX, 0, u64::MAX),
        Ok(Invalidation::ShadowAll { guest_id: 3 })
    );
    assert_eq!(
        parse_rpt_invalidate(3, 1, nested_tlb, 1, 0, u64::MAX),
        Ok(Invalidation::ShadowAll { guest_id: 3 })
    );
    assert_eq!(
        parse_rpt_invalidate(7, 2, rpt_type::TLB, 1, 0, 0x1000),
        Ok(Invalidation::L1ProcessScoped { pid: 7 })
    );
    assert_eq!(parse_rpt_invalidate(3, 0, nested_tlb, 1, 0, 1).map_err(|r| r.status), Err(H_P2));
    assert_eq!(parse_rpt_invalidate(3, 8, nested_tlb, 1, 0, 1).map_err(|r| r.status), Err(H_P2));
    assert_eq!(parse_rpt_invalidate(3, 1, rpt_type::NESTED, 1, 0, 1).map_err(|r| r.status), Err(H_P3));
    assert_eq!(parse_rpt_invalidate(3, 1, 0x10 | nested_tlb, 1, 0, 1).map_err(|r| r.status), Err(H_P3));
}

#[test]
fn tlb_invalidate_arguments() {
    // RIC 0, PRS 0, R 1; RB = 2 MiB page at 0x4020_0000 (AP 1).
    assert_eq!(
        parse_tlb_invalidate(1, 5, 0x4020_0000 | (1 << 5)),
        Ok(Invalidation::ShadowRange { guest_id: 5, start: 0x4020_0000, end: 0x4040_0000 })
    );
    assert_eq!(parse_tlb_invalidate(2 << 2 | 1, 5, 0), Ok(Invalidation::ShadowAll { guest_id: 5 }));
    // A page at the very top of the address space (found by the fuzz target): everything.
    assert_eq!(
        parse_tlb_invalidate(1, 5, (!0xfff & !(0x7 << 5)) | (2 << 5)),
        Ok(Invalidation::ShadowAll { guest_id: 5 })
    );
    assert_eq!(parse_tlb_invalidate(0, 5, 0).map_err(|r| r.status), Err(H_P2));
    assert_eq!(parse_tlb_invalidate(3 << 2 | 1, 5, 0).map_err(|r| r.status), Err(H_P2));
    assert_eq!(parse_tlb_invalidate(1, 0, 0).map_err(|r| r.status), Err(H_P3));
}

#[test]
fn lpid_pool_skips_the_lpars_and_zero_and_recycles() {
    let mut pool = LpidPool::new([1, 2, 64]);
    assert_eq!(pool.free_count(), LPIDS as u32 - 4);
    assert_eq!(pool.allocate(), Some(3));
    assert_eq!(pool.allocate(), Some(4));
    pool.free(3);
    assert_eq!(pool.allocate(), Some(3));
    let mut taken = 0;
    while let Some(lpid) = pool.allocate() {
        assert!(lpid != 0 && lpid != 1 && lpid != 2 && lpid != 64 && (lpid as usize) < LPIDS);
        taken += 1;
    }
    assert_eq!(taken, LPIDS - 6);
    pool.free(0);
    assert_eq!(pool.allocate(), None, "LPID 0 is never handed out");
}

#[test]
fn decrementer_arithmetic() {
    assert_eq!(decrementer_for(1_000, 400, false), 600);
    assert_eq!(decrementer_for(400, 1_000, false) as i64, -600);
    assert_eq!(decrementer_for(u64::MAX / 2, 0, false), i32::MAX as u64);
    assert_eq!(decrementer_for(u64::MAX / 2, 0, true), (1 << 55) - 1);
    // A 32-bit decrementer read as 0xffff_fff6 (−10) expired 10 ticks ago.
    assert_eq!(decrementer_expiry(0xffff_fff6, 1_000, false), 990);
    assert_eq!(decrementer_expiry(600, 400, false), 1_000);
    assert_eq!(decrementer_expiry(0x00ff_ffff_ffff_fff6, 1_000, true), 990);
    for (expiry, now) in [(5_000u64, 1_000u64), (1_000, 5_000)] {
        assert_eq!(decrementer_expiry(decrementer_for(expiry, now, false), now, false), expiry);
    }
    assert_eq!(hypervisor_decrementer_for(10_000, 4_000, 1 << 31), 6_000);
    assert_eq!(hypervisor_decrementer_for(10_000, 4_000, 100), 100);
    assert_eq!(hypervisor_decrementer_for(4_000, 10_000, 100), 1);
    assert!(deadline_passed(4_000, 4_000) && deadline_passed(4_000, 4_001) && !deadline_passed(4_001, 4_000));
}

#[test]
fn l2_state_round_trips_through_the_switch_layouts() {
    let mut v = VcpuState {
        sprg: [1, 2, 3, 4],
        pidr: 77,
        amr: 0xc000_0000_0000_0000,
        pmc: [1, 2, 3, 4, 5, 0xffff_ffff],
        dsisr: 0x4200_0000,
        fpscr: 0x8200_0000,
        vscr: 0x0001_0000,
        lpcr: 0x0000_0000_0202_0800 | (1 << 63),
        ciabr: 0x1000_0003,
        dawrx0: 0x4 | 0x3,
        ..VcpuState::default()
    };
    v.vsr[0] = (0x1111_2222_3333_4444u128 << 64) | 0x5555_6666_7777_8888;
    v.vsr[63] = u128::MAX - 5;
    let registers = ThreadRegisters::of_l2(&v);
    assert_eq!(registers.pmc[5], 0xffff_ffff);
    assert_eq!(registers.pidr, 77);
    // No breakpoint or watchpoint on the hypervisor for an L2.
    assert_eq!((registers.ciabr, registers.dawrx0), (0x1000_0000, 0x3));
    let vectors = VectorRegisters::of_l2(&v);
    assert_eq!(vectors.vsr[0], [0x1111_2222_3333_4444, 0x5555_6666_7777_8888]);
    let mut back = VcpuState::default();
    registers.save_to_l2(&mut back);
    vectors.save_to_l2(&mut back);
    assert_eq!(
        (back.sprg, back.pidr, back.amr, back.pmc, back.dsisr),
        (v.sprg, v.pidr, v.amr, v.pmc, v.dsisr)
    );
    assert_eq!((back.vsr, back.fpscr, back.vscr), (v.vsr, v.fpscr, v.vscr));
    // LPCR: the L1's ILE, LD and MER kept, its HR-like high bit dropped, the fixed bits set.
    assert_eq!(l2_lpcr(&v), L2_LPCR_FIXED | 0x0000_0000_0202_0800);
}
