//! Every [`LparTreeError`] variant, each triggered by one wrong input on an otherwise valid
//! fixture, and its message naming that input.

use super::{one_core_spec, two_core_spec, SERVICES, XICS_ONLY};
use crate::lpar_tree::{build_lpar_tree, lpar_fdt, LparTreeError as E, LparTreeSpec, RtasPlacement};
use alloc::string::{String, ToString};

/// The error for `spec`, also checking the flattening path agrees and the message is
/// meaningful (it mentions `mentions`).
fn err(spec: LparTreeSpec, mentions: &str) -> E {
    let e = build_lpar_tree(&spec).expect_err("spec must be rejected");
    assert_eq!(lpar_fdt(&spec).expect_err("spec must be rejected"), e);
    let msg = e.to_string();
    assert!(msg.contains(mentions), "{msg:?} should mention {mentions:?}");
    e
}

fn s(text: &str) -> String {
    text.to_string()
}

#[test]
fn cores_and_threads() {
    assert_eq!(err(LparTreeSpec { cores: &[], ..two_core_spec() }, "no core"), E::NoCores);
    let cores: [&[u32]; 2] = [&[0, 1, 2, 3], &[]];
    assert_eq!(err(LparTreeSpec { cores: &cores, ..two_core_spec() }, "core 1"), E::EmptyCore { core: 1 });
    let cores: [&[u32]; 1] = [&[0, 1, 2]];
    let e = err(LparTreeSpec { cores: &cores, rtas_services: &SERVICES, ..two_core_spec() }, "3 threads");
    assert_eq!(e, E::ThreadCount { core: 0, threads: 3 });
    let cores: [&[u32]; 2] = [&[0, 1, 2, 3], &[4, 5]];
    let e = err(LparTreeSpec { cores: &cores, ..two_core_spec() }, "core 0 has 4");
    assert_eq!(e, E::UnevenCores { core: 1, threads: 2, first: 4 });
    let cores: [&[u32]; 2] = [&[0, 1, 2, 3], &[4, 5, 6, 3]];
    assert_eq!(err(LparTreeSpec { cores: &cores, ..two_core_spec() }, "0x3"), E::DuplicateServer(3));
    assert_eq!(err(LparTreeSpec { boot_cpu: 8, ..two_core_spec() }, "boot cpu 0x8"), E::BootCpuNotAServer(8));
    assert_eq!(err(LparTreeSpec { boot_cpu: 0, ..one_core_spec() }, "boot cpu 0x0"), E::BootCpuNotAServer(0));
}

#[test]
fn processor() {
    let e = err(LparTreeSpec { pvr: 0x004d_0200, ..two_core_spec() }, "0x004d0200");
    assert_eq!(e, E::NotPower9(0x004d_0200));
    let e = err(LparTreeSpec { logical_pvr: Some(0x004e_1202), ..two_core_spec() }, "logical PVR");
    assert_eq!(e, E::NotLogicalPvr(0x004e_1202));
    let e = err(LparTreeSpec { timebase_hz: 0, ..two_core_spec() }, "timebase-frequency");
    assert_eq!(e, E::ZeroFrequency("timebase-frequency"));
    let e = err(LparTreeSpec { clock_hz: 0, ..two_core_spec() }, "clock-frequency");
    assert_eq!(e, E::ZeroFrequency("clock-frequency"));
}

#[test]
fn memory() {
    assert_eq!(err(LparTreeSpec { memory_size: 0, ..two_core_spec() }, "memory size"), E::MemorySizeZero);
    let e = err(LparTreeSpec { memory_size: (2 << 30) + 4096, ..two_core_spec() }, "256 MiB");
    assert_eq!(e, E::MemoryNotWholeBlocks((2 << 30) + 4096));
}

#[test]
fn initrd() {
    let e = err(LparTreeSpec { initrd: Some((0x2800_0000, 0x2800_0000)), ..two_core_spec() }, "empty");
    assert_eq!(e, E::InitrdEmpty { start: 0x2800_0000, end: 0x2800_0000 });
    let e = err(LparTreeSpec { initrd: Some((0x7ff0_0000, 0x8000_1000)), ..two_core_spec() }, "initrd");
    assert_eq!(e, E::InitrdOutsideMemory { start: 0x7ff0_0000, end: 0x8000_1000 });
    let e = err(LparTreeSpec { initrd: Some((0x01e0_0000, 0x01f0_0001)), ..two_core_spec() }, "overlaps");
    assert_eq!(e, E::InitrdOverlapsRtas);
    // Touching is not overlapping, on either side.
    for initrd in [(0x01e0_0000, 0x01f0_0000), (0x01f0_1000, 0x0200_0000)] {
        assert!(build_lpar_tree(&LparTreeSpec { initrd: Some(initrd), ..two_core_spec() }).is_ok());
    }
}

#[test]
fn rtas_blob() {
    let rtas =
        |base, size, entry| LparTreeSpec { rtas: RtasPlacement { base, size, entry }, ..two_core_spec() };
    assert_eq!(err(rtas(0x1000, 0, 0x1000), "size is 0"), E::RtasEmpty);
    let e = err(rtas(0x7fff_f800, 0x1000, 0x7fff_f800), "outside");
    assert_eq!(e, E::RtasOutsideMemory { base: 0x7fff_f800, size: 0x1000 });
    let e = err(rtas(u64::MAX, 2, u64::MAX), "outside");
    assert_eq!(e, E::RtasOutsideMemory { base: u64::MAX, size: 2 });
    let big = |base| LparTreeSpec {
        memory_size: 8 << 30,
        rtas: RtasPlacement { base, size: 0x1000, entry: base },
        ..two_core_spec()
    };
    let e = err(big(0xffff_f800), "4 GiB");
    assert_eq!(e, E::RtasAbove4GiB { base: 0xffff_f800, size: 0x1000 });
    assert!(build_lpar_tree(&big(0xffff_f000)).is_ok(), "ending exactly at 4 GiB is fine");
    let e = err(rtas(0x1000, 0x100, 0x1100), "0x1100");
    assert_eq!(e, E::RtasEntryOutsideBlob { entry: 0x1100 });
    assert_eq!(err(rtas(0x1000, 0x100, 0xfff), "entry"), E::RtasEntryOutsideBlob { entry: 0xfff });
}

#[test]
fn partition_name() {
    assert_eq!(err(LparTreeSpec { name: "", ..two_core_spec() }, "empty"), E::NameEmpty);
    let long = "p".repeat(32);
    assert_eq!(err(LparTreeSpec { name: &long, ..two_core_spec() }, "32 bytes"), E::NameTooLong(32));
    assert!(build_lpar_tree(&LparTreeSpec { name: &long[..31], ..two_core_spec() }).is_ok());
    for name in ["tab\there", "caf\u{e9}", "nul\0"] {
        assert_eq!(err(LparTreeSpec { name, ..two_core_spec() }, "printable"), E::NameNotPrintable);
    }
}

#[test]
fn texts() {
    let e = err(LparTreeSpec { model: "", ..two_core_spec() }, "model");
    assert_eq!(e, E::BadText { field: "model", why: "empty" });
    let e = err(LparTreeSpec { system_id: "serial\n", ..two_core_spec() }, "system-id");
    assert_eq!(e, E::BadText { field: "system-id", why: "not printable ASCII" });
    let e = err(LparTreeSpec { cmdline: "root=/dev/sda\0quiet", ..two_core_spec() }, "bootargs");
    assert_eq!(e, E::BadText { field: "bootargs", why: "contains a NUL" });
    let long = "x".repeat(2048);
    let e = err(LparTreeSpec { cmdline: &long, ..two_core_spec() }, "2047");
    assert_eq!(e, E::BadText { field: "bootargs", why: "longer than 2047 bytes" });
    assert!(build_lpar_tree(&LparTreeSpec { cmdline: &long[..2047], ..two_core_spec() }).is_ok());
}

#[test]
fn rtas_service_names_and_tokens() {
    let with = |services: &'static [(&'static str, u32)]| LparTreeSpec {
        rtas_services: services,
        ..one_core_spec()
    };
    let bad_name = |name: &'static str, why: &'static str| E::BadServiceName { name: s(name), why };
    let cases: [(&'static [(&'static str, u32)], E); 5] = [
        (&[("", 9)], bad_name("", "empty")),
        (
            &[("a-name-much-longer-than-thirty-one-chars", 9)],
            bad_name("a-name-much-longer-than-thirty-one-chars", "longer than 31 characters"),
        ),
        (&[("get time", 9)], bad_name("get time", "has a character not allowed in a property name")),
        (&[("rtas/size", 9)], bad_name("rtas/size", "has a character not allowed in a property name")),
        (&[("rtas-size", 9)], bad_name("rtas-size", "is a /rtas property the builder writes itself")),
    ];
    for (services, want) in cases {
        assert_eq!(err(with(services), "RTAS service"), want);
    }
    let single: [&[u32]; 1] = [&[0]];
    for token in [0, 0x8000_0000, u32::MAX] {
        let services = [("ibm,get-xive", token), ("ibm,set-xive", 2), ("ibm,int-on", 3), ("ibm,int-off", 4)];
        let spec = LparTreeSpec { rtas_services: &services, cores: &single, boot_cpu: 0, ..two_core_spec() };
        assert_eq!(err(spec, "ibm,get-xive"), E::BadToken { service: s("ibm,get-xive"), token });
    }
    let e = err(with(&[("ibm,get-xive", 1), ("ibm,set-xive", 2), ("ibm,get-xive", 3)]), "twice");
    assert_eq!(e, E::DuplicateService(s("ibm,get-xive")));
    let e = err(with(&[("ibm,get-xive", 1), ("ibm,set-xive", 2), ("ibm,int-on", 1)]), "share");
    assert_eq!(e, E::DuplicateToken { token: 1, first: s("ibm,get-xive"), second: s("ibm,int-on") });
}

#[test]
fn rtas_services_linux_needs() {
    let single: [&[u32]; 1] = [&[5]];
    let one_thread = |services: &'static [(&'static str, u32)]| LparTreeSpec {
        cores: &single,
        boot_cpu: 5,
        rtas_services: services,
        ..two_core_spec()
    };
    assert!(build_lpar_tree(&one_thread(&XICS_ONLY)).is_ok(), "one thread needs only the XICS services");
    for (i, name) in ["ibm,get-xive", "ibm,set-xive", "ibm,int-on", "ibm,int-off"].into_iter().enumerate() {
        let mut services = XICS_ONLY.to_vec();
        services.remove(i);
        let services: &'static [(&str, u32)] = services.leak();
        assert_eq!(err(one_thread(services), name), E::MissingRtasService(name));
    }
    // A second thread needs start-cpu; a second core also query-cpu-stopped-state.
    let e = err(LparTreeSpec { rtas_services: &XICS_ONLY, ..one_core_spec() }, "start-cpu");
    assert_eq!(e, E::MissingRtasService("start-cpu"));
    let no_qcss: [(&str, u32); 5] =
        [XICS_ONLY[0], XICS_ONLY[1], XICS_ONLY[2], XICS_ONLY[3], ("start-cpu", 9)];
    let e = err(LparTreeSpec { rtas_services: &no_qcss, ..two_core_spec() }, "query-cpu-stopped-state");
    assert_eq!(e, E::MissingRtasService("query-cpu-stopped-state"));
    let nmi: [(&str, u32); 5] =
        [XICS_ONLY[0], XICS_ONLY[1], XICS_ONLY[2], XICS_ONLY[3], ("ibm,nmi-register", 9)];
    let e = err(one_thread(nmi.to_vec().leak()), "ibm,nmi-interlock");
    assert_eq!(e, E::MissingRtasService("ibm,nmi-interlock"));
}

#[test]
fn hypertas() {
    let with = |hypertas: &'static [&'static str]| LparTreeSpec { hypertas, ..two_core_spec() };
    assert_eq!(err(with(&["hcall-term", ""]), "hypertas"), E::BadHypertas(s("")));
    assert_eq!(err(with(&["hcall\0term"]), "hypertas"), E::BadHypertas(s("hcall\0term")));
    let e = err(with(&["hcall-term", "hcall-interrupt", "hcall-term"]), "twice");
    assert_eq!(e, E::DuplicateHypertas(s("hcall-term")));
    let e = err(LparTreeSpec { hypertas: &["hcall-term"], ..one_core_spec() }, "hcall-rpt-invalidate");
    assert_eq!(e, E::NoGtseNorRptInvalidate);
    assert!(build_lpar_tree(&LparTreeSpec { hypertas: &["hcall-term"], ..two_core_spec() }).is_ok());
}
