//! What moves between the processor and the saved state when a thread switches from an L1 to
//! one of its L2 vCPUs and back, as plain data: the hypervisor (firmware) reads and writes the
//! registers, this module decides the values.
//!
//! * [`ThreadRegisters`] — the special-purpose registers (SPRs) that belong to whoever runs on
//!   the thread and that an hcall must preserve for the L1: saved for the L1 on RUN_VCPU,
//!   loaded from the L2's [`VcpuState`], saved back to it at the exit, restored for the L1.
//! * [`VectorRegisters`] — FP/VMX/VSX (floating point, vector, vector-scalar) state in the
//!   memory layout the save/load code uses.
//! * Decrementer and timebase arithmetic: the L1 passes expiries in timebase units; the
//!   processor counts down.
//! * [`l2_lpcr`] — the LPCR (logical partitioning control register) an L2 runs with.

use super::state::VcpuState;
use super::values::{LPCR_L1_SETTABLE, LPCR_LD};

/// Thread SPRs exchanged at every L1 ↔ L2 switch. Each field is named after its register.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct ThreadRegisters {
    pub dar: u64,
    pub dsisr: u64,
    pub sprg: [u64; 4],
    pub pidr: u64,
    pub amr: u64,
    pub iamr: u64,
    pub uamor: u64,
    pub amor: u64,
    pub fscr: u64,
    pub dscr: u64,
    pub tar: u64,
    pub pspb: u64,
    pub ciabr: u64,
    pub dawr0: u64,
    pub dawrx0: u64,
    pub ppr: u64,
    pub vrsave: u64,
    pub dpdes: u64,
    pub bescr: u64,
    pub ebbhr: u64,
    pub ebbrr: u64,
    pub mmcr0: u64,
    pub mmcr1: u64,
    pub mmcr2: u64,
    pub mmcra: u64,
    pub pmc: [u64; 6],
    pub siar: u64,
    pub sdar: u64,
    pub sier: u64,
}

/// `CIABR[PRIV]` (bits 62:63), the privilege the breakpoint matches in.
pub const CIABR_PRIV: u64 = 3;
/// `CIABR[PRIV]` = hypervisor: an L1 may not set a breakpoint on the hypervisor.
pub const CIABR_PRIV_HYPERVISOR: u64 = 3;
/// `DAWRX[HYP]` (bit 61): match hypervisor accesses; never for an L2.
pub const DAWRX_HYP: u64 = 4;

/// `PPR` (program priority register) value of medium priority, for a vCPU the L1 never set.
pub const PPR_MEDIUM: u64 = 4 << 50;

impl ThreadRegisters {
    /// The registers of an L2 vCPU as the L0 keeps them.
    pub fn of_l2(v: &VcpuState) -> Self {
        Self {
            dar: v.dar,
            dsisr: u64::from(v.dsisr),
            sprg: v.sprg,
            pidr: u64::from(v.pidr),
            amr: v.amr,
            iamr: v.iamr,
            uamor: v.uamor,
            amor: v.amor,
            fscr: v.fscr,
            dscr: v.dscr,
            tar: v.tar,
            pspb: u64::from(v.pspb),
            ciabr: if v.ciabr & CIABR_PRIV == CIABR_PRIV_HYPERVISOR {
                v.ciabr & !CIABR_PRIV
            } else {
                v.ciabr
            },
            dawr0: v.dawr0,
            dawrx0: u64::from(v.dawrx0) & !DAWRX_HYP,
            ppr: if v.ppr == 0 { PPR_MEDIUM } else { v.ppr },
            vrsave: u64::from(v.vrsave),
            dpdes: v.dpdes,
            bescr: v.bescr,
            ebbhr: v.ebbhr,
            ebbrr: v.ebbrr,
            mmcr0: v.mmcr[0],
            mmcr1: v.mmcr[1],
            mmcr2: v.mmcr[2],
            mmcra: v.mmcra,
            pmc: v.pmc.map(u64::from),
            siar: v.siar,
            sdar: v.sdar,
            sier: v.sier[0],
        }
    }

    /// Stores what the L2 left in the registers into its state (the 32-bit registers keep
    /// their low word, as the hardware holds them).
    pub fn save_to_l2(&self, v: &mut VcpuState) {
        v.dar = self.dar;
        v.dsisr = self.dsisr as u32;
        v.sprg = self.sprg;
        v.pidr = self.pidr as u32;
        v.amr = self.amr;
        v.iamr = self.iamr;
        v.uamor = self.uamor;
        v.amor = self.amor;
        v.fscr = self.fscr;
        v.dscr = self.dscr;
        v.tar = self.tar;
        v.pspb = self.pspb as u32;
        v.ciabr = self.ciabr;
        v.dawr0 = self.dawr0;
        v.dawrx0 = self.dawrx0 as u32;
        v.ppr = self.ppr;
        v.vrsave = self.vrsave as u32;
        v.dpdes = self.dpdes;
        v.bescr = self.bescr;
        v.ebbhr = self.ebbhr;
        v.ebbrr = self.ebbrr;
        v.mmcr[0] = self.mmcr0;
        v.mmcr[1] = self.mmcr1;
        v.mmcr[2] = self.mmcr2;
        v.mmcra = self.mmcra;
        v.pmc = self.pmc.map(|pmc| pmc as u32);
        v.siar = self.siar;
        v.sdar = self.sdar;
        v.sier[0] = self.sier;
    }
}

/// FP/VMX/VSX state in the layout of the firmware's save and load code: VSR n at
/// `vsr[n]` as (doubleword 0, doubleword 1) — doubleword 0 is FPR n for n < 32 — then FPSCR
/// (floating-point status and control register), then the VSCR (vector status and control
/// register) quadword with the register in word 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct VectorRegisters {
    /// VSR 0–63: VSR 32–63 are VR 0–31.
    pub vsr: [[u64; 2]; 64],
    /// FPSCR.
    pub fpscr: u64,
    /// Padding to the VSCR's quadword.
    pub pad: u64,
    /// VSCR in word 0; the rest is ignored.
    pub vscr: [u32; 4],
}

/// Byte offset of [`VectorRegisters::fpscr`] (the assembly code uses it).
pub const VECTOR_FPSCR_OFFSET: usize = 64 * 16;
/// Byte offset of [`VectorRegisters::vscr`].
pub const VECTOR_VSCR_OFFSET: usize = 64 * 16 + 16;

const _: () = assert!(core::mem::offset_of!(VectorRegisters, fpscr) == VECTOR_FPSCR_OFFSET);
const _: () = assert!(core::mem::offset_of!(VectorRegisters, vscr) == VECTOR_VSCR_OFFSET);

impl Default for VectorRegisters {
    fn default() -> Self {
        Self { vsr: [[0; 2]; 64], fpscr: 0, pad: 0, vscr: [0; 4] }
    }
}

impl VectorRegisters {
    /// An L2 vCPU's vector state (a VSR's value is doubleword 0 in the high 64 bits, as the
    /// guest state buffer carries it).
    pub fn of_l2(v: &VcpuState) -> Self {
        let mut out = Self { fpscr: v.fpscr, ..Self::default() };
        for (slot, value) in out.vsr.iter_mut().zip(v.vsr.iter()) {
            *slot = [(value >> 64) as u64, *value as u64];
        }
        out.vscr[0] = v.vscr;
        out
    }

    /// Stores the vector state back into an L2 vCPU.
    pub fn save_to_l2(&self, v: &mut VcpuState) {
        for (value, slot) in v.vsr.iter_mut().zip(self.vsr.iter()) {
            *value = (u128::from(slot[0]) << 64) | u128::from(slot[1]);
        }
        v.fpscr = self.fpscr;
        v.vscr = self.vscr[0];
    }
}

/// LPCR bits every L2 runs with: host radix (HR), radix process tables (UPRT), hypervisor
/// virtualization and decrementer interrupts enabled (HVICE, HDICE), exits from `stop` on
/// doorbells, decrementer, external and other events (PDEE, HDEE, DEE, EEE, OEE). LPES is
/// clear: external interrupts go to the hypervisor.
pub const L2_LPCR_FIXED: u64 = ibm_bit(43)
    | ibm_bit(41)
    | ibm_bit(62)
    | ibm_bit(63)
    | ibm_bit(47)
    | ibm_bit(48)
    | ibm_bit(50)
    | ibm_bit(49)
    | ibm_bit(51);

/// IBM bit `n` (0 = most significant) of a doubleword.
const fn ibm_bit(n: u32) -> u64 {
    1 << (63 - n)
}

/// The LPCR an L2 vCPU runs with: the fixed bits and the L1's (DPFD, ILE, AIL, LD, MER, GTSE).
pub fn l2_lpcr(v: &VcpuState) -> u64 {
    L2_LPCR_FIXED | (v.lpcr & LPCR_L1_SETTABLE)
}

/// Whether the L2 uses the large (56-bit) decrementer.
pub fn large_decrementer(lpcr: u64) -> bool {
    lpcr & LPCR_LD != 0
}

/// Largest decrementer value: 2^31 − 1, or 2^55 − 1 with the large decrementer.
pub fn decrementer_max(large: bool) -> i64 {
    if large {
        (1 << 55) - 1
    } else {
        i32::MAX as i64
    }
}

/// The decrementer value that expires at timebase `expiry`, now being `now` (both in the
/// timebase the decrementer's owner sees): clamped to what the register holds, negative
/// when already past (its interrupt then is pending, as the hardware would have it).
pub fn decrementer_for(expiry: u64, now: u64, large: bool) -> u64 {
    let max = decrementer_max(large);
    let delta = expiry.wrapping_sub(now) as i64;
    delta.clamp(-max - 1, max) as u64
}

/// The expiry (timebase) of a decrementer read as `value` at timebase `now`: the value is
/// sign-extended from 32 (or 56) bits.
pub fn decrementer_expiry(value: u64, now: u64, large: bool) -> u64 {
    let bits = if large { 56 } else { 32 };
    let shift = 64 - bits;
    let signed = ((value << shift) as i64) >> shift;
    now.wrapping_add(signed as u64)
}

/// The hypervisor decrementer for a run: until the L1's deadline `hdec_expiry` (host
/// timebase) but at most `cap` ticks, at least 1 (an expired deadline exits at once).
pub fn hypervisor_decrementer_for(hdec_expiry: u64, now: u64, cap: u64) -> u64 {
    let delta = hdec_expiry.wrapping_sub(now) as i64;
    (delta.max(1) as u64).min(cap)
}

/// Whether the L1's deadline has passed.
pub fn deadline_passed(hdec_expiry: u64, now: u64) -> bool {
    (now.wrapping_sub(hdec_expiry) as i64) >= 0
}
