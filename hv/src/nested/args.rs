//! Argument checks of the `H_GUEST_*` hypercalls, as pure functions of the arguments and a
//! read-only [`NestedView`] of the L1's guests. Each returns what the call should do, or the
//! [`Rejection`] to return. They change nothing: the caller (see [`super::registry`] and
//! [`super::dispatch`]) acts on the answer.
//!
//! Flag rules follow QEMU's L0 where PAPR leaves them open: reserved flags of
//! GET/SET_CAPABILITIES, GET/SET_STATE and RUN_VCPU give `H_PARAMETER`, those of CREATE,
//! CREATE_VCPU and DELETE give `H_UNSUPPORTED_FLAG`.

use super::hcall::{
    first_ibm_bit, Rejection, CAPABILITY_POWER9, CREATE_FIRST_CALL_TOKEN, DELETE_FLAG_ALL_GUESTS,
    GET_STATE_FLAG_HOST_WIDE, H_FUNCTION, H_INPUT_BUFFER_NOT_DEFINED, H_IN_USE, H_NOT_ENOUGH_RESOURCES,
    H_OUTPUT_BUFFER_NOT_DEFINED, H_P2, H_P3, H_P4, H_P5, H_PARAMETER, H_PARTITION_PAGE_TABLE_NOT_DEFINED,
    H_STATE, H_UNSUPPORTED_FLAG, STATE_FLAG_GUEST_WIDE, SUPPORTED_CAPABILITIES,
};
use super::request::StateScope;
use super::state::{GuestState, RunBufferDescriptor, VcpuState};
use super::values::{L1RealMemory, MAX_STATE_BUFFER_SIZE};
use super::wire::HEADER_SIZE;

/// Highest vCPU id an L1 may create (ids are 0–2047 per guest; they need not be dense).
pub const MAX_VCPU_ID: u64 = 2047;

/// What the argument checks need to know about the calling L1's nested state.
pub trait NestedView {
    /// The capability bitmap a successful SET_CAPABILITIES agreed on, if any.
    fn negotiated_capabilities(&self) -> Option<u64>;
    /// The guest with this id.
    fn guest(&self, guest_id: u64) -> Option<&GuestState>;
    /// The vCPU `vcpu_id` of guest `guest_id`.
    fn vcpu(&self, guest_id: u64, vcpu_id: u64) -> Option<&VcpuState>;
    /// Whether limits and memory allow one more guest.
    fn can_create_guest(&self) -> bool;
    /// Whether limits and memory allow one more vCPU in this guest.
    fn can_create_vcpu(&self, guest_id: u64) -> bool;
    /// The continue token of a CREATE that answered busy and may be resumed, if any.
    fn pending_create_token(&self) -> Option<u64> {
        None
    }
}

/// H_GUEST_GET_CAPABILITIES: flags are reserved. Returns bitmap 1 for r4: POWER9 mode only.
pub fn check_get_capabilities(flags: u64) -> Result<u64, Rejection> {
    if flags != 0 {
        return Err(Rejection::new(H_PARAMETER));
    }
    Ok(SUPPORTED_CAPABILITIES)
}

/// H_GUEST_SET_CAPABILITIES: `bitmap` must be a non-empty subset of what GET offers, and only
/// one call may succeed. Returns the bitmap to record.
///
/// On `H_P2`, r4 = 1 (bitmap 1 is the invalid one) and r5 = IBM number of the first offending
/// bit, or for an empty bitmap the number of the first mode offered (1, POWER9), as QEMU does.
pub fn check_set_capabilities(flags: u64, bitmap: u64, view: &dyn NestedView) -> Result<u64, Rejection> {
    if flags != 0 {
        return Err(Rejection::new(H_PARAMETER));
    }
    let invalid_bitmap = |bit: u32| Rejection { status: H_P2, r4: Some(1), r5: Some(u64::from(bit)) };
    if bitmap == 0 {
        return Err(invalid_bitmap(first_ibm_bit(CAPABILITY_POWER9).unwrap_or(0)));
    }
    if let Some(bit) = first_ibm_bit(bitmap & !SUPPORTED_CAPABILITIES) {
        return Err(invalid_bitmap(bit));
    }
    if view.negotiated_capabilities().is_some() {
        return Err(Rejection::new(H_STATE));
    }
    Ok(bitmap)
}

/// What an accepted H_GUEST_CREATE does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateStep {
    /// A first call (token −1): create a guest.
    New,
    /// A retry after busy: resume the creation this token names.
    Continue(u64),
}

/// H_GUEST_CREATE: flags are reserved; capabilities must have been set; the token is −1 or
/// the pending one; there must be room for a guest.
pub fn check_create(flags: u64, continue_token: u64, view: &dyn NestedView) -> Result<CreateStep, Rejection> {
    if flags != 0 {
        return Err(Rejection::new(H_UNSUPPORTED_FLAG));
    }
    if view.negotiated_capabilities().is_none() {
        return Err(Rejection::new(H_STATE));
    }
    if continue_token != CREATE_FIRST_CALL_TOKEN {
        return match view.pending_create_token() {
            Some(pending) if pending == continue_token => Ok(CreateStep::Continue(continue_token)),
            _ => Err(Rejection::new(H_P2)),
        };
    }
    if !view.can_create_guest() {
        return Err(Rejection::new(H_NOT_ENOUGH_RESOURCES));
    }
    Ok(CreateStep::New)
}

/// H_GUEST_CREATE_VCPU: flags are reserved; the guest must exist; the id must be 0–2047 and
/// free; there must be room for a vCPU.
pub fn check_create_vcpu(
    flags: u64,
    guest_id: u64,
    vcpu_id: u64,
    view: &dyn NestedView,
) -> Result<(), Rejection> {
    if flags != 0 {
        return Err(Rejection::new(H_UNSUPPORTED_FLAG));
    }
    if view.guest(guest_id).is_none() {
        return Err(Rejection::new(H_P2));
    }
    if vcpu_id > MAX_VCPU_ID {
        return Err(Rejection::new(H_P3));
    }
    if view.vcpu(guest_id, vcpu_id).is_some() {
        return Err(Rejection::new(H_IN_USE));
    }
    if !view.can_create_vcpu(guest_id) {
        return Err(Rejection::new(H_NOT_ENOUGH_RESOURCES));
    }
    Ok(())
}

/// Which state an accepted GET/SET_STATE addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateAddress {
    /// This L0's statistics for the L1 (GET only).
    HostWide,
    /// One guest's guest-wide state.
    Guest {
        /// The guest id.
        guest_id: u64,
    },
    /// One vCPU's state.
    Vcpu {
        /// The guest id.
        guest_id: u64,
        /// The vCPU id.
        vcpu_id: u64,
    },
}

impl StateAddress {
    /// The element scope of the call.
    pub fn scope(self) -> StateScope {
        match self {
            StateAddress::HostWide => StateScope::HostWide,
            StateAddress::Guest { .. } => StateScope::GuestWide,
            StateAddress::Vcpu { .. } => StateScope::Thread,
        }
    }
}

/// An accepted GET/SET_STATE: what it addresses and where its buffer is in L1 memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateCall {
    /// The state the buffer's elements belong to.
    pub address: StateAddress,
    /// The guest state buffer (L1 real address and size).
    pub buffer: RunBufferDescriptor,
}

/// H_GUEST_GET_STATE: flags may be guest-wide or host-wide (not both); for host-wide the ids
/// are ignored.
pub fn check_get_state(
    flags: u64,
    guest_id: u64,
    vcpu_id: u64,
    buffer: RunBufferDescriptor,
    view: &dyn NestedView,
    memory: &dyn L1RealMemory,
) -> Result<StateCall, Rejection> {
    let scope = match flags {
        0 => StateScope::Thread,
        STATE_FLAG_GUEST_WIDE => StateScope::GuestWide,
        GET_STATE_FLAG_HOST_WIDE => StateScope::HostWide,
        _ => return Err(Rejection::new(H_PARAMETER)),
    };
    check_state_call(scope, guest_id, vcpu_id, buffer, view, memory)
}

/// H_GUEST_SET_STATE: flags may only be guest-wide (returning ownership is not implemented).
pub fn check_set_state(
    flags: u64,
    guest_id: u64,
    vcpu_id: u64,
    buffer: RunBufferDescriptor,
    view: &dyn NestedView,
    memory: &dyn L1RealMemory,
) -> Result<StateCall, Rejection> {
    let scope = match flags {
        0 => StateScope::Thread,
        STATE_FLAG_GUEST_WIDE => StateScope::GuestWide,
        _ => return Err(Rejection::new(H_PARAMETER)),
    };
    check_state_call(scope, guest_id, vcpu_id, buffer, view, memory)
}

fn check_state_call(
    scope: StateScope,
    guest_id: u64,
    vcpu_id: u64,
    buffer: RunBufferDescriptor,
    view: &dyn NestedView,
    memory: &dyn L1RealMemory,
) -> Result<StateCall, Rejection> {
    let address = match scope {
        StateScope::HostWide => StateAddress::HostWide,
        StateScope::GuestWide | StateScope::Thread => {
            if view.guest(guest_id).is_none() {
                return Err(Rejection::new(H_P2));
            }
            if scope == StateScope::GuestWide {
                StateAddress::Guest { guest_id }
            } else if view.vcpu(guest_id, vcpu_id).is_none() {
                return Err(Rejection::new(H_P3));
            } else {
                StateAddress::Vcpu { guest_id, vcpu_id }
            }
        }
    };
    if !(HEADER_SIZE as u64..=MAX_STATE_BUFFER_SIZE).contains(&buffer.size) {
        return Err(Rejection::new(H_P5));
    }
    if !memory.contains(buffer.address, buffer.size) {
        return Err(Rejection::new(H_P4));
    }
    Ok(StateCall { address, buffer })
}

/// The buffers of an accepted RUN_VCPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunBuffers {
    /// Input buffer to apply before running.
    pub input: RunBufferDescriptor,
    /// Output buffer to fill at the exit.
    pub output: RunBufferDescriptor,
}

/// H_GUEST_RUN_VCPU: no flags (the interrupt-generating flags are not implemented; Linux
/// passes 0); the guest and vCPU must exist, both run buffers and the partition-scoped table
/// must be set.
pub fn check_run_vcpu(
    flags: u64,
    guest_id: u64,
    vcpu_id: u64,
    view: &dyn NestedView,
) -> Result<RunBuffers, Rejection> {
    if flags != 0 {
        return Err(Rejection::new(H_PARAMETER));
    }
    let guest = view.guest(guest_id).ok_or(Rejection::new(H_P2))?;
    let vcpu = view.vcpu(guest_id, vcpu_id).ok_or(Rejection::new(H_P3))?;
    let input = vcpu.run_input.ok_or(Rejection::new(H_INPUT_BUFFER_NOT_DEFINED))?;
    let output = vcpu.run_output.ok_or(Rejection::new(H_OUTPUT_BUFFER_NOT_DEFINED))?;
    if guest.partition_table.is_none() {
        return Err(Rejection::new(H_PARTITION_PAGE_TABLE_NOT_DEFINED));
    }
    Ok(RunBuffers { input, output })
}

/// What an accepted H_GUEST_DELETE removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteTarget {
    /// Every guest of the L1 (flag bit 0; the guest id is ignored).
    AllGuests,
    /// One guest and all its vCPUs.
    Guest(u64),
}

/// H_GUEST_DELETE: only flag bit 0 (delete all) is defined; otherwise the guest must exist.
pub fn check_delete(flags: u64, guest_id: u64, view: &dyn NestedView) -> Result<DeleteTarget, Rejection> {
    if flags & !DELETE_FLAG_ALL_GUESTS != 0 {
        return Err(Rejection::new(H_UNSUPPORTED_FLAG));
    }
    if flags & DELETE_FLAG_ALL_GUESTS != 0 {
        return Ok(DeleteTarget::AllGuests);
    }
    if view.guest(guest_id).is_none() {
        return Err(Rejection::new(H_P2));
    }
    Ok(DeleteTarget::Guest(guest_id))
}

/// H_GUEST_COPY_MEMORY: its arguments are not documented and its capability is not offered.
pub fn check_copy_memory() -> Result<(), Rejection> {
    Err(Rejection::new(H_FUNCTION))
}
