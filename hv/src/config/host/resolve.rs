//! Turns a [`Spec`] into a [`MachineConfig`] for one target machine: unique names and LPIDs,
//! threads ([`super::cpus`]), memory ([`super::memory`]), consoles on UARTs that exist, boot
//! images that exist (files next to the config, partitions in the PNOR layout).

extern crate std;

use super::cpus::assign_threads;
use super::error::ConfigErrorKind;
use super::fields::{Diagnostics, Located};
use super::memory::place_memory;
use super::spec::{ConsoleSpec, CpuSpec, ImageSpec, LparSpec, Spec};
use super::Target;
use crate::config::digest::ImageDigest;
use crate::config::model::{
    partition_name_problem, BootConfig, Console, FirmwareConsole, ImageSource, LparConfig, MachineConfig,
    MAX_IMAGE_NAME_LEN, MAX_LPARS,
};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::io::Read;

/// Resolves `spec` against the target; `None` if anything was wrong (the errors are in `diag`).
pub fn resolve(spec: &Spec, target: &Target<'_>, diag: &mut Diagnostics<'_>) -> Option<MachineConfig> {
    let errors_before = diag.errors.len();
    if spec.lpars.len() > MAX_LPARS {
        let span = spec.lpars.get(MAX_LPARS).map_or(0..0, |lpar| lpar.span.clone());
        diag.report(
            &span,
            "lpar",
            None,
            ConfigErrorKind::TooManyLpars { count: spec.lpars.len(), max: MAX_LPARS },
        );
        return None;
    }
    check_unique(&spec.lpars, diag);
    let threads = assign_threads(&spec.lpars, target.platform, diag);
    let placement = place_memory(&spec.system, &spec.lpars, target.platform, diag);
    let firmware_console = resolve_firmware_console(spec, target, diag);
    let consoles = resolve_consoles(&spec.lpars, firmware_console, target, diag);
    let boots: Vec<Option<BootConfig>> =
        spec.lpars.iter().map(|lpar| resolve_boot(lpar, target, diag)).collect();
    if diag.errors.len() > errors_before {
        return None;
    }

    let mut lpars = Vec::with_capacity(spec.lpars.len());
    for (index, lpar) in spec.lpars.iter().enumerate() {
        lpars.push(LparConfig {
            id: lpar.id.value,
            name: lpar.name.value.clone(),
            threads: threads.get(index).cloned().flatten()?,
            whole_cores: !matches!(lpar.cpus, CpuSpec::Threads(_)),
            memory: placement.lpars.get(index).copied().flatten()?,
            console: consoles.get(index).cloned().flatten()?,
            boot: boots.get(index).cloned().flatten()?,
            autostart: lpar.autostart,
            restart: lpar.restart,
            cpu_compat: lpar.cpu_compat,
            nested: lpar.nested,
        });
    }
    let firmware_console = match spec.system.console.value {
        None => FirmwareConsole::Auto,
        Some(port) => FirmwareConsole::Uart { port },
    };
    Some(MachineConfig { hypervisor: placement.hypervisor?, firmware_console, lpars })
}

/// Duplicate names and LPIDs, reported at the later partition.
fn check_unique(lpars: &[LparSpec], diag: &mut Diagnostics<'_>) {
    for (index, lpar) in lpars.iter().enumerate() {
        let earlier = &lpars[..index];
        if let Some(first) = earlier.iter().find(|other| other.name.value == lpar.name.value) {
            let other_line = diag.line(first.name.span.start);
            diag.at(&lpar.name, Some(&lpar.label), ConfigErrorKind::DuplicateName { other_line });
        }
        if let Some(first) = earlier.iter().find(|other| other.id.value == lpar.id.value) {
            let kind = ConfigErrorKind::DuplicateId {
                id: lpar.id.value,
                other: first.label.clone(),
                other_line: diag.line(first.id.span.start),
            };
            diag.at(&lpar.id, Some(&lpar.label), kind);
        }
    }
}

fn uart_ports(target: &Target<'_>) -> Vec<u32> {
    target.platform.uarts.iter().map(|uart| uart.io_port).collect()
}

/// The I/O port of the firmware console on the target (`None`: auto and the machine has none).
fn resolve_firmware_console(spec: &Spec, target: &Target<'_>, diag: &mut Diagnostics<'_>) -> Option<u32> {
    let console = &spec.system.console;
    match console.value {
        None => target.platform.console_uart().map(|uart| uart.io_port),
        Some(port) => {
            let present = uart_ports(target);
            if !present.contains(&port) {
                diag.at(console, None, ConfigErrorKind::UartNotPresent { port, present });
            }
            Some(port)
        }
    }
}

fn resolve_consoles(
    lpars: &[LparSpec],
    firmware_port: Option<u32>,
    target: &Target<'_>,
    diag: &mut Diagnostics<'_>,
) -> Vec<Option<Console>> {
    let present = uart_ports(target);
    let mut users: Vec<(u32, String)> = Vec::new();
    if let Some(port) = firmware_port {
        users.push((port, "the firmware".to_string()));
    }
    let mut consoles = Vec::with_capacity(lpars.len());
    for lpar in lpars {
        consoles.push(match &lpar.console.value {
            ConsoleSpec::Vty(prefix) => Some(Console::Vty {
                prefix: prefix.clone().unwrap_or_else(|| format!("[{}] ", lpar.name.value)),
            }),
            ConsoleSpec::Uart(port) => {
                let port = *port;
                if !present.contains(&port) {
                    let kind = ConfigErrorKind::UartNotPresent { port, present: present.clone() };
                    diag.at(&lpar.console, Some(&lpar.label), kind);
                    None
                } else if let Some((_, other)) = users.iter().find(|(used, _)| *used == port) {
                    let kind = ConfigErrorKind::UartUsedTwice { port, other: other.clone() };
                    diag.at(&lpar.console, Some(&lpar.label), kind);
                    None
                } else {
                    users.push((port, format!("lpar \"{}\"", lpar.label)));
                    Some(Console::Uart { port })
                }
            }
        });
    }
    consoles
}

fn resolve_boot(lpar: &LparSpec, target: &Target<'_>, diag: &mut Diagnostics<'_>) -> Option<BootConfig> {
    let kernel = resolve_image(&lpar.kernel, lpar, target, diag);
    let initramfs = match &lpar.initramfs {
        Some(image) => Some(resolve_image(image, lpar, target, diag)?),
        None => None,
    };
    Some(BootConfig { kernel: kernel?, initramfs, cmdline: lpar.cmdline.clone() })
}

fn resolve_image(
    image: &Located<ImageSpec>,
    lpar: &LparSpec,
    target: &Target<'_>,
    diag: &mut Diagnostics<'_>,
) -> Option<ImageSource> {
    let l = Some(lpar.label.as_str());
    match &image.value {
        ImageSpec::Partition(name) => {
            if let Some(why) = partition_name_problem(name) {
                diag.at(image, l, ConfigErrorKind::BadPartitionName { why });
                return None;
            }
            if let Some(known) = target.pnor_partitions {
                if !known.iter().any(|k| k == name) {
                    let kind =
                        ConfigErrorKind::UnknownPartition { name: name.clone(), known: known.to_vec() };
                    diag.at(image, l, kind);
                    return None;
                }
            }
            Some(ImageSource::Partition { name: name.clone() })
        }
        ImageSpec::File(name) => {
            if name.len() > MAX_IMAGE_NAME_LEN {
                diag.at(image, l, ConfigErrorKind::TooLong { len: name.len(), max: MAX_IMAGE_NAME_LEN });
                return None;
            }
            let path = target.base_dir.join(name);
            match read_image_file(&path) {
                Ok((size, digest)) => Some(ImageSource::File { name: name.clone(), size, digest }),
                Err(why) => {
                    let kind = ConfigErrorKind::MissingImage { path: path.display().to_string(), why };
                    diag.at(image, l, kind);
                    None
                }
            }
        }
    }
}

/// Size and image digest of a regular file, read in pieces.
fn read_image_file(path: &std::path::Path) -> Result<(u64, u32), String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    if !file.metadata().map_err(|e| e.to_string())?.is_file() {
        return Err("not a regular file".into());
    }
    let mut digest = ImageDigest::new();
    let mut size = 0u64;
    let mut buffer = std::vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        digest.update(buffer.get(..n).unwrap_or_default());
        size += n as u64;
    }
    if size == 0 {
        return Err("the file is empty".into());
    }
    Ok((size, digest.finish()))
}
