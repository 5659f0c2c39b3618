//! The operations behind the OPAL XIVE calls: [`XiveOps`] for [`Xive`]. Every value an OS
//! passes is checked; a bad one is an [`XiveError`], never a panic or a table write out of
//! bounds.

use super::chip::Chip;
use super::hw::XiveHw;
use super::ops::{Mode, Source, Xive};
use super::regs::{esb, get_field32, set_field32};
use super::state::Vp;
use super::tables::{girq, Eas, End, Nvt};
use super::{irq_flags, queue_flags, sync_kind, vp_flags, XiveError, ANY_CHIP, PRIORITIES, PRIO_MASKED};
use super::{IrqConfig, IrqInfo, QueueInfo, VpInfo, XiveOps};
use alloc::vec::Vec;

impl<H: XiveHw> XiveOps for Xive<H> {
    fn reset(&mut self, mode: u64) -> Result<(), XiveError> {
        let new_mode = match mode {
            0 => Mode::Emulation,
            1 => Mode::Exploitation,
            _ => return Err(XiveError::Parameter),
        };
        // Mask every source that was ever unmasked, in the EAS and at the source.
        for c in 0..self.chips.len() {
            for idx in self.state[c].enabled.ones().collect::<Vec<_>>() {
                let eas = self.chips[c].eas(&mut self.hw, idx);
                self.chips[c].set_eas(&mut self.hw, idx, eas.with_mask(eas.data()))?;
                let g = girq::new(self.chips[c].block, idx);
                if let Some(page) = self.source(g).ok().and_then(|s| self.eoi_page(s)) {
                    self.hw.mmio_read64(page + esb::SET_PQ_01);
                }
            }
        }
        for c in 0..self.chips.len() {
            self.chips[c].sync(&mut self.hw)?;
        }
        for c in 0..self.chips.len() {
            self.reset_chip(c)?;
        }
        self.mode = new_mode;
        Ok(())
    }

    fn irq_info(&mut self, g: u32) -> Result<IrqInfo, XiveError> {
        self.exploitation()?;
        let s = self.source(g)?;
        let half = 1u64 << (esb::SHIFT_2PAGE_64K - 1);
        let (c, flags, eoi_page, trig_page, esb_shift) = match s {
            Source::Ipi(c, idx) => {
                let base = self.chips[c].ipi_esb(idx);
                (c, irq_flags::TRIGGER_PAGE, base + half, base, esb::SHIFT_2PAGE_64K)
            }
            Source::Hw(c, idx) => {
                let h = self.state[c].hw_source(idx).ok_or(XiveError::Internal)?;
                let mut f = if h.lsi { irq_flags::LSI } else { 0 };
                if h.two_page {
                    f |= irq_flags::TRIGGER_PAGE;
                }
                (c, f, h.eoi_page(idx - h.first), h.trigger_page(idx - h.first), h.esb_shift)
            }
            Source::Escalation(c, idx) => (c, 0, self.chips[c].end_esb(idx) + half, 0, esb::SHIFT_2PAGE_64K),
        };
        Ok(IrqInfo { flags, eoi_page, trig_page, esb_shift, src_chip: self.chips[c].chip_id })
    }

    fn irq_config(&mut self, g: u32) -> Result<IrqConfig, XiveError> {
        self.exploitation()?;
        let eas = match self.source(g)? {
            Source::Ipi(c, idx) | Source::Hw(c, idx) => self.chips[c].eas(&mut self.hw, idx),
            Source::Escalation(c, idx) => self.chips[c].end(&mut self.hw, idx).escalation(),
        };
        let end_chip = eas.end_block() as usize;
        let routed =
            end_chip < self.chips.len() && eas.end_index() < self.cfg.vps_per_chip * PRIORITIES as u32;
        let vp = if routed { self.vp_id(end_chip, eas.end_index() / PRIORITIES as u32) } else { 0 };
        let prio = if eas.is_masked() || !routed { PRIO_MASKED } else { (eas.end_index() % 8) as u8 };
        Ok(IrqConfig { vp, prio, lirq: eas.data() })
    }

    fn set_irq_config(&mut self, g: u32, vp: u64, prio: u8, lirq: u32) -> Result<(), XiveError> {
        self.exploitation()?;
        let s = self.source(g)?;
        if lirq & 0x8000_0000 != 0 || (prio != PRIO_MASKED && prio >= PRIORITIES) {
            return Err(XiveError::Parameter);
        }
        let target = if prio == PRIO_MASKED { None } else { Some(self.end_of(vp, prio)?) };
        let route = |eas: Eas, chips: &[Chip]| match target {
            Some((tc, end)) => eas.routed(chips[tc].block, end, lirq),
            None => eas.with_mask(lirq),
        };
        match s {
            Source::Ipi(c, idx) | Source::Hw(c, idx) => {
                let old = self.chips[c].eas(&mut self.hw, idx);
                let new = route(old, &self.chips);
                self.chips[c].set_eas(&mut self.hw, idx, new)?;
                self.state[c].enabled.set(idx, target.is_some());
                self.chips[c].sync(&mut self.hw)?;
                let old_target = old.end_block() as usize;
                if old.is_valid() && old_target != c && old_target < self.chips.len() {
                    self.chips[old_target].sync(&mut self.hw)?;
                }
            }
            Source::Escalation(c, idx) => {
                self.chips[c].scrub_end(&mut self.hw, idx)?;
                let mut end = self.chips[c].end(&mut self.hw, idx);
                let new = route(end.escalation(), &self.chips);
                end.set_escalation(new);
                self.chips[c].set_end(&mut self.hw, idx, &end)?;
            }
        }
        Ok(())
    }

    fn queue_info(&mut self, vp: u64, prio: u8) -> Result<QueueInfo, XiveError> {
        self.exploitation()?;
        let (c, idx) = self.end_of(vp, prio)?;
        let e = self.chips[c].end(&mut self.hw, idx);
        let enqueue = e.w[0] & End::W0_ENQUEUE != 0;
        let mut flags = 0;
        for (bit, f) in [
            (End::W0_VALID, queue_flags::ENABLED),
            (End::W0_UCOND_NOTIFY, queue_flags::ALWAYS_NOTIFY),
            (End::W0_ESCALATE_CTL, queue_flags::ESCALATE),
        ] {
            if e.w[0] & bit != 0 {
                flags |= f;
            }
        }
        Ok(QueueInfo {
            qpage: if enqueue { e.queue_addr() } else { 0 },
            qshift: if enqueue { e.queue_shift() as u64 } else { 0 },
            qeoi_page: self.chips[c].end_esb(idx),
            escalate_irq: girq::escalation(self.chips[c].block, idx),
            flags,
        })
    }

    fn set_queue_info(
        &mut self,
        vp: u64,
        prio: u8,
        qpage: u64,
        qshift: u64,
        flags: u64,
    ) -> Result<(), XiveError> {
        self.exploitation()?;
        let known = queue_flags::ENABLED | queue_flags::ALWAYS_NOTIFY | queue_flags::ESCALATE;
        if flags & !known != 0 {
            return Err(XiveError::Parameter);
        }
        let (c, idx) = self.end_of(vp, prio)?;
        let old = self.chips[c].end(&mut self.hw, idx);
        let mut e = old;
        if flags & queue_flags::ENABLED != 0 {
            match qshift {
                0 => {
                    e.w[2] = 0;
                    e.w[3] = 0;
                    e.w[0] &= !End::W0_ENQUEUE;
                }
                12 | 16 | 21 | 24 => {
                    let size = 1u64 << qshift;
                    if qpage == 0 || qpage & (size - 1) != 0 || qpage >> 60 != 0 {
                        return Err(XiveError::Parameter);
                    }
                    e.set_queue(qpage, qshift as u32);
                    e.w[0] |= End::W0_ENQUEUE;
                }
                _ => return Err(XiveError::Parameter),
            }
            let nvt = idx / PRIORITIES as u32;
            e.set_target(self.chips[c].block, nvt, prio);
            for (f, bit) in [
                (queue_flags::ALWAYS_NOTIFY, End::W0_UCOND_NOTIFY),
                (queue_flags::ESCALATE, End::W0_ESCALATE_CTL),
            ] {
                if flags & f != 0 {
                    e.w[0] |= bit;
                } else {
                    e.w[0] &= !bit;
                }
            }
            // Start at entry 0 with generation 1; keep the ESB states.
            e.w[1] = End::W1_GENERATION | (old.w[1] & (End::W1_ESN | End::W1_ESE));
            e.w[0] |= End::W0_VALID | End::W0_BACKLOG;
        } else {
            e = End::default();
            e.w[0] = old.w[0] & End::W0_FIRMWARE;
            e.w[1] = End::W1_ESE_Q | End::W1_ESN_Q;
        }
        self.chips[c].set_end(&mut self.hw, idx, &e)
    }

    fn queue_state(&mut self, vp: u64, prio: u8) -> Result<(u32, u32), XiveError> {
        self.exploitation()?;
        let (c, idx) = self.end_of(vp, prio)?;
        self.chips[c].scrub_end(&mut self.hw, idx)?;
        let e = self.chips[c].end(&mut self.hw, idx);
        if !e.is_valid() {
            return Err(XiveError::WrongState);
        }
        Ok((get_field32(End::W1_GENERATION, e.w[1]), get_field32(End::W1_PAGE_OFF, e.w[1])))
    }

    fn set_queue_state(&mut self, vp: u64, prio: u8, toggle: u32, index: u32) -> Result<(), XiveError> {
        self.exploitation()?;
        let (c, idx) = self.end_of(vp, prio)?;
        let mut e = self.chips[c].end(&mut self.hw, idx);
        if !e.is_valid() {
            return Err(XiveError::WrongState);
        }
        let entries = if e.w[0] & End::W0_ENQUEUE != 0 { 1u32 << (e.queue_shift() - 2) } else { 1 };
        if toggle > 1 || index >= entries {
            return Err(XiveError::Parameter);
        }
        e.w[1] = set_field32(End::W1_GENERATION, e.w[1], toggle);
        e.w[1] = set_field32(End::W1_PAGE_OFF, e.w[1], index);
        self.chips[c].set_end(&mut self.hw, idx, &e)
    }

    fn donate_page(&mut self, chip_id: u32, addr: u64) -> Result<(), XiveError> {
        self.exploitation()?;
        self.chip_index(chip_id)?;
        if addr == 0 || addr & 0xffff != 0 {
            return Err(XiveError::Parameter);
        }
        Ok(())
    }

    fn allocate_vp_block(&mut self, order: u64) -> Result<u32, XiveError> {
        self.exploitation()?;
        if order > self.cfg.vps_per_chip.trailing_zeros() as u64 {
            return Err(XiveError::Parameter);
        }
        let order = order as u8;
        for c in 0..self.chips.len() {
            if let Some(base) = self.state[c].alloc_vps(order) {
                // Free NVTs were flushed from the cache when disabled: plain stores suffice.
                let mut nvt = Nvt::default();
                nvt.w[5] = Nvt::W5_INITIAL;
                for idx in base..base + (1 << order) {
                    let at = self.chips[c].tables.vpdt + idx as u64 * Nvt::SIZE;
                    self.hw.mem_write(at, &nvt.to_be_bytes());
                }
                self.hw.mem_barrier();
                return Ok(Vp::encode_virtual(self.chips[c].block, base, order));
            }
        }
        Err(XiveError::Resource)
    }

    fn free_vp_block(&mut self, vp: u64) -> Result<(), XiveError> {
        self.exploitation()?;
        let Some(Vp::Virtual { block, index, order }) = Vp::decode(vp) else {
            return Err(XiveError::Parameter);
        };
        let c = block as usize;
        if c >= self.chips.len() || self.state[c].vp_block_of(index) != Some((index, order)) {
            return Err(XiveError::Parameter);
        }
        self.check_vp_block_free(c, index, order)?;
        for end in index * 8..(index + (1 << order)) * 8 {
            self.clean_end(c, end)?;
        }
        self.state[c].free_vps(index);
        Ok(())
    }

    fn vp_info(&mut self, vp: u64) -> Result<VpInfo, XiveError> {
        self.exploitation()?;
        let (c, idx) = self.locate(vp)?;
        let n = self.chips[c].nvt(&mut self.hw, idx);
        Ok(VpInfo {
            flags: if n.is_valid() { vp_flags::ENABLED } else { 0 },
            cam: ((self.chips[c].block as u64) << 19) | idx as u64,
            report_cl_pair: (((n.w[6] & 0x0fff_ffff) as u64) << 32) | (n.w[7] & 0xffff_ff00) as u64,
            chip_id: self.chips[c].chip_id,
        })
    }

    fn set_vp_info(&mut self, vp: u64, flags: u64, report_cl_pair: u64) -> Result<(), XiveError> {
        self.exploitation()?;
        if !matches!(Vp::decode(vp), Some(Vp::Virtual { .. })) || report_cl_pair & 0xff != 0 {
            return Err(XiveError::Parameter);
        }
        if flags & vp_flags::SINGLE_ESCALATION != 0 {
            return Err(XiveError::Unsupported);
        }
        if flags & !vp_flags::ENABLED != 0 {
            return Err(XiveError::Parameter);
        }
        let (c, idx) = self.locate(vp)?;
        let mut n = self.chips[c].nvt(&mut self.hw, idx);
        if flags & vp_flags::ENABLED != 0 {
            n.w[0] |= Nvt::W0_VALID;
            n.w[6] = (report_cl_pair >> 32) as u32;
            n.w[7] = report_cl_pair as u32;
        } else {
            n.w[0] = 0;
            n.w[6] = 0;
            n.w[7] = 0;
        }
        self.chips[c].set_nvt(&mut self.hw, idx, &n)
    }

    fn vp_state(&mut self, vp: u64) -> Result<u64, XiveError> {
        self.exploitation()?;
        let (c, idx) = self.locate(vp)?;
        self.chips[c].scrub_nvt(&mut self.hw, idx)?;
        let n = self.chips[c].nvt(&mut self.hw, idx);
        if !n.is_valid() {
            return Err(XiveError::WrongState);
        }
        Ok(((n.w[4] as u64) << 32) | n.w[5] as u64)
    }

    fn allocate_irq(&mut self, chip_id: u32, caller_pir: u32) -> Result<u32, XiveError> {
        self.exploitation()?;
        let order: Vec<usize> = if chip_id == ANY_CHIP {
            let own = self.chips.iter().position(|c| c.threads.contains(&caller_pir)).unwrap_or(0);
            core::iter::once(own).chain((0..self.chips.len()).filter(|&c| c != own)).collect()
        } else {
            Vec::from([self.chip_index(chip_id)?])
        };
        for c in order {
            if let Some(idx) = self.state[c].alloc_ipi() {
                let g = girq::new(self.chips[c].block, idx);
                self.chips[c].set_eas(&mut self.hw, idx, Eas::masked(g))?;
                return Ok(g);
            }
        }
        Err(XiveError::Resource)
    }

    fn free_irq(&mut self, g: u32) -> Result<(), XiveError> {
        self.exploitation()?;
        let s = self.source(g)?;
        let Source::Ipi(c, idx) = s else { return Err(XiveError::Parameter) };
        if let Some(page) = self.eoi_page(s) {
            self.hw.mmio_read64(page + esb::SET_PQ_01);
        }
        self.chips[c].set_eas(&mut self.hw, idx, Eas(Eas::VALID | Eas::MASKED))?;
        self.state[c].ipis.set(idx, false);
        self.state[c].enabled.set(idx, false);
        Ok(())
    }

    fn sync(&mut self, kind: u32, g: u32) -> Result<(), XiveError> {
        self.exploitation()?;
        if kind & !(sync_kind::EAS | sync_kind::QUEUE) != 0 {
            return Err(XiveError::Parameter);
        }
        let s = self.source(g)?;
        let (Source::Ipi(c, idx) | Source::Hw(c, idx) | Source::Escalation(c, idx)) = s;
        if kind & sync_kind::EAS != 0 {
            self.chips[c].sync(&mut self.hw)?;
        }
        if kind & sync_kind::QUEUE != 0 {
            let eas = match s {
                Source::Escalation(..) => self.chips[c].end(&mut self.hw, idx).escalation(),
                _ => self.chips[c].eas(&mut self.hw, idx),
            };
            let target = eas.end_block() as usize;
            self.chips.get(target).ok_or(XiveError::Parameter)?.sync(&mut self.hw)?;
        }
        Ok(())
    }
}
