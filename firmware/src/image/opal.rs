//! OPAL at run time: the entry assembly, the PIR → slot table it uses, and the firmware
//! services behind the OPAL handlers ([`oxiboot::opal::OpalEnv`]).

use super::cpus::{self, this_cpu};
use super::{console, power, xive, LOGGER};
use core::mem::offset_of;
use core::sync::atomic::{AtomicU64, Ordering};
use oxiboot::memcons::Memcons;
use oxiboot::memmap::{self, FIRMWARE_BASE, FIRMWARE_END};
use oxiboot::nvram;
use oxiboot::opal::xive::XiveEnv;
use oxiboot::opal::{self, rc, reinit, CpuStatus, DateTime, OpalEnv};
use oxiboot::percpu::{opal_save, CpuState, PerCpu};
use oxiboot_platform::cpu;
use oxiboot_platform::model::Platform;
use oxiboot_platform::rtc::RtcTime;
use oxiboot_platform::spr::{num, Hid0, Msr};
use oxiboot_platform::xive::{Xive, XiveOps};

/// Highest PIR the table covers (POWER9 PIRs are 15 bits).
const MAX_PIR: usize = 0x7fff;

/// Slot (ticket) of each thread by PIR; 0xffff = not ours. Read by the entry assembly.
static mut PIR_SLOTS: [u16; MAX_PIR + 1] = [0; MAX_PIR + 1];

core::arch::global_asm!(
    include_str!("../opal_entry.S"),
    MAX_PIR = const MAX_PIR,
    PIR_SLOTS = sym PIR_SLOTS,
    PERCPU_SLOT_SHIFT = const memmap::PERCPU_SLOT_SHIFT,
    PERCPU_BASE_HI = const memmap::PERCPU_BASE >> 16,
    PERCPU_BASE_LO = const memmap::PERCPU_BASE & 0xffff,
    SAVE = const offset_of!(PerCpu, opal_save),
    ARGS = const offset_of!(PerCpu, opal_args),
    SAVE_R1 = const opal_save::R1,
    SAVE_R2 = const opal_save::R2,
    SAVE_R13 = const opal_save::R13,
    SAVE_LR = const opal_save::LR,
    SAVE_CR = const opal_save::CR,
    SAVE_BE = const opal_save::ENTERED_BE,
    SAVE_MSR = const opal_save::MSR,
    STACK_INIT_OFFSET = const memmap::PERCPU_STACK_TOP - 128,
    DISPATCH = sym opal_dispatch,
);

extern "C" {
    /// Start of the OPAL entry code (in opal_entry.S).
    fn opal_entry();
}

/// Address the OS calls OPAL at.
pub fn entry_address() -> u64 {
    opal_entry as *const () as u64
}

/// Records every online thread's slot by PIR (before the OS can call OPAL).
pub fn publish_pir_slots(online: &[&PerCpu]) {
    // SAFETY: written only here, by the boot thread, before any OPAL call can happen; the
    // entry code only reads it afterwards.
    let table = unsafe { &mut *core::ptr::addr_of_mut!(PIR_SLOTS) };
    table.fill(0xffff);
    for c in online {
        if let Some(slot) = table.get_mut(c.pir as usize) {
            *slot = c.ticket as u16;
        }
    }
}

/// The slot of the thread with this PIR, if the firmware brought it up.
fn slot_of(pir: u32) -> Option<&'static PerCpu> {
    // SAFETY: the table is only written before the OS starts.
    let ticket = *unsafe { &*core::ptr::addr_of!(PIR_SLOTS) }.get(pir as usize)?;
    if ticket == 0xffff {
        return None;
    }
    cpus::slot(ticket as u64)
}

/// The platform the OPAL services work on (set once at handoff).
static PLATFORM: spin::Once<Platform> = spin::Once::new();
/// HID0 bits the OS asked for with OPAL_REINIT_CPUS, applied to every thread it starts.
static HID0_WANTED: AtomicU64 = AtomicU64::new(Hid0::HILE.bits());
/// NVRAM contents in memory (written through to the flash NVRAM partition when there is one).
static NVRAM: spin::Mutex<[u8; NVRAM_SIZE]> = spin::Mutex::new([0; NVRAM_SIZE]);
/// Largest NVRAM the firmware keeps (the size of OpenPOWER's NVRAM partition).
pub const NVRAM_SIZE: usize = 576 * 1024;
/// NVRAM size advertised to the OS (the NVRAM partition's, if smaller).
static NVRAM_USED: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(NVRAM_SIZE);

/// Loads NVRAM from the flash partition, if there is one, and formats it if it is not a
/// valid partition chain (a blank or damaged NVRAM); returns the size in use.
pub fn load_nvram() -> usize {
    let mut nv = NVRAM.lock();
    let from_flash = super::flash::load_nvram(&mut nv[..]);
    let used = if from_flash > 0 { from_flash / nvram::BLOCK * nvram::BLOCK } else { NVRAM_SIZE };
    NVRAM_USED.store(used, Ordering::Release);
    if !nvram::is_valid(&nv[..used]) {
        if nvram::format(&mut nv[..used]) {
            log::info!("NVRAM: formatted {} KiB", used / 1024);
            if from_flash > 0 {
                super::flash::store_nvram(0, &nv[..used]);
            }
        } else {
            log::warn!("NVRAM: {used} bytes cannot be formatted");
        }
    }
    used
}

/// The memory-console descriptor of the log ring.
static MEMCONS: spin::Once<Memcons> = spin::Once::new();

fn memcons_update(pos: usize, wrapped: bool) {
    if let Some(m) = MEMCONS.get() {
        m.set_out_pos(pos as u32, wrapped);
    }
}

/// Publishes the log ring as a memory console; returns the descriptor's address.
pub fn memcons_address() -> u64 {
    let (buf, size) = LOGGER.with_ring(|r| (r.storage().as_ptr() as u64, r.storage().len() as u32));
    let m = MEMCONS.call_once(|| Memcons::new(buf, size));
    LOGGER.set_ring_observer(memcons_update);
    m as *const Memcons as u64
}

/// Makes the OPAL services available for `platform`.
pub fn prepare(platform: Platform) {
    PLATFORM.call_once(|| platform);
}

/// Called by the entry assembly with the token and the caller's r3–r10.
extern "C" fn opal_dispatch(token: u64, args: &[u64; 8]) -> i64 {
    opal::dispatch(token, args, &mut ImageEnv { xive: None })
}

/// Enters an OS at `entry` in big-endian hypervisor real mode (as skiboot does) with the
/// given r3 and r4..r9 (r6 carries the ePAPR magic for the boot thread).
pub fn enter_os(entry: u64, r3: u64, r8: u64, r9: u64, epapr: bool) -> ! {
    let msr = (Msr::SF | Msr::HV).bits();
    let r6 = if epapr { 0x6550_4150 } else { 0 };
    // SAFETY: the OS takes over this thread for good; everything it needs (tree, OPAL) is in
    // reserved memory. hrfid loads MSR from HSRR1 and jumps to HSRR0.
    unsafe {
        core::arch::asm!(
            "mtspr 314, {entry}",
            "mtspr 315, {msr}",
            "hrfid",
            entry = in(reg) entry,
            msr = in(reg) msr,
            in("r3") r3,
            in("r4") 0u64,
            in("r5") 0u64,
            in("r6") r6,
            in("r7") 0u64,
            in("r8") r8,
            in("r9") r9,
            options(noreturn)
        )
    }
}

/// Applies the HID0 bits the OS wants (interrupt endianness, radix) to this thread.
fn apply_hid0() {
    let wanted = HID0_WANTED.load(Ordering::Acquire);
    let mask = (Hid0::HILE | Hid0::RADIX).bits();
    let hid0 = (cpu::mfspr::<{ num::HID0 }>() & !mask) | (wanted & mask);
    // SAFETY: HILE and RADIX only select interrupt endianness and the MMU mode the OS
    // asked for with OPAL_REINIT_CPUS.
    unsafe { core::arch::asm!("sync", "mtspr 1008, {0}", "isync", in(reg) hid0, options(nostack)) };
}

/// Job run by a held thread that the OS starts: enter the OS at `entry`.
fn start_job(entry: u64) -> u64 {
    let me = this_cpu();
    apply_hid0();
    me.set_state(CpuState::Os);
    // The job never returns: empty the (detached) mailbox now, so that the thread takes
    // jobs again after OPAL_RETURN_CPU (kexec hands its threads back that way).
    me.mailbox.finish(0);
    enter_os(entry, me.pir as u64, 0, 0, false)
}

/// Job run on held threads for OPAL_REINIT_CPUS.
fn reinit_job(_: u64) -> u64 {
    apply_hid0();
    0
}

/// The firmware services behind the OPAL handlers.
struct ImageEnv {
    /// The interrupt controller, locked for the duration of an XIVE call.
    xive: Option<spin::MutexGuard<'static, Option<Xive<xive::Hw>>>>,
}

/// Hypervisor real mode ignores the top four bits of an effective address, so the OS may
/// pass pointers into its linear map (0xc000…) and OPAL must treat them the same way.
const REAL_MODE_ADDRESS_MASK: u64 = 0x0fff_ffff_ffff_ffff;

impl ImageEnv {
    /// Whether `[addr, addr + len)` (a real address) is RAM that belongs to the caller.
    fn caller_memory(addr: u64, len: usize) -> bool {
        let Some(end) = addr.checked_add(len as u64) else { return false };
        let Some(p) = PLATFORM.get() else { return false };
        p.ram_contains(addr, len as u64) && (end <= FIRMWARE_BASE || addr >= FIRMWARE_END)
    }
}

impl OpalEnv for ImageEnv {
    fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> bool {
        let addr = addr & REAL_MODE_ADDRESS_MASK;
        if !Self::caller_memory(addr, buf.len()) {
            return false;
        }
        // SAFETY: the range is RAM outside the firmware's memory (checked above); the MMU
        // is off, so the real address is the address.
        unsafe { core::ptr::copy_nonoverlapping(addr as *const u8, buf.as_mut_ptr(), buf.len()) };
        true
    }

    fn write_mem(&mut self, addr: u64, data: &[u8]) -> bool {
        let addr = addr & REAL_MODE_ADDRESS_MASK;
        if !Self::caller_memory(addr, data.len()) {
            return false;
        }
        // SAFETY: as in read_mem; the caller asked for results at this address.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len()) };
        true
    }

    fn console_write(&mut self, data: &[u8]) -> usize {
        console::write_raw(data)
    }

    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        console::read_raw(buf)
    }

    fn console_input_ready(&mut self) -> bool {
        console::input_ready()
    }

    fn rtc_read(&mut self) -> Option<DateTime> {
        let t = console::rtc()?.read_time()?;
        Some(DateTime {
            year: t.year,
            month: t.month,
            day: t.day,
            hour: t.hour,
            minute: t.minute,
            second: t.second,
        })
    }

    fn rtc_write(&mut self, t: &DateTime) -> bool {
        let Some(rtc) = console::rtc() else { return false };
        let t = RtcTime {
            year: t.year,
            month: t.month,
            day: t.day,
            hour: t.hour,
            minute: t.minute,
            second: t.second,
        };
        rtc.write_time(&t);
        true
    }

    fn cpu_status(&mut self, pir: u32) -> CpuStatus {
        match slot_of(pir).map(PerCpu::state) {
            Some(CpuState::Idle) => CpuStatus::Inactive,
            Some(CpuState::Os) | Some(CpuState::Busy) => CpuStatus::Started,
            _ => CpuStatus::Unavailable,
        }
    }

    fn start_cpu(&mut self, pir: u32, entry: u64) -> bool {
        let Some(target) = slot_of(pir) else { return false };
        let entry = entry & REAL_MODE_ADDRESS_MASK;
        if !Self::caller_memory(entry, 4) {
            return false;
        }
        // Busy before the job is posted: the thread itself sets Os when it takes it.
        target.set_state(CpuState::Busy);
        if target.mailbox.post_detached(start_job, entry).is_err() {
            target.set_state(CpuState::Idle);
            return false;
        }
        cpu::doorbell_send(pir);
        true
    }

    fn return_cpu(&mut self) -> i64 {
        // The thread comes back to the firmware: idle again, on its own stack.
        cpus::idle_loop(this_cpu())
    }

    fn reinit_cpus(&mut self, flags: u64) -> i64 {
        let mut hid0 = HID0_WANTED.load(Ordering::Acquire);
        if flags & reinit::HILE_LE != 0 {
            hid0 |= Hid0::HILE.bits();
        }
        if flags & reinit::HILE_BE != 0 {
            hid0 &= !Hid0::HILE.bits();
        }
        if flags & reinit::MMU_RADIX != 0 {
            hid0 |= Hid0::RADIX.bits();
        } else if flags & reinit::MMU_HASH != 0 {
            hid0 &= !Hid0::RADIX.bits();
        }
        HID0_WANTED.store(hid0, Ordering::Release);
        apply_hid0();
        // Threads still held by the firmware take the change now; the others got it when
        // they were started (the OS calls this before starting them).
        for t in 0..memmap::MAX_THREADS {
            let Some(c) = cpus::slot(t) else { break };
            if c.state() == CpuState::Idle && cpus::run_on(c, reinit_job, 0, 1_000_000).is_err() {
                return rc::HARDWARE;
            }
        }
        rc::SUCCESS
    }

    fn power_down(&mut self) -> bool {
        power::request_power_off()
    }

    fn reboot(&mut self) -> bool {
        power::request_reboot()
    }

    fn nvram_size(&mut self) -> usize {
        NVRAM_USED.load(Ordering::Acquire)
    }

    fn nvram_read(&mut self, offset: usize, buf: &mut [u8]) {
        if let Some(src) = NVRAM.lock().get(offset..offset + buf.len()) {
            buf.copy_from_slice(src);
        }
    }

    fn nvram_write(&mut self, offset: usize, data: &[u8]) {
        if let Some(dst) = NVRAM.lock().get_mut(offset..offset + data.len()) {
            dst.copy_from_slice(data);
        }
        super::flash::store_nvram(offset, data);
    }

    fn xive(&mut self) -> Option<&mut dyn XiveEnv> {
        Some(self)
    }
}

impl XiveEnv for ImageEnv {
    fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> bool {
        OpalEnv::read_mem(self, addr, buf)
    }

    fn write_mem(&mut self, addr: u64, data: &[u8]) -> bool {
        OpalEnv::write_mem(self, addr, data)
    }

    fn is_os_ram(&mut self, addr: u64, len: u64) -> bool {
        usize::try_from(len).is_ok_and(|len| Self::caller_memory(addr & REAL_MODE_ADDRESS_MASK, len))
    }

    fn caller_pir(&mut self) -> u32 {
        cpu::pir()
    }

    fn controller(&mut self) -> Option<&mut dyn XiveOps> {
        // Locked once per OPAL call: a second lock here would wait for itself.
        let guard = self.xive.get_or_insert_with(|| xive::XIVE.lock());
        guard.as_mut().map(|x| x as &mut dyn XiveOps)
    }
}
