//! Writing a tree as an FDT blob (version 17, compatible with 16): header, memory
//! reservation map, structure block, strings block (property names stored once).

use crate::node::Node;
use crate::parse::{FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_MAGIC, FDT_PROP};
use alloc::vec::Vec;

/// Header fields that are not part of the tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FdtOptions {
    /// `boot_cpuid_phys`: hardware id of the thread the kernel is entered on.
    pub boot_cpuid: u32,
    /// Memory reservation map entries `(base, size)`.
    pub reservations: Vec<(u64, u64)>,
}

struct Writer {
    structs: Vec<u8>,
    strings: Vec<u8>,
    /// (name, offset) of every string already stored.
    names: Vec<(alloc::string::String, u32)>,
}

impl Writer {
    fn word(&mut self, v: u32) {
        self.structs.extend_from_slice(&v.to_be_bytes());
    }

    fn pad(&mut self) {
        while !self.structs.len().is_multiple_of(4) {
            self.structs.push(0);
        }
    }

    fn name_offset(&mut self, name: &str) -> u32 {
        if let Some((_, off)) = self.names.iter().find(|(n, _)| n == name) {
            return *off;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        self.names.push((name.into(), off));
        off
    }

    fn node(&mut self, n: &Node) {
        self.word(FDT_BEGIN_NODE);
        self.structs.extend_from_slice(n.name().as_bytes());
        self.structs.push(0);
        self.pad();
        for p in n.properties() {
            let off = self.name_offset(&p.name);
            self.word(FDT_PROP);
            self.word(p.value.len() as u32);
            self.word(off);
            self.structs.extend_from_slice(&p.value);
            self.pad();
        }
        for c in n.children() {
            self.node(c);
        }
        self.word(FDT_END_NODE);
    }
}

/// Flattens `root` into an FDT blob.
pub fn to_fdt(root: &Node, opts: &FdtOptions) -> Vec<u8> {
    let mut w = Writer { structs: Vec::new(), strings: Vec::new(), names: Vec::new() };
    w.node(root);
    w.word(FDT_END);

    const HEADER: usize = 40;
    let off_rsvmap = HEADER.next_multiple_of(8);
    let rsv_len = (opts.reservations.len() + 1) * 16;
    let off_struct = off_rsvmap + rsv_len;
    let off_strings = off_struct + w.structs.len();
    let total = off_strings + w.strings.len();

    let mut blob = Vec::with_capacity(total);
    for v in [
        FDT_MAGIC,
        total as u32,
        off_struct as u32,
        off_strings as u32,
        off_rsvmap as u32,
        17,
        16,
        opts.boot_cpuid,
        w.strings.len() as u32,
        w.structs.len() as u32,
    ] {
        blob.extend_from_slice(&v.to_be_bytes());
    }
    blob.resize(off_rsvmap, 0);
    for &(base, size) in &opts.reservations {
        blob.extend_from_slice(&base.to_be_bytes());
        blob.extend_from_slice(&size.to_be_bytes());
    }
    blob.extend_from_slice(&[0; 16]);
    blob.extend_from_slice(&w.structs);
    blob.extend_from_slice(&w.strings);
    blob
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{from_fdt, validate_fdt, FdtError};

    fn sample() -> Node {
        let mut root = Node::new("");
        root.set_cells("#address-cells", &[2]).set_cells("#size-cells", &[2]);
        root.set_strs("compatible", &["ibm,powernv"]);
        let m = root.add_child(Node::new("memory@0"));
        m.set_str("device_type", "memory").set_u64s("reg", &[0, 0x8000_0000]);
        let cpus = root.add_child(Node::new("cpus"));
        cpus.set_cells("#address-cells", &[1]).set_cells("#size-cells", &[0]);
        cpus.add_child(Node::new("PowerPC,POWER9@0")).set_flag("64-bit").set_u32("reg", 0);
        root
    }

    #[test]
    fn round_trip() {
        let root = sample();
        let opts = FdtOptions { boot_cpuid: 4, reservations: alloc::vec![(0x3000_0000, 0x400_0000)] };
        let blob = to_fdt(&root, &opts);
        assert_eq!(validate_fdt(&blob), Ok(()));
        let back = from_fdt(&blob).unwrap();
        assert_eq!(back.root, root);
        assert_eq!(back.boot_cpuid, 4);
        assert_eq!(back.reservations, [(0x3000_0000, 0x400_0000)]);
    }

    #[test]
    fn names_are_stored_once() {
        let blob = to_fdt(&sample(), &FdtOptions::default());
        let size_strings = u32::from_be_bytes(blob[32..36].try_into().unwrap()) as usize;
        let strings = &blob[blob.len() - size_strings..];
        assert_eq!(strings.split(|&b| b == 0).filter(|s| s == b"#address-cells").count(), 1);
    }

    #[test]
    fn every_truncation_and_byte_flip_is_handled() {
        let blob = to_fdt(&sample(), &FdtOptions::default());
        for len in 0..blob.len() {
            assert!(from_fdt(&blob[..len]).is_err(), "len {len}");
        }
        for i in 0..blob.len() {
            for v in [0u8, 0xff, 0x02, 0x09] {
                let mut b = blob.clone();
                b[i] = v;
                // Either outcome is fine; a panic is not.
                let _ = from_fdt(&b);
            }
        }
        let mut bad = blob.clone();
        bad[0] = 0;
        assert_eq!(from_fdt(&bad), Err(FdtError::BadMagic));
        let mut old = blob.clone();
        old[20..24].copy_from_slice(&15u32.to_be_bytes());
        assert_eq!(validate_fdt(&old), Err(FdtError::UnsupportedVersion(15)));
    }
}
