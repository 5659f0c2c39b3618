//! The compiled blob end to end: a config compiled on the host parses back into the same
//! configuration, and corrupted blobs (magic, version, CRC, truncation, flipped bytes, random
//! damage with a recomputed CRC) are refused without a panic.

mod common;

use common::{data, data_dir, layout_partitions, machine, FILE};
use oxiboot_hv::config::host::{compile_config, Target};
use oxiboot_hv::config::{parse_blob, BlobError, MachineConfig};

/// The example config for the 4-core machine, compiled.
fn compiled_example() -> (MachineConfig, Vec<u8>) {
    let source = String::from_utf8(data("qemu-two-lpars.toml")).expect("text");
    let platform = machine("4core");
    let partitions = layout_partitions();
    let dir = data_dir();
    let target = Target { platform: &platform, pnor_partitions: Some(&partitions), base_dir: &dir };
    compile_config(&source, FILE, &target).unwrap_or_else(|e| panic!("{}", common::render(&e)))
}

/// CRC-32/ISO-HDLC, bit by bit: an independent check of the header's CRC.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn fix_crc(bytes: &mut [u8]) {
    let crc = crc32(&bytes[0x10..]);
    bytes[0x0c..0x10].copy_from_slice(&crc.to_be_bytes());
}

#[test]
fn compile_then_parse_gives_the_same_config() {
    let (config, blob) = compiled_example();
    assert_eq!(parse_blob(&blob), Ok(config));
    let total = u32::from_be_bytes(blob[8..12].try_into().expect("4 bytes")) as usize;
    assert_eq!(total, blob.len());
    assert_eq!(u32::from_be_bytes(blob[12..16].try_into().expect("4 bytes")), crc32(&blob[16..]));
}

#[test]
fn bad_magic_version_and_crc_are_refused() {
    let (_, blob) = compiled_example();
    let mut bad = blob.clone();
    bad[..4].copy_from_slice(b"JHCL");
    assert_eq!(parse_blob(&bad), Err(BlobError::BadMagic(0x4a48_434c)));
    let mut bad = blob.clone();
    bad[5] = 9;
    assert_eq!(parse_blob(&bad), Err(BlobError::UnsupportedVersion(9)));
    let mut bad = blob.clone();
    bad[100] ^= 0x10;
    let Err(BlobError::BadCrc { stored, computed }) = parse_blob(&bad) else { panic!("CRC not checked") };
    assert_eq!((stored, computed), (crc32(&blob[16..]), crc32(&bad[16..])));
}

#[test]
fn every_truncation_is_refused() {
    let (_, blob) = compiled_example();
    for len in 0..blob.len() {
        match parse_blob(&blob[..len]) {
            Err(BlobError::Truncated { got, .. }) => assert_eq!(got, len),
            other => panic!("{len} bytes: {other:?}"),
        }
    }
}

#[test]
fn every_single_bit_flip_is_refused() {
    let (_, blob) = compiled_example();
    for at in 0..blob.len() {
        for bit in 0..8 {
            let mut bad = blob.clone();
            bad[at] ^= 1 << bit;
            assert!(parse_blob(&bad).is_err(), "flip of bit {bit} at {at:#x} accepted");
        }
    }
}

#[test]
fn random_damage_with_a_good_crc_never_panics() {
    let (config, blob) = compiled_example();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut refused, mut accepted) = (0, 0);
    for _ in 0..20_000 {
        let mut bad = blob.clone();
        for _ in 0..=next() % 4 {
            // Past the CRC field, which is recomputed: this reaches the record checks.
            let at = 0x10 + (next() as usize) % (bad.len() - 0x10);
            bad[at] = next() as u8;
        }
        fix_crc(&mut bad);
        match parse_blob(&bad) {
            Err(error) => {
                assert!(!error.to_string().is_empty());
                refused += 1;
            }
            Ok(parsed) => {
                // Accepted damage hit a field with no constraint (a size, a CRC of an image,
                // a string's bytes): the result is still a self-consistent configuration.
                assert_eq!(parsed.lpars.len(), config.lpars.len());
                accepted += 1;
            }
        }
    }
    assert!(refused > 10_000, "refused {refused}, accepted {accepted}");
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for len in 0..600usize {
        let mut bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        if len >= 16 {
            bytes[..4].copy_from_slice(b"OXLP");
            bytes[4..6].copy_from_slice(&oxiboot_hv::config::blob::VERSION.to_be_bytes());
            bytes[6..8].copy_from_slice(&[0, 0x40]);
            bytes[8..12].copy_from_slice(&(len as u32).to_be_bytes());
            fix_crc(&mut bytes);
        }
        let _ = parse_blob(&bytes);
    }
}
