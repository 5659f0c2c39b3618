//! Applying H_GUEST_SET_STATE and the RUN_VCPU input buffer to the state model, answering
//! H_GUEST_GET_STATE in place, and the host-wide statistics.
//!
//! Every call checks the whole buffer first and only then changes anything, so a rejected SET
//! leaves the state untouched (QEMU applies elements up to the bad one). The caller copies the
//! buffer from L1 memory (its length is the size the L1 passed) and, for GET, copies it back.

use core::mem::size_of;

use super::gsid;
use super::hcall::Rejection;
use super::request::{check_buffer, checked_elements, NoMemory, Request, StateScope};
use super::state::{GuestState, VcpuState};
use super::values::{L1RealMemory, RUN_OUTPUT_MIN_SIZE_BYTES};
use super::wire::{ElementCursor, ElementValue};

/// Host-wide statistics (GSIDs 0x0800–0x0804) for the calling L1, in bytes. The hypervisor
/// computes them from its own accounting for each GET; nothing here is a constant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostWideStatistics {
    /// Guest-management heap in use for this L1's L2 guests and vCPUs (0x0800).
    pub guest_heap_in_use: u64,
    /// Guest-management heap this L1 may use (0x0801).
    pub guest_heap_max: u64,
    /// Shadow page-table memory in use for this L1's L2s (0x0802).
    pub page_table_in_use: u64,
    /// Shadow page-table memory this L1's L2s may use (0x0803).
    pub page_table_max: u64,
    /// Shadow page-table memory reclaimed so far (0x0804).
    pub page_table_reclaimed: u64,
}

impl HostWideStatistics {
    /// The value of a host-wide GSID.
    pub fn read(&self, id: u16) -> Option<u64> {
        Some(match id {
            gsid::L0_GUEST_HEAP_IN_USE => self.guest_heap_in_use,
            gsid::L0_GUEST_HEAP_MAX => self.guest_heap_max,
            gsid::L0_GUEST_PAGE_TABLE_IN_USE => self.page_table_in_use,
            gsid::L0_GUEST_PAGE_TABLE_MAX => self.page_table_max,
            gsid::L0_GUEST_PAGE_TABLE_RECLAIMED => self.page_table_reclaimed,
            _ => return None,
        })
    }
}

/// What an H_GUEST_GET_STATE reads from.
#[derive(Clone, Copy, Debug)]
pub enum StateSource<'a> {
    /// Host-wide flag.
    HostWide(&'a HostWideStatistics),
    /// Guest-wide flag.
    Guest(&'a GuestState),
    /// No flag: one vCPU.
    Vcpu(&'a VcpuState),
}

/// What an H_GUEST_SET_STATE writes to.
#[derive(Debug)]
pub enum StateTarget<'a> {
    /// Guest-wide flag.
    Guest(&'a mut GuestState),
    /// No flag: one vCPU.
    Vcpu(&'a mut VcpuState),
}

/// Size of the L0's internal vCPU state (GSID 0x0001).
pub const HOST_STATE_SIZE_BYTES: u64 = size_of::<VcpuState>() as u64;

/// The value a GET returns for a guest-wide GSID.
fn read_guest(guest: &GuestState, id: u16) -> Option<ElementValue> {
    match id {
        gsid::HOST_STATE_SIZE => Some(ElementValue::Doubleword(HOST_STATE_SIZE_BYTES)),
        gsid::RUN_OUTPUT_MIN_SIZE => Some(ElementValue::Doubleword(RUN_OUTPUT_MIN_SIZE_BYTES)),
        _ => guest.read(id),
    }
}

/// Answers H_GUEST_GET_STATE: checks the buffer (ids, scope, sizes) and writes each element's
/// value in place. Returns the number of elements.
pub fn get_state(buffer: &mut [u8], source: StateSource<'_>) -> Result<u32, Rejection> {
    let scope = match source {
        StateSource::HostWide(_) => StateScope::HostWide,
        StateSource::Guest(_) => StateScope::GuestWide,
        StateSource::Vcpu(_) => StateScope::Thread,
    };
    let request = Request::GetState(scope);
    let count = check_buffer(buffer, request, &NoMemory)?;
    let mut cursor = ElementCursor::new(count);
    // The buffer was checked, so the walk yields every element; each step borrows the buffer
    // only while the element's location is read.
    while let Some(Ok(element)) = cursor.next_in(buffer) {
        let (id, value_offset) = (element.id, element.value_offset());
        let value = match source {
            StateSource::HostWide(statistics) => statistics.read(id).map(ElementValue::Doubleword),
            StateSource::Guest(guest) => read_guest(guest, id),
            StateSource::Vcpu(vcpu) => vcpu.read(id),
        };
        let Some(value) = value else { continue };
        let (encoded, len) = value.encode();
        if let (Some(slot), Some(bytes)) =
            (buffer.get_mut(value_offset..value_offset + len), encoded.get(..len))
        {
            slot.copy_from_slice(bytes);
        }
    }
    Ok(count)
}

/// Applies H_GUEST_SET_STATE: checks every element (including values) and only then stores
/// them. Returns the number of elements.
pub fn set_state(
    buffer: &[u8],
    target: StateTarget<'_>,
    memory: &dyn L1RealMemory,
) -> Result<u32, Rejection> {
    let request = Request::SetState(match target {
        StateTarget::Guest(_) => StateScope::GuestWide,
        StateTarget::Vcpu(_) => StateScope::Thread,
    });
    apply(buffer, request, target, memory)
}

/// Applies the RUN_VCPU input buffer to the vCPU (thread elements only; errors carry the byte
/// offset of the bad element). Returns the number of elements.
pub fn apply_run_input(
    buffer: &[u8],
    vcpu: &mut VcpuState,
    memory: &dyn L1RealMemory,
) -> Result<u32, Rejection> {
    apply(buffer, Request::RunInput, StateTarget::Vcpu(vcpu), memory)
}

fn apply(
    buffer: &[u8],
    request: Request,
    mut target: StateTarget<'_>,
    memory: &dyn L1RealMemory,
) -> Result<u32, Rejection> {
    let count = check_buffer(buffer, request, memory)?;
    for element in checked_elements(buffer, request, memory).flatten() {
        let Some(value) = element.value else { continue };
        match &mut target {
            StateTarget::Guest(guest) => guest.write(element.info.id, &value),
            StateTarget::Vcpu(vcpu) => vcpu.write(element.info.id, &value),
        };
    }
    Ok(count)
}
