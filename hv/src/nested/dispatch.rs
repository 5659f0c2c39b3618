//! The `H_GUEST_*` hypercalls of one L1 end to end, minus the processor: argument checks,
//! guest state buffers copied from and to L1 memory, the registry updated. RUN_VCPU stops at
//! the point where the hypervisor must switch to the L2 ([`Dispatched::RunVcpu`]) and resumes
//! in [`Registry::finish_run`] once the L2 exited and its state was saved.
//!
//! L1 memory is reached through [`L1Memory`] (the hypervisor implements it over the LPAR's
//! carve; tests and the fuzz target over a byte vector).

use super::access::{apply_run_input, get_state, set_state, StateSource, StateTarget};
use super::args::{
    check_copy_memory, check_create, check_create_vcpu, check_delete, check_get_capabilities,
    check_get_state, check_run_vcpu, check_set_capabilities, check_set_state, CreateStep, DeleteTarget,
    StateAddress, StateCall,
};
use super::exit::{write_output, ExitReason};
use super::hcall::{
    HcallStatus, Rejection, H_FUNCTION, H_GUEST_COPY_MEMORY, H_GUEST_CREATE, H_GUEST_CREATE_VCPU,
    H_GUEST_DELETE, H_GUEST_GET_CAPABILITIES, H_GUEST_GET_STATE, H_GUEST_RUN_VCPU, H_GUEST_SET_CAPABILITIES,
    H_GUEST_SET_STATE, H_INPUT_BUFFER_TOO_SMALL, H_NOT_ENOUGH_RESOURCES, H_OUTPUT_BUFFER_NOT_DEFINED,
    H_OUTPUT_BUFFER_TOO_SMALL, H_P2, H_P3, H_P4, H_PARAMETER, H_SUCCESS,
};
use super::registry::{PageTableUsage, Registry};
use super::state::RunBufferDescriptor;
use super::values::L1RealMemory;

/// The real memory of the calling L1, readable and writable by the hypervisor.
pub trait L1Memory: L1RealMemory {
    /// Copies `out.len()` bytes from L1 real `address`; `false` if outside L1 memory.
    fn read(&self, address: u64, out: &mut [u8]) -> bool;
    /// Copies `data` to L1 real `address`; `false` if outside L1 memory.
    fn write(&mut self, address: u64, data: &[u8]) -> bool;
}

/// Registers r3–r5 to return to the L1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HcallOutcome {
    /// r3: the status.
    pub status: HcallStatus,
    /// r4 (unchanged by the caller if `None`).
    pub r4: Option<u64>,
    /// r5 (unchanged by the caller if `None`).
    pub r5: Option<u64>,
}

impl HcallOutcome {
    /// Success with an r4 value.
    pub fn success(r4: Option<u64>) -> Self {
        Self { status: H_SUCCESS, r4, r5: None }
    }
}

impl From<Rejection> for HcallOutcome {
    fn from(rejection: Rejection) -> Self {
        Self { status: rejection.status, r4: rejection.r4, r5: rejection.r5 }
    }
}

/// What the hypervisor does after [`Registry::hcall`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dispatched {
    /// Return these registers to the L1.
    Done(HcallOutcome),
    /// The input buffer was applied: save the L1 thread, run this L2 vCPU, and at its exit
    /// save its state and call [`Registry::finish_run`].
    RunVcpu {
        /// Guest id.
        guest_id: u64,
        /// vCPU id.
        vcpu_id: u64,
    },
    /// These guests were deleted: free their shadow page tables and shadow LPIDs, then
    /// return the outcome.
    Deleted {
        /// Guest ids removed (one, or all for the delete-all flag).
        guest_ids: alloc::vec::Vec<u64>,
        /// Registers for the L1.
        outcome: HcallOutcome,
    },
}

/// Whether `opcode` is one of the nested API v2 hypercalls (an LPAR without nested
/// virtualization gets `H_FUNCTION` for all of them).
pub fn is_nested_hcall(opcode: u64) -> bool {
    super::hcall::ALL_OPCODES.contains(&opcode)
}

impl Registry {
    /// Handles one `H_GUEST_*` hypercall; `args` are r4–r9. `page_tables` feeds the host-wide
    /// statistics.
    pub fn hcall(
        &mut self,
        opcode: u64,
        args: [u64; 6],
        memory: &mut dyn L1Memory,
        page_tables: PageTableUsage,
    ) -> Dispatched {
        let [flags, arg2, arg3, arg4, arg5, _] = args;
        let done =
            |result: Result<HcallOutcome, Rejection>| Dispatched::Done(result.unwrap_or_else(Into::into));
        match opcode {
            H_GUEST_GET_CAPABILITIES => {
                done(check_get_capabilities(flags).map(|bitmap| HcallOutcome::success(Some(bitmap))))
            }
            H_GUEST_SET_CAPABILITIES => done(
                check_set_capabilities(flags, arg2, self)
                    .and_then(|bitmap| self.set_capabilities(bitmap))
                    .map(|()| HcallOutcome::success(None)),
            ),
            H_GUEST_CREATE => done(self.create(flags, arg2)),
            H_GUEST_CREATE_VCPU => done(
                check_create_vcpu(flags, arg2, arg3, self)
                    .and_then(|()| self.create_vcpu(arg2, arg3))
                    .map(|()| HcallOutcome::success(None)),
            ),
            H_GUEST_GET_STATE => {
                let buffer = RunBufferDescriptor { address: arg4, size: arg5 };
                done(
                    check_get_state(flags, arg2, arg3, buffer, self, &*memory)
                        .and_then(|call| self.get_state_call(call, memory, page_tables)),
                )
            }
            H_GUEST_SET_STATE => {
                let buffer = RunBufferDescriptor { address: arg4, size: arg5 };
                done(
                    check_set_state(flags, arg2, arg3, buffer, self, &*memory)
                        .and_then(|call| self.set_state_call(call, memory)),
                )
            }
            H_GUEST_RUN_VCPU => match self.start_run(flags, arg2, arg3, memory) {
                Ok(()) => Dispatched::RunVcpu { guest_id: arg2, vcpu_id: arg3 },
                Err(rejection) => Dispatched::Done(rejection.into()),
            },
            H_GUEST_DELETE => match check_delete(flags, arg2, self) {
                Ok(DeleteTarget::AllGuests) => {
                    Dispatched::Deleted { guest_ids: self.delete_all(), outcome: HcallOutcome::success(None) }
                }
                Ok(DeleteTarget::Guest(id)) => {
                    let guest_ids = self.delete_guest(id).map(|_| alloc::vec![id]).unwrap_or_default();
                    Dispatched::Deleted { guest_ids, outcome: HcallOutcome::success(None) }
                }
                Err(rejection) => Dispatched::Done(rejection.into()),
            },
            H_GUEST_COPY_MEMORY => done(check_copy_memory().map(|()| HcallOutcome::success(None))),
            _ => Dispatched::Done(Rejection::new(H_FUNCTION).into()),
        }
    }

    fn create(&mut self, flags: u64, continue_token: u64) -> Result<HcallOutcome, Rejection> {
        match check_create(flags, continue_token, self)? {
            // Creation never answers busy here, so no token is ever pending.
            CreateStep::New | CreateStep::Continue(_) => {
                self.create_guest().map(|guest_id| HcallOutcome::success(Some(guest_id)))
            }
        }
    }

    fn get_state_call(
        &self,
        call: StateCall,
        memory: &mut dyn L1Memory,
        page_tables: PageTableUsage,
    ) -> Result<HcallOutcome, Rejection> {
        let mut buffer = read_buffer(&*memory, call.buffer, H_P4)?;
        let statistics = self.host_wide_statistics(page_tables);
        let source = match call.address {
            StateAddress::HostWide => StateSource::HostWide(&statistics),
            StateAddress::Guest { guest_id } => {
                StateSource::Guest(&self.l2_guest(guest_id).ok_or(Rejection::new(H_P2))?.state)
            }
            StateAddress::Vcpu { guest_id, vcpu_id } => StateSource::Vcpu(
                super::args::NestedView::vcpu(self, guest_id, vcpu_id).ok_or(Rejection::new(H_P3))?,
            ),
        };
        get_state(&mut buffer, source)?;
        if !memory.write(call.buffer.address, &buffer) {
            return Err(Rejection::new(H_P4));
        }
        Ok(HcallOutcome::success(None))
    }

    fn set_state_call(&mut self, call: StateCall, memory: &dyn L1Memory) -> Result<HcallOutcome, Rejection> {
        let buffer = read_buffer(memory, call.buffer, H_P4)?;
        let target = match call.address {
            // check_set_state never accepts host-wide flags.
            StateAddress::HostWide => return Err(Rejection::new(H_PARAMETER)),
            StateAddress::Guest { guest_id } => {
                StateTarget::Guest(&mut self.guest_mut(guest_id).ok_or(Rejection::new(H_P2))?.state)
            }
            StateAddress::Vcpu { guest_id, vcpu_id } => {
                StateTarget::Vcpu(self.vcpu_mut(guest_id, vcpu_id).ok_or(Rejection::new(H_P3))?)
            }
        };
        set_state(&buffer, target, memory)?;
        Ok(HcallOutcome::success(None))
    }

    fn start_run(
        &mut self,
        flags: u64,
        guest_id: u64,
        vcpu_id: u64,
        memory: &dyn L1Memory,
    ) -> Result<(), Rejection> {
        let buffers = check_run_vcpu(flags, guest_id, vcpu_id, self)?;
        let input = read_buffer(memory, buffers.input, H_INPUT_BUFFER_TOO_SMALL)?;
        let vcpu = self.vcpu_mut(guest_id, vcpu_id).ok_or(Rejection::new(H_P3))?;
        apply_run_input(&input, vcpu, memory)?;
        Ok(())
    }

    /// Completes a RUN_VCPU after the L2 exited: writes the output buffer for `exit` from the
    /// vCPU state (which the caller updated with everything the L2 changed) and returns
    /// H_SUCCESS with r4 = the exit vector.
    pub fn finish_run(
        &mut self,
        guest_id: u64,
        vcpu_id: u64,
        exit: ExitReason,
        memory: &mut dyn L1Memory,
    ) -> HcallOutcome {
        let result = (|| {
            let vcpu = super::args::NestedView::vcpu(self, guest_id, vcpu_id).ok_or(Rejection::new(H_P3))?;
            let descriptor = vcpu.run_output.ok_or(Rejection::new(H_OUTPUT_BUFFER_NOT_DEFINED))?;
            let size =
                usize::try_from(descriptor.size).map_err(|_| Rejection::new(H_OUTPUT_BUFFER_TOO_SMALL))?;
            let mut buffer = zeroed_buffer(size)?;
            let used = write_output(&mut buffer, exit, vcpu)?;
            let written = buffer.get(..used).ok_or(Rejection::new(H_OUTPUT_BUFFER_TOO_SMALL))?;
            if !memory.write(descriptor.address, written) {
                return Err(Rejection::new(H_OUTPUT_BUFFER_TOO_SMALL));
            }
            Ok(HcallOutcome::success(Some(exit.vector())))
        })();
        result.unwrap_or_else(Into::into)
    }
}

/// A zeroed copy buffer of `size` bytes; `H_NOT_ENOUGH_RESOURCES` when the heap cannot give it
/// (the checks bound `size`, but the heap is shared with every LPAR).
fn zeroed_buffer(size: usize) -> Result<alloc::vec::Vec<u8>, Rejection> {
    let mut buffer = alloc::vec::Vec::new();
    buffer.try_reserve_exact(size).map_err(|_| Rejection::new(H_NOT_ENOUGH_RESOURCES))?;
    buffer.resize(size, 0);
    Ok(buffer)
}

/// Copies a buffer the checks accepted out of L1 memory.
fn read_buffer(
    memory: &dyn L1Memory,
    descriptor: RunBufferDescriptor,
    failure: HcallStatus,
) -> Result<alloc::vec::Vec<u8>, Rejection> {
    let size = usize::try_from(descriptor.size).map_err(|_| Rejection::new(failure))?;
    let mut buffer = zeroed_buffer(size)?;
    if !memory.read(descriptor.address, &mut buffer) {
        return Err(Rejection::new(failure));
    }
    Ok(buffer)
}

/// L1 memory as a byte vector starting at real address 0 (tests, fuzzing, tools).
impl L1RealMemory for alloc::vec::Vec<u8> {
    fn contains(&self, address: u64, length: u64) -> bool {
        L1RealMemory::contains(&(0..self.len() as u64), address, length)
    }
}

impl L1Memory for alloc::vec::Vec<u8> {
    fn read(&self, address: u64, out: &mut [u8]) -> bool {
        let Some(source) =
            usize::try_from(address).ok().and_then(|start| self.get(start..start.checked_add(out.len())?))
        else {
            return false;
        };
        out.copy_from_slice(source);
        true
    }

    fn write(&mut self, address: u64, data: &[u8]) -> bool {
        let Some(target) = usize::try_from(address)
            .ok()
            .and_then(|start| self.get_mut(start..start.checked_add(data.len())?))
        else {
            return false;
        };
        target.copy_from_slice(data);
        true
    }
}
