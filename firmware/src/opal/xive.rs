//! OPAL XIVE calls: the exploitation-mode interface Linux's `xive/native.c` drives when the
//! tree has an `ibm,opal-xive-pe` node.
//!
//! Handlers take the caller's r3–r10 and an [`XiveEnv`]: caller memory for the big-endian
//! results, a check that a queue page is the OS's RAM, the calling thread, and the
//! controller ([`XiveOps`], implemented by `oxiboot_platform::xive::Xive`). They check the
//! argument widths and pointers, call the controller, and write the results. A result
//! pointer of 0 means "not wanted" (Linux passes NULL for values it ignores).

use super::{rc, OpalResult};
use oxiboot_platform::xive::{XiveError, XiveOps};

/// Tokens of the XIVE calls (skiboot `include/opal-api.h`).
pub mod token {
    /// Reset the controller into emulation (0) or exploitation (1) mode.
    pub const RESET: u64 = 128;
    /// ESB pages, flags and chip of an interrupt.
    pub const GET_IRQ_INFO: u64 = 129;
    /// Target VP, priority and data of an interrupt.
    pub const GET_IRQ_CONFIG: u64 = 130;
    /// Route (or mask) an interrupt.
    pub const SET_IRQ_CONFIG: u64 = 131;
    /// Queue page, size, END ESB page, escalation interrupt and flags of a VP's queue.
    pub const GET_QUEUE_INFO: u64 = 132;
    /// Configure (or disable) a VP's queue.
    pub const SET_QUEUE_INFO: u64 = 133;
    /// Give the firmware a page for indirect tables.
    pub const DONATE_PAGE: u64 = 134;
    /// Allocate a block of 2^order VPs.
    pub const ALLOCATE_VP_BLOCK: u64 = 135;
    /// Free a VP block.
    pub const FREE_VP_BLOCK: u64 = 136;
    /// Flags, CAM value, report line and chip of a VP.
    pub const GET_VP_INFO: u64 = 137;
    /// Enable or disable a VP.
    pub const SET_VP_INFO: u64 = 138;
    /// Allocate an IPI.
    pub const ALLOCATE_IRQ: u64 = 139;
    /// Free an IPI.
    pub const FREE_IRQ: u64 = 140;
    /// Wait for in-flight events of an interrupt.
    pub const SYNC: u64 = 141;
    /// Generation bit and index of a queue.
    pub const GET_QUEUE_STATE: u64 = 143;
    /// Restore the generation bit and index of a queue.
    pub const SET_QUEUE_STATE: u64 = 144;
    /// Saved interrupt context of a VP.
    pub const GET_VP_STATE: u64 = 170;
}

/// Every implemented call as (token, name), for the OPAL call table.
pub const CALLS: &[(u64, &str)] = &[
    (token::RESET, "XIVE_RESET"),
    (token::GET_IRQ_INFO, "XIVE_GET_IRQ_INFO"),
    (token::GET_IRQ_CONFIG, "XIVE_GET_IRQ_CONFIG"),
    (token::SET_IRQ_CONFIG, "XIVE_SET_IRQ_CONFIG"),
    (token::GET_QUEUE_INFO, "XIVE_GET_QUEUE_INFO"),
    (token::SET_QUEUE_INFO, "XIVE_SET_QUEUE_INFO"),
    (token::DONATE_PAGE, "XIVE_DONATE_PAGE"),
    (token::ALLOCATE_VP_BLOCK, "XIVE_ALLOCATE_VP_BLOCK"),
    (token::FREE_VP_BLOCK, "XIVE_FREE_VP_BLOCK"),
    (token::GET_VP_INFO, "XIVE_GET_VP_INFO"),
    (token::SET_VP_INFO, "XIVE_SET_VP_INFO"),
    (token::ALLOCATE_IRQ, "XIVE_ALLOCATE_IRQ"),
    (token::FREE_IRQ, "XIVE_FREE_IRQ"),
    (token::SYNC, "XIVE_SYNC"),
    (token::GET_QUEUE_STATE, "XIVE_GET_QUEUE_STATE"),
    (token::SET_QUEUE_STATE, "XIVE_SET_QUEUE_STATE"),
    (token::GET_VP_STATE, "XIVE_GET_VP_STATE"),
];

/// What the XIVE handlers need from the firmware.
pub trait XiveEnv {
    /// Copies caller memory at `addr` into `buf`; `false` if not the caller's RAM.
    fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> bool;
    /// Copies `data` to caller memory at `addr`; `false` if not the caller's RAM.
    fn write_mem(&mut self, addr: u64, data: &[u8]) -> bool;
    /// Whether `addr..addr + len` (a physical address the hardware will write) is RAM the
    /// OS owns: not firmware, not reserved, not MMIO.
    fn is_os_ram(&mut self, addr: u64, len: u64) -> bool;
    /// PIR of the calling thread.
    fn caller_pir(&mut self) -> u32;
    /// The controller, locked for the call; `None` before it is initialised.
    fn controller(&mut self) -> Option<&mut dyn XiveOps>;
}

/// Runs the XIVE call `token` (one of [`CALLS`]); unknown tokens get `OPAL_PARAMETER`.
pub fn dispatch(token: u64, a: &[u64; 8], env: &mut dyn XiveEnv) -> OpalResult {
    let r = match token {
        token::RESET => reset(a, env),
        token::GET_IRQ_INFO => get_irq_info(a, env),
        token::GET_IRQ_CONFIG => get_irq_config(a, env),
        token::SET_IRQ_CONFIG => set_irq_config(a, env),
        token::GET_QUEUE_INFO => get_queue_info(a, env),
        token::SET_QUEUE_INFO => set_queue_info(a, env),
        token::DONATE_PAGE => donate_page(a, env),
        token::ALLOCATE_VP_BLOCK => allocate_vp_block(a, env),
        token::FREE_VP_BLOCK => free_vp_block(a, env),
        token::GET_VP_INFO => get_vp_info(a, env),
        token::SET_VP_INFO => set_vp_info(a, env),
        token::ALLOCATE_IRQ => allocate_irq(a, env),
        token::FREE_IRQ => free_irq(a, env),
        token::SYNC => sync(a, env),
        token::GET_QUEUE_STATE => get_queue_state(a, env),
        token::SET_QUEUE_STATE => set_queue_state(a, env),
        token::GET_VP_STATE => get_vp_state(a, env),
        _ => Err(rc::PARAMETER),
    };
    r.unwrap_or_else(|e| e)
}

type Res = Result<OpalResult, OpalResult>;

fn u32_arg(v: u64) -> Result<u32, OpalResult> {
    u32::try_from(v).map_err(|_| rc::PARAMETER)
}

fn u8_arg(v: u64) -> Result<u8, OpalResult> {
    u8::try_from(v).map_err(|_| rc::PARAMETER)
}

fn ctl(env: &mut dyn XiveEnv) -> Result<&mut dyn XiveOps, OpalResult> {
    env.controller().ok_or(rc::UNSUPPORTED)
}

fn done<T>(r: Result<T, XiveError>) -> Result<T, OpalResult> {
    r.map_err(XiveError::opal_rc)
}

/// Checks that every non-null result pointer is writable before anything changes.
fn check_out(env: &mut dyn XiveEnv, outs: &[(u64, usize)]) -> Result<(), OpalResult> {
    let mut probe = [0u8; 8];
    for &(addr, len) in outs {
        if addr != 0 && !env.read_mem(addr, &mut probe[..len]) {
            return Err(rc::PARAMETER);
        }
    }
    Ok(())
}

/// Writes results; null pointers are skipped.
fn put(env: &mut dyn XiveEnv, outs: &[(u64, &[u8])]) -> Res {
    for &(addr, data) in outs {
        if addr != 0 && !env.write_mem(addr, data) {
            return Err(rc::PARAMETER);
        }
    }
    Ok(rc::SUCCESS)
}

fn reset(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    done(ctl(env)?.reset(a[0]))?;
    Ok(rc::SUCCESS)
}

fn get_irq_info(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    let girq = u32_arg(a[0])?;
    // Linux always wants the flags.
    if a[1] == 0 {
        return Err(rc::PARAMETER);
    }
    check_out(env, &[(a[1], 8), (a[2], 8), (a[3], 8), (a[4], 4), (a[5], 4)])?;
    let i = done(ctl(env)?.irq_info(girq))?;
    put(
        env,
        &[
            (a[1], &i.flags.to_be_bytes()),
            (a[2], &i.eoi_page.to_be_bytes()),
            (a[3], &i.trig_page.to_be_bytes()),
            (a[4], &i.esb_shift.to_be_bytes()),
            (a[5], &i.src_chip.to_be_bytes()),
        ],
    )
}

fn get_irq_config(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    let girq = u32_arg(a[0])?;
    if a[1] == 0 {
        return Err(rc::PARAMETER);
    }
    check_out(env, &[(a[1], 8), (a[2], 1), (a[3], 4)])?;
    let c = done(ctl(env)?.irq_config(girq))?;
    put(env, &[(a[1], &c.vp.to_be_bytes()), (a[2], &[c.prio]), (a[3], &c.lirq.to_be_bytes())])
}

fn set_irq_config(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    let (girq, prio, lirq) = (u32_arg(a[0])?, u8_arg(a[2])?, u32_arg(a[3])?);
    done(ctl(env)?.set_irq_config(girq, a[1], prio, lirq))?;
    Ok(rc::SUCCESS)
}

fn get_queue_info(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    let prio = u8_arg(a[1])?;
    check_out(env, &[(a[2], 8), (a[3], 8), (a[4], 8), (a[5], 4), (a[6], 8)])?;
    let q = done(ctl(env)?.queue_info(a[0], prio))?;
    put(
        env,
        &[
            (a[2], &q.qpage.to_be_bytes()),
            (a[3], &q.qshift.to_be_bytes()),
            (a[4], &q.qeoi_page.to_be_bytes()),
            (a[5], &q.escalate_irq.to_be_bytes()),
            (a[6], &q.flags.to_be_bytes()),
        ],
    )
}

fn set_queue_info(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    let (vp, prio, qpage, qshift, flags) = (a[0], u8_arg(a[1])?, a[2], a[3], a[4]);
    // The controller will write to the queue page: it must be the OS's own RAM.
    let enabled = flags & oxiboot_platform::xive::queue_flags::ENABLED != 0;
    if enabled && qshift != 0 && (qshift > 24 || !env.is_os_ram(qpage, 1 << qshift)) {
        return Err(rc::PARAMETER);
    }
    done(ctl(env)?.set_queue_info(vp, prio, qpage, qshift, flags))?;
    Ok(rc::SUCCESS)
}

fn get_queue_state(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    let prio = u8_arg(a[1])?;
    if a[2] == 0 || a[3] == 0 {
        return Err(rc::PARAMETER);
    }
    check_out(env, &[(a[2], 4), (a[3], 4)])?;
    let (toggle, index) = done(ctl(env)?.queue_state(a[0], prio))?;
    put(env, &[(a[2], &toggle.to_be_bytes()), (a[3], &index.to_be_bytes())])
}

fn set_queue_state(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    let (prio, toggle, index) = (u8_arg(a[1])?, u32_arg(a[2])?, u32_arg(a[3])?);
    done(ctl(env)?.set_queue_state(a[0], prio, toggle, index))?;
    Ok(rc::SUCCESS)
}

fn donate_page(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    let chip = u32_arg(a[0])?;
    done(ctl(env)?.donate_page(chip, a[1]))?;
    Ok(rc::SUCCESS)
}

fn allocate_vp_block(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    let order = u32_arg(a[0])?;
    let base = done(ctl(env)?.allocate_vp_block(order as u64))?;
    Ok(base as OpalResult)
}

fn free_vp_block(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    done(ctl(env)?.free_vp_block(a[0]))?;
    Ok(rc::SUCCESS)
}

fn get_vp_info(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    check_out(env, &[(a[1], 8), (a[2], 8), (a[3], 8), (a[4], 4)])?;
    let v = done(ctl(env)?.vp_info(a[0]))?;
    put(
        env,
        &[
            (a[1], &v.flags.to_be_bytes()),
            (a[2], &v.cam.to_be_bytes()),
            (a[3], &v.report_cl_pair.to_be_bytes()),
            (a[4], &v.chip_id.to_be_bytes()),
        ],
    )
}

fn set_vp_info(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    // The report cache-line pair (two 128-byte lines) is written by the controller: it must
    // be the OS's RAM, like a queue page. 0 means none.
    if a[2] != 0 && !env.is_os_ram(a[2], 256) {
        return Err(rc::PARAMETER);
    }
    done(ctl(env)?.set_vp_info(a[0], a[1], a[2]))?;
    Ok(rc::SUCCESS)
}

fn get_vp_state(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    if a[1] == 0 {
        return Err(rc::PARAMETER);
    }
    check_out(env, &[(a[1], 8)])?;
    let s = done(ctl(env)?.vp_state(a[0]))?;
    put(env, &[(a[1], &s.to_be_bytes())])
}

fn allocate_irq(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    let chip = u32_arg(a[0])?;
    let pir = env.caller_pir();
    let girq = done(ctl(env)?.allocate_irq(chip, pir))?;
    Ok(girq as OpalResult)
}

fn free_irq(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    let girq = u32_arg(a[0])?;
    done(ctl(env)?.free_irq(girq))?;
    Ok(rc::SUCCESS)
}

fn sync(a: &[u64; 8], env: &mut dyn XiveEnv) -> Res {
    let (kind, girq) = (u32_arg(a[0])?, u32_arg(a[1])?);
    done(ctl(env)?.sync(kind, girq))?;
    Ok(rc::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxiboot_platform::xive::{IrqConfig, IrqInfo, QueueInfo, VpInfo};
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    const RAM: u64 = 0x1_0000;

    /// A controller that records each call and answers with fixed values, or `fail`.
    #[derive(Default)]
    struct Ctl {
        calls: Vec<String>,
        fail: Option<XiveError>,
    }

    impl Ctl {
        fn log<T>(&mut self, call: String, v: T) -> Result<T, XiveError> {
            self.calls.push(call);
            self.fail.map_or(Ok(v), Err)
        }
    }

    impl XiveOps for Ctl {
        fn reset(&mut self, mode: u64) -> Result<(), XiveError> {
            self.log(format!("reset {mode}"), ())
        }
        fn irq_info(&mut self, g: u32) -> Result<IrqInfo, XiveError> {
            let i = IrqInfo { flags: 1, eoi_page: 0x11, trig_page: 0x22, esb_shift: 17, src_chip: 8 };
            self.log(format!("irq_info {g:#x}"), i)
        }
        fn irq_config(&mut self, g: u32) -> Result<IrqConfig, XiveError> {
            self.log(format!("irq_config {g:#x}"), IrqConfig { vp: 0x104, prio: 6, lirq: 0x33 })
        }
        fn set_irq_config(&mut self, g: u32, vp: u64, prio: u8, lirq: u32) -> Result<(), XiveError> {
            self.log(format!("set_irq_config {g:#x} {vp:#x} {prio} {lirq:#x}"), ())
        }
        fn queue_info(&mut self, vp: u64, prio: u8) -> Result<QueueInfo, XiveError> {
            let q = QueueInfo {
                qpage: 0x100_0000,
                qshift: 12,
                qeoi_page: 0x44,
                escalate_irq: 0x0100_0007,
                flags: 3,
            };
            self.log(format!("queue_info {vp:#x} {prio}"), q)
        }
        fn set_queue_info(
            &mut self,
            vp: u64,
            prio: u8,
            qpage: u64,
            qshift: u64,
            flags: u64,
        ) -> Result<(), XiveError> {
            self.log(format!("set_queue_info {vp:#x} {prio} {qpage:#x} {qshift} {flags}"), ())
        }
        fn queue_state(&mut self, vp: u64, prio: u8) -> Result<(u32, u32), XiveError> {
            self.log(format!("queue_state {vp:#x} {prio}"), (1, 5))
        }
        fn set_queue_state(&mut self, vp: u64, prio: u8, t: u32, i: u32) -> Result<(), XiveError> {
            self.log(format!("set_queue_state {vp:#x} {prio} {t} {i}"), ())
        }
        fn donate_page(&mut self, chip: u32, addr: u64) -> Result<(), XiveError> {
            self.log(format!("donate_page {chip} {addr:#x}"), ())
        }
        fn allocate_vp_block(&mut self, order: u64) -> Result<u32, XiveError> {
            self.log(format!("allocate_vp_block {order}"), 0x4300_0000)
        }
        fn free_vp_block(&mut self, vp: u64) -> Result<(), XiveError> {
            self.log(format!("free_vp_block {vp:#x}"), ())
        }
        fn vp_info(&mut self, vp: u64) -> Result<VpInfo, XiveError> {
            let v = VpInfo { flags: 1, cam: 0x80084, report_cl_pair: 0x1200, chip_id: 1 };
            self.log(format!("vp_info {vp:#x}"), v)
        }
        fn set_vp_info(&mut self, vp: u64, flags: u64, pair: u64) -> Result<(), XiveError> {
            self.log(format!("set_vp_info {vp:#x} {flags} {pair:#x}"), ())
        }
        fn vp_state(&mut self, vp: u64) -> Result<u64, XiveError> {
            self.log(format!("vp_state {vp:#x}"), 0x00ff_0000_ff00_0000)
        }
        fn allocate_irq(&mut self, chip: u32, pir: u32) -> Result<u32, XiveError> {
            self.log(format!("allocate_irq {chip:#x} {pir:#x}"), 0x0010_0010)
        }
        fn free_irq(&mut self, g: u32) -> Result<(), XiveError> {
            self.log(format!("free_irq {g:#x}"), ())
        }
        fn sync(&mut self, kind: u32, g: u32) -> Result<(), XiveError> {
            self.log(format!("sync {kind} {g:#x}"), ())
        }
    }

    struct Env {
        ram: Vec<u8>,
        ctl: Option<Ctl>,
    }

    impl Env {
        fn new() -> Self {
            Self { ram: std::vec![0xaa; 0x1000], ctl: Some(Ctl::default()) }
        }
        fn range(&self, addr: u64, len: usize) -> Option<core::ops::Range<usize>> {
            let off = usize::try_from(addr.checked_sub(RAM)?).ok()?;
            (off + len <= self.ram.len()).then_some(off..off + len)
        }
        fn get(&self, addr: u64, len: usize) -> &[u8] {
            &self.ram[self.range(addr, len).unwrap()]
        }
        fn calls(&self) -> &[String] {
            &self.ctl.as_ref().unwrap().calls
        }
        fn fail(&mut self, e: XiveError) {
            self.ctl.as_mut().unwrap().fail = Some(e);
        }
    }

    impl XiveEnv for Env {
        fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> bool {
            let Some(r) = self.range(addr, buf.len()) else { return false };
            buf.copy_from_slice(&self.ram[r]);
            true
        }
        fn write_mem(&mut self, addr: u64, data: &[u8]) -> bool {
            let Some(r) = self.range(addr, data.len()) else { return false };
            self.ram[r].copy_from_slice(data);
            true
        }
        fn is_os_ram(&mut self, addr: u64, len: u64) -> bool {
            // OS RAM: 16 MiB from 16 MiB.
            addr >= 0x100_0000 && addr.checked_add(len).is_some_and(|e| e <= 0x200_0000)
        }
        fn caller_pir(&mut self) -> u32 {
            0x105
        }
        fn controller(&mut self) -> Option<&mut dyn XiveOps> {
            self.ctl.as_mut().map(|c| c as &mut dyn XiveOps)
        }
    }

    fn call(env: &mut Env, token: u64, args: &[u64]) -> OpalResult {
        let mut a = [0u64; 8];
        a[..args.len()].copy_from_slice(args);
        dispatch(token, &a, env)
    }

    #[test]
    fn table_is_complete_and_unknown_tokens_fail() {
        let mut env = Env::new();
        for (i, &(t, name)) in CALLS.iter().enumerate() {
            assert!(CALLS[i + 1..].iter().all(|&(u, n)| u != t && n != name), "{name}");
        }
        assert_eq!(CALLS.len(), 17);
        // OPAL_XIVE_DUMP and the XICS emulation calls are not implemented.
        for t in [142, 122, 124, 19] {
            assert_eq!(call(&mut env, t, &[]), rc::PARAMETER);
        }
        env.ctl = None;
        assert_eq!(call(&mut env, token::RESET, &[1]), rc::UNSUPPORTED);
    }

    #[test]
    fn results_are_written_big_endian() {
        let mut env = Env::new();
        assert_eq!(
            call(&mut env, token::GET_IRQ_INFO, &[0x10, RAM, RAM + 8, RAM + 16, RAM + 24, RAM + 28]),
            0
        );
        assert_eq!(env.get(RAM, 8), [0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(env.get(RAM + 16, 8), [0, 0, 0, 0, 0, 0, 0, 0x22]);
        assert_eq!(env.get(RAM + 24, 8), [0, 0, 0, 17, 0, 0, 0, 8]);

        assert_eq!(call(&mut env, token::GET_IRQ_CONFIG, &[0x10, RAM + 0x100, RAM + 0x108, RAM + 0x10c]), 0);
        assert_eq!(env.get(RAM + 0x100, 16), [0, 0, 0, 0, 0, 0, 1, 4, 6, 0xaa, 0xaa, 0xaa, 0, 0, 0, 0x33]);

        // Null pointers are skipped (Linux asks for the EOI page and escalation only).
        env.ram.fill(0xaa);
        assert_eq!(call(&mut env, token::GET_QUEUE_INFO, &[0x5, 7, 0, 0, RAM, RAM + 8, 0]), 0);
        assert_eq!(env.get(RAM, 12), [0, 0, 0, 0, 0, 0, 0, 0x44, 1, 0, 0, 7]);
        assert_eq!(env.get(RAM + 12, 4), [0xaa; 4]);

        assert_eq!(call(&mut env, token::GET_QUEUE_STATE, &[0x5, 7, RAM, RAM + 4]), 0);
        assert_eq!(env.get(RAM, 8), [0, 0, 0, 1, 0, 0, 0, 5]);
        assert_eq!(call(&mut env, token::GET_VP_INFO, &[0x4300_0000, 0, RAM, 0, RAM + 8]), 0);
        assert_eq!(env.get(RAM, 12), [0, 0, 0, 0, 0, 8, 0, 0x84, 0, 0, 0, 1]);
        assert_eq!(call(&mut env, token::GET_VP_STATE, &[0x4300_0000, RAM]), 0);
        assert_eq!(env.get(RAM, 8), [0, 0xff, 0, 0, 0xff, 0, 0, 0]);
    }

    #[test]
    fn values_are_returned_in_r3() {
        let mut env = Env::new();
        assert_eq!(call(&mut env, token::ALLOCATE_IRQ, &[0xffff_ffff]), 0x0010_0010);
        assert_eq!(env.calls().last().unwrap(), "allocate_irq 0xffffffff 0x105");
        assert_eq!(call(&mut env, token::ALLOCATE_VP_BLOCK, &[3]), 0x4300_0000);
        env.fail(XiveError::Resource);
        assert_eq!(call(&mut env, token::ALLOCATE_IRQ, &[0]), rc::RESOURCE);
        env.fail(XiveError::FreeActive);
        assert_eq!(call(&mut env, token::FREE_VP_BLOCK, &[0x4300_0000]), -32);
        env.fail(XiveError::WrongState);
        assert_eq!(call(&mut env, token::GET_VP_STATE, &[0x4300_0000, RAM]), rc::WRONG_STATE);
    }

    #[test]
    fn arguments_are_passed_through_checked() {
        let mut env = Env::new();
        assert_eq!(call(&mut env, token::RESET, &[1]), 0);
        assert_eq!(call(&mut env, token::SET_IRQ_CONFIG, &[0x10, 0x104, 0xff, 0x20]), 0);
        assert_eq!(call(&mut env, token::SET_QUEUE_INFO, &[0x104, 7, 0x100_0000, 12, 3]), 0);
        assert_eq!(call(&mut env, token::SET_QUEUE_INFO, &[0x104, 7, 0, 0, 0]), 0);
        assert_eq!(call(&mut env, token::SET_QUEUE_STATE, &[0x104, 7, 1, 9]), 0);
        assert_eq!(call(&mut env, token::SET_VP_INFO, &[0x4300_0001, 1, 0x180_0000]), 0);
        assert_eq!(call(&mut env, token::DONATE_PAGE, &[1, 0x1_0000]), 0);
        assert_eq!(call(&mut env, token::FREE_IRQ, &[0x10]), 0);
        assert_eq!(call(&mut env, token::SYNC, &[3, 0x10]), 0);
        assert_eq!(
            env.calls(),
            [
                "reset 1",
                "set_irq_config 0x10 0x104 255 0x20",
                "set_queue_info 0x104 7 0x1000000 12 3",
                "set_queue_info 0x104 7 0x0 0 0",
                "set_queue_state 0x104 7 1 9",
                "set_vp_info 0x43000001 1 0x1800000",
                "donate_page 1 0x10000",
                "free_irq 0x10",
                "sync 3 0x10",
            ]
        );
    }

    #[test]
    fn bad_arguments_never_reach_the_controller() {
        let mut env = Env::new();
        let bad: &[(u64, &[u64])] = &[
            (token::GET_IRQ_INFO, &[1 << 32, RAM]),
            (token::GET_IRQ_INFO, &[0x10, 0]),
            (token::GET_IRQ_INFO, &[0x10, RAM, 0x99]),
            (token::GET_IRQ_CONFIG, &[0x10, RAM, RAM + 0x1000]),
            (token::SET_IRQ_CONFIG, &[0x10, 0x104, 0x100, 0]),
            (token::SET_IRQ_CONFIG, &[0x10, 0x104, 0, 1 << 32]),
            (token::GET_QUEUE_INFO, &[0x104, 1 << 8]),
            (token::GET_QUEUE_INFO, &[0x104, 7, RAM + 0xffc]),
            // Queue pages must be OS RAM, whole.
            (token::SET_QUEUE_INFO, &[0x104, 7, 0x3000_0000, 12, 1]),
            (token::SET_QUEUE_INFO, &[0x104, 7, 0x1ff_f000, 16, 1]),
            (token::SET_QUEUE_INFO, &[0x104, 7, 0x100_0000, 63, 1]),
            (token::GET_QUEUE_STATE, &[0x104, 7, 0, RAM]),
            (token::SET_QUEUE_STATE, &[0x104, 7, 1 << 32, 0]),
            (token::DONATE_PAGE, &[1 << 32, 0x1_0000]),
            (token::ALLOCATE_VP_BLOCK, &[1 << 32]),
            (token::GET_VP_INFO, &[0x104, 0x5]),
            (token::GET_VP_STATE, &[0x104, 0]),
            // The report line pair the controller writes must be OS RAM, whole.
            (token::SET_VP_INFO, &[0x104, 1, 0x3000_0000]),
            (token::SET_VP_INFO, &[0x104, 1, 0x1ff_ff80]),
            (token::ALLOCATE_IRQ, &[1 << 32]),
            (token::FREE_IRQ, &[u64::MAX]),
            (token::SYNC, &[1, 1 << 40]),
        ];
        for (t, args) in bad {
            assert_eq!(call(&mut env, *t, args), rc::PARAMETER, "token {t} {args:x?}");
        }
        assert!(env.calls().is_empty(), "{:?}", env.calls());
        // Controller errors come back as their OPAL codes.
        env.fail(XiveError::Parameter);
        assert_eq!(call(&mut env, token::FREE_IRQ, &[0x10]), rc::PARAMETER);
        env.fail(XiveError::Busy);
        assert_eq!(call(&mut env, token::SET_QUEUE_INFO, &[0x104, 7, 0, 0, 0]), rc::BUSY);
    }
}
