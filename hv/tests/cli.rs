//! The `lpar` command: exit status, what it prints, and that an invalid config writes nothing.

mod common;

use common::data_dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lpar(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lpar")).args(args).output().expect("lpar runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oxiboot-lpar-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn check_prints_the_summary() {
    let config = data_dir().join("qemu-two-lpars.toml");
    let dtb = data_dir().join("qemu-powernv9-4core-4g.dtb");
    let layout = data_dir().join("qemu.layout");
    let output = lpar(&["check", path(&config), "--machine", path(&dtb), "--pnor-layout", path(&layout)]);
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("machine: 1 chip(s), 4 cores, 16 threads, 4 GiB RAM"), "{out}");
    assert!(out.contains("host1  0:0 0:1 (8 threads)  0x040000000..=0x0bfffffff (2 GiB)"), "{out}");
    assert!(out.contains("0x010000000..=0x01fffffff (256 MiB)      hypervisor"), "{out}");
}

#[test]
fn check_defaults_to_the_one_chip_machine_and_fails_with_status_1() {
    let config = data_dir().join("qemu-two-lpars.toml");
    let output = lpar(&["check", path(&config)]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("qemu-two-lpars.toml:16:10: error[over-committed]: lpar \"host1\", field `memory`"),
        "{out}"
    );
    assert!(
        out.contains(
            "2 error(s) against QEMU powernv9 (1 chip, 2 cores x 4 threads, 2 GiB); nothing written"
        ),
        "{out}"
    );
}

#[test]
fn compile_writes_a_blob_that_inspect_reads() {
    let dir = scratch("compile");
    let blob = dir.join("oxicfg.bin");
    let config = data_dir().join("qemu-two-lpars-small.toml");
    let output = lpar(&["compile", path(&config), "-o", path(&blob)]);
    assert!(output.status.success(), "{}", text(&output));
    let bytes = std::fs::read(&blob).expect("blob written");
    assert_eq!(&bytes[..4], b"OXLP");
    let output =
        lpar(&["inspect", path(&blob), "--machine", path(&data_dir().join("qemu-powernv9-2chip.dtb"))]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("blob valid"));
    // Corrupted: refused, status 1.
    let mut bad = bytes.clone();
    bad[40] ^= 1;
    std::fs::write(&blob, &bad).expect("write");
    let output = lpar(&["inspect", path(&blob)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("refused: checksum mismatch"), "{}", text(&output));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_invalid_config_writes_nothing() {
    let dir = scratch("invalid");
    let config = dir.join("bad.toml");
    std::fs::write(&config, "[system]\nversion = 1\n[[lpar]]\nname = \"a\"\nid = 1\ncores = 9\n")
        .expect("write");
    let blob = dir.join("oxicfg.bin");
    let output = lpar(&["compile", path(&config), "-o", path(&blob)]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(!blob.exists());
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 1, "only the config is there");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_mistakes_give_status_2() {
    for args in [&[][..], &["frobnicate", "x"], &["compile", "x.toml"], &["check", "x.toml", "--machine"]] {
        let output = lpar(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(text(&output).contains("usage:"), "{args:?}");
    }
    let output = lpar(&["check", "/nonexistent/lpars.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("cannot read config /nonexistent/lpars.toml"));
}
