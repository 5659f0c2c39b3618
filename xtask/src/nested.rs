//! Nested virtualization payloads: `kvmtest` (payloads/kvmtest, a static ppc64le program that
//! runs L2 guests through `/dev/kvm`) and the L1 initramfs that loads `kvm`/`kvm-hv` and runs
//! it (`oxitest.action=kvmtest`, `oxitest.cycles=N`).

use crate::payload::Payload;
use crate::qemu::Machine;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the built `kvmtest` lands.
pub fn kvmtest_path() -> PathBuf {
    crate::root().join("target/kvmtest/powerpc64le-oxiboot-none/release/kvmtest")
}

/// A cargo command (`build`, `clippy`, ...) for `kvmtest` on the firmware's bare-metal target
/// (it needs no libc: system calls are made directly).
pub fn kvmtest_cargo(subcommand: &str) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(crate::root())
        .env("RUSTC_BOOTSTRAP", "1")
        .args([subcommand, "--release", "-p", "oxiboot-kvmtest", "--bin", "kvmtest"])
        .args(["--target", crate::TARGET_SPEC])
        .args(["-Zbuild-std=core", "-Zbuild-std-features=compiler-builtins-mem", "-Zjson-target-spec"])
        .args(["--target-dir", "target/kvmtest"]);
    cmd
}

/// Builds `kvmtest`.
pub fn build_kvmtest() -> Result<PathBuf, String> {
    let status = kvmtest_cargo("build").status().map_err(|e| format!("cargo build kvmtest: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build kvmtest failed ({status})"));
    }
    Ok(kvmtest_path())
}

/// Serializes the building of L1 initramfs images: tests running in parallel build the same
/// files (each written beside its place and renamed into it).
pub(crate) fn build_lock() -> std::sync::MutexGuard<'static, ()> {
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    BUILDING.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The shell of the `kvmtest` action: load KVM, show what it said, run the program.
const KVMTEST_ACTION: &str = "insmod /lib/modules/kvm.ko\n\
     insmod /lib/modules/kvm-hv.ko\n\
     oxitest_run kvm-modules cat /proc/modules\n\
     oxitest_run kvm-dmesg sh -c 'dmesg | grep -i -e kvm -e nested'\n\
     /bin/kvmtest cycles=\"$(oxitest_param cycles 1000)\"\n\
     oxitest_run kvm-dmesg-after sh -c 'dmesg | grep -i -e kvm -e nested'";

/// Builds `target/payloads/kvm-l1-initramfs.cpio`: the test initramfs plus `kvm.ko`,
/// `kvm-hv.ko` and `kvmtest` (which must have been built).
pub fn l1_initramfs(p: &Payload) -> Result<PathBuf, String> {
    let _building = build_lock();
    let cache = crate::payload::cache_dir();
    let busybox = oxiboot_payloads::ensure_busybox(&cache).map_err(|e| e.to_string())?;
    let mut image = oxiboot_payloads::TestInitramfs::new(&busybox).map_err(|e| e.to_string())?;
    let kernel = oxiboot_payloads::ensure_kernel(&cache).map_err(|e| e.to_string())?;
    for name in ["kvm", "kvm-hv"] {
        let module =
            kernel.module(name).ok_or_else(|| format!("{}: no {name} module", p.modules.display()))?;
        image.add_kernel_module(&module).map_err(|e| e.to_string())?;
    }
    let kvmtest = kvmtest_path();
    if !kvmtest.exists() {
        return Err(format!("{} is missing: run `cargo xtask build`", kvmtest.display()));
    }
    image.add_host_file("bin/kvmtest", &kvmtest, 0o755).map_err(|e| e.to_string())?;
    image
        .script_mut()
        .add_action("kvmtest", KVMTEST_ACTION, oxiboot_payloads::Finish::PowerOff)
        .map_err(|e| e.to_string())?;
    let out = cache.join("kvm-l1-initramfs.cpio");
    image.write(&out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The configuration of an LPAR that runs KVM: one core (4 vCPUs), 2 GiB, `nested_virt` as
/// given, booting `kernel` and `initramfs` with `oxitest.action={action}`.
pub fn lpar_config(kernel: &Path, initramfs: &Path, action: &str, nested_virt: bool) -> String {
    format!(
        r#"
[system]
version = 1
hypervisor_memory = "256M"
console = {{ type = "uart", port = 0x3f8 }}

[[lpar]]
name = "kvm"
id = 1
cores = ["0:0"]
memory = "2G"
console = "vty"
nested_virt = {nested_virt}
restart = "never"

[lpar.boot]
kernel = "{kernel}"
initramfs = "{initramfs}"
cmdline = "console=hvc0 oxitest.action={action}"
"#,
        kernel = kernel.display(),
        initramfs = initramfs.display()
    )
}

/// The partitioned-mode machine booting that LPAR with the L1 initramfs (`l1_initramfs`),
/// its configuration compiled in `dir`.
pub fn lpar_machine(p: &Payload, dir: &Path, action: &str, nested_virt: bool) -> Result<Machine, String> {
    lpar_machine_with(p, &l1_initramfs(p)?, dir, action, nested_virt)
}

/// [`lpar_machine`] with another L1 initramfs (e.g. `crate::l2guest::l2_qemu_initramfs`).
pub fn lpar_machine_with(
    p: &Payload,
    initramfs: &Path,
    dir: &Path,
    action: &str,
    nested_virt: bool,
) -> Result<Machine, String> {
    let initramfs = initramfs.to_path_buf();
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let config = dir.join("nested.toml");
    let text = lpar_config(&p.vmlinux, &initramfs, action, nested_virt);
    std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
    let blob = dir.join("oxicfg.bin");
    crate::lpar::compile(&config, &blob)?;
    let mut machine = crate::lpar::machine();
    machine.kernel = Some(p.vmlinux.clone());
    machine.initrd = Some(initramfs);
    machine.extra = crate::lpar::loader_args(&blob);
    Ok(machine)
}

/// QEMU's own `pseries` machine as the L0 (`cap-nested-papr=on`), booting the L1 initramfs
/// with `oxitest.action={action}`: the reference for an oxiboot LPAR.
pub fn pseries_l0_command(p: &Payload, action: &str) -> Result<Command, String> {
    Ok(pseries_l0_command_with(p, &l1_initramfs(p)?, action, "2G"))
}

/// [`pseries_l0_command`] with another L1 initramfs and `memory` for the L1.
pub fn pseries_l0_command_with(p: &Payload, initramfs: &Path, action: &str, memory: &str) -> Command {
    let mut cmd = Command::new("qemu-system-ppc64");
    cmd.args(["-M", "pseries,cap-nested-papr=on,x-vof=on", "-m", memory, "-smp", "1"])
        .args(["-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot"])
        .arg("-kernel")
        .arg(&p.vmlinux)
        .arg("-initrd")
        .arg(initramfs)
        .args(["-append", &format!("console=hvc0 oxitest.action={action}")]);
    cmd
}
