//! Delivering an interrupt to an LPAR's operating system, as the processor would have done had
//! the event happened without the hypervisor in between (Power ISA 3.0B Book III, "Interrupt
//! Definitions"): SRR0/SRR1 (save/restore registers) are set, the MSR (machine state
//! register) becomes the interrupt MSR, and execution continues at the vector — relocated to
//! 0xc000_0000_0000_4000 + vector when LPCR[AIL] (alternate interrupt location) is 3 and the
//! interrupted code ran with translation on.

use oxiboot_platform::spr::Msr;

/// SRR1 bits that hold interrupt-specific information (33–36 and 42–47); the other bits are
/// copied from the MSR.
pub const SRR1_CAUSE_BITS: u64 = 0x0000_0000_783f_0000;
/// SRR1 program-interrupt cause: illegal instruction (bit 44).
pub const SRR1_PROGRAM_ILLEGAL: u64 = 1 << (63 - 44);
/// SRR1 program-interrupt cause: privileged instruction (bit 45).
pub const SRR1_PROGRAM_PRIVILEGED: u64 = 1 << (63 - 45);
/// Where vectors are relocated to with AIL = 3.
pub const AIL3_OFFSET: u64 = 0xc000_0000_0000_4000;

/// Interrupt vectors the hypervisor delivers.
pub mod vector {
    /// System reset (an NMI from `H_SIGNAL_SYS_RESET`).
    pub const SYSTEM_RESET: u64 = 0x100;
    /// Machine check (an access outside the LPAR's memory).
    pub const MACHINE_CHECK: u64 = 0x200;
    /// External interrupt (an XICS interrupt: an IPI).
    pub const EXTERNAL: u64 = 0x500;
    /// Program (illegal instruction).
    pub const PROGRAM: u64 = 0x700;
    /// System call (an `sc 1` from problem state is the OS's business).
    pub const SYSTEM_CALL: u64 = 0xc00;
}

/// The interrupted state and where the interrupt goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// New SRR0: the address execution resumes at when the OS returns.
    pub srr0: u64,
    /// New SRR1: the interrupted MSR with the cause bits.
    pub srr1: u64,
    /// Where the OS's handler starts.
    pub pc: u64,
    /// The MSR the handler starts with.
    pub msr: u64,
}

/// Computes the delivery of interrupt `vector` to an LPAR whose thread was at `pc` with
/// `msr`, with `cause` in SRR1's interrupt-specific bits, the partition's LPCR[ILE] and
/// LPCR[AIL] settings.
pub fn deliver(vector: u64, pc: u64, msr: u64, cause: u64, ile: bool, ail: u8) -> Delivery {
    let old = Msr::from_bits_retain(msr);
    let mut new = Msr::SF | (old & Msr::ME);
    if ile {
        new |= Msr::LE;
    }
    let relocatable = !matches!(vector, vector::SYSTEM_RESET | vector::MACHINE_CHECK);
    let mut target = vector;
    if ail == 3 && relocatable && old.contains(Msr::IR | Msr::DR) {
        new |= Msr::IR | Msr::DR;
        target = AIL3_OFFSET + vector;
    }
    Delivery {
        srr0: pc,
        srr1: (msr & !SRR1_CAUSE_BITS) | (cause & SRR1_CAUSE_BITS),
        pc: target,
        msr: new.bits(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KERNEL_LE: u64 = 0x8000_0000_0000_b033; // SF EE FP ME IR DR RI LE
    const USER_LE: u64 = 0x8000_0000_0280_f033; // + PR VEC VSX, with EE

    #[test]
    fn illegal_instruction_in_user_space_with_ail3() {
        let d = deliver(vector::PROGRAM, 0x1000_0abc, USER_LE, SRR1_PROGRAM_ILLEGAL, true, 3);
        assert_eq!(d.srr0, 0x1000_0abc);
        assert_eq!(d.srr1, USER_LE | 0x8_0000);
        assert_eq!(d.pc, 0xc000_0000_0000_4700);
        assert_eq!(d.msr, 0x8000_0000_0000_1031, "SF ME IR DR LE; EE, PR, FP, VEC, VSX, RI off");
    }

    #[test]
    fn without_ail_or_in_real_mode_the_vector_is_real() {
        let d = deliver(vector::SYSTEM_CALL, 0x4000, KERNEL_LE, 0, true, 0);
        assert_eq!((d.pc, d.msr), (0xc00, 0x8000_0000_0000_1001));
        let real_mode = KERNEL_LE & !0x30;
        let d = deliver(vector::SYSTEM_CALL, 0x4000, real_mode, 0, true, 3);
        assert_eq!((d.pc, d.msr), (0xc00, 0x8000_0000_0000_1001));
    }

    #[test]
    fn machine_checks_are_never_relocated_and_keep_big_endian_without_ile() {
        let d = deliver(vector::MACHINE_CHECK, 0x7000, KERNEL_LE, 0, false, 3);
        assert_eq!((d.pc, d.msr), (0x200, 0x8000_0000_0000_1000));
        assert_eq!(d.srr1, KERNEL_LE, "RI stays set in SRR1: the interrupt is recoverable");
    }

    #[test]
    fn cause_bits_replace_the_msr_bits_they_overlay() {
        let msr = KERNEL_LE | 0x0000_0000_4000_0000; // bit 33 set in the MSR (reserved)
        let d = deliver(vector::PROGRAM, 0, msr, SRR1_PROGRAM_PRIVILEGED | 0xffff, false, 0);
        assert_eq!(d.srr1, KERNEL_LE | SRR1_PROGRAM_PRIVILEGED, "non-cause bits of `cause` ignored");
    }
}
