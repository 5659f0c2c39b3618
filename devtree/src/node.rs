//! Nodes and properties of an in-memory device tree.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// A property: a name and its raw (big-endian) value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Property name.
    pub name: String,
    /// Raw value.
    pub value: Vec<u8>,
}

/// A device-tree node: `name@unit`, its properties and its children, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    name: String,
    props: Vec<Property>,
    children: Vec<Node>,
}

/// Encodes 32-bit cells big-endian.
pub(crate) fn cells_to_bytes(cells: &[u32]) -> Vec<u8> {
    cells.iter().flat_map(|c| c.to_be_bytes()).collect()
}

impl Node {
    /// A node without properties or children. The root node's name is empty.
    pub fn new(name: &str) -> Self {
        Self { name: name.to_string(), props: Vec::new(), children: Vec::new() }
    }

    /// The full name (`name@unit`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name without the unit address.
    pub fn base_name(&self) -> &str {
        self.name.split('@').next().unwrap_or("")
    }

    /// Properties in order.
    pub fn properties(&self) -> &[Property] {
        &self.props
    }

    /// Children in order.
    pub fn children(&self) -> &[Node] {
        &self.children
    }

    /// Children in order, mutable.
    pub fn children_mut(&mut self) -> &mut Vec<Node> {
        &mut self.children
    }

    /// The child with this full name.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The child with this full name, mutable.
    pub fn child_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.children.iter_mut().find(|c| c.name == name)
    }

    /// Appends a child and returns it.
    pub fn add_child(&mut self, node: Node) -> &mut Node {
        self.children.push(node);
        let last = self.children.len() - 1;
        &mut self.children[last]
    }

    /// The child with this name, created empty if absent.
    pub fn ensure_child(&mut self, name: &str) -> &mut Node {
        match self.children.iter().position(|c| c.name == name) {
            Some(i) => &mut self.children[i],
            None => self.add_child(Node::new(name)),
        }
    }

    /// Removes and returns the child with this name.
    pub fn remove_child(&mut self, name: &str) -> Option<Node> {
        let i = self.children.iter().position(|c| c.name == name)?;
        Some(self.children.remove(i))
    }

    /// The node at `path` below this one (`/` or empty = this node; `a/b` or `/a/b`).
    pub fn find(&self, path: &str) -> Option<&Node> {
        path.split('/').filter(|s| !s.is_empty()).try_fold(self, |n, part| n.child(part))
    }

    /// The node at `path`, mutable.
    pub fn find_mut(&mut self, path: &str) -> Option<&mut Node> {
        path.split('/').filter(|s| !s.is_empty()).try_fold(self, |n, part| n.child_mut(part))
    }

    /// Sets a property to a raw value (replacing it if present, keeping its position).
    pub fn set(&mut self, name: &str, value: impl Into<Vec<u8>>) -> &mut Self {
        let value = value.into();
        match self.props.iter_mut().find(|p| p.name == name) {
            Some(p) => p.value = value,
            None => self.props.push(Property { name: name.to_string(), value }),
        }
        self
    }

    /// Sets an empty (boolean) property.
    pub fn set_flag(&mut self, name: &str) -> &mut Self {
        self.set(name, Vec::new())
    }

    /// Sets a one-cell property.
    pub fn set_u32(&mut self, name: &str, v: u32) -> &mut Self {
        self.set(name, v.to_be_bytes().to_vec())
    }

    /// Sets a two-cell (64-bit) property.
    pub fn set_u64(&mut self, name: &str, v: u64) -> &mut Self {
        self.set(name, v.to_be_bytes().to_vec())
    }

    /// Sets a property of 32-bit cells.
    pub fn set_cells(&mut self, name: &str, cells: &[u32]) -> &mut Self {
        self.set(name, cells_to_bytes(cells))
    }

    /// Sets a property of 64-bit values (two cells each).
    pub fn set_u64s(&mut self, name: &str, values: &[u64]) -> &mut Self {
        self.set(name, values.iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>())
    }

    /// Sets a string property (NUL-terminated).
    pub fn set_str(&mut self, name: &str, s: &str) -> &mut Self {
        self.set_strs(name, &[s])
    }

    /// Sets a string-list property (each NUL-terminated).
    pub fn set_strs(&mut self, name: &str, list: &[&str]) -> &mut Self {
        let mut v = Vec::new();
        for s in list {
            v.extend_from_slice(s.as_bytes());
            v.push(0);
        }
        self.set(name, v)
    }

    /// Removes a property; returns its value.
    pub fn remove(&mut self, name: &str) -> Option<Vec<u8>> {
        let i = self.props.iter().position(|p| p.name == name)?;
        Some(self.props.remove(i).value)
    }

    /// Raw value of a property.
    pub fn prop(&self, name: &str) -> Option<&[u8]> {
        self.props.iter().find(|p| p.name == name).map(|p| p.value.as_slice())
    }

    /// A one-cell property.
    pub fn prop_u32(&self, name: &str) -> Option<u32> {
        let v = self.prop(name)?;
        Some(u32::from_be_bytes(v.try_into().ok()?))
    }

    /// A two-cell property.
    pub fn prop_u64(&self, name: &str) -> Option<u64> {
        let v = self.prop(name)?;
        Some(u64::from_be_bytes(v.try_into().ok()?))
    }

    /// The cells of a property (None if its length is not a multiple of 4).
    pub fn prop_cells(&self, name: &str) -> Option<Vec<u32>> {
        let v = self.prop(name)?;
        if !v.len().is_multiple_of(4) {
            return None;
        }
        Some(v.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// The first string of a property.
    pub fn prop_str(&self, name: &str) -> Option<&str> {
        self.prop_strs(name)?.into_iter().next()
    }

    /// The strings of a string-list property (None if not NUL-terminated UTF-8).
    pub fn prop_strs(&self, name: &str) -> Option<Vec<&str>> {
        let v = self.prop(name)?;
        let body = v.strip_suffix(&[0])?;
        body.split(|&b| b == 0).map(|s| core::str::from_utf8(s).ok()).collect()
    }

    /// Whether `compatible` lists `c`.
    pub fn is_compatible(&self, c: &str) -> bool {
        self.prop_strs("compatible").is_some_and(|l| l.contains(&c))
    }

    /// Visits this node and all below it, depth first, with their paths.
    pub fn walk<'a>(&'a self, path: &str, f: &mut dyn FnMut(&str, &'a Node)) {
        f(path, self);
        for c in &self.children {
            let p = child_path(path, &c.name);
            c.walk(&p, f);
        }
    }

    /// The largest `phandle` in this subtree (0 if none).
    pub fn max_phandle(&self) -> u32 {
        let own = self.prop_u32("phandle").unwrap_or(0);
        self.children.iter().map(Node::max_phandle).fold(own, u32::max)
    }

    /// This node's `phandle`, assigning the next free one in the tree rooted at `root_max`
    /// (pass `root.max_phandle()`) when it has none. Returns the phandle and the new maximum.
    pub fn ensure_phandle(&mut self, root_max: u32) -> (u32, u32) {
        match self.prop_u32("phandle") {
            Some(p) => (p, root_max),
            None => {
                let p = root_max + 1;
                self.set_u32("phandle", p);
                (p, p)
            }
        }
    }
}

/// Path of child `name` under `parent`.
pub fn child_path(parent: &str, name: &str) -> String {
    if parent.is_empty() || parent == "/" {
        alloc::format!("/{name}")
    } else {
        alloc::format!("{parent}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_query() {
        let mut root = Node::new("");
        root.set_str("compatible", "ibm,powernv").set_cells("#address-cells", &[2]);
        let cpus = root.ensure_child("cpus");
        cpus.add_child(Node::new("PowerPC,POWER9@0")).set_cells("ibm,ppc-interrupt-server#s", &[0, 1, 2, 3]);
        root.ensure_child("cpus").set_u32("#size-cells", 0);
        assert_eq!(root.children().len(), 1);
        let cpu = root.find("/cpus/PowerPC,POWER9@0").unwrap();
        assert_eq!(cpu.base_name(), "PowerPC,POWER9");
        assert_eq!(cpu.prop_cells("ibm,ppc-interrupt-server#s").unwrap(), [0, 1, 2, 3]);
        assert_eq!(root.prop_u32("#address-cells"), Some(2));
        assert!(root.is_compatible("ibm,powernv"));
        assert_eq!(root.find("/cpus").unwrap().prop_u32("#size-cells"), Some(0));
        assert!(root.find("/nope").is_none());
    }

    #[test]
    fn set_replaces_in_place_and_string_lists_round_trip() {
        let mut n = Node::new("x");
        n.set_u32("a", 1).set_u32("b", 2).set_u32("a", 3);
        assert_eq!(n.properties()[0].name, "a");
        assert_eq!(n.prop_u32("a"), Some(3));
        n.set_strs("compatible", &["qemu,powernv9", "ibm,powernv"]);
        assert_eq!(n.prop_strs("compatible").unwrap(), ["qemu,powernv9", "ibm,powernv"]);
        n.set("bad", &b"no-nul"[..]);
        assert_eq!(n.prop_strs("bad"), None);
        n.set_u64("big", 0x1_0000_0002);
        assert_eq!(n.prop_cells("big").unwrap(), [1, 2]);
        assert_eq!(n.remove("big").map(|v| v.len()), Some(8));
        assert_eq!(n.prop_u64("big"), None);
    }

    #[test]
    fn phandles() {
        let mut root = Node::new("");
        root.add_child(Node::new("a")).set_u32("phandle", 7);
        let max = root.max_phandle();
        let (p, max) = root.ensure_child("b").ensure_phandle(max);
        assert_eq!((p, max), (8, 8));
        assert_eq!(root.ensure_child("b").ensure_phandle(max), (8, 8));
    }

    #[test]
    fn walk_visits_with_paths() {
        let mut root = Node::new("");
        root.ensure_child("a").ensure_child("b@1");
        let mut seen = Vec::new();
        root.walk("/", &mut |p, _| seen.push(p.to_string()));
        assert_eq!(seen, ["/", "/a", "/a/b@1"]);
    }
}
