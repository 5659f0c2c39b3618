//! The host-testable parts of `kvmtest` (the in-LPAR KVM test program, `src/main.rs`): the
//! encoder for the tiny L2 guest programs and the KVM ioctl numbers and structure layouts of
//! 64-bit PowerPC Linux. `no_std`; the program itself runs only on ppc64le Linux.
#![cfg_attr(not(test), no_std)]

pub mod guest;
pub mod kvm;
