//! OPAL (Open Power Abstraction Layer): the firmware interface a Linux `powernv` kernel calls.
//!
//! A call arrives with a token (which function) and up to eight 64-bit arguments; results
//! go back in the return code and through big-endian memory the caller points at. This
//! module is the call table — declared once, checked at build time for duplicate tokens —
//! and the handlers, written against [`OpalEnv`], the firmware services they need (caller
//! memory, console, clock, threads, BMC, NVRAM), so they are tested on the host with a fake.

mod calls;
mod datetime;
mod env;
pub mod xive;

pub use calls::{dispatch, implemented, CALLS};
pub use datetime::{bcd_to_datetime, datetime_to_bcd, DateTime};
pub use env::{CpuStatus, OpalEnv};

/// An OPAL return code.
pub type OpalResult = i64;

/// OPAL return codes (skiboot `include/opal-api.h`).
pub mod rc {
    /// Success.
    pub const SUCCESS: i64 = 0;
    /// A parameter is invalid.
    pub const PARAMETER: i64 = -1;
    /// Try again.
    pub const BUSY: i64 = -2;
    /// Only part of the request was done.
    pub const PARTIAL: i64 = -3;
    /// The device is closed (e.g. no such console).
    pub const CLOSED: i64 = -5;
    /// The hardware failed.
    pub const HARDWARE: i64 = -6;
    /// Not supported on this platform.
    pub const UNSUPPORTED: i64 = -7;
    /// Nothing available (e.g. no message queued).
    pub const RESOURCE: i64 = -10;
    /// An internal error in the firmware.
    pub const INTERNAL_ERROR: i64 = -11;
    /// Busy, and an event will say when to retry.
    pub const BUSY_EVENT: i64 = -12;
    /// The object is in the wrong state for the request.
    pub const WRONG_STATE: i64 = -14;
}

/// Tokens of the calls oxiboot implements (skiboot `include/opal-api.h`).
pub mod token {
    /// Write to a console.
    pub const CONSOLE_WRITE: u64 = 1;
    /// Read from a console.
    pub const CONSOLE_READ: u64 = 2;
    /// Read the real-time clock.
    pub const RTC_READ: u64 = 3;
    /// Set the real-time clock.
    pub const RTC_WRITE: u64 = 4;
    /// Power the machine down.
    pub const CEC_POWER_DOWN: u64 = 5;
    /// Reboot the machine.
    pub const CEC_REBOOT: u64 = 6;
    /// Read NVRAM.
    pub const READ_NVRAM: u64 = 7;
    /// Write NVRAM.
    pub const WRITE_NVRAM: u64 = 8;
    /// Run firmware housekeeping and report pending events.
    pub const POLL_EVENTS: u64 = 10;
    /// Free space in a console's output buffer.
    pub const CONSOLE_WRITE_BUFFER_SPACE: u64 = 25;
    /// Start a thread the firmware holds at an address.
    pub const START_CPU: u64 = 41;
    /// Whether a thread is held by the firmware, started, or absent.
    pub const QUERY_CPU_STATUS: u64 = 42;
    /// Give the calling thread back to the firmware.
    pub const RETURN_CPU: u64 = 69;
    /// Reconfigure all threads (interrupt endianness, MMU mode).
    pub const REINIT_CPUS: u64 = 70;
    /// Whether a token is implemented.
    pub const CHECK_TOKEN: u64 = 80;
    /// Next OPAL message to the OS.
    pub const GET_MSG: u64 = 85;
    /// Completion of an asynchronous call.
    pub const CHECK_ASYNC_COMPLETION: u64 = 86;
    /// Prepare for a host reboot (kexec).
    pub const SYNC_HOST_REBOOT: u64 = 87;
    /// Handle a hypervisor maintenance interrupt.
    pub const HANDLE_HMI: u64 = 98;
    /// Reboot, with a reboot type.
    pub const CEC_REBOOT2: u64 = 116;
    /// Flush a console's output.
    pub const CONSOLE_FLUSH: u64 = 117;
    /// Handle a hypervisor maintenance interrupt, reporting what was done.
    pub const HANDLE_HMI2: u64 = 166;
}

/// Event bits of OPAL_POLL_EVENTS.
pub mod event {
    /// Console output pending in the firmware.
    pub const CONSOLE_OUTPUT: u64 = 0x8;
    /// Console input available.
    pub const CONSOLE_INPUT: u64 = 0x10;
    /// An OPAL message is queued (OPAL_GET_MSG).
    pub const MSG_PENDING: u64 = 0x800;
}

/// Flags of OPAL_REINIT_CPUS.
pub mod reinit {
    /// Take hypervisor interrupts big-endian.
    pub const HILE_BE: u64 = 1 << 0;
    /// Take hypervisor interrupts little-endian.
    pub const HILE_LE: u64 = 1 << 1;
    /// The OS will use the hash MMU.
    pub const MMU_HASH: u64 = 1 << 2;
    /// The OS will use the radix MMU.
    pub const MMU_RADIX: u64 = 1 << 3;
    /// Transactional memory suspend is disabled.
    pub const TM_SUSPEND_DISABLED: u64 = 1 << 4;
}
