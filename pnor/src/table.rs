//! The partition table (TOC, table of contents) at the start of a PNOR flash: reading it from
//! untrusted bytes with every field checked, and building one the way libflash's `ffspart`
//! does (the `part` entry first, describing the table's own blocks; ids counting from 1).

use crate::ecc;
use crate::error::{Error, Span};
use crate::ffs::{
    entry_word, header_word, name_field_from_words, name_field_to_words, EntryFlags, Flag, PartitionName,
    PartitionType, RawName, UserFlags, ENTRY_LEN, ENTRY_WORDS, FFS_MAGIC, FFS_VERSION, HEADER_LEN,
    HEADER_WORDS, PID_TOPLEVEL, TABLE_PARTITION_NAME,
};
use crate::wire::{read_be_words, write_be_words, xor_words};
use alloc::vec::Vec;

/// The fields of a checked table header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableHeader {
    /// Bytes per block; partition bases and sizes are in blocks.
    pub block_size: u32,
    /// Blocks of flash the table describes.
    pub block_count: u32,
    /// Blocks taken by the table.
    pub table_blocks: u32,
    /// Number of entries.
    pub entry_count: u32,
}

impl TableHeader {
    /// Reads and checks the header at the start of `bytes` (at least [`HEADER_LEN`] bytes):
    /// magic, version, checksum, entry size, block size, and that the entries fit the table.
    /// The firmware reads this first to learn how many bytes ([`TableHeader::table_len`]) to
    /// read for [`Table::parse`].
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let words: [u32; HEADER_WORDS] = read_be_words(bytes).ok_or(Error::Truncated {
            what: "partition table header",
            needed: HEADER_LEN as u64,
            available: bytes.len() as u64,
        })?;
        let word = |index: usize| words.get(index).copied().unwrap_or_default();
        if word(header_word::MAGIC) != FFS_MAGIC {
            return Err(Error::BadMagic { found: word(header_word::MAGIC) });
        }
        if word(header_word::VERSION) != FFS_VERSION {
            return Err(Error::UnsupportedVersion { found: word(header_word::VERSION) });
        }
        let residue = xor_words(&words);
        if residue != 0 {
            return Err(Error::HeaderChecksum { residue });
        }
        if word(header_word::ENTRY_SIZE) != ENTRY_LEN as u32 {
            return Err(Error::EntrySizeMismatch { found: word(header_word::ENTRY_SIZE) });
        }
        let header = TableHeader {
            block_size: word(header_word::BLOCK_SIZE),
            block_count: word(header_word::BLOCK_COUNT),
            table_blocks: word(header_word::TABLE_BLOCKS),
            entry_count: word(header_word::ENTRY_COUNT),
        };
        if header.block_size == 0 {
            return Err(Error::BadBlockSize { block_size: 0 });
        }
        if header.table_blocks == 0 {
            return Err(Error::EmptyTableSize);
        }
        if header.entry_count == 0 {
            return Err(Error::NoEntries);
        }
        if entries_end(header.entry_count) > header.table_len() {
            return Err(Error::TooManyEntries { count: header.entry_count, table_len: header.table_len() });
        }
        Ok(header)
    }

    /// Bytes taken by the table (its blocks).
    pub fn table_len(&self) -> u64 {
        u64::from(self.table_blocks) * u64::from(self.block_size)
    }

    /// Bytes of flash the table describes.
    pub fn flash_len(&self) -> u64 {
        u64::from(self.block_count) * u64::from(self.block_size)
    }

    fn to_words(self) -> [u32; HEADER_WORDS] {
        let mut words = [0u32; HEADER_WORDS];
        words[header_word::MAGIC] = FFS_MAGIC;
        words[header_word::VERSION] = FFS_VERSION;
        words[header_word::TABLE_BLOCKS] = self.table_blocks;
        words[header_word::ENTRY_SIZE] = ENTRY_LEN as u32;
        words[header_word::ENTRY_COUNT] = self.entry_count;
        words[header_word::BLOCK_SIZE] = self.block_size;
        words[header_word::BLOCK_COUNT] = self.block_count;
        words[header_word::CHECKSUM] = xor_words(&words);
        words
    }
}

/// Offset of the end of the header plus `count` entries.
fn entries_end(count: u32) -> u64 {
    HEADER_LEN as u64 + u64::from(count) * ENTRY_LEN as u64
}

/// Blocks `ffspart` gives a table of `entry_count` entries: header and entries rounded down
/// to whole blocks, plus one block.
pub fn table_blocks_for(entry_count: u32, block_size: u32) -> u64 {
    entries_end(entry_count) / u64::from(block_size.max(1)) + 1
}

/// Offset of entry `index` from the start of the table.
pub fn entry_offset(index: usize) -> usize {
    index.saturating_mul(ENTRY_LEN).saturating_add(HEADER_LEN)
}

/// One partition (entry) of a table, sizes in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Its name.
    pub name: PartitionName,
    /// First byte on flash.
    pub base: u64,
    /// Bytes of flash it covers, ECC bytes included.
    pub size: u64,
    /// Bytes of content in use: for oxiboot images the content length without ECC bytes;
    /// `ffspart` leaves it equal to the size.
    pub actual: u32,
    /// Entry id (position in the table, from 1, as libflash writes it).
    pub id: u32,
    /// What it holds.
    pub kind: PartitionType,
    /// The entry's `flags` word.
    pub entry_flags: EntryFlags,
    /// The user flags (ECC, read-only, preserved, ...).
    pub user: UserFlags,
}

impl Partition {
    /// A data partition with no content yet (`actual` 0).
    pub fn data(name: PartitionName, base: u64, size: u64, user: UserFlags) -> Self {
        Partition {
            name,
            base,
            size,
            actual: 0,
            id: 0,
            kind: PartitionType::Data,
            entry_flags: EntryFlags::default(),
            user,
        }
    }

    /// One past its last byte.
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// Whether it is ECC-protected.
    pub fn has_ecc(&self) -> bool {
        self.user.contains(Flag::Ecc)
    }

    /// Bytes of content it can hold: its size, or with ECC 8 bytes per whole 9-byte word.
    pub fn capacity(&self) -> u64 {
        if self.has_ecc() {
            self.size / ecc::RAW_BYTES_PER_WORD as u64 * ecc::DATA_BYTES_PER_WORD as u64
        } else {
            self.size
        }
    }

    /// Bytes of content in use: `actual`, limited to the capacity (images made by `ffspart`
    /// give ECC partitions an `actual` equal to their raw size).
    pub fn content_len(&self) -> u64 {
        u64::from(self.actual).min(self.capacity())
    }

    /// The partition as a [`Span`], for messages.
    pub fn span(&self) -> Span {
        Span { name: self.name, base: self.base, size: self.size }
    }

    fn to_words(self, block_size: u32) -> [u32; ENTRY_WORDS] {
        let mut words = [0u32; ENTRY_WORDS];
        let block_size = u64::from(block_size.max(1));
        for (word, name_word) in words.iter_mut().zip(name_field_to_words(&self.name.to_field())) {
            *word = name_word;
        }
        words[entry_word::BASE] = u32::try_from(self.base / block_size).unwrap_or(u32::MAX);
        words[entry_word::SIZE] = u32::try_from(self.size / block_size).unwrap_or(u32::MAX);
        words[entry_word::PARENT_ID] = PID_TOPLEVEL;
        words[entry_word::ID] = self.id;
        words[entry_word::TYPE] = self.kind.to_raw();
        words[entry_word::FLAGS] = self.entry_flags.0;
        words[entry_word::ACTUAL] = self.actual;
        (words[entry_word::USER_INTEGRITY], words[entry_word::USER_MISC]) = self.user.to_words();
        words[entry_word::CHECKSUM] = xor_words(&words);
        words
    }
}

/// A checked partition table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    header: TableHeader,
    partitions: Vec<Partition>,
}

impl Table {
    /// Reads the table at the start of `toc` (at least the header's table length, e.g. the
    /// whole image) for a flash of `flash_len` bytes. Everything is checked: the header,
    /// each entry's checksum, name, type and parent, that partitions lie inside the flash the
    /// header describes, outside the table and apart from each other, and that names differ.
    pub fn parse(toc: &[u8], flash_len: u64) -> Result<Table, Error> {
        let header = TableHeader::parse(toc)?;
        let table_len = header.table_len();
        if (toc.len() as u64) < table_len {
            return Err(Error::Truncated {
                what: "partition table",
                needed: table_len,
                available: toc.len() as u64,
            });
        }
        if header.flash_len() > flash_len {
            return Err(Error::FlashTooSmall { described: header.flash_len(), available: flash_len });
        }
        if table_len > header.flash_len() {
            return Err(Error::TableBeyondFlash { table_len, flash_len: header.flash_len() });
        }
        let entries = toc.get(HEADER_LEN..).unwrap_or_default();
        let partitions = entries
            .chunks_exact(ENTRY_LEN)
            .take(header.entry_count as usize)
            .enumerate()
            .map(|(index, bytes)| parse_entry(index as u32, bytes, header.block_size))
            .collect::<Result<Vec<_>, _>>()?;
        if partitions.len() != header.entry_count as usize {
            // Not reachable after the checks above; kept so a short slice can never pass.
            return Err(Error::Truncated {
                what: "partition entries",
                needed: entries_end(header.entry_count),
                available: toc.len() as u64,
            });
        }
        check_placement(&partitions, table_len, header.flash_len())?;
        Ok(Table { header, partitions })
    }

    /// Reads the table of a whole flash image.
    pub fn from_image(image: &[u8]) -> Result<Table, Error> {
        Table::parse(image, image.len() as u64)
    }

    /// Builds a table as `ffspart` does: a `part` entry for the table itself (at 0,
    /// `header + entries` bytes rounded down to blocks plus one block, flagged protected),
    /// then `partitions` in order, ids counting from 1. Bases and sizes must be whole blocks;
    /// partitions must fit in the flash, stay clear of the table and of each other.
    pub fn build(block_size: u32, block_count: u32, partitions: &[Partition]) -> Result<Table, Error> {
        if block_size == 0 || !block_size.is_power_of_two() {
            return Err(Error::BadBlockSize { block_size });
        }
        let entry_count = u32::try_from(partitions.len() + 1).map_err(|_| Error::TooManyEntries {
            count: u32::MAX,
            table_len: u64::from(block_count) * u64::from(block_size),
        })?;
        let table_blocks = u32::try_from(table_blocks_for(entry_count, block_size))
            .map_err(|_| Error::TooManyEntries { count: entry_count, table_len: u64::MAX })?;
        let header = TableHeader { block_size, block_count, table_blocks, entry_count };
        if header.table_len() > header.flash_len() {
            return Err(Error::TableBeyondFlash {
                table_len: header.table_len(),
                flash_len: header.flash_len(),
            });
        }
        let table_entry = Partition {
            name: PartitionName::new(TABLE_PARTITION_NAME)
                .map_err(|problem| Error::InvalidName { name: TABLE_PARTITION_NAME.into(), problem })?,
            base: 0,
            size: header.table_len(),
            actual: u32::try_from(header.table_len()).unwrap_or(u32::MAX),
            id: 1,
            kind: PartitionType::Table,
            entry_flags: EntryFlags::PROTECTED,
            user: UserFlags::NONE,
        };
        let mut all = Vec::with_capacity(partitions.len() + 1);
        all.push(table_entry);
        for (partition, id) in partitions.iter().zip(2u32..) {
            let block = u64::from(block_size);
            if partition.size == 0 || !partition.size.is_multiple_of(block) {
                return Err(Error::BadPartitionSize {
                    partition: partition.name,
                    size: partition.size,
                    block_size,
                });
            }
            if !partition.base.is_multiple_of(block) {
                return Err(Error::MisalignedBase {
                    partition: partition.name,
                    base: partition.base,
                    block_size,
                });
            }
            if u64::from(partition.actual) > partition.size {
                return Err(Error::ActualSizeTooLarge {
                    partition: partition.name,
                    actual: partition.actual,
                    size: partition.size,
                });
            }
            all.push(Partition { id, ..*partition });
        }
        check_placement(&all, header.table_len(), header.flash_len())?;
        Ok(Table { header, partitions: all })
    }

    /// The header fields.
    pub fn header(&self) -> TableHeader {
        self.header
    }

    /// All partitions in table order, the `part` entry included.
    pub fn partitions(&self) -> &[Partition] {
        &self.partitions
    }

    /// The partition named exactly `name`, with its index in the table.
    pub fn find(&self, name: &str) -> Option<(usize, &Partition)> {
        self.partitions.iter().enumerate().find(|(_, partition)| partition.name.as_str() == name)
    }

    /// The table as written to flash: header then entries (the rest of the table's blocks is
    /// left erased).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = alloc::vec![0u8; entry_offset(self.partitions.len())];
        let (header_bytes, entry_bytes) = bytes.split_at_mut(HEADER_LEN);
        let _ = write_be_words(&self.header.to_words(), header_bytes);
        for (partition, out) in self.partitions.iter().zip(entry_bytes.chunks_exact_mut(ENTRY_LEN)) {
            let _ = write_be_words(&partition.to_words(self.header.block_size), out);
        }
        bytes
    }

    /// Sets the `actual` size of entry `index` in `table_bytes` (the table as on flash) and its
    /// checksum, leaving every other word as it was; updates this table to match.
    pub fn set_actual(&mut self, table_bytes: &mut [u8], index: usize, actual: u32) -> Result<(), Error> {
        let start = entry_offset(index);
        let end = start.saturating_add(ENTRY_LEN);
        let truncated = Error::Truncated {
            what: "partition entry",
            needed: end as u64,
            available: table_bytes.len() as u64,
        };
        let entry = table_bytes.get_mut(start..end).ok_or(truncated.clone())?;
        let mut words: [u32; ENTRY_WORDS] = read_be_words(entry).ok_or(truncated.clone())?;
        words[entry_word::ACTUAL] = actual;
        words[entry_word::CHECKSUM] = 0;
        words[entry_word::CHECKSUM] = xor_words(&words);
        write_be_words(&words, entry).ok_or(truncated)?;
        if let Some(partition) = self.partitions.get_mut(index) {
            partition.actual = actual;
        }
        Ok(())
    }
}

/// Reads and checks one entry on its own.
fn parse_entry(index: u32, bytes: &[u8], block_size: u32) -> Result<Partition, Error> {
    let words: [u32; ENTRY_WORDS] = read_be_words(bytes).ok_or(Error::Truncated {
        what: "partition entry",
        needed: ENTRY_LEN as u64,
        available: bytes.len() as u64,
    })?;
    let word = |index: usize| words.get(index).copied().unwrap_or_default();
    let field = name_field_from_words(words.get(entry_word::NAME).unwrap_or_default());
    let raw_name = RawName(field);
    let residue = xor_words(&words);
    if residue != 0 {
        return Err(Error::EntryChecksum { index, name: raw_name, residue });
    }
    let name = PartitionName::from_field(field).map_err(|problem| match problem {
        crate::ffs::NameProblem::NotTerminated => Error::NameNotTerminated { index, name: raw_name },
        problem => Error::InvalidEntryName { index, name: raw_name, problem },
    })?;
    let kind = PartitionType::from_raw(word(entry_word::TYPE))
        .ok_or(Error::UnknownPartitionType { partition: name, found: word(entry_word::TYPE) })?;
    if word(entry_word::PARENT_ID) != PID_TOPLEVEL {
        return Err(Error::NotTopLevel { partition: name, parent: word(entry_word::PARENT_ID) });
    }
    let block_size = u64::from(block_size);
    let partition = Partition {
        name,
        base: u64::from(word(entry_word::BASE)) * block_size,
        size: u64::from(word(entry_word::SIZE)) * block_size,
        actual: word(entry_word::ACTUAL),
        id: word(entry_word::ID),
        kind,
        entry_flags: EntryFlags(word(entry_word::FLAGS)),
        user: UserFlags::from_words(word(entry_word::USER_INTEGRITY), word(entry_word::USER_MISC)),
    };
    if u64::from(partition.actual) > partition.size {
        return Err(Error::ActualSizeTooLarge {
            partition: name,
            actual: partition.actual,
            size: partition.size,
        });
    }
    Ok(partition)
}

/// Checks where partitions are: inside the flash, data partitions clear of the table's blocks,
/// no two sharing a byte, no two names equal ignoring case. Sorting keeps it O(n log n) however
/// many entries an untrusted table claims.
fn check_placement(partitions: &[Partition], table_len: u64, flash_len: u64) -> Result<(), Error> {
    for partition in partitions {
        if partition.end() > flash_len {
            return Err(Error::PartitionOutOfRange { partition: partition.span(), flash_len });
        }
        if partition.kind != PartitionType::Table && partition.size > 0 && partition.base < table_len {
            return Err(Error::PartitionOverlapsTable { partition: partition.span(), table_len });
        }
    }

    let mut by_name: Vec<(usize, [u8; 16])> = partitions
        .iter()
        .enumerate()
        .map(|(index, partition)| (index, partition.name.to_field().map(|byte| byte.to_ascii_lowercase())))
        .collect();
    by_name.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    for pair in by_name.windows(2) {
        if let [(first, first_key), (second, second_key)] = pair {
            if first_key == second_key {
                let name = |index: &usize| partitions.get(*index).map(|p| p.name);
                if let (Some(first), Some(second)) = (name(first), name(second)) {
                    return Err(Error::DuplicateName { first, second });
                }
            }
        }
    }

    let mut by_base: Vec<&Partition> = partitions.iter().filter(|partition| partition.size > 0).collect();
    by_base.sort_by_key(|partition| (partition.base, partition.end()));
    let mut reaching_furthest: Option<&Partition> = None;
    for partition in by_base {
        if let Some(previous) = reaching_furthest {
            if partition.base < previous.end() {
                return Err(Error::PartitionsOverlap { first: previous.span(), second: partition.span() });
            }
        }
        if reaching_furthest.is_none_or(|previous| partition.end() > previous.end()) {
            reaching_furthest = Some(partition);
        }
    }
    Ok(())
}
