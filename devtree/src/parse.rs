//! Reading FDT blobs: one walker checks every header field, token, name and property against
//! the blob's bounds and reports what it finds; validation and unflattening are two uses of it.

use crate::node::Node;
use alloc::vec::Vec;
use core::fmt;

pub(crate) const FDT_MAGIC: u32 = 0xd00d_feed;
pub(crate) const FDT_BEGIN_NODE: u32 = 1;
pub(crate) const FDT_END_NODE: u32 = 2;
pub(crate) const FDT_PROP: u32 = 3;
pub(crate) const FDT_NOP: u32 = 4;
pub(crate) const FDT_END: u32 = 9;
/// Deepest nesting accepted (real trees are under 10 levels).
const MAX_DEPTH: usize = 64;

/// What is wrong with a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdtError {
    /// Shorter than its header or its `totalsize`.
    Truncated,
    /// Not the FDT magic number.
    BadMagic,
    /// Version older than 16.
    UnsupportedVersion(u32),
    /// A block lies outside `totalsize` or is misaligned.
    BadLayout(&'static str),
    /// The memory reservation map has no terminating entry.
    UnterminatedReservations,
    /// Bad structure block: the reason and the byte offset in the block.
    BadStructure(&'static str, usize),
}

impl fmt::Display for FdtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => write!(f, "truncated"),
            Self::BadMagic => write!(f, "bad magic"),
            Self::UnsupportedVersion(v) => write!(f, "version {v} is older than 16"),
            Self::BadLayout(why) => write!(f, "{why}"),
            Self::UnterminatedReservations => write!(f, "unterminated memory reservation map"),
            Self::BadStructure(why, at) => write!(f, "{why} at structure offset {at:#x}"),
        }
    }
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn be64(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_be_bytes(b.try_into().ok()?))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// The `totalsize` of an FDT header, after checking the magic.
pub fn fdt_total_size(header: &[u8]) -> Result<usize, FdtError> {
    if be32(header, 0).ok_or(FdtError::Truncated)? != FDT_MAGIC {
        return Err(FdtError::BadMagic);
    }
    Ok(be32(header, 4).ok_or(FdtError::Truncated)? as usize)
}

/// The checked parts of a blob.
struct Blocks<'a> {
    structs: &'a [u8],
    strings: &'a [u8],
    boot_cpuid: u32,
    reservations: Vec<(u64, u64)>,
}

fn blocks(blob: &[u8], keep_reservations: bool) -> Result<Blocks<'_>, FdtError> {
    let total = fdt_total_size(blob)?;
    if total > blob.len() || total < 40 {
        return Err(FdtError::Truncated);
    }
    let blob = &blob[..total];
    let word = |at| be32(blob, at).map(|v| v as usize).ok_or(FdtError::Truncated);
    let (off_struct, off_strings, off_rsvmap) = (word(8)?, word(12)?, word(16)?);
    let version = word(20)? as u32;
    let boot_cpuid = word(28)? as u32;
    let (size_strings, size_struct) = (word(32)?, word(36)?);
    if version < 16 {
        return Err(FdtError::UnsupportedVersion(version));
    }
    let in_blob = |off: usize, len: usize| off.checked_add(len).is_some_and(|end| end <= total);
    if !in_blob(off_struct, size_struct) || !in_blob(off_strings, size_strings) {
        return Err(FdtError::BadLayout("structure or strings block beyond totalsize"));
    }
    if !off_struct.is_multiple_of(4) || !off_rsvmap.is_multiple_of(8) {
        return Err(FdtError::BadLayout("misaligned block"));
    }
    let mut reservations = Vec::new();
    let mut at = off_rsvmap;
    loop {
        let (Some(base), Some(size)) = (be64(blob, at), be64(blob, at + 8)) else {
            return Err(FdtError::UnterminatedReservations);
        };
        if base == 0 && size == 0 {
            break;
        }
        if keep_reservations {
            reservations.push((base, size));
        }
        at += 16;
    }
    Ok(Blocks {
        structs: &blob[off_struct..off_struct + size_struct],
        strings: &blob[off_strings..off_strings + size_strings],
        boot_cpuid,
        reservations,
    })
}

fn string_at(strings: &[u8], offset: usize) -> Option<&str> {
    let tail = strings.get(offset..)?;
    let len = tail.iter().position(|&b| b == 0)?;
    core::str::from_utf8(&tail[..len]).ok()
}

/// What the walker reports.
trait Visitor<'a> {
    fn begin(&mut self, name: &'a str);
    fn prop(&mut self, name: &'a str, value: &'a [u8]);
    fn end(&mut self);
}

fn walk<'a>(structs: &'a [u8], strings: &'a [u8], v: &mut impl Visitor<'a>) -> Result<(), FdtError> {
    let mut at = 0usize;
    let mut depth = 0usize;
    let mut seen_child = [false; MAX_DEPTH + 1];
    let mut root_done = false;
    let bad = |why, at| Err(FdtError::BadStructure(why, at));
    loop {
        let token_at = at;
        let Some(token) = be32(structs, at) else { return bad("structure ends without FDT_END", at) };
        at += 4;
        match token {
            FDT_BEGIN_NODE => {
                if root_done {
                    return bad("node after the root node ended", token_at);
                }
                if depth > 0 {
                    seen_child[depth] = true;
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return bad("nesting too deep", token_at);
                }
                seen_child[depth] = false;
                let tail = structs.get(at..).unwrap_or(&[]);
                let Some(len) = tail.iter().position(|&b| b == 0) else {
                    return bad("unterminated node name", at);
                };
                let Ok(name) = core::str::from_utf8(&tail[..len]) else {
                    return bad("node name not UTF-8", at);
                };
                if depth > 1 && name.is_empty() {
                    return bad("empty node name", at);
                }
                v.begin(name);
                at = align4(at + len + 1);
            }
            FDT_END_NODE => {
                if depth == 0 {
                    return bad("unbalanced end of node", token_at);
                }
                depth -= 1;
                root_done = depth == 0;
                v.end();
            }
            FDT_PROP => {
                if depth == 0 {
                    return bad("property outside any node", token_at);
                }
                if seen_child[depth] {
                    return bad("property after a child node", token_at);
                }
                let (Some(len), Some(name_off)) = (be32(structs, at), be32(structs, at + 4)) else {
                    return bad("truncated property header", at);
                };
                let Some(name) = string_at(strings, name_off as usize) else {
                    return bad("property name outside the strings block or not UTF-8", at);
                };
                let value_at = at + 8;
                let Some(value) = structs.get(value_at..value_at.saturating_add(len as usize)) else {
                    return bad("property value beyond the structure block", at);
                };
                if (name == "#address-cells" || name == "#size-cells") && value.len() != 4 {
                    return bad("cell-count property is not one cell", at);
                }
                v.prop(name, value);
                at = align4(value_at + len as usize);
            }
            FDT_NOP => {}
            FDT_END => {
                return if root_done { Ok(()) } else { bad("structure ends inside a node", token_at) };
            }
            _ => return bad("unknown structure token", token_at),
        }
    }
}

struct NoVisit;
impl Visitor<'_> for NoVisit {
    fn begin(&mut self, _: &str) {}
    fn prop(&mut self, _: &str, _: &[u8]) {}
    fn end(&mut self) {}
}

/// Checks that `blob` is a well-formed flattened device tree (version 16 or later), without
/// allocating.
pub fn validate_fdt(blob: &[u8]) -> Result<(), FdtError> {
    let b = blocks(blob, false)?;
    walk(b.structs, b.strings, &mut NoVisit)
}

/// A blob turned back into a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFdt {
    /// The root node.
    pub root: Node,
    /// `boot_cpuid_phys` from the header.
    pub boot_cpuid: u32,
    /// The memory reservation map.
    pub reservations: Vec<(u64, u64)>,
}

struct Builder {
    stack: Vec<Node>,
    root: Option<Node>,
}

impl Visitor<'_> for Builder {
    fn begin(&mut self, name: &str) {
        self.stack.push(Node::new(name));
    }
    fn prop(&mut self, name: &str, value: &[u8]) {
        if let Some(n) = self.stack.last_mut() {
            n.set(name, value.to_vec());
        }
    }
    fn end(&mut self) {
        if let Some(done) = self.stack.pop() {
            match self.stack.last_mut() {
                Some(parent) => {
                    parent.add_child(done);
                }
                None => self.root = Some(done),
            }
        }
    }
}

/// Reads a blob into a tree.
pub fn from_fdt(blob: &[u8]) -> Result<ParsedFdt, FdtError> {
    let b = blocks(blob, true)?;
    let mut builder = Builder { stack: Vec::new(), root: None };
    walk(b.structs, b.strings, &mut builder)?;
    let root = builder.root.ok_or(FdtError::BadStructure("no root node", 0))?;
    Ok(ParsedFdt { root, boot_cpuid: b.boot_cpuid, reservations: b.reservations })
}
