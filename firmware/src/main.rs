//! The oxiboot firmware image for POWER9.
//!
//! Built for the bare-metal target (`cargo xtask build`), this binary is the entry code,
//! exception vectors and boot flow in [`image`]. Built for the host (as `cargo test` and
//! `cargo clippy` do for every workspace member) it is only a stub that says so.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
extern crate alloc;

#[cfg(target_os = "none")]
mod image;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("oxiboot: this program is the POWER9 firmware image; build it with `cargo xtask build`");
    std::process::exit(2);
}
