//! Guest exits: what the hypervisor does when a vCPU's thread leaves guest state.
//!
//! Hypervisor interrupts (HSRR0/1) and `sc 1` (SRR0/1) arrive with the guest's registers in
//! the exception frame. Hcalls are answered in r3 (and r4…); interrupts the guest must see
//! (program, machine check, system reset, an `sc 1` from user space) are delivered to its
//! OS as the processor would have; doorbells carry requests from other threads.

use super::lpar::{Lpar, LparState, StopReason, Vcpu};
use super::nested::{self, L2Exit};
use super::run::{self, Leave};
use super::{hypervisor, mmu, rtas, vty};
use core::sync::atomic::Ordering;
use log::{debug, warn};
use oxiboot::exception::{uses_hsrr, ExceptionFrame};
use oxiboot_hv::lpar::hcall_args::{self, SetMode, VpaOp};
use oxiboot_hv::lpar::inject::{self, vector, SRR1_PROGRAM_ILLEGAL};
use oxiboot_hv::papr::*;
use oxiboot_platform::cpu::{self, mtspr};
use oxiboot_platform::spr::{num, Lpcr, Msr};

/// Handles a guest exit of `vcpu`; returns 1 to resume the guest with hrfid.
pub fn guest_exit(vcpu: &'static Vcpu, f: &mut ExceptionFrame) -> u64 {
    let Some(lpar) = hypervisor().and_then(|hv| hv.lpars.get(vcpu.lpar)) else {
        run::leave(Leave::LparStopping)
    };
    let entered = cpu::mftb();
    lpar.stats.exits.fetch_add(1, Ordering::Relaxed);
    match nested::l2_exit(lpar, vcpu, f) {
        L2Exit::NotInL2 => {}
        L2Exit::Resume => return 1,
        L2Exit::BackToL1 => {
            deliver_pending(lpar, vcpu, f);
            return 1;
        }
    }
    if !uses_hsrr(f.vector) {
        // Resume through HSRR0/1 in every case.
        f.hsrr0 = f.srr0;
        f.hsrr1 = f.srr1;
    }
    match f.vector {
        0xc00 if f.srr1 & Msr::PR.bits() != 0 => {
            // `sc 1` from a user program: the OS's business, as a system call.
            reflect(lpar, f, vector::SYSTEM_CALL, 0);
        }
        0xc00 if nested::is_nested_related(f.gpr[3]) => {
            lpar.stats.hcalls.fetch_add(1, Ordering::Relaxed);
            nested::hcall(lpar, vcpu, f);
            if vcpu.in_l2.load(Ordering::Acquire) {
                // The frame now holds the L2 vCPU that RUN_VCPU started.
                return 1;
            }
        }
        0xc00 => {
            lpar.stats.hcalls.fetch_add(1, Ordering::Relaxed);
            let status = hcall(lpar, vcpu, f);
            f.gpr[3] = status as u64;
        }
        0xe80 => {
            // The request it carries (a kick, an interrupt, a prod) is handled below, as
            // after any exit.
            lpar.stats.doorbells.fetch_add(1, Ordering::Relaxed);
            cpu::doorbell_clear();
        }
        0xe00 | 0xe20 => outside_memory(lpar, vcpu, f),
        0xe40 | 0xf80 => {
            // An instruction the LPAR may not execute (hypervisor emulation assistance) or a
            // facility it is not given: an illegal instruction to its OS.
            debug!("{}: illegal instruction at {:#x} (vector {:#x})", lpar.label(), f.hsrr0, f.vector);
            reflect(lpar, f, vector::PROGRAM, SRR1_PROGRAM_ILLEGAL);
        }
        0xe60 => {
            // Hypervisor maintenance: nothing to recover in an emulated or healthy machine.
            // SAFETY: clearing HMER only acknowledges the maintenance conditions.
            unsafe { mtspr::<{ num::HMER }>(0) };
        }
        0x980 => {
            // The retry timer of an interrupt the guest could not take (see
            // `deliver_pending`), or its far-away default.
            // SAFETY: re-arming the hypervisor decrementer far away.
            unsafe { mtspr::<{ num::HDEC }>(HDEC_FAR) };
        }
        0x100 => reflect(lpar, f, vector::SYSTEM_RESET, 0),
        0x200 => reflect(lpar, f, vector::MACHINE_CHECK, 0),
        _ => {
            warn!("{}: unexpected exit {:#x} at {:#x}; stopping the LPAR", lpar.label(), f.vector, f.hsrr0);
            stop_lpar(lpar, vcpu, StopReason::Crash);
        }
    }
    // Kicks are sent with a hypervisor doorbell, which QEMU delivers to a guest only while
    // it has external interrupts enabled: a vCPU spinning with MSR[EE] off (a kernel that
    // panicked parks its CPUs that way) sees them at its next exit of any kind, at the
    // latest the far-away hypervisor decrementer.
    if vcpu.kicks.load(Ordering::Acquire) != 0 || lpar.state() == LparState::Stopping {
        run::service_kicks(lpar, vcpu);
    }
    deliver_pending(lpar, vcpu, f);
    lpar.stats.hypervisor_ticks.fetch_add(cpu::mftb().wrapping_sub(entered), Ordering::Relaxed);
    1
}

/// Hypervisor decrementer value when nothing is waiting (about 4 s).
pub const HDEC_FAR: u64 = 0x7fff_ffff;
/// Hypervisor decrementer value while an interrupt waits for the guest to enable external
/// interrupts (about 100 µs at 512 MHz).
const HDEC_RETRY: u64 = 51_200;

/// Presents the vCPU's pending XICS interrupt, if any, on the way back to the guest: with
/// external interrupts enabled (MSR[EE]) it is delivered now, as the processor would;
/// otherwise LPCR[MER] (mediated external exception request) asks the processor to deliver
/// it when the guest enables them, and a short hypervisor decrementer brings the vCPU back
/// here in case the processor does not (QEMU does not model MER).
fn deliver_pending(lpar: &Lpar, vcpu: &Vcpu, f: &mut ExceptionFrame) {
    let pending = vcpu.icp.lock().pending();
    if pending && f.hsrr1 & Msr::EE.bits() != 0 {
        run::set_mer(false);
        reflect(lpar, f, vector::EXTERNAL, 0);
    } else {
        run::set_mer(pending);
        if pending {
            // SAFETY: the hypervisor decrementer only brings this vCPU back to the hypervisor.
            unsafe { mtspr::<{ num::HDEC }>(HDEC_RETRY) };
        }
    }
}

/// Delivers interrupt `vector` to the LPAR's OS at the exit address.
fn reflect(lpar: &Lpar, f: &mut ExceptionFrame, vector: u64, cause: u64) {
    lpar.stats.reflected.fetch_add(1, Ordering::Relaxed);
    let lpcr = cpu::mfspr::<{ num::LPCR }>();
    let ail = ((lpcr & Lpcr::AIL.bits()) >> (63 - 40)) as u8;
    let d = inject::deliver(vector, f.hsrr0, f.hsrr1, cause, lpcr & Lpcr::ILE.bits() != 0, ail);
    f.srr0 = d.srr0;
    f.srr1 = d.srr1;
    f.hsrr0 = d.pc;
    f.hsrr1 = d.msr;
}

/// The LPAR touched a real address its partition-scoped table does not map: outside its
/// memory. Logged, and a machine check for its OS, as a real machine gives for an access to
/// nothing (Linux kills the program that did it, or panics if its kernel did).
fn outside_memory(lpar: &Lpar, vcpu: &Vcpu, f: &mut ExceptionFrame) {
    // ASDR (access segment descriptor register) holds the guest real page that has no
    // partition-scoped translation; HDAR the effective address the program used.
    let guest_real = f.asdr & !0xfff;
    let access = if f.vector == 0xe00 { "data access" } else { "instruction fetch" };
    let label = lpar.label();
    if lpar.stats.may_report(&label) {
        warn!(
            "{label}: vCPU {:#x}: {access} at guest real address {guest_real:#x} (effective {:#x}, instruction at {:#x}) is outside its {} MiB; machine check delivered",
            vcpu.pir,
            if f.vector == 0xe00 { f.hdar } else { f.hsrr0 },
            f.hsrr0,
            lpar.carve.size >> 20,
        );
    }
    reflect(lpar, f, vector::MACHINE_CHECK, 0);
}

/// Starts stopping the LPAR and leaves the guest.
pub fn stop_lpar(lpar: &Lpar, vcpu: &Vcpu, reason: StopReason) -> ! {
    lpar.begin_stop(reason, vcpu);
    run::leave(Leave::LparStopping)
}

/// Answers one hcall; the status goes to r3, results to r4….
fn hcall(lpar: &Lpar, vcpu: &Vcpu, f: &mut ExceptionFrame) -> HcallStatus {
    let op = f.gpr[3];
    let a = [f.gpr[4], f.gpr[5], f.gpr[6], f.gpr[7], f.gpr[8], f.gpr[9]];
    match op {
        H_PUT_TERM_CHAR => match hcall_args::put_term_char(vty::VTY_REG, a[0], a[1], a[2], a[3]) {
            Ok((bytes, n)) => {
                vty::put(lpar, &bytes[..n]);
                H_SUCCESS
            }
            Err(e) => e,
        },
        H_GET_TERM_CHAR => {
            if a[0] != vty::VTY_REG {
                return H_PARAMETER;
            }
            let mut buf = [0u8; hcall_args::TERM_CHUNK];
            let n = vty::get(lpar, &mut buf);
            let (len, w0, w1) = hcall_args::pack_term_chars(&buf[..n]);
            f.gpr[4] = len;
            f.gpr[5] = w0;
            f.gpr[6] = w1;
            H_SUCCESS
        }
        H_CEDE => cede(lpar, vcpu, f),
        H_PROD => match lpar.vcpu_by_server(a[0]) {
            Some(target) => {
                target.prodded.store(true, Ordering::Release);
                if target.pir != vcpu.pir {
                    cpu::doorbell_send(target.pir);
                }
                H_SUCCESS
            }
            None => H_PARAMETER,
        },
        H_CONFER => H_SUCCESS,
        H_XIRR | H_XIRR_X => {
            f.gpr[4] = u64::from(vcpu.icp.lock().accept());
            if op == H_XIRR_X {
                f.gpr[5] = cpu::mftb();
            }
            H_SUCCESS
        }
        H_CPPR => {
            vcpu.icp.lock().set_cppr(a[0] as u8);
            H_SUCCESS
        }
        H_EOI => match vcpu.icp.lock().end_of_interrupt(a[0] as u32) {
            Ok(_) => H_SUCCESS,
            Err(_) => H_PARAMETER,
        },
        H_IPI => {
            let Some(target) = lpar.vcpu_by_server(a[0]) else { return H_PARAMETER };
            let presented = target.icp.lock().set_mfrr(a[1] as u8);
            if presented && target.pir != vcpu.pir {
                cpu::doorbell_send(target.pir);
            }
            H_SUCCESS
        }
        H_IPOLL => {
            let Some(target) = lpar.vcpu_by_server(a[0]) else { return H_PARAMETER };
            let (xirr, mfrr) = target.icp.lock().poll();
            f.gpr[4] = u64::from(xirr);
            f.gpr[5] = u64::from(mfrr);
            H_SUCCESS
        }
        H_SET_MODE => match hcall_args::set_mode(a[0], a[1], a[2], a[3]) {
            Ok(SetMode::InterruptsLittleEndian(le)) => {
                lpar.update_lpcr_bits(Lpcr::ILE, if le { Lpcr::ILE } else { Lpcr::empty() }, vcpu);
                run::refresh_lpcr(lpar, vcpu);
                H_SUCCESS
            }
            Err(e) => e,
        },
        H_REGISTER_PROC_TBL => {
            match hcall_args::register_process_table(a[0], a[1], a[2], a[3], &lpar.carve) {
                Ok(dw1) => {
                    mmu::set_process_table(lpar.config.id, dw1);
                    H_SUCCESS
                }
                Err(e) => e,
            }
        }
        H_REGISTER_VPA => {
            let Some(target) = lpar.vcpu_by_server(a[1]) else { return H_PARAMETER };
            let registered = target.vpa.load(Ordering::Acquire) != 0;
            match hcall_args::register_vpa(a[0], a[2], &lpar.carve, &lpar.memory(), registered) {
                Ok(VpaOp::RegisterVpa(at)) => target.vpa.store(at, Ordering::Release),
                Ok(VpaOp::DeregisterVpa) => target.vpa.store(0, Ordering::Release),
                Ok(_) => {}
                Err(e) => return e,
            }
            H_SUCCESS
        }
        H_GET_CPU_CHARACTERISTICS => {
            (f.gpr[4], f.gpr[5]) = hcall_args::CPU_CHARACTERISTICS;
            H_SUCCESS
        }
        H_RANDOM => match random() {
            Some(v) => {
                f.gpr[4] = v;
                H_SUCCESS
            }
            None => H_HARDWARE,
        },
        H_RTAS => rtas::call(lpar, vcpu, a[0]),
        _ => {
            debug!("{}: hcall {op:#x} not implemented", lpar.label());
            H_FUNCTION
        }
    }
}

/// `H_CEDE`: waits, in `stop`, until the vCPU has an interrupt to take (an IPI, or its
/// decrementer expired) or is prodded, then returns to it with external interrupts enabled.
fn cede(lpar: &Lpar, vcpu: &Vcpu, f: &mut ExceptionFrame) -> HcallStatus {
    lpar.stats.cedes.fetch_add(1, Ordering::Relaxed);
    // A retry timer left from an interrupt delivered since (see `deliver_pending`) must not
    // expire in here: its pending exception would end every `stop` at once. Whatever is
    // pending now ends the wait below, and the way back re-arms the timer if needed.
    // SAFETY: the hypervisor decrementer only brings this vCPU back to the hypervisor.
    unsafe { mtspr::<{ num::HDEC }>(HDEC_FAR) };
    loop {
        cpu::doorbell_clear();
        if vcpu.kicks.load(Ordering::Acquire) != 0 {
            run::service_kicks(lpar, vcpu);
        }
        if vcpu.prodded.swap(false, Ordering::AcqRel) || vcpu.icp.lock().pending() {
            break;
        }
        // The 32-bit decrementer is negative: its interrupt is pending for the guest.
        if (cpu::mfspr::<{ num::DEC }>() as u32 as i32) < 0 {
            break;
        }
        // Any pending exception ends this `stop` (PSSCR = 0: resume at the next instruction):
        // a hypervisor doorbell (an IPI or a request for this vCPU), the guest's decrementer.
        let stopped = cpu::mftb();
        cpu::stop_light();
        lpar.stats.idle_ticks.fetch_add(cpu::mftb().wrapping_sub(stopped), Ordering::Relaxed);
    }
    f.hsrr1 |= Msr::EE.bits();
    H_SUCCESS
}

/// 64 random bits from the processor's random number generator (`darn`).
fn random() -> Option<u64> {
    for _ in 0..16 {
        let v: u64;
        // SAFETY: `darn r3, 1` (conditioned 64-bit random number) only writes r3.
        // Encoding: opcode 31, RT = 3, L = 1, XO 755.
        unsafe { core::arch::asm!(".long 0x7c6105e6", out("r3") v, options(nomem, nostack)) };
        if v != u64::MAX {
            return Some(v);
        }
    }
    None
}
