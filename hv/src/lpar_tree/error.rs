//! What can be wrong with an [`LparTreeSpec`](super::LparTreeSpec), the description of one LPAR
//! (logical partition): one variant per fault, each naming the input. Acronyms: PVR =
//! processor version register, RTAS = Run-Time Abstraction Services, GTSE = guest translation
//! shootdown enable, initrd = initial RAM disk.

use alloc::string::String;
use core::fmt;

/// Why no tree was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LparTreeError {
    /// `cores` is empty.
    NoCores,
    /// Core `core` lists no thread.
    EmptyCore {
        /// Index in `cores`.
        core: usize,
    },
    /// A core's thread count is not 1, 2, 4 or 8 (Linux requires a power of two).
    ThreadCount {
        /// Index in `cores`.
        core: usize,
        /// Its number of threads.
        threads: usize,
    },
    /// Cores have different thread counts (Linux assumes one count for the machine).
    UnevenCores {
        /// Index in `cores` of the first core that differs from core 0.
        core: usize,
        /// Its number of threads.
        threads: usize,
        /// Core 0's number of threads.
        first: usize,
    },
    /// An interrupt server number appears twice.
    DuplicateServer(u32),
    /// `boot_cpu` is not one of the server numbers.
    BootCpuNotAServer(u32),
    /// `pvr` is not a POWER9 PVR (version 0x004e).
    NotPower9(u32),
    /// `logical_pvr` is not a logical PVR (0x0fxxxxxx); Linux would ignore it.
    NotLogicalPvr(u32),
    /// A frequency is zero (the property named).
    ZeroFrequency(&'static str),
    /// `memory_size` is 0.
    MemorySizeZero,
    /// `memory_size` is not a whole number of 256 MiB blocks.
    MemoryNotWholeBlocks(u64),
    /// The initrd's end is not after its start.
    InitrdEmpty {
        /// Start given.
        start: u64,
        /// End given.
        end: u64,
    },
    /// The initrd ends beyond the LPAR's memory.
    InitrdOutsideMemory {
        /// Start given.
        start: u64,
        /// End given.
        end: u64,
    },
    /// The RTAS blob's size is 0.
    RtasEmpty,
    /// The RTAS blob ends beyond the LPAR's memory.
    RtasOutsideMemory {
        /// Base given.
        base: u64,
        /// Size given.
        size: u32,
    },
    /// The RTAS blob is not below 4 GiB (Linux reads its base as one cell and calls it in
    /// 32-bit mode).
    RtasAbove4GiB {
        /// Base given.
        base: u64,
        /// Size given.
        size: u32,
    },
    /// The RTAS entry point is outside the blob.
    RtasEntryOutsideBlob {
        /// Entry given.
        entry: u64,
    },
    /// The initrd and the RTAS blob overlap.
    InitrdOverlapsRtas,
    /// `name` is empty.
    NameEmpty,
    /// `name` is longer than 31 bytes (its length).
    NameTooLong(usize),
    /// `name` has a character outside printable ASCII.
    NameNotPrintable,
    /// `model`, `system-id` or `bootargs` is unusable (the property, and why).
    BadText {
        /// Property the text becomes.
        field: &'static str,
        /// What is wrong.
        why: &'static str,
    },
    /// An RTAS service name cannot be a `/rtas` property.
    BadServiceName {
        /// The name.
        name: String,
        /// What is wrong.
        why: &'static str,
    },
    /// An RTAS service is listed twice.
    DuplicateService(String),
    /// An RTAS token is 0 or does not fit a positive signed 32-bit number.
    BadToken {
        /// The service.
        service: String,
        /// Its token.
        token: u32,
    },
    /// Two RTAS services share a token.
    DuplicateToken {
        /// The token.
        token: u32,
        /// The service listed first.
        first: String,
        /// The service listed second.
        second: String,
    },
    /// An RTAS service Linux needs for this partition is not listed.
    MissingRtasService(&'static str),
    /// An `ibm,hypertas-functions` string is empty or not printable ASCII.
    BadHypertas(String),
    /// An `ibm,hypertas-functions` string is listed twice.
    DuplicateHypertas(String),
    /// `radix_gtse` is off and `hcall-rpt-invalidate` is not listed: Linux panics.
    NoGtseNorRptInvalidate,
}

impl fmt::Display for LparTreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCores => write!(f, "the LPAR has no core"),
            Self::EmptyCore { core } => write!(f, "core {core} has no thread"),
            Self::ThreadCount { core, threads } => {
                write!(f, "core {core} has {threads} threads; Linux needs 1, 2, 4 or 8")
            }
            Self::UnevenCores { core, threads, first } => {
                write!(f, "core {core} has {threads} threads but core 0 has {first}; all cores need the same")
            }
            Self::DuplicateServer(s) => write!(f, "interrupt server {s:#x} is listed twice"),
            Self::BootCpuNotAServer(s) => write!(f, "boot cpu {s:#x} is not a thread of any core"),
            Self::NotPower9(pvr) => write!(f, "PVR {pvr:#010x} is not a POWER9"),
            Self::NotLogicalPvr(pvr) => write!(f, "logical PVR {pvr:#010x} is not of the form 0x0fxxxxxx"),
            Self::ZeroFrequency(prop) => write!(f, "{prop} is 0"),
            Self::MemorySizeZero => write!(f, "memory size is 0"),
            Self::MemoryNotWholeBlocks(size) => {
                write!(f, "memory size {size:#x} is not a multiple of 256 MiB")
            }
            Self::InitrdEmpty { start, end } => write!(f, "initrd {start:#x}..{end:#x} is empty"),
            Self::InitrdOutsideMemory { start, end } => {
                write!(f, "initrd {start:#x}..{end:#x} is outside the LPAR's memory")
            }
            Self::RtasEmpty => write!(f, "RTAS blob size is 0"),
            Self::RtasOutsideMemory { base, size } => {
                write!(f, "RTAS blob at {base:#x} ({size:#x} bytes) is outside the LPAR's memory")
            }
            Self::RtasAbove4GiB { base, size } => {
                write!(f, "RTAS blob at {base:#x} ({size:#x} bytes) does not end below 4 GiB")
            }
            Self::RtasEntryOutsideBlob { entry } => {
                write!(f, "RTAS entry {entry:#x} is outside the RTAS blob")
            }
            Self::InitrdOverlapsRtas => write!(f, "the initrd overlaps the RTAS blob"),
            Self::NameEmpty => write!(f, "partition name is empty"),
            Self::NameTooLong(len) => write!(f, "partition name is {len} bytes; at most 31"),
            Self::NameNotPrintable => write!(f, "partition name is not printable ASCII"),
            Self::BadText { field, why } => write!(f, "{field}: {why}"),
            Self::BadServiceName { name, why } => write!(f, "RTAS service {name:?}: {why}"),
            Self::DuplicateService(name) => write!(f, "RTAS service {name:?} is listed twice"),
            Self::BadToken { service, token } => {
                write!(f, "RTAS service {service:?} has token {token:#x}; tokens are 1..=0x7fffffff")
            }
            Self::DuplicateToken { token, first, second } => {
                write!(f, "RTAS services {first:?} and {second:?} share token {token:#x}")
            }
            Self::MissingRtasService(name) => {
                write!(f, "RTAS service {name:?} is needed by Linux for this partition")
            }
            Self::BadHypertas(s) => {
                write!(f, "hypertas string {s:?} is empty or not printable ASCII")
            }
            Self::DuplicateHypertas(s) => write!(f, "hypertas string {s:?} is listed twice"),
            Self::NoGtseNorRptInvalidate => write!(
                f,
                "radix GTSE is off and hcall-rpt-invalidate is not offered: Linux could not invalidate \
                 its translations"
            ),
        }
    }
}
