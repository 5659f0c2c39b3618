//! HDIF (Hypervisor Data Interface Format): the self-describing container every HDAT
//! structure uses.
//!
//! An HDIF structure starts with a 32-byte header: the magic `0xd1f0`, a six-character
//! eye-catcher (`"SPPCRD"`, `"MS VPD"`, ...), instance and version numbers, then the offset and
//! count of its *internal data* pointers (each an offset/size pair naming a block, relative to
//! the header) and of its *child* pointers (offset, size and count of an array of nested HDIF
//! structures). Many internal data blocks are themselves arrays with a 16-byte header (offset
//! to the first element, element count, allocated and actual element size).
//!
//! All offsets are checked against the window; nested structures may lie beyond their
//! parent's declared total length (the MS VPD's memory areas do), so the window is the bound.

use crate::error::{HdatError, Result};
use crate::window::{Rec, Window};

/// Size of the common HDIF header.
pub const HDR_LEN: usize = 32;
/// Size of an internal-data array header.
pub const ARRAY_HDR_LEN: usize = 16;
const MAGIC: u16 = 0xd1f0;

/// An HDIF structure located in the window, its header checked.
#[derive(Debug, Clone, Copy)]
pub struct Hdif<'a> {
    win: Window<'a>,
    off: usize,
    id: &'static str,
    version: u16,
    instance: u16,
    idptr_off: u32,
    idptr_count: u16,
    child_off: u32,
    child_count: u16,
}

/// A child pointer: an array of `count` nested structures of `size` bytes at `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildPtr {
    /// Offset of the first child from the parent's header.
    pub offset: u32,
    /// Allocated size of each child.
    pub size: u32,
    /// Number of children.
    pub count: u32,
}

impl<'a> Hdif<'a> {
    /// The HDIF structure at window offset `off`, which must carry eye-catcher `id`.
    pub fn at(win: Window<'a>, off: usize, id: &'static str) -> Result<Self> {
        let h = win.block(off, HDR_LEN, id)?;
        let found: [u8; 6] = h.array(2)?;
        if h.be16(0)? != MAGIC {
            return Err(HdatError::BadEyeCatcher { expected: id, found: [0; 6] });
        }
        if found != id.as_bytes() {
            return Err(HdatError::BadEyeCatcher { expected: id, found });
        }
        Ok(Self {
            win,
            off,
            id,
            instance: h.be16(8)?,
            version: h.be16(10)?,
            idptr_off: h.be32(20)?,
            idptr_count: h.be16(24)?,
            child_count: h.be16(26)?,
            child_off: h.be32(28)?,
        })
    }

    /// The eye-catcher.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// Structure version.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// Instance number.
    pub fn instance(&self) -> u16 {
        self.instance
    }

    /// Window offset of the header.
    pub fn offset(&self) -> usize {
        self.off
    }

    /// The window this structure lives in.
    pub fn window(&self) -> Window<'a> {
        self.win
    }

    /// Window offset of `rel` bytes after the header.
    fn rel(&self, rel: u64) -> Result<usize> {
        let trunc = HdatError::Truncated { what: self.id, offset: self.off as u64, len: rel };
        usize::try_from(rel).ok().and_then(|r| self.off.checked_add(r)).ok_or(trunc)
    }

    /// Internal data block `index`, or `None` when the structure has fewer blocks. A block
    /// with a zero size is returned (empty): some consumers treat its presence as meaningful.
    pub fn idata(&self, index: usize) -> Result<Option<Rec<'a>>> {
        if index >= usize::from(self.idptr_count) {
            return Ok(None);
        }
        let ptr_at = self.rel(u64::from(self.idptr_off) + 8 * index as u64)?;
        let ptr = self.win.block(ptr_at, 8, self.id)?;
        let (offset, size) = (ptr.be32(0)?, ptr.be32(4)?);
        let at = self.rel(u64::from(offset))?;
        Ok(Some(self.win.block(at, size as usize, self.id)?))
    }

    /// Internal data block `index` as an array, or `None` when the block is absent or empty.
    pub fn iarray(&self, index: usize, what: &'static str) -> Result<Option<Array<'a>>> {
        match self.idata(index)? {
            Some(rec) if !rec.is_empty() => Array::parse(rec.named(what)).map(Some),
            _ => Ok(None),
        }
    }

    /// Child pointer `index`, or `None` when the structure has fewer.
    pub fn child_ptr(&self, index: usize) -> Result<Option<ChildPtr>> {
        if index >= usize::from(self.child_count) {
            return Ok(None);
        }
        let at = self.rel(u64::from(self.child_off) + 12 * index as u64)?;
        let p = self.win.block(at, 12, self.id)?;
        Ok(Some(ChildPtr { offset: p.be32(0)?, size: p.be32(4)?, count: p.be32(8)? }))
    }

    /// Child number `k` of child array `ptr`, which must carry eye-catcher `id`.
    pub fn child(&self, ptr: ChildPtr, k: u32, id: &'static str) -> Result<Hdif<'a>> {
        if (ptr.size as usize) < HDR_LEN {
            return Err(HdatError::BadValue { what: "HDIF child size", value: ptr.size.into() });
        }
        let at = self.rel(u64::from(ptr.offset) + u64::from(ptr.size) * u64::from(k))?;
        Hdif::at(self.win, at, id)
    }

    /// All children of child array `index` (none when the pointer is absent).
    pub fn children(&self, index: usize, id: &'static str) -> Result<alloc::vec::Vec<Hdif<'a>>> {
        let mut out = alloc::vec::Vec::new();
        if let Some(ptr) = self.child_ptr(index)? {
            for k in 0..ptr.count {
                out.push(self.child(ptr, k, id)?);
            }
        }
        Ok(out)
    }
}

/// An internal-data array: a 16-byte header then `count` elements `elem_size` bytes apart,
/// each with `actual_size` meaningful bytes.
#[derive(Debug, Clone, Copy)]
pub struct Array<'a> {
    rec: Rec<'a>,
    offset: u32,
    count: u32,
    elem_size: u32,
    actual_size: u32,
}

impl<'a> Array<'a> {
    /// Parses and checks the array header at the start of `rec`: the elements must fit in it.
    pub fn parse(rec: Rec<'a>) -> Result<Self> {
        let (offset, count) = (rec.be32(0)?, rec.be32(4)?);
        let (elem_size, actual_size) = (rec.be32(8)?, rec.be32(12)?);
        let what = rec.what();
        if count > 0 {
            // Zero-sized elements would let a huge count cost a loop of that many steps.
            if elem_size == 0 {
                return Err(HdatError::BadValue { what, value: 0 });
            }
            if actual_size > elem_size {
                return Err(HdatError::BadValue { what, value: actual_size.into() });
            }
            let need = u64::from(count) * u64::from(elem_size) + u64::from(offset);
            if need > rec.len() as u64 {
                return Err(HdatError::CountPastSection {
                    what,
                    count,
                    elem_size,
                    available: rec.len() as u64,
                });
            }
        }
        Ok(Self { rec, offset, count, elem_size, actual_size })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Meaningful bytes per element.
    pub fn actual_size(&self) -> usize {
        self.actual_size as usize
    }

    /// Allocated bytes per element.
    pub fn elem_size(&self) -> usize {
        self.elem_size as usize
    }

    /// Offset of the first element from the array header.
    pub fn first_offset(&self) -> usize {
        self.offset as usize
    }

    /// The block holding the header and the elements.
    pub fn rec(&self) -> Rec<'a> {
        self.rec
    }

    /// Element `k` (its meaningful bytes).
    pub fn item(&self, k: usize) -> Result<Rec<'a>> {
        let at = (self.offset as usize).saturating_add(k.saturating_mul(self.elem_size as usize));
        self.rec.sub(at, self.actual_size as usize)
    }

    /// All elements, in order.
    pub fn items(&self) -> impl Iterator<Item = Result<Rec<'a>>> + '_ {
        (0..self.len()).map(move |k| self.item(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn header(id: &[u8; 6], idptrs: &[(u32, u32)], children: &[(u32, u32, u32)]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&0xd1f0u16.to_be_bytes());
        v.extend_from_slice(id);
        v.extend_from_slice(&[0, 0, 0, 0x21]);
        v.extend_from_slice(&0x100u32.to_be_bytes());
        v.extend_from_slice(&32u32.to_be_bytes());
        v.extend_from_slice(&32u32.to_be_bytes());
        v.extend_from_slice(&(idptrs.len() as u16).to_be_bytes());
        v.extend_from_slice(&(children.len() as u16).to_be_bytes());
        v.extend_from_slice(&(32 + 8 * idptrs.len() as u32).to_be_bytes());
        for (o, s) in idptrs {
            v.extend_from_slice(&o.to_be_bytes());
            v.extend_from_slice(&s.to_be_bytes());
        }
        for (o, s, c) in children {
            for x in [o, s, c] {
                v.extend_from_slice(&x.to_be_bytes());
            }
        }
        v
    }

    #[test]
    fn header_idata_and_arrays() {
        let mut v = header(b"TESTID", &[(0x40, 0x18), (0, 0)], &[]);
        v.resize(0x40, 0);
        // Array: offset 16, 2 elements of 4 bytes, 2 meaningful.
        for x in [16u32, 2, 4, 2] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v.extend_from_slice(&[1, 2, 0, 0, 3, 4, 0, 0]);
        let w = Window::new(&v, 0);
        let h = Hdif::at(w, 0, "TESTID").unwrap();
        assert_eq!(h.version(), 0x21);
        assert_eq!(h.idata(1).unwrap().map(|r| r.len()), Some(0));
        assert!(h.idata(2).unwrap().is_none());
        let a = h.iarray(0, "arr").unwrap().unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a.item(1).unwrap().data(), &[3, 4]);
        assert!(h.iarray(1, "empty").unwrap().is_none());
        assert!(matches!(Hdif::at(w, 0, "OTHER "), Err(HdatError::BadEyeCatcher { .. })));
    }

    #[test]
    fn arrays_that_overrun_are_errors() {
        let mut v = Vec::new();
        for x in [16u32, 3, 4, 4] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v.extend_from_slice(&[0; 8]);
        let r = Rec::new(&v, "arr");
        assert_eq!(
            Array::parse(r).unwrap_err(),
            HdatError::CountPastSection { what: "arr", count: 3, elem_size: 4, available: 24 }
        );
    }

    #[test]
    fn children_are_located_and_checked() {
        let mut v = header(b"PARENT", &[], &[(0x40, 0x40, 2)]);
        v.resize(0x40, 0);
        let mut c = header(b"CHILD ", &[], &[]);
        c.resize(0x40, 0);
        v.extend_from_slice(&c);
        v.extend_from_slice(&c);
        let w = Window::new(&v, 0);
        let p = Hdif::at(w, 0, "PARENT").unwrap();
        assert_eq!(p.children(0, "CHILD ").unwrap().len(), 2);
        assert!(p.children(1, "CHILD ").unwrap().is_empty());
        let mut bad = v.clone();
        bad.truncate(0x90);
        let w = Window::new(&bad, 0);
        let p = Hdif::at(w, 0, "PARENT").unwrap();
        assert!(matches!(p.children(0, "CHILD "), Err(HdatError::Truncated { .. })));
    }
}
