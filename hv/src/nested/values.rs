//! Checks on the values an L1 writes (SET_STATE and the RUN_VCPU input buffer), and the masks
//! of register bits the L1 may set.
//!
//! Two kinds of rule apply. A value that is invalid in itself — a reserved field encoding, a
//! table that cannot be walked, a buffer outside the L1's memory — is rejected with
//! `H_INVALID_ELEMENT_VALUE`. Bits the L1 is simply not allowed to control (the hypervisor bit
//! of the machine state register, `MSR[HV]`; most of the logical partitioning control register,
//! LPCR) are accepted, stored as sent (so a GET returns what the L1 wrote, as QEMU does) and
//! masked when the hypervisor builds the real register: a Linux L1 sends its full L2 MSR and
//! LPCR unmasked (`book3s_hv_nestedv2.c`), so rejecting those bits would fail every run.

use super::gsid;
use super::state::{PartitionTableDescriptor, ProcessTableDescriptor, RunBufferDescriptor};
use super::wire::{ElementValue, HEADER_SIZE};

/// `LPCR[DPFD]`, default prefetch depth (IBM bits 9:11).
pub const LPCR_DPFD: u64 = 0x0070_0000_0000_0000;
/// `LPCR[ILE]`, interrupts little-endian (bit 38).
pub const LPCR_ILE: u64 = 0x0000_0000_0200_0000;
/// `LPCR[AIL]`, alternate interrupt location (bits 39:40).
pub const LPCR_AIL: u64 = 0x0000_0000_0180_0000;
/// Shift of the `LPCR[AIL]` field.
pub const LPCR_AIL_SHIFT: u32 = 23;
/// `LPCR[LD]`, large decrementer (bit 46).
pub const LPCR_LD: u64 = 0x0000_0000_0002_0000;
/// `LPCR[MER]`, mediated external exception request (bit 52): how a Linux L1 injects
/// external interrupts into its L2.
pub const LPCR_MER: u64 = 0x0000_0000_0000_0800;
/// `LPCR[GTSE]`, guest translation shootdown enable (bit 53).
pub const LPCR_GTSE: u64 = 0x0000_0000_0000_0400;
/// LPCR bits the L1 controls: Linux's `kvmppc_gsid_mask` set (DPFD, ILE, AIL, LD, MER, GTSE);
/// QEMU's set is the same without GTSE, which it forces on. Everything else (HR, UPRT, HVICE,
/// HDICE, LPES, PECE, …) the hypervisor sets itself.
pub const LPCR_L1_SETTABLE: u64 = LPCR_DPFD | LPCR_ILE | LPCR_AIL | LPCR_LD | LPCR_MER | LPCR_GTSE;

/// `MSR[HV]`, hypervisor state (bit 3).
pub const MSR_HV: u64 = 1 << 60;
/// `MSR[TS]`, transaction state (bits 29:30); 0b11 is reserved.
pub const MSR_TS: u64 = 3 << 33;
/// `MSR[S]`, secure (bit 41).
pub const MSR_S: u64 = 1 << 22;
/// `MSR[ME]`, machine check enable (bit 51).
pub const MSR_ME: u64 = 1 << 12;
/// MSR bits the L1 controls: all but HV, S and ME (Linux's `kvmppc_gsid_mask`, QEMU's
/// `HVMASK_MSR`). The hypervisor runs the L2 with HV and S clear and ME set.
pub const MSR_L1_SETTABLE: u64 = !(MSR_HV | MSR_S | MSR_ME);

/// HDEXCR bits the L1 controls (QEMU's `HVMASK_HDEXCR`, the low word). POWER10 only: stored
/// and returned, no effect on POWER9.
pub const HDEXCR_L1_SETTABLE: u64 = 0x0000_0000_FFFF_FFFF;

/// The timebase offset must be a multiple of this: POWER9 applies it through TBU40 (the upper
/// 40 bits of the timebase), and Linux KVM rounds offsets up to it when they are set.
pub const TB_OFFSET_GRANULE: u64 = 1 << 24;

/// Logical PVR of ISA 3.00 (POWER9) compatibility mode, the only mode this L0 offers.
pub const LOGICAL_PVR_ISA_3_00: u32 = 0x0F00_0005;

/// Only radix trees of 52-bit effective addresses exist on POWER9 (what Linux sends; QEMU
/// accepts nothing else either).
pub const PARTITION_TABLE_EA_BITS: u64 = 52;
/// Smallest radix root directory: 2^(RPDS+3) bytes with RPDS ≥ 5.
pub const MIN_RADIX_ROOT_SIZE: u64 = 1 << 8;
/// Largest radix root directory the 5-bit RPDS field can describe: 2^(31+3) bytes.
pub const MAX_RADIX_ROOT_SIZE: u64 = 1 << 34;
/// Smallest process table, 2^(12+PRTS) bytes with PRTS = 0.
pub const MIN_PROCESS_TABLE_SIZE: u64 = 1 << 12;
/// Largest process table, PRTS = 24.
pub const MAX_PROCESS_TABLE_SIZE: u64 = 1 << 36;

/// Smallest RUN_VCPU output buffer, reported by GSID 0x0002.
///
/// One 4 KiB page: far more than any exit needs today (at most 172 bytes, see
/// [`super::exit`]), and more than every thread element of the table at once (about 2.5 KiB),
/// so the exit contents can grow without a Linux L1 ever needing a bigger buffer than it was
/// told. Linux rounds it up to a power of two anyway.
pub const RUN_OUTPUT_MIN_SIZE_BYTES: u64 = 4096;
/// Largest RUN_VCPU input or output buffer (QEMU's limit "per spec"; a Linux L1 uses 4 KiB).
pub const MAX_RUN_BUFFER_SIZE: u64 = 16 * 1024;
/// Largest GET/SET_STATE buffer this L0 copies in (QEMU's limit).
pub const MAX_STATE_BUFFER_SIZE: u64 = 1 << 20;

/// VPA deregistration value of GSID 0x0C02.
pub const VPA_NONE: u64 = u64::MAX;
/// The part of a VPA the hypervisor may write (PAPR's minimum VPA length).
pub const VPA_MIN_SIZE: u64 = 640;

/// The real memory of the calling L1 (its LPAR), in the L1's real addresses.
pub trait L1RealMemory {
    /// Whether `[address, address + length)` is entirely L1 memory.
    fn contains(&self, address: u64, length: u64) -> bool;
}

/// An LPAR whose real memory is one range, e.g. `0..memory_size`.
impl L1RealMemory for core::ops::Range<u64> {
    fn contains(&self, address: u64, length: u64) -> bool {
        address >= self.start && address.checked_add(length).is_some_and(|end| end <= self.end)
    }
}

/// Whether an element value an L1 writes is acceptable (`false`: `H_INVALID_ELEMENT_VALUE`).
///
/// `value` must already have the element's type (the caller decoded it by the table).
pub fn is_acceptable(id: u16, value: &ElementValue, memory: &dyn L1RealMemory) -> bool {
    match (id, value) {
        (gsid::LOGICAL_PVR, ElementValue::Word(pvr)) => *pvr == LOGICAL_PVR_ISA_3_00,
        (gsid::TB_OFFSET, ElementValue::Doubleword(offset)) => offset.is_multiple_of(TB_OFFSET_GRANULE),
        (gsid::PARTITION_TABLE, ElementValue::PartitionTable(table)) => partition_table_ok(table, memory),
        (gsid::PROCESS_TABLE, ElementValue::ProcessTable(table)) => process_table_ok(table),
        (gsid::RUN_INPUT_BUFFER, ElementValue::RunBuffer(buffer)) => {
            run_buffer_ok(buffer, HEADER_SIZE as u64, memory)
        }
        (gsid::RUN_OUTPUT_BUFFER, ElementValue::RunBuffer(buffer)) => {
            run_buffer_ok(buffer, RUN_OUTPUT_MIN_SIZE_BYTES, memory)
        }
        (gsid::VPA, ElementValue::Doubleword(address)) => {
            *address == VPA_NONE || (address.is_multiple_of(8) && memory.contains(*address, VPA_MIN_SIZE))
        }
        (gsid::MSR, ElementValue::Doubleword(msr)) => msr & MSR_TS != MSR_TS,
        (gsid::LPCR, ElementValue::Doubleword(lpcr)) => (lpcr & LPCR_AIL) >> LPCR_AIL_SHIFT != 1,
        _ => true,
    }
}

/// A partition-scoped table must be a 52-bit radix tree whose root is a naturally aligned
/// power of two inside the L1's memory; a root address of 0 removes the table.
fn partition_table_ok(table: &PartitionTableDescriptor, memory: &dyn L1RealMemory) -> bool {
    if table.root_address == 0 {
        return true;
    }
    table.effective_address_bits == PARTITION_TABLE_EA_BITS
        && table.root_size.is_power_of_two()
        && (MIN_RADIX_ROOT_SIZE..=MAX_RADIX_ROOT_SIZE).contains(&table.root_size)
        && table.root_address.is_multiple_of(table.root_size)
        && memory.contains(table.root_address, table.root_size)
}

/// A process table (an L2 real address, so not checked against L1 memory) must be a power of
/// two of 4 KiB to 64 GiB at a 4 KiB boundary; a base of 0 means "not registered yet", which
/// is what a Linux L1 sends before its L2 registers one.
fn process_table_ok(table: &ProcessTableDescriptor) -> bool {
    if table.base_address == 0 {
        return true;
    }
    table.size.is_power_of_two()
        && (MIN_PROCESS_TABLE_SIZE..=MAX_PROCESS_TABLE_SIZE).contains(&table.size)
        && table.base_address.is_multiple_of(MIN_PROCESS_TABLE_SIZE)
}

/// A run buffer must lie in the L1's memory and be between `min_size` and 16 KiB.
fn run_buffer_ok(buffer: &RunBufferDescriptor, min_size: u64, memory: &dyn L1RealMemory) -> bool {
    (min_size..=MAX_RUN_BUFFER_SIZE).contains(&buffer.size) && memory.contains(buffer.address, buffer.size)
}
