//! Entry encodings against the values Linux computes from its `_PAGE_*`, `PATB_*` and `RTS*`
//! constants (`book3s/64/pgtable.h`, `radix.h`, `mmu.h`), and the PATE (partition table
//! entry) and process-table checks.

use crate::radix::format::*;

#[test]
fn leaf_for_normal_rwx_memory_matches_linux() {
    // _PAGE_PRESENT 0x8000_0000_0000_0000 | _PAGE_PTE 0x4000_0000_0000_0000 | RPN 0x4000_0000
    // | _PAGE_ACCESSED 0x100 | _PAGE_DIRTY 0x80 | _PAGE_RWX (READ 0x4 | WRITE 0x2 | EXEC 0x1):
    // what KVM puts in a partition-scoped leaf for writable guest memory.
    assert_eq!(leaf(0x4000_0000, Perms::RWX, Attribute::Normal), 0xC000_0000_4000_0187);
}

#[test]
fn leaf_for_read_execute_has_no_change_bit() {
    // _PAGE_PRESENT | _PAGE_PTE | RPN | _PAGE_ACCESSED 0x100 | _PAGE_READ 0x4 | _PAGE_EXEC 0x1.
    assert_eq!(leaf(0x1_2345_6000, Perms::RX, Attribute::Normal), 0xC000_0001_2345_6105);
    // Read only: ... | _PAGE_ACCESSED | _PAGE_READ.
    assert_eq!(leaf(0x1000, Perms::R, Attribute::Normal), 0xC000_0000_0000_1104);
}

#[test]
fn leaf_attributes_and_privilege_match_linux() {
    // PAGE_KERNEL_NC: _PAGE_BASE_NC (PRESENT | ACCESSED 0x100) | _PAGE_KERNEL_RW (PRIVILEGED
    // 0x8 | RW 0x6 | DIRTY 0x80) | _PAGE_TOLERANT 0x30, plus _PAGE_PTE for a leaf.
    let kernel_rw = Perms { privileged: true, ..Perms::RW };
    assert_eq!(leaf(0x6_0000_0000, kernel_rw, Attribute::TolerantIo), 0xC000_0006_0000_01BE);
    // PAGE_KERNEL_NCG: the same with _PAGE_NON_IDEMPOTENT 0x20.
    assert_eq!(leaf(0x6_0000_0000, kernel_rw, Attribute::NonIdempotentIo), 0xC000_0006_0000_01AE);
    // _PAGE_SAO 0x10.
    assert_eq!(leaf(0, Perms::R, Attribute::StrongAccessOrder), 0xC000_0000_0000_0114);
    for attribute in
        [Attribute::Normal, Attribute::StrongAccessOrder, Attribute::NonIdempotentIo, Attribute::TolerantIo]
    {
        assert_eq!(Attribute::from_pte(leaf(0, Perms::R, attribute)), attribute);
    }
}

#[test]
fn leaf_keeps_only_the_rpn_field_of_the_address() {
    // RPN is ISA bits 7:51: address bits 12..=56.
    assert_eq!(leaf(0x01FF_FFFF_FFFF_F000, Perms::NONE, Attribute::Normal), 0xC1FF_FFFF_FFFF_F100);
    assert_eq!(leaf(0xFFFF_FFFF_FFFF_FFFF, Perms::NONE, Attribute::Normal) & PTE_RPN_MASK, PTE_RPN_MASK);
}

#[test]
fn perms_decode_with_write_implying_read() {
    assert_eq!(Perms::from_pte(PTE_EAA_READ_WRITE), Perms::RW);
    assert_eq!(Perms::from_pte(PTE_EAA_READ | PTE_EAA_EXECUTE), Perms::RX);
    assert_eq!(Perms::from_pte(0x7), Perms::RWX);
    assert_eq!(Perms::from_pte(0x8), Perms { privileged: true, ..Perms::NONE });
    for perms in [Perms::NONE, Perms::R, Perms::RX, Perms::RW, Perms::RWX] {
        assert_eq!(Perms::from_pte(perms.eaa_bits()), perms);
    }
}

#[test]
fn pde_matches_linux_val_bits() {
    // RADIX_PMD_VAL_BITS = 0x8000_0000_0000_0000 | RADIX_PTE_INDEX_SIZE (9), or'ed with the
    // table's physical address.
    assert_eq!(pde(0x3801_0000, 9), 0x8000_0000_3801_0009);
    // RADIX_PGD_VAL_BITS for a 64K-page kernel's PTE fragment: NLS 5.
    assert_eq!(pde(0x3801_0100, 5), 0x8000_0000_3801_0105);
}

#[test]
fn pate_dw0_matches_linux_for_a_52_bit_tree() {
    // Linux: PATB_HR | rts_field ((0x2 << 61) | (0x5 << 5), RTS = 21) | __pa(pgd) |
    // RADIX_PGD_INDEX_SIZE (13).
    let dw0 = encode_pate_dw0(0x3800_0000, 52, 64 << 10).unwrap();
    assert_eq!(dw0, 0xC000_0000_3800_00AD);
    assert_eq!(rts_field(52), Some(0x4000_0000_0000_00A0));
    assert_eq!(
        decode_pate_dw0(dw0),
        PateDw0 { host_radix: true, address_bits: 52, root: 0x3800_0000, root_index_bits: 13 }
    );
    // Other sizes the fields can hold encode and decode too (walk refuses them).
    let dw0 = encode_pate_dw0(0x1_0000, 48, 256).unwrap();
    assert_eq!(decode_pate_dw0(dw0).address_bits, 48);
    assert_eq!(decode_pate_dw0(dw0).root_index_bits, 5);
    assert_eq!(decode_pate_dw0(encode_pate_dw0(0, 62, 256).unwrap()).address_bits, 62);
    assert_eq!(decode_pate_dw0(encode_pate_dw0(0, 31, 256).unwrap()).address_bits, 31);
}

#[test]
fn pate_dw0_encoder_rejects_bad_fields() {
    assert_eq!(encode_pate_dw0(0, 30, 4096), Err(FormatError::AddressBits { bits: 30 }));
    assert_eq!(encode_pate_dw0(0, 63, 4096), Err(FormatError::AddressBits { bits: 63 }));
    assert_eq!(encode_pate_dw0(0, 52, 128), Err(FormatError::RootSize { bytes: 128 }));
    assert_eq!(encode_pate_dw0(0, 52, 3 << 12), Err(FormatError::RootSize { bytes: 3 << 12 }));
    assert_eq!(encode_pate_dw0(0, 52, 16 << 31), Err(FormatError::RootSize { bytes: 16 << 31 }));
    assert_eq!(
        encode_pate_dw0(0x3800_8000, 52, 64 << 10),
        Err(FormatError::RootAddress { root: 0x3800_8000, bytes: 64 << 10 })
    );
    assert_eq!(
        encode_pate_dw0(1 << 60, 52, 64 << 10),
        Err(FormatError::RootAddress { root: 1 << 60, bytes: 64 << 10 })
    );
}

#[test]
fn process_table_dw1_round_trips_as_linux_registers_it() {
    // Linux registers PATB_GR | __pa(process_tb) | (PRTB_SIZE_SHIFT - 12): 2^20 PIDs of 16
    // bytes, size code 12 (16 MiB).
    let dw1 = encode_process_table_dw1(0x0200_0000, 12).unwrap();
    assert_eq!(dw1, 0x8000_0000_0200_000C);
    let table = decode_process_table_dw1(dw1).unwrap();
    assert_eq!(table, ProcessTable { base: 0x0200_0000, size_code: 12 });
    assert_eq!(table.bytes(), 16 << 20);
    assert_eq!(table.entries(), 1 << 20);
    assert_eq!(ProcessTable::size_code_for(16 << 20), Some(12));
    assert_eq!(ProcessTable::size_code_for(4096), Some(0));
    assert_eq!(ProcessTable::size_code_for(1 << 36), Some(24));
    assert_eq!(ProcessTable::size_code_for(1 << 37), None);
    assert_eq!(ProcessTable::size_code_for(2048), None);
    assert_eq!(ProcessTable::size_code_for(3 << 12), None);
    // The smallest and largest tables.
    assert_eq!(decode_process_table_dw1(encode_process_table_dw1(0, 0).unwrap()).unwrap().bytes(), 4096);
    assert_eq!(encode_process_table_dw1(1 << 36, 24), Ok(0x8000_0010_0000_0018));
}

#[test]
fn process_table_dw1_checks() {
    assert_eq!(encode_process_table_dw1(0, 25), Err(FormatError::ProcessTableSize { code: 25 }));
    assert_eq!(
        encode_process_table_dw1(0x0200_1000, 12),
        Err(FormatError::ProcessTableBase { base: 0x0200_1000, bytes: 16 << 20 })
    );
    assert_eq!(
        encode_process_table_dw1(0x123, 0),
        Err(FormatError::ProcessTableBase { base: 0x123, bytes: 4096 })
    );
    assert_eq!(
        encode_process_table_dw1(1 << 60, 0),
        Err(FormatError::ProcessTableBase { base: 1 << 60, bytes: 4096 })
    );
    // GR clear: a hashed-page-table guest.
    assert_eq!(decode_process_table_dw1(0x0200_000C), Err(FormatError::NotRadix));
    // Reserved bits 1:3 and 52:58.
    assert_eq!(decode_process_table_dw1(PATE_GR | 1 << 60), Err(FormatError::ReservedBits { bits: 1 << 60 }));
    assert_eq!(decode_process_table_dw1(PATE_GR | 0x100), Err(FormatError::ReservedBits { bits: 0x100 }));
    assert_eq!(decode_process_table_dw1(PATE_GR | 0x1F), Err(FormatError::ProcessTableSize { code: 31 }));
    assert_eq!(
        decode_process_table_dw1(PATE_GR | 0x1000 | 1),
        Err(FormatError::ProcessTableBase { base: 0x1000, bytes: 8192 })
    );
}

#[test]
fn errors_display() {
    let text = alloc::format!("{}", FormatError::ProcessTableSize { code: 25 });
    assert_eq!(text, "process table size code 25 is above 24");
}
