//! HDAT: the system description that FSP-based IBM POWER machines leave for the host
//! firmware instead of a device tree.
//!
//! This crate will parse the SPIRA-H and SPIRA-S structures and the HDIF-format sections
//! they point to (processor chips, cores and threads, memory, I/O hubs, LPC/BMC/FSP, TOD,
//! VPD and location codes, I2C, TPM, host-services data) with every pointer, offset and
//! count checked against the mapped window, and build from them the device tree the rest of
//! oxiboot (and Linux) consumes. `no_std` + `alloc`, golden-tested on the host against a real
//! POWER9 dump. Not implemented yet: tracked by its own issue.
#![cfg_attr(not(test), no_std)]
