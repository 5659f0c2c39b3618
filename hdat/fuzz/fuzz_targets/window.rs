//! Arbitrary bytes as the HDAT window (mapped where the real SPIRA-H says), with the real
//! SPIRA-H: any result but a panic is fine, and a tree must flatten into a valid FDT.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxiboot_devtree::{to_fdt, validate_fdt, FdtOptions};
use oxiboot_hdat::{parse, PVR_P9_NIMBUS_DD20};

const SPIRAH: &[u8] = include_bytes!("../../tests/data/p8-840-spira.spirah");
const BASE: u64 = 0x3120_0000;

fuzz_target!(|data: &[u8]| {
    if let Ok(tree) = parse(data, BASE, SPIRAH, PVR_P9_NIMBUS_DD20) {
        assert_eq!(validate_fdt(&to_fdt(&tree, &FdtOptions::default())), Ok(()));
    }
});
