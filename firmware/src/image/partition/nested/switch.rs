//! RUN_VCPU on the processor: the L1 thread's context is saved, the L2 vCPU's loaded, and
//! the thread enters the L2 by the ordinary exception return with the L2's registers in the
//! frame; at the exit the L2's state goes back into the registry and the L1 comes back from
//! its hypercall exactly as it made it, with r3 = H_SUCCESS and r4 = the exit reason.
//!
//! Saved for the L1: the exception frame (every GPR, CR, LR, CTR, XER, CFAR, SRR0/1, the
//! return address), the thread SPRs of `ThreadRegisters` (SPRGs, PIDR, AMR/IAMR/UAMOR/AMOR,
//! FSCR, DSCR, TAR, PSPB, CIABR, DAWR0/X0, PPR, VRSAVE, DPDES, EBB and performance-monitor
//! registers, DAR/DSISR), FP/VMX/VSX, and its decrementer as an expiry. LPIDR, LPCR, HFSCR and
//! PCR are the hypervisor's own values for the LPAR and are set again.

use super::registers::{capture, install, load_vectors, save_vectors};
use super::NestedLpar;
use crate::image::partition::lpar::{Lpar, Vcpu};
use crate::image::partition::{exits, run};
use core::sync::atomic::Ordering;
use oxiboot::exception::{uses_hsrr, ExceptionFrame};
use oxiboot_hv::nested::exit::ExitReason;
use oxiboot_hv::nested::hcall::{Rejection, H_BUSY, H_P3};
use oxiboot_hv::nested::registry::Registry;
use oxiboot_hv::nested::switch::{
    decrementer_expiry, decrementer_for, hypervisor_decrementer_for, l2_lpcr, large_decrementer,
    ThreadRegisters, VectorRegisters,
};
use oxiboot_hv::nested::values::LPCR_MER;
use oxiboot_platform::cpu::{self, mfspr, mtspr};
use oxiboot_platform::spr::{num, Msr};

/// Hypervisor decrementer cap while the L1 asks for an external interrupt to be delivered as
/// soon as the L2 enables them (LPCR[MER]): QEMU does not model MER, so the hypervisor looks
/// every 100 µs (at 512 MHz) whether the L2 enabled them. On hardware MER exits first.
pub const MER_POLL_TICKS: u64 = 51_200;

/// What a thread keeps while its L1 vCPU runs an L2 vCPU.
#[derive(Default)]
pub struct NestedRun {
    /// The L2 vCPU running: (guest id, vCPU id).
    pub active: Option<(u64, u64)>,
    /// The L1's exception frame at its RUN_VCPU.
    l1_frame: ExceptionFrame,
    /// The L1's thread SPRs.
    l1_registers: ThreadRegisters,
    /// The L1's FP/VMX/VSX registers.
    l1_vectors: VectorRegisters,
    /// The L2's, staged for loading and saving.
    l2_vectors: VectorRegisters,
    /// The L1's decrementer as a timebase expiry.
    l1_dec_expiry: u64,
    /// The L2's timebase offset applied through TBU40 (0: none).
    pub tb_offset: u64,
    /// The L1's deadline for this run (host timebase).
    pub hdec_expiry: u64,
    /// The L2 runs with LPCR[MER] (see [`MER_POLL_TICKS`]).
    pub mer: bool,
    /// The L2 uses the large decrementer.
    large_dec: bool,
}

/// Starts the L2 vCPU `(guest, vcpu)` on this thread, whose L1 made the RUN_VCPU in `f`; the
/// registry already applied the run's input buffer. On success `f` holds the L2's registers
/// and the exception return enters it.
pub fn enter_l2(
    lpar: &Lpar,
    vcpu: &Vcpu,
    nested: &NestedLpar,
    registry: &mut Registry,
    (guest_id, vcpu_id): (u64, u64),
    f: &mut ExceptionFrame,
) -> Result<(), Rejection> {
    let guest = registry.l2_guest(guest_id).ok_or(Rejection::new(H_P3))?;
    let tb_offset = guest.state.tb_offset;
    let lpid = {
        let mut shadows = nested.shadows.lock();
        if !shadows.start_running(guest_id, vcpu_id) {
            return Err(Rejection::new(H_BUSY));
        }
        match shadows.prepare(guest_id, &guest.state) {
            Ok(lpid) => lpid,
            Err(rejection) => {
                shadows.stop_running(guest_id, vcpu_id);
                return Err(rejection);
            }
        }
    };
    let Some(l2) = registry.vcpu_mut(guest_id, vcpu_id) else {
        nested.shadows.lock().stop_running(guest_id, vcpu_id);
        return Err(Rejection::new(H_P3));
    };
    let mut run = vcpu.nested_run.lock();
    let now = cpu::mftb();
    // The L1's context.
    run.l1_frame = f.clone();
    run.l1_registers = capture();
    save_vectors(&mut run.l1_vectors);
    run.l1_dec_expiry = decrementer_expiry(mfspr::<{ num::DEC }>(), now, false);
    // The L2's.
    run.l2_vectors = VectorRegisters::of_l2(l2);
    load_vectors(&run.l2_vectors);
    let lpcr = l2_lpcr(l2);
    run.mer = lpcr & LPCR_MER != 0;
    run.large_dec = large_decrementer(lpcr);
    run.hdec_expiry = l2.hdec_expiry_tb;
    run.tb_offset = tb_offset;
    run.active = Some((guest_id, vcpu_id));
    let msr = l2.effective_msr();
    // SAFETY: every value below is for the L2 partition, entered with hrfid when this
    // hypercall returns; the hypervisor runs in real mode with LPID-independent state.
    unsafe {
        install(&ThreadRegisters::of_l2(l2));
        mtspr::<{ num::LPIDR }>(u64::from(lpid));
        cpu::isync();
        mtspr::<{ num::LPCR }>(lpcr);
        mtspr::<{ num::HFSCR }>(l2.hfscr & run::HFSCR_FACILITIES);
        mtspr::<{ num::PCR }>(0);
        apply_tb_offset(tb_offset);
        let l2_now = cpu::mftb();
        mtspr::<{ num::DEC }>(decrementer_for(l2.dec_expiry_tb, l2_now, run.large_dec));
    }
    f.gpr = l2.gpr;
    f.cr = u64::from(l2.cr);
    f.xer = l2.xer;
    f.lr = l2.lr;
    f.ctr = l2.ctr;
    f.cfar = l2.cfar;
    f.srr0 = l2.srr0;
    f.srr1 = l2.srr1;
    f.hsrr0 = l2.nia;
    f.hsrr1 = msr;
    arm_hdec(&run, msr);
    vcpu.in_l2.store(true, Ordering::Release);
    lpar.stats.nested_runs.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// The host timebase while the L2's offset may be applied.
pub fn host_tb(run: &NestedRun) -> u64 {
    cpu::mftb().wrapping_sub(run.tb_offset)
}

/// Sets the hypervisor decrementer for the L2 about to be resumed with `msr`.
pub fn arm_hdec(run: &NestedRun, msr: u64) {
    let cap = if run.mer {
        if msr & Msr::EE.bits() != 0 {
            1
        } else {
            MER_POLL_TICKS
        }
    } else {
        exits::HDEC_FAR
    };
    let hdec = hypervisor_decrementer_for(run.hdec_expiry, host_tb(run), cap);
    // SAFETY: the hypervisor decrementer only brings the thread back to the hypervisor.
    unsafe { mtspr::<{ num::HDEC }>(hdec) };
}

/// Applies (or with 0, keeps) a timebase offset: TBU40 takes the upper 40 bits, so the low
/// 24 bits run on; if they wrapped between the read and the write, the upper part is one
/// too small.
fn apply_tb_offset(offset: u64) {
    if offset == 0 {
        return;
    }
    let target = cpu::mftb().wrapping_add(offset);
    // SAFETY: TBU40 only moves this thread's timebase (QEMU; on hardware the core's, see
    // docs/nested-v2.md); it is moved back at the exit.
    unsafe { mtspr::<{ num::TBU40 }>(target) };
    if cpu::mftb() & 0xff_ffff < target & 0xff_ffff {
        // SAFETY: as above.
        unsafe { mtspr::<{ num::TBU40 }>(target.wrapping_add(1 << 24)) };
    }
}

/// Ends the L2 run on this thread with `reason`: its state is saved into the registry, the
/// L1 is restored into `f` with the RUN_VCPU's result. `fault_status` replaces the HDSISR
/// (for 0xE00) or the MSR cause bits (0xE20) of a fault the L1 must see as its own.
pub fn exit_to_l1(
    lpar: &Lpar,
    vcpu: &Vcpu,
    nested: &NestedLpar,
    reason: ExitReason,
    fault_status: Option<u64>,
    f: &mut ExceptionFrame,
) {
    let mut run = vcpu.nested_run.lock();
    let Some((guest_id, vcpu_id)) = run.active.take() else { return };
    let tb = cpu::mftb();
    let l2_registers = capture();
    let l2_dec = mfspr::<{ num::DEC }>();
    let hfscr = mfspr::<{ num::HFSCR }>();
    save_vectors(&mut run.l2_vectors);
    let mut registry = nested.registry.lock();
    if let Some(l2) = registry.vcpu_mut(guest_id, vcpu_id) {
        let (nia, msr) = if uses_hsrr(f.vector) { (f.hsrr0, f.hsrr1) } else { (f.srr0, f.srr1) };
        l2.gpr = f.gpr;
        l2.cr = f.cr as u32;
        l2.xer = f.xer;
        l2.lr = f.lr;
        l2.ctr = f.ctr;
        l2.cfar = f.cfar;
        l2.nia = nia;
        l2.msr = msr;
        l2.srr0 = f.srr0;
        l2.srr1 = f.srr1;
        l2_registers.save_to_l2(l2);
        run.l2_vectors.save_to_l2(l2);
        l2.dec_expiry_tb = decrementer_expiry(l2_dec, tb, run.large_dec);
        match reason {
            ExitReason::HypervisorDataStorage => {
                l2.hdar = f.hdar;
                l2.hdsisr = fault_status.unwrap_or(f.hdsisr) as u32;
                l2.asdr = f.asdr;
            }
            ExitReason::HypervisorInstructionStorage => {
                l2.asdr = f.asdr;
                if let Some(cause) = fault_status {
                    l2.msr = (msr & !oxiboot_hv::nested::shadow::hisi_cause::ALL) | cause;
                }
            }
            ExitReason::HypervisorEmulationAssistance => l2.heir = f.heir,
            ExitReason::HypervisorFacilityUnavailable => {
                l2.hfscr = (l2.hfscr & !(0xff << 56)) | (hfscr & (0xff << 56));
            }
            _ => {}
        }
    }
    restore_l1(lpar, vcpu, &run, f);
    let outcome = registry.finish_run(guest_id, vcpu_id, reason, &mut super::L1Carve(lpar.carve));
    drop(registry);
    nested.shadows.lock().stop_running(guest_id, vcpu_id);
    super::set_outcome(f, outcome);
}

/// Puts the L1's context back on the thread and into `f`.
fn restore_l1(lpar: &Lpar, vcpu: &Vcpu, run: &NestedRun, f: &mut ExceptionFrame) {
    // SAFETY: the L1 partition's own values, restored before it is resumed.
    unsafe {
        if run.tb_offset != 0 {
            apply_tb_offset(run.tb_offset.wrapping_neg());
        }
        mtspr::<{ num::LPIDR }>(u64::from(lpar.config.id));
        cpu::isync();
        mtspr::<{ num::LPCR }>(lpar.guest_lpcr());
        mtspr::<{ num::HFSCR }>(run::HFSCR_FACILITIES);
        install(&run.l1_registers);
        mtspr::<{ num::DEC }>(decrementer_for(run.l1_dec_expiry, cpu::mftb(), false));
        mtspr::<{ num::HDEC }>(exits::HDEC_FAR);
    }
    load_vectors(&run.l1_vectors);
    vcpu.lpcr_generation.store(lpar.lpcr_generation.load(Ordering::Acquire), Ordering::Release);
    vcpu.in_l2.store(false, Ordering::Release);
    *f = run.l1_frame.clone();
}

/// The thread leaves the L1 for good while an L2 runs (the LPAR stops): the L2 run is
/// forgotten, its vCPU no longer counted as running, the shadow LPID left.
pub fn abandon(lpar: &Lpar, vcpu: &Vcpu) {
    let mut run = vcpu.nested_run.lock();
    if let (Some((guest_id, vcpu_id)), Some(nested)) = (run.active.take(), lpar.nested.as_ref()) {
        nested.shadows.lock().stop_running(guest_id, vcpu_id);
    }
    if run.tb_offset != 0 {
        apply_tb_offset(run.tb_offset.wrapping_neg());
        run.tb_offset = 0;
    }
    vcpu.in_l2.store(false, Ordering::Release);
}
