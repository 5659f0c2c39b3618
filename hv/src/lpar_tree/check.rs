//! Checks of an [`LparTreeSpec`] before anything is built. Each rule exists because Linux 6.12
//! (`pseries`) would misbehave, panic or silently ignore something otherwise; the rule's
//! comment says which. Acronyms: LPAR = logical partition, RTAS = Run-Time Abstraction
//! Services, PVR = processor version register, XICS = eXternal Interrupt Controller of PAPR
//! (Power Architecture Platform Requirements), GTSE = guest translation shootdown enable,
//! initrd = initial RAM disk.

use super::{LparTreeError as E, LparTreeSpec, RtasPlacement, LMB_SIZE, MAX_CMDLINE, MAX_PARTITION_NAME};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// What the checks derived from the spec and the builders reuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Every interrupt server number of the LPAR, ascending, no duplicates.
    pub servers: Vec<u32>,
}

/// RTAS services Linux's XICS source layer calls (`ics-rtas`): without `ibm,get-xive` and
/// `ibm,set-xive` it finds no interrupt source controller; without `ibm,int-on`/`ibm,int-off`
/// every unmask/mask fails.
pub const XICS_RTAS_SERVICES: [&str; 4] = ["ibm,get-xive", "ibm,set-xive", "ibm,int-on", "ibm,int-off"];

/// Properties the builder itself writes in `/rtas`: a service cannot have these names.
pub const RESERVED_RTAS_PROPERTIES: [&str; 11] = [
    "name",
    "phandle",
    "linux,phandle",
    "linux,rtas-base",
    "linux,rtas-entry",
    "rtas-size",
    "ibm,hypertas-functions",
    "rtas-error-log-max",
    "rtas-event-scan-rate",
    "ibm,extended-os-term",
    "ibm,lrdr-capacity",
];

/// Checks every input; the first fault found is returned.
pub fn check(spec: &LparTreeSpec) -> Result<Checked, E> {
    check_name(spec.name)?;
    check_text("model", spec.model)?;
    check_text("system-id", spec.system_id)?;
    check_cmdline(spec.cmdline)?;
    let servers = check_cores(spec.cores, spec.boot_cpu)?;
    check_processor(spec)?;
    check_memory(spec.memory_size, spec.initrd, &spec.rtas)?;
    check_rtas_services(spec.rtas_services, spec.cores.len(), servers.len())?;
    check_hypertas(spec.hypertas, spec.radix_gtse)?;
    Ok(Checked { servers })
}

fn printable(s: &str) -> bool {
    s.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// `ibm,partition-name`: lparcfg and management tools print it; keep it short and plain.
fn check_name(name: &str) -> Result<(), E> {
    if name.is_empty() {
        return Err(E::NameEmpty);
    }
    if name.len() > MAX_PARTITION_NAME {
        return Err(E::NameTooLong(name.len()));
    }
    if !printable(name) {
        return Err(E::NameNotPrintable);
    }
    Ok(())
}

/// `model` and `system-id` are strings printed by cpuinfo and lparcfg.
fn check_text(field: &'static str, text: &str) -> Result<(), E> {
    if text.is_empty() {
        return Err(E::BadText { field, why: "empty" });
    }
    if !printable(text) {
        return Err(E::BadText { field, why: "not printable ASCII" });
    }
    Ok(())
}

/// `bootargs`: a NUL would cut it short, and Linux keeps at most 2047 bytes.
fn check_cmdline(cmdline: &str) -> Result<(), E> {
    if cmdline.contains('\0') {
        return Err(E::BadText { field: "bootargs", why: "contains a NUL" });
    }
    if cmdline.len() > MAX_CMDLINE {
        return Err(E::BadText { field: "bootargs", why: "longer than 2047 bytes" });
    }
    Ok(())
}

/// Cores and threads. Linux numbers logical CPUs core by core with one thread count for the
/// whole machine (`cpu_init_thread_core_maps` BUGs unless it is a power of two), and stops
/// with "Failed to identify boot CPU" unless `boot_cpuid_phys` is one of the servers.
fn check_cores(cores: &[&[u32]], boot_cpu: u32) -> Result<Vec<u32>, E> {
    let first = cores.first().ok_or(E::NoCores)?.len();
    for (core, threads) in cores.iter().enumerate() {
        if threads.is_empty() {
            return Err(E::EmptyCore { core });
        }
        if !matches!(threads.len(), 1 | 2 | 4 | 8) {
            return Err(E::ThreadCount { core, threads: threads.len() });
        }
        if threads.len() != first {
            return Err(E::UnevenCores { core, threads: threads.len(), first });
        }
    }
    let mut servers: Vec<u32> = cores.iter().flat_map(|c| c.iter().copied()).collect();
    servers.sort_unstable();
    if let Some(w) = servers.windows(2).find(|w| w[0] == w[1]) {
        return Err(E::DuplicateServer(w[0]));
    }
    if servers.binary_search(&boot_cpu).is_err() {
        return Err(E::BootCpuNotAServer(boot_cpu));
    }
    Ok(servers)
}

/// The processor: the `ibm,pa-features` bytes are POWER9's; Linux only applies a
/// `cpu-version` of the form 0x0fxxxxxx; a zero timebase or clock divides by zero.
fn check_processor(spec: &LparTreeSpec) -> Result<(), E> {
    if spec.pvr >> 16 != 0x004e {
        return Err(E::NotPower9(spec.pvr));
    }
    if let Some(logical) = spec.logical_pvr {
        if logical & 0xff00_0000 != 0x0f00_0000 {
            return Err(E::NotLogicalPvr(logical));
        }
    }
    if spec.timebase_hz == 0 {
        return Err(E::ZeroFrequency("timebase-frequency"));
    }
    if spec.clock_hz == 0 {
        return Err(E::ZeroFrequency("clock-frequency"));
    }
    Ok(())
}

/// Memory, initrd and RTAS blob. The RTAS properties are single cells and Linux enters RTAS
/// in 32-bit real mode, so the whole blob is below 4 GiB.
fn check_memory(size: u64, initrd: Option<(u64, u64)>, rtas: &RtasPlacement) -> Result<(), E> {
    if size == 0 {
        return Err(E::MemorySizeZero);
    }
    if !size.is_multiple_of(LMB_SIZE) {
        return Err(E::MemoryNotWholeBlocks(size));
    }
    if rtas.size == 0 {
        return Err(E::RtasEmpty);
    }
    let rtas_end = match rtas.base.checked_add(u64::from(rtas.size)) {
        Some(end) if end <= size => end,
        _ => return Err(E::RtasOutsideMemory { base: rtas.base, size: rtas.size }),
    };
    if rtas_end > 1 << 32 {
        return Err(E::RtasAbove4GiB { base: rtas.base, size: rtas.size });
    }
    if !(rtas.base..rtas_end).contains(&rtas.entry) {
        return Err(E::RtasEntryOutsideBlob { entry: rtas.entry });
    }
    if let Some((start, end)) = initrd {
        if start >= end {
            return Err(E::InitrdEmpty { start, end });
        }
        if end > size {
            return Err(E::InitrdOutsideMemory { start, end });
        }
        if start < rtas_end && rtas.base < end {
            return Err(E::InitrdOverlapsRtas);
        }
    }
    Ok(())
}

/// A service name becomes a property name: 1 to 31 characters from the device-tree set.
fn service_name_fault(name: &str) -> Option<&'static str> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b",._+?#-".contains(&b);
    if name.is_empty() {
        Some("empty")
    } else if name.len() > 31 {
        Some("longer than 31 characters")
    } else if !name.bytes().all(allowed) {
        Some("has a character not allowed in a property name")
    } else if RESERVED_RTAS_PROPERTIES.contains(&name) {
        Some("is a /rtas property the builder writes itself")
    } else {
        None
    }
}

/// RTAS services. Linux keeps tokens as `s32` (-1 means "no such service"; it indexes a
/// table by token), so they are 1..=0x7fff_ffff and distinct. Besides the XICS services it
/// needs `start-cpu` to start any other thread, `query-cpu-stopped-state` once there is a
/// second core (without it Linux assumes the first thread of every other core is already
/// spinning in the kernel and never starts it), and `ibm,nmi-interlock` whenever
/// `ibm,nmi-register` is offered (it warns and gives up otherwise).
fn check_rtas_services(services: &[(&str, u32)], cores: usize, threads: usize) -> Result<(), E> {
    for (i, &(name, token)) in services.iter().enumerate() {
        if let Some(why) = service_name_fault(name) {
            return Err(E::BadServiceName { name: name.to_string(), why });
        }
        if token == 0 || token > 0x7fff_ffff {
            return Err(E::BadToken { service: name.to_string(), token });
        }
        for &(other, other_token) in &services[..i] {
            if other == name {
                return Err(E::DuplicateService(name.to_string()));
            }
            if other_token == token {
                return Err(E::DuplicateToken { token, first: other.to_string(), second: name.to_string() });
            }
        }
    }
    let has = |wanted: &str| services.iter().any(|&(name, _)| name == wanted);
    let mut needed: Vec<&'static str> = XICS_RTAS_SERVICES.to_vec();
    if threads > 1 {
        needed.push("start-cpu");
    }
    if cores > 1 {
        needed.push("query-cpu-stopped-state");
    }
    if has("ibm,nmi-register") {
        needed.push("ibm,nmi-interlock");
    }
    match needed.into_iter().find(|n| !has(n)) {
        Some(missing) => Err(E::MissingRtasService(missing)),
        None => Ok(()),
    }
}

/// Hypercall groups. Linux matches each NUL-terminated string exactly; with radix and no
/// GTSE it panics at setup unless `hcall-rpt-invalidate` is there.
fn check_hypertas(hypertas: &[&str], radix_gtse: bool) -> Result<(), E> {
    for (i, &s) in hypertas.iter().enumerate() {
        if s.is_empty() || !printable(s) {
            return Err(E::BadHypertas(String::from(s)));
        }
        if hypertas[..i].contains(&s) {
            return Err(E::DuplicateHypertas(String::from(s)));
        }
    }
    if !radix_gtse && !hypertas.contains(&"hcall-rpt-invalidate") {
        return Err(E::NoGtseNorRptInvalidate);
    }
    Ok(())
}
