//! Wire format: element walk by count, trailing bytes ignored, big-endian layouts, writer and
//! builder.

use alloc::vec;

use super::sample_value;
use crate::nested::gsid::{self, all_ids, element_info};
use crate::nested::state::{PartitionTableDescriptor, RunBufferDescriptor};
use crate::nested::wire::{
    BufferBuilder, BufferWriter, ElementValue, HeaderBeyondBuffer, OutOfSpace, StateBuffer,
};

#[test]
fn header_needs_four_bytes() {
    assert!(StateBuffer::new(&[]).is_none());
    assert!(StateBuffer::new(&[0, 0, 0]).is_none());
    let empty = StateBuffer::new(&[0, 0, 0, 0]).expect("header");
    assert_eq!(empty.count(), 0);
    assert_eq!(empty.elements().count(), 0);
}

#[test]
fn walks_by_count_and_ignores_trailing_bytes() {
    // Two elements, then garbage that looks like a third element: the count says two.
    let mut bytes = BufferBuilder::new()
        .value(gsid::NIA, ElementValue::Doubleword(0x1234))
        .value(gsid::CR, ElementValue::Word(0x8000_0000))
        .build();
    bytes.extend_from_slice(&[0x10, 0x22, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0xFF]);
    let buffer = StateBuffer::new(&bytes).expect("header");
    let elements: vec::Vec<_> = buffer.elements().map(|element| element.expect("in the buffer")).collect();
    assert_eq!(elements.len(), 2);
    assert_eq!(
        (elements[0].id, elements[0].length, elements[0].index, elements[0].offset),
        (gsid::NIA, 8, 0, 4)
    );
    assert_eq!(elements[0].value, Some(&0x1234u64.to_be_bytes()[..]));
    assert_eq!(
        (elements[1].id, elements[1].length, elements[1].index, elements[1].offset),
        (gsid::CR, 4, 1, 16)
    );
    assert_eq!(elements[1].value_offset(), 20);
}

#[test]
fn count_beyond_the_buffer_and_truncated_values() {
    let bytes = BufferBuilder::new().value(gsid::NIA, ElementValue::Doubleword(1)).count(3).build();
    let mut elements = StateBuffer::new(&bytes).expect("header").elements();
    assert!(elements.next().is_some_and(|element| element.is_ok()));
    assert_eq!(elements.next(), Some(Err(HeaderBeyondBuffer { index: 1, offset: 16 })));
    assert_eq!(elements.next(), None);

    let bytes = BufferBuilder::new().value(gsid::NIA, ElementValue::Doubleword(1)).capacity(10).build();
    let mut elements = StateBuffer::new(&bytes).expect("header").elements();
    let truncated = elements.next().and_then(Result::ok).expect("header of the element is there");
    assert_eq!(truncated.value, None);
    assert_eq!(elements.next(), None);
}

#[test]
fn value_layouts_are_big_endian() {
    let quad = ElementValue::Quadword(0x0011_2233_4455_6677_8899_AABB_CCDD_EEFF);
    let (bytes, len) = quad.encode();
    assert_eq!(
        &bytes[..len],
        &[0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF]
    );
    let (bytes, len) = ElementValue::Word(0x0102_0304).encode();
    assert_eq!(&bytes[..len], &[1, 2, 3, 4]);
    let table = ElementValue::PartitionTable(PartitionTableDescriptor {
        root_address: 0x1000,
        effective_address_bits: 52,
        root_size: 0x2000,
    });
    let (bytes, len) = table.encode();
    assert_eq!(len, 24);
    assert_eq!(&bytes[..8], &0x1000u64.to_be_bytes());
    assert_eq!(&bytes[8..16], &52u64.to_be_bytes());
    assert_eq!(&bytes[16..24], &0x2000u64.to_be_bytes());
}

#[test]
fn every_gsid_value_encodes_and_decodes() {
    for id in all_ids() {
        let info = element_info(id).expect("defined");
        let Some(value) = sample_value(&info) else { continue };
        let (bytes, len) = value.encode();
        assert_eq!(info.value_type.size(), Some(len as u16), "{info}");
        assert_eq!(ElementValue::decode(info.value_type, &bytes[..len]), Some(value), "{info}");
        assert_eq!(ElementValue::decode(info.value_type, &bytes[..len - 1]), None, "{info}");
        assert_eq!(value.value_type(), info.value_type);
    }
    assert_eq!(ElementValue::decode(gsid::ValueType::Opaque, &[]), None);
}

#[test]
fn writer_keeps_the_count_and_stops_at_capacity() {
    let mut bytes = [0xEEu8; 4 + 12 + 8];
    let mut writer = BufferWriter::new(&mut bytes).expect("room for the header");
    writer.push(gsid::NIA, &ElementValue::Doubleword(7)).expect("fits");
    writer.push(gsid::CR, &ElementValue::Word(9)).expect("fits");
    assert_eq!(writer.push(gsid::CR, &ElementValue::Word(9)), Err(OutOfSpace));
    assert_eq!((writer.count(), writer.used()), (2, 24));
    let expected = BufferBuilder::new()
        .value(gsid::NIA, ElementValue::Doubleword(7))
        .value(gsid::CR, ElementValue::Word(9))
        .build();
    assert_eq!(&bytes[..], &expected[..]);
    assert!(BufferWriter::new(&mut [0u8; 3]).is_none());
}

#[test]
fn builder_makes_requests_and_malformed_buffers() {
    let request = BufferBuilder::new().request(gsid::HEIR, 8).capacity(64).build();
    assert_eq!(request.len(), 64);
    assert_eq!(&request[..16], &[0, 0, 0, 1, 0xF0, 0x02, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
    let raw = BufferBuilder::new().raw(gsid::NIA, &[1, 2, 3]).count(9).build();
    assert_eq!(raw, vec![0, 0, 0, 9, 0x10, 0x21, 0, 3, 1, 2, 3]);
    let run_buffer = ElementValue::RunBuffer(RunBufferDescriptor { address: 1, size: 2 });
    assert_eq!(run_buffer.encode().1, 16);
}
