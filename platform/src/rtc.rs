//! MC146818-compatible real-time clock on the LPC I/O bus (index port + data port).
//!
//! Registers: 0 seconds, 2 minutes, 4 hours, 7 day, 8 month, 9 year, 0x32 century;
//! register A bit 7 = update in progress; register B bit 2 = binary (else BCD), bit 1 = 24-hour.

use crate::mmio::ByteIo;

const SECONDS: u8 = 0x00;
const MINUTES: u8 = 0x02;
const HOURS: u8 = 0x04;
const DAY: u8 = 0x07;
const MONTH: u8 = 0x08;
const YEAR: u8 = 0x09;
const REG_A: u8 = 0x0a;
const REG_B: u8 = 0x0b;
const CENTURY: u8 = 0x32;

const A_UPDATE_IN_PROGRESS: u8 = 0x80;
const B_SET: u8 = 0x80;
const B_BINARY: u8 = 0x04;
const B_24_HOUR: u8 = 0x02;

/// Calendar fields as the clock holds them (all binary here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcTime {
    /// Full year.
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59.
    pub second: u8,
}

/// The clock.
pub struct Mc146818<B: ByteIo> {
    bus: B,
}

fn from_bcd(v: u8) -> u8 {
    (v >> 4) * 10 + (v & 0xf)
}

fn to_bcd(v: u8) -> u8 {
    ((v / 10) << 4) | (v % 10)
}

impl<B: ByteIo> Mc146818<B> {
    /// The clock whose index/data ports `bus` reaches (offsets 0 and 1).
    pub const fn new(bus: B) -> Self {
        Self { bus }
    }

    fn read(&self, reg: u8) -> u8 {
        self.bus.write8(0, reg);
        self.bus.read8(1)
    }

    fn write(&self, reg: u8, v: u8) {
        self.bus.write8(0, reg);
        self.bus.write8(1, v);
    }

    fn snapshot(&self) -> [u8; 7] {
        [SECONDS, MINUTES, HOURS, DAY, MONTH, YEAR, CENTURY].map(|r| self.read(r))
    }

    /// Reads the time; `None` if the clock never settles or holds nonsense.
    pub fn read_time(&self) -> Option<RtcTime> {
        // Read twice outside an update until two reads agree (bounded).
        let mut last = None;
        for _ in 0..100 {
            if self.read(REG_A) & A_UPDATE_IN_PROGRESS != 0 {
                continue;
            }
            let now = self.snapshot();
            if last == Some(now) {
                return self.decode(now);
            }
            last = Some(now);
        }
        None
    }

    fn decode(&self, raw: [u8; 7]) -> Option<RtcTime> {
        let b = self.read(REG_B);
        let conv = |v: u8| if b & B_BINARY != 0 { v } else { from_bcd(v) };
        let mut hour = conv(raw[2] & 0x7f);
        if b & B_24_HOUR == 0 && raw[2] & 0x80 != 0 {
            hour = (hour % 12) + 12;
        }
        let century = match conv(raw[6]) {
            c @ 19..=99 => c as u16,
            _ => 20,
        };
        let t = RtcTime {
            year: century * 100 + conv(raw[5]) as u16,
            month: conv(raw[4]),
            day: conv(raw[3]),
            hour,
            minute: conv(raw[1]),
            second: conv(raw[0]),
        };
        let ok = (1..=12).contains(&t.month)
            && (1..=31).contains(&t.day)
            && t.hour < 24
            && t.minute < 60
            && t.second < 60;
        ok.then_some(t)
    }

    /// Sets the time (stops updates while writing, keeps the clock's number format).
    pub fn write_time(&self, t: &RtcTime) {
        let b = self.read(REG_B);
        self.write(REG_B, b | B_SET);
        let conv = |v: u8| if b & B_BINARY != 0 { v } else { to_bcd(v) };
        self.write(SECONDS, conv(t.second));
        self.write(MINUTES, conv(t.minute));
        self.write(HOURS, conv(t.hour));
        self.write(DAY, conv(t.day));
        self.write(MONTH, conv(t.month));
        self.write(YEAR, conv((t.year % 100) as u8));
        self.write(CENTURY, conv((t.year / 100) as u8));
        self.write(REG_B, (b & !B_SET) | B_24_HOUR);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::{Cell, RefCell};

    /// A clock chip with 128 bytes of registers behind index/data ports.
    struct FakeRtc {
        index: Cell<u8>,
        regs: RefCell<[u8; 128]>,
    }

    impl ByteIo for &FakeRtc {
        fn read8(&self, off: u32) -> u8 {
            if off == 1 {
                self.regs.borrow()[self.index.get() as usize & 127]
            } else {
                0xff
            }
        }
        fn write8(&self, off: u32, v: u8) {
            match off {
                0 => self.index.set(v),
                1 => self.regs.borrow_mut()[self.index.get() as usize & 127] = v,
                _ => {}
            }
        }
    }

    fn bcd_clock() -> FakeRtc {
        let mut regs = [0u8; 128];
        regs[0] = 0x59;
        regs[2] = 0x30;
        regs[4] = 0x23;
        regs[7] = 0x21;
        regs[8] = 0x11;
        regs[9] = 0x26;
        regs[0x32] = 0x20;
        regs[REG_B as usize] = B_24_HOUR;
        FakeRtc { index: Cell::new(0), regs: RefCell::new(regs) }
    }

    #[test]
    fn reads_bcd_time() {
        let f = bcd_clock();
        let t = Mc146818::new(&f).read_time().unwrap();
        assert_eq!(t, RtcTime { year: 2026, month: 11, day: 21, hour: 23, minute: 30, second: 59 });
    }

    #[test]
    fn write_then_read_back() {
        let f = bcd_clock();
        let rtc = Mc146818::new(&f);
        let t = RtcTime { year: 2031, month: 2, day: 3, hour: 4, minute: 5, second: 6 };
        rtc.write_time(&t);
        assert_eq!(f.regs.borrow()[9], 0x31);
        assert_eq!(rtc.read_time(), Some(t));
    }

    #[test]
    fn nonsense_and_stuck_clocks_give_none() {
        let f = bcd_clock();
        f.regs.borrow_mut()[8] = 0x13;
        assert_eq!(Mc146818::new(&f).read_time(), None);
        let f = bcd_clock();
        f.regs.borrow_mut()[REG_A as usize] = A_UPDATE_IN_PROGRESS;
        assert_eq!(Mc146818::new(&f).read_time(), None);
    }
}
