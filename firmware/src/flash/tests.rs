//! Flash tests on images built by the `oxiboot-pnor` crate, held in memory.

use super::*;
use oxiboot_pnor::{create_image, parse_layout, BootKernel};
use std::vec::Vec;

struct MemFlash(Vec<u8>);

impl FlashDevice for &mut MemFlash {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> bool {
        let Some(src) = self.0.get(offset as usize..offset as usize + buf.len()) else { return false };
        buf.copy_from_slice(src);
        true
    }
    fn write(&mut self, offset: u64, data: &[u8]) -> bool {
        let Some(dst) = self.0.get_mut(offset as usize..offset as usize + data.len()) else { return false };
        dst.copy_from_slice(data);
        true
    }
}

fn image(bootkernel_flags: &str) -> Vec<u8> {
    let text = std::format!(
        "flash-size 1M\nblock-size 4K\npartition BOOTKERNEL size=256K flags={bootkernel_flags} content=bk\npartition NVRAM size=64K flags=preserved\n"
    );
    let kernel: Vec<u8> = (0..70_000u32).map(|i| (i * 7) as u8).collect();
    let initramfs: Vec<u8> = (0..9_000u32).map(|i| (i * 13) as u8).collect();
    let bk = BootKernel::pack(&kernel, &initramfs).unwrap();
    let layout = parse_layout(&text, &mut |_| Ok(bk.clone())).unwrap();
    create_image(&layout).unwrap()
}

fn load(flash: &mut MemFlash) -> Result<(LoadedPayload, Vec<u8>, Vec<u8>), FlashError> {
    let mut pnor = Pnor::open(flash)?;
    let (mut scratch, mut staging) = (std::vec![0u8; 300_000], std::vec![0u8; 300_000]);
    let (mut k, mut i) = (std::vec![0u8; 100_000], std::vec![0u8; 10_000]);
    let loaded = pnor.load_bootkernel(&mut scratch, &mut staging, &mut k, &mut i)?;
    Ok((loaded, k, i))
}

#[test]
fn loads_bootkernel_with_and_without_ecc() {
    for flags in ["read-only", "ecc,read-only"] {
        let mut f = MemFlash(image(flags));
        let (loaded, k, i) = load(&mut f).unwrap();
        assert_eq!(
            (loaded.kernel_len, loaded.initramfs_len, loaded.corrected),
            (70_000, 9_000, 0),
            "{flags}"
        );
        assert!(k[..70_000].iter().enumerate().all(|(n, &b)| b == (n as u32 * 7) as u8));
        assert!(i[..9_000].iter().enumerate().all(|(n, &b)| b == (n as u32 * 13) as u8));
    }
}

#[test]
fn single_bit_errors_are_corrected_and_counted() {
    let mut f = MemFlash(image("ecc,read-only"));
    let base = Pnor::open(&mut f).unwrap().table().find("BOOTKERNEL").unwrap().1.base as usize;
    f.0[base + 100] ^= 0x10;
    f.0[base + 9 * 500 + 3] ^= 0x01;
    let (loaded, _, _) = load(&mut f).unwrap();
    assert_eq!(loaded.corrected, 2);
}

#[test]
fn corruption_is_named_and_nothing_is_loaded() {
    // Double-bit error in an ECC word.
    let mut f = MemFlash(image("ecc,read-only"));
    let base = Pnor::open(&mut f).unwrap().table().find("BOOTKERNEL").unwrap().1.base as usize;
    f.0[base + 90] ^= 0x03;
    let e = load(&mut f).unwrap_err();
    assert!(matches!(e, FlashError::Corrupt("BOOTKERNEL", PnorError::UncorrectableEcc { .. })), "{e}");
    assert!(e.to_string().contains("BOOTKERNEL"));
    // A flipped byte in the kernel of a plain partition: the container CRC catches it.
    let mut f = MemFlash(image("read-only"));
    let base = Pnor::open(&mut f).unwrap().table().find("BOOTKERNEL").unwrap().1.base as usize;
    f.0[base + 1000] ^= 0xff;
    assert!(matches!(load(&mut f).unwrap_err(), FlashError::Corrupt("BOOTKERNEL", _)));
    // A damaged table.
    let mut f = MemFlash(image("read-only"));
    f.0[20] ^= 1;
    assert!(matches!(Pnor::open(&mut f).err(), Some(FlashError::Table(_))));
    // An erased flash.
    let mut f = MemFlash(std::vec![0xff; 1 << 20]);
    assert!(matches!(Pnor::open(&mut f).err(), Some(FlashError::Table(PnorError::BadMagic { .. }))));
}

#[test]
fn nvram_round_trip_and_bounds() {
    let mut f = MemFlash(image("read-only"));
    let mut pnor = Pnor::open(&mut f).unwrap();
    assert_eq!(pnor.nvram_capacity(), Some(64 * 1024));
    pnor.write_nvram(100, b"oxiboot").unwrap();
    let mut buf = std::vec![0u8; 64 * 1024];
    assert_eq!(pnor.read_nvram(&mut buf).unwrap(), 64 * 1024);
    assert_eq!(&buf[100..107], b"oxiboot");
    assert!(matches!(pnor.write_nvram(64 * 1024 - 2, b"abc"), Err(FlashError::TooLarge("NVRAM", _))));
    assert!(matches!(pnor.write_nvram(u64::MAX, b"a"), Err(FlashError::TooLarge("NVRAM", _))));
}

#[test]
fn too_small_areas_are_refused() {
    let mut f = MemFlash(image("read-only"));
    let mut pnor = Pnor::open(&mut f).unwrap();
    let (mut s, mut st) = (std::vec![0u8; 300_000], std::vec![0u8; 300_000]);
    let (mut k, mut i) = (std::vec![0u8; 1_000], std::vec![0u8; 10_000]);
    assert!(matches!(
        pnor.load_bootkernel(&mut s, &mut st, &mut k, &mut i),
        Err(FlashError::TooLarge("BOOTKERNEL", 70_000))
    ));
    assert_eq!(pnor.read_content("NOPE", &mut s, &mut st).unwrap_err(), FlashError::Missing("NOPE"));
}

#[test]
fn an_oversized_table_is_refused_before_it_is_read() {
    // A well-formed header whose table claims 2 MiB of a 4 MiB flash: the firmware refuses
    // it rather than reading (and allocating) that much.
    let mut flash = image("read-only");
    flash.resize(4 << 20, 0xff);
    let word = |f: &[u8], i: usize| u32::from_be_bytes([f[4 * i], f[4 * i + 1], f[4 * i + 2], f[4 * i + 3]]);
    let table_blocks = (2 << 20) / word(&flash, 5);
    flash[8..12].copy_from_slice(&table_blocks.to_be_bytes());
    let checksum = (0..11).fold(0, |x, i| x ^ word(&flash, i));
    flash[44..48].copy_from_slice(&checksum.to_be_bytes());
    let mut f = MemFlash(flash);
    assert!(matches!(Pnor::open(&mut f), Err(FlashError::TooLarge("part", len)) if len == 2 << 20));
}
