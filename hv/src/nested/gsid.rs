//! Guest state ids (GSIDs): the 16-bit identifiers of the elements of a guest state buffer
//! (GSB), with each id's value type and size, scope and access rules.
//!
//! Scope says which calls may carry an id: guest-wide ids (one value per L2 guest) need the
//! guest-wide flag of GET/SET_STATE; thread ids (one value per L2 vCPU) need it clear and are
//! the only ones allowed in the RUN_VCPU input buffer; host-wide ids (statistics of this L0
//! for the calling L1) only with GET_STATE's host-wide flag. Every id not listed here is
//! reserved and rejected.

use core::fmt;

/// No-operation element: any length, skipped (its value is neither read nor written).
pub const NOP: u16 = 0x0000;
/// Size of the L0's internal vCPU state (for the ownership protocol), read-only.
pub const HOST_STATE_SIZE: u16 = 0x0001;
/// Minimum size of the RUN_VCPU output buffer, read-only.
pub const RUN_OUTPUT_MIN_SIZE: u16 = 0x0002;
/// Logical processor version (PVR) the L2 runs as, e.g. 0x0F00_0005 for ISA 3.00.
pub const LOGICAL_PVR: u16 = 0x0003;
/// Timebase offset of the L2 relative to the L1's timebase.
pub const TB_OFFSET: u16 = 0x0004;
/// The L2's partition-scoped radix table: root address (L1 real), EA bits, root size.
pub const PARTITION_TABLE: u16 = 0x0005;
/// The L2's process table: base (L2 real) and size in bytes.
pub const PROCESS_TABLE: u16 = 0x0006;
/// Host-wide: bytes of L0 guest-management heap in use for this L1.
pub const L0_GUEST_HEAP_IN_USE: u16 = 0x0800;
/// Host-wide: most bytes of L0 guest-management heap this L1 may use.
pub const L0_GUEST_HEAP_MAX: u16 = 0x0801;
/// Host-wide: bytes of L0 page tables (shadow tables for L2s) in use.
pub const L0_GUEST_PAGE_TABLE_IN_USE: u16 = 0x0802;
/// Host-wide: most bytes of L0 page tables for this L1's L2s.
pub const L0_GUEST_PAGE_TABLE_MAX: u16 = 0x0803;
/// Host-wide: cumulative bytes of L0 page tables reclaimed.
pub const L0_GUEST_PAGE_TABLE_RECLAIMED: u16 = 0x0804;
/// The RUN_VCPU input buffer of a vCPU: address (L1 real) and size.
pub const RUN_INPUT_BUFFER: u16 = 0x0C00;
/// The RUN_VCPU output buffer of a vCPU: address (L1 real) and size.
pub const RUN_OUTPUT_BUFFER: u16 = 0x0C01;
/// The L2 vCPU's virtual processor area (VPA), L1 real address; all-ones deregisters.
pub const VPA: u16 = 0x0C02;
/// General-purpose register 0; GPR n is `GPR0 + n` (see [`gpr`]).
pub const GPR0: u16 = 0x1000;
/// Hypervisor decrementer expiry in L1 timebase units: when the L1 wants control back.
pub const HDEC_EXPIRY_TB: u16 = 0x1020;
/// Next instruction address.
pub const NIA: u16 = 0x1021;
/// Machine state register.
pub const MSR: u16 = 0x1022;
/// Link register.
pub const LR: u16 = 0x1023;
/// Fixed-point exception register.
pub const XER: u16 = 0x1024;
/// Count register.
pub const CTR: u16 = 0x1025;
/// Come-from address register.
pub const CFAR: u16 = 0x1026;
/// Save/restore register 0.
pub const SRR0: u16 = 0x1027;
/// Save/restore register 1.
pub const SRR1: u16 = 0x1028;
/// Data address register.
pub const DAR: u16 = 0x1029;
/// Expiry of the L2's decrementer, in L1 timebase units.
pub const DEC_EXPIRY_TB: u16 = 0x102A;
/// Virtual timebase.
pub const VTB: u16 = 0x102B;
/// Logical partitioning control register (only some bits are the L1's to set).
pub const LPCR: u16 = 0x102C;
/// Hypervisor facility status and control register.
pub const HFSCR: u16 = 0x102D;
/// Facility status and control register.
pub const FSCR: u16 = 0x102E;
/// Floating-point status and control register.
pub const FPSCR: u16 = 0x102F;
/// Data address watchpoint register 0.
pub const DAWR0: u16 = 0x1030;
/// Data address watchpoint register 1 (POWER10).
pub const DAWR1: u16 = 0x1031;
/// Completed instruction address breakpoint register.
pub const CIABR: u16 = 0x1032;
/// Processor utilization of resources register.
pub const PURR: u16 = 0x1033;
/// Scaled processor utilization of resources register.
pub const SPURR: u16 = 0x1034;
/// Instruction counter.
pub const IC: u16 = 0x1035;
/// SPRG0; SPRG n is `SPRG0 + n` for n in 0..4.
pub const SPRG0: u16 = 0x1036;
/// Program priority register.
pub const PPR: u16 = 0x103A;
/// Monitor mode control register 0; MMCR n is `MMCR0 + n` for n in 0..4.
pub const MMCR0: u16 = 0x103B;
/// Monitor mode control register A.
pub const MMCRA: u16 = 0x103F;
/// Sampled instruction event register; SIER2 and SIER3 follow.
pub const SIER: u16 = 0x1040;
/// Branch event status and control register.
pub const BESCR: u16 = 0x1043;
/// Event-based branch handler register.
pub const EBBHR: u16 = 0x1044;
/// Event-based branch return register.
pub const EBBRR: u16 = 0x1045;
/// Authority mask register.
pub const AMR: u16 = 0x1046;
/// Instruction authority mask register.
pub const IAMR: u16 = 0x1047;
/// Authority mask override register.
pub const AMOR: u16 = 0x1048;
/// User authority mask override register.
pub const UAMOR: u16 = 0x1049;
/// Sampled data address register.
pub const SDAR: u16 = 0x104A;
/// Sampled instruction address register.
pub const SIAR: u16 = 0x104B;
/// Data stream control register.
pub const DSCR: u16 = 0x104C;
/// Target address register.
pub const TAR: u16 = 0x104D;
/// Dynamic execution control register (POWER10).
pub const DEXCR: u16 = 0x104E;
/// Hypervisor dynamic execution control register (POWER10).
pub const HDEXCR: u16 = 0x104F;
/// Hash key register (POWER10).
pub const HASHKEYR: u16 = 0x1050;
/// Hash privileged key register (POWER10).
pub const HASHPKEYR: u16 = 0x1051;
/// Control register.
pub const CTRL: u16 = 0x1052;
/// Directed privileged doorbell exception state.
pub const DPDES: u16 = 0x1053;
/// Condition register.
pub const CR: u16 = 0x2000;
/// Process id register.
pub const PIDR: u16 = 0x2001;
/// Data storage interrupt status register.
pub const DSISR: u16 = 0x2002;
/// Vector status and control register.
pub const VSCR: u16 = 0x2003;
/// Vector save register.
pub const VRSAVE: u16 = 0x2004;
/// Data address watchpoint register extension 0.
pub const DAWRX0: u16 = 0x2005;
/// Data address watchpoint register extension 1 (POWER10).
pub const DAWRX1: u16 = 0x2006;
/// Performance monitor counter 1; PMC n is `PMC1 + n - 1` for n in 1..=6.
pub const PMC1: u16 = 0x2007;
/// Workload optimization register (POWER8).
pub const WORT: u16 = 0x200D;
/// Problem state priority boost register.
pub const PSPB: u16 = 0x200E;
/// Vector-scalar register 0; VSR n is `VSR0 + n` for n in 0..64 (VSR 0–31 hold the FPRs).
pub const VSR0: u16 = 0x3000;
/// Hypervisor data address register, read-only (set by an HDSI exit).
pub const HDAR: u16 = 0xF000;
/// Hypervisor data storage interrupt status register, read-only.
pub const HDSISR: u16 = 0xF001;
/// Hypervisor emulation instruction register, read-only; 8 bytes on the wire (see docs).
pub const HEIR: u16 = 0xF002;
/// Access segment descriptor register (the faulting guest real address), read-only.
pub const ASDR: u16 = 0xF003;

/// GSID of general-purpose register `n` (0–31).
pub const fn gpr(n: u8) -> u16 {
    GPR0 + (n as u16 & 31)
}

/// GSID of vector-scalar register `n` (0–63).
pub const fn vsr(n: u8) -> u16 {
    VSR0 + (n as u16 & 63)
}

/// Which calls may carry an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The NOP element: allowed everywhere.
    Any,
    /// One value per L2 guest: GET/SET_STATE with the guest-wide flag.
    GuestWide,
    /// One value per L2 vCPU: GET/SET_STATE without flags, RUN_VCPU input/output buffers.
    Thread,
    /// Statistics of this L0 for the calling L1: GET_STATE with the host-wide flag only.
    HostWide,
}

/// Which direction an element may travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// GET and SET (and the RUN_VCPU input buffer for thread ids).
    ReadWrite,
    /// GET only (and the RUN_VCPU output buffer).
    ReadOnly,
    /// SET and the RUN_VCPU input buffer only.
    WriteOnly,
}

/// The wire layout of an element's value (all big-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// The NOP element: any length, never interpreted.
    Opaque,
    /// 32-bit word.
    Word,
    /// 64-bit doubleword.
    Doubleword,
    /// 128-bit vector-scalar register: the architecturally high doubleword first.
    Quadword,
    /// Partition-scoped table: root address, EA bits, root size (three doublewords).
    PartitionTable,
    /// Process table: base address, size (two doublewords).
    ProcessTable,
    /// Run buffer: L1 real address, size (two doublewords).
    RunBuffer,
}

impl ValueType {
    /// Value length in bytes; `None` for the NOP element, which accepts any length.
    pub const fn size(self) -> Option<u16> {
        match self {
            ValueType::Opaque => None,
            ValueType::Word => Some(4),
            ValueType::Doubleword => Some(8),
            ValueType::Quadword | ValueType::ProcessTable | ValueType::RunBuffer => Some(16),
            ValueType::PartitionTable => Some(24),
        }
    }
}

/// What the table says about one GSID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElementInfo {
    /// The GSID.
    pub id: u16,
    /// Register or field name; with [`number`](Self::number) for the numbered families.
    pub name: &'static str,
    /// Register number within a family (GPR 0–31, VSR 0–63, SPRG 0–3, MMCR 0–3, SIER 1–3,
    /// PMC 1–6).
    pub number: Option<u8>,
    /// Layout and size of the value.
    pub value_type: ValueType,
    /// Which calls may carry it.
    pub scope: Scope,
    /// Which direction it may travel.
    pub access: Access,
}

impl fmt::Display for ElementInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number {
            Some(number) => write!(f, "{}{} ({:#06x})", self.name, number, self.id),
            None => write!(f, "{} ({:#06x})", self.name, self.id),
        }
    }
}

const fn info(
    id: u16,
    name: &'static str,
    value_type: ValueType,
    scope: Scope,
    access: Access,
) -> ElementInfo {
    ElementInfo { id, name, number: None, value_type, scope, access }
}

const fn thread_dword(id: u16, name: &'static str) -> ElementInfo {
    info(id, name, ValueType::Doubleword, Scope::Thread, Access::ReadWrite)
}

const fn thread_word(id: u16, name: &'static str) -> ElementInfo {
    info(id, name, ValueType::Word, Scope::Thread, Access::ReadWrite)
}

const fn numbered(mut element: ElementInfo, number: u16) -> ElementInfo {
    element.number = Some(number as u8);
    element
}

/// The table entry for `id`, or `None` if the id is reserved.
pub const fn element_info(id: u16) -> Option<ElementInfo> {
    use Access::{ReadOnly, ReadWrite, WriteOnly};
    use Scope::{GuestWide, HostWide, Thread};
    use ValueType::{Doubleword, PartitionTable, ProcessTable, Quadword, RunBuffer, Word};
    let element = match id {
        NOP => info(id, "NOP", ValueType::Opaque, Scope::Any, ReadWrite),
        HOST_STATE_SIZE => info(id, "HOST_STATE_SIZE", Doubleword, GuestWide, ReadOnly),
        RUN_OUTPUT_MIN_SIZE => info(id, "RUN_OUTPUT_MIN_SIZE", Doubleword, GuestWide, ReadOnly),
        LOGICAL_PVR => info(id, "LOGICAL_PVR", Word, GuestWide, ReadWrite),
        TB_OFFSET => info(id, "TB_OFFSET", Doubleword, GuestWide, ReadWrite),
        PARTITION_TABLE => info(id, "PARTITION_TABLE", PartitionTable, GuestWide, ReadWrite),
        PROCESS_TABLE => info(id, "PROCESS_TABLE", ProcessTable, GuestWide, ReadWrite),
        L0_GUEST_HEAP_IN_USE => info(id, "L0_GUEST_HEAP_IN_USE", Doubleword, HostWide, ReadOnly),
        L0_GUEST_HEAP_MAX => info(id, "L0_GUEST_HEAP_MAX", Doubleword, HostWide, ReadOnly),
        L0_GUEST_PAGE_TABLE_IN_USE => info(id, "L0_GUEST_PAGE_TABLE_IN_USE", Doubleword, HostWide, ReadOnly),
        L0_GUEST_PAGE_TABLE_MAX => info(id, "L0_GUEST_PAGE_TABLE_MAX", Doubleword, HostWide, ReadOnly),
        L0_GUEST_PAGE_TABLE_RECLAIMED => {
            info(id, "L0_GUEST_PAGE_TABLE_RECLAIMED", Doubleword, HostWide, ReadOnly)
        }
        RUN_INPUT_BUFFER => info(id, "RUN_INPUT_BUFFER", RunBuffer, Thread, ReadWrite),
        RUN_OUTPUT_BUFFER => info(id, "RUN_OUTPUT_BUFFER", RunBuffer, Thread, ReadWrite),
        VPA => thread_dword(id, "VPA"),
        0x1000..=0x101F => numbered(thread_dword(id, "GPR"), id - GPR0),
        HDEC_EXPIRY_TB => info(id, "HDEC_EXPIRY_TB", Doubleword, Thread, WriteOnly),
        NIA => thread_dword(id, "NIA"),
        MSR => thread_dword(id, "MSR"),
        LR => thread_dword(id, "LR"),
        XER => thread_dword(id, "XER"),
        CTR => thread_dword(id, "CTR"),
        CFAR => thread_dword(id, "CFAR"),
        SRR0 => thread_dword(id, "SRR0"),
        SRR1 => thread_dword(id, "SRR1"),
        DAR => thread_dword(id, "DAR"),
        DEC_EXPIRY_TB => thread_dword(id, "DEC_EXPIRY_TB"),
        VTB => thread_dword(id, "VTB"),
        LPCR => thread_dword(id, "LPCR"),
        HFSCR => thread_dword(id, "HFSCR"),
        FSCR => thread_dword(id, "FSCR"),
        FPSCR => thread_dword(id, "FPSCR"),
        DAWR0 => thread_dword(id, "DAWR0"),
        DAWR1 => thread_dword(id, "DAWR1"),
        CIABR => thread_dword(id, "CIABR"),
        PURR => thread_dword(id, "PURR"),
        SPURR => thread_dword(id, "SPURR"),
        IC => thread_dword(id, "IC"),
        0x1036..=0x1039 => numbered(thread_dword(id, "SPRG"), id - SPRG0),
        // Documented as write-only ("W"), but a Linux L1 reads it with GET_STATE when its
        // user space reads the register (KVM_REG_PPC_PPR), so reads are allowed.
        PPR => thread_dword(id, "PPR"),
        0x103B..=0x103E => numbered(thread_dword(id, "MMCR"), id - MMCR0),
        MMCRA => thread_dword(id, "MMCRA"),
        SIER => thread_dword(id, "SIER"),
        0x1041..=0x1042 => numbered(thread_dword(id, "SIER"), id - SIER + 1),
        BESCR => thread_dword(id, "BESCR"),
        EBBHR => thread_dword(id, "EBBHR"),
        EBBRR => thread_dword(id, "EBBRR"),
        AMR => thread_dword(id, "AMR"),
        IAMR => thread_dword(id, "IAMR"),
        AMOR => thread_dword(id, "AMOR"),
        UAMOR => thread_dword(id, "UAMOR"),
        SDAR => thread_dword(id, "SDAR"),
        SIAR => thread_dword(id, "SIAR"),
        DSCR => thread_dword(id, "DSCR"),
        TAR => thread_dword(id, "TAR"),
        DEXCR => thread_dword(id, "DEXCR"),
        HDEXCR => thread_dword(id, "HDEXCR"),
        HASHKEYR => thread_dword(id, "HASHKEYR"),
        HASHPKEYR => thread_dword(id, "HASHPKEYR"),
        CTRL => thread_dword(id, "CTRL"),
        DPDES => thread_dword(id, "DPDES"),
        CR => thread_word(id, "CR"),
        PIDR => thread_word(id, "PIDR"),
        DSISR => thread_word(id, "DSISR"),
        VSCR => thread_word(id, "VSCR"),
        VRSAVE => thread_word(id, "VRSAVE"),
        DAWRX0 => thread_word(id, "DAWRX0"),
        DAWRX1 => thread_word(id, "DAWRX1"),
        0x2007..=0x200C => numbered(thread_word(id, "PMC"), id - PMC1 + 1),
        WORT => thread_word(id, "WORT"),
        PSPB => thread_word(id, "PSPB"),
        0x3000..=0x303F => numbered(info(id, "VSR", Quadword, Thread, ReadWrite), id - VSR0),
        HDAR => info(id, "HDAR", Doubleword, Thread, ReadOnly),
        HDSISR => info(id, "HDSISR", Word, Thread, ReadOnly),
        HEIR => info(id, "HEIR", Doubleword, Thread, ReadOnly),
        ASDR => info(id, "ASDR", Doubleword, Thread, ReadOnly),
        _ => return None,
    };
    Some(element)
}

/// The defined id ranges, inclusive; everything between them is reserved.
pub const DEFINED_RANGES: [(u16, u16); 7] = [
    (NOP, PROCESS_TABLE),
    (L0_GUEST_HEAP_IN_USE, L0_GUEST_PAGE_TABLE_RECLAIMED),
    (RUN_INPUT_BUFFER, VPA),
    (GPR0, DPDES),
    (CR, PSPB),
    (VSR0, VSR0 + 63),
    (HDAR, ASDR),
];

/// Every defined GSID, in increasing order.
pub fn all_ids() -> impl Iterator<Item = u16> {
    DEFINED_RANGES.iter().flat_map(|&(first, last)| first..=last)
}
