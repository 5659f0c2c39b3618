//! The host flash at run time: found through the BMC (HIOMAP) in the LPC firmware space,
//! its partition table checked, `BOOTKERNEL` loaded when no kernel was preloaded, and the
//! `NVRAM` partition kept in step with the OPAL NVRAM calls.

use super::{console, power};
use log::{info, warn};
use oxiboot::flash::{FlashDevice, FlashError, LoadedPayload, Pnor};
use oxiboot_platform::hiomap::Hiomap;
use oxiboot_platform::mmio::CiRegion;
use oxiboot_platform::model::Platform;

/// The flash as the firmware reaches it: a window in LPC firmware space.
pub struct LpcFlash {
    region: CiRegion,
    /// The HIOMAP session, if the BMC speaks it (writes are then committed through it).
    hiomap: Option<Hiomap>,
}

impl FlashDevice for LpcFlash {
    fn size(&self) -> u64 {
        self.region.size()
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> bool {
        self.region.read(offset, buf)
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> bool {
        if !self.region.write(offset, data) {
            return false;
        }
        match self.hiomap.as_mut() {
            Some(h) => {
                power::with_bmc(|bt| h.commit(bt, &console::timebase(), offset, data.len() as u64).is_ok())
                    .unwrap_or(false)
            }
            None => true,
        }
    }
}

/// The opened flash.
pub static FLASH: spin::Mutex<Option<Pnor<LpcFlash>>> = spin::Mutex::new(None);

/// Finds the flash and checks its partition table. Problems are reported; the firmware
/// goes on without flash.
pub fn attach(platform: &Platform) {
    let Some(fw) = platform.flash else { return };
    // Ask the BMC to map the whole flash writable (QEMU's BMC, and OpenPOWER BMCs).
    let mapped = power::with_bmc(|bt| {
        let tb = console::timebase();
        let mut h = Hiomap::open(bt, &tb)?;
        let size = h.info.flash_size;
        let w = h.create_window(bt, &tb, 0, size, true)?;
        Ok::<_, oxiboot_platform::hiomap::HiomapError>((h, w))
    });
    let (hiomap, lpc_address, size) = match mapped {
        Some(Ok((h, w))) => {
            info!("flash: {} MiB, window at LPC {:#x} (HIOMAP)", w.size >> 20, w.lpc_address);
            (Some(h), w.lpc_address, w.size)
        }
        Some(Err(e)) => {
            info!("flash: no HIOMAP ({e}); trying LPC firmware address 0");
            (None, 0, fw.size)
        }
        None => (None, 0, fw.size),
    };
    if lpc_address.saturating_add(size) > fw.size {
        warn!("flash: window beyond the LPC firmware space, ignored");
        return;
    }
    // SAFETY: the window lies in the LPC firmware space the device tree maps, where the BMC
    // just mapped the flash.
    let region = unsafe { CiRegion::new(fw.mmio + lpc_address, size) };
    match Pnor::open(LpcFlash { region, hiomap }) {
        Ok(pnor) => {
            for p in pnor.table().partitions() {
                info!(
                    "flash: {:<16} {:#010x}..{:#010x}{}",
                    p.name,
                    p.base,
                    p.end(),
                    if p.has_ecc() { " ECC" } else { "" }
                );
            }
            *FLASH.lock() = Some(pnor);
        }
        Err(FlashError::Table(oxiboot_pnor::Error::BadMagic { found: 0xffff_ffff })) => {
            info!("flash: erased (no partition table)");
        }
        Err(e) => warn!("flash: unusable: {e}"),
    }
}

/// Loads BOOTKERNEL into the given areas (see `boot.rs` for where they are).
pub fn load_bootkernel(
    scratch: &mut [u8],
    staging: &mut [u8],
    kernel: &mut [u8],
    initramfs: &mut [u8],
) -> Option<Result<LoadedPayload, FlashError>> {
    let mut flash = FLASH.lock();
    let pnor = flash.as_mut()?;
    pnor.table().find(oxiboot_pnor::BOOTKERNEL)?;
    Some(pnor.load_bootkernel(scratch, staging, kernel, initramfs))
}

/// Fills `nvram` from the NVRAM partition; returns how many bytes came from flash.
pub fn load_nvram(nvram: &mut [u8]) -> usize {
    let mut flash = FLASH.lock();
    let Some(pnor) = flash.as_mut() else { return 0 };
    pnor.nvram_capacity().map_or(0, |_| match pnor.read_nvram(nvram) {
        Ok(n) => n,
        Err(e) => {
            warn!("flash: {e}");
            0
        }
    })
}

/// Writes NVRAM bytes through to flash (if there is an NVRAM partition).
pub fn store_nvram(offset: usize, data: &[u8]) {
    let mut flash = FLASH.lock();
    let Some(pnor) = flash.as_mut() else { return };
    if pnor.nvram_capacity().is_some() {
        if let Err(e) = pnor.write_nvram(offset as u64, data) {
            warn!("flash: {e}");
        }
    }
}

/// The content of flash partition `name` (ECC removed); `None` without flash or without
/// that partition.
pub fn read_partition(name: &str, label: &'static str) -> Option<Result<alloc::vec::Vec<u8>, FlashError>> {
    let mut flash = FLASH.lock();
    flash.as_mut()?.read_named(name, label)
}
