//! The entry assembly (`entry.S`) with the constants it needs from Rust.

use super::{boot, cpus, traps};
use core::mem::{offset_of, size_of};
use oxiboot::exception::ExceptionFrame;
use oxiboot::memmap;
use oxiboot::percpu::PerCpu;

/// Stack space the ELFv2 ABI lets a callee use above the stack pointer (back chain, CR, LR,
/// TOC save words), rounded up generously.
const ABI_FRAME: u64 = 128;
/// Where r1 points during exception entry: the frame sits just above the ABI area, at the
/// top of the exception stack.
const EXC_SP_OFFSET: u64 =
    (memmap::PERCPU_EXC_STACK_TOP - size_of::<ExceptionFrame>() as u64 - ABI_FRAME) & !15;
/// Stack an exception nested on the exception stack needs below the interrupted stack
/// pointer (its frame and its handler); with less room left it takes the top frame instead.
const NESTED_MIN: u64 = 0x1000;
/// Initial stack pointer offset in a slot.
const STACK_INIT_OFFSET: u64 = memmap::PERCPU_STACK_TOP - ABI_FRAME;

// The stack offsets are used as 16-bit signed immediates (addi).
const _: () = assert!(EXC_SP_OFFSET < 0x8000 && STACK_INIT_OFFSET < 0x8000);
const _: () = assert!(EXC_SP_OFFSET > memmap::PERCPU_DATA_SIZE);

core::arch::global_asm!(
    include_str!("../entry.S"),
    ABI_FRAME = const ABI_FRAME,
    FRAME_GPR = const offset_of!(ExceptionFrame, gpr),
    FRAME_VECTOR = const offset_of!(ExceptionFrame, vector),
    FRAME_SRR0 = const offset_of!(ExceptionFrame, srr0),
    FRAME_SRR1 = const offset_of!(ExceptionFrame, srr1),
    FRAME_HSRR0 = const offset_of!(ExceptionFrame, hsrr0),
    FRAME_HSRR1 = const offset_of!(ExceptionFrame, hsrr1),
    FRAME_DAR = const offset_of!(ExceptionFrame, dar),
    FRAME_DSISR = const offset_of!(ExceptionFrame, dsisr),
    FRAME_HDAR = const offset_of!(ExceptionFrame, hdar),
    FRAME_HDSISR = const offset_of!(ExceptionFrame, hdsisr),
    FRAME_HEIR = const offset_of!(ExceptionFrame, heir),
    FRAME_ASDR = const offset_of!(ExceptionFrame, asdr),
    FRAME_CFAR = const offset_of!(ExceptionFrame, cfar),
    FRAME_LR = const offset_of!(ExceptionFrame, lr),
    FRAME_CTR = const offset_of!(ExceptionFrame, ctr),
    FRAME_CR = const offset_of!(ExceptionFrame, cr),
    FRAME_XER = const offset_of!(ExceptionFrame, xer),
    FRAME_MSR = const offset_of!(ExceptionFrame, msr),
    PC_SCRATCH = const offset_of!(PerCpu, scratch),
    MAX_THREADS = const memmap::MAX_THREADS,
    HDAT_ENTRY = const super::hdat::HDAT_ENTRY,
    PERCPU_BASE_HI = const memmap::PERCPU_BASE >> 16,
    PERCPU_BASE_LO = const memmap::PERCPU_BASE & 0xffff,
    PERCPU_SLOT_SHIFT = const memmap::PERCPU_SLOT_SHIFT,
    STACK_INIT_OFFSET = const STACK_INIT_OFFSET,
    EXC_SP_OFFSET = const EXC_SP_OFFSET,
    PERCPU_DATA_SIZE = const memmap::PERCPU_DATA_SIZE,
    NESTED_MIN = const NESTED_MIN,
    NESTED_FRAME = const ABI_FRAME + size_of::<ExceptionFrame>() as u64,
    BOOT_MAIN = sym boot::boot_main,
    SECONDARY_MAIN = sym cpus::secondary_main,
    EXCEPTION_ENTRY = sym traps::exception_entry,
);

/// Where the exception entry code saves the interrupted state of the thread owning `cpu`,
/// which is also where a guest's registers are while it runs on that thread.
pub fn guest_frame(cpu: &PerCpu) -> *mut ExceptionFrame {
    (cpu as *const PerCpu as u64 + EXC_SP_OFFSET + ABI_FRAME) as *mut ExceptionFrame
}
