//! Interoperability with OpenPOWER's libflash, through `fixtures/pflash.pnor` (an image whose
//! partitions `pflash` programmed, see `fixtures/README.md`) and, when `pflash` is installed,
//! by running it on images we make (`--ignored`).

use oxiboot_pnor::image::WritePolicy;
use oxiboot_pnor::{create_image, extract, parse_layout, replace, verify, Flag, Table, UserFlags};
use std::path::PathBuf;
use std::process::Command;

const FIXTURE: &[u8] = include_bytes!("fixtures/pflash.pnor");
const FIXTURE_LAYOUT: &str = include_str!("fixtures/pflash-layout.txt");

/// What pflash programmed into OXICFG (with ECC): 1792 of the file's 2016 bytes.
fn oxicfg_data() -> Vec<u8> {
    (0..1792u32).map(|i| (7 * i + 3) as u8).collect()
}

/// What pflash programmed into NVRAM.
fn nvram_data() -> Vec<u8> {
    (0..1000u32).map(|i| (13 * i + 5) as u8).collect()
}

#[test]
fn entries_rewritten_by_libffs_parse() {
    let table = Table::from_image(FIXTURE).unwrap();
    let summary: Vec<(&str, u64, u64, u32)> =
        table.partitions().iter().map(|p| (p.name.as_str(), p.base, p.size, p.actual)).collect();
    assert_eq!(
        summary,
        [
            ("part", 0, 0x1000, 0x1000),
            ("NVRAM", 0x1000, 0x1000, 1000),
            ("OXICFG", 0x2000, 0x2000, 1792),
            ("BOOTKERNEL", 0x4000, 0x3000, 0),
            ("SPARE", 0x7000, 0x1000, 0),
        ]
    );
    let oxicfg = table.find("OXICFG").unwrap().1;
    assert_eq!(oxicfg.user, UserFlags::from_flags(&[Flag::Ecc, Flag::Preserved]));
}

#[test]
fn data_ecc_encoded_by_libflash_decodes_cleanly() {
    let oxicfg = extract(FIXTURE, "OXICFG").unwrap();
    assert_eq!(oxicfg.data, oxicfg_data());
    assert!(oxicfg.corrections.is_empty(), "{:?}", oxicfg.corrections);
    assert_eq!(extract(FIXTURE, "NVRAM").unwrap().data, nvram_data());
    let (_, reports) = verify(FIXTURE).unwrap();
    assert!(reports.iter().all(|report| report.is_clean()), "{reports:?}");
}

#[test]
fn our_replace_writes_the_same_bytes_as_pflash() {
    let layout = parse_layout(FIXTURE_LAYOUT, &mut |path| Err(format!("no file {path}"))).unwrap();
    let mut image = create_image(&layout).unwrap();
    replace(&mut image, "OXICFG", &oxicfg_data(), WritePolicy::RespectReadOnly).unwrap();
    replace(&mut image, "NVRAM", &nvram_data(), WritePolicy::RespectReadOnly).unwrap();
    let first_difference = image.iter().zip(FIXTURE).position(|(ours, theirs)| ours != theirs);
    assert_eq!(first_difference, None);
    assert_eq!(image.len(), FIXTURE.len());
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("oxiboot-pnor-{}-{name}", std::process::id()))
}

fn pflash(args: &[&str]) -> String {
    let output =
        Command::new("pflash").args(args).output().expect("pflash runs (apt-get install opal-utils)");
    assert!(output.status.success(), "pflash {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
#[ignore = "needs OpenPOWER's pflash (Debian package opal-utils)"]
fn pflash_reads_our_images() {
    let text = "flash-size 64K\nblock-size 4K\n\
                partition FIRST size=8K flags=ecc,preserved content=first\n\
                partition SECOND size=4K flags=read-only content=second\n";
    let first: Vec<u8> = (0..4000u32).map(|i| (i * 5) as u8).collect();
    let second = b"second partition".to_vec();
    let layout =
        parse_layout(text, &mut |path| Ok(if path == "first" { first.clone() } else { second.clone() }))
            .unwrap();
    let image_path = temp_path("image.pnor");
    std::fs::write(&image_path, create_image(&layout).unwrap()).unwrap();
    let image = image_path.to_str().unwrap();

    let info = pflash(&["-F", image, "--info"]);
    assert!(info.contains("part 0x00000000..0x00001000 (actual=0x00001000) [----------]"), "{info}");
    assert!(info.contains("FIRST 0x00001000..0x00003000 (actual=0x00000fa0) [E--P------]"), "{info}");
    assert!(info.contains("SECOND 0x00003000..0x00004000 (actual=0x00000010) [----R-----]"), "{info}");

    // pflash reads `actual` * 8 / 9 bytes of an ECC partition through its ECC decoder (it treats
    // `actual` as a raw length there, though it writes the data length when programming).
    let read_path = temp_path("first.bin");
    pflash(&["-F", image, "-P", "FIRST", "-r", read_path.to_str().unwrap(), "--ecc"]);
    let read = std::fs::read(&read_path).unwrap();
    assert_eq!(read.len(), 4000 * 8 / 9);
    assert_eq!(read, first[..read.len()]);

    pflash(&["-F", image, "-P", "SECOND", "-r", read_path.to_str().unwrap()]);
    assert_eq!(std::fs::read(&read_path).unwrap(), second);
    let _ = std::fs::remove_file(&image_path);
    let _ = std::fs::remove_file(&read_path);
}
