//! The human-readable summary `lpar check` prints for a valid config: the LPARs as a table and
//! the memory map of the machine.

use super::cpus::machine_cores;
use crate::config::model::{
    ByteSize, Console, FirmwareConsole, ImageSource, MachineConfig, Region, RestartPolicy,
};
use crate::config::ram::{firmware_blocks, merged_ram};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;
use oxiboot_platform::model::Platform;

/// The summary of `config` on `platform`.
pub fn summary(config: &MachineConfig, platform: &Platform) -> String {
    let mut rows = vec![["id", "name", "cpus", "memory", "console", "boot", "flags"].map(String::from)];
    for lpar in &config.lpars {
        let cores = core_names(&lpar.threads, platform);
        let cpus = if let Some(cores) = cores.filter(|_| lpar.whole_cores) {
            format!("{} ({} threads)", cores.join(" "), lpar.threads.len())
        } else {
            let pirs: Vec<String> = lpar.threads.iter().map(|pir| format!("{pir:#x}")).collect();
            format!("threads {}", pirs.join(" "))
        };
        let console = match &lpar.console {
            Console::Vty { prefix } => format!("vty \"{prefix}\""),
            Console::Uart { port } => format!("uart {port:#x}"),
        };
        let mut boot = image(&lpar.boot.kernel);
        if let Some(initramfs) = &lpar.boot.initramfs {
            boot.push_str(" + ");
            boot.push_str(&image(initramfs));
        }
        let mut flags = Vec::new();
        if lpar.autostart {
            flags.push("autostart".to_string());
        }
        if lpar.restart != RestartPolicy::Never {
            flags.push(format!("restart={}", lpar.restart.keyword()));
        }
        flags.push(lpar.cpu_compat.keyword().to_string());
        if let Some(nested) = lpar.nested {
            flags.push(format!("nested(L2 guests {}, vCPUs {})", nested.max_l2_guests, nested.max_l2_vcpus));
        }
        rows.push([
            lpar.id.to_string(),
            lpar.name.clone(),
            cpus,
            lpar.memory.to_string(),
            console,
            boot,
            flags.join(","),
        ]);
    }

    let mut out = String::new();
    let cores = machine_cores(platform);
    let _ = writeln!(
        out,
        "machine: {} chip(s), {} cores, {} threads, {} RAM",
        platform.chips.len(),
        cores.len(),
        platform.thread_count(),
        ByteSize(platform.ram_total())
    );
    let _ = match config.firmware_console {
        FirmwareConsole::Auto => match platform.console_uart() {
            Some(uart) => writeln!(out, "firmware console: auto (UART {:#x})", uart.io_port),
            None => writeln!(out, "firmware console: auto (no UART on this machine)"),
        },
        FirmwareConsole::Uart { port } => writeln!(out, "firmware console: UART {port:#x}"),
    };
    out.push('\n');
    write_table(&mut out, &rows);
    out.push_str("\nmemory map:\n");
    for (region, owner) in memory_map(config, platform) {
        let region = region.to_string();
        let _ = writeln!(out, "  {region:<40} {owner}");
    }
    out
}

fn image(source: &ImageSource) -> String {
    match source {
        ImageSource::Partition { name } => format!("flash:{name}"),
        ImageSource::File { name, size, .. } => format!("{name} ({})", ByteSize(*size)),
    }
}

/// `chip:core` names of the cores the threads make up, if they make up whole cores of
/// `platform`.
fn core_names(threads: &[u32], platform: &Platform) -> Option<Vec<String>> {
    let cores: Vec<_> = machine_cores(platform)
        .into_iter()
        .filter(|core| core.threads.iter().any(|pir| threads.contains(pir)))
        .collect();
    let covered: usize = cores.iter().map(|core| core.threads.len()).sum();
    let whole = cores.iter().all(|core| core.threads.iter().all(|pir| threads.contains(pir)));
    (whole && covered == threads.len())
        .then(|| cores.iter().map(|c| format!("{}:{}", c.chip, c.number)).collect())
}

/// Every range of RAM with its owner, free ranges included, in address order.
fn memory_map(config: &MachineConfig, platform: &Platform) -> Vec<(Region, String)> {
    let mut owned: Vec<(Region, String)> =
        firmware_blocks().into_iter().map(|region| (region, "firmware".to_string())).collect();
    owned.push((config.hypervisor, "hypervisor".to_string()));
    for lpar in &config.lpars {
        owned.push((lpar.memory, format!("lpar {} \"{}\"", lpar.id, lpar.name)));
    }
    owned.sort();
    let mut map = Vec::new();
    for ram in merged_ram(platform) {
        let mut cursor = ram.base;
        for (region, owner) in owned.iter().filter(|(region, _)| region.overlaps(&ram)) {
            if region.base > cursor {
                map.push((Region { base: cursor, size: region.base - cursor }, "free".to_string()));
            }
            map.push((*region, owner.clone()));
            cursor = cursor.max(region.end());
        }
        if ram.end() > cursor {
            map.push((Region { base: cursor, size: ram.end() - cursor }, "free".to_string()));
        }
    }
    map
}

fn write_table<const N: usize>(out: &mut String, rows: &[[String; N]]) {
    let mut widths = [0usize; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::from(" ");
        for (width, cell) in widths.iter().zip(row) {
            let _ = write!(line, " {cell:<width$} ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}
