//! The built and flattened trees of the two fixture LPARs (logical partitions), property by
//! property, plus the header and reservation map of the FDT (flattened device tree).

use super::{be32, be64, one_core_spec, two_core_spec, HYPERTAS, RTAS_2CORE, SERVICES};
use crate::lpar_tree::cpus::{PA_FEATURES, RADIX_AP_ENCODINGS};
use crate::lpar_tree::nodes::{architecture_vec5, server_ranges, VEC5_LEN};
use crate::lpar_tree::{build_lpar_tree, lpar_fdt, LparTreeSpec, RtasPlacement};
use alloc::vec::Vec;
use oxiboot_devtree::{from_fdt, Node};

fn tree(spec: &LparTreeSpec) -> Node {
    build_lpar_tree(spec).expect("valid spec")
}

fn node<'a>(root: &'a Node, path: &str) -> &'a Node {
    root.find(path).unwrap_or_else(|| panic!("{path} missing"))
}

#[test]
fn header_names_the_boot_thread_and_reserves_rtas() {
    let blob = lpar_fdt(&two_core_spec()).expect("valid spec");
    assert_eq!(be32(&blob, 0), 0xd00d_feed);
    assert_eq!(be32(&blob, 4) as usize, blob.len());
    assert_eq!(be32(&blob, 20), 17, "version");
    assert_eq!(be32(&blob, 28), 2, "boot_cpuid_phys");
    let rsv = be32(&blob, 16) as usize;
    assert_eq!((be64(&blob, rsv), be64(&blob, rsv + 8)), (RTAS_2CORE.base, 0x1000));
    assert_eq!((be64(&blob, rsv + 16), be64(&blob, rsv + 24)), (0, 0), "map terminated");

    let blob = lpar_fdt(&one_core_spec()).expect("valid spec");
    let parsed = from_fdt(&blob).expect("well-formed");
    assert_eq!(parsed.boot_cpuid, 9);
    assert_eq!(parsed.reservations, [(0x3fff_0000, 0x800)]);
}

#[test]
fn flattened_tree_reads_back_identical() {
    for spec in [two_core_spec(), one_core_spec()] {
        let parsed = from_fdt(&lpar_fdt(&spec).expect("valid spec")).expect("well-formed");
        assert_eq!(parsed.root, tree(&spec));
    }
}

#[test]
fn root_and_memory() {
    let root = tree(&two_core_spec());
    assert_eq!(root.prop_str("device_type"), Some("chrp"));
    assert_eq!(root.prop_strs("compatible").expect("compatible"), ["oxiboot,lpar"]);
    assert_eq!(root.prop_str("model"), Some("oxiboot,lpar"));
    assert_eq!(root.prop_u32("#address-cells"), Some(2));
    assert_eq!(root.prop_u32("#size-cells"), Some(2));
    assert_eq!(root.prop_str("ibm,partition-name"), Some("lpar-one"));
    assert_eq!(root.prop_u32("ibm,partition-no"), Some(1));
    assert_eq!(root.prop_str("system-id"), Some("oxiboot-0001"));
    let mem = node(&root, "/memory@0");
    assert_eq!(mem.prop_str("device_type"), Some("memory"));
    assert_eq!(mem.prop_cells("reg").expect("reg"), [0, 0, 0, 0x8000_0000]);
    assert!(root.child("hypervisor").is_none(), "not a KVM (kernel virtual machine) guest");

    let root = tree(&one_core_spec());
    assert_eq!(root.prop_str("model"), Some("IBM,9009-22A"));
    assert_eq!(root.prop_u32("ibm,partition-no"), Some(2));
    assert_eq!(node(&root, "/memory@0").prop_cells("reg").expect("reg"), [0, 0, 0, 0x4000_0000]);
}

#[test]
fn chosen_holds_command_line_initrd_console_and_vector_5() {
    let root = tree(&two_core_spec());
    let chosen = node(&root, "/chosen");
    assert_eq!(chosen.prop_str("bootargs"), Some("console=hvc0 root=/dev/ram0 quiet"));
    assert_eq!(chosen.prop("linux,initrd-start"), Some(&0x2800_0000u64.to_be_bytes()[..]));
    assert_eq!(chosen.prop("linux,initrd-end"), Some(&0x2840_0000u64.to_be_bytes()[..]));
    for prop in ["stdout-path", "linux,stdout-path"] {
        assert_eq!(chosen.prop_str(prop), Some("/vdevice/vty@30000000"));
    }
    let vty = node(&root, "/vdevice/vty@30000000");
    assert_eq!(vty.prop_str("device_type"), Some("serial"));

    let vec5 = chosen.prop("ibm,architecture-vec-5").expect("vec5");
    assert_eq!(vec5.len(), VEC5_LEN);
    assert_eq!(usize::from(vec5[0]) + 2, vec5.len(), "byte 0 = vector bytes - 1");
    assert_eq!((vec5[23], vec5[24], vec5[26]), (0x00, 0x40, 0x40));
    let others: Vec<u8> =
        vec5.iter().enumerate().filter(|(i, _)| ![0, 23, 24, 26].contains(i)).map(|(_, &b)| b).collect();
    assert!(others.iter().all(|&b| b == 0));

    let root = tree(&one_core_spec());
    let chosen = node(&root, "/chosen");
    assert_eq!(chosen.prop_str("bootargs"), Some(""));
    assert!(chosen.prop("linux,initrd-start").is_none() && chosen.prop("linux,initrd-end").is_none());
    let vec5 = chosen.prop("ibm,architecture-vec-5").expect("vec5");
    assert_eq!((vec5[23], vec5[24], vec5[26]), (0x00, 0x40, 0x00), "radix without GTSE");
    assert_eq!(chosen.prop_str("stdout-path"), Some("/vdevice/vty@30000001"));
    assert!(root.find("/vdevice/vty@30000001").is_some());
    assert_eq!(architecture_vec5(false)[..], vec5[..]);
}

#[test]
fn rtas_node_lists_blob_hypercalls_and_tokens() {
    let root = tree(&two_core_spec());
    let rtas = node(&root, "/rtas");
    assert_eq!(rtas.prop_u32("linux,rtas-base"), Some(0x01f0_0000));
    assert_eq!(rtas.prop_u32("linux,rtas-entry"), Some(0x01f0_0010));
    assert_eq!(rtas.prop_u32("rtas-size"), Some(0x1000));
    assert_eq!(rtas.prop_strs("ibm,hypertas-functions").expect("hypertas"), HYPERTAS);
    assert_eq!(
        rtas.prop("ibm,hypertas-functions").map(<[u8]>::len),
        Some(HYPERTAS.iter().map(|s| s.len() + 1).sum())
    );
    for (name, token) in SERVICES {
        assert_eq!(rtas.prop_u32(name), Some(token), "{name}");
    }
    assert_eq!(rtas.prop_u32("rtas-error-log-max"), Some(2048));
    assert_eq!(rtas.prop_u32("rtas-event-scan-rate"), Some(1));
    assert_eq!(rtas.prop("ibm,extended-os-term"), Some(&[][..]));
    assert_eq!(rtas.prop_cells("ibm,lrdr-capacity").expect("lrdr"), [0, 0x8000_0000, 0, 0x1000_0000, 2]);
    // Properties: the 6 fixed ones, the 2 that follow event-scan and ibm,os-term, one per service.
    assert_eq!(rtas.properties().len(), 6 + 2 + SERVICES.len());

    let root = tree(&one_core_spec());
    let rtas = node(&root, "/rtas");
    assert_eq!(rtas.prop_u32("linux,rtas-base"), Some(0x3fff_0000));
    assert_eq!(rtas.prop_u32("linux,rtas-entry"), Some(0x3fff_0000));
    assert_eq!(rtas.prop_u32("rtas-size"), Some(0x800));
    assert_eq!(rtas.prop_u32("start-cpu"), Some(0x14));
    assert!(rtas.prop("rtas-event-scan-rate").is_none(), "no event-scan service");
    assert!(rtas.prop("ibm,extended-os-term").is_none(), "no ibm,os-term service");
    assert_eq!(rtas.prop_cells("ibm,lrdr-capacity").expect("lrdr"), [0, 0x4000_0000, 0, 0x1000_0000, 1]);
}

#[test]
fn two_cores_one_node_each() {
    let root = tree(&two_core_spec());
    let cpus = node(&root, "/cpus");
    assert_eq!(cpus.prop_u32("#address-cells"), Some(1));
    assert_eq!(cpus.prop_u32("#size-cells"), Some(0));
    let names: Vec<&str> = cpus.children().iter().map(Node::name).collect();
    assert_eq!(names, ["PowerPC,POWER9@0", "PowerPC,POWER9@4"]);
    for (cpu, first) in cpus.children().iter().zip([0u32, 4]) {
        assert_eq!(cpu.prop_str("device_type"), Some("cpu"));
        assert_eq!(cpu.prop_u32("reg"), Some(first));
        let servers: Vec<u32> = (first..first + 4).collect();
        assert_eq!(cpu.prop_cells("ibm,ppc-interrupt-server#s").expect("server#s"), servers);
        assert!(cpu.prop("ibm,ppc-interrupt-gserver#s").is_none());
        assert_eq!(cpu.prop_u32("cpu-version"), Some(0x0f00_0005));
        assert_eq!(cpu.prop_u32("timebase-frequency"), Some(512_000_000));
        assert_eq!(cpu.prop_u32("clock-frequency"), Some(3_800_000_000));
        assert_eq!(cpu.prop_str("status"), Some("okay"));
        assert_eq!(cpu.prop("64-bit"), Some(&[][..]));
        assert_eq!(cpu.prop("ibm,pa-features"), Some(&PA_FEATURES[..]));
        assert_eq!(cpu.prop_cells("ibm,processor-radix-AP-encodings").expect("AP"), RADIX_AP_ENCODINGS);
        assert_eq!(RADIX_AP_ENCODINGS, [0x0000_000c, 0xa000_0010, 0x2000_0015, 0x4000_001e]);
        for (prop, value) in [("ibm,vmx", 2), ("ibm,dfp", 1), ("ibm,purr", 1), ("ibm,spurr", 1)] {
            assert_eq!(cpu.prop_u32(prop), Some(value), "{prop}");
        }
        for side in ["i", "d"] {
            let get = |what: &str| cpu.prop_u32(&alloc::format!("{side}-cache-{what}"));
            assert_eq!(get("size"), Some(0x8000));
            assert_eq!(get("block-size"), Some(128));
            assert_eq!(get("line-size"), Some(128));
            // Linux: ways = size / (sets * line) = 8.
            assert_eq!(get("sets").map(|sets| 0x8000 / (sets * 128)), Some(8));
        }
        for hash_only in ["ibm,pft-size", "ibm,slb-size", "slb-size", "ibm,segment-page-sizes"] {
            assert!(cpu.prop(hash_only).is_none(), "{hash_only}");
        }
    }
    assert_eq!(PA_FEATURES[0] as usize + 2, PA_FEATURES.len());
    assert_eq!((PA_FEATURES[2 + 22], PA_FEATURES[2 + 40], PA_FEATURES[2 + 64]), (0, 0x80, 0));
}

#[test]
fn one_core_on_servers_8_to_11() {
    let root = tree(&one_core_spec());
    let cpus = node(&root, "/cpus");
    assert_eq!(cpus.children().len(), 1);
    let cpu = node(&root, "/cpus/PowerPC,POWER9@8");
    assert_eq!(cpu.prop_u32("reg"), Some(8));
    assert_eq!(cpu.prop_cells("ibm,ppc-interrupt-server#s").expect("server#s"), [8, 9, 10, 11]);
    assert_eq!(cpu.prop_u32("cpu-version"), Some(0x004e_1202), "real PVR without compat mode");
    assert_eq!(cpu.prop_u32("clock-frequency"), Some(2_000_000_000));
    let xics = node(&root, "/interrupt-controller");
    assert_eq!(xics.prop_cells("ibm,interrupt-server-ranges").expect("ranges"), [8, 4]);
}

#[test]
fn interrupt_controller_is_the_hypercall_xicp() {
    let root = tree(&two_core_spec());
    let xics = node(&root, "/interrupt-controller");
    assert_eq!(xics.prop_str("device_type"), Some("PowerPC-External-Interrupt-Presentation"));
    assert_eq!(xics.prop_strs("compatible").expect("compatible"), ["IBM,ppc-xicp"]);
    assert_eq!(xics.prop("interrupt-controller"), Some(&[][..]));
    assert_eq!(xics.prop_u32("#interrupt-cells"), Some(2));
    assert_eq!(xics.prop_u32("#address-cells"), Some(0));
    assert_eq!(xics.prop_cells("ibm,interrupt-server-ranges").expect("ranges"), [0, 8]);
    assert_eq!(xics.prop_u32("phandle"), Some(1));
    assert_eq!(xics.prop_u32("linux,phandle"), Some(1));
    assert_eq!(root.max_phandle(), 1, "the only phandle");
}

#[test]
fn server_ranges_follow_runs() {
    assert_eq!(server_ranges(&[0, 1, 2, 3, 8, 9, 10, 11, 13]), [0, 4, 8, 4, 13, 1]);
    assert_eq!(server_ranges(&[5]), [5, 1]);
    assert_eq!(server_ranges(&[]), Vec::<u32>::new());
    assert_eq!(server_ranges(&[u32::MAX - 1, u32::MAX]), [u32::MAX - 1, 2]);

    let cores: [&[u32]; 3] = [&[0, 1], &[2, 3], &[16, 17]];
    let spec = LparTreeSpec { cores: &cores, boot_cpu: 17, ..two_core_spec() };
    let root = tree(&spec);
    let ranges = node(&root, "/interrupt-controller").prop_cells("ibm,interrupt-server-ranges");
    assert_eq!(ranges.expect("ranges"), [0, 4, 16, 2]);
    let names: Vec<&str> = node(&root, "/cpus").children().iter().map(Node::name).collect();
    assert_eq!(names, ["PowerPC,POWER9@0", "PowerPC,POWER9@2", "PowerPC,POWER9@10"]);
}

#[test]
fn vdevice_bus_and_console() {
    let root = tree(&two_core_spec());
    let vdevice = node(&root, "/vdevice");
    assert_eq!(vdevice.prop_str("device_type"), Some("vdevice"));
    assert_eq!(vdevice.prop_strs("compatible").expect("compatible"), ["IBM,vdevice"]);
    assert_eq!(vdevice.prop_u32("#address-cells"), Some(1));
    assert_eq!(vdevice.prop_u32("#size-cells"), Some(0));
    assert_eq!(vdevice.prop_u32("#interrupt-cells"), Some(2));
    assert_eq!(vdevice.children().len(), 1);
    let vty = node(&root, "/vdevice/vty@30000000");
    assert_eq!(vty.prop_str("name"), Some("vty"));
    assert_eq!(vty.prop_strs("compatible").expect("compatible"), ["hvterm1"]);
    assert_eq!(vty.prop_u32("reg"), Some(0x3000_0000));
    assert!(vty.prop("interrupts").is_none(), "polled console");
}

#[test]
fn random_number_generator_only_when_asked() {
    let root = tree(&two_core_spec());
    let pfo = node(&root, "/ibm,platform-facilities");
    assert_eq!(pfo.prop_str("device_type"), Some("ibm,platform-facilities"));
    assert_eq!(pfo.properties().len(), 1);
    let rng = node(&root, "/ibm,platform-facilities/ibm,random-v1");
    assert!(rng.is_compatible("ibm,random"));

    assert!(tree(&one_core_spec()).child("ibm,platform-facilities").is_none());
}

/// A small deterministic generator for the robustness test.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[(self.next() % from.len() as u64) as usize]
    }
}

#[test]
fn arbitrary_inputs_give_a_tree_or_an_error_never_a_panic() {
    let servers: [&[u32]; 6] = [&[], &[0], &[1, 2, 3], &[4, 5, 6, 7], &[7, 8, 9, 10], &[u32::MAX, 0, 1, 2]];
    let addrs = [0u64, 1, 0x1000, 0x01f0_0000, 0x3fff_f000, 0x4000_0000, 0xffff_ffff, 1 << 32, u64::MAX];
    let sizes = [0u32, 1, 0x1000, u32::MAX];
    let names = ["", "x", "a\u{7f}", "thirty-one-characters-long-name", "\u{e9}"];
    let tokens = [0u32, 1, 0x2005, 0x7fff_ffff, 0x8000_0000, u32::MAX];
    let mut rng = Lcg(0x5eed);
    let (mut built, mut rejected) = (0, 0);
    for _ in 0..20_000 {
        // Start from a valid spec and replace each field with probability 1/4.
        let mut spec = two_core_spec();
        let cores = [rng.pick(&servers), rng.pick(&servers)];
        let initrd = (rng.pick(&addrs), rng.pick(&addrs));
        let mut services = SERVICES;
        let victim = (rng.next() % services.len() as u64) as usize;
        services[victim].1 = rng.pick(&tokens);
        let cut = (rng.next() % (services.len() as u64 + 1)) as usize;
        // Two bits per field: 0 = replace it.
        let mask = rng.next();
        let change = |field: u32| (mask >> (2 * field)) & 3 == 0;
        if change(1) {
            spec.name = rng.pick(&names);
        }
        if change(2) {
            spec.cores = &cores[..(rng.next() % 3) as usize];
        }
        if change(3) {
            spec.boot_cpu = rng.pick(&[0, 4, 9, u32::MAX]);
        }
        if change(4) {
            spec.memory_size = rng.pick(&addrs).wrapping_mul(rng.pick(&[1, 256 << 20]));
        }
        if change(5) {
            spec.initrd = rng.pick(&[None, Some(initrd)]);
        }
        if change(6) {
            spec.rtas =
                RtasPlacement { base: rng.pick(&addrs), size: rng.pick(&sizes), entry: rng.pick(&addrs) };
        }
        if change(7) {
            spec.rtas_services = if rng.next().is_multiple_of(2) { &services } else { &services[..cut] };
        }
        if change(8) {
            spec.radix_gtse = !spec.radix_gtse;
            spec.hypertas = &HYPERTAS[..(rng.next() % 6) as usize];
            spec.vty_reg = rng.next() as u32;
        }
        match lpar_fdt(&spec) {
            Ok(blob) => {
                let parsed = from_fdt(&blob).expect("every blob built is well-formed");
                assert_eq!(parsed.boot_cpuid, spec.boot_cpu);
                built += 1;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                rejected += 1;
            }
        }
    }
    assert!(built > 1000 && rejected > 1000, "{built} built, {rejected} rejected");
}
