//! One test per config error kind: each names the exact line, field and partition (and, for a
//! conflict, the other partition). The configs are written line by line: line N is entry N-1.

mod common;

use common::{check, check_with, expect, machine, only_error, toml};
use oxiboot_hv::config::host::ConfigErrorKind as Kind;
use oxiboot_hv::config::Region;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// Lines 1-2: the system table.
const SYSTEM: [&str; 2] = ["[system]", "version = 1"];

/// A valid LPAR (6 lines) named `name` with LPID `id` on core `core`.
fn lpar(name: &str, id: u32, core: &str) -> Vec<String> {
    vec![
        "[[lpar]]".into(),
        format!("name = \"{name}\""),
        format!("id = {id}"),
        format!("cores = [\"{core}\"]"),
        "memory = \"512M\"".into(),
        "boot.kernel = { partition = \"BOOTKERNEL\" }".into(),
    ]
}

/// SYSTEM, then the given lines.
fn with(lines: &[&str]) -> String {
    let mut all: Vec<&str> = SYSTEM.to_vec();
    all.extend_from_slice(lines);
    toml(&all)
}

/// SYSTEM, then a valid LPAR "a" (lines 3-8), then the given lines.
fn after_a(lines: &[&str]) -> String {
    let first = lpar("a", 1, "0:0");
    let mut all: Vec<&str> = SYSTEM.to_vec();
    all.extend(first.iter().map(String::as_str));
    all.extend_from_slice(lines);
    toml(&all)
}

/// The error of kind `code` among those `source` gives (a config with only `[system]` also
/// lacks LPARs).
fn find(source: &str, code: &str) -> oxiboot_hv::config::host::ConfigError {
    let errors = check(source).expect_err("invalid");
    errors.iter().find(|e| e.kind.code() == code).cloned().unwrap_or_else(|| panic!("no {code}: {errors:?}"))
}

#[test]
fn the_small_example_is_valid() {
    let config = check(&after_a(&[])).expect("valid");
    assert_eq!(config.lpars[0].threads, [0, 1, 2, 3]);
    assert_eq!(config.lpars[0].memory, Region { base: GIB, size: 512 * MIB });
    assert_eq!(config.hypervisor, Region { base: 256 * MIB, size: 256 * MIB });
}

#[test]
fn syntax() {
    let error = expect(only_error(check(&with(&["[[lpar]]", "name = "]))), "syntax", 4, "", None);
    assert!(matches!(error.kind, Kind::Syntax(_)));
}

#[test]
fn unknown_field() {
    let error = expect(only_error(check(&after_a(&["memroy = 1"]))), "unknown-field", 9, "memroy", Some("a"));
    assert_eq!(error.kind, Kind::UnknownField { suggestion: Some("memory") });
    assert!(error.to_string().contains("did you mean `memory`?"), "{error}");
}

#[test]
fn unknown_field_in_system_and_at_the_top() {
    let source = toml(&["[system]", "version = 1", "hypervisor = \"256M\"", "[lpars]"]);
    let errors = check(&source).expect_err("invalid");
    let places: Vec<_> = errors.iter().map(|e| (e.kind.code(), e.line, e.field.as_str())).collect();
    assert!(places.contains(&("unknown-field", 3, "system.hypervisor")), "{places:?}");
    assert!(places.contains(&("unknown-field", 4, "lpars")), "{places:?}");
}

#[test]
fn wrong_type() {
    let source = with(&[
        "[[lpar]]",
        "name = \"a\"",
        "id = \"one\"",
        "cores = [\"0:0\"]",
        "memory = \"512M\"",
        "boot.kernel = \"images/vmlinux\"",
    ]);
    let error = expect(only_error(check(&source)), "wrong-type", 5, "id", Some("a"));
    assert_eq!(error.kind, Kind::WrongType { expected: "an integer", found: "string" });
}

#[test]
fn missing_field_is_reported_at_the_lpar_header() {
    let source = with(&[
        "[[lpar]]",
        "name = \"a\"",
        "cores = [\"0:0\"]",
        "memory = \"512M\"",
        "boot.kernel = \"images/vmlinux\"",
    ]);
    expect(only_error(check(&source)), "missing-field", 3, "id", Some("a"));
}

#[test]
fn missing_system_table() {
    let first = lpar("a", 1, "0:0");
    let lines: Vec<&str> = first.iter().map(String::as_str).collect();
    expect(only_error(check(&toml(&lines))), "missing-field", 1, "system", None);
}

#[test]
fn conflicting_fields() {
    let error = expect(
        only_error(check(&after_a(&["threads = [4]"]))),
        "conflicting-fields",
        9,
        "threads",
        Some("a"),
    );
    assert_eq!(error.kind, Kind::ConflictingFields { other: "cores" });
}

#[test]
fn unsupported_version() {
    let source = toml(&["[system]", "version = 2"]);
    let error =
        expect(find(&source, "unsupported-version"), "unsupported-version", 2, "system.version", None);
    assert_eq!(error.kind, Kind::UnsupportedVersion { found: 2 });
}

#[test]
fn unknown_choice() {
    let error = expect(
        only_error(check(&after_a(&["restart = \"sometimes\""]))),
        "unknown-choice",
        9,
        "restart",
        Some("a"),
    );
    assert!(error.to_string().contains("never, on-crash, always"), "{error}");
}

#[test]
fn out_of_range_lpid() {
    let source = with(&[
        "[[lpar]]",
        "name = \"a\"",
        "id = 0",
        "cores = [\"0:0\"]",
        "memory = \"512M\"",
        "boot.kernel = \"images/vmlinux\"",
    ]);
    let error = expect(only_error(check(&source)), "out-of-range", 5, "id", Some("a"));
    assert_eq!(error.kind, Kind::OutOfRange { value: 0, min: 1, max: 4095 });
}

#[test]
fn out_of_range_nested_limit() {
    let error = expect(
        only_error(check(&after_a(&["nested_virt = true", "max_l2_vcpus = 4096"]))),
        "out-of-range",
        10,
        "max_l2_vcpus",
        Some("a"),
    );
    assert_eq!(error.kind, Kind::OutOfRange { value: 4096, min: 1, max: 2048 });
}

#[test]
fn bad_name() {
    let source = with(&[
        "[[lpar]]",
        "name = \"web server\"",
        "id = 1",
        "cores = [\"0:0\"]",
        "memory = \"512M\"",
        "boot.kernel = \"images/vmlinux\"",
    ]);
    expect(only_error(check(&source)), "bad-name", 4, "name", Some("#1"));
}

#[test]
fn duplicate_name() {
    let second = lpar("a", 2, "0:1");
    let lines: Vec<&str> = second.iter().map(String::as_str).collect();
    let error = expect(only_error(check(&after_a(&lines))), "duplicate-name", 10, "name", Some("a"));
    assert_eq!(error.kind, Kind::DuplicateName { other_line: 4 });
}

#[test]
fn duplicate_id() {
    let second = lpar("b", 1, "0:1");
    let lines: Vec<&str> = second.iter().map(String::as_str).collect();
    let error = expect(only_error(check(&after_a(&lines))), "duplicate-id", 11, "id", Some("b"));
    assert_eq!(error.kind, Kind::DuplicateId { id: 1, other: "a".into(), other_line: 5 });
}

#[test]
fn bad_size() {
    let source = with(&[
        "[[lpar]]",
        "name = \"a\"",
        "id = 1",
        "cores = [\"0:0\"]",
        "memory = \"lots\"",
        "boot.kernel = \"images/vmlinux\"",
    ]);
    let error = expect(only_error(check(&source)), "bad-size", 7, "memory", Some("a"));
    assert_eq!(error.kind, Kind::BadSize { text: "lots".into() });
}

#[test]
fn zero_size() {
    let source = with(&[
        "[[lpar]]",
        "name = \"a\"",
        "id = 1",
        "cores = [\"0:0\"]",
        "memory = 0",
        "boot.kernel = \"images/vmlinux\"",
    ]);
    expect(only_error(check(&source)), "zero-size", 7, "memory", Some("a"));
}

#[test]
fn size_not_block_multiple() {
    let source = toml(&["[system]", "version = 1", "hypervisor_memory = \"300M\""]);
    let error = expect(
        find(&source, "size-not-block-multiple"),
        "size-not-block-multiple",
        3,
        "system.hypervisor_memory",
        None,
    );
    assert_eq!(error.kind, Kind::SizeNotBlockMultiple { size: 300 * MIB });
}

#[test]
fn base_not_aligned() {
    let error = expect(
        only_error(check(&after_a(&["memory_base = 0x4800_0000"]))),
        "base-not-aligned",
        9,
        "memory_base",
        Some("a"),
    );
    assert_eq!(error.kind, Kind::BaseNotAligned { base: 0x4800_0000 });
}

#[test]
fn bad_core_spec() {
    let second = [
        "[[lpar]]",
        "name = \"b\"",
        "id = 2",
        "cores = [\"0:1\", \"one\"]",
        "memory = \"512M\"",
        "boot.kernel = \"images/vmlinux\"",
    ];
    let error = expect(only_error(check(&after_a(&second))), "bad-core-spec", 12, "cores[1]", Some("b"));
    assert_eq!(error.kind, Kind::BadCoreSpec { text: "one".into() });
}

#[test]
fn core_not_present() {
    let second = lpar("b", 2, "1:0");
    let lines: Vec<&str> = second.iter().map(String::as_str).collect();
    let error = expect(only_error(check(&after_a(&lines))), "core-not-present", 12, "cores[0]", Some("b"));
    assert_eq!(error.kind, Kind::CoreNotPresent { chip: 1, core: 0 });
    // A huge range costs nothing and names its first missing core once.
    let second = lpar("b", 2, "0:1-4000000000");
    let lines: Vec<&str> = second.iter().map(String::as_str).collect();
    let error = expect(only_error(check(&after_a(&lines))), "core-not-present", 12, "cores[0]", Some("b"));
    assert_eq!(error.kind, Kind::CoreNotPresent { chip: 0, core: 2 });
}

#[test]
fn thread_not_present() {
    let second = [
        "[[lpar]]",
        "name = \"b\"",
        "id = 2",
        "threads = [4, 0x40]",
        "memory = \"512M\"",
        "boot.kernel = \"images/vmlinux\"",
    ];
    let error =
        expect(only_error(check(&after_a(&second))), "thread-not-present", 12, "threads[1]", Some("b"));
    assert_eq!(error.kind, Kind::ThreadNotPresent { pir: 0x40 });
}

#[test]
fn core_used_twice() {
    let second = lpar("b", 2, "0:0");
    let lines: Vec<&str> = second.iter().map(String::as_str).collect();
    let error = expect(only_error(check(&after_a(&lines))), "core-used-twice", 12, "cores[0]", Some("b"));
    assert_eq!(error.kind, Kind::CoreUsedTwice { chip: 0, core: 0, other: "a".into(), other_line: 6 });
    assert!(error.to_string().contains("already given to lpar \"a\" (line 6)"), "{error}");
}

#[test]
fn thread_used_twice() {
    let second = [
        "[[lpar]]",
        "name = \"b\"",
        "id = 2",
        "threads = [3]",
        "memory = \"512M\"",
        "boot.kernel = \"images/vmlinux\"",
    ];
    let error =
        expect(only_error(check(&after_a(&second))), "thread-used-twice", 12, "threads[0]", Some("b"));
    assert_eq!(error.kind, Kind::ThreadUsedTwice { pir: 3, other: "a".into(), other_line: 6 });
}

#[test]
fn not_enough_cores() {
    let second = [
        "[[lpar]]",
        "name = \"b\"",
        "id = 2",
        "cores = 2",
        "memory = \"512M\"",
        "boot.kernel = \"images/vmlinux\"",
    ];
    let error = expect(only_error(check(&after_a(&second))), "not-enough-cores", 12, "cores", Some("b"));
    assert_eq!(error.kind, Kind::NotEnoughCores { wanted: 2, free: 1 });
}

#[test]
fn no_cpus() {
    let source = with(&[
        "[[lpar]]",
        "name = \"a\"",
        "id = 1",
        "cores = []",
        "memory = \"512M\"",
        "boot.kernel = \"images/vmlinux\"",
    ]);
    expect(only_error(check(&source)), "no-cpus", 6, "cores", Some("a"));
}

#[test]
fn memory_not_installed() {
    let error = expect(
        only_error(check(&after_a(&["memory_base = \"2G\""]))),
        "memory-not-installed",
        9,
        "memory_base",
        Some("a"),
    );
    assert_eq!(error.kind, Kind::MemoryNotInstalled { region: Region { base: 2 * GIB, size: 512 * MIB } });
}

#[test]
fn memory_overlap_names_both_partitions_and_ranges() {
    let mut lines = vec!["memory_base = \"1G\""];
    lines.extend([
        "[[lpar]]",
        "name = \"b\"",
        "id = 2",
        "cores = [\"0:1\"]",
        "memory = \"512M\"",
        "memory_base = \"1280M\"",
    ]);
    lines.push("boot.kernel = \"images/vmlinux\"");
    let error = expect(only_error(check(&after_a(&lines))), "memory-overlap", 15, "memory_base", Some("b"));
    let kind = Kind::MemoryOverlap {
        region: Region { base: 1280 * MIB, size: 512 * MIB },
        other: "a".into(),
        other_region: Region { base: GIB, size: 512 * MIB },
        other_line: Some(9),
    };
    assert_eq!(error.kind, kind);
    let text = error.to_string();
    assert!(text.contains("lpar \"b\"") && text.contains("overlaps a's 0x040000000..=0x05fffffff"), "{text}");
}

#[test]
fn memory_overlap_with_the_firmware() {
    let error = expect(
        only_error(check(&after_a(&["memory_base = 0x3000_0000"]))),
        "memory-overlap",
        9,
        "memory_base",
        Some("a"),
    );
    let Kind::MemoryOverlap { other, other_line, .. } = &error.kind else { panic!("{error}") };
    assert_eq!((other.as_str(), *other_line), ("the firmware", None));
}

#[test]
fn over_committed() {
    let second = [
        "[[lpar]]",
        "name = \"b\"",
        "id = 2",
        "cores = [\"0:1\"]",
        "memory = \"1G\"",
        "boot.kernel = \"images/vmlinux\"",
    ];
    let error = expect(only_error(check(&after_a(&second))), "over-committed", 13, "memory", Some("b"));
    let kind = Kind::OverCommitted {
        lpars: 1536 * MIB,
        hypervisor: 256 * MIB,
        firmware: 512 * MIB,
        installed: 2 * GIB,
    };
    assert_eq!(error.kind, kind);
}

#[test]
fn no_room_for_memory() {
    // Block 5 (0x5000_0000) fixed for "a" splits the free blocks 4-7; "b" wants three.
    let source = with(&[
        "[[lpar]]",
        "name = \"a\"",
        "id = 1",
        "cores = [\"0:0\"]",
        "memory = \"256M\"",
        "memory_base = 0x5000_0000",
        "boot.kernel = \"images/vmlinux\"",
        "[[lpar]]",
        "name = \"b\"",
        "id = 2",
        "cores = [\"0:1\"]",
        "memory = \"768M\"",
        "boot.kernel = \"images/vmlinux\"",
    ]);
    let error = expect(only_error(check(&source)), "no-room-for-memory", 14, "memory", Some("b"));
    assert_eq!(error.kind, Kind::NoRoomForMemory { size: 768 * MIB, largest_free: 512 * MIB });
}

#[test]
fn missing_image() {
    let source = with(&[
        "[[lpar]]",
        "name = \"a\"",
        "id = 1",
        "cores = [\"0:0\"]",
        "memory = \"512M\"",
        "[lpar.boot]",
        "kernel = \"images/vmlinux\"",
        "initramfs = \"images/nope.cpio\"",
    ]);
    let error = expect(only_error(check(&source)), "missing-image", 10, "boot.initramfs", Some("a"));
    let Kind::MissingImage { path, .. } = &error.kind else { panic!("{error}") };
    assert!(path.ends_with("tests/data/images/nope.cpio"), "{path}");
}

#[test]
fn unknown_partition() {
    let source = with(&[
        "[[lpar]]",
        "name = \"a\"",
        "id = 1",
        "cores = [\"0:0\"]",
        "memory = \"512M\"",
        "boot.kernel = { partition = \"KERNEL2\" }",
    ]);
    let error = expect(
        only_error(check_with(&source, &machine("1chip"), true)),
        "unknown-partition",
        8,
        "boot.kernel.partition",
        Some("a"),
    );
    assert!(error.to_string().contains("(it has: BOOTKERNEL, NVRAM, OXICFG)"), "{error}");
    // Without a layout, any well-formed name is accepted.
    check(&source).expect("no layout given");
}

#[test]
fn bad_partition_name() {
    let source = with(&[
        "[[lpar]]",
        "name = \"a\"",
        "id = 1",
        "cores = [\"0:0\"]",
        "memory = \"512M\"",
        "boot.kernel = { partition = \"A_VERY_LONG_KERNEL\" }",
    ]);
    expect(only_error(check(&source)), "bad-partition-name", 8, "boot.kernel.partition", Some("a"));
}

#[test]
fn uart_not_present() {
    let error = expect(
        only_error(check(&after_a(&["console = { type = \"uart\", port = 0x2f8 }"]))),
        "uart-not-present",
        9,
        "console.port",
        Some("a"),
    );
    assert_eq!(error.kind, Kind::UartNotPresent { port: 0x2f8, present: vec![0x3f8] });
}

#[test]
fn uart_used_twice_with_the_firmware_console() {
    // On the 4-core machine (UARTs 0x2f8 and 0x3f8) "auto" is COM1, 0x3f8.
    let error = expect(
        only_error(check_with(
            &after_a(&["console = { type = \"uart\", port = 0x3f8 }"]),
            &machine("4core"),
            false,
        )),
        "uart-used-twice",
        9,
        "console.port",
        Some("a"),
    );
    assert_eq!(error.kind, Kind::UartUsedTwice { port: 0x3f8, other: "the firmware".into() });
}

#[test]
fn uart_used_twice_by_two_lpars() {
    let source = toml(&[
        "[system]",
        "version = 1",
        "console = { type = \"uart\", port = 0x3f8 }",
        "[[lpar]]",
        "name = \"a\"",
        "id = 1",
        "cores = 1",
        "memory = \"512M\"",
        "console = { type = \"uart\", port = 0x2f8 }",
        "boot.kernel = \"images/vmlinux\"",
        "[[lpar]]",
        "name = \"b\"",
        "id = 2",
        "cores = 1",
        "memory = \"512M\"",
        "console = { type = \"uart\", port = 0x2f8 }",
        "boot.kernel = \"images/vmlinux\"",
    ]);
    let error = expect(
        only_error(check_with(&source, &machine("4core"), false)),
        "uart-used-twice",
        16,
        "console.port",
        Some("b"),
    );
    assert_eq!(error.kind, Kind::UartUsedTwice { port: 0x2f8, other: "lpar \"a\"".into() });
}

#[test]
fn too_long() {
    let cmdline = format!("boot.cmdline = \"{}\"", "x".repeat(2048));
    let error = expect(only_error(check(&after_a(&[&cmdline]))), "too-long", 9, "boot.cmdline", Some("a"));
    assert_eq!(error.kind, Kind::TooLong { len: 2048, max: 2047 });
}

#[test]
fn requires_nested_virt() {
    expect(
        only_error(check(&after_a(&["max_l2_guests = 8"]))),
        "requires-nested-virt",
        9,
        "max_l2_guests",
        Some("a"),
    );
}

#[test]
fn no_lpars() {
    expect(only_error(check(&toml(&SYSTEM))), "no-lpars", 1, "lpar", None);
}

#[test]
fn too_many_lpars() {
    let mut lines: Vec<String> = SYSTEM.iter().map(|s| s.to_string()).collect();
    for id in 1..=257 {
        lines.extend([
            "[[lpar]]".into(),
            format!("name = \"p{id}\""),
            format!("id = {id}"),
            "cores = [\"0:0\"]".into(),
        ]);
        lines.extend(["memory = \"256M\"".into(), "boot.kernel = \"images/vmlinux\"".into()]);
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let error = expect(only_error(check(&toml(&refs))), "too-many-lpars", 3 + 256 * 6, "lpar", None);
    assert_eq!(error.kind, Kind::TooManyLpars { count: 257, max: 256 });
}

#[test]
fn every_error_is_reported_in_file_order() {
    let source = with(&[
        "[[lpar]]",
        "name = \"a\"",
        "id = 0",
        "cores = \"all\"",
        "memory = \"1.5G\"",
        "boot.kernel = 7",
        "autostart = \"yes\"",
    ]);
    let errors = check(&source).expect_err("invalid");
    let codes: Vec<_> = errors.iter().map(|e| (e.line, e.kind.code())).collect();
    let expected =
        [(5, "out-of-range"), (6, "wrong-type"), (7, "bad-size"), (8, "wrong-type"), (9, "wrong-type")];
    assert_eq!(codes, expected);
}
