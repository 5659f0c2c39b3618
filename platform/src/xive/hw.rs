//! What the XIVE driver needs from the machine: XSCOM register access, cache-inhibited MMIO
//! (the IC register page, notify port, ESB pages, indirect TIMA) and the RAM holding the
//! tables. The firmware image implements these on hardware; host tests use fakes.

use crate::clock::Clock;
use crate::mmio::Mmio64;
use crate::xscom::{Xscom, XscomError, XscomStatus};

/// SCOM registers of the chips.
pub trait XscomAccess {
    /// Reads the SCOM register `pcba` of chip `chip_id`.
    fn xscom_read(&mut self, chip_id: u32, pcba: u32) -> Result<u64, XscomError>;
    /// Writes the SCOM register `pcba` of chip `chip_id`.
    fn xscom_write(&mut self, chip_id: u32, pcba: u32, value: u64) -> Result<(), XscomError>;
}

/// Cache-inhibited accesses to device addresses (big-endian registers).
pub trait MmioAccess {
    /// 8-byte load.
    fn mmio_read64(&mut self, addr: u64) -> u64;
    /// 8-byte store.
    fn mmio_write64(&mut self, addr: u64, value: u64);
    /// 1-byte load.
    fn mmio_read8(&mut self, addr: u64) -> u8;
    /// 1-byte store.
    fn mmio_write8(&mut self, addr: u64, value: u8);
}

/// Firmware-owned RAM holding the XIVE tables, addressed physically. The driver only touches
/// addresses inside the regions it was given; implementations may still refuse others.
pub trait PhysMem {
    /// Copies RAM at `addr` into `buf`.
    fn mem_read(&mut self, addr: u64, buf: &mut [u8]);
    /// Copies `data` to RAM at `addr`.
    fn mem_write(&mut self, addr: u64, data: &[u8]);
    /// Makes earlier stores to table memory visible to the interrupt controller before
    /// the next MMIO (a `sync` on POWER9).
    fn mem_barrier(&mut self) {}
}

/// Everything the driver needs.
pub trait XiveHw: XscomAccess + MmioAccess + PhysMem {}

impl<T: XscomAccess + MmioAccess + PhysMem> XiveHw for T {}

impl<M: Mmio64, S: XscomStatus, C: Clock> XscomAccess for Xscom<'_, M, S, C> {
    fn xscom_read(&mut self, chip_id: u32, pcba: u32) -> Result<u64, XscomError> {
        self.read(chip_id, pcba)
    }

    fn xscom_write(&mut self, chip_id: u32, pcba: u32, value: u64) -> Result<(), XscomError> {
        self.write(chip_id, pcba, value)
    }
}

/// How many times a completion bit is polled before the operation counts as failed.
pub const POLL_LIMIT: u32 = 100_000;
