//! Malformed buffers: each gives the right status and the bad element's index (GET/SET_STATE)
//! or byte offset (RUN_VCPU input), and a rejected SET changes nothing.

use super::L1_MEMORY;
use crate::nested::access::{
    apply_run_input, get_state, set_state, HostWideStatistics, StateSource, StateTarget,
};
use crate::nested::gsid;
use crate::nested::hcall::{
    Rejection, H_INPUT_BUFFER_TOO_SMALL, H_INVALID_ELEMENT_ID, H_INVALID_ELEMENT_SIZE,
    H_INVALID_ELEMENT_VALUE, H_P5,
};
use crate::nested::request::{check_buffer, ErrorPosition, Request, StateScope};
use crate::nested::state::{
    GuestState, PartitionTableDescriptor, ProcessTableDescriptor, RunBufferDescriptor, VcpuState,
};
use crate::nested::wire::{BufferBuilder, ElementValue};

/// Two good thread elements (NIA at offset 4, CR at offset 16) followed by `bad`.
fn thread_buffer_with(bad: impl FnOnce(BufferBuilder) -> BufferBuilder) -> alloc::vec::Vec<u8> {
    bad(BufferBuilder::new()
        .value(gsid::NIA, ElementValue::Doubleword(0x100))
        .value(gsid::CR, ElementValue::Word(0x2000_0000)))
    .build()
}

/// The bad element is index 2 at byte offset 24.
fn expect_thread_error(bytes: &[u8], status: i64) {
    let mut vcpu = VcpuState::default();
    assert_eq!(
        set_state(bytes, StateTarget::Vcpu(&mut vcpu), &L1_MEMORY),
        Err(Rejection::with_r4(status, 2))
    );
    assert_eq!(apply_run_input(bytes, &mut vcpu, &L1_MEMORY), Err(Rejection::with_r4(status, 24)));
    assert_eq!(vcpu, VcpuState::default(), "nothing applied");
}

#[test]
fn positions_by_call() {
    assert_eq!(Request::GetState(StateScope::Thread).error_position(), ErrorPosition::ElementIndex);
    assert_eq!(Request::SetState(StateScope::GuestWide).error_position(), ErrorPosition::ElementIndex);
    assert_eq!(Request::RunInput.error_position(), ErrorPosition::ByteOffset);
}

#[test]
fn unknown_ids() {
    for id in [0x0007, 0x0805, 0x0C03, 0x1054, 0x200F, 0x3040, 0xF004, 0xFFFF] {
        expect_thread_error(&thread_buffer_with(|b| b.raw(id, &[0; 8])), H_INVALID_ELEMENT_ID);
    }
}

#[test]
fn wrong_sizes() {
    expect_thread_error(&thread_buffer_with(|b| b.raw(gsid::LR, &[0; 4])), H_INVALID_ELEMENT_SIZE);
    expect_thread_error(&thread_buffer_with(|b| b.raw(gsid::PIDR, &[0; 8])), H_INVALID_ELEMENT_SIZE);
    expect_thread_error(&thread_buffer_with(|b| b.raw(gsid::vsr(5), &[0; 8])), H_INVALID_ELEMENT_SIZE);
    // A 4-byte HEIR, as QEMU and the original document have it, is a size error in GET too.
    let mut request = BufferBuilder::new().request(gsid::HEIR, 4).build();
    assert_eq!(
        get_state(&mut request, StateSource::Vcpu(&VcpuState::default())),
        Err(Rejection::with_r4(H_INVALID_ELEMENT_SIZE, 0))
    );
}

#[test]
fn wrong_scope() {
    // Guest-wide ids in thread calls and the RUN_VCPU input buffer.
    expect_thread_error(
        &thread_buffer_with(|b| b.value(gsid::TB_OFFSET, ElementValue::Doubleword(0))),
        H_INVALID_ELEMENT_ID,
    );
    // Host-wide ids anywhere but a host-wide GET.
    expect_thread_error(&thread_buffer_with(|b| b.request(gsid::L0_GUEST_HEAP_MAX, 8)), H_INVALID_ELEMENT_ID);
    // Thread ids in a guest-wide call.
    let bytes = BufferBuilder::new()
        .value(gsid::LOGICAL_PVR, ElementValue::Word(0x0F00_0005))
        .value(gsid::NIA, ElementValue::Doubleword(0))
        .build();
    let mut guest = GuestState::default();
    assert_eq!(
        set_state(&bytes, StateTarget::Guest(&mut guest), &L1_MEMORY),
        Err(Rejection::with_r4(H_INVALID_ELEMENT_ID, 1))
    );
    // Guest-wide and thread ids in a host-wide GET.
    let statistics = HostWideStatistics::default();
    let mut request = BufferBuilder::new()
        .request(gsid::L0_GUEST_HEAP_IN_USE, 8)
        .request(gsid::RUN_OUTPUT_MIN_SIZE, 8)
        .build();
    assert_eq!(
        get_state(&mut request, StateSource::HostWide(&statistics)),
        Err(Rejection::with_r4(H_INVALID_ELEMENT_ID, 1))
    );
    let mut request = BufferBuilder::new().request(gsid::NIA, 8).build();
    assert_eq!(
        get_state(&mut request, StateSource::HostWide(&statistics)),
        Err(Rejection::with_r4(H_INVALID_ELEMENT_ID, 0))
    );
}

#[test]
fn read_only_writes() {
    for id in [gsid::HDAR, gsid::ASDR, gsid::HEIR] {
        expect_thread_error(
            &thread_buffer_with(|b| b.value(id, ElementValue::Doubleword(1))),
            H_INVALID_ELEMENT_ID,
        );
    }
    expect_thread_error(
        &thread_buffer_with(|b| b.value(gsid::HDSISR, ElementValue::Word(1))),
        H_INVALID_ELEMENT_ID,
    );
    for id in [gsid::HOST_STATE_SIZE, gsid::RUN_OUTPUT_MIN_SIZE] {
        let bytes = BufferBuilder::new().value(id, ElementValue::Doubleword(64)).build();
        let mut guest = GuestState::default();
        assert_eq!(
            set_state(&bytes, StateTarget::Guest(&mut guest), &L1_MEMORY),
            Err(Rejection::with_r4(H_INVALID_ELEMENT_ID, 0))
        );
    }
}

#[test]
fn truncated_buffers() {
    let mut vcpu = VcpuState::default();
    for short in [&[][..], &[0, 0, 1][..]] {
        assert_eq!(set_state(short, StateTarget::Vcpu(&mut vcpu), &L1_MEMORY), Err(Rejection::new(H_P5)));
        assert_eq!(
            apply_run_input(short, &mut vcpu, &L1_MEMORY),
            Err(Rejection::new(H_INPUT_BUFFER_TOO_SMALL))
        );
    }
    // The value of the third element runs past the end of the buffer.
    let cut = thread_buffer_with(|b| b.value(gsid::LR, ElementValue::Doubleword(5)));
    let cut = &cut[..cut.len() - 3];
    assert_eq!(set_state(cut, StateTarget::Vcpu(&mut vcpu), &L1_MEMORY), Err(Rejection::new(H_P5)));
    assert_eq!(apply_run_input(cut, &mut vcpu, &L1_MEMORY), Err(Rejection::new(H_INPUT_BUFFER_TOO_SMALL)));
    // Its header is cut in half.
    let half = thread_buffer_with(|b| b.value(gsid::LR, ElementValue::Doubleword(5)));
    assert_eq!(set_state(&half[..26], StateTarget::Vcpu(&mut vcpu), &L1_MEMORY), Err(Rejection::new(H_P5)));
    assert_eq!(vcpu, VcpuState::default());
}

#[test]
fn count_beyond_the_buffer() {
    let bytes = thread_buffer_with(|b| b.count(3));
    let mut vcpu = VcpuState::default();
    assert_eq!(set_state(&bytes, StateTarget::Vcpu(&mut vcpu), &L1_MEMORY), Err(Rejection::new(H_P5)));
    assert_eq!(apply_run_input(&bytes, &mut vcpu, &L1_MEMORY), Err(Rejection::new(H_INPUT_BUFFER_TOO_SMALL)));
    let mut request = bytes.clone();
    assert_eq!(get_state(&mut request, StateSource::Vcpu(&vcpu)), Err(Rejection::new(H_P5)));
    assert_eq!(request, bytes, "a rejected GET writes nothing");
    let huge = thread_buffer_with(|b| b.count(u32::MAX));
    assert_eq!(
        check_buffer(&huge, Request::RunInput, &L1_MEMORY),
        Err(Rejection::new(H_INPUT_BUFFER_TOO_SMALL))
    );
    // A count that stops early is fine: the rest is trailing bytes.
    assert_eq!(check_buffer(&thread_buffer_with(|b| b.count(1)), Request::RunInput, &L1_MEMORY), Ok(1));
}

#[test]
fn first_bad_element_wins() {
    let bytes = BufferBuilder::new()
        .value(gsid::NIA, ElementValue::Doubleword(0))
        .raw(0x0999, &[0; 8])
        .raw(gsid::LR, &[0; 2])
        .build();
    assert_eq!(
        check_buffer(&bytes, Request::RunInput, &L1_MEMORY),
        Err(Rejection::with_r4(H_INVALID_ELEMENT_ID, 16))
    );
}

fn expect_guest_value_error(id: u16, value: ElementValue) {
    let bytes = BufferBuilder::new()
        .value(gsid::LOGICAL_PVR, ElementValue::Word(0x0F00_0005))
        .value(id, value)
        .build();
    let mut guest = GuestState { logical_pvr: 1, ..Default::default() };
    assert_eq!(
        set_state(&bytes, StateTarget::Guest(&mut guest), &L1_MEMORY),
        Err(Rejection::with_r4(H_INVALID_ELEMENT_VALUE, 1)),
        "{id:#06x} {value:x?}"
    );
    assert_eq!(guest.logical_pvr, 1, "nothing applied");
}

#[test]
fn invalid_guest_wide_values() {
    for pvr in [0, 0x0F00_0004, 0x0F00_0006, 0x004E_1202] {
        let bytes = BufferBuilder::new().value(gsid::LOGICAL_PVR, ElementValue::Word(pvr)).build();
        let mut guest = GuestState::default();
        let result = set_state(&bytes, StateTarget::Guest(&mut guest), &L1_MEMORY);
        assert_eq!(result, Err(Rejection::with_r4(H_INVALID_ELEMENT_VALUE, 0)), "{pvr:#x}");
    }
    expect_guest_value_error(gsid::TB_OFFSET, ElementValue::Doubleword(0x0100_0001));
    let good_table =
        PartitionTableDescriptor { root_address: 0x10_0000, effective_address_bits: 52, root_size: 0x1_0000 };
    for table in [
        PartitionTableDescriptor { effective_address_bits: 48, ..good_table },
        PartitionTableDescriptor { root_size: 0x1_8000, ..good_table },
        PartitionTableDescriptor { root_size: 128, root_address: 0x100, ..good_table },
        PartitionTableDescriptor { root_address: 0x10_8000, ..good_table },
        PartitionTableDescriptor { root_address: L1_MEMORY.end, ..good_table },
    ] {
        expect_guest_value_error(gsid::PARTITION_TABLE, ElementValue::PartitionTable(table));
    }
    for table in [
        ProcessTableDescriptor { base_address: 0x1000, size: 0x1800 },
        ProcessTableDescriptor { base_address: 0x1000, size: 0x800 },
        ProcessTableDescriptor { base_address: 0x1010, size: 0x1000 },
        ProcessTableDescriptor { base_address: 0x1000, size: 1 << 37 },
    ] {
        expect_guest_value_error(gsid::PROCESS_TABLE, ElementValue::ProcessTable(table));
    }
}

#[test]
fn invalid_thread_values() {
    let in_memory = |address, size| ElementValue::RunBuffer(RunBufferDescriptor { address, size });
    for (id, value) in [
        (gsid::RUN_INPUT_BUFFER, in_memory(0x1000, 2)),
        (gsid::RUN_INPUT_BUFFER, in_memory(0x1000, 32 * 1024)),
        (gsid::RUN_INPUT_BUFFER, in_memory(L1_MEMORY.end - 8, 16)),
        (gsid::RUN_OUTPUT_BUFFER, in_memory(0x1000, 0x80)),
        (gsid::RUN_OUTPUT_BUFFER, in_memory(u64::MAX - 4095, 4096)),
        (gsid::VPA, ElementValue::Doubleword(0x1004)),
        (gsid::VPA, ElementValue::Doubleword(L1_MEMORY.end - 8)),
        (gsid::MSR, ElementValue::Doubleword(0x8000_0006_0000_1033)),
        (gsid::LPCR, ElementValue::Doubleword(0x0080_0000)),
    ] {
        expect_thread_error(&thread_buffer_with(|b| b.value(id, value)), H_INVALID_ELEMENT_VALUE);
    }
}

#[test]
fn bits_the_l1_cannot_set_are_kept_but_masked() {
    // A Linux L1 sends its whole L2 MSR (ME set) and LPCR (HR, UPRT, HVICE, …): accepted.
    let msr = (1 << 63) | (1 << 60) | (1 << 22) | (1 << 12) | 0x33;
    let lpcr = 0x0040_0000_03F2_1C03;
    let bytes = BufferBuilder::new()
        .value(gsid::MSR, ElementValue::Doubleword(msr))
        .value(gsid::LPCR, ElementValue::Doubleword(lpcr))
        .value(gsid::HDEXCR, ElementValue::Doubleword(u64::MAX))
        .build();
    let mut vcpu = VcpuState::default();
    apply_run_input(&bytes, &mut vcpu, &L1_MEMORY).expect("accepted");
    assert_eq!((vcpu.msr, vcpu.lpcr), (msr, lpcr), "stored as sent, for GET");
    assert_eq!(vcpu.effective_msr(), (1 << 63) | (1 << 12) | 0x33, "HV and S dropped, ME forced");
    assert_eq!(vcpu.l1_lpcr_bits(), 0x0040_0000_0382_0C00, "DPFD, ILE, AIL, LD, MER, GTSE only");
    assert_eq!(vcpu.l1_hdexcr_bits(), 0xFFFF_FFFF);
    assert_eq!(VcpuState::default().effective_msr(), 1 << 12);
}
