//! `cargo xtask bench`: boot-time benchmark of partitioned mode, outside the pass/fail tests.
//!
//! The same Debian kernel and test initramfs boot (a) in one LPAR of oxiboot on QEMU
//! `powernv9` and (b) directly under QEMU `-M pseries` (QEMU itself as the hypervisor, with
//! its built-in Virtual Open Firmware), both with `-icount shift=0,sleep=off`: one instruction
//! is one nanosecond of virtual time and idle time is skipped, so the figures do not depend
//! on the host's speed. The time is the timebase (CPU 0's PURR, which QEMU counts from power-on)
//! the initramfs reads first thing after its user-space marker.

use crate::payload::Payload;
use crate::qemu::{run_bounded, run_until, Run};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// vCPUs and memory of both guests.
const VCPUS: u32 = 4;
const MEMORY: &str = "1G";
/// Timebase frequency of POWER9 (and of both QEMU machines).
const TB_HZ: f64 = 512e6;
/// Bound for one boot (a clean one takes well under a minute of wall time).
const LIMIT: Duration = Duration::from_secs(240);

/// One measured boot.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Virtual seconds from power-on to the user-space marker.
    pub marker_s: f64,
    /// Virtual seconds from power-on to the LPAR's kernel entry (the firmware's log time of
    /// "boot #1 … prepared"), for an LPAR.
    pub kernel_entry_s: Option<f64>,
    /// The firmware's exit statistics line for the LPAR, when there is one.
    pub hypervisor: Option<String>,
    /// Boots it took to get a clean one.
    pub attempts: u32,
}

fn timebase_at_marker(console: &str) -> Option<f64> {
    let line = console.lines().find_map(|l| l.split("OXITEST timebase: ").nth(1))?;
    let ticks = u64::from_str_radix(line.trim().trim_start_matches("0x"), 16).ok()?;
    Some(ticks as f64 / TB_HZ)
}

/// Signs that the guest kernel went wrong (see docs/perf.md: under `-icount`, some LPAR boots
/// show memory corruption that no run without `-icount` has shown).
fn kernel_trouble(console: &str) -> Option<&str> {
    ["Oops:", "BUG:", "alg: ", "Kernel panic"].into_iter().find(|sign| console.contains(sign))
}

fn figures(run: &Run, what: &str) -> Result<Figures, String> {
    if let Some(sign) = kernel_trouble(&run.output) {
        return Err(format!("{what}: the guest kernel reported trouble ({sign:?})"));
    }
    let marker_s = timebase_at_marker(&run.output)
        .ok_or_else(|| format!("{what}: no timebase reading\n{}", run.output))?;
    let hypervisor =
        run.output.lines().find(|l| l.contains("powered off after")).map(|l| l.trim().to_string());
    let kernel_entry_s = run
        .output
        .lines()
        .find(|l| l.contains(": boot #1:"))
        .and_then(|l| l.trim_start_matches('[').split(']').next())
        .and_then(|t| t.trim().parse().ok());
    Ok(Figures { marker_s, kernel_entry_s, hypervisor, attempts: 1 })
}

/// Boots the payload in one LPAR (1 core = 4 vCPUs, 1 GiB).
pub fn lpar(image: &Path, p: &Payload) -> Result<Figures, String> {
    let dir = crate::root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let config = dir.join("lpar.toml");
    let text = format!(
        "[system]\nversion = 1\n\n[[lpar]]\nname = \"bench\"\nid = 1\ncores = [\"0:0\"]\nmemory = \"{MEMORY}\"\n\n\
         [lpar.boot]\nkernel = \"{}\"\ninitramfs = \"{}\"\ncmdline = \"console=hvc0 quiet\"\n",
        p.vmlinux.display(),
        p.initramfs.display()
    );
    std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
    let blob = dir.join("lpar.bin");
    crate::lpar::compile(&config, &blob)?;
    let mut machine = crate::lpar::partitioned_machine(p, &blob);
    machine.extra.extend(["-icount".into(), "shift=0,sleep=off".into()]);
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let run = run_until(machine.command(image), LIMIT, &mut |console| kernel_trouble(console).is_some())
            .map_err(|e| e.to_string())?;
        match figures(&run, "LPAR") {
            Ok(f) => return Ok(Figures { attempts: attempt, ..f }),
            Err(e) => {
                eprintln!("xtask bench: attempt {attempt}: {e}");
                last = e;
            }
        }
    }
    Err(last)
}

/// Boots tried before the LPAR figure is given up.
const ATTEMPTS: u32 = 6;

/// Boots the payload under QEMU's own `pseries` machine (4 vCPUs, 1 GiB).
pub fn pseries(p: &Payload) -> Result<Figures, String> {
    let mut cmd = Command::new("qemu-system-ppc64");
    cmd.args(["-M", "pseries,x-vof=on", "-m", MEMORY, "-smp", &VCPUS.to_string()])
        .args(["-nographic", "-serial", "stdio", "-monitor", "none", "-vga", "none"])
        .args(["-icount", "shift=0,sleep=off"])
        .arg("-kernel")
        .arg(&p.vmlinux)
        .arg("-initrd")
        .arg(&p.initramfs)
        .args(["-append", "console=hvc0 quiet"]);
    let run = run_bounded(cmd, LIMIT).map_err(|e| e.to_string())?;
    figures(&run, "pseries")
}
