//! The compiled configuration blob: a big-endian, versioned, CRC-32-checked image of a
//! [`MachineConfig`](super::MachineConfig), written by the host tool and read by the firmware.
//!
//! Layout (version 2; every number big-endian; offsets from the start of the blob):
//!
//! ```text
//! header      64 bytes  (fields below)
//! records     lpar_count x 160 bytes, one per LPAR, in config-file order
//! PIR table   pir_count x u32, each record's threads as a contiguous, ascending run
//! strings     strings_len bytes of UTF-8 (names of images, console prefixes, command lines)
//! ```
//!
//! The CRC covers everything after the CRC field (`0x10..total_len`). Bytes after `total_len`
//! (flash padding) are ignored. The field-by-field tables are in `docs/lpar-config.md`.

mod decode;
mod encode;
mod error;

pub use decode::parse_blob;
pub use encode::encode_blob;
pub use error::{BlobError, MemoryOwner, RecordProblem};

/// `OXLP` in ASCII.
pub const MAGIC: u32 = 0x4f58_4c50;
/// The layout version this code writes and reads.
pub const VERSION: u16 = 2;
/// Size of the header.
pub const HEADER_LEN: usize = 64;
/// Size of one LPAR record.
pub const RECORD_LEN: usize = 160;

/// The CRC: CRC-32/ISO-HDLC (zlib, PNG, Ethernet), as the BOOTKERNEL container uses.
pub(crate) const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Header field offsets.
pub(crate) mod header {
    pub const MAGIC: usize = 0x00;
    pub const VERSION: usize = 0x04;
    pub const HEADER_LEN: usize = 0x06;
    pub const TOTAL_LEN: usize = 0x08;
    pub const CRC: usize = 0x0c;
    /// First byte the CRC covers.
    pub const CRC_START: usize = 0x10;
    pub const LPAR_COUNT: usize = 0x10;
    pub const RECORD_LEN: usize = 0x12;
    pub const PIR_TABLE_OFFSET: usize = 0x14;
    pub const PIR_COUNT: usize = 0x18;
    pub const STRINGS_OFFSET: usize = 0x1c;
    pub const STRINGS_LEN: usize = 0x20;
    pub const FIRMWARE_CONSOLE: usize = 0x24;
    pub const BLOCK_SIZE: usize = 0x28;
    pub const HYPERVISOR_BASE: usize = 0x30;
    pub const HYPERVISOR_SIZE: usize = 0x38;
}

/// Record field offsets.
pub(crate) mod record {
    pub const LPID: usize = 0x00;
    pub const FLAGS: usize = 0x04;
    pub const NAME: usize = 0x08;
    pub const NAME_LEN: usize = 32;
    pub const MEMORY_BASE: usize = 0x28;
    pub const MEMORY_SIZE: usize = 0x30;
    pub const PIR_INDEX: usize = 0x38;
    pub const PIR_COUNT: usize = 0x3c;
    pub const CPU_COMPAT_PVR: usize = 0x40;
    pub const RESTART: usize = 0x44;
    pub const CONSOLE_KIND: usize = 0x45;
    pub const RESERVED_46: usize = 0x46;
    pub const CONSOLE_PORT: usize = 0x48;
    pub const RESERVED_4C: usize = 0x4c;
    pub const CONSOLE_PREFIX: usize = 0x50;
    pub const CMDLINE: usize = 0x58;
    pub const MAX_L2_GUESTS: usize = 0x60;
    pub const MAX_L2_VCPUS: usize = 0x64;
    pub const KERNEL: usize = 0x68;
    pub const INITRAMFS: usize = 0x80;
    pub const RESERVED_98: usize = 0x98;

    /// Image reference fields, from the reference's start (24 bytes).
    pub const IMAGE_KIND: usize = 0x00;
    pub const IMAGE_DIGEST: usize = 0x04;
    pub const IMAGE_SIZE: usize = 0x08;
    pub const IMAGE_NAME: usize = 0x10;
}

/// Firmware console value meaning "auto".
pub(crate) const CONSOLE_AUTO: u32 = 0xffff_ffff;

/// Record flag bits.
pub(crate) mod flags {
    pub const AUTOSTART: u32 = 1 << 0;
    pub const NESTED_VIRT: u32 = 1 << 1;
    pub const WHOLE_CORES: u32 = 1 << 2;
    pub const KNOWN: u32 = AUTOSTART | NESTED_VIRT | WHOLE_CORES;
}

/// Codes of the one-byte enumerations.
pub(crate) mod code {
    pub const RESTART_NEVER: u8 = 0;
    pub const RESTART_ON_CRASH: u8 = 1;
    pub const RESTART_ALWAYS: u8 = 2;
    pub const CONSOLE_VTY: u8 = 0;
    pub const CONSOLE_UART: u8 = 1;
    pub const IMAGE_NONE: u8 = 0;
    pub const IMAGE_PARTITION: u8 = 1;
    pub const IMAGE_FILE: u8 = 2;
}

#[cfg(test)]
mod tests;
