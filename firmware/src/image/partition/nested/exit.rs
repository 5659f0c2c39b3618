//! An exception taken while a thread runs an L2: handled here and the L2 resumed, or the run
//! ends and the L1 gets its RUN_VCPU result.
//!
//! | vector | what happens |
//! |---|---|
//! | 0xE00/0xE20 (HDSI/HISI) | shadow page added and the L2 resumed; a fault of the L1's own tree goes to the L1 (0xE00/0xE20); a mapping outside the L1's memory ends the run with 0x200 (machine check) |
//! | 0x980 (HDEC) | the L1's deadline passed: 0x980; MER (mediated external request) and the L2 enabled interrupts: 0x500; L1 interrupt pending: 0x000; else resumed |
//! | 0xE80 (doorbell) | a request for the L1's vCPU: the LPAR stops (the thread leaves), or an interrupt for the L1 is pending (0x000), else resumed |
//! | 0xE60 (maintenance) | acknowledged, resumed |
//! | 0xC00 (`sc 1`) | 0xC00, a hypercall for the L1 |
//! | anything else | that vector (0xE40 emulation assist, 0xF80 facility unavailable, 0x100, 0x200, …) |

use super::shadow::{fault, FaultOutcome};
use super::switch::{abandon, arm_hdec, exit_to_l1, host_tb};
use crate::image::partition::lpar::{kick, Lpar, LparState, Vcpu};
use crate::image::partition::run::{self, Leave};
use core::sync::atomic::Ordering;
use oxiboot::exception::ExceptionFrame;
use oxiboot_hv::nested::exit::ExitReason;
use oxiboot_hv::nested::switch::deadline_passed;
use oxiboot_platform::cpu::{self, mtspr};
use oxiboot_platform::spr::{num, Msr};

/// What became of an exception from an L2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L2Exit {
    /// Not an L2 exit (the thread runs its L1).
    NotInL2,
    /// The L2 resumes.
    Resume,
    /// The L1 resumes after its RUN_VCPU.
    BackToL1,
}

/// Handles an exception from guest state on a thread whose vCPU `vcpu` of `lpar` may be
/// running an L2.
pub fn l2_exit(lpar: &Lpar, vcpu: &Vcpu, f: &mut ExceptionFrame) -> L2Exit {
    if !vcpu.in_l2.load(Ordering::Acquire) {
        return L2Exit::NotInL2;
    }
    let Some(nested) = lpar.nested.as_ref() else { return L2Exit::NotInL2 };
    lpar.stats.nested_exits.fetch_add(1, Ordering::Relaxed);
    let Some((guest_id, _)) = vcpu.nested_run.lock().active else { return L2Exit::NotInL2 };
    let back = |reason: ExitReason, status: Option<u64>, f: &mut ExceptionFrame| {
        exit_to_l1(lpar, vcpu, nested, reason, status, f);
        L2Exit::BackToL1
    };
    match f.vector {
        0xe00 | 0xe20 => match fault(lpar, nested, guest_id, f) {
            FaultOutcome::Resolved => L2Exit::Resume,
            FaultOutcome::Reflect(status) => back(ExitReason::from_vector(f.vector), Some(status), f),
            FaultOutcome::OutsideL1 => back(ExitReason::Other(0x200), None, f),
        },
        0x980 => {
            let run = vcpu.nested_run.lock();
            let (passed, mer) = (deadline_passed(run.hdec_expiry, host_tb(&run)), run.mer);
            drop(run);
            if passed {
                back(ExitReason::HypervisorDecrementer, None, f)
            } else if mer && f.hsrr1 & Msr::EE.bits() != 0 {
                // What LPCR[MER] does on hardware: an external interrupt for the L1 to inject.
                back(ExitReason::Other(0x500), None, f)
            } else {
                resume_or_l1_work(lpar, vcpu, f)
            }
        }
        0xe80 => {
            cpu::doorbell_clear();
            let kicks = vcpu.kicks.swap(0, Ordering::AcqRel);
            if kicks & kick::STOP != 0 || lpar.state() == LparState::Stopping {
                abandon(lpar, vcpu);
                run::leave(Leave::LparStopping);
            }
            // An LPCR change of the L1 is loaded when it resumes (its LPCR is rebuilt then).
            resume_or_l1_work(lpar, vcpu, f)
        }
        0xe60 => {
            // SAFETY: clearing HMER only acknowledges the maintenance conditions.
            unsafe { mtspr::<{ num::HMER }>(0) };
            L2Exit::Resume
        }
        vector => back(ExitReason::from_vector(vector), None, f),
    }
}

/// Back to the L1 with 0x000 if it has an interrupt to take, else on with the L2.
fn resume_or_l1_work(lpar: &Lpar, vcpu: &Vcpu, f: &mut ExceptionFrame) -> L2Exit {
    if vcpu.icp.lock().pending() {
        if let Some(nested) = lpar.nested.as_ref() {
            exit_to_l1(lpar, vcpu, nested, ExitReason::Unspecified, None, f);
            return L2Exit::BackToL1;
        }
    }
    arm_hdec(&vcpu.nested_run.lock(), f.hsrr1);
    L2Exit::Resume
}
