//! Device trees: the in-memory, editable form oxiboot builds (for Linux in OPAL mode, for
//! each LPAR, from HDAT), its flattened form (FDT, the blob a kernel receives), a reader of
//! FDT blobs that checks every offset and length (a damaged blob is an error, never a panic),
//! a node-by-node comparison of two trees, and DTS text for people.
//!
//! `no_std` + `alloc`. Property values are raw big-endian bytes as in the FDT; the setters and
//! getters convert cells, 64-bit values and string lists.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod diff;
mod dts;
mod flatten;
mod node;
mod parse;

pub use diff::{diff, Difference};
pub use dts::to_dts;
pub use flatten::{to_fdt, FdtOptions};
pub use node::{Node, Property};
pub use parse::{fdt_total_size, from_fdt, validate_fdt, FdtError, ParsedFdt};
