//! Firmware bookkeeping: which interrupts and virtual processors are handed out, and how
//! the OPAL API numbers virtual processors.
//!
//! VP (virtual processor) ids as the OS sees them:
//!
//! ```text
//!  31 30 29 28   24 23 22  19 18              0
//! +--+--+--+-------+--+------+-----------------+
//! |0 |0 | 0         hardware thread PIR        |   a physical thread
//! +--+--+--+-------+--+------+-----------------+
//! |0 |1 |0 | order |0 |block | NVT index       |   a VP of an allocated block
//! +--+--+--+-------+--+------+-----------------+
//! ```
//!
//! A block of 2^order VPs lies in one chip, aligned, so `base + n` (n < 2^order) names its
//! n-th VP. The ENDs of a VP are the eight at `8 * index + priority`.

use super::chip::HwSource;
use super::{hw_vp_index, XiveError, FIRST_IPI};
use alloc::vec;
use alloc::vec::Vec;

/// A fixed-size bit set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    words: Vec<u64>,
    len: u32,
}

impl Bitmap {
    /// `len` clear bits.
    pub fn new(len: u32) -> Self {
        Self { words: vec![0; (len as usize).div_ceil(64)], len }
    }

    /// Whether bit `i` is set (false when out of range).
    pub fn get(&self, i: u32) -> bool {
        i < self.len && self.words[(i / 64) as usize] & (1 << (i % 64)) != 0
    }

    /// Sets bit `i` to `v` (ignored when out of range).
    pub fn set(&mut self, i: u32, v: bool) {
        if i < self.len {
            let w = &mut self.words[(i / 64) as usize];
            if v {
                *w |= 1 << (i % 64);
            } else {
                *w &= !(1 << (i % 64));
            }
        }
    }

    /// First clear bit in `from..to`.
    pub fn first_clear(&self, from: u32, to: u32) -> Option<u32> {
        (from..to.min(self.len)).find(|&i| !self.get(i))
    }

    /// Whether all bits of `from..from + n` are clear (false when out of range).
    pub fn all_clear(&self, from: u32, n: u32) -> bool {
        from.checked_add(n).is_some_and(|end| end <= self.len) && (from..from + n).all(|i| !self.get(i))
    }

    /// Indices of the set bits.
    pub fn ones(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len).filter(|&i| self.get(i))
    }

    /// Clears every bit.
    pub fn clear(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
    }
}

/// A decoded VP id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vp {
    /// Hardware thread with this PIR.
    Thread(u32),
    /// VP `index` of chip block `block`, in a block of 2^`order`.
    Virtual {
        /// Chip block.
        block: u8,
        /// NVT index.
        index: u32,
        /// Allocation order encoded in the id.
        order: u8,
    },
}

/// Bit of a VP id marking an allocated (virtual) VP.
pub const VP_VIRTUAL: u32 = 1 << 30;
const VP_INDEX_BITS: u32 = 19;

impl Vp {
    /// Decodes an id passed by the OS; `None` for malformed ids (range is checked later).
    pub fn decode(id: u64) -> Option<Self> {
        let id = u32::try_from(id).ok()?;
        if id & (1 << 31) != 0 {
            return None; // group VPs are not supported
        }
        if id & VP_VIRTUAL == 0 {
            return (id >> 24 == 0).then_some(Self::Thread(id));
        }
        if id & ((1 << 29) | (1 << 23)) != 0 {
            return None;
        }
        Some(Self::Virtual {
            block: ((id >> VP_INDEX_BITS) & 0xf) as u8,
            index: id & ((1 << VP_INDEX_BITS) - 1),
            order: ((id >> 24) & 0x1f) as u8,
        })
    }

    /// The id of VP `index` of `block` in a block of 2^`order`.
    pub const fn encode_virtual(block: u8, index: u32, order: u8) -> u32 {
        VP_VIRTUAL | ((order as u32 & 0x1f) << 24) | ((block as u32 & 0xf) << VP_INDEX_BITS) | index
    }
}

/// Allocation state of one chip.
#[derive(Debug)]
pub struct ChipState {
    /// IPIs handed out by OPAL_XIVE_ALLOCATE_IRQ.
    pub ipis: Bitmap,
    /// Sources unmasked since the last reset (to mask them again at reset).
    pub enabled: Bitmap,
    /// Lowest EAS index given to hardware sources; IPIs stay below.
    pub hw_bottom: u32,
    /// Hardware source blocks.
    pub hw_sources: Vec<HwSource>,
    /// NVT indices in use: the hardware thread range and allocated blocks.
    pub vps: Bitmap,
    /// Allocated VP blocks as (first index, order).
    pub vp_blocks: Vec<(u32, u8)>,
}

/// NVT indices reserved for hardware threads.
pub const HW_VP_RANGE: core::ops::Range<u32> = 0x80..0x100;

impl ChipState {
    /// Fresh state for `irqs` sources and `vps` VPs.
    pub fn new(irqs: u32, vps: u32) -> Self {
        let mut s = Self {
            ipis: Bitmap::new(irqs),
            enabled: Bitmap::new(irqs),
            hw_bottom: irqs,
            hw_sources: Vec::new(),
            vps: Bitmap::new(vps),
            vp_blocks: Vec::new(),
        };
        s.reserve_hw_vps();
        s
    }

    fn reserve_hw_vps(&mut self) {
        for i in HW_VP_RANGE {
            self.vps.set(i, true);
        }
    }

    /// Takes the lowest free IPI index.
    pub fn alloc_ipi(&mut self) -> Option<u32> {
        let i = self.ipis.first_clear(FIRST_IPI, self.hw_bottom)?;
        self.ipis.set(i, true);
        Some(i)
    }

    /// Reserves `count` EAS entries for a hardware source block below the previous one,
    /// aligned to `align` (a power of two); `None` when they would meet the IPIs.
    pub fn alloc_hw(&mut self, count: u32, align: u32) -> Option<u32> {
        if count == 0 || !align.is_power_of_two() {
            return None;
        }
        let first = self.hw_bottom.checked_sub(count)? & !(align - 1);
        let highest_ipi = self.ipis.ones().last().map_or(FIRST_IPI, |i| i + 1);
        if first < highest_ipi.max(FIRST_IPI) {
            return None;
        }
        self.hw_bottom = first;
        Some(first)
    }

    /// The hardware source block holding EAS `idx`.
    pub fn hw_source(&self, idx: u32) -> Option<&HwSource> {
        self.hw_sources.iter().find(|s| idx >= s.first && idx - s.first < s.count)
    }

    /// Takes an aligned block of 2^`order` free VPs.
    pub fn alloc_vps(&mut self, order: u8) -> Option<u32> {
        let n = 1u32.checked_shl(order as u32)?;
        let total = self.vps_len();
        let base = (0..total / n.max(1)).map(|k| k * n).find(|&b| self.vps.all_clear(b, n))?;
        for i in base..base + n {
            self.vps.set(i, true);
        }
        self.vp_blocks.push((base, order));
        Some(base)
    }

    /// Releases the block starting at `base`.
    pub fn free_vps(&mut self, base: u32) {
        if let Some(pos) = self.vp_blocks.iter().position(|&(b, _)| b == base) {
            let (b, order) = self.vp_blocks.remove(pos);
            for i in b..b + (1 << order) {
                self.vps.set(i, false);
            }
        }
    }

    /// The allocated block holding NVT `index`.
    pub fn vp_block_of(&self, index: u32) -> Option<(u32, u8)> {
        self.vp_blocks.iter().copied().find(|&(b, o)| index >= b && index - b < (1 << o))
    }

    /// Forgets every IPI, enabled mark and VP block (hardware sources stay).
    pub fn reset(&mut self) {
        self.ipis.clear();
        self.enabled.clear();
        self.vps.clear();
        self.vp_blocks.clear();
        self.reserve_hw_vps();
    }

    fn vps_len(&self) -> u32 {
        self.vps.len
    }
}

/// Where a VP lives: chip index and NVT index. Validates against the chips' threads and
/// allocated blocks.
pub fn locate_vp(vp: Vp, chips: &[(u8, &[u32], &ChipState)]) -> Result<(usize, u32), XiveError> {
    match vp {
        Vp::Thread(pir) => chips
            .iter()
            .position(|(_, threads, _)| threads.contains(&pir))
            .map(|c| (c, hw_vp_index(pir)))
            .ok_or(XiveError::Parameter),
        Vp::Virtual { block, index, order } => {
            let c = chips.iter().position(|(b, _, _)| *b == block).ok_or(XiveError::Parameter)?;
            match chips[c].2.vp_block_of(index) {
                Some((_, o)) if o == order => Ok((c, index)),
                _ => Err(XiveError::Parameter),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp_ids() {
        assert_eq!(Vp::decode(0x104), Some(Vp::Thread(0x104)));
        assert_eq!(Vp::decode(0x8000_0000), None);
        assert_eq!(Vp::decode(0x1_0000_0000), None);
        assert_eq!(Vp::decode(0x0100_0000), None);
        let id = Vp::encode_virtual(1, 0x808, 3);
        assert_eq!(id, 0x4308_0808);
        assert_eq!(Vp::decode(id as u64), Some(Vp::Virtual { block: 1, index: 0x808, order: 3 }));
        assert_eq!(Vp::decode(0x6000_0000), None);
        assert_eq!(Vp::decode(0x4080_0000), None);
    }

    #[test]
    fn ipi_and_hw_allocation() {
        let mut s = ChipState::new(1 << 14, 256);
        assert_eq!(s.alloc_ipi(), Some(FIRST_IPI));
        assert_eq!(s.alloc_ipi(), Some(FIRST_IPI + 1));
        assert_eq!(s.alloc_hw(14, 16), Some((1 << 14) - 16));
        assert_eq!(s.alloc_hw(16, 16), Some((1 << 14) - 32));
        assert_eq!(s.alloc_hw(0, 16), None);
        assert_eq!(s.alloc_hw(1, 3), None);
        assert_eq!(s.alloc_hw(1 << 14, 1), None);
        s.hw_bottom = FIRST_IPI + 2;
        assert_eq!(s.alloc_ipi(), None);
    }

    #[test]
    fn vp_blocks() {
        let mut s = ChipState::new(1 << 14, 1024);
        // 0x80..0x100 is taken by the hardware threads.
        assert_eq!(s.alloc_vps(7), Some(0));
        assert_eq!(s.alloc_vps(7), Some(0x100));
        assert_eq!(s.alloc_vps(8), Some(0x200)); // 0x100..0x200 is partly used
        assert_eq!(s.alloc_vps(8), Some(0x300));
        assert_eq!(s.alloc_vps(8), None);
        assert_eq!(s.vp_block_of(0x105), Some((0x100, 7)));
        s.free_vps(0x100);
        assert_eq!(s.vp_block_of(0x105), None);
        assert_eq!(s.alloc_vps(3), Some(0x100));
        assert_eq!(s.alloc_vps(40), None);
        s.reset();
        assert!(s.vps.get(0x80) && !s.vps.get(0x100));
    }

    #[test]
    fn locating_vps() {
        let mut s = ChipState::new(1 << 14, 256);
        let base = s.alloc_vps(2).unwrap();
        let threads = [0x100u32, 0x101];
        let chips = [(0u8, &[0u32, 1][..], &ChipState::new(1 << 14, 256)), (1u8, &threads[..], &s)];
        assert_eq!(locate_vp(Vp::Thread(0x101), &chips), Ok((1, 0x81)));
        assert_eq!(locate_vp(Vp::Thread(0x102), &chips), Err(XiveError::Parameter));
        let v = Vp::Virtual { block: 1, index: base + 3, order: 2 };
        assert_eq!(locate_vp(v, &chips), Ok((1, base + 3)));
        let wrong_order = Vp::Virtual { block: 1, index: base, order: 1 };
        assert_eq!(locate_vp(wrong_order, &chips), Err(XiveError::Parameter));
        let unallocated = Vp::Virtual { block: 1, index: base + 4, order: 2 };
        assert_eq!(locate_vp(unallocated, &chips), Err(XiveError::Parameter));
        let no_chip = Vp::Virtual { block: 5, index: base, order: 2 };
        assert_eq!(locate_vp(no_chip, &chips), Err(XiveError::Parameter));
    }
}
