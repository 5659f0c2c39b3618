/*
 * OPAL call entry (`opal-entry-address` in the device tree).
 *
 * Linux enters with hrfid: HSRR0 = here, MSR = its MSR with IR, DR and LE cleared, so we
 * arrive big-endian in hypervisor real mode; LR = its return stub; r0 = token, r3–r10 =
 * arguments; r11 and r12 are free (volatile and not arguments). Callers may also enter
 * little-endian. The caller's r1, r2, r13 (Linux's PACA) and CR are kept; the result goes
 * back in r3, by `blr` for a little-endian caller and by `hrfid` with LE cleared for a
 * big-endian one (as skiboot does), so the caller's own endian fix-up takes over.
 *
 * HSPRG0 belongs to the OS after handoff, so the per-CPU slot is found through PIR
 * (PIR_SLOTS, filled by the boot thread once every thread has reported in).
 */

    /* A big-endian instruction word in this little-endian image. */
    .macro opal_be_word w
        .byte ((\w) >> 24) & 0xff, ((\w) >> 16) & 0xff, ((\w) >> 8) & 0xff, (\w) & 0xff
    .endm

    .section .text.opal_entry, "ax"
    .balign 64
    .globl opal_entry
opal_entry:
    tdi   0, 0, 0x48            /* little-endian: no-op; big-endian: b .+8 */
    b     1f
    /* Big-endian path, stored byte-reversed: keep LR in CTR, set MSR[LE], hrfid to 2f.
     *   mflr r12; mtctr r12; mfmsr r11; ori r11,r11,1; bcl 20,31,$+4; mflr r12;
     *   addi r12,r12,20; mtspr HSRR0,r12; mtspr HSRR1,r11; hrfid                       */
    opal_be_word 0x7D8802A6
    opal_be_word 0x7D8903A6
    opal_be_word 0x7D6000A6
    opal_be_word 0x616B0001
    opal_be_word 0x429F0005
    opal_be_word 0x7D8802A6
    opal_be_word 0x398C0014
    opal_be_word 0x7D9A4BA6
    opal_be_word 0x7D7B4BA6
    opal_be_word 0x4C000224
2:  mfctr 12                    /* little-endian from here on */
    mtlr  12
    li    11, 1                 /* entered big-endian */
    b     3f
1:  li    11, 0                 /* entered little-endian */
3:  mtctr 11
    mfspr 12, 1023              /* PIR */
    cmpldi 12, {MAX_PIR}
    bgt-  opal_no_slot
    sldi  12, 12, 1
    lis   11, {PIR_SLOTS}@h
    ori   11, 11, {PIR_SLOTS}@l
    lhzx  12, 11, 12
    cmpldi 12, 0xffff
    beq-  opal_no_slot
    sldi  12, 12, {PERCPU_SLOT_SHIFT}
    lis   11, {PERCPU_BASE_HI}
    ori   11, 11, {PERCPU_BASE_LO}
    add   11, 11, 12            /* r11 = this thread's slot */

    std   1, {SAVE} + 8 * {SAVE_R1}(11)
    std   2, {SAVE} + 8 * {SAVE_R2}(11)
    std   13, {SAVE} + 8 * {SAVE_R13}(11)
    mflr  12
    std   12, {SAVE} + 8 * {SAVE_LR}(11)
    mfcr  12
    std   12, {SAVE} + 8 * {SAVE_CR}(11)
    mfctr 12
    std   12, {SAVE} + 8 * {SAVE_BE}(11)
    mfmsr 12
    std   12, {SAVE} + 8 * {SAVE_MSR}(11)
    std   3, {ARGS} + 0(11)
    std   4, {ARGS} + 8(11)
    std   5, {ARGS} + 16(11)
    std   6, {ARGS} + 24(11)
    std   7, {ARGS} + 32(11)
    std   8, {ARGS} + 40(11)
    std   9, {ARGS} + 48(11)
    std   10, {ARGS} + 56(11)

    mr    13, 11
    addi  1, 11, {STACK_INIT_OFFSET}
    li    12, 0
    std   12, 0(1)
    lis   2, .TOC.@ha
    addi  2, 2, .TOC.@l
    mr    3, 0
    addi  4, 13, {ARGS}
    bl    {DISPATCH}

    mr    11, 13
    ld    12, {SAVE} + 8 * {SAVE_BE}(11)
    cmpdi 12, 0
    bne   4f
    /* Little-endian caller. */
    ld    12, {SAVE} + 8 * {SAVE_LR}(11)
    mtlr  12
    ld    12, {SAVE} + 8 * {SAVE_CR}(11)
    mtcr  12
    ld    1, {SAVE} + 8 * {SAVE_R1}(11)
    ld    2, {SAVE} + 8 * {SAVE_R2}(11)
    ld    13, {SAVE} + 8 * {SAVE_R13}(11)
    blr
4:  /* Big-endian caller: hrfid to its LR with LE cleared. */
    ld    12, {SAVE} + 8 * {SAVE_MSR}(11)
    rldicr 12, 12, 0, 62        /* clear MSR[LE] (bit 63) */
    mtspr 315, 12               /* HSRR1 */
    ld    12, {SAVE} + 8 * {SAVE_LR}(11)
    mtspr 314, 12               /* HSRR0 */
    mtlr  12
    ld    12, {SAVE} + 8 * {SAVE_CR}(11)
    mtcr  12
    ld    1, {SAVE} + 8 * {SAVE_R1}(11)
    ld    2, {SAVE} + 8 * {SAVE_R2}(11)
    ld    13, {SAVE} + 8 * {SAVE_R13}(11)
    hrfid

opal_no_slot:
    /* A thread the firmware never brought up: refuse without touching memory. */
    li    3, -11                /* OPAL_INTERNAL_ERROR */
    mfctr 12
    cmpdi 12, 0
    beqlr
    mfmsr 12
    rldicr 12, 12, 0, 62
    mtspr 315, 12
    mflr  12
    mtspr 314, 12
    hrfid
