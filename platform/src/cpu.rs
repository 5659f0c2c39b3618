//! Processor primitives that need a POWER instruction: SPR access, timebase, barriers,
//! doorbells, `stop`, `attn`. Only built for `powerpc64`; everything above uses them through
//! the safe wrappers here or through the traits in [`crate::clock`] and [`crate::mmio`].

use crate::spr::{self, num, Hid0};
use core::arch::asm;

/// Reads special-purpose register `N`.
#[inline(always)]
pub fn mfspr<const N: u32>() -> u64 {
    let value: u64;
    // SAFETY: reading an SPR has no side effects on the SPRs this firmware reads.
    unsafe { asm!("mfspr {0}, {1}", out(reg) value, const N, options(nomem, nostack)) };
    value
}

/// Writes special-purpose register `N`.
///
/// # Safety
/// Writing an SPR changes processor behaviour (translation, interrupts, endianness); the
/// caller must know the new value is valid for the current state.
#[inline(always)]
pub unsafe fn mtspr<const N: u32>(value: u64) {
    // SAFETY: the caller guarantees the value is valid for this SPR.
    unsafe { asm!("mtspr {1}, {0}", in(reg) value, const N, options(nostack)) };
}

/// The Machine State Register.
#[inline(always)]
pub fn mfmsr() -> u64 {
    let value: u64;
    // SAFETY: reading the MSR has no side effects.
    unsafe { asm!("mfmsr {0}", out(reg) value, options(nomem, nostack)) };
    value
}

/// The timebase (ticks at the frequency of the device tree's `timebase-frequency`).
#[inline(always)]
pub fn mftb() -> u64 {
    let value: u64;
    // SAFETY: reading the timebase has no side effects.
    unsafe { asm!("mftb {0}", out(reg) value, options(nomem, nostack)) };
    value
}

/// This thread's hardware id (Processor Identification Register).
#[inline(always)]
pub fn pir() -> u32 {
    mfspr::<{ num::PIR }>() as u32
}

/// Full memory barrier (`sync`).
#[inline(always)]
pub fn sync() {
    // SAFETY: a barrier has no effect besides ordering.
    unsafe { asm!("sync", options(nostack)) };
}

/// Context synchronisation (`isync`).
#[inline(always)]
pub fn isync() {
    // SAFETY: a barrier has no effect besides ordering.
    unsafe { asm!("isync", options(nostack)) };
}

/// Lowers this thread's SMT priority while it spins (`or 1,1,1`).
#[inline(always)]
pub fn smt_low() {
    // SAFETY: a priority hint has no architectural effect.
    unsafe { asm!("or 1,1,1", options(nomem, nostack)) };
}

/// Restores normal SMT priority (`or 2,2,2`).
#[inline(always)]
pub fn smt_medium() {
    // SAFETY: a priority hint has no architectural effect.
    unsafe { asm!("or 2,2,2", options(nomem, nostack)) };
}

/// Rings the hypervisor doorbell of the thread with hardware id `pir`. Stores made before
/// the call are visible to that thread when it wakes.
pub fn doorbell_send(pir: u32) {
    let operand = spr::hypervisor_doorbell(pir);
    // SAFETY: `msgsnd` only raises a doorbell exception condition on the target thread; the
    // `sync` orders earlier stores before it.
    // `msgsnd r3` (X-form, opcode 31, XO 206), encoded since LLVM only knows the e500 form.
    unsafe { asm!("sync", ".long 0x7c00199c", in("r3") operand, options(nostack)) };
}

/// Clears a pending hypervisor doorbell on this thread.
pub fn doorbell_clear() {
    let operand = spr::DOORBELL_TYPE_HYPERVISOR;
    // SAFETY: `msgclr` only clears this thread's pending doorbell condition.
    // `msgclr r3` (X-form, opcode 31, XO 238).
    unsafe { asm!(".long 0x7c0019dc", in("r3") operand, options(nostack)) };
}

/// Enables wake-up from `stop` on hypervisor doorbells (LPCR[HDEE]) and selects the
/// lightest stop state that resumes at the next instruction (PSSCR = 0: EC = 0, RL = 0).
pub fn prepare_light_stop() {
    let lpcr = mfspr::<{ num::LPCR }>() | spr::Lpcr::HDEE.bits();
    // SAFETY: HDEE only affects how `stop` is exited; PSSCR = 0 requests the lightest state,
    // which keeps all state and resumes after the `stop`.
    unsafe {
        mtspr::<{ num::LPCR }>(lpcr);
        mtspr::<{ num::PSSCR }>(0);
    }
    isync();
}

/// Stops a thread the hypervisor owns until something is posted to it: [`stop_light`] after
/// pushing the decrementer far out. The decrementer counts in every thread; once it has gone
/// negative its exception stays pending (interrupts are off), and a pending exception ends
/// `stop` at once, so an idle thread would spin instead of sleeping.
pub fn stop_idle() {
    // SAFETY: the hypervisor does not use the decrementer; the largest positive 32-bit
    // value (about 4 s at 512 MHz) clears its pending exception.
    unsafe { mtspr::<{ num::DEC }>(0x7fff_ffff) };
    stop_light();
}

/// Stops this thread until a wake-up event enabled in LPCR (see [`prepare_light_stop`]).
/// Returns after the event; the event itself stays pending (clear doorbells with
/// [`doorbell_clear`]).
#[inline(always)]
pub fn stop_light() {
    // SAFETY: with PSSCR[EC] = 0 `stop` resumes at the next instruction with all state kept.
    unsafe { asm!("sync", "stop", options(nostack)) };
}

/// Stops the whole machine: enables `attn` in HID0 and executes it, which checkstops the chip
/// (QEMU reports a guest panic). Used when the firmware cannot go on and no console exists to
/// say so, or after it has.
pub fn checkstop() -> ! {
    let hid0 = mfspr::<{ num::HID0 }>() | Hid0::ATTN_ENABLE.bits();
    // SAFETY: HID0[ATTN_ENABLE] only makes the following `attn` effective; the machine stops.
    unsafe {
        asm!("sync", "mtspr 1008, {0}", "isync", in(reg) hid0, options(nostack));
        asm!(".long 0x00000200", options(nostack)); // attn
    }
    // Should `attn` not stop us (e.g. disabled by the service processor), park this thread.
    loop {
        stop_light();
    }
}
