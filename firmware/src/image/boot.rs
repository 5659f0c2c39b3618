//! The boot thread: from the device tree QEMU (or hostboot) hands over to a described,
//! running machine — console, BMC, every hardware thread, XSCOM — and then what to boot.

use super::{console, cpus, flash, hdat, opal, partition, power, xive, HEAP, LOGGER};
use alloc::vec::Vec;
use core::ptr;
use log::{error, info, warn, LevelFilter};
use oxiboot::linux_tree::{build_linux_tree, OpalInfo};
use oxiboot::memmap::{
    self, FIRMWARE_BASE, FIRMWARE_END, HEAP_BASE, HEAP_SIZE, KERNEL_LOAD_BASE, KERNEL_LOAD_SIZE,
};
use oxiboot::options::{Options, SelfTest};
use oxiboot::payload::{inspect_kernel, PayloadError};
use oxiboot::percpu::{missing_threads, CpuState, PerCpu};
use oxiboot::reset_scratch::BootRecord;
use oxiboot_devtree::fdt_total_size;
use oxiboot_devtree::{from_fdt, to_fdt, FdtOptions};
use oxiboot_platform::cpu;
use oxiboot_platform::mmio::CiMmio64;
use oxiboot_platform::model::{parse_fdt_with_console, Platform};
use oxiboot_platform::xscom::{ThreadHmer, Xscom, CHIP_ID_REGISTER};

/// Size of the heap the firmware starts with, inside its own image.
const EARLY_HEAP_SIZE: usize = 256 * 1024;
/// Storage of that early heap.
static mut EARLY_HEAP: [u8; EARLY_HEAP_SIZE] = [0; EARLY_HEAP_SIZE];

/// Largest device tree accepted from the boot firmware.
const MAX_FDT_SIZE: usize = 16 << 20;
/// Kernel command line when the boot firmware gives none.
const DEFAULT_BOOTARGS: &str = "console=hvc0";
/// Where a BOOTKERNEL container is staged while it is checked (free memory below the kernel
/// load window), and where the initramfs goes (after the kernel window, as QEMU does).
const STAGING_BASE: u64 = 0x0200_0000;
const INITRAMFS_BASE: u64 = KERNEL_LOAD_BASE + KERNEL_LOAD_SIZE;

/// How long the other threads get to report in.
const THREADS_TIMEOUT_US: u64 = 5_000_000;
/// How long a thread gets to run a job.
const JOB_TIMEOUT_US: u64 = 1_000_000;

/// Entry point of the boot thread (ticket 0), on its own stack in its slot.
pub extern "C" fn boot_main(fdt_addr: usize, percpu: *mut PerCpu, ticket: u64, low_base: usize) -> ! {
    // SAFETY: the entry code passes the boot thread's own slot.
    let me = unsafe { cpus::init_this(percpu, ticket) };
    me.set_state(CpuState::Busy);
    cpus::prepare_slots();
    console::start_clock();
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(LevelFilter::Info);

    // A small heap inside the image to read the device tree and reach the console with;
    // the main heap is added once the tree shows the firmware's memory is RAM.
    // SAFETY: the arena is part of the image's .bss, used for nothing else.
    unsafe { HEAP.add_region(ptr::addr_of_mut!(EARLY_HEAP).cast(), EARLY_HEAP_SIZE) };
    // r3 = 0 is an HDAT boot (the service processor entered us through PROCIN, hdat.rs):
    // the tree is built from HDAT, with the main heap, since the service processor loaded us
    // and built HDAT inside the firmware's memory, which is therefore RAM.
    let hdat_boot = fdt_addr == 0;
    let hdat_tree;
    let fdt = if hdat_boot {
        // SAFETY: the heap region is reserved for it by the memory map (RAM, see above).
        unsafe { HEAP.add_region(HEAP_BASE as *mut u8, HEAP_SIZE as usize) };
        hdat_tree = hdat::device_tree()
            .unwrap_or_else(|why| fatal(format_args!("no device tree (r3 = 0) and no usable HDAT: {why}")));
        &hdat_tree[..]
    } else {
        match fdt_blob(fdt_addr) {
            Ok(b) => b,
            Err(why) => fatal(format_args!("no usable device tree at {fdt_addr:#x}: {why}")),
        }
    };
    let outcome = parse_fdt_with_console(fdt);
    match &outcome.console {
        Some(uart) if console::attach(uart) => {}
        Some(uart) => error!("console: nothing answers at {} ({:#x})", uart.path, uart.mmio),
        None => error!("console: the device tree describes no UART"),
    }
    info!("oxiboot {} ({}) starting, POWER9 firmware", oxiboot::VERSION, env!("OXIBOOT_BUILD_PROFILE"));
    let platform = match outcome.platform {
        Ok(p) => p,
        Err(e) => fatal(format_args!("cannot use the device tree: {e}")),
    };
    if !LOGGER.has_console() {
        fatal(format_args!("no console to report on"));
    }
    let reserved = memmap::reserved_end() - FIRMWARE_BASE;
    if !platform.ram_contains(FIRMWARE_BASE, reserved) {
        fatal(format_args!(
            "RAM does not cover the firmware's memory {FIRMWARE_BASE:#x}..{:#x} ({} MiB of RAM)",
            memmap::reserved_end(),
            platform.ram_total() >> 20
        ));
    }
    if !hdat_boot {
        // SAFETY: the heap region is RAM (checked above) that the memory map reserves for it.
        unsafe { HEAP.add_region(HEAP_BASE as *mut u8, HEAP_SIZE as usize) };
    }
    // Low memory goes to payloads later: keep our own copy of the tree.
    let fdt: Vec<u8> = fdt.to_vec();
    console::set_timebase_hz(platform.timebase_hz);
    let options = Options::parse(&platform.chosen.bootargs);
    log::set_max_level(options.log_level);
    if let Some(unknown) = options.unknown {
        warn!("ignoring unknown firmware option {unknown}");
    }
    describe(&platform);

    let record = boot_record();
    info!("boot #{record} since power-on");
    if let Some(bmc) = &platform.bmc {
        power::attach_bmc(bmc);
    }
    if let Some(rtc) = &platform.rtc {
        console::attach_rtc(rtc);
    }
    flash::attach(&platform);

    cpus::release_secondaries(low_base);
    bring_up_threads(&platform, low_base);
    read_chip_ids(&platform);
    xive::init(&platform);
    info!("boot took {} ms", console::uptime_us() / 1000);

    match options.selftest {
        Some(SelfTest::Reboot) if record == 1 => power::reboot(),
        Some(SelfTest::Reboot) => info!("selftest reboot: this is boot #{record}, done"),
        Some(SelfTest::Trap) => trap_on_a_secondary(low_base),
        Some(SelfTest::Panic) => panic!("selftest: panic requested"),
        Some(SelfTest::Xive) => match xive::self_test(&platform) {
            Ok(threads) => {
                info!("selftest xive: an interrupt reached the event queue of each of {threads} threads")
            }
            Err(e) => error!("selftest xive: {e}"),
        },
        None => {}
    }
    let online = cpus::online(cpus::arrived(low_base));
    partition::start(&platform, me, &online);
    boot_payload(me, platform, &fdt, low_base)
}

/// Boots the kernel the boot firmware loaded (QEMU's `-kernel`), or powers off if there is
/// none. Garbage is refused with the reason, and the machine stops.
fn boot_payload(me: &PerCpu, platform: Platform, fdt: &[u8], low_base: usize) -> ! {
    if !platform.ram_contains(KERNEL_LOAD_BASE, KERNEL_LOAD_SIZE) {
        info!("no RAM at the kernel load address {KERNEL_LOAD_BASE:#x}: no payload to boot");
        power::power_off()
    }
    // SAFETY: the kernel load window is RAM (checked above) below the firmware's memory.
    let window =
        unsafe { core::slice::from_raw_parts(KERNEL_LOAD_BASE as *const u8, KERNEL_LOAD_SIZE as usize) };
    let mut initrd = platform.chosen.initrd;
    let kernel = match inspect_kernel(window, FIRMWARE_BASE) {
        Ok(k) => k,
        Err(PayloadError::Absent) => match load_from_flash(&platform) {
            Some(range) => {
                initrd = range;
                match inspect_kernel(window, FIRMWARE_BASE) {
                    Ok(k) => k,
                    Err(e) => fatal(format_args!("refusing to boot BOOTKERNEL's kernel: {e}")),
                }
            }
            None => {
                info!("no payload to boot");
                power::power_off()
            }
        },
        Err(e) => fatal(format_args!("refusing to boot the payload at {KERNEL_LOAD_BASE:#x}: {e}")),
    };
    let entry = KERNEL_LOAD_BASE + kernel.entry_offset;
    info!(
        "payload: {}-endian 64-bit ELF kernel, {} KiB, entry {entry:#x}",
        if kernel.big_endian { "big" } else { "little" },
        kernel.file_size / 1024
    );
    if let Some((start, end)) = initrd {
        info!("payload: initramfs {start:#x}..{end:#x} ({} KiB)", (end - start) / 1024);
    }
    if !platform.chosen.bootargs.is_empty() {
        info!("payload: command line \"{}\"", platform.chosen.bootargs);
    }

    let mut tree = match from_fdt(fdt) {
        Ok(t) => t.root,
        Err(e) => fatal(format_args!("cannot re-read the device tree: {e}")),
    };
    let chosen = tree.ensure_child("chosen");
    if let Some((start, end)) = initrd {
        chosen.set_u64("linux,initrd-start", start).set_u64("linux,initrd-end", end);
    }
    if platform.chosen.bootargs.is_empty() {
        // Nothing came from the boot firmware (a boot from flash): the console at least.
        chosen.set_str("bootargs", DEFAULT_BOOTARGS);
    }
    let nvram_size = opal::load_nvram();
    let memcons = opal::memcons_address();
    let info = OpalInfo {
        base: FIRMWARE_BASE,
        entry: opal::entry_address(),
        runtime_size: FIRMWARE_END - FIRMWARE_BASE,
        version: oxiboot::VERSION,
        memcons,
        nvram_size: nvram_size as u32,
        heartbeat_ms: 100,
        console_uart: platform.console_uart().map(|u| u.path.as_str()),
        xive: xive::dt_info(),
    };
    if let Err(e) = build_linux_tree(&mut tree, &info) {
        fatal(format_args!("cannot build the kernel's device tree: {e:?}"));
    }
    let blob = to_fdt(
        &tree,
        &FdtOptions {
            boot_cpuid: me.pir,
            reservations: alloc::vec![(FIRMWARE_BASE, FIRMWARE_END - FIRMWARE_BASE)],
        },
    );
    // The blob lives in the firmware heap, which the kernel leaves alone.
    let blob: &'static [u8] = Vec::leak(blob);
    opal::publish_pir_slots(&cpus::online(cpus::arrived(low_base)));
    opal::prepare(platform);
    info!(
        "entering the kernel at {entry:#x}, device tree at {:#x} ({} bytes)",
        blob.as_ptr() as u64,
        blob.len()
    );
    // From here on the console belongs to the kernel: only warnings and errors interrupt it,
    // unless more was asked for with oxiboot.loglevel.
    if log::max_level() <= LevelFilter::Info {
        log::set_max_level(LevelFilter::Warn);
    }
    me.set_state(CpuState::Os);
    opal::enter_os(entry, blob.as_ptr() as u64, FIRMWARE_BASE, opal::entry_address(), true)
}

/// Loads the BOOTKERNEL partition: kernel to the kernel load window, initramfs after it.
/// Returns the initramfs range (if any); `None` if the flash has no BOOTKERNEL. A corrupt
/// partition stops the machine with the reason.
fn load_from_flash(platform: &Platform) -> Option<Option<(u64, u64)>> {
    let half = (KERNEL_LOAD_BASE - STAGING_BASE) / 2;
    if !platform.ram_contains(STAGING_BASE, FIRMWARE_BASE - STAGING_BASE) {
        warn!("flash: not enough RAM to stage BOOTKERNEL");
        return None;
    }
    // SAFETY: these ranges are RAM (checked above) that nothing uses before the kernel runs:
    // below the firmware, above the device tree QEMU passed (already copied).
    let (scratch, staging, kernel, initramfs) = unsafe {
        (
            core::slice::from_raw_parts_mut(STAGING_BASE as *mut u8, half as usize),
            core::slice::from_raw_parts_mut((STAGING_BASE + half) as *mut u8, half as usize),
            core::slice::from_raw_parts_mut(KERNEL_LOAD_BASE as *mut u8, KERNEL_LOAD_SIZE as usize),
            core::slice::from_raw_parts_mut(
                INITRAMFS_BASE as *mut u8,
                (FIRMWARE_BASE - INITRAMFS_BASE) as usize,
            ),
        )
    };
    let start = console::uptime_us();
    match flash::load_bootkernel(scratch, staging, kernel, initramfs)? {
        Ok(p) => {
            info!(
                "flash: BOOTKERNEL loaded in {} ms: kernel {} KiB, initramfs {} KiB{}",
                (console::uptime_us() - start) / 1000,
                p.kernel_len / 1024,
                p.initramfs_len / 1024,
                if p.corrected > 0 { " (ECC errors corrected, see above)" } else { "" }
            );
            Some((p.initramfs_len > 0).then(|| (INITRAMFS_BASE, INITRAMFS_BASE + p.initramfs_len as u64)))
        }
        Err(e) => fatal(format_args!("flash: not booting: {e}")),
    }
}

/// Reports a fatal problem (on the console if there is one, in the log ring in any case)
/// and stops the machine.
fn fatal(what: core::fmt::Arguments<'_>) -> ! {
    error!("{what}");
    power::stop_machine()
}

/// The device tree the boot firmware passed, checked for a sane header and place.
fn fdt_blob(addr: usize) -> Result<&'static [u8], &'static str> {
    if addr == 0 || !addr.is_multiple_of(8) {
        return Err("no aligned device tree address in r3");
    }
    // SAFETY: r3 points at the device tree by the boot convention; the header is 40 bytes.
    let header = unsafe { core::slice::from_raw_parts(addr as *const u8, 40) };
    let size = fdt_total_size(header).map_err(|_| "no device tree magic at that address")?;
    if size > MAX_FDT_SIZE {
        return Err("totalsize is implausibly large");
    }
    let end = (addr as u64).checked_add(size as u64).ok_or("totalsize overflows")?;
    if end > FIRMWARE_BASE && (addr as u64) < FIRMWARE_END {
        return Err("it overlaps the firmware's memory");
    }
    // SAFETY: the header says the tree spans `size` bytes, outside the firmware's memory.
    Ok(unsafe { core::slice::from_raw_parts(addr as *const u8, size) })
}

/// Logs what the machine is.
fn describe(p: &Platform) {
    info!("platform: {} ({})", p.model, p.compatible.join(", "));
    for chip in &p.chips {
        let threads: usize = chip.cores.iter().map(|c| c.threads.len()).sum();
        info!(
            "chip {}: {} cores, {} threads, XSCOM at {:#x}",
            chip.id,
            chip.cores.len(),
            threads,
            chip.xscom.base
        );
    }
    for m in &p.memory {
        info!("memory: {:#x}..{:#x} ({} MiB)", m.base, m.end(), m.size >> 20);
    }
    info!("timebase: {} MHz", p.timebase_hz / 1_000_000);
    if let Some(u) = p.console_uart() {
        info!("console: {} (LPC I/O {:#x}, {} baud)", u.path, u.io_port, u.baud);
    }
}

/// Counts boots since power-on in the reset-surviving page.
fn boot_record() -> u64 {
    let at = memmap::RESET_SCRATCH_BASE as *mut BootRecord;
    // SAFETY: the reset scratch page is reserved RAM for exactly this record.
    let found = unsafe { ptr::read_volatile(at) };
    let next = BootRecord::next(&found);
    // SAFETY: as above.
    unsafe { ptr::write_volatile(at, next) };
    next.boots().unwrap_or(1)
}

/// Waits for every thread of the tree to report in, then hands each a job.
fn bring_up_threads(p: &Platform, low_base: usize) {
    let expected: Vec<u32> = p.threads().collect();
    cpus::wait_online(low_base, expected.len(), THREADS_TIMEOUT_US);
    let online = cpus::online(cpus::arrived(low_base));
    let reported: Vec<u32> = online.iter().map(|c| c.pir).collect();
    let missing = missing_threads(expected.iter().copied(), &reported);
    if missing.is_empty() {
        info!("CPU: {} threads online", reported.len());
    } else {
        error!("CPU: {} of {} threads online, missing PIR {:x?}", reported.len(), expected.len(), missing);
    }
    for pir in reported.iter().filter(|p| !expected.contains(p)) {
        warn!("CPU: thread PIR {pir:#x} is running but not in the device tree");
    }

    // Hand every other thread a job: it answers with its PIR mixed with the argument.
    const SALT: u64 = 0x5a5a_0000_0000;
    let others: Vec<_> = online.iter().filter(|c| c.ticket != 0).collect();
    let mut answered = 1; // the boot thread
    for cpu in &others {
        match cpus::run_on(cpu, |salt| salt | u64::from(cpu::pir()), SALT, JOB_TIMEOUT_US) {
            Ok(r) if r == SALT | u64::from(cpu.pir) => answered += 1,
            Ok(r) => error!("CPU: thread PIR {:#x} answered {r:#x}", cpu.pir),
            Err(_) => error!("CPU: thread PIR {:#x} did not run its job", cpu.pir),
        }
    }
    if answered == online.len() {
        info!("CPU: all {answered} threads ran a job");
    }
}

/// Reads every chip's identification register through XSCOM.
fn read_chip_ids(p: &Platform) {
    let windows = p.xscom_windows();
    let tb = console::timebase();
    let xscom = Xscom::new(&windows, CiMmio64, ThreadHmer, &tb);
    for chip in &p.chips {
        match xscom.read(chip.id, CHIP_ID_REGISTER) {
            Ok(v) => info!("XSCOM: chip {} ID register {:#x} = {:#018x}", chip.id, CHIP_ID_REGISTER, v),
            Err(e) => error!("XSCOM: chip {}: {e}", chip.id),
        }
    }
}

/// Self-test: makes one of the other threads execute an illegal instruction; it must report
/// the exception and stop, while the rest of the machine goes on.
fn trap_on_a_secondary(low_base: usize) {
    let online = cpus::online(cpus::arrived(low_base));
    let Some(victim) = online.iter().rev().find(|c| c.ticket != 0) else {
        error!("selftest trap: no other thread to trap on");
        return;
    };
    let pir = victim.pir;
    info!("selftest trap: illegal instruction on thread PIR {pir:#x}");
    let _ = cpus::run_on(
        victim,
        |_| {
            // SAFETY: deliberately executes an invalid instruction word (0), which raises an
            // exception that the exception entry code reports; nothing returns here.
            unsafe { core::arch::asm!(".long 0") };
            0
        },
        0,
        JOB_TIMEOUT_US,
    );
    if victim.state() == CpuState::Stopped {
        info!("selftest trap: thread PIR {pir:#x} stopped, the others go on");
    } else {
        error!("selftest trap: thread PIR {pir:#x} is not stopped");
    }
}
