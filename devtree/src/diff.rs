//! Node-by-node, property-by-property comparison of two trees. Children are matched by full
//! name (in order among equal names), so node and property order do not matter.

use crate::dts::format_value;
use crate::node::{child_path, Node};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// One difference between a first and a second tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// A node only the first tree has.
    NodeOnlyInFirst(String),
    /// A node only the second tree has.
    NodeOnlyInSecond(String),
    /// A property only the first tree has.
    PropOnlyInFirst {
        /// Node path.
        path: String,
        /// Property name.
        name: String,
    },
    /// A property only the second tree has.
    PropOnlyInSecond {
        /// Node path.
        path: String,
        /// Property name.
        name: String,
    },
    /// A property with different values.
    ValueDiffers {
        /// Node path.
        path: String,
        /// Property name.
        name: String,
        /// Value in the first tree.
        first: Vec<u8>,
        /// Value in the second tree.
        second: Vec<u8>,
    },
}

impl Difference {
    /// Path of the node concerned.
    pub fn path(&self) -> &str {
        match self {
            Self::NodeOnlyInFirst(p) | Self::NodeOnlyInSecond(p) => p,
            Self::PropOnlyInFirst { path, .. }
            | Self::PropOnlyInSecond { path, .. }
            | Self::ValueDiffers { path, .. } => path,
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NodeOnlyInFirst(p) => write!(f, "node {p}: only in the first tree"),
            Self::NodeOnlyInSecond(p) => write!(f, "node {p}: only in the second tree"),
            Self::PropOnlyInFirst { path, name } => write!(f, "{path}: {name} only in the first tree"),
            Self::PropOnlyInSecond { path, name } => write!(f, "{path}: {name} only in the second tree"),
            Self::ValueDiffers { path, name, first, second } => {
                write!(f, "{path}: {name} = {} vs {}", format_value(first), format_value(second))
            }
        }
    }
}

/// All differences between `first` and `second`, in depth-first order of `first`.
pub fn diff(first: &Node, second: &Node) -> Vec<Difference> {
    let mut out = Vec::new();
    compare(first, second, "/", &mut out);
    out
}

fn compare(a: &Node, b: &Node, path: &str, out: &mut Vec<Difference>) {
    for p in a.properties() {
        match b.prop(&p.name) {
            None => out.push(Difference::PropOnlyInFirst { path: path.into(), name: p.name.clone() }),
            Some(v) if v != p.value.as_slice() => out.push(Difference::ValueDiffers {
                path: path.into(),
                name: p.name.clone(),
                first: p.value.clone(),
                second: v.to_vec(),
            }),
            Some(_) => {}
        }
    }
    for p in b.properties() {
        if a.prop(&p.name).is_none() {
            out.push(Difference::PropOnlyInSecond { path: path.into(), name: p.name.clone() });
        }
    }
    let mut used = alloc::vec![false; b.children().len()];
    for ca in a.children() {
        let cpath = child_path(path, ca.name());
        let matched = b.children().iter().enumerate().find(|(i, cb)| !used[*i] && cb.name() == ca.name());
        match matched {
            Some((i, cb)) => {
                used[i] = true;
                compare(ca, cb, &cpath, out);
            }
            None => out.push(Difference::NodeOnlyInFirst(cpath)),
        }
    }
    for (i, cb) in b.children().iter().enumerate() {
        if !used[i] {
            out.push(Difference::NodeOnlyInSecond(child_path(path, cb.name())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn order_does_not_matter_and_each_kind_is_found() {
        let mut a = Node::new("");
        a.set_u32("x", 1).set_u32("y", 2);
        a.ensure_child("n@1").set_str("s", "one");
        a.ensure_child("only-a");
        let mut b = Node::new("");
        b.set_u32("y", 2).set_u32("x", 1);
        b.ensure_child("only-b");
        b.ensure_child("n@1").set_str("s", "two").set_flag("extra");
        assert!(diff(&a, &a).is_empty());
        let d = diff(&a, &b);
        assert_eq!(d.len(), 4, "{d:?}");
        assert_eq!(d[0].to_string(), "/n@1: s = \"one\" vs \"two\"");
        assert_eq!(d[1], Difference::PropOnlyInSecond { path: "/n@1".into(), name: "extra".into() });
        assert_eq!(d[2], Difference::NodeOnlyInFirst("/only-a".into()));
        assert_eq!(d[3], Difference::NodeOnlyInSecond("/only-b".into()));
    }
}
