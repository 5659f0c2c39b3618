//! The firmware's physical memory map.
//!
//! ```text
//!  0x0000_0000 ┌──────────────────────────┐ image as loaded (entry at +0x10, exception
//!              │ low copy (.head vectors) │ vectors from +0x100); the vectors stay in use
//!  0x0000_3000 ├──────────────────────────┤ while the firmware runs
//!              │ free: payload memory     │ (QEMU: FDT at 0x0100_0000, -kernel at
//!              │                          │  0x2000_0000, -initrd at 0x2800_0000)
//!  0x3000_0000 ├──────────────────────────┤ FIRMWARE_BASE: code, data, .bss (≤ 18 MiB)
//!  0x3120_0000 ├──────────────────────────┤ HDAT_AREA_BASE: HDAT host data area, 8 MiB
//!  0x31a0_0000 ├──────────────────────────┤ PERCPU_BASE: 512 slots × 32 KiB
//!              │  slot: per-CPU data 4 KiB │ exception stack 8 KiB │ stack 20 KiB
//!  0x32a0_0000 ├──────────────────────────┤ HEAP_BASE: global allocator, 32 MiB - 4 KiB
//!  0x349f_f000 ├──────────────────────────┤ reset scratch page (survives warm reset)
//!  0x34a0_0000 ├──────────────────────────┤ XIVE tables: 8 chips × 4 MiB
//!  0x36a0_0000 ├──────────────────────────┤ FIRMWARE_END
//!              │ free: payload memory     │
//!              └──────────────────────────┘ end of RAM
//! ```
//! The constants live in `memmap_consts.rs`, which `build.rs` also turns into linker
//! symbols. Everything from FIRMWARE_BASE to FIRMWARE_END is reserved from payloads.

#![allow(clippy::identity_op)]

include!("memmap_consts.rs");

/// A named region of the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// What the region is for.
    pub name: &'static str,
    /// First byte.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
}

impl Region {
    /// One past the last byte.
    pub const fn end(&self) -> u64 {
        self.base + self.size
    }
}

/// The regions the firmware keeps for itself, in address order.
pub const FIRMWARE_REGIONS: [Region; 6] = [
    Region { name: "image", base: FIRMWARE_BASE, size: IMAGE_MAX_SIZE },
    Region { name: "HDAT area", base: HDAT_AREA_BASE, size: HDAT_AREA_SIZE },
    Region { name: "per-CPU", base: PERCPU_BASE, size: PERCPU_SLOT_SIZE * MAX_THREADS },
    Region { name: "heap", base: HEAP_BASE, size: HEAP_SIZE },
    Region { name: "reset scratch", base: RESET_SCRATCH_BASE, size: RESET_SCRATCH_SIZE },
    Region { name: "XIVE tables", base: XIVE_TABLES_BASE, size: XIVE_TABLES_PER_CHIP * XIVE_MAX_CHIPS },
];

/// Size of the per-CPU data at the bottom of a slot.
pub const PERCPU_DATA_SIZE: u64 = 0x1000;
/// log2 of the slot size (the entry code shifts by it).
pub const PERCPU_SLOT_SHIFT: u32 = PERCPU_SLOT_SIZE.trailing_zeros();

/// Base address of the per-CPU slot of ticket `ticket` (arrival order), if it exists.
pub const fn slot_base(ticket: u64) -> Option<u64> {
    if ticket < MAX_THREADS {
        Some(PERCPU_BASE + ticket * PERCPU_SLOT_SIZE)
    } else {
        None
    }
}

/// The whole reserved span `[FIRMWARE_BASE, reserved_end())`.
pub const fn reserved_end() -> u64 {
    XIVE_TABLES_BASE + XIVE_TABLES_PER_CHIP * XIVE_MAX_CHIPS
}

const _: () = {
    assert!(PERCPU_SLOT_SIZE.is_power_of_two());
    assert!(PERCPU_DATA_SIZE < PERCPU_EXC_STACK_TOP && PERCPU_EXC_STACK_TOP < PERCPU_STACK_TOP);
    assert!(PERCPU_STACK_TOP <= PERCPU_SLOT_SIZE);
    assert!(reserved_end() <= FIRMWARE_END);
    assert!(XIVE_TABLES_BASE.is_multiple_of(0x10_0000) && XIVE_TABLES_PER_CHIP.is_multiple_of(0x10_0000));
    // QEMU powernv9 needs at least 1 GiB of RAM; the reservation must fit in that.
    assert!(FIRMWARE_END <= 1 << 30);
    // And stay clear of where QEMU loads the kernel (0x2000_0000) and initrd (0x2800_0000,
    // up to 128 MiB).
    assert!(FIRMWARE_BASE >= 0x2800_0000 + 0x0800_0000);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_ordered_and_disjoint() {
        for pair in FIRMWARE_REGIONS.windows(2) {
            assert!(pair[0].end() <= pair[1].base, "{:?} overlaps {:?}", pair[0], pair[1]);
        }
        assert_eq!(FIRMWARE_REGIONS[0].base, FIRMWARE_BASE);
        assert!(FIRMWARE_REGIONS[5].end() <= FIRMWARE_END);
    }

    #[test]
    fn slots() {
        assert_eq!(slot_base(0), Some(0x31a0_0000));
        assert_eq!(slot_base(1), Some(0x31a0_8000));
        assert_eq!(slot_base(MAX_THREADS - 1), Some(HEAP_BASE - PERCPU_SLOT_SIZE));
        assert_eq!(slot_base(MAX_THREADS), None);
        assert_eq!(PERCPU_SLOT_SHIFT, 15);
    }
}
