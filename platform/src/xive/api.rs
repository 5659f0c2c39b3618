//! What the OPAL layer sees of the controller: the [`XiveOps`] trait (one method per OPAL
//! XIVE call) and the values the calls return.

use super::XiveError;

/// Answer of OPAL_XIVE_GET_IRQ_INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IrqInfo {
    /// `irq_flags` bits.
    pub flags: u64,
    /// ESB page for EOI and PQ changes.
    pub eoi_page: u64,
    /// Separate trigger page, or 0.
    pub trig_page: u64,
    /// log2 of the ESB space of the source.
    pub esb_shift: u32,
    /// Chip holding the source.
    pub src_chip: u32,
}

/// Answer of OPAL_XIVE_GET_IRQ_CONFIG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IrqConfig {
    /// Target VP id (0 when never routed).
    pub vp: u64,
    /// Priority, [`PRIO_MASKED`] when masked.
    pub prio: u8,
    /// Data written to the queue.
    pub lirq: u32,
}

/// Answer of OPAL_XIVE_GET_QUEUE_INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueInfo {
    /// Queue page (0: none).
    pub qpage: u64,
    /// log2 of the queue size (0: none).
    pub qshift: u64,
    /// The END's ESB page (for the OS's queue EOI).
    pub qeoi_page: u64,
    /// The END's escalation interrupt number.
    pub escalate_irq: u32,
    /// `queue_flags` bits.
    pub flags: u64,
}

/// Answer of OPAL_XIVE_GET_VP_INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VpInfo {
    /// `vp_flags` bits.
    pub flags: u64,
    /// CAM line value (block << 19 | index) to push into a TIMA ring.
    pub cam: u64,
    /// Reporting cache line pair address.
    pub report_cl_pair: u64,
    /// Chip holding the VP.
    pub chip_id: u32,
}

/// What the interrupt controller device-tree node needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtInfo {
    /// `reg`: the four TIMA views (hardware, hypervisor, OS, user) as (address, size).
    pub tima: [(u64, u64); 4],
    /// `ibm,xive-eq-sizes`.
    pub eq_sizes: [u32; 4],
    /// `ibm,xive-#priorities`.
    pub priorities: u32,
}

/// The operations behind the OPAL XIVE calls (object safe, for the OPAL layer).
pub trait XiveOps {
    /// OPAL_XIVE_RESET: mask everything, drop the OS's queues, VPs and IPIs; `mode` 0
    /// (emulation, unsupported afterwards) or 1 (exploitation).
    fn reset(&mut self, mode: u64) -> Result<(), XiveError>;
    /// OPAL_XIVE_GET_IRQ_INFO.
    fn irq_info(&mut self, girq: u32) -> Result<IrqInfo, XiveError>;
    /// OPAL_XIVE_GET_IRQ_CONFIG.
    fn irq_config(&mut self, girq: u32) -> Result<IrqConfig, XiveError>;
    /// OPAL_XIVE_SET_IRQ_CONFIG: route `girq` to `vp` at `prio` (masked at 0xff) with `lirq`.
    fn set_irq_config(&mut self, girq: u32, vp: u64, prio: u8, lirq: u32) -> Result<(), XiveError>;
    /// OPAL_XIVE_GET_QUEUE_INFO.
    fn queue_info(&mut self, vp: u64, prio: u8) -> Result<QueueInfo, XiveError>;
    /// OPAL_XIVE_SET_QUEUE_INFO. The caller has checked that the queue page is OS RAM.
    fn set_queue_info(
        &mut self,
        vp: u64,
        prio: u8,
        qpage: u64,
        qshift: u64,
        flags: u64,
    ) -> Result<(), XiveError>;
    /// OPAL_XIVE_GET_QUEUE_STATE: (toggle, index).
    fn queue_state(&mut self, vp: u64, prio: u8) -> Result<(u32, u32), XiveError>;
    /// OPAL_XIVE_SET_QUEUE_STATE.
    fn set_queue_state(&mut self, vp: u64, prio: u8, toggle: u32, index: u32) -> Result<(), XiveError>;
    /// OPAL_XIVE_DONATE_PAGE (tables are pre-allocated: the page is checked, not kept).
    fn donate_page(&mut self, chip_id: u32, addr: u64) -> Result<(), XiveError>;
    /// OPAL_XIVE_ALLOCATE_VP_BLOCK: the first VP id of 2^`order` VPs.
    fn allocate_vp_block(&mut self, order: u64) -> Result<u32, XiveError>;
    /// OPAL_XIVE_FREE_VP_BLOCK.
    fn free_vp_block(&mut self, vp: u64) -> Result<(), XiveError>;
    /// OPAL_XIVE_GET_VP_INFO.
    fn vp_info(&mut self, vp: u64) -> Result<VpInfo, XiveError>;
    /// OPAL_XIVE_SET_VP_INFO.
    fn set_vp_info(&mut self, vp: u64, flags: u64, report_cl_pair: u64) -> Result<(), XiveError>;
    /// OPAL_XIVE_GET_VP_STATE: words 4-5 of the NVT.
    fn vp_state(&mut self, vp: u64) -> Result<u64, XiveError>;
    /// OPAL_XIVE_ALLOCATE_IRQ on `chip_id` ([`ANY_CHIP`]: the caller's first).
    fn allocate_irq(&mut self, chip_id: u32, caller_pir: u32) -> Result<u32, XiveError>;
    /// OPAL_XIVE_FREE_IRQ.
    fn free_irq(&mut self, girq: u32) -> Result<(), XiveError>;
    /// OPAL_XIVE_SYNC.
    fn sync(&mut self, kind: u32, girq: u32) -> Result<(), XiveError>;
}
