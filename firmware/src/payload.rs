//! The kernel payload: checking that what sits where the kernel was loaded is a 64-bit
//! PowerPC ELF executable, and where to enter it.
//!
//! Like skiboot, oxiboot runs the kernel where it was loaded (QEMU's `-kernel` lands at
//! 0x2000_0000): the entry point is found inside the file, and a Linux kernel copies itself
//! down to address 0 first thing. Every header field is checked against the loaded bytes.

use core::fmt;

/// What was found where a kernel should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernel {
    /// Offset of the entry point from the start of the file.
    pub entry_offset: u64,
    /// Whether the kernel is big-endian.
    pub big_endian: bool,
    /// Bytes of memory the loadable segments span (what the kernel occupies once it has
    /// moved itself to its link address).
    pub memory_size: u64,
    /// Bytes of the file the headers refer to.
    pub file_size: u64,
}

/// Why the bytes are not a kernel oxiboot will start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadError {
    /// Nothing was loaded (all zero).
    Absent,
    /// No ELF magic: something else was loaded.
    NotElf,
    /// An ELF file, but not 64-bit.
    Not64Bit,
    /// An ELF file with an unknown byte order.
    BadByteOrder,
    /// An ELF file for another architecture.
    NotPowerPc(u16),
    /// Neither an executable nor a position-independent executable.
    NotExecutable(u16),
    /// Program headers missing or outside the file.
    BadProgramHeaders,
    /// No loadable segment contains the entry point.
    EntryOutsideSegments(u64),
    /// A segment's file range runs beyond the loaded bytes.
    SegmentOutsideFile(usize),
    /// The kernel would not fit below the given limit once in place.
    TooLarge(u64),
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Absent => write!(f, "no kernel was loaded"),
            Self::NotElf => write!(f, "not an ELF file (bad magic)"),
            Self::Not64Bit => write!(f, "not a 64-bit ELF file"),
            Self::BadByteOrder => write!(f, "ELF file with an invalid byte order"),
            Self::NotPowerPc(m) => write!(f, "ELF file for machine {m}, not 64-bit PowerPC (21)"),
            Self::NotExecutable(t) => write!(f, "ELF file of type {t}, not an executable"),
            Self::BadProgramHeaders => write!(f, "ELF program headers are missing or outside the file"),
            Self::EntryOutsideSegments(e) => write!(f, "entry point {e:#x} is in no loadable segment"),
            Self::SegmentOutsideFile(i) => write!(f, "ELF segment {i} extends beyond the loaded file"),
            Self::TooLarge(n) => write!(f, "kernel needs {n} bytes of memory, more than available"),
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    be: bool,
}

impl Reader<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let s: [u8; 2] = self.b.get(at..at + 2)?.try_into().ok()?;
        Some(if self.be { u16::from_be_bytes(s) } else { u16::from_le_bytes(s) })
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let s: [u8; 4] = self.b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.be { u32::from_be_bytes(s) } else { u32::from_le_bytes(s) })
    }
    fn u64(&self, at: usize) -> Option<u64> {
        let s: [u8; 8] = self.b.get(at..at + 8)?.try_into().ok()?;
        Some(if self.be { u64::from_be_bytes(s) } else { u64::from_le_bytes(s) })
    }
}

/// Checks `image` (the loaded bytes; may extend past the file) and finds the entry point.
/// `max_memory` bounds the memory the kernel may occupy once it has moved itself.
pub fn inspect_kernel(image: &[u8], max_memory: u64) -> Result<Kernel, PayloadError> {
    const PT_LOAD: u32 = 1;
    const EM_PPC64: u16 = 21;
    let head = image.get(..64).ok_or(PayloadError::NotElf)?;
    if head.iter().all(|&b| b == 0) {
        return Err(PayloadError::Absent);
    }
    if &head[..4] != b"\x7fELF" {
        return Err(PayloadError::NotElf);
    }
    if head[4] != 2 {
        return Err(PayloadError::Not64Bit);
    }
    let be = match head[5] {
        1 => false,
        2 => true,
        _ => return Err(PayloadError::BadByteOrder),
    };
    let r = Reader { b: image, be };
    let bad = PayloadError::BadProgramHeaders;
    let e_type = r.u16(16).ok_or(bad)?;
    let machine = r.u16(18).ok_or(bad)?;
    if machine != EM_PPC64 {
        return Err(PayloadError::NotPowerPc(machine));
    }
    if e_type != 2 && e_type != 3 {
        return Err(PayloadError::NotExecutable(e_type));
    }
    let entry = r.u64(24).ok_or(bad)?;
    let phoff = usize::try_from(r.u64(32).ok_or(bad)?).map_err(|_| bad)?;
    let shoff = r.u64(40).ok_or(bad)?;
    let phentsize = r.u16(54).ok_or(bad)? as usize;
    let phnum = r.u16(56).ok_or(bad)? as usize;
    let shentsize = r.u16(58).ok_or(bad)? as u64;
    let shnum = r.u16(60).ok_or(bad)? as u64;
    if phnum == 0 || phentsize < 56 {
        return Err(bad);
    }
    let table_end = phoff.checked_add(phnum * phentsize).ok_or(bad)?;
    if table_end > image.len() {
        return Err(bad);
    }

    let mut entry_offset = None;
    let mut file_size = table_end as u64;
    let (mut lowest, mut highest) = (u64::MAX, 0u64);
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if r.u32(ph).ok_or(bad)? != PT_LOAD {
            continue;
        }
        let offset = r.u64(ph + 8).ok_or(bad)?;
        let vaddr = r.u64(ph + 16).ok_or(bad)?;
        let filesz = r.u64(ph + 32).ok_or(bad)?;
        let memsz = r.u64(ph + 40).ok_or(bad)?;
        let file_end = offset.checked_add(filesz).ok_or(PayloadError::SegmentOutsideFile(i))?;
        if file_end > image.len() as u64 || filesz > memsz {
            return Err(PayloadError::SegmentOutsideFile(i));
        }
        file_size = file_size.max(file_end);
        let mem_end = vaddr.checked_add(memsz).ok_or(PayloadError::SegmentOutsideFile(i))?;
        lowest = lowest.min(vaddr);
        highest = highest.max(mem_end);
        if (vaddr..vaddr.saturating_add(filesz)).contains(&entry) {
            entry_offset = Some(offset + (entry - vaddr));
        }
    }
    let entry_offset = entry_offset.ok_or(PayloadError::EntryOutsideSegments(entry))?;
    if shnum > 0 {
        let sh_end = shoff.saturating_add(shnum.saturating_mul(shentsize));
        if sh_end <= image.len() as u64 {
            file_size = file_size.max(sh_end);
        }
    }
    let memory_size = highest.saturating_sub(lowest);
    if memory_size > max_memory {
        return Err(PayloadError::TooLarge(memory_size));
    }
    Ok(Kernel { entry_offset, big_endian: be, memory_size, file_size })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// A minimal vmlinux-like ELF: one PT_LOAD at 0xc000_0000_0000_0000, file offset 0x10000.
    fn elf(be: bool) -> Vec<u8> {
        let mut e = std::vec![0u8; 0x10100];
        let w16 = |e: &mut Vec<u8>, at: usize, v: u16| {
            e[at..at + 2].copy_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() })
        };
        let w32 = |e: &mut Vec<u8>, at: usize, v: u32| {
            e[at..at + 4].copy_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() })
        };
        let w64 = |e: &mut Vec<u8>, at: usize, v: u64| {
            e[at..at + 8].copy_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() })
        };
        e[..4].copy_from_slice(b"\x7fELF");
        e[4] = 2;
        e[5] = if be { 2 } else { 1 };
        w16(&mut e, 16, 2);
        w16(&mut e, 18, 21);
        w64(&mut e, 24, 0xc000_0000_0000_0000);
        w64(&mut e, 32, 64);
        w16(&mut e, 54, 56);
        w16(&mut e, 56, 1);
        w32(&mut e, 64, 1);
        w64(&mut e, 64 + 8, 0x10000);
        w64(&mut e, 64 + 16, 0xc000_0000_0000_0000);
        w64(&mut e, 64 + 32, 0x100);
        w64(&mut e, 64 + 40, 0x200_0000);
        e
    }

    #[test]
    fn finds_the_entry_in_both_byte_orders() {
        for be in [false, true] {
            let k = inspect_kernel(&elf(be), 0x3000_0000).unwrap();
            assert_eq!(k.entry_offset, 0x10000);
            assert_eq!(k.big_endian, be);
            assert_eq!(k.memory_size, 0x200_0000);
            assert_eq!(k.file_size, 0x10100);
        }
    }

    #[test]
    fn garbage_gets_a_named_refusal() {
        assert_eq!(inspect_kernel(&[0u8; 4096], u64::MAX), Err(PayloadError::Absent));
        assert_eq!(
            inspect_kernel(
                b"#!/bin/sh\necho not a kernel\n........................................................",
                u64::MAX
            ),
            Err(PayloadError::NotElf)
        );
        let mut e = elf(false);
        e[4] = 1;
        assert_eq!(inspect_kernel(&e, u64::MAX), Err(PayloadError::Not64Bit));
        let mut e = elf(false);
        e[18] = 62; // x86-64
        assert_eq!(inspect_kernel(&e, u64::MAX), Err(PayloadError::NotPowerPc(62)));
        let mut e = elf(false);
        e[16] = 1; // relocatable object
        assert_eq!(inspect_kernel(&e, u64::MAX), Err(PayloadError::NotExecutable(1)));
        let mut e = elf(false);
        e[24..32].copy_from_slice(&0x1234u64.to_le_bytes());
        assert_eq!(inspect_kernel(&e, u64::MAX), Err(PayloadError::EntryOutsideSegments(0x1234)));
        let e = elf(false);
        assert_eq!(inspect_kernel(&e[..0x10080], u64::MAX), Err(PayloadError::SegmentOutsideFile(0)));
        assert_eq!(inspect_kernel(&e, 0x100_0000), Err(PayloadError::TooLarge(0x200_0000)));
        let mut e = elf(false);
        e[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(inspect_kernel(&e, u64::MAX), Err(PayloadError::BadProgramHeaders));
    }

    #[test]
    fn no_truncation_panics() {
        let e = elf(true);
        for n in (0..e.len()).step_by(97) {
            assert!(inspect_kernel(&e[..n], u64::MAX).is_err());
        }
    }
}
