//! The GSID table: every id of the PAPR table with its size, scope and direction; reserved
//! ranges rejected.

use alloc::string::ToString;

use crate::nested::gsid::{self, all_ids, element_info, Access, Scope, ValueType, DEFINED_RANGES};

#[test]
fn table_has_every_documented_id() {
    // 7 guest-wide (incl. NOP), 5 host-wide, 3 meta, 0x54 doubleword registers, 15 word
    // registers, 64 VSRs, 4 interrupt registers.
    assert_eq!(all_ids().count(), 7 + 5 + 3 + 0x54 + 15 + 64 + 4);
    for id in all_ids() {
        assert!(element_info(id).is_some(), "{id:#06x} missing");
    }
}

#[test]
fn reserved_ranges_are_unknown() {
    for id in [
        0x0007, 0x07FF, 0x0805, 0x0BFF, 0x0C03, 0x0FFF, 0x1054, 0x1FFF, 0x200F, 0x2FFF, 0x3040, 0xEFFF,
        0xF004, 0xFFFF,
    ] {
        assert!(element_info(id).is_none(), "{id:#06x} should be reserved");
    }
    let defined = all_ids().count();
    let known = (0..=u16::MAX).filter(|&id| element_info(id).is_some()).count();
    assert_eq!(defined, known, "element_info and DEFINED_RANGES disagree");
    assert!(DEFINED_RANGES.windows(2).all(|pair| pair[0].1 < pair[1].0));
}

#[test]
fn sizes_follow_the_table() {
    let size = |id| element_info(id).and_then(|info| info.value_type.size());
    assert_eq!(element_info(gsid::NOP).map(|info| info.value_type), Some(ValueType::Opaque));
    assert_eq!(size(gsid::HOST_STATE_SIZE), Some(8));
    assert_eq!(size(gsid::RUN_OUTPUT_MIN_SIZE), Some(8));
    assert_eq!(size(gsid::LOGICAL_PVR), Some(4));
    assert_eq!(size(gsid::TB_OFFSET), Some(8));
    assert_eq!(size(gsid::PARTITION_TABLE), Some(24));
    assert_eq!(size(gsid::PROCESS_TABLE), Some(16));
    for id in 0x0800..=0x0804 {
        assert_eq!(size(id), Some(8));
    }
    assert_eq!(size(gsid::RUN_INPUT_BUFFER), Some(16));
    assert_eq!(size(gsid::RUN_OUTPUT_BUFFER), Some(16));
    assert_eq!(size(gsid::VPA), Some(8));
    for id in 0x1000..=0x1053 {
        assert_eq!(size(id), Some(8), "{id:#06x}");
    }
    for id in 0x2000..=0x200E {
        assert_eq!(size(id), Some(4), "{id:#06x}");
    }
    for id in 0x3000..=0x303F {
        assert_eq!(size(id), Some(16), "{id:#06x}");
    }
    assert_eq!(size(gsid::HDAR), Some(8));
    assert_eq!(size(gsid::HDSISR), Some(4));
    // The open point: HEIR is 8 bytes, as Linux parses it (the document and QEMU say 4).
    assert_eq!(size(gsid::HEIR), Some(8));
    assert_eq!(size(gsid::ASDR), Some(8));
}

#[test]
fn scopes_and_directions() {
    for id in all_ids() {
        let info = element_info(id).unwrap_or_else(|| panic!("{id:#06x}"));
        let (scope, access) = match id {
            0x0000 => (Scope::Any, Access::ReadWrite),
            0x0001 | 0x0002 => (Scope::GuestWide, Access::ReadOnly),
            0x0003..=0x0006 => (Scope::GuestWide, Access::ReadWrite),
            0x0800..=0x0804 => (Scope::HostWide, Access::ReadOnly),
            0x1020 => (Scope::Thread, Access::WriteOnly),
            0xF000..=0xF003 => (Scope::Thread, Access::ReadOnly),
            _ => (Scope::Thread, Access::ReadWrite),
        };
        assert_eq!((info.scope, info.access), (scope, access), "{info}");
    }
}

#[test]
fn numbered_families_and_names() {
    let name = |id| element_info(id).map(|info| info.to_string()).unwrap_or_default();
    assert_eq!(name(gsid::gpr(0)), "GPR0 (0x1000)");
    assert_eq!(name(gsid::gpr(31)), "GPR31 (0x101f)");
    assert_eq!(name(gsid::vsr(63)), "VSR63 (0x303f)");
    assert_eq!(name(0x1039), "SPRG3 (0x1039)");
    assert_eq!(name(0x103E), "MMCR3 (0x103e)");
    assert_eq!(name(gsid::SIER), "SIER (0x1040)");
    assert_eq!(name(0x1042), "SIER3 (0x1042)");
    assert_eq!(name(gsid::PMC1), "PMC1 (0x2007)");
    assert_eq!(name(0x200C), "PMC6 (0x200c)");
    assert_eq!(name(gsid::HEIR), "HEIR (0xf002)");
    assert_eq!(gsid::gpr(3), 0x1003);
    assert_eq!(gsid::vsr(32), 0x3020);
}
