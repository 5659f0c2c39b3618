//! The OPAL call table and its handlers.
//!
//! Arguments are the caller's r3–r10. Pointers are real addresses of big-endian data in the
//! caller's memory; every access goes through [`OpalEnv::read_mem`]/[`OpalEnv::write_mem`],
//! which refuse anything outside the caller's RAM, so a bad pointer is `OPAL_PARAMETER`.

use super::env::{CpuStatus, OpalEnv};
use super::{bcd_to_datetime, datetime_to_bcd, event, rc, reinit, token, OpalResult};

use super::xive::token as xt;

type Handler = fn(&[u64; 8], &mut dyn OpalEnv) -> OpalResult;

/// The OPAL XIVE calls, answered by the interrupt controller's services when it is up.
fn xive_call<const T: u64>(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    match env.xive() {
        Some(x) => super::xive::dispatch(T, a, x),
        None => rc::UNSUPPORTED,
    }
}

/// One implemented call.
pub struct Call {
    /// Token (r0).
    pub token: u64,
    /// Name, for logs and documentation.
    pub name: &'static str,
    handler: Handler,
}

/// Every implemented call. Unknown tokens get `OPAL_PARAMETER`; OPAL_CHECK_TOKEN answers
/// from this table, so it always tells the truth.
pub const CALLS: &[Call] = &[
    Call { token: token::CONSOLE_WRITE, name: "CONSOLE_WRITE", handler: console_write },
    Call { token: token::CONSOLE_READ, name: "CONSOLE_READ", handler: console_read },
    Call { token: token::RTC_READ, name: "RTC_READ", handler: rtc_read },
    Call { token: token::RTC_WRITE, name: "RTC_WRITE", handler: rtc_write },
    Call { token: token::CEC_POWER_DOWN, name: "CEC_POWER_DOWN", handler: cec_power_down },
    Call { token: token::CEC_REBOOT, name: "CEC_REBOOT", handler: cec_reboot },
    Call { token: token::READ_NVRAM, name: "READ_NVRAM", handler: read_nvram },
    Call { token: token::WRITE_NVRAM, name: "WRITE_NVRAM", handler: write_nvram },
    Call { token: token::POLL_EVENTS, name: "POLL_EVENTS", handler: poll_events },
    Call {
        token: token::CONSOLE_WRITE_BUFFER_SPACE,
        name: "CONSOLE_WRITE_BUFFER_SPACE",
        handler: console_space,
    },
    Call { token: token::START_CPU, name: "START_CPU", handler: start_cpu },
    Call { token: token::QUERY_CPU_STATUS, name: "QUERY_CPU_STATUS", handler: query_cpu_status },
    Call { token: token::RETURN_CPU, name: "RETURN_CPU", handler: return_cpu },
    Call { token: token::REINIT_CPUS, name: "REINIT_CPUS", handler: reinit_cpus },
    Call { token: token::CHECK_TOKEN, name: "CHECK_TOKEN", handler: check_token },
    Call { token: token::GET_MSG, name: "GET_MSG", handler: get_msg },
    Call {
        token: token::CHECK_ASYNC_COMPLETION,
        name: "CHECK_ASYNC_COMPLETION",
        handler: check_async_completion,
    },
    Call { token: token::SYNC_HOST_REBOOT, name: "SYNC_HOST_REBOOT", handler: sync_host_reboot },
    Call { token: token::HANDLE_HMI, name: "HANDLE_HMI", handler: handle_hmi },
    Call { token: token::CEC_REBOOT2, name: "CEC_REBOOT2", handler: cec_reboot2 },
    Call { token: token::CONSOLE_FLUSH, name: "CONSOLE_FLUSH", handler: console_flush },
    Call { token: token::HANDLE_HMI2, name: "HANDLE_HMI2", handler: handle_hmi2 },
    Call { token: xt::RESET, name: "XIVE_RESET", handler: xive_call::<{ xt::RESET }> },
    Call { token: xt::GET_IRQ_INFO, name: "XIVE_GET_IRQ_INFO", handler: xive_call::<{ xt::GET_IRQ_INFO }> },
    Call {
        token: xt::GET_IRQ_CONFIG,
        name: "XIVE_GET_IRQ_CONFIG",
        handler: xive_call::<{ xt::GET_IRQ_CONFIG }>,
    },
    Call {
        token: xt::SET_IRQ_CONFIG,
        name: "XIVE_SET_IRQ_CONFIG",
        handler: xive_call::<{ xt::SET_IRQ_CONFIG }>,
    },
    Call {
        token: xt::GET_QUEUE_INFO,
        name: "XIVE_GET_QUEUE_INFO",
        handler: xive_call::<{ xt::GET_QUEUE_INFO }>,
    },
    Call {
        token: xt::SET_QUEUE_INFO,
        name: "XIVE_SET_QUEUE_INFO",
        handler: xive_call::<{ xt::SET_QUEUE_INFO }>,
    },
    Call { token: xt::DONATE_PAGE, name: "XIVE_DONATE_PAGE", handler: xive_call::<{ xt::DONATE_PAGE }> },
    Call {
        token: xt::ALLOCATE_VP_BLOCK,
        name: "XIVE_ALLOCATE_VP_BLOCK",
        handler: xive_call::<{ xt::ALLOCATE_VP_BLOCK }>,
    },
    Call {
        token: xt::FREE_VP_BLOCK,
        name: "XIVE_FREE_VP_BLOCK",
        handler: xive_call::<{ xt::FREE_VP_BLOCK }>,
    },
    Call { token: xt::GET_VP_INFO, name: "XIVE_GET_VP_INFO", handler: xive_call::<{ xt::GET_VP_INFO }> },
    Call { token: xt::SET_VP_INFO, name: "XIVE_SET_VP_INFO", handler: xive_call::<{ xt::SET_VP_INFO }> },
    Call { token: xt::ALLOCATE_IRQ, name: "XIVE_ALLOCATE_IRQ", handler: xive_call::<{ xt::ALLOCATE_IRQ }> },
    Call { token: xt::FREE_IRQ, name: "XIVE_FREE_IRQ", handler: xive_call::<{ xt::FREE_IRQ }> },
    Call { token: xt::SYNC, name: "XIVE_SYNC", handler: xive_call::<{ xt::SYNC }> },
    Call {
        token: xt::GET_QUEUE_STATE,
        name: "XIVE_GET_QUEUE_STATE",
        handler: xive_call::<{ xt::GET_QUEUE_STATE }>,
    },
    Call {
        token: xt::SET_QUEUE_STATE,
        name: "XIVE_SET_QUEUE_STATE",
        handler: xive_call::<{ xt::SET_QUEUE_STATE }>,
    },
    Call { token: xt::GET_VP_STATE, name: "XIVE_GET_VP_STATE", handler: xive_call::<{ xt::GET_VP_STATE }> },
];

/// No token appears twice (checked when the firmware is compiled).
const _: () = {
    let mut i = 0;
    while i < CALLS.len() {
        let mut j = i + 1;
        while j < CALLS.len() {
            assert!(CALLS[i].token != CALLS[j].token, "duplicate OPAL token in CALLS");
            j += 1;
        }
        i += 1;
    }
};

/// Whether `token` is implemented.
pub fn implemented(token: u64) -> bool {
    CALLS.iter().any(|c| c.token == token)
}

/// Runs the call `token` with the caller's arguments.
pub fn dispatch(token: u64, args: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    match CALLS.iter().find(|c| c.token == token) {
        Some(call) => (call.handler)(args, env),
        None => rc::PARAMETER,
    }
}

/// Largest console transfer per call (the caller loops for more).
const CONSOLE_CHUNK: usize = 4096;
/// Space reported by OPAL_CONSOLE_WRITE_BUFFER_SPACE: output is written synchronously.
const CONSOLE_SPACE: u64 = CONSOLE_CHUNK as u64;
/// Size of an OPAL message buffer (`opal-msg-size`).
pub const OPAL_MSG_SIZE: u64 = 72;

fn read_be64(env: &mut dyn OpalEnv, addr: u64) -> Option<u64> {
    let mut b = [0u8; 8];
    env.read_mem(addr, &mut b).then(|| u64::from_be_bytes(b))
}

fn write_be64(env: &mut dyn OpalEnv, addr: u64, v: u64) -> bool {
    env.write_mem(addr, &v.to_be_bytes())
}

fn console_write(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    let (term, len_ptr, buf) = (a[0], a[1], a[2]);
    if term != 0 {
        return rc::PARAMETER;
    }
    let Some(len) = read_be64(env, len_ptr) else { return rc::PARAMETER };
    let len = len.min(CONSOLE_CHUNK as u64) as usize;
    let mut data = [0u8; 256];
    let mut done = 0usize;
    while done < len {
        let n = (len - done).min(data.len());
        if !env.read_mem(buf.wrapping_add(done as u64), &mut data[..n]) {
            return rc::PARAMETER;
        }
        let taken = env.console_write(&data[..n]);
        done += taken;
        if taken < n {
            break;
        }
    }
    if !write_be64(env, len_ptr, done as u64) {
        return rc::PARAMETER;
    }
    rc::SUCCESS
}

fn console_space(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    if a[0] != 0 {
        return rc::PARAMETER;
    }
    if write_be64(env, a[1], CONSOLE_SPACE) {
        rc::SUCCESS
    } else {
        rc::PARAMETER
    }
}

fn console_read(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    let (term, len_ptr, buf) = (a[0], a[1], a[2]);
    if term != 0 {
        return rc::PARAMETER;
    }
    let Some(len) = read_be64(env, len_ptr) else { return rc::PARAMETER };
    let mut data = [0u8; 256];
    let want = (len as usize).min(data.len());
    let n = env.console_read(&mut data[..want]);
    if !env.write_mem(buf, &data[..n]) || !write_be64(env, len_ptr, n as u64) {
        return rc::PARAMETER;
    }
    rc::SUCCESS
}

fn console_flush(a: &[u64; 8], _env: &mut dyn OpalEnv) -> OpalResult {
    // Output is written synchronously: nothing is ever left to flush.
    if a[0] != 0 {
        rc::PARAMETER
    } else {
        rc::SUCCESS
    }
}

fn rtc_read(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    let Some(t) = env.rtc_read() else { return rc::HARDWARE };
    let (ymd, hms) = datetime_to_bcd(&t);
    if !env.write_mem(a[0], &ymd.to_be_bytes()) || !write_be64(env, a[1], hms) {
        return rc::PARAMETER;
    }
    rc::SUCCESS
}

fn rtc_write(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    let Ok(ymd) = u32::try_from(a[0]) else { return rc::PARAMETER };
    match bcd_to_datetime(ymd, a[1]) {
        Some(t) if env.rtc_write(&t) => rc::SUCCESS,
        Some(_) => rc::HARDWARE,
        None => rc::PARAMETER,
    }
}

fn cec_power_down(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    // Request 0: normal; 1: immediate (after a fatal error); 2: for a code update.
    if a[0] > 2 {
        return rc::PARAMETER;
    }
    if env.power_down() {
        rc::SUCCESS
    } else {
        rc::HARDWARE
    }
}

fn cec_reboot(_a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    if env.reboot() {
        rc::SUCCESS
    } else {
        rc::HARDWARE
    }
}

fn cec_reboot2(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    // 0 normal, 1 after a platform error, 2 full IPL: all a BMC reset here. 3 (memory-
    // preserving IPL) and 4 (fast reboot) are not supported.
    match a[0] {
        0..=2 => cec_reboot(a, env),
        3 | 4 => rc::UNSUPPORTED,
        _ => rc::PARAMETER,
    }
}

fn sync_host_reboot(_a: &[u64; 8], _env: &mut dyn OpalEnv) -> OpalResult {
    // No asynchronous firmware work is ever in flight.
    rc::SUCCESS
}

fn poll_events(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    let mut events = 0;
    if env.console_input_ready() {
        events |= event::CONSOLE_INPUT;
    }
    if a[0] != 0 && !write_be64(env, a[0], events) {
        return rc::PARAMETER;
    }
    rc::SUCCESS
}

fn check_token(a: &[u64; 8], _env: &mut dyn OpalEnv) -> OpalResult {
    // OPAL_TOKEN_PRESENT = 1, OPAL_TOKEN_ABSENT = 0.
    implemented(a[0]) as i64
}

fn pir_arg(v: u64) -> Option<u32> {
    u32::try_from(v).ok()
}

fn start_cpu(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    let Some(pir) = pir_arg(a[0]) else { return rc::PARAMETER };
    match env.cpu_status(pir) {
        CpuStatus::Inactive if env.start_cpu(pir, a[1]) => rc::SUCCESS,
        CpuStatus::Inactive => rc::PARAMETER,
        CpuStatus::Started => rc::WRONG_STATE,
        CpuStatus::Unavailable => rc::PARAMETER,
    }
}

fn query_cpu_status(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    let Some(pir) = pir_arg(a[0]) else { return rc::PARAMETER };
    let status = env.cpu_status(pir);
    if status == CpuStatus::Unavailable {
        return rc::PARAMETER;
    }
    if env.write_mem(a[1], &[status as u8]) {
        rc::SUCCESS
    } else {
        rc::PARAMETER
    }
}

fn return_cpu(_a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    env.return_cpu()
}

fn reinit_cpus(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    let flags = a[0];
    let known = reinit::HILE_BE
        | reinit::HILE_LE
        | reinit::MMU_HASH
        | reinit::MMU_RADIX
        | reinit::TM_SUSPEND_DISABLED;
    if flags & !known != 0 {
        return rc::UNSUPPORTED;
    }
    if flags & reinit::HILE_BE != 0 && flags & reinit::HILE_LE != 0 {
        return rc::PARAMETER;
    }
    env.reinit_cpus(flags)
}

fn get_msg(a: &[u64; 8], _env: &mut dyn OpalEnv) -> OpalResult {
    if a[1] < OPAL_MSG_SIZE {
        return rc::PARAMETER;
    }
    // The firmware never queues messages (yet).
    rc::RESOURCE
}

fn check_async_completion(_a: &[u64; 8], _env: &mut dyn OpalEnv) -> OpalResult {
    // No call ever completes asynchronously, so no token is outstanding.
    rc::PARAMETER
}

fn handle_hmi(_a: &[u64; 8], _env: &mut dyn OpalEnv) -> OpalResult {
    rc::SUCCESS
}

fn handle_hmi2(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    // Nothing was recovered: no flags.
    if write_be64(env, a[0], 0) {
        rc::SUCCESS
    } else {
        rc::PARAMETER
    }
}

/// Checks an NVRAM request against its size; returns the byte range.
fn nvram_range(size: usize, offset: u64, len: u64) -> Option<core::ops::Range<usize>> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    (end <= size).then_some(start..end)
}

fn read_nvram(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    let (buf, len, offset) = (a[0], a[1], a[2]);
    let Some(range) = nvram_range(env.nvram_size(), offset, len) else { return rc::PARAMETER };
    let mut chunk = [0u8; 256];
    let mut at = range.start;
    while at < range.end {
        let n = (range.end - at).min(chunk.len());
        env.nvram_read(at, &mut chunk[..n]);
        if !env.write_mem(buf + (at - range.start) as u64, &chunk[..n]) {
            return rc::PARAMETER;
        }
        at += n;
    }
    rc::SUCCESS
}

fn write_nvram(a: &[u64; 8], env: &mut dyn OpalEnv) -> OpalResult {
    let (buf, len, offset) = (a[0], a[1], a[2]);
    let Some(range) = nvram_range(env.nvram_size(), offset, len) else { return rc::PARAMETER };
    let mut chunk = [0u8; 256];
    let mut at = range.start;
    while at < range.end {
        let n = (range.end - at).min(chunk.len());
        if !env.read_mem(buf + (at - range.start) as u64, &mut chunk[..n]) {
            return rc::PARAMETER;
        }
        env.nvram_write(at, &chunk[..n]);
        at += n;
    }
    rc::SUCCESS
}

#[cfg(test)]
mod tests;
