//! LPAR configuration: the TOML a user writes, its checks against the machine, and the compiled
//! blob the firmware reads.
//!
//! * [`model`]: the resolved configuration ([`MachineConfig`]): every LPAR's threads, memory,
//!   console and boot images decided.
//! * [`blob`]: its binary form, written by the host tool ([`encode_blob`]) and read by the
//!   firmware ([`parse_blob`]), versioned and CRC-32-checked.
//! * [`recheck`]: what the firmware checks at boot against the real machine ([`check_against`]).
//! * `host` (feature `host`, needs `std`): the TOML front end and whole-machine validator behind
//!   the `lpar` command.
//!
//! The format and the firmware's behaviour on a bad blob are described in `docs/lpar-config.md`.

pub mod blob;
pub mod digest;
pub mod model;
pub mod ram;
pub mod recheck;

#[cfg(feature = "host")]
pub mod host;

pub use blob::{encode_blob, parse_blob, BlobError};
pub use model::{
    BootConfig, Console, CpuCompat, FirmwareConsole, ImageSource, LparConfig, MachineConfig, NestedLimits,
    Region, RestartPolicy, BLOCK_SIZE,
};
pub use recheck::{check_against, Mismatch, MismatchKind, RecheckFailure};
