//! `cargo xtask` — oxiboot's one entry point for building, running and testing.
//!
//! * `cargo xtask build` — builds the firmware and writes `target/oxiboot.lid`.
//! * `cargo xtask run [--lpar CONFIG | --opal | --direct | --bare] [--sockets N] [--append ARGS]
//!   [-- QEMU-ARGS…]` — boots it on QEMU `powernv9`: by default in partitioned mode with the
//!   example two-LPAR configuration (4 cores × 4 threads, 4 GiB); `--opal` boots the Debian
//!   kernel and test initramfs from a PNOR image as OPAL firmware (2 cores × 4 threads per
//!   chip, 2 GiB). Installs QEMU and fetches the payload if needed.
//! * `cargo xtask test` — format and lint checks, host unit tests, and the integration tests
//!   that boot the image under QEMU.
//! * `cargo xtask bench` — boot-time benchmarks against skiboot and QEMU pseries (`docs/perf.md`).

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;
use xtask::{deps, image, image_path, qemu, root};

/// The bare-metal target of the firmware.
/// How long `cargo xtask test` fuzzes each target.
const FUZZ_SECONDS_IN_TEST: u32 = 20;

/// Largest image `-bios` accepts.
const BIOS_LIMIT: u64 = 16 << 20;

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Cargo arguments that build for the firmware target (build-std on the pinned toolchain).
fn firmware_cargo(subcommand: &str) -> Command {
    let mut cmd = cargo();
    cmd.env("RUSTC_BOOTSTRAP", "1")
        .arg(subcommand)
        .args(["--release", "-p", "oxiboot", "--bin", "oxiboot", "--target", xtask::TARGET_SPEC])
        .args(["-Zbuild-std=core,alloc", "-Zbuild-std-features=compiler-builtins-mem", "-Zjson-target-spec"])
        .args(["--target-dir", "target/firmware"]);
    cmd
}

fn status(mut cmd: Command, what: &str) -> Result<(), String> {
    let s = cmd.status().map_err(|e| format!("{what}: {e}"))?;
    if s.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({s})"))
    }
}

fn build() -> Result<PathBuf, String> {
    let start = Instant::now();
    status(firmware_cargo("build"), "firmware build")?;
    let elf_path = root().join("target/firmware/powerpc64le-oxiboot-none/release/oxiboot");
    let elf = std::fs::read(&elf_path).map_err(|e| format!("{}: {e}", elf_path.display()))?;
    let raw = image::elf_to_raw(&elf, BIOS_LIMIT).map_err(|e| format!("{}: {e}", elf_path.display()))?;
    let out = image_path();
    std::fs::write(&out, &raw.bytes).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!(
        "xtask: wrote {} ({} bytes, linked at {:#x}) in {:.1} s",
        out.display(),
        raw.bytes.len(),
        raw.base,
        start.elapsed().as_secs_f64()
    );
    let kvmtest = xtask::nested::build_kvmtest()?;
    eprintln!("xtask: built {} (in-L1 KVM test program)", kvmtest.display());
    Ok(out)
}

/// How `run` gives the firmware its payload.
enum PayloadMode {
    /// Partitioned mode: this LPAR configuration, its images preloaded (the default, with
    /// `payloads/lpars/qemu-two-lpars.toml`).
    Partitioned(PathBuf),
    /// OPAL mode from a PNOR image with BOOTKERNEL, as on a real machine (`--opal`).
    Flash,
    /// QEMU's `-kernel`/`-initrd` (fast).
    Direct,
    /// None: the firmware brings the machine up and powers off.
    Bare,
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let mut machine = qemu::Machine::default();
    let mut mode = PayloadMode::Partitioned(root().join(xtask::lpar::EXAMPLE_CONFIG));
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--sockets" => machine.sockets = it.next().and_then(|v| v.parse().ok()).ok_or("--sockets N")?,
            "--append" => machine.append = Some(it.next().ok_or("--append ARGS")?.clone()),
            "--opal" => mode = PayloadMode::Flash,
            "--direct" => mode = PayloadMode::Direct,
            "--bare" => mode = PayloadMode::Bare,
            "--lpar" => mode = PayloadMode::Partitioned(PathBuf::from(it.next().ok_or("--lpar CONFIG")?)),
            "--" => {
                machine.extra = it.by_ref().cloned().collect();
            }
            other => return Err(format!("unknown option {other} (see cargo xtask help)")),
        }
    }
    if matches!(mode, PayloadMode::Partitioned(_)) && machine.sockets != 1 {
        return Err("--sockets: partitioned mode runs the 1-chip machine its configurations are checked against (use it with --opal, --direct or --bare)".into());
    }
    deps::ensure_qemu()?;
    let image = build()?;
    match mode {
        PayloadMode::Partitioned(config) => {
            let p = xtask::payload::ensure()?;
            xtask::lpar::link_payload(&p)?;
            let blob = root().join("target/lpar/oxicfg.bin");
            let resolved = xtask::lpar::compile(&config, &blob)?;
            let pnor = root().join("target/lpar/oxiboot-lpar.pnor");
            xtask::lpar::flash_with_config(&blob, &pnor)?;
            eprintln!(
                "xtask: {} compiled: {} LPAR(s), in the OXICFG partition of {}",
                config.display(),
                resolved.lpars.len(),
                pnor.display()
            );
            let m = xtask::lpar::partitioned_flash_machine(&p, &pnor);
            machine = xtask::qemu::Machine {
                extra: [m.extra.clone(), machine.extra].concat(),
                append: machine.append,
                ..m
            };
        }
        PayloadMode::Bare => {}
        PayloadMode::Flash => {
            let p = xtask::payload::ensure()?;
            machine.pnor = Some(xtask::payload::ensure_pnor(&p)?);
        }
        PayloadMode::Direct => {
            let p = xtask::payload::ensure()?;
            machine.kernel = Some(p.vmlinux);
            machine.initrd = Some(p.initramfs);
            machine.append.get_or_insert_with(|| "console=hvc0".into());
        }
    }
    let mut cmd = machine.command(&image);
    eprintln!("xtask: {cmd:?}");
    let s = cmd.status().map_err(|e| format!("qemu-system-ppc64: {e}"))?;
    Ok(ExitCode::from(s.code().unwrap_or(1).clamp(0, 255) as u8))
}

fn test() -> Result<(), String> {
    let start = Instant::now();
    deps::ensure_qemu()?;
    deps::ensure_tool("xz", "xz-utils")?;
    // OpenPOWER's own flash tool, to check that it reads the images we write.
    deps::ensure_tool("pflash", "opal-utils")?;
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    status(fmt, "cargo fmt --check")?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    status(clippy, "cargo clippy (host)")?;
    let mut clippy_fw = firmware_cargo("clippy");
    clippy_fw.args(["--", "-D", "warnings"]);
    status(clippy_fw, "cargo clippy (firmware target)")?;
    let mut clippy_kvmtest = xtask::nested::kvmtest_cargo("clippy");
    clippy_kvmtest.args(["--", "-D", "warnings"]);
    status(clippy_kvmtest, "cargo clippy (kvmtest, ppc64le)")?;
    build()?;
    // Fetch the payloads once, before the tests run in parallel.
    let payload = xtask::payload::ensure()?;
    xtask::payload::ensure_pnor(&payload)?;
    let mut tests = cargo();
    tests.args(["test", "--workspace"]).env("OXIBOOT_IMAGE", image_path());
    status(tests, "cargo test")?;
    let mut interop = cargo();
    interop.args(["test", "-p", "oxiboot-pnor", "--test", "pflash_interop", "--", "--ignored"]);
    status(interop, "cargo test (pflash reads our images)")?;
    // Every fuzz target of the repository, briefly (longer runs: cargo xtask fuzz).
    xtask::fuzz::run_all(&root(), FUZZ_SECONDS_IN_TEST)?;
    eprintln!("xtask: all tests passed in {:.0} s", start.elapsed().as_secs_f64());
    Ok(())
}

/// The benchmarks (docs/perf.md): `bench [opal|lpar|nested] [--vcpus N]`.
fn bench(args: &[String]) -> Result<(), String> {
    let mut which = Vec::new();
    let mut vcpus = 1;
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "opal" | "lpar" | "nested" => which.push(a.as_str()),
            "--vcpus" => {
                vcpus = rest
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("bench: --vcpus takes a number (1 or 4)")?;
            }
            other => {
                return Err(format!("bench: unknown argument {other:?} (opal, lpar, nested, --vcpus N)"))
            }
        }
    }
    if which.is_empty() {
        which = vec!["opal", "lpar"];
    }
    deps::ensure_qemu()?;
    let image = build()?;
    let p = xtask::payload::ensure()?;
    println!("virtual time under -icount shift=0,sleep=off (1 instruction = 1 ns), 1 GiB");
    if which.contains(&"opal") {
        let ours = xtask::bench::opal(&image, &p)?;
        let skiboot = xtask::bench::opal(std::path::Path::new(xtask::bench::SKIBOOT), &p)?;
        let entry = |f: &xtask::bench::Figures| f.kernel_entry_s.map_or("?".into(), |s| format!("{s:8.4}"));
        println!("OPAL mode, powernv9 1 thread:       kernel entry    user-space marker");
        println!("  oxiboot                          {:>9} s {:12.3} s", entry(&ours), ours.marker_s);
        println!("  skiboot (QEMU's skiboot.lid)     {:>9} s {:12.3} s", entry(&skiboot), skiboot.marker_s);
        if let (Some(a), Some(b)) = (ours.kernel_entry_s, skiboot.kernel_entry_s) {
            println!("  kernel entry: oxiboot takes {:.1} % of skiboot's time", 100.0 * a / b);
        }
        println!("  marker: oxiboot/skiboot = {:.3}", ours.marker_s / skiboot.marker_s);
    }
    if which.contains(&"lpar") {
        let lpar = xtask::bench::lpar(&image, &p, vcpus)?;
        let pseries = xtask::bench::pseries(&p, vcpus)?;
        println!("partitioned mode, {vcpus} vCPU(s):         user-space marker");
        println!("  oxiboot LPAR on powernv9         {:12.3} s", lpar.marker_s);
        println!("  QEMU pseries (x-vof)             {:12.3} s", pseries.marker_s);
        println!("  ratio LPAR/pseries               {:12.3}", lpar.marker_s / pseries.marker_s);
        if let Some(entry) = lpar.kernel_entry_s {
            println!("  LPAR kernel entered at           {entry:12.3} s (firmware boot, carving, clearing, loading)");
        }
        if let Some(h) = &lpar.hypervisor {
            println!("  hypervisor: {h}");
        }
    }
    if which.contains(&"nested") {
        const CYCLES: u32 = 200;
        xtask::nested::build_kvmtest()?;
        let ours = xtask::bench::nested_lpar(&image, &p, CYCLES)?;
        let qemu = xtask::bench::nested_pseries(&p, CYCLES)?;
        println!("nested API v2, kvmtest in the L1 ({CYCLES} create/delete cycles): virtual ms per check");
        println!("  {:<16} {:>14} {:>16}", "check", "oxiboot LPAR", "QEMU pseries L0");
        for (check, ms) in &ours.checks {
            let reference =
                qemu.checks.iter().find(|(c, _)| c == check).map_or("?".into(), |(_, v)| format!("{v:.0}"));
            println!("  {check:<16} {ms:>14.0} {reference:>16}");
        }
        let cycle = |f: &xtask::bench::NestedFigures| f.cycle_us.map_or("?".into(), |v| format!("{v:.0} us"));
        println!("  create/delete cycle: oxiboot {}, QEMU's L0 {}", cycle(&ours), cycle(&qemu));
    }
    Ok(())
}

/// Runs one of the workspace's host tools with the remaining arguments.
fn host_tool(package: &str, bin: &str, features: &[&str], args: &[String]) -> Result<ExitCode, String> {
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--release", "-p", package, "--bin", bin]);
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    cmd.arg("--").args(args);
    let s = cmd.status().map_err(|e| format!("{bin}: {e}"))?;
    Ok(ExitCode::from(s.code().unwrap_or(1).clamp(0, 255) as u8))
}

const HELP: &str = "usage: cargo xtask <command>
  build                      build the firmware, write target/oxiboot.lid
  run [--lpar CONFIG|--opal|--direct|--bare] [--sockets N] [--append ARGS] [-- QEMU-ARGS...]
                             boot it on QEMU powernv9: by default partitioned mode with
                             payloads/lpars/qemu-two-lpars.toml compiled into the OXICFG
                             partition of a flash image (4 cores x 4 threads, 4 GiB;
                             --lpar: another config); --opal: OPAL mode, Debian kernel + test
                             initramfs from a PNOR image (--direct: with QEMU's -kernel/-initrd;
                             --bare: no payload)
  test                       fmt and clippy checks, unit tests, QEMU boot tests, bounded fuzzing
  bench [opal|lpar|nested] [--vcpus 1|4]
                             boot times: oxiboot against skiboot, an LPAR against
                             QEMU's pseries (docs/perf.md)
  pnor ARGS...               the PNOR flash image tool (create, list, extract, verify, replace)
  hdat HEAP SPIRAH [...]     HDAT -> device tree (--dts, -o tree.dtb, --compare expected.dtb)
  lpar check|compile|inspect ...
                             LPAR configuration: check FILE, compile FILE -o BLOB, inspect BLOB
  fuzz [SECONDS]             run every cargo-fuzz target (default 60 s each)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") => build().map(|_| ExitCode::SUCCESS),
        Some("run") => run(&args[1..]),
        Some("test") => test().map(|_| ExitCode::SUCCESS),
        Some("bench") => bench(&args[1..]).map(|_| ExitCode::SUCCESS),
        Some("pnor") => host_tool("oxiboot-pnor", "pnor", &[], &args[1..]),
        Some("hdat") => host_tool("oxiboot-hdat", "hdat", &[], &args[1..]),
        Some("lpar") => host_tool("oxiboot-hv", "lpar", &["host"], &args[1..]),
        Some("fuzz") => {
            let seconds = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(60);
            xtask::fuzz::run_all(&root(), seconds).map(|_| ExitCode::SUCCESS)
        }
        Some("help") | Some("--help") | Some("-h") | None => {
            println!("{HELP}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => Err(format!("unknown command {other}\n{HELP}")),
    };
    result.unwrap_or_else(|e| {
        eprintln!("xtask: {e}");
        ExitCode::FAILURE
    })
}
