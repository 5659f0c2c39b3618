//! The device tree under construction: the parse context shared by every HDAT area, node
//! naming, lookups in skiboot's order, private bookkeeping properties and phandles.
//!
//! skiboot numbers phandles as nodes are created and stores a few private properties on nodes
//! (removed when the tree is flattened). We build the tree first, then number every node in
//! depth-first order and resolve the phandle references recorded while building
//! ([`Ctx::refer`]), then drop the private properties.

use crate::error::Result;
use crate::hdif::Hdif;
use crate::spira::{Ntuple, Tuples};
use crate::window::Window;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use oxiboot_devtree::Node;

/// Prefix of bookkeeping properties that are removed before the tree is returned.
pub const PRIVATE: &str = "oxiboot-hdat,";

/// A property that must hold the phandles of other nodes, known by path.
struct PhandleRef {
    node: String,
    prop: &'static str,
    targets: Vec<String>,
}

/// Everything the area parsers share: the window, the SPIRA-S n-tuples and the tree.
pub struct Ctx<'a> {
    /// The mapped host data area.
    pub win: Window<'a>,
    /// SPIRA-S n-tuples.
    pub t: Tuples,
    /// The tree being built.
    pub root: Node,
    /// PVR (Processor Version Register) of the boot processor.
    pub pvr: u32,
    refs: Vec<PhandleRef>,
}

impl<'a> Ctx<'a> {
    /// A context with an empty root.
    pub fn new(win: Window<'a>, t: Tuples, pvr: u32) -> Self {
        Self { win, t, root: Node::new(""), pvr, refs: Vec::new() }
    }

    /// First instance of an n-tuple.
    pub fn first(&self, n: Ntuple, id: &'static str) -> Result<Option<Hdif<'a>>> {
        n.first(self.win, id)
    }

    /// All instances of an n-tuple.
    pub fn instances(&self, n: Ntuple, id: &'static str) -> Result<Vec<Hdif<'a>>> {
        n.instances(self.win, id)
    }

    /// The node at `path` (which must exist: paths come from nodes created earlier).
    pub fn node(&mut self, path: &str) -> Option<&mut Node> {
        self.root.find_mut(path)
    }

    /// Records that property `prop` of node `node` holds the phandles of `targets`.
    pub fn refer(&mut self, node: &str, prop: &'static str, targets: &[&str]) {
        self.refs.push(PhandleRef {
            node: node.to_string(),
            prop,
            targets: targets.iter().map(|t| t.to_string()).collect(),
        });
    }

    /// Numbers every node, resolves phandle references, removes private properties.
    pub fn finish(mut self) -> Node {
        let mut next = 1;
        number(&mut self.root, &mut next);
        for r in &self.refs {
            let cells: Option<Vec<u32>> =
                r.targets.iter().map(|t| self.root.find(t).and_then(|n| n.prop_u32("phandle"))).collect();
            if let (Some(cells), Some(n)) = (cells, self.root.find_mut(&r.node)) {
                n.set_cells(r.prop, &cells);
            }
        }
        strip_private(&mut self.root);
        self.root
    }
}

fn number(n: &mut Node, next: &mut u32) {
    n.set_u32("phandle", *next);
    *next += 1;
    for c in n.children_mut() {
        number(c, next);
    }
}

fn strip_private(n: &mut Node) {
    let private: Vec<String> =
        n.properties().iter().filter(|p| p.name.starts_with(PRIVATE)).map(|p| p.name.clone()).collect();
    for p in private {
        n.remove(&p);
    }
    for c in n.children_mut() {
        strip_private(c);
    }
}

/// `name@addr` with the address in lower-case hex (skiboot's `dt_new_addr`).
pub fn unit(name: &str, addr: u64) -> String {
    format!("{name}@{addr:x}")
}

/// `name@a,b` (skiboot's `dt_new_2addr`).
pub fn unit2(name: &str, a: u64, b: u64) -> String {
    format!("{name}@{a:x},{b:x}")
}

/// Path of child `name` of the node at `parent`.
pub fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() || parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Adds child `name` unless one with that name exists (skiboot's `dt_new`, which refuses
/// duplicates); returns the new node.
pub fn new_child<'n>(parent: &'n mut Node, name: &str) -> Option<&'n mut Node> {
    if parent.child(name).is_some() {
        return None;
    }
    Some(parent.add_child(Node::new(name)))
}

/// Paths of the nodes below `root_path` (the start node included) that satisfy `pred`, in
/// depth-first order (skiboot's `dt_for_each_node` order: children in creation order).
pub fn find_all(root: &Node, root_path: &str, pred: &dyn Fn(&Node) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(start) = root.find(root_path) {
        start.walk(root_path, &mut |p, n| {
            if pred(n) {
                out.push(p.to_string());
            }
        });
    }
    out
}

/// Sets a NUL-terminated string property from raw bytes (cut at the first NUL).
pub fn set_cstr(node: &mut Node, name: &str, bytes: &[u8]) {
    node.set(name, crate::vpd::cstr_value(bytes));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(unit("xscom", 0x603fc00000000), "xscom@603fc00000000");
        assert_eq!(unit2("root-complex", 8, 5), "root-complex@8,5");
        assert_eq!(join("/", "cpus"), "/cpus");
        assert_eq!(join("/cpus", "l2-cache@20000000"), "/cpus/l2-cache@20000000");
        let mut root = Node::new("");
        assert!(new_child(&mut root, "a").is_some());
        assert!(new_child(&mut root, "a").is_none());
        root.ensure_child("a").ensure_child("b").set_str("compatible", "x");
        assert_eq!(find_all(&root, "/", &|n| n.is_compatible("x")), ["/a/b"]);
    }
}
