//! Helpers shared by the integration tests: a small sample image and ways to change one field
//! of its table while keeping (or deliberately breaking) the checksums.
#![allow(dead_code)]

use oxiboot_pnor::{create_image, Flag, Layout, PartitionSpec, UserFlags};

pub const KIB: u64 = 1024;
pub const HEADER_LEN: usize = 48;
pub const ENTRY_LEN: usize = 128;

/// Content of partition `B` in the sample image.
pub fn sample_ecc_content() -> Vec<u8> {
    (0..1000u32).map(|i| (i * 31 + 7) as u8).collect()
}

/// A 64 KiB image, 4 KiB blocks: `part` (table, entry 0), `A` at 0x1000 (4 KiB, content
/// "hello"), `B` at 0x2000 (8 KiB, ECC, [`sample_ecc_content`]), `C` at 0x4000 (4 KiB, empty).
pub fn sample_image() -> Vec<u8> {
    let layout = Layout {
        flash_size: 64 * KIB,
        block_size: 4096,
        partitions: vec![
            spec("A", 4 * KIB, UserFlags::NONE, Some(b"hello".to_vec())),
            spec("B", 8 * KIB, UserFlags::from_flags(&[Flag::Ecc]), Some(sample_ecc_content())),
            spec("C", 4 * KIB, UserFlags::NONE, None),
        ],
    };
    create_image(&layout).expect("the sample layout is valid")
}

pub fn spec(name: &str, size: u64, flags: UserFlags, content: Option<Vec<u8>>) -> PartitionSpec {
    PartitionSpec { name: name.into(), base: None, size, flags, content }
}

pub fn read_word(bytes: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes(bytes[offset..offset + 4].try_into().unwrap())
}

pub fn write_word(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
}

/// XOR of the words of `bytes[start..start + len]` except the last, written into the last.
fn fix_checksum(bytes: &mut [u8], start: usize, len: usize) {
    let checksum = (start..start + len - 4).step_by(4).fold(0, |acc, offset| acc ^ read_word(bytes, offset));
    write_word(bytes, start + len - 4, checksum);
}

/// Sets header word `word` and recomputes the header checksum.
pub fn set_header_word(image: &mut [u8], word: usize, value: u32) {
    write_word(image, word * 4, value);
    fix_checksum(image, 0, HEADER_LEN);
}

pub fn entry_start(index: usize) -> usize {
    HEADER_LEN + index * ENTRY_LEN
}

/// Sets word `word` of entry `index` and recomputes the entry checksum.
pub fn set_entry_word(image: &mut [u8], index: usize, word: usize, value: u32) {
    write_word(image, entry_start(index) + word * 4, value);
    fix_checksum(image, entry_start(index), ENTRY_LEN);
}

/// Sets the 16-byte name field of entry `index` and recomputes the entry checksum.
pub fn set_entry_name(image: &mut [u8], index: usize, field: [u8; 16]) {
    image[entry_start(index)..entry_start(index) + 16].copy_from_slice(&field);
    fix_checksum(image, entry_start(index), ENTRY_LEN);
}

/// A name field: `name` NUL-padded.
pub fn name_field(name: &[u8]) -> [u8; 16] {
    let mut field = [0u8; 16];
    field[..name.len()].copy_from_slice(name);
    field
}
