//! XIVE (eXternal Interrupt Virtualization Engine), the POWER9 interrupt controller.
//!
//! Each chip has one XIVE with three engines: the VC (virtualization controller) turns a
//! source event into a queue entry by way of the EAS (event assignment) and END (event
//! notification descriptor) tables; the PC (presentation controller) matches the END's
//! NVT (notification virtual target) against the threads' contexts and raises the
//! interrupt; the TIMA (thread interrupt management area) is each thread's window onto its
//! context. The firmware programs the BARs, owns the tables and, through the OPAL calls,
//! lets Linux drive the controller in *exploitation* mode (`ibm,opal-xive-pe`): Linux
//! brings its own queue pages, allocates interrupts, configures routes, and acknowledges and
//! EOIs interrupts itself through the TIMA and the ESB (event state buffer) pages. See
//! `docs/xive.md` for the hardware facts and the boot flow.
//!
//! Files: [`regs`] (register map), [`tables`] (EAS/END/NVT/VSD formats), [`hw`] (bus traits),
//! `chip` (per-chip programming sequences), `state` (allocators, VP numbering), `ops`
//! ([`Xive`] and its boot-time API), `api` ([`XiveOps`], the OPAL-facing interface) and
//! `calls` (its implementation).

mod api;
mod calls;
mod chip;
pub mod hw;
mod ops;
pub mod regs;
mod state;
pub mod tables;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_ops;

pub use api::{DtInfo, IrqConfig, IrqInfo, QueueInfo, VpInfo, XiveOps};
pub use hw::{MmioAccess, PhysMem, XiveHw, XscomAccess};
pub use ops::Xive;

/// Number of priorities (and queues per virtual processor); 7 is the least favoured.
pub const PRIORITIES: u8 = 8;
/// Priority value meaning "masked" in the OPAL calls.
pub const PRIO_MASKED: u8 = 0xff;
/// First interrupt index handed out as an IPI (lower numbers are never used: Linux treats
/// 0 as "no interrupt" and XICS reserved 2).
pub const FIRST_IPI: u32 = 0x10;
/// NVT index of hardware thread `pir`: 0x80 + the thread's number within its chip. The PC
/// matches a thread's hardware ring against exactly this value.
pub const fn hw_vp_index(pir: u32) -> u32 {
    0x80 | (pir & 0x7f)
}

/// Flags of OPAL_XIVE_GET_IRQ_INFO.
pub mod irq_flags {
    /// The source has a separate trigger page.
    pub const TRIGGER_PAGE: u64 = 0x1;
    /// EOI by store (never set: store EOI is off on POWER9).
    pub const STORE_EOI: u64 = 0x2;
    /// Level-sensitive source.
    pub const LSI: u64 = 0x4;
}

/// Flags of OPAL_XIVE_GET/SET_QUEUE_INFO.
pub mod queue_flags {
    /// The queue is enabled.
    pub const ENABLED: u64 = 0x1;
    /// Notify on every event.
    pub const ALWAYS_NOTIFY: u64 = 0x2;
    /// Escalate when the target is not dispatched.
    pub const ESCALATE: u64 = 0x4;
}

/// Flags of OPAL_XIVE_GET/SET_VP_INFO.
pub mod vp_flags {
    /// The virtual processor is enabled.
    pub const ENABLED: u64 = 0x1;
    /// All queues escalate through one interrupt (not offered: no
    /// `single-escalation-support` property).
    pub const SINGLE_ESCALATION: u64 = 0x2;
}

/// Kinds of OPAL_XIVE_SYNC (bits, cumulative).
pub mod sync_kind {
    /// Events of the source have reached their END.
    pub const EAS: u32 = 0x1;
    /// Events for the source's target have reached its queue.
    pub const QUEUE: u32 = 0x2;
}

/// `chip_id` argument of OPAL_XIVE_ALLOCATE_IRQ meaning "any chip".
pub const ANY_CHIP: u32 = 0xffff_ffff;

/// Why an operation failed; each maps to one OPAL return code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XiveError {
    /// An argument is out of range or names nothing (`OPAL_PARAMETER`).
    Parameter,
    /// The hardware stayed busy; retry (`OPAL_BUSY`).
    Busy,
    /// No free interrupt or virtual processor left (`OPAL_RESOURCE`).
    Resource,
    /// Not in the mode the call needs, or the object is disabled (`OPAL_WRONG_STATE`).
    WrongState,
    /// A register access failed or a completion never came (`OPAL_HARDWARE`).
    Hardware,
    /// The firmware's own setup is inconsistent (`OPAL_INTERNAL_ERROR`).
    Internal,
    /// The request is valid but not supported (`OPAL_UNSUPPORTED`).
    Unsupported,
    /// A virtual processor of the block is still enabled (`OPAL_XIVE_FREE_ACTIVE`).
    FreeActive,
    /// Not enough memory in the region given to a chip.
    NoMemory,
}

impl XiveError {
    /// The OPAL return code.
    pub const fn opal_rc(self) -> i64 {
        match self {
            Self::Parameter => -1,
            Self::Busy => -2,
            Self::Hardware => -6,
            Self::Unsupported => -7,
            Self::NoMemory => -9,
            Self::Resource => -10,
            Self::Internal => -11,
            Self::WrongState => -14,
            Self::FreeActive => -32,
        }
    }
}

/// Sizes of the per-chip tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XiveConfig {
    /// Interrupt sources per chip (EAS entries): a power of two, 16 Ki..=1 Mi.
    pub irqs_per_chip: u32,
    /// Virtual processors per chip (NVT entries, 8 ENDs each): a power of two,
    /// 256..=128 Ki. Indices 0x80-0xff are the hardware threads.
    pub vps_per_chip: u32,
}

impl Default for XiveConfig {
    fn default() -> Self {
        Self { irqs_per_chip: 1 << 16, vps_per_chip: 1 << 12 }
    }
}

impl XiveConfig {
    fn check(&self) -> Result<(), XiveError> {
        let irqs_ok =
            self.irqs_per_chip.is_power_of_two() && (1 << 14..=1 << 20).contains(&self.irqs_per_chip);
        let vps_ok = self.vps_per_chip.is_power_of_two() && (1 << 8..=1 << 17).contains(&self.vps_per_chip);
        if irqs_ok && vps_ok {
            Ok(())
        } else {
            Err(XiveError::Parameter)
        }
    }

    /// Bytes of table memory one chip needs, when its region is aligned to
    /// [`region_align`](Self::region_align).
    pub fn region_size(&self) -> u64 {
        chip::TableLayout::new(self, 0).map(|l| l.end).unwrap_or(0)
    }

    /// Alignment the chip region needs for [`region_size`](Self::region_size) to suffice.
    pub fn region_align(&self) -> u64 {
        chip::TableLayout::largest(self)
    }
}

/// Firmware RAM given to one chip for its tables (reserved from the OS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Physical base address.
    pub base: u64,
    /// Size in bytes.
    pub len: u64,
}

/// Where a chip's XIVE appears in the physical address space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bars {
    /// IC BAR: 8 pages of 64 KiB (registers, notify port, LSI, indirect TIMA).
    pub ic: u64,
    /// TIMA BAR: 4 views of 64 KiB; the same address on every chip.
    pub tm: u64,
    /// PC BAR (NVT pages, used for cross-chip NVT forwarding).
    pub pc: u64,
    /// PC BAR size (a power of two).
    pub pc_size: u64,
    /// VC BAR: source ESB pages (first 48 of 64 sets) then END ESB pages (last 16 sets).
    pub vc: u64,
    /// VC BAR size (a power of two).
    pub vc_size: u64,
}

impl Bars {
    /// The POWER9 memory map used by QEMU `powernv9` and skiboot for chip `chip_id`.
    pub const fn p9(chip_id: u32) -> Self {
        let chip = (chip_id as u64) << 42;
        Self {
            ic: 0x0006_0302_0310_0000 + chip,
            tm: 0x0006_0302_0318_0000,
            pc: 0x0006_0180_0000_0000 + chip,
            pc_size: 1 << 36,
            vc: 0x0006_0100_0000_0000 + chip,
            vc_size: 1 << 39,
        }
    }

    /// Base of the END ESB pages in the VC BAR.
    pub const fn end_esb_base(&self) -> u64 {
        self.vc + (self.vc_size / chip::VC_SETS) * chip::VC_IPI_SETS
    }

    /// The notify port (IC page 1), where sources and remote controllers send triggers.
    pub const fn notify_page(&self) -> u64 {
        self.ic + regs::ic_page::NOTIFY * chip::IC_PAGE
    }
}

/// A chip to bring up.
#[derive(Debug, Clone, Copy)]
pub struct ChipDesc<'a> {
    /// `ibm,chip-id`.
    pub chip_id: u32,
    /// PCB address of the unit (`reg` of `xive@5013000`).
    pub xscom_base: u32,
    /// Physical placement of the BARs.
    pub bars: Bars,
    /// Table memory.
    pub region: Region,
    /// PIRs of the chip's hardware threads.
    pub threads: &'a [u32],
}
