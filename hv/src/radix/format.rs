//! Radix entry formats (Power ISA 3.0B Book III): page directory entry (PDE), page table entry
//! (PTE, a leaf), partition table entry (PATE) doubleword 0 and the process-table doubleword
//! (PATE doubleword 1).
//!
//! Bit names follow the ISA, which numbers bits from the most significant (bit 0 = `1 << 63`);
//! each constant's comment gives the ISA bit range. The values agree with Linux's
//! `book3s/64/pgtable.h` (`_PAGE_*`) and `book3s/64/mmu.h` (`PATB_*`, `RPDB_MASK`, `RTS*`).

use core::fmt;

use super::ADDRESS_BITS;

/// V (valid), bit 0, in PDEs and PTEs (Linux `_PAGE_PRESENT`).
pub const ENTRY_VALID: u64 = 1 << 63;
/// L (leaf), bit 1: the entry is a PTE, not a PDE (Linux `_PAGE_PTE`).
pub const ENTRY_LEAF: u64 = 1 << 62;

/// PDE NLB (next level base), bits 4:55: real address of the next table.
pub const PDE_NLB_MASK: u64 = 0x0FFF_FFFF_FFFF_FF00;
/// PDE NLS (next level size), bits 59:63: log2 of the number of entries of the next table.
pub const PDE_NLS_MASK: u64 = 0x1F;

/// PTE RPN (real page number), bits 7:51, kept in place (a real address with the low 12 bits
/// clear).
pub const PTE_RPN_MASK: u64 = 0x01FF_FFFF_FFFF_F000;
/// PTE R (reference), bit 55 (Linux `_PAGE_ACCESSED`).
pub const PTE_R: u64 = 0x100;
/// PTE C (change), bit 56 (Linux `_PAGE_DIRTY`).
pub const PTE_C: u64 = 0x80;
/// PTE ATT (attribute), bits 58:59.
pub const PTE_ATT_MASK: u64 = 0x30;
/// PTE EAA (encoded access authority) bit 0 = ISA bit 60: privileged (process-scoped) access
/// only (Linux `_PAGE_PRIVILEGED`).
pub const PTE_EAA_PRIVILEGED: u64 = 0x8;
/// EAA bit 1 = ISA bit 61: read (Linux `_PAGE_READ`).
pub const PTE_EAA_READ: u64 = 0x4;
/// EAA bit 2 = ISA bit 62: read and write (Linux `_PAGE_WRITE`).
pub const PTE_EAA_READ_WRITE: u64 = 0x2;
/// EAA bit 3 = ISA bit 63: execute (Linux `_PAGE_EXEC`).
pub const PTE_EAA_EXECUTE: u64 = 0x1;

/// PATE doubleword 0 HR (host radix), bit 0: the partition uses radix translation.
pub const PATE_HR: u64 = 1 << 63;
/// PATE doubleword 0 RTS1, bits 1:2: the high two bits of RTS (radix tree size − 31).
pub const PATE_RTS1_MASK: u64 = 3 << 61;
/// PATE doubleword 0 RPDB (root page directory base), bits 4:55.
pub const PATE_RPDB_MASK: u64 = 0x0FFF_FFFF_FFFF_FF00;
/// PATE doubleword 0 RTS2, bits 56:58: the low three bits of RTS.
pub const PATE_RTS2_MASK: u64 = 7 << 5;
/// PATE doubleword 0 RPDS (root page directory size), bits 59:63: log2 of the root's entries.
pub const PATE_RPDS_MASK: u64 = 0x1F;

/// PATE doubleword 1 GR (guest radix), bit 0: the guest's process-scoped trees are radix.
pub const PATE_GR: u64 = 1 << 63;
/// PATE doubleword 1 PRTB (process table base), bits 4:51.
pub const PRTB_MASK: u64 = 0x0FFF_FFFF_FFFF_F000;
/// PATE doubleword 1 PRTS (process table size), bits 59:63: the table has 2^(12 + PRTS) bytes.
pub const PRTS_MASK: u64 = 0x1F;
/// Largest PRTS accepted (a 64 GiB table, as KVM's limit); Linux uses 12 (16 MiB, 2^20 PIDs).
pub const MAX_PRTS: u8 = 24;

/// Access a leaf allows. Write implies read in the ISA's encoding (EAA bit 2 is "read and
/// write"), so a decoded `Perms` with `write` also has `read`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Perms {
    pub read: bool,
    pub write: bool,
    pub execute: bool,
    /// EAA bit 0: only privileged (`MSR[PR]` = 0) access in process-scoped translation; the
    /// hardware ignores it in partition-scoped trees, which never set it here.
    pub privileged: bool,
}

impl Perms {
    /// No access.
    pub const NONE: Perms = Perms { read: false, write: false, execute: false, privileged: false };
    /// Read only.
    pub const R: Perms = Perms { read: true, ..Perms::NONE };
    /// Read and execute.
    pub const RX: Perms = Perms { read: true, execute: true, ..Perms::NONE };
    /// Read and write.
    pub const RW: Perms = Perms { read: true, write: true, ..Perms::NONE };
    /// Read, write and execute: normal LPAR memory.
    pub const RWX: Perms = Perms { read: true, write: true, execute: true, privileged: false };

    /// The EAA bits (ISA bits 60:63) of a PTE with these permissions.
    pub const fn eaa_bits(self) -> u64 {
        let mut bits = 0;
        if self.privileged {
            bits |= PTE_EAA_PRIVILEGED;
        }
        if self.read {
            bits |= PTE_EAA_READ;
        }
        if self.write {
            bits |= PTE_EAA_READ_WRITE;
        }
        if self.execute {
            bits |= PTE_EAA_EXECUTE;
        }
        bits
    }

    /// The permissions a PTE grants (write implies read).
    pub const fn from_pte(pte: u64) -> Perms {
        let write = pte & PTE_EAA_READ_WRITE != 0;
        Perms {
            read: write || pte & PTE_EAA_READ != 0,
            write,
            execute: pte & PTE_EAA_EXECUTE != 0,
            privileged: pte & PTE_EAA_PRIVILEGED != 0,
        }
    }
}

/// PTE ATT (storage attributes), ISA bits 58:59.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Attribute {
    /// 0b00: normal memory (cacheable, not guarded).
    #[default]
    Normal,
    /// 0b01: strong access ordering (Linux `_PAGE_SAO`).
    StrongAccessOrder,
    /// 0b10: non-idempotent I/O, cache inhibited and guarded (Linux `_PAGE_NON_IDEMPOTENT`).
    NonIdempotentIo,
    /// 0b11: tolerant I/O, cache inhibited, not guarded (Linux `_PAGE_TOLERANT`).
    TolerantIo,
}

impl Attribute {
    /// The ATT field in place.
    pub const fn bits(self) -> u64 {
        match self {
            Attribute::Normal => 0x00,
            Attribute::StrongAccessOrder => 0x10,
            Attribute::NonIdempotentIo => 0x20,
            Attribute::TolerantIo => 0x30,
        }
    }

    /// The attribute of a PTE.
    pub const fn from_pte(pte: u64) -> Attribute {
        match pte & PTE_ATT_MASK {
            0x00 => Attribute::Normal,
            0x10 => Attribute::StrongAccessOrder,
            0x20 => Attribute::NonIdempotentIo,
            _ => Attribute::TolerantIo,
        }
    }
}

/// A PDE pointing at a table at `next` (aligned, below 2^60) of 2^`nls` entries.
pub const fn pde(next: u64, nls: u32) -> u64 {
    ENTRY_VALID | (next & PDE_NLB_MASK) | (nls as u64 & PDE_NLS_MASK)
}

/// A leaf PTE for the page at `hpa` (page aligned, below 2^57). R is always set, and C when
/// the page is writable: POWER9 does not set R or C in partition-scoped entries itself (an
/// access that would need it takes a storage interrupt with SET_RC in the DSISR, the data
/// storage interrupt status register), so leaves the hypervisor builds have them set, as
/// KVM's do.
pub const fn leaf(hpa: u64, perms: Perms, attribute: Attribute) -> u64 {
    let change = if perms.write { PTE_C } else { 0 };
    ENTRY_VALID | ENTRY_LEAF | (hpa & PTE_RPN_MASK) | PTE_R | change | attribute.bits() | perms.eaa_bits()
}

/// Errors of the PATE and process-table encoders and decoders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// The radix tree size is not 31–62 bits (the RTS field holds 0–31).
    AddressBits { bits: u32 },
    /// The root directory size is not a power of two between 256 bytes (32 entries) and
    /// 2^34 bytes (RPDS ≤ 31).
    RootSize { bytes: u64 },
    /// The root directory address is not aligned to its size or does not fit RPDB.
    RootAddress { root: u64, bytes: u64 },
    /// PATE doubleword 1 without GR: the guest asked for hashed page tables (HPT).
    NotRadix,
    /// PRTS is above [`MAX_PRTS`].
    ProcessTableSize { code: u8 },
    /// The process table base is not aligned to the table's size or does not fit PRTB.
    ProcessTableBase { base: u64, bytes: u64 },
    /// Reserved bits (ISA bits 1:3 and 52:58 of PATE doubleword 1) are set.
    ReservedBits { bits: u64 },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FormatError::AddressBits { bits } => write!(f, "radix tree size of {bits} bits is not 31 to 62"),
            FormatError::RootSize { bytes } => {
                write!(f, "root directory of {bytes:#x} bytes is not a power of two from 256 bytes")
            }
            FormatError::RootAddress { root, bytes } => {
                write!(f, "root directory at {root:#x} is not aligned to {bytes:#x} or too high")
            }
            FormatError::NotRadix => write!(f, "GR is clear: the guest does not use radix translation"),
            FormatError::ProcessTableSize { code } => {
                write!(f, "process table size code {code} is above {MAX_PRTS}")
            }
            FormatError::ProcessTableBase { base, bytes } => {
                write!(f, "process table at {base:#x} is not aligned to its size {bytes:#x} or too high")
            }
            FormatError::ReservedBits { bits } => write!(f, "reserved bits {bits:#x} are set"),
        }
    }
}

/// The RTS1 and RTS2 fields in place for a tree of `address_bits` (RTS = bits − 31).
pub const fn rts_field(address_bits: u32) -> Option<u64> {
    if address_bits < 31 || address_bits > 62 {
        return None;
    }
    let rts = (address_bits - 31) as u64;
    Some(((rts >> 3) << 61) | ((rts & 7) << 5))
}

/// The fields of a PATE doubleword 0, undecoded beyond splitting (see [`walk()`](super::walk())
/// for the checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PateDw0 {
    /// HR: radix (else hashed page table).
    pub host_radix: bool,
    /// RTS + 31: address bits the tree translates.
    pub address_bits: u32,
    /// RPDB: root directory address.
    pub root: u64,
    /// RPDS: log2 of the root's number of entries.
    pub root_index_bits: u32,
}

/// Splits a PATE doubleword 0 into its fields.
pub const fn decode_pate_dw0(dw0: u64) -> PateDw0 {
    let rts = ((dw0 & PATE_RTS1_MASK) >> 58) | ((dw0 & PATE_RTS2_MASK) >> 5);
    PateDw0 {
        host_radix: dw0 & PATE_HR != 0,
        address_bits: rts as u32 + 31,
        root: dw0 & PATE_RPDB_MASK,
        root_index_bits: (dw0 & PATE_RPDS_MASK) as u32,
    }
}

/// A radix PATE doubleword 0 (HR | RTS | RPDB | RPDS) for a root directory of `root_bytes`
/// at `root` translating `address_bits`. Any geometry the fields can hold is encoded; only
/// 52 bits with an 8192-entry root is accepted by [`walk()`](super::walk()).
pub fn encode_pate_dw0(root: u64, address_bits: u32, root_bytes: u64) -> Result<u64, FormatError> {
    let rts = rts_field(address_bits).ok_or(FormatError::AddressBits { bits: address_bits })?;
    if !root_bytes.is_power_of_two() || !(256..=(8 << 31)).contains(&root_bytes) {
        return Err(FormatError::RootSize { bytes: root_bytes });
    }
    if root & (root_bytes - 1) != 0 || root & !PATE_RPDB_MASK != 0 {
        return Err(FormatError::RootAddress { root, bytes: root_bytes });
    }
    let rpds = u64::from(root_bytes.trailing_zeros() - 3);
    Ok(PATE_HR | rts | root | rpds)
}

/// The PATE doubleword 0 of a tree in this module's geometry rooted at `root`.
pub(crate) const fn pate_dw0_for_root(root: u64) -> u64 {
    match rts_field(ADDRESS_BITS) {
        Some(rts) => PATE_HR | rts | (root & PATE_RPDB_MASK) | super::ROOT_INDEX_BITS as u64,
        None => 0,
    }
}

/// A radix process table: PATE doubleword 1 with GR set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessTable {
    /// PRTB: guest real address of the table, aligned to its size.
    pub base: u64,
    /// PRTS: the table has 2^(12 + `size_code`) bytes, 16 bytes per PID.
    pub size_code: u8,
}

impl ProcessTable {
    /// Bytes of the table.
    pub const fn bytes(&self) -> u64 {
        1 << (12 + self.size_code as u32)
    }

    /// Number of process table entries (one per PID).
    pub const fn entries(&self) -> u64 {
        self.bytes() / 16
    }

    /// The PRTS code for a table of `bytes`, if it is one of the sizes allowed.
    pub const fn size_code_for(bytes: u64) -> Option<u8> {
        if !bytes.is_power_of_two() || bytes < (1 << 12) {
            return None;
        }
        let code = bytes.trailing_zeros() - 12;
        if code > MAX_PRTS as u32 {
            return None;
        }
        Some(code as u8)
    }
}

/// PATE doubleword 1 (GR | PRTB | PRTS) for a radix process table at `base` of
/// 2^(12 + `size_code`) bytes; the base must be aligned to that size.
pub fn encode_process_table_dw1(base: u64, size_code: u8) -> Result<u64, FormatError> {
    let table = ProcessTable { base, size_code };
    check_process_table(table)?;
    Ok(PATE_GR | base | u64::from(size_code))
}

/// The process table a PATE doubleword 1 describes, checked: GR set, reserved bits clear,
/// PRTS at most [`MAX_PRTS`], PRTB aligned to the table's size.
pub fn decode_process_table_dw1(dw1: u64) -> Result<ProcessTable, FormatError> {
    if dw1 & PATE_GR == 0 {
        return Err(FormatError::NotRadix);
    }
    let reserved = dw1 & !(PATE_GR | PRTB_MASK | PRTS_MASK);
    if reserved != 0 {
        return Err(FormatError::ReservedBits { bits: reserved });
    }
    let table = ProcessTable { base: dw1 & PRTB_MASK, size_code: (dw1 & PRTS_MASK) as u8 };
    check_process_table(table)?;
    Ok(table)
}

fn check_process_table(table: ProcessTable) -> Result<(), FormatError> {
    if table.size_code > MAX_PRTS {
        return Err(FormatError::ProcessTableSize { code: table.size_code });
    }
    let bytes = table.bytes();
    if table.base & (bytes - 1) != 0 || table.base & !PRTB_MASK != 0 {
        return Err(FormatError::ProcessTableBase { base: table.base, bytes });
    }
    Ok(())
}
