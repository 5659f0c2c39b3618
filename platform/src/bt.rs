//! IPMI BT (block transfer) interface to the BMC: three byte registers on the LPC I/O bus.
//!
//! A transfer: wait until the BMC is not busy, clear the write pointer, write the request
//! into the buffer, raise H2B_ATN; wait for B2H_ATN, mark the host busy, acknowledge,
//! clear the read pointer, read the response, release the host-busy flag.

use crate::clock::{wait_until, Clock};
use crate::ipmi::{decode_bt_response, encode_bt_request, IpmiError, Request, Response, BT_MAX_MESSAGE};
use crate::mmio::ByteIo;
use bitflags::bitflags;
use core::fmt;

/// Register offsets.
mod reg {
    /// Control and status.
    pub const CTRL: u32 = 0;
    /// Host-to-BMC / BMC-to-host buffer.
    pub const BUF: u32 = 1;
    /// Interrupt mask.
    pub const INTMASK: u32 = 2;
}

bitflags! {
    /// BT control register (IPMI 2.0 §11.6.1).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct BtCtrl: u8 {
        /// Clear the write pointer.
        const CLR_WR_PTR = 0x01;
        /// Clear the read pointer.
        const CLR_RD_PTR = 0x02;
        /// Host-to-BMC attention: a request is ready.
        const H2B_ATN = 0x04;
        /// BMC-to-host attention: a response is ready (write 1 to clear).
        const B2H_ATN = 0x08;
        /// SMS attention: the BMC has an event message.
        const SMS_ATN = 0x10;
        /// OEM bit.
        const OEM0 = 0x20;
        /// Host busy (write 1 to toggle).
        const H_BUSY = 0x40;
        /// BMC busy.
        const B_BUSY = 0x80;
    }
}

/// How long the BMC may stay busy or take to answer.
const BMC_TIMEOUT_US: u64 = 2_000_000;

/// A failed BT transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BtError {
    /// The BMC stayed busy.
    Busy,
    /// No response arrived in time.
    NoResponse,
    /// The response was malformed, for another request, or an error completion.
    Ipmi(IpmiError),
}

impl fmt::Display for BtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Busy => write!(f, "BMC busy for more than {} ms", BMC_TIMEOUT_US / 1000),
            Self::NoResponse => write!(f, "no response from the BMC"),
            Self::Ipmi(e) => write!(f, "{e}"),
        }
    }
}

impl From<IpmiError> for BtError {
    fn from(e: IpmiError) -> Self {
        Self::Ipmi(e)
    }
}

/// A BT interface.
pub struct BtInterface<B: ByteIo> {
    bus: B,
    seq: u8,
}

impl<B: ByteIo> BtInterface<B> {
    /// The interface whose registers `bus` reaches. Masks its interrupts (oxiboot polls).
    pub fn new(bus: B) -> Self {
        bus.write8(reg::INTMASK, 0);
        Self { bus, seq: 0 }
    }

    fn ctrl(&self) -> BtCtrl {
        BtCtrl::from_bits_retain(self.bus.read8(reg::CTRL))
    }

    fn set(&self, bits: BtCtrl) {
        self.bus.write8(reg::CTRL, bits.bits());
    }

    /// Sends a request without waiting for the answer (for power-off, where the BMC may
    /// remove power before answering).
    pub fn send<C: Clock>(&mut self, clock: &C, req: &Request<'_>) -> Result<u8, BtError> {
        let mut frame = [0; BT_MAX_MESSAGE];
        self.seq = self.seq.wrapping_add(1);
        let len = encode_bt_request(req, self.seq, &mut frame)?;
        wait_until(clock, BMC_TIMEOUT_US, || !self.ctrl().intersects(BtCtrl::B_BUSY | BtCtrl::H2B_ATN))
            .map_err(|_| BtError::Busy)?;
        // A stale response from an abandoned transfer would be mistaken for ours.
        if self.ctrl().contains(BtCtrl::B2H_ATN) {
            self.set(BtCtrl::B2H_ATN);
        }
        self.set(BtCtrl::CLR_WR_PTR);
        for &b in &frame[..len] {
            self.bus.write8(reg::BUF, b);
        }
        self.set(BtCtrl::H2B_ATN);
        Ok(self.seq)
    }

    /// Sends a request and waits for its response.
    pub fn transact<C: Clock>(&mut self, clock: &C, req: &Request<'_>) -> Result<Response, BtError> {
        let seq = self.send(clock, req)?;
        wait_until(clock, BMC_TIMEOUT_US, || self.ctrl().contains(BtCtrl::B2H_ATN))
            .map_err(|_| BtError::NoResponse)?;
        if !self.ctrl().contains(BtCtrl::H_BUSY) {
            self.set(BtCtrl::H_BUSY);
        }
        self.set(BtCtrl::B2H_ATN);
        self.set(BtCtrl::CLR_RD_PTR);
        let mut frame = [0u8; BT_MAX_MESSAGE];
        let declared = self.bus.read8(reg::BUF);
        frame[0] = declared;
        let take = (declared as usize).min(BT_MAX_MESSAGE - 1);
        for slot in frame.iter_mut().skip(1).take(take) {
            *slot = self.bus.read8(reg::BUF);
        }
        // Release H_BUSY (it toggles on a write of 1).
        self.set(BtCtrl::H_BUSY);
        Ok(decode_bt_response(&frame[..=take], req, seq)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::ipmi::{ChassisControl, DeviceId};
    use core::cell::{Cell, RefCell};
    use std::vec::Vec;

    /// A BMC behind a BT interface, modelled on the register semantics of IPMI 2.0.
    #[derive(Default)]
    struct FakeBmc {
        ctrl: Cell<u8>,
        inbuf: RefCell<Vec<u8>>,
        outbuf: RefCell<Vec<u8>>,
        outpos: Cell<usize>,
        requests: RefCell<Vec<Vec<u8>>>,
        mute: bool,
    }

    impl FakeBmc {
        fn handle(&self) {
            let req = self.inbuf.borrow().clone();
            self.requests.borrow_mut().push(req.clone());
            if self.mute {
                return;
            }
            let (netfn, seq, cmd) = (req[1] >> 2, req[2], req[3]);
            let mut rsp = vec![0, (netfn + 1) << 2, seq, cmd, 0];
            if netfn == 6 && cmd == 1 {
                rsp.extend_from_slice(&[0x20, 0x01, 0x02, 0x15, 0x02, 0, 0x4f, 0x1a, 0, 0x34, 0x12]);
            }
            rsp[0] = (rsp.len() - 1) as u8;
            *self.outbuf.borrow_mut() = rsp;
            self.ctrl.set(self.ctrl.get() | BtCtrl::B2H_ATN.bits());
        }
    }

    impl ByteIo for &FakeBmc {
        fn read8(&self, offset: u32) -> u8 {
            match offset {
                0 => self.ctrl.get(),
                1 => {
                    let pos = self.outpos.get();
                    self.outpos.set(pos + 1);
                    self.outbuf.borrow().get(pos).copied().unwrap_or(0)
                }
                _ => 0,
            }
        }
        fn write8(&self, offset: u32, value: u8) {
            match offset {
                0 => {
                    let v = BtCtrl::from_bits_retain(value);
                    let mut c = BtCtrl::from_bits_retain(self.ctrl.get());
                    if v.contains(BtCtrl::CLR_WR_PTR) {
                        self.inbuf.borrow_mut().clear();
                    }
                    if v.contains(BtCtrl::CLR_RD_PTR) {
                        self.outpos.set(0);
                    }
                    if v.contains(BtCtrl::B2H_ATN) {
                        c.remove(BtCtrl::B2H_ATN);
                    }
                    if v.contains(BtCtrl::H_BUSY) {
                        c.toggle(BtCtrl::H_BUSY);
                    }
                    self.ctrl.set(c.bits());
                    if v.contains(BtCtrl::H2B_ATN) {
                        self.handle();
                    }
                }
                1 => self.inbuf.borrow_mut().push(value),
                _ => {}
            }
        }
    }

    fn clock() -> FakeClock {
        FakeClock { now: Cell::new(0), step: 1000, freq: 1_000_000 }
    }

    #[test]
    fn device_id_round_trip() {
        let bmc = FakeBmc::default();
        let c = clock();
        let mut bt = BtInterface::new(&bmc);
        let rsp = bt.transact(&c, &Request::get_device_id()).unwrap();
        let id = DeviceId::parse(rsp.data()).unwrap();
        assert_eq!(id.device_id, 0x20);
        assert_eq!(id.manufacturer, 0x1a4f);
        // H_BUSY released, attention cleared.
        assert_eq!(bmc.ctrl.get() & (BtCtrl::H_BUSY | BtCtrl::B2H_ATN).bits(), 0);
        // Sequence numbers advance.
        bt.transact(&c, &Request::get_device_id()).unwrap();
        let reqs = bmc.requests.borrow();
        assert_eq!(reqs[0][2] + 1, reqs[1][2]);
    }

    #[test]
    fn power_down_is_sent_framed() {
        let bmc = FakeBmc::default();
        let c = clock();
        let mut bt = BtInterface::new(&bmc);
        bt.send(&c, &Request::chassis_control(ChassisControl::PowerDown)).unwrap();
        assert_eq!(bmc.requests.borrow()[0], vec![4, 0x00, 1, 0x02, 0]);
    }

    #[test]
    fn silent_bmc_times_out() {
        let bmc = FakeBmc { mute: true, ..Default::default() };
        let c = clock();
        let mut bt = BtInterface::new(&bmc);
        assert_eq!(bt.transact(&c, &Request::get_device_id()), Err(BtError::NoResponse));
    }

    #[test]
    fn busy_bmc_times_out() {
        let bmc = FakeBmc::default();
        bmc.ctrl.set(BtCtrl::B_BUSY.bits());
        let c = clock();
        let mut bt = BtInterface::new(&bmc);
        assert_eq!(bt.transact(&c, &Request::get_device_id()), Err(BtError::Busy));
    }
}
