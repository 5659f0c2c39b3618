//! SPIRA-H and SPIRA-S, the roots of the HDAT (Hypervisor Data Area).
//!
//! SPIRA-H ("SP Interface Root Array, Host") is built into the host firmware image and found
//! by the service processor through the NACA (Node Address Communication Area); its first
//! n-tuple, the *host data area*, tells the boot firmware where to build SPIRA-S. SPIRA-S
//! ("... Service processor") is an array of n-tuples, one per kind of data (service
//! processor, IPL parameters, SLCA, VPD, memory, I/O hubs, cores, chips, ...). An n-tuple
//! gives the absolute address of the first instance of an HDIF structure, the number of
//! instances and the stride between them.

use crate::error::{HdatError, Result};
use crate::hdif::Hdif;
use crate::window::Window;
use alloc::vec::Vec;

/// Lowest SPIRA-H version understood (the first secure-boot-compliant layout).
pub const SPIRAH_MIN_VERSION: u16 = 0x50;
/// Lowest SPIRA-S version understood (POWER8 FW810 and later).
pub const SPIRAS_MIN_VERSION: u16 = 0x40;
/// Meaningful bytes of one n-tuple.
const NTUPLE_LEN: usize = 0x18;

/// One n-tuple: where the instances of a structure are and how many there are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ntuple {
    /// Name used in error reports.
    pub what: &'static str,
    /// Absolute address of the first instance (0: absent).
    pub addr: u64,
    /// Instances allocated.
    pub alloc_cnt: u16,
    /// Instances present.
    pub act_cnt: u16,
    /// Bytes allocated per instance (the stride).
    pub alloc_len: u32,
    /// Bytes used per instance.
    pub act_len: u32,
}

impl Ntuple {
    fn check(&self) -> Result<()> {
        if self.act_cnt > self.alloc_cnt || self.act_len > self.alloc_len {
            return Err(HdatError::BadNtuple { what: self.what });
        }
        Ok(())
    }

    /// The first instance, or `None` when the n-tuple is empty (address 0).
    pub fn first<'a>(&self, win: Window<'a>, id: &'static str) -> Result<Option<Hdif<'a>>> {
        if self.addr == 0 {
            return Ok(None);
        }
        self.check()?;
        Hdif::at(win, win.offset_of(self.addr, self.what)?, id).map(Some)
    }

    /// All `act_cnt` instances, each checked to carry eye-catcher `id`.
    pub fn instances<'a>(&self, win: Window<'a>, id: &'static str) -> Result<Vec<Hdif<'a>>> {
        let mut out = Vec::new();
        if self.first(win, id)?.is_none() {
            return Ok(out);
        }
        for k in 0..u64::from(self.act_cnt) {
            let addr = self
                .addr
                .checked_add(k * u64::from(self.alloc_len))
                .ok_or(HdatError::AddressOutOfWindow { what: self.what, addr: u64::MAX })?;
            out.push(Hdif::at(win, win.offset_of(addr, self.what)?, id)?);
        }
        Ok(out)
    }
}

/// Reads n-tuple `index` of the n-tuple array of a SPIRA structure (absent if beyond it).
fn ntuple(spira: &Hdif<'_>, index: usize, what: &'static str) -> Result<Ntuple> {
    let Some(arr) = spira.iarray(0, "SPIRA n-tuple array")? else {
        return Err(HdatError::Missing { what: "SPIRA n-tuple array" });
    };
    if arr.actual_size() < NTUPLE_LEN {
        return Err(HdatError::BadValue { what: "SPIRA n-tuple size", value: arr.actual_size() as u64 });
    }
    if index >= arr.len() {
        return Ok(Ntuple { what, ..Ntuple::default() });
    }
    let r = arr.item(index)?;
    Ok(Ntuple {
        what,
        addr: r.be64(0)?,
        alloc_cnt: r.be16(8)?,
        act_cnt: r.be16(10)?,
        alloc_len: r.be32(12)?,
        act_len: r.be32(16)?,
    })
}

/// The SPIRA-H structure (a copy of it, e.g. from the firmware image or a dump file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpiraH {
    /// Structure version.
    pub version: u16,
    /// The host data area: where SPIRA-S and the HDAT structures are built.
    pub host_data_area: Ntuple,
}

impl SpiraH {
    /// Parses and checks a SPIRA-H.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let win = Window::new(bytes, 0);
        let h = Hdif::at(win, 0, "SPIRAH")?;
        if h.version() < SPIRAH_MIN_VERSION {
            return Err(HdatError::UnsupportedVersion { what: "SPIRA-H", version: h.version() });
        }
        let host_data_area = ntuple(&h, 0, "SPIRA-H host data area")?;
        if host_data_area.addr == 0 {
            return Err(HdatError::Missing { what: "SPIRA-H host data area" });
        }
        Ok(Self { version: h.version(), host_data_area })
    }
}

/// The SPIRA-S n-tuples, by name, in SPIRA-S order.
#[derive(Debug, Clone, Copy)]
pub struct Tuples {
    /// Service processor subsystem (`SPINFO`).
    pub sp_subsys: Ntuple,
    /// IPL parameters (`IPLPMS`).
    pub ipl_parms: Ntuple,
    /// Enclosure VPD (`FRUVPD`).
    pub enclosure_vpd: Ntuple,
    /// Slot location code array (`SLCA  `).
    pub slca: Ntuple,
    /// Backplane VPD (`FRUVPD`).
    pub backplane_vpd: Ntuple,
    /// System VPD (`SYSVPD`).
    pub system_vpd: Ntuple,
    /// Clock card VPD (`FRUVPD`).
    pub clock_vpd: Ntuple,
    /// Anchor card VPD (`FRUVPD`).
    pub anchor_vpd: Ntuple,
    /// Operator panel VPD (`FRUVPD`).
    pub op_panel_vpd: Ntuple,
    /// Miscellaneous CEC FRU VPD (`FRUVPD`).
    pub misc_cec_fru_vpd: Ntuple,
    /// Main store VPD (`MS VPD`).
    pub ms_vpd: Ntuple,
    /// CEC I/O hub FRUs (`IO HUB`).
    pub cec_iohub_fru: Ntuple,
    /// Processor core information, one per core (`SPPCIA`).
    pub pcia: Ntuple,
    /// Processor chip related data, one per chip (`SPPCRD`).
    pub proc_chip: Ntuple,
    /// Host services data (`HOSTSR`).
    pub hs_data: Ntuple,
    /// Hostboot runtime data (`HBRT  `).
    pub hbrt_data: Ntuple,
    /// IPMI sensor mapping (`FRUSE `).
    pub ipmi_sensor: Ntuple,
    /// Node secure and trusted boot data (`TPMREL`).
    pub node_stb_data: Ntuple,
}

impl Tuples {
    /// Finds SPIRA-S at the host data area named by `spirah` and reads its n-tuples.
    pub fn from_spira_s(win: Window<'_>, spirah: &SpiraH) -> Result<Self> {
        let off = win.offset_of(spirah.host_data_area.addr, "SPIRA-S")?;
        let s = Hdif::at(win, off, "SPIRAS")?;
        if s.version() < SPIRAS_MIN_VERSION {
            return Err(HdatError::UnsupportedVersion { what: "SPIRA-S", version: s.version() });
        }
        let t = |i, what| ntuple(&s, i, what);
        Ok(Self {
            sp_subsys: t(0, "SPIRA-S service processor")?,
            ipl_parms: t(1, "SPIRA-S IPL parameters")?,
            enclosure_vpd: t(2, "SPIRA-S enclosure VPD")?,
            slca: t(3, "SPIRA-S SLCA")?,
            backplane_vpd: t(4, "SPIRA-S backplane VPD")?,
            system_vpd: t(5, "SPIRA-S system VPD")?,
            clock_vpd: t(6, "SPIRA-S clock VPD")?,
            anchor_vpd: t(7, "SPIRA-S anchor VPD")?,
            op_panel_vpd: t(8, "SPIRA-S operator panel VPD")?,
            misc_cec_fru_vpd: t(9, "SPIRA-S misc CEC FRU VPD")?,
            ms_vpd: t(10, "SPIRA-S MS VPD")?,
            cec_iohub_fru: t(11, "SPIRA-S I/O hub FRU")?,
            pcia: t(12, "SPIRA-S PCIA")?,
            proc_chip: t(13, "SPIRA-S processor chips")?,
            hs_data: t(14, "SPIRA-S host services")?,
            hbrt_data: t(15, "SPIRA-S hostboot runtime")?,
            ipmi_sensor: t(16, "SPIRA-S IPMI sensors")?,
            node_stb_data: t(17, "SPIRA-S secure and trusted boot")?,
        })
    }
}
