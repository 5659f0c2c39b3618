//! Fuzz target: arbitrary text as a layout file, and whatever layout it gives built into an
//! image (small flash sizes only), which must then parse and read back without ECC errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxiboot_pnor::{create_image, parse_layout, verify, Table};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut load = |path: &str| Ok(path.as_bytes().to_vec());
    let Ok(layout) = parse_layout(text, &mut load) else { return };
    if layout.flash_size > 1 << 20 {
        return;
    }
    if let Ok(image) = create_image(&layout) {
        let table = Table::from_image(&image).expect("a created image parses");
        assert_eq!(table.partitions().len(), layout.partitions.len() + 1);
        let (_, reports) = verify(&image).expect("a created image verifies");
        // Every ECC word we wrote reads back clean (BOOTKERNEL content need not be a container).
        for report in reports.iter().filter_map(|report| report.ecc.as_ref()) {
            assert!(report.corrections.is_empty() && report.uncorrectable.is_empty());
        }
    }
});
