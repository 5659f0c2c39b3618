//! Host tests of the nested API v2 core, with shared fixtures: an L1 memory range and a valid,
//! distinctive value for every GSID.

mod codec;
mod dispatch;
mod exit_output;
mod gsid_table;
mod hcall_args;
mod malformed;
mod round_trip;
mod shadow;

use super::gsid::{self, ElementInfo, ValueType};
use super::state::{PartitionTableDescriptor, ProcessTableDescriptor, RunBufferDescriptor};
use super::wire::ElementValue;

/// The L1's memory in these tests: 1 GiB from real address 0.
const L1_MEMORY: core::ops::Range<u64> = 0..(1 << 30);

/// A value the L1 may write for `info`, different for every id.
fn sample_value(info: &ElementInfo) -> Option<ElementValue> {
    let id = u64::from(info.id);
    Some(match info.id {
        gsid::LOGICAL_PVR => ElementValue::Word(0x0F00_0005),
        gsid::TB_OFFSET => ElementValue::Doubleword(0xFFFF_FFFF_FD00_0000),
        gsid::PARTITION_TABLE => ElementValue::PartitionTable(PartitionTableDescriptor {
            root_address: 0x0100_0000,
            effective_address_bits: 52,
            root_size: 0x1_0000,
        }),
        gsid::PROCESS_TABLE => {
            ElementValue::ProcessTable(ProcessTableDescriptor { base_address: 0x0200_0000, size: 1 << 24 })
        }
        gsid::RUN_INPUT_BUFFER => {
            ElementValue::RunBuffer(RunBufferDescriptor { address: 0x0300_0000, size: 4096 })
        }
        gsid::RUN_OUTPUT_BUFFER => {
            ElementValue::RunBuffer(RunBufferDescriptor { address: 0x0300_1000, size: 4096 })
        }
        gsid::VPA => ElementValue::Doubleword(0x0400_0400),
        gsid::MSR => ElementValue::Doubleword(0x8000_0000_0280_F033),
        gsid::LPCR => ElementValue::Doubleword(0x0040_0000_03F2_1C00),
        _ => match info.value_type {
            ValueType::Opaque => return None,
            ValueType::Word => ElementValue::Word(0xA500_0000 | id as u32),
            ValueType::Doubleword => ElementValue::Doubleword(0x5A5A_0000_0000_0000 | id << 8 | 0x11),
            ValueType::Quadword => ElementValue::Quadword(u128::from(id) << 100 | u128::from(id) << 8 | 0x77),
            _ => return None,
        },
    })
}
