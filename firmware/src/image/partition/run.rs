//! A hardware thread running a vCPU: loading the partition's context into the thread,
//! entering the guest, and getting the thread back when the vCPU stops.
//!
//! The guest's registers live in the thread's exception frame: entering the guest restores
//! them the way an exception return does, and every guest exit saves them there again
//! (`entry.S`). While a guest runs, `PerCpu::guest` points at its vCPU, which is how the
//! exception code knows an exception from guest state is a guest exit.

use super::lpar::{kick, LparState, StopReason, Vcpu, VcpuState};
use super::{exits, hypervisor, mmu};
use crate::image::cpus::this_cpu;
use crate::image::entry::guest_frame;
use core::sync::atomic::Ordering;
use oxiboot::exception::ExceptionFrame;
use oxiboot::percpu::{PerCpu, HOST_CONTEXT_WORDS};
use oxiboot_platform::cpu::{self, mtspr};
use oxiboot_platform::spr::{num, Lpcr, Msr};

unsafe extern "C" {
    /// Saves the hypervisor context and enters the guest state in `frame` (entry.S).
    fn oxiboot_guest_launch(frame: *mut ExceptionFrame, host: *mut [u64; HOST_CONTEXT_WORDS]) -> u64;
    /// Returns `value` from the `oxiboot_guest_launch` whose context `host` holds (entry.S).
    fn oxiboot_guest_leave(host: *const [u64; HOST_CONTEXT_WORDS], value: u64) -> !;
}

/// Why a vCPU gave its thread back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Leave {
    /// `stop-self`: this vCPU stops, the LPAR goes on.
    StopSelf = 1,
    /// The LPAR is stopping.
    LparStopping = 2,
}

/// Facilities the LPAR may use (HFSCR, hypervisor facility status and control register):
/// FP, VMX/VSX, DSCR, PMU, BHRB, EBB, TAR. Not offered: transactional memory (not in the
/// device tree either) and MSGP (`msgsndp` between threads of a core, which in
/// LPAR-per-thread mode reaches no sibling; the device tree shows no siblings).
pub const HFSCR_FACILITIES: u64 = 0x19f;

/// Packs an LPAR index and a vCPU into a mailbox argument.
pub fn job_argument(lpar: usize, vcpu: &Vcpu) -> u64 {
    ((lpar as u64) << 32) | u64::from(vcpu.pir)
}

/// The mailbox job that runs a vCPU on this thread until it stops; if it was the last vCPU
/// of a stopping LPAR that restarts, goes on with the LPAR's boot vCPU when that is this
/// thread's.
pub fn vcpu_job(arg: u64) -> u64 {
    let Some(hv) = hypervisor() else { return 0 };
    let Some(lpar) = hv.lpars.get((arg >> 32) as usize) else { return 0 };
    let mut next = lpar.vcpu_by_server(arg & 0xffff_ffff);
    while let Some(vcpu) = next.take() {
        run_vcpu(vcpu);
        let last = lpar.active.fetch_sub(1, Ordering::AcqRel) == 1;
        if last && lpar.state() == LparState::Running {
            // Its vCPUs all stopped themselves (at the same time: `stop-self` saw another
            // still running): nothing is left to run the LPAR, as for a crash.
            log::warn!("{}: its last vCPU stopped itself", lpar.label());
            lpar.begin_stop(StopReason::Crash, vcpu);
        }
        if last && lpar.state() == LparState::Stopping {
            if let Some(boot) = lpar.finish_stop() {
                if boot.pir == vcpu.cpu.pir {
                    lpar.active.fetch_add(1, Ordering::AcqRel);
                    next = Some(boot);
                } else {
                    super::lpar::dispatch(lpar, boot);
                }
            } else {
                super::setup::all_off_check();
            }
        }
    }
    0
}

/// Runs `vcpu` on this thread until it stops.
fn run_vcpu(vcpu: &'static Vcpu) {
    let Some(lpar) = hypervisor().and_then(|hv| hv.lpars.get(vcpu.lpar)) else { return };
    if lpar.state() != LparState::Running {
        vcpu.set_state(VcpuState::Stopped);
        return;
    }
    let me = this_cpu();
    let (entry, r3) = *vcpu.start.lock();
    load_partition_context(lpar, vcpu);
    let frame = guest_frame(me);
    // SAFETY: the frame is this thread's, unused while the thread runs hypervisor code
    // outside an exception.
    unsafe {
        frame.write(ExceptionFrame::default());
        (*frame).gpr[3] = r3;
        (*frame).hsrr0 = entry;
        (*frame).hsrr1 = (Msr::SF | Msr::ME).bits();
    }
    vcpu.set_state(VcpuState::Running);
    me.guest.store(vcpu as *const Vcpu as u64, Ordering::Release);
    // SAFETY: the frame holds a valid guest entry state for this LPAR, whose context
    // (LPIDR, LPCR, partition table) is loaded; the guest can only reach its own memory.
    let why = unsafe { oxiboot_guest_launch(frame, me.host_context.get()) };
    me.guest.store(0, Ordering::Release);
    vcpu.set_state(VcpuState::Stopped);
    let _ = why;
    // Back in the hypervisor's own context: LPID 0 and the hypervisor's LPCR.
    // SAFETY: LPID 0 is the hypervisor's; nothing runs translated here.
    unsafe { mtspr::<{ num::LPIDR }>(0) };
    cpu::isync();
}

/// Loads the LPAR's context into this thread: partition table, LPID, LPCR, the OS-visible
/// SPRs in their reset state.
fn load_partition_context(lpar: &super::lpar::Lpar, vcpu: &Vcpu) {
    mmu::load_ptcr();
    vcpu.lpcr_generation.store(lpar.lpcr_generation.load(Ordering::Acquire), Ordering::Release);
    // SAFETY: these are the values a freshly reset partition's thread has; LPIDR and LPCR
    // only take effect for guest state, entered with hrfid after this.
    unsafe {
        mtspr::<{ num::LPIDR }>(u64::from(lpar.config.id));
        cpu::isync();
        mtspr::<{ num::LPCR }>(lpar.guest_lpcr());
        mtspr::<{ num::PIDR }>(0);
        mtspr::<{ num::HFSCR }>(HFSCR_FACILITIES);
        mtspr::<{ num::PCR }>(0);
        mtspr::<{ num::AMOR }>(u64::MAX);
        mtspr::<{ num::AMR }>(0);
        mtspr::<{ num::IAMR }>(0);
        mtspr::<{ num::UAMOR }>(0);
        mtspr::<{ num::FSCR }>(0);
        mtspr::<{ num::DPDES }>(0);
        mtspr::<{ num::CIABR }>(0);
        mtspr::<{ num::DAWR0 }>(0);
        mtspr::<{ num::DAWRX0 }>(0);
        mtspr::<{ num::SPRG0 }>(0);
        mtspr::<{ num::SPRG1 }>(0);
        mtspr::<{ num::SPRG2 }>(0);
        mtspr::<{ num::SPRG3 }>(0);
        mtspr::<{ num::DAR }>(0);
        mtspr::<{ num::DSISR }>(0);
        mtspr::<{ num::DEC }>(0x7fff_ffff);
        mtspr::<{ num::HDEC }>(super::exits::HDEC_FAR);
    }
    cpu::isync();
    set_mer(vcpu.icp.lock().pending());
}

/// Sets or clears this thread's LPCR[MER] (mediated external exception request): with MER
/// set the guest takes an external interrupt as soon as it enables them.
pub fn set_mer(pending: bool) {
    let lpcr = cpu::mfspr::<{ num::LPCR }>();
    let wanted = if pending { lpcr | Lpcr::MER.bits() } else { lpcr & !Lpcr::MER.bits() };
    if wanted != lpcr {
        // SAFETY: only MER changes; it affects the guest after the return to it.
        unsafe { mtspr::<{ num::LPCR }>(wanted) };
    }
}

/// Reloads LPCR if the LPAR changed its bits since this vCPU last loaded them.
pub fn refresh_lpcr(lpar: &super::lpar::Lpar, vcpu: &Vcpu) {
    let generation = lpar.lpcr_generation.load(Ordering::Acquire);
    if vcpu.lpcr_generation.swap(generation, Ordering::AcqRel) != generation {
        let mer = cpu::mfspr::<{ num::LPCR }>() & Lpcr::MER.bits();
        // SAFETY: the LPAR's own LPCR value, with this vCPU's MER kept.
        unsafe { mtspr::<{ num::LPCR }>(lpar.guest_lpcr() | mer) };
    }
}

/// Gives this thread back to the hypervisor: `oxiboot_guest_launch` returns `why`.
pub fn leave(why: Leave) -> ! {
    let me: &PerCpu = this_cpu();
    // SAFETY: this thread entered the guest through `oxiboot_guest_launch`, which saved
    // this context; the exception stack the caller runs on is abandoned.
    unsafe { oxiboot_guest_leave(me.host_context.get(), why as u64) }
}

/// Called for every exception: if this thread runs a vCPU and the exception came from
/// guest state, handles the guest exit and returns `Some` (1: resume with hrfid).
pub fn guest_exit_of_this_thread(frame: &mut ExceptionFrame) -> Option<u64> {
    let vcpu = this_cpu().guest.load(Ordering::Acquire);
    if vcpu == 0 {
        return None;
    }
    let interrupted_msr = if oxiboot::exception::uses_hsrr(frame.vector) { frame.hsrr1 } else { frame.srr1 };
    if interrupted_msr & Msr::HV.bits() != 0 {
        return None;
    }
    // SAFETY: `guest` holds the address of a vCPU in the hypervisor's LPAR list, which lives
    // for the rest of the run.
    let vcpu: &'static Vcpu = unsafe { &*(vcpu as *const Vcpu) };
    Some(exits::guest_exit(vcpu, frame))
}

/// Handles the kicks other threads sent this vCPU; leaves the guest if asked to stop.
pub fn service_kicks(lpar: &super::lpar::Lpar, vcpu: &Vcpu) {
    let kicks = vcpu.kicks.swap(0, Ordering::AcqRel);
    if kicks & kick::STOP != 0 || lpar.state() == LparState::Stopping {
        leave(Leave::LparStopping);
    }
    refresh_lpcr(lpar, vcpu);
}
