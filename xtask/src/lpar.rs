//! Partitioned mode for `cargo xtask run` and the tests: a partition configuration compiled
//! into the blob the firmware reads (through QEMU's generic loader), and the QEMU machine it
//! is checked against and booted on (`powernv9`, 4 cores x 4 threads, 4 GiB).

use crate::payload::Payload;
use crate::qemu::Machine;
use oxiboot_hv::config::host::{compile_config, Target};
use oxiboot_hv::config::MachineConfig;
use std::path::{Path, PathBuf};

/// The machine's device tree the configurations are checked against (recorded from QEMU).
pub const MACHINE_DTB: &str = "hv/tests/data/qemu-powernv9-4core-4g.dtb";
/// The example two-LPAR configuration `cargo xtask run` boots by default.
pub const EXAMPLE_CONFIG: &str = "payloads/lpars/qemu-two-lpars.toml";
/// Where the firmware looks for a loaded configuration blob (`CONFIG_LOAD_BASE` in
/// `firmware/src/memmap_consts.rs`).
pub const CONFIG_LOAD_ADDRESS: u64 = 0x01f0_0000;

/// The QEMU machine of partitioned mode: 4 cores x 4 threads, 4 GiB.
pub fn machine() -> Machine {
    Machine { cores: 4, threads: 4, memory: "4G".into(), ..Machine::default() }
}

/// Stable names for the payload inside `target/payloads/` (`vmlinux`, `initramfs.cpio`),
/// which configurations in the repository refer to.
pub fn link_payload(p: &Payload) -> Result<(PathBuf, PathBuf), String> {
    let dir = crate::payload::cache_dir();
    let link = |target: &Path, name: &str| -> Result<PathBuf, String> {
        let at = dir.join(name);
        let _ = std::fs::remove_file(&at);
        std::os::unix::fs::symlink(target, &at).map_err(|e| format!("{}: {e}", at.display()))?;
        Ok(at)
    };
    Ok((link(&p.vmlinux, "vmlinux")?, link(&p.initramfs, "initramfs.cpio")?))
}

/// Compiles `config` for the partitioned-mode machine into `blob`; the errors are printed
/// the way `cargo xtask lpar check` prints them.
pub fn compile(config: &Path, blob: &Path) -> Result<MachineConfig, String> {
    let source = std::fs::read_to_string(config).map_err(|e| format!("{}: {e}", config.display()))?;
    let dtb_path = crate::root().join(MACHINE_DTB);
    let dtb = std::fs::read(&dtb_path).map_err(|e| format!("{}: {e}", dtb_path.display()))?;
    let platform = oxiboot_platform::model::parse_fdt(&dtb).map_err(|e| format!("{MACHINE_DTB}: {e}"))?;
    let base_dir = config.parent().unwrap_or(Path::new("."));
    let target = Target { platform: &platform, pnor_partitions: None, base_dir };
    let name = config.display().to_string();
    let (resolved, bytes) = compile_config(&source, &name, &target)
        .map_err(|errors| errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))?;
    if let Some(dir) = blob.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(blob, bytes).map_err(|e| format!("{}: {e}", blob.display()))?;
    Ok(resolved)
}

/// QEMU arguments that load `blob` where the firmware looks for a configuration.
pub fn loader_args(blob: &Path) -> Vec<String> {
    vec![
        "-device".into(),
        format!("loader,file={},addr={CONFIG_LOAD_ADDRESS:#x},force-raw=on", blob.display()),
    ]
}

/// The machine booting `blob` with the payload's kernel and initramfs preloaded (the files a
/// configuration names must be these).
pub fn partitioned_machine(p: &Payload, blob: &Path) -> Machine {
    let mut m = machine();
    m.kernel = Some(p.vmlinux.clone());
    m.initrd = Some(p.initramfs.clone());
    m.extra = loader_args(blob);
    m
}
