//! Hardware threads: their per-CPU slots, the idle loop the non-boot threads run, and how
//! the boot thread hands them work.
//!
//! Every thread takes a ticket in the entry code; the ticket is its slot (see
//! [`oxiboot::memmap`]). Non-boot threads enter [`secondary_main`], initialise their slot,
//! report in as idle and wait in `stop`, woken by a hypervisor doorbell when work is posted
//! in their mailbox.

use super::console;
use alloc::vec::Vec;
use core::ptr;
use oxiboot::memmap;
use oxiboot::percpu::{CpuState, JobFn, PerCpu};
use oxiboot_platform::clock::{wait_until, TimedOut};
use oxiboot_platform::cpu;

/// Offsets in the low copy of the image (see entry.S).
const HEAD_TICKET: usize = 0x0;
const HEAD_RELEASE: usize = 0x4;

/// The per-CPU data of slot `ticket`.
pub fn slot(ticket: u64) -> Option<&'static PerCpu> {
    let base = memmap::slot_base(ticket)?;
    // SAFETY: slots are reserved memory; slots 1.. are initialised by `prepare_slots` before
    // any thread can use them, slot 0 by the boot thread itself.
    Some(unsafe { &*(base as *const PerCpu) })
}

/// This thread's per-CPU data (r13 holds its address from the entry code on).
pub fn this_cpu() -> &'static PerCpu {
    let p: *const PerCpu;
    // SAFETY: reading r13, which the entry code set to this thread's slot and no compiled
    // code uses for anything else.
    unsafe { core::arch::asm!("mr {0}, 13", out(reg) p, options(nomem, nostack)) };
    // SAFETY: the slot was initialised when this thread entered Rust.
    unsafe { &*p }
}

/// Initialises this thread's slot.
///
/// # Safety
/// `percpu` must be this thread's slot, not yet in use by anyone.
pub unsafe fn init_this(percpu: *mut PerCpu, ticket: u64) -> &'static PerCpu {
    // SAFETY: per the caller, the slot is ours.
    unsafe {
        percpu.write(PerCpu::new(cpu::pir(), ticket as u32));
        &*percpu
    }
}

/// Marks every other slot unused, before the other threads are released into Rust (RAM
/// keeps what a previous boot left there).
pub fn prepare_slots() {
    for t in 1..memmap::MAX_THREADS {
        if let Some(base) = memmap::slot_base(t) {
            // SAFETY: the slot is reserved and no thread uses it yet (all are held at the
            // release flag in the entry code).
            unsafe { ptr::write(base as *mut PerCpu, PerCpu::new(u32::MAX, t as u32)) };
        }
    }
}

/// Lets the other threads enter Rust.
pub fn release_secondaries(low_base: usize) {
    cpu::sync();
    // SAFETY: the low copy of the image is where the entry code's release flag is.
    unsafe { ptr::write_volatile((low_base + HEAD_RELEASE) as *mut u32, 1) };
    cpu::sync();
}

/// How many threads have taken a ticket (started executing the image).
pub fn arrived(low_base: usize) -> u64 {
    // SAFETY: the ticket counter in the low copy, updated atomically by the entry code.
    u64::from(unsafe { ptr::read_volatile((low_base + HEAD_TICKET) as *const u32) })
}

/// Entry point of every thread but the boot thread.
pub extern "C" fn secondary_main(_fdt: usize, percpu: *mut PerCpu, ticket: u64, _low_base: usize) -> ! {
    // SAFETY: the entry code passes this thread's own slot.
    let me = unsafe { init_this(percpu, ticket) };
    cpu::prepare_light_stop();
    idle_loop(me)
}

/// What a thread held by the firmware does: run jobs posted to its mailbox, sleep in `stop`
/// between them. Jobs may leave for good (starting the OS on this thread).
pub fn idle_loop(me: &PerCpu) -> ! {
    me.set_state(CpuState::Idle);
    loop {
        cpu::doorbell_clear();
        if let Some((job, arg)) = me.mailbox.take() {
            me.set_state(CpuState::Busy);
            let result = job(arg);
            me.set_state(CpuState::Idle);
            me.mailbox.finish(result);
            continue;
        }
        cpu::stop_idle();
    }
}

/// Threads that have reported in (idle or busy), in ticket order, up to `arrived`.
pub fn online(arrived: u64) -> Vec<&'static PerCpu> {
    (0..arrived.min(memmap::MAX_THREADS))
        .filter_map(slot)
        .filter(|c| matches!(c.state(), CpuState::Idle | CpuState::Busy))
        .collect()
}

/// Waits until `expected` threads are online or `timeout_us` passes; returns how many are.
pub fn wait_online(low_base: usize, expected: usize, timeout_us: u64) -> usize {
    let tb = console::timebase();
    let _ = wait_until(&tb, timeout_us, || online(arrived(low_base)).len() >= expected);
    online(arrived(low_base)).len()
}

/// Runs `job(arg)` on the thread of `target` and waits for its result.
pub fn run_on(target: &PerCpu, job: JobFn, arg: u64, timeout_us: u64) -> Result<u64, TimedOut> {
    target.mailbox.post(job, arg).map_err(|_| TimedOut)?;
    cpu::doorbell_send(target.pir);
    let tb = console::timebase();
    let mut result = None;
    wait_until(&tb, timeout_us, || {
        result = target.mailbox.collect();
        result.is_some()
    })?;
    result.ok_or(TimedOut)
}

/// Wakes `target` (a hypervisor doorbell), e.g. after posting it a job.
pub fn wake(target: &PerCpu) {
    cpu::doorbell_send(target.pir);
}
