//! Per-CPU data: what each hardware thread keeps at the bottom of its slot (see
//! [`crate::memmap`]), and the mailbox through which the boot thread hands it work.
//!
//! A thread's slot is found through HSPRG0 (exception entry) and r13 (Rust code). The first
//! 64 bytes are scratch words the exception stubs use before any stack exists.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// Work a thread can be handed: a function and its argument; the result goes back to the
/// poster.
pub type JobFn = fn(u64) -> u64;

/// Lifecycle of a hardware thread as the firmware sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum CpuState {
    /// Not (yet) seen in Rust.
    Absent = 0,
    /// Reported in, idle, waiting for work.
    Idle = 1,
    /// Running a job.
    Busy = 2,
    /// Stopped after a fatal exception.
    Stopped = 3,
    /// Handed to the operating system (OPAL_START_CPU, or the boot thread at handoff).
    Os = 4,
}

impl CpuState {
    fn from_u32(v: u32) -> Self {
        match v {
            1 => Self::Idle,
            2 => Self::Busy,
            3 => Self::Stopped,
            4 => Self::Os,
            _ => Self::Absent,
        }
    }
}

const MB_EMPTY: u32 = 0;
const MB_POSTED: u32 = 1;
const MB_RUNNING: u32 = 2;
const MB_DONE: u32 = 3;

/// A one-slot mailbox: the poster puts a job in, the owning thread takes it, runs it and
/// leaves the result.
pub struct Mailbox {
    state: AtomicU32,
    job: spin::Mutex<Option<(JobFn, u64)>>,
    result: AtomicU64,
    /// The poster does not wait for the result: the mailbox empties when the job ends.
    detached: AtomicBool,
}

/// The mailbox still holds an unfinished job or an uncollected result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxBusy;

impl Mailbox {
    /// An empty mailbox.
    pub const fn new() -> Self {
        Self {
            state: AtomicU32::new(MB_EMPTY),
            job: spin::Mutex::new(None),
            result: AtomicU64::new(0),
            detached: AtomicBool::new(false),
        }
    }

    /// Posts a job. Fails if the previous one is not finished and collected.
    pub fn post(&self, job: JobFn, arg: u64) -> Result<(), MailboxBusy> {
        self.post_with(job, arg, false)
    }

    /// Posts a job nobody waits for (a thread handed to an LPAR): its result is dropped and
    /// the mailbox empties when it ends.
    pub fn post_detached(&self, job: JobFn, arg: u64) -> Result<(), MailboxBusy> {
        self.post_with(job, arg, true)
    }

    fn post_with(&self, job: JobFn, arg: u64, detached: bool) -> Result<(), MailboxBusy> {
        let mut slot = self.job.lock();
        if self.state.load(Ordering::Acquire) != MB_EMPTY {
            return Err(MailboxBusy);
        }
        *slot = Some((job, arg));
        self.detached.store(detached, Ordering::Relaxed);
        self.state.store(MB_POSTED, Ordering::Release);
        Ok(())
    }

    /// Takes a posted job (owning thread).
    pub fn take(&self) -> Option<(JobFn, u64)> {
        if self.state.load(Ordering::Acquire) != MB_POSTED {
            return None;
        }
        let job = self.job.lock().take();
        self.state.store(MB_RUNNING, Ordering::Release);
        job
    }

    /// Records the result of the taken job (owning thread).
    pub fn finish(&self, result: u64) {
        self.result.store(result, Ordering::Relaxed);
        let next = if self.detached.load(Ordering::Relaxed) { MB_EMPTY } else { MB_DONE };
        self.state.store(next, Ordering::Release);
    }

    /// The result, once the job is done; empties the mailbox.
    pub fn collect(&self) -> Option<u64> {
        let _slot = self.job.lock();
        if self.state.load(Ordering::Acquire) != MB_DONE {
            return None;
        }
        let r = self.result.load(Ordering::Relaxed);
        self.state.store(MB_EMPTY, Ordering::Release);
        Some(r)
    }
}

impl Default for Mailbox {
    fn default() -> Self {
        Self::new()
    }
}

/// Number of scratch words for the exception entry code.
pub const SCRATCH_WORDS: usize = 8;

/// The per-CPU data at the bottom of every slot.
#[repr(C)]
pub struct PerCpu {
    /// Used by the exception stubs before a stack exists (must stay first).
    pub scratch: [u64; SCRATCH_WORDS],
    /// Hardware thread id.
    pub pir: u32,
    /// Arrival order; also the slot number. Ticket 0 is the boot thread.
    pub ticket: u32,
    state: AtomicU32,
    /// Nesting of exception reports (a fault while reporting one stops the thread at once).
    pub exception_depth: AtomicU32,
    /// Work handed to this thread.
    pub mailbox: Mailbox,
    /// The caller's state while it is in an OPAL call (entry code only): r1, r2, r13, LR,
    /// CR, entered-big-endian flag, MSR.
    pub opal_save: [u64; 8],
    /// The caller's r3–r10 during an OPAL call.
    pub opal_args: [u64; 8],
    /// Address of the vCPU this thread is running in an LPAR (partitioned mode), 0 when the
    /// thread runs no guest. Exceptions taken from guest state are guest exits of this vCPU.
    pub guest: AtomicU64,
    /// The hypervisor's callee-saved registers while a guest runs (LR, CR, r1, r2, r13–r31),
    /// written and read only by the guest launch and leave code of this thread.
    pub host_context: UnsafeCell<[u64; HOST_CONTEXT_WORDS]>,
}

/// Words of [`PerCpu::host_context`].
pub const HOST_CONTEXT_WORDS: usize = 24;

// SAFETY: every field is either atomic, behind a lock, or (`host_context`, the scratch and
// OPAL save words) only touched by the thread that owns the slot.
unsafe impl Sync for PerCpu {}

/// Slots of [`PerCpu::opal_save`].
pub mod opal_save {
    /// Caller's stack pointer.
    pub const R1: usize = 0;
    /// Caller's TOC pointer.
    pub const R2: usize = 1;
    /// Caller's r13 (Linux: the PACA).
    pub const R13: usize = 2;
    /// Return address.
    pub const LR: usize = 3;
    /// Condition register.
    pub const CR: usize = 4;
    /// Non-zero if the caller entered big-endian.
    pub const ENTERED_BE: usize = 5;
    /// MSR at entry (little-endian by then).
    pub const MSR: usize = 6;
}

impl PerCpu {
    /// Fresh per-CPU data for the thread with this PIR and ticket.
    pub const fn new(pir: u32, ticket: u32) -> Self {
        Self {
            scratch: [0; SCRATCH_WORDS],
            pir,
            ticket,
            state: AtomicU32::new(CpuState::Absent as u32),
            exception_depth: AtomicU32::new(0),
            mailbox: Mailbox::new(),
            opal_save: [0; 8],
            opal_args: [0; 8],
            guest: AtomicU64::new(0),
            host_context: UnsafeCell::new([0; HOST_CONTEXT_WORDS]),
        }
    }

    /// Current state.
    pub fn state(&self) -> CpuState {
        CpuState::from_u32(self.state.load(Ordering::Acquire))
    }

    /// Changes state.
    pub fn set_state(&self, s: CpuState) {
        self.state.store(s as u32, Ordering::Release);
    }
}

const _: () = assert!(core::mem::size_of::<PerCpu>() as u64 <= crate::memmap::PERCPU_DATA_SIZE);

/// Threads the device tree lists that never reported in, in the tree's order.
pub fn missing_threads(expected: impl IntoIterator<Item = u32>, reported: &[u32]) -> alloc::vec::Vec<u32> {
    expected.into_iter().filter(|p| !reported.contains(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn mailbox_round_trip_across_threads() {
        let cpu = Arc::new(PerCpu::new(5, 1));
        cpu.set_state(CpuState::Idle);
        let worker = {
            let cpu = cpu.clone();
            std::thread::spawn(move || loop {
                if let Some((f, arg)) = cpu.mailbox.take() {
                    cpu.set_state(CpuState::Busy);
                    let r = f(arg);
                    cpu.set_state(CpuState::Idle);
                    cpu.mailbox.finish(r);
                    if arg == 0 {
                        return;
                    }
                }
                std::thread::yield_now();
            })
        };
        for arg in [21u64, 100, 0] {
            cpu.mailbox.post(|x| x * 2, arg).unwrap();
            let r = loop {
                if let Some(r) = cpu.mailbox.collect() {
                    break r;
                }
                std::thread::yield_now();
            };
            assert_eq!(r, arg * 2);
        }
        worker.join().unwrap();
        assert_eq!(cpu.state(), CpuState::Idle);
    }

    #[test]
    fn mailbox_refuses_a_second_job() {
        let m = Mailbox::new();
        m.post(|x| x, 1).unwrap();
        assert_eq!(m.post(|x| x, 2), Err(MailboxBusy));
        let (f, a) = m.take().unwrap();
        assert_eq!(m.post(|x| x, 3), Err(MailboxBusy));
        assert_eq!(m.collect(), None);
        m.finish(f(a));
        assert_eq!(m.post(|x| x, 3), Err(MailboxBusy));
        assert_eq!(m.collect(), Some(1));
        assert_eq!(m.post(|x| x, 3), Ok(()));
    }

    #[test]
    fn missing_threads_in_tree_order() {
        assert_eq!(missing_threads([0, 1, 2, 3, 4], &[3, 0, 4]), [1, 2]);
        assert!(missing_threads([0, 1], &[1, 0]).is_empty());
    }

    #[test]
    fn scratch_is_first() {
        assert_eq!(core::mem::offset_of!(PerCpu, scratch), 0);
    }
}
