//! An LPAR's memory as the hypervisor sees it: one contiguous carve of host memory that the
//! LPAR addresses from real address 0. Every guest-supplied address the hypervisor touches
//! (hcall arguments, RTAS argument blocks) goes through [`Carve::host_range`], so a guest can
//! never make the hypervisor read or write outside its own memory.

use core::fmt;

/// A guest real address range outside the LPAR's memory, or wrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutsideCarve {
    /// First guest real address asked for.
    pub address: u64,
    /// Length asked for.
    pub len: u64,
}

impl fmt::Display for OutsideCarve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:#x} bytes at guest real address {:#x} are outside the LPAR's memory",
            self.len, self.address
        )
    }
}

/// Where an LPAR's memory is in host memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Carve {
    /// Host physical address of guest real address 0.
    pub host_base: u64,
    /// Size in bytes.
    pub size: u64,
}

impl Carve {
    /// The host physical address of `len` bytes at guest real address `address`, if all of
    /// them are inside the carve. Zero-length ranges must still start inside it.
    pub fn host_range(&self, address: u64, len: u64) -> Result<u64, OutsideCarve> {
        let outside = OutsideCarve { address, len };
        let end = address.checked_add(len).ok_or(outside)?;
        if address >= self.size || end > self.size {
            return Err(outside);
        }
        self.host_base.checked_add(address).ok_or(outside)
    }

    /// Whether the guest real range lies inside the carve.
    pub fn contains(&self, address: u64, len: u64) -> bool {
        self.host_range(address, len).is_ok()
    }
}

/// Byte access to an LPAR's memory by guest real address (the firmware implements it over
/// the carve; tests over a vector).
pub trait GuestMemory {
    /// Copies guest memory at `address` into `buf`.
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), OutsideCarve>;
    /// Copies `data` into guest memory at `address`.
    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), OutsideCarve>;

    /// Reads a big-endian 32-bit word.
    fn read_be32(&self, address: u64) -> Result<u32, OutsideCarve> {
        let mut b = [0u8; 4];
        self.read(address, &mut b)?;
        Ok(u32::from_be_bytes(b))
    }

    /// Writes a big-endian 32-bit word.
    fn write_be32(&mut self, address: u64, value: u32) -> Result<(), OutsideCarve> {
        self.write(address, &value.to_be_bytes())
    }
}

/// Guest memory held in a vector (host tests, and staging images before they are copied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VecMemory(pub alloc::vec::Vec<u8>);

impl GuestMemory for VecMemory {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), OutsideCarve> {
        let carve = Carve { host_base: 0, size: self.0.len() as u64 };
        let at = carve.host_range(address, buf.len() as u64)? as usize;
        buf.copy_from_slice(&self.0[at..at + buf.len()]);
        Ok(())
    }

    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), OutsideCarve> {
        let carve = Carve { host_base: 0, size: self.0.len() as u64 };
        let at = carve.host_range(address, data.len() as u64)? as usize;
        self.0[at..at + data.len()].copy_from_slice(data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LPAR: Carve = Carve { host_base: 0x4000_0000, size: 0x8000_0000 };

    #[test]
    fn addresses_inside_map_to_the_carve() {
        assert_eq!(LPAR.host_range(0, 8), Ok(0x4000_0000));
        assert_eq!(LPAR.host_range(0x7fff_fff8, 8), Ok(0xbfff_fff8));
        assert_eq!(LPAR.host_range(0x7fff_ffff, 0), Ok(0xbfff_ffff));
    }

    #[test]
    fn addresses_outside_or_wrapping_are_refused() {
        assert!(LPAR.host_range(0x7fff_fff9, 8).is_err(), "runs past the end");
        assert!(LPAR.host_range(0x8000_0000, 0).is_err(), "starts at the end");
        assert!(LPAR.host_range(u64::MAX - 3, 8).is_err(), "wraps");
        assert!(LPAR.host_range(0xc000_0000_0000_0000, 8).is_err(), "a kernel virtual address");
        let e = LPAR.host_range(0x9000_0000, 16).unwrap_err();
        assert_eq!(
            e.to_string(),
            "0x10 bytes at guest real address 0x90000000 are outside the LPAR's memory"
        );
    }

    #[test]
    fn vec_memory_checks_bounds() {
        let mut m = VecMemory(alloc::vec![0; 16]);
        assert!(m.write_be32(12, 0x0102_0304).is_ok());
        assert_eq!(m.read_be32(12), Ok(0x0102_0304));
        assert_eq!(m.0[12..16], [1, 2, 3, 4]);
        assert!(m.write_be32(13, 1).is_err());
        assert!(m.read_be32(16).is_err());
    }
}
