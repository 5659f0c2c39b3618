//! `/cpus` of an LPAR (logical partition): one node per core, named after its first thread,
//! listing its threads' interrupt server numbers. The processor is a POWER9 used with the
//! radix MMU (memory management unit) only, so the hash-MMU properties (`ibm,pft-size`,
//! `ibm,slb-size`, `ibm,segment-page-sizes`) are left out; Linux reads them only for hash.

use super::LparTreeSpec;
use alloc::format;
use oxiboot_devtree::Node;

/// Number of attribute bytes in [`PA_FEATURES`] after its two-byte header.
pub const PA_FEATURE_BYTES: usize = 66;

/// `ibm,pa-features` (processor attributes): header (number of attribute bytes, type 0),
/// then the attribute bytes, bit 0 = most significant.
///
/// The bytes are those of a real POWER9 as its firmware describes it (the tree built from HDAT,
/// the hostboot data area, in `hdat/tests/data`), with four changes for an LPAR of this
/// hypervisor:
///
/// * byte 4 (strong access ordering) cleared: not offered to partitions (and QEMU's TCG,
///   its multi-threaded emulator, cannot provide it);
/// * byte 22 (transactional memory, TM) cleared: the hypervisor does not keep TM state, and a
///   present-but-clear bit makes Linux drop its TM features;
/// * byte 38 (copy/paste to accelerators) cleared: partitions get no accelerator windows;
/// * the array runs to byte 65 instead of 63, so byte 64 bit 0 (DAWR1, a second data
///   watchpoint, which POWER9 does not have) is explicitly clear.
///
/// What Linux 6.12 reads (`prom.c`): byte 0 bits 0/1/3/6 (MMU, floating point, run latch control,
/// no-execute), byte 1 bit 2 (cache-inhibited large pages), byte 5 bit 0 (true little
/// endian), byte 22 bit 0 (TM), byte 40 bit 0 (radix MMU with GTSE, guest translation
/// shootdown enable), byte 64 bit 0 (DAWR1). A bit present but clear removes the feature,
/// so every one of these is written deliberately.
#[rustfmt::skip]
pub const PA_FEATURES: [u8; 2 + PA_FEATURE_BYTES] = [
    PA_FEATURE_BYTES as u8, 0x00, // header: attribute bytes, descriptor type 0
    0xf6, // 0: MMU, floating point, segment lookaside buffer, run latch, data breakpoint, no-execute
    0x3f, // 1: cache-inhibited large pages and the other storage attributes
    0xc7, // 2
    0xc0, // 3
    0x00, // 4: strong access ordering, not offered
    0xd0, // 5: true little endian, come-from address register, load/store quadword
    0x80, // 6
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 7-15
    0x80, 0x00, // 16: vector (VMX, vector multimedia extension)
    0x80, 0x00, // 18: vector-scalar extension (VSX)
    0x80, 0x00, // 20: vector crypto
    0x00, 0x00, // 22: transactional memory, not offered
    0x80, 0x00, // 24
    0x80, 0x00, // 26
    0x80, 0x00, // 28
    0x00, 0x00, // 30
    0x80, 0x00, // 32
    0x80, 0x00, // 34
    0x00, 0x00, // 36
    0x00, 0x00, // 38: copy/paste, not offered
    0x80, 0x00, // 40: radix MMU
    0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, // 42-49
    0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, // 50-57
    0x80, 0x00, 0x80, 0x00, 0x80, 0x00, // 58-63
    0x00, 0x00, // 64: DAWR1, not on POWER9
];

/// `ibm,processor-radix-AP-encodings`: page size shift in the low bits, the radix AP (actual
/// page size) code in the top 3 bits: 4 KiB (0), 64 KiB (5), 2 MiB (1), 1 GiB (2).
pub const RADIX_AP_ENCODINGS: [u32; 4] = [0x0000_000c, 0xa000_0010, 0x2000_0015, 0x4000_001e];

/// POWER9 level-1 caches, instruction and data alike: 32 KiB, 128-byte lines, 8 ways.
pub const L1_CACHE_SIZE: u32 = 32 * 1024;
/// Cache block and line size in bytes.
pub const CACHE_LINE: u32 = 128;
/// Number of sets of each level-1 cache. Linux reads `*-cache-sets` as the set count and
/// derives the associativity as size / (sets × line) = 8; the HDAT tree puts the way count
/// (8) there instead, which Linux would turn into 32 ways.
pub const L1_CACHE_SETS: u32 = L1_CACHE_SIZE / (8 * CACHE_LINE);

/// The node name of a core whose first thread is `first`.
pub fn core_node_name(first: u32) -> alloc::string::String {
    format!("PowerPC,POWER9@{first:x}")
}

/// Adds `/cpus` with one node per core. The spec has been checked: no core is empty.
pub fn cpus(root: &mut Node, spec: &LparTreeSpec) {
    let cpus = root.add_child(Node::new("cpus"));
    cpus.set_u32("#address-cells", 1).set_u32("#size-cells", 0);
    for threads in spec.cores {
        let Some(&first) = threads.first() else { continue };
        let cpu = cpus.add_child(Node::new(&core_node_name(first)));
        cpu.set_str("device_type", "cpu")
            .set_u32("reg", first)
            .set_cells("ibm,ppc-interrupt-server#s", threads)
            .set_u32("cpu-version", spec.logical_pvr.unwrap_or(spec.pvr))
            .set_str("status", "okay")
            .set_flag("64-bit")
            .set_u32("timebase-frequency", spec.timebase_hz)
            .set_u32("clock-frequency", spec.clock_hz)
            .set("ibm,pa-features", PA_FEATURES.to_vec())
            .set_cells("ibm,processor-radix-AP-encodings", &RADIX_AP_ENCODINGS)
            // Values Linux compares against a minimum: VMX and VSX (2), decimal floating
            // point, processor and scaled processor utilisation registers.
            .set_u32("ibm,vmx", 2)
            .set_u32("ibm,dfp", 1)
            .set_u32("ibm,purr", 1)
            .set_u32("ibm,spurr", 1);
        for side in ["i", "d"] {
            cpu.set_u32(&format!("{side}-cache-size"), L1_CACHE_SIZE)
                .set_u32(&format!("{side}-cache-sets"), L1_CACHE_SETS)
                .set_u32(&format!("{side}-cache-block-size"), CACHE_LINE)
                .set_u32(&format!("{side}-cache-line-size"), CACHE_LINE);
        }
    }
}
