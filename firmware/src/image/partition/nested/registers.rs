//! Reading and writing the thread's registers at an L1 ↔ L2 switch: the SPRs of
//! [`ThreadRegisters`] and the FP/VMX/VSX state of [`VectorRegisters`].
//!
//! The firmware is built without floating point or vector code, so nothing in it ever touches
//! those registers: they hold whatever the L1 (or the L2) left. Saving and loading them
//! needs `MSR[FP|VEC|VSX]` on for the duration, and instructions the firmware's target does
//! not enable, written here as their encodings (Power ISA 3.0B: `stxvd2x`/`lxvd2x` opcode 31
//! XO 972/844, `mffs` 63/583, `mtfsf` 63/711 with L = 1, `mfvscr`/`mtvscr` 4/1540/1604,
//! `stvx`/`lvx` 31/231/103, `stfd`/`lfd` opcodes 54/50).

use oxiboot_hv::nested::switch::{ThreadRegisters, VectorRegisters, VECTOR_FPSCR_OFFSET, VECTOR_VSCR_OFFSET};
use oxiboot_platform::cpu::{mfspr, mtspr};
use oxiboot_platform::spr::num;

unsafe extern "C" {
    /// Stores VSR 0–63, FPSCR and VSCR at `area` (below).
    fn oxiboot_vectors_save(area: *mut VectorRegisters);
    /// Loads FPSCR, VSCR and VSR 0–63 from `area` (below).
    fn oxiboot_vectors_load(area: *const VectorRegisters);
}

core::arch::global_asm!(
    r#"
    .macro facilities_on
        mfmsr 5
        li    6, 0x2000            /* MSR[FP] */
        oris  6, 6, 0x0280         /* MSR[VEC] | MSR[VSX] */
        or    6, 5, 6
        mtmsrd 6
        isync
    .endm
    .macro facilities_off
        mtmsrd 5
        isync
    .endm

    .text
    .balign 16
    .globl oxiboot_vectors_save
oxiboot_vectors_save:
    facilities_on
    li    7, 0
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
        .long 0x7C000798 | ((\n & 31) << 21) | (3 << 16) | (7 << 11) | (\n >> 5)   /* stxvd2x vs\n, r3, r7 */
        addi  7, 7, 16
    .endr
    .long 0xFC00048E                                                /* mffs f0 */
    .long 0xD8000000 | (3 << 16) | {FPSCR}                           /* stfd f0, FPSCR(r3) */
    .long 0x10000604                                                /* mfvscr v0 */
    li    7, {VSCR}
    .long 0x7C0001CE | (3 << 16) | (7 << 11)                         /* stvx v0, r3, r7 */
    facilities_off
    blr

    .balign 16
    .globl oxiboot_vectors_load
oxiboot_vectors_load:
    facilities_on
    .long 0xC8000000 | (3 << 16) | {FPSCR}                           /* lfd f0, FPSCR(r3) */
    .long 0xFFFE058E                                                /* mtfsf 0xff, f0, 1, 0 */
    li    7, {VSCR}
    .long 0x7C0000CE | (3 << 16) | (7 << 11)                         /* lvx v0, r3, r7 */
    .long 0x10000644                                                /* mtvscr v0 */
    li    7, 0
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
        .long 0x7C000698 | ((\n & 31) << 21) | (3 << 16) | (7 << 11) | (\n >> 5)   /* lxvd2x vs\n, r3, r7 */
        addi  7, 7, 16
    .endr
    facilities_off
    blr
"#,
    FPSCR = const VECTOR_FPSCR_OFFSET,
    VSCR = const VECTOR_VSCR_OFFSET,
);

/// Saves the thread's FP/VMX/VSX registers into `area`.
pub fn save_vectors(area: &mut VectorRegisters) {
    // SAFETY: the routine stores 1056 bytes at `area` (a whole, aligned VectorRegisters),
    // clobbers only r5–r7 (volatile) and restores the MSR it found.
    unsafe { oxiboot_vectors_save(area) };
}

/// Loads the thread's FP/VMX/VSX registers from `area`.
pub fn load_vectors(area: &VectorRegisters) {
    // SAFETY: as for `save_vectors`; the loaded values only matter to the guest that runs next
    // (the firmware never uses these registers).
    unsafe { oxiboot_vectors_load(area) };
}

macro_rules! exchange {
    ($($field:ident $([$index:literal])? = $spr:ident),* $(,)?) => {
        /// Reads the thread SPRs that belong to the running partition.
        pub fn capture() -> ThreadRegisters {
            let mut r = ThreadRegisters::default();
            $( r.$field $([$index])? = mfspr::<{ num::$spr }>(); )*
            r
        }

        /// Writes them.
        ///
        /// # Safety
        /// Only for guest state: the values take effect in the partition entered next, never
        /// in the hypervisor (which runs in real mode and uses none of them).
        pub unsafe fn install(r: &ThreadRegisters) {
            // Freeze the performance monitor while its registers change.
            // SAFETY: MMCR0[FC] (freeze counters) only stops counting.
            unsafe { mtspr::<{ num::MMCR0 }>(0x8000_0000) };
            $(
                // SAFETY: the caller's contract.
                unsafe { mtspr::<{ num::$spr }>(r.$field $([$index])?) };
            )*
        }
    };
}

exchange! {
    dar = DAR, dsisr = DSISR,
    sprg[0] = SPRG0, sprg[1] = SPRG1, sprg[2] = SPRG2, sprg[3] = SPRG3,
    pidr = PIDR, amr = AMR, iamr = IAMR, uamor = UAMOR, amor = AMOR,
    fscr = FSCR, dscr = DSCR, tar = TAR, pspb = PSPB, ciabr = CIABR,
    dawr0 = DAWR0, dawrx0 = DAWRX0, ppr = PPR, vrsave = VRSAVE, dpdes = DPDES,
    bescr = BESCR, ebbhr = EBBHR, ebbrr = EBBRR,
    mmcr1 = MMCR1, mmcr2 = MMCR2, mmcra = MMCRA,
    pmc[0] = PMC1, pmc[1] = PMC2, pmc[2] = PMC3, pmc[3] = PMC4, pmc[4] = PMC5, pmc[5] = PMC6,
    siar = SIAR, sdar = SDAR, sier = SIER,
    mmcr0 = MMCR0,
}
