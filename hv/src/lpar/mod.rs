//! The LPAR (logical partition) surface a Linux `pseries` kernel sees, as `no_std` logic the
//! firmware drives: memory checks, hcall arguments, RTAS, XICS interrupt presentation,
//! interrupt delivery, virtual terminals and where boot images go.

pub mod hcall_args;
pub mod inject;
pub mod layout;
pub mod memory;
pub mod rtas;
pub mod vty;
pub mod xics;
