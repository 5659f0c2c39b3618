//! The partition table and TLB (translation lookaside buffer) invalidation.
//!
//! The partition table has one 16-byte entry per LPID (big-endian): doubleword 0 points at
//! the LPAR's partition-scoped radix tree (host radix), doubleword 1 at the process table the
//! LPAR registers with `H_REGISTER_PROC_TBL`. PTCR (partition table control register) points
//! every thread at it. After an entry changes, the LPID's cached translations and table
//! entries are invalidated with `tlbie` (broadcast to every thread).

use alloc::alloc::{alloc_zeroed, Layout};
use core::sync::atomic::{AtomicU64, Ordering};
use oxiboot_platform::cpu;
use oxiboot_platform::spr::num;

/// Entries in the partition table: every LPID LPIDR can hold (12 bits).
const ENTRIES: u64 = 4096;
/// Its size: 2^(12 + PATS) bytes, PATS = 4 → 64 KiB.
const TABLE_BYTES: u64 = ENTRIES * 16;
const PATS: u64 = 4;
const _: () = assert!(TABLE_BYTES == 1 << (12 + PATS));

/// Host address of the partition table (0 before [`init`]).
static TABLE: AtomicU64 = AtomicU64::new(0);

/// Allocates the (zeroed) partition table. Returns false when memory is short.
pub fn init() -> bool {
    let Ok(layout) = Layout::from_size_align(TABLE_BYTES as usize, TABLE_BYTES as usize) else {
        return false;
    };
    // SAFETY: a non-zero-sized layout.
    let table = unsafe { alloc_zeroed(layout) };
    if table.is_null() {
        return false;
    }
    TABLE.store(table as u64, Ordering::Release);
    true
}

/// The PTCR value (table base and size).
pub fn ptcr() -> u64 {
    TABLE.load(Ordering::Acquire) | PATS
}

/// Points this thread at the partition table.
pub fn load_ptcr() {
    // SAFETY: the table is allocated, aligned to its size and never freed; PTCR only
    // affects translation for guests (LPID != 0), the hypervisor runs in real mode.
    unsafe { cpu::mtspr::<{ num::PTCR }>(ptcr()) };
    cpu::isync();
}

fn entry(lpid: u32) -> Option<*mut u64> {
    let table = TABLE.load(Ordering::Acquire);
    (table != 0 && u64::from(lpid) < ENTRIES).then(|| (table + u64::from(lpid) * 16) as *mut u64)
}

/// Writes LPID `lpid`'s whole entry and invalidates what the processor cached for it.
pub fn set_partition(lpid: u32, dw0: u64, dw1: u64) {
    let Some(e) = entry(lpid) else { return };
    // SAFETY: `e` is entry `lpid` of the table (bounds checked); entries are big-endian.
    unsafe {
        core::ptr::write_volatile(e, dw0.to_be());
        core::ptr::write_volatile(e.add(1), dw1.to_be());
    }
    flush_lpid(lpid);
}

/// Writes doubleword 1 (the process table) of LPID `lpid`'s entry and invalidates.
pub fn set_process_table(lpid: u32, dw1: u64) {
    let Some(e) = entry(lpid) else { return };
    // SAFETY: as in `set_partition`.
    unsafe { core::ptr::write_volatile(e.add(1), dw1.to_be()) };
    flush_lpid(lpid);
}

/// Invalidates every translation, page-walk cache entry and cached table entry of `lpid`,
/// partition- and process-scoped, on every thread.
pub fn flush_lpid(lpid: u32) {
    // RB: IS = 2 (everything of the LPID in RS), bits 52:53.
    let rb: u64 = 2 << 10;
    let rs = u64::from(lpid);
    // SAFETY: `ptesync` orders the table update; `tlbie` with RIC = 2 (all), R = 1 (radix),
    // PRS = 0 then 1, invalidates only cached state; `eieio; tlbsync; ptesync` waits for
    // every thread to have done it. Encodings: tlbie RB=r5,RS=r6,RIC=2,PRS=0/1,R=1.
    unsafe {
        core::arch::asm!(
            "ptesync",
            ".long 0x7cc92a64",
            ".long 0x7ccb2a64",
            "eieio",
            "tlbsync",
            "ptesync",
            in("r5") rb,
            in("r6") rs,
            options(nostack)
        );
    }
}
