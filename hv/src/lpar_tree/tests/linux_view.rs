//! The tree read the way Linux 6.12 `pseries` reads it during early boot (restated from the
//! behaviour of `prom.c`, `mm/init_64.c`, `pseries/firmware.c`, `setup-common.c`), applied to
//! the flattened and re-parsed blob: what Linux concludes, not just which bytes are there.

use super::{one_core_spec, two_core_spec};
use crate::lpar_tree::{lpar_fdt, LparTreeSpec};
use alloc::vec::Vec;
use oxiboot_devtree::{from_fdt, Node, ParsedFdt};

/// One `ibm,pa-features` bit as Linux sees it: `None` when the property is too short to hold
/// the byte (the feature is then left as the CPU table has it).
fn pa_bit(prop: &[u8], byte: usize, bit: u8) -> Option<bool> {
    // Descriptor 0 is the first one here; Linux skips others by their length.
    let (&len, rest) = prop.split_first()?;
    let (&kind, bytes) = rest.split_first()?;
    assert_eq!(kind, 0, "descriptor type");
    if byte >= usize::from(len) {
        return None;
    }
    Some(bytes[byte] >> (7 - bit) & 1 == 1)
}

/// The MMU (memory management unit) Linux ends up with: `(radix, gtse)`.
/// pa-features byte 40 first sets or clears radix+GTSE; then, as a guest, option vector 5
/// byte 24 "radix only" forces radix on and byte 26 decides GTSE; anything short or missing
/// turns radix off.
fn mmu_choice(root: &Node, cpu: &Node) -> (bool, bool) {
    let pa = cpu.prop("ibm,pa-features").expect("pa-features");
    let from_pa = pa_bit(pa, 40, 0).unwrap_or(true);
    let (mut radix, mut gtse) = (from_pa, from_pa);
    let Some(vec5) = root.find("/chosen").and_then(|c| c.prop("ibm,architecture-vec-5")) else {
        return (false, gtse);
    };
    if vec5.len() <= 24 {
        return (false, gtse);
    }
    match vec5[24] & 0xc0 {
        0x40 => {
            radix = true;
            gtse = vec5.get(26).is_some_and(|b| b & 0x40 != 0);
        }
        0x00 => radix = false,
        _ => {}
    }
    (radix, gtse)
}

/// The hypertas strings as Linux's loop walks them: NUL-terminated, up to the length.
fn hypertas_strings(prop: &[u8]) -> Vec<&str> {
    let body = prop.strip_suffix(&[0]).expect("NUL-terminated list");
    body.split(|&b| b == 0).map(|s| core::str::from_utf8(s).expect("UTF-8")).collect()
}

/// The logical CPU numbering Linux builds (`smp_setup_cpu_maps`): cpu nodes in tree order,
/// threads in `ibm,ppc-interrupt-server#s` order; the boot CPU is found by
/// `boot_cpuid_phys`. Returns (hard ids in logical order, boot logical id, threads per core).
fn cpu_maps(parsed: &ParsedFdt) -> (Vec<u32>, Option<usize>, usize) {
    let cpus = parsed.root.find("/cpus").expect("/cpus");
    let mut hard = Vec::new();
    let mut per_core = 0;
    for cpu in cpus.children().iter().filter(|n| n.prop_str("device_type") == Some("cpu")) {
        let servers = cpu.prop_cells("ibm,ppc-interrupt-server#s").expect("server#s");
        per_core = servers.len();
        hard.extend(servers);
    }
    let boot = hard.iter().position(|&h| h == parsed.boot_cpuid);
    (hard, boot, per_core)
}

fn parsed(spec: &LparTreeSpec) -> ParsedFdt {
    from_fdt(&lpar_fdt(spec).expect("valid spec")).expect("well-formed FDT")
}

#[test]
fn linux_takes_the_processor_features_we_mean() {
    let p = parsed(&two_core_spec());
    for cpu in p.root.find("/cpus").expect("/cpus").children() {
        let pa = cpu.prop("ibm,pa-features").expect("pa-features");
        // (byte, bit, expected): MMU, floating point, run latch, no-execute, cache-inhibited large pages,
        // true little endian, radix, transactional memory, DAWR1.
        let expected = [
            (0, 0, true),
            (0, 1, true),
            (0, 3, true),
            (0, 6, true),
            (1, 2, true),
            (5, 0, true),
            (40, 0, true),
            (22, 0, false),
            (64, 0, false),
        ];
        for (byte, bit, want) in expected {
            assert_eq!(pa_bit(pa, byte, bit), Some(want), "{} byte {byte} bit {bit}", cpu.name());
        }
        // Byte 68 (dynamic execution control, POWER10) is beyond the property: left to the CPU table.
        assert_eq!(pa_bit(pa, 68, 5), None);
        // Linux turns vector-scalar on for ibm,vmx >= 2, decimal floating point and the
        // (scaled) processor utilisation registers for >= 1.
        assert!(cpu.prop_u32("ibm,vmx").is_some_and(|v| v >= 2));
        for prop in ["ibm,dfp", "ibm,purr", "ibm,spurr"] {
            assert!(cpu.prop_u32(prop).is_some_and(|v| v >= 1), "{prop}");
        }
        // Only a 0x0fxxxxxx cpu-version re-identifies the CPU: POWER9 architected mode.
        assert_eq!(cpu.prop_u32("cpu-version"), Some(0x0f00_0005));
    }
}

#[test]
fn linux_chooses_radix_with_and_without_gtse() {
    let p = parsed(&two_core_spec());
    let cpu = p.root.find("/cpus/PowerPC,POWER9@0").expect("cpu");
    assert_eq!(mmu_choice(&p.root, cpu), (true, true));

    let p = parsed(&one_core_spec());
    let cpu = p.root.find("/cpus/PowerPC,POWER9@8").expect("cpu");
    assert_eq!(mmu_choice(&p.root, cpu), (true, false));
    // Radix without GTSE: Linux demands the hypercall, which the spec offers.
    let rtas = p.root.find("/rtas").expect("/rtas");
    let hypertas = hypertas_strings(rtas.prop("ibm,hypertas-functions").expect("hypertas"));
    assert!(hypertas.contains(&"hcall-rpt-invalidate"));
}

#[test]
fn linux_finds_the_boot_cpu_and_numbers_the_threads() {
    let p = parsed(&two_core_spec());
    let (hard, boot, per_core) = cpu_maps(&p);
    assert_eq!(hard, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(boot, Some(2));
    assert_eq!(per_core, 4);

    let p = parsed(&one_core_spec());
    let (hard, boot, per_core) = cpu_maps(&p);
    assert_eq!(hard, [8, 9, 10, 11]);
    assert_eq!(boot, Some(1));
    assert_eq!(per_core, 4);
}

#[test]
fn linux_finds_lpar_rtas_and_xics() {
    let p = parsed(&two_core_spec());
    // /rtas at depth 1 named exactly "rtas", with base, entry and size: RTAS is usable, and
    // ibm,hypertas-functions makes the machine an LPAR.
    let rtas = p.root.children().iter().find(|n| n.name() == "rtas").expect("/rtas at depth 1");
    for prop in ["linux,rtas-base", "linux,rtas-entry", "rtas-size"] {
        assert_eq!(rtas.prop(prop).map(<[u8]>::len), Some(4), "{prop} is one cell");
    }
    let hypertas = hypertas_strings(rtas.prop("ibm,hypertas-functions").expect("hypertas"));
    assert_eq!(hypertas, super::HYPERTAS);
    // icp_hv_init: a node compatible with ibm,ppc-xicp (compared without case).
    let mut xicp = 0;
    p.root.walk("/", &mut |_, n| {
        if n.prop_strs("compatible").is_some_and(|c| c.iter().any(|s| s.eq_ignore_ascii_case("ibm,ppc-xicp")))
        {
            xicp += 1;
        }
    });
    assert_eq!(xicp, 1);
    // pSeries_probe: the root's device_type.
    assert_eq!(p.root.prop_str("device_type"), Some("chrp"));
    // The console: /chosen's stdout-path names a vty node with a reg and hvterm1.
    let path = p.root.find("/chosen").and_then(|c| c.prop_str("stdout-path")).expect("stdout-path");
    let vty = p.root.find(path).expect("stdout-path resolves");
    assert!(vty.name().starts_with("vty"));
    assert!(vty.is_compatible("hvterm1"));
    assert_eq!(vty.prop_u32("reg"), Some(0x3000_0000));
}
