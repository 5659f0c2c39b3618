//! Why a configuration blob is refused. Each message names the field and, for a record, the
//! LPAR (index, LPID and name as far as they could be read), so the firmware can print it as is.

use crate::config::model::Region;
use alloc::string::String;
use core::fmt;

/// Who a memory range belongs to, when two collide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryOwner {
    /// The firmware's own ranges.
    Firmware,
    /// The hypervisor reservation.
    Hypervisor,
    /// Another LPAR.
    Lpar {
        /// Its LPID.
        id: u32,
        /// Its name.
        name: String,
    },
}

impl fmt::Display for MemoryOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Firmware => write!(f, "the firmware"),
            Self::Hypervisor => write!(f, "the hypervisor reservation"),
            Self::Lpar { id, name } => write!(f, "LPAR {id} \"{name}\""),
        }
    }
}

/// What is wrong with one LPAR record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordProblem {
    /// LPID 0 or above the largest.
    BadLpid,
    /// Another record has the same LPID.
    DuplicateLpid {
        /// Index of the earlier record.
        other_index: usize,
    },
    /// The name field is not a valid partition name.
    BadName {
        /// Why.
        why: &'static str,
    },
    /// Another record has the same name.
    DuplicateName {
        /// Index of the earlier record.
        other_index: usize,
    },
    /// Flag bits this version does not define.
    UnknownFlags(u32),
    /// A reserved field is not zero.
    ReservedNotZero(&'static str),
    /// Memory is empty, or not whole aligned blocks.
    BadMemory(Region),
    /// Memory collides with someone else's.
    MemoryOverlap {
        /// This LPAR's memory.
        memory: Region,
        /// Who else has it.
        other: MemoryOwner,
        /// Their range.
        other_range: Region,
    },
    /// No threads.
    NoThreads,
    /// The thread run does not lie in the PIR table.
    ThreadsOutOfTable,
    /// The thread run is not strictly ascending.
    ThreadsNotAscending,
    /// A thread also belongs to another LPAR.
    ThreadShared {
        /// The thread's PIR.
        pir: u32,
        /// The other LPAR's LPID.
        other_id: u32,
    },
    /// Unknown processor compatibility mode (logical PVR).
    UnknownCpuCompat(u32),
    /// Unknown restart policy code.
    UnknownRestart(u8),
    /// Unknown console kind code.
    UnknownConsole(u8),
    /// Two consoles on one UART (another LPAR's, or the firmware's).
    UartShared {
        /// LPC I/O port.
        port: u32,
    },
    /// A string reference points outside the string area.
    StringOutOfBounds(&'static str),
    /// A string is not UTF-8.
    NotUtf8(&'static str),
    /// A string is longer than the format allows.
    TooLong(&'static str),
    /// An image reference has an unknown kind.
    UnknownImageKind {
        /// Which reference.
        field: &'static str,
        /// The kind byte.
        kind: u8,
    },
    /// No kernel.
    MissingKernel,
    /// An image reference without a name.
    EmptyImageName(&'static str),
    /// Nested-virtualisation limits out of range, or set without nested virtualisation.
    BadNestedLimits,
}

impl fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadLpid => write!(f, "lpid: not between 1 and 4095"),
            Self::DuplicateLpid { other_index } => write!(f, "lpid: same as record {other_index}"),
            Self::BadName { why } => write!(f, "name: {why}"),
            Self::DuplicateName { other_index } => write!(f, "name: same as record {other_index}"),
            Self::UnknownFlags(bits) => write!(f, "flags: unknown bits {bits:#x}"),
            Self::ReservedNotZero(field) => write!(f, "{field}: reserved, must be zero"),
            Self::BadMemory(region) => write!(f, "memory {region}: not whole 256 MiB blocks"),
            Self::MemoryOverlap { memory, other, other_range } => {
                write!(f, "memory {memory} overlaps {other} at {other_range}")
            }
            Self::NoThreads => write!(f, "threads: none"),
            Self::ThreadsOutOfTable => write!(f, "threads: run outside the PIR table"),
            Self::ThreadsNotAscending => write!(f, "threads: PIRs not strictly ascending"),
            Self::ThreadShared { pir, other_id } => {
                write!(f, "thread PIR {pir:#x} also belongs to LPAR {other_id}")
            }
            Self::UnknownCpuCompat(pvr) => write!(f, "cpu_compat: unknown logical PVR {pvr:#010x}"),
            Self::UnknownRestart(code) => write!(f, "restart: unknown policy code {code}"),
            Self::UnknownConsole(code) => write!(f, "console: unknown kind code {code}"),
            Self::UartShared { port } => write!(f, "console: UART {port:#x} already has a console"),
            Self::StringOutOfBounds(field) => write!(f, "{field}: string outside the string area"),
            Self::NotUtf8(field) => write!(f, "{field}: not UTF-8"),
            Self::TooLong(field) => write!(f, "{field}: too long"),
            Self::UnknownImageKind { field, kind } => write!(f, "{field}: unknown image kind {kind}"),
            Self::MissingKernel => write!(f, "kernel: none"),
            Self::EmptyImageName(field) => write!(f, "{field}: empty name"),
            Self::BadNestedLimits => {
                write!(f, "max_l2_guests/max_l2_vcpus: out of range or without nested_virt")
            }
        }
    }
}

/// Why a blob is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobError {
    /// Fewer bytes than the header or `total_len` says.
    Truncated {
        /// Bytes needed.
        needed: u64,
        /// Bytes there.
        got: usize,
    },
    /// Not `OXLP`.
    BadMagic(u32),
    /// A layout version this firmware does not read.
    UnsupportedVersion(u16),
    /// A header field that does not match the layout.
    BadHeader {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
    },
    /// The checksum does not match.
    BadCrc {
        /// Stored in the header.
        stored: u32,
        /// Computed over the blob.
        computed: u32,
    },
    /// No LPAR records.
    NoLpars,
    /// The hypervisor reservation is not whole aligned blocks.
    BadHypervisorMemory(Region),
    /// The hypervisor reservation overlaps the firmware.
    HypervisorOverlapsFirmware(Region),
    /// A record is wrong.
    Record {
        /// Record index (0 = first LPAR of the file).
        index: usize,
        /// LPID as read.
        lpid: u32,
        /// Name as far as it could be read.
        name: String,
        /// What is wrong.
        problem: RecordProblem,
    },
    /// The blob does not parse back into the configuration it was made from (an encoder bug or
    /// a configuration the format cannot carry).
    NotRepresentable,
}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { needed, got } => write!(f, "truncated: {got} bytes, the header needs {needed}"),
            Self::BadMagic(found) => {
                write!(f, "bad magic {found:#010x} (expected {:#010x}, \"OXLP\")", super::MAGIC)
            }
            Self::UnsupportedVersion(found) => {
                write!(f, "layout version {found}, this firmware reads version {}", super::VERSION)
            }
            Self::BadHeader { field, value } => {
                write!(f, "header field {field} = {value:#x} does not fit the layout")
            }
            Self::BadCrc { stored, computed } => {
                write!(f, "checksum mismatch: header says {stored:#010x}, content gives {computed:#010x}")
            }
            Self::NoLpars => write!(f, "no LPARs"),
            Self::BadHypervisorMemory(region) => {
                write!(f, "hypervisor memory {region}: not whole 256 MiB blocks")
            }
            Self::HypervisorOverlapsFirmware(region) => {
                write!(f, "hypervisor memory {region} overlaps the firmware")
            }
            Self::Record { index, lpid, name, problem } => {
                write!(f, "LPAR record {index} (LPID {lpid}, \"{name}\"): {problem}")
            }
            Self::NotRepresentable => write!(f, "the configuration does not survive encoding"),
        }
    }
}
