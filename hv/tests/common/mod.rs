//! Shared helpers for the LPAR configuration tests: the recorded machines, configs written
//! line by line (so expected line numbers are the index + 1), and checking them.
#![allow(dead_code)]

use oxiboot_hv::config::host::{check_config, pnor_partition_names, ConfigError, Target};
use oxiboot_hv::config::MachineConfig;
use oxiboot_platform::model::{parse_fdt, Platform};
use std::path::PathBuf;

/// The file name errors are reported under.
pub const FILE: &str = "lpars.toml";

/// `hv/tests/data`.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Bytes of a file in `hv/tests/data`.
pub fn data(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A recorded machine: `1chip` (2 cores x 4 threads, 2 GiB, one UART), `2chip` (2 x 2 cores,
/// 2 GiB in two ranges), `4core` (4 cores x 4 threads, 4 GiB, UARTs 0x3f8 and 0x2f8).
pub fn machine(which: &str) -> Platform {
    let file = match which {
        "1chip" => "qemu-powernv9-1chip.dtb",
        "2chip" => "qemu-powernv9-2chip.dtb",
        "4core" => "qemu-powernv9-4core-4g.dtb",
        other => panic!("no machine {other}"),
    };
    parse_fdt(&data(file)).expect("recorded tree parses")
}

/// The partition names of `tests/data/qemu.layout`.
pub fn layout_partitions() -> Vec<String> {
    let text = String::from_utf8(data("qemu.layout")).expect("layout is text");
    pnor_partition_names(&text).expect("layout parses")
}

/// A config from its lines.
pub fn toml(lines: &[&str]) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// Checks `source` on `machine`, with the test layout when `with_layout`.
pub fn check_with(
    source: &str,
    machine: &Platform,
    with_layout: bool,
) -> Result<MachineConfig, Vec<ConfigError>> {
    let partitions = layout_partitions();
    let data_dir = data_dir();
    let target = Target {
        platform: machine,
        pnor_partitions: with_layout.then_some(partitions.as_slice()),
        base_dir: &data_dir,
    };
    check_config(source, FILE, &target)
}

/// Checks `source` on the 1-chip machine, no layout.
pub fn check(source: &str) -> Result<MachineConfig, Vec<ConfigError>> {
    check_with(source, &machine("1chip"), false)
}

/// The one error `result` must hold.
pub fn only_error(result: Result<MachineConfig, Vec<ConfigError>>) -> ConfigError {
    match result {
        Ok(config) => panic!("config accepted: {config:#?}"),
        Err(mut errors) => {
            assert_eq!(errors.len(), 1, "expected one error, got:\n{}", render(&errors));
            errors.remove(0)
        }
    }
}

/// Asserts the error's kind code, line, field and LPAR, and returns it for more checks.
pub fn expect(error: ConfigError, code: &str, line: usize, field: &str, lpar: Option<&str>) -> ConfigError {
    let place = (error.kind.code(), error.line, error.field.as_str(), error.lpar.as_deref());
    assert_eq!(place, (code, line, field, lpar), "{error}");
    assert!(error.to_string().starts_with(&format!("{FILE}:{line}:")), "{error}");
    error
}

/// Errors one per line.
pub fn render(errors: &[ConfigError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}
