//! Checking a guest state buffer against the GSID table for one kind of call, and reporting a
//! bad element as PAPR wants it: a status plus the element's index (GET/SET_STATE) or byte
//! offset (the RUN_VCPU input buffer).
//!
//! Checks, in order, for each element: the header is inside the buffer; the id is defined
//! (else `H_INVALID_ELEMENT_ID`); its scope matches the call and the call's direction is
//! allowed — no writes to read-only ids, no reads of write-only ids (else
//! `H_INVALID_ELEMENT_ID`); the length is the id's size (else `H_INVALID_ELEMENT_SIZE`); the
//! value is inside the buffer; and, for writes, the value is acceptable (else
//! `H_INVALID_ELEMENT_VALUE`, see [`super::values`]). A buffer too short for its header or for
//! the elements its count promises gets `H_P5` (GET/SET_STATE: the size argument is too small)
//! or `H_INPUT_BUFFER_TOO_SMALL` (RUN_VCPU), without a position.

use super::gsid::{self, Access, ElementInfo, Scope};
use super::hcall::{
    HcallStatus, Rejection, H_INPUT_BUFFER_TOO_SMALL, H_INVALID_ELEMENT_ID, H_INVALID_ELEMENT_SIZE,
    H_INVALID_ELEMENT_VALUE, H_P5,
};
use super::values::{self, L1RealMemory};
use super::wire::{ElementValue, RawElement, StateBuffer};

/// Which state a GET/SET_STATE call addresses (from its flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateScope {
    /// Guest-wide flag: elements of the L2 guest.
    GuestWide,
    /// No flag: elements of one L2 vCPU.
    Thread,
    /// GET_STATE host-wide flag: this L0's statistics for the L1.
    HostWide,
}

/// The call a buffer belongs to; decides the allowed ids and how errors are located.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// H_GUEST_GET_STATE: the L1 wrote ids and sizes, the L0 fills the values.
    GetState(StateScope),
    /// H_GUEST_SET_STATE: the L0 reads ids and values (host-wide state cannot be set).
    SetState(StateScope),
    /// The RUN_VCPU input buffer: thread elements to set before the vCPU runs.
    RunInput,
}

/// How r4 locates a bad element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorPosition {
    /// The element's index in the array, from 0 (GET/SET_STATE).
    ElementIndex,
    /// The element's byte offset from the start of the buffer, the first element being at 4
    /// (RUN_VCPU input buffer).
    ByteOffset,
}

impl Request {
    /// How this call reports the position of a bad element.
    pub fn error_position(self) -> ErrorPosition {
        match self {
            Request::GetState(_) | Request::SetState(_) => ErrorPosition::ElementIndex,
            Request::RunInput => ErrorPosition::ByteOffset,
        }
    }

    /// Whether the L1 writes values (SET_STATE, RUN input) rather than reading them.
    pub fn writes(self) -> bool {
        !matches!(self, Request::GetState(_))
    }

    /// The scope of the elements this call may carry.
    pub fn scope(self) -> StateScope {
        match self {
            Request::GetState(scope) | Request::SetState(scope) => scope,
            Request::RunInput => StateScope::Thread,
        }
    }

    /// Status for a buffer too short for its header or its declared elements.
    pub fn too_small_status(self) -> HcallStatus {
        match self {
            Request::GetState(_) | Request::SetState(_) => H_P5,
            Request::RunInput => H_INPUT_BUFFER_TOO_SMALL,
        }
    }

    /// A rejection of the element at `index`/`offset` with `status`.
    fn element_rejection(self, status: HcallStatus, index: u32, offset: usize) -> Rejection {
        let position = match self.error_position() {
            ErrorPosition::ElementIndex => u64::from(index),
            ErrorPosition::ByteOffset => offset as u64,
        };
        Rejection::with_r4(status, position)
    }
}

/// An element that passed every check for its call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckedElement {
    /// The table entry of its GSID.
    pub info: ElementInfo,
    /// Index in the buffer's element array.
    pub index: u32,
    /// Byte offset of the value from the start of the buffer.
    pub value_offset: usize,
    /// Length of the value in bytes.
    pub length: u16,
    /// The decoded value, for writes (`None` for GET_STATE and for NOP elements).
    pub value: Option<ElementValue>,
}

/// Whether an element's id may appear in a call: its scope matches and the direction is allowed.
fn id_allowed(info: &ElementInfo, request: Request) -> bool {
    let scope_ok = matches!(
        (info.scope, request.scope()),
        (Scope::Any, _)
            | (Scope::GuestWide, StateScope::GuestWide)
            | (Scope::Thread, StateScope::Thread)
            | (Scope::HostWide, StateScope::HostWide)
    );
    let access_ok = match info.access {
        Access::ReadWrite => true,
        Access::ReadOnly => !request.writes(),
        Access::WriteOnly => request.writes(),
    };
    scope_ok && access_ok
}

/// Checks one element for `request`.
pub fn check_element(
    raw: &RawElement<'_>,
    request: Request,
    memory: &dyn L1RealMemory,
) -> Result<CheckedElement, Rejection> {
    let reject = |status| request.element_rejection(status, raw.index, raw.offset);
    let info = gsid::element_info(raw.id).ok_or_else(|| reject(H_INVALID_ELEMENT_ID))?;
    if !id_allowed(&info, request) {
        return Err(reject(H_INVALID_ELEMENT_ID));
    }
    if let Some(size) = info.value_type.size() {
        if raw.length != size {
            return Err(reject(H_INVALID_ELEMENT_SIZE));
        }
    }
    let bytes = raw.value.ok_or(Rejection::new(request.too_small_status()))?;
    let value = if request.writes() && info.id != gsid::NOP {
        let value =
            ElementValue::decode(info.value_type, bytes).ok_or_else(|| reject(H_INVALID_ELEMENT_SIZE))?;
        if !values::is_acceptable(info.id, &value, memory) {
            return Err(reject(H_INVALID_ELEMENT_VALUE));
        }
        Some(value)
    } else {
        None
    };
    Ok(CheckedElement { info, index: raw.index, value_offset: raw.value_offset(), length: raw.length, value })
}

/// The checked elements of a buffer, in order; the walk ends at the first error.
pub fn checked_elements<'a>(
    bytes: &'a [u8],
    request: Request,
    memory: &'a dyn L1RealMemory,
) -> impl Iterator<Item = Result<CheckedElement, Rejection>> + 'a {
    let buffer = StateBuffer::new(bytes);
    let header = match buffer {
        Some(_) => None,
        None => Some(Err(Rejection::new(request.too_small_status()))),
    };
    let mut failed = false;
    let elements = buffer.into_iter().flat_map(|buffer| buffer.elements()).map_while(move |raw| {
        if failed {
            return None;
        }
        let checked = raw
            .map_err(|_| Rejection::new(request.too_small_status()))
            .and_then(|raw| check_element(&raw, request, memory));
        failed = checked.is_err();
        Some(checked)
    });
    header.into_iter().chain(elements)
}

/// Checks a whole buffer; returns its element count.
pub fn check_buffer(bytes: &[u8], request: Request, memory: &dyn L1RealMemory) -> Result<u32, Rejection> {
    let mut count = 0;
    for element in checked_elements(bytes, request, memory) {
        element?;
        count += 1;
    }
    Ok(count)
}

/// The memory check for GET_STATE, which never looks at addresses in values.
pub(crate) struct NoMemory;

impl L1RealMemory for NoMemory {
    fn contains(&self, _address: u64, _length: u64) -> bool {
        false
    }
}
