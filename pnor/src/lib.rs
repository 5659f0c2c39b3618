//! OpenPOWER PNOR flash: the FFS partition table and the ECC that protects partitions.
//! `no_std` + `alloc`, shared by the firmware (reading the flash) and the host tool.
#![cfg_attr(not(test), no_std)]
