//! Unit tests of the blob encoder and decoder: round trip, and each record check (through
//! configurations the encoder refuses, or bytes patched with the CRC fixed up).

use super::*;
use crate::config::model::*;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

fn lpar(id: u32, name: &str, threads: &[u32], base: u64) -> LparConfig {
    LparConfig {
        id,
        name: name.to_string(),
        threads: threads.to_vec(),
        whole_cores: true,
        memory: Region { base, size: 512 * MIB },
        console: Console::Vty { prefix: alloc::format!("[{name}] ") },
        boot: BootConfig {
            kernel: ImageSource::Partition { name: "BOOTKERNEL".into() },
            initramfs: Some(ImageSource::File {
                name: "initramfs.cpio".into(),
                size: 1234,
                digest: 0xdead_beef,
            }),
            cmdline: "console=hvc0".into(),
        },
        autostart: true,
        restart: RestartPolicy::OnCrash,
        cpu_compat: CpuCompat::Power9,
        nested: Some(NestedLimits { max_l2_guests: MAX_L2_GUESTS, max_l2_vcpus: MAX_L2_VCPUS }),
    }
}

fn config() -> MachineConfig {
    let mut second = lpar(2, "b", &[4, 5, 6, 7], GIB + 512 * MIB);
    second.console = Console::Uart { port: 0x2f8 };
    second.nested = None;
    second.restart = RestartPolicy::Always;
    second.cpu_compat = CpuCompat::Power8;
    second.boot.initramfs = None;
    second.boot.cmdline = String::new();
    MachineConfig {
        hypervisor: Region { base: 256 * MIB, size: 256 * MIB },
        firmware_console: FirmwareConsole::Uart { port: 0x3f8 },
        lpars: vec![lpar(1, "a", &[0, 1, 2, 3], GIB), second],
    }
}

fn record_error(config: &MachineConfig) -> (usize, RecordProblem) {
    match encode_blob(config) {
        Err(BlobError::Record { index, problem, .. }) => (index, problem),
        other => panic!("expected a record error, got {other:?}"),
    }
}

/// The blob with `patch` applied and the CRC recomputed.
fn patched(patch: impl FnOnce(&mut Vec<u8>)) -> Result<MachineConfig, BlobError> {
    let mut bytes = encode_blob(&config()).expect("valid");
    patch(&mut bytes);
    let crc = CRC32.checksum(&bytes[header::CRC_START..]);
    bytes[header::CRC..header::CRC + 4].copy_from_slice(&crc.to_be_bytes());
    parse_blob(&bytes)
}

fn record_problem(result: Result<MachineConfig, BlobError>) -> RecordProblem {
    match result {
        Err(BlobError::Record { problem, .. }) => problem,
        other => panic!("expected a record error, got {other:?}"),
    }
}

#[test]
fn round_trip() {
    let config = config();
    let bytes = encode_blob(&config).expect("valid");
    assert_eq!(&bytes[..4], b"OXLP");
    assert_eq!(parse_blob(&bytes), Ok(config.clone()));
    // Flash padding after total_len is ignored.
    let mut padded = bytes.clone();
    padded.extend_from_slice(&[0xff; 100]);
    assert_eq!(parse_blob(&padded), Ok(config));
}

#[test]
fn encoder_refuses_what_the_decoder_refuses() {
    let mut c = config();
    c.lpars[1].id = 1;
    assert_eq!(record_error(&c), (1, RecordProblem::DuplicateLpid { other_index: 0 }));

    let mut c = config();
    c.lpars[1].name = "a".into();
    assert_eq!(record_error(&c), (1, RecordProblem::DuplicateName { other_index: 0 }));

    let mut c = config();
    c.lpars[1].memory.base = GIB + 256 * MIB;
    let (index, problem) = record_error(&c);
    assert_eq!(index, 1);
    assert!(matches!(problem, RecordProblem::MemoryOverlap { other: MemoryOwner::Lpar { id: 1, .. }, .. }));

    let mut c = config();
    c.lpars[0].memory.base = 3 * 256 * MIB;
    assert!(matches!(record_error(&c).1, RecordProblem::MemoryOverlap { other: MemoryOwner::Firmware, .. }));

    let mut c = config();
    c.lpars[0].memory.base = 256 * MIB;
    assert!(matches!(
        record_error(&c).1,
        RecordProblem::MemoryOverlap { other: MemoryOwner::Hypervisor, .. }
    ));

    let mut c = config();
    c.lpars[1].threads = vec![3, 4];
    assert_eq!(record_error(&c), (1, RecordProblem::ThreadShared { pir: 3, other_id: 1 }));

    let mut c = config();
    c.lpars[1].threads = vec![5, 4];
    assert_eq!(record_error(&c), (1, RecordProblem::ThreadsNotAscending));

    let mut c = config();
    c.lpars[1].threads.clear();
    assert_eq!(record_error(&c), (1, RecordProblem::NoThreads));

    let mut c = config();
    c.lpars[0].memory.size = 100 * MIB;
    assert!(matches!(record_error(&c), (0, RecordProblem::BadMemory(_))));

    let mut c = config();
    c.lpars[0].id = MAX_LPID + 1;
    assert_eq!(record_error(&c), (0, RecordProblem::BadLpid));

    let mut c = config();
    c.lpars[0].name = "x".repeat(32);
    // The field holds 31 bytes and a NUL: the name is cut, and reads back different.
    assert_eq!(encode_blob(&c), Err(BlobError::NotRepresentable));

    let mut c = config();
    c.lpars[0].nested = Some(NestedLimits { max_l2_guests: 0, max_l2_vcpus: 1 });
    assert_eq!(record_error(&c), (0, RecordProblem::BadNestedLimits));

    let mut c = config();
    c.lpars[0].console = Console::Uart { port: 0x3f8 };
    assert_eq!(record_error(&c), (0, RecordProblem::UartShared { port: 0x3f8 }));

    let mut c = config();
    c.lpars[0].boot.cmdline = "x".repeat(MAX_CMDLINE_LEN + 1);
    assert_eq!(record_error(&c), (0, RecordProblem::TooLong("cmdline")));

    let mut c = config();
    c.lpars[0].boot.kernel = ImageSource::Partition { name: String::new() };
    assert_eq!(record_error(&c), (0, RecordProblem::EmptyImageName("kernel")));

    let mut c = config();
    c.hypervisor = Region { base: 0, size: 256 * MIB };
    assert_eq!(encode_blob(&c), Err(BlobError::HypervisorOverlapsFirmware(c.hypervisor)));

    let mut c = config();
    c.hypervisor.size = 0;
    assert_eq!(encode_blob(&c), Err(BlobError::BadHypervisorMemory(c.hypervisor)));

    let mut c = config();
    c.lpars.clear();
    assert_eq!(encode_blob(&c), Err(BlobError::NoLpars));
}

#[test]
fn patched_fields_are_refused_even_with_a_good_crc() {
    let first = HEADER_LEN;
    assert_eq!(
        record_problem(patched(|b| b[first + record::FLAGS + 3] |= 0x80)),
        RecordProblem::UnknownFlags(0x80)
    );
    assert_eq!(record_problem(patched(|b| b[first + record::RESTART] = 9)), RecordProblem::UnknownRestart(9));
    assert_eq!(
        record_problem(patched(|b| b[first + record::CONSOLE_KIND] = 7)),
        RecordProblem::UnknownConsole(7)
    );
    assert_eq!(
        record_problem(patched(|b| b[first + record::CPU_COMPAT_PVR + 3] = 0x42)),
        RecordProblem::UnknownCpuCompat(0x0f00_0042)
    );
    assert_eq!(
        record_problem(patched(|b| b[first + record::RESERVED_98] = 1)),
        RecordProblem::ReservedNotZero("reserved 0x98")
    );
    assert_eq!(
        record_problem(patched(|b| b[first + record::KERNEL + record::IMAGE_KIND] = 5)),
        RecordProblem::UnknownImageKind { field: "kernel", kind: 5 }
    );
    assert_eq!(
        record_problem(patched(|b| b[first + record::KERNEL + record::IMAGE_KIND] = 0)),
        RecordProblem::ReservedNotZero("kernel")
    );
    assert_eq!(
        record_problem(patched(|b| b[first + record::CMDLINE + 3] = 0xf0)),
        RecordProblem::StringOutOfBounds("cmdline")
    );
    assert_eq!(
        record_problem(patched(|b| b[first + record::PIR_COUNT + 3] = 200)),
        RecordProblem::ThreadsOutOfTable
    );
    assert!(matches!(
        record_problem(patched(|b| b[first + record::NAME + 5] = b'x')),
        RecordProblem::BadName { .. }
    ));
    // The last string is the second LPAR's kernel partition name.
    let last = b_len() - 1;
    assert_eq!(record_problem(patched(|b| b[last] = 0xff)), RecordProblem::NotUtf8("kernel"));
    assert_eq!(
        patched(|b| b[header::BLOCK_SIZE + 4] = 0x20),
        Err(BlobError::BadHeader { field: "block_size", value: 0x2000_0000 })
    );
    assert_eq!(
        patched(|b| b[header::RECORD_LEN + 1] = 0xa8),
        Err(BlobError::BadHeader { field: "record_len", value: 0xa8 })
    );
}

/// Length of the test blob.
fn b_len() -> usize {
    encode_blob(&config()).expect("valid").len()
}

#[test]
fn header_errors() {
    let bytes = encode_blob(&config()).expect("valid");
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert!(matches!(parse_blob(&bad), Err(BlobError::BadMagic(_))));
    let mut bad = bytes.clone();
    // Version 1 recorded CRC-32s of image files where version 2 records image digests.
    bad[header::VERSION + 1] = 1;
    assert_eq!(parse_blob(&bad), Err(BlobError::UnsupportedVersion(1)));
    let mut bad = bytes.clone();
    bad[header::CRC] ^= 1;
    assert!(matches!(parse_blob(&bad), Err(BlobError::BadCrc { .. })));
    assert_eq!(parse_blob(&bytes[..10]), Err(BlobError::Truncated { needed: 64, got: 10 }));
    let short = &bytes[..bytes.len() - 1];
    assert_eq!(
        parse_blob(short),
        Err(BlobError::Truncated { needed: bytes.len() as u64, got: bytes.len() - 1 })
    );
    assert!(BlobError::BadCrc { stored: 1, computed: 2 }.to_string().contains("checksum mismatch"));
}
