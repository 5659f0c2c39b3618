//! RTAS (Run-Time Abstraction Services) for an LPAR: the services we offer, their tokens, and
//! the decoding of a call's argument block.
//!
//! The LPAR calls `linux,rtas-entry`, a five-instruction stub in its memory that passes the
//! real address of the argument block to the hypervisor with the private hcall `H_RTAS`. The
//! block is big-endian 32-bit words: token, number of inputs, number of outputs, the inputs,
//! then room for the outputs (output 0 is the status). Every service checks its counts, and
//! every address in a call is checked against the LPAR's memory by the caller.

use super::memory::{GuestMemory, OutsideCarve};

/// RTAS status: success.
pub const RTAS_SUCCESS: i32 = 0;
/// RTAS status: hardware error.
pub const RTAS_HARDWARE_ERROR: i32 = -1;
/// RTAS status: busy, try again.
pub const RTAS_BUSY: i32 = -2;
/// RTAS status: parameter error.
pub const RTAS_PARAMETER_ERROR: i32 = -3;
/// `event-scan` status: no event was found.
pub const RTAS_NO_EVENT: i32 = 1;

/// The first token; services are numbered from here in [`SERVICES`] order.
pub const TOKEN_BASE: u32 = 0x2000;
/// Most inputs plus outputs a call may declare.
pub const MAX_WORDS: usize = 16;

/// The instructions of the RTAS stub, big-endian (RTAS is entered big-endian):
/// `mr r4,r3; lis r3,0; ori r3,r3,0xf000 (H_RTAS); sc 1; blr`.
pub const STUB: [u32; 5] = [0x7c64_1b78, 0x3c60_0000, 0x6063_f000, 0x4400_0022, 0x4e80_0020];
/// Size of the area given to RTAS in the LPAR (`rtas-size`).
pub const RTAS_SIZE: u32 = 0x1000;

/// A service we implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `display-character`: one byte to the console.
    DisplayCharacter,
    /// `get-time-of-day`.
    GetTimeOfDay,
    /// `set-time-of-day`: kept per LPAR, the hardware clock is not changed.
    SetTimeOfDay,
    /// `power-off`.
    PowerOff,
    /// `system-reboot`.
    SystemReboot,
    /// `ibm,os-term`: the OS has crashed.
    OsTerm,
    /// `stop-self`: the calling vCPU stops.
    StopSelf,
    /// `start-cpu`: a stopped vCPU starts at an address.
    StartCpu,
    /// `query-cpu-stopped-state`.
    QueryCpuStoppedState,
    /// `event-scan`: never finds an event.
    EventScan,
    /// `ibm,get-xive`: XICS source configuration (the LPAR has no sources).
    GetXive,
    /// `ibm,set-xive`.
    SetXive,
    /// `ibm,int-on`.
    IntOn,
    /// `ibm,int-off`.
    IntOff,
}

/// Every service: property name, inputs, outputs. The token of entry `i` is
/// `TOKEN_BASE + i`.
pub const SERVICES: [(Service, &str, usize, usize); 14] = [
    (Service::DisplayCharacter, "display-character", 1, 1),
    (Service::GetTimeOfDay, "get-time-of-day", 0, 8),
    (Service::SetTimeOfDay, "set-time-of-day", 7, 1),
    (Service::PowerOff, "power-off", 2, 1),
    (Service::SystemReboot, "system-reboot", 0, 1),
    (Service::OsTerm, "ibm,os-term", 1, 1),
    (Service::StopSelf, "stop-self", 0, 1),
    (Service::StartCpu, "start-cpu", 3, 1),
    (Service::QueryCpuStoppedState, "query-cpu-stopped-state", 1, 2),
    (Service::EventScan, "event-scan", 4, 1),
    (Service::GetXive, "ibm,get-xive", 1, 3),
    (Service::SetXive, "ibm,set-xive", 3, 1),
    (Service::IntOn, "ibm,int-on", 1, 1),
    (Service::IntOff, "ibm,int-off", 1, 1),
];

/// The token of a service.
pub fn token(service: Service) -> u32 {
    let index = SERVICES.iter().position(|(s, ..)| *s == service).unwrap_or(0);
    TOKEN_BASE + index as u32
}

/// Name and token of every service, for the device tree's `/rtas` node.
pub fn tokens() -> impl Iterator<Item = (&'static str, u32)> {
    SERVICES.iter().enumerate().map(|(i, (_, name, ..))| (*name, TOKEN_BASE + i as u32))
}

/// A call read from the LPAR's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// Guest real address of the argument block.
    pub block: u64,
    /// The token.
    pub token: u32,
    /// Inputs (only `nargs` are meaningful).
    pub args: [u32; MAX_WORDS],
    /// Number of inputs.
    pub nargs: usize,
    /// Number of outputs.
    pub nret: usize,
}

/// Why a call cannot even be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallError {
    /// The block (or its outputs) is outside the LPAR's memory.
    Outside(OutsideCarve),
    /// More inputs plus outputs than [`MAX_WORDS`].
    TooManyWords(usize),
}

impl From<OutsideCarve> for CallError {
    fn from(e: OutsideCarve) -> Self {
        Self::Outside(e)
    }
}

/// Reads the argument block at `block`.
pub fn read_call(mem: &dyn GuestMemory, block: u64) -> Result<Call, CallError> {
    let word = |i: u64| mem.read_be32(block.wrapping_add(4 * i));
    let token = word(0)?;
    let nargs = word(1)? as usize;
    let nret = word(2)? as usize;
    if nargs.saturating_add(nret) > MAX_WORDS {
        return Err(CallError::TooManyWords(nargs.saturating_add(nret)));
    }
    // The outputs must be writable: check the block's end now, before any service runs.
    let end = 4 * (3 + nargs + nret) as u64;
    let mut probe = [0u8; 1];
    if nargs + nret > 0 {
        mem.read(block.wrapping_add(end - 1), &mut probe)?;
    }
    let mut args = [0u32; MAX_WORDS];
    for (i, a) in args.iter_mut().enumerate().take(nargs) {
        *a = word(3 + i as u64)?;
    }
    Ok(Call { block, token, args, nargs, nret })
}

/// Writes the outputs (status first); outputs beyond `nret` are dropped.
pub fn write_returns(mem: &mut dyn GuestMemory, call: &Call, returns: &[i32]) -> Result<(), OutsideCarve> {
    for (i, r) in returns.iter().take(call.nret).enumerate() {
        mem.write_be32(call.block + 4 * (3 + call.nargs + i) as u64, *r as u32)?;
    }
    Ok(())
}

/// A date and time, as `get-time-of-day` returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeOfDay {
    /// Year (e.g. 2026).
    pub year: u32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–59.
    pub second: u32,
    /// Nanoseconds.
    pub nanosecond: u32,
}

impl TimeOfDay {
    /// Whether every field is in range (days per month are checked loosely: 1–31).
    pub fn is_valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && (1..=31).contains(&self.day)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
            && self.nanosecond < 1_000_000_000
    }
}

/// Days from 1970-01-01 to the given date (proleptic Gregorian calendar; March-based years
/// make February the last month, so leap days need no special case).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = i64::from(month);
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Seconds since 1970-01-01 00:00:00 UTC of a time of day (nanoseconds dropped).
pub fn to_seconds(t: &TimeOfDay) -> i64 {
    let days = days_from_civil(i64::from(t.year), t.month, t.day);
    days * 86_400 + i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + i64::from(t.second)
}

/// The time of day `seconds` after 1970-01-01 00:00:00 UTC.
pub fn from_seconds(seconds: i64) -> TimeOfDay {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    TimeOfDay {
        year: year.clamp(0, i64::from(u32::MAX)) as u32,
        month,
        day,
        hour: (rest / 3600) as u32,
        minute: (rest % 3600 / 60) as u32,
        second: (rest % 60) as u32,
        nanosecond: 0,
    }
}

/// A decoded request, its arguments checked for form (what they refer to is for the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Print one byte.
    DisplayCharacter(u8),
    /// Read the clock.
    GetTimeOfDay,
    /// Set the LPAR's clock.
    SetTimeOfDay(TimeOfDay),
    /// Power the LPAR off.
    PowerOff,
    /// Reboot the LPAR.
    SystemReboot,
    /// The OS crashed; its message is a NUL-terminated string at this guest address.
    OsTerm {
        /// Guest real address of the message.
        message: u64,
    },
    /// Stop the calling vCPU.
    StopSelf,
    /// Start vCPU `server` at `entry` with r3 = `r3`.
    StartCpu {
        /// Interrupt server number (hardware thread id) of the vCPU.
        server: u32,
        /// Guest real address to start at.
        entry: u64,
        /// Value for r3.
        r3: u64,
    },
    /// Whether vCPU `server` is stopped.
    QueryCpuStoppedState {
        /// Interrupt server number.
        server: u32,
    },
    /// Look for events (there are none).
    EventScan,
    /// XICS source calls: the LPAR has no interrupt sources, any number is wrong.
    InterruptSource {
        /// The source number asked about.
        irq: u32,
    },
}

/// Decodes a call, or gives the status to answer with straight away.
pub fn decode(call: &Call) -> Result<Request, i32> {
    let index = call.token.checked_sub(TOKEN_BASE).map(|i| i as usize);
    let Some(&(service, _, nargs, nret)) = index.and_then(|i| SERVICES.get(i)) else {
        return Err(RTAS_PARAMETER_ERROR);
    };
    if call.nargs != nargs || call.nret != nret {
        return Err(RTAS_PARAMETER_ERROR);
    }
    let a = &call.args;
    Ok(match service {
        Service::DisplayCharacter => Request::DisplayCharacter(a[0] as u8),
        Service::GetTimeOfDay => Request::GetTimeOfDay,
        Service::SetTimeOfDay => {
            let t = TimeOfDay {
                year: a[0],
                month: a[1],
                day: a[2],
                hour: a[3],
                minute: a[4],
                second: a[5],
                nanosecond: a[6],
            };
            if !t.is_valid() {
                return Err(RTAS_PARAMETER_ERROR);
            }
            Request::SetTimeOfDay(t)
        }
        Service::PowerOff => Request::PowerOff,
        Service::SystemReboot => Request::SystemReboot,
        Service::OsTerm => Request::OsTerm { message: u64::from(a[0]) },
        Service::StopSelf => Request::StopSelf,
        Service::StartCpu => Request::StartCpu { server: a[0], entry: u64::from(a[1]), r3: u64::from(a[2]) },
        Service::QueryCpuStoppedState => Request::QueryCpuStoppedState { server: a[0] },
        Service::EventScan => Request::EventScan,
        Service::GetXive | Service::SetXive | Service::IntOn | Service::IntOff => {
            Request::InterruptSource { irq: a[0] }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lpar::memory::VecMemory;
    use alloc::vec;

    fn block(mem: &mut VecMemory, at: u64, words: &[u32]) {
        for (i, w) in words.iter().enumerate() {
            mem.write_be32(at + 4 * i as u64, *w).unwrap();
        }
    }

    #[test]
    fn tokens_are_numbered_from_the_base_in_table_order() {
        let all: alloc::vec::Vec<_> = tokens().collect();
        assert_eq!(all[0], ("display-character", 0x2000));
        assert_eq!(all[7], ("start-cpu", 0x2007));
        assert_eq!(token(Service::StartCpu), 0x2007);
        assert_eq!(all.len(), SERVICES.len());
    }

    #[test]
    fn start_cpu_as_linux_calls_it() {
        let mut mem = VecMemory(vec![0; 0x1000]);
        block(&mut mem, 0x100, &[0x2007, 3, 1, 8, 0x6000, 8, 0xdead]);
        let call = read_call(&mem, 0x100).unwrap();
        assert_eq!(decode(&call), Ok(Request::StartCpu { server: 8, entry: 0x6000, r3: 8 }));
        write_returns(&mut mem, &call, &[RTAS_SUCCESS, 99]).unwrap();
        assert_eq!(mem.read_be32(0x100 + 24), Ok(0), "status in the first output");
        assert_eq!(mem.read_be32(0x100 + 28), Ok(0), "nothing past nret");
    }

    #[test]
    fn query_cpu_stopped_state_has_two_outputs() {
        let mut mem = VecMemory(vec![0; 0x100]);
        block(&mut mem, 0, &[0x2008, 1, 2, 4, 0xffff_ffff, 0xffff_ffff]);
        let call = read_call(&mem, 0).unwrap();
        assert_eq!(decode(&call), Ok(Request::QueryCpuStoppedState { server: 4 }));
        write_returns(&mut mem, &call, &[RTAS_SUCCESS, 0]).unwrap();
        assert_eq!((mem.read_be32(16), mem.read_be32(20)), (Ok(0), Ok(0)));
    }

    #[test]
    fn wrong_counts_and_unknown_tokens_are_parameter_errors() {
        let mut mem = VecMemory(vec![0; 0x100]);
        block(&mut mem, 0, &[0x2007, 2, 1, 8, 0x6000]);
        assert_eq!(decode(&read_call(&mem, 0).unwrap()), Err(RTAS_PARAMETER_ERROR));
        block(&mut mem, 0, &[0x1fff, 0, 1]);
        assert_eq!(decode(&read_call(&mem, 0).unwrap()), Err(RTAS_PARAMETER_ERROR));
        block(&mut mem, 0, &[0x2000 + SERVICES.len() as u32, 0, 1]);
        assert_eq!(decode(&read_call(&mem, 0).unwrap()), Err(RTAS_PARAMETER_ERROR));
    }

    #[test]
    fn blocks_outside_memory_or_too_long_are_refused_before_anything_runs() {
        let mut mem = VecMemory(vec![0; 0x100]);
        assert!(matches!(read_call(&mem, 0x100), Err(CallError::Outside(_))));
        block(&mut mem, 0xf0, &[0x2001, 0, 8]);
        assert!(matches!(read_call(&mem, 0xf0), Err(CallError::Outside(_))), "outputs run past the end");
        block(&mut mem, 0, &[0x2001, 9, 8]);
        assert_eq!(read_call(&mem, 0), Err(CallError::TooManyWords(17)));
        block(&mut mem, 0, &[0x2001, u32::MAX, u32::MAX]);
        assert!(read_call(&mem, 0).is_err());
    }

    #[test]
    fn set_time_of_day_checks_the_fields() {
        let mut mem = VecMemory(vec![0; 0x100]);
        block(&mut mem, 0, &[0x2002, 7, 1, 2026, 11, 21, 23, 59, 59, 999_999_999]);
        let ok = decode(&read_call(&mem, 0).unwrap()).unwrap();
        assert!(matches!(ok, Request::SetTimeOfDay(t) if t.year == 2026 && t.second == 59));
        block(&mut mem, 0, &[0x2002, 7, 1, 2026, 13, 21, 23, 59, 59, 0]);
        assert_eq!(decode(&read_call(&mem, 0).unwrap()), Err(RTAS_PARAMETER_ERROR));
    }

    #[test]
    fn seconds_and_dates_convert_both_ways() {
        let epoch = TimeOfDay { year: 1970, month: 1, day: 1, ..Default::default() };
        assert_eq!(to_seconds(&epoch), 0);
        // 2026-11-21 12:34:56 UTC, checked with `date -u -d @1795264496`.
        let t = TimeOfDay { year: 2026, month: 11, day: 21, hour: 12, minute: 34, second: 56, nanosecond: 0 };
        assert_eq!(to_seconds(&t), 1_795_264_496);
        assert_eq!(from_seconds(1_795_264_496), t);
        let leap =
            TimeOfDay { year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 59, nanosecond: 0 };
        assert_eq!(from_seconds(to_seconds(&leap)), leap);
        assert_eq!(
            from_seconds(to_seconds(&leap) + 1),
            TimeOfDay { year: 2024, month: 3, day: 1, ..Default::default() }
        );
    }

    #[test]
    fn the_stub_is_the_documented_encoding() {
        // `sc 1` is 0x44000022; the hcall number loaded into r3 is H_RTAS.
        assert_eq!(STUB[3], 0x4400_0022);
        assert_eq!(STUB[2] & 0xffff, crate::papr::H_RTAS as u32);
    }
}
