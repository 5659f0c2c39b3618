//! RUN_VCPU output buffer contents per exit reason, parsed back as a Linux L1 would (every
//! element with its table size, the count matching).

use alloc::vec::Vec;

use crate::nested::exit::{largest_output_size, output_size, write_output, ExitReason, COMMON_ELEMENTS};
use crate::nested::gsid::{self, element_info};
use crate::nested::hcall::{Rejection, H_OUTPUT_BUFFER_TOO_SMALL};
use crate::nested::state::VcpuState;
use crate::nested::values::RUN_OUTPUT_MIN_SIZE_BYTES;
use crate::nested::wire::{ElementValue, StateBuffer};

fn exited_vcpu() -> VcpuState {
    let mut vcpu = VcpuState {
        nia: 0xC000_0000_0001_0000,
        msr: 0x8000_0000_0000_1033,
        dec_expiry_tb: 0x0000_0012_3456_7890,
        dpdes: 1,
        hdar: 0xC000_0000_0BAD_0000,
        hdsisr: 0x4200_0000,
        asdr: 0x0BAD_0000,
        heir: 0x7C00_07A6,
        hfscr: 0x0200_0000_0000_0417,
        ..Default::default()
    };
    for (n, gpr) in vcpu.gpr.iter_mut().enumerate() {
        *gpr = 0x1000 + n as u64;
    }
    vcpu
}

/// Writes the output for `exit` and parses it like Linux's `kvmppc_gse_parse`.
fn output(exit: ExitReason) -> Vec<(u16, ElementValue)> {
    let mut buffer = alloc::vec![0xAAu8; RUN_OUTPUT_MIN_SIZE_BYTES as usize];
    let used = write_output(&mut buffer, exit, &exited_vcpu()).expect("fits");
    assert_eq!(used, output_size(exit));
    let parsed = StateBuffer::new(&buffer).expect("header");
    let elements: Vec<_> = parsed
        .elements()
        .map(|element| {
            let element = element.expect("inside");
            let info = element_info(element.id).expect("known id");
            assert_eq!(Some(element.length), info.value_type.size(), "{info}: Linux rejects a size mismatch");
            (
                element.id,
                ElementValue::decode(info.value_type, element.value.expect("inside")).expect("decodes"),
            )
        })
        .collect();
    assert_eq!(elements.len() as u32, parsed.count());
    assert!(buffer[used..].iter().all(|&byte| byte == 0xAA), "nothing written past the elements");
    elements
}

fn ids(elements: &[(u16, ElementValue)]) -> Vec<u16> {
    elements.iter().map(|(id, _)| *id).collect()
}

fn common_plus(extra: &[u16]) -> Vec<u16> {
    COMMON_ELEMENTS.iter().chain(extra).copied().collect()
}

#[test]
fn every_exit_carries_nia_msr_dec_expiry_and_dpdes() {
    let elements = output(ExitReason::Unspecified);
    assert_eq!(
        elements,
        [
            (gsid::NIA, ElementValue::Doubleword(0xC000_0000_0001_0000)),
            (gsid::MSR, ElementValue::Doubleword(0x8000_0000_0000_1033)),
            (gsid::DEC_EXPIRY_TB, ElementValue::Doubleword(0x0000_0012_3456_7890)),
            (gsid::DPDES, ElementValue::Doubleword(1)),
        ]
    );
    assert_eq!(ids(&output(ExitReason::HypervisorDecrementer)), common_plus(&[]));
    assert_eq!(ids(&output(ExitReason::Other(0x500))), common_plus(&[]));
}

#[test]
fn hypercall_exit_carries_gpr3_to_gpr12() {
    let elements = output(ExitReason::Hypercall);
    let gprs: Vec<u16> = (3..=12).map(gsid::gpr).collect();
    assert_eq!(ids(&elements), common_plus(&gprs));
    for (id, value) in &elements[4..] {
        assert_eq!(*value, ElementValue::Doubleword(0x1000 + u64::from(id - gsid::GPR0)));
    }
}

#[test]
fn fault_exits_carry_their_registers() {
    let hdsi = output(ExitReason::HypervisorDataStorage);
    assert_eq!(
        &hdsi[4..],
        [
            (gsid::HDAR, ElementValue::Doubleword(0xC000_0000_0BAD_0000)),
            (gsid::HDSISR, ElementValue::Word(0x4200_0000)),
            (gsid::ASDR, ElementValue::Doubleword(0x0BAD_0000)),
        ]
    );
    assert_eq!(
        &output(ExitReason::HypervisorInstructionStorage)[4..],
        [(gsid::ASDR, ElementValue::Doubleword(0x0BAD_0000))]
    );
    // HEIR as a doubleword: the instruction in the low word.
    assert_eq!(
        &output(ExitReason::HypervisorEmulationAssistance)[4..],
        [(gsid::HEIR, ElementValue::Doubleword(0x7C00_07A6))]
    );
    assert_eq!(
        &output(ExitReason::HypervisorFacilityUnavailable)[4..],
        [(gsid::HFSCR, ElementValue::Doubleword(0x0200_0000_0000_0417))]
    );
}

#[test]
fn vectors_round_trip() {
    for vector in [0x000, 0x980, 0xC00, 0xE00, 0xE20, 0xE40, 0xF80, 0x500, 0xEA0] {
        assert_eq!(ExitReason::from_vector(vector).vector(), vector);
    }
    assert_eq!(ExitReason::from_vector(0xE40), ExitReason::HypervisorEmulationAssistance);
}

#[test]
fn minimum_output_size_fits_every_exit() {
    assert_eq!(largest_output_size(), 4 + 4 * 12 + 10 * 12);
    assert!(largest_output_size() as u64 <= RUN_OUTPUT_MIN_SIZE_BYTES);
    // Even every thread element at once fits the advertised minimum.
    let everything: usize = crate::nested::gsid::all_ids()
        .filter_map(element_info)
        .filter(|info| info.scope == gsid::Scope::Thread)
        .filter_map(|info| info.value_type.size())
        .map(|size| 4 + usize::from(size))
        .sum();
    assert!(4 + everything <= RUN_OUTPUT_MIN_SIZE_BYTES as usize, "{everything}");
}

#[test]
fn too_small_output_buffer() {
    let vcpu = exited_vcpu();
    let needed = output_size(ExitReason::Hypercall);
    let mut short = alloc::vec![0u8; needed - 1];
    assert_eq!(
        write_output(&mut short, ExitReason::Hypercall, &vcpu),
        Err(Rejection::new(H_OUTPUT_BUFFER_TOO_SMALL))
    );
    let mut exact = alloc::vec![0u8; needed];
    assert_eq!(write_output(&mut exact, ExitReason::Hypercall, &vcpu), Ok(needed));
    assert_eq!(
        write_output(&mut [0u8; 2], ExitReason::Unspecified, &vcpu),
        Err(Rejection::new(H_OUTPUT_BUFFER_TOO_SMALL))
    );
}
