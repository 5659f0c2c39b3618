//! oxiboot's developer tooling: building the firmware image, installing what the build and
//! the tests need on a Debian machine, and running QEMU `powernv9` with a bounded time.
//! Used by `cargo xtask` and by the integration tests in `tests/`.

pub mod bench;
pub mod deps;
pub mod fuzz;
pub mod image;
pub mod l2guest;
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

/// The image the QEMU tests boot: `OXIBOOT_IMAGE` if set, else [`image_path`]; panics with
/// what to run when it is missing (test helper).
pub fn image_for_tests() -> PathBuf {
    let path = std::env::var_os("OXIBOOT_IMAGE").map(PathBuf::from).unwrap_or_else(image_path);
    assert!(path.exists(), "{} is missing: run `cargo xtask build` (or `cargo xtask test`)", path.display());
    path
}

/// Target specification of the firmware (and of `kvmtest`, built for the same bare-metal
/// target).
pub const TARGET_SPEC: &str = "firmware/powerpc64le-oxiboot-none.json";
