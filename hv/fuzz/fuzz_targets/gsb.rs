//! Fuzz target: arbitrary bytes as a guest state buffer (GSB) for every kind of call — GET_STATE
//! (thread, guest-wide, host-wide), SET_STATE (thread, guest-wide) and the RUN_VCPU input
//! buffer. Nothing may panic; the check alone and the real call must agree; a rejection must
//! locate the element inside the buffer; a rejected call changes nothing; and a thread SET
//! with distinct ids reads back byte for byte.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use oxiboot_hv::nested::access::{
    apply_run_input, get_state, set_state, HostWideStatistics, StateSource, StateTarget,
};
use oxiboot_hv::nested::gsid;
use oxiboot_hv::nested::hcall::{
    Rejection, H_INVALID_ELEMENT_ID, H_INVALID_ELEMENT_SIZE, H_INVALID_ELEMENT_VALUE,
};
use oxiboot_hv::nested::request::{check_buffer, ErrorPosition, Request, StateScope};
use oxiboot_hv::nested::state::{GuestState, VcpuState};
use oxiboot_hv::nested::wire::StateBuffer;

/// The L1's memory: 1 GiB from 0, so some addresses in values fall inside and some outside.
const MEMORY: core::ops::Range<u64> = 0..(1 << 30);

const REQUESTS: [Request; 6] = [
    Request::GetState(StateScope::Thread),
    Request::GetState(StateScope::GuestWide),
    Request::GetState(StateScope::HostWide),
    Request::SetState(StateScope::Thread),
    Request::SetState(StateScope::GuestWide),
    Request::RunInput,
];

/// A rejection names a real element (index below the count, offset of a header inside the
/// buffer) for the element codes, and nothing for the buffer-too-small codes.
fn check_rejection(rejection: &Rejection, request: Request, bytes: &[u8]) {
    match rejection.status {
        H_INVALID_ELEMENT_ID | H_INVALID_ELEMENT_SIZE | H_INVALID_ELEMENT_VALUE => {
            let position = rejection.r4.expect("element errors carry a position");
            let count = StateBuffer::new(bytes).map(|buffer| buffer.count()).unwrap_or(0);
            match request.error_position() {
                ErrorPosition::ElementIndex => assert!(position < u64::from(count)),
                ErrorPosition::ByteOffset => {
                    assert!(position >= 4 && position + 4 <= bytes.len() as u64)
                }
            }
        }
        status => {
            assert_eq!(status, request.too_small_status());
            assert_eq!(rejection.r4, None);
        }
    }
}

/// (id, length) of every element the walk reaches.
fn layout(bytes: &[u8]) -> Vec<(u16, u16)> {
    StateBuffer::new(bytes)
        .map(|buffer| {
            buffer.elements().map_while(Result::ok).map(|element| (element.id, element.length)).collect()
        })
        .unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let statistics = HostWideStatistics {
        guest_heap_in_use: 1,
        guest_heap_max: 2,
        page_table_in_use: 3,
        page_table_max: 4,
        page_table_reclaimed: 5,
    };
    for request in REQUESTS {
        let checked = check_buffer(data, request, &MEMORY);
        if let Err(rejection) = &checked {
            check_rejection(rejection, request, data);
        }
        match request {
            Request::GetState(scope) => {
                let (guest, vcpu) = (GuestState::default(), VcpuState::default());
                let source = match scope {
                    StateScope::Thread => StateSource::Vcpu(&vcpu),
                    StateScope::GuestWide => StateSource::Guest(&guest),
                    StateScope::HostWide => StateSource::HostWide(&statistics),
                };
                let mut answer = data.to_vec();
                assert_eq!(get_state(&mut answer, source), checked);
                assert_eq!(layout(&answer), layout(data), "GET writes values only");
                if checked.is_err() {
                    assert_eq!(answer, data, "a rejected GET writes nothing");
                }
            }
            Request::SetState(StateScope::GuestWide) => {
                let mut guest = GuestState::default();
                let result = set_state(data, StateTarget::Guest(&mut guest), &MEMORY);
                assert_eq!(result, checked);
                if result.is_err() {
                    assert_eq!(guest, GuestState::default());
                }
            }
            Request::SetState(_) | Request::RunInput => {
                let mut vcpu = VcpuState::default();
                let result = if request == Request::RunInput {
                    apply_run_input(data, &mut vcpu, &MEMORY)
                } else {
                    set_state(data, StateTarget::Vcpu(&mut vcpu), &MEMORY)
                };
                assert_eq!(result, checked);
                if result.is_err() {
                    assert_eq!(vcpu, VcpuState::default());
                    continue;
                }
                // Read back: with distinct ids and nothing write-only, a GET of the same
                // buffer reproduces it.
                let ids = layout(data);
                let distinct: BTreeSet<u16> =
                    ids.iter().map(|&(id, _)| id).filter(|&id| id != gsid::NOP).collect();
                let non_nop = ids.iter().filter(|&&(id, _)| id != gsid::NOP).count();
                if distinct.len() == non_nop && !distinct.contains(&gsid::HDEC_EXPIRY_TB) {
                    let mut answer = data.to_vec();
                    assert_eq!(get_state(&mut answer, StateSource::Vcpu(&vcpu)), result);
                    assert_eq!(answer, data, "values read back as written");
                }
            }
        }
    }
});
