//! PAPR (Power Architecture Platform Requirements) numbers shared by the LPAR surface: the
//! hypercall opcodes a Linux `pseries` kernel makes, their return codes, and the flag fields
//! of the calls we decode. The nested API v2 opcodes live in [`crate::nested::hcall`].
//!
//! Flag words use IBM bit numbering where PAPR does: "bit 0" is the most significant bit.

pub use crate::nested::hcall::{
    HcallStatus, H_AUTHORITY, H_BUSY, H_FUNCTION, H_HARDWARE, H_NOT_AVAILABLE, H_P2, H_P3, H_P4, H_PARAMETER,
    H_STATE, H_SUCCESS,
};

/// The caller lacks the privilege (an `sc 1` from problem state never gets here: it is
/// reflected to the LPAR as a system call).
pub const H_PRIVILEGE: HcallStatus = -3;
/// Nothing was found (e.g. a virtual terminal number that does not exist).
pub const H_NOT_FOUND: HcallStatus = -7;
/// First of the "unsupported flag" codes (−256 … −511).
pub const H_UNSUPPORTED_FLAG_START: HcallStatus = -256;

/// `H_SET_DABR`: data address breakpoint (not offered).
pub const H_SET_DABR: u64 = 0x28;
/// `H_GET_TERM_CHAR(termno)`: r4 = length, r5/r6 = up to 16 bytes.
pub const H_GET_TERM_CHAR: u64 = 0x54;
/// `H_PUT_TERM_CHAR(termno, length, bytes in r6/r7)`.
pub const H_PUT_TERM_CHAR: u64 = 0x58;
/// XICS (eXternal Interrupt Controller Specification) `H_EOI(xirr)`: end of interrupt.
pub const H_EOI: u64 = 0x64;
/// XICS `H_CPPR(cppr)`: set the current processor priority.
pub const H_CPPR: u64 = 0x68;
/// XICS `H_IPI(server, mfrr)`: set a processor's most favoured request register (an IPI).
pub const H_IPI: u64 = 0x6c;
/// XICS `H_IPOLL(server)`: r4 = XIRR, r5 = MFRR, without accepting.
pub const H_IPOLL: u64 = 0x70;
/// XICS `H_XIRR`: accept the pending interrupt; r4 = XIRR.
pub const H_XIRR: u64 = 0x74;
/// `H_PERFMON`: performance monitor set-up (not offered).
pub const H_PERFMON: u64 = 0x7c;
/// `H_REGISTER_VPA(flags, cpu, address)`: virtual processor area, dispatch trace log, SLB
/// shadow registration.
pub const H_REGISTER_VPA: u64 = 0xdc;
/// `H_CEDE`: give up the processor until an interrupt (or `H_PROD`).
pub const H_CEDE: u64 = 0xe0;
/// `H_CONFER(target, dispatch count)`: give cycles to another vCPU.
pub const H_CONFER: u64 = 0xe4;
/// `H_PROD(target)`: wake a ceded vCPU.
pub const H_PROD: u64 = 0xe8;
/// `H_GET_PPP`: shared-processor performance parameters (not offered: dedicated CPUs).
pub const H_GET_PPP: u64 = 0xec;
/// `H_GET_CPU_CHARACTERISTICS`: r4 = characteristics, r5 = behaviours.
pub const H_GET_CPU_CHARACTERISTICS: u64 = 0x1c8;
/// XICS `H_XIRR_X`: like `H_XIRR`, r5 = timebase at acceptance.
pub const H_XIRR_X: u64 = 0x2fc;
/// `H_RANDOM`: r4 = 64 random bits.
pub const H_RANDOM: u64 = 0x300;
/// `H_SET_MODE(mflags, resource, value1, value2)`.
pub const H_SET_MODE: u64 = 0x31c;
/// `H_REGISTER_PROC_TBL(flags, base, page size, table size)`.
pub const H_REGISTER_PROC_TBL: u64 = 0x37c;
/// `H_SIGNAL_SYS_RESET(target)`: a system reset (NMI) to one vCPU or all.
pub const H_SIGNAL_SYS_RESET: u64 = 0x380;
/// `H_RPT_INVALIDATE(pid, target, type, page sizes, start, end)`.
pub const H_RPT_INVALIDATE: u64 = 0x448;
/// The private hcall the RTAS stub in LPAR memory makes (QEMU and KVM use the same number):
/// r4 = real address of the RTAS argument block.
pub const H_RTAS: u64 = 0xf000;

/// `H_REGISTER_VPA` subfunction field: flags bits 16–18 (IBM), i.e. `(flags >> 45) & 7`.
pub const VPA_FUNCTION_SHIFT: u32 = 45;
/// `H_SET_MODE` resource: little- or big-endian interrupts (`mflags` 1 = little, 0 = big).
pub const SET_MODE_RESOURCE_LE: u64 = 4;
/// `H_SET_MODE` resource: address translation mode of interrupts (`mflags` = AIL value).
pub const SET_MODE_RESOURCE_ADDR_TRANS_MODE: u64 = 3;
/// `H_SET_MODE` resource: the completed-instruction address breakpoint.
pub const SET_MODE_RESOURCE_CIABR: u64 = 1;
/// `H_SET_MODE` resource: data address watchpoint 0.
pub const SET_MODE_RESOURCE_DAWR0: u64 = 2;
/// `H_SET_MODE` resource: data address watchpoint 1.
pub const SET_MODE_RESOURCE_DAWR1: u64 = 5;

/// `H_REGISTER_PROC_TBL` flag: a new table replaces the old one.
pub const PROC_TABLE_NEW: u64 = 0x18;
/// `H_REGISTER_PROC_TBL` flag field: the operation (new / deregister).
pub const PROC_TABLE_OP_MASK: u64 = 0x18;
/// `H_REGISTER_PROC_TBL` flag: deregister.
pub const PROC_TABLE_DEREGISTER: u64 = 0x10;
/// `H_REGISTER_PROC_TBL` flag: radix (else hash with segment tables).
pub const PROC_TABLE_RADIX: u64 = 0x04;
/// `H_REGISTER_PROC_TBL` flag: the guest uses `tlbie` itself (GTSE).
pub const PROC_TABLE_GTSE: u64 = 0x01;

/// Returns the name of an hcall for logs, or `None` for a number we do not know.
pub fn hcall_name(opcode: u64) -> Option<&'static str> {
    Some(match opcode {
        H_SET_DABR => "H_SET_DABR",
        H_GET_TERM_CHAR => "H_GET_TERM_CHAR",
        H_PUT_TERM_CHAR => "H_PUT_TERM_CHAR",
        H_EOI => "H_EOI",
        H_CPPR => "H_CPPR",
        H_IPI => "H_IPI",
        H_IPOLL => "H_IPOLL",
        H_XIRR => "H_XIRR",
        H_PERFMON => "H_PERFMON",
        H_REGISTER_VPA => "H_REGISTER_VPA",
        H_CEDE => "H_CEDE",
        H_CONFER => "H_CONFER",
        H_PROD => "H_PROD",
        H_GET_PPP => "H_GET_PPP",
        H_GET_CPU_CHARACTERISTICS => "H_GET_CPU_CHARACTERISTICS",
        H_XIRR_X => "H_XIRR_X",
        H_RANDOM => "H_RANDOM",
        H_SET_MODE => "H_SET_MODE",
        H_REGISTER_PROC_TBL => "H_REGISTER_PROC_TBL",
        H_SIGNAL_SYS_RESET => "H_SIGNAL_SYS_RESET",
        H_RPT_INVALIDATE => "H_RPT_INVALIDATE",
        H_RTAS => "H_RTAS",
        _ => return None,
    })
}
