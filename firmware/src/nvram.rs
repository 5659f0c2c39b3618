//! NVRAM as the OS expects it: a chain of CHRP partitions, each a 16-byte header (signature,
//! header checksum, length in 16-byte blocks, 12-byte name) and its data. The firmware
//! formats a blank or damaged NVRAM so that Linux finds its `common` partition and free space
//! to carve its own partitions (e.g. `lnx,oops-log`) from.

/// Bytes of a partition header, and the unit of partition lengths.
pub const BLOCK: usize = 16;
/// Signature of a firmware-private partition.
pub const SIG_FIRMWARE: u8 = 0x51;
/// Signature of the OS's `common` key=value partition.
pub const SIG_SYSTEM: u8 = 0x70;
/// Signature of free space.
pub const SIG_FREE: u8 = 0x7f;

/// The header checksum: the 8-bit ones'-complement sum of the signature, both length bytes
/// and the name bytes. (Linux computes the same value by summing 16-bit words and folding,
/// whatever its byte order.)
pub fn header_checksum(sig: u8, len_blocks: u16, name: &[u8; 12]) -> u8 {
    let bytes = [sig].into_iter().chain(len_blocks.to_be_bytes()).chain(name.iter().copied());
    let mut sum: u32 = 0;
    for b in bytes {
        sum += b as u32;
        sum = (sum & 0xff) + (sum >> 8);
    }
    sum as u8
}

/// A partition header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Signature (kind).
    pub sig: u8,
    /// Length in 16-byte blocks, header included.
    pub len_blocks: u16,
    /// Name, NUL-padded.
    pub name: [u8; 12],
}

impl Header {
    fn parse(b: &[u8]) -> Option<Self> {
        let b: &[u8; BLOCK] = b.get(..BLOCK)?.try_into().ok()?;
        let h = Header {
            sig: b[0],
            len_blocks: u16::from_be_bytes([b[2], b[3]]),
            name: b[4..16].try_into().ok()?,
        };
        (h.len_blocks > 0 && b[1] == header_checksum(h.sig, h.len_blocks, &h.name)).then_some(h)
    }

    fn write(&self, out: &mut [u8]) {
        out[0] = self.sig;
        out[1] = header_checksum(self.sig, self.len_blocks, &self.name);
        out[2..4].copy_from_slice(&self.len_blocks.to_be_bytes());
        out[4..16].copy_from_slice(&self.name);
    }
}

fn name(s: &str) -> [u8; 12] {
    let mut n = [0u8; 12];
    let b = s.as_bytes();
    n[..b.len().min(12)].copy_from_slice(&b[..b.len().min(12)]);
    n
}

/// Whether `nvram` is a valid chain of partitions covering it exactly.
pub fn is_valid(nvram: &[u8]) -> bool {
    let mut at = 0usize;
    while at < nvram.len() {
        let Some(h) = nvram.get(at..).and_then(Header::parse) else { return false };
        at += h.len_blocks as usize * BLOCK;
    }
    at == nvram.len() && !nvram.is_empty()
}

/// The partitions, in order (empty if the chain is invalid).
pub fn partitions(nvram: &[u8]) -> alloc::vec::Vec<(usize, Header)> {
    let mut out = alloc::vec::Vec::new();
    let mut at = 0usize;
    while let Some(h) = nvram.get(at..).and_then(Header::parse) {
        out.push((at, h));
        at += h.len_blocks as usize * BLOCK;
    }
    out
}

/// Formats `nvram` (a multiple of 16 bytes, at least 16 KiB): a 4 KiB firmware partition,
/// `common` (a quarter of the rest, at most 64 KiB), and free space. Returns false (and
/// leaves it alone) if it is too small or misaligned.
pub fn format(nvram: &mut [u8]) -> bool {
    let len = nvram.len();
    if len < 16 * 1024 || !len.is_multiple_of(BLOCK) || len / BLOCK > u16::MAX as usize {
        return false;
    }
    let firmware = 4096;
    let common = ((len - firmware) / 4).min(64 * 1024) / BLOCK * BLOCK;
    let free = len - firmware - common;
    nvram.fill(0);
    let parts = [
        (SIG_FIRMWARE, "ibm,oxiboot", firmware),
        (SIG_SYSTEM, "common", common),
        (SIG_FREE, "wwwwwwwwwwww", free),
    ];
    let mut at = 0;
    for (sig, n, size) in parts {
        Header { sig, len_blocks: (size / BLOCK) as u16, name: name(n) }.write(&mut nvram[at..at + BLOCK]);
        at += size;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Linux's formula (arch/powerpc/kernel/nvram_64.c) on a little-endian host: the length
    /// as a value, the name as native 16-bit words, folded twice.
    fn linux_style(sig: u8, len: u16, name: &[u8; 12]) -> u8 {
        let mut c: u32 = sig as u32 + len as u32;
        for w in name.chunks_exact(2) {
            c += u16::from_le_bytes([w[0], w[1]]) as u32;
        }
        c = ((c & 0xffff) + (c >> 16)) & 0xffff;
        let c2 = (c >> 8) + (c << 8);
        (((c + c2) >> 8) & 0xff) as u8
    }

    #[test]
    fn checksum_matches_linux_in_either_byte_order() {
        for (sig, len, n) in [
            (0x70u8, 4096u16, "common"),
            (0x51, 256, "ibm,skiboot"),
            (0x7f, 0xffff, "wwwwwwwwwwww"),
            (0xa0, 251, "lnx,oops-log"),
        ] {
            let nm = name(n);
            assert_eq!(header_checksum(sig, len, &nm), linux_style(sig, len, &nm), "{n}");
        }
    }

    #[test]
    fn format_then_validate() {
        let mut nv = std::vec![0xffu8; 576 * 1024];
        assert!(!is_valid(&nv));
        assert!(format(&mut nv));
        assert!(is_valid(&nv));
        let parts = partitions(&nv);
        assert_eq!(parts.len(), 3);
        assert_eq!((parts[1].0, parts[1].1.sig, &parts[1].1.name[..6]), (4096, SIG_SYSTEM, &b"common"[..]));
        assert_eq!(parts[1].1.len_blocks as usize * BLOCK, 64 * 1024);
        // Damage a header: the chain is invalid.
        nv[4096 + 5] ^= 1;
        assert!(!is_valid(&nv));
        // Too small or misaligned areas are not formatted.
        assert!(!format(&mut [0u8; 1000]));
        assert!(!format(&mut std::vec![0u8; 16 * 1024 + 8]));
    }
}
