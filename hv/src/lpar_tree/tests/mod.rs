//! Host tests of the per-LPAR (logical partition) device tree, with shared fixtures: a 2-core
//! LPAR (8 threads, servers 0..7, 2 GiB) and a 1-core LPAR whose servers are 8..11, and a
//! reader of the FDT (flattened device tree) header fields Linux looks at.

mod errors;
mod linux_view;
mod tree;

use super::{LparTreeSpec, RtasPlacement};

/// RTAS (Run-Time Abstraction Services) services the fixtures' hypervisor implements.
pub(super) const SERVICES: [(&str, u32); 13] = [
    ("get-time-of-day", 0x2001),
    ("set-time-of-day", 0x2002),
    ("power-off", 0x2003),
    ("system-reboot", 0x2004),
    ("query-cpu-stopped-state", 0x2005),
    ("start-cpu", 0x2006),
    ("stop-self", 0x2007),
    ("ibm,set-xive", 0x200a),
    ("ibm,get-xive", 0x200b),
    ("ibm,int-off", 0x200c),
    ("ibm,int-on", 0x200d),
    ("event-scan", 0x200f),
    ("ibm,os-term", 0x201f),
];

/// The minimum a one-thread LPAR needs: the XICS source services.
pub(super) const XICS_ONLY: [(&str, u32); 4] =
    [("ibm,get-xive", 1), ("ibm,set-xive", 2), ("ibm,int-on", 3), ("ibm,int-off", 4)];

/// Hypercall groups of the fixtures.
pub(super) const HYPERTAS: [&str; 5] =
    ["hcall-term", "hcall-interrupt", "hcall-splpar", "hcall-set-mode", "hcall-rpt-invalidate"];

/// Two cores of 4 hardware threads (SMT4, simultaneous multithreading), servers 0..7.
pub(super) const TWO_CORES: [&[u32]; 2] = [&[0, 1, 2, 3], &[4, 5, 6, 7]];

/// One 4-thread core whose servers do not start at 0.
pub(super) const CORE_8_TO_11: [&[u32]; 1] = [&[8, 9, 10, 11]];

/// RTAS blob of the 2-core fixture: 4 KiB at 31 MiB, entry 0x10 into it.
pub(super) const RTAS_2CORE: RtasPlacement =
    RtasPlacement { base: 0x01f0_0000, size: 0x1000, entry: 0x01f0_0010 };

/// A 2-core, 8-thread, 2 GiB LPAR booting on thread 2, POWER9 compatibility mode, initrd at
/// 640 MiB, random number generator on.
pub(super) fn two_core_spec() -> LparTreeSpec<'static> {
    LparTreeSpec {
        name: "lpar-one",
        lpid: 1,
        cores: &TWO_CORES,
        boot_cpu: 2,
        memory_size: 2 << 30,
        timebase_hz: 512_000_000,
        clock_hz: 3_800_000_000,
        pvr: 0x004e_1202,
        logical_pvr: Some(0x0f00_0005),
        cmdline: "console=hvc0 root=/dev/ram0 quiet",
        initrd: Some((0x2800_0000, 0x2840_0000)),
        rtas: RTAS_2CORE,
        rtas_services: &SERVICES,
        hypertas: &HYPERTAS,
        radix_gtse: true,
        random: true,
        vty_reg: 0x3000_0000,
        system_id: "oxiboot-0001",
        model: "oxiboot,lpar",
    }
}

/// A 1-core LPAR on servers 8..11 booting on 9: 1 GiB, real PVR, no initrd, no random number
/// generator, no GTSE (so `hcall-rpt-invalidate` is offered), only the services it needs.
pub(super) fn one_core_spec() -> LparTreeSpec<'static> {
    const SERVICES_1CORE: [(&str, u32); 5] = [
        ("ibm,get-xive", 0x10),
        ("ibm,set-xive", 0x11),
        ("ibm,int-on", 0x12),
        ("ibm,int-off", 0x13),
        ("start-cpu", 0x14),
    ];
    LparTreeSpec {
        name: "second",
        lpid: 2,
        cores: &CORE_8_TO_11,
        boot_cpu: 9,
        memory_size: 1 << 30,
        timebase_hz: 512_000_000,
        clock_hz: 2_000_000_000,
        pvr: 0x004e_1202,
        logical_pvr: None,
        cmdline: "",
        initrd: None,
        rtas: RtasPlacement { base: 0x3fff_0000, size: 0x800, entry: 0x3fff_0000 },
        rtas_services: &SERVICES_1CORE,
        hypertas: &["hcall-term", "hcall-interrupt", "hcall-rpt-invalidate"],
        radix_gtse: false,
        random: false,
        vty_reg: 0x3000_0001,
        system_id: "oxiboot-0001",
        model: "IBM,9009-22A",
    }
}

/// Big-endian 32-bit word of an FDT at `at`.
pub(super) fn be32(blob: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&blob[at..at + 4]);
    u32::from_be_bytes(w)
}

/// Big-endian 64-bit word of an FDT at `at`.
pub(super) fn be64(blob: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&blob[at..at + 8]);
    u64::from_be_bytes(w)
}
