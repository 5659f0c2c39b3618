/*
 * oxiboot entry, relocation and exception vectors (POWER9, little-endian image).
 *
 * Assembled through `global_asm!` in image.rs; names in braces are constants supplied from
 * Rust (memory map, per-CPU and exception-frame offsets), so the two cannot drift apart.
 *
 * State at entry (QEMU powernv9, and what hostboot-style loaders do): every hardware thread
 * starts at image offset 0x10, at the same time, big-endian, 64-bit hypervisor real mode
 * (MSR = SF|HV), r3 = device-tree address. The image sits at physical 0 but is linked at
 * FIRMWARE_BASE.
 *
 *   1. Switch to little-endian (a two-word trick that is a branch in one endianness and a
 *      no-op in the other), set HID0[HILE] so interrupts are taken little-endian.
 *   2. Take a ticket: an atomic counter in this low copy. The ticket is the thread's per-CPU
 *      slot; ticket 0 is the boot thread. (The counter is part of the loaded image, never of
 *      .bss, so clearing .bss cannot race with the election.)
 *   3. The boot thread copies the image to FIRMWARE_BASE, clears .bss and enters Rust
 *      (`oxiboot_boot_main`), which prepares the per-CPU slots and then sets head_release;
 *      the others spin on that word here and then enter `oxiboot_secondary_main` on their
 *      own stacks.
 *
 * Exceptions: every vector from 0x100 to 0x1fe0 (32-byte spacing) has a stub that saves r1
 * in HSPRG1, points r1 at the per-CPU data (HSPRG0), saves r12 and CFAR there and branches to
 * `low_common`, which jumps to `exception_common` in the relocated image. That builds an
 * ExceptionFrame on the per-CPU exception stack and calls `oxiboot_exception` in Rust.
 */

    .set SPR_CFAR,   28
    .set SPR_DSISR,  18
    .set SPR_DAR,    19
    .set SPR_SRR0,   26
    .set SPR_SRR1,   27
    .set SPR_HSPRG0, 304
    .set SPR_HSPRG1, 305
    .set SPR_HDSISR, 306
    .set SPR_HDAR,   307
    .set SPR_HSRR0,  314
    .set SPR_HSRR1,  315
    .set SPR_HEIR,   339
    .set SPR_ASDR,   816
    .set SPR_HID0,   1008

    /* Offsets of the ExceptionFrame fields from r1 (frame starts above the ABI save area). */
    .set FRAME_BASE, {ABI_FRAME}
    .set F_GPR,      FRAME_BASE + {FRAME_GPR}
    .set F_VECTOR,   FRAME_BASE + {FRAME_VECTOR}
    .set F_SRR0,     FRAME_BASE + {FRAME_SRR0}
    .set F_SRR1,     FRAME_BASE + {FRAME_SRR1}
    .set F_HSRR0,    FRAME_BASE + {FRAME_HSRR0}
    .set F_HSRR1,    FRAME_BASE + {FRAME_HSRR1}
    .set F_DAR,      FRAME_BASE + {FRAME_DAR}
    .set F_DSISR,    FRAME_BASE + {FRAME_DSISR}
    .set F_HDAR,     FRAME_BASE + {FRAME_HDAR}
    .set F_HDSISR,   FRAME_BASE + {FRAME_HDSISR}
    .set F_HEIR,     FRAME_BASE + {FRAME_HEIR}
    .set F_ASDR,     FRAME_BASE + {FRAME_ASDR}
    .set F_CFAR,     FRAME_BASE + {FRAME_CFAR}
    .set F_LR,       FRAME_BASE + {FRAME_LR}
    .set F_CTR,      FRAME_BASE + {FRAME_CTR}
    .set F_CR,       FRAME_BASE + {FRAME_CR}
    .set F_XER,      FRAME_BASE + {FRAME_XER}
    .set F_MSR,      FRAME_BASE + {FRAME_MSR}

    /* Per-CPU scratch words the stubs use before a stack exists. */
    .set PC_R11,  {PC_SCRATCH} + 0
    .set PC_R12,  {PC_SCRATCH} + 8
    .set PC_CTR,  {PC_SCRATCH} + 16
    .set PC_CFAR, {PC_SCRATCH} + 24
    .set PC_R0,   {PC_SCRATCH} + 32
    .set PC_VEC,  {PC_SCRATCH} + 40
    .set PC_CR,   {PC_SCRATCH} + 48
    /* Frames of this thread's exception stack in use (exceptions being handled). */
    .set PC_DEPTH, {PC_SCRATCH} + 56

    /* Load a 32-bit absolute address (everything the firmware links is below 2 GiB). */
    .macro load_addr reg, sym
        lis   \reg, \sym@h
        ori   \reg, \reg, \sym@l
    .endm

    /* A big-endian instruction word in this little-endian image. */
    .macro be_word w
        .byte ((\w) >> 24) & 0xff, ((\w) >> 16) & 0xff, ((\w) >> 8) & 0xff, (\w) & 0xff
    .endm

    .section .head, "ax"
    .globl _head
_head:
head_ticket:                    /* +0x00: next per-CPU slot; slot 0 is the boot thread */
    .long 0
head_release:                   /* +0x04: set to 1 once the relocated image may be entered */
    .long 0
    .quad 0                     /* +0x08: reserved */

    .org 0x10
    .globl _start
_start:
    /* Read little-endian this is `tdi 0,0,0x48`, which never traps; read big-endian the same
     * bytes are `b .+8`, which skips to the big-endian trampoline below. */
    tdi   0, 0, 0x48
    b     le_entry
    /* Big-endian trampoline: set MSR[LE] and return to the `b le_entry` above.
     *   mfmsr r11; ori r11,r11,1; bcl 20,31,$+4; mflr r10; addi r10,r10,-16;
     *   mtspr HSRR0,r10; mtspr HSRR1,r11; hrfid                                        */
    be_word 0x7D6000A6
    be_word 0x616B0001
    be_word 0x429F0005
    be_word 0x7D4802A6
    be_word 0x394AFFF0
    be_word 0x7D5A4BA6
    be_word 0x7D7B4BA6
    be_word 0x4C000224

    /* HDAT entry: an FSP/hostboot that built HDAT starts the threads here (the NIA our
     * PROCIN names), big-endian. No device tree: r3 = 0, then the big-endian trampoline
     * (where _start's first word branches in big-endian mode).
     *   li r3,0; b 0x18                                                                 */
    .org {HDAT_ENTRY}
    .globl hdat_entry
hdat_entry:
    be_word 0x38600000
    be_word 0x48000000 | ((0x18 - ({HDAT_ENTRY} + 4)) & 0x03fffffc)

    /* Exception vector stubs, one every 32 bytes from 0x100 to 0x1fe0. */
    .macro vector_stub v
        .org \v
        mtspr SPR_HSPRG1, 1
        mfspr 1, SPR_HSPRG0
        std   12, PC_R12(1)
        mfspr 12, SPR_CFAR
        std   12, PC_CFAR(1)
        li    12, \v
        b     low_common
    .endm

    .set vec, 0x100
    .rept (0x2000 - 0x100) / 0x20
        vector_stub vec
        .set vec, vec + 0x20
    .endr

    .org 0x2000
    /* Still in the low copy: leave it for the relocated image by an absolute jump. */
low_common:
    std   11, PC_R11(1)
    mfctr 11
    std   11, PC_CTR(1)
    load_addr 11, exception_common
    mtctr 11
    bctr

le_entry:
    mr    30, 3                 /* device tree, kept for the boot thread */

    /* HID0[HILE] (bit 4): hypervisor interrupts are taken little-endian. */
    mfspr 11, SPR_HID0
    li    12, 1
    sldi  12, 12, 59
    or    11, 11, 12
    sync
    mtspr SPR_HID0, 11
    isync

    /* r29 = where this copy of the image is (normally 0). */
    bcl   20, 31, 1f
1:  mflr  29
    addi  29, 29, -(1b - _head)

    /* r28 = ticket. */
2:  lwarx  28, 0, 29
    addi   27, 28, 1
    stwcx. 27, 0, 29
    bne-   2b

    cmpldi 28, {MAX_THREADS}
    bge-   too_many_threads

    /* r31 = this thread's per-CPU slot; HSPRG0 points exception stubs at it. */
    lis   31, {PERCPU_BASE_HI}
    ori   31, 31, {PERCPU_BASE_LO}
    sldi  27, 28, {PERCPU_SLOT_SHIFT}
    add   31, 31, 27
    mtspr SPR_HSPRG0, 31

    cmpldi 28, 0
    bne   wait_for_release

    /* Boot thread: copy the image to its link address unless it is already there. */
    load_addr 4, _image_start
    load_addr 5, _image_end
    cmpld  29, 4
    beq    3f
    mr     6, 29                /* source */
    mr     7, 4                 /* destination */
4:  ld     0, 0(6)
    std    0, 0(7)
    addi   6, 6, 8
    addi   7, 7, 8
    cmpld  7, 5
    blt    4b
    /* Make the copy visible to instruction fetch: dcbst + sync, then icbi + isync. */
    mr     7, 4
5:  dcbst  0, 7
    addi   7, 7, 128
    cmpld  7, 5
    blt    5b
    sync
    mr     7, 4
6:  icbi   0, 7
    addi   7, 7, 128
    cmpld  7, 5
    blt    6b
    sync
    isync
3:
    /* Clear .bss. */
    load_addr 6, _bss_start
    load_addr 7, _bss_end
    li     0, 0
7:  cmpld  6, 7
    bge    8f
    std    0, 0(6)
    addi   6, 6, 8
    b      7b
8:  sync
    /* The secondaries are released from Rust (`release_secondaries`), once the per-CPU slots
     * they will use are prepared; they spin on head_release in this low copy until then. */
    load_addr 12, boot_thread_high
    mtctr  12
    bctr

wait_for_release:
    or     1, 1, 1              /* low thread priority while spinning */
9:  lwz    0, (head_release - _head)(29)
    cmpwi  0, 0
    beq    9b
    or     2, 2, 2              /* back to medium priority */
    isync
    load_addr 12, secondary_thread_high
    mtctr  12
    bctr

too_many_threads:
    /* More threads than per-CPU slots: park for good; the boot thread reports them missing. */
10: stop
    b      10b

    /* ---------------------------------------------------------------------------------- */
    .text

    /* Common tail of the two entry paths: r31 = per-CPU slot, r28 = ticket, r30 = FDT,
     * r12 = Rust function to call. */
    .macro enter_rust fn
        addi  1, 31, {STACK_INIT_OFFSET}
        li    0, 0
        std   0, 0(1)
        mr    13, 31
        lis   2, .TOC.@ha
        addi  2, 2, .TOC.@l
        mr    3, 30
        mr    4, 31
        mr    5, 28
        mr    6, 29
        bl    \fn
        /* The Rust entry points never return. */
11:     b     11b
    .endm

    .balign 16
boot_thread_high:
    enter_rust {BOOT_MAIN}

    .balign 16
secondary_thread_high:
    enter_rust {SECONDARY_MAIN}

    /* ---------------------------------------------------------------------------------- */
    /* Exception entry in the relocated image. r1 = per-CPU data; original r1 in HSPRG1;
     * original r11, r12, CTR and CFAR in the per-CPU scratch words; r12 = vector. */
    .macro save_gpr n
        std   \n, F_GPR + 8 * \n (1)
    .endm
    .macro restore_gpr n
        ld    \n, F_GPR + 8 * \n (1)
    .endm

    .macro restore_frame
        /* CFAR as interrupted (no branch follows until the rfid/hrfid). */
        ld    0, F_CFAR(1)
        mtspr SPR_CFAR, 0
        ld    0, F_SRR0(1)
        mtspr SPR_SRR0, 0
        ld    0, F_SRR1(1)
        mtspr SPR_SRR1, 0
        ld    0, F_HSRR0(1)
        mtspr SPR_HSRR0, 0
        ld    0, F_HSRR1(1)
        mtspr SPR_HSRR1, 0
        ld    0, F_LR(1)
        mtlr  0
        ld    0, F_CTR(1)
        mtctr 0
        ld    0, F_XER(1)
        mtxer 0
        ld    0, F_CR(1)
        mtcr  0
        .irp n, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
            restore_gpr \n
        .endr
        ld    1, F_GPR + 8 (1)
    .endm

    .balign 16
    .globl exception_common
exception_common:
    std   0, PC_R0(1)
    std   12, PC_VEC(1)
    /* CR before any compare: it is the interrupted context's (a guest's, at any instruction
     * of it for an asynchronous exit), and the nesting checks below write CR0. */
    mfcr  0
    std   0, PC_CR(1)
    mr    11, 1
    addi  1, 11, {EXC_SP_OFFSET}
    /* An exception taken while this thread is handling one (a wake-up from `stop` inside a
     * guest exit handler, or a fault while reporting one) gets its frame below the
     * interrupted stack pointer, past its red zone, so the outer frame (for a guest exit:
     * the guest's registers) stays intact. Whether one is being handled is the per-CPU
     * depth count, never the interrupted r1, which a guest chooses. */
    ld    0, PC_DEPTH(11)
    cmpdi 0, 0
    beq   14f
    mfspr 0, SPR_HSPRG1
    cmpld 0, 1
    bgt   14f
    addi  12, 11, {PERCPU_DATA_SIZE} + {NESTED_MIN}
    cmpld 0, 12
    blt   14f
    li    12, -({NESTED_FRAME} + 288)
    add   1, 0, 12
    clrrdi 1, 1, 4
14: ld    0, PC_R0(11)
    ld    12, PC_VEC(11)
    save_gpr 0
    mfspr 0, SPR_HSPRG1
    std   0, F_GPR + 8 (1)
    .irp n, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
        save_gpr \n
    .endr
    ld    0, PC_R11(11)
    std   0, F_GPR + 88 (1)
    ld    0, PC_R12(11)
    std   0, F_GPR + 96 (1)
    std   12, F_VECTOR(1)
    ld    0, PC_CTR(11)
    std   0, F_CTR(1)
    ld    0, PC_CFAR(11)
    std   0, F_CFAR(1)
    mflr  0
    std   0, F_LR(1)
    ld    0, PC_CR(11)
    std   0, F_CR(1)
    mfxer 0
    std   0, F_XER(1)
    mfmsr 0
    std   0, F_MSR(1)
    mfspr 0, SPR_SRR0
    std   0, F_SRR0(1)
    mfspr 0, SPR_SRR1
    std   0, F_SRR1(1)
    mfspr 0, SPR_HSRR0
    std   0, F_HSRR0(1)
    mfspr 0, SPR_HSRR1
    std   0, F_HSRR1(1)
    mfspr 0, SPR_DAR
    std   0, F_DAR(1)
    mfspr 0, SPR_DSISR
    std   0, F_DSISR(1)
    mfspr 0, SPR_HDAR
    std   0, F_HDAR(1)
    mfspr 0, SPR_HDSISR
    std   0, F_HDSISR(1)
    mfspr 0, SPR_HEIR
    std   0, F_HEIR(1)
    mfspr 0, SPR_ASDR
    std   0, F_ASDR(1)

    li    0, 0
    std   0, 0(1)               /* end of the back chain */
    ld    0, PC_DEPTH(11)
    addi  0, 0, 1
    std   0, PC_DEPTH(11)
    mr    13, 11
    lis   2, .TOC.@ha
    addi  2, 2, .TOC.@l
    addi  3, 1, FRAME_BASE
    bl    {EXCEPTION_ENTRY}

    /* Rust returned: resume with the (possibly edited) frame. r3 != 0 resumes through
     * HSRR0/1 with hrfid, r3 = 0 through SRR0/1 with rfid. The choice is made before CR is
     * restored, since the comparison needs CR0. r13 is still the per-CPU data. */
    ld    0, PC_DEPTH(13)
    addi  0, 0, -1
    std   0, PC_DEPTH(13)
    cmpdi 3, 0
    beq   13f
    restore_frame
    hrfid
13: restore_frame
    rfid

    /* ---------------------------------------------------------------------------------- */
    /* Partitioned mode: entering and leaving a guest.
     *
     * oxiboot_guest_launch(r3 = guest state in this thread's exception frame, r4 = host
     * context save area) saves the hypervisor's callee-saved registers (LR, CR, r1, r2,
     * r13-r31), then loads the guest state exactly as an exception return does and enters
     * the guest with hrfid through HSRR0/1. Guest exits arrive at the vectors like any
     * exception (exception_common), with the guest's registers in the frame; the Rust exit
     * handler resumes the guest by returning, or gives the thread back to the hypervisor with
     * oxiboot_guest_leave(r3 = host context, r4 = value), which makes oxiboot_guest_launch
     * return that value on its original stack. */
    .set HC_LR, 0
    .set HC_CR, 8
    .set HC_R1, 16
    .set HC_R2, 24
    .set HC_GPR, 32             /* r13 to r31 from here */

    .balign 16
    .globl oxiboot_guest_launch
oxiboot_guest_launch:
    mflr  0
    std   0, HC_LR(4)
    mfcr  0
    std   0, HC_CR(4)
    std   1, HC_R1(4)
    std   2, HC_R2(4)
    .irp n, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
        std   \n, HC_GPR + 8 * (\n - 13)(4)
    .endr
    addi  1, 3, -FRAME_BASE
    restore_frame
    hrfid

    .balign 16
    .globl oxiboot_guest_leave
oxiboot_guest_leave:
    /* The exit handler's frames are abandoned: none of the exception stack is in use. */
    mfspr 5, SPR_HSPRG0
    li    0, 0
    std   0, PC_DEPTH(5)
    ld    0, HC_LR(3)
    mtlr  0
    ld    0, HC_CR(3)
    mtcr  0
    ld    1, HC_R1(3)
    ld    2, HC_R2(3)
    .irp n, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
        ld    \n, HC_GPR + 8 * (\n - 13)(3)
    .endr
    mr    3, 4
    blr
