//! The interrupt controllers (XIVE) at boot and run time: each chip's controller brought up
//! with its tables in the firmware's XIVE area, the device-tree node Linux needs, and the
//! controller kept for the OPAL XIVE calls.

use super::console;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use log::{error, info};
use oxiboot::memmap::{XIVE_MAX_CHIPS, XIVE_TABLES_BASE, XIVE_TABLES_PER_CHIP};
use oxiboot_platform::clock::Timebase;
use oxiboot_platform::mmio::{CiMmio64, Mmio64};
use oxiboot_platform::model::Platform;
use oxiboot_platform::xive::{
    queue_flags, regs, sync_kind, Bars, ChipDesc, MmioAccess, PhysMem, Region, Xive, XiveConfig, XiveError,
    XiveOps, XscomAccess, ANY_CHIP, PRIO_MASKED,
};
use oxiboot_platform::xscom::{ThreadHmer, Xscom, XscomError};

/// Hardware access for the XIVE driver: XSCOM, cache-inhibited MMIO, and RAM.
pub struct Hw {
    xscom: Xscom<'static, CiMmio64, ThreadHmer, Timebase>,
}

impl XscomAccess for Hw {
    fn xscom_read(&mut self, chip: u32, pcba: u32) -> Result<u64, XscomError> {
        self.xscom.read(chip, pcba)
    }
    fn xscom_write(&mut self, chip: u32, pcba: u32, value: u64) -> Result<(), XscomError> {
        self.xscom.write(chip, pcba, value)
    }
}

impl MmioAccess for Hw {
    fn mmio_read64(&mut self, addr: u64) -> u64 {
        CiMmio64.read_be64(addr)
    }
    fn mmio_write64(&mut self, addr: u64, value: u64) {
        CiMmio64.write_be64(addr, value)
    }
    fn mmio_read8(&mut self, addr: u64) -> u8 {
        let raw: u64;
        // SAFETY: the driver only passes addresses inside the XIVE BARs it programmed.
        unsafe {
            core::arch::asm!("sync", "lbzcix {0}, 0, {1}", out(reg) raw, in(reg) addr, options(nostack))
        };
        raw as u8
    }
    fn mmio_write8(&mut self, addr: u64, value: u8) {
        // SAFETY: as in mmio_read8.
        unsafe {
            core::arch::asm!("sync", "stbcix {0}, 0, {1}", in(reg) value as u64, in(reg) addr, options(nostack))
        };
    }
}

impl PhysMem for Hw {
    fn mem_read(&mut self, addr: u64, buf: &mut [u8]) {
        // SAFETY: the driver reads its own tables (in the firmware's XIVE area) or queue
        // pages the OS gave it, which the OPAL calls checked to be the OS's RAM.
        unsafe { core::ptr::copy_nonoverlapping(addr as *const u8, buf.as_mut_ptr(), buf.len()) }
    }
    fn mem_write(&mut self, addr: u64, data: &[u8]) {
        // SAFETY: as in mem_read; writes only go to the driver's own tables.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len()) }
    }
    fn mem_barrier(&mut self) {
        // SAFETY: a barrier only orders memory accesses.
        unsafe { core::arch::asm!("sync", options(nostack)) }
    }
}

/// The controllers of all chips, once brought up.
pub static XIVE: spin::Mutex<Option<Xive<Hw>>> = spin::Mutex::new(None);

/// Brings up every chip's interrupt controller. On failure the machine goes on without
/// interrupts (Linux then stops early, saying it found no interrupt controller).
pub fn init(platform: &Platform) {
    if platform.chips.len() as u64 > XIVE_MAX_CHIPS {
        error!("XIVE: {} chips, room for {XIVE_MAX_CHIPS}", platform.chips.len());
        return;
    }
    let windows: &'static [_] = Vec::leak(platform.xscom_windows());
    let tb: &'static Timebase = Box::leak(Box::new(console::timebase()));
    let hw = Hw { xscom: Xscom::new(windows, CiMmio64, ThreadHmer, tb) };
    let cfg = XiveConfig::default();
    if cfg.region_size() > XIVE_TABLES_PER_CHIP || !XIVE_TABLES_PER_CHIP.is_multiple_of(cfg.region_align()) {
        error!("XIVE: tables of {} bytes do not fit the memory map's slots", cfg.region_size());
        return;
    }
    let mut xive = match Xive::new(hw, cfg) {
        Ok(x) => x,
        Err(e) => return error!("XIVE: {e:?}"),
    };
    for (i, chip) in platform.chips.iter().enumerate() {
        let threads: Vec<u32> = chip.cores.iter().flat_map(|c| c.threads.iter().copied()).collect();
        let region =
            Region { base: XIVE_TABLES_BASE + i as u64 * XIVE_TABLES_PER_CHIP, len: XIVE_TABLES_PER_CHIP };
        let desc = ChipDesc {
            chip_id: chip.id,
            xscom_base: regs::XSCOM_BASE,
            bars: Bars::p9(chip.id),
            region,
            threads: &threads,
        };
        match xive.add_chip(&desc) {
            Ok(block) => info!("XIVE: chip {} is block {block}, tables at {:#x}", chip.id, region.base),
            Err(e) => return error!("XIVE: chip {}: {e:?}", chip.id),
        }
    }
    if let Err(e) = xive.finish_init() {
        return error!("XIVE: {e:?}");
    }
    info!("XIVE: {} controller(s) up, exploitation mode", platform.chips.len());
    *XIVE.lock() = Some(xive);
}

/// What the device tree must say about the controllers, if they came up.
pub fn dt_info() -> Option<oxiboot_platform::xive::DtInfo> {
    XIVE.lock().as_ref().and_then(Xive::dt_info)
}

/// Event queue priority the self-test uses (any of the 8 would do).
const SELF_TEST_PRIORITY: u8 = 7;
/// ESB load offset that sets a source's PQ bits to 00 (enabled).
const ESB_SET_PQ_00: u64 = 0xc00;

/// The self-test's event queue: one 4 KiB page, aligned as the controller requires.
#[repr(C, align(4096))]
struct QueuePage([u8; 4096]);

/// Routes an interrupt through the controllers to every thread, as an OS would with the OPAL
/// calls: per thread an event queue (END) and a fresh IPI of the first chip routed to it
/// (EAS; another chip's threads are then reached through the forwarding between chips), the
/// IPI's ESB enabled and triggered; the queue's first entry must then hold the routed data
/// with the generation bit set. The controllers are reset before and after, as an OS would.
/// Returns the threads checked.
pub fn self_test(platform: &Platform) -> Result<usize, String> {
    let mut guard = XIVE.lock();
    let xive = guard.as_mut().ok_or("the controllers are not up")?;
    // As an OS starts: exploitation mode, nothing routed.
    xive.reset(1).map_err(|e| format!("reset: {e:?}"))?;
    let mut queue = Box::new(QueuePage([0; 4096]));
    let source_chip = platform.chips.first().map_or(ANY_CHIP, |c| c.id);
    let threads = platform.chips.iter().flat_map(|chip| chip.cores.iter()).flat_map(|c| c.threads.iter());
    let mut checked = 0;
    let mut result = Ok(());
    for &pir in threads {
        result = interrupt_to_thread(xive, &mut queue, source_chip, pir)
            .map_err(|e| format!("thread {pir:#x}: {e}"));
        if result.is_err() {
            break;
        }
        checked += 1;
    }
    let reset = xive.reset(1).map_err(|e| format!("reset afterwards: {e:?}"));
    // The queue page is freed only now, when no queue names it any more.
    drop(queue);
    result.and(reset).map(|()| checked)
}

/// One thread's part of [`self_test`]: queue, IPI, trigger, check; the IPI is freed and the
/// queue disabled again whatever happened.
fn interrupt_to_thread(
    xive: &mut Xive<Hw>,
    queue: &mut QueuePage,
    source_chip: u32,
    pir: u32,
) -> Result<(), String> {
    let vp = u64::from(pir);
    let data = 0x1000 | pir;
    queue.0.fill(0);
    let page = queue.0.as_ptr() as u64;
    xive.set_queue_info(vp, SELF_TEST_PRIORITY, page, 12, queue_flags::ENABLED)
        .map_err(|e| format!("queue: {e:?}"))?;
    let routed = xive.allocate_irq(source_chip, pir).map_err(|e| format!("IPI: {e:?}")).and_then(|girq| {
        let fired = fire(xive, girq, vp, data).map_err(|e| format!("routing: {e:?}"));
        let _ = xive.set_irq_config(girq, vp, PRIO_MASKED, data);
        let _ = xive.free_irq(girq);
        fired
    });
    // SAFETY: the first 4 bytes of our page, which the controller may have written behind
    // the compiler's back (hence volatile).
    let entry = u32::from_be(unsafe { core::ptr::read_volatile(queue.0.as_ptr() as *const u32) });
    let _ = xive.set_queue_info(vp, SELF_TEST_PRIORITY, 0, 0, 0);
    routed?;
    let expected = 0x8000_0000 | data;
    if entry != expected {
        return Err(format!("queue entry {entry:#010x}, expected {expected:#010x}"));
    }
    Ok(())
}

/// Routes IPI `girq` to `vp`'s self-test queue with `data`, enables and triggers it, and
/// waits until the event has reached the queue.
fn fire(xive: &mut Xive<Hw>, girq: u32, vp: u64, data: u32) -> Result<(), XiveError> {
    xive.set_irq_config(girq, vp, SELF_TEST_PRIORITY, data)?;
    let info = xive.irq_info(girq)?;
    let hw = xive.hw_mut();
    // An ESB load at 0xc00 sets the source's PQ bits to 00 (enabled), as Linux does when it
    // unmasks; a store to the trigger page fires it.
    let _ = hw.mmio_read64(info.eoi_page + ESB_SET_PQ_00);
    hw.mmio_write64(info.trig_page, 0);
    xive.sync(sync_kind::EAS | sync_kind::QUEUE, girq)
}
