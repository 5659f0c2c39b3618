//! H_GUEST_RUN_VCPU exits: the exit reason returned in r4 and the elements written into the
//! vCPU's output buffer so that a Linux L1 can handle the exit without further GET_STATE
//! calls.
//!
//! Every exit carries NIA (next instruction address), MSR, DEC_EXPIRY_TB (decrementer expiry)
//! and DPDES (directed privileged doorbell exception state): where the L2 stopped, the state a
//! Linux L1 reads on nearly every exit (it fetches DPDES after every run to re-arm doorbells,
//! and the decrementer expiry on every H_CEDE and timer decision). On top of that each reason
//! carries what its handler needs (PAPR's nested API document, QEMU's lists, Linux's parser):
//!
//! | r4 | exit | extra elements |
//! |---|---|---|
//! | 0x000 | stopped for the L0's own reasons (interrupt for the L1, time slice) | — |
//! | 0x980 | hypervisor decrementer: HDEC_EXPIRY_TB reached | — |
//! | 0xC00 | the L2 made a hypercall (`sc 1`) | GPR3–GPR12 |
//! | 0xE00 | hypervisor data storage interrupt (HDSI) | HDAR, HDSISR, ASDR |
//! | 0xE20 | hypervisor instruction storage interrupt (HISI) | ASDR |
//! | 0xE40 | hypervisor emulation assistance (HEA) | HEIR (8 bytes) |
//! | 0xF80 | hypervisor facility unavailable | HFSCR (cause in the top byte) |
//! | other | any other hypervisor interrupt that ended the run, e.g. 0x500 | — |
//!
//! HISI carries no HDAR: the hardware does not set it, and Linux takes the fault address from
//! NIA and the cause from the MSR (HSRR1) bits. A Linux L1 first resets its fault registers
//! (HDAR, HDSISR, ASDR to 0, HEIR to "fetch failed") and then parses the buffer, so they are
//! only sent with the exits that set them.

use super::gsid;
use super::hcall::{Rejection, H_OUTPUT_BUFFER_TOO_SMALL};
use super::state::VcpuState;
use super::wire::BufferWriter;

/// Why a RUN_VCPU returned (its interrupt vector, placed in r4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// 0x000: stopped for an unspecified reason (e.g. an interrupt pending for the L1).
    Unspecified,
    /// 0x980: the L1's hypervisor decrementer deadline (HDEC_EXPIRY_TB) passed.
    HypervisorDecrementer,
    /// 0xC00: the L2 made a hypercall.
    Hypercall,
    /// 0xE00: hypervisor data storage interrupt (partition-scoped data fault).
    HypervisorDataStorage,
    /// 0xE20: hypervisor instruction storage interrupt (partition-scoped fetch fault).
    HypervisorInstructionStorage,
    /// 0xE40: hypervisor emulation assistance (an instruction the L1 must emulate).
    HypervisorEmulationAssistance,
    /// 0xF80: a facility disabled by the L1's HFSCR was used.
    HypervisorFacilityUnavailable,
    /// Any other vector (e.g. 0x500 for an external interrupt through `LPCR[MER]`).
    Other(u64),
}

impl ExitReason {
    /// The vector for r4.
    pub fn vector(self) -> u64 {
        match self {
            ExitReason::Unspecified => 0x000,
            ExitReason::HypervisorDecrementer => 0x980,
            ExitReason::Hypercall => 0xC00,
            ExitReason::HypervisorDataStorage => 0xE00,
            ExitReason::HypervisorInstructionStorage => 0xE20,
            ExitReason::HypervisorEmulationAssistance => 0xE40,
            ExitReason::HypervisorFacilityUnavailable => 0xF80,
            ExitReason::Other(vector) => vector,
        }
    }

    /// The reason for a vector.
    pub fn from_vector(vector: u64) -> Self {
        match vector {
            0x000 => ExitReason::Unspecified,
            0x980 => ExitReason::HypervisorDecrementer,
            0xC00 => ExitReason::Hypercall,
            0xE00 => ExitReason::HypervisorDataStorage,
            0xE20 => ExitReason::HypervisorInstructionStorage,
            0xE40 => ExitReason::HypervisorEmulationAssistance,
            0xF80 => ExitReason::HypervisorFacilityUnavailable,
            other => ExitReason::Other(other),
        }
    }

    /// The elements this exit adds to the common ones.
    pub fn specific_elements(self) -> &'static [u16] {
        match self {
            ExitReason::Hypercall => &HYPERCALL_ELEMENTS,
            ExitReason::HypervisorDataStorage => &[gsid::HDAR, gsid::HDSISR, gsid::ASDR],
            ExitReason::HypervisorInstructionStorage => &[gsid::ASDR],
            ExitReason::HypervisorEmulationAssistance => &[gsid::HEIR],
            ExitReason::HypervisorFacilityUnavailable => &[gsid::HFSCR],
            ExitReason::Unspecified | ExitReason::HypervisorDecrementer | ExitReason::Other(_) => &[],
        }
    }

    /// Every element of this exit's output buffer, in the order written.
    pub fn output_elements(self) -> impl Iterator<Item = u16> {
        COMMON_ELEMENTS.iter().chain(self.specific_elements()).copied()
    }
}

/// Elements of every exit.
pub const COMMON_ELEMENTS: [u16; 4] = [gsid::NIA, gsid::MSR, gsid::DEC_EXPIRY_TB, gsid::DPDES];

/// GPR3–GPR12: the hypercall number and arguments.
const HYPERCALL_ELEMENTS: [u16; 10] = [
    gsid::gpr(3),
    gsid::gpr(4),
    gsid::gpr(5),
    gsid::gpr(6),
    gsid::gpr(7),
    gsid::gpr(8),
    gsid::gpr(9),
    gsid::gpr(10),
    gsid::gpr(11),
    gsid::gpr(12),
];

/// Bytes the output buffer of `exit` needs (header and elements).
pub fn output_size(exit: ExitReason) -> usize {
    let element_bytes: usize = exit
        .output_elements()
        .filter_map(gsid::element_info)
        .filter_map(|info| info.value_type.size())
        .map(|size| 4 + usize::from(size))
        .sum();
    super::wire::HEADER_SIZE + element_bytes
}

/// The largest output any exit needs; [`super::values::RUN_OUTPUT_MIN_SIZE_BYTES`] is well
/// above it.
pub fn largest_output_size() -> usize {
    [
        ExitReason::Unspecified,
        ExitReason::HypervisorDecrementer,
        ExitReason::Hypercall,
        ExitReason::HypervisorDataStorage,
        ExitReason::HypervisorInstructionStorage,
        ExitReason::HypervisorEmulationAssistance,
        ExitReason::HypervisorFacilityUnavailable,
        ExitReason::Other(0x500),
    ]
    .into_iter()
    .map(output_size)
    .max()
    .unwrap_or(0)
}

/// Fills the RUN_VCPU output buffer (the caller's copy of it, `buffer.len()` being the size the
/// L1 registered) for `exit` from the vCPU state saved at the exit. Returns the bytes written;
/// the caller copies them to L1 memory and returns H_SUCCESS with r4 = `exit.vector()`.
///
/// The integration must have saved, before calling: NIA and MSR from SRR0/SRR1 for `sc` exits
/// and from HSRR0/HSRR1 otherwise, keeping HSRR1's cause bits for HISI (Linux reads the HISI
/// cause from them); HDAR, HDSISR, ASDR for HDSI; ASDR for HISI; HEIR for HEA; the cause in
/// HFSCR's top byte for 0xF80; the L2 decrementer as an expiry in L1 timebase units.
pub fn write_output(buffer: &mut [u8], exit: ExitReason, vcpu: &VcpuState) -> Result<usize, Rejection> {
    let too_small = Rejection::new(H_OUTPUT_BUFFER_TOO_SMALL);
    let mut writer = BufferWriter::new(buffer).ok_or(too_small)?;
    for id in exit.output_elements() {
        // Every output id is a thread register the state holds.
        let Some(value) = vcpu.read(id) else { continue };
        writer.push(id, &value).map_err(|_| too_small)?;
    }
    Ok(writer.used())
}
