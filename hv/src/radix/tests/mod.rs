//! Host tests of the radix module, with shared fixtures: a fake host memory for tables that
//! keeps entries big-endian and checks every allocation and free, a guest memory image for
//! hand-built trees, and a small xorshift generator.

mod format;
mod prop;
mod tree;
mod walk;

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use super::TableMemory;

/// Where the fake allocator starts handing out tables.
const FAKE_BASE: u64 = 0x3800_0000;

/// Host memory for tables: only allocated tables are accessible, bytes are stored big-endian,
/// every free must match a live allocation of the same size.
pub(super) struct FakeMemory {
    live: BTreeMap<u64, Vec<u8>>,
    next: u64,
    pub allocs: u64,
    pub frees: u64,
    /// Allocations that will still succeed; `None` for no limit.
    pub budget: Option<u64>,
}

impl FakeMemory {
    pub fn new() -> Self {
        Self { live: BTreeMap::new(), next: FAKE_BASE, allocs: 0, frees: 0, budget: None }
    }

    /// Bytes currently allocated.
    pub fn live_bytes(&self) -> u64 {
        self.live.values().map(|table| table.len() as u64).sum()
    }

    /// Addresses and sizes of live tables.
    pub fn tables(&self) -> Vec<(u64, u64)> {
        self.live.iter().map(|(&pa, table)| (pa, table.len() as u64)).collect()
    }

    /// The entries of the live table at `pa`, decoded from big-endian.
    pub fn entries(&self, pa: u64) -> impl Iterator<Item = u64> + '_ {
        self.live[&pa].chunks_exact(8).map(|chunk| u64::from_be_bytes(chunk.try_into().unwrap_or([0; 8])))
    }

    fn locate(&self, pa: u64) -> Option<(u64, usize)> {
        if !pa.is_multiple_of(8) {
            return None;
        }
        let (&start, table) = self.live.range(..=pa).next_back()?;
        let offset = usize::try_from(pa - start).ok()?;
        (offset + 8 <= table.len()).then_some((start, offset))
    }
}

impl TableMemory for FakeMemory {
    fn read_u64(&self, pa: u64) -> Option<u64> {
        let (start, offset) = self.locate(pa)?;
        let bytes: [u8; 8] = self.live[&start][offset..offset + 8].try_into().ok()?;
        Some(u64::from_be_bytes(bytes))
    }

    fn write_u64(&mut self, pa: u64, value: u64) -> bool {
        let Some((start, offset)) = self.locate(pa) else { return false };
        let Some(table) = self.live.get_mut(&start) else { return false };
        table[offset..offset + 8].copy_from_slice(&value.to_be_bytes());
        true
    }

    fn alloc_table(&mut self, bytes: u64) -> Option<u64> {
        assert!(bytes.is_power_of_two(), "table size {bytes:#x}");
        if let Some(budget) = self.budget.as_mut() {
            if *budget == 0 {
                return None;
            }
            *budget -= 1;
        }
        let pa = self.next.next_multiple_of(bytes);
        self.next = pa + bytes;
        self.live.insert(pa, vec![0; bytes as usize]);
        self.allocs += 1;
        Some(pa)
    }

    fn free_table(&mut self, pa: u64, bytes: u64) {
        let table = self.live.remove(&pa).unwrap_or_else(|| panic!("free of {pa:#x}, not allocated"));
        assert_eq!(table.len() as u64, bytes, "free of {pa:#x} with the wrong size");
        self.frees += 1;
    }
}

/// A guest's memory from real address 0, for trees built by hand as a guest would.
pub(super) struct GuestMemory {
    bytes: Vec<u8>,
}

impl GuestMemory {
    pub fn new(size: usize) -> Self {
        Self { bytes: vec![0; size] }
    }

    /// Stores `value` big-endian at `addr`.
    pub fn set(&mut self, addr: u64, value: u64) {
        let at = addr as usize;
        self.bytes[at..at + 8].copy_from_slice(&value.to_be_bytes());
    }

    /// The big-endian doubleword at `addr`, `None` outside the memory.
    pub fn read(&self, addr: u64) -> Option<u64> {
        let at = usize::try_from(addr).ok()?;
        let bytes: [u8; 8] = self.bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(u64::from_be_bytes(bytes))
    }
}

/// xorshift64: deterministic pseudo-random numbers for the property tests.
pub(super) struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
