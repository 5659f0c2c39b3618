//! Round trips for every GSID: what SET_STATE (or the RUN_VCPU input buffer) stores, GET_STATE
//! returns in place; read-only ids return the L0's values; host-wide statistics are the
//! caller's numbers.

use alloc::vec::Vec;

use super::{sample_value, L1_MEMORY};
use crate::nested::access::{
    apply_run_input, get_state, set_state, HostWideStatistics, StateSource, StateTarget,
    HOST_STATE_SIZE_BYTES,
};
use crate::nested::gsid::{self, all_ids, element_info, Access, ElementInfo, Scope};
use crate::nested::hcall::{Rejection, H_INVALID_ELEMENT_ID};
use crate::nested::state::{GuestState, VcpuState};
use crate::nested::values::RUN_OUTPUT_MIN_SIZE_BYTES;
use crate::nested::wire::{BufferBuilder, ElementValue, StateBuffer};

fn ids_where(filter: impl Fn(&ElementInfo) -> bool) -> Vec<ElementInfo> {
    all_ids().filter_map(element_info).filter(|info| filter(info)).collect()
}

/// Builds a GET request for `ids` with `capacity` bytes, runs it, and decodes the answers.
fn get_values(ids: &[ElementInfo], source: StateSource<'_>) -> Result<Vec<(u16, ElementValue)>, Rejection> {
    let mut builder = BufferBuilder::new();
    for info in ids {
        builder = builder.request(info.id, info.value_type.size().unwrap_or(0));
    }
    let mut bytes = builder.capacity(8192).build();
    let count = get_state(&mut bytes, source)?;
    assert_eq!(count as usize, ids.len());
    let buffer = StateBuffer::new(&bytes).expect("header");
    Ok(buffer
        .elements()
        .map(|element| element.expect("walkable"))
        .zip(ids)
        .filter_map(|(element, info)| {
            Some((element.id, ElementValue::decode(info.value_type, element.value.expect("inside"))?))
        })
        .collect())
}

fn set_buffer(ids: &[ElementInfo]) -> Vec<u8> {
    let mut builder = BufferBuilder::new();
    for info in ids {
        if let Some(value) = sample_value(info) {
            builder = builder.value(info.id, value);
        }
    }
    builder.capacity(8192).build()
}

#[test]
fn every_writable_guest_wide_id_round_trips() {
    let ids = ids_where(|info| info.scope == Scope::GuestWide && info.access == Access::ReadWrite);
    assert_eq!(ids.len(), 4);
    let mut guest = GuestState::default();
    let count = set_state(&set_buffer(&ids), StateTarget::Guest(&mut guest), &L1_MEMORY).expect("accepted");
    assert_eq!(count, 4);
    let answers = get_values(&ids, StateSource::Guest(&guest)).expect("answered");
    for (info, (id, value)) in ids.iter().zip(answers) {
        assert_eq!(id, info.id);
        assert_eq!(Some(value), sample_value(info), "{info}");
    }
    assert!(guest.partition_table.is_some() && guest.process_table.is_some());
}

#[test]
fn every_writable_thread_id_round_trips_through_set_state_and_run_input() {
    let readable = ids_where(|info| info.scope == Scope::Thread && info.access == Access::ReadWrite);
    assert_eq!(readable.len(), 3 + 0x53 + 15 + 64, "thread ids minus HDEC expiry and fault registers");
    let bytes = set_buffer(&readable);

    let mut by_set = VcpuState::default();
    set_state(&bytes, StateTarget::Vcpu(&mut by_set), &L1_MEMORY).expect("accepted");
    let mut by_run = VcpuState::default();
    apply_run_input(&bytes, &mut by_run, &L1_MEMORY).expect("accepted");
    assert_eq!(by_set, by_run);

    let answers = get_values(&readable, StateSource::Vcpu(&by_set)).expect("answered");
    assert_eq!(answers.len(), readable.len());
    for (info, (id, value)) in readable.iter().zip(answers) {
        assert_eq!(id, info.id);
        assert_eq!(Some(value), sample_value(info), "{info}");
    }
    // Spot checks that values land in the named fields.
    assert_eq!(by_set.gpr[31], 0x5A5A_0000_0000_0000 | 0x101F << 8 | 0x11);
    assert_eq!(by_set.pmc[5], 0xA500_0000 | 0x200C);
    assert_eq!(by_set.fpr(0), Some((0x3000u128 << 36) as u64));
    assert_eq!(by_set.run_output.map(|buffer| buffer.size), Some(4096));
    assert_eq!(by_set.vpa, Some(0x0400_0400));
}

#[test]
fn hdec_expiry_is_write_only() {
    let mut vcpu = VcpuState::default();
    let bytes =
        BufferBuilder::new().value(gsid::HDEC_EXPIRY_TB, ElementValue::Doubleword(0x1234_5678)).build();
    apply_run_input(&bytes, &mut vcpu, &L1_MEMORY).expect("accepted");
    assert_eq!(vcpu.hdec_expiry_tb, 0x1234_5678);
    let info = element_info(gsid::HDEC_EXPIRY_TB).expect("defined");
    assert_eq!(
        get_values(&[info], StateSource::Vcpu(&vcpu)),
        Err(Rejection::with_r4(H_INVALID_ELEMENT_ID, 0))
    );
}

#[test]
fn read_only_ids_return_the_l0_values() {
    let mut vcpu = VcpuState {
        hdar: 0xC000_0000_0000_1000,
        hdsisr: 0x4200_0000,
        heir: 0x7C00_02A6,
        ..Default::default()
    };
    vcpu.asdr = 0x0000_0000_0123_4000;
    let fault_ids = ids_where(|info| (0xF000..=0xF003).contains(&info.id));
    let answers = get_values(&fault_ids, StateSource::Vcpu(&vcpu)).expect("answered");
    assert_eq!(
        answers,
        [
            (gsid::HDAR, ElementValue::Doubleword(0xC000_0000_0000_1000)),
            (gsid::HDSISR, ElementValue::Word(0x4200_0000)),
            (gsid::HEIR, ElementValue::Doubleword(0x7C00_02A6)),
            (gsid::ASDR, ElementValue::Doubleword(0x0123_4000)),
        ]
    );

    let guest = GuestState::default();
    let sizes = ids_where(|info| info.id == gsid::HOST_STATE_SIZE || info.id == gsid::RUN_OUTPUT_MIN_SIZE);
    let answers = get_values(&sizes, StateSource::Guest(&guest)).expect("answered");
    assert_eq!(
        answers,
        [
            (gsid::HOST_STATE_SIZE, ElementValue::Doubleword(HOST_STATE_SIZE_BYTES)),
            (gsid::RUN_OUTPUT_MIN_SIZE, ElementValue::Doubleword(RUN_OUTPUT_MIN_SIZE_BYTES)),
        ]
    );
    assert_eq!(HOST_STATE_SIZE_BYTES, core::mem::size_of::<VcpuState>() as u64);
}

#[test]
fn host_wide_statistics_are_the_callers_numbers() {
    let statistics = HostWideStatistics {
        guest_heap_in_use: 11,
        guest_heap_max: 22,
        page_table_in_use: 33,
        page_table_max: 44,
        page_table_reclaimed: 55,
    };
    let ids = ids_where(|info| info.scope == Scope::HostWide);
    let answers = get_values(&ids, StateSource::HostWide(&statistics)).expect("answered");
    let values: Vec<_> = answers.iter().map(|(_, value)| *value).collect();
    assert_eq!(values, [11, 22, 33, 44, 55].map(ElementValue::Doubleword));
}

#[test]
fn nop_elements_are_skipped_everywhere() {
    let bytes = BufferBuilder::new()
        .raw(gsid::NOP, &[9; 5])
        .value(gsid::NIA, ElementValue::Doubleword(0x40))
        .raw(gsid::NOP, &[])
        .build();
    let mut vcpu = VcpuState::default();
    assert_eq!(set_state(&bytes, StateTarget::Vcpu(&mut vcpu), &L1_MEMORY), Ok(3));
    assert_eq!(vcpu.nia, 0x40);

    let mut request = bytes.clone();
    assert_eq!(get_state(&mut request, StateSource::Vcpu(&vcpu)), Ok(3));
    assert_eq!(request, bytes, "NOP values untouched, NIA read back");
    let mut host = BufferBuilder::new().raw(gsid::NOP, &[1]).build();
    assert_eq!(get_state(&mut host, StateSource::HostWide(&HostWideStatistics::default())), Ok(1));
}

#[test]
fn get_leaves_trailing_bytes_alone() {
    let vcpu = VcpuState { nia: 0x1122, ..Default::default() };
    let mut bytes = BufferBuilder::new().request(gsid::NIA, 8).capacity(64).build();
    bytes[40..].fill(0xCC);
    get_state(&mut bytes, StateSource::Vcpu(&vcpu)).expect("answered");
    assert_eq!(&bytes[8..16], &0x1122u64.to_be_bytes());
    assert!(bytes[40..].iter().all(|&byte| byte == 0xCC));
}

#[test]
fn deregistering_tables_and_vpa() {
    let mut guest = GuestState::default();
    let info = element_info(gsid::PARTITION_TABLE).expect("defined");
    set_state(&set_buffer(&[info]), StateTarget::Guest(&mut guest), &L1_MEMORY).expect("set");
    assert!(guest.partition_table.is_some());
    let clear = BufferBuilder::new()
        .value(gsid::PARTITION_TABLE, ElementValue::PartitionTable(Default::default()))
        .value(gsid::PROCESS_TABLE, ElementValue::ProcessTable(Default::default()))
        .build();
    set_state(&clear, StateTarget::Guest(&mut guest), &L1_MEMORY).expect("cleared");
    assert_eq!((guest.partition_table, guest.process_table), (None, None));

    let mut vcpu = VcpuState { vpa: Some(0x1000), ..Default::default() };
    let deregister = BufferBuilder::new().value(gsid::VPA, ElementValue::Doubleword(u64::MAX)).build();
    apply_run_input(&deregister, &mut vcpu, &L1_MEMORY).expect("accepted");
    assert_eq!(vcpu.vpa, None);
}

#[test]
fn empty_buffers_are_legal() {
    let empty = BufferBuilder::new().build();
    let mut vcpu = VcpuState::default();
    assert_eq!(apply_run_input(&empty, &mut vcpu, &L1_MEMORY), Ok(0));
    assert_eq!(set_state(&empty, StateTarget::Vcpu(&mut vcpu), &L1_MEMORY), Ok(0));
    let mut request = BufferBuilder::new().capacity(4096).build();
    assert_eq!(get_state(&mut request, StateSource::Guest(&GuestState::default())), Ok(0));
    assert_eq!(vcpu, VcpuState::default());
}
