//! PAPR nested API v2: what an L1 hypervisor in an LPAR (Linux KVM) uses to run L2 guests on
//! this L0, through the `H_GUEST_*` hypercalls.
//!
//! This is the host-tested core, independent of the processor:
//!
//! * [`hcall`] — opcodes, return codes, flag and capability bits, [`Rejection`];
//! * [`gsid`] — the guest state id (GSID) table: size, scope, read-only/write-only rules;
//! * [`wire`] — the guest state buffer (GSB) format, reading by element count and writing;
//! * [`request`] — checking a buffer for a call, errors located by index or byte offset;
//! * [`values`] — value checks and the masks of L1-settable register bits;
//! * [`state`] — what is kept per L2 guest and per L2 vCPU, and the GSID → field mapping;
//! * [`access`] — SET_STATE and RUN_VCPU input applied, GET_STATE answered, host-wide
//!   statistics;
//! * [`exit`] — exit reasons and the RUN_VCPU output buffer;
//! * [`args`] — argument checks of every `H_GUEST_*` hypercall as pure functions;
//! * [`registry`] — one L1's guests, vCPUs, limits and heap account;
//! * [`dispatch`] — the hypercalls end to end over an [`dispatch::L1Memory`], up to the
//!   switch into the L2;
//! * [`shadow`] — shadow partition-scoped tables: fault decisions, invalidations, LPIDs;
//! * [`switch`] — the registers exchanged at an L1 ↔ L2 switch, decrementer arithmetic.
//!
//! What needs the processor — switching the thread to the L2 partition and back, the shadow
//! tables in memory, timebase offset, HDEC — is the firmware's
//! (`firmware/src/image/partition/nested/`); see `docs/nested-v2.md`.

pub mod access;
pub mod args;
pub mod dispatch;
pub mod exit;
pub mod gsid;
pub mod hcall;
pub mod registry;
pub mod request;
pub mod shadow;
pub mod state;
pub mod switch;
pub mod values;
pub mod wire;

#[cfg(test)]
mod tests;

pub use hcall::Rejection;
