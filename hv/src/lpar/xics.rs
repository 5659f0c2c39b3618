//! The interrupt presentation side of XICS (eXternal Interrupt Controller Specification) for
//! one vCPU, as a `pseries` kernel drives it through `H_XIRR`, `H_CPPR`, `H_EOI`, `H_IPI` and
//! `H_IPOLL`.
//!
//! The only interrupt source an LPAR has is the inter-processor interrupt (IPI), source
//! number 2, raised by writing a vCPU's MFRR (most favoured request register): it is
//! presented while the MFRR is more favoured (numerically lower) than the CPPR (current
//! processor priority register). The XIRR (external interrupt request register) read by
//! `H_XIRR` is the CPPR in the top byte and the XISR (interrupt source) below.

/// Source number of the inter-processor interrupt.
pub const XICS_IPI: u32 = 2;
/// The least favoured priority: an MFRR or CPPR of 0xff asks for nothing / masks nothing.
pub const LEAST_FAVOURED: u8 = 0xff;

/// One vCPU's interrupt presentation state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presenter {
    cppr: u8,
    mfrr: u8,
    /// The source being serviced (accepted, not yet ended); 0 for none.
    in_service: u32,
}

/// What `H_EOI` found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EoiError {
    /// The XISR names a source this presenter has none of.
    UnknownSource(u32),
}

impl Default for Presenter {
    fn default() -> Self {
        Self::new()
    }
}

impl Presenter {
    /// A presenter after reset: CPPR 0 (everything masked), no IPI requested.
    pub const fn new() -> Self {
        Self { cppr: 0, mfrr: LEAST_FAVOURED, in_service: 0 }
    }

    /// Current processor priority.
    pub fn cppr(&self) -> u8 {
        self.cppr
    }

    /// Most favoured request.
    pub fn mfrr(&self) -> u8 {
        self.mfrr
    }

    /// Whether an interrupt is being presented (the vCPU should see an external exception).
    pub fn pending(&self) -> bool {
        self.mfrr < self.cppr
    }

    /// `H_IPI` target side: sets the MFRR. Returns whether an interrupt is now presented.
    pub fn set_mfrr(&mut self, mfrr: u8) -> bool {
        self.mfrr = mfrr;
        self.pending()
    }

    /// `H_XIRR`: accepts the presented interrupt, if any, and returns the XIRR: the CPPR
    /// before acceptance in the top byte, the source (or 0) below. Acceptance raises the
    /// CPPR to the interrupt's priority, which stops it being presented.
    pub fn accept(&mut self) -> u32 {
        let old = self.cppr;
        if self.pending() {
            self.cppr = self.mfrr;
            self.in_service = XICS_IPI;
            (u32::from(old) << 24) | XICS_IPI
        } else {
            u32::from(old) << 24
        }
    }

    /// `H_IPOLL`: the XIRR `H_XIRR` would return now, and the MFRR, without accepting.
    pub fn poll(&self) -> (u32, u8) {
        let source = if self.pending() { XICS_IPI } else { 0 };
        ((u32::from(self.cppr) << 24) | source, self.mfrr)
    }

    /// `H_CPPR`: sets the CPPR. Returns whether an interrupt is now presented.
    pub fn set_cppr(&mut self, cppr: u8) -> bool {
        self.cppr = cppr;
        self.pending()
    }

    /// `H_EOI`: ends the interrupt named by `xirr` and restores the CPPR from its top byte.
    /// Returns whether an interrupt is now presented.
    pub fn end_of_interrupt(&mut self, xirr: u32) -> Result<bool, EoiError> {
        let source = xirr & 0x00ff_ffff;
        if source != XICS_IPI && source != 0 {
            return Err(EoiError::UnknownSource(source));
        }
        if source == self.in_service {
            self.in_service = 0;
        }
        self.cppr = (xirr >> 24) as u8;
        Ok(self.pending())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequence Linux's XICS driver goes through for one IPI (priority 4, the IPI
    /// priority it uses), from the sender's `H_IPI` to the receiver's `H_EOI`.
    #[test]
    fn one_ipi_as_linux_handles_it() {
        let mut p = Presenter::new();
        assert!(!p.set_cppr(0xff), "nothing requested yet");
        assert!(p.set_mfrr(4), "MFRR 4 < CPPR 0xff presents the IPI");
        assert_eq!(p.poll(), (0xff00_0002, 4));
        let xirr = p.accept();
        assert_eq!(xirr, 0xff00_0002, "old CPPR and source 2");
        assert_eq!(p.cppr(), 4);
        assert!(!p.pending(), "accepted: no longer presented");
        // The handler clears the request, then ends the interrupt.
        assert!(!p.set_mfrr(LEAST_FAVOURED));
        assert_eq!(p.end_of_interrupt(xirr), Ok(false));
        assert_eq!(p.cppr(), 0xff);
        assert_eq!(p.accept(), 0xff00_0000, "nothing left");
    }

    #[test]
    fn an_ipi_still_requested_at_eoi_is_presented_again() {
        let mut p = Presenter::new();
        p.set_cppr(0xff);
        p.set_mfrr(5);
        let xirr = p.accept();
        assert_eq!(p.end_of_interrupt(xirr), Ok(true), "MFRR was not cleared");
        assert_eq!(p.accept(), 0xff00_0002);
    }

    #[test]
    fn cppr_masks_less_favoured_requests() {
        let mut p = Presenter::new();
        assert!(!p.set_mfrr(5), "reset CPPR 0 masks everything");
        assert!(!p.set_cppr(5), "equal priority is masked");
        assert!(p.set_cppr(6));
        assert_eq!(p.accept(), 0x0600_0002);
        assert_eq!(p.cppr(), 5);
    }

    #[test]
    fn eoi_of_an_unknown_source_is_refused() {
        let mut p = Presenter::new();
        assert_eq!(p.end_of_interrupt(0xff00_1234), Err(EoiError::UnknownSource(0x1234)));
        assert_eq!(p.cppr(), 0, "state untouched");
        assert_eq!(p.end_of_interrupt(0xff00_0000), Ok(false), "source 0 only sets the CPPR");
        assert_eq!(p.cppr(), 0xff);
    }
}
