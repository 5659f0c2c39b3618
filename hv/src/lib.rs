//! The partitioning hypervisor embedded in oxiboot (partitioned mode).
//!
//! This crate will hold everything that turns one POWER9 machine into several logical
//! partitions (LPARs): the partition configuration and its checks, static carving of cores
//! and memory, per-LPAR device trees, the hypercall (`sc 1`) and RTAS surface a Linux
//! `pseries` kernel expects, and the PAPR nested API v2 (`H_GUEST_*`) that lets KVM inside an
//! LPAR run L2 guests on shadow partition-scoped page tables. It is `no_std` logic, tested on
//! the build host; what must touch the processor (partition switch, interrupt entry) goes
//! through traits implemented in the firmware image. Nothing is implemented yet: partitioned
//! mode is tracked by its own issue.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod config;
pub mod lpar;
pub mod lpar_tree;
pub mod nested;
pub mod papr;
pub mod radix;
