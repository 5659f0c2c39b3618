//! XIVE register map: the CQ (common queue, the PowerBus bridge) registers reached over
//! XSCOM before the interrupt controller BAR exists, the IC (interrupt controller) register
//! page reached by MMIO afterwards, the VSD (virtual structure descriptor) format, and the
//! MMIO offsets of the ESB (event state buffer) and TIMA (thread interrupt management area)
//! pages.
//!
//! Names are those of the POWER9 XIVE documentation as used by skiboot and QEMU
//! (`xive-p9-regs.h`, `pnv_xive_regs.h`, `xive_regs.h`). Bit numbers are IBM numbers
//! (bit 0 = most significant), converted with [`bit`] and [`mask`].

/// IBM bit `n` of a 64-bit register.
pub const fn bit(n: u32) -> u64 {
    1u64 << (63 - n)
}

/// IBM bits `start..=end` of a 64-bit register.
pub const fn mask(start: u32, end: u32) -> u64 {
    (bit(start) - bit(end)) | bit(start)
}

/// IBM bit `n` of a 32-bit word.
pub const fn bit32(n: u32) -> u32 {
    1u32 << (31 - n)
}

/// IBM bits `start..=end` of a 32-bit word.
pub const fn mask32(start: u32, end: u32) -> u32 {
    (bit32(start) - bit32(end)) | bit32(start)
}

/// `value` placed in the field `mask` of a 64-bit word (extra high bits are dropped).
pub const fn field(mask: u64, value: u64) -> u64 {
    (value << mask.trailing_zeros()) & mask
}

/// The field `mask` of `word`.
pub const fn get_field(mask: u64, word: u64) -> u64 {
    (word & mask) >> mask.trailing_zeros()
}

/// `word` with the field `mask` replaced by `value`.
pub const fn set_field(mask: u64, word: u64, value: u64) -> u64 {
    (word & !mask) | field(mask, value)
}

/// `value` placed in the field `mask` of a 32-bit word.
pub const fn field32(mask: u32, value: u32) -> u32 {
    (value << mask.trailing_zeros()) & mask
}

/// The field `mask` of the 32-bit `word`.
pub const fn get_field32(mask: u32, word: u32) -> u32 {
    (word & mask) >> mask.trailing_zeros()
}

/// `word` with the 32-bit field `mask` replaced by `value`.
pub const fn set_field32(mask: u32, word: u32, value: u32) -> u32 {
    (word & !mask) | field32(mask, value)
}

/// PCB address of the XIVE XSCOM unit (`xive@5013000` under each chip's `xscom` node).
pub const XSCOM_BASE: u32 = 0x0501_3000;
/// Number of XSCOM registers of the unit (`reg` size of the node).
pub const XSCOM_SIZE: u32 = 0x300;

/// CQ registers as XSCOM register numbers (added to the unit's PCB address). Only these are
/// used over XSCOM: they set up the BARs; everything else goes through IC page 0.
pub mod x {
    /// PowerBus general configuration (`X_CQ_CFG_PB_GEN`).
    pub const CQ_CFG_PB_GEN: u32 = 0x0a;
    /// Interrupt controller BAR (`X_CQ_IC_BAR`).
    pub const CQ_IC_BAR: u32 = 0x10;
    /// First thread management area BAR (`X_CQ_TM1_BAR`).
    pub const CQ_TM1_BAR: u32 = 0x12;
    /// Second thread management area BAR (`X_CQ_TM2_BAR`).
    pub const CQ_TM2_BAR: u32 = 0x14;
    /// Presentation controller BAR (`X_CQ_PC_BAR`).
    pub const CQ_PC_BAR: u32 = 0x16;
    /// Presentation controller BAR size mask (`X_CQ_PC_BARM`).
    pub const CQ_PC_BARM: u32 = 0x17;
    /// Virtualization controller BAR (`X_CQ_VC_BAR`).
    pub const CQ_VC_BAR: u32 = 0x18;
    /// Virtualization controller BAR size mask (`X_CQ_VC_BARM`).
    pub const CQ_VC_BARM: u32 = 0x19;
    /// PowerBus interface control: page sizes (`X_CQ_PBI_CTL`).
    pub const CQ_PBI_CTL: u32 = 0x20;
}

/// IC page 0: register offsets (MMIO, 8-byte big-endian accesses).
pub mod ic {
    use super::{bit, mask};

    /// PowerBus general configuration.
    pub const CQ_CFG_PB_GEN: u64 = 0x050;
    /// `CQ_INT_ADDR_OPT`: 2 = one block per chip.
    pub const CQ_INT_ADDR_OPT: u64 = mask(14, 15);
    /// Interrupt controller BAR (also `x::CQ_IC_BAR`).
    pub const CQ_IC_BAR: u64 = 0x080;
    /// `CQ_IC_BAR_VALID`.
    pub const CQ_IC_BAR_VALID: u64 = bit(0);
    /// `CQ_IC_BAR_64K`: 64 KiB IC pages.
    pub const CQ_IC_BAR_64K: u64 = bit(1);
    /// `CQ_TM_BAR_VALID`.
    pub const CQ_TM_BAR_VALID: u64 = bit(0);
    /// `CQ_TM_BAR_64K`: 64 KiB TIMA pages.
    pub const CQ_TM_BAR_64K: u64 = bit(1);
    /// `CQ_PC_BAR_VALID`.
    pub const CQ_PC_BAR_VALID: u64 = bit(0);
    /// `CQ_PC_BARM_MASK`: the size mask bits of `CQ_PC_BARM`.
    pub const CQ_PC_BARM_MASK: u64 = mask(26, 38);
    /// `CQ_VC_BAR_VALID`.
    pub const CQ_VC_BAR_VALID: u64 = bit(0);
    /// `CQ_VC_BARM_MASK`: the size mask bits of `CQ_VC_BARM`.
    pub const CQ_VC_BARM_MASK: u64 = mask(21, 37);
    /// Table address register (selects EDT/VDT/... and an index).
    pub const CQ_TAR: u64 = 0x0f0;
    /// `CQ_TAR_TBL_AUTOINC`: the index advances on each `CQ_TDR` write.
    pub const CQ_TAR_TBL_AUTOINC: u64 = bit(0);
    /// `CQ_TAR_TSEL_VDT`: the PC set translation table (16 sets).
    pub const CQ_TAR_TSEL_VDT: u64 = bit(14);
    /// `CQ_TAR_TSEL_EDT`: the VC set translation table (64 sets).
    pub const CQ_TAR_TSEL_EDT: u64 = bit(15);
    /// Table data register.
    pub const CQ_TDR: u64 = 0x0f8;
    /// `CQ_TDR_VDT_VALID`.
    pub const CQ_TDR_VDT_VALID: u64 = bit(0);
    /// `CQ_TDR_VDT_BLK`.
    pub const CQ_TDR_VDT_BLK: u64 = mask(11, 15);
    /// `CQ_TDR_VDT_INDEX`.
    pub const CQ_TDR_VDT_INDEX: u64 = mask(28, 31);
    /// `CQ_TDR_EDT_TYPE`: 1 = IPI (source ESBs), 2 = EQ (END ESBs).
    pub const CQ_TDR_EDT_TYPE: u64 = mask(0, 1);
    /// EDT type: IPI ESB pages.
    pub const CQ_TDR_EDT_IPI: u64 = 1;
    /// EDT type: END ESB pages.
    pub const CQ_TDR_EDT_EQ: u64 = 2;
    /// `CQ_TDR_EDT_BLK`.
    pub const CQ_TDR_EDT_BLK: u64 = mask(12, 15);
    /// `CQ_TDR_EDT_INDEX`.
    pub const CQ_TDR_EDT_INDEX: u64 = mask(26, 31);
    /// `CQ_PBI_PC_64K`: 64 KiB pages in the PC BAR.
    pub const CQ_PBI_PC_64K: u64 = bit(5);
    /// `CQ_PBI_VC_64K`: 64 KiB pages in the VC BAR.
    pub const CQ_PBI_VC_64K: u64 = bit(6);
    /// `CQ_PBI_FORCE_TM_LOCAL`: TIMA accesses stay on the local chip.
    pub const CQ_PBI_FORCE_TM_LOCAL: u64 = bit(22);
    /// FIR mask, OR form.
    pub const CQ_FIRMASK_OR: u64 = 0x1a8;
    /// `CQ_FIR_PB_RCMDX_CI_ERR1`: cache-inhibited access to a bad location.
    pub const CQ_FIR_PB_RCMDX_CI_ERR1: u64 = bit(19);
    /// `CQ_FIR_VC_INFO_ERROR_0_1`: informational VC errors.
    pub const CQ_FIR_VC_INFO_ERROR_0_1: u64 = mask(62, 63);

    /// Thread context configuration.
    pub const PC_TCTXT_CFG: u64 = 0x400;
    /// `PC_TCTXT_CFG_BLKGRP_EN`: block group mode.
    pub const PC_TCTXT_CFG_BLKGRP_EN: u64 = bit(0);
    /// `PC_TCTXT_CFG_TARGET_EN`.
    pub const PC_TCTXT_CFG_TARGET_EN: u64 = bit(1);
    /// `PC_TCTXT_CFG_LGS_EN`: logical server (group) matching.
    pub const PC_TCTXT_CFG_LGS_EN: u64 = bit(2);
    /// `PC_TCTXT_CFG_STORE_ACK`: pressure relief (off: the field is not used).
    pub const PC_TCTXT_CFG_STORE_ACK: u64 = bit(3);
    /// `PC_TCTXT_CFG_HARD_CHIPID_BLK`.
    pub const PC_TCTXT_CFG_HARD_CHIPID_BLK: u64 = bit(8);
    /// `PC_TCTXT_CHIPID_OVERRIDE`: the block id below replaces the hard-wired chip id.
    pub const PC_TCTXT_CHIPID_OVERRIDE: u64 = bit(9);
    /// `PC_TCTXT_CHIPID`: the chip's block id.
    pub const PC_TCTXT_CHIPID: u64 = mask(12, 15);
    /// `PC_TCTXT_INIT_AGE`.
    pub const PC_TCTXT_INIT_AGE: u64 = mask(30, 31);
    /// Block tracking between controllers.
    pub const PC_TCTXT_TRACK: u64 = 0x408;
    /// `PC_TCTXT_TRACK_EN`.
    pub const PC_TCTXT_TRACK_EN: u64 = bit(0);
    /// Indirect TIMA access: which thread IC pages 4-7 reach.
    pub const PC_TCTXT_INDIR0: u64 = 0x420;
    /// `PC_TCTXT_INDIR_VALID`.
    pub const PC_TCTXT_INDIR_VALID: u64 = bit(0);
    /// `PC_TCTXT_INDIR_THRDID`: the thread's PIR within the chip (7 bits).
    pub const PC_TCTXT_INDIR_THRDID: u64 = mask(9, 15);
    /// Physical thread enable, cores 0-15 (one bit per `PIR & 0x3f`); set form.
    pub const PC_THREAD_EN_REG0_SET: u64 = 0x448;
    /// Clear form of `PC_THREAD_EN_REG0`.
    pub const PC_THREAD_EN_REG0_CLR: u64 = 0x450;
    /// Physical thread enable, cores 16-23; set form.
    pub const PC_THREAD_EN_REG1_SET: u64 = 0x468;
    /// Clear form of `PC_THREAD_EN_REG1`.
    pub const PC_THREAD_EN_REG1_CLR: u64 = 0x470;
    /// PC global configuration.
    pub const PC_GLOBAL_CONFIG: u64 = 0x480;
    /// `PC_GCONF_INDIRECT`: indirect tables allowed.
    pub const PC_GCONF_INDIRECT: u64 = bit(32);
    /// `PC_GCONF_CHIPID_OVR`.
    pub const PC_GCONF_CHIPID_OVR: u64 = bit(40);
    /// `PC_GCONF_CHIPID`.
    pub const PC_GCONF_CHIPID: u64 = mask(44, 47);
    /// PC VSD table select.
    pub const PC_VSD_TABLE_ADDR: u64 = 0x488;
    /// PC VSD data.
    pub const PC_VSD_TABLE_DATA: u64 = 0x490;
    /// NVT cache scrub trigger.
    pub const PC_VPC_SCRUB_TRIG: u64 = 0x710;
    /// NVT cache scrub mask.
    pub const PC_VPC_SCRUB_MASK: u64 = 0x718;
    /// `PC_SCRUB_BLOCK_ID`.
    pub const PC_SCRUB_BLOCK_ID: u64 = mask(27, 31);
    /// `PC_SCRUB_OFFSET`.
    pub const PC_SCRUB_OFFSET: u64 = mask(45, 63);
    /// NVT cache watch specification.
    pub const PC_VPC_CWATCH_SPEC: u64 = 0x738;
    /// `PC_VPC_CWATCH_BLOCKID`.
    pub const PC_VPC_CWATCH_BLOCKID: u64 = mask(27, 31);
    /// `PC_VPC_CWATCH_OFFSET`.
    pub const PC_VPC_CWATCH_OFFSET: u64 = mask(45, 63);
    /// NVT cache watch data, 8 doublewords; writing DAT0 commits.
    pub const PC_VPC_CWATCH_DAT0: u64 = 0x740;

    /// VC global configuration.
    pub const VC_GLOBAL_CONFIG: u64 = 0x800;
    /// `VC_GCONF_INDIRECT`: indirect tables allowed.
    pub const VC_GCONF_INDIRECT: u64 = bit(32);
    /// VC VSD table select.
    pub const VC_VSD_TABLE_ADDR: u64 = 0x808;
    /// VC VSD data.
    pub const VC_VSD_TABLE_DATA: u64 = 0x810;
    /// Interrupt FIFO overflow configuration, 6 registers (IPI, HW, 2 cascades,
    /// redistribution, IPI cascade), 8 bytes apart.
    pub const VC_IRQ_CONFIG_IPI: u64 = 0x840;
    /// `VC_IRQ_CONFIG_MEMB_EN`: overflow to memory.
    pub const VC_IRQ_CONFIG_MEMB_EN: u64 = bit(45);
    /// `VC_IRQ_CONFIG_MEMB_SZ`: overflow page size (log2 - 12).
    pub const VC_IRQ_CONFIG_MEMB_SZ: u64 = mask(46, 51);
    /// Transmit ordering.
    pub const VC_AIB_TX_ORDER_TAG2: u64 = 0x890;
    /// `VC_AIB_TX_ORDER_TAG2_REL_TF`: relaxed ordering of trigger forwards.
    pub const VC_AIB_TX_ORDER_TAG2_REL_TF: u64 = bit(20);
    /// END cache scrub trigger.
    pub const VC_EQC_SCRUB_TRIG: u64 = 0x910;
    /// END cache scrub mask.
    pub const VC_EQC_SCRUB_MASK: u64 = 0x918;
    /// END cache configuration; bits 32-36 report finished syncs.
    pub const VC_EQC_CONFIG: u64 = 0x920;
    /// `VC_EQC_CONF_SYNC_IPI` ... `VC_EQC_CONF_SYNC_REDI`: all sync kinds done.
    pub const VC_EQC_SYNC_MASK: u64 = mask(32, 36);
    /// `VC_EQC_CONF_ENABLE_END_s_BIT`: silent escalation.
    pub const VC_EQC_CONF_ENABLE_END_S_BIT: u64 = bit(39);
    /// `VC_EQC_CONF_ENABLE_END_u_BIT`: unconditional escalation.
    pub const VC_EQC_CONF_ENABLE_END_U_BIT: u64 = bit(40);
    /// END cache watch specification.
    pub const VC_EQC_CWATCH_SPEC: u64 = 0x928;
    /// `VC_EQC_CWATCH_CONFLICT` (same position in the NVT watch).
    pub const CWATCH_CONFLICT: u64 = bit(0);
    /// `VC_EQC_CWATCH_FULL`: update the whole entry (same position in the NVT watch).
    pub const CWATCH_FULL: u64 = bit(8);
    /// `VC_EQC_CWATCH_BLOCKID`.
    pub const VC_EQC_CWATCH_BLOCKID: u64 = mask(28, 31);
    /// `VC_EQC_CWATCH_OFFSET`.
    pub const VC_EQC_CWATCH_OFFSET: u64 = mask(40, 63);
    /// END cache watch data, 4 doublewords; writing DAT0 commits.
    pub const VC_EQC_CWATCH_DAT0: u64 = 0x930;
    /// EAS cache scrub trigger.
    pub const VC_IVC_SCRUB_TRIG: u64 = 0x990;
    /// EAS cache scrub mask.
    pub const VC_IVC_SCRUB_MASK: u64 = 0x998;
    /// `VC_SCRUB_VALID` (also `PC_SCRUB_VALID`): set to start, cleared when done.
    pub const SCRUB_VALID: u64 = bit(0);
    /// `VC_SCRUB_WANT_INVAL` (also `PC_SCRUB_WANT_INVAL`).
    pub const SCRUB_WANT_INVAL: u64 = bit(2);
    /// `VC_SCRUB_BLOCK_ID`.
    pub const VC_SCRUB_BLOCK_ID: u64 = mask(28, 31);
    /// `VC_SCRUB_OFFSET`.
    pub const VC_SCRUB_OFFSET: u64 = mask(40, 63);
    /// Source state cache configuration.
    pub const VC_SBC_CONFIG: u64 = 0xa20;
    /// `VC_SBC_CONF_NO_UPD_PRF`.
    pub const VC_SBC_CONF_NO_UPD_PRF: u64 = bit(59);
}

/// VSD table selection, written to `VC_VSD_TABLE_ADDR`/`PC_VSD_TABLE_ADDR`.
pub mod vst {
    use super::mask;

    /// `VST_TABLE_SELECT`.
    pub const TABLE_SELECT: u64 = mask(13, 15);
    /// `VST_TABLE_BLOCK` (the block, or the FIFO number for the IRQ table).
    pub const TABLE_BLOCK: u64 = mask(27, 31);
    /// EAS table (IVT).
    pub const TSEL_IVT: u64 = 0;
    /// Source state bits (SBE, two bits per source).
    pub const TSEL_SBE: u64 = 1;
    /// END table (EQD).
    pub const TSEL_EQDT: u64 = 2;
    /// NVT table (VPD).
    pub const TSEL_VPDT: u64 = 3;
    /// Interrupt FIFO overflow pages (VC only).
    pub const TSEL_IRQ: u64 = 4;
    /// Number of interrupt FIFO overflow pages.
    pub const IRQ_FIFO_COUNT: u64 = 6;
}

/// VSD (virtual structure descriptor): where one block of one table lives.
pub mod vsd {
    use super::{bit, mask};

    /// `VSD_MODE`.
    pub const MODE: u64 = mask(0, 1);
    /// The table is in memory and owned by this controller.
    pub const MODE_EXCLUSIVE: u64 = 2;
    /// The block belongs to another controller: the address is its notify port (or its
    /// PC BAR for NVTs).
    pub const MODE_FORWARD: u64 = 3;
    /// `VSD_ADDRESS_MASK`.
    pub const ADDRESS_MASK: u64 = 0x0fff_ffff_ffff_f000;
    /// `VSD_INDIRECT`: the table is a page of VSDs pointing at pages of entries.
    pub const INDIRECT: u64 = bit(56);
    /// `VSD_TSIZE`: log2(table size in bytes) - 12.
    pub const TSIZE: u64 = mask(59, 63);
}

/// Pages of the IC BAR (each `1 << ic_shift` bytes).
pub mod ic_page {
    /// Registers.
    pub const REGS: u64 = 0;
    /// Notify port: hardware triggers (0x000-0x7ff), forwards and syncs (0x800-0xfff).
    pub const NOTIFY: u64 = 1;
    /// Indirect TIMA (4 pages) for the thread selected by `PC_TCTXT_INDIR0`.
    pub const INDIRECT_TIMA: u64 = 4;
    /// Number of pages of the IC BAR.
    pub const COUNT: u64 = 8;
    /// Notify page offset of the PSI host bridge trigger cache line (skiboot's choice).
    pub const NOTIFY_PSI: u64 = 0x230;
    /// Notify page offsets of the sync operations: OS escalations, hypervisor
    /// escalations, redistribution, IPIs, HW sources (each a store of 0).
    pub const SYNCS: [u64; 5] = [0xd00, 0xd80, 0xe00, 0xc00, 0xc80];
}

/// ESB (event state buffer) page offsets: 8-byte loads (stores where noted).
pub mod esb {
    /// Load: EOI (clears P, returns the old PQ; an LSI re-triggers if still asserted).
    pub const LOAD_EOI: u64 = 0x000;
    /// Store: EOI, when the source supports store EOI.
    pub const STORE_EOI: u64 = 0x400;
    /// Load: read PQ without side effect.
    pub const GET: u64 = 0x800;
    /// Load: set PQ = 00 (enabled), returns the old PQ.
    pub const SET_PQ_00: u64 = 0xc00;
    /// Load: set PQ = 01 (off, "masked"), returns the old PQ.
    pub const SET_PQ_01: u64 = 0xd00;
    /// PQ value of a masked (off) source.
    pub const PQ_OFF: u8 = 0b01;
    /// Size of the two ESB pages (trigger + management) of an IPI or an END: 128 KiB.
    pub const SHIFT_2PAGE_64K: u32 = 17;
}

/// TIMA (thread interrupt management area) offsets within a 64 KiB view page.
pub mod tm {
    /// Size of one TIMA view page (with `CQ_TM_BAR_64K`).
    pub const PAGE: u64 = 0x1_0000;
    /// Number of views: hardware, hypervisor, OS, user.
    pub const VIEWS: u64 = 4;
    /// Hypervisor view page index (Linux's `reg` entry 1).
    pub const HV_VIEW: u64 = 1;
    /// Quadword 1: OS ring.
    pub const QW1_OS: u64 = 0x10;
    /// Quadword 2: hypervisor pool ring.
    pub const QW2_HV_POOL: u64 = 0x20;
    /// Quadword 3: hypervisor physical (hardware) ring.
    pub const QW3_HV_PHYS: u64 = 0x30;
    /// Byte offset of CPPR (current processor priority) in a ring.
    pub const CPPR: u64 = 0x1;
    /// Byte offset of word 2 in a ring (valid bit and CAM line).
    pub const WORD2: u64 = 0x8;
    /// `TM_QW3W2_VT`: the hardware ring of this thread is valid (byte form).
    pub const QW3W2_VT_BYTE: u8 = 0x80;
    /// 8-byte load: pull (invalidate) the pool context.
    pub const SPC_PULL_POOL_CTX: u64 = 0x828;
}

/// NCU (non-cacheable unit) special BAR of each EX (core pair): where the cores send TIMA
/// accesses (`P9X_EX_NCU_SPEC_BAR`, an XSCOM register of the core's quad).
pub mod ncu {
    use super::bit;

    /// Register within the EX.
    pub const SPEC_BAR: u32 = 0x11010;
    /// `P9X_EX_NCU_SPEC_BAR_ENABLE`.
    pub const SPEC_BAR_ENABLE: u64 = bit(0);
    /// `P9X_EX_NCU_SPEC_BAR_256K`: the area is 4 pages of 64 KiB.
    pub const SPEC_BAR_256K: u64 = bit(1);

    /// PCB address of the special BAR of the EX holding core `core` (0-23): the quad's
    /// chiplet is `0x10 + core / 4`, the second EX of a quad is 0x400 further.
    pub const fn spec_bar_pcba(core: u32) -> u32 {
        (((core >> 2) + 0x10) << 24) | SPEC_BAR | ((core & 2) << 9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibm_bits() {
        assert_eq!(bit(0), 0x8000_0000_0000_0000);
        assert_eq!(bit(63), 1);
        assert_eq!(mask(0, 1), 0xc000_0000_0000_0000);
        assert_eq!(mask(59, 63), 0x1f);
        assert_eq!(mask32(12, 15), 0x000f_0000);
        assert_eq!(bit32(9), 0x0040_0000);
        assert_eq!(ic::CQ_VC_BARM_MASK, 0x0000_07ff_fc00_0000);
        assert_eq!(ic::CQ_PC_BARM_MASK, 0x0000_003f_fe00_0000);
        assert_eq!(ic::VC_EQC_SYNC_MASK, 0x0000_0000_f800_0000);
    }

    #[test]
    fn fields() {
        assert_eq!(field(vsd::MODE, vsd::MODE_EXCLUSIVE), 0x8000_0000_0000_0000);
        assert_eq!(set_field(vsd::TSIZE, 0xff, 4), 0xe4);
        assert_eq!(get_field(ic::CQ_TDR_EDT_BLK, 3 << 48), 3);
        assert_eq!(get_field32(mask32(12, 15), 0x0004_0000), 4);
        assert_eq!(set_field32(mask32(8, 15), 0xffff_ffff, 7), 0xff07_ffff);
    }

    #[test]
    fn ncu_bar_addresses() {
        // Core 0: quad 0, first EX; core 2: second EX; core 4: quad 1.
        assert_eq!(ncu::spec_bar_pcba(0), 0x1001_1010);
        assert_eq!(ncu::spec_bar_pcba(2), 0x1001_1410);
        assert_eq!(ncu::spec_bar_pcba(5), 0x1101_1010);
    }
}
