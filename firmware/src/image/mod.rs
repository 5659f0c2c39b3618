//! The firmware image: what runs on the POWER9 processor.
//!
//! * [`entry`] — the entry assembly and exception vectors, tied to the Rust entry points.
//! * [`boot`] — the boot thread: device tree, console, threads, XSCOM, BMC, what to boot.
//! * [`cpus`] — per-CPU slots, the idle loop of the other threads, handing them work.
//! * [`console`] — the UART console and the time stamps of the log.
//! * [`flash`] — the host flash (PNOR): partition table, BOOTKERNEL, NVRAM.
//! * [`hdat`] — HDAT boots: NACA/SPIRA-H/PROCIN in the image, HDAT to device tree.
//! * [`opal`] — OPAL calls at run time: entry, per-thread lookup, the firmware services.
//! * [`partition`] — partitioned mode: the hypervisor, its LPARs, hcalls and RTAS.
//! * [`power`] — power off and reboot through the BMC; stopping the machine.
//! * [`traps`] — unexpected exceptions and panics.
//! * [`xive`] — the interrupt controllers: bring-up, device-tree node, OPAL XIVE calls.

mod boot;
mod console;
mod cpus;
mod entry;
mod flash;
mod hdat;
mod opal;
mod partition;
mod power;
mod traps;
mod xive;

use oxiboot::heap::LockedHeap;
use oxiboot::logger::{Logger, LOG_RING_SIZE};

/// The firmware heap (memory from [`oxiboot::memmap::HEAP_BASE`]).
#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

/// The firmware log: ring buffer plus console.
static LOGGER: Logger<LOG_RING_SIZE> = Logger::new();
