//! HDAT (Hypervisor Data Area): the system description FSP-based (Flexible Service
//! Processor) IBM POWER machines, and OpenPOWER machines booted by hostboot with an FSP-style
//! handoff, leave for the host firmware instead of a device tree. This crate turns it into the
//! device tree skiboot (OPAL) builds from it.
//!
//! The input is the host data area as mapped in memory (a byte window and the physical address
//! of its first byte) plus a copy of SPIRA-H, whose host data area n-tuple says where SPIRA-S
//! is. Every address, offset, count and length taken from the dump is checked against the
//! window; damage is reported as an [`HdatError`], never a panic, and every loop is bounded by
//! the dump's own sizes. Handled (POWER9): service processor and BMC (Baseboard Management
//! Controller) with LPC (Low Pin Count) bus, UART and IPMI sensors; FRU (Field Replaceable
//! Unit) VPD (Vital Product Data) and the SLCA (Slot Location Code Array); cores, threads and
//! caches; IPL (Initial Program Load) parameters and secure boot; processor chips (XSCOM
//! register bus, interrupt controller, accelerators, nest MMU, time of day, chip id, I2C
//! devices, idle levels); memory ranges, DIMMs and hostboot reservations; I/O hubs, PHB (PCI
//! Host Bridge) stacks and the PCIe slot map; NVLink NPUs; TPM (Trusted Platform Module) event
//! log and container verification code. Each area has its own module. See `docs/hdat.md`.
//!
//! `no_std` + `alloc`.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod chip;
mod cpu;
mod error;
mod fru;
mod fsp;
pub mod golden;
pub mod handoff;
mod hdif;
mod i2c;
mod iohub;
mod iplparams;
mod memory;
mod npu;
mod slca;
mod spira;
mod tpm;
mod tree;
mod vpd;
mod window;

pub use error::{HdatError, Result};
pub use spira::{Ntuple, SpiraH, Tuples};
pub use window::Window;

use oxiboot_devtree::Node;

/// PVR (Processor Version Register) version field of POWER9 Nimbus/Cumulus.
pub const PVR_TYPE_P9: u32 = 0x004e;
/// PVR version field of POWER9 Axone.
pub const PVR_TYPE_P9P: u32 = 0x004f;
/// PVR of a POWER9 Nimbus DD2.0, the processor skiboot's HDAT test assumes.
pub const PVR_P9_NIMBUS_DD20: u32 = 0x004e_0200;

/// Magic number at the start of a flattened device tree (FDT).
pub const FDT_MAGIC: u32 = 0xd00d_feed;

/// Whether `header` starts like a flattened device tree. The firmware is entered either with
/// an FDT (QEMU, OpenPOWER with an FDT handoff) or with HDAT; see `docs/hdat.md`.
pub fn is_fdt(header: &[u8]) -> bool {
    header.get(..4).is_some_and(|m| u32::from_be_bytes([m[0], m[1], m[2], m[3]]) == FDT_MAGIC)
}

/// Builds the device tree from HDAT.
///
/// * `window`: the host data area as mapped, starting at physical address `window_base`
///   (every n-tuple address must fall inside it);
/// * `spira_h`: a copy of SPIRA-H (its host data area n-tuple locates SPIRA-S);
/// * `pvr`: the boot processor's PVR (names the CPU nodes and selects POWER9 specifics).
///
/// The returned tree has a `phandle` on every node (numbered depth first) and no private
/// bookkeeping properties; it is what skiboot's `parse_hdat` builds for the same data.
pub fn parse(window: &[u8], window_base: u64, spira_h: &[u8], pvr: u32) -> Result<Node> {
    let kind = pvr >> 16;
    if kind != PVR_TYPE_P9 && kind != PVR_TYPE_P9P {
        return Err(HdatError::UnsupportedProcessor(pvr));
    }
    let spirah = SpiraH::parse(spira_h)?;
    let win = window::Window::new(window, window_base);
    let tuples = spira::Tuples::from_spira_s(win, &spirah)?;
    let mut ctx = tree::Ctx::new(win, tuples, pvr);
    ctx.root.set_u32("#address-cells", 2).set_u32("#size-cells", 2);
    let slca = slca::Slca::load(&ctx)?;
    fsp::parse_bmc(&mut ctx, &slca)?;
    slca::init_vpd_node(&mut ctx, &slca)?;
    ctx.root.ensure_child("ibm,opal").ensure_child("leds");
    cpu::parse(&mut ctx)?;
    iplparams::parse(&mut ctx)?;
    chip::add_xscom(&mut ctx, &slca)?;
    memory::parse(&mut ctx, &slca)?;
    fsp::parse_fsp(&mut ctx)?;
    chip::add_chiptod(&mut ctx)?;
    chip::add_nx_and_nmmu(&mut ctx)?;
    iohub::parse(&mut ctx, &slca)?;
    npu::parse(&mut ctx)?;
    fru::parse(&mut ctx, &slca)?;
    slca::add_sai_node(&mut ctx, &slca)?;
    chip::add_stop_levels(&mut ctx)?;
    tpm::parse(&mut ctx)?;
    Ok(ctx.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdt_magic_is_recognized() {
        assert!(is_fdt(&[0xd0, 0x0d, 0xfe, 0xed, 0]));
        assert!(!is_fdt(&[0xd1, 0xf0, b'S', b'P']));
        assert!(!is_fdt(&[0xd0]));
    }

    #[test]
    fn other_processors_are_refused() {
        assert_eq!(parse(&[], 0, &[], 0x004d_0200), Err(HdatError::UnsupportedProcessor(0x004d_0200)));
    }
}
