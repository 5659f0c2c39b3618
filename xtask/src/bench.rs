//! `cargo xtask bench`: boot-time benchmarks, outside the pass/fail tests (docs/perf.md).
//!
//! Every boot runs with `-icount shift=0,sleep=off`: one instruction is one nanosecond of
//! virtual time and idle time is skipped, so the figures do not depend on the host's speed.
//! Times are read from the timebase, which QEMU counts from power-on at 512 MHz:
//!
//! * the firmware's log line that enters the kernel (oxiboot's "entering the kernel", skiboot's
//!   "INIT: Starting kernel", oxiboot's "boot #1 … prepared" for an LPAR), whose timestamp is
//!   the timebase in seconds;
//! * the user-space marker: the test initramfs reads CPU 0's PURR (the timebase on both
//!   machines) first thing after its marker and prints it as `OXITEST timebase:`.
//!
//! Two comparisons: **opal** boots the Debian kernel and initramfs on QEMU `powernv9` under
//! oxiboot and under QEMU's bundled skiboot; **lpar** boots them in one oxiboot LPAR and
//! directly under QEMU `-M pseries` (QEMU itself as the hypervisor, with its built-in Virtual
//! Open Firmware).

use crate::payload::Payload;
use crate::qemu::{run_bounded, run_until, Machine, Run};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Memory of every benchmarked machine or LPAR.
const MEMORY: &str = "1G";
/// Timebase frequency of POWER9 (and of both QEMU machines).
const TB_HZ: f64 = 512e6;
/// Bound for one boot (a clean one takes well under a minute of wall time).
const LIMIT: Duration = Duration::from_secs(240);
/// QEMU's copy of skiboot.
pub const SKIBOOT: &str = "/usr/share/qemu/skiboot.lid";

/// One measured boot.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Virtual seconds from power-on to the user-space marker.
    pub marker_s: f64,
    /// Virtual seconds from power-on to the kernel's entry, when the firmware logs it.
    pub kernel_entry_s: Option<f64>,
    /// The firmware's exit statistics line for an LPAR.
    pub hypervisor: Option<String>,
}

fn timebase_at_marker(console: &str) -> Option<f64> {
    let line = console.lines().find_map(|l| l.split("OXITEST timebase: ").nth(1))?;
    let ticks = u64::from_str_radix(line.trim().trim_start_matches("0x"), 16).ok()?;
    Some(ticks as f64 / TB_HZ)
}

/// The timestamp (seconds) of the first log line containing `needle`: oxiboot writes
/// `[    0.003892] INFO  …`, skiboot `[    0.330115330,5] …`.
fn log_time(console: &str, needle: &str) -> Option<f64> {
    let line = console.lines().find(|l| l.contains(needle))?;
    let stamp = line.trim_start().strip_prefix('[')?.split(']').next()?;
    stamp.split(',').next()?.trim().parse().ok()
}

/// Signs that the guest kernel went wrong (docs/perf.md: how `-icount` exposed a hypervisor
/// bug that corrupted SMP guests).
fn kernel_trouble(console: &str) -> Option<&str> {
    ["Oops:", "BUG:", "alg: ", "Kernel panic"].into_iter().find(|sign| console.contains(sign))
}

/// The figures of one boot; `entry_lines` are the log lines that may mark the kernel's entry.
fn figures(run: &Run, what: &str, entry_lines: &[&str]) -> Result<Figures, String> {
    if let Some(sign) = kernel_trouble(&run.output) {
        return Err(format!("{what}: the guest kernel reported trouble ({sign:?})"));
    }
    let marker_s = timebase_at_marker(&run.output)
        .ok_or_else(|| format!("{what}: no timebase reading\n{}", run.output))?;
    let hypervisor =
        run.output.lines().find(|l| l.contains("powered off after")).map(|l| l.trim().to_string());
    let kernel_entry_s = entry_lines.iter().find_map(|line| log_time(&run.output, line));
    Ok(Figures { marker_s, kernel_entry_s, hypervisor })
}

fn icount(machine: &mut Machine) {
    machine.extra.extend(["-icount".into(), "shift=0,sleep=off".into()]);
}

/// Boots the payload in OPAL mode (`-kernel`/`-initrd`) on a 1-thread `powernv9` under
/// `firmware` (oxiboot's image or [`SKIBOOT`]).
pub fn opal(firmware: &Path, p: &Payload) -> Result<Figures, String> {
    let mut machine = Machine {
        cores: 1,
        threads: 1,
        memory: MEMORY.into(),
        kernel: Some(p.vmlinux.clone()),
        initrd: Some(p.initramfs.clone()),
        append: Some("console=hvc0 quiet".into()),
        ..Machine::default()
    };
    icount(&mut machine);
    let run = run_bounded(machine.command(firmware), LIMIT).map_err(|e| e.to_string())?;
    figures(&run, &firmware.display().to_string(), &["entering the kernel at", "INIT: Starting kernel"])
}

/// Boots the payload in one LPAR with `vcpus` vCPUs (1: one thread of core 0:0; 4: the whole
/// core) and 1 GiB, on the 4-core machine of the partitioned-mode tests.
pub fn lpar(image: &Path, p: &Payload, vcpus: u32) -> Result<Figures, String> {
    let dir = crate::root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let cpus = match vcpus {
        1 => "threads = [0]".to_string(),
        4 => "cores = [\"0:0\"]".to_string(),
        n => return Err(format!("bench: an LPAR of {n} vCPUs is not offered (1 or 4)")),
    };
    let config = dir.join("lpar.toml");
    let text = format!(
        "[system]\nversion = 1\n\n[[lpar]]\nname = \"bench\"\nid = 1\n{cpus}\nmemory = \"{MEMORY}\"\n\n\
         [lpar.boot]\nkernel = \"{}\"\ninitramfs = \"{}\"\ncmdline = \"console=hvc0 quiet\"\n",
        p.vmlinux.display(),
        p.initramfs.display()
    );
    std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
    let blob = dir.join("lpar.bin");
    crate::lpar::compile(&config, &blob)?;
    let mut machine = crate::lpar::partitioned_machine(p, &blob);
    icount(&mut machine);
    // Stopped at the first sign of trouble: such a boot gives no figure.
    let run = run_until(machine.command(image), LIMIT, &mut |console| kernel_trouble(console).is_some())
        .map_err(|e| e.to_string())?;
    figures(&run, "LPAR", &[": boot #1:"])
}

/// Boots the payload under QEMU's own `pseries` machine (`vcpus` vCPUs, 1 GiB).
pub fn pseries(p: &Payload, vcpus: u32) -> Result<Figures, String> {
    let mut cmd = Command::new("qemu-system-ppc64");
    cmd.args(["-M", "pseries,x-vof=on", "-m", MEMORY, "-smp", &vcpus.to_string()])
        .args(["-nographic", "-serial", "stdio", "-monitor", "none", "-vga", "none"])
        .args(["-icount", "shift=0,sleep=off"])
        .arg("-kernel")
        .arg(&p.vmlinux)
        .arg("-initrd")
        .arg(&p.initramfs)
        .args(["-append", "console=hvc0 quiet"]);
    let run = run_bounded(cmd, LIMIT).map_err(|e| e.to_string())?;
    figures(&run, "pseries", &[])
}

/// What `kvmtest` reported: milliseconds per check and microseconds per create/delete cycle,
/// in virtual time (instructions) under `-icount`.
#[derive(Debug, Default)]
pub struct NestedFigures {
    /// (check, ms) for every check that passed.
    pub checks: Vec<(String, f64)>,
    /// Microseconds per create/delete cycle.
    pub cycle_us: Option<f64>,
}

/// Reads `KVMTEST <check> ok (N ms)` and `KVMTEST create-delete N cycles, X us each`.
pub fn nested_figures(console: &str) -> NestedFigures {
    let mut figures = NestedFigures::default();
    for line in console.lines().filter_map(|l| l.split("KVMTEST ").nth(1)) {
        let mut words = line.split_whitespace();
        let (Some(check), Some(second)) = (words.next(), words.next()) else { continue };
        if second == "ok" {
            let ms = words.next().and_then(|w| w.trim_start_matches('(').parse::<f64>().ok());
            if let Some(ms) = ms {
                figures.checks.push((check.to_string(), ms));
            }
        } else if check == "create-delete" {
            figures.cycle_us =
                line.split(", ").nth(1).and_then(|w| w.split(' ').next()).and_then(|v| v.parse().ok());
        }
    }
    figures
}

/// Runs `kvmtest` (`cycles` create/delete cycles) in an oxiboot LPAR with `nested_virt` on
/// `powernv9`, under `-icount`.
pub fn nested_lpar(image: &Path, p: &Payload, cycles: u32) -> Result<NestedFigures, String> {
    let dir = crate::root().join("target/bench/nested");
    let action = format!("kvmtest oxitest.cycles={cycles}");
    let mut machine = crate::nested::lpar_machine(p, &dir, &action, true)?;
    icount(&mut machine);
    let run = run_until(machine.command(image), LIMIT, &mut |console| console.contains("OXITEST done"))
        .map_err(|e| e.to_string())?;
    Ok(nested_figures(&run.output))
}

/// The same under QEMU's own nested-v2 L0 (`pseries,cap-nested-papr=on`), under `-icount`.
pub fn nested_pseries(p: &Payload, cycles: u32) -> Result<NestedFigures, String> {
    let mut cmd = crate::nested::pseries_l0_command(p, &format!("kvmtest oxitest.cycles={cycles}"))?;
    cmd.args(["-icount", "shift=0,sleep=off"]);
    let run =
        run_until(cmd, LIMIT, &mut |console| console.contains("OXITEST done")).map_err(|e| e.to_string())?;
    Ok(nested_figures(&run.output))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_firmware_log_stamps_and_the_marker() {
        let oxi = "[    0.003892] INFO  entering the kernel at 0x20010000, device tree at 0x3\n";
        assert_eq!(log_time(oxi, "entering the kernel at"), Some(0.003892));
        let ski = "[    0.330115330,5] INIT: Starting kernel at 0x20010000, fdt at 0x307750a8\n";
        assert_eq!(log_time(ski, "INIT: Starting kernel"), Some(0.330115330));
        assert_eq!(log_time(ski, "absent"), None);
        let marker = "OXITEST timebase: 40e5d598\n";
        assert_eq!(timebase_at_marker(marker), Some(0x40e5d598 as f64 / TB_HZ));
    }

    #[test]
    fn reads_kvmtest_figures() {
        let out = "[kvm] KVMTEST registers ok (69 ms)\nKVMTEST pages FAIL: x\n\
                   KVMTEST create-delete 1000 cycles, 8840 us each\nKVMTEST create-delete ok (8841 ms)\n";
        let f = nested_figures(out);
        assert_eq!(f.checks, vec![("registers".to_string(), 69.0), ("create-delete".to_string(), 8841.0)]);
        assert_eq!(f.cycle_us, Some(8840.0));
    }
}
