//! The device tree of one LPAR (logical partition): the flattened device tree (FDT) the
//! hypervisor hands to an unmodified Linux `pseries` kernel that it enters directly, with r3 =
//! the FDT's real address and r5 = 0 (no Open Firmware client interface, so no negotiation:
//! everything Linux learns about the partition is in this tree).
//!
//! The tree describes a POWER9 partition with the radix MMU (memory management unit) only, no
//! transactional memory, XICS (the eXternal Interrupt Controller of PAPR, the Power
//! Architecture Platform Requirements: presentation through hypercalls, sources through
//! RTAS), the hypervisor console on the virtual I/O bus and, optionally, the platform random
//! number generator:
//!
//! * [`check`] — every input of an [`LparTreeSpec`] checked first; each fault is one
//!   [`LparTreeError`] naming the input, so nothing wrong reaches the tree;
//! * [`cpus`] — `/cpus`: one node per core, with the POWER9 `ibm,pa-features` bytes;
//! * [`nodes`] — the root, `/memory@0`, `/chosen` with option vector 5 (the platform's answer
//!   to "radix or hash, XICS or XIVE"), `/rtas` (Run-Time Abstraction Services: the blob, the
//!   hypercall groups, the service tokens), the interrupt controller, `/vdevice` and
//!   `/ibm,platform-facilities`.
//!
//! [`lpar_fdt`] flattens the tree with the boot thread in the header and the RTAS blob in the
//! memory reservation map (Linux reserves the FDT itself and the initrd it finds in
//! `/chosen`). What each property is for, what Linux 6.12 does with it, and where the tree
//! deliberately differs from QEMU's `pseries` machine is in `docs/lpar-tree.md`.

pub mod check;
pub mod cpus;
mod error;
pub mod nodes;

#[cfg(test)]
mod tests;

pub use error::LparTreeError;

use alloc::vec;
use alloc::vec::Vec;
use oxiboot_devtree::{to_fdt, FdtOptions, Node};

/// Granule of LPAR memory: the logical memory block (LMB) size PAPR platforms use, 256 MiB.
pub const LMB_SIZE: u64 = 256 << 20;

/// Longest command line Linux keeps on powerpc (`COMMAND_LINE_SIZE` is 2048 with the NUL).
pub const MAX_CMDLINE: usize = 2047;

/// Longest partition name accepted (`ibm,partition-name`).
pub const MAX_PARTITION_NAME: usize = 31;

/// Where the hypervisor put the RTAS blob (the stub Linux calls for RTAS services) in the
/// LPAR's real address space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtasPlacement {
    /// Real address of the blob's first byte (`linux,rtas-base`).
    pub base: u64,
    /// Size of the blob in bytes (`rtas-size`); reserved in the FDT.
    pub size: u32,
    /// Real address Linux branches to for each RTAS call (`linux,rtas-entry`), inside the blob.
    pub entry: u64,
}

/// Everything the per-LPAR tree is built from. Addresses are guest real addresses.
#[derive(Debug, Clone, Copy)]
pub struct LparTreeSpec<'a> {
    /// Partition name (`/ibm,partition-name`): 1 to 31 printable ASCII characters.
    pub name: &'a str,
    /// Partition number (`/ibm,partition-no`).
    pub lpid: u32,
    /// One entry per core node: the interrupt server numbers (hardware thread ids) of its
    /// threads, in order. Every core has the same number of threads: 1, 2, 4 or 8.
    pub cores: &'a [&'a [u32]],
    /// The thread the kernel is entered on (`boot_cpuid_phys`); one of the server numbers.
    pub boot_cpu: u32,
    /// LPAR memory, guest real 0 to `memory_size`, a whole number of 256 MiB blocks.
    pub memory_size: u64,
    /// Timebase frequency (512 MHz on POWER9).
    pub timebase_hz: u32,
    /// Processor clock frequency (`clock-frequency`).
    pub clock_hz: u32,
    /// The real processor version register (PVR) value; a POWER9 (version 0x004e).
    pub pvr: u32,
    /// Logical PVR for a compatibility mode (`0x0f000005` = instruction set architecture 3.0,
    /// POWER9); it becomes `cpu-version`, and Linux then takes its CPU features from that
    /// architecture level.
    pub logical_pvr: Option<u32>,
    /// Kernel command line (`/chosen/bootargs`).
    pub cmdline: &'a str,
    /// Initial RAM disk, `(start, end)` with `end` exclusive.
    pub initrd: Option<(u64, u64)>,
    /// The RTAS blob.
    pub rtas: RtasPlacement,
    /// RTAS services the hypervisor implements: name → token, one cell property each in
    /// `/rtas`. Tokens are 1 to 0x7fff_ffff (Linux keeps them as signed 32-bit numbers).
    pub rtas_services: &'a [(&'a str, u32)],
    /// `ibm,hypertas-functions`: the hypercall groups the hypervisor implements.
    pub hypertas: &'a [&'a str],
    /// The guest may invalidate its own translations with `tlbie` (option vector 5 byte 26,
    /// radix GTSE, guest translation shootdown enable). Without it the hypervisor must offer
    /// `hcall-rpt-invalidate`.
    pub radix_gtse: bool,
    /// Describe the platform random number generator (`H_RANDOM`) under
    /// `/ibm,platform-facilities`.
    pub random: bool,
    /// Unit address and terminal number of the console, `/vdevice/vty@<vty_reg>` (the tests
    /// use 0x30000000, as kvmtool does; QEMU numbers its virtual devices from 0x71000000).
    pub vty_reg: u32,
    /// System serial number (`/system-id`, shown by lparcfg).
    pub system_id: &'a str,
    /// Machine model (`/model`, shown by cpuinfo and lparcfg).
    pub model: &'a str,
}

/// Builds the LPAR's device tree after checking every input.
pub fn build_lpar_tree(spec: &LparTreeSpec) -> Result<Node, LparTreeError> {
    let checked = check::check(spec)?;
    let mut root = Node::new("");
    nodes::root(&mut root, spec);
    nodes::chosen(&mut root, spec);
    nodes::memory(&mut root, spec);
    cpus::cpus(&mut root, spec);
    nodes::rtas(&mut root, spec);
    nodes::interrupt_controller(&mut root, &checked.servers);
    nodes::vdevice(&mut root, spec);
    if spec.random {
        nodes::platform_facilities(&mut root);
    }
    Ok(root)
}

/// Builds the tree and flattens it: `boot_cpuid_phys` = [`LparTreeSpec::boot_cpu`], one
/// memory reservation, the RTAS blob.
pub fn lpar_fdt(spec: &LparTreeSpec) -> Result<Vec<u8>, LparTreeError> {
    let root = build_lpar_tree(spec)?;
    let opts = FdtOptions {
        boot_cpuid: spec.boot_cpu,
        reservations: vec![(spec.rtas.base, u64::from(spec.rtas.size))],
    };
    Ok(to_fdt(&root, &opts))
}
