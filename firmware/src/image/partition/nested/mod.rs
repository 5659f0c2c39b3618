//! Nested virtualization on the processor: an LPAR with `nested_virt` runs a hypervisor (Linux
//! KVM) that runs L2 guests through the PAPR nested API v2 (`H_GUEST_*` hypercalls).
//!
//! The argument checks, guest state buffers and the per-L1 registry are the host-tested
//! `oxiboot_hv::nested`; here is what needs the machine:
//!
//! * this file — the per-LPAR state, the hypercalls (`H_GUEST_*`, `H_RPT_INVALIDATE`,
//!   `H_TLB_INVALIDATE`), reset when the LPAR reboots;
//! * [`switch`] — RUN_VCPU: the L1 thread's whole context saved, the L2 loaded and entered,
//!   and at the exit the reverse;
//! * [`exit`] — what each L2 exit does: handled here (shadow page, L1 work pending) or back to
//!   the L1 with its exit reason;
//! * [`shadow`] — the shadow partition-scoped tables and shadow LPIDs;
//! * [`registers`] — SPR and FP/VMX/VSX access.
//!
//! An LPAR without `nested_virt` gets `H_FUNCTION` for every one of these hypercalls.

mod exit;
mod registers;
mod shadow;
mod switch;

pub use exit::{l2_exit, L2Exit};
pub use shadow::init_lpids;
pub use switch::NestedRun;

use super::lpar::{Lpar, Vcpu};
use oxiboot::exception::ExceptionFrame;
use oxiboot_hv::config::{LparConfig, MachineConfig};
use oxiboot_hv::lpar::memory::{Carve, GuestMemory};
use oxiboot_hv::nested::dispatch::{is_nested_hcall, Dispatched, HcallOutcome, L1Memory};
use oxiboot_hv::nested::hcall::{Rejection, H_BUSY, H_FUNCTION, H_GUEST_DELETE};
use oxiboot_hv::nested::registry::{Limits, Registry};
use oxiboot_hv::nested::shadow::{parse_rpt_invalidate, parse_tlb_invalidate};
use oxiboot_hv::nested::values::L1RealMemory;
use oxiboot_hv::papr::H_RPT_INVALIDATE;
use shadow::Shadows;

/// `H_TLB_INVALIDATE` (nested API v1), accepted from a v2 L1 too.
pub const H_TLB_INVALIDATE: u64 = 0xF808;

/// The nested state of one LPAR. Lock order: `registry`, then `shadows`.
pub struct NestedLpar {
    /// Its L2 guests and vCPUs (the host-tested bookkeeping).
    pub registry: spin::Mutex<Registry>,
    /// Shadow tables, shadow LPIDs, which vCPUs run now.
    shadows: spin::Mutex<Shadows>,
}

impl NestedLpar {
    /// The state of an LPAR with these limits; `page_table_bytes` is its share of
    /// hypervisor memory for shadow tables.
    pub fn new(limits: Limits, page_table_bytes: u64) -> Self {
        Self {
            registry: spin::Mutex::new(Registry::new(limits)),
            shadows: spin::Mutex::new(Shadows::new(page_table_bytes)),
        }
    }

    /// Logs what the LPAR's L2s used (at its stop, before the reset): runs, exits, and the
    /// host-wide statistics as an L1 would read them (0x0800–0x0804).
    pub fn report(&self, label: &str, runs: u64, exits: u64) {
        let registry = self.registry.lock();
        let usage = self.shadows.lock().usage();
        let s = registry.host_wide_statistics(usage);
        log::info!(
            "{label}: nested: {runs} L2 runs, {exits} L2 exits; now {} L2 guests, {} vCPUs; L2 heap {} of {} bytes, shadow tables {} of {} bytes, {} bytes reclaimed",
            registry.guest_count(),
            registry.vcpu_count(),
            s.guest_heap_in_use,
            s.guest_heap_max,
            s.page_table_in_use,
            s.page_table_max,
            s.page_table_reclaimed,
        );
    }

    /// Forgets every L2 (the LPAR reboots): shadow tables and LPIDs freed, registry empty.
    pub fn reset(&self) {
        let mut registry = self.registry.lock();
        registry.delete_all();
        self.shadows.lock().remove_all();
    }
}

/// The L1's real memory (its carve) for the registry.
struct L1Carve(Carve);

impl L1RealMemory for L1Carve {
    fn contains(&self, address: u64, length: u64) -> bool {
        self.0.contains(address, length)
    }
}

impl L1Memory for L1Carve {
    fn read(&self, address: u64, out: &mut [u8]) -> bool {
        super::lpar::CarveMemory(self.0).read(address, out).is_ok()
    }
    fn write(&mut self, address: u64, data: &[u8]) -> bool {
        super::lpar::CarveMemory(self.0).write(address, data).is_ok()
    }
}

/// Whether `op` is handled here.
pub fn is_nested_related(op: u64) -> bool {
    is_nested_hcall(op) || op == H_RPT_INVALIDATE || op == H_TLB_INVALIDATE
}

/// Handles a nested hypercall of `vcpu` (`is_nested_related` is true): sets r3 (and r4/r5),
/// or, for a RUN_VCPU that starts the L2, replaces the frame with the L2's registers.
pub fn hcall(lpar: &Lpar, vcpu: &Vcpu, f: &mut ExceptionFrame) {
    let op = f.gpr[3];
    let Some(nested) = lpar.nested.as_ref() else {
        f.gpr[3] = H_FUNCTION as u64;
        return;
    };
    let args = [f.gpr[4], f.gpr[5], f.gpr[6], f.gpr[7], f.gpr[8], f.gpr[9]];
    let outcome = match op {
        H_RPT_INVALIDATE => parse_rpt_invalidate(args[0], args[1], args[2], args[3], args[4], args[5])
            .and_then(|what| shadow::invalidate(lpar, nested, what))
            .map_or_else(HcallOutcome::from, |()| HcallOutcome::success(None)),
        H_TLB_INVALIDATE => parse_tlb_invalidate(args[0], args[1], args[2])
            .and_then(|what| shadow::invalidate(lpar, nested, what))
            .map_or_else(HcallOutcome::from, |()| HcallOutcome::success(None)),
        _ => {
            let mut registry = nested.registry.lock();
            if op == H_GUEST_DELETE && nested.shadows.lock().deleting_running(args[0], args[1]) {
                // A vCPU of it runs on another thread: Linux retries H_BUSY.
                HcallOutcome::from(Rejection::new(H_BUSY))
            } else {
                let usage = nested.shadows.lock().usage();
                match registry.hcall(op, args, &mut L1Carve(lpar.carve), usage) {
                    Dispatched::Done(outcome) => outcome,
                    Dispatched::Deleted { guest_ids, outcome } => {
                        nested.shadows.lock().remove(&guest_ids);
                        outcome
                    }
                    Dispatched::RunVcpu { guest_id, vcpu_id } => {
                        match switch::enter_l2(lpar, vcpu, nested, &mut registry, (guest_id, vcpu_id), f) {
                            Ok(()) => return,
                            Err(rejection) => rejection.into(),
                        }
                    }
                }
            }
        }
    };
    set_outcome(f, outcome);
}

/// Puts a hypercall outcome into the caller's registers.
fn set_outcome(f: &mut ExceptionFrame, outcome: HcallOutcome) {
    f.gpr[3] = outcome.status as u64;
    if let Some(r4) = outcome.r4 {
        f.gpr[4] = r4;
    }
    if let Some(r5) = outcome.r5 {
        f.gpr[5] = r5;
    }
}

/// The nested state of an LPAR with `nested_virt` (`None` without): limits from its
/// configuration; heap and shadow-table budgets each a quarter of the hypervisor memory,
/// shared equally among the nested LPARs.
pub fn for_lpar(lpar: &LparConfig, config: &MachineConfig) -> Option<NestedLpar> {
    let limits = lpar.nested?;
    let nested_count = config.lpars.iter().filter(|c| c.nested.is_some()).count().max(1) as u64;
    let share = config.hypervisor.size / 4 / nested_count;
    let limits = Limits {
        max_guests: limits.max_l2_guests,
        max_vcpus_per_guest: limits.max_l2_vcpus,
        heap_budget_bytes: share,
    };
    Some(NestedLpar::new(limits, share))
}
