//! Checked access to the dump: the mapped memory window (bytes plus the physical address they
//! were mapped at) and big-endian field reads from any block of it.
//!
//! Nothing here indexes a slice directly: every read goes through [`Rec`], which checks the
//! offset and length against the block and reports a [`HdatError::Truncated`] naming the
//! structure when the data is too short.

use crate::error::{HdatError, Result};

/// The host data area as mapped: its bytes and the physical address of the first one.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    bytes: &'a [u8],
    base: u64,
}

impl<'a> Window<'a> {
    /// A window of `bytes` mapped at physical address `base`.
    pub fn new(bytes: &'a [u8], base: u64) -> Self {
        Self { bytes, base }
    }

    /// All bytes of the window.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Physical address of the first byte.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The window offset of physical address `addr`, which must lie inside the window.
    pub fn offset_of(&self, addr: u64, what: &'static str) -> Result<usize> {
        let off = addr.checked_sub(self.base).ok_or(HdatError::AddressOutOfWindow { what, addr })?;
        match usize::try_from(off) {
            Ok(o) if o < self.bytes.len() => Ok(o),
            _ => Err(HdatError::AddressOutOfWindow { what, addr }),
        }
    }

    /// The physical address of window offset `off`.
    pub fn addr_of(&self, off: usize) -> u64 {
        self.base.wrapping_add(off as u64)
    }

    /// The block of `len` bytes at window offset `off`.
    pub fn block(&self, off: usize, len: usize, what: &'static str) -> Result<Rec<'a>> {
        Rec::new(self.bytes, what).sub(off, len)
    }
}

/// A block of dump bytes being read as one structure; every read is bounds-checked.
#[derive(Debug, Clone, Copy)]
pub struct Rec<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Rec<'a> {
    /// The whole of `data`, read as structure `what`.
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Self { data, what }
    }

    /// The same bytes under another name (for error reports).
    pub fn named(self, what: &'static str) -> Self {
        Self { data: self.data, what }
    }

    /// Name used in error reports.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the block is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The raw bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    fn truncated(&self, off: usize, len: usize) -> HdatError {
        HdatError::Truncated { what: self.what, offset: off as u64, len: len as u64 }
    }

    /// `len` bytes at `off`.
    pub fn bytes(&self, off: usize, len: usize) -> Result<&'a [u8]> {
        let end = off.checked_add(len).ok_or_else(|| self.truncated(off, len))?;
        self.data.get(off..end).ok_or_else(|| self.truncated(off, len))
    }

    /// The sub-block of `len` bytes at `off`.
    pub fn sub(&self, off: usize, len: usize) -> Result<Rec<'a>> {
        Ok(Rec { data: self.bytes(off, len)?, what: self.what })
    }

    /// Everything from `off` to the end.
    pub fn tail(&self, off: usize) -> Result<Rec<'a>> {
        let data = self.data.get(off..).ok_or_else(|| self.truncated(off, 0))?;
        Ok(Rec { data, what: self.what })
    }

    /// Fixed-size array at `off`.
    pub fn array<const N: usize>(&self, off: usize) -> Result<[u8; N]> {
        let b = self.bytes(off, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Byte at `off`.
    pub fn u8(&self, off: usize) -> Result<u8> {
        Ok(self.array::<1>(off)?[0])
    }

    /// Big-endian 16-bit field at `off`.
    pub fn be16(&self, off: usize) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array(off)?))
    }

    /// Big-endian 32-bit field at `off`.
    pub fn be32(&self, off: usize) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array(off)?))
    }

    /// Big-endian 64-bit field at `off`.
    pub fn be64(&self, off: usize) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array(off)?))
    }

    /// A NUL-padded text field of at most `len` bytes at `off`, cut at the first NUL (the C
    /// `strnlen` view of a fixed-size character array).
    pub fn cstr(&self, off: usize, len: usize) -> Result<&'a [u8]> {
        let b = self.bytes(off, len)?;
        Ok(until_nul(b))
    }
}

/// `b` up to (not including) its first NUL byte.
pub fn until_nul(b: &[u8]) -> &[u8] {
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..n]
}

/// Bytes as text for a property: invalid UTF-8 is replaced, so a corrupt dump cannot make a
/// string property fail.
pub fn text(b: &[u8]) -> alloc::borrow::Cow<'_, str> {
    alloc::string::String::from_utf8_lossy(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_addresses_are_checked_both_ways() {
        let bytes = [0u8; 16];
        let w = Window::new(&bytes, 0x1000);
        assert_eq!(w.offset_of(0x1000, "x"), Ok(0));
        assert_eq!(w.offset_of(0x100f, "x"), Ok(15));
        assert_eq!(w.offset_of(0x1010, "x"), Err(HdatError::AddressOutOfWindow { what: "x", addr: 0x1010 }));
        assert_eq!(w.offset_of(0xfff, "x"), Err(HdatError::AddressOutOfWindow { what: "x", addr: 0xfff }));
        assert_eq!(w.addr_of(4), 0x1004);
    }

    #[test]
    fn reads_are_big_endian_and_bounded() {
        let r = Rec::new(&[0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, b'a', 0, b'b'], "t");
        assert_eq!(r.be16(0), Ok(0x1234));
        assert_eq!(r.be32(1), Ok(0x3456_789a));
        assert_eq!(r.be64(0), Ok(0x1234_5678_9abc_def0));
        assert_eq!(r.cstr(8, 3), Ok(&b"a"[..]));
        assert_eq!(r.be32(8), Err(HdatError::Truncated { what: "t", offset: 8, len: 4 }));
        assert!(r.bytes(usize::MAX, 2).is_err());
        assert!(r.tail(12).is_err());
        assert_eq!(r.tail(11).map(|t| t.len()), Ok(0));
    }
}
