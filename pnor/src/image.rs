//! Whole PNOR images: create one from a [`Layout`], and read (stripping ECC), replace (adding
//! ECC) and verify partitions of one. The firmware uses [`decode_partition`] on bytes it read
//! from flash; the host tool uses the rest on image files.

use crate::bootkernel::{BootKernel, BootKernelHeader};
use crate::ecc::{self, Correction, WordCheck};
use crate::error::Error;
use crate::ffs::{Flag, PartitionName, PartitionType, UserFlags, TABLE_PARTITION_NAME};
use crate::table::{table_blocks_for, Partition, Table};
use crate::BOOTKERNEL;
use alloc::string::String;
use alloc::vec::Vec;

/// What an image should hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Bytes of flash (a multiple of the block size, below 4 GiB).
    pub flash_size: u64,
    /// Erase block size (a power of two); bases and sizes are whole blocks.
    pub block_size: u32,
    /// The partitions, in table order (the `part` entry is added in front).
    pub partitions: Vec<PartitionSpec>,
}

/// One partition of a [`Layout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionSpec {
    /// Name, 1 to 15 printable ASCII characters.
    pub name: String,
    /// First byte; `None` places it right after the previous partition (or the table).
    pub base: Option<u64>,
    /// Bytes of flash it covers, ECC bytes included.
    pub size: u64,
    /// User flags (ECC, read-only, preserved, ...).
    pub flags: UserFlags,
    /// Initial content, without ECC bytes; `None` leaves it erased.
    pub content: Option<Vec<u8>>,
}

/// Whether [`replace`] may write a partition flagged read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePolicy {
    /// Refuse read-only partitions (what the running system must do).
    RespectReadOnly,
    /// Write them anyway (building an image).
    IgnoreReadOnly,
}

/// A partition's content with the ECC bytes removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extracted {
    /// The content (`actual` bytes).
    pub data: Vec<u8>,
    /// Single-bit errors corrected on the way, offsets counted from the start of the flash.
    pub corrections: Vec<Correction>,
}

/// Creates a flash image from a layout: a table as `ffspart` writes it, every partition's
/// content (with ECC added where flagged), the rest erased (0xFF; empty ECC partitions hold
/// erased words with valid ECC, `FF`×8 then `00`, so they read back cleanly).
pub fn create_image(layout: &Layout) -> Result<Vec<u8>, Error> {
    let block_size = layout.block_size;
    if block_size == 0 || !block_size.is_power_of_two() {
        return Err(Error::BadBlockSize { block_size });
    }
    let flash_len = layout.flash_size;
    let bad_flash = Error::BadFlashSize { flash_len, block_size };
    if flash_len == 0 || !flash_len.is_multiple_of(u64::from(block_size)) || flash_len > u64::from(u32::MAX) {
        return Err(bad_flash);
    }
    let block_count = u32::try_from(flash_len / u64::from(block_size)).map_err(|_| bad_flash.clone())?;
    let image_len = usize::try_from(flash_len).map_err(|_| bad_flash)?;

    // Where partitions without a base go: after the table, then after each other.
    let entry_count = u32::try_from(layout.partitions.len().saturating_add(1)).unwrap_or(u32::MAX);
    let table_len = table_blocks_for(entry_count, block_size) * u64::from(block_size);
    let mut next_base = table_len;
    let mut partitions = Vec::with_capacity(layout.partitions.len());
    for spec in &layout.partitions {
        let name = PartitionName::new(&spec.name)
            .map_err(|problem| Error::InvalidName { name: spec.name.clone(), problem })?;
        if name.as_str().eq_ignore_ascii_case(TABLE_PARTITION_NAME) {
            return Err(Error::ReservedName { name: spec.name.clone() });
        }
        let base = spec.base.unwrap_or(next_base);
        next_base = base.saturating_add(spec.size);
        let mut partition = Partition::data(name, base, spec.size, spec.flags);
        let content_len = spec.content.as_ref().map_or(0, Vec::len);
        check_fits(&partition, content_len)?;
        partition.actual = u32::try_from(content_len).unwrap_or(u32::MAX);
        partitions.push(partition);
    }
    let table = Table::build(block_size, block_count, &partitions)?;

    let mut image = alloc::vec![0xFFu8; image_len];
    let table_bytes = table.to_bytes();
    if let Some(out) = image.get_mut(..table_bytes.len()) {
        out.copy_from_slice(&table_bytes);
    }
    let data_partitions = table.partitions().iter().filter(|p| p.kind != PartitionType::Table);
    for (partition, spec) in data_partitions.zip(&layout.partitions) {
        write_content(&mut image, partition, spec.content.as_deref().unwrap_or_default())?;
    }
    Ok(image)
}

/// Refuses content longer than the partition holds.
fn check_fits(partition: &Partition, len: usize) -> Result<(), Error> {
    let len = len as u64;
    if len > partition.capacity() {
        return Err(Error::ContentTooLarge {
            partition: partition.name,
            len,
            capacity: partition.capacity(),
        });
    }
    Ok(())
}

/// Writes `content` into `partition` of `image`, adding ECC if it is flagged, and erases the
/// rest of the partition (erased ECC words where there is ECC).
fn write_content(image: &mut [u8], partition: &Partition, content: &[u8]) -> Result<(), Error> {
    check_fits(partition, content.len())?;
    let region = partition_bytes_mut(image, partition)?;
    region.fill(0xFF);
    if partition.has_ecc() {
        for word in region.chunks_exact_mut(ecc::RAW_BYTES_PER_WORD) {
            if let Some(ecc_byte) = word.last_mut() {
                *ecc_byte = ecc::ERASED_WORD_ECC;
            }
        }
        let encoded = ecc::encode(content);
        if let Some(out) = region.get_mut(..encoded.len()) {
            out.copy_from_slice(&encoded);
        }
    } else if let Some(out) = region.get_mut(..content.len()) {
        out.copy_from_slice(content);
    }
    Ok(())
}

fn partition_range(image_len: usize, partition: &Partition) -> Result<core::ops::Range<usize>, Error> {
    let out_of_range =
        Error::PartitionOutOfRange { partition: partition.span(), flash_len: image_len as u64 };
    let start = usize::try_from(partition.base).map_err(|_| out_of_range.clone())?;
    let end = usize::try_from(partition.end()).map_err(|_| out_of_range.clone())?;
    if end > image_len {
        return Err(out_of_range);
    }
    Ok(start..end)
}

fn partition_bytes<'a>(image: &'a [u8], partition: &Partition) -> Result<&'a [u8], Error> {
    let range = partition_range(image.len(), partition)?;
    Ok(image.get(range).unwrap_or_default())
}

fn partition_bytes_mut<'a>(image: &'a mut [u8], partition: &Partition) -> Result<&'a mut [u8], Error> {
    let range = partition_range(image.len(), partition)?;
    Ok(image.get_mut(range).unwrap_or_default())
}

/// Decodes a partition's content from `raw`, its bytes as read from flash starting at its base
/// (at least the words holding `actual` bytes): ECC is checked, corrected and removed if the
/// partition has it. Correction offsets count from the start of the flash.
pub fn decode_partition(partition: &Partition, raw: &[u8]) -> Result<Extracted, Error> {
    let len = usize::try_from(partition.content_len()).unwrap_or(usize::MAX);
    let truncated = |needed: usize| Error::Truncated {
        what: "partition content",
        needed: needed as u64,
        available: raw.len() as u64,
    };
    if !partition.has_ecc() {
        let data = raw.get(..len).ok_or(truncated(len))?;
        return Ok(Extracted { data: data.to_vec(), corrections: Vec::new() });
    }
    let raw_len = ecc::encoded_len(len);
    let words = raw.get(..raw_len).ok_or(truncated(raw_len))?;
    let base = usize::try_from(partition.base).unwrap_or(usize::MAX);
    let decoded = ecc::decode(words).map_err(|error| match error {
        ecc::EccError::Uncorrectable { offset } => Error::UncorrectableEcc {
            partition: partition.name,
            flash_offset: partition.base + offset as u64,
            partition_offset: offset as u64,
        },
        ecc::EccError::PartialWord { .. } | ecc::EccError::OutputSize { .. } => truncated(raw_len),
    })?;
    let corrections = decoded
        .corrections
        .into_iter()
        .map(|correction| Correction { offset: base.saturating_add(correction.offset), ..correction })
        .collect();
    let mut data = decoded.data;
    data.truncate(len);
    Ok(Extracted { data, corrections })
}

/// The partition named `name` in `image` and its bytes as they are on flash (ECC included).
pub fn raw_partition<'a>(image: &'a [u8], name: &str) -> Result<(Partition, &'a [u8]), Error> {
    let table = Table::from_image(image)?;
    let (_, partition) = table.find(name).ok_or_else(|| Error::PartitionNotFound { name: name.into() })?;
    Ok((*partition, partition_bytes(image, partition)?))
}

/// The content of the partition named `name` in `image`, without ECC bytes.
pub fn extract(image: &[u8], name: &str) -> Result<Extracted, Error> {
    let (partition, raw) = raw_partition(image, name)?;
    decode_partition(&partition, raw)
}

/// Replaces the content of the partition named `name` in `image` (adding ECC if flagged,
/// erasing the rest) and sets its `actual` size; returns the updated table.
pub fn replace(image: &mut [u8], name: &str, content: &[u8], policy: WritePolicy) -> Result<Table, Error> {
    let mut table = Table::from_image(image)?;
    let (index, partition) =
        table.find(name).ok_or_else(|| Error::PartitionNotFound { name: name.into() })?;
    let partition = *partition;
    if partition.kind == PartitionType::Table {
        return Err(Error::TableNotWritable { partition: partition.name });
    }
    if partition.user.contains(Flag::ReadOnly) && policy == WritePolicy::RespectReadOnly {
        return Err(Error::ReadOnly { partition: partition.name });
    }
    write_content(image, &partition, content)?;
    let actual = u32::try_from(content.len()).unwrap_or(u32::MAX);
    table.set_actual(image, index, actual)?;
    Ok(table)
}

/// What verifying an ECC partition found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EccReport {
    /// Whole 9-byte words checked.
    pub words: u64,
    /// Words past the content (`actual`) that are entirely 0xFF: erased flash never written
    /// with ECC (as `ffspart` and `pflash --erase` leave it). Not errors; inside the content
    /// they are uncorrectable words.
    pub erased_words: u64,
    /// Single-bit errors (correctable), offsets from the start of the flash.
    pub corrections: Vec<Correction>,
    /// Flash offsets of words with uncorrectable errors.
    pub uncorrectable: Vec<u64>,
}

/// What verifying one partition found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionReport {
    /// The partition.
    pub partition: Partition,
    /// For ECC partitions, the state of every word.
    pub ecc: Option<EccReport>,
    /// For a non-empty BOOTKERNEL, its container header or what is wrong with it.
    pub bootkernel: Option<Result<BootKernelHeader, Error>>,
}

impl PartitionReport {
    /// Whether nothing is wrong (corrected single-bit errors count as wrong: the flash
    /// should be rewritten).
    pub fn is_clean(&self) -> bool {
        let ecc_clean =
            self.ecc.as_ref().is_none_or(|ecc| ecc.corrections.is_empty() && ecc.uncorrectable.is_empty());
        ecc_clean && !matches!(self.bootkernel, Some(Err(_)))
    }
}

/// Checks an image: the table (any error is returned), every word of every ECC partition, and
/// the BOOTKERNEL container if there is one.
pub fn verify(image: &[u8]) -> Result<(Table, Vec<PartitionReport>), Error> {
    let table = Table::from_image(image)?;
    let mut reports = Vec::with_capacity(table.partitions().len());
    for partition in table.partitions() {
        let raw = partition_bytes(image, partition)?;
        let ecc = partition.has_ecc().then(|| check_ecc(partition, raw));
        let bootkernel = (partition.name.as_str() == BOOTKERNEL && partition.actual > 0).then(|| {
            decode_partition(partition, raw)
                .and_then(|content| BootKernel::parse(&content.data).map(|b| b.header))
        });
        reports.push(PartitionReport { partition: *partition, ecc, bootkernel });
    }
    Ok((table, reports))
}

fn check_ecc(partition: &Partition, raw: &[u8]) -> EccReport {
    let mut report = EccReport::default();
    let base = usize::try_from(partition.base).unwrap_or(usize::MAX);
    let content_end = ecc::encoded_len(usize::try_from(partition.content_len()).unwrap_or(usize::MAX));
    ecc::scan(raw, |offset, _, check| {
        report.words += 1;
        let word = raw.get(offset..offset + ecc::RAW_BYTES_PER_WORD).unwrap_or_default();
        let erased_spare = offset >= content_end && word.iter().all(|byte| *byte == 0xFF);
        match check {
            WordCheck::Clean => {}
            WordCheck::Uncorrectable if erased_spare => report.erased_words += 1,
            WordCheck::Uncorrectable => report.uncorrectable.push(partition.base + offset as u64),
            WordCheck::Corrected(correction) => report
                .corrections
                .push(Correction { offset: base.saturating_add(correction.offset), ..correction }),
        }
    });
    report
}
