//! Turns the linked firmware ELF into the raw image QEMU's `-bios` (and a PNOR partition)
//! takes: the bytes of every loadable segment at its offset from the lowest one.

use std::fmt;

/// Why an ELF file cannot become an image.
#[derive(Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Not a 64-bit little-endian ELF file for PowerPC64.
    NotPpc64leElf,
    /// A header or segment lies outside the file.
    Truncated,
    /// No loadable segment with file contents.
    Empty,
    /// The image would exceed the given limit.
    TooLarge { size: u64, limit: u64 },
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPpc64leElf => write!(f, "not a 64-bit little-endian PowerPC ELF file"),
            Self::Truncated => write!(f, "ELF header or segment beyond the end of the file"),
            Self::Empty => write!(f, "no loadable segment"),
            Self::TooLarge { size, limit } => write!(f, "image is {size} bytes, more than {limit}"),
        }
    }
}

fn u16_at(b: &[u8], o: usize) -> Result<u16, ImageError> {
    Ok(u16::from_le_bytes(b.get(o..o + 2).ok_or(ImageError::Truncated)?.try_into().unwrap()))
}
fn u32_at(b: &[u8], o: usize) -> Result<u32, ImageError> {
    Ok(u32::from_le_bytes(b.get(o..o + 4).ok_or(ImageError::Truncated)?.try_into().unwrap()))
}
fn u64_at(b: &[u8], o: usize) -> Result<u64, ImageError> {
    Ok(u64::from_le_bytes(b.get(o..o + 8).ok_or(ImageError::Truncated)?.try_into().unwrap()))
}

/// A loadable segment: where it goes and what it holds.
struct Segment {
    paddr: u64,
    offset: u64,
    filesz: u64,
}

/// The raw image and the physical address its first byte belongs at.
pub struct RawImage {
    pub base: u64,
    pub bytes: Vec<u8>,
}

/// Builds the raw image from an ELF64 little-endian PowerPC executable.
pub fn elf_to_raw(elf: &[u8], limit: u64) -> Result<RawImage, ImageError> {
    const EM_PPC64: u16 = 21;
    const PT_LOAD: u32 = 1;
    if elf.get(..4) != Some(b"\x7fELF") || elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        return Err(ImageError::NotPpc64leElf);
    }
    if u16_at(elf, 18)? != EM_PPC64 {
        return Err(ImageError::NotPpc64leElf);
    }
    let phoff = u64_at(elf, 32)? as usize;
    let phentsize = u16_at(elf, 54)? as usize;
    let phnum = u16_at(elf, 56)? as usize;
    let mut segments = Vec::new();
    for i in 0..phnum {
        let ph = phoff.checked_add(i * phentsize).ok_or(ImageError::Truncated)?;
        if u32_at(elf, ph)? != PT_LOAD {
            continue;
        }
        let seg = Segment {
            offset: u64_at(elf, ph + 8)?,
            paddr: u64_at(elf, ph + 24)?,
            filesz: u64_at(elf, ph + 32)?,
        };
        if seg.filesz > 0 {
            segments.push(seg);
        }
    }
    let base = segments.iter().map(|s| s.paddr).min().ok_or(ImageError::Empty)?;
    let end = segments.iter().map(|s| s.paddr + s.filesz).max().ok_or(ImageError::Empty)?;
    let size = end - base;
    if size > limit {
        return Err(ImageError::TooLarge { size, limit });
    }
    let mut bytes = vec![0u8; size as usize];
    for s in &segments {
        let src = elf.get(s.offset as usize..(s.offset + s.filesz) as usize).ok_or(ImageError::Truncated)?;
        let at = (s.paddr - base) as usize;
        bytes[at..at + src.len()].copy_from_slice(src);
    }
    Ok(RawImage { base, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF with two PT_LOAD segments (one with a gap before it).
    fn elf() -> Vec<u8> {
        let mut e = vec![0u8; 0x200];
        e[..4].copy_from_slice(b"\x7fELF");
        e[4] = 2;
        e[5] = 1;
        e[18..20].copy_from_slice(&21u16.to_le_bytes());
        e[32..40].copy_from_slice(&64u64.to_le_bytes());
        e[54..56].copy_from_slice(&56u16.to_le_bytes());
        e[56..58].copy_from_slice(&2u16.to_le_bytes());
        for (i, (off, paddr, sz)) in
            [(0x100u64, 0x3000_0000u64, 4u64), (0x180, 0x3000_0010, 2)].iter().enumerate()
        {
            let ph = 64 + i * 56;
            e[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes());
            e[ph + 8..ph + 16].copy_from_slice(&off.to_le_bytes());
            e[ph + 24..ph + 32].copy_from_slice(&paddr.to_le_bytes());
            e[ph + 32..ph + 40].copy_from_slice(&sz.to_le_bytes());
        }
        e[0x100..0x104].copy_from_slice(&[1, 2, 3, 4]);
        e[0x180..0x182].copy_from_slice(&[9, 9]);
        e
    }

    #[test]
    fn segments_land_at_their_offsets() {
        let img = elf_to_raw(&elf(), 1 << 20).unwrap();
        assert_eq!(img.base, 0x3000_0000);
        assert_eq!(img.bytes.len(), 0x12);
        assert_eq!(&img.bytes[..4], &[1, 2, 3, 4]);
        assert_eq!(&img.bytes[4..0x10], &[0; 12]);
        assert_eq!(&img.bytes[0x10..], &[9, 9]);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(elf_to_raw(b"nope", 100).err(), Some(ImageError::NotPpc64leElf));
        assert_eq!(elf_to_raw(&elf()[..0x120], 1 << 20).err(), Some(ImageError::Truncated));
        assert_eq!(elf_to_raw(&elf(), 8).err(), Some(ImageError::TooLarge { size: 0x12, limit: 8 }));
        let mut big_endian = elf();
        big_endian[5] = 2;
        assert_eq!(elf_to_raw(&big_endian, 100).err(), Some(ImageError::NotPpc64leElf));
    }
}
