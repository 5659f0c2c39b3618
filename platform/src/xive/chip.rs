//! One chip's controller: table placement, the bring-up sequence (BARs, global
//! configuration, set translation, VSDs, forward ports, thread enable) and the cache
//! operations every later table update goes through (EAS scrub, END/NVT cache watch, sync).
//!
//! Bring-up follows skiboot's order, which QEMU's model accepts: CQ BARs over XSCOM, then
//! everything else by MMIO in IC page 0 (QEMU only maps the CQ registers correctly on its
//! XSCOM port).

use super::hw::{XiveHw, POLL_LIMIT};
use super::regs::{esb, field, ic, ic_page, ncu, set_field, tm, vst, x};
use super::tables::{vsd_direct, vsd_forward, Eas, End, Nvt};
use super::{hw_vp_index, Bars, ChipDesc, Region, XiveConfig, XiveError};
use alloc::vec::Vec;

/// IC page size (64 KiB pages are configured).
pub const IC_PAGE: u64 = 0x1_0000;
/// Number of VC BAR sets (EDT entries).
pub const VC_SETS: u64 = 64;
/// VC sets given to source ESB pages; the rest hold END ESB pages.
pub const VC_IPI_SETS: u64 = 48;
/// Number of PC BAR sets (VDT entries).
pub const PC_SETS: u64 = 16;
/// Size of one interrupt FIFO overflow page.
const FIFO_PAGE: u64 = 0x1_0000;

/// Addresses of a chip's tables inside its region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableLayout {
    /// END table.
    pub endt: u64,
    /// EAS table.
    pub ivt: u64,
    /// NVT table.
    pub vpdt: u64,
    /// Interrupt FIFO overflow pages.
    pub fifo: u64,
    /// Source state bits.
    pub sbe: u64,
    /// First byte after the tables.
    pub end: u64,
}

impl TableLayout {
    fn sizes(cfg: &XiveConfig) -> [u64; 5] {
        let irqs = cfg.irqs_per_chip as u64;
        let vps = cfg.vps_per_chip as u64;
        [vps * 8 * End::SIZE, irqs * Eas::SIZE, vps * Nvt::SIZE, vst::IRQ_FIFO_COUNT * FIFO_PAGE, irqs / 4]
    }

    /// Largest alignment a table needs (each direct table is aligned to its own size, as
    /// the hardware requires; FIFO pages to 64 KiB).
    pub fn largest(cfg: &XiveConfig) -> u64 {
        let [endt, ivt, vpdt, _, sbe] = Self::sizes(cfg);
        [endt, ivt, vpdt, FIFO_PAGE, sbe].into_iter().max().unwrap_or(FIFO_PAGE)
    }

    /// Places the tables from `base` upwards, each naturally aligned.
    pub fn new(cfg: &XiveConfig, base: u64) -> Option<Self> {
        let [endt_s, ivt_s, vpdt_s, fifo_s, sbe_s] = Self::sizes(cfg);
        let mut at = base;
        let mut place = |size: u64, align: u64| -> Option<u64> {
            let start = at.checked_add(align - 1)? & !(align - 1);
            at = start.checked_add(size)?;
            Some(start)
        };
        let endt = place(endt_s, endt_s)?;
        let ivt = place(ivt_s, ivt_s)?;
        let vpdt = place(vpdt_s, vpdt_s)?;
        let fifo = place(fifo_s, FIFO_PAGE)?;
        let sbe = place(sbe_s, sbe_s)?;
        Some(Self { endt, ivt, vpdt, fifo, sbe, end: at })
    }
}

/// An interrupt source block outside the controller (PSI host bridge, PHB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HwSource {
    /// First EAS index.
    pub first: u32,
    /// Number of sources.
    pub count: u32,
    /// Physical address of the first source's ESB page(s).
    pub esb_base: u64,
    /// log2 of the ESB space of one source.
    pub esb_shift: u32,
    /// Level-sensitive sources.
    pub lsi: bool,
    /// Each source has two ESB pages: trigger (first half) and EOI/management (second).
    pub two_page: bool,
}

impl HwSource {
    /// ESB address of source `i` of the block (page used for EOI and PQ changes).
    pub fn eoi_page(&self, i: u32) -> u64 {
        let page = self.esb_base + ((i as u64) << self.esb_shift);
        if self.two_page {
            page + (1 << (self.esb_shift - 1))
        } else {
            page
        }
    }

    /// Trigger page of source `i` (0 when the source has none of its own).
    pub fn trigger_page(&self, i: u32) -> u64 {
        if self.two_page {
            self.esb_base + ((i as u64) << self.esb_shift)
        } else {
            0
        }
    }
}

/// One chip's controller state (the allocator state lives in `state`).
#[derive(Debug)]
pub struct Chip {
    /// `ibm,chip-id`.
    pub chip_id: u32,
    /// XIVE block number (index in the system).
    pub block: u8,
    /// PCB address of the XSCOM unit.
    pub xscom_base: u32,
    /// BARs.
    pub bars: Bars,
    /// Tables.
    pub tables: TableLayout,
    /// Hardware thread PIRs.
    pub threads: Vec<u32>,
}

impl Chip {
    /// Describes the chip and places its tables; no hardware access.
    pub fn new(desc: &ChipDesc<'_>, block: u8, cfg: &XiveConfig) -> Result<Self, XiveError> {
        let Region { base, len } = desc.region;
        let tables = TableLayout::new(cfg, base).ok_or(XiveError::NoMemory)?;
        let region_end = base.checked_add(len).ok_or(XiveError::Parameter)?;
        if base == 0 || tables.end > region_end {
            return Err(XiveError::NoMemory);
        }
        let b = &desc.bars;
        let pow2 = b.pc_size.is_power_of_two() && b.vc_size.is_power_of_two();
        let aligned = b.ic.is_multiple_of(IC_PAGE * ic_page::COUNT)
            && b.tm.is_multiple_of(tm::PAGE * tm::VIEWS)
            && b.pc.is_multiple_of(b.pc_size.max(1))
            && b.vc.is_multiple_of(b.vc_size.max(1));
        // The VC BAR must hold every source's and every END's two 64 KiB ESB pages.
        let set = b.vc_size / VC_SETS;
        let vc_fits = set * VC_IPI_SETS >= (cfg.irqs_per_chip as u64) << esb::SHIFT_2PAGE_64K
            && set * (VC_SETS - VC_IPI_SETS) >= ((cfg.vps_per_chip as u64) * 8) << esb::SHIFT_2PAGE_64K;
        if !pow2 || !aligned || !vc_fits || (b.pc_size >> 25) == 0 {
            return Err(XiveError::Parameter);
        }
        let mut threads = Vec::new();
        for &pir in desc.threads {
            if threads.iter().any(|&t: &u32| hw_vp_index(t) == hw_vp_index(pir)) {
                return Err(XiveError::Parameter);
            }
            threads.push(pir);
        }
        Ok(Self {
            chip_id: desc.chip_id,
            block,
            xscom_base: desc.xscom_base,
            bars: desc.bars,
            tables,
            threads,
        })
    }

    fn reg(&self, offset: u64) -> u64 {
        self.bars.ic + offset
    }

    /// Reads an IC register (MMIO, IC BAR must be set).
    pub fn read(&self, hw: &mut impl XiveHw, offset: u64) -> u64 {
        hw.mmio_read64(self.reg(offset))
    }

    /// Writes an IC register.
    pub fn write(&self, hw: &mut impl XiveHw, offset: u64, value: u64) {
        hw.mmio_write64(self.reg(offset), value)
    }

    fn modify(&self, hw: &mut impl XiveHw, offset: u64, f: impl FnOnce(u64) -> u64) {
        let v = self.read(hw, offset);
        self.write(hw, offset, f(v));
    }

    fn xscom_write(&self, hw: &mut impl XiveHw, reg: u32, value: u64) -> Result<(), XiveError> {
        hw.xscom_write(self.chip_id, self.xscom_base + reg, value).map_err(|_| XiveError::Hardware)
    }

    /// Step 1: the BARs, over XSCOM (PC and VC: cleared, size mask, then address).
    pub fn configure_bars(&self, hw: &mut impl XiveHw) -> Result<(), XiveError> {
        let b = &self.bars;
        self.xscom_write(hw, x::CQ_IC_BAR, b.ic | ic::CQ_IC_BAR_VALID | ic::CQ_IC_BAR_64K)?;
        self.xscom_write(hw, x::CQ_TM1_BAR, b.tm | ic::CQ_TM_BAR_VALID | ic::CQ_TM_BAR_64K)?;
        self.xscom_write(hw, x::CQ_TM2_BAR, 0)?;
        self.xscom_write(hw, x::CQ_PC_BAR, 0)?;
        self.xscom_write(hw, x::CQ_PC_BARM, !(b.pc_size - 1) & ic::CQ_PC_BARM_MASK)?;
        self.xscom_write(hw, x::CQ_PC_BAR, b.pc | ic::CQ_PC_BAR_VALID)?;
        self.xscom_write(hw, x::CQ_VC_BAR, 0)?;
        self.xscom_write(hw, x::CQ_VC_BARM, !(b.vc_size - 1) & ic::CQ_VC_BARM_MASK)?;
        self.xscom_write(hw, x::CQ_VC_BAR, b.vc | ic::CQ_VC_BAR_VALID)?;
        // 64 KiB pages in the PC and VC BARs; TIMA accesses stay local.
        let pbi = ic::CQ_PBI_PC_64K | ic::CQ_PBI_VC_64K | ic::CQ_PBI_FORCE_TM_LOCAL;
        self.xscom_write(hw, x::CQ_PBI_CTL, pbi)
    }

    /// Step 2: global configuration (block id, one block per chip, no store EOI, no block
    /// tracking, relaxed trigger forwarding, escalation bits, FIR masks).
    pub fn configure_globals(&self, hw: &mut impl XiveHw) {
        let blk = self.block as u64;
        self.modify(hw, ic::PC_GLOBAL_CONFIG, |v| {
            set_field(ic::PC_GCONF_CHIPID, v | ic::PC_GCONF_CHIPID_OVR, blk)
        });
        self.modify(hw, ic::PC_TCTXT_CFG, |v| {
            let v = v
                | ic::PC_TCTXT_CFG_BLKGRP_EN
                | ic::PC_TCTXT_CFG_HARD_CHIPID_BLK
                | ic::PC_TCTXT_CHIPID_OVERRIDE
                | ic::PC_TCTXT_CFG_TARGET_EN
                | ic::PC_TCTXT_CFG_LGS_EN;
            let v = set_field(ic::PC_TCTXT_CHIPID, v, blk);
            set_field(ic::PC_TCTXT_INIT_AGE, v, 2) & !ic::PC_TCTXT_CFG_STORE_ACK
        });
        self.modify(hw, ic::CQ_CFG_PB_GEN, |v| set_field(ic::CQ_INT_ADDR_OPT, v, 2));
        self.modify(hw, ic::VC_SBC_CONFIG, |v| v | ic::VC_SBC_CONF_NO_UPD_PRF);
        self.modify(hw, ic::PC_TCTXT_TRACK, |v| v & !ic::PC_TCTXT_TRACK_EN);
        self.modify(hw, ic::VC_AIB_TX_ORDER_TAG2, |v| v | ic::VC_AIB_TX_ORDER_TAG2_REL_TF);
        self.modify(hw, ic::VC_EQC_CONFIG, |v| {
            v | ic::VC_EQC_CONF_ENABLE_END_S_BIT | ic::VC_EQC_CONF_ENABLE_END_U_BIT
        });
        self.write(hw, ic::CQ_FIRMASK_OR, ic::CQ_FIR_VC_INFO_ERROR_0_1);
        self.write(hw, ic::CQ_FIRMASK_OR, ic::CQ_FIR_PB_RCMDX_CI_ERR1);
    }

    /// Step 3: set translation. The 64 VC sets: 48 of source ESBs then 16 of END ESBs; the
    /// 16 PC sets: all this block. All entries are written (auto-increment) because the
    /// controller applies the EDT after the last one.
    pub fn configure_set_translation(&self, hw: &mut impl XiveHw) {
        let blk = self.block as u64;
        self.write(hw, ic::CQ_TAR, ic::CQ_TAR_TBL_AUTOINC | ic::CQ_TAR_TSEL_EDT);
        for i in 0..VC_SETS {
            let kind = if i < VC_IPI_SETS { ic::CQ_TDR_EDT_IPI } else { ic::CQ_TDR_EDT_EQ };
            let offset = if i < VC_IPI_SETS { i } else { i - VC_IPI_SETS };
            let v = field(ic::CQ_TDR_EDT_TYPE, kind)
                | field(ic::CQ_TDR_EDT_BLK, blk)
                | field(ic::CQ_TDR_EDT_INDEX, offset);
            self.write(hw, ic::CQ_TDR, v);
        }
        self.write(hw, ic::CQ_TAR, ic::CQ_TAR_TBL_AUTOINC | ic::CQ_TAR_TSEL_VDT);
        for i in 0..PC_SETS {
            let v = ic::CQ_TDR_VDT_VALID | field(ic::CQ_TDR_VDT_BLK, blk) | field(ic::CQ_TDR_VDT_INDEX, i);
            self.write(hw, ic::CQ_TDR, v);
        }
    }

    fn fill(&self, hw: &mut impl XiveHw, addr: u64, len: u64, byte: u8) {
        let chunk = [byte; 256];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(chunk.len() as u64);
            hw.mem_write(addr + done, &chunk[..n as usize]);
            done += n;
        }
    }

    /// Step 4: clears the tables (sources off: PQ = 01), makes the hardware threads' NVTs
    /// valid, then points the VC and PC at the tables (direct, exclusive) and sets up the
    /// interrupt FIFO overflow pages.
    pub fn install_tables(&self, hw: &mut impl XiveHw, cfg: &XiveConfig) -> Result<(), XiveError> {
        let t = &self.tables;
        let irqs = cfg.irqs_per_chip as u64;
        let vps = cfg.vps_per_chip as u64;
        self.fill(hw, t.endt, vps * 8 * End::SIZE, 0);
        self.fill(hw, t.ivt, irqs * Eas::SIZE, 0);
        self.fill(hw, t.vpdt, vps * Nvt::SIZE, 0);
        self.fill(hw, t.fifo, vst::IRQ_FIFO_COUNT * FIFO_PAGE, 0);
        self.fill(hw, t.sbe, irqs / 4, 0x55);
        for &pir in &self.threads {
            let at = t.vpdt + hw_vp_index(pir) as u64 * Nvt::SIZE;
            hw.mem_write(at, &Nvt::valid().to_be_bytes());
        }
        hw.mem_barrier();
        let blk = self.block as u64;
        self.set_vsd(hw, vst::TSEL_IVT, blk, vsd_direct(t.ivt, irqs * Eas::SIZE))?;
        self.set_vsd(hw, vst::TSEL_SBE, blk, vsd_direct(t.sbe, irqs / 4))?;
        self.set_vsd(hw, vst::TSEL_EQDT, blk, vsd_direct(t.endt, vps * 8 * End::SIZE))?;
        self.set_vsd(hw, vst::TSEL_VPDT, blk, vsd_direct(t.vpdt, vps * Nvt::SIZE))?;
        for i in 0..vst::IRQ_FIFO_COUNT {
            self.set_vsd(hw, vst::TSEL_IRQ, i, vsd_direct(t.fifo + i * FIFO_PAGE, FIFO_PAGE))?;
            let reg = ic::VC_IRQ_CONFIG_IPI + 8 * i;
            self.modify(hw, reg, |v| set_field(ic::VC_IRQ_CONFIG_MEMB_SZ, v | ic::VC_IRQ_CONFIG_MEMB_EN, 4));
        }
        Ok(())
    }

    /// Writes one VSD to the VC and (except FIFO pages) the PC.
    pub fn set_vsd(&self, hw: &mut impl XiveHw, table: u64, block: u64, vsd: u64) -> Result<(), XiveError> {
        let sel = field(vst::TABLE_SELECT, table) | field(vst::TABLE_BLOCK, block);
        self.write(hw, ic::VC_VSD_TABLE_ADDR, sel);
        self.write(hw, ic::VC_VSD_TABLE_DATA, vsd);
        if table != vst::TSEL_IRQ {
            self.write(hw, ic::PC_VSD_TABLE_ADDR, sel);
            self.write(hw, ic::PC_VSD_TABLE_DATA, vsd);
        }
        Ok(())
    }

    /// Step 5 (with several chips): `remote`'s block is reached through its notify port
    /// (EAS, source state, ENDs) and its PC BAR (NVTs).
    pub fn forward_to(&self, hw: &mut impl XiveHw, remote: &Chip) -> Result<(), XiveError> {
        let blk = remote.block as u64;
        let port = remote.bars.notify_page();
        self.set_vsd(hw, vst::TSEL_IVT, blk, vsd_forward(port, 0))?;
        self.set_vsd(hw, vst::TSEL_SBE, blk, vsd_forward(port, 0))?;
        self.set_vsd(hw, vst::TSEL_EQDT, blk, vsd_forward(port, 0))?;
        self.set_vsd(hw, vst::TSEL_VPDT, blk, vsd_forward(remote.bars.pc, remote.bars.pc_size))
    }

    /// Step 6: the NCU special BAR of each core's EX, so its TIMA accesses reach the XIVE.
    pub fn configure_ncu_bars(&self, hw: &mut impl XiveHw) -> Result<(), XiveError> {
        let mut done: u32 = 0;
        for &pir in &self.threads {
            let core = (pir >> 2) & 0x1f;
            if core >= 24 || done & (1 << core) != 0 {
                continue;
            }
            done |= 1 << core;
            let v = self.bars.tm | ncu::SPEC_BAR_ENABLE | ncu::SPEC_BAR_256K;
            hw.xscom_write(self.chip_id, ncu::spec_bar_pcba(core), v).map_err(|_| XiveError::Hardware)?;
        }
        Ok(())
    }

    /// Step 7, and after each reset: enables thread `pir` in the PC (clear then set its
    /// bit) and marks its hardware ring valid (VT) through the indirect TIMA.
    pub fn enable_thread(&self, hw: &mut impl XiveHw, pir: u32) {
        let fused_core = (pir >> 3) & 0xf;
        let bit = super::regs::bit(pir & 0x3f);
        let (clr, set) = if fused_core < 8 {
            (ic::PC_THREAD_EN_REG0_CLR, ic::PC_THREAD_EN_REG0_SET)
        } else {
            (ic::PC_THREAD_EN_REG1_CLR, ic::PC_THREAD_EN_REG1_SET)
        };
        self.write(hw, clr, bit);
        self.write(hw, set, bit);
        let indir = ic::PC_TCTXT_INDIR_VALID | field(ic::PC_TCTXT_INDIR_THRDID, (pir & 0x7f) as u64);
        self.write(hw, ic::PC_TCTXT_INDIR0, indir);
        // The hardware needs the register read back before the indirect access.
        self.read(hw, ic::PC_TCTXT_INDIR0);
        let tima = self.bars.ic + ic_page::INDIRECT_TIMA * IC_PAGE;
        hw.mmio_write8(tima + tm::QW3_HV_PHYS + tm::WORD2, tm::QW3W2_VT_BYTE);
        self.write(hw, ic::PC_TCTXT_INDIR0, 0);
    }

    fn poll_clear(&self, hw: &mut impl XiveHw, offset: u64, bit: u64) -> Result<(), XiveError> {
        for _ in 0..POLL_LIMIT {
            if self.read(hw, offset) & bit == 0 {
                return Ok(());
            }
        }
        Err(XiveError::Hardware)
    }

    /// Reads EAS `idx` from memory.
    pub fn eas(&self, hw: &mut impl XiveHw, idx: u32) -> Eas {
        let mut b = [0u8; 8];
        hw.mem_read(self.tables.ivt + idx as u64 * Eas::SIZE, &mut b);
        Eas::from_be_bytes(b)
    }

    /// Writes EAS `idx` and drops the cached copy (EAS cache scrub with invalidate).
    pub fn set_eas(&self, hw: &mut impl XiveHw, idx: u32, eas: Eas) -> Result<(), XiveError> {
        hw.mem_write(self.tables.ivt + idx as u64 * Eas::SIZE, &eas.to_be_bytes());
        hw.mem_barrier();
        self.scrub(hw, ic::VC_IVC_SCRUB_MASK, ic::VC_IVC_SCRUB_TRIG, idx)
    }

    fn scrub(&self, hw: &mut impl XiveHw, mask_reg: u64, trig: u64, idx: u32) -> Result<(), XiveError> {
        let (blk_f, off_f) = if trig == ic::PC_VPC_SCRUB_TRIG {
            (ic::PC_SCRUB_BLOCK_ID, ic::PC_SCRUB_OFFSET)
        } else {
            (super::regs::ic::VC_SCRUB_BLOCK_ID, ic::VC_SCRUB_OFFSET)
        };
        self.write(hw, mask_reg, blk_f | off_f);
        let v = ic::SCRUB_VALID
            | ic::SCRUB_WANT_INVAL
            | field(blk_f, self.block as u64)
            | field(off_f, idx as u64);
        self.write(hw, trig, v);
        self.poll_clear(hw, trig, ic::SCRUB_VALID)
    }

    /// Reads END `idx` from memory (call [`Self::scrub_end`] first for hardware-updated
    /// fields).
    pub fn end(&self, hw: &mut impl XiveHw, idx: u32) -> End {
        let mut b = [0u8; 32];
        hw.mem_read(self.tables.endt + idx as u64 * End::SIZE, &mut b);
        End::from_be_bytes(&b)
    }

    /// Flushes END `idx` from the cache to memory.
    pub fn scrub_end(&self, hw: &mut impl XiveHw, idx: u32) -> Result<(), XiveError> {
        self.scrub(hw, ic::VC_EQC_SCRUB_MASK, ic::VC_EQC_SCRUB_TRIG, idx)?;
        // A load from the END's ESB page orders the scrub before later accesses.
        hw.mmio_read64(self.bars.end_esb_base() + ((idx as u64) << esb::SHIFT_2PAGE_64K) + esb::GET);
        Ok(())
    }

    /// Writes END `idx` through the END cache watch, then flushes it to memory.
    pub fn set_end(&self, hw: &mut impl XiveHw, idx: u32, end: &End) -> Result<(), XiveError> {
        let spec = ic::CWATCH_FULL
            | field(ic::VC_EQC_CWATCH_BLOCKID, self.block as u64)
            | field(ic::VC_EQC_CWATCH_OFFSET, idx as u64);
        self.cache_watch(hw, ic::VC_EQC_CWATCH_SPEC, ic::VC_EQC_CWATCH_DAT0, spec, &end.dwords())?;
        self.scrub_end(hw, idx)
    }

    /// Reads NVT `idx` from memory.
    pub fn nvt(&self, hw: &mut impl XiveHw, idx: u32) -> Nvt {
        let mut b = [0u8; 64];
        hw.mem_read(self.tables.vpdt + idx as u64 * Nvt::SIZE, &mut b);
        Nvt::from_be_bytes(&b)
    }

    /// Flushes NVT `idx` from the cache to memory.
    pub fn scrub_nvt(&self, hw: &mut impl XiveHw, idx: u32) -> Result<(), XiveError> {
        self.scrub(hw, ic::PC_VPC_SCRUB_MASK, ic::PC_VPC_SCRUB_TRIG, idx)?;
        // A watch of a firmware-owned NVT makes the controller re-read memory after the
        // scrub (the first hardware thread's entry: never donated, never freed).
        let fw_idx = self.threads.first().map(|&p| hw_vp_index(p)).unwrap_or(0x80) as u64;
        let spec =
            field(ic::PC_VPC_CWATCH_BLOCKID, self.block as u64) | field(ic::PC_VPC_CWATCH_OFFSET, fw_idx);
        self.write(hw, ic::PC_VPC_CWATCH_SPEC, spec);
        let d0 = self.read(hw, ic::PC_VPC_CWATCH_DAT0);
        self.write(hw, ic::PC_VPC_CWATCH_DAT0, d0);
        Ok(())
    }

    /// Writes NVT `idx` through the NVT cache watch, then flushes it to memory.
    pub fn set_nvt(&self, hw: &mut impl XiveHw, idx: u32, nvt: &Nvt) -> Result<(), XiveError> {
        let spec = ic::CWATCH_FULL
            | field(ic::PC_VPC_CWATCH_BLOCKID, self.block as u64)
            | field(ic::PC_VPC_CWATCH_OFFSET, idx as u64);
        self.cache_watch(hw, ic::PC_VPC_CWATCH_SPEC, ic::PC_VPC_CWATCH_DAT0, spec, &nvt.dwords())?;
        self.scrub_nvt(hw, idx)
    }

    /// Cache watch: select the entry, load it, write the doublewords last to first (writing
    /// DAT0 commits), retry while the watch reports a conflict.
    fn cache_watch(
        &self,
        hw: &mut impl XiveHw,
        spec_reg: u64,
        dat0: u64,
        spec: u64,
        d: &[u64],
    ) -> Result<(), XiveError> {
        for _ in 0..POLL_LIMIT {
            self.write(hw, spec_reg, spec);
            self.read(hw, dat0);
            for (i, &dw) in d.iter().enumerate().rev() {
                self.write(hw, dat0 + 8 * i as u64, dw);
            }
            let status = self.read(hw, spec_reg);
            if status & ic::CWATCH_FULL == 0 || status & ic::CWATCH_CONFLICT == 0 {
                return Ok(());
            }
        }
        Err(XiveError::Busy)
    }

    /// Waits until every event already accepted by this controller has reached its queue.
    pub fn sync(&self, hw: &mut impl XiveHw) -> Result<(), XiveError> {
        let notify = self.bars.notify_page();
        for off in ic_page::SYNCS {
            hw.mmio_write64(notify + off, 0);
        }
        let mut r = 0;
        for _ in 0..POLL_LIMIT {
            r = self.read(hw, ic::VC_EQC_CONFIG);
            if r & ic::VC_EQC_SYNC_MASK == ic::VC_EQC_SYNC_MASK {
                break;
            }
        }
        if r & ic::VC_EQC_SYNC_MASK != ic::VC_EQC_SYNC_MASK {
            return Err(XiveError::Hardware);
        }
        self.write(hw, ic::VC_EQC_CONFIG, r & !ic::VC_EQC_SYNC_MASK);
        // The hardware wants a read before the next sync.
        self.read(hw, ic::VC_GLOBAL_CONFIG);
        Ok(())
    }

    /// Physical address of the ESB page pair of IPI `idx`.
    pub fn ipi_esb(&self, idx: u32) -> u64 {
        self.bars.vc + ((idx as u64) << esb::SHIFT_2PAGE_64K)
    }

    /// Physical address of the ESB page pair of END `idx`.
    pub fn end_esb(&self, idx: u32) -> u64 {
        self.bars.end_esb_base() + ((idx as u64) << esb::SHIFT_2PAGE_64K)
    }
}
