//! Integration tests: boot the real firmware image (`target/oxiboot.lid`, or the file named by
//! `OXIBOOT_IMAGE`) on QEMU `powernv9` and check what it prints and how QEMU ends.
//!
//! `cargo xtask test` builds the image first. Every run has a time limit; on failure the
//! whole console log is printed.

use std::path::PathBuf;
use std::time::Duration;
use xtask::qemu::{run_bounded, Machine, Run};

/// Generous bound for one boot (a boot takes well under a second of TCG time).
const LIMIT: Duration = Duration::from_secs(90);

fn image() -> PathBuf {
    let path = std::env::var_os("OXIBOOT_IMAGE").map(PathBuf::from).unwrap_or_else(xtask::image_path);
    assert!(path.exists(), "{} is missing: run `cargo xtask build` (or `cargo xtask test`)", path.display());
    path
}

fn boot(machine: Machine) -> Run {
    let run = run_bounded(machine.command(&image()), LIMIT).expect("qemu-system-ppc64 starts");
    eprintln!("--- QEMU ({:.2} s, status {:?}) ---\n{}", run.elapsed.as_secs_f64(), run.status, run.output);
    run
}

fn test_tree(name: &str) -> String {
    format!("{}/platform/tests/data/qemu-powernv9-{name}.dtb", env!("CARGO_MANIFEST_DIR"))
}

#[track_caller]
fn expect(run: &Run, needle: &str) {
    assert!(run.output.contains(needle), "console lacks {needle:?}\n{}", run.output);
}

#[track_caller]
fn expect_clean_power_off(run: &Run) {
    assert!(run.status.is_some(), "QEMU did not stop within {LIMIT:?}\n{}", run.output);
    expect(run, "Powering off through the BMC");
    assert!(run.exited_cleanly(), "QEMU exited with {:?}\n{}", run.status, run.output);
}

#[track_caller]
fn expect_machine_stopped(run: &Run) {
    assert!(run.status.is_some(), "QEMU did not stop within {LIMIT:?}\n{}", run.output);
    assert_eq!(run.status.and_then(|s| s.code()), Some(1), "expected the checkstop exit\n{}", run.output);
    expect(run, "!!! oxiboot stopped the machine");
}

#[test]
fn one_chip_boots_all_threads_and_powers_off() {
    let run = boot(Machine::default());
    expect(&run, &format!("oxiboot {}-", env!("CARGO_PKG_VERSION")));
    expect(&run, "starting, POWER9 firmware");
    expect(&run, "chip 0: 2 cores, 8 threads, XSCOM at 0x603fc00000000");
    expect(&run, "CPU: 8 threads online");
    expect(&run, "CPU: all 8 threads ran a job");
    expect(&run, "XSCOM: chip 0 ID register 0xf000f = 0x220d104900008000");
    expect(&run, "BMC: IPMI 2.0 device 0x20");
    expect_clean_power_off(&run);
    assert!(!run.output.contains("ERROR"), "errors on a clean boot\n{}", run.output);
}

#[test]
fn two_chips_boot_sixteen_threads() {
    let run = boot(Machine { sockets: 2, ..Machine::default() });
    expect(&run, "CPU: 16 threads online");
    expect(&run, "CPU: all 16 threads ran a job");
    expect(&run, "XSCOM: chip 0 ID register 0xf000f = 0x220d104900008000");
    expect(&run, "XSCOM: chip 1 ID register 0xf000f = 0x220d104900008000");
    expect(&run, "chip 1: 2 cores, 8 threads, XSCOM at 0x607fc00000000");
    expect_clean_power_off(&run);
}

#[test]
fn reboot_boots_twice_then_powers_off() {
    let run = boot(Machine { append: Some("oxiboot.selftest=reboot".into()), ..Machine::default() });
    assert_eq!(run.count("starting, POWER9 firmware"), 2, "banner count\n{}", run.output);
    expect(&run, "boot #1 since power-on");
    expect(&run, "Rebooting through the BMC");
    expect(&run, "boot #2 since power-on");
    assert_eq!(run.count("CPU: 8 threads online"), 2);
    expect_clean_power_off(&run);
}

#[test]
fn unexpected_exception_is_reported_and_stops_only_that_thread() {
    let run = boot(Machine { append: Some("oxiboot.selftest=trap".into()), ..Machine::default() });
    expect(&run, "!!! Unexpected exception 0xe40 (Hypervisor Emulation Assistance) on thread PIR 0x");
    expect(&run, "(from HSRR0)");
    for reg in ["SRR0", "SRR1", "HSRR0", "HSRR1", "DAR", "DSISR", "r31"] {
        expect(&run, reg);
    }
    expect(&run, "stopped, the others go on");
    expect_clean_power_off(&run);
}

#[test]
fn panic_stops_the_machine_with_a_message() {
    let run = boot(Machine { append: Some("oxiboot.selftest=panic".into()), ..Machine::default() });
    expect(&run, "!!! PANIC on thread PIR 0x");
    expect(&run, "selftest: panic requested");
    expect_machine_stopped(&run);
}

#[test]
fn tree_without_memory_is_refused_on_the_console() {
    let run = boot(Machine { dtb: Some(test_tree("nomemory")), ..Machine::default() });
    expect(&run, "starting, POWER9 firmware");
    expect(&run, "ERROR cannot use the device tree: device tree has no memory node");
    expect_machine_stopped(&run);
}

#[test]
fn tree_with_too_little_memory_is_refused() {
    let run = boot(Machine { dtb: Some(test_tree("smallram")), ..Machine::default() });
    expect(&run, "RAM does not cover the firmware's memory 0x30000000..0x36000000 (512 MiB of RAM)");
    expect_machine_stopped(&run);
}

#[test]
fn tree_without_uart_stops_instead_of_running_blind() {
    // The firmware cannot know QEMU's UART if the tree does not name it: it must not guess
    // addresses, so it says nothing and stops (the message stays in its log ring).
    let run = boot(Machine { dtb: Some(test_tree("noserial")), ..Machine::default() });
    assert!(!run.output.contains("oxiboot"), "printed without a described console\n{}", run.output);
    assert_eq!(run.status.and_then(|s| s.code()), Some(1), "{}", run.output);
}
