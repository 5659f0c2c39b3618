//! Special-purpose register numbers and field layouts (Power ISA v3.0B, POWER9 user manual).
//!
//! Bit names follow the ISA; IBM numbering counts bit 0 as the most significant bit of the
//! 64-bit register, so "bit n" is `1 << (63 - n)`.

use bitflags::bitflags;

/// IBM bit number `n` of a 64-bit register as a mask.
pub const fn ppc_bit(n: u32) -> u64 {
    1u64 << (63 - n)
}

/// SPR numbers used by the firmware.
pub mod num {
    /// Data Storage Interrupt Status Register.
    pub const DSISR: u32 = 18;
    /// Authority Mask Register (storage protection keys), privileged number (13 is the
    /// problem-state alias).
    pub const AMR: u32 = 29;
    /// Data Stream Control Register (privileged number).
    pub const DSCR: u32 = 17;
    /// Authority Mask Override Register: which AMR bits the OS may change.
    pub const AMOR: u32 = 349;
    /// Process Identification Register (radix process id).
    pub const PIDR: u32 = 48;
    /// Instruction Authority Mask Register.
    pub const IAMR: u32 = 61;
    /// Facility Status and Control Register.
    pub const FSCR: u32 = 153;
    /// User Authority Mask Override Register.
    pub const UAMOR: u32 = 157;
    /// Directed Privileged Doorbell Exception State.
    pub const DPDES: u32 = 176;
    /// Data Address Watchpoint Register 0.
    pub const DAWR0: u32 = 180;
    /// Completed Instruction Address Breakpoint Register.
    pub const CIABR: u32 = 187;
    /// Data Address Watchpoint Register Extension 0.
    pub const DAWRX0: u32 = 188;
    /// Hypervisor Facility Status and Control Register.
    pub const HFSCR: u32 = 190;
    /// Special Purpose Registers General 0-3 (the OS's).
    pub const SPRG0: u32 = 272;
    /// Special Purpose Register General 1.
    pub const SPRG1: u32 = 273;
    /// Special Purpose Register General 2.
    pub const SPRG2: u32 = 274;
    /// Special Purpose Register General 3.
    pub const SPRG3: u32 = 275;
    /// Processor Compatibility Register.
    pub const PCR: u32 = 338;
    /// Partition Table Control Register.
    pub const PTCR: u32 = 464;
    /// Data Address Register.
    pub const DAR: u32 = 19;
    /// Decrementer.
    pub const DEC: u32 = 22;
    /// Save/Restore Register 0 (interrupted address).
    pub const SRR0: u32 = 26;
    /// Save/Restore Register 1 (interrupted MSR).
    pub const SRR1: u32 = 27;
    /// Come-From Address Register.
    pub const CFAR: u32 = 28;
    /// Hypervisor Special Purpose Register General 0 (oxiboot: per-CPU data pointer).
    pub const HSPRG0: u32 = 304;
    /// Hypervisor Special Purpose Register General 1 (oxiboot: scratch in exception entry).
    pub const HSPRG1: u32 = 305;
    /// Hypervisor Data Storage Interrupt Status Register.
    pub const HDSISR: u32 = 306;
    /// Hypervisor Data Address Register.
    pub const HDAR: u32 = 307;
    /// Hypervisor Decrementer.
    pub const HDEC: u32 = 310;
    /// Hypervisor Real Mode Offset Register.
    pub const HRMOR: u32 = 313;
    /// Hypervisor Save/Restore Register 0.
    pub const HSRR0: u32 = 314;
    /// Hypervisor Save/Restore Register 1.
    pub const HSRR1: u32 = 315;
    /// Logical Partitioning Control Register.
    pub const LPCR: u32 = 318;
    /// Logical Partition Identification Register.
    pub const LPIDR: u32 = 319;
    /// Hypervisor Maintenance Exception Register.
    pub const HMER: u32 = 336;
    /// Hypervisor Emulation Instruction Register.
    pub const HEIR: u32 = 339;
    /// Access Segment Descriptor Register.
    pub const ASDR: u32 = 816;
    /// Processor Stop Status and Control Register.
    pub const PSSCR: u32 = 855;
    /// Hardware Implementation Dependent register 0 (POWER9: per core).
    pub const HID0: u32 = 1008;
    /// Processor Identification Register (the thread's hardware id).
    pub const PIR: u32 = 1023;
    /// Processor Version Register (processor type and revision; read-only).
    pub const PVR: u32 = 287;
    /// Target Address Register (`bctar`).
    pub const TAR: u32 = 815;
    /// Problem State Priority Boost register.
    pub const PSPB: u32 = 159;
    /// Program Priority Register.
    pub const PPR: u32 = 896;
    /// VR Save register (software use).
    pub const VRSAVE: u32 = 256;
    /// Branch Event Status and Control Register (event-based branches).
    pub const BESCR: u32 = 806;
    /// Event-Based Branch Handler Register.
    pub const EBBHR: u32 = 804;
    /// Event-Based Branch Return Register.
    pub const EBBRR: u32 = 805;
    /// Monitor Mode Control Register 0 (performance monitor).
    pub const MMCR0: u32 = 795;
    /// Monitor Mode Control Register 1.
    pub const MMCR1: u32 = 798;
    /// Monitor Mode Control Register 2.
    pub const MMCR2: u32 = 785;
    /// Monitor Mode Control Register A.
    pub const MMCRA: u32 = 786;
    /// Performance Monitor Counter 1 (PMC2–PMC6 follow: 788–792).
    pub const PMC1: u32 = 787;
    /// Performance Monitor Counter 2.
    pub const PMC2: u32 = 788;
    /// Performance Monitor Counter 3.
    pub const PMC3: u32 = 789;
    /// Performance Monitor Counter 4.
    pub const PMC4: u32 = 790;
    /// Performance Monitor Counter 5.
    pub const PMC5: u32 = 791;
    /// Performance Monitor Counter 6.
    pub const PMC6: u32 = 792;
    /// Sampled Instruction Address Register.
    pub const SIAR: u32 = 796;
    /// Sampled Data Address Register.
    pub const SDAR: u32 = 797;
    /// Sampled Instruction Event Register.
    pub const SIER: u32 = 784;
    /// Timebase Upper 40 bits (write-only, hypervisor): how a partition's timebase offset is
    /// applied.
    pub const TBU40: u32 = 286;
}

bitflags! {
    /// Machine State Register.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Msr: u64 {
        /// Sixty-four-bit mode.
        const SF = ppc_bit(0);
        /// Hypervisor state.
        const HV = ppc_bit(3);
        /// External interrupt enable.
        const EE = ppc_bit(48);
        /// Problem state (user mode).
        const PR = ppc_bit(49);
        /// Floating-point available.
        const FP = ppc_bit(50);
        /// Machine check enable.
        const ME = ppc_bit(51);
        /// Instruction relocation (MMU on for fetches).
        const IR = ppc_bit(58);
        /// Data relocation (MMU on for data).
        const DR = ppc_bit(59);
        /// Transactional memory available.
        const TM = ppc_bit(31);
        /// Transaction state (two bits).
        const TS = ppc_bit(29) | ppc_bit(30);
        /// Vector (VMX) available.
        const VEC = ppc_bit(38);
        /// Vector-scalar (VSX) available.
        const VSX = ppc_bit(40);
        /// Floating-point exception mode 0.
        const FE0 = ppc_bit(52);
        /// Single-step trace enable.
        const SE = ppc_bit(53);
        /// Branch trace enable.
        const BE = ppc_bit(54);
        /// Floating-point exception mode 1.
        const FE1 = ppc_bit(55);
        /// Performance monitor mark.
        const PMM = ppc_bit(61);
        /// Recoverable interrupt.
        const RI = ppc_bit(62);
        /// Little-endian mode.
        const LE = ppc_bit(63);
    }
}

bitflags! {
    /// Logical Partitioning Control Register (ISA 3.0 layout).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Lpcr: u64 {
        /// Default prefetch depth (three bits).
        const DPFD = ppc_bit(9) | ppc_bit(10) | ppc_bit(11);
        /// Wake from `stop` on hypervisor interrupts (POWER9 PECE_HVEE).
        const HVEE = ppc_bit(17);
        /// Interrupt little-endian: interrupts to the OS of the partition are taken LE.
        const ILE = ppc_bit(38);
        /// Alternate interrupt location (two bits: 0 none, 3 at 0xc000_0000_0000_4000).
        const AIL = ppc_bit(39) | ppc_bit(40);
        /// Use process table (radix guests).
        const UPRT = ppc_bit(41);
        /// Host radix: partitions use radix translation.
        const HR = ppc_bit(43);
        /// Large decrementer enable.
        const LD = ppc_bit(46);
        /// Privileged doorbell exit enable (wakes from `stop`).
        const PDEE = ppc_bit(47);
        /// Hypervisor doorbell exit enable (wakes from `stop`).
        const HDEE = ppc_bit(48);
        /// External interrupt exit enable (wakes from `stop`).
        const EEE = ppc_bit(49);
        /// Decrementer exit enable (wakes from `stop`).
        const DEE = ppc_bit(50);
        /// Other exit enable: machine check, HMI (wakes from `stop`).
        const OEE = ppc_bit(51);
        /// Mediated external exception request.
        const MER = ppc_bit(52);
        /// Guest translation shootdown enable.
        const GTSE = ppc_bit(53);
        /// Translation control (hash only).
        const TC = ppc_bit(54);
        /// Hypervisor external interrupt control.
        const HEIC = ppc_bit(59);
        /// Logical partitioning environment selector: 1 directs external interrupts to the
        /// OS, 0 to the hypervisor.
        const LPES = ppc_bit(60);
        /// Hypervisor virtualization interrupt conditionally enable.
        const HVICE = ppc_bit(62);
        /// Hypervisor decrementer interrupt conditionally enable.
        const HDICE = ppc_bit(63);
    }
}

bitflags! {
    /// Hardware Implementation Dependent register 0 (POWER9).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Hid0: u64 {
        /// Enables the `attn` instruction (it then stops the chip: a checkstop).
        const ATTN_ENABLE = ppc_bit(3);
        /// Hypervisor interrupts little-endian.
        const HILE = ppc_bit(4);
        /// Radix translation enable for the hypervisor.
        const RADIX = ppc_bit(8);
    }
}

bitflags! {
    /// Hypervisor Maintenance Exception Register, the XSCOM status fields (POWER9).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Hmer: u64 {
        /// The last XSCOM access failed.
        const XSCOM_FAIL = ppc_bit(8);
        /// The last XSCOM access has completed.
        const XSCOM_DONE = ppc_bit(9);
        /// PCB status of a failed access, bits 21..23 (see [`Hmer::xscom_status`]).
        const XSCOM_STATUS = ppc_bit(21) | ppc_bit(22) | ppc_bit(23);
    }
}

impl Hmer {
    /// The 3-bit PCB status code of the last failed XSCOM access.
    pub fn xscom_status(self) -> u8 {
        ((self.bits() >> (63 - 23)) & 0x7) as u8
    }
}

/// Message type field of a `msgsnd`/`msgclr` operand (RB bits 32..36): hypervisor doorbell.
pub const DOORBELL_TYPE_HYPERVISOR: u64 = 5 << 27;
/// Mask of the target thread (PIR) in a `msgsnd` operand.
pub const DOORBELL_PIR_MASK: u64 = 0xf_ffff;

/// `msgsnd` operand that rings the hypervisor doorbell of the thread with this PIR.
pub const fn hypervisor_doorbell(pir: u32) -> u64 {
    DOORBELL_TYPE_HYPERVISOR | (pir as u64 & DOORBELL_PIR_MASK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibm_bit_numbering() {
        assert_eq!(ppc_bit(0), 0x8000_0000_0000_0000);
        assert_eq!(ppc_bit(63), 1);
        assert_eq!(Msr::SF.bits() | Msr::HV.bits(), 0x9000_0000_0000_0000);
        assert_eq!(Hid0::HILE.bits(), 0x0800_0000_0000_0000);
        assert_eq!(Lpcr::HDEE.bits(), 0x8000);
    }

    #[test]
    fn hmer_status_field() {
        let hmer = Hmer::from_bits_retain(Hmer::XSCOM_FAIL.bits() | (0b101 << (63 - 23)));
        assert!(hmer.contains(Hmer::XSCOM_FAIL));
        assert_eq!(hmer.xscom_status(), 5);
    }

    #[test]
    fn doorbell_operand() {
        assert_eq!(hypervisor_doorbell(0x105), 0x2800_0105);
    }
}
