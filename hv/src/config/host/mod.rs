//! The host front end (feature `host`): reads a TOML config, validates it against a target
//! machine as a whole, and compiles it into the blob. Used by the `lpar` command
//! (`src/bin/lpar.rs`) and whatever builds the flash image.
//!
//! ```text
//! source ──read_spec──▶ Spec ──resolve(target)──▶ MachineConfig ──encode_blob──▶ blob
//!          types, keywords,     names, LPIDs, threads,            then parse_blob and
//!          ranges, sizes        memory, UARTs, images             check_against, as at boot
//! ```
//!
//! Every error found is returned (sorted by position), not only the first.

extern crate std;

mod cpus;
mod error;
mod fields;
mod lpar_parts;
mod memory;
mod resolve;
mod spec;
mod summary;

pub use cpus::{machine_cores, MachineCore};
pub use error::{ConfigError, ConfigErrorKind};
pub use fields::parse_size;
pub use summary::summary;

use super::blob::encode_blob;
use super::model::MachineConfig;
use super::recheck::check_against;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use fields::Diagnostics;
use oxiboot_platform::model::Platform;
use std::path::Path;

/// The machine the `lpar` command checks against unless told otherwise: QEMU `powernv9`, one
/// chip, 2 cores x 4 threads, 2 GiB (recorded with QEMU 10.0.2, see `tests/data/README.md`).
pub const DEFAULT_MACHINE_DTB: &[u8] = include_bytes!("../../../tests/data/qemu-powernv9-1chip.dtb");

/// Name of [`DEFAULT_MACHINE_DTB`] in messages.
pub const DEFAULT_MACHINE_NAME: &str = "QEMU powernv9 (1 chip, 2 cores x 4 threads, 2 GiB)";

/// What a config is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The machine (from its device tree).
    pub platform: &'a Platform,
    /// The partitions of the PNOR layout, if one is given: flash images must be among them.
    pub pnor_partitions: Option<&'a [String]>,
    /// Where image file names are resolved from (the config file's directory).
    pub base_dir: &'a Path,
}

/// Checks the config `source` (named `file_name` in messages) against `target`.
pub fn check_config(
    source: &str,
    file_name: &str,
    target: &Target<'_>,
) -> Result<MachineConfig, Vec<ConfigError>> {
    compile_config(source, file_name, target).map(|(config, _)| config)
}

/// Checks the config and compiles it: the configuration and its blob, or every error. The blob
/// has been read back with [`parse_blob`](super::parse_blob) and re-checked against the target
/// with [`check_against`], exactly as the firmware will.
pub fn compile_config(
    source: &str,
    file_name: &str,
    target: &Target<'_>,
) -> Result<(MachineConfig, Vec<u8>), Vec<ConfigError>> {
    let mut diag = Diagnostics::new(file_name, source);
    let config =
        spec::read_spec(source, &mut diag).and_then(|spec| resolve::resolve(&spec, target, &mut diag));
    let mut errors = diag.errors;
    let Some(config) = config.filter(|_| errors.is_empty()) else {
        errors.sort_by_key(|e| (e.line, e.column));
        if errors.is_empty() {
            // Defensive: every path that gives up reports why; never return an empty list.
            errors.push(firmware_would_refuse(file_name, "the config could not be resolved".into()));
        }
        return Err(errors);
    };
    let blob = encode_blob(&config).map_err(|e| vec![firmware_would_refuse(file_name, e.to_string())])?;
    check_against(&config, target.platform)
        .map_err(|e| vec![firmware_would_refuse(file_name, e.to_string())])?;
    Ok((config, blob))
}

fn firmware_would_refuse(file_name: &str, message: String) -> ConfigError {
    ConfigError {
        file: file_name.to_string(),
        line: 1,
        column: 1,
        field: String::new(),
        lpar: None,
        kind: ConfigErrorKind::FirmwareWouldRefuse(message),
    }
}

/// The partition names of a PNOR layout file (`docs/flash.md`). Content files the layout names
/// are not read: only the names matter here.
pub fn pnor_partition_names(layout_text: &str) -> Result<Vec<String>, oxiboot_pnor::LayoutError> {
    let mut placeholder = |_: &str| Ok(vec![0u8]);
    let layout = oxiboot_pnor::parse_layout(layout_text, &mut placeholder)?;
    Ok(layout.partitions.into_iter().map(|p| p.name).collect())
}
