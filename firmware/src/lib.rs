//! oxiboot firmware: boot flow, OPAL, payload handoff and the image.
//!
//! The library part is the logic of the firmware, `no_std` and tested on the build host:
//! the memory map, the heap allocator, the log ring and logger, per-CPU data and the work
//! mailbox, exception reports, firmware options. The image itself (entry assembly, exception
//! vectors, the boot flow that drives the hardware through `oxiboot-platform`) is the binary
//! in `main.rs`/`image/`, built only for the bare-metal POWER9 target.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod exception;
pub mod flash;
pub mod heap;
pub mod linux_tree;
pub mod log_ring;
pub mod logger;
pub mod memcons;
pub mod memmap;
pub mod nvram;
pub mod opal;
pub mod options;
pub mod payload;
pub mod percpu;
pub mod reset_scratch;

/// Version string shown in the banner: package version and the git commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "-", env!("OXIBOOT_GIT_COMMIT"));
