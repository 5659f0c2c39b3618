//! Putting a tree in the form skiboot's HDAT test compares (`hdata/test/hdata_to_dt.c` then
//! `dtdiff`), so our tree and skiboot's can be compared like for like:
//!
//! * properties longer than 512 bytes (VPD blobs, ...) are replaced by three cells:
//!   `0xcafebeef`, the original length, and a position-weighted sum of the bytes;
//! * `linux,sml-base` (a raw pointer into the dump) is zeroed;
//! * for comparing trees whose phandles were numbered differently, phandle values are
//!   replaced by the paths of the nodes they designate and `phandle` properties dropped.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use oxiboot_devtree::Node;

/// Properties longer than this are summarized.
pub const BLOB_LIMIT: usize = 512;
/// First cell of a summarized property.
pub const BLOB_MARK: u32 = 0xcafe_beef;
/// Properties whose cells are phandles, in trees built from HDAT.
pub const PHANDLE_PROPS: &[&str] = &["l2-cache", "ibm,pcie-slot", "memory-region"];

/// skiboot's test checksum: the sum over the bytes of (byte as a signed char with bit 0x10
/// cleared, plus one) times the byte's index, in 32-bit wrapping arithmetic.
pub fn blob_hash(v: &[u8]) -> u32 {
    v.iter().enumerate().fold(0u32, |h, (i, &b)| {
        let c = ((b as i8 as i32) & !0x10) + 1;
        h.wrapping_add((c as u32).wrapping_mul(i as u32))
    })
}

/// Applies skiboot's test transformation to every property of the tree: long properties
/// summarized, `linux,sml-base` zeroed.
pub fn skiboot_test_form(n: &mut Node) {
    let names: Vec<String> = n.properties().iter().map(|p| p.name.clone()).collect();
    for name in names {
        let Some(v) = n.prop(&name) else { continue };
        if name == "linux,sml-base" {
            let zero = alloc::vec![0u8; v.len()];
            n.set(&name, zero);
        } else if v.len() > BLOB_LIMIT {
            let cells = [BLOB_MARK, v.len() as u32, blob_hash(v)];
            n.set_cells(&name, &cells);
        }
    }
    for c in n.children_mut() {
        skiboot_test_form(c);
    }
}

/// Replaces the phandles in `props` by the paths of the nodes they name (a string list;
/// unknown phandles become `?<value>`) and removes every `phandle` property.
pub fn phandles_to_paths(root: &mut Node, props: &[&str]) {
    let mut by_handle = BTreeMap::new();
    root.walk("/", &mut |p, n| {
        if let Some(h) = n.prop_u32("phandle") {
            by_handle.insert(h, String::from(p));
        }
    });
    rewrite(root, props, &by_handle);
}

fn rewrite(n: &mut Node, props: &[&str], by_handle: &BTreeMap<u32, String>) {
    for name in props {
        if let Some(cells) = n.prop_cells(name) {
            let mut v = Vec::new();
            for c in cells {
                match by_handle.get(&c) {
                    Some(p) => v.extend_from_slice(p.as_bytes()),
                    None => v.extend_from_slice(alloc::format!("?{c:#x}").as_bytes()),
                }
                v.push(0);
            }
            n.set(name, v);
        }
    }
    n.remove("phandle");
    for c in n.children_mut() {
        rewrite(c, props, by_handle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_the_c_definition() {
        // (('a' & ~0x10) + 1) * 1 + ((0xff as signed char = -1, & ~0x10 = -17) + 1) * 2
        assert_eq!(
            blob_hash(&[0x00, b'a', 0xff]),
            (0x61u32 + 1).wrapping_add((-16i32 as u32).wrapping_mul(2))
        );
        assert_eq!(blob_hash(&[]), 0);
    }

    #[test]
    fn long_properties_are_summarized_and_pointers_zeroed() {
        let mut root = Node::new("");
        root.set("blob", alloc::vec![1u8; 513]).set("short", alloc::vec![1u8; 512]);
        root.ensure_child("tpm").set_u64("linux,sml-base", 0x1234);
        skiboot_test_form(&mut root);
        let sum: u32 = (0..513u32).map(|i| 2 * i).sum();
        assert_eq!(root.prop_cells("blob").unwrap(), [BLOB_MARK, 513, sum]);
        assert_eq!(root.prop("short").unwrap().len(), 512);
        assert_eq!(root.find("/tpm").unwrap().prop_u64("linux,sml-base"), Some(0));
    }

    #[test]
    fn phandles_become_paths() {
        let mut root = Node::new("");
        root.set_u32("phandle", 1);
        root.ensure_child("a").set_u32("phandle", 7).set_u32("l2-cache", 9);
        root.ensure_child("b").set_u32("phandle", 9);
        phandles_to_paths(&mut root, PHANDLE_PROPS);
        assert_eq!(root.find("/a").unwrap().prop_str("l2-cache"), Some("/b"));
        assert!(root.find("/b").unwrap().prop("phandle").is_none());
    }
}
