//! One test per corrupt or impossible table field: each must give its own named error, with a
//! message naming the partition (or entry) concerned. Fields are changed with their checksum
//! recomputed, so the check under test is the one that fires.

mod common;

use common::*;
use oxiboot_pnor::ffs::NameProblem;
use oxiboot_pnor::{extract, Error, PartitionName, Table};

// Header words.
const MAGIC: usize = 0;
const VERSION: usize = 1;
const TABLE_BLOCKS: usize = 2;
const ENTRY_SIZE: usize = 3;
const ENTRY_COUNT: usize = 4;
const BLOCK_SIZE: usize = 5;
const BLOCK_COUNT: usize = 6;
// Entry words.
const BASE: usize = 4;
const SIZE: usize = 5;
const PARENT: usize = 6;
const TYPE: usize = 8;
const ACTUAL: usize = 10;
const RESERVED: usize = 12;

fn name(text: &str) -> PartitionName {
    PartitionName::new(text).unwrap()
}

fn parse(image: &[u8]) -> Result<Table, Error> {
    Table::from_image(image)
}

#[test]
fn the_sample_is_valid() {
    let table = parse(&sample_image()).unwrap();
    let names: Vec<&str> = table.partitions().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["part", "A", "B", "C"]);
}

#[test]
fn bad_magic() {
    let mut image = sample_image();
    write_word(&mut image, MAGIC * 4, 0x1234_5678);
    assert_eq!(parse(&image), Err(Error::BadMagic { found: 0x1234_5678 }));
}

#[test]
fn erased_flash_is_bad_magic_with_a_hint() {
    let error = parse(&[0xFF; 4096]).unwrap_err();
    assert_eq!(error, Error::BadMagic { found: 0xFFFF_FFFF });
    assert!(error.to_string().contains("erased"), "{error}");
}

#[test]
fn unsupported_version() {
    let mut image = sample_image();
    set_header_word(&mut image, VERSION, 2);
    assert_eq!(parse(&image), Err(Error::UnsupportedVersion { found: 2 }));
}

#[test]
fn header_checksum() {
    let mut image = sample_image();
    write_word(&mut image, 7 * 4, 0x0000_0100); // a reserved word, checksum left alone
    assert_eq!(parse(&image), Err(Error::HeaderChecksum { residue: 0x0000_0100 }));
}

#[test]
fn entry_size_mismatch() {
    let mut image = sample_image();
    set_header_word(&mut image, ENTRY_SIZE, 64);
    assert_eq!(parse(&image), Err(Error::EntrySizeMismatch { found: 64 }));
}

#[test]
fn zero_block_size() {
    let mut image = sample_image();
    set_header_word(&mut image, BLOCK_SIZE, 0);
    assert_eq!(parse(&image), Err(Error::BadBlockSize { block_size: 0 }));
}

#[test]
fn zero_table_size() {
    let mut image = sample_image();
    set_header_word(&mut image, TABLE_BLOCKS, 0);
    assert_eq!(parse(&image), Err(Error::EmptyTableSize));
}

#[test]
fn no_entries() {
    let mut image = sample_image();
    set_header_word(&mut image, ENTRY_COUNT, 0);
    assert_eq!(parse(&image), Err(Error::NoEntries));
}

#[test]
fn too_many_entries_for_the_table() {
    let mut image = sample_image();
    // One 4 KiB block holds the header and (4096 - 48) / 128 = 31 entries.
    set_header_word(&mut image, ENTRY_COUNT, 32);
    assert_eq!(parse(&image), Err(Error::TooManyEntries { count: 32, table_len: 4096 }));
}

#[test]
fn truncated_header() {
    let image = sample_image();
    assert_eq!(
        parse(&image[..20]),
        Err(Error::Truncated { what: "partition table header", needed: 48, available: 20 })
    );
}

#[test]
fn truncated_table() {
    let image = sample_image();
    assert_eq!(
        parse(&image[..2048]),
        Err(Error::Truncated { what: "partition table", needed: 4096, available: 2048 })
    );
}

#[test]
fn truncated_image() {
    let image = sample_image();
    let error = parse(&image[..32 * 1024]).unwrap_err();
    assert_eq!(error, Error::FlashTooSmall { described: 65536, available: 32768 });
    assert!(error.to_string().contains("truncated"), "{error}");
}

#[test]
fn block_count_beyond_the_flash() {
    let mut image = sample_image();
    set_header_word(&mut image, BLOCK_COUNT, 17);
    assert_eq!(parse(&image), Err(Error::FlashTooSmall { described: 17 * 4096, available: 65536 }));
}

#[test]
fn table_larger_than_the_flash_it_describes() {
    let mut image = sample_image();
    set_header_word(&mut image, BLOCK_COUNT, 2);
    set_header_word(&mut image, TABLE_BLOCKS, 3);
    assert_eq!(parse(&image), Err(Error::TableBeyondFlash { table_len: 3 * 4096, flash_len: 2 * 4096 }));
}

#[test]
fn entry_checksum_names_the_entry() {
    let mut image = sample_image();
    let offset = entry_start(2) + RESERVED * 4;
    write_word(&mut image, offset, 0xDEAD_BEEF); // checksum left alone
    let error = parse(&image).unwrap_err();
    assert!(matches!(error, Error::EntryChecksum { index: 2, residue: 0xDEAD_BEEF, .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "partition entry 2 (\"B\"): checksum mismatch (words XOR to 0xdeadbeef, not 0)"
    );
}

#[test]
fn name_not_nul_terminated() {
    let mut image = sample_image();
    set_entry_name(&mut image, 1, *b"ABCDEFGHIJKLMNOP");
    let error = parse(&image).unwrap_err();
    assert!(matches!(error, Error::NameNotTerminated { index: 1, .. }), "{error:?}");
    assert!(error.to_string().contains("ABCDEFGHIJKLMNOP"), "{error}");
}

#[test]
fn name_with_a_control_character() {
    let mut image = sample_image();
    set_entry_name(&mut image, 3, name_field(b"C\x01"));
    let error = parse(&image).unwrap_err();
    assert!(
        matches!(error, Error::InvalidEntryName { index: 3, problem: NameProblem::BadCharacter(1), .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("C\\x01"), "{error}");
}

#[test]
fn empty_name() {
    let mut image = sample_image();
    set_entry_name(&mut image, 3, [0; 16]);
    assert!(matches!(
        parse(&image),
        Err(Error::InvalidEntryName { index: 3, problem: NameProblem::Empty, .. })
    ));
}

#[test]
fn unknown_partition_type() {
    let mut image = sample_image();
    set_entry_word(&mut image, 1, TYPE, 9);
    assert_eq!(parse(&image), Err(Error::UnknownPartitionType { partition: name("A"), found: 9 }));
}

#[test]
fn parent_not_top_level() {
    let mut image = sample_image();
    set_entry_word(&mut image, 1, PARENT, 1);
    assert_eq!(parse(&image), Err(Error::NotTopLevel { partition: name("A"), parent: 1 }));
}

#[test]
fn actual_size_larger_than_the_partition() {
    let mut image = sample_image();
    set_entry_word(&mut image, 3, ACTUAL, 4097);
    assert_eq!(
        parse(&image),
        Err(Error::ActualSizeTooLarge { partition: name("C"), actual: 4097, size: 4096 })
    );
}

#[test]
fn partition_out_of_range() {
    let mut image = sample_image();
    set_entry_word(&mut image, 3, BASE, 15); // 15 + 1 blocks is the end: fine ...
    assert!(parse(&image).is_ok());
    set_entry_word(&mut image, 3, SIZE, 2); // ... 15 + 2 is not.
    let error = parse(&image).unwrap_err();
    assert!(
        matches!(error, Error::PartitionOutOfRange { partition, flash_len: 65536 }
            if partition.name == name("C") && partition.base == 0xF000 && partition.size == 0x2000),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "partition \"C\" (0x0000f000..0x00011000) runs past the end of the 0x10000-byte flash"
    );
}

#[test]
fn size_overflowing_32_bits_is_out_of_range() {
    let mut image = sample_image();
    set_entry_word(&mut image, 3, SIZE, u32::MAX);
    assert!(matches!(parse(&image), Err(Error::PartitionOutOfRange { .. })));
}

#[test]
fn overlapping_partitions_name_both() {
    let mut image = sample_image();
    set_entry_word(&mut image, 3, BASE, 3); // C into the second block of B (blocks 2..4)
    let error = parse(&image).unwrap_err();
    assert!(
        matches!(error, Error::PartitionsOverlap { first, second }
            if first.name == name("B") && second.name == name("C")),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "partition \"B\" (0x00002000..0x00004000) overlaps partition \"C\" (0x00003000..0x00004000)"
    );
}

#[test]
fn partition_inside_the_table() {
    let mut image = sample_image();
    set_entry_word(&mut image, 1, BASE, 0);
    let error = parse(&image).unwrap_err();
    assert!(
        matches!(error, Error::PartitionOverlapsTable { partition, table_len: 4096 } if partition.name == name("A")),
        "{error:?}"
    );
}

#[test]
fn names_equal_ignoring_case() {
    let mut image = sample_image();
    set_entry_name(&mut image, 3, name_field(b"a"));
    assert_eq!(parse(&image), Err(Error::DuplicateName { first: name("A"), second: name("a") }));
}

#[test]
fn uncorrectable_ecc_names_partition_and_offset() {
    let mut image = sample_image();
    // Two bits of the second ECC word of B (at 0x2000 + 9).
    image[0x2000 + 9] ^= 0x01;
    image[0x2000 + 12] ^= 0x80;
    let error = extract(&image, "B").unwrap_err();
    assert_eq!(
        error,
        Error::UncorrectableEcc { partition: name("B"), flash_offset: 0x2009, partition_offset: 9 }
    );
    assert!(error.to_string().contains("\"B\"") && error.to_string().contains("0x00002009"), "{error}");
}
