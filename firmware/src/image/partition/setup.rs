//! Entering partitioned mode: finding and checking the partition configuration, taking the
//! hypervisor's memory, collecting the boot images, carving the LPARs, starting them; and
//! (re)loading an LPAR's memory before each boot.

use super::lpar::{BootImages, CarveMemory, Lpar, LparState, Vcpu};
use super::vty::{self, ConsoleSpec, VTY_REG};
use super::{mmu, run, Hypervisor, HYPERVISOR};
use crate::image::{cpus, flash, power, HEAP};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use log::{error, info, warn};
use oxiboot::memmap::{CONFIG_LOAD_BASE, CONFIG_LOAD_MAX, KERNEL_LOAD_BASE, KERNEL_LOAD_SIZE};
use oxiboot::percpu::PerCpu;
use oxiboot_hv::config::digest::image_digest;
use oxiboot_hv::config::{
    check_against, parse_blob, Console, FirmwareConsole, ImageSource, LparConfig, MachineConfig,
};
use oxiboot_hv::lpar::layout::{inspect_elf, place};
use oxiboot_hv::lpar::memory::{Carve, GuestMemory};
use oxiboot_hv::lpar::rtas::{self, RTAS_SIZE, STUB};
use oxiboot_hv::lpar_tree::{lpar_fdt, LparTreeSpec, RtasPlacement};
use oxiboot_hv::radix::{PartitionTree, Perms, TableMemory};
use oxiboot_platform::model::Platform;

/// Room kept for an LPAR's device tree.
const FDT_ROOM: u64 = 64 << 10;
/// Boot images and the device tree must lie in the LPAR's first 256 MiB (its first memory
/// block, where early boot code runs in real mode).
const BOOT_AREA: u64 = 256 << 20;
/// The hypercall strings of `ibm,hypertas-functions`: exactly what `exits.rs` implements.
const HYPERTAS: [&str; 4] = ["hcall-term", "hcall-interrupt", "hcall-set-mode", "hcall-splpar"];
/// For an LPAR with nested virtualization, `H_RPT_INVALIDATE` too (`nested/`), which its KVM
/// then uses to invalidate its L2s' translations.
const HYPERTAS_NESTED: [&str; 5] =
    ["hcall-term", "hcall-interrupt", "hcall-set-mode", "hcall-splpar", "hcall-rpt-invalidate"];

/// Looks for a partition configuration and, if one is found and good, enters partitioned
/// mode (never returning). Returns when the firmware stays in firmware mode: no
/// configuration, a refused one, or no LPAR that can start.
pub fn start(platform: &Platform, me: &'static PerCpu, online: &[&'static PerCpu]) {
    let Some((blob, from)) = find_blob() else { return };
    info!("partition config: {} bytes from {from}", blob.len());
    let config = match parse_blob(&blob) {
        Ok(c) => c,
        Err(e) => {
            error!("partition config refused: {e}");
            return;
        }
    };
    let mut refused = Vec::new();
    if let Err(failure) = check_against(&config, platform) {
        for line in failure.to_string().lines() {
            error!("{line}");
        }
        if failure.refuses_everything() {
            return;
        }
        refused = config.lpars.iter().filter(|l| !failure.may_start(l.id)).map(|l| l.id).collect();
    }
    for lpar in &config.lpars {
        if lpar.cpu_compat != oxiboot_hv::config::CpuCompat::Power9 {
            error!(
                "LPAR {} \"{}\": cpu_compat \"{}\" needs the hash MMU, which oxiboot does not implement (LPAR not started)",
                lpar.id,
                lpar.name,
                lpar.cpu_compat.keyword()
            );
            refused.push(lpar.id);
        }
    }
    // The hypervisor's memory holds the boot images; they are copied there before any LPAR
    // memory (where a loader may have put them) is cleared.
    take_hypervisor_memory(&config);
    let mut images = Vec::new();
    let mut cache = ImageCache::new();
    for lpar in config.lpars.iter().filter(|l| !refused.contains(&l.id)) {
        match collect_images(lpar, platform, &mut cache) {
            Ok(i) => images.push((lpar.id, i)),
            Err(e) => error!("LPAR {} \"{}\": {e} (LPAR not started)", lpar.id, lpar.name),
        }
    }
    if images.is_empty() {
        error!("partitioned mode: no LPAR can start; staying in firmware mode");
        return;
    }
    if !mmu::init() {
        error!("partitioned mode: no memory for the partition table");
        return;
    }
    let hv = match build(&config, platform, images, online) {
        Ok(hv) => hv,
        Err(e) => {
            error!("partitioned mode: {e}");
            return;
        }
    };
    let hv = HYPERVISOR.call_once(|| hv);
    info!("partitioned mode: {} LPAR(s)", hv.lpars.len());
    for lpar in &hv.lpars {
        info!(
            "{}: {} threads (PIR {:#x}..={:#x}), memory {:#x}..{:#x} ({} KiB of page table), console {}",
            lpar.label(),
            lpar.vcpus.len(),
            lpar.vcpus.first().map_or(0, |v| v.pir),
            lpar.vcpus.last().map_or(0, |v| v.pir),
            lpar.carve.host_base,
            lpar.carve.host_base + lpar.carve.size,
            lpar.tree.table_bytes() / 1024,
            match &lpar.config.console {
                Console::Vty { prefix } => format!("vty \"{prefix}\""),
                Console::Uart { port } => format!("UART {port:#x}"),
            }
        );
    }
    for lpar in hv.lpars.iter().filter(|l| l.config.autostart) {
        let boot_cpu = lpar.vcpus[0].cpu;
        lpar.active.fetch_add(1, Ordering::AcqRel);
        if boot_cpu.mailbox.post_detached(boot_job, lpar.index as u64).is_err() {
            lpar.active.fetch_sub(1, Ordering::AcqRel);
            error!("{}: its boot thread is busy", lpar.label());
            continue;
        }
        if boot_cpu.pir != me.pir {
            cpus::wake(boot_cpu);
        }
    }
    all_off_check();
    cpus::idle_loop(me)
}

/// Mailbox job: boots LPAR `arg` on this thread (its boot vCPU's); the poster counted the
/// boot vCPU as active.
fn boot_job(arg: u64) -> u64 {
    let Some(lpar) = super::hypervisor().and_then(|hv| hv.lpars.get(arg as usize)) else { return 0 };
    if let Err(e) = lpar.prepare_boot() {
        error!("{}: cannot boot: {e}", lpar.label());
        lpar.active.fetch_sub(1, Ordering::AcqRel);
        all_off_check();
        return 0;
    }
    run::vcpu_job(run::job_argument(lpar.index, &lpar.vcpus[0]))
}

/// Powers the machine off once every LPAR is off for good (PowerVM's "power off the system
/// when the last partition powers off").
pub fn all_off_check() {
    let Some(hv) = super::hypervisor() else { return };
    if hv.lpars.iter().all(|l| l.state() == LparState::Off && l.active.load(Ordering::Acquire) == 0) {
        static ONCE: AtomicBool = AtomicBool::new(false);
        if !ONCE.swap(true, Ordering::AcqRel) {
            log::warn!("partitioned mode: every LPAR is off; powering off the machine");
            power::power_off()
        }
    }
}

/// The configuration blob: from the loader address, else the OXICFG flash partition.
fn find_blob() -> Option<(Vec<u8>, &'static str)> {
    // SAFETY: the loader area is RAM in the firmware's own block, unused by the firmware.
    let head = unsafe { core::slice::from_raw_parts(CONFIG_LOAD_BASE as *const u8, 16) };
    if head[..4] == *b"OXLP" {
        let total = u64::from(u32::from_be_bytes([head[8], head[9], head[10], head[11]]));
        let len = total.clamp(16, CONFIG_LOAD_MAX) as usize;
        // SAFETY: as above, at most CONFIG_LOAD_MAX bytes of the area.
        let bytes = unsafe { core::slice::from_raw_parts(CONFIG_LOAD_BASE as *const u8, len) }.to_vec();
        // Consumed: a firmware reboot without the loader must not find it again.
        // SAFETY: as above.
        unsafe { core::ptr::write_bytes(CONFIG_LOAD_BASE as *mut u8, 0, 4) };
        return Some((bytes, "the loader"));
    }
    match flash::read_partition("OXICFG", "OXICFG")? {
        Ok(bytes) => Some((bytes, "flash partition OXICFG")),
        Err(e) => {
            error!("partition config refused: flash: {e}");
            None
        }
    }
}

/// Gives the configured hypervisor memory to the firmware heap.
fn take_hypervisor_memory(config: &MachineConfig) {
    let r = config.hypervisor;
    if r.base < KERNEL_LOAD_BASE + KERNEL_LOAD_SIZE && KERNEL_LOAD_BASE < r.end() {
        warn!("hypervisor memory overlaps the loader's kernel area: a loaded kernel may be lost");
    }
    // SAFETY: the configuration (checked against the machine) reserves this RAM for the
    // hypervisor: no LPAR, no firmware region and no boot image is in it.
    unsafe { HEAP.add_region(r.base as *mut u8, r.size as usize) };
    info!("hypervisor memory: {:#x}..{:#x} ({} MiB)", r.base, r.end(), r.size >> 20);
}

/// Images already fetched, so LPARs booting the same ones share one copy: (source, taken
/// as a kernel, bytes, the initramfs of a BOOTKERNEL container).
type ImageCache = Vec<(ImageSource, bool, &'static [u8], Option<&'static [u8]>)>;

/// Finds an LPAR's kernel and initramfs and copies them into hypervisor memory.
fn collect_images(
    lpar: &LparConfig,
    platform: &Platform,
    cache: &mut ImageCache,
) -> Result<BootImages, String> {
    let (kernel, container_initramfs) = fetch(&lpar.boot.kernel, true, platform, cache)?;
    let initramfs = match &lpar.boot.initramfs {
        None => container_initramfs,
        Some(src) => Some(fetch(src, false, platform, cache)?.0),
    };
    inspect_elf(kernel).map_err(|e| format!("kernel: {e}"))?;
    Ok(BootImages { kernel, initramfs })
}

/// One image (a kernel partition is a BOOTKERNEL container: kernel and its initramfs).
fn fetch(
    src: &ImageSource,
    kernel: bool,
    platform: &Platform,
    cache: &mut ImageCache,
) -> Result<(&'static [u8], Option<&'static [u8]>), String> {
    if let Some((.., bytes, extra)) = cache.iter().find(|(s, k, ..)| s == src && *k == kernel) {
        return Ok((bytes, *extra));
    }
    let fetched = match src {
        ImageSource::Partition { name } => {
            let bytes = flash::read_partition(name, "LPAR image")
                .ok_or_else(|| format!("no flash partition {name}"))?
                .map_err(|e| format!("flash: {e}"))?;
            if kernel {
                let bk = oxiboot_pnor::BootKernel::parse(&bytes)
                    .map_err(|e| format!("flash partition {name}: {e}"))?;
                let initramfs = (!bk.initramfs.is_empty()).then(|| leak(bk.initramfs.to_vec()));
                (leak(bk.kernel.to_vec()), initramfs)
            } else {
                (leak(bytes), None)
            }
        }
        ImageSource::File { name, size, digest } => (find_loaded(platform, name, *size, *digest)?, None),
    };
    cache.push((src.clone(), kernel, fetched.0, fetched.1));
    Ok(fetched)
}

/// A file the loader placed (QEMU `-kernel` at the kernel load address, `-initrd` where
/// `/chosen` says), recognised by size and image digest, copied into hypervisor memory.
fn find_loaded(platform: &Platform, name: &str, size: u64, digest: u32) -> Result<&'static [u8], String> {
    // The initramfs area first: its exact size is known, so a match there is likely.
    let mut candidates = Vec::new();
    if let Some((start, end)) = platform.chosen.initrd {
        if end - start == size && platform.ram_contains(start, size) {
            candidates.push(start);
        }
    }
    if size <= KERNEL_LOAD_SIZE && platform.ram_contains(KERNEL_LOAD_BASE, size) {
        candidates.push(KERNEL_LOAD_BASE);
    }
    for at in candidates {
        // SAFETY: RAM the loader wrote (checked to be RAM), not yet given to anyone.
        let bytes = unsafe { core::slice::from_raw_parts(at as *const u8, size as usize) };
        if image_digest(bytes) == digest {
            return Ok(leak(bytes.to_vec()));
        }
    }
    Err(format!(
        "file \"{name}\" ({size} bytes, digest {digest:#010x}) was not loaded (QEMU -kernel or -initrd)"
    ))
}

fn leak(v: Vec<u8>) -> &'static [u8] {
    Vec::leak(v)
}

/// Page-table memory from the firmware heap (which holds the hypervisor memory).
pub(super) struct HeapTables;

impl TableMemory for HeapTables {
    fn read_u64(&self, pa: u64) -> Option<u64> {
        // SAFETY: table addresses come from `alloc_table`.
        Some(u64::from_be(unsafe { core::ptr::read_volatile(pa as *const u64) }))
    }
    fn write_u64(&mut self, pa: u64, value: u64) -> bool {
        // SAFETY: as above.
        unsafe { core::ptr::write_volatile(pa as *mut u64, value.to_be()) };
        true
    }
    fn alloc_table(&mut self, bytes: u64) -> Option<u64> {
        let layout = core::alloc::Layout::from_size_align(bytes as usize, bytes as usize).ok()?;
        // SAFETY: non-zero size.
        let p = unsafe { alloc::alloc::alloc_zeroed(layout) };
        (!p.is_null()).then_some(p as u64)
    }
    fn free_table(&mut self, pa: u64, bytes: u64) {
        if let Ok(layout) = core::alloc::Layout::from_size_align(bytes as usize, bytes as usize) {
            // SAFETY: allocated by `alloc_table` with this layout.
            unsafe { alloc::alloc::dealloc(pa as *mut u8, layout) };
        }
    }
}

/// Builds the LPAR objects: partition-scoped tables, vCPUs bound to threads, consoles.
fn build(
    config: &MachineConfig,
    platform: &Platform,
    images: Vec<(u32, BootImages)>,
    online: &[&'static PerCpu],
) -> Result<Hypervisor, String> {
    let mut lpars = Vec::new();
    let mut consoles = Vec::new();
    super::nested::init_lpids(config.lpars.iter().map(|l| l.id));
    for (id, boot) in images {
        let Some(lc) = config.lpar(id) else { continue };
        let carve = Carve { host_base: lc.memory.base, size: lc.memory.size };
        let mut tables = HeapTables;
        let mut tree = PartitionTree::new(&mut tables).map_err(|e| format!("LPAR {id}: page table: {e}"))?;
        tree.map(&mut tables, 0, carve.host_base, carve.size, Perms::RWX)
            .map_err(|e| format!("LPAR {id}: page table: {e}"))?;
        let pate0 = tree.pate_dw0();
        let index = lpars.len();
        let mut vcpus = Vec::new();
        for &pir in &lc.threads {
            let Some(&cpu) = online.iter().find(|c| c.pir == pir) else {
                return Err(format!("LPAR {id}: thread PIR {pir:#x} is not online"));
            };
            vcpus.push(Vcpu::new(index, pir, cpu));
        }
        consoles.push(match &lc.console {
            Console::Vty { prefix } => ConsoleSpec::Vty { prefix: prefix.clone(), name: lc.name.clone() },
            Console::Uart { port } => {
                let u = platform
                    .uarts
                    .iter()
                    .find(|u| u.io_port == *port)
                    .ok_or(format!("LPAR {id}: no UART {port:#x}"))?;
                ConsoleSpec::Uart { mmio: u.mmio, clock_hz: u.clock_hz, baud: u.baud }
            }
        });
        let mut lpar = Lpar::new(index, lc.clone(), carve, (tree, pate0), boot, vcpus, index);
        lpar.nested = super::nested::for_lpar(lc, config);
        lpars.push(lpar);
    }
    let firmware_uart = match config.firmware_console {
        FirmwareConsole::Uart { port } if platform.console_uart().map(|u| u.io_port) != Some(port) => {
            platform.uarts.iter().find(|u| u.io_port == port).map(|u| (u.mmio, u.clock_hz, u.baud))
        }
        _ => None,
    };
    vty::init(consoles, firmware_uart);
    Ok(Hypervisor { lpars })
}

/// Clears the LPAR's memory and loads kernel, initramfs, device tree and RTAS stub; the
/// boot vCPU will start at the kernel entry with r3 = the device tree.
pub fn load_images(lpar: &Lpar) -> Result<(), String> {
    clear(lpar.carve);
    let kernel = inspect_elf(lpar.images.kernel).map_err(|e| format!("kernel: {e}"))?;
    let initramfs_len = lpar.images.initramfs.map_or(0, |i| i.len() as u64);
    let limit = lpar.carve.size.min(BOOT_AREA);
    let at =
        place(kernel.end, initramfs_len, FDT_ROOM, u64::from(RTAS_SIZE), limit).map_err(|e| e.to_string())?;
    let mut mem = CarveMemory(lpar.carve);
    for seg in kernel.segments.iter() {
        let from = seg.file_offset as usize;
        let bytes = &lpar.images.kernel[from..from + seg.file_len as usize];
        mem.write(seg.address, bytes).map_err(|e| format!("kernel: {e}"))?;
    }
    if let (Some(bytes), Some((start, _))) = (lpar.images.initramfs, at.initramfs) {
        mem.write(start, bytes).map_err(|e| format!("initramfs: {e}"))?;
    }
    let stub: Vec<u8> = STUB.iter().flat_map(|w| w.to_be_bytes()).collect();
    mem.write(at.rtas, &stub).map_err(|e| format!("RTAS: {e}"))?;
    let fdt = device_tree(lpar, at.initramfs, at.rtas)?;
    if fdt.len() as u64 > FDT_ROOM {
        return Err(format!("device tree of {} bytes exceeds its {FDT_ROOM} bytes", fdt.len()));
    }
    mem.write(at.fdt, &fdt).map_err(|e| format!("device tree: {e}"))?;
    *lpar.vcpus[0].start.lock() = (kernel.entry, at.fdt);
    Ok(())
}

/// The LPAR's device tree.
fn device_tree(lpar: &Lpar, initrd: Option<(u64, u64)>, rtas_base: u64) -> Result<Vec<u8>, String> {
    // One thread per CPU node, so Linux sees no SMT siblings and sends every IPI through
    // the interrupt controller (H_IPI). With siblings it would use `msgsndp`, which on a
    // POWER9 in LPAR-per-thread mode (what QEMU `powernv9` models) reaches no other thread.
    let cores: Vec<Vec<u32>> = lpar.vcpus.iter().map(|v| alloc::vec![v.pir]).collect();
    let core_refs: Vec<&[u32]> = cores.iter().map(|c| c.as_slice()).collect();
    let services: Vec<(&str, u32)> = rtas::tokens().collect();
    let spec = LparTreeSpec {
        name: &lpar.config.name,
        lpid: lpar.config.id,
        cores: &core_refs,
        boot_cpu: lpar.vcpus[0].pir,
        memory_size: lpar.carve.size,
        timebase_hz: 512_000_000,
        clock_hz: 2_000_000_000,
        pvr: oxiboot_platform::cpu::mfspr::<287>() as u32,
        logical_pvr: Some(lpar.config.cpu_compat.logical_pvr()),
        cmdline: &lpar.config.boot.cmdline,
        initrd,
        rtas: RtasPlacement { base: rtas_base, size: RTAS_SIZE, entry: rtas_base },
        rtas_services: &services,
        hypertas: if lpar.nested.is_some() { &HYPERTAS_NESTED } else { &HYPERTAS },
        radix_gtse: true,
        random: true,
        vty_reg: VTY_REG as u32,
        system_id: "oxiboot",
        model: "oxiboot,lpar",
    };
    lpar_fdt(&spec).map_err(|e| format!("device tree: {e}"))
}

/// Zeroes an LPAR's memory, a cache block (128 bytes) at a time.
fn clear(carve: Carve) {
    let mut at = carve.host_base;
    let end = carve.host_base + carve.size;
    while at < end {
        // SAFETY: `dcbz` zeroes the 128-byte block at `at`, inside the LPAR's carve, which
        // no vCPU of it is using (it is not running).
        unsafe { core::arch::asm!("dcbz 0, {0}", in(reg) at, options(nostack)) };
        at += 128;
    }
    oxiboot_platform::cpu::sync();
}
