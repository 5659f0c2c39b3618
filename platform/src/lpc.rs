//! LPC (Low Pin Count) bus: its address spaces and where they appear in physical memory.
//!
//! POWER9 reaches the LPC bus through the LPC master's OPB window; the device tree's
//! `lpc@0` node maps the three LPC address spaces (first cell of a child `reg`) onto it:
//! 0 = memory, 1 = I/O (UART at 0x3f8, IPMI BT at 0xe4, …), 3 = firmware (the flash).

use alloc::vec::Vec;

/// One of the LPC address spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LpcSpace {
    /// LPC memory space.
    Memory,
    /// LPC I/O space (legacy ISA ports).
    Io,
    /// LPC firmware space (where the BMC exposes the host flash).
    Firmware,
}

impl LpcSpace {
    /// The space named by the first address cell of an LPC child node.
    pub fn from_cell(cell: u32) -> Option<Self> {
        match cell {
            0 => Some(Self::Memory),
            1 => Some(Self::Io),
            3 => Some(Self::Firmware),
            _ => None,
        }
    }

    /// The address cell value of this space.
    pub fn cell(self) -> u32 {
        match self {
            Self::Memory => 0,
            Self::Io => 1,
            Self::Firmware => 3,
        }
    }
}

/// Where one LPC space appears in the physical address map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LpcWindow {
    /// The LPC space.
    pub space: LpcSpace,
    /// LPC address of the first byte of the window.
    pub lpc_base: u64,
    /// Physical (MMIO) address of the first byte of the window.
    pub mmio_base: u64,
    /// Size of the window in bytes.
    pub size: u64,
}

/// An LPC bus: the windows of its spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LpcBus {
    /// Chip the LPC master belongs to.
    pub chip_id: u32,
    /// Device-tree path of the `lpc` node.
    pub path: alloc::string::String,
    /// The mapped spaces.
    pub windows: Vec<LpcWindow>,
}

impl LpcBus {
    /// Physical address of `len` bytes at LPC address `addr` of `space`, if all of them lie
    /// in a mapped window.
    pub fn mmio_address(&self, space: LpcSpace, addr: u64, len: u64) -> Option<u64> {
        self.windows.iter().find_map(|w| {
            let offset = addr.checked_sub(w.lpc_base)?;
            let end = offset.checked_add(len)?;
            (w.space == space && end <= w.size).then_some(w.mmio_base + offset)
        })
    }

    /// The window of `space`, if mapped.
    pub fn window(&self, space: LpcSpace) -> Option<&LpcWindow> {
        self.windows.iter().find(|w| w.space == space)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn qemu_bus() -> LpcBus {
        // The windows QEMU powernv9 describes for chip 0.
        LpcBus {
            chip_id: 0,
            path: "/lpcm-opb@6030000000000/lpc@0".to_string(),
            windows: vec![
                LpcWindow {
                    space: LpcSpace::Memory,
                    lpc_base: 0,
                    mmio_base: 0x6030_e000_0000,
                    size: 0x1000_0000,
                },
                LpcWindow { space: LpcSpace::Io, lpc_base: 0, mmio_base: 0x6030_d001_0000, size: 0x1_0000 },
                LpcWindow {
                    space: LpcSpace::Firmware,
                    lpc_base: 0,
                    mmio_base: 0x6030_f000_0000,
                    size: 0x1000_0000,
                },
            ],
        }
    }

    #[test]
    fn io_ports_translate() {
        let bus = qemu_bus();
        assert_eq!(bus.mmio_address(LpcSpace::Io, 0x3f8, 8), Some(0x6030_d001_03f8));
        assert_eq!(bus.mmio_address(LpcSpace::Io, 0xe4, 3), Some(0x6030_d001_00e4));
    }

    #[test]
    fn out_of_window_is_refused() {
        let bus = qemu_bus();
        assert_eq!(bus.mmio_address(LpcSpace::Io, 0xfffe, 4), None);
        assert_eq!(bus.mmio_address(LpcSpace::Io, u64::MAX, 1), None);
        let no_io = LpcBus { windows: vec![], ..qemu_bus() };
        assert_eq!(no_io.mmio_address(LpcSpace::Io, 0x3f8, 1), None);
    }

    #[test]
    fn space_cells() {
        for s in [LpcSpace::Memory, LpcSpace::Io, LpcSpace::Firmware] {
            assert_eq!(LpcSpace::from_cell(s.cell()), Some(s));
        }
        assert_eq!(LpcSpace::from_cell(2), None);
    }
}
