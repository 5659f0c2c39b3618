//! [`Xive`]: all chips' controllers, the boot-time API (add chips, finish, register hardware
//! sources, device-tree values) and the lookups shared by the OPAL operations in `calls`.

use super::chip::{Chip, HwSource, TableLayout};
use super::hw::XiveHw;
use super::regs::{esb, ic_page, tm};
use super::state::{locate_vp, ChipState, Vp, HW_VP_RANGE};
use super::tables::{girq, Eas, End, Nvt};
use super::{hw_vp_index, ChipDesc, DtInfo, XiveConfig, XiveError, PRIORITIES};
use alloc::vec::Vec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Boot,
    Emulation,
    Exploitation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Ipi(usize, u32),
    Hw(usize, u32),
    Escalation(usize, u32),
}

/// The interrupt controllers of all chips.
pub struct Xive<H: XiveHw> {
    pub(super) hw: H,
    pub(super) cfg: XiveConfig,
    pub(super) chips: Vec<Chip>,
    pub(super) state: Vec<ChipState>,
    pub(super) mode: Mode,
}

impl<H: XiveHw> Xive<H> {
    /// A system with no chips yet.
    pub fn new(hw: H, cfg: XiveConfig) -> Result<Self, XiveError> {
        cfg.check()?;
        Ok(Self { hw, cfg, chips: Vec::new(), state: Vec::new(), mode: Mode::Boot })
    }

    /// The hardware accessor.
    pub fn hw_mut(&mut self) -> &mut H {
        &mut self.hw
    }

    /// Boot, per chip: BARs, global configuration, set translation, tables. Returns the
    /// chip's block number.
    pub fn add_chip(&mut self, desc: &ChipDesc<'_>) -> Result<u8, XiveError> {
        if self.chips.len() >= 16 || self.chips.iter().any(|c| c.chip_id == desc.chip_id) {
            return Err(XiveError::Parameter);
        }
        let block = self.chips.len() as u8;
        let chip = Chip::new(desc, block, &self.cfg)?;
        let overlaps =
            self.chips.iter().any(|c| c.tables.endt < chip.tables.end && chip.tables.endt < c.tables.end);
        if overlaps || TableLayout::new(&self.cfg, desc.region.base).is_none() {
            return Err(XiveError::Parameter);
        }
        chip.configure_bars(&mut self.hw)?;
        chip.configure_globals(&mut self.hw);
        chip.configure_set_translation(&mut self.hw);
        chip.install_tables(&mut self.hw, &self.cfg)?;
        self.chips.push(chip);
        self.state.push(ChipState::new(self.cfg.irqs_per_chip, self.cfg.vps_per_chip));
        Ok(block)
    }

    /// Boot, once all chips are added: cross-chip forwarding, the cores' TIMA BARs, and
    /// every hardware thread enabled with its hardware ring valid.
    pub fn finish_init(&mut self) -> Result<(), XiveError> {
        for (i, c) in self.chips.iter().enumerate() {
            for (j, remote) in self.chips.iter().enumerate() {
                if i != j {
                    c.forward_to(&mut self.hw, remote)?;
                }
            }
            c.configure_ncu_bars(&mut self.hw)?;
            for &pir in &c.threads {
                c.enable_thread(&mut self.hw, pir);
            }
        }
        Ok(())
    }

    /// Registers `count` sources whose ESB pages start at `esb_base` (`1 << esb_shift`
    /// bytes each) on chip `chip_id`, e.g. the PSI host bridge's. Returns the first
    /// interrupt number; the sources start valid and masked, with their number as data.
    pub fn register_hw_source(
        &mut self,
        chip_id: u32,
        count: u32,
        esb_base: u64,
        esb_shift: u32,
        lsi: bool,
        two_page: bool,
    ) -> Result<u32, XiveError> {
        let c = self.chip_index(chip_id)?;
        if !(12..=24).contains(&esb_shift) || esb_base & ((1 << esb_shift) - 1) != 0 {
            return Err(XiveError::Parameter);
        }
        let align = count.checked_next_power_of_two().ok_or(XiveError::Parameter)?;
        let first = self.state[c].alloc_hw(count, align).ok_or(XiveError::Resource)?;
        let block = self.chips[c].block;
        for i in first..first + count {
            self.chips[c].set_eas(&mut self.hw, i, Eas::masked(girq::new(block, i)))?;
        }
        self.state[c].hw_sources.push(HwSource { first, count, esb_base, esb_shift, lsi, two_page });
        Ok(girq::new(block, first))
    }

    /// The hardware source (chip id, number within its block) behind `girq`, if any.
    pub fn hw_source_of(&self, g: u32) -> Option<(u32, u32)> {
        match self.source(g).ok()? {
            Source::Hw(c, idx) => {
                let s = self.state[c].hw_source(idx)?;
                Some((self.chips[c].chip_id, idx - s.first))
            }
            _ => None,
        }
    }

    /// Notify address a source unit on chip `chip_id` (the PSI host bridge) sends its
    /// triggers to.
    pub fn psi_notify_port(&self, chip_id: u32) -> Option<u64> {
        let c = self.chip_index(chip_id).ok()?;
        Some(self.chips[c].bars.notify_page() + ic_page::NOTIFY_PSI)
    }

    /// Properties of the `interrupt-controller` node (`None` before the first chip).
    pub fn dt_info(&self) -> Option<DtInfo> {
        let t = self.chips.first()?.bars.tm;
        Some(DtInfo {
            tima: core::array::from_fn(|i| (t + i as u64 * tm::PAGE, tm::PAGE)),
            eq_sizes: End::QUEUE_SHIFTS,
            priorities: PRIORITIES as u32,
        })
    }

    pub(super) fn chip_index(&self, chip_id: u32) -> Result<usize, XiveError> {
        self.chips.iter().position(|c| c.chip_id == chip_id).ok_or(XiveError::Parameter)
    }

    pub(super) fn exploitation(&self) -> Result<(), XiveError> {
        if self.mode == Mode::Exploitation {
            Ok(())
        } else {
            Err(XiveError::WrongState)
        }
    }

    pub(super) fn source(&self, g: u32) -> Result<Source, XiveError> {
        let c = girq::block(g) as usize;
        if girq::has_stray_bits(g) || c >= self.chips.len() {
            return Err(XiveError::Parameter);
        }
        let idx = girq::index(g);
        if g & girq::ESCALATION != 0 {
            return if idx < self.cfg.vps_per_chip * PRIORITIES as u32 {
                Ok(Source::Escalation(c, idx))
            } else {
                Err(XiveError::Parameter)
            };
        }
        if self.state[c].ipis.get(idx) {
            Ok(Source::Ipi(c, idx))
        } else if self.state[c].hw_source(idx).is_some() {
            Ok(Source::Hw(c, idx))
        } else {
            Err(XiveError::Parameter)
        }
    }

    pub(super) fn locate(&self, vp: u64) -> Result<(usize, u32), XiveError> {
        let vp = Vp::decode(vp).ok_or(XiveError::Parameter)?;
        let chips: Vec<_> =
            self.chips.iter().zip(&self.state).map(|(c, s)| (c.block, c.threads.as_slice(), s)).collect();
        locate_vp(vp, &chips)
    }

    /// (chip, END index) of queue `prio` of `vp`.
    pub(super) fn end_of(&self, vp: u64, prio: u8) -> Result<(usize, u32), XiveError> {
        if prio >= PRIORITIES {
            return Err(XiveError::Parameter);
        }
        let (c, idx) = self.locate(vp)?;
        Ok((c, idx * PRIORITIES as u32 + prio as u32))
    }

    /// The OS's id of NVT `idx` of chip `c` (0 if none).
    pub(super) fn vp_id(&self, c: usize, idx: u32) -> u64 {
        if HW_VP_RANGE.contains(&idx) {
            return self.chips[c].threads.iter().find(|&&p| hw_vp_index(p) == idx).map_or(0, |&p| p as u64);
        }
        match self.state[c].vp_block_of(idx) {
            Some((_, order)) => Vp::encode_virtual(self.chips[c].block, idx, order) as u64,
            None => 0,
        }
    }

    /// ESB page where source `s` is masked and EOIed.
    pub(super) fn eoi_page(&self, s: Source) -> Option<u64> {
        match s {
            Source::Ipi(c, idx) => Some(self.chips[c].ipi_esb(idx) + (1 << (esb::SHIFT_2PAGE_64K - 1))),
            Source::Hw(c, idx) => self.state[c].hw_source(idx).map(|h| h.eoi_page(idx - h.first)),
            Source::Escalation(..) => None,
        }
    }

    pub(super) fn clean_end(&mut self, c: usize, idx: u32) -> Result<(), XiveError> {
        let old = self.chips[c].end(&mut self.hw, idx);
        if !old.is_valid() {
            return Ok(());
        }
        let mut e = End::default();
        e.w[0] = old.w[0] & End::W0_FIRMWARE;
        e.w[1] = End::W1_ESE_Q | End::W1_ESN_Q;
        self.chips[c].set_end(&mut self.hw, idx, &e)
    }

    pub(super) fn reset_chip(&mut self, c: usize) -> Result<(), XiveError> {
        for idx in self.state[c].ipis.ones().collect::<Vec<_>>() {
            self.chips[c].set_eas(&mut self.hw, idx, Eas(0))?;
        }
        for idx in 0..self.cfg.vps_per_chip * PRIORITIES as u32 {
            self.clean_end(c, idx)?;
        }
        for (base, order) in self.state[c].vp_blocks.clone() {
            for idx in base..base + (1 << order) {
                if self.chips[c].nvt(&mut self.hw, idx) != Nvt::default() {
                    self.chips[c].set_nvt(&mut self.hw, idx, &Nvt::default())?;
                }
            }
        }
        for pir in self.chips[c].threads.clone() {
            self.chips[c].set_nvt(&mut self.hw, hw_vp_index(pir), &Nvt::valid())?;
            self.chips[c].enable_thread(&mut self.hw, pir);
        }
        self.state[c].reset();
        Ok(())
    }

    pub(super) fn check_vp_block_free(&mut self, c: usize, base: u32, order: u8) -> Result<(), XiveError> {
        for idx in base..base + (1 << order) {
            if self.chips[c].nvt(&mut self.hw, idx).is_valid() {
                return Err(XiveError::FreeActive);
            }
        }
        Ok(())
    }
}
