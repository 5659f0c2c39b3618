//! The platform model the firmware builds on an HDAT boot: the device tree `oxiboot-hdat`
//! derives from a real POWER9 Witherspoon's HDAT, flattened as the firmware does, read by the
//! same parser as QEMU's trees.

use oxiboot_devtree::{to_fdt, FdtOptions};
use oxiboot_platform::model::parse_fdt_with_console;

const HEAP: &[u8] = include_bytes!("../../hdat/tests/data/op920.wsp.heap");
const SPIRAH: &[u8] = include_bytes!("../../hdat/tests/data/p8-840-spira.spirah");
const BASE: u64 = 0x3120_0000;

#[test]
fn witherspoon_hdat_gives_two_chips_their_memory_and_the_lpc_console() {
    let tree = oxiboot_hdat::parse(HEAP, BASE, SPIRAH, 0x004e_1202).expect("the dump parses");
    let blob = to_fdt(&tree, &FdtOptions::default());
    let outcome = parse_fdt_with_console(&blob);
    let uart = outcome.console.expect("a console UART");
    assert_eq!(uart.path, "/lpcm-opb@6030000000000/lpc@0/serial@i3f8");
    assert_eq!(uart.io_port, 0x3f8);
    assert_eq!(uart.baud, 115_200);
    let p = outcome.platform.expect("a platform model");
    assert_eq!(p.model, "8335-GTH");
    assert_eq!(p.compatible, ["ibm,powernv", "ibm,p9-openbmc", "ibm,witherspoon"]);
    let chips: Vec<(u32, usize, u64)> = p.chips.iter().map(|c| (c.id, c.cores.len(), c.xscom.base)).collect();
    assert_eq!(chips, [(0, 20, 0x6_03fc_0000_0000), (8, 20, 0x6_23fc_0000_0000)]);
    assert_eq!(p.threads().count(), 160);
    assert!(p.threads().any(|pir| pir == 0x85f) && !p.threads().any(|pir| pir == 0x20));
    let memory: Vec<(u64, u64)> = p.memory.iter().map(|m| (m.base, m.size)).collect();
    assert_eq!(memory, [(0, 0x40_0000_0000), (0x2000_0000_0000, 0x40_0000_0000)]);
    assert_eq!(p.timebase_hz, 512_000_000);
}
