//! Config-file errors: each a named kind with the place (`file:line:column`), the field, the
//! partition it is in and, for conflicts, the partition it conflicts with.

use crate::config::model::{ByteSize, Region};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// One mistake in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file name, as given to the checker.
    pub file: String,
    /// Line, from 1.
    pub line: usize,
    /// Column (in characters), from 1.
    pub column: usize,
    /// The field: `system.console`, or within an LPAR `cores[1]`, `boot.kernel`, ...; empty
    /// for the file as a whole.
    pub field: String,
    /// The LPAR the field belongs to: its name, or `#N` (N from 1, in file order) if it has no
    /// usable name; `None` outside LPARs.
    pub lpar: Option<String>,
    /// What is wrong.
    pub kind: ConfigErrorKind,
}

/// What is wrong. The `other` of a conflict names the other partition (or `the firmware`,
/// `the hypervisor reservation`, `the firmware console`) and `other_line` where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// Not valid TOML.
    Syntax(String),
    /// A key the format does not have.
    UnknownField {
        /// A known key it probably meant.
        suggestion: Option<&'static str>,
    },
    /// A value of the wrong TOML type.
    WrongType {
        /// What the field takes.
        expected: &'static str,
        /// What it got.
        found: &'static str,
    },
    /// A required field is absent.
    MissingField,
    /// Two fields that exclude each other.
    ConflictingFields {
        /// The other field.
        other: &'static str,
    },
    /// `system.version` is not one this tool reads.
    UnsupportedVersion {
        /// The version given.
        found: i128,
    },
    /// A keyword that is not one of the allowed ones.
    UnknownChoice {
        /// What was written.
        value: String,
        /// What is allowed.
        allowed: &'static [&'static str],
    },
    /// A number outside its range.
    OutOfRange {
        /// What was written.
        value: i128,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// A partition name that is empty, too long, or holds other characters.
    BadName {
        /// Why.
        why: &'static str,
    },
    /// Two partitions with one name.
    DuplicateName {
        /// The line of the first.
        other_line: usize,
    },
    /// Two partitions with one LPID.
    DuplicateId {
        /// The LPID.
        id: u32,
        /// The partition that has it first.
        other: String,
        /// Its line.
        other_line: usize,
    },
    /// A size that cannot be read.
    BadSize {
        /// What was written.
        text: String,
    },
    /// A size of zero.
    ZeroSize,
    /// A size that is not a multiple of the 256 MiB block.
    SizeNotBlockMultiple {
        /// The size in bytes.
        size: u64,
    },
    /// A fixed base that is not on a 256 MiB boundary.
    BaseNotAligned {
        /// The base.
        base: u64,
    },
    /// A core entry that is not `chip:core` or `chip:first-last`.
    BadCoreSpec {
        /// What was written.
        text: String,
    },
    /// A core the machine does not have.
    CoreNotPresent {
        /// Chip id.
        chip: u32,
        /// Core number in the chip.
        core: u32,
    },
    /// A thread (PIR) the machine does not have.
    ThreadNotPresent {
        /// PIR.
        pir: u32,
    },
    /// A core (or a thread of it) that is already given.
    CoreUsedTwice {
        /// Chip id.
        chip: u32,
        /// Core number in the chip.
        core: u32,
        /// Who has it.
        other: String,
        /// Where.
        other_line: usize,
    },
    /// A thread that is already given.
    ThreadUsedTwice {
        /// PIR.
        pir: u32,
        /// Who has it.
        other: String,
        /// Where.
        other_line: usize,
    },
    /// `cores = N` with fewer than N cores left.
    NotEnoughCores {
        /// Cores asked for.
        wanted: u32,
        /// Cores still free.
        free: u32,
    },
    /// No processors at all (`cores = 0`, `cores = []`, `threads = []`).
    NoCpus,
    /// A fixed memory range that is not RAM on the machine.
    MemoryNotInstalled {
        /// The range.
        region: Region,
    },
    /// A fixed memory range that overlaps someone else's.
    MemoryOverlap {
        /// This range.
        region: Region,
        /// Whose range it overlaps.
        other: String,
        /// Their range.
        other_region: Region,
        /// Where theirs is given (None for the firmware).
        other_line: Option<usize>,
    },
    /// More memory asked for than the machine has.
    OverCommitted {
        /// All LPARs' memory.
        lpars: u64,
        /// The hypervisor reservation.
        hypervisor: u64,
        /// The blocks the firmware occupies.
        firmware: u64,
        /// Whole blocks of RAM in the machine.
        installed: u64,
    },
    /// No free contiguous range is large enough (memory is fragmented by fixed bases).
    NoRoomForMemory {
        /// Size asked for.
        size: u64,
        /// The largest free range.
        largest_free: u64,
    },
    /// An image file that cannot be read.
    MissingImage {
        /// The path as resolved.
        path: String,
        /// Why.
        why: String,
    },
    /// A flash partition the PNOR layout does not have.
    UnknownPartition {
        /// The name.
        name: String,
        /// The layout's partitions.
        known: Vec<String>,
    },
    /// A flash partition name the FFS format cannot hold.
    BadPartitionName {
        /// Why.
        why: &'static str,
    },
    /// A UART the machine does not have.
    UartNotPresent {
        /// LPC I/O port.
        port: u32,
        /// The machine's UART ports.
        present: Vec<u32>,
    },
    /// A UART already used as a console.
    UartUsedTwice {
        /// LPC I/O port.
        port: u32,
        /// Who uses it.
        other: String,
    },
    /// A string longer than its field.
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A nested-virtualisation limit without `nested_virt = true`.
    RequiresNestedVirt,
    /// No `[[lpar]]` at all.
    NoLpars,
    /// More partitions than the blob holds.
    TooManyLpars {
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The compiled blob fails the firmware's own checks (a gap in this validator).
    FirmwareWouldRefuse(String),
}

impl ConfigErrorKind {
    /// A short stable name for the kind (`core-used-twice`), shown in messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Syntax(_) => "syntax",
            Self::UnknownField { .. } => "unknown-field",
            Self::WrongType { .. } => "wrong-type",
            Self::MissingField => "missing-field",
            Self::ConflictingFields { .. } => "conflicting-fields",
            Self::UnsupportedVersion { .. } => "unsupported-version",
            Self::UnknownChoice { .. } => "unknown-choice",
            Self::OutOfRange { .. } => "out-of-range",
            Self::BadName { .. } => "bad-name",
            Self::DuplicateName { .. } => "duplicate-name",
            Self::DuplicateId { .. } => "duplicate-id",
            Self::BadSize { .. } => "bad-size",
            Self::ZeroSize => "zero-size",
            Self::SizeNotBlockMultiple { .. } => "size-not-block-multiple",
            Self::BaseNotAligned { .. } => "base-not-aligned",
            Self::BadCoreSpec { .. } => "bad-core-spec",
            Self::CoreNotPresent { .. } => "core-not-present",
            Self::ThreadNotPresent { .. } => "thread-not-present",
            Self::CoreUsedTwice { .. } => "core-used-twice",
            Self::ThreadUsedTwice { .. } => "thread-used-twice",
            Self::NotEnoughCores { .. } => "not-enough-cores",
            Self::NoCpus => "no-cpus",
            Self::MemoryNotInstalled { .. } => "memory-not-installed",
            Self::MemoryOverlap { .. } => "memory-overlap",
            Self::OverCommitted { .. } => "over-committed",
            Self::NoRoomForMemory { .. } => "no-room-for-memory",
            Self::MissingImage { .. } => "missing-image",
            Self::UnknownPartition { .. } => "unknown-partition",
            Self::BadPartitionName { .. } => "bad-partition-name",
            Self::UartNotPresent { .. } => "uart-not-present",
            Self::UartUsedTwice { .. } => "uart-used-twice",
            Self::TooLong { .. } => "too-long",
            Self::RequiresNestedVirt => "requires-nested-virt",
            Self::NoLpars => "no-lpars",
            Self::TooManyLpars { .. } => "too-many-lpars",
            Self::FirmwareWouldRefuse(_) => "firmware-would-refuse",
        }
    }
}

impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(message) => write!(f, "not valid TOML: {message}"),
            Self::UnknownField { suggestion: Some(known) } => {
                write!(f, "unknown field (did you mean `{known}`?)")
            }
            Self::UnknownField { suggestion: None } => write!(f, "unknown field"),
            Self::WrongType { expected, found } => write!(f, "expected {expected}, found {found}"),
            Self::MissingField => write!(f, "required field missing"),
            Self::ConflictingFields { other } => write!(f, "cannot be given together with `{other}`"),
            Self::UnsupportedVersion { found } => {
                write!(f, "config version {found} is not supported (this tool reads version 1)")
            }
            Self::UnknownChoice { value, allowed } => {
                write!(f, "\"{value}\" is not one of: {}", allowed.join(", "))
            }
            Self::OutOfRange { value, min, max } => write!(f, "{value} is not between {min} and {max}"),
            Self::BadName { why } => write!(f, "the name {why}"),
            Self::DuplicateName { other_line } => write!(f, "another LPAR has this name (line {other_line})"),
            Self::DuplicateId { id, other, other_line } => {
                write!(f, "LPAR id {id} is already used by lpar \"{other}\" (line {other_line})")
            }
            Self::BadSize { text } => {
                write!(f, "cannot read size \"{text}\" (write bytes, or a number with K, M, G or T)")
            }
            Self::ZeroSize => write!(f, "size is zero"),
            Self::SizeNotBlockMultiple { size } => {
                write!(f, "{} is not a multiple of the 256 MiB memory block", ByteSize(*size))
            }
            Self::BaseNotAligned { base } => write!(f, "base {base:#x} is not on a 256 MiB boundary"),
            Self::BadCoreSpec { text } => {
                write!(f, "\"{text}\" is not a core (write \"chip:core\" or \"chip:first-last\")")
            }
            Self::CoreNotPresent { chip, core } => write!(f, "core {chip}:{core} is not in the machine"),
            Self::ThreadNotPresent { pir } => write!(f, "thread PIR {pir:#x} is not in the machine"),
            Self::CoreUsedTwice { chip, core, other, other_line } => {
                write!(f, "core {chip}:{core} is already given to lpar \"{other}\" (line {other_line})")
            }
            Self::ThreadUsedTwice { pir, other, other_line } => {
                write!(f, "thread PIR {pir:#x} is already given to lpar \"{other}\" (line {other_line})")
            }
            Self::NotEnoughCores { wanted, free } => {
                write!(f, "wants {wanted} whole core(s), only {free} left free")
            }
            Self::NoCpus => write!(f, "no cores or threads"),
            Self::MemoryNotInstalled { region } => write!(f, "memory {region} is not RAM in the machine"),
            Self::MemoryOverlap { region, other, other_region, other_line } => {
                write!(f, "memory {region} overlaps {other}'s {other_region}")?;
                match other_line {
                    Some(line) => write!(f, " (line {line})"),
                    None => Ok(()),
                }
            }
            Self::OverCommitted { lpars, hypervisor, firmware, installed } => write!(
                f,
                "memory over-committed: LPARs {} + hypervisor {} + firmware {} = {} > {} installed",
                ByteSize(*lpars),
                ByteSize(*hypervisor),
                ByteSize(*firmware),
                ByteSize(lpars.saturating_add(*hypervisor).saturating_add(*firmware)),
                ByteSize(*installed)
            ),
            Self::NoRoomForMemory { size, largest_free } => write!(
                f,
                "no free contiguous {} (largest free range: {}; fixed bases split the memory)",
                ByteSize(*size),
                ByteSize(*largest_free)
            ),
            Self::MissingImage { path, why } => write!(f, "cannot read image \"{path}\": {why}"),
            Self::UnknownPartition { name, known } => {
                write!(
                    f,
                    "flash partition \"{name}\" is not in the PNOR layout (it has: {})",
                    known.join(", ")
                )
            }
            Self::BadPartitionName { why } => write!(f, "flash partition name {why}"),
            Self::UartNotPresent { port, present } => {
                write!(f, "no UART at I/O port {port:#x} in the machine (it has:")?;
                for p in present {
                    write!(f, " {p:#x}")?;
                }
                write!(f, ")")
            }
            Self::UartUsedTwice { port, other } => write!(f, "UART {port:#x} is already {other}'s console"),
            Self::TooLong { len, max } => write!(f, "{len} bytes long, at most {max} allowed"),
            Self::RequiresNestedVirt => write!(f, "only meaningful with `nested_virt = true`"),
            Self::NoLpars => write!(f, "no [[lpar]] partitions"),
            Self::TooManyLpars { count, max } => write!(f, "{count} partitions, at most {max} allowed"),
            Self::FirmwareWouldRefuse(message) => {
                write!(f, "the firmware would refuse the compiled config: {message}")
            }
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: error[{}]: ", self.file, self.line, self.column, self.kind.code())?;
        match (&self.lpar, self.field.is_empty()) {
            (Some(lpar), false) => write!(f, "lpar \"{lpar}\", field `{}`: ", self.field)?,
            (Some(lpar), true) => write!(f, "lpar \"{lpar}\": ")?,
            (None, false) => write!(f, "field `{}`: ", self.field)?,
            (None, true) => {}
        }
        write!(f, "{}", self.kind)
    }
}

impl core::error::Error for ConfigError {}
