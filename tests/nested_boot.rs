//! Nested virtualization: the in-LPAR KVM test program (`payloads/kvmtest`) in a Linux L1
//! whose hypervisor offers the PAPR nested API v2.
//!
//! `kvmtest_passes_under_qemus_own_nested_papr` runs it under QEMU's `pseries` machine with
//! `cap-nested-papr=on` (QEMU as the L0): it proves the program checks real behaviour of a
//! real L0, and is the reference the oxiboot LPAR must match (docs/nested.md).

use std::time::Duration;
use xtask::qemu::run_until;

const LIMIT: Duration = Duration::from_secs(240);

fn kvmtest_lines(output: &str) -> Vec<&str> {
    output
        .lines()
        .map(|l| l.strip_prefix("[kvm] ").unwrap_or(l))
        .filter(|l| l.starts_with("KVMTEST "))
        .collect()
}

/// All seven checks of `kvmtest` passed.
#[track_caller]
fn assert_kvmtest_passed(output: &str) {
    let lines = kvmtest_lines(output);
    assert!(
        lines.iter().any(|l| l.starts_with("KVMTEST summary passed=7 failed=0")),
        "kvmtest did not pass:\n{}",
        lines.join("\n")
    );
    for check in ["registers", "pages", "remap", "timer", "two-vcpus", "several-guests", "create-delete"] {
        assert!(lines.iter().any(|l| l.starts_with(&format!("KVMTEST {check} ok"))), "{check} missing");
    }
}

#[test]
fn kvmtest_passes_under_qemus_own_nested_papr() {
    let payload = xtask::payload::ensure().expect("payload");
    let cmd =
        xtask::nested::pseries_l0_command(&payload, "kvmtest oxitest.cycles=1000").expect("L1 initramfs");
    let run = run_until(cmd, LIMIT, &mut |out| out.contains("OXITEST done")).expect("qemu starts");
    eprintln!("--- QEMU pseries ({:.1} s) ---\n{}", run.elapsed.as_secs_f64(), run.output);
    assert_kvmtest_passed(&run.output);
    // kvm-hv chose the nested API v2 (it says so only when it falls back to v1).
    assert!(!run.output.contains("falling back to nestedv1"), "kvm-hv fell back to nested v1");
    assert!(run.output.contains("OXITEST kvm-modules: kvm_hv"), "kvm-hv not loaded");
}

/// Boots the L1 initramfs in an oxiboot LPAR (`nested_virt` as given) under QEMU `powernv9`
/// until it has finished (or the LPAR stopped); returns the firmware console.
fn run_in_lpar(name: &str, nested_virt: bool, action: &str) -> String {
    let payload = xtask::payload::ensure().expect("payload");
    let dir = xtask::root().join("target/tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let machine = xtask::nested::lpar_machine(&payload, &dir, action, nested_virt).expect("machine");
    let run = run_until(machine.command(&xtask::image_for_tests()), LIMIT, &mut |out| {
        out.contains("lpar 1 \"kvm\": stays off")
    })
    .expect("qemu starts");
    eprintln!("--- QEMU powernv9, oxiboot LPAR ({:.1} s) ---\n{}", run.elapsed.as_secs_f64(), run.output);
    assert!(!run.output.contains("!!!"), "an exception in the hypervisor");
    run.output
}

/// The same program as under QEMU's L0, in an oxiboot LPAR with `nested_virt`: KVM in the
/// LPAR uses the nested API v2 of oxiboot's hypervisor, and every check passes.
#[test]
fn kvmtest_passes_in_an_oxiboot_lpar_with_nested_virt() {
    let console = run_in_lpar("nested-lpar", true, "kvmtest oxitest.cycles=1000");
    assert_kvmtest_passed(&console);
    assert!(console.contains("OXITEST kvm-modules: kvm_hv"), "kvm-hv not loaded");
    assert!(!console.contains("falling back to nestedv1"), "kvm-hv fell back to nested v1");
    // The L1's dmesg has no KVM error (failed VPA registration, failed invalidation, …).
    for line in console.lines().filter(|l| l.contains("OXITEST kvm-dmesg-after:")) {
        let lower = line.to_lowercase();
        assert!(!lower.contains("fail") && !lower.contains("error"), "L1 dmesg: {line}");
    }
    // The runs went through oxiboot's hypervisor, and after 1000 create/delete cycles the
    // host-wide counters (what 0x0800–0x0804 report) are back at their baseline: nothing left.
    let report = console.lines().find(|l| l.contains("lpar 1 \"kvm\": nested:")).expect("nested report");
    let runs: u64 = report
        .split("nested: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("L2 runs");
    assert!(runs > 1000, "{report}");
    assert!(report.contains("now 0 L2 guests, 0 vCPUs; L2 heap 0 of"), "{report}");
    assert!(report.contains("shadow tables 0 of"), "{report}");
}

/// An LPAR without `nested_virt`: the `H_GUEST_*` hypercalls answer `H_FUNCTION`, kvm-hv
/// finds no nested API and says so, and the LPAR goes on (no crash, no hang).
#[test]
fn an_lpar_without_nested_virt_falls_back_cleanly() {
    let console = run_in_lpar("plain-lpar", false, "kvmtest oxitest.cycles=10");
    assert!(!console.contains("nested: "), "nested state for a plain LPAR");
    // Linux asked for v2 (H_FUNCTION), then v1 (H_FUNCTION), and gave up cleanly.
    assert!(
        console.contains("Parent hypervisor does not support nesting (rc=-2)"),
        "no clean kvm-hv refusal"
    );
    assert!(console.contains("OXITEST done"), "the L1 did not finish");
    assert!(console.contains("lpar 1 \"kvm\": powered off"), "the LPAR did not power off normally");
    let lines = kvmtest_lines(&console);
    assert!(
        !lines.iter().any(|l| l.contains(" ok ")),
        "an L2 ran without nested_virt:\n{}",
        lines.join("\n")
    );
}

/// Debian's `qemu-system-ppc64` (ppc64el) with `-accel kvm` inside an oxiboot LPAR with
/// `nested_virt` boots the same Debian kernel as an L2 to its user-space marker; the L1's
/// kernel log has no KVM error (no failed VPA registration, no failed TLB invalidation).
#[test]
fn qemu_in_an_oxiboot_lpar_boots_an_l2_linux() {
    let (payload, initramfs) = xtask::l2guest::ensure().expect("L2 initramfs");
    let dir = xtask::root().join("target/tests/nested-l2-linux");
    let _ = std::fs::remove_dir_all(&dir);
    let machine = xtask::nested::lpar_machine_with(&payload, &initramfs, &dir, xtask::l2guest::ACTION, true)
        .expect("machine");
    let run = run_until(machine.command(&xtask::image_for_tests()), LIMIT, &mut |out| {
        out.contains("lpar 1 \"kvm\": stays off")
    })
    .expect("qemu starts");
    eprintln!(
        "--- QEMU powernv9, oxiboot LPAR, L2 Linux ({:.1} s) ---\n{}",
        run.elapsed.as_secs_f64(),
        run.output
    );
    let console: String =
        run.output.lines().map(|l| l.strip_prefix("[kvm] ").unwrap_or(l)).map(|l| format!("{l}\n")).collect();
    assert!(!console.contains("!!!"), "an exception in the hypervisor");
    assert!(console.contains(xtask::l2guest::L2_MARKER_LINE), "the L2 did not reach user space");
    assert!(console.contains("OXITEST l2-linux reached-userspace=yes"));
    assert!(!console.contains("falling back to nestedv1"), "kvm-hv fell back to nested v1");
    for line in console.lines().filter(|l| l.starts_with("OXITEST l2-dmesg:")) {
        let lower = line.to_lowercase();
        assert!(
            !lower.contains("fail") && !lower.contains("couldn't") && !lower.contains("error"),
            "L1: {line}"
        );
    }
}

/// The reference for the L2 Linux test: the same initramfs under QEMU's own nested-v2 L0
/// boots the L2 to its marker (QEMU's L0 makes the L1 log VPA and TLB-invalidation failures,
/// which is why only the oxiboot test checks the L1's log).
#[test]
fn qemu_under_qemus_own_nested_papr_boots_an_l2_linux() {
    let (payload, initramfs) = xtask::l2guest::ensure().expect("L2 initramfs");
    let cmd = xtask::l2guest::qemu_l0_command(&payload, &initramfs);
    let run = run_until(cmd, LIMIT, &mut |out| out.contains("OXITEST done")).expect("qemu starts");
    eprintln!("--- QEMU pseries, L2 Linux ({:.1} s) ---\n{}", run.elapsed.as_secs_f64(), run.output);
    assert!(run.output.contains(xtask::l2guest::L2_MARKER_LINE), "the L2 did not reach user space");
    assert!(!run.output.contains("falling back to nestedv1"), "kvm-hv fell back to nested v1");
}
