//! HDAT boots: the structures an FSP (Flexible Service Processor) or hostboot looks for in
//! our image, and turning the HDAT (Hypervisor Data Area) it builds into a device tree.
//!
//! The image carries a NACA (Node Address Communication Area) at offset 0x4000 pointing at
//! its SPIRA-H, whose host data area n-tuple asks for SPIRA-S at [`HDAT_AREA_BASE`], and a
//! PROCIN structure that starts the threads at [`HDAT_ENTRY`] (big-endian, r3 = 0). A boot
//! with r3 = 0 is therefore an HDAT boot; a boot with an FDT in r3 (QEMU, OpenPOWER with an
//! FDT handoff) never looks at these. See `docs/hdat.md`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ptr;
use log::info;
use oxiboot::memmap::{HDAT_AREA_BASE, HDAT_AREA_SIZE};
use oxiboot_devtree::{to_fdt, FdtOptions};
use oxiboot_hdat::handoff::{self, NACA_LEN, PROCIN_LEN, PROCIN_OFFSET, SPIRAH_LEN, SPIRAH_OFFSET};
use oxiboot_hdat::SpiraH;
use oxiboot_platform::cpu::mfspr;
use oxiboot_platform::spr::num;

/// Image offset of the HDAT entry stub in `entry.S` (PROCIN's NIA).
pub const HDAT_ENTRY: u64 = 0x80;
/// MSR the threads start with on an HDAT boot: 64-bit (MSR[SF]) hypervisor (MSR[HV]) real
/// mode, big-endian; the common entry code switches to little-endian.
const PROCIN_MSR: u64 = (1 << 63) | (1 << 60);

/// The NACA, at image offset 0x4000 (the linker script places `.naca`).
#[used]
#[link_section = ".naca"]
static NACA: [u8; NACA_LEN] = handoff::naca(SPIRAH_OFFSET);

/// SPIRA-H, at image offset 0x10400; the service processor fills in its host data area
/// (memory written from outside the program: `static mut`, only ever read volatile).
#[used]
#[link_section = ".spirah"]
static mut SPIRA_H: [u8; SPIRAH_LEN] = handoff::spira_h(HDAT_AREA_BASE, HDAT_AREA_SIZE as u32, PROCIN_OFFSET);

/// PROCIN, at image offset 0x10800.
#[used]
#[link_section = ".procin"]
static PROCIN: [u8; PROCIN_LEN] = handoff::procin(HDAT_ENTRY, PROCIN_MSR);

/// Builds the flattened device tree from the HDAT the service processor left in the host
/// data area. The main heap must already be in place (the tree and its parse need more than
/// the early heap).
pub fn device_tree() -> Result<Vec<u8>, String> {
    // The service processor wrote into SPIRA-H after the image was built: read it from
    // memory, not from what the compiler knows of the initialiser.
    // SAFETY: SPIRA_H is a static of the image (relocated with the service processor's
    // updates) that no Rust code writes; reading it volatile has no side effect.
    let spira_h: [u8; SPIRAH_LEN] = unsafe { ptr::read_volatile(ptr::addr_of!(SPIRA_H)) };
    let header = SpiraH::parse(&spira_h).map_err(|e| format!("our SPIRA-H: {e}"))?;
    let area = header.host_data_area;
    let area_end = area.addr.checked_add(u64::from(area.alloc_len)).ok_or("host data area overflows")?;
    if area.addr < HDAT_AREA_BASE || area_end > HDAT_AREA_BASE + HDAT_AREA_SIZE {
        return Err(format!(
            "the host data area moved to {:#x}..{area_end:#x}, outside {HDAT_AREA_BASE:#x}..{:#x}",
            area.addr,
            HDAT_AREA_BASE + HDAT_AREA_SIZE
        ));
    }
    // SAFETY: the HDAT area is part of the firmware's reserved memory (memmap), used for
    // nothing else; on an HDAT boot the service processor has written it before starting us.
    let window = unsafe { core::slice::from_raw_parts(HDAT_AREA_BASE as *const u8, HDAT_AREA_SIZE as usize) };
    let pvr = mfspr::<{ num::PVR }>() as u32;
    let tree =
        oxiboot_hdat::parse(window, HDAT_AREA_BASE, &spira_h, pvr).map_err(|e| format!("HDAT: {e}"))?;
    let blob = to_fdt(&tree, &FdtOptions::default());
    info!("device tree built from HDAT (SPIRA-S at {:#x}, PVR {pvr:#010x}): {} bytes", area.addr, blob.len());
    Ok(blob)
}

const _: () = {
    assert!(
        HDAT_ENTRY >= 0x40 && HDAT_ENTRY + 8 <= 0x100,
        "the HDAT stub sits between the entry and the vectors"
    );
    assert!(HDAT_AREA_SIZE <= u32::MAX as u64);
};
