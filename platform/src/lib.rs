//! POWER9 chip support: everything that knows how the hardware is reached.
//!
//! This crate holds the processor (SPR layouts, timebase, doorbells, `stop`), the XSCOM
//! bus, the LPC bus and the devices oxiboot drives on it (16550 UART, IPMI BT interface to
//! the BMC), and the platform model: the machine as described by the device tree the boot
//! firmware hands over (chips, cores, threads, memory, bus addresses). Register layouts are
//! data (`bitflags`, named after the Power ISA / POWER9 user manual fields); the few
//! instructions that touch hardware live in [`cpu`] and [`mmio`] and only build for
//! `powerpc64`. Drivers are generic over small bus traits so host tests drive them with fakes.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod bt;
pub mod clock;
#[cfg(target_arch = "powerpc64")]
pub mod cpu;
pub mod hiomap;
pub mod ipmi;
pub mod lpc;
pub mod mmio;
pub mod model;
pub mod rtc;
pub mod spr;
pub mod uart;
pub mod xive;
pub mod xscom;
