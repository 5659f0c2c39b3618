//! The firmware's boot-time re-check against the recorded QEMU machines: configs checked for
//! one machine pass on it and on bigger ones, and on a machine that lacks what they use the
//! refusal names the LPAR and what is missing (system problems refuse every LPAR).

mod common;

use common::{check_with, data, machine, toml};
use oxiboot_hv::config::{
    check_against, encode_blob, parse_blob, Console, FirmwareConsole, MachineConfig, MismatchKind, Region,
};

const GIB: u64 = 1 << 30;

/// The shipped small example: "alpha" on core 0:0, "beta" on threads 4 and 5, 512 MiB each.
fn small_example() -> MachineConfig {
    let source = String::from_utf8(data("qemu-two-lpars-small.toml")).expect("text");
    check_with(&source, &machine("1chip"), false).unwrap_or_else(|e| panic!("{}", common::render(&e)))
}

/// The shipped example for the 4-core, 4 GiB machine.
fn four_core_example() -> MachineConfig {
    let source = String::from_utf8(data("qemu-two-lpars.toml")).expect("text");
    check_with(&source, &machine("4core"), true).unwrap_or_else(|e| panic!("{}", common::render(&e)))
}

/// As the firmware sees it: through the blob.
fn through_blob(config: &MachineConfig) -> MachineConfig {
    parse_blob(&encode_blob(config).expect("encodes")).expect("parses")
}

#[test]
fn the_small_example_passes_on_both_recorded_trees() {
    let config = through_blob(&small_example());
    assert_eq!(check_against(&config, &machine("1chip")), Ok(()));
    // Two chips, 2 GiB in two ranges (0-1 GiB on chip 0, 1-2 GiB on chip 1): same PIRs on chip 0.
    assert_eq!(check_against(&config, &machine("2chip")), Ok(()));
    assert_eq!(check_against(&config, &machine("4core")), Ok(()));
}

#[test]
fn cores_from_both_chips() {
    let source = toml(&[
        "[system]",
        "version = 1",
        "[[lpar]]",
        "name = \"wide\"",
        "id = 1",
        "cores = [\"0:0\", \"1:1\"]",
        "memory = \"512M\"",
        "memory_base = 0x3000_0000",
        "boot.kernel = { partition = \"BOOTKERNEL\" }",
    ]);
    // 0x3000_0000 is the firmware's block (and the block below the chip boundary at 1 GiB):
    // refused on the host already.
    assert!(check_with(&source, &machine("2chip"), false).is_err());
    let source = source.replace("memory_base = 0x3000_0000", "memory_base = 0x6000_0000");
    let config = through_blob(&check_with(&source, &machine("2chip"), false).expect("valid on 2 chips"));
    assert_eq!(config.lpars[0].memory, Region { base: 0x6000_0000, size: 512 << 20 });
    assert_eq!(config.lpars[0].threads, [0, 1, 2, 3, 0x104, 0x105, 0x106, 0x107]);
    assert_eq!(check_against(&config, &machine("2chip")), Ok(()));
    // On one chip, core 1:1 is not there.
    let failure = check_against(&config, &machine("1chip")).expect_err("mismatch");
    assert_eq!(failure.mismatches.len(), 1);
    assert_eq!(failure.mismatches[0].lpar, Some((1, "wide".into())));
    assert_eq!(
        failure.mismatches[0].kind,
        MismatchKind::ThreadsMissing { pirs: vec![0x104, 0x105, 0x106, 0x107] }
    );
    assert!(!failure.refuses_everything());
    assert!(!failure.may_start(1));
}

#[test]
fn a_config_for_a_bigger_machine_starts_only_what_fits() {
    let config = through_blob(&four_core_example());
    assert_eq!(check_against(&config, &machine("4core")), Ok(()));
    // host1: cores 0:0-0:1 at 1-3 GiB; svc: core 0:2 at 3-4 GiB. The 1-chip tree has 2 cores
    // and 2 GiB: host1's memory is missing, svc's memory and core are missing.
    let failure = check_against(&config, &machine("1chip")).expect_err("mismatch");
    let text = failure.to_string();
    assert!(text.contains("LPAR 1 \"host1\": memory 0x040000000..=0x0bfffffff (2 GiB) is not RAM"), "{text}");
    assert!(
        text.contains(
            "LPAR 2 \"svc\": threads: no hardware thread with PIR 0x8 0x9 0xa 0xb (LPAR not started)"
        ),
        "{text}"
    );
    assert!(!failure.refuses_everything());
    assert!(!failure.may_start(1) && !failure.may_start(2));
}

#[test]
fn a_missing_hypervisor_reservation_refuses_everything() {
    let mut config = small_example();
    config.hypervisor = Region { base: 4 * GIB, size: 256 << 20 };
    let config = through_blob(&config);
    let failure = check_against(&config, &machine("1chip")).expect_err("mismatch");
    assert!(failure.refuses_everything());
    assert!(!failure.may_start(1) && !failure.may_start(2));
    assert_eq!(failure.mismatches.len(), 1);
    assert!(failure.to_string().starts_with("system: hypervisor memory"), "{failure}");
    assert!(failure.to_string().ends_with("(no LPAR started)"), "{failure}");
}

#[test]
fn a_missing_firmware_console_refuses_everything() {
    let mut config = small_example();
    config.firmware_console = FirmwareConsole::Uart { port: 0x2e8 };
    let failure = check_against(&through_blob(&config), &machine("1chip")).expect_err("mismatch");
    assert_eq!(failure.mismatches[0].kind, MismatchKind::FirmwareConsoleMissing { port: 0x2e8 });
    assert!(failure.refuses_everything());
}

#[test]
fn whole_cores_must_still_be_whole() {
    // As if the config was compiled for SMT2 and the machine runs 4 threads per core.
    let mut config = small_example();
    config.lpars[0].threads = vec![0, 1];
    let failure = check_against(&through_blob(&config), &machine("1chip")).expect_err("mismatch");
    assert_eq!(failure.mismatches.len(), 1);
    assert_eq!(failure.mismatches[0].kind, MismatchKind::CoreNotWhole { core_pir: 0, missing_pir: 2 });
    assert!(failure.may_start(2) && !failure.may_start(1));
}

#[test]
fn lpar_uarts_must_exist_and_not_be_the_firmware_console() {
    let mut config = small_example();
    config.lpars[1].console = Console::Uart { port: 0x2f8 };
    let config = through_blob(&config);
    let failure = check_against(&config, &machine("1chip")).expect_err("mismatch");
    assert_eq!(failure.mismatches[0].kind, MismatchKind::UartMissing { port: 0x2f8 });
    // On the 4-core tree 0x2f8 exists and is free ("auto" is COM1, 0x3f8, for the firmware);
    // 0x3f8 would be the firmware's.
    assert!(check_against(&config, &machine("4core")).is_ok());
    let mut config = small_example();
    config.lpars[1].console = Console::Uart { port: 0x3f8 };
    let config = through_blob(&config);
    let failure = check_against(&config, &machine("4core")).expect_err("mismatch");
    assert_eq!(failure.mismatches[0].kind, MismatchKind::UartIsFirmwareConsole { port: 0x3f8 });
    assert!(failure.may_start(1) && !failure.may_start(2));
}
