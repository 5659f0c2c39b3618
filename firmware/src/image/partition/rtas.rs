//! RTAS (Run-Time Abstraction Services) calls of an LPAR, arriving as the private hcall
//! `H_RTAS` from the stub in its memory: decoded by `oxiboot_hv::lpar::rtas`, carried out
//! here.

use super::exits::stop_lpar;
use super::lpar::{dispatch, Lpar, StopReason, Vcpu, VcpuState};
use super::run::{leave, Leave};
use super::vty;
use core::sync::atomic::Ordering;
use log::{info, warn};
use oxiboot_hv::lpar::memory::GuestMemory;
use oxiboot_hv::lpar::rtas::*;
use oxiboot_hv::papr::{HcallStatus, H_PARAMETER, H_SUCCESS};

/// Longest `ibm,os-term` message shown.
const OS_TERM_MAX: usize = 512;

/// Carries out the RTAS call whose argument block is at guest real address `block`.
pub fn call(lpar: &Lpar, vcpu: &Vcpu, block: u64) -> HcallStatus {
    let mut mem = lpar.memory();
    let call = match read_call(&mem, block) {
        Ok(c) => c,
        Err(e) => {
            let label = lpar.label();
            if lpar.stats.may_report(&label) {
                warn!("{label}: RTAS call block at {block:#x} refused: {e:?}");
            }
            return H_PARAMETER;
        }
    };
    let returns: &[i32] = match decode(&call) {
        Err(status) => &[status],
        Ok(request) => &execute(lpar, vcpu, request),
    };
    if write_returns(&mut mem, &call, returns).is_err() {
        return H_PARAMETER;
    }
    H_SUCCESS
}

fn execute(lpar: &Lpar, vcpu: &Vcpu, request: Request) -> [i32; 8] {
    let mut r = [RTAS_SUCCESS, 0, 0, 0, 0, 0, 0, 0];
    match request {
        Request::DisplayCharacter(b) => vty::put(lpar, &[b]),
        Request::GetTimeOfDay => match time_of_day(lpar) {
            Some(t) => {
                r[1..8].copy_from_slice(
                    &[t.year, t.month, t.day, t.hour, t.minute, t.second, t.nanosecond].map(|v| v as i32),
                );
            }
            None => r[0] = RTAS_HARDWARE_ERROR,
        },
        Request::SetTimeOfDay(t) => match hardware_seconds() {
            Some(now) => {
                let wanted = to_seconds(&t);
                lpar.clock_offset.store(wanted.wrapping_sub(now) as u64, Ordering::Release);
            }
            None => r[0] = RTAS_HARDWARE_ERROR,
        },
        Request::PowerOff => {
            info!("{}: power-off requested", lpar.label());
            stop_lpar(lpar, vcpu, StopReason::PowerOff)
        }
        Request::SystemReboot => {
            info!("{}: reboot requested", lpar.label());
            stop_lpar(lpar, vcpu, StopReason::Reboot)
        }
        Request::OsTerm { message } => {
            // Linux 6.12 passes its message's address where the call takes none
            // (`rtas_call_unlocked(…, NULL, __pa(buf))`), so its message arrives as address 0.
            if message == 0 {
                warn!("{}: os-term (no message: its address is 0)", lpar.label());
            } else {
                let mut buf = [0u8; OS_TERM_MAX];
                let mem = lpar.memory();
                let mut len = 0;
                while len < OS_TERM_MAX
                    && mem.read(message + len as u64, &mut buf[len..len + 1]).is_ok()
                    && buf[len] != 0
                {
                    len += 1;
                }
                let text = core::str::from_utf8(&buf[..len]).unwrap_or("(not UTF-8)");
                warn!("{}: os-term: {}", lpar.label(), text.trim_end());
            }
            stop_lpar(lpar, vcpu, StopReason::Crash)
        }
        Request::StopSelf => {
            // The last running vCPU stopping itself leaves nothing to run the LPAR: that is a
            // crash in all but name; the others just park.
            let others_running =
                lpar.vcpus.iter().any(|v| v.pir != vcpu.pir && v.state() != VcpuState::Stopped);
            if !others_running {
                warn!("{}: its last vCPU stopped itself", lpar.label());
                stop_lpar(lpar, vcpu, StopReason::Crash)
            }
            leave(Leave::StopSelf)
        }
        Request::StartCpu { server, entry, r3 } => {
            r[0] = match lpar.vcpu_by_server(u64::from(server)) {
                None => RTAS_PARAMETER_ERROR,
                Some(_) if !lpar.carve.contains(entry, 4) => RTAS_PARAMETER_ERROR,
                Some(target) if !target.claim_for_start() => RTAS_HARDWARE_ERROR,
                Some(target) => {
                    *target.start.lock() = (entry, r3);
                    if dispatch(lpar, target) {
                        RTAS_SUCCESS
                    } else {
                        target.set_state(VcpuState::Stopped);
                        RTAS_HARDWARE_ERROR
                    }
                }
            }
        }
        Request::QueryCpuStoppedState { server } => match lpar.vcpu_by_server(u64::from(server)) {
            None => r[0] = RTAS_PARAMETER_ERROR,
            Some(target) => r[1] = if target.state() == VcpuState::Stopped { 0 } else { 2 },
        },
        Request::EventScan => r[0] = RTAS_NO_EVENT,
        Request::InterruptSource { .. } => r[0] = RTAS_PARAMETER_ERROR,
    }
    r
}

/// The hardware clock in seconds since 1970, if there is one.
fn hardware_seconds() -> Option<i64> {
    let t = crate::image::console::rtc()?.read_time()?;
    Some(to_seconds(&TimeOfDay {
        year: u32::from(t.year),
        month: u32::from(t.month),
        day: u32::from(t.day),
        hour: u32::from(t.hour),
        minute: u32::from(t.minute),
        second: u32::from(t.second),
        nanosecond: 0,
    }))
}

/// The LPAR's time of day: the hardware clock plus its offset.
fn time_of_day(lpar: &Lpar) -> Option<TimeOfDay> {
    let now = hardware_seconds()?;
    Some(from_seconds(now.wrapping_add(lpar.clock_offset.load(Ordering::Acquire) as i64)))
}
