//! Bus access traits and their POWER9 implementations.
//!
//! Devices are reached with the MMU off (hypervisor real mode), where ordinary loads and
//! stores are cacheable: MMIO must use the cache-inhibited forms (`lbzcix`, `stbcix`,
//! `ldcix`, `stdcix`). Drivers take these traits so host tests can drive them with fakes.

/// A window of byte-wide device registers (an LPC I/O device: UART, IPMI BT).
pub trait ByteIo {
    /// Reads the register at `offset` in the window.
    fn read8(&self, offset: u32) -> u8;
    /// Writes the register at `offset` in the window.
    fn write8(&self, offset: u32, value: u8);
}

/// A big-endian 64-bit register space addressed by physical address (XSCOM).
pub trait Mmio64 {
    /// Loads the 64-bit big-endian register at `addr`.
    fn read_be64(&self, addr: u64) -> u64;
    /// Stores the 64-bit big-endian register at `addr`.
    fn write_be64(&self, addr: u64, value: u64);
}

/// Byte registers at a fixed physical address, reached with cache-inhibited accesses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CiByteWindow {
    base: u64,
    len: u32,
}

impl CiByteWindow {
    /// A window of `len` byte registers at physical address `base`.
    ///
    /// # Safety
    /// `base .. base + len` must be device registers that tolerate byte accesses.
    pub const unsafe fn new(base: u64, len: u32) -> Self {
        Self { base, len }
    }

    /// Physical address of the first register.
    pub fn base(&self) -> u64 {
        self.base
    }
}

#[cfg(target_arch = "powerpc64")]
impl ByteIo for CiByteWindow {
    fn read8(&self, offset: u32) -> u8 {
        if offset >= self.len {
            return 0xff;
        }
        let addr = self.base + offset as u64;
        let value: u64;
        // SAFETY: `new` guarantees the window is device registers; the offset is in range.
        unsafe { core::arch::asm!("lbzcix {0}, 0, {1}", out(reg) value, in(reg) addr, options(nostack)) };
        value as u8
    }

    fn write8(&self, offset: u32, value: u8) {
        if offset >= self.len {
            return;
        }
        let addr = self.base + offset as u64;
        // SAFETY: as in `read8`; the `sync` orders the store after earlier accesses.
        unsafe {
            core::arch::asm!("sync", "stbcix {0}, 0, {1}", in(reg) value as u64, in(reg) addr, options(nostack))
        };
    }
}

/// Physical address space reached with cache-inhibited doubleword accesses (the XSCOM
/// window). Addresses are checked by the callers that compute them.
#[derive(Debug, Clone, Copy, Default)]
pub struct CiMmio64;

#[cfg(target_arch = "powerpc64")]
impl Mmio64 for CiMmio64 {
    fn read_be64(&self, addr: u64) -> u64 {
        let raw: u64;
        // SAFETY: callers only pass addresses inside a device window taken from the device
        // tree; `ldcix` loads in the thread's byte order, the device is big-endian.
        unsafe {
            core::arch::asm!("sync", "ldcix {0}, 0, {1}", out(reg) raw, in(reg) addr, options(nostack))
        };
        u64::from_be(raw)
    }

    fn write_be64(&self, addr: u64, value: u64) {
        // SAFETY: as in `read_be64`.
        unsafe {
            core::arch::asm!("sync", "stdcix {0}, 0, {1}", in(reg) value.to_be(), in(reg) addr, options(nostack))
        };
    }
}

/// A range of physical memory-mapped storage (the flash in the LPC firmware window), read
/// and written with cache-inhibited accesses: 8 bytes at a time where aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CiRegion {
    base: u64,
    size: u64,
}

impl CiRegion {
    /// The region `[base, base + size)`.
    ///
    /// # Safety
    /// The range must be device memory that tolerates 1- and 8-byte accesses.
    pub const unsafe fn new(base: u64, size: u64) -> Self {
        Self { base, size }
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether `len` bytes at `offset` lie inside the region.
    pub fn contains(&self, offset: u64, len: usize) -> bool {
        offset.checked_add(len as u64).is_some_and(|end| end <= self.size)
    }
}

#[cfg(target_arch = "powerpc64")]
impl CiRegion {
    /// Reads `buf.len()` bytes at `offset`; `false` if out of range.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> bool {
        if !self.contains(offset, buf.len()) {
            return false;
        }
        let mut addr = self.base + offset;
        let mut i = 0;
        while i < buf.len() {
            if addr.is_multiple_of(8) && buf.len() - i >= 8 {
                let v: u64;
                // SAFETY: `new` guarantees device memory; the access is in range and aligned.
                unsafe { core::arch::asm!("ldcix {0}, 0, {1}", out(reg) v, in(reg) addr, options(nostack)) };
                // The doubleword comes in the thread's byte order; flash bytes are in address
                // order.
                buf[i..i + 8].copy_from_slice(&v.to_le_bytes());
                addr += 8;
                i += 8;
            } else {
                let v: u64;
                // SAFETY: as above, one byte.
                unsafe { core::arch::asm!("lbzcix {0}, 0, {1}", out(reg) v, in(reg) addr, options(nostack)) };
                buf[i] = v as u8;
                addr += 1;
                i += 1;
            }
        }
        true
    }

    /// Writes `data` at `offset`; `false` if out of range.
    pub fn write(&self, offset: u64, data: &[u8]) -> bool {
        if !self.contains(offset, data.len()) {
            return false;
        }
        for (i, &b) in data.iter().enumerate() {
            let addr = self.base + offset + i as u64;
            // SAFETY: `new` guarantees device memory; the byte is in range.
            unsafe {
                core::arch::asm!("stbcix {0}, 0, {1}", in(reg) b as u64, in(reg) addr, options(nostack))
            };
        }
        // SAFETY: a barrier only orders the stores.
        unsafe { core::arch::asm!("sync", options(nostack)) };
        true
    }
}
