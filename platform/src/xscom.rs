//! XSCOM: the processor's window onto the SCOM (serial communication) registers of the chip
//! units, as 64-bit big-endian MMIO.
//!
//! On POWER9 a SCOM register at PCB address `pcba` of a chip is the doubleword at
//! `xscom_base + (pcba << 3)`, where `xscom_base` is that chip's `xscom@…` node `reg`.
//! The access completes or fails in HMER: XSCOM_DONE, XSCOM_FAIL and a 3-bit PCB status.
//!
//! ```text
//!  PCB address (31 bits used)          MMIO address
//!  +-----------------------------+     +----------------+-------------------------+-----+
//!  | chiplet | port | register   | ->  | chip's base    | pcba                    | 000 |
//!  +-----------------------------+     +----------------+-------------------------+-----+
//!                                        63            34 33                      3 2   0
//! ```

use crate::clock::{wait_until, Clock};
use crate::mmio::Mmio64;
use crate::spr::Hmer;
use core::fmt;

/// The chip identification (CFAM ID) register.
pub const CHIP_ID_REGISTER: u32 = 0x000F_000F;

/// Largest PCB address a direct XSCOM access can reach. Addresses with bit 31 or above set
/// (indirect SCOMs, which go through a second form) are refused.
pub const MAX_DIRECT_PCBA: u32 = 0x7FFF_FFFF;

/// Offset in a chip's XSCOM window of the register at PCB address `pcba` (POWER9 encoding).
pub fn p9_mmio_offset(pcba: u32) -> Option<u64> {
    (pcba <= MAX_DIRECT_PCBA).then_some((pcba as u64) << 3)
}

/// What went wrong with an XSCOM access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XscomError {
    /// No chip with this id has an XSCOM window.
    UnknownChip(u32),
    /// The address is not a direct SCOM address or lies outside the chip's window.
    BadAddress(u32),
    /// The PCB reported a failure, with its status code.
    Failed {
        /// PCB address of the failed access.
        pcba: u32,
        /// PCB status from HMER.
        status: u8,
    },
    /// HMER never reported completion.
    Timeout(u32),
}

impl fmt::Display for XscomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownChip(c) => write!(f, "no XSCOM window for chip {c}"),
            Self::BadAddress(a) => write!(f, "SCOM address {a:#x} is not reachable directly"),
            Self::Failed { pcba, status } => {
                write!(f, "SCOM access to {pcba:#x} failed, PCB status {status}")
            }
            Self::Timeout(a) => write!(f, "SCOM access to {a:#x} never completed"),
        }
    }
}

/// Where XSCOM completion is reported (HMER on hardware).
pub trait XscomStatus {
    /// Clears the XSCOM done/fail/status bits before an access.
    fn clear(&self);
    /// Reads the current status.
    fn read(&self) -> Hmer;
}

/// HMER of the executing thread.
#[cfg(target_arch = "powerpc64")]
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadHmer;

#[cfg(target_arch = "powerpc64")]
impl XscomStatus for ThreadHmer {
    fn clear(&self) {
        use crate::spr::num;
        // HMER writes are ANDed in: zero bits clear, one bits keep.
        let keep = !(Hmer::XSCOM_DONE | Hmer::XSCOM_FAIL | Hmer::XSCOM_STATUS).bits();
        // SAFETY: clearing the XSCOM status bits of HMER only affects XSCOM reporting.
        unsafe { crate::cpu::mtspr::<{ num::HMER }>(keep) };
    }
    fn read(&self) -> Hmer {
        Hmer::from_bits_retain(crate::cpu::mfspr::<{ crate::spr::num::HMER }>())
    }
}

/// One chip's XSCOM window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XscomWindow {
    /// Chip id (`ibm,chip-id`).
    pub chip_id: u32,
    /// Physical base address.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
}

/// How long an access may take before it counts as lost.
const COMPLETION_TIMEOUT_US: u64 = 10_000;

/// XSCOM accessor over a set of chip windows.
pub struct Xscom<'a, M: Mmio64, S: XscomStatus, C: Clock> {
    windows: &'a [XscomWindow],
    mmio: M,
    status: S,
    clock: &'a C,
}

impl<'a, M: Mmio64, S: XscomStatus, C: Clock> Xscom<'a, M, S, C> {
    /// An accessor for `windows`.
    pub fn new(windows: &'a [XscomWindow], mmio: M, status: S, clock: &'a C) -> Self {
        Self { windows, mmio, status, clock }
    }

    fn address(&self, chip_id: u32, pcba: u32) -> Result<u64, XscomError> {
        let window =
            self.windows.iter().find(|w| w.chip_id == chip_id).ok_or(XscomError::UnknownChip(chip_id))?;
        let offset = p9_mmio_offset(pcba).ok_or(XscomError::BadAddress(pcba))?;
        if offset + 8 > window.size {
            return Err(XscomError::BadAddress(pcba));
        }
        Ok(window.base + offset)
    }

    fn complete(&self, pcba: u32) -> Result<(), XscomError> {
        let mut hmer = Hmer::empty();
        wait_until(self.clock, COMPLETION_TIMEOUT_US, || {
            hmer = self.status.read();
            hmer.contains(Hmer::XSCOM_DONE)
        })
        .map_err(|_| XscomError::Timeout(pcba))?;
        if hmer.contains(Hmer::XSCOM_FAIL) {
            return Err(XscomError::Failed { pcba, status: hmer.xscom_status() });
        }
        Ok(())
    }

    /// Reads the SCOM register `pcba` of chip `chip_id`.
    pub fn read(&self, chip_id: u32, pcba: u32) -> Result<u64, XscomError> {
        let addr = self.address(chip_id, pcba)?;
        self.status.clear();
        let value = self.mmio.read_be64(addr);
        self.complete(pcba)?;
        Ok(value)
    }

    /// Writes the SCOM register `pcba` of chip `chip_id`.
    pub fn write(&self, chip_id: u32, pcba: u32, value: u64) -> Result<(), XscomError> {
        let addr = self.address(chip_id, pcba)?;
        self.status.clear();
        self.mmio.write_be64(addr, value);
        self.complete(pcba)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use core::cell::Cell;
    use std::collections::HashMap;

    /// A chip whose SCOM registers are a map; unknown registers fail like QEMU's model.
    struct FakeScom {
        regs: std::cell::RefCell<HashMap<u64, u64>>,
        hmer: Cell<u64>,
        silent: bool,
    }

    impl Mmio64 for &FakeScom {
        fn read_be64(&self, addr: u64) -> u64 {
            match self.regs.borrow().get(&addr) {
                Some(&v) => {
                    self.finish(false);
                    v
                }
                None => {
                    self.finish(true);
                    0
                }
            }
        }
        fn write_be64(&self, addr: u64, value: u64) {
            self.regs.borrow_mut().insert(addr, value);
            self.finish(false);
        }
    }

    impl FakeScom {
        fn finish(&self, fail: bool) {
            if self.silent {
                return;
            }
            let mut bits = Hmer::XSCOM_DONE.bits();
            if fail {
                bits |= Hmer::XSCOM_FAIL.bits() | (0b011 << (63 - 23));
            }
            self.hmer.set(self.hmer.get() | bits);
        }
    }

    impl XscomStatus for &FakeScom {
        fn clear(&self) {
            self.hmer.set(0);
        }
        fn read(&self) -> Hmer {
            Hmer::from_bits_retain(self.hmer.get())
        }
    }

    const BASE: u64 = 0x0006_03FC_0000_0000;

    fn chip(silent: bool) -> FakeScom {
        let mut regs = HashMap::new();
        regs.insert(BASE + (0xF000F << 3), 0x220d_1049_0000_8000);
        FakeScom { regs: std::cell::RefCell::new(regs), hmer: Cell::new(0), silent }
    }

    fn clock() -> FakeClock {
        FakeClock { now: Cell::new(0), step: 100, freq: 1_000_000 }
    }

    #[test]
    fn p9_encoding() {
        assert_eq!(p9_mmio_offset(0xF000F), Some(0x78_0078));
        assert_eq!(p9_mmio_offset(0x0501_2900), Some(0x2809_4800));
        assert_eq!(p9_mmio_offset(0x8000_0000), None);
    }

    #[test]
    fn read_chip_id() {
        let scom = chip(false);
        let c = clock();
        let windows = [XscomWindow { chip_id: 0, base: BASE, size: 0x4_0000_0000 }];
        let x = Xscom::new(&windows, &scom, &scom, &c);
        assert_eq!(x.read(0, CHIP_ID_REGISTER), Ok(0x220d_1049_0000_8000));
    }

    #[test]
    fn failures_are_reported() {
        let scom = chip(false);
        let c = clock();
        let windows = [XscomWindow { chip_id: 0, base: BASE, size: 0x4_0000_0000 }];
        let x = Xscom::new(&windows, &scom, &scom, &c);
        assert_eq!(x.read(0, 0x1234), Err(XscomError::Failed { pcba: 0x1234, status: 3 }));
        assert_eq!(x.read(7, CHIP_ID_REGISTER), Err(XscomError::UnknownChip(7)));
        assert_eq!(x.read(0, 0x8000_0001), Err(XscomError::BadAddress(0x8000_0001)));
        let small = [XscomWindow { chip_id: 0, base: BASE, size: 0x1000 }];
        let x = Xscom::new(&small, &scom, &scom, &c);
        assert_eq!(x.read(0, CHIP_ID_REGISTER), Err(XscomError::BadAddress(CHIP_ID_REGISTER)));
    }

    #[test]
    fn write_then_read_back() {
        let scom = chip(false);
        let c = clock();
        let windows = [XscomWindow { chip_id: 0, base: BASE, size: 0x4_0000_0000 }];
        let x = Xscom::new(&windows, &scom, &scom, &c);
        assert_eq!(x.write(0, 0x10, 42), Ok(()));
        assert_eq!(x.read(0, 0x10), Ok(42));
    }

    #[test]
    fn missing_completion_times_out() {
        let scom = chip(true);
        let c = clock();
        let windows = [XscomWindow { chip_id: 0, base: BASE, size: 0x4_0000_0000 }];
        let x = Xscom::new(&windows, &scom, &scom, &c);
        assert_eq!(x.read(0, CHIP_ID_REGISTER), Err(XscomError::Timeout(CHIP_ID_REGISTER)));
    }
}
