//! Boots the fetched Debian kernel and the test initramfs on QEMU `powernv9` with QEMU's
//! bundled skiboot (the reference firmware), to prove the payload itself works. Ignored by
//! default: it needs network and root (or a prepared host) for the first fetch, and
//! `qemu-system-ppc64` ≥ 10 with `/usr/share/qemu/skiboot.lid`:
//!
//! ```sh
//! cargo test -p oxiboot-payloads --test reference_boot -- --ignored --nocapture
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use oxiboot_payloads::report::parse_console;
use oxiboot_payloads::{build_test_initramfs, ensure_busybox, ensure_kernel};

const SKIBOOT: &str = "/usr/share/qemu/skiboot.lid";

fn cache() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/payloads")
}

#[test]
#[ignore = "needs network/root for the first fetch, QEMU and its skiboot.lid; boots Linux (tens of seconds)"]
fn debian_kernel_and_test_initramfs_boot_on_skiboot() {
    let kernel = ensure_kernel(&cache()).expect("kernel");
    let busybox = ensure_busybox(&cache()).expect("busybox");
    let initramfs = cache().join("test-initramfs.cpio");
    build_test_initramfs(&busybox, &initramfs).expect("initramfs");

    let start = Instant::now();
    let out = Command::new("timeout")
        .arg("300")
        .args(["qemu-system-ppc64", "-M", "powernv9", "-m", "2G", "-smp", "8,cores=2,threads=4"])
        .args(["-nographic", "-bios", SKIBOOT, "-kernel"])
        .arg(&kernel.vmlinux)
        .arg("-initrd")
        .arg(&initramfs)
        .args(["-append", "console=hvc0 oxitest.action=poweroff"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run qemu-system-ppc64 (through timeout)");
    let console = String::from_utf8_lossy(&out.stdout);
    eprintln!("QEMU exited with {} after {:.1} s", out.status, start.elapsed().as_secs_f64());
    assert!(out.status.success(), "QEMU did not power off cleanly:\n{console}");

    let boots = parse_console(&console);
    assert_eq!(boots.len(), 1, "{console}");
    let boot = &boots[0];
    assert!(boot.done, "{console}");
    assert_eq!(boot.action.as_deref(), Some("poweroff"));
    assert_eq!(boot.value("cpuinfo-processors"), Some("8"));
    assert_eq!(boot.value("cpus-online"), Some("0-7"));
    assert!(boot.value("uname").is_some_and(|u| u.contains(&kernel.release)));
    assert!(boot.value("cmdline").is_some_and(|c| c.contains("oxitest.action=poweroff")));
    for check in ["interrupts-1", "interrupts-2", "date", "rtc", "opal-msglog"] {
        assert!(boot.block(check).is_some_and(|b| b.succeeded()), "{check}: {:?}", boot.block(check));
    }
    assert!(boot.block("opal-msglog").is_some_and(|b| b.lines.iter().any(|l| l.contains("OPAL v"))));
}
