//! Where an LPAR's boot images go in its memory: the kernel's loadable ELF segments at their
//! physical addresses (a Linux `vmlinux` links its one segment at real address 0), then the
//! initramfs, the device tree and the RTAS (Run-Time Abstraction Services) stub, each
//! aligned, all inside the first memory block where early boot code can reach them.

use core::fmt;

/// One loadable segment: copy `file_len` bytes from `file_offset` to guest real `address`,
/// zero the rest up to `memory_len` (the LPAR's memory is zeroed before loading anyway).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Guest real address.
    pub address: u64,
    /// Offset in the ELF file.
    pub file_offset: u64,
    /// Bytes taken from the file.
    pub file_len: u64,
    /// Bytes of memory the segment occupies.
    pub memory_len: u64,
}

/// The most loadable segments accepted.
pub const MAX_SEGMENTS: usize = 8;

/// A kernel ready to be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelImage {
    /// Loadable segments.
    pub segments: heapless_segments::Segments,
    /// Guest real address of the entry point.
    pub entry: u64,
    /// First byte after the highest segment.
    pub end: u64,
}

/// A fixed-capacity list of segments (no allocation needed to inspect a kernel).
pub mod heapless_segments {
    use super::{Segment, MAX_SEGMENTS};

    /// Up to [`MAX_SEGMENTS`] segments.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Segments {
        items: [Option<Segment>; MAX_SEGMENTS],
    }

    impl Segments {
        /// Adds one; false when full.
        pub fn push(&mut self, s: Segment) -> bool {
            match self.items.iter_mut().find(|i| i.is_none()) {
                Some(slot) => {
                    *slot = Some(s);
                    true
                }
                None => false,
            }
        }

        /// The segments in file order.
        pub fn iter(&self) -> impl Iterator<Item = &Segment> {
            self.items.iter().flatten()
        }
    }
}

/// Why a kernel cannot be booted in an LPAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutError {
    /// Not a 64-bit PowerPC ELF executable (what is wrong).
    NotAKernel(&'static str),
    /// A segment's bytes are not all in the file.
    SegmentOutsideFile(usize),
    /// More than [`MAX_SEGMENTS`] loadable segments.
    TooManySegments,
    /// The entry point is in no loadable segment.
    EntryOutsideSegments(u64),
    /// The images need more memory than the area they must fit in.
    DoesNotFit {
        /// Bytes needed (end of the last image).
        needed: u64,
        /// Bytes available.
        available: u64,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAKernel(why) => write!(f, "not a 64-bit PowerPC ELF kernel: {why}"),
            Self::SegmentOutsideFile(i) => write!(f, "ELF segment {i} extends beyond the file"),
            Self::TooManySegments => write!(f, "more than {MAX_SEGMENTS} loadable ELF segments"),
            Self::EntryOutsideSegments(e) => write!(f, "entry point {e:#x} is in no loadable segment"),
            Self::DoesNotFit { needed, available } => {
                write!(
                    f,
                    "kernel, initramfs and device tree need {needed:#x} bytes, only {available:#x} available"
                )
            }
        }
    }
}

fn field(b: &[u8], at: usize, len: usize, be: bool) -> Option<u64> {
    let bytes = b.get(at..at.checked_add(len)?)?;
    let mut v = 0u64;
    for i in 0..len {
        let byte = if be { bytes[i] } else { bytes[len - 1 - i] };
        v = (v << 8) | u64::from(byte);
    }
    Some(v)
}

/// Reads the loadable segments of a 64-bit PowerPC ELF executable (either byte order).
pub fn inspect_elf(file: &[u8]) -> Result<KernelImage, LayoutError> {
    const PT_LOAD: u64 = 1;
    const EM_PPC64: u64 = 21;
    let bad = LayoutError::NotAKernel;
    if file.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err(bad("no ELF magic"));
    }
    if file.get(4) != Some(&2) {
        return Err(bad("not 64-bit"));
    }
    let be = match file.get(5) {
        Some(1) => false,
        Some(2) => true,
        _ => return Err(bad("bad byte order")),
    };
    let get = |at, len| field(file, at, len, be).ok_or(bad("truncated header"));
    if get(18, 2)? != EM_PPC64 {
        return Err(bad("not for 64-bit PowerPC"));
    }
    if !matches!(get(16, 2)?, 2 | 3) {
        return Err(bad("not an executable"));
    }
    let entry = get(24, 8)?;
    let phoff = get(32, 8)?;
    let phentsize = get(54, 2)?;
    let phnum = get(56, 2)?;
    if phentsize < 56 || phnum == 0 {
        return Err(bad("no program headers"));
    }
    let mut image = KernelImage { segments: Default::default(), entry: 0, end: 0 };
    let mut entry_found = None;
    for i in 0..phnum {
        let at = phoff
            .checked_add(i * phentsize)
            .and_then(|a| usize::try_from(a).ok())
            .ok_or(bad("program headers outside the file"))?;
        let ph =
            |off: usize, len| field(file, at + off, len, be).ok_or(bad("program headers outside the file"));
        if ph(0, 4)? != PT_LOAD {
            continue;
        }
        let (offset, vaddr, paddr, filesz, memsz) =
            (ph(8, 8)?, ph(16, 8)?, ph(24, 8)?, ph(32, 8)?, ph(40, 8)?);
        let index = i as usize;
        let file_end = offset.checked_add(filesz).ok_or(LayoutError::SegmentOutsideFile(index))?;
        if file_end > file.len() as u64 || filesz > memsz {
            return Err(LayoutError::SegmentOutsideFile(index));
        }
        // Linux links at 0xc000_0000_0000_0000 with physical addresses from 0; a file whose
        // physical addresses are the virtual ones is placed by the low bits.
        let address = paddr & 0x0fff_ffff_ffff_ffff;
        let seg = Segment { address, file_offset: offset, file_len: filesz, memory_len: memsz };
        if !image.segments.push(seg) {
            return Err(LayoutError::TooManySegments);
        }
        let seg_end = address.checked_add(memsz).ok_or(LayoutError::SegmentOutsideFile(index))?;
        image.end = image.end.max(seg_end);
        if entry >= vaddr && entry - vaddr < memsz.max(1) {
            entry_found = Some(address + (entry - vaddr));
        }
    }
    image.entry = entry_found.ok_or(LayoutError::EntryOutsideSegments(entry))?;
    Ok(image)
}

/// Where each boot image goes (guest real addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Initramfs `(start, end)`, if any.
    pub initramfs: Option<(u64, u64)>,
    /// Device tree.
    pub fdt: u64,
    /// RTAS stub.
    pub rtas: u64,
    /// First byte after everything placed.
    pub end: u64,
}

/// Room left after the kernel's last byte before the next image: Linux allocates early
/// structures (the initial stack, paca array) right after its image.
pub const GAP_AFTER_KERNEL: u64 = 1 << 20;
/// Alignment of the initramfs.
pub const INITRAMFS_ALIGN: u64 = 1 << 16;
/// Alignment of the device tree and of the RTAS stub.
pub const SMALL_ALIGN: u64 = 1 << 12;

fn align_up(v: u64, to: u64) -> Option<u64> {
    v.checked_add(to - 1).map(|x| x & !(to - 1))
}

/// Places the initramfs, the device tree and the RTAS stub after a kernel ending at
/// `kernel_end`, everything below `limit`.
pub fn place(
    kernel_end: u64,
    initramfs_len: u64,
    fdt_len: u64,
    rtas_len: u64,
    limit: u64,
) -> Result<Placement, LayoutError> {
    let overflow = LayoutError::DoesNotFit { needed: u64::MAX, available: limit };
    let mut at = align_up(kernel_end.checked_add(GAP_AFTER_KERNEL).ok_or(overflow)?, INITRAMFS_ALIGN)
        .ok_or(overflow)?;
    let initramfs = if initramfs_len > 0 {
        let range = (at, at.checked_add(initramfs_len).ok_or(overflow)?);
        at = range.1;
        Some(range)
    } else {
        None
    };
    let fdt = align_up(at, SMALL_ALIGN).ok_or(overflow)?;
    let rtas = align_up(fdt.checked_add(fdt_len).ok_or(overflow)?, SMALL_ALIGN).ok_or(overflow)?;
    let end = rtas.checked_add(rtas_len).ok_or(overflow)?;
    if end > limit {
        return Err(LayoutError::DoesNotFit { needed: end, available: limit });
    }
    Ok(Placement { initramfs, fdt, rtas, end })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    /// A little-endian ELF like Debian's vmlinux: one PT_LOAD at file offset 0x10000, virtual
    /// 0xc000_0000_0000_0000, physical 0, plus a PT_NOTE.
    fn vmlinux_like(filesz: u64, memsz: u64) -> Vec<u8> {
        let mut f = vec![0u8; 0x10000 + filesz as usize];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[16..18].copy_from_slice(&2u16.to_le_bytes());
        f[18..20].copy_from_slice(&21u16.to_le_bytes());
        f[24..32].copy_from_slice(&0xc000_0000_0000_0000u64.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&2u16.to_le_bytes());
        let load = 64;
        f[load..load + 4].copy_from_slice(&1u32.to_le_bytes());
        f[load + 8..load + 16].copy_from_slice(&0x10000u64.to_le_bytes());
        f[load + 16..load + 24].copy_from_slice(&0xc000_0000_0000_0000u64.to_le_bytes());
        f[load + 32..load + 40].copy_from_slice(&filesz.to_le_bytes());
        f[load + 40..load + 48].copy_from_slice(&memsz.to_le_bytes());
        let note = 64 + 56;
        f[note..note + 4].copy_from_slice(&4u32.to_le_bytes());
        f
    }

    #[test]
    fn a_vmlinux_loads_at_zero_and_enters_there() {
        let k = inspect_elf(&vmlinux_like(0x3000, 0x5000)).unwrap();
        let segs: Vec<_> = k.segments.iter().copied().collect();
        assert_eq!(
            segs,
            [Segment { address: 0, file_offset: 0x10000, file_len: 0x3000, memory_len: 0x5000 }]
        );
        assert_eq!((k.entry, k.end), (0, 0x5000));
    }

    #[test]
    fn broken_files_are_named() {
        assert_eq!(inspect_elf(b"MZ\0\0"), Err(LayoutError::NotAKernel("no ELF magic")));
        let mut f = vmlinux_like(0x100, 0x100);
        f[18] = 62; // x86-64
        assert_eq!(inspect_elf(&f), Err(LayoutError::NotAKernel("not for 64-bit PowerPC")));
        let mut f = vmlinux_like(0x100, 0x100);
        f.truncate(0x10080);
        assert_eq!(inspect_elf(&f), Err(LayoutError::SegmentOutsideFile(0)));
        let mut f = vmlinux_like(0x100, 0x100);
        f[24..32].copy_from_slice(&0xd000_0000_0000_0000u64.to_le_bytes());
        assert_eq!(inspect_elf(&f), Err(LayoutError::EntryOutsideSegments(0xd000_0000_0000_0000)));
        let mut f = vmlinux_like(0x100, 0x100);
        f[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(inspect_elf(&f), Err(LayoutError::NotAKernel("program headers outside the file")));
    }

    #[test]
    fn images_follow_the_kernel_aligned() {
        // Debian 6.12's segment is 0x289f250 bytes of memory.
        let p = place(0x289_f250, 2_514_804, 0x1800, 0x1000, 256 << 20).unwrap();
        assert_eq!(p.initramfs, Some((0x29a_0000, 0x29a_0000 + 2_514_804)));
        assert_eq!(p.fdt, 0x2c0_6000);
        assert_eq!(p.rtas, 0x2c0_8000);
        assert_eq!(p.end, 0x2c0_9000);
        let none = place(0x1000, 0, 0x100, 0x100, 1 << 20).unwrap_err();
        assert!(matches!(none, LayoutError::DoesNotFit { .. }), "the gap alone is 1 MiB");
        assert_eq!(place(0, 0, 0x100, 0x100, 0x20_0000).unwrap().initramfs, None);
        assert!(place(u64::MAX - 5, 1, 1, 1, u64::MAX).is_err());
    }
}
