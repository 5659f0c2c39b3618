//! Everything that can be wrong with a PNOR image, a layout or a BOOTKERNEL container. Each
//! corrupt or impossible field has its own variant; messages name the partition (or the entry
//! index when the name itself cannot be trusted) and the offending values.

use crate::ffs::{NameProblem, PartitionName, RawName, ENTRY_LEN, NAME_MAX_LEN};
use alloc::string::String;
use core::fmt;

/// A partition and the flash range it covers, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The partition.
    pub name: PartitionName,
    /// First byte on flash.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self.base.saturating_add(self.size);
        write!(f, "\"{}\" (0x{:08x}..0x{:08x})", self.name, self.base, end)
    }
}

/// An error reading, building or changing a PNOR image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    // --- the partition table header ---
    /// Fewer bytes than the structure needs.
    Truncated { what: &'static str, needed: u64, available: u64 },
    /// The header does not start with "PART".
    BadMagic { found: u32 },
    /// A header version other than 1.
    UnsupportedVersion { found: u32 },
    /// The header's words do not XOR to zero.
    HeaderChecksum { residue: u32 },
    /// The header's entry size is not 128.
    EntrySizeMismatch { found: u32 },
    /// A block size of zero (or, when building, not a power of two).
    BadBlockSize { block_size: u32 },
    /// A partition table of zero blocks.
    EmptyTableSize,
    /// A table with no entries.
    NoEntries,
    /// The header and entries do not fit in the table's blocks.
    TooManyEntries { count: u32, table_len: u64 },
    /// The header describes more flash than there is.
    FlashTooSmall { described: u64, available: u64 },
    /// The table's blocks run past the end of the flash the header describes.
    TableBeyondFlash { table_len: u64, flash_len: u64 },

    // --- partition entries ---
    /// An entry's words do not XOR to zero.
    EntryChecksum { index: u32, name: RawName, residue: u32 },
    /// An entry's 16-byte name field has no NUL.
    NameNotTerminated { index: u32, name: RawName },
    /// An entry's name is empty or has bytes that are not printable ASCII.
    InvalidEntryName { index: u32, name: RawName, problem: NameProblem },
    /// An entry type other than data, logical or partition table.
    UnknownPartitionType { partition: PartitionName, found: u32 },
    /// An entry whose parent is not the top level.
    NotTopLevel { partition: PartitionName, parent: u32 },
    /// An entry whose `actual` size exceeds its size.
    ActualSizeTooLarge { partition: PartitionName, actual: u32, size: u64 },
    /// A partition running past the end of the flash.
    PartitionOutOfRange { partition: Span, flash_len: u64 },
    /// Two partitions sharing flash.
    PartitionsOverlap { first: Span, second: Span },
    /// A data partition inside the partition table's blocks.
    PartitionOverlapsTable { partition: Span, table_len: u64 },
    /// Two partitions whose names differ at most in case.
    DuplicateName { first: PartitionName, second: PartitionName },

    // --- building from a layout ---
    /// A layout name that cannot be a partition name.
    InvalidName { name: String, problem: NameProblem },
    /// `part` is the table's own entry.
    ReservedName { name: String },
    /// A flash size of zero, not a multiple of the block size, or 4 GiB or more.
    BadFlashSize { flash_len: u64, block_size: u32 },
    /// A partition size of zero or not a multiple of the block size.
    BadPartitionSize { partition: PartitionName, size: u64, block_size: u32 },
    /// A partition base not on a block boundary.
    MisalignedBase { partition: PartitionName, base: u64, block_size: u32 },
    /// Content larger than the partition holds (after ECC, if it has ECC).
    ContentTooLarge { partition: PartitionName, len: u64, capacity: u64 },

    // --- using partitions ---
    /// No partition of that name.
    PartitionNotFound { name: String },
    /// The partition is flagged read-only.
    ReadOnly { partition: PartitionName },
    /// The partition is the partition table itself.
    TableNotWritable { partition: PartitionName },
    /// A double-bit (or worse) error in an ECC word.
    UncorrectableEcc { partition: PartitionName, flash_offset: u64, partition_offset: u64 },

    // --- the BOOTKERNEL container ---
    /// The container does not start with "OXBK".
    BootKernelBadMagic { found: u32 },
    /// A container version other than 1.
    BootKernelUnsupportedVersion { found: u32 },
    /// A header length other than the version's.
    BootKernelBadHeaderLength { found: u32 },
    /// The header CRC does not match.
    BootKernelHeaderCrc { stored: u32, computed: u32 },
    /// The container has no kernel.
    BootKernelNoKernel,
    /// A blob outside the container or overlapping the header or the other blob.
    BootKernelBlobOutOfRange { blob: &'static str, offset: u32, len: u32, container_len: u64 },
    /// A blob's CRC does not match.
    BootKernelBlobCrc { blob: &'static str, stored: u32, computed: u32 },
    /// A blob of 4 GiB or more.
    BootKernelBlobTooLarge { blob: &'static str, len: u64 },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated { what, needed, available } => {
                write!(f, "truncated image: the {what} needs {needed} bytes, only {available} are there")
            }
            Error::BadMagic { found } => {
                write!(f, "no partition table: magic is 0x{found:08x}, not 0x50415254 (\"PART\")")?;
                if *found == 0xFFFF_FFFF {
                    write!(f, "; the flash looks erased")?;
                }
                Ok(())
            }
            Error::UnsupportedVersion { found } => {
                write!(f, "partition table version {found} is not supported (only version 1)")
            }
            Error::HeaderChecksum { residue } => {
                write!(f, "partition table header checksum mismatch (words XOR to 0x{residue:08x}, not 0)")
            }
            Error::EntrySizeMismatch { found } => {
                write!(f, "partition table header gives entries of {found} bytes, not {ENTRY_LEN}")
            }
            Error::BadBlockSize { block_size } => {
                write!(f, "block size 0x{block_size:x} is not usable (must be a non-zero power of two)")
            }
            Error::EmptyTableSize => write!(f, "partition table header gives a table of 0 blocks"),
            Error::NoEntries => write!(f, "partition table has no entries"),
            Error::TooManyEntries { count, table_len } => write!(
                f,
                "partition table header gives {count} entries, more than its {table_len} bytes hold"
            ),
            Error::FlashTooSmall { described, available } => write!(
                f,
                "partition table describes {described} bytes of flash but only {available} are there \
                 (truncated image?)"
            ),
            Error::TableBeyondFlash { table_len, flash_len } => write!(
                f,
                "partition table of {table_len} bytes is larger than the {flash_len}-byte flash it describes"
            ),
            Error::EntryChecksum { index, name, residue } => write!(
                f,
                "partition entry {index} (\"{name}\"): checksum mismatch (words XOR to 0x{residue:08x}, not 0)"
            ),
            Error::NameNotTerminated { index, name } => {
                write!(f, "partition entry {index}: name \"{name}\" is not NUL-terminated")
            }
            Error::InvalidEntryName { index, name, problem } => {
                write!(f, "partition entry {index}: name \"{name}\" is not valid: {problem}")
            }
            Error::UnknownPartitionType { partition, found } => {
                write!(f, "partition \"{partition}\": unknown partition type {found}")
            }
            Error::NotTopLevel { partition, parent } => write!(
                f,
                "partition \"{partition}\": parent id 0x{parent:08x} is not top-level (0xffffffff)"
            ),
            Error::ActualSizeTooLarge { partition, actual, size } => write!(
                f,
                "partition \"{partition}\": actual size 0x{actual:x} is larger than the partition (0x{size:x})"
            ),
            Error::PartitionOutOfRange { partition, flash_len } => {
                write!(f, "partition {partition} runs past the end of the 0x{flash_len:x}-byte flash")
            }
            Error::PartitionsOverlap { first, second } => {
                write!(f, "partition {first} overlaps partition {second}")
            }
            Error::PartitionOverlapsTable { partition, table_len } => write!(
                f,
                "partition {partition} overlaps the partition table (0x00000000..0x{table_len:08x})"
            ),
            Error::DuplicateName { first, second } => {
                write!(f, "partition names \"{first}\" and \"{second}\" are the same (ignoring case)")
            }
            Error::InvalidName { name, problem } => {
                write!(f, "\"{name}\" is not a valid partition name: {problem}")
            }
            Error::ReservedName { name } => write!(
                f,
                "\"{name}\" is reserved for the partition table's own entry (names are at most \
                 {NAME_MAX_LEN} characters, compared ignoring case)"
            ),
            Error::BadFlashSize { flash_len, block_size } => write!(
                f,
                "flash size 0x{flash_len:x} must be a non-zero multiple of the block size (0x{block_size:x}) \
                 below 4 GiB"
            ),
            Error::BadPartitionSize { partition, size, block_size } => write!(
                f,
                "partition \"{partition}\": size 0x{size:x} must be a non-zero multiple of the block size \
                 (0x{block_size:x})"
            ),
            Error::MisalignedBase { partition, base, block_size } => write!(
                f,
                "partition \"{partition}\": base 0x{base:x} is not on a block boundary (0x{block_size:x})"
            ),
            Error::ContentTooLarge { partition, len, capacity } => write!(
                f,
                "partition \"{partition}\": content of {len} bytes does not fit (it holds {capacity} bytes)"
            ),
            Error::PartitionNotFound { name } => write!(f, "no partition named \"{name}\""),
            Error::ReadOnly { partition } => write!(f, "partition \"{partition}\" is read-only"),
            Error::TableNotWritable { partition } => {
                write!(f, "partition \"{partition}\" is the partition table; it is rewritten, not replaced")
            }
            Error::UncorrectableEcc { partition, flash_offset, partition_offset } => write!(
                f,
                "partition \"{partition}\": uncorrectable ECC error in the 9-byte word at flash offset \
                 0x{flash_offset:08x} (partition offset 0x{partition_offset:x})"
            ),
            Error::BootKernelBadMagic { found } => {
                write!(f, "BOOTKERNEL: magic is 0x{found:08x}, not 0x4f58424b (\"OXBK\")")
            }
            Error::BootKernelUnsupportedVersion { found } => {
                write!(f, "BOOTKERNEL: container version {found} is not supported (only version 1)")
            }
            Error::BootKernelBadHeaderLength { found } => {
                write!(f, "BOOTKERNEL: header length {found} is wrong for version 1 (64)")
            }
            Error::BootKernelHeaderCrc { stored, computed } => write!(
                f,
                "BOOTKERNEL: header CRC mismatch (stored 0x{stored:08x}, computed 0x{computed:08x})"
            ),
            Error::BootKernelNoKernel => write!(f, "BOOTKERNEL: the container holds no kernel"),
            Error::BootKernelBlobOutOfRange { blob, offset, len, container_len } => write!(
                f,
                "BOOTKERNEL: {blob} at offset 0x{offset:x} length 0x{len:x} is outside the \
                 {container_len}-byte container or overlaps the header or the other blob"
            ),
            Error::BootKernelBlobCrc { blob, stored, computed } => write!(
                f,
                "BOOTKERNEL: {blob} CRC mismatch (stored 0x{stored:08x}, computed 0x{computed:08x})"
            ),
            Error::BootKernelBlobTooLarge { blob, len } => {
                write!(f, "BOOTKERNEL: {blob} of {len} bytes is too large (limit 4 GiB)")
            }
        }
    }
}
