//! Guest state buffer (GSB) wire format: a big-endian `u32` element count, then elements packed
//! back to back, each `[GSID u16][value length u16][value]`, with no padding.
//!
//! Reading walks by the element count and ignores whatever follows the last counted element: a
//! Linux L1 passes the buffer's capacity (a power of two), not the length it filled. Nothing
//! here knows the GSID table; [`super::request`] applies it.

use alloc::vec::Vec;

use super::gsid::ValueType;
use super::state::{PartitionTableDescriptor, ProcessTableDescriptor, RunBufferDescriptor};

/// Size of the buffer header (the element count).
pub const HEADER_SIZE: usize = 4;
/// Size of an element header (GSID and value length).
pub const ELEMENT_HEADER_SIZE: usize = 4;

/// One element as laid out in a buffer, not yet checked against the GSID table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawElement<'a> {
    /// The GSID.
    pub id: u16,
    /// The value length the element declares.
    pub length: u16,
    /// Position in the buffer's element array, from 0.
    pub index: u32,
    /// Byte offset of the element header from the start of the buffer (the first element is
    /// at 4).
    pub offset: usize,
    /// The value, or `None` if the declared length runs past the end of the buffer.
    pub value: Option<&'a [u8]>,
}

impl RawElement<'_> {
    /// Byte offset of the value from the start of the buffer.
    pub fn value_offset(&self) -> usize {
        self.offset + ELEMENT_HEADER_SIZE
    }
}

/// The element count promises an element whose header starts beyond the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderBeyondBuffer {
    /// Index the missing element would have.
    pub index: u32,
    /// Offset where its header would start.
    pub offset: usize,
}

/// A guest state buffer of a given capacity (the slice's length).
#[derive(Clone, Copy, Debug)]
pub struct StateBuffer<'a> {
    bytes: &'a [u8],
    count: u32,
}

impl<'a> StateBuffer<'a> {
    /// Reads the header; `None` if the buffer is shorter than the 4-byte element count.
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        let count = read_u32(bytes, 0)?;
        Some(Self { bytes, count })
    }

    /// The element count from the header.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The elements, in order. The walk stops after an element whose value is truncated
    /// (`value: None`) or at the first header beyond the buffer.
    pub fn elements(&self) -> Elements<'a> {
        Elements { bytes: self.bytes, cursor: ElementCursor::new(self.count) }
    }
}

/// Walks the elements of a buffer without holding on to it, so the caller may write into the
/// buffer between steps (GET_STATE fills values in place).
#[derive(Clone, Debug)]
pub struct ElementCursor {
    remaining: u32,
    index: u32,
    offset: usize,
    done: bool,
}

impl ElementCursor {
    /// A walk over `count` elements starting right after the header.
    pub fn new(count: u32) -> Self {
        Self { remaining: count, index: 0, offset: HEADER_SIZE, done: false }
    }

    /// The next element of `bytes` (which must be the same buffer on every call).
    pub fn next_in<'a>(&mut self, bytes: &'a [u8]) -> Option<Result<RawElement<'a>, HeaderBeyondBuffer>> {
        if self.done || self.remaining == 0 {
            return None;
        }
        let (index, offset) = (self.index, self.offset);
        let (Some(id), Some(length)) = (read_u16(bytes, offset), read_u16(bytes, offset + 2)) else {
            self.done = true;
            return Some(Err(HeaderBeyondBuffer { index, offset }));
        };
        let value_start = offset + ELEMENT_HEADER_SIZE;
        let value_end = value_start + usize::from(length);
        let value = bytes.get(value_start..value_end);
        if value.is_none() {
            self.done = true;
        }
        self.remaining -= 1;
        self.index += 1;
        self.offset = value_end;
        Some(Ok(RawElement { id, length, index, offset, value }))
    }
}

/// Iterator over the elements of a [`StateBuffer`].
#[derive(Clone, Debug)]
pub struct Elements<'a> {
    bytes: &'a [u8],
    cursor: ElementCursor,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<RawElement<'a>, HeaderBeyondBuffer>;

    fn next(&mut self) -> Option<Self::Item> {
        self.cursor.next_in(self.bytes)
    }
}

/// A decoded element value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementValue {
    /// A 32-bit register.
    Word(u32),
    /// A 64-bit register or quantity.
    Doubleword(u64),
    /// A vector-scalar register, architectural bit 0 as the most significant bit.
    Quadword(u128),
    /// The L2's partition-scoped table.
    PartitionTable(PartitionTableDescriptor),
    /// The L2's process table.
    ProcessTable(ProcessTableDescriptor),
    /// A RUN_VCPU buffer.
    RunBuffer(RunBufferDescriptor),
}

impl ElementValue {
    /// Decodes `bytes` as `value_type`; `None` if the length is wrong or the type is opaque.
    pub fn decode(value_type: ValueType, bytes: &[u8]) -> Option<Self> {
        if value_type.size() != u16::try_from(bytes.len()).ok() {
            return None;
        }
        let dword = |index: usize| read_u64(bytes, index * 8);
        Some(match value_type {
            ValueType::Opaque => return None,
            ValueType::Word => ElementValue::Word(read_u32(bytes, 0)?),
            ValueType::Doubleword => ElementValue::Doubleword(dword(0)?),
            ValueType::Quadword => {
                ElementValue::Quadword(u128::from(dword(0)?) << 64 | u128::from(dword(1)?))
            }
            ValueType::PartitionTable => ElementValue::PartitionTable(PartitionTableDescriptor {
                root_address: dword(0)?,
                effective_address_bits: dword(1)?,
                root_size: dword(2)?,
            }),
            ValueType::ProcessTable => ElementValue::ProcessTable(ProcessTableDescriptor {
                base_address: dword(0)?,
                size: dword(1)?,
            }),
            ValueType::RunBuffer => {
                ElementValue::RunBuffer(RunBufferDescriptor { address: dword(0)?, size: dword(1)? })
            }
        })
    }

    /// The wire type of this value.
    pub fn value_type(&self) -> ValueType {
        match self {
            ElementValue::Word(_) => ValueType::Word,
            ElementValue::Doubleword(_) => ValueType::Doubleword,
            ElementValue::Quadword(_) => ValueType::Quadword,
            ElementValue::PartitionTable(_) => ValueType::PartitionTable,
            ElementValue::ProcessTable(_) => ValueType::ProcessTable,
            ElementValue::RunBuffer(_) => ValueType::RunBuffer,
        }
    }

    /// The big-endian encoding: a 24-byte array of which the first `len` bytes are used.
    pub fn encode(&self) -> ([u8; 24], usize) {
        let mut out = [0u8; 24];
        let (dwords, used): ([u64; 3], usize) = match *self {
            ElementValue::Word(word) => {
                out[..4].copy_from_slice(&word.to_be_bytes());
                return (out, 4);
            }
            ElementValue::Doubleword(dword) => ([dword, 0, 0], 1),
            ElementValue::Quadword(quad) => ([(quad >> 64) as u64, quad as u64, 0], 2),
            ElementValue::PartitionTable(table) => {
                ([table.root_address, table.effective_address_bits, table.root_size], 3)
            }
            ElementValue::ProcessTable(table) => ([table.base_address, table.size, 0], 2),
            ElementValue::RunBuffer(buffer) => ([buffer.address, buffer.size, 0], 2),
        };
        for (chunk, dword) in out.chunks_exact_mut(8).zip(&dwords[..used]) {
            chunk.copy_from_slice(&dword.to_be_bytes());
        }
        (out, used * 8)
    }
}

/// Not enough room in the buffer for the next element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfSpace;

/// Writes elements into a caller's buffer (e.g. the RUN_VCPU output buffer) and keeps the
/// header's count up to date after every element.
#[derive(Debug)]
pub struct BufferWriter<'a> {
    bytes: &'a mut [u8],
    used: usize,
    count: u32,
}

impl<'a> BufferWriter<'a> {
    /// Starts an empty buffer (count 0); `None` if it cannot hold the header.
    pub fn new(bytes: &'a mut [u8]) -> Option<Self> {
        bytes.get_mut(..HEADER_SIZE)?.copy_from_slice(&0u32.to_be_bytes());
        Some(Self { bytes, used: HEADER_SIZE, count: 0 })
    }

    /// Appends one element with an encoded value.
    pub fn push(&mut self, id: u16, value: &ElementValue) -> Result<(), OutOfSpace> {
        let (encoded, len) = value.encode();
        self.push_raw(id, encoded.get(..len).ok_or(OutOfSpace)?)
    }

    /// Appends one element with the given value bytes (any length up to `u16::MAX`).
    pub fn push_raw(&mut self, id: u16, value: &[u8]) -> Result<(), OutOfSpace> {
        let length = u16::try_from(value.len()).map_err(|_| OutOfSpace)?;
        let end = self.used + ELEMENT_HEADER_SIZE + value.len();
        let slot = self.bytes.get_mut(self.used..end).ok_or(OutOfSpace)?;
        slot[..2].copy_from_slice(&id.to_be_bytes());
        slot[2..4].copy_from_slice(&length.to_be_bytes());
        slot[4..].copy_from_slice(value);
        self.used = end;
        self.count += 1;
        self.bytes[..HEADER_SIZE].copy_from_slice(&self.count.to_be_bytes());
        Ok(())
    }

    /// Bytes written so far, header included.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Elements written so far.
    pub fn count(&self) -> u32 {
        self.count
    }
}

/// Builds a buffer in a `Vec`, as an L1 would: for tests, fuzzing and tools. It can also
/// build malformed buffers (raw lengths, a wrong count, a chosen capacity).
#[derive(Clone, Debug, Default)]
pub struct BufferBuilder {
    elements: Vec<u8>,
    count: u32,
    count_override: Option<u32>,
    capacity: Option<usize>,
}

impl BufferBuilder {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an element with an encoded value.
    pub fn value(self, id: u16, value: ElementValue) -> Self {
        let (encoded, len) = value.encode();
        self.raw(id, &encoded[..len])
    }

    /// Adds an element with raw value bytes (its length field is `value.len()`, truncated
    /// to 16 bits).
    pub fn raw(mut self, id: u16, value: &[u8]) -> Self {
        self.elements.extend_from_slice(&id.to_be_bytes());
        self.elements.extend_from_slice(&(value.len() as u16).to_be_bytes());
        self.elements.extend_from_slice(value);
        self.count += 1;
        self
    }

    /// Adds an element header with `length` zero bytes of value, as an L1 does for GET_STATE.
    pub fn request(self, id: u16, length: u16) -> Self {
        self.raw(id, &alloc::vec![0u8; usize::from(length)])
    }

    /// Writes `count` into the header instead of the number of elements added.
    pub fn count(mut self, count: u32) -> Self {
        self.count_override = Some(count);
        self
    }

    /// Pads (with zeros) or cuts the finished buffer to `capacity` bytes.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// The buffer bytes.
    pub fn build(self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_SIZE + self.elements.len());
        bytes.extend_from_slice(&self.count_override.unwrap_or(self.count).to_be_bytes());
        bytes.extend_from_slice(&self.elements);
        if let Some(capacity) = self.capacity {
            bytes.resize(capacity, 0);
        }
        bytes
    }
}

/// Big-endian `u16` at `offset`, if the bytes are there.
pub fn read_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    let raw = bytes.get(offset..offset.checked_add(2)?)?;
    Some(u16::from_be_bytes([raw[0], raw[1]]))
}

/// Big-endian `u32` at `offset`, if the bytes are there.
pub fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(offset..offset.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(raw))
}

/// Big-endian `u64` at `offset`, if the bytes are there.
pub fn read_u64(bytes: &[u8], offset: usize) -> Option<u64> {
    let raw: [u8; 8] = bytes.get(offset..offset.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_be_bytes(raw))
}
