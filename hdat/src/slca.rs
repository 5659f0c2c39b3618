//! SLCA (Slot Location Code Array): the tree of FRUs (Field Replaceable Units) and their
//! location codes, which other structures reference by index. It gives the `/vpd` node its
//! children (one per installed FRU whose VPD was collected), the `ibm,loc-code` of many nodes
//! and the system attention indicator LED.

use crate::error::Result;
use crate::hdif::Array;
use crate::tree::{join, new_child, unit, Ctx};
use crate::vpd::fru_node_name;
use crate::window::{until_nul, Rec};
use alloc::string::String;
use oxiboot_devtree::Node;

/// Bytes of one SLCA entry.
const ENTRY_LEN: usize = 0x68;
/// Size of a location code field.
pub const LOC_CODE_SIZE: usize = 80;
const INSTALLED: u8 = 2;
const VPD_COLLECTED: u8 = 2;

/// One SLCA entry.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// This entry's index.
    pub my_index: u16,
    /// Resource id (the unit address of its `/vpd` node).
    pub rsrc_id: u16,
    /// Two-letter FRU type.
    pub fru_id: [u8; 2],
    /// Index of the parent entry.
    pub parent_index: u16,
    /// Number of redundant copies following this entry.
    pub nr_dups: u8,
    /// Location code length.
    pub loc_code_len: u8,
    loc_code: &'a [u8],
    install: u8,
    vpd_collected: u8,
}

impl<'a> Entry<'a> {
    fn parse(r: Rec<'a>) -> Result<Self> {
        Ok(Self {
            my_index: r.be16(0)?,
            rsrc_id: r.be16(2)?,
            fru_id: r.array(4)?,
            parent_index: r.be16(6)?,
            loc_code_len: r.u8(15)?,
            loc_code: r.bytes(16, LOC_CODE_SIZE)?,
            nr_dups: r.u8(98)?,
            install: r.u8(102)?,
            vpd_collected: r.u8(103)?,
        })
    }

    /// The location code, at most `max` characters, as C `strncpy` into a `max`-byte field.
    pub fn loc_code(&self, max: usize) -> &'a [u8] {
        until_nul(&self.loc_code[..max.min(LOC_CODE_SIZE)])
    }

    /// `/vpd` node name: FRU type name and resource id.
    pub fn node_name(&self) -> String {
        unit(fru_node_name(self.fru_id), u64::from(self.rsrc_id))
    }
}

/// The SLCA entry array (empty when the SLCA is absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Slca<'a> {
    arr: Option<Array<'a>>,
}

impl<'a> Slca<'a> {
    /// Reads the SLCA n-tuple.
    pub fn load(ctx: &Ctx<'a>) -> Result<Self> {
        let Some(h) = ctx.first(ctx.t.slca, "SLCA  ")? else {
            return Ok(Self::default());
        };
        Ok(Self { arr: h.iarray(0, "SLCA entries")? })
    }

    /// Number of entries.
    pub fn count(&self) -> usize {
        self.arr.map_or(0, |a| a.len())
    }

    /// Entry `index`, if it exists and is complete.
    pub fn entry(&self, index: u16) -> Result<Option<Entry<'a>>> {
        let Some(a) = self.arr else { return Ok(None) };
        if usize::from(index) >= a.len() || a.actual_size() < ENTRY_LEN {
            return Ok(None);
        }
        Entry::parse(a.item(index.into())?).map(Some)
    }

    /// Sets `ibm,loc-code` on `node` from entry `index` (up to 79 characters).
    pub fn add_loc_code(&self, node: &mut Node, index: u16) -> Result<()> {
        if let Some(e) = self.entry(index)? {
            crate::tree::set_cstr(node, "ibm,loc-code", e.loc_code(LOC_CODE_SIZE - 1));
        }
        Ok(())
    }
}

/// Path of the first node named `name` strictly below `root_path`, in skiboot's
/// `dt_find_by_name` order (depth first, each child checked before its descendants).
pub fn find_by_name(root: &Node, root_path: &str, name: &str) -> Option<String> {
    fn go(n: &Node, path: &str, name: &str) -> Option<String> {
        for c in n.children() {
            let p = join(path, c.name());
            if c.name() == name {
                return Some(p);
            }
            if let Some(found) = go(c, &p, name) {
                return Some(found);
            }
        }
        None
    }
    go(root.find(root_path)?, root_path, name)
}

/// Deepest `/vpd` node created (path components).
const MAX_VPD_DEPTH: usize = 16;

/// Creates `/vpd` and one node per installed FRU with collected VPD, nested as in the SLCA.
pub fn init_vpd_node(ctx: &mut Ctx<'_>, slca: &Slca<'_>) -> Result<()> {
    let vpd = ctx.root.ensure_child("vpd");
    vpd.set_str("compatible", "ibm,opal-v3-vpd");
    vpd.set_u32("#size-cells", 0).set_u32("#address-cells", 1);
    let count = slca.count();
    let mut index = 0usize;
    while index < count {
        let Some(e) = slca.entry(index as u16)? else {
            index += 1;
            continue;
        };
        if e.install == INSTALLED && e.vpd_collected == VPD_COLLECTED {
            add_vpd_child(ctx, slca, &e, index)?;
        }
        index += usize::from(e.nr_dups) + 1;
    }
    Ok(())
}

fn add_vpd_child(ctx: &mut Ctx<'_>, slca: &Slca<'_>, e: &Entry<'_>, index: usize) -> Result<()> {
    let name = e.node_name();
    if find_by_name(&ctx.root, "/vpd", &name).is_some() {
        return Ok(());
    }
    let parent = if index == 0 {
        String::from("/vpd")
    } else {
        let Some(p) = slca.entry(e.parent_index)? else { return Ok(()) };
        match find_by_name(&ctx.root, "/vpd", &p.node_name()) {
            Some(path) => path,
            None => return Ok(()),
        }
    };
    // A real SLCA nests FRUs about 6 deep; a dump whose parent chain goes deeper is not
    // followed, which bounds the recursion of every later pass over the tree.
    if parent.matches('/').count() >= MAX_VPD_DEPTH {
        return Ok(());
    }
    let Some(parent) = ctx.node(&parent) else { return Ok(()) };
    let Some(node) = new_child(parent, &name) else { return Ok(()) };
    slca.add_loc_code(node, e.my_index)?;
    node.set("fru-type", e.fru_id.to_vec());
    node.set_u32("reg", e.rsrc_id.into());
    node.set_u32("#size-cells", 0).set_u32("#address-cells", 1);
    Ok(())
}

/// Adds the system attention indicator LED under `/ibm,opal/leds`: the entry of FRU type
/// `SA` (or the system VPD entry on FSP systems).
pub fn add_sai_node(ctx: &mut Ctx<'_>, slca: &Slca<'_>) -> Result<()> {
    let want = if ctx.root.child("fsps").is_some() { *b"SV" } else { *b"SA" };
    let Some(a) = slca.arr else { return Ok(()) };
    for k in 0..a.len() {
        let item = a.item(k)?;
        if item.array::<2>(4)? != want {
            continue;
        }
        let Some(e) = slca.entry(k as u16)? else { return Ok(()) };
        if e.loc_code_len == 0 || usize::from(e.loc_code_len) > LOC_CODE_SIZE {
            return Ok(());
        }
        let name = crate::window::text(e.loc_code(LOC_CODE_SIZE)).into_owned();
        if name.is_empty() || name.contains('/') {
            return Ok(());
        }
        if let Some(leds) = ctx.node("/ibm,opal/leds") {
            if let Some(n) = new_child(leds, &name) {
                n.set_str("led-types", "attention");
            }
        }
        return Ok(());
    }
    Ok(())
}
