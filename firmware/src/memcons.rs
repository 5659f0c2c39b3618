//! The memory-console descriptor through which Linux reads the firmware log ring
//! (`/sys/firmware/opal/msglog`). Its address goes in `/ibm,opal/ibm,opal-memcons`; every
//! field is big-endian.

use core::sync::atomic::{AtomicU32, Ordering};

/// "f0iegras": marks a valid descriptor.
pub const MEMCONS_MAGIC: u64 = 0x6630_6965_6772_6173;
/// Set in `out_pos` once the ring has wrapped.
pub const OUT_POS_WRAP: u32 = 0x8000_0000;

/// The descriptor, laid out as the OS reads it.
#[repr(C)]
pub struct Memcons {
    magic: u64,
    obuf_phys: u64,
    ibuf_phys: u64,
    obuf_size: u32,
    ibuf_size: u32,
    out_pos: AtomicU32,
    in_prod: u32,
    in_cons: u32,
}

impl Memcons {
    /// A descriptor for the output ring at `obuf_phys` of `obuf_size` bytes (no input ring).
    pub const fn new(obuf_phys: u64, obuf_size: u32) -> Self {
        Self {
            magic: MEMCONS_MAGIC.to_be(),
            obuf_phys: obuf_phys.to_be(),
            ibuf_phys: 0,
            obuf_size: obuf_size.to_be(),
            ibuf_size: 0,
            out_pos: AtomicU32::new(0),
            in_prod: 0,
            in_cons: 0,
        }
    }

    /// Records where the next byte of the ring goes and whether it has wrapped.
    pub fn set_out_pos(&self, pos: u32, wrapped: bool) {
        let v = (pos & 0x00ff_ffff) | if wrapped { OUT_POS_WRAP } else { 0 };
        self.out_pos.store(v.to_be(), Ordering::Release);
    }

    /// The descriptor as the bytes the OS reads.
    pub fn to_bytes(&self) -> [u8; 40] {
        let mut b = [0u8; 40];
        b[0..8].copy_from_slice(&u64::from_be(self.magic).to_be_bytes());
        b[8..16].copy_from_slice(&u64::from_be(self.obuf_phys).to_be_bytes());
        b[16..24].copy_from_slice(&u64::from_be(self.ibuf_phys).to_be_bytes());
        b[24..28].copy_from_slice(&u32::from_be(self.obuf_size).to_be_bytes());
        b[28..32].copy_from_slice(&u32::from_be(self.ibuf_size).to_be_bytes());
        b[32..36].copy_from_slice(&u32::from_be(self.out_pos.load(Ordering::Acquire)).to_be_bytes());
        b[36..40].copy_from_slice(&u32::from_be(self.in_prod).to_be_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_endian_layout() {
        let m = Memcons::new(0x3001_0000, 0x1_0000);
        m.set_out_pos(0x1234, true);
        let b = m.to_bytes();
        assert_eq!(&b[0..8], b"f0iegras");
        assert_eq!(&b[8..16], &0x3001_0000u64.to_be_bytes());
        assert_eq!(&b[24..28], &0x1_0000u32.to_be_bytes());
        assert_eq!(&b[32..36], &0x8000_1234u32.to_be_bytes());
        assert_eq!(core::mem::size_of::<Memcons>(), 48);
    }
}
