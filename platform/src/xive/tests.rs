//! Bring-up tests against a recording fake of the machine. The fake models what the driver
//! relies on in QEMU's `pnv_xive`: scrub triggers complete at once, the sync bits read as
//! done, and the END/NVT cache watch loads from and commits to the tables named by the VSDs.

use super::chip::TableLayout;
use super::hw::{MmioAccess, PhysMem, XscomAccess};
use super::regs::{ic, vst};
use super::*;
use crate::xscom::XscomError;
use std::collections::HashMap;
use std::vec::Vec;

/// One recorded access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    XscomW(u32, u32, u64),
    MmioW(u64, u64),
    MmioR(u64),
    MmioW8(u64, u8),
}

pub(super) struct FakeHw {
    pub ops: Vec<Op>,
    pub regs: HashMap<u64, u64>,
    pub mem_base: u64,
    pub mem: Vec<u8>,
    /// (table, block) → VSD, from the VC VSD writes of every chip (one IC page per chip).
    pub vsds: HashMap<(u64, u64, u64), u64>,
    pub fail_xscom: bool,
    pub stuck_scrub: bool,
}

pub(super) const MEM_BASE: u64 = 0x3400_0000;
pub(super) const MEM_LEN: usize = 8 << 20;

impl FakeHw {
    pub fn new() -> Self {
        Self {
            ops: Vec::new(),
            regs: HashMap::new(),
            mem_base: MEM_BASE,
            mem: std::vec![0xee; MEM_LEN],
            vsds: HashMap::new(),
            fail_xscom: false,
            stuck_scrub: false,
        }
    }

    fn range(&self, addr: u64, len: usize) -> std::ops::Range<usize> {
        let off = (addr - self.mem_base) as usize;
        assert!(off + len <= self.mem.len(), "access outside table memory: {addr:#x}+{len}");
        off..off + len
    }

    pub fn read_mem(&self, addr: u64, len: usize) -> &[u8] {
        &self.mem[self.range(addr, len)]
    }

    pub fn be64(&self, addr: u64) -> u64 {
        u64::from_be_bytes(self.read_mem(addr, 8).try_into().unwrap())
    }

    /// IC base and register offset of an MMIO address in some chip's IC page 0.
    fn ic_reg(addr: u64) -> Option<(u64, u64)> {
        let ic_base = addr & !0x7_ffff;
        let off = addr - ic_base;
        (off < 0x1_0000 && (ic_base & 0xffff_ffff) == 0x0310_0000).then_some((ic_base, off))
    }

    fn watch(&mut self, ic_base: u64, end: bool, load: bool) {
        let (spec, dat0, blk_f, off_f, table, size) = if end {
            (
                ic::VC_EQC_CWATCH_SPEC,
                ic::VC_EQC_CWATCH_DAT0,
                ic::VC_EQC_CWATCH_BLOCKID,
                ic::VC_EQC_CWATCH_OFFSET,
                vst::TSEL_EQDT,
                32,
            )
        } else {
            (
                ic::PC_VPC_CWATCH_SPEC,
                ic::PC_VPC_CWATCH_DAT0,
                ic::PC_VPC_CWATCH_BLOCKID,
                ic::PC_VPC_CWATCH_OFFSET,
                vst::TSEL_VPDT,
                64,
            )
        };
        let s = *self.regs.get(&(ic_base + spec)).unwrap_or(&0);
        let (blk, idx) = (regs::get_field(blk_f, s), regs::get_field(off_f, s));
        let vsd = self.vsds[&(ic_base, table, blk)];
        let at = (vsd & regs::vsd::ADDRESS_MASK) + idx * size;
        for i in 0..size / 8 {
            let reg = ic_base + dat0 + 8 * i;
            if load {
                let v = self.be64(at + 8 * i);
                self.regs.insert(reg, v);
            } else {
                let v = self.regs[&reg].to_be_bytes();
                let r = self.range(at + 8 * i, 8);
                self.mem[r].copy_from_slice(&v);
            }
        }
    }

    pub fn xscom_writes(&self) -> Vec<(u32, u32, u64)> {
        self.ops
            .iter()
            .filter_map(|o| if let Op::XscomW(c, a, v) = *o { Some((c, a, v)) } else { None })
            .collect()
    }

    pub fn mmio_writes_to(&self, addr: u64) -> Vec<u64> {
        self.ops
            .iter()
            .filter_map(|o| if let Op::MmioW(a, v) = *o { (a == addr).then_some(v) } else { None })
            .collect()
    }
}

impl XscomAccess for FakeHw {
    fn xscom_read(&mut self, _chip: u32, pcba: u32) -> Result<u64, XscomError> {
        Err(XscomError::BadAddress(pcba))
    }
    fn xscom_write(&mut self, chip: u32, pcba: u32, value: u64) -> Result<(), XscomError> {
        if self.fail_xscom {
            return Err(XscomError::Failed { pcba, status: 3 });
        }
        self.ops.push(Op::XscomW(chip, pcba, value));
        Ok(())
    }
}

impl MmioAccess for FakeHw {
    fn mmio_read64(&mut self, addr: u64) -> u64 {
        self.ops.push(Op::MmioR(addr));
        let Some((ic_base, off)) = Self::ic_reg(addr) else { return 0 };
        match off {
            ic::VC_EQC_CONFIG => ic::VC_EQC_SYNC_MASK,
            ic::VC_IVC_SCRUB_TRIG | ic::VC_EQC_SCRUB_TRIG | ic::PC_VPC_SCRUB_TRIG => {
                let v = self.regs.get(&addr).copied().unwrap_or(0);
                if self.stuck_scrub {
                    v
                } else {
                    v & !ic::SCRUB_VALID
                }
            }
            ic::VC_EQC_CWATCH_DAT0 => {
                self.watch(ic_base, true, true);
                self.regs[&addr]
            }
            ic::PC_VPC_CWATCH_DAT0 => {
                self.watch(ic_base, false, true);
                self.regs[&addr]
            }
            ic::VC_EQC_CWATCH_SPEC | ic::PC_VPC_CWATCH_SPEC => !(ic::CWATCH_FULL | ic::CWATCH_CONFLICT),
            _ => self.regs.get(&addr).copied().unwrap_or(0),
        }
    }

    fn mmio_write64(&mut self, addr: u64, value: u64) {
        self.ops.push(Op::MmioW(addr, value));
        self.regs.insert(addr, value);
        if let Some((ic_base, off)) = Self::ic_reg(addr) {
            match off {
                ic::VC_VSD_TABLE_DATA => {
                    let sel = self.regs[&(ic_base + ic::VC_VSD_TABLE_ADDR)];
                    let key = (
                        ic_base,
                        regs::get_field(vst::TABLE_SELECT, sel),
                        regs::get_field(vst::TABLE_BLOCK, sel),
                    );
                    self.vsds.insert(key, value);
                }
                ic::VC_EQC_CWATCH_DAT0 => self.watch(ic_base, true, false),
                ic::PC_VPC_CWATCH_DAT0 => self.watch(ic_base, false, false),
                _ => {}
            }
        }
    }

    fn mmio_read8(&mut self, addr: u64) -> u8 {
        self.ops.push(Op::MmioR(addr));
        0
    }

    fn mmio_write8(&mut self, addr: u64, value: u8) {
        self.ops.push(Op::MmioW8(addr, value));
    }
}

impl PhysMem for FakeHw {
    fn mem_read(&mut self, addr: u64, buf: &mut [u8]) {
        let r = self.range(addr, buf.len());
        buf.copy_from_slice(&self.mem[r]);
    }
    fn mem_write(&mut self, addr: u64, data: &[u8]) {
        let r = self.range(addr, data.len());
        self.mem[r].copy_from_slice(data);
    }
}

/// Small tables so the fake memory stays small: 16 Ki sources, 256 VPs per chip.
pub(super) const CFG: XiveConfig = XiveConfig { irqs_per_chip: 1 << 14, vps_per_chip: 256 };
/// Chip 0's threads: 2 cores x 4 threads, as QEMU's powernv9 (PIR = chip << 8 | core << 2 | t).
pub(super) const THREADS0: [u32; 8] = [0, 1, 2, 3, 4, 5, 6, 7];
pub(super) const THREADS1: [u32; 8] = [0x100, 0x101, 0x102, 0x103, 0x104, 0x105, 0x106, 0x107];
pub(super) const REGION: u64 = 2 << 20;

pub(super) fn desc(chip_id: u32, threads: &[u32]) -> ChipDesc<'_> {
    ChipDesc {
        chip_id,
        xscom_base: regs::XSCOM_BASE,
        bars: Bars::p9(chip_id),
        region: Region { base: MEM_BASE + chip_id as u64 * REGION, len: REGION },
        threads,
    }
}

/// A one- or two-chip system after boot.
pub(super) fn system(chips: u32) -> Xive<FakeHw> {
    let mut x = Xive::new(FakeHw::new(), CFG).unwrap();
    x.add_chip(&desc(0, &THREADS0)).unwrap();
    if chips > 1 {
        x.add_chip(&desc(1, &THREADS1)).unwrap();
    }
    x.finish_init().unwrap();
    x
}

#[test]
fn table_layout_is_naturally_aligned() {
    let l = TableLayout::new(&CFG, MEM_BASE).unwrap();
    // END table 256 * 8 * 32 = 64 KiB first, then EAS 128 KiB, NVT 16 KiB, 6 FIFO pages,
    // source state 4 KiB.
    assert_eq!(l.endt, MEM_BASE);
    assert_eq!(l.ivt, MEM_BASE + 0x2_0000);
    assert_eq!(l.vpdt, MEM_BASE + 0x4_0000);
    assert_eq!(l.fifo, MEM_BASE + 0x5_0000);
    assert_eq!(l.sbe, MEM_BASE + 0xb_0000);
    assert_eq!(l.end, MEM_BASE + 0xb_1000);
    assert_eq!(CFG.region_size(), 0xb_1000);
    assert_eq!(CFG.region_align(), 0x2_0000);
    let d = XiveConfig::default();
    assert_eq!((d.region_size(), d.region_align()), (0x22_4000, 0x10_0000));
}

#[test]
fn bars_are_programmed_over_xscom_in_order() {
    let mut x = Xive::new(FakeHw::new(), CFG).unwrap();
    x.add_chip(&desc(1, &THREADS1)).unwrap();
    let b = 0x0501_3000;
    let chip = 1u64 << 42;
    let expected = [
        (1, b + 0x10, 0xc006_0302_0310_0000 + chip),
        (1, b + 0x12, 0xc006_0302_0318_0000),
        (1, b + 0x14, 0),
        (1, b + 0x16, 0),
        (1, b + 0x17, 0x0000_0030_0000_0000),
        (1, b + 0x16, 0x8006_0180_0000_0000 + chip),
        (1, b + 0x18, 0),
        (1, b + 0x19, 0x0000_0780_0000_0000),
        (1, b + 0x18, 0x8006_0100_0000_0000 + chip),
        (1, b + 0x20, 0x0600_0200_0000_0000),
    ];
    assert_eq!(x.hw_mut().xscom_writes(), expected);
}

#[test]
fn globals_set_translation_and_vsds() {
    let mut x = Xive::new(FakeHw::new(), CFG).unwrap();
    x.add_chip(&desc(0, &THREADS0)).unwrap();
    let hw = x.hw_mut();
    let ic0 = Bars::p9(0).ic;
    // Block 0, chip id override; the thread context config (block groups, chip id 0, age 2).
    assert_eq!(hw.mmio_writes_to(ic0 + ic::PC_GLOBAL_CONFIG), [0x0000_0000_0080_0000]);
    assert_eq!(hw.mmio_writes_to(ic0 + ic::PC_TCTXT_CFG), [0xe0c0_0002_0000_0000]);
    assert_eq!(hw.mmio_writes_to(ic0 + ic::CQ_CFG_PB_GEN), [0x0002_0000_0000_0000]);
    assert_eq!(hw.mmio_writes_to(ic0 + ic::VC_EQC_CONFIG), [0x0000_0000_f980_0000]);
    // EDT: 48 IPI sets (type 1) then 16 END sets (type 2), indexes restart for ENDs.
    let tdr = hw.mmio_writes_to(ic0 + ic::CQ_TDR);
    assert_eq!(tdr.len(), 64 + 16);
    assert_eq!(tdr[0], 0x4000_0000_0000_0000);
    assert_eq!(tdr[47], 0x4000_002f_0000_0000);
    assert_eq!(tdr[48], 0x8000_0000_0000_0000);
    assert_eq!(tdr[63], 0x8000_000f_0000_0000);
    assert_eq!(tdr[64], 0x8000_0000_0000_0000);
    assert_eq!(tdr[79], 0x8000_000f_0000_0000);
    assert_eq!(hw.mmio_writes_to(ic0 + ic::CQ_TAR), [0x8001_0000_0000_0000, 0x8002_0000_0000_0000]);
    // VSDs: EAS 128 KiB, SBE 4 KiB, END 64 KiB, NVT 16 KiB, then 6 FIFO pages (VC only).
    let l = TableLayout::new(&CFG, MEM_BASE).unwrap();
    let vc = hw.mmio_writes_to(ic0 + ic::VC_VSD_TABLE_DATA);
    assert_eq!(
        vc[..4],
        [
            0x8000_0000_0000_0005 | l.ivt,
            0x8000_0000_0000_0000 | l.sbe,
            0x8000_0000_0000_0004 | l.endt,
            0x8000_0000_0000_0002 | l.vpdt
        ]
    );
    assert_eq!(vc.len(), 10);
    assert_eq!(vc[9], 0x8000_0000_0000_0004 | (l.fifo + 5 * 0x1_0000));
    assert_eq!(hw.mmio_writes_to(ic0 + ic::PC_VSD_TABLE_DATA), vc[..4]);
    let sel = hw.mmio_writes_to(ic0 + ic::VC_VSD_TABLE_ADDR);
    assert_eq!(sel[..4], [0, 0x0001_0000_0000_0000, 0x0002_0000_0000_0000, 0x0003_0000_0000_0000]);
    assert_eq!(sel[9], 0x0004_0005_0000_0000);
    assert_eq!(hw.mmio_writes_to(ic0 + ic::VC_IRQ_CONFIG_IPI), [0x0000_0000_0004_4000]);
    // Tables: sources off (PQ = 01), thread NVTs valid, the rest clear.
    assert!(hw.read_mem(l.sbe, 0x1000).iter().all(|&b| b == 0x55));
    assert_eq!(hw.be64(l.vpdt + 0x80 * 64), 0x8000_0000_0000_0000);
    assert_eq!(hw.be64(l.vpdt + 0x87 * 64), 0x8000_0000_0000_0000);
    assert_eq!(hw.be64(l.vpdt + 0x88 * 64), 0);
    assert!(hw.read_mem(l.ivt, 0x2_0000).iter().all(|&b| b == 0));
}

#[test]
fn finish_forwards_blocks_and_enables_threads() {
    let mut x = system(2);
    let hw = x.hw_mut();
    let (b0, b1) = (Bars::p9(0), Bars::p9(1));
    // Chip 0 forwards block 1 to chip 1's notify page and PC BAR.
    assert_eq!(hw.vsds[&(b0.ic, vst::TSEL_IVT, 1)], 0xc000_0000_0000_0000 | (b1.ic + 0x1_0000));
    assert_eq!(hw.vsds[&(b0.ic, vst::TSEL_EQDT, 1)], 0xc000_0000_0000_0000 | (b1.ic + 0x1_0000));
    assert_eq!(hw.vsds[&(b0.ic, vst::TSEL_VPDT, 1)], 0xc000_0000_0000_0018 | b1.pc);
    assert_eq!(hw.vsds[&(b1.ic, vst::TSEL_SBE, 0)], 0xc000_0000_0000_0000 | (b0.ic + 0x1_0000));
    // One NCU special BAR per core: chip 1's cores 0 and 1 are both in quad 0, first EX.
    let ncu: Vec<_> = hw.xscom_writes().into_iter().filter(|w| w.1 & 0xfffff == 0x11010).collect();
    assert_eq!(
        ncu,
        [
            (0, 0x1001_1010, 0xc006_0302_0318_0000),
            (0, 0x1001_1010, 0xc006_0302_0318_0000),
            (1, 0x1001_1010, 0xc006_0302_0318_0000),
            (1, 0x1001_1010, 0xc006_0302_0318_0000)
        ]
    );
    // Thread 0x105: clear then set bit 5 of thread enable 0, indirect TIMA for thread 5,
    // VT set in its hardware ring, indirect access closed.
    let seq: Vec<_> = hw
        .ops
        .iter()
        .copied()
        .filter(|o| match o {
            Op::MmioW(a, _) | Op::MmioR(a) | Op::MmioW8(a, _) => a & !0x7_ffff == b1.ic,
            _ => false,
        })
        .collect();
    let at = seq.iter().position(|o| *o == Op::MmioW(b1.ic + ic::PC_THREAD_EN_REG0_CLR, 1 << 58)).unwrap();
    assert_eq!(
        seq[at..at + 6],
        [
            Op::MmioW(b1.ic + ic::PC_THREAD_EN_REG0_CLR, 1 << 58),
            Op::MmioW(b1.ic + ic::PC_THREAD_EN_REG0_SET, 1 << 58),
            Op::MmioW(b1.ic + ic::PC_TCTXT_INDIR0, 0x8005_0000_0000_0000),
            Op::MmioR(b1.ic + ic::PC_TCTXT_INDIR0),
            Op::MmioW8(b1.ic + 0x4_0000 + 0x38, 0x80),
            Op::MmioW(b1.ic + ic::PC_TCTXT_INDIR0, 0),
        ]
    );
}

#[test]
fn bring_up_errors() {
    assert!(Xive::new(FakeHw::new(), XiveConfig { irqs_per_chip: 1000, vps_per_chip: 256 }).is_err());
    assert!(Xive::new(FakeHw::new(), XiveConfig { irqs_per_chip: 1 << 14, vps_per_chip: 1 << 18 }).is_err());
    let mut x = Xive::new(FakeHw::new(), CFG).unwrap();
    let mut small = desc(0, &THREADS0);
    small.region.len = 0x1000;
    assert_eq!(x.add_chip(&small), Err(XiveError::NoMemory));
    let mut odd = desc(0, &THREADS0);
    odd.bars.ic += 0x1000;
    assert_eq!(x.add_chip(&odd), Err(XiveError::Parameter));
    let twins = [0x0, 0x80];
    assert_eq!(x.add_chip(&desc(0, &twins)), Err(XiveError::Parameter));
    x.hw_mut().fail_xscom = true;
    assert_eq!(x.add_chip(&desc(0, &THREADS0)), Err(XiveError::Hardware));
    x.hw_mut().fail_xscom = false;
    x.add_chip(&desc(0, &THREADS0)).unwrap();
    assert_eq!(x.add_chip(&desc(0, &THREADS0)), Err(XiveError::Parameter));
    let mut overlap = desc(1, &THREADS1);
    overlap.region.base = MEM_BASE;
    assert_eq!(x.add_chip(&overlap), Err(XiveError::Parameter));
}

#[test]
fn device_tree_values_and_psi_source() {
    let mut x = system(1);
    let dt = x.dt_info().unwrap();
    assert_eq!(dt.tima[1], (0x0006_0302_0319_0000, 0x1_0000));
    assert_eq!(dt.eq_sizes, [12, 16, 21, 24]);
    assert_eq!(dt.priorities, 8);
    assert_eq!(x.psi_notify_port(0), Some(0x0006_0302_0311_0230));
    assert_eq!(x.psi_notify_port(3), None);
    // 14 PSI sources, 4 KiB ESB pages, at the top of the EAS table, aligned to 16.
    let g = x.register_hw_source(0, 14, 0x0006_0302_031c_0000, 12, true, false).unwrap();
    assert_eq!(g, (1 << 14) - 16);
    assert_eq!(tables::girq::powerbus(0, g), 0x3ff0);
    assert_eq!(x.hw_source_of(g + 9), Some((0, 9)));
    assert_eq!(x.hw_source_of(g + 14), None);
    let l = TableLayout::new(&CFG, MEM_BASE).unwrap();
    assert_eq!(x.hw_mut().be64(l.ivt + 8 * (g as u64 + 9)), 0x8000_0000_8000_3ff9);
    assert_eq!(x.register_hw_source(0, 4, 0x1234, 12, true, false), Err(XiveError::Parameter));
    assert_eq!(x.register_hw_source(9, 4, 0x1000, 12, true, false), Err(XiveError::Parameter));
    assert_eq!(x.register_hw_source(0, 1 << 14, 0x1000, 12, true, false), Err(XiveError::Resource));
}
