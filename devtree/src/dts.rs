//! DTS text for people (debugging, the HDAT tool, comparing with `dtc -O dts` output).

use crate::node::Node;
use alloc::format;
use alloc::string::String;
use core::fmt::Write;

fn printable_strings(v: &[u8]) -> Option<alloc::vec::Vec<&str>> {
    let body = v.strip_suffix(&[0])?;
    if body.is_empty() {
        return None;
    }
    let parts: alloc::vec::Vec<&str> =
        body.split(|&b| b == 0).map(|s| core::str::from_utf8(s).ok()).collect::<Option<_>>()?;
    let ok = parts.iter().all(|s| !s.is_empty() && s.chars().all(|c| (' '..='~').contains(&c)));
    ok.then_some(parts)
}

/// A property value as DTS: strings, `<cells>` or `[bytes]`.
pub fn format_value(v: &[u8]) -> String {
    if v.is_empty() {
        return String::from("(empty)");
    }
    if let Some(strs) = printable_strings(v) {
        let quoted: alloc::vec::Vec<String> =
            strs.iter().map(|s| format!("\"{}\"", s.replace('"', "\\\""))).collect();
        return quoted.join(", ");
    }
    let mut out = String::new();
    if v.len().is_multiple_of(4) {
        out.push('<');
        for (i, c) in v.chunks_exact(4).enumerate() {
            let _ = write!(
                out,
                "{}0x{:x}",
                if i > 0 { " " } else { "" },
                u32::from_be_bytes([c[0], c[1], c[2], c[3]])
            );
        }
        out.push('>');
    } else {
        out.push('[');
        for (i, b) in v.iter().enumerate() {
            let _ = write!(out, "{}{:02x}", if i > 0 { " " } else { "" }, b);
        }
        out.push(']');
    }
    out
}

fn node(out: &mut String, n: &Node, depth: usize) {
    let indent = "\t".repeat(depth);
    let name = if depth == 0 { "/" } else { n.name() };
    let _ = writeln!(out, "{indent}{name} {{");
    for p in n.properties() {
        if p.value.is_empty() {
            let _ = writeln!(out, "{indent}\t{};", p.name);
        } else {
            let _ = writeln!(out, "{indent}\t{} = {};", p.name, format_value(&p.value));
        }
    }
    for c in n.children() {
        out.push('\n');
        node(out, c, depth + 1);
    }
    let _ = writeln!(out, "{indent}}};");
}

/// The tree as DTS source (without `/dts-v1/;` header and reservations).
pub fn to_dts(root: &Node) -> String {
    let mut out = String::new();
    node(&mut out, root, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_render_like_dtc() {
        assert_eq!(format_value(b"ns16550\0pnpPNP,501\0"), "\"ns16550\", \"pnpPNP,501\"");
        assert_eq!(format_value(&[0, 0, 0, 4, 0, 0, 0x3, 0xf8]), "<0x4 0x3f8>");
        assert_eq!(format_value(&[1, 2, 3]), "[01 02 03]");
        assert_eq!(format_value(&[]), "(empty)");
        assert_eq!(format_value(b"\0"), "[00]");
    }

    #[test]
    fn whole_tree() {
        let mut root = Node::new("");
        root.set_str("model", "x");
        root.ensure_child("chosen").set_flag("linux,booted");
        assert_eq!(to_dts(&root), "/ {\n\tmodel = \"x\";\n\n\tchosen {\n\t\tlinux,booted;\n\t};\n};\n");
    }
}
