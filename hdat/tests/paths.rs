//! Code paths the Witherspoon dump does not take (it is a BMC system with no NVDIMMs, trace
//! buffers, FSP serial ports or platform dump), exercised by patching the dump: each patch
//! turns on one feature and the test checks the nodes skiboot would build for it.

use oxiboot_devtree::Node;
use oxiboot_hdat::{parse, PVR_P9_NIMBUS_DD20};

const HEAP: &[u8] = include_bytes!("data/op920.wsp.heap");
const SPIRAH: &[u8] = include_bytes!("data/p8-840-spira.spirah");
const BASE: u64 = 0x3120_0000;
const SP_SUBSYS: usize = 0;
const IPL_PARMS: usize = 1;
const SLCA: usize = 3;
const MS_VPD: usize = 10;

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}
fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}
fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}
fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_be_bytes());
}
/// Window offset of the first instance of SPIRA-S n-tuple `k`.
fn first(k: usize) -> usize {
    let at = 0x40 + 0x20 * k;
    (u64::from_be_bytes(HEAP[at..at + 8].try_into().unwrap()) - BASE) as usize
}
/// Window offset of internal data block `i` of the HDIF structure at `h`.
fn idata(h: usize, i: usize) -> usize {
    h + be32(HEAP, h + be32(HEAP, h + 20) as usize + 8 * i) as usize
}
/// Window offset of element `k` of the array in internal data block `i` of `h`.
fn element(h: usize, i: usize, k: usize) -> usize {
    let a = idata(h, i);
    a + be32(HEAP, a) as usize + k * be32(HEAP, a + 8) as usize
}

fn tree(patch: impl FnOnce(&mut Vec<u8>)) -> Node {
    let mut heap = HEAP.to_vec();
    patch(&mut heap);
    parse(&heap, BASE, SPIRAH, PVR_P9_NIMBUS_DD20).expect("patched dump parses")
}

#[test]
fn an_fsp_gets_fsp_nodes_and_psi_links_instead_of_a_bmc() {
    let sp = first(SP_SUBSYS);
    let io = element(sp, 5, 0);
    let t = tree(|h| {
        put16(h, idata(sp, 2), 2); // FSP2 hardware
        put16(h, io, 2); // the I/O path is a PSI link...
        put16(h, io + 2, 1); // ...the current one...
        put32(h, io + 24, 0); // ...to processor chip 0
    });
    assert!(t.find("/bmc").is_none() && t.find("/lpcm-opb@6030000000000").is_none());
    let fsp = t.find("/fsps/fsp@0").unwrap();
    assert_eq!(fsp.prop_strs("compatible").unwrap(), ["ibm,fsp", "ibm,fsp2"]);
    assert_eq!(fsp.prop_u32("reg-offset"), Some(0xb001_1000));
    assert_eq!(fsp.prop_u32("hw-version"), Some(2));
    assert_eq!(fsp.prop_cells("ibm,psi-links").unwrap(), [0]);
    let psi = t.find("/xscom@603fc00000000/psihb@5012900").unwrap();
    assert!(psi.prop("boot-link").is_some());
    assert_eq!(psi.prop_str("status"), Some("ok"));
    assert_eq!(t.find("/fsps").unwrap().prop_u32("#address-cells"), Some(1));
    // On FSP systems the system VPD's SLCA entry stands for the attention LED.
    let sys_loc =
        t.find("/vpd/root-node-vpd@a000/system-vpd@1c00").unwrap().prop_str("ibm,loc-code").unwrap();
    let led = t.find("/ibm,opal/leds").unwrap().child(sys_loc).expect("attention LED");
    assert_eq!(led.prop_str("led-types"), Some("attention"));
}

#[test]
fn fsp_serial_ports_and_a_platform_dump() {
    let ipl = first(IPL_PARMS);
    let t = tree(|h| {
        let serials = idata(ipl, 8);
        put32(h, serials + 4, 1);
        let s = serials + 16;
        h[s..s + 80].fill(0);
        h[s..s + 9].copy_from_slice(b"U78-P1-C1");
        put16(h, s + 80, 0x2a);
        let dump = idata(ipl, 4);
        put32(h, dump + 4, 0x1234);
        put64(h, dump + 16, 0x10_0000);
        put32(h, dump + 28, 0x8000);
        put32(h, dump + 36, 0x5678);
    });
    let s = t.find("/ipl-params/fsp-serial/serial@2a").unwrap();
    assert_eq!(s.prop_u32("reg"), Some(0x2a));
    assert_eq!(s.prop_str("ibm,loc-code"), Some("U78-P1-C1"));
    assert_eq!(s.prop_str("compatible"), Some("ibm,fsp-serial"));
    let d = t.find("/ipl-params/platform-dump").unwrap();
    assert_eq!(d.prop_u32("dump-id"), Some(0x1234));
    assert_eq!(d.prop_u64("total-size"), Some(0x10_0000));
    assert_eq!(d.prop_u64("hw-dump-size"), Some(0x8000));
    assert_eq!(d.prop_u32("plog-id"), Some(0x5678));
}

#[test]
fn an_nvdimm_range_and_a_trace_buffer() {
    let ms = first(MS_VPD);
    let area = ms + be32(HEAP, ms + be32(HEAP, ms + 28) as usize) as usize;
    let t = tree(|h| {
        // Give the first memory area's range the physical attribute word (type NVDIMM).
        let ranges = idata(area, 4);
        put32(h, ranges + 8, 0x28);
        put32(h, ranges + 12, 0x28);
        put32(h, ranges + 16 + 36, 0x0102_0000);
        put16(h, idata(area, 2) + 4, 0xc000); // installed, functional, not shared
                                              // One hostboot trace area.
        let traces = idata(ms, 3);
        put32(h, traces + 4, 1);
        let e = traces + be32(h, traces) as usize;
        put64(h, e, (1 << 63) | 0x1000);
        put64(h, e + 8, 0x1fff);
    });
    let nv = t.find("/nvdimm@0").unwrap();
    assert_eq!(nv.prop_str("compatible"), Some("pmem-region"));
    assert!(nv.prop("save-failed").is_some());
    assert_eq!(nv.prop_cells("reg").unwrap(), [0, 0, 0x40, 0]);
    let tr = t.find("/ibm,hostboot/reserved-memory/ibm,trace-area@1000").unwrap();
    assert_eq!(tr.prop_cells("reg").unwrap(), [0, 0x1000, 0, 0x1000]);
    assert!(tr.prop("no-map").is_some());
}

#[test]
fn the_system_attention_indicator() {
    let slca = first(SLCA);
    let last = be32(HEAP, idata(slca, 0) + 4) as usize - 1;
    let e = element(slca, 0, last);
    let loc = String::from_utf8(HEAP[e + 16..e + 96].split(|&b| b == 0).next().unwrap().to_vec()).unwrap();
    let t = tree(|h| h[e + 4..e + 6].copy_from_slice(b"SA"));
    let led = t.find("/ibm,opal/leds").unwrap().child(&loc).expect("LED node named by its location code");
    assert_eq!(led.prop_str("led-types"), Some("attention"));
}
