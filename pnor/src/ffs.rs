//! The FFS (flash file system) wire format of OpenPOWER PNOR flash, as libflash's `ffs.h`
//! defines it: a 48-byte header followed by 128-byte partition entries, all fields 32-bit
//! big-endian words, each structure closed by a checksum word that makes the XOR of all its
//! words zero. This module holds the constants, the field types (names, partition types,
//! entry and user flags) and the word layouts; [`crate::table`] checks and builds whole tables.

use core::fmt;

/// Header magic, ASCII "PART".
pub const FFS_MAGIC: u32 = 0x5041_5254;
/// The only header version there is.
pub const FFS_VERSION: u32 = 1;
/// Size of the header in bytes (12 words).
pub const HEADER_LEN: usize = 48;
/// Size of one partition entry in bytes (32 words); the header's `entry_size` must say this.
pub const ENTRY_LEN: usize = 128;
/// Size of the name field; names are NUL-terminated, so at most 15 characters.
pub const NAME_FIELD_LEN: usize = 16;
/// Longest partition name.
pub const NAME_MAX_LEN: usize = NAME_FIELD_LEN - 1;
/// Parent id of a top-level partition (the only kind libflash creates or oxiboot accepts).
pub const PID_TOPLEVEL: u32 = 0xFFFF_FFFF;
/// Name of the entry that describes the partition table itself (the TOC, table of contents).
pub const TABLE_PARTITION_NAME: &str = "part";

pub(crate) const HEADER_WORDS: usize = HEADER_LEN / 4;
pub(crate) const ENTRY_WORDS: usize = ENTRY_LEN / 4;

/// Word positions inside the header.
pub(crate) mod header_word {
    pub const MAGIC: usize = 0;
    pub const VERSION: usize = 1;
    /// Size of the partition table, in blocks.
    pub const TABLE_BLOCKS: usize = 2;
    pub const ENTRY_SIZE: usize = 3;
    pub const ENTRY_COUNT: usize = 4;
    pub const BLOCK_SIZE: usize = 5;
    pub const BLOCK_COUNT: usize = 6;
    // Words 7..=10 are reserved (written as zero).
    pub const CHECKSUM: usize = 11;
}

/// Word positions inside a partition entry.
pub(crate) mod entry_word {
    /// Words 0..=3 are the 16-byte name.
    pub const NAME: core::ops::Range<usize> = 0..4;
    /// Start of the partition, in blocks.
    pub const BASE: usize = 4;
    /// Size of the partition, in blocks.
    pub const SIZE: usize = 5;
    pub const PARENT_ID: usize = 6;
    pub const ID: usize = 7;
    pub const TYPE: usize = 8;
    pub const FLAGS: usize = 9;
    /// Bytes of the partition in use.
    pub const ACTUAL: usize = 10;
    // Words 11..=14 are reserved.
    /// User word 0: chip select (byte 0), compression type (byte 1), data integrity (bytes 2-3).
    pub const USER_INTEGRITY: usize = 15;
    /// User word 1: version check (byte 0), miscellaneous flags (byte 1), two free bytes.
    pub const USER_MISC: usize = 16;
    // Words 17..=30 are reserved user data.
    pub const CHECKSUM: usize = 31;
}

/// What a partition holds (`type` field of an entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartitionType {
    /// Ordinary data (every partition but the table).
    Data,
    /// A logical container of other partitions (defined by libflash, never used by it).
    Logical,
    /// The partition table itself (the `part` entry).
    Table,
}

impl PartitionType {
    /// The wire value.
    pub fn to_raw(self) -> u32 {
        match self {
            PartitionType::Data => 1,
            PartitionType::Logical => 2,
            PartitionType::Table => 3,
        }
    }

    /// The type for a wire value, if it is one libflash defines.
    pub fn from_raw(raw: u32) -> Option<Self> {
        match raw {
            1 => Some(PartitionType::Data),
            2 => Some(PartitionType::Logical),
            3 => Some(PartitionType::Table),
            _ => None,
        }
    }
}

/// The entry's `flags` word. libflash sets [`EntryFlags::PROTECTED`] on the table entry only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EntryFlags(pub u32);

impl EntryFlags {
    /// The partition must not be written (set on `part`).
    pub const PROTECTED: EntryFlags = EntryFlags(0x0001);
    /// The partition holds a U-Boot environment.
    pub const U_BOOT_ENV: EntryFlags = EntryFlags(0x0002);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: EntryFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

/// One named flag of an entry's user words. Which byte and bit each lives in, and the letter
/// `pflash` shows for it, are libflash's (`ffs.h`, `ffs_entry_user_to_string`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// The partition is protected by ECC (error-correcting code): 1 ECC byte after every 8
    /// data bytes. Data-integrity bit 0x8000. Letter `E`.
    Ecc,
    /// Content carries a SHA-512 version check. Version-check bit 0x80. Letter `L`.
    Sha512Version,
    /// Content carries SHA-512 per erase chunk ("SHA512EC"). Version-check bit 0x40. Letter `I`.
    Sha512PerEraseChunk,
    /// Keep the content when the flash is reprogrammed. Misc bit 0x80. Letter `P`.
    Preserved,
    /// The running system must not write it. Misc bit 0x40. Letter `R`.
    ReadOnly,
    /// A backup of another partition. Misc bit 0x20. Letter `B`.
    Backup,
    /// Re-provision on a factory reset. Misc bit 0x10. Letter `F`.
    Reprovision,
    /// Part of the golden (fallback) side. Misc bit 0x01. Letter `G`.
    Golden,
    /// Clear it with valid ECC rather than 0xFF. Misc bit 0x04. Letter `C`.
    ClearEcc,
    /// Content does not survive a reboot. Misc bit 0x08. Letter `V`.
    Volatile,
}

/// Where a flag lives in the user words.
#[derive(Clone, Copy)]
enum FlagField {
    DataIntegrity(u16),
    VersionCheck(u8),
    Misc(u8),
}

impl Flag {
    /// Every flag, in `pflash`'s display order.
    pub const ALL: [Flag; 10] = [
        Flag::Ecc,
        Flag::Sha512Version,
        Flag::Sha512PerEraseChunk,
        Flag::Preserved,
        Flag::ReadOnly,
        Flag::Backup,
        Flag::Reprovision,
        Flag::Golden,
        Flag::ClearEcc,
        Flag::Volatile,
    ];

    /// The letter `pflash` shows for the flag.
    pub fn letter(self) -> char {
        match self {
            Flag::Ecc => 'E',
            Flag::Sha512Version => 'L',
            Flag::Sha512PerEraseChunk => 'I',
            Flag::Preserved => 'P',
            Flag::ReadOnly => 'R',
            Flag::Backup => 'B',
            Flag::Reprovision => 'F',
            Flag::Golden => 'G',
            Flag::ClearEcc => 'C',
            Flag::Volatile => 'V',
        }
    }

    /// The keyword used for the flag in layout files.
    pub fn keyword(self) -> &'static str {
        match self {
            Flag::Ecc => "ecc",
            Flag::Sha512Version => "sha512-version",
            Flag::Sha512PerEraseChunk => "sha512-per-erase-chunk",
            Flag::Preserved => "preserved",
            Flag::ReadOnly => "read-only",
            Flag::Backup => "backup",
            Flag::Reprovision => "reprovision",
            Flag::Golden => "golden",
            Flag::ClearEcc => "clear-ecc",
            Flag::Volatile => "volatile",
        }
    }

    /// The flag a layout keyword names.
    pub fn from_keyword(keyword: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|flag| flag.keyword() == keyword)
    }

    fn field(self) -> FlagField {
        match self {
            Flag::Ecc => FlagField::DataIntegrity(0x8000),
            Flag::Sha512Version => FlagField::VersionCheck(0x80),
            Flag::Sha512PerEraseChunk => FlagField::VersionCheck(0x40),
            Flag::Preserved => FlagField::Misc(0x80),
            Flag::ReadOnly => FlagField::Misc(0x40),
            Flag::Backup => FlagField::Misc(0x20),
            Flag::Reprovision => FlagField::Misc(0x10),
            Flag::Volatile => FlagField::Misc(0x08),
            Flag::ClearEcc => FlagField::Misc(0x04),
            Flag::Golden => FlagField::Misc(0x01),
        }
    }
}

/// The flag fields of an entry's user words, kept raw so unknown bits survive a rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UserFlags {
    /// `datainteg`: data-integrity mechanism (0x8000 = ECC).
    pub data_integrity: u16,
    /// `vercheck`: version-check method.
    pub version_check: u8,
    /// `miscflags`: preserved, read-only, ...
    pub misc: u8,
}

impl UserFlags {
    /// No flags.
    pub const NONE: UserFlags = UserFlags { data_integrity: 0, version_check: 0, misc: 0 };

    /// The flags named in `flags`.
    pub fn from_flags(flags: &[Flag]) -> Self {
        flags.iter().fold(UserFlags::NONE, |acc, flag| acc.with(*flag))
    }

    /// These flags plus `flag`.
    pub fn with(mut self, flag: Flag) -> Self {
        match flag.field() {
            FlagField::DataIntegrity(bit) => self.data_integrity |= bit,
            FlagField::VersionCheck(bit) => self.version_check |= bit,
            FlagField::Misc(bit) => self.misc |= bit,
        }
        self
    }

    /// Whether `flag` is set.
    pub fn contains(self, flag: Flag) -> bool {
        match flag.field() {
            FlagField::DataIntegrity(bit) => self.data_integrity & bit != 0,
            FlagField::VersionCheck(bit) => self.version_check & bit != 0,
            FlagField::Misc(bit) => self.misc & bit != 0,
        }
    }

    /// The flags as `pflash` prints them: one letter per flag, `-` where it is clear
    /// (e.g. `E--P------` for ECC + preserved).
    pub fn letters(self) -> [char; 10] {
        Flag::ALL.map(|flag| if self.contains(flag) { flag.letter() } else { '-' })
    }

    pub(crate) fn from_words(integrity_word: u32, misc_word: u32) -> Self {
        let [_, _, integrity_high, integrity_low] = integrity_word.to_be_bytes();
        let [version_check, misc, _, _] = misc_word.to_be_bytes();
        UserFlags { data_integrity: u16::from_be_bytes([integrity_high, integrity_low]), version_check, misc }
    }

    /// The two user words (chip select, compression and the free bytes are zero).
    pub(crate) fn to_words(self) -> (u32, u32) {
        let [high, low] = self.data_integrity.to_be_bytes();
        (u32::from_be_bytes([0, 0, high, low]), u32::from_be_bytes([self.version_check, self.misc, 0, 0]))
    }
}

impl fmt::Display for UserFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.letters().iter().try_for_each(|letter| write!(f, "{letter}"))
    }
}

/// A valid partition name: 1 to 15 printable ASCII characters (no space).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartitionName {
    field: [u8; NAME_FIELD_LEN],
    len: u8,
}

/// Why a name is not a valid partition name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    /// No characters.
    Empty,
    /// More than 15 characters.
    TooLong,
    /// A character outside printable ASCII (or a space).
    BadCharacter(u8),
    /// The 16-byte field has no terminating NUL.
    NotTerminated,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameProblem::Empty => write!(f, "the name is empty"),
            NameProblem::TooLong => write!(f, "names are at most {NAME_MAX_LEN} characters"),
            NameProblem::BadCharacter(byte) => {
                write!(f, "byte 0x{byte:02x} is not a printable ASCII character")
            }
            NameProblem::NotTerminated => {
                write!(f, "the {NAME_FIELD_LEN}-byte name field has no terminating NUL")
            }
        }
    }
}

impl PartitionName {
    /// Checks `name` and makes it a partition name.
    pub fn new(name: &str) -> Result<Self, NameProblem> {
        let bytes = name.as_bytes();
        if bytes.is_empty() {
            return Err(NameProblem::Empty);
        }
        if bytes.len() > NAME_MAX_LEN {
            return Err(NameProblem::TooLong);
        }
        if let Some(bad) = bytes.iter().find(|byte| !byte.is_ascii_graphic()) {
            return Err(NameProblem::BadCharacter(*bad));
        }
        let mut field = [0u8; NAME_FIELD_LEN];
        field.iter_mut().zip(bytes).for_each(|(out, byte)| *out = *byte);
        Ok(PartitionName { field, len: bytes.len() as u8 })
    }

    /// Reads the 16-byte on-flash field: the name up to the first NUL (what follows it is
    /// ignored, as libflash does).
    pub fn from_field(field: [u8; NAME_FIELD_LEN]) -> Result<Self, NameProblem> {
        let len = field.iter().position(|byte| *byte == 0).ok_or(NameProblem::NotTerminated)?;
        let name = field.get(..len).ok_or(NameProblem::NotTerminated)?;
        let name = core::str::from_utf8(name).map_err(|_| {
            NameProblem::BadCharacter(name.iter().copied().find(|byte| !byte.is_ascii()).unwrap_or(0))
        })?;
        PartitionName::new(name)
    }

    /// The on-flash field: the name, NUL-padded to 16 bytes.
    pub fn to_field(&self) -> [u8; NAME_FIELD_LEN] {
        self.field
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        let bytes = self.field.get(..usize::from(self.len)).unwrap_or_default();
        core::str::from_utf8(bytes).unwrap_or_default()
    }

    /// Whether two names are equal ignoring ASCII case (libflash refuses such pairs).
    pub fn eq_ignore_case(&self, other: &PartitionName) -> bool {
        self.as_str().eq_ignore_ascii_case(other.as_str())
    }
}

impl fmt::Display for PartitionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for PartitionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// A name field as found on flash, before it was checked: shown with non-printable bytes
/// escaped, so errors can name an entry whose name is itself broken.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RawName(pub [u8; NAME_FIELD_LEN]);

impl fmt::Display for RawName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self.0.iter().position(|byte| *byte == 0).unwrap_or(NAME_FIELD_LEN);
        for byte in self.0.iter().take(end) {
            if byte.is_ascii_graphic() || *byte == b' ' {
                write!(f, "{}", char::from(*byte))?;
            } else {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for RawName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Splits the name words of an entry back into the 16 name bytes.
pub(crate) fn name_field_from_words(words: &[u32]) -> [u8; NAME_FIELD_LEN] {
    let mut field = [0u8; NAME_FIELD_LEN];
    for (chunk, word) in field.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    field
}

/// Packs 16 name bytes into the four name words of an entry.
pub(crate) fn name_field_to_words(field: &[u8; NAME_FIELD_LEN]) -> [u32; 4] {
    let mut words = [0u32; 4];
    for (word, chunk) in words.iter_mut().zip(field.chunks_exact(4)) {
        *word = u32::from_be_bytes(chunk.try_into().unwrap_or([0; 4]));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_land_in_libflash_bits() {
        let all = UserFlags::from_flags(&Flag::ALL);
        assert_eq!(all, UserFlags { data_integrity: 0x8000, version_check: 0xC0, misc: 0xFD });
        assert_eq!(UserFlags::from_flags(&[Flag::Ecc]).to_words(), (0x0000_8000, 0));
        assert_eq!(
            UserFlags::from_flags(&[Flag::ReadOnly, Flag::Sha512Version]).to_words(),
            (0, 0x8040_0000)
        );
        assert_eq!(
            UserFlags::from_words(0x0000_8000, 0x8040_0000).letters().iter().collect::<String>(),
            "EL--R-----"
        );
        assert_eq!(all.to_string(), "ELIPRBFGCV");
    }

    #[test]
    fn every_flag_has_its_own_bit_and_keyword() {
        for flag in Flag::ALL {
            let only = UserFlags::from_flags(&[flag]);
            assert!(Flag::ALL.iter().all(|other| only.contains(*other) == (*other == flag)));
            assert_eq!(Flag::from_keyword(flag.keyword()), Some(flag));
        }
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(PartitionName::new("BOOTKERNEL").map(|n| n.to_string()), Ok("BOOTKERNEL".into()));
        assert_eq!(PartitionName::new(""), Err(NameProblem::Empty));
        assert_eq!(PartitionName::new("SIXTEEN_CHARS_XX"), Err(NameProblem::TooLong));
        assert_eq!(PartitionName::new("A B"), Err(NameProblem::BadCharacter(b' ')));
        assert_eq!(PartitionName::from_field(*b"0123456789abcdef"), Err(NameProblem::NotTerminated));
        assert_eq!(
            PartitionName::from_field(*b"NVRAM\0\0\0\0\0\0\0\0\0\0\0").map(|n| n.to_string()),
            Ok("NVRAM".into())
        );
        assert_eq!(
            PartitionName::from_field([0xC3, 0xA9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(NameProblem::BadCharacter(0xC3))
        );
        assert_eq!(RawName(*b"A\x01B\0xxxxxxxxxxxx").to_string(), "A\\x01B");
    }

    #[test]
    fn name_words_are_big_endian_bytes() {
        let name = PartitionName::new("part").map(|n| n.to_field()).unwrap_or_default();
        let words = name_field_to_words(&name);
        assert_eq!(words, [0x7061_7274, 0, 0, 0]);
        assert_eq!(name_field_from_words(&words), name);
    }
}
