//! oxiboot's developer tooling: building the firmware image, installing what the build and
//! the tests need on a Debian machine, and running QEMU `powernv9` with a bounded time.
//! Used by `cargo xtask` and by the integration tests in `tests/`.

pub mod bench;
pub mod deps;
pub mod fuzz;
pub mod image;
pub mod lpar;
pub mod nested;
pub mod payload;
pub mod qemu;

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_path_buf()
}

/// Where `cargo xtask build` writes the firmware image.
pub fn image_path() -> PathBuf {
    root().join("target/oxiboot.lid")
}
