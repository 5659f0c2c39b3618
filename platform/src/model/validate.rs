//! Structural check of a flattened device tree before anything walks it.
//!
//! The `fdt` crate assumes a well-formed structure block and panics otherwise; this pass
//! checks every header field, token, name and property against the blob's bounds so that
//! a damaged tree is a named error, never a panic or a read outside the blob.

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
/// Deepest nesting accepted (real trees are under 10 levels).
const MAX_DEPTH: usize = 64;

fn be32(bytes: &[u8], at: usize) -> Result<u32, &'static str> {
    let b = bytes.get(at..at.checked_add(4).ok_or("offset overflow")?).ok_or("truncated")?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Reads the `totalsize` field of an FDT header, after checking the magic.
pub fn fdt_total_size(header: &[u8]) -> Result<usize, &'static str> {
    if be32(header, 0)? != FDT_MAGIC {
        return Err("bad magic");
    }
    Ok(be32(header, 4)? as usize)
}

/// Checks that `blob` is a well-formed flattened device tree (version 16 or later).
pub fn validate_fdt(blob: &[u8]) -> Result<(), &'static str> {
    let total = fdt_total_size(blob)?;
    if total > blob.len() || total < 40 {
        return Err("totalsize beyond the blob");
    }
    let blob = &blob[..total];
    let off_struct = be32(blob, 8)? as usize;
    let off_strings = be32(blob, 12)? as usize;
    let off_rsvmap = be32(blob, 16)? as usize;
    let version = be32(blob, 20)?;
    let size_strings = be32(blob, 32)? as usize;
    let size_struct = be32(blob, 36)? as usize;
    if version < 16 {
        return Err("version older than 16");
    }
    let in_blob = |off: usize, len: usize| off.checked_add(len).is_some_and(|end| end <= total);
    if !in_blob(off_struct, size_struct) || !in_blob(off_strings, size_strings) {
        return Err("structure or strings block beyond totalsize");
    }
    if !off_struct.is_multiple_of(4) || !off_rsvmap.is_multiple_of(8) || !in_blob(off_rsvmap, 16) {
        return Err("misaligned or misplaced block");
    }
    // Memory reservation map: 16-byte entries up to an all-zero one.
    let mut at = off_rsvmap;
    loop {
        if !in_blob(at, 16) {
            return Err("unterminated memory reservation map");
        }
        if blob[at..at + 16].iter().all(|&b| b == 0) {
            break;
        }
        at += 16;
    }
    let strings = &blob[off_strings..off_strings + size_strings];
    let structs = &blob[off_struct..off_struct + size_struct];
    check_structure(structs, strings)
}

fn string_at(strings: &[u8], offset: usize) -> Result<&str, &'static str> {
    let tail = strings.get(offset..).ok_or("property name offset beyond strings")?;
    let len = tail.iter().position(|&b| b == 0).ok_or("unterminated property name")?;
    core::str::from_utf8(&tail[..len]).map_err(|_| "property name not UTF-8")
}

fn check_structure(structs: &[u8], strings: &[u8]) -> Result<(), &'static str> {
    let mut at = 0usize;
    let mut depth = 0usize;
    // Whether the current node has had a child already (properties must come first).
    let mut seen_child = [false; MAX_DEPTH + 1];
    let mut root_done = false;
    loop {
        let token = be32(structs, at)?;
        at += 4;
        match token {
            FDT_BEGIN_NODE => {
                if root_done {
                    return Err("node after the root node ended");
                }
                if depth > 0 {
                    seen_child[depth] = true;
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err("nesting too deep");
                }
                seen_child[depth] = false;
                let tail = structs.get(at..).ok_or("truncated")?;
                let len = tail.iter().position(|&b| b == 0).ok_or("unterminated node name")?;
                core::str::from_utf8(&tail[..len]).map_err(|_| "node name not UTF-8")?;
                at = align4(at + len + 1);
            }
            FDT_END_NODE => {
                if depth == 0 {
                    return Err("unbalanced end of node");
                }
                depth -= 1;
                if depth == 0 {
                    root_done = true;
                }
            }
            FDT_PROP => {
                if depth == 0 {
                    return Err("property outside any node");
                }
                if seen_child[depth] {
                    return Err("property after a child node");
                }
                let len = be32(structs, at)? as usize;
                let name_off = be32(structs, at + 4)? as usize;
                let name = string_at(strings, name_off)?;
                let value_at = at + 8;
                if value_at.checked_add(len).is_none_or(|end| end > structs.len()) {
                    return Err("property value beyond the structure block");
                }
                if (name == "#address-cells" || name == "#size-cells") && len != 4 {
                    return Err("cell-count property is not one cell");
                }
                at = align4(value_at + len);
            }
            FDT_NOP => {}
            FDT_END => {
                return if root_done && depth == 0 { Ok(()) } else { Err("structure ends inside a node") };
            }
            _ => return Err("unknown structure token"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal tree: root { #address-cells = <2>; child {} }.
    fn tiny() -> std::vec::Vec<u8> {
        let mut s = std::vec::Vec::new();
        let mut put = |v: u32| s.extend_from_slice(&v.to_be_bytes());
        put(FDT_BEGIN_NODE);
        put(0); // "" + padding
        put(FDT_PROP);
        put(4);
        put(0); // name offset 0
        put(2);
        put(FDT_BEGIN_NODE);
        s.extend_from_slice(b"kid\0");
        let mut put = |v: u32| s.extend_from_slice(&v.to_be_bytes());
        put(FDT_END_NODE);
        put(FDT_END_NODE);
        put(FDT_END);
        let strings = b"#address-cells\0";
        let off_rsv = 40;
        let off_struct = off_rsv + 16;
        let off_strings = off_struct + s.len();
        let total = off_strings + strings.len();
        let mut blob = std::vec::Vec::new();
        for v in [
            FDT_MAGIC,
            total as u32,
            off_struct as u32,
            off_strings as u32,
            off_rsv as u32,
            17,
            16,
            0,
            strings.len() as u32,
            s.len() as u32,
        ] {
            blob.extend_from_slice(&v.to_be_bytes());
        }
        blob.extend_from_slice(&[0; 16]);
        blob.extend_from_slice(&s);
        blob.extend_from_slice(strings);
        blob
    }

    #[test]
    fn accepts_well_formed() {
        assert_eq!(validate_fdt(&tiny()), Ok(()));
    }

    #[test]
    fn rejects_each_damage() {
        let good = tiny();
        let mut bad = good.clone();
        bad[0] = 0;
        assert_eq!(validate_fdt(&bad), Err("bad magic"));
        assert_eq!(validate_fdt(&good[..good.len() - 1]), Err("totalsize beyond the blob"));
        let mut bad = good.clone();
        bad[20..24].copy_from_slice(&15u32.to_be_bytes());
        assert_eq!(validate_fdt(&bad), Err("version older than 16"));
        // Property name offset past the strings block.
        let mut bad = good.clone();
        bad[56 + 16..56 + 20].copy_from_slice(&100u32.to_be_bytes());
        assert_eq!(validate_fdt(&bad), Err("property name offset beyond strings"));
        // Property length past the block.
        let mut bad = good.clone();
        bad[56 + 12..56 + 16].copy_from_slice(&1000u32.to_be_bytes());
        assert_eq!(validate_fdt(&bad), Err("property value beyond the structure block"));
        // #address-cells of the wrong size.
        let mut bad = good.clone();
        bad[56 + 12..56 + 16].copy_from_slice(&2u32.to_be_bytes());
        assert!(validate_fdt(&bad).is_err());
        // Unknown token in place of the first END_NODE.
        let mut bad = good.clone();
        let end_node = 56 + 8 + 16 + 4 + 8;
        bad[end_node..end_node + 4].copy_from_slice(&7u32.to_be_bytes());
        assert_eq!(validate_fdt(&bad), Err("unknown structure token"));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let good = tiny();
        for len in 0..good.len() {
            assert!(validate_fdt(&good[..len]).is_err(), "len {len}");
        }
        // And every single-byte corruption either passes or errors, never panics.
        for i in 0..good.len() {
            for v in [0u8, 0xff, 0x09] {
                let mut b = good.clone();
                b[i] = v;
                let _ = validate_fdt(&b);
            }
        }
    }
}
