//! Images built from layouts read back as they were described: every flag combination, the
//! table conventions `ffspart` follows, ECC added on the way in and stripped (and corrected) on
//! the way out, and replacing content.

mod common;

use common::*;
use oxiboot_pnor::ffs::{EntryFlags, NameProblem};
use oxiboot_pnor::image::WritePolicy;
use oxiboot_pnor::{
    create_image, extract, replace, verify, Error, Flag, Layout, PartitionName, PartitionType, Table,
    UserFlags,
};

fn name(text: &str) -> PartitionName {
    PartitionName::new(text).unwrap()
}

#[test]
fn every_flag_combination_round_trips() {
    for bits in 0u32..1 << Flag::ALL.len() {
        let flags: Vec<Flag> =
            Flag::ALL.iter().enumerate().filter(|(i, _)| bits & 1 << i != 0).map(|(_, f)| *f).collect();
        let user = UserFlags::from_flags(&flags);
        let content: Vec<u8> = (0..100u32).map(|i| (i ^ bits) as u8).collect();
        let layout = Layout {
            flash_size: 16 * KIB,
            block_size: 4096,
            partitions: vec![
                spec("DATA", 4 * KIB, user, Some(content.clone())),
                spec("EMPTY", 4 * KIB, user, None),
            ],
        };
        let image = create_image(&layout).unwrap();
        let table = Table::from_image(&image).unwrap();
        for partition in &table.partitions()[1..] {
            assert_eq!(partition.user, user, "flags {flags:?}");
            for flag in Flag::ALL {
                assert_eq!(partition.user.contains(flag), flags.contains(&flag), "{flag:?} in {flags:?}");
            }
        }
        assert_eq!(extract(&image, "DATA").unwrap().data, content, "flags {flags:?}");
        assert_eq!(extract(&image, "EMPTY").unwrap().data, Vec::<u8>::new());
        let (_, reports) = verify(&image).unwrap();
        assert!(reports.iter().all(|report| report.is_clean()), "flags {flags:?}: {reports:?}");
        assert_eq!(reports[1].ecc.is_some(), flags.contains(&Flag::Ecc));
    }
}

#[test]
fn table_follows_ffspart_conventions() {
    let image = sample_image();
    // Header: magic, version, 1 table block, entry size, 4 entries, block size, 16 blocks,
    // reserved words zero, checksum.
    let header: Vec<u32> = (0..12).map(|word| read_word(&image, word * 4)).collect();
    let checksum = header[..11].iter().fold(0, |acc, word| acc ^ word);
    assert_eq!(header, [0x5041_5254, 1, 1, 128, 4, 4096, 16, 0, 0, 0, 0, checksum]);
    assert_eq!(&image[entry_start(4)..4096], &[0xFF; 4096 - 48 - 4 * 128][..], "rest of the table erased");

    let table = Table::from_image(&image).unwrap();
    let part = table.partitions()[0];
    assert_eq!(part.name, name("part"));
    assert_eq!((part.base, part.size, part.actual, part.id), (0, 4096, 4096, 1));
    assert_eq!(
        (part.kind, part.entry_flags, part.user),
        (PartitionType::Table, EntryFlags::PROTECTED, UserFlags::NONE)
    );
    // Entry 0 on flash: name, base 0, size 1 block, parent 0xffffffff, id 1, type 3, flags 1, actual.
    let words: Vec<u32> = (0..11).map(|word| read_word(&image, entry_start(0) + word * 4)).collect();
    assert_eq!(words, [0x7061_7274, 0, 0, 0, 0, 1, 0xFFFF_FFFF, 1, 3, 1, 4096]);

    let b = table.partitions()[2];
    assert_eq!((b.name, b.base, b.size, b.actual, b.id), (name("B"), 0x2000, 0x2000, 1000, 3));
    assert_eq!((b.kind, b.entry_flags), (PartitionType::Data, EntryFlags::default()));
    // User word 0 holds the data-integrity field (ECC = 0x8000).
    assert_eq!(read_word(&image, entry_start(2) + 15 * 4), 0x0000_8000);
}

#[test]
fn table_takes_the_blocks_ffspart_gives_it() {
    // ffspart: (header + entries + block) / block blocks. 48 + 2 * 128 = 304 bytes with
    // 0x100-byte blocks is 2 blocks, and the first partition follows them.
    let layout = Layout {
        flash_size: 16 * 256,
        block_size: 256,
        partitions: vec![spec("ONE", 256, UserFlags::NONE, None)],
    };
    let image = create_image(&layout).unwrap();
    let table = Table::from_image(&image).unwrap();
    assert_eq!(table.header().table_blocks, 2);
    assert_eq!(table.partitions()[1].base, 512);
}

#[test]
fn extraction_strips_ecc() {
    let image = sample_image();
    let content = sample_ecc_content();
    let raw = &image[0x2000..0x2000 + 1008 / 8 * 9];
    for (word, data) in raw.chunks(9).zip(content.chunks(8)) {
        assert_eq!(&word[..data.len()], data, "data bytes stored in order");
    }
    assert_ne!(raw.chunks(9).map(|word| word[8]).collect::<Vec<_>>(), vec![0xFF; 126], "ECC bytes are there");
    let extracted = extract(&image, "B").unwrap();
    assert_eq!(extracted.data, content);
    assert!(extracted.corrections.is_empty());
    // After the content, erased words with valid ECC.
    assert_eq!(
        &image[0x2000 + 126 * 9..0x2000 + 127 * 9],
        &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]
    );
}

#[test]
fn single_bit_flash_errors_are_corrected_and_located() {
    let clean = sample_image();
    let word_start = 0x2000 + 5 * 9;
    for byte in 0..9 {
        for bit in 0..8u8 {
            let mut image = clean.clone();
            image[word_start + byte] ^= 1 << bit;
            let extracted = extract(&image, "B").unwrap();
            assert_eq!(extracted.data, sample_ecc_content(), "byte {byte} bit {bit}");
            assert_eq!(extracted.corrections.len(), 1);
            let correction = extracted.corrections[0];
            assert_eq!(
                (correction.offset, correction.bit, correction.in_ecc_byte),
                (word_start + byte, bit, byte == 8)
            );
            let (_, reports) = verify(&image).unwrap();
            assert_eq!(reports[2].ecc.as_ref().unwrap().corrections, vec![correction]);
            assert!(!reports[2].is_clean());
        }
    }
}

#[test]
fn replace_rewrites_content_and_actual() {
    let mut image = sample_image();
    let content: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let table = replace(&mut image, "B", &content, WritePolicy::RespectReadOnly).unwrap();
    assert_eq!(table.find("B").unwrap().1.actual, 3000);
    assert_eq!(Table::from_image(&image).unwrap(), table, "entry checksum rewritten");
    assert_eq!(extract(&image, "B").unwrap().data, content);
    replace(&mut image, "B", b"short", WritePolicy::RespectReadOnly).unwrap();
    assert_eq!(extract(&image, "B").unwrap().data, b"short");
    assert!(verify(&image).unwrap().1.iter().all(|report| report.is_clean()), "old content erased");
}

#[test]
fn replace_refusals() {
    let mut layout_image = {
        let layout = Layout {
            flash_size: 16 * KIB,
            block_size: 4096,
            partitions: vec![spec("RO", 4 * KIB, UserFlags::from_flags(&[Flag::ReadOnly]), None)],
        };
        create_image(&layout).unwrap()
    };
    let policy = WritePolicy::RespectReadOnly;
    assert_eq!(
        replace(&mut layout_image, "RO", b"x", policy),
        Err(Error::ReadOnly { partition: name("RO") })
    );
    assert!(replace(&mut layout_image, "RO", b"x", WritePolicy::IgnoreReadOnly).is_ok());
    assert_eq!(
        replace(&mut layout_image, "part", b"x", policy),
        Err(Error::TableNotWritable { partition: name("part") })
    );
    assert_eq!(
        replace(&mut layout_image, "NONE", b"x", policy),
        Err(Error::PartitionNotFound { name: "NONE".into() })
    );
    assert_eq!(
        replace(&mut layout_image, "RO", &[0; 4097], WritePolicy::IgnoreReadOnly),
        Err(Error::ContentTooLarge { partition: name("RO"), len: 4097, capacity: 4096 })
    );
}

fn create(partitions: Vec<oxiboot_pnor::PartitionSpec>) -> Result<Vec<u8>, Error> {
    create_image(&Layout { flash_size: 64 * KIB, block_size: 4096, partitions })
}

#[test]
fn layout_mistakes_are_named() {
    let none = UserFlags::NONE;
    let ecc = UserFlags::from_flags(&[Flag::Ecc]);
    // 4 KiB with ECC holds 455 words of 8 bytes.
    assert_eq!(
        create(vec![spec("E", 4 * KIB, ecc, Some(vec![0; 3641]))]),
        Err(Error::ContentTooLarge { partition: name("E"), len: 3641, capacity: 3640 })
    );
    assert!(create(vec![spec("E", 4 * KIB, ecc, Some(vec![0; 3640]))]).is_ok());
    assert_eq!(
        create(vec![spec("S", 1000, none, None)]),
        Err(Error::BadPartitionSize { partition: name("S"), size: 1000, block_size: 4096 })
    );
    let mut misaligned = spec("M", 4 * KIB, none, None);
    misaligned.base = Some(0x1800);
    assert_eq!(
        create(vec![misaligned]),
        Err(Error::MisalignedBase { partition: name("M"), base: 0x1800, block_size: 4096 })
    );
    assert_eq!(
        create(vec![spec("SIXTEEN_LETTERS_", 4 * KIB, none, None)]),
        Err(Error::InvalidName { name: "SIXTEEN_LETTERS_".into(), problem: NameProblem::TooLong })
    );
    assert_eq!(
        create(vec![spec("PART", 4 * KIB, none, None)]),
        Err(Error::ReservedName { name: "PART".into() })
    );
    assert_eq!(
        create(vec![spec("X", 4 * KIB, none, None), spec("x", 4 * KIB, none, None)]),
        Err(Error::DuplicateName { first: name("X"), second: name("x") })
    );
    let mut overlapping = spec("Y", 8 * KIB, none, None);
    overlapping.base = Some(0x1000);
    assert!(matches!(
        create(vec![spec("X", 8 * KIB, none, None), overlapping]),
        Err(Error::PartitionsOverlap { first, second }) if first.name == name("X") && second.name == name("Y")
    ));
    assert!(matches!(
        create(vec![spec("BIG", 64 * KIB, none, None)]),
        Err(Error::PartitionOutOfRange { .. })
    ));
    let bad_flash = Layout { flash_size: 10_000, block_size: 4096, partitions: vec![] };
    assert_eq!(create_image(&bad_flash), Err(Error::BadFlashSize { flash_len: 10_000, block_size: 4096 }));
    let bad_block = Layout { flash_size: 12_000, block_size: 3000, partitions: vec![] };
    assert_eq!(create_image(&bad_block), Err(Error::BadBlockSize { block_size: 3000 }));
}
