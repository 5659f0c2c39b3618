//! Walking a partition-scoped radix tree that someone else built — an L1 hypervisor's tree for
//! its L2 guest in the L1's memory — with the checks POWER9 (as QEMU models it) and KVM's
//! `kvmppc_mmu_walk_radix_tree` make, and every fault located by level so it can be reflected
//! to the guest as the hardware would (no translation, protection, unsupported MMU (memory
//! management unit) configuration, R/C (reference/change) update needed, table not
//! accessible).
//!
//! Levels: 0 is the PATE (partition table entry), 1 the root directory, 4 the last table. A
//! fault in a field names the level of the entry holding the field (so a bad NLS, next level
//! size, in a level-2 PDE, page directory entry, describing the level-3 table is reported at
//! level 2). The walk reads at most
//! four entries, so any tree — including one whose entries point back at themselves — ends.

use core::fmt;

use super::format::{
    decode_pate_dw0, Attribute, Perms, ENTRY_LEAF, ENTRY_VALID, PDE_NLB_MASK, PDE_NLS_MASK, PTE_C, PTE_R,
    PTE_RPN_MASK,
};
use super::{ADDRESS_BITS, INDEX_BITS, INDEX_BITS_64K, LEVELS, ROOT_INDEX_BITS};

/// A successful translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// The output address (host real address, or an L1 real address for an L1's tree).
    pub hpa: u64,
    /// Bytes of the page: 1 GiB, 2 MiB, 64 KiB or 4 KiB.
    pub page_size: u64,
    /// What the leaf allows (EAA, encoded access authority).
    pub perms: Perms,
    /// ATT (storage attributes) of the leaf.
    pub attribute: Attribute,
    /// R (reference) of the leaf.
    pub referenced: bool,
    /// C (change) of the leaf.
    pub changed: bool,
    /// Level of the leaf: 2 (1 GiB), 3 (2 MiB) or 4 (64 KiB / 4 KiB).
    pub leaf_level: u8,
    /// The leaf PTE (page table entry) as read.
    pub pte: u64,
    /// The (caller-translated) address the PTE was read from, for setting R/C.
    pub pte_addr: u64,
}

/// The kind of access being translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    Load,
    Store,
    Fetch,
}

/// Why a tree is malformed (the hardware's "unsupported MMU configuration").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadTreeReason {
    /// PATE HR (host radix) is clear: the partition uses a hashed page table.
    NotRadix,
    /// RTS (radix tree size) + 31 is not 52, the only tree size POWER9 supports.
    AddressBits { bits: u32 },
    /// RPDS (root page directory size) is not 13, or an NLS is not 9 (tables at levels 2 and
    /// 3) or 9 or 5 (level 4).
    TableSize { bits: u32 },
    /// A table base (RPDB, root page directory base, or NLB, next level base) is not aligned
    /// to the table's size.
    MisalignedTable { base: u64, bytes: u64 },
    /// A leaf in the root directory (512 GiB pages are not supported).
    LeafAtRoot,
    /// A valid non-leaf entry in a level-4 table: there is no fifth level.
    NoLeaf,
    /// A leaf's RPN (real page number) has bits set below the page size.
    MisalignedPage { rpn: u64, page_size: u64 },
}

/// Why a walk failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkFault {
    /// The address has bits set at or above bit 52 (outside the tree).
    AddressOutOfRange { addr: u64 },
    /// The entry at `level` (1–4) has V clear: no translation.
    NotMapped { level: u8 },
    /// The entry of `level` (1–4) at `entry_addr` could not be read (not in the table owner's
    /// memory).
    Unreadable { level: u8, entry_addr: u64 },
    /// The tree is malformed at `level` (0 = PATE).
    BadTree { level: u8, why: BadTreeReason },
    /// The leaf at `level` does not allow `access`.
    Permission { level: u8, access: Access },
    /// Instruction fetch from a leaf at `level` with the non-idempotent I/O attribute
    /// (guarded storage).
    GuardedFetch { level: u8 },
    /// The access needs R, or C for a store, set in the PTE at `pte_addr`; POWER9 does not
    /// update partition-scoped entries itself.
    ReferenceChange { pte_addr: u64, access: Access },
}

/// DSISR (data storage interrupt status register) bits, IBM bit numbers in comments.
pub mod dsisr {
    /// Bit 33: no translation.
    pub const NOPTE: u64 = 0x4000_0000;
    /// Bit 36: protection.
    pub const PROTFAULT: u64 = 0x0800_0000;
    /// Bit 38: the access was a store.
    pub const ISSTORE: u64 = 0x0200_0000;
    /// Bit 44: unsupported MMU configuration (bad tree).
    pub const BADCONFIG: u64 = 0x0008_0000;
    /// Bit 45: R/C could not be set.
    pub const SET_RC: u64 = 0x0004_0000;
    /// Bit 46: fault on a table (directory) access.
    pub const PRTABLE_FAULT: u64 = 0x0002_0000;
}

impl WalkFault {
    /// The DSISR cause bits to reflect this fault as a data storage interrupt, as KVM's nested
    /// path does (`Unreadable` → fault on a table access; the address to report is
    /// `entry_addr`). Instruction fetches report causes in SRR1 (save/restore register 1)
    /// instead, with other bits.
    pub const fn dsisr(&self, access: Access) -> u64 {
        let cause = match self {
            WalkFault::AddressOutOfRange { .. } | WalkFault::NotMapped { .. } => dsisr::NOPTE,
            WalkFault::Unreadable { .. } => dsisr::PRTABLE_FAULT,
            WalkFault::BadTree { .. } => dsisr::BADCONFIG,
            WalkFault::Permission { .. } | WalkFault::GuardedFetch { .. } => dsisr::PROTFAULT,
            WalkFault::ReferenceChange { .. } => dsisr::SET_RC,
        };
        match access {
            Access::Store => cause | dsisr::ISSTORE,
            _ => cause,
        }
    }
}

impl fmt::Display for BadTreeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BadTreeReason::NotRadix => write!(f, "HR is clear (hashed page table)"),
            BadTreeReason::AddressBits { bits } => write!(f, "tree size of {bits} bits (only 52 supported)"),
            BadTreeReason::TableSize { bits } => write!(f, "table size of 2^{bits} entries not supported"),
            BadTreeReason::MisalignedTable { base, bytes } => {
                write!(f, "table at {base:#x} not aligned to its size {bytes:#x}")
            }
            BadTreeReason::LeafAtRoot => write!(f, "leaf in the root directory"),
            BadTreeReason::NoLeaf => write!(f, "directory entry in the last level"),
            BadTreeReason::MisalignedPage { rpn, page_size } => {
                write!(f, "page at {rpn:#x} not aligned to its size {page_size:#x}")
            }
        }
    }
}

impl fmt::Display for WalkFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WalkFault::AddressOutOfRange { addr } => write!(f, "address {addr:#x} is beyond 52 bits"),
            WalkFault::NotMapped { level } => write!(f, "no translation: invalid entry at level {level}"),
            WalkFault::Unreadable { level, entry_addr } => {
                write!(f, "level {level} entry at {entry_addr:#x} is not accessible")
            }
            WalkFault::BadTree { level, why } => write!(f, "bad tree at level {level}: {why}"),
            WalkFault::Permission { level, access } => {
                write!(f, "{access:?} not allowed by the level {level} leaf")
            }
            WalkFault::GuardedFetch { level } => {
                write!(f, "fetch from non-idempotent I/O (level {level} leaf)")
            }
            WalkFault::ReferenceChange { pte_addr, access } => {
                write!(f, "{access:?} needs R/C set in the PTE at {pte_addr:#x}")
            }
        }
    }
}

/// Walks the tree described by PATE doubleword 0 `pate_dw0` for `addr`. `read` returns the
/// big-endian entry at a table address (already translated by the caller, e.g. from an L1 real
/// address), or `None` if it is not accessible.
///
/// Checks, in walk order: HR set; RTS = 52 bits; `addr` below 2^52; RPDS = 13 and each NLS = 9
/// (5 also allowed for the level-4 table, 64 KiB pages); every table base aligned to its
/// size; each entry valid; no leaf at level 1, a leaf at level 4; the leaf's RPN aligned to
/// the page size. Reserved and software bits of entries are ignored, as the hardware does.
pub fn walk(read: impl Fn(u64) -> Option<u64>, pate_dw0: u64, addr: u64) -> Result<Translation, WalkFault> {
    let pate = decode_pate_dw0(pate_dw0);
    if !pate.host_radix {
        return Err(WalkFault::BadTree { level: 0, why: BadTreeReason::NotRadix });
    }
    if pate.address_bits != ADDRESS_BITS {
        return Err(WalkFault::BadTree {
            level: 0,
            why: BadTreeReason::AddressBits { bits: pate.address_bits },
        });
    }
    if addr >> ADDRESS_BITS != 0 {
        return Err(WalkFault::AddressOutOfRange { addr });
    }
    let mut base = pate.root;
    let mut bits = pate.root_index_bits;
    // Address bits not yet consumed by the indexes above the current table.
    let mut remaining = ADDRESS_BITS;
    for level in 1..=LEVELS {
        // The entry holding `base` and `bits` is one level up (the PATE for the root).
        let holder = level - 1;
        if !table_size_ok(level, bits) {
            return Err(WalkFault::BadTree { level: holder, why: BadTreeReason::TableSize { bits } });
        }
        let bytes = 8u64 << bits;
        if base & (bytes - 1) != 0 {
            return Err(WalkFault::BadTree {
                level: holder,
                why: BadTreeReason::MisalignedTable { base, bytes },
            });
        }
        remaining -= bits;
        let index = (addr >> remaining) & ((1 << bits) - 1);
        let entry_addr = base | (index * 8);
        let entry = read(entry_addr).ok_or(WalkFault::Unreadable { level, entry_addr })?;
        if entry & ENTRY_VALID == 0 {
            return Err(WalkFault::NotMapped { level });
        }
        if entry & ENTRY_LEAF != 0 {
            return leaf_translation(level, entry, entry_addr, addr, remaining);
        }
        if level == LEVELS {
            break;
        }
        base = entry & PDE_NLB_MASK;
        bits = (entry & PDE_NLS_MASK) as u32;
    }
    Err(WalkFault::BadTree { level: LEVELS, why: BadTreeReason::NoLeaf })
}

/// [`walk`] followed by [`Translation::check`] for `access`.
pub fn walk_access(
    read: impl Fn(u64) -> Option<u64>,
    pate_dw0: u64,
    addr: u64,
    access: Access,
) -> Result<Translation, WalkFault> {
    let translation = walk(read, pate_dw0, addr)?;
    translation.check(access)?;
    Ok(translation)
}

/// The table sizes POWER9 supports at each level (POWER9 user's manual, "Supported Radix
/// Tree Configurations"; the same list KVM and QEMU check).
const fn table_size_ok(level: u8, bits: u32) -> bool {
    match level {
        1 => bits == ROOT_INDEX_BITS,
        2 | 3 => bits == INDEX_BITS,
        _ => bits == INDEX_BITS || bits == INDEX_BITS_64K,
    }
}

fn leaf_translation(
    level: u8,
    pte: u64,
    pte_addr: u64,
    addr: u64,
    page_shift: u32,
) -> Result<Translation, WalkFault> {
    if level == 1 {
        return Err(WalkFault::BadTree { level, why: BadTreeReason::LeafAtRoot });
    }
    let page_size = 1u64 << page_shift;
    let rpn = pte & PTE_RPN_MASK;
    if rpn & (page_size - 1) != 0 {
        return Err(WalkFault::BadTree { level, why: BadTreeReason::MisalignedPage { rpn, page_size } });
    }
    Ok(Translation {
        hpa: rpn | (addr & (page_size - 1)),
        page_size,
        perms: Perms::from_pte(pte),
        attribute: Attribute::from_pte(pte),
        referenced: pte & PTE_R != 0,
        changed: pte & PTE_C != 0,
        leaf_level: level,
        pte,
        pte_addr,
    })
}

impl Translation {
    /// Whether the leaf allows `access` as the hardware checks a partition-scoped leaf: a fetch
    /// from non-idempotent I/O is refused, then EAA (EAA bit 0, privileged, is ignored in
    /// partition scope), then R must be set, and C too for a store.
    pub const fn check(&self, access: Access) -> Result<(), WalkFault> {
        let level = self.leaf_level;
        let allowed = match access {
            Access::Load => self.perms.read,
            Access::Store => self.perms.write,
            Access::Fetch => {
                if matches!(self.attribute, Attribute::NonIdempotentIo) {
                    return Err(WalkFault::GuardedFetch { level });
                }
                self.perms.execute
            }
        };
        if !allowed {
            return Err(WalkFault::Permission { level, access });
        }
        let needs_change = matches!(access, Access::Store) && !self.changed;
        if !self.referenced || needs_change {
            return Err(WalkFault::ReferenceChange { pte_addr: self.pte_addr, access });
        }
        Ok(())
    }

    /// The PTE with R set, and C too for a store: what to write back at `pte_addr` after a
    /// [`WalkFault::ReferenceChange`] (with a compare-and-swap against `pte`).
    pub const fn pte_with_rc(&self, access: Access) -> u64 {
        match access {
            Access::Store => self.pte | PTE_R | PTE_C,
            _ => self.pte | PTE_R,
        }
    }
}
