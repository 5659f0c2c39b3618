//! The platform model: the machine oxiboot runs on, as the boot firmware before it describes
//! it (a flattened device tree from QEMU or hostboot; HDAT on FSP machines is turned into
//! one first). Chips with their XSCOM windows and cores/threads, memory, the timebase, the
//! LPC bus and the devices on it (UARTs, the IPMI BT interface to the BMC, the flash window),
//! and what `/chosen` carries.

mod cells;
mod from_fdt;

pub use cells::{read_cells, CellError};
pub use from_fdt::{parse_fdt, parse_fdt_with_console, ParseOutcome};

use crate::lpc::LpcBus;
use crate::xscom::XscomWindow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A processor core: its threads are hardware threads with their own PIR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Core {
    /// Device-tree path of the core's node.
    pub path: String,
    /// PIR of the core's first thread (the node's `reg`).
    pub pir: u32,
    /// PIRs of all its threads (`ibm,ppc-interrupt-server#s`).
    pub threads: Vec<u32>,
    /// Processor version register value (`cpu-version`), if given.
    pub pvr: Option<u32>,
}

/// A processor chip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chip {
    /// Chip id (`ibm,chip-id`).
    pub id: u32,
    /// The chip's XSCOM window.
    pub xscom: XscomWindow,
    /// Its cores, by PIR.
    pub cores: Vec<Core>,
}

/// A range of RAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryRange {
    /// First byte.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
    /// Chip the memory is attached to, if the tree says.
    pub chip_id: Option<u32>,
}

impl MemoryRange {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }
}

/// A 16550 UART on the LPC bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uart {
    /// Device-tree path.
    pub path: String,
    /// LPC I/O port.
    pub io_port: u32,
    /// Physical address of its registers.
    pub mmio: u64,
    /// Input clock (`clock-frequency`).
    pub clock_hz: u32,
    /// Configured speed (`current-speed`).
    pub baud: u32,
    /// LPC interrupt number, if any.
    pub irq: Option<u32>,
}

/// The IPMI BT interface to the BMC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BmcInterface {
    /// Device-tree path.
    pub path: String,
    /// LPC I/O port of the first register.
    pub io_port: u32,
    /// Physical address of the first register.
    pub mmio: u64,
    /// LPC interrupt number, if any.
    pub irq: Option<u32>,
}

/// A byte-register device on the LPC I/O bus (the real-time clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LpcIoDevice {
    /// Device-tree path.
    pub path: String,
    /// LPC I/O port of the first register.
    pub io_port: u32,
    /// Physical address of the first register.
    pub mmio: u64,
}

/// Where the host flash can be read: the LPC firmware space of the primary LPC bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlashWindow {
    /// Physical address of LPC firmware address 0.
    pub mmio: u64,
    /// Size of the firmware space window.
    pub size: u64,
}

/// What `/chosen` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chosen {
    /// Kernel command line (`bootargs`), empty if none.
    pub bootargs: String,
    /// Initial ramdisk `[start, end)`, if given.
    pub initrd: Option<(u64, u64)>,
    /// `stdout-path`, if given.
    pub stdout_path: Option<String>,
}

/// The whole machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// Root `model` string.
    pub model: String,
    /// Root `compatible` strings.
    pub compatible: Vec<String>,
    /// Chips, by id.
    pub chips: Vec<Chip>,
    /// RAM ranges, by base address.
    pub memory: Vec<MemoryRange>,
    /// Timebase frequency in Hz.
    pub timebase_hz: u64,
    /// The primary LPC bus, if any.
    pub lpc: Option<LpcBus>,
    /// UARTs on the primary LPC bus, by I/O port.
    pub uarts: Vec<Uart>,
    /// The BMC interface, if any.
    pub bmc: Option<BmcInterface>,
    /// The MC146818 real-time clock, if any.
    pub rtc: Option<LpcIoDevice>,
    /// The flash window, if the LPC firmware space is mapped.
    pub flash: Option<FlashWindow>,
    /// `/chosen`.
    pub chosen: Chosen,
}

impl Platform {
    /// All hardware threads, in chip, core, thread order.
    pub fn threads(&self) -> impl Iterator<Item = u32> + '_ {
        self.chips.iter().flat_map(|c| c.cores.iter()).flat_map(|core| core.threads.iter().copied())
    }

    /// Number of hardware threads.
    pub fn thread_count(&self) -> usize {
        self.threads().count()
    }

    /// XSCOM windows of all chips.
    pub fn xscom_windows(&self) -> Vec<XscomWindow> {
        self.chips.iter().map(|c| c.xscom).collect()
    }

    /// Whether `[base, base + size)` lies entirely in one RAM range.
    pub fn ram_contains(&self, base: u64, size: u64) -> bool {
        let Some(end) = base.checked_add(size) else { return false };
        self.memory.iter().any(|m| m.base <= base && end <= m.end())
    }

    /// Total RAM in bytes.
    pub fn ram_total(&self) -> u64 {
        self.memory.iter().map(|m| m.size).fold(0, u64::saturating_add)
    }

    /// The UART to use as the firmware console: the one `/chosen/stdout-path` names, else
    /// COM1 (I/O port 0x3f8, QEMU's first `-serial`), else the lowest I/O port.
    pub fn console_uart(&self) -> Option<&Uart> {
        let wanted = self.chosen.stdout_path.as_deref();
        wanted
            .and_then(|p| self.uarts.iter().find(|u| u.path == p))
            .or_else(|| self.uarts.iter().find(|u| u.io_port == COM1_PORT))
            .or_else(|| self.uarts.first())
    }
}

/// The LPC I/O port of the first PC serial port (COM1), QEMU's first `-serial`.
pub const COM1_PORT: u32 = 0x3f8;

/// Why the device tree could not be turned into a platform model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// The blob is not a valid flattened device tree.
    InvalidFdt(oxiboot_devtree::FdtError),
    /// No memory node with a non-empty `reg`.
    NoMemory,
    /// No CPU nodes under `/cpus`.
    NoCpus,
    /// A node lacks a property the model needs.
    MissingProperty {
        /// Device-tree path.
        node: String,
        /// Property name.
        property: &'static str,
    },
    /// A property has the wrong size or an impossible value.
    BadProperty {
        /// Device-tree path.
        node: String,
        /// Property name.
        property: &'static str,
    },
    /// CPU nodes disagree on `timebase-frequency`.
    TimebaseMismatch {
        /// The node that disagrees with the first one.
        node: String,
    },
    /// A chip has cores but no XSCOM window.
    ChipWithoutXscom(u32),
    /// Two XSCOM nodes claim the same chip.
    DuplicateChip(u32),
    /// Two CPU nodes list the same thread.
    DuplicateThread(u32),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidFdt(why) => write!(f, "device tree is not a valid FDT: {why}"),
            Self::NoMemory => write!(f, "device tree has no memory node (device_type \"memory\" with a reg)"),
            Self::NoCpus => write!(f, "device tree has no CPU nodes under /cpus"),
            Self::MissingProperty { node, property } => {
                write!(f, "device tree node {node} lacks property \"{property}\"")
            }
            Self::BadProperty { node, property } => {
                write!(f, "device tree node {node} has a malformed \"{property}\"")
            }
            Self::TimebaseMismatch { node } => {
                write!(f, "{node}: timebase-frequency differs from the other CPUs")
            }
            Self::ChipWithoutXscom(c) => write!(f, "chip {c} has cores but no XSCOM node"),
            Self::DuplicateChip(c) => write!(f, "two XSCOM nodes for chip {c}"),
            Self::DuplicateThread(t) => write!(f, "thread PIR {t:#x} listed twice"),
        }
    }
}
