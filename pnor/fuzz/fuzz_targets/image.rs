//! Fuzz target: arbitrary bytes as a PNOR image (table parser, every partition's extraction,
//! verification), as a bare ECC buffer, and as a BOOTKERNEL container. Nothing may panic, and
//! what parses must obey the invariants the parser promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxiboot_pnor::{ecc, extract, verify, BootKernel, Table, TableHeader};

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = TableHeader::parse(data) {
        assert!(48 + u64::from(header.entry_count) * 128 <= header.table_len());
    }
    if let Ok(table) = Table::from_image(data) {
        let flash_len = table.header().flash_len();
        assert!(flash_len <= data.len() as u64);
        for partition in table.partitions() {
            assert!(partition.end() <= flash_len);
            let _ = extract(data, partition.name.as_str());
        }
        let _ = verify(data);
        // The same bytes read as a table for a smaller flash must fail or describe less.
        if let Ok(smaller) = Table::parse(data, flash_len / 2) {
            assert!(smaller.header().flash_len() <= flash_len / 2);
        }
    }

    let whole_words = data.len() / ecc::RAW_BYTES_PER_WORD * ecc::RAW_BYTES_PER_WORD;
    if let Ok(decoded) = ecc::decode(&data[..whole_words]) {
        assert_eq!(decoded.data.len(), ecc::decoded_len(whole_words));
        // Re-encoding the corrected data gives the input back with its corrected bits fixed.
        let mut fixed = data[..whole_words].to_vec();
        for correction in &decoded.corrections {
            fixed[correction.offset] ^= 1 << correction.bit;
        }
        assert_eq!(ecc::encode(&decoded.data), fixed);
    }

    if let Ok(container) = BootKernel::parse(data) {
        assert!(!container.kernel.is_empty());
        assert!(container.header.container_len() <= data.len() as u64);
    }
});
