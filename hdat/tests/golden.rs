//! Golden test: the tree built from a real POWER9 (Witherspoon, OP920) HDAT dump must equal
//! the tree skiboot's own HDAT parser builds from it (`tests/data/op920.wsp.dtb`, made from
//! skiboot's `op920.wsp.dts`), compared as skiboot's test compares: blobs summarized,
//! `linux,sml-base` zeroed, phandle numbering and node order free. The differences that
//! remain must be exactly those listed, with reasons, in `docs/hdat.md`.

use oxiboot_devtree::{diff, from_fdt, Difference, Node};
use oxiboot_hdat::golden::{phandles_to_paths, skiboot_test_form, PHANDLE_PROPS};
use oxiboot_hdat::{parse, SpiraH, PVR_P9_NIMBUS_DD20};
use std::collections::BTreeSet;

const HEAP: &[u8] = include_bytes!("data/op920.wsp.heap");
const SPIRAH: &[u8] = include_bytes!("data/p8-840-spira.spirah");
const EXPECTED: &[u8] = include_bytes!("data/op920.wsp.dtb");
const DOC: &str = include_str!("../../docs/hdat.md");
const DOC_MARK: &str = "<!-- golden-differences -->";

fn ours() -> Node {
    let base = SpiraH::parse(SPIRAH).expect("SPIRA-H").host_data_area.addr;
    parse(HEAP, base, SPIRAH, PVR_P9_NIMBUS_DD20).expect("the real dump parses")
}

fn expected() -> Node {
    from_fdt(EXPECTED).expect("expected DTB").root
}

/// The allow-list: the lines of the first fenced block after the marker in docs/hdat.md.
fn documented() -> BTreeSet<String> {
    let after = DOC.split_once(DOC_MARK).expect("docs/hdat.md has the golden-differences marker").1;
    let block = after.split_once("```").expect("fenced block after the marker").1;
    let block = block.split_once('\n').expect("fence line").1;
    let body = block.split_once("```").expect("closing fence").0;
    body.lines().map(str::trim).filter(|l| !l.is_empty() && *l != "(none)").map(String::from).collect()
}

fn count(n: &Node) -> usize {
    1 + n.children().iter().map(count).sum::<usize>()
}

#[test]
fn tree_matches_skiboot_except_documented_differences() {
    let mut ours = ours();
    let mut theirs = expected();
    skiboot_test_form(&mut ours);
    phandles_to_paths(&mut ours, PHANDLE_PROPS);
    phandles_to_paths(&mut theirs, PHANDLE_PROPS);
    let found: BTreeSet<String> = diff(&ours, &theirs).iter().map(Difference::to_string).collect();
    let allowed = documented();
    let new: Vec<_> = found.difference(&allowed).collect();
    let gone: Vec<_> = allowed.difference(&found).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "undocumented differences: {new:#?}\nno longer found: {gone:#?}"
    );
    assert_eq!(count(&ours), count(&theirs));
}

#[test]
fn spot_values() {
    let t = ours();
    assert_eq!(t.prop_strs("compatible").unwrap(), ["ibm,powernv", "ibm,p9-openbmc", "ibm,witherspoon"]);
    assert_eq!(t.prop_str("model"), Some("8335-GTH"));
    let cpus = t.find("/cpus").unwrap();
    let cores: Vec<&Node> = cpus.children().iter().filter(|c| c.base_name() == "PowerPC,POWER9").collect();
    assert_eq!(cores.len(), 40);
    let c = t.find("/cpus/PowerPC,POWER9@85c").unwrap();
    assert_eq!(c.prop_cells("ibm,ppc-interrupt-server#s").unwrap(), [0x85c, 0x85d, 0x85e, 0x85f]);
    assert_eq!(c.prop_u32("ibm,chip-id"), Some(8));
    assert_eq!(c.prop_u32("cpu-version"), Some(PVR_P9_NIMBUS_DD20));
    // The core's l2-cache phandle designates the L2 shared with its pair core.
    let l2 = t.find("/cpus/l2-cache@20000858").unwrap();
    assert_eq!(c.prop_u32("l2-cache"), l2.prop_u32("phandle"));
    let mem = t.find("/memory@200000000000").unwrap();
    assert_eq!(mem.prop_cells("reg").unwrap(), [0x2000, 0, 0x40, 0]);
    assert_eq!(mem.prop_u32("ibm,chip-id"), Some(8));
    let x = t.find("/xscom@623fc00000000").unwrap();
    assert_eq!(x.prop_u32("ibm,chip-id"), Some(8));
    assert_eq!(x.prop_str("wafer-id").map(str::len), Some(10));
    let serial = t.find("/lpcm-opb@6030000000000/lpc@0/serial@i3f8").unwrap();
    assert_eq!(serial.prop_cells("reg").unwrap(), [1, 0x3f8, 1]);
    let tpm = t.find("/xscom@603fc00000000/i2cm@a2000/i2c-bus@0/tpm@57").unwrap();
    let sml = tpm.prop_u64("linux,sml-base").unwrap();
    let base = SpiraH::parse(SPIRAH).unwrap().host_data_area.addr;
    assert!(sml > base && sml < base + HEAP.len() as u64, "event log inside the dump");
    // Every node has a unique phandle.
    let mut seen = BTreeSet::new();
    t.walk("/", &mut |p, n| assert!(seen.insert(n.prop_u32("phandle").expect(p)), "{p}"));
}

#[test]
fn the_comparison_sees_a_changed_value() {
    let mut ours = ours();
    ours.find_mut("/xscom@603fc00000000/chiptod@40000").unwrap().remove("primary");
    skiboot_test_form(&mut ours);
    phandles_to_paths(&mut ours, PHANDLE_PROPS);
    let mut theirs = expected();
    phandles_to_paths(&mut theirs, PHANDLE_PROPS);
    let d = diff(&ours, &theirs);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].path(), "/xscom@603fc00000000/chiptod@40000");
}
