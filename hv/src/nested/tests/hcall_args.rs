//! Argument checks of every `H_GUEST_*` hypercall.

use super::L1_MEMORY;
use crate::nested::args::{
    check_copy_memory, check_create, check_create_vcpu, check_delete, check_get_capabilities,
    check_get_state, check_run_vcpu, check_set_capabilities, check_set_state, CreateStep, DeleteTarget,
    NestedView, StateAddress,
};
use crate::nested::hcall::*;
use crate::nested::registry::{Limits, Registry};
use crate::nested::state::{GuestState, PartitionTableDescriptor, RunBufferDescriptor, VcpuState};

fn registry_with_guest() -> (Registry, u64) {
    let mut registry = Registry::new(Limits::default());
    registry.set_capabilities(CAPABILITY_POWER9).expect("first SET");
    let guest = registry.create_guest().expect("room");
    registry.create_vcpu(guest, 5).expect("room");
    (registry, guest)
}

const BUFFER: RunBufferDescriptor = RunBufferDescriptor { address: 0x1000, size: 4096 };

#[test]
fn opcodes() {
    assert_eq!(ALL_OPCODES, [0x460, 0x464, 0x470, 0x474, 0x478, 0x47C, 0x480, 0x484, 0x488]);
}

#[test]
fn get_capabilities_offers_power9_only() {
    assert_eq!(check_get_capabilities(0), Ok(0x4000_0000_0000_0000));
    assert_eq!(check_get_capabilities(1), Err(Rejection::new(H_PARAMETER)));
}

#[test]
fn set_capabilities_bitmap_semantics() {
    let fresh = Registry::new(Limits::default());
    assert_eq!(check_set_capabilities(0, CAPABILITY_POWER9, &fresh), Ok(CAPABILITY_POWER9));
    assert_eq!(check_set_capabilities(1 << 63, CAPABILITY_POWER9, &fresh), Err(Rejection::new(H_PARAMETER)));
    let invalid = |bit| Err(Rejection { status: H_P2, r4: Some(1), r5: Some(bit) });
    assert_eq!(check_set_capabilities(0, 0, &fresh), invalid(1), "empty: r5 names the first mode offered");
    assert_eq!(check_set_capabilities(0, CAPABILITY_COPY_MEMORY | CAPABILITY_POWER9, &fresh), invalid(0));
    assert_eq!(check_set_capabilities(0, CAPABILITY_POWER9 | CAPABILITY_POWER10, &fresh), invalid(2));
    assert_eq!(check_set_capabilities(0, CAPABILITY_POWER11, &fresh), invalid(3));
    assert_eq!(check_set_capabilities(0, CAPABILITY_BITMAP2 | CAPABILITY_POWER9, &fresh), invalid(63));
    let (set, _) = registry_with_guest();
    assert_eq!(
        check_set_capabilities(0, CAPABILITY_POWER9, &set),
        Err(Rejection::new(H_STATE)),
        "second SET"
    );
}

/// A view with a CREATE pending behind a continue token.
struct PendingCreate(Registry);

impl NestedView for PendingCreate {
    fn negotiated_capabilities(&self) -> Option<u64> {
        self.0.negotiated_capabilities()
    }
    fn guest(&self, guest_id: u64) -> Option<&GuestState> {
        self.0.guest(guest_id)
    }
    fn vcpu(&self, guest_id: u64, vcpu_id: u64) -> Option<&VcpuState> {
        self.0.vcpu(guest_id, vcpu_id)
    }
    fn can_create_guest(&self) -> bool {
        false
    }
    fn can_create_vcpu(&self, guest_id: u64) -> bool {
        self.0.can_create_vcpu(guest_id)
    }
    fn pending_create_token(&self) -> Option<u64> {
        Some(0x77)
    }
}

#[test]
fn create_and_the_continue_token() {
    let fresh = Registry::new(Limits::default());
    assert_eq!(check_create(0, u64::MAX, &fresh), Err(Rejection::new(H_STATE)), "before SET_CAPABILITIES");
    let (registry, _) = registry_with_guest();
    assert_eq!(check_create(0, u64::MAX, &registry), Ok(CreateStep::New));
    assert_eq!(check_create(1, u64::MAX, &registry), Err(Rejection::new(H_UNSUPPORTED_FLAG)));
    assert_eq!(check_create(0, 0, &registry), Err(Rejection::new(H_P2)), "no creation pending");
    let pending = PendingCreate(registry);
    assert_eq!(check_create(0, 0x77, &pending), Ok(CreateStep::Continue(0x77)));
    assert_eq!(check_create(0, 0x78, &pending), Err(Rejection::new(H_P2)));
    assert_eq!(check_create(0, u64::MAX, &pending), Err(Rejection::new(H_NOT_ENOUGH_RESOURCES)));
}

#[test]
fn create_vcpu_ids() {
    let (registry, guest) = registry_with_guest();
    assert_eq!(check_create_vcpu(0, guest, 0, &registry), Ok(()));
    assert_eq!(check_create_vcpu(0, guest, 2047, &registry), Ok(()), "ids need not be dense");
    assert_eq!(check_create_vcpu(0, guest, 2048, &registry), Err(Rejection::new(H_P3)));
    assert_eq!(check_create_vcpu(0, guest, u64::MAX, &registry), Err(Rejection::new(H_P3)));
    assert_eq!(check_create_vcpu(0, guest, 5, &registry), Err(Rejection::new(H_IN_USE)));
    assert_eq!(check_create_vcpu(0, guest + 1, 0, &registry), Err(Rejection::new(H_P2)));
    assert_eq!(check_create_vcpu(0, 0, 0, &registry), Err(Rejection::new(H_P2)));
    assert_eq!(check_create_vcpu(4, guest, 0, &registry), Err(Rejection::new(H_UNSUPPORTED_FLAG)));
}

#[test]
fn vcpu_limit_is_not_enough_resources() {
    let mut registry = Registry::new(Limits { max_vcpus_per_guest: 2, ..Limits::default() });
    registry.set_capabilities(CAPABILITY_POWER9).expect("first");
    let guest = registry.create_guest().expect("room");
    registry.create_vcpu(guest, 100).expect("room");
    registry.create_vcpu(guest, 7).expect("room");
    assert_eq!(check_create_vcpu(0, guest, 8, &registry), Err(Rejection::new(H_NOT_ENOUGH_RESOURCES)));
}

#[test]
fn state_call_flags_ids_and_buffer() {
    let (registry, guest) = registry_with_guest();
    let memory = L1_MEMORY;
    let get = |flags, guest_id, vcpu_id, buffer| {
        check_get_state(flags, guest_id, vcpu_id, buffer, &registry, &memory)
    };
    let set = |flags, guest_id, vcpu_id, buffer| {
        check_set_state(flags, guest_id, vcpu_id, buffer, &registry, &memory)
    };
    assert_eq!(
        get(0, guest, 5, BUFFER).map(|call| call.address),
        Ok(StateAddress::Vcpu { guest_id: guest, vcpu_id: 5 })
    );
    assert_eq!(
        get(STATE_FLAG_GUEST_WIDE, guest, 999, BUFFER).map(|call| call.address),
        Ok(StateAddress::Guest { guest_id: guest })
    );
    assert_eq!(
        get(GET_STATE_FLAG_HOST_WIDE, 0, 0, BUFFER).map(|call| call.address),
        Ok(StateAddress::HostWide)
    );
    assert_eq!(
        get(STATE_FLAG_GUEST_WIDE | GET_STATE_FLAG_HOST_WIDE, guest, 5, BUFFER),
        Err(Rejection::new(H_PARAMETER))
    );
    assert_eq!(get(1, guest, 5, BUFFER), Err(Rejection::new(H_PARAMETER)));
    assert_eq!(
        set(GET_STATE_FLAG_HOST_WIDE, guest, 5, BUFFER),
        Err(Rejection::new(H_PARAMETER)),
        "no host-wide SET"
    );
    assert_eq!(set(SET_STATE_FLAG_RETURN_OWNERSHIP, guest, 5, BUFFER), Err(Rejection::new(H_PARAMETER)));
    assert_eq!(set(0, guest + 1, 5, BUFFER), Err(Rejection::new(H_P2)));
    assert_eq!(set(STATE_FLAG_GUEST_WIDE, guest + 1, 5, BUFFER), Err(Rejection::new(H_P2)));
    assert_eq!(set(0, guest, 6, BUFFER), Err(Rejection::new(H_P3)));
    let outside = RunBufferDescriptor { address: L1_MEMORY.end - 16, size: 32 };
    assert_eq!(set(0, guest, 5, outside), Err(Rejection::new(H_P4)));
    assert_eq!(set(0, guest, 5, RunBufferDescriptor { address: 0, size: 3 }), Err(Rejection::new(H_P5)));
    assert_eq!(
        set(0, guest, 5, RunBufferDescriptor { address: 0, size: (1 << 20) + 1 }),
        Err(Rejection::new(H_P5))
    );
    assert!(set(0, guest, 5, RunBufferDescriptor { address: 0, size: 1 << 20 }).is_ok());
}

#[test]
fn run_vcpu_preconditions() {
    let (mut registry, guest) = registry_with_guest();
    assert_eq!(
        check_run_vcpu(RUN_FLAG_EXTERNAL_INTERRUPT, guest, 5, &registry),
        Err(Rejection::new(H_PARAMETER))
    );
    assert_eq!(check_run_vcpu(0, guest + 1, 5, &registry), Err(Rejection::new(H_P2)));
    assert_eq!(check_run_vcpu(0, guest, 4, &registry), Err(Rejection::new(H_P3)));
    assert_eq!(check_run_vcpu(0, guest, 5, &registry), Err(Rejection::new(H_INPUT_BUFFER_NOT_DEFINED)));
    let vcpu = registry.vcpu_mut(guest, 5).expect("created");
    vcpu.run_input = Some(BUFFER);
    assert_eq!(check_run_vcpu(0, guest, 5, &registry), Err(Rejection::new(H_OUTPUT_BUFFER_NOT_DEFINED)));
    registry.vcpu_mut(guest, 5).expect("created").run_output =
        Some(RunBufferDescriptor { address: 0x2000, size: 4096 });
    assert_eq!(
        check_run_vcpu(0, guest, 5, &registry),
        Err(Rejection::new(H_PARTITION_PAGE_TABLE_NOT_DEFINED))
    );
    registry.guest_mut(guest).expect("created").state.partition_table = Some(PartitionTableDescriptor {
        root_address: 0x10000,
        effective_address_bits: 52,
        root_size: 0x10000,
    });
    let buffers = check_run_vcpu(0, guest, 5, &registry).expect("runnable");
    assert_eq!((buffers.input, buffers.output.address), (BUFFER, 0x2000));
}

#[test]
fn delete_one_or_all() {
    let (registry, guest) = registry_with_guest();
    assert_eq!(check_delete(0, guest, &registry), Ok(DeleteTarget::Guest(guest)));
    assert_eq!(check_delete(0, guest + 1, &registry), Err(Rejection::new(H_P2)));
    assert_eq!(check_delete(DELETE_FLAG_ALL_GUESTS, 12345, &registry), Ok(DeleteTarget::AllGuests));
    assert_eq!(
        check_delete(DELETE_FLAG_ALL_GUESTS | 1, guest, &registry),
        Err(Rejection::new(H_UNSUPPORTED_FLAG))
    );
    assert_eq!(check_delete(1 << 62, guest, &registry), Err(Rejection::new(H_UNSUPPORTED_FLAG)));
    assert_eq!(check_copy_memory(), Err(Rejection::new(H_FUNCTION)));
}
