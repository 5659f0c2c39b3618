//! Unexpected exceptions and panics: report, then stop the thread (or the machine).

use super::cpus::this_cpu;
use super::{power, LOGGER};
use core::fmt::{self, Write};
use core::sync::atomic::Ordering;
use oxiboot::exception::{write_report, ExceptionFrame};
use oxiboot::percpu::CpuState;
use oxiboot_platform::cpu;

/// Writes to the log through the emergency path (the lock may be held by whoever faulted).
struct Emergency;

impl Write for Emergency {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        LOGGER.write_emergency(format_args!("{s}"));
        Ok(())
    }
}

/// Parks this thread for good.
fn park() -> ! {
    loop {
        cpu::stop_idle();
    }
}

/// Called by the exception entry code with the saved state. Guest exits go to the
/// hypervisor; every other exception is unexpected: report it and stop the thread; the boot
/// thread's loss stops the machine.
pub extern "C" fn exception_entry(frame: &mut ExceptionFrame) -> u64 {
    if let Some(resume) = super::partition::guest_exit_of_this_thread(frame) {
        return resume;
    }
    let me = this_cpu();
    if me.exception_depth.fetch_add(1, Ordering::AcqRel) > 0 {
        LOGGER.write_emergency(format_args!(
            "!!! exception {:#x} while reporting an exception on PIR {:#x}; thread stopped\n",
            frame.vector, me.pir
        ));
        park();
    }
    let _ = write_report(&mut Emergency, frame, me.pir);
    me.set_state(CpuState::Stopped);
    if me.ticket == 0 {
        LOGGER.write_emergency(format_args!("!!! that was the boot thread: nothing can go on\n"));
        power::stop_machine();
    }
    LOGGER.write_emergency(format_args!("!!! thread PIR {:#x} stopped\n", me.pir));
    park()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let pir = cpu::pir();
    let _ = writeln!(Emergency, "!!! PANIC on thread PIR {pir:#x}: {info}");
    power::stop_machine()
}
