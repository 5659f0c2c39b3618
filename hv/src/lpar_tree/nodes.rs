//! The nodes of an LPAR (logical partition) tree other than `/cpus`: the root, memory,
//! `/chosen` with option vector 5, `/rtas` (Run-Time Abstraction Services), the XICS
//! (eXternal Interrupt Controller of PAPR, the Power Architecture Platform Requirements)
//! presentation controller, the VIO (virtual I/O) bus `/vdevice` with the console, and
//! `/ibm,platform-facilities`. The spec has been checked.

use super::{LparTreeSpec, LMB_SIZE};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use oxiboot_devtree::Node;

/// Root `compatible`: what this machine is. Linux's `pseries` platform only needs the root's
/// `device_type` to be `chrp` (and `compatible` not to name a Cell blade).
pub const ROOT_COMPATIBLE: &str = "oxiboot,lpar";

/// `phandle` of the interrupt controller node (the only node that needs one).
pub const XICS_PHANDLE: u32 = 1;

/// `rtas-error-log-max`: the largest RTAS error log Linux accepts (`RTAS_ERROR_LOG_MAX`).
pub const RTAS_ERROR_LOG_MAX: u32 = 2048;

/// `rtas-event-scan-rate` when `event-scan` is offered: scans per minute.
pub const RTAS_EVENT_SCAN_RATE: u32 = 1;

/// Option vector 5 as stored in `ibm,architecture-vec-5`: byte 0 holds the number of vector
/// bytes minus one, then vector bytes 1 to 26, so the property index is the PAPR byte number.
pub const VEC5_LEN: usize = 27;
/// Byte 23: interrupt controller. 0x00 = XICS only (0x40 would be XIVE exploitation only).
pub const VEC5_INTC_BYTE: usize = 23;
/// Byte 24: MMU (memory management unit) model. 0x40 = radix only.
pub const VEC5_MMU_BYTE: usize = 24;
/// Byte 26: radix extensions. 0x40 = GTSE (guest translation shootdown enable).
pub const VEC5_RADIX_EXT_BYTE: usize = 26;
/// [`VEC5_MMU_BYTE`] value: radix only.
pub const VEC5_MMU_RADIX_ONLY: u8 = 0x40;
/// [`VEC5_RADIX_EXT_BYTE`] bit: GTSE.
pub const VEC5_RADIX_GTSE: u8 = 0x40;

/// `/chosen/ibm,architecture-vec-5`. Linux (`early_check_vec5`) turns radix on because byte
/// 24 says "radix only" and takes GTSE from byte 26; its XIVE code stays away because byte 23
/// says XICS (not XIVE, the POWER9 interrupt virtualization engine). Every other byte is 0:
/// no NUMA (non-uniform memory access) affinity forms, no dynamic memory, no hotplug events.
pub fn architecture_vec5(radix_gtse: bool) -> [u8; VEC5_LEN] {
    let mut v = [0u8; VEC5_LEN];
    v[0] = (VEC5_LEN - 2) as u8;
    v[VEC5_INTC_BYTE] = 0x00;
    v[VEC5_MMU_BYTE] = VEC5_MMU_RADIX_ONLY;
    if radix_gtse {
        v[VEC5_RADIX_EXT_BYTE] = VEC5_RADIX_GTSE;
    }
    v
}

/// Path of the console node, `/vdevice/vty@<reg>`.
pub fn vty_path(vty_reg: u32) -> String {
    format!("/vdevice/vty@{vty_reg:x}")
}

/// A 64-bit value as two cells, most significant first.
fn two_cells(v: u64) -> [u32; 2] {
    [(v >> 32) as u32, v as u32]
}

/// Root properties. `system-id`, `model` and `ibm,partition-no` are what lparcfg shows as
/// serial number, system type and partition id.
pub fn root(root: &mut Node, spec: &LparTreeSpec) {
    root.set_str("device_type", "chrp")
        .set_str("compatible", ROOT_COMPATIBLE)
        .set_str("model", spec.model)
        .set_u32("#address-cells", 2)
        .set_u32("#size-cells", 2)
        .set_str("ibm,partition-name", spec.name)
        .set_u32("ibm,partition-no", spec.lpid)
        .set_str("system-id", spec.system_id);
}

/// `/memory@0`: the whole LPAR memory as one range (it is also the real mode area).
pub fn memory(root: &mut Node, spec: &LparTreeSpec) {
    root.add_child(Node::new("memory@0"))
        .set_str("device_type", "memory")
        .set_u64s("reg", &[0, spec.memory_size]);
}

/// `/chosen`: command line, initrd (64-bit values; Linux reads any cell count), console path
/// under both names, option vector 5.
pub fn chosen(root: &mut Node, spec: &LparTreeSpec) {
    let chosen = root.add_child(Node::new("chosen"));
    chosen.set_str("bootargs", spec.cmdline);
    if let Some((start, end)) = spec.initrd {
        chosen.set_u64("linux,initrd-start", start).set_u64("linux,initrd-end", end);
    }
    let stdout = vty_path(spec.vty_reg);
    chosen
        .set_str("stdout-path", &stdout)
        .set_str("linux,stdout-path", &stdout)
        .set("ibm,architecture-vec-5", architecture_vec5(spec.radix_gtse).to_vec());
}

/// `/rtas`. The blob's base, entry and size are single cells (checked below 4 GiB);
/// `ibm,hypertas-functions` makes Linux treat the machine as an LPAR and selects hypercall
/// groups; each service is a one-cell property holding its token.
///
/// `ibm,lrdr-capacity` (logical resource dynamic reconfiguration) gives the most the
/// partition can grow to: highest memory address (2 cells), memory block size (2 cells) and
/// processor count in cores. Nothing is hot-pluggable, so they are the LPAR's own memory and
/// cores; lparcfg reports the last cell as the potential processors.
pub fn rtas(root: &mut Node, spec: &LparTreeSpec) {
    let rtas = root.add_child(Node::new("rtas"));
    let has = |name: &str| spec.rtas_services.iter().any(|&(n, _)| n == name);
    let [mem_hi, mem_lo] = two_cells(spec.memory_size);
    let [lmb_hi, lmb_lo] = two_cells(LMB_SIZE);
    let cores = u32::try_from(spec.cores.len()).unwrap_or(u32::MAX);
    rtas.set_u32("linux,rtas-base", spec.rtas.base as u32)
        .set_u32("linux,rtas-entry", spec.rtas.entry as u32)
        .set_u32("rtas-size", spec.rtas.size)
        .set_strs("ibm,hypertas-functions", spec.hypertas)
        .set_u32("rtas-error-log-max", RTAS_ERROR_LOG_MAX)
        .set_cells("ibm,lrdr-capacity", &[mem_hi, mem_lo, lmb_hi, lmb_lo, cores]);
    if has("event-scan") {
        // Without a rate Linux's RTAS daemon refuses to start.
        rtas.set_u32("rtas-event-scan-rate", RTAS_EVENT_SCAN_RATE);
    }
    if has("ibm,os-term") {
        // Promises that ibm,os-term returns, so Linux calls it on panic and then honours
        // its own panic timeout.
        rtas.set_flag("ibm,extended-os-term");
    }
    for &(name, token) in spec.rtas_services {
        rtas.set_u32(name, token);
    }
}

/// `ibm,interrupt-server-ranges`: `(first, count)` for each run of consecutive server
/// numbers in `servers` (ascending, no duplicates).
pub fn server_ranges(servers: &[u32]) -> Vec<u32> {
    let mut cells: Vec<u32> = Vec::new();
    let mut run: Option<(u32, u32)> = None;
    for &s in servers {
        run = match run {
            Some((first, count)) if first.checked_add(count) == Some(s) => Some((first, count + 1)),
            Some((first, count)) => {
                cells.extend([first, count]);
                Some((s, 1))
            }
            None => Some((s, 1)),
        };
    }
    if let Some((first, count)) = run {
        cells.extend([first, count]);
    }
    cells
}

/// `/interrupt-controller`: the XICS presentation controller. With the LPAR firmware feature
/// Linux (`icp_hv_init`) finds it by `compatible` and drives it with the XICS hypercalls
/// (H_XIRR, H_CPPR, H_EOI, H_IPI); the source side needs no node, Linux uses the RTAS
/// services `ibm,get-xive`/`ibm,set-xive`/`ibm,int-on`/`ibm,int-off`.
pub fn interrupt_controller(root: &mut Node, servers: &[u32]) {
    root.add_child(Node::new("interrupt-controller"))
        .set_str("device_type", "PowerPC-External-Interrupt-Presentation")
        .set_str("compatible", "IBM,ppc-xicp")
        .set_flag("interrupt-controller")
        .set_u32("#interrupt-cells", 2)
        .set_u32("#address-cells", 0)
        .set_cells("ibm,interrupt-server-ranges", &server_ranges(servers))
        .set_u32("phandle", XICS_PHANDLE)
        .set_u32("linux,phandle", XICS_PHANDLE);
}

/// `/vdevice`, the VIO bus (Linux registers each child with a `device_type` and a `reg`), and
/// the console `vty@<reg>`: `hvterm1` is the raw protocol over H_GET_TERM_CHAR /
/// H_PUT_TERM_CHAR with terminal number = `reg`. No `interrupts`: the console is polled.
/// The bus is the interrupt parent of its devices, as on PAPR machines.
pub fn vdevice(root: &mut Node, spec: &LparTreeSpec) {
    let vdevice = root.add_child(Node::new("vdevice"));
    vdevice
        .set_str("device_type", "vdevice")
        .set_str("compatible", "IBM,vdevice")
        .set_u32("#address-cells", 1)
        .set_u32("#size-cells", 0)
        .set_flag("interrupt-controller")
        .set_u32("#interrupt-cells", 2);
    vdevice
        .add_child(Node::new(&format!("vty@{:x}", spec.vty_reg)))
        .set_str("name", "vty")
        .set_str("device_type", "serial")
        .set_str("compatible", "hvterm1")
        .set_u32("reg", spec.vty_reg);
}

/// `/ibm,platform-facilities/ibm,random-v1`: `compatible = "ibm,random"` is what Linux's
/// pseries random number code looks for (it then calls H_RANDOM); the parent's
/// `device_type` puts the facility on the VIO bus for the hardware random number generator
/// driver. No `#address-cells`/`#size-cells`: the facility has no `reg`.
pub fn platform_facilities(root: &mut Node) {
    let pfo = root.add_child(Node::new("ibm,platform-facilities"));
    pfo.set_str("device_type", "ibm,platform-facilities");
    pfo.add_child(Node::new("ibm,random-v1")).set_str("compatible", "ibm,random");
}
