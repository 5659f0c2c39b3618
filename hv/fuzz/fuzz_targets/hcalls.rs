//! Fuzz target: sequences of `H_GUEST_*` hypercalls with arbitrary (but often plausible)
//! arguments, guest state buffers written into L1 memory between calls, and L2 exits, through
//! the argument checks and the dispatcher of one L1. Nothing may panic; every status must be
//! one the API defines; the heap account must match the guests and vCPUs that exist and stay
//! within the limits; successful creations and deletions must be visible.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use oxiboot_hv::nested::args::NestedView;
use oxiboot_hv::nested::dispatch::{Dispatched, HcallOutcome};
use oxiboot_hv::nested::exit::ExitReason;
use oxiboot_hv::nested::gsid;
use oxiboot_hv::nested::hcall::*;
use oxiboot_hv::nested::registry::{Limits, PageTableUsage, Registry, GUEST_HEAP_BYTES, VCPU_HEAP_BYTES};
use oxiboot_hv::nested::state::{PartitionTableDescriptor, RunBufferDescriptor};
use oxiboot_hv::nested::wire::{BufferBuilder, ElementValue};

const MEMORY_SIZE: usize = 256 * 1024;
/// Addresses the generated arguments and buffers favour.
const ADDRESSES: [u64; 6] = [0x1000, 0x2000, 0x8000, 0x1_0000, 0x3_F000, MEMORY_SIZE as u64 - 8];
/// Where buffers are written: the scratch GSBs and the run input buffer.
const BUFFER_ADDRESSES: [u64; 3] = [0x1000, 0x2000, 0x1_0000];
const SIZES: [u64; 8] = [0, 3, 4, 64, 0x80, 4096, 16 * 1024, 1 << 20];

const KNOWN_STATUSES: [HcallStatus; 20] = [
    H_SUCCESS,
    H_FUNCTION,
    H_PARAMETER,
    H_NOT_ENOUGH_RESOURCES,
    H_P2,
    H_P3,
    H_P4,
    H_P5,
    H_STATE,
    H_IN_USE,
    H_INVALID_ELEMENT_ID,
    H_INVALID_ELEMENT_SIZE,
    H_INVALID_ELEMENT_VALUE,
    H_INPUT_BUFFER_NOT_DEFINED,
    H_INPUT_BUFFER_TOO_SMALL,
    H_OUTPUT_BUFFER_NOT_DEFINED,
    H_OUTPUT_BUFFER_TOO_SMALL,
    H_PARTITION_PAGE_TABLE_NOT_DEFINED,
    H_UNSUPPORTED_FLAG,
    H_HARDWARE,
];

/// A 64-bit argument: usually one of the values the checks care about.
fn argument(u: &mut Unstructured<'_>) -> Result<u64> {
    Ok(match u.int_in_range(0..=6)? {
        0 => u.int_in_range(0..=5)?,
        1 => 1 << u.int_in_range(0..=63)?,
        2 => *u.choose(&ADDRESSES)?,
        3 => *u.choose(&SIZES)?,
        4 => u64::MAX,
        5 => u.int_in_range(2040..=2050)?,
        _ => u.arbitrary()?,
    })
}

/// A GSID: usually a defined one, sometimes anything.
fn element_id(u: &mut Unstructured<'_>) -> Result<u16> {
    if u.ratio(1, 8)? {
        return u.arbitrary();
    }
    let ids: Vec<u16> = gsid::all_ids().collect();
    Ok(*u.choose(&ids)?)
}

/// A value a Linux L1 would send for `id`, for the elements whose checks are strict.
fn plausible_value(id: u16) -> Option<ElementValue> {
    let buffer = |address| ElementValue::RunBuffer(RunBufferDescriptor { address, size: 4096 });
    Some(match id {
        gsid::LOGICAL_PVR => ElementValue::Word(0x0F00_0005),
        gsid::TB_OFFSET => ElementValue::Doubleword(1 << 24),
        gsid::PARTITION_TABLE => ElementValue::PartitionTable(PartitionTableDescriptor {
            root_address: 0x2_0000,
            effective_address_bits: 52,
            root_size: 0x1_0000,
        }),
        gsid::RUN_INPUT_BUFFER => buffer(0x1_0000),
        gsid::RUN_OUTPUT_BUFFER => buffer(0x3_0000),
        _ => return None,
    })
}

/// A guest state buffer, mostly well formed, written somewhere in L1 memory.
fn write_buffer(u: &mut Unstructured<'_>, memory: &mut [u8]) -> Result<()> {
    let mut builder = BufferBuilder::new();
    for _ in 0..u.int_in_range(0..=12)? {
        let id = element_id(u)?;
        if let Some(value) = plausible_value(id).filter(|_| u.ratio(3, 4).unwrap_or(false)) {
            builder = builder.value(id, value);
            continue;
        }
        let size = gsid::element_info(id).and_then(|info| info.value_type.size());
        let length = match size {
            Some(size) if !u.ratio(1, 10)? => usize::from(size),
            _ => u.int_in_range(0..=32)?,
        };
        let mut value = vec![0u8; length];
        for (chunk_index, chunk) in value.chunks_mut(8).enumerate() {
            let word = if chunk_index % 2 == 0 && u.ratio(1, 2)? { argument(u)? } else { u.arbitrary()? };
            let bytes = word.to_be_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        builder = builder.raw(id, &value);
    }
    if u.ratio(1, 10)? {
        builder = builder.count(u.arbitrary()?);
    }
    let bytes = builder.build();
    let address = *u.choose(&BUFFER_ADDRESSES)? as usize;
    if let Some(target) = memory.get_mut(address..address + bytes.len()) {
        target.copy_from_slice(&bytes);
    }
    Ok(())
}

fn check_invariants(registry: &Registry) {
    let expected =
        GUEST_HEAP_BYTES * registry.guest_count() as u64 + VCPU_HEAP_BYTES * registry.vcpu_count() as u64;
    assert_eq!(registry.heap_in_use(), expected);
    let limits = registry.limits();
    assert!(registry.heap_in_use() <= limits.heap_budget_bytes);
    assert!(registry.guest_count() <= limits.max_guests as usize);
}

fn check_outcome(outcome: &HcallOutcome) {
    assert!(KNOWN_STATUSES.contains(&outcome.status), "status {}", outcome.status);
}

/// Writes `buffer` at 0x1000 and makes a SET_STATE with it.
fn set_state(
    registry: &mut Registry,
    memory: &mut Vec<u8>,
    flags: u64,
    guest: u64,
    vcpu: u64,
    buffer: BufferBuilder,
) {
    let bytes = buffer.build();
    memory[0x1000..0x1000 + bytes.len()].copy_from_slice(&bytes);
    let args = [flags, guest, vcpu, 0x1000, bytes.len() as u64, 0];
    if let Dispatched::Done(outcome) =
        registry.hcall(H_GUEST_SET_STATE, args, memory, PageTableUsage::default())
    {
        check_outcome(&outcome);
    }
}

/// What a Linux L1 does before its first RUN_VCPU, so that runs and exits are reached.
fn linux_setup(registry: &mut Registry, memory: &mut Vec<u8>, vcpu: u64) {
    let usage = PageTableUsage::default();
    let _ = registry.hcall(H_GUEST_SET_CAPABILITIES, [0, CAPABILITY_POWER9, 0, 0, 0, 0], memory, usage);
    let guest = match registry.hcall(H_GUEST_CREATE, [0, CREATE_FIRST_CALL_TOKEN, 0, 0, 0, 0], memory, usage)
    {
        Dispatched::Done(HcallOutcome { status: H_SUCCESS, r4: Some(guest), .. }) => guest,
        _ => return,
    };
    let _ = registry.hcall(H_GUEST_CREATE_VCPU, [0, guest, vcpu, 0, 0, 0], memory, usage);
    let table = plausible_value(gsid::PARTITION_TABLE).expect("defined");
    set_state(
        registry,
        memory,
        STATE_FLAG_GUEST_WIDE,
        guest,
        0,
        BufferBuilder::new().value(gsid::PARTITION_TABLE, table),
    );
    let buffers = BufferBuilder::new()
        .value(gsid::RUN_INPUT_BUFFER, plausible_value(gsid::RUN_INPUT_BUFFER).expect("defined"))
        .value(gsid::RUN_OUTPUT_BUFFER, plausible_value(gsid::RUN_OUTPUT_BUFFER).expect("defined"));
    set_state(registry, memory, 0, guest, vcpu, buffers);
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let limits = Limits {
        max_guests: u.int_in_range(1..=6)?,
        max_vcpus_per_guest: u.int_in_range(1..=8)?,
        heap_budget_bytes: u.int_in_range(0..=40)? * VCPU_HEAP_BYTES,
    };
    let mut registry = Registry::new(limits);
    let mut memory = vec![0u8; MEMORY_SIZE];
    let page_tables = PageTableUsage { in_use: 1, max: 2, reclaimed: 3 };
    if u.ratio(1, 2)? {
        linux_setup(&mut registry, &mut memory, u.int_in_range(0..=3)?);
    }
    for _ in 0..u.int_in_range(1..=64)? {
        if u.ratio(1, 3)? {
            write_buffer(u, &mut memory)?;
            continue;
        }
        let opcode = if u.ratio(1, 16)? { u.arbitrary()? } else { *u.choose(&ALL_OPCODES)? };
        let mut args = [0u64; 6];
        for arg in &mut args {
            *arg = argument(u)?;
        }
        if opcode == H_GUEST_CREATE && u.ratio(3, 4)? {
            args[1] = CREATE_FIRST_CALL_TOKEN;
        }
        match registry.hcall(opcode, args, &mut memory, page_tables) {
            Dispatched::Done(outcome) => {
                check_outcome(&outcome);
                if opcode == H_GUEST_CREATE && outcome.status == H_SUCCESS {
                    let id = outcome.r4.expect("guest id");
                    assert!((1..=4095).contains(&id) && registry.guest(id).is_some());
                }
                if opcode == H_GUEST_CREATE_VCPU && outcome.status == H_SUCCESS {
                    assert!(registry.vcpu(args[1], args[2]).is_some());
                }
            }
            Dispatched::RunVcpu { guest_id, vcpu_id } => {
                assert!(registry.guest(guest_id).is_some_and(|guest| guest.partition_table.is_some()));
                let vcpu = registry.vcpu_mut(guest_id, vcpu_id).expect("the vCPU that runs exists");
                vcpu.gpr[3] = u.arbitrary()?;
                vcpu.nia = u.arbitrary()?;
                let exit = ExitReason::from_vector(u.int_in_range(0..=0xF80)? & !0x1F);
                let outcome = registry.finish_run(guest_id, vcpu_id, exit, &mut memory);
                check_outcome(&outcome);
                assert_eq!(
                    outcome,
                    HcallOutcome::success(Some(exit.vector())),
                    "the output buffer was checked"
                );
            }
            Dispatched::Deleted { guest_ids, outcome } => {
                check_outcome(&outcome);
                assert!(guest_ids.iter().all(|&id| registry.guest(id).is_none()));
            }
        }
        check_invariants(&registry);
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
