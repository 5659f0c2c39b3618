//! OpenPOWER PNOR flash images: the FFS (flash file system) partition table that libflash,
//! `ffspart` and `pflash` use, the ECC (error-correcting code) that protects some partitions,
//! oxiboot's BOOTKERNEL container, and image building from a layout. `no_std` + `alloc`,
//! shared by the firmware (reading the flash) and the host tool (`src/bin/pnor.rs`).
//!
//! Everything read from flash is untrusted: parsing returns an [`Error`] naming the field and
//! partition, never panics. The format is described in `docs/flash.md`.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod bootkernel;
pub mod ecc;
mod error;
pub mod ffs;
pub mod image;
pub mod layout;
pub mod table;
mod wire;

pub use bootkernel::{BootKernel, BootKernelHeader};
pub use error::{Error, Span};
pub use ffs::{Flag, PartitionName, PartitionType, UserFlags};
pub use image::{
    create_image, decode_partition, extract, raw_partition, replace, verify, Layout, PartitionSpec,
    WritePolicy,
};
pub use layout::{parse_layout, LayoutError};
pub use table::{Partition, Table, TableHeader};

/// The partition holding the host payload: a BOOTKERNEL container with kernel and initramfs.
pub const BOOTKERNEL: &str = "BOOTKERNEL";
/// The partition holding the OPAL NVRAM (skiboot's format), kept across reflashes.
pub const NVRAM: &str = "NVRAM";
/// The partition holding oxiboot's partitioned-mode configuration blob.
pub const OXICFG: &str = "OXICFG";
