//! The hypercalls end to end, in the order a Linux 6.x L1 makes them, over L1 memory held in
//! a byte vector; limits, heap accounting and cleanup.

use alloc::vec::Vec;

use crate::nested::dispatch::{is_nested_hcall, Dispatched, HcallOutcome, L1Memory};
use crate::nested::exit::ExitReason;
use crate::nested::gsid;
use crate::nested::hcall::*;
use crate::nested::registry::{Limits, PageTableUsage, Registry, GUEST_HEAP_BYTES, VCPU_HEAP_BYTES};
use crate::nested::state::{PartitionTableDescriptor, ProcessTableDescriptor, RunBufferDescriptor};
use crate::nested::wire::{BufferBuilder, ElementValue, StateBuffer};

const SCRATCH: u64 = 0x1000;
const RUN_INPUT: u64 = 0x1_0000;
const RUN_OUTPUT: u64 = 0x1_1000;
const PAGE_TABLES: PageTableUsage = PageTableUsage { in_use: 0x3000, max: 0x10_0000, reclaimed: 0x1000 };

struct L1 {
    registry: Registry,
    memory: Vec<u8>,
}

impl L1 {
    fn new(limits: Limits) -> Self {
        Self { registry: Registry::new(limits), memory: alloc::vec![0; 1 << 20] }
    }

    fn call(&mut self, opcode: u64, args: &[u64]) -> Dispatched {
        let mut registers = [0u64; 6];
        registers[..args.len()].copy_from_slice(args);
        self.registry.hcall(opcode, registers, &mut self.memory, PAGE_TABLES)
    }

    fn done(&mut self, opcode: u64, args: &[u64]) -> HcallOutcome {
        match self.call(opcode, args) {
            Dispatched::Done(outcome) => outcome,
            other => panic!("{opcode:#x}: {other:?}"),
        }
    }

    /// Puts `buffer` at SCRATCH and makes a GET/SET_STATE with it; returns the outcome and
    /// the buffer as the L0 left it.
    fn state_call(
        &mut self,
        opcode: u64,
        flags: u64,
        guest: u64,
        vcpu: u64,
        buffer: &[u8],
    ) -> (HcallOutcome, Vec<u8>) {
        assert!(self.memory.write(SCRATCH, buffer));
        let outcome = self.done(opcode, &[flags, guest, vcpu, SCRATCH, buffer.len() as u64]);
        let mut after = alloc::vec![0; buffer.len()];
        assert!(self.memory.read(SCRATCH, &mut after));
        (outcome, after)
    }
}

fn success(r4: Option<u64>) -> HcallOutcome {
    HcallOutcome::success(r4)
}

fn decode_all(bytes: &[u8]) -> Vec<(u16, ElementValue)> {
    let buffer = StateBuffer::new(bytes).expect("header");
    buffer
        .elements()
        .map(|element| {
            let element = element.expect("inside");
            let info = gsid::element_info(element.id).expect("known");
            (
                element.id,
                ElementValue::decode(info.value_type, element.value.expect("inside")).expect("decodes"),
            )
        })
        .collect()
}

#[test]
fn linux_l1_call_order() {
    let mut l1 = L1::new(Limits::default());
    // Module load: negotiate POWER9.
    assert_eq!(l1.done(H_GUEST_GET_CAPABILITIES, &[0]), success(Some(CAPABILITY_POWER9)));
    assert_eq!(l1.done(H_GUEST_SET_CAPABILITIES, &[0, CAPABILITY_POWER9]), success(None));
    // VM creation, then its partition and process tables.
    assert_eq!(l1.done(H_GUEST_CREATE, &[0, u64::MAX]), success(Some(1)));
    let tables = BufferBuilder::new()
        .value(
            gsid::PARTITION_TABLE,
            ElementValue::PartitionTable(PartitionTableDescriptor {
                root_address: 0x2_0000,
                effective_address_bits: 52,
                root_size: 0x1_0000,
            }),
        )
        .value(
            gsid::PROCESS_TABLE,
            ElementValue::ProcessTable(ProcessTableDescriptor { base_address: 0, size: 4096 }),
        )
        .capacity(128)
        .build();
    assert_eq!(l1.state_call(H_GUEST_SET_STATE, STATE_FLAG_GUEST_WIDE, 1, 0, &tables).0, success(None));
    // vCPU creation: minimum output size, then output and input buffers, then the VPA.
    assert_eq!(l1.done(H_GUEST_CREATE_VCPU, &[0, 1, 0]), success(None));
    let ask = BufferBuilder::new().request(gsid::RUN_OUTPUT_MIN_SIZE, 8).capacity(64).build();
    let (outcome, answer) = l1.state_call(H_GUEST_GET_STATE, STATE_FLAG_GUEST_WIDE, 1, 0, &ask);
    assert_eq!(outcome, success(None));
    assert_eq!(decode_all(&answer), [(gsid::RUN_OUTPUT_MIN_SIZE, ElementValue::Doubleword(4096))]);
    for (id, address) in [(gsid::RUN_OUTPUT_BUFFER, RUN_OUTPUT), (gsid::RUN_INPUT_BUFFER, RUN_INPUT)] {
        let set = BufferBuilder::new()
            .value(id, ElementValue::RunBuffer(RunBufferDescriptor { address, size: 4096 }))
            .build();
        assert_eq!(l1.state_call(H_GUEST_SET_STATE, 0, 1, 0, &set).0, success(None));
    }
    let vpa = BufferBuilder::new().value(gsid::VPA, ElementValue::Doubleword(0x4_0000)).build();
    assert_eq!(l1.state_call(H_GUEST_SET_STATE, 0, 1, 0, &vpa).0, success(None));

    // A run: guest-wide elements first, then the input buffer with the thread elements.
    let guest_wide = BufferBuilder::new()
        .value(gsid::LOGICAL_PVR, ElementValue::Word(0x0F00_0005))
        .value(gsid::TB_OFFSET, ElementValue::Doubleword(0x1_0000_0000))
        .build();
    assert_eq!(l1.state_call(H_GUEST_SET_STATE, STATE_FLAG_GUEST_WIDE, 1, 0, &guest_wide).0, success(None));
    let input = BufferBuilder::new()
        .value(gsid::NIA, ElementValue::Doubleword(0x100))
        .value(gsid::MSR, ElementValue::Doubleword(0x8000_0000_0000_1033))
        .value(gsid::HDEC_EXPIRY_TB, ElementValue::Doubleword(0x9999))
        .value(gsid::LPCR, ElementValue::Doubleword(0x0040_0000_03F2_1C03))
        .capacity(4096)
        .build();
    assert!(l1.memory.write(RUN_INPUT, &input));
    assert_eq!(l1.call(H_GUEST_RUN_VCPU, &[0, 1, 0]), Dispatched::RunVcpu { guest_id: 1, vcpu_id: 0 });
    let vcpu = l1.registry.vcpu_mut(1, 0).expect("created");
    assert_eq!((vcpu.nia, vcpu.hdec_expiry_tb, vcpu.vpa), (0x100, 0x9999, Some(0x4_0000)));
    // The L2 makes an hcall; the hypervisor saves its state and finishes the run.
    vcpu.gpr[3] = 0xF000;
    vcpu.gpr[4] = 0xABCD;
    vcpu.nia = 0x104;
    assert_eq!(l1.registry.finish_run(1, 0, ExitReason::Hypercall, &mut l1.memory), success(Some(0xC00)));
    let mut output = alloc::vec![0; 4096];
    assert!(l1.memory.read(RUN_OUTPUT, &mut output));
    let output = decode_all(&output);
    assert_eq!(output.len(), 14);
    assert_eq!(output[0], (gsid::NIA, ElementValue::Doubleword(0x104)));
    assert!(output.contains(&(gsid::gpr(3), ElementValue::Doubleword(0xF000))));
    assert!(output.contains(&(gsid::gpr(4), ElementValue::Doubleword(0xABCD))));

    // Host-wide statistics are true numbers.
    let ask = BufferBuilder::new()
        .request(gsid::L0_GUEST_HEAP_IN_USE, 8)
        .request(gsid::L0_GUEST_HEAP_MAX, 8)
        .request(gsid::L0_GUEST_PAGE_TABLE_IN_USE, 8)
        .build();
    let (outcome, answer) = l1.state_call(H_GUEST_GET_STATE, GET_STATE_FLAG_HOST_WIDE, 0, 0, &ask);
    assert_eq!(outcome, success(None));
    let values: Vec<_> = decode_all(&answer).into_iter().map(|(_, value)| value).collect();
    assert_eq!(values, [GUEST_HEAP_BYTES + VCPU_HEAP_BYTES, 64 << 20, 0x3000].map(ElementValue::Doubleword));

    // VM destruction.
    assert_eq!(
        l1.call(H_GUEST_DELETE, &[0, 1]),
        Dispatched::Deleted { guest_ids: alloc::vec![1], outcome: success(None) }
    );
    assert_eq!(l1.registry.heap_in_use(), 0);
    assert_eq!(l1.done(H_GUEST_RUN_VCPU, &[0, 1, 0]), Rejection::new(H_P2).into());
}

#[test]
fn element_errors_reach_the_l1_with_their_position() {
    let mut l1 = L1::new(Limits::default());
    l1.done(H_GUEST_SET_CAPABILITIES, &[0, CAPABILITY_POWER9]);
    l1.done(H_GUEST_CREATE, &[0, u64::MAX]);
    l1.done(H_GUEST_CREATE_VCPU, &[0, 1, 3]);
    let bad =
        BufferBuilder::new().value(gsid::NIA, ElementValue::Doubleword(0)).raw(gsid::HDAR, &[0; 8]).build();
    assert_eq!(
        l1.state_call(H_GUEST_SET_STATE, 0, 1, 3, &bad).0,
        Rejection::with_r4(H_INVALID_ELEMENT_ID, 1).into()
    );
    // The same buffer as RUN_VCPU input: byte offset 16.
    for (id, address) in [(gsid::RUN_OUTPUT_BUFFER, RUN_OUTPUT), (gsid::RUN_INPUT_BUFFER, RUN_INPUT)] {
        let set = BufferBuilder::new()
            .value(id, ElementValue::RunBuffer(RunBufferDescriptor { address, size: 4096 }))
            .build();
        l1.state_call(H_GUEST_SET_STATE, 0, 1, 3, &set);
    }
    let table =
        PartitionTableDescriptor { root_address: 0x2_0000, effective_address_bits: 52, root_size: 0x1_0000 };
    let set = BufferBuilder::new().value(gsid::PARTITION_TABLE, ElementValue::PartitionTable(table)).build();
    l1.state_call(H_GUEST_SET_STATE, STATE_FLAG_GUEST_WIDE, 1, 0, &set);
    assert!(l1.memory.write(RUN_INPUT, &bad));
    assert_eq!(l1.done(H_GUEST_RUN_VCPU, &[0, 1, 3]), Rejection::with_r4(H_INVALID_ELEMENT_ID, 16).into());
}

#[test]
fn create_delete_cycles_return_to_baseline() {
    let mut l1 = L1::new(Limits::default());
    l1.done(H_GUEST_SET_CAPABILITIES, &[0, CAPABILITY_POWER9]);
    let baseline = l1.registry.host_wide_statistics(PageTableUsage::default());
    for cycle in 0..1000u64 {
        let guest = l1.done(H_GUEST_CREATE, &[0, u64::MAX]).r4.expect("guest id");
        assert_eq!(guest, 1, "the lowest free id is reused");
        for vcpu in [0, cycle % 2048, 2047] {
            let outcome = l1.done(H_GUEST_CREATE_VCPU, &[0, guest, vcpu]);
            assert!(outcome == success(None) || outcome.status == H_IN_USE);
        }
        assert!(matches!(l1.call(H_GUEST_DELETE, &[0, guest]), Dispatched::Deleted { .. }));
    }
    assert_eq!(l1.registry.host_wide_statistics(PageTableUsage::default()), baseline);
    assert_eq!((l1.registry.guest_count(), l1.registry.vcpu_count(), l1.registry.heap_in_use()), (0, 0, 0));
}

#[test]
fn limits_give_not_enough_resources() {
    let budget = 2 * GUEST_HEAP_BYTES + 3 * VCPU_HEAP_BYTES;
    let mut l1 = L1::new(Limits { max_guests: 3, max_vcpus_per_guest: 2048, heap_budget_bytes: budget });
    l1.done(H_GUEST_SET_CAPABILITIES, &[0, CAPABILITY_POWER9]);
    assert_eq!(l1.done(H_GUEST_CREATE, &[0, u64::MAX]), success(Some(1)));
    assert_eq!(l1.done(H_GUEST_CREATE, &[0, u64::MAX]), success(Some(2)));
    for vcpu in 0..3 {
        assert_eq!(l1.done(H_GUEST_CREATE_VCPU, &[0, 1, vcpu]), success(None));
    }
    assert_eq!(l1.done(H_GUEST_CREATE_VCPU, &[0, 2, 0]), Rejection::new(H_NOT_ENOUGH_RESOURCES).into());
    assert_eq!(l1.done(H_GUEST_CREATE, &[0, u64::MAX]), Rejection::new(H_NOT_ENOUGH_RESOURCES).into());
    assert_eq!(l1.registry.heap_in_use(), budget);
    let mut few = L1::new(Limits { max_guests: 1, ..Limits::default() });
    few.done(H_GUEST_SET_CAPABILITIES, &[0, CAPABILITY_POWER9]);
    few.done(H_GUEST_CREATE, &[0, u64::MAX]);
    assert_eq!(few.done(H_GUEST_CREATE, &[0, u64::MAX]), Rejection::new(H_NOT_ENOUGH_RESOURCES).into());
}

#[test]
fn delete_all_resets_the_l1() {
    let mut l1 = L1::new(Limits::default());
    l1.done(H_GUEST_SET_CAPABILITIES, &[0, CAPABILITY_POWER9]);
    for _ in 0..3 {
        l1.done(H_GUEST_CREATE, &[0, u64::MAX]);
    }
    assert_eq!(l1.done(H_GUEST_SET_CAPABILITIES, &[0, CAPABILITY_POWER9]), Rejection::new(H_STATE).into());
    match l1.call(H_GUEST_DELETE, &[DELETE_FLAG_ALL_GUESTS, 0]) {
        Dispatched::Deleted { guest_ids, outcome } => {
            assert_eq!((guest_ids, outcome), (alloc::vec![1, 2, 3], success(None)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(l1.registry.heap_in_use(), 0);
    // The kexec'd kernel negotiates again.
    assert_eq!(l1.done(H_GUEST_SET_CAPABILITIES, &[0, CAPABILITY_POWER9]), success(None));
}

#[test]
fn other_opcodes() {
    let mut l1 = L1::new(Limits::default());
    assert_eq!(l1.done(H_GUEST_COPY_MEMORY, &[]), Rejection::new(H_FUNCTION).into());
    assert_eq!(l1.done(0x4FC, &[]), Rejection::new(H_FUNCTION).into());
    assert!(ALL_OPCODES.iter().all(|&opcode| is_nested_hcall(opcode)));
    assert!(!is_nested_hcall(0xF804));
}

#[test]
fn finish_run_without_an_output_buffer() {
    let mut l1 = L1::new(Limits::default());
    l1.done(H_GUEST_SET_CAPABILITIES, &[0, CAPABILITY_POWER9]);
    l1.done(H_GUEST_CREATE, &[0, u64::MAX]);
    l1.done(H_GUEST_CREATE_VCPU, &[0, 1, 0]);
    let outcome = l1.registry.finish_run(1, 0, ExitReason::Unspecified, &mut l1.memory);
    assert_eq!(outcome, Rejection::new(H_OUTPUT_BUFFER_NOT_DEFINED).into());
    assert_eq!(
        l1.registry.finish_run(1, 9, ExitReason::Unspecified, &mut l1.memory),
        Rejection::new(H_P3).into()
    );
}
