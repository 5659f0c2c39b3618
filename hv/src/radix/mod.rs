//! POWER9 radix page tables (Power ISA 3.0B Book III, "Radix Tree Translation") for the
//! partition-scoped translation of each LPAR (logical partition): guest real address → host
//! real address.
//!
//! * [`format`] — the entry formats: page directory entry (PDE), page table entry (PTE),
//!   partition table entry (PATE) doubleword 0 and the process-table doubleword (PATE
//!   doubleword 1, what `H_REGISTER_PROC_TBL` sets), with encoders and checked decoders;
//! * [`mod@walk`] — [`walk()`]: a walk of a tree someone else built (an L1 hypervisor's tree for its
//!   L2 guest), with every check the hardware and KVM make, faults located by level;
//! * [`tree`] — [`PartitionTree`]: a tree this hypervisor owns — build, map ranges with the
//!   largest pages that fit, map and unmap single pages (shadow tables), translate, destroy;
//! * [`outcome`] — [`MapMode`] and what map and unmap requests report.
//!
//! Trees use Linux's geometry for 4 KiB base pages: a 52-bit address space, four levels of
//! 13/9/9/9 index bits, leaves of 1 GiB at level 2, 2 MiB at level 3 and 4 KiB at level 4
//! (level 1 is the root). Tables live in host physical memory reached through
//! [`TableMemory`]; nothing here touches the processor, so TLB (translation lookaside buffer)
//! and page-walk-cache invalidation after a change is the caller's (see `docs/radix.md`).

pub mod format;
pub mod outcome;
pub mod tree;
pub mod walk;

#[cfg(test)]
mod tests;

use core::fmt;

pub use format::{
    decode_pate_dw0, decode_process_table_dw1, encode_pate_dw0, encode_process_table_dw1, Attribute,
    FormatError, PateDw0, Perms, ProcessTable,
};
pub use outcome::{MapMode, MapStats, PageCounts, UnmapReport};
pub use tree::PartitionTree;
pub use walk::{walk, walk_access, Access, BadTreeReason, Translation, WalkFault};

/// Physical memory where radix tables live (host physical addresses).
///
/// Entries are big-endian doublewords in memory; `read_u64`/`write_u64` convert, so values
/// passed here are plain numbers. In the firmware the implementation must make each write
/// visible to the hardware table walker in program order (the caller issues `ptesync` and
/// `tlbie` after a change).
pub trait TableMemory {
    /// The big-endian doubleword at `pa`, or `None` if `pa` is not accessible.
    fn read_u64(&self, pa: u64) -> Option<u64>;
    /// Stores `value` big-endian at `pa`; false if `pa` is not accessible.
    fn write_u64(&mut self, pa: u64, value: u64) -> bool;
    /// A zeroed table of `bytes` (a power of two), aligned to its size; `None` if out of memory.
    fn alloc_table(&mut self, bytes: u64) -> Option<u64>;
    /// Returns a table obtained from [`TableMemory::alloc_table`] with the same `bytes`.
    ///
    /// Tables are freed inside the call that detaches them, before the caller can flush the
    /// page-walk cache (`tlbie` with RIC = 2, radix invalidation control "all", for the
    /// LPID, logical partition id): the memory must not be reused until that flush (queue it
    /// until then).
    fn free_table(&mut self, pa: u64, bytes: u64);
}

/// Address bits a tree translates (the radix tree size, RTS + 31): 52 on POWER9.
pub const ADDRESS_BITS: u32 = 52;
/// Index bits of the root directory (level 1): 8192 entries.
pub const ROOT_INDEX_BITS: u32 = 13;
/// Index bits of levels 2, 3 and 4 with 4 KiB base pages: 512 entries.
pub const INDEX_BITS: u32 = 9;
/// Index bits of level 4 with 64 KiB base pages (accepted by [`walk()`], never built).
pub const INDEX_BITS_64K: u32 = 5;
/// Bytes of the root directory: 64 KiB.
pub const ROOT_TABLE_BYTES: u64 = 8 << ROOT_INDEX_BITS;
/// Bytes of a table at levels 2 to 4: 4 KiB.
pub const TABLE_BYTES: u64 = 8 << INDEX_BITS;
/// Number of levels; the root is level 1, leaves of the smallest pages are at level 4.
pub const LEVELS: u8 = 4;

/// Highest host real address + 1 a PTE can hold (RPN, ISA bits 7:51, is 45 bits above 4 KiB).
pub const HOST_ADDRESS_LIMIT: u64 = 1 << 57;
/// Guest real address limit of a 52-bit tree.
pub const GUEST_ADDRESS_LIMIT: u64 = 1 << ADDRESS_BITS;

/// log2 of the bytes one entry at `level` (1–4) covers in the 13/9/9/9 geometry:
/// 512 GiB, 1 GiB, 2 MiB, 4 KiB.
pub(crate) const fn level_shift(level: u8) -> u32 {
    match level {
        1 => ADDRESS_BITS - ROOT_INDEX_BITS,
        2 => ADDRESS_BITS - ROOT_INDEX_BITS - INDEX_BITS,
        3 => ADDRESS_BITS - ROOT_INDEX_BITS - 2 * INDEX_BITS,
        _ => ADDRESS_BITS - ROOT_INDEX_BITS - 3 * INDEX_BITS,
    }
}

/// Page sizes of trees this hypervisor builds (4 KiB base page geometry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PageSize {
    /// 4 KiB, a leaf at level 4.
    Size4K,
    /// 2 MiB, a leaf at level 3.
    Size2M,
    /// 1 GiB, a leaf at level 2.
    Size1G,
}

impl PageSize {
    /// Largest first, the order [`PartitionTree::map`] tries them in.
    pub const LARGEST_FIRST: [PageSize; 3] = [PageSize::Size1G, PageSize::Size2M, PageSize::Size4K];

    /// The level holding leaves of this size.
    pub const fn level(self) -> u8 {
        match self {
            PageSize::Size1G => 2,
            PageSize::Size2M => 3,
            PageSize::Size4K => 4,
        }
    }

    /// log2 of the size in bytes.
    pub const fn shift(self) -> u32 {
        level_shift(self.level())
    }

    /// Size in bytes.
    pub const fn bytes(self) -> u64 {
        1 << self.shift()
    }

    /// The size of a leaf at `level` (2–4), if leaves are allowed there.
    pub const fn at_level(level: u8) -> Option<PageSize> {
        match level {
            2 => Some(PageSize::Size1G),
            3 => Some(PageSize::Size2M),
            4 => Some(PageSize::Size4K),
            _ => None,
        }
    }
}

/// Errors of [`PartitionTree`] operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RadixError {
    /// The size of a map or unmap request is 0.
    ZeroSize,
    /// A guest real address or size is not a multiple of `align`.
    MisalignedGuest { value: u64, align: u64 },
    /// A host real address is not a multiple of `align`.
    MisalignedHost { value: u64, align: u64 },
    /// The guest range `[start, start + size)` overflows or passes 2^52.
    GuestRangeTooLarge { start: u64, size: u64 },
    /// The host range `[start, start + size)` overflows or passes what a PTE can hold (2^57).
    HostRangeTooLarge { start: u64, size: u64 },
    /// `gpa` is already mapped and the request may not replace mappings.
    AlreadyMapped { gpa: u64 },
    /// Replacing would cut a larger page at `gpa` of `page_size` bytes that extends past the
    /// requested range (splitting large pages is not supported).
    WouldSplit { gpa: u64, page_size: u64 },
    /// [`TableMemory::alloc_table`] failed for a table of `bytes`.
    OutOfMemory { bytes: u64 },
    /// The allocator returned `pa` for `bytes`, not aligned to the size or beyond what a
    /// directory entry can point to; the table was given back.
    BadAllocation { pa: u64, bytes: u64 },
    /// An entry of this tree at `pa` could not be read or written, or does not have the form
    /// this module writes (the tree was changed behind its back).
    Corrupt { pa: u64 },
}

impl fmt::Display for RadixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RadixError::ZeroSize => write!(f, "size is zero"),
            RadixError::MisalignedGuest { value, align } => {
                write!(f, "guest address or size {value:#x} is not a multiple of {align:#x}")
            }
            RadixError::MisalignedHost { value, align } => {
                write!(f, "host address {value:#x} is not a multiple of {align:#x}")
            }
            RadixError::GuestRangeTooLarge { start, size } => {
                write!(f, "guest range {start:#x} + {size:#x} passes the 52-bit address space")
            }
            RadixError::HostRangeTooLarge { start, size } => {
                write!(f, "host range {start:#x} + {size:#x} passes what a PTE can address (2^57)")
            }
            RadixError::AlreadyMapped { gpa } => write!(f, "guest address {gpa:#x} is already mapped"),
            RadixError::WouldSplit { gpa, page_size } => write!(
                f,
                "the {page_size:#x}-byte page at guest address {gpa:#x} extends past the range \
                 (large pages are not split)"
            ),
            RadixError::OutOfMemory { bytes } => write!(f, "no memory for a {bytes}-byte table"),
            RadixError::BadAllocation { pa, bytes } => {
                write!(f, "allocator returned {pa:#x} for a {bytes}-byte table: misaligned or too high")
            }
            RadixError::Corrupt { pa } => write!(f, "table entry at {pa:#x} is unreadable or malformed"),
        }
    }
}
