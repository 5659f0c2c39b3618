//! [`PartitionTree`]: a partition-scoped radix tree this hypervisor owns, for an LPAR (logical
//! partition) or as a shadow tree for an L2 guest.
//!
//! Geometry is Linux's for 4 KiB base pages: a 64 KiB root directory of 8192 entries, 4 KiB
//! tables of 512 entries below it reached through page directory entries (PDEs), leaves of
//! 1 GiB (level 2), 2 MiB (level 3) and 4 KiB (level 4). Every operation checks the entries it
//! reads, so a tree changed behind this module's back gives [`RadixError::Corrupt`], never a
//! panic. Invariant: no table below the root is empty (unmap frees tables it empties), so
//! `table_bytes` measures live structure.

use super::format::{leaf, pate_dw0_for_root, pde, Attribute, Perms, ENTRY_LEAF, ENTRY_VALID, PDE_NLB_MASK};
use super::format::{PDE_NLS_MASK, PTE_RPN_MASK};
use super::outcome::{MapMode, MapStats, PageCounts, UnmapReport};
use super::walk::{walk, Translation, WalkFault};
use super::{
    level_shift, PageSize, RadixError, TableMemory, GUEST_ADDRESS_LIMIT, HOST_ADDRESS_LIMIT, INDEX_BITS,
    LEVELS, ROOT_INDEX_BITS, ROOT_TABLE_BYTES, TABLE_BYTES,
};

/// One entry of this module's own tree, checked against the geometry.
enum Entry {
    Empty,
    Leaf,
    Table(u64),
}

/// Result of freeing a detached subtree.
#[derive(Default)]
struct Freed {
    pages: u64,
    tables: u64,
    /// First entry that could not be read or was malformed (not followed).
    first_bad: Option<u64>,
}

/// An owned partition-scoped radix tree. Dropping it leaks its tables: call
/// [`PartitionTree::destroy`].
#[derive(Debug, PartialEq, Eq)]
pub struct PartitionTree {
    root: u64,
    lower_tables: u64,
    pages: PageCounts,
}

const fn entries_at(level: u8) -> u64 {
    if level == 1 {
        1 << ROOT_INDEX_BITS
    } else {
        1 << INDEX_BITS
    }
}

const fn bytes_at(level: u8) -> u64 {
    if level == 1 {
        ROOT_TABLE_BYTES
    } else {
        TABLE_BYTES
    }
}

/// Address of the entry of `table` (at `level`) that translates `gpa`.
const fn entry_addr(table: u64, level: u8, gpa: u64) -> u64 {
    table + ((gpa >> level_shift(level)) & (entries_at(level) - 1)) * 8
}

fn alloc<M: TableMemory + ?Sized>(mem: &mut M, bytes: u64) -> Result<u64, RadixError> {
    let pa = mem.alloc_table(bytes).ok_or(RadixError::OutOfMemory { bytes })?;
    if pa & (bytes - 1) != 0 || pa & !PDE_NLB_MASK != 0 {
        mem.free_table(pa, bytes);
        return Err(RadixError::BadAllocation { pa, bytes });
    }
    Ok(pa)
}

fn store<M: TableMemory + ?Sized>(mem: &mut M, pa: u64, value: u64) -> Result<(), RadixError> {
    if mem.write_u64(pa, value) {
        Ok(())
    } else {
        Err(RadixError::Corrupt { pa })
    }
}

/// Reads and checks the entry at `pa` of a table at `level`.
fn entry<M: TableMemory + ?Sized>(mem: &M, pa: u64, level: u8) -> Result<Entry, RadixError> {
    let value = mem.read_u64(pa).ok_or(RadixError::Corrupt { pa })?;
    if value & ENTRY_VALID == 0 {
        return Ok(Entry::Empty);
    }
    if value & ENTRY_LEAF != 0 {
        return if level >= 2 { Ok(Entry::Leaf) } else { Err(RadixError::Corrupt { pa }) };
    }
    let next = value & PDE_NLB_MASK;
    if level >= LEVELS || value & PDE_NLS_MASK != u64::from(INDEX_BITS) || next & (TABLE_BYTES - 1) != 0 {
        return Err(RadixError::Corrupt { pa });
    }
    Ok(Entry::Table(next))
}

/// Checks a request's addresses: `align`-aligned, non-empty, inside both address spaces.
fn check_request(gpa: u64, hpa: Option<u64>, size: u64, align: u64) -> Result<(), RadixError> {
    if size == 0 {
        return Err(RadixError::ZeroSize);
    }
    for value in [gpa, size] {
        if value & (align - 1) != 0 {
            return Err(RadixError::MisalignedGuest { value, align });
        }
    }
    if gpa.checked_add(size).is_none_or(|end| end > GUEST_ADDRESS_LIMIT) {
        return Err(RadixError::GuestRangeTooLarge { start: gpa, size });
    }
    if let Some(hpa) = hpa {
        if hpa & (align - 1) != 0 {
            return Err(RadixError::MisalignedHost { value: hpa, align });
        }
        if hpa.checked_add(size).is_none_or(|end| end > HOST_ADDRESS_LIMIT) {
            return Err(RadixError::HostRangeTooLarge { start: hpa, size });
        }
    }
    Ok(())
}

/// The largest page for `gpa` → `hpa` (both 4 KiB aligned) that fits in `remaining` bytes.
fn largest_fit(gpa: u64, hpa: u64, remaining: u64) -> PageSize {
    PageSize::LARGEST_FIRST
        .into_iter()
        .find(|size| (gpa | hpa) & (size.bytes() - 1) == 0 && size.bytes() <= remaining)
        .unwrap_or(PageSize::Size4K)
}

impl PartitionTree {
    /// An empty tree: allocates the 64 KiB root directory.
    pub fn new<M: TableMemory + ?Sized>(mem: &mut M) -> Result<Self, RadixError> {
        let root = alloc(mem, ROOT_TABLE_BYTES)?;
        Ok(Self { root, lower_tables: 0, pages: PageCounts::default() })
    }

    /// Host real address of the root directory.
    pub const fn root(&self) -> u64 {
        self.root
    }

    /// Partition table entry (PATE) doubleword 0 for this tree: HR (host radix) | RTS (radix
    /// tree size, 52 bits) | RPDB (root page directory base) | RPDS (root page directory size,
    /// 13).
    pub const fn pate_dw0(&self) -> u64 {
        pate_dw0_for_root(self.root)
    }

    /// Bytes of tables in use, the root included.
    pub const fn table_bytes(&self) -> u64 {
        ROOT_TABLE_BYTES + self.lower_tables * TABLE_BYTES
    }

    /// Leaves in the tree, by size.
    pub const fn page_counts(&self) -> PageCounts {
        self.pages
    }

    /// Maps `size` bytes at `gpa` to `hpa` as normal memory, refusing to overwrite (see
    /// [`PartitionTree::map_with`]).
    pub fn map<M: TableMemory + ?Sized>(
        &mut self,
        mem: &mut M,
        gpa: u64,
        hpa: u64,
        size: u64,
        perms: Perms,
    ) -> Result<MapStats, RadixError> {
        self.map_with(mem, gpa, hpa, size, perms, Attribute::Normal, MapMode::Refuse)
    }

    /// Maps `size` bytes at `gpa` to `hpa`, all three 4 KiB aligned, each piece with the
    /// largest page (1 GiB, 2 MiB, 4 KiB) to which both addresses are aligned and that fits.
    /// The range is checked against `mode` before anything changes; if a later step fails
    /// (out of memory, corrupt table), the whole range is unmapped before returning the error,
    /// which restores the previous state under [`MapMode::Refuse`].
    #[allow(clippy::too_many_arguments)]
    pub fn map_with<M: TableMemory + ?Sized>(
        &mut self,
        mem: &mut M,
        gpa: u64,
        hpa: u64,
        size: u64,
        perms: Perms,
        attribute: Attribute,
        mode: MapMode,
    ) -> Result<MapStats, RadixError> {
        check_request(gpa, Some(hpa), size, PageSize::Size4K.bytes())?;
        self.map_checked(mem, gpa, hpa, size, None, leaf_bits(perms, attribute), mode)
    }

    /// Maps one page of `page_size` at `gpa` to `hpa` as normal memory, refusing to overwrite
    /// (shadow tables fill in one page per fault).
    pub fn map_page<M: TableMemory + ?Sized>(
        &mut self,
        mem: &mut M,
        gpa: u64,
        hpa: u64,
        page_size: PageSize,
        perms: Perms,
    ) -> Result<(), RadixError> {
        self.map_page_with(mem, gpa, hpa, page_size, perms, Attribute::Normal, MapMode::Refuse).map(|_| ())
    }

    /// Maps one page of `page_size` at `gpa` to `hpa` (both aligned to the page size).
    #[allow(clippy::too_many_arguments)]
    pub fn map_page_with<M: TableMemory + ?Sized>(
        &mut self,
        mem: &mut M,
        gpa: u64,
        hpa: u64,
        page_size: PageSize,
        perms: Perms,
        attribute: Attribute,
        mode: MapMode,
    ) -> Result<MapStats, RadixError> {
        let bytes = page_size.bytes();
        check_request(gpa, Some(hpa), bytes, bytes)?;
        self.map_checked(mem, gpa, hpa, bytes, Some(page_size), leaf_bits(perms, attribute), mode)
    }

    #[allow(clippy::too_many_arguments)]
    fn map_checked<M: TableMemory + ?Sized>(
        &mut self,
        mem: &mut M,
        gpa: u64,
        hpa: u64,
        size: u64,
        only: Option<PageSize>,
        bits: u64,
        mode: MapMode,
    ) -> Result<MapStats, RadixError> {
        self.check_range(mem, self.root, 1, gpa, gpa + size, mode)?;
        let mut stats = MapStats::default();
        let mut offset = 0;
        while offset < size {
            let (page_gpa, page_hpa) = (gpa + offset, hpa + offset);
            let page = only.unwrap_or_else(|| largest_fit(page_gpa, page_hpa, size - offset));
            let pte = bits | (page_hpa & PTE_RPN_MASK);
            if let Err(err) = self.install(mem, page_gpa, page, pte, mode, &mut stats) {
                // Best effort: the error to report is the first one.
                let _ = self.unmap(mem, gpa, size);
                return Err(err);
            }
            offset += page.bytes();
        }
        Ok(stats)
    }

    /// Checks that `[start, end)` below `table` (at `level`) may be mapped under `mode`.
    fn check_range<M: TableMemory + ?Sized>(
        &self,
        mem: &M,
        table: u64,
        level: u8,
        start: u64,
        end: u64,
        mode: MapMode,
    ) -> Result<(), RadixError> {
        let slot = 1u64 << level_shift(level);
        let mut addr = start;
        while addr < end {
            let slot_start = addr & !(slot - 1);
            let slot_end = slot_start + slot;
            let inside = slot_start >= start && slot_end <= end;
            match entry(mem, entry_addr(table, level, addr), level)? {
                Entry::Empty => {}
                Entry::Leaf if mode == MapMode::Refuse => {
                    return Err(RadixError::AlreadyMapped { gpa: addr })
                }
                Entry::Leaf if !inside => {
                    return Err(RadixError::WouldSplit { gpa: slot_start, page_size: slot });
                }
                Entry::Leaf => {}
                // Under Replace, everything below a slot wholly inside the range goes.
                Entry::Table(_) if inside && mode == MapMode::Replace => {}
                Entry::Table(child) => {
                    self.check_range(mem, child, level + 1, addr, end.min(slot_end), mode)?
                }
            }
            addr = slot_end;
        }
        Ok(())
    }

    /// Writes `pte` as the leaf of `page` for `gpa`, creating tables on the way; replaces what
    /// is in the way under [`MapMode::Replace`] (the range was checked).
    fn install<M: TableMemory + ?Sized>(
        &mut self,
        mem: &mut M,
        gpa: u64,
        page: PageSize,
        pte: u64,
        mode: MapMode,
        stats: &mut MapStats,
    ) -> Result<(), RadixError> {
        let target = page.level();
        let mut table = self.root;
        for level in 1..target {
            let pa = entry_addr(table, level, gpa);
            table = match entry(mem, pa, level)? {
                Entry::Table(child) => child,
                Entry::Empty => self.new_table(mem, pa, stats)?,
                Entry::Leaf if mode == MapMode::Refuse => return Err(RadixError::AlreadyMapped { gpa }),
                Entry::Leaf => {
                    store(mem, pa, 0)?;
                    if let Some(size) = PageSize::at_level(level) {
                        self.pages.remove(size);
                    }
                    stats.replaced_pages += 1;
                    self.new_table(mem, pa, stats)?
                }
            };
        }
        let pa = entry_addr(table, target, gpa);
        match entry(mem, pa, target)? {
            Entry::Empty => {}
            _ if mode == MapMode::Refuse => return Err(RadixError::AlreadyMapped { gpa }),
            Entry::Leaf => {
                self.pages.remove(page);
                stats.replaced_pages += 1;
            }
            Entry::Table(child) => {
                store(mem, pa, 0)?;
                let freed = self.free_subtree(mem, child, target + 1);
                stats.replaced_pages += freed.pages;
                stats.tables_freed += freed.tables;
                if let Some(bad) = freed.first_bad {
                    return Err(RadixError::Corrupt { pa: bad });
                }
            }
        }
        store(mem, pa, pte)?;
        self.pages.add(page);
        stats.mapped.add(page);
        Ok(())
    }

    /// Allocates an empty table and points the PDE at `pa` to it.
    fn new_table<M: TableMemory + ?Sized>(
        &mut self,
        mem: &mut M,
        pa: u64,
        stats: &mut MapStats,
    ) -> Result<u64, RadixError> {
        let table = alloc(mem, TABLE_BYTES)?;
        if let Err(err) = store(mem, pa, pde(table, INDEX_BITS)) {
            mem.free_table(table, TABLE_BYTES);
            return Err(err);
        }
        self.lower_tables += 1;
        stats.tables_allocated += 1;
        Ok(table)
    }

    /// Removes every leaf translating an address in `[gpa, gpa + size)` (4 KiB aligned) and
    /// returns how many. Large pages are not split: a 1 GiB or 2 MiB page partly inside the
    /// range is removed whole ([`PartitionTree::unmap_report`] gives the widened range).
    pub fn unmap<M: TableMemory + ?Sized>(
        &mut self,
        mem: &mut M,
        gpa: u64,
        size: u64,
    ) -> Result<u64, RadixError> {
        Ok(self.unmap_report(mem, gpa, size)?.pages)
    }

    /// [`PartitionTree::unmap`], reporting the range to invalidate and the tables freed.
    pub fn unmap_report<M: TableMemory + ?Sized>(
        &mut self,
        mem: &mut M,
        gpa: u64,
        size: u64,
    ) -> Result<UnmapReport, RadixError> {
        check_request(gpa, None, size, PageSize::Size4K.bytes())?;
        let mut report = UnmapReport::default();
        self.unmap_in(mem, self.root, 1, gpa, gpa + size, &mut report)?;
        Ok(report)
    }

    /// Removes every mapping, keeping the root (a shadow tree's "invalidate all").
    pub fn clear<M: TableMemory + ?Sized>(&mut self, mem: &mut M) -> Result<UnmapReport, RadixError> {
        self.unmap_report(mem, 0, GUEST_ADDRESS_LIMIT)
    }

    fn unmap_in<M: TableMemory + ?Sized>(
        &mut self,
        mem: &mut M,
        table: u64,
        level: u8,
        start: u64,
        end: u64,
        report: &mut UnmapReport,
    ) -> Result<(), RadixError> {
        let slot = 1u64 << level_shift(level);
        let mut addr = start;
        while addr < end {
            let slot_start = addr & !(slot - 1);
            let slot_end = slot_start + slot;
            let pa = entry_addr(table, level, addr);
            match entry(mem, pa, level)? {
                Entry::Empty => {}
                Entry::Leaf => {
                    store(mem, pa, 0)?;
                    if let Some(size) = PageSize::at_level(level) {
                        self.pages.remove(size);
                    }
                    report.pages += 1;
                    report.note(slot_start, slot_end);
                }
                Entry::Table(child) if slot_start >= start && slot_end <= end => {
                    store(mem, pa, 0)?;
                    let freed = self.free_subtree(mem, child, level + 1);
                    report.pages += freed.pages;
                    report.tables_freed += freed.tables;
                    if freed.pages > 0 {
                        report.note(slot_start, slot_end);
                    }
                    if let Some(bad) = freed.first_bad {
                        return Err(RadixError::Corrupt { pa: bad });
                    }
                }
                Entry::Table(child) => {
                    self.unmap_in(mem, child, level + 1, addr, end.min(slot_end), report)?;
                    if table_is_empty(mem, child)? {
                        store(mem, pa, 0)?;
                        mem.free_table(child, TABLE_BYTES);
                        self.lower_tables = self.lower_tables.saturating_sub(1);
                        report.tables_freed += 1;
                    }
                }
            }
            addr = slot_end;
        }
        Ok(())
    }

    /// Frees a table at `level` that is no longer reachable and everything below it, keeping
    /// the counters. Entries that cannot be read or are malformed are not followed.
    fn free_subtree<M: TableMemory + ?Sized>(&mut self, mem: &mut M, table: u64, level: u8) -> Freed {
        let mut freed = Freed::default();
        for index in 0..entries_at(level) {
            let pa = table + index * 8;
            match entry(mem, pa, level) {
                Ok(Entry::Empty) => {}
                Ok(Entry::Leaf) => {
                    if let Some(size) = PageSize::at_level(level) {
                        self.pages.remove(size);
                    }
                    freed.pages += 1;
                }
                Ok(Entry::Table(child)) => {
                    let below = self.free_subtree(mem, child, level + 1);
                    freed.pages += below.pages;
                    freed.tables += below.tables;
                    freed.first_bad = freed.first_bad.or(below.first_bad);
                }
                Err(_) => freed.first_bad = freed.first_bad.or(Some(pa)),
            }
        }
        mem.free_table(table, bytes_at(level));
        if level > 1 {
            self.lower_tables = self.lower_tables.saturating_sub(1);
            freed.tables += 1;
        }
        freed
    }

    /// Translates `gpa` through this tree with the same walk as foreign trees.
    pub fn translate<M: TableMemory + ?Sized>(&self, mem: &M, gpa: u64) -> Result<Translation, WalkFault> {
        walk(|pa| mem.read_u64(pa), self.pate_dw0(), gpa)
    }

    /// Frees every table, the root included. The partition must no longer use the tree (its
    /// PATE cleared and its translations invalidated).
    pub fn destroy<M: TableMemory + ?Sized>(mut self, mem: &mut M) {
        let root = self.root;
        self.free_subtree(mem, root, 1);
    }
}

/// The leaf bits other than the RPN (real page number).
const fn leaf_bits(perms: Perms, attribute: Attribute) -> u64 {
    leaf(0, perms, attribute)
}

fn table_is_empty<M: TableMemory + ?Sized>(mem: &M, table: u64) -> Result<bool, RadixError> {
    for index in 0..entries_at(2) {
        let pa = table + index * 8;
        if mem.read_u64(pa).ok_or(RadixError::Corrupt { pa })? & ENTRY_VALID != 0 {
            return Ok(false);
        }
    }
    Ok(true)
}
