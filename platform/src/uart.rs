//! 16550-compatible UART driver (the LPC serial port of OpenPOWER machines and QEMU).

use crate::mmio::ByteIo;
use bitflags::bitflags;

/// Register offsets (with the divisor latch closed unless noted).
mod reg {
    /// Receive buffer (read) / transmit holding (write); divisor low with DLAB set.
    pub const RBR_THR_DLL: u32 = 0;
    /// Interrupt enable; divisor high with DLAB set.
    pub const IER_DLM: u32 = 1;
    /// FIFO control (write).
    pub const FCR: u32 = 2;
    /// Line control.
    pub const LCR: u32 = 3;
    /// Modem control.
    pub const MCR: u32 = 4;
    /// Line status.
    pub const LSR: u32 = 5;
}

bitflags! {
    /// Line Status Register.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Lsr: u8 {
        /// Data ready: a received byte is waiting.
        const DR = 0x01;
        /// Transmit holding register empty.
        const THRE = 0x20;
        /// Transmitter empty (holding and shift registers).
        const TEMT = 0x40;
    }
}

bitflags! {
    /// Line Control Register.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Lcr: u8 {
        /// 8 data bits (word length select = 0b11).
        const WLS_8 = 0x03;
        /// Divisor latch access.
        const DLAB = 0x80;
    }
}

bitflags! {
    /// FIFO Control Register.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Fcr: u8 {
        /// Enable the FIFOs.
        const ENABLE = 0x01;
        /// Clear the receive FIFO.
        const CLEAR_RX = 0x02;
        /// Clear the transmit FIFO.
        const CLEAR_TX = 0x04;
    }
}

bitflags! {
    /// Modem Control Register.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Mcr: u8 {
        /// Data terminal ready.
        const DTR = 0x01;
        /// Request to send.
        const RTS = 0x02;
    }
}

/// How many times a transmit waits for room before dropping the byte. A missing or stuck
/// UART must never hang the firmware; at 115200 baud a byte takes ~87 us.
const TX_SPIN_LIMIT: u32 = 100_000;

/// A 16550 UART on some byte-wide bus.
pub struct Ns16550<B: ByteIo> {
    bus: B,
}

impl<B: ByteIo> Ns16550<B> {
    /// A driver for the UART whose registers `bus` reaches.
    pub const fn new(bus: B) -> Self {
        Self { bus }
    }

    /// Programs 8N1 at `baud` from an input clock of `clock_hz`, FIFOs on, interrupts off.
    /// A zero or unusable rate leaves the divisor as the previous firmware set it.
    pub fn init(&self, clock_hz: u32, baud: u32) {
        self.bus.write8(reg::IER_DLM, 0);
        if let Some(divisor) = divisor(clock_hz, baud) {
            self.bus.write8(reg::LCR, Lcr::DLAB.bits());
            self.bus.write8(reg::RBR_THR_DLL, (divisor & 0xff) as u8);
            self.bus.write8(reg::IER_DLM, (divisor >> 8) as u8);
        }
        self.bus.write8(reg::LCR, Lcr::WLS_8.bits());
        self.bus.write8(reg::FCR, (Fcr::ENABLE | Fcr::CLEAR_RX | Fcr::CLEAR_TX).bits());
        self.bus.write8(reg::MCR, (Mcr::DTR | Mcr::RTS).bits());
    }

    /// Whether the UART looks present: a missing device reads all ones.
    pub fn present(&self) -> bool {
        self.bus.read8(reg::LSR) != 0xff
    }

    /// Sends one byte, waiting (bounded) for room. Returns false if it was dropped.
    pub fn put_byte(&self, byte: u8) -> bool {
        for _ in 0..TX_SPIN_LIMIT {
            if Lsr::from_bits_retain(self.bus.read8(reg::LSR)).contains(Lsr::THRE) {
                self.bus.write8(reg::RBR_THR_DLL, byte);
                return true;
            }
        }
        false
    }

    /// Waits (bounded) until the transmitter has sent everything (LSR[TEMT], "transmitter
    /// empty"); returns false if it did not drain in time.
    pub fn drain(&self) -> bool {
        (0..TX_SPIN_LIMIT).any(|_| Lsr::from_bits_retain(self.bus.read8(reg::LSR)).contains(Lsr::TEMT))
    }

    /// Sends bytes, turning `\n` into `\r\n`.
    pub fn write_bytes(&self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' && !self.put_byte(b'\r') {
                return;
            }
            if !self.put_byte(b) {
                return;
            }
        }
    }

    /// Whether a received byte is waiting.
    pub fn input_ready(&self) -> bool {
        Lsr::from_bits_retain(self.bus.read8(reg::LSR)).contains(Lsr::DR)
    }

    /// A received byte, if one is waiting.
    pub fn get_byte(&self) -> Option<u8> {
        let lsr = Lsr::from_bits_retain(self.bus.read8(reg::LSR));
        lsr.contains(Lsr::DR).then(|| self.bus.read8(reg::RBR_THR_DLL))
    }
}

/// Divisor latch value for `baud` with input clock `clock_hz` (16x oversampling), if the
/// result is a valid 16-bit divisor.
pub fn divisor(clock_hz: u32, baud: u32) -> Option<u16> {
    if baud == 0 {
        return None;
    }
    let d = (clock_hz / 16 + baud / 2) / baud;
    u16::try_from(d).ok().filter(|&d| d != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::vec::Vec;

    /// A UART model: records writes, reports a configurable line status.
    struct FakeUart {
        writes: RefCell<Vec<(u32, u8)>>,
        lsr: u8,
        rx: RefCell<Vec<u8>>,
    }

    impl ByteIo for &FakeUart {
        fn read8(&self, offset: u32) -> u8 {
            match offset {
                5 => self.lsr | if self.rx.borrow().is_empty() { 0 } else { 1 },
                0 => self.rx.borrow_mut().remove(0),
                _ => 0,
            }
        }
        fn write8(&self, offset: u32, value: u8) {
            self.writes.borrow_mut().push((offset, value));
        }
    }

    fn fake(lsr: u8) -> FakeUart {
        FakeUart { writes: RefCell::new(Vec::new()), lsr, rx: RefCell::new(Vec::new()) }
    }

    #[test]
    fn divisor_for_qemu_clock() {
        // QEMU's isa-serial node: clock-frequency 1843200, current-speed 115200.
        assert_eq!(divisor(1_843_200, 115_200), Some(1));
        assert_eq!(divisor(1_843_200, 9600), Some(12));
        assert_eq!(divisor(1_843_200, 0), None);
        assert_eq!(divisor(100, 115_200), None);
    }

    #[test]
    fn init_programs_8n1_and_divisor() {
        let f = fake(0x60);
        Ns16550::new(&f).init(1_843_200, 9600);
        let w = f.writes.borrow();
        assert_eq!(w[0], (1, 0)); // interrupts off
        assert_eq!(w[1], (3, 0x80)); // DLAB
        assert_eq!(w[2], (0, 12)); // divisor low
        assert_eq!(w[3], (1, 0)); // divisor high
        assert_eq!(w[4], (3, 0x03)); // 8N1
        assert_eq!(w[5], (2, 0x07)); // FIFOs
        assert_eq!(w[6], (4, 0x03)); // DTR|RTS
    }

    #[test]
    fn newline_becomes_crlf() {
        let f = fake(0x60);
        Ns16550::new(&f).write_bytes(b"a\n");
        let sent: Vec<u8> = f.writes.borrow().iter().map(|&(_, v)| v).collect();
        assert_eq!(sent, b"a\r\n");
    }

    #[test]
    fn stuck_transmitter_drops_instead_of_hanging() {
        let f = fake(0x00); // THRE never set
        let uart = Ns16550::new(&f);
        assert!(!uart.put_byte(b'x'));
        uart.write_bytes(b"hello");
        assert!(f.writes.borrow().is_empty());
    }

    #[test]
    fn drain_waits_for_an_empty_transmitter_and_gives_up_on_a_stuck_one() {
        assert!(Ns16550::new(&fake(0x60)).drain());
        assert!(!Ns16550::new(&fake(0x20)).drain()); // holding register free, shift register busy forever
    }

    #[test]
    fn receive_and_presence() {
        let f = fake(0x60);
        f.rx.borrow_mut().push(b'k');
        let uart = Ns16550::new(&f);
        assert!(uart.present());
        assert_eq!(uart.get_byte(), Some(b'k'));
        assert_eq!(uart.get_byte(), None);
        let missing = fake(0xff);
        assert!(!Ns16550::new(&missing).present());
    }
}
