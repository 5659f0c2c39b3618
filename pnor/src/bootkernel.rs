//! The BOOTKERNEL container: how oxiboot stores the host payload's kernel and initramfs in one
//! partition. A 64-byte big-endian header (magic "OXBK", version, where each blob is, a CRC-32
//! of each blob and of the header) followed by the kernel, then the initramfs at the next
//! 8-byte boundary. The layout is documented in `docs/flash.md`.

use crate::error::Error;
use crate::wire::{read_be_words, write_be_words};
use alloc::vec::Vec;

/// Container magic, ASCII "OXBK".
pub const BOOTKERNEL_MAGIC: u32 = 0x4F58_424B;
/// The container version this code reads and writes.
pub const BOOTKERNEL_VERSION: u32 = 1;
/// Header length for version 1.
pub const BOOTKERNEL_HEADER_LEN: usize = 64;
/// Blobs start on multiples of this.
pub const BOOTKERNEL_ALIGN: usize = 8;

const HEADER_WORDS: usize = BOOTKERNEL_HEADER_LEN / 4;

/// Word positions in the header.
mod word {
    pub const MAGIC: usize = 0;
    pub const VERSION: usize = 1;
    pub const HEADER_LEN: usize = 2;
    pub const KERNEL_OFFSET: usize = 3;
    pub const KERNEL_LEN: usize = 4;
    pub const KERNEL_CRC: usize = 5;
    pub const INITRAMFS_OFFSET: usize = 6;
    pub const INITRAMFS_LEN: usize = 7;
    pub const INITRAMFS_CRC: usize = 8;
    // Words 9..=14 are reserved, written as zero.
    pub const HEADER_CRC: usize = 15;
}

/// Where one blob is in the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobLocation {
    /// Offset from the start of the container.
    pub offset: u32,
    /// Length in bytes (0 for an absent initramfs).
    pub len: u32,
    /// CRC-32 of the blob.
    pub crc: u32,
}

impl BlobLocation {
    fn end(&self) -> u64 {
        u64::from(self.offset) + u64::from(self.len)
    }
}

/// A checked BOOTKERNEL header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootKernelHeader {
    /// The kernel.
    pub kernel: BlobLocation,
    /// The initramfs (length 0 if there is none).
    pub initramfs: BlobLocation,
}

impl BootKernelHeader {
    /// Reads and checks the header at the start of `bytes` for a container of `container_len`
    /// bytes: magic, version, header length and CRC, and that both blobs lie inside the
    /// container after the header without overlapping. Blob CRCs are checked by
    /// [`BootKernel::parse`] (or by the caller with [`crc32`] once it has read the blobs).
    pub fn parse(bytes: &[u8], container_len: u64) -> Result<Self, Error> {
        let words: [u32; HEADER_WORDS] = read_be_words(bytes).ok_or(Error::Truncated {
            what: "BOOTKERNEL header",
            needed: BOOTKERNEL_HEADER_LEN as u64,
            available: bytes.len() as u64,
        })?;
        let get = |index: usize| words.get(index).copied().unwrap_or_default();
        if get(word::MAGIC) != BOOTKERNEL_MAGIC {
            return Err(Error::BootKernelBadMagic { found: get(word::MAGIC) });
        }
        if get(word::VERSION) != BOOTKERNEL_VERSION {
            return Err(Error::BootKernelUnsupportedVersion { found: get(word::VERSION) });
        }
        if get(word::HEADER_LEN) != BOOTKERNEL_HEADER_LEN as u32 {
            return Err(Error::BootKernelBadHeaderLength { found: get(word::HEADER_LEN) });
        }
        let computed = crc32(bytes.get(..word::HEADER_CRC * 4).unwrap_or_default());
        if computed != get(word::HEADER_CRC) {
            return Err(Error::BootKernelHeaderCrc { stored: get(word::HEADER_CRC), computed });
        }
        let blob = |offset, len, crc| BlobLocation { offset: get(offset), len: get(len), crc: get(crc) };
        let header = BootKernelHeader {
            kernel: blob(word::KERNEL_OFFSET, word::KERNEL_LEN, word::KERNEL_CRC),
            initramfs: blob(word::INITRAMFS_OFFSET, word::INITRAMFS_LEN, word::INITRAMFS_CRC),
        };
        if header.kernel.len == 0 {
            return Err(Error::BootKernelNoKernel);
        }
        let header_end = BOOTKERNEL_HEADER_LEN as u64;
        let out_of_range = |name: &'static str, blob: BlobLocation| Error::BootKernelBlobOutOfRange {
            blob: name,
            offset: blob.offset,
            len: blob.len,
            container_len,
        };
        if u64::from(header.kernel.offset) < header_end || header.kernel.end() > container_len {
            return Err(out_of_range("kernel", header.kernel));
        }
        let initramfs = header.initramfs;
        if initramfs.len > 0
            && (u64::from(initramfs.offset) < header_end
                || initramfs.end() > container_len
                || (u64::from(initramfs.offset) < header.kernel.end()
                    && u64::from(header.kernel.offset) < initramfs.end()))
        {
            return Err(out_of_range("initramfs", initramfs));
        }
        Ok(header)
    }

    /// Length of the container: the end of the last blob.
    pub fn container_len(&self) -> u64 {
        self.kernel.end().max(self.initramfs.end())
    }
}

/// A checked BOOTKERNEL container, borrowing its blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootKernel<'a> {
    /// The header.
    pub header: BootKernelHeader,
    /// The kernel image.
    pub kernel: &'a [u8],
    /// The initramfs (empty if there is none).
    pub initramfs: &'a [u8],
}

impl<'a> BootKernel<'a> {
    /// Reads and checks a whole container (trailing bytes after the blobs are ignored, so the
    /// whole partition content can be passed), blob CRCs included.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let header = BootKernelHeader::parse(bytes, bytes.len() as u64)?;
        let blob = |name: &'static str, location: BlobLocation| -> Result<&'a [u8], Error> {
            let start = location.offset as usize;
            let data = bytes.get(start..start.saturating_add(location.len as usize)).ok_or(
                Error::BootKernelBlobOutOfRange {
                    blob: name,
                    offset: location.offset,
                    len: location.len,
                    container_len: bytes.len() as u64,
                },
            )?;
            let computed = crc32(data);
            if computed != location.crc {
                return Err(Error::BootKernelBlobCrc { blob: name, stored: location.crc, computed });
            }
            Ok(data)
        };
        Ok(BootKernel {
            header,
            kernel: blob("kernel", header.kernel)?,
            initramfs: blob("initramfs", header.initramfs)?,
        })
    }

    /// Builds a container from a kernel and an initramfs (which may be empty).
    pub fn pack(kernel: &[u8], initramfs: &[u8]) -> Result<Vec<u8>, Error> {
        if kernel.is_empty() {
            return Err(Error::BootKernelNoKernel);
        }
        let too_large =
            |blob: &'static str, len: usize| Error::BootKernelBlobTooLarge { blob, len: len as u64 };
        let kernel_offset = BOOTKERNEL_HEADER_LEN;
        let initramfs_offset = (kernel_offset + kernel.len()).next_multiple_of(BOOTKERNEL_ALIGN);
        let total = initramfs_offset + initramfs.len();
        let as_u32 = |value: usize, blob| u32::try_from(value).map_err(|_| too_large(blob, value));
        let mut words = [0u32; HEADER_WORDS];
        words[word::MAGIC] = BOOTKERNEL_MAGIC;
        words[word::VERSION] = BOOTKERNEL_VERSION;
        words[word::HEADER_LEN] = BOOTKERNEL_HEADER_LEN as u32;
        words[word::KERNEL_OFFSET] = kernel_offset as u32;
        words[word::KERNEL_LEN] = as_u32(kernel.len(), "kernel")?;
        words[word::KERNEL_CRC] = crc32(kernel);
        if !initramfs.is_empty() {
            words[word::INITRAMFS_OFFSET] = as_u32(initramfs_offset, "initramfs")?;
            words[word::INITRAMFS_LEN] = as_u32(initramfs.len(), "initramfs")?;
            words[word::INITRAMFS_CRC] = crc32(initramfs);
        }
        as_u32(total, "initramfs")?;
        let mut out =
            alloc::vec![0u8; if initramfs.is_empty() { kernel_offset + kernel.len() } else { total }];
        let header = out.get_mut(..BOOTKERNEL_HEADER_LEN).unwrap_or_default();
        let _ = write_be_words(&words, header);
        let header_crc = crc32(header.get(..word::HEADER_CRC * 4).unwrap_or_default());
        header.get_mut(word::HEADER_CRC * 4..).unwrap_or_default().copy_from_slice(&header_crc.to_be_bytes());
        if let Some(out) = out.get_mut(kernel_offset..kernel_offset + kernel.len()) {
            out.copy_from_slice(kernel);
        }
        if let Some(out) = out.get_mut(initramfs_offset..total) {
            out.copy_from_slice(initramfs);
        }
        Ok(out)
    }
}

/// CRC-32 as zlib, PNG and Ethernet compute it (reflected polynomial 0xEDB88320, initial value
/// and final XOR 0xFFFFFFFF).
pub fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut index = 0;
        while index < 256 {
            let mut crc = index as u32;
            let mut bit = 0;
            while bit < 8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
                bit += 1;
            }
            table[index] = crc;
            index += 1;
        }
        table
    };
    !bytes.iter().fold(!0u32, |crc, byte| {
        TABLE.get(usize::from((crc as u8) ^ byte)).copied().unwrap_or_default() ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn pack_then_parse() {
        let container = BootKernel::pack(b"kernel!", b"initramfs").unwrap_or_default();
        assert_eq!(container.len(), 64 + 8 + 9);
        assert_eq!(&container[..4], b"OXBK");
        let parsed = BootKernel::parse(&container);
        assert_eq!(
            parsed.as_ref().map(|b| (b.kernel, b.initramfs)),
            Ok((&b"kernel!"[..], &b"initramfs"[..]))
        );
        assert_eq!(parsed.as_ref().map(|b| b.header.initramfs.offset), Ok(72));
        assert_eq!(parsed.map(|b| b.header.container_len()), Ok(81));
    }

    #[test]
    fn initramfs_is_optional_and_padding_is_ignored() {
        let mut container = BootKernel::pack(b"vmlinux", b"").unwrap_or_default();
        assert_eq!(container.len(), 71);
        container.extend_from_slice(&[0xFF; 100]);
        let parsed = BootKernel::parse(&container);
        assert_eq!(parsed.map(|b| (b.kernel, b.initramfs.len())), Ok((&b"vmlinux"[..], 0)));
    }

    #[test]
    fn corruption_is_named() {
        let good = BootKernel::pack(b"kernel", b"initrd").unwrap_or_default();
        let mut bad = good.clone();
        bad[0] = b'X';
        assert!(matches!(BootKernel::parse(&bad), Err(Error::BootKernelBadMagic { .. })));
        let mut bad = good.clone();
        bad[7] = 2;
        assert_eq!(BootKernel::parse(&bad), Err(Error::BootKernelUnsupportedVersion { found: 2 }));
        let mut bad = good.clone();
        bad[40] = 1;
        assert!(matches!(BootKernel::parse(&bad), Err(Error::BootKernelHeaderCrc { .. })));
        let mut bad = good.clone();
        bad[64] ^= 1;
        assert!(matches!(BootKernel::parse(&bad), Err(Error::BootKernelBlobCrc { blob: "kernel", .. })));
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(BootKernel::parse(&bad), Err(Error::BootKernelBlobCrc { blob: "initramfs", .. })));
        assert!(matches!(
            BootKernel::parse(&good[..good.len() - 1]),
            Err(Error::BootKernelBlobOutOfRange { blob: "initramfs", .. })
        ));
        assert!(matches!(BootKernel::parse(&good[..10]), Err(Error::Truncated { .. })));
        assert_eq!(BootKernel::pack(b"", b"x"), Err(Error::BootKernelNoKernel));
    }
}
