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
    output.lines().filter(|l| l.starts_with("KVMTEST ")).collect()
}

#[test]
fn kvmtest_passes_under_qemus_own_nested_papr() {
    let payload = xtask::payload::ensure().expect("payload");
    let initramfs = xtask::nested::l1_initramfs(&payload).expect("L1 initramfs");
    let mut cmd = std::process::Command::new("qemu-system-ppc64");
    cmd.args(["-M", "pseries,cap-nested-papr=on,x-vof=on", "-m", "2G", "-smp", "1"])
        .args(["-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot"])
        .arg("-kernel")
        .arg(&payload.vmlinux)
        .arg("-initrd")
        .arg(&initramfs)
        .args(["-append", "console=hvc0 oxitest.action=kvmtest oxitest.cycles=1000"]);
    let run = run_until(cmd, LIMIT, &mut |out| out.contains("OXITEST done")).expect("qemu starts");
    eprintln!("--- QEMU pseries ({:.1} s) ---\n{}", run.elapsed.as_secs_f64(), run.output);
    let lines = kvmtest_lines(&run.output);
    assert!(
        lines.iter().any(|l| l.starts_with("KVMTEST summary passed=7 failed=0")),
        "kvmtest did not pass:\n{}",
        lines.join("\n")
    );
    for check in ["registers", "pages", "remap", "timer", "two-vcpus", "several-guests", "create-delete"] {
        assert!(lines.iter().any(|l| l.starts_with(&format!("KVMTEST {check} ok"))), "{check} missing");
    }
    // kvm-hv chose the nested API v2 (it says so only when it falls back to v1).
    assert!(!run.output.contains("falling back to nestedv1"), "kvm-hv fell back to nested v1");
    assert!(run.output.contains("OXITEST kvm-modules: kvm_hv"), "kvm-hv not loaded");
}
