//! Payloads: what oxiboot boots and is tested with.
//!
//! Host-side (std) tooling used by `cargo xtask`: fetching the unmodified Debian ppc64el
//! kernel package from Debian's archive, building small test initramfs images from Debian's
//! `busybox-static`, and (later) the in-LPAR test programs and L2 test guests for the
//! hypervisor. Nothing here runs in the firmware. See `docs/payloads.md`.

pub mod apt;
pub mod command;
pub mod cpio;
pub mod error;
pub mod fetch;
pub mod init_script;
pub mod initramfs;
pub mod manifest;
pub mod report;

pub use error::Error;
pub use fetch::{
    ensure_busybox, ensure_busybox_with, ensure_kernel, ensure_kernel_with, read_manifest, BusyboxPayload,
    FetchOptions, KernelPayload,
};
pub use init_script::{Finish, InitScript};
pub use initramfs::{build_test_initramfs, TestInitramfs};
