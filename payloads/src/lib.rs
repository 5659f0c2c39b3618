//! Payloads: what oxiboot boots and is tested with.
//!
//! Host-side (std) tooling used by `cargo xtask`: fetching the unmodified Debian ppc64el
//! kernel package from Debian's archive, building small test initramfs images from Debian's
//! `busybox-static`, and (later) the in-LPAR test programs and L2 test guests for the
//! hypervisor. Nothing here runs in the firmware. The OPAL-mode issue fills it in.
