//! The firmware's boot-time re-check of a parsed configuration against the machine it actually
//! runs on (the platform model from the device tree): the hypervisor reservation and every
//! LPAR's memory are RAM, every thread exists, whole cores are still whole, every UART exists.
//!
//! Policy (`docs/lpar-config.md`, "What the firmware does"): a problem with the system part
//! (hypervisor memory, firmware console) refuses every LPAR; a problem with one LPAR keeps that
//! LPAR from starting and lets the others start, since their resources are disjoint from it.

use super::model::{Console, FirmwareConsole, LparConfig, MachineConfig, Region};
use super::ram::{merged_ram, ram_covers};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use oxiboot_platform::model::Platform;

/// What does not match the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MismatchKind {
    /// The hypervisor reservation is not RAM here.
    HypervisorMemoryMissing(Region),
    /// The firmware console UART does not exist.
    FirmwareConsoleMissing {
        /// LPC I/O port.
        port: u32,
    },
    /// An LPAR's memory is not RAM here.
    MemoryMissing(Region),
    /// Some of an LPAR's threads do not exist.
    ThreadsMissing {
        /// Their PIRs.
        pirs: Vec<u32>,
    },
    /// An LPAR given whole cores lacks some threads of one of its cores (the machine runs
    /// more threads per core than the target the config was checked against).
    CoreNotWhole {
        /// PIR of the core's first thread.
        core_pir: u32,
        /// A thread of that core the LPAR does not have.
        missing_pir: u32,
    },
    /// An LPAR's console UART does not exist.
    UartMissing {
        /// LPC I/O port.
        port: u32,
    },
    /// An LPAR's console UART is the one the firmware uses.
    UartIsFirmwareConsole {
        /// LPC I/O port.
        port: u32,
    },
}

impl fmt::Display for MismatchKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HypervisorMemoryMissing(region) => {
                write!(f, "hypervisor memory {region} is not RAM on this machine")
            }
            Self::FirmwareConsoleMissing { port } => {
                write!(f, "firmware console: no UART at I/O port {port:#x}")
            }
            Self::MemoryMissing(region) => write!(f, "memory {region} is not RAM on this machine"),
            Self::ThreadsMissing { pirs } => {
                write!(f, "threads: no hardware thread with PIR")?;
                for pir in pirs {
                    write!(f, " {pir:#x}")?;
                }
                Ok(())
            }
            Self::CoreNotWhole { core_pir, missing_pir } => {
                write!(
                    f,
                    "cores: core {core_pir:#x} has thread {missing_pir:#x}, which this LPAR was not given"
                )
            }
            Self::UartMissing { port } => write!(f, "console: no UART at I/O port {port:#x}"),
            Self::UartIsFirmwareConsole { port } => {
                write!(f, "console: UART {port:#x} is the firmware console on this machine")
            }
        }
    }
}

/// One mismatch, and whom it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The LPAR (LPID, name), or `None` for the system part.
    pub lpar: Option<(u32, String)>,
    /// What is wrong.
    pub kind: MismatchKind,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.lpar {
            Some((id, name)) => write!(f, "LPAR {id} \"{name}\": {} (LPAR not started)", self.kind),
            None => write!(f, "system: {} (no LPAR started)", self.kind),
        }
    }
}

/// Everything that does not match, in config order (system first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecheckFailure {
    /// The mismatches, at least one.
    pub mismatches: Vec<Mismatch>,
}

impl RecheckFailure {
    /// Whether a system-level mismatch forbids starting any LPAR.
    pub fn refuses_everything(&self) -> bool {
        self.mismatches.iter().any(|m| m.lpar.is_none())
    }

    /// Whether the LPAR with this LPID may still start.
    pub fn may_start(&self, id: u32) -> bool {
        !self.refuses_everything()
            && !self.mismatches.iter().any(|m| m.lpar.as_ref().is_some_and(|(l, _)| *l == id))
    }
}

impl fmt::Display for RecheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, mismatch) in self.mismatches.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{mismatch}")?;
        }
        Ok(())
    }
}

/// Checks `config` against `platform`; on failure, [`RecheckFailure::may_start`] tells which
/// LPARs may still start.
pub fn check_against(config: &MachineConfig, platform: &Platform) -> Result<(), RecheckFailure> {
    let ram = merged_ram(platform);
    let mut mismatches = Vec::new();
    let mut system = |kind| mismatches.push(Mismatch { lpar: None, kind });
    if !ram_covers(&ram, &config.hypervisor) {
        system(MismatchKind::HypervisorMemoryMissing(config.hypervisor));
    }
    let firmware_port = match config.firmware_console {
        FirmwareConsole::Auto => platform.console_uart().map(|uart| uart.io_port),
        FirmwareConsole::Uart { port } => {
            if !platform.uarts.iter().any(|uart| uart.io_port == port) {
                system(MismatchKind::FirmwareConsoleMissing { port });
            }
            Some(port)
        }
    };
    for lpar in &config.lpars {
        for kind in lpar_mismatches(lpar, platform, &ram, firmware_port) {
            mismatches.push(Mismatch { lpar: Some((lpar.id, lpar.name.clone())), kind });
        }
    }
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(RecheckFailure { mismatches })
    }
}

fn lpar_mismatches(
    lpar: &LparConfig,
    platform: &Platform,
    ram: &[Region],
    firmware_port: Option<u32>,
) -> Vec<MismatchKind> {
    let mut found = Vec::new();
    if !ram_covers(ram, &lpar.memory) {
        found.push(MismatchKind::MemoryMissing(lpar.memory));
    }
    let cores = || platform.chips.iter().flat_map(|chip| chip.cores.iter());
    let mut missing = Vec::new();
    for &pir in &lpar.threads {
        let Some(core) = cores().find(|core| core.threads.contains(&pir)) else {
            missing.push(pir);
            continue;
        };
        // Report each core once: at its first thread the LPAR has.
        let first_of_core = core.threads.iter().find(|t| lpar.threads.contains(t)) == Some(&pir);
        if lpar.whole_cores && first_of_core {
            if let Some(&missing_pir) = core.threads.iter().find(|t| !lpar.threads.contains(t)) {
                found.push(MismatchKind::CoreNotWhole { core_pir: core.pir, missing_pir });
            }
        }
    }
    if !missing.is_empty() {
        found.push(MismatchKind::ThreadsMissing { pirs: missing });
    }
    if let Console::Uart { port } = lpar.console {
        if !platform.uarts.iter().any(|uart| uart.io_port == port) {
            found.push(MismatchKind::UartMissing { port });
        } else if firmware_port == Some(port) {
            found.push(MismatchKind::UartIsFirmwareConsole { port });
        }
    }
    found
}
