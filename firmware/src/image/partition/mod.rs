//! Partitioned mode: the hypervisor side of the firmware.
//!
//! When a partition configuration (the OXLP blob, `docs/lpar-config.md`) is found, the
//! firmware carves the machine into LPARs (logical partitions) instead of booting an OPAL
//! payload: each LPAR gets its hardware threads, its memory (zeroed), an LPID (logical
//! partition id), a partition-table entry with a radix partition-scoped page table that maps
//! exactly its memory, and boots an unmodified Linux `pseries` kernel with a device tree of
//! its own. From then on every thread of an LPAR runs one of its vCPUs; the hypervisor only
//! runs when the guest exits to it (hcalls, doorbells, faults outside its memory).
//!
//! * [`setup`] — reading and checking the configuration, carving, boot images.
//! * [`lpar`] — the LPAR and vCPU objects, (re)booting an LPAR, its life cycle.
//! * [`run`] — a thread running a vCPU: entering the guest and coming back.
//! * [`exits`] — what a guest exit does: interrupt reflection, the hcalls.
//! * [`rtas`] — RTAS calls.
//! * [`vty`] — the LPARs' consoles.
//! * [`mmu`] — partition table and TLB invalidation.
//! * [`nested`] — nested virtualization: L2 guests of an LPAR's KVM (PAPR nested API v2).

mod exits;
mod lpar;
mod mmu;
mod nested;
mod rtas;
mod run;
mod setup;
mod vty;

pub use run::guest_exit_of_this_thread;
pub use setup::start;

use alloc::vec::Vec;
use lpar::Lpar;

/// The partitioned machine, set up once.
pub struct Hypervisor {
    /// The LPARs, in configuration order (those that failed the checks are absent).
    pub lpars: Vec<Lpar>,
}

/// The hypervisor, once partitioned mode has started.
static HYPERVISOR: spin::Once<Hypervisor> = spin::Once::new();

/// The hypervisor (partitioned mode has started if this is `Some`).
pub fn hypervisor() -> Option<&'static Hypervisor> {
    HYPERVISOR.get()
}
