//! What [`PartitionTree`](super::PartitionTree) requests may do with existing mappings, and
//! what they did: leaves by size, tables allocated and freed, the guest range to invalidate.

use core::ops::Range;

use super::PageSize;

/// Leaves of each size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageCounts {
    pub pages_1g: u64,
    pub pages_2m: u64,
    pub pages_4k: u64,
}

impl PageCounts {
    /// Leaves of `size`.
    pub const fn get(&self, size: PageSize) -> u64 {
        match size {
            PageSize::Size1G => self.pages_1g,
            PageSize::Size2M => self.pages_2m,
            PageSize::Size4K => self.pages_4k,
        }
    }

    /// Leaves of all sizes.
    pub const fn total(&self) -> u64 {
        self.pages_1g + self.pages_2m + self.pages_4k
    }

    /// Bytes mapped.
    pub const fn bytes(&self) -> u64 {
        (self.pages_1g << 30) + (self.pages_2m << 21) + (self.pages_4k << 12)
    }

    fn slot(&mut self, size: PageSize) -> &mut u64 {
        match size {
            PageSize::Size1G => &mut self.pages_1g,
            PageSize::Size2M => &mut self.pages_2m,
            PageSize::Size4K => &mut self.pages_4k,
        }
    }

    pub(super) fn add(&mut self, size: PageSize) {
        let slot = self.slot(size);
        *slot = slot.saturating_add(1);
    }

    pub(super) fn remove(&mut self, size: PageSize) {
        let slot = self.slot(size);
        *slot = slot.saturating_sub(1);
    }
}

/// What a map request may do with existing mappings in its range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MapMode {
    /// Fail with [`AlreadyMapped`](super::RadixError::AlreadyMapped), changing nothing, if
    /// anything is mapped.
    #[default]
    Refuse,
    /// Replace mappings lying wholly inside the range; fail with
    /// [`WouldSplit`](super::RadixError::WouldSplit), changing nothing, if a larger page
    /// extends past it.
    Replace,
}

/// What a map request did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapStats {
    /// Leaves written, by size.
    pub mapped: PageCounts,
    /// Leaves removed to make room ([`MapMode::Replace`]).
    pub replaced_pages: u64,
    pub tables_allocated: u64,
    pub tables_freed: u64,
}

/// What an unmap request did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnmapReport {
    /// Leaves removed.
    pub pages: u64,
    /// A guest range covering every removed page (to invalidate); wider than the request where
    /// a large page only partly inside it was removed whole. `None` if nothing was removed.
    pub removed: Option<Range<u64>>,
    /// Tables freed because they became empty; the page-walk cache must be flushed.
    pub tables_freed: u64,
}

impl UnmapReport {
    pub(super) fn note(&mut self, start: u64, end: u64) {
        self.removed = Some(match self.removed.take() {
            Some(range) => range.start.min(start)..range.end.max(end),
            None => start..end,
        });
    }
}
