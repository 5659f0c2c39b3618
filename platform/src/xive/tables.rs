//! The XIVE in-memory structures, as the hardware reads them: big-endian words with named
//! fields.
//!
//! * EAS (event assignment structure, the IVT entry): one doubleword per interrupt source,
//!   naming the END that receives the event and the data written to its queue.
//! * END (event notification descriptor, also EQD): eight words per queue: the queue page,
//!   its size and write position, the NVT (and priority) to notify, escalation.
//! * NVT (notification virtual target, also VPD): sixteen words per virtual processor; word 0
//!   holds the valid bit, words 4-5 the saved interrupt context of a virtual processor.
//!
//! Layouts are those of `xive_regs.h` (QEMU) / `xive-p9-regs.h` (skiboot).

use super::regs::{bit, bit32, field, field32, get_field, get_field32, mask, mask32, set_field32};

/// An EAS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Eas(pub u64);

impl Eas {
    /// `EAS_VALID`.
    pub const VALID: u64 = bit(0);
    /// `EAS_END_BLOCK`: block of the END.
    pub const END_BLOCK: u64 = mask(4, 7);
    /// `EAS_END_INDEX`: index of the END in its block.
    pub const END_INDEX: u64 = mask(8, 31);
    /// `EAS_MASKED`: events are dropped (the source PQ bits still move).
    pub const MASKED: u64 = bit(32);
    /// `EAS_END_DATA`: the 31-bit value written to the queue (Linux's interrupt number).
    pub const END_DATA: u64 = mask(33, 63);
    /// Size in bytes.
    pub const SIZE: u64 = 8;

    /// A valid, masked entry with `data` and no END.
    pub const fn masked(data: u32) -> Self {
        Self(Self::VALID | Self::MASKED | field(Self::END_DATA, data as u64))
    }

    /// Whether the entry is valid.
    pub const fn is_valid(self) -> bool {
        self.0 & Self::VALID != 0
    }

    /// Whether the entry is masked.
    pub const fn is_masked(self) -> bool {
        self.0 & Self::MASKED != 0
    }

    /// The END block.
    pub const fn end_block(self) -> u8 {
        get_field(Self::END_BLOCK, self.0) as u8
    }

    /// The END index.
    pub const fn end_index(self) -> u32 {
        get_field(Self::END_INDEX, self.0) as u32
    }

    /// The END data.
    pub const fn data(self) -> u32 {
        get_field(Self::END_DATA, self.0) as u32
    }

    /// This entry routed to END `block`/`index`, unmasked, with `data`.
    pub const fn routed(self, block: u8, index: u32, data: u32) -> Self {
        let w = self.0 & !(Self::END_BLOCK | Self::END_INDEX | Self::MASKED | Self::END_DATA);
        Self(
            w | field(Self::END_BLOCK, block as u64)
                | field(Self::END_INDEX, index as u64)
                | field(Self::END_DATA, data as u64),
        )
    }

    /// This entry masked, keeping its route, with `data`.
    pub const fn with_mask(self, data: u32) -> Self {
        Self((self.0 & !Self::END_DATA) | Self::MASKED | field(Self::END_DATA, data as u64))
    }

    /// Big-endian bytes as stored.
    pub const fn to_be_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// From stored big-endian bytes.
    pub const fn from_be_bytes(b: [u8; 8]) -> Self {
        Self(u64::from_be_bytes(b))
    }
}

/// An END (event notification descriptor). `w[0]` is word 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct End {
    /// Words 0-7, host order (stored big-endian).
    pub w: [u32; 8],
}

impl End {
    /// `END_W0_VALID` ("v").
    pub const W0_VALID: u32 = bit32(0);
    /// `END_W0_ENQUEUE` ("q"): events are written to the queue page.
    pub const W0_ENQUEUE: u32 = bit32(1);
    /// `END_W0_UCOND_NOTIFY` ("n"): notify the NVT on every event (the ESn bits are
    /// ignored).
    pub const W0_UCOND_NOTIFY: u32 = bit32(2);
    /// `END_W0_BACKLOG` ("b"): record a missed notification in the NVT.
    pub const W0_BACKLOG: u32 = bit32(3);
    /// `END_W0_ESCALATE_CTL` ("e"): escalate when the NVT is not dispatched.
    pub const W0_ESCALATE_CTL: u32 = bit32(5);
    /// `END_W0_UNCOND_ESCALATE` ("u").
    pub const W0_UNCOND_ESCALATE: u32 = bit32(6);
    /// `END_W0_SILENT_ESCALATE` ("s").
    pub const W0_SILENT_ESCALATE: u32 = bit32(7);
    /// `END_W0_QSIZE`: log2(queue bytes) - 12.
    pub const W0_QSIZE: u32 = mask32(12, 15);
    /// `END_W0_FIRMWARE` (software bit 0): owned by the firmware.
    pub const W0_FIRMWARE: u32 = bit32(16);
    /// `END_W1_ESn`: notification PQ bits.
    pub const W1_ESN: u32 = mask32(0, 1);
    /// `END_W1_ESn_Q`.
    pub const W1_ESN_Q: u32 = bit32(1);
    /// `END_W1_ESe`: escalation PQ bits.
    pub const W1_ESE: u32 = mask32(2, 3);
    /// `END_W1_ESe_Q`.
    pub const W1_ESE_Q: u32 = bit32(3);
    /// `END_W1_GENERATION`: the toggle bit written with the next entry.
    pub const W1_GENERATION: u32 = bit32(9);
    /// `END_W1_PAGE_OFF`: index of the next entry.
    pub const W1_PAGE_OFF: u32 = mask32(10, 31);
    /// `END_W2_OP_DESC_HI`: queue address bits 32-59.
    pub const W2_OP_DESC_HI: u32 = mask32(4, 31);
    /// `END_W4_ESC_END_BLOCK`.
    pub const W4_ESC_END_BLOCK: u32 = mask32(4, 7);
    /// `END_W4_ESC_END_INDEX`.
    pub const W4_ESC_END_INDEX: u32 = mask32(8, 31);
    /// `END_W6_NVT_BLOCK`.
    pub const W6_NVT_BLOCK: u32 = mask32(9, 12);
    /// `END_W6_NVT_INDEX`.
    pub const W6_NVT_INDEX: u32 = mask32(13, 31);
    /// `END_W7_F0_PRIORITY`.
    pub const W7_F0_PRIORITY: u32 = mask32(8, 15);
    /// Size in bytes.
    pub const SIZE: u64 = 32;
    /// Queue sizes accepted (log2 of bytes), as advertised in `ibm,xive-eq-sizes`.
    pub const QUEUE_SHIFTS: [u32; 4] = [12, 16, 21, 24];

    /// Whether the END is valid.
    pub const fn is_valid(&self) -> bool {
        self.w[0] & Self::W0_VALID != 0
    }

    /// Queue page address (zero when no queue).
    pub const fn queue_addr(&self) -> u64 {
        (((self.w[2] & Self::W2_OP_DESC_HI) as u64) << 32) | self.w[3] as u64
    }

    /// Queue size as log2 of bytes.
    pub const fn queue_shift(&self) -> u32 {
        get_field32(Self::W0_QSIZE, self.w[0]) + 12
    }

    /// Sets the queue page and size (`shift` = log2 of bytes, 12..=27).
    pub fn set_queue(&mut self, addr: u64, shift: u32) {
        self.w[2] = ((addr >> 32) as u32) & Self::W2_OP_DESC_HI;
        self.w[3] = addr as u32;
        self.w[0] = set_field32(Self::W0_QSIZE, self.w[0], shift.saturating_sub(12));
    }

    /// The NVT notified, as (block, index).
    pub const fn nvt(&self) -> (u8, u32) {
        (get_field32(Self::W6_NVT_BLOCK, self.w[6]) as u8, get_field32(Self::W6_NVT_INDEX, self.w[6]))
    }

    /// Sets the NVT to notify (format 0: a specific NVT) and the priority.
    pub fn set_target(&mut self, nvt_block: u8, nvt_index: u32, priority: u8) {
        self.w[6] = field32(Self::W6_NVT_BLOCK, nvt_block as u32) | field32(Self::W6_NVT_INDEX, nvt_index);
        self.w[7] = field32(Self::W7_F0_PRIORITY, priority as u32);
    }

    /// The priority.
    pub const fn priority(&self) -> u8 {
        get_field32(Self::W7_F0_PRIORITY, self.w[7]) as u8
    }

    /// The escalation EAS stored in words 4-5 (same layout as an [`Eas`]).
    pub const fn escalation(&self) -> Eas {
        Eas(((self.w[4] as u64) << 32) | self.w[5] as u64)
    }

    /// Stores the escalation EAS in words 4-5.
    pub fn set_escalation(&mut self, eas: Eas) {
        self.w[4] = (eas.0 >> 32) as u32;
        self.w[5] = eas.0 as u32;
    }

    /// Doublewords as the END cache watch takes them (word 0 in the high half of dword 0).
    pub fn dwords(&self) -> [u64; 4] {
        core::array::from_fn(|i| ((self.w[2 * i] as u64) << 32) | self.w[2 * i + 1] as u64)
    }

    /// Big-endian bytes as stored.
    pub fn to_be_bytes(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for (i, w) in self.w.iter().enumerate() {
            b[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
        }
        b
    }

    /// From stored big-endian bytes.
    pub fn from_be_bytes(b: &[u8; 32]) -> Self {
        Self {
            w: core::array::from_fn(|i| {
                u32::from_be_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
            }),
        }
    }
}

/// An NVT (notification virtual target). `w[0]` is word 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Nvt {
    /// Words 0-15, host order (stored big-endian).
    pub w: [u32; 16],
}

impl Nvt {
    /// `NVT_W0_VALID`.
    pub const W0_VALID: u32 = bit32(0);
    /// Size in bytes.
    pub const SIZE: u64 = 64;
    /// Word 5 of a freshly allocated virtual processor: saved context with LSMFB-side
    /// fields at their reset value (as skiboot initialises it).
    pub const W5_INITIAL: u32 = 0xff00_0000;

    /// A valid NVT with everything else zero (a hardware thread's).
    pub fn valid() -> Self {
        let mut n = Self::default();
        n.w[0] = Self::W0_VALID;
        n
    }

    /// Whether the NVT is valid.
    pub const fn is_valid(&self) -> bool {
        self.w[0] & Self::W0_VALID != 0
    }

    /// Doublewords as the NVT cache watch takes them.
    pub fn dwords(&self) -> [u64; 8] {
        core::array::from_fn(|i| ((self.w[2 * i] as u64) << 32) | self.w[2 * i + 1] as u64)
    }

    /// Big-endian bytes as stored.
    pub fn to_be_bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        for (i, w) in self.w.iter().enumerate() {
            b[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
        }
        b
    }

    /// From stored big-endian bytes.
    pub fn from_be_bytes(b: &[u8; 64]) -> Self {
        Self {
            w: core::array::from_fn(|i| {
                u32::from_be_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
            }),
        }
    }
}

/// A VSD for a direct table of `size` bytes (a power of two, at least 4 KiB) at `addr`,
/// owned by this controller.
pub const fn vsd_direct(addr: u64, size: u64) -> u64 {
    use super::regs::vsd;
    field(vsd::MODE, vsd::MODE_EXCLUSIVE)
        | (addr & vsd::ADDRESS_MASK)
        | field(vsd::TSIZE, (size.trailing_zeros() as u64).saturating_sub(12))
}

/// A VSD forwarding a block to another controller at `port` (its notify page, or its PC
/// BAR for NVTs), with `tsize_bytes` encoded when non-zero.
pub const fn vsd_forward(port: u64, tsize_bytes: u64) -> u64 {
    use super::regs::vsd;
    let tsize = if tsize_bytes == 0 { 0 } else { (tsize_bytes.trailing_zeros() as u64).saturating_sub(12) };
    field(vsd::MODE, vsd::MODE_FORWARD) | (port & vsd::ADDRESS_MASK) | field(vsd::TSIZE, tsize)
}

/// Global interrupt numbers as the OPAL API hands them out:
///
/// ```text
///  31      25 24 23  20 19                 0
/// +----------+--+------+--------------------+
/// | 0        |E | block| index              |
/// +----------+--+------+--------------------+
/// ```
///
/// E set: an escalation interrupt, whose block/index name the END carrying it.
pub mod girq {
    /// The escalation flag.
    pub const ESCALATION: u32 = 1 << 24;
    /// Largest index in a block.
    pub const INDEX_MASK: u32 = 0x000f_ffff;

    /// The number of source `index` of `block`.
    pub const fn new(block: u8, index: u32) -> u32 {
        ((block as u32 & 0xf) << 20) | (index & INDEX_MASK)
    }

    /// The escalation interrupt of END `index` of `block`.
    pub const fn escalation(block: u8, index: u32) -> u32 {
        ESCALATION | new(block, index)
    }

    /// Block of a number.
    pub const fn block(g: u32) -> u8 {
        ((g >> 20) & 0xf) as u8
    }

    /// Index of a number.
    pub const fn index(g: u32) -> u32 {
        g & INDEX_MASK
    }

    /// Whether bits other than E, block and index are set.
    pub const fn has_stray_bits(g: u32) -> bool {
        g & !(ESCALATION | 0x00ff_ffff) != 0
    }

    /// The source number on the PowerBus (what a source's notification carries, and what
    /// the PSI host bridge IVT offset register holds): block in bits 28-31.
    pub const fn powerbus(block: u8, index: u32) -> u32 {
        ((block as u32 & 0xf) << 28) | (index & 0x0fff_ffff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eas_words() {
        // Valid, masked, data 0x12.
        assert_eq!(Eas::masked(0x12).0, 0x8000_0000_8000_0012);
        // Routed to END 2/0x408, data 0x10 (hand-computed: V | blk 2 << 56 | idx << 32 | data).
        let e = Eas::masked(0x12).routed(2, 0x408, 0x10);
        assert_eq!(e.0, 0x8200_0408_0000_0010);
        assert_eq!((e.end_block(), e.end_index(), e.data(), e.is_masked()), (2, 0x408, 0x10, false));
        assert_eq!(e.with_mask(0x11).0, 0x8200_0408_8000_0011);
        assert_eq!(Eas::from_be_bytes(e.to_be_bytes()), e);
        assert_eq!(e.to_be_bytes()[0], 0x82);
    }

    #[test]
    fn end_words() {
        let mut e = End::default();
        e.w[0] = End::W0_VALID | End::W0_ENQUEUE | End::W0_UCOND_NOTIFY | End::W0_BACKLOG;
        e.set_queue(0x0000_0012_3456_7000, 16);
        e.set_target(1, 0x85, 6);
        e.w[1] = End::W1_GENERATION;
        // w0: v q n b = 0xf0000000, qsize 4 in bits 12-15 = 0x00040000.
        assert_eq!(e.w[0], 0xf004_0000);
        assert_eq!(e.w[1], 0x0040_0000);
        assert_eq!((e.w[2], e.w[3]), (0x12, 0x3456_7000));
        // w6: block 1 at bits 9-12 = 0x00080000, index 0x85.
        assert_eq!(e.w[6], 0x0008_0085);
        assert_eq!(e.w[7], 0x0006_0000);
        assert_eq!(e.queue_addr(), 0x12_3456_7000);
        assert_eq!(e.queue_shift(), 16);
        assert_eq!(e.nvt(), (1, 0x85));
        assert_eq!(e.priority(), 6);
        assert_eq!(e.dwords()[0], 0xf004_0000_0040_0000);
        assert_eq!(e.dwords()[3], 0x0008_0085_0006_0000);
        assert_eq!(End::from_be_bytes(&e.to_be_bytes()), e);
        assert_eq!(&e.to_be_bytes()[..4], &[0xf0, 0x04, 0, 0]);
        e.set_escalation(Eas::masked(5).routed(1, 7, 5));
        assert_eq!((e.w[4], e.w[5]), (0x8100_0007, 0x0000_0005));
        assert_eq!(e.escalation().end_index(), 7);
    }

    #[test]
    fn nvt_words() {
        let n = Nvt::valid();
        assert_eq!(n.to_be_bytes()[0], 0x80);
        assert_eq!(n.dwords()[0], 0x8000_0000_0000_0000);
        assert_eq!(Nvt::from_be_bytes(&n.to_be_bytes()), n);
        assert!(n.is_valid() && !Nvt::default().is_valid());
    }

    #[test]
    fn vsd_words() {
        // Exclusive (0b10 in bits 0-1), 512 KiB at 0x3410_0000: tsize 19 - 12 = 7.
        assert_eq!(vsd_direct(0x3410_0000, 0x8_0000), 0x8000_0000_3410_0007);
        // Forward to a notify page.
        assert_eq!(vsd_forward(0x0006_0302_0311_0000, 0), 0xc006_0302_0311_0000);
        assert_eq!(vsd_forward(0x0006_0180_0000_0000, 1 << 36), 0xc006_0180_0000_0018);
    }

    #[test]
    fn girq_numbers() {
        assert_eq!(girq::new(1, 0x10), 0x0010_0010);
        assert_eq!(girq::escalation(1, 0x407), 0x0110_0407);
        assert_eq!((girq::block(0x0110_0407), girq::index(0x0110_0407)), (1, 0x407));
        assert!(girq::has_stray_bits(0x0200_0000));
        assert!(!girq::has_stray_bits(0x01ff_ffff));
        assert_eq!(girq::powerbus(1, 0xfff0), 0x1000_fff0);
    }
}
