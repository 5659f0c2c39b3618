//! The errors a damaged or unsupported HDAT (Hypervisor Data Area) dump is reported with.
//!
//! Every pointer, offset, count and length read from the dump is checked before it is used;
//! when a check fails the parser stops and returns one of these, naming the structure it was
//! reading (`what`), so a report says where the dump is damaged.

use core::fmt;

/// What is wrong with the HDAT handed to [`crate::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HdatError {
    /// An absolute address from the dump (an n-tuple address) lies outside the mapped window,
    /// below its base or at/after its end.
    AddressOutOfWindow {
        /// The structure the address leads to.
        what: &'static str,
        /// The address found in the dump.
        addr: u64,
    },
    /// A structure, a field or a data block runs past the end of the bytes it must lie in
    /// (the window, the SPIRA-H copy, or its enclosing data block).
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Offset of the read (from the start of the window or block).
        offset: u64,
        /// Bytes needed from that offset.
        len: u64,
    },
    /// A structure does not start with the HDIF (Hypervisor Data Interface Format) magic
    /// `0xd1f0` followed by the expected six-character eye-catcher.
    BadEyeCatcher {
        /// The eye-catcher expected.
        expected: &'static str,
        /// The six bytes found (after the magic; zeroes if the magic itself was wrong).
        found: [u8; 6],
    },
    /// A structure version this parser does not support.
    UnsupportedVersion {
        /// The structure.
        what: &'static str,
        /// The version found.
        version: u16,
    },
    /// An array (an HDIF internal-data array or an n-tuple) declares more elements, or larger
    /// elements, than the block that holds it.
    CountPastSection {
        /// The array.
        what: &'static str,
        /// Element count declared.
        count: u32,
        /// Element size declared.
        elem_size: u32,
        /// Bytes available for the array.
        available: u64,
    },
    /// An n-tuple whose actual count or length exceeds its allocated count or length.
    BadNtuple {
        /// The n-tuple.
        what: &'static str,
    },
    /// A structure the device tree cannot be built without is absent.
    Missing {
        /// The structure.
        what: &'static str,
    },
    /// A field has a value the parser cannot use.
    BadValue {
        /// The field.
        what: &'static str,
        /// The value found.
        value: u64,
    },
    /// The processor (PVR, Processor Version Register) is not a POWER9.
    UnsupportedProcessor(u32),
}

impl fmt::Display for HdatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AddressOutOfWindow { what, addr } => {
                write!(f, "{what}: address {addr:#x} is outside the mapped HDAT window")
            }
            Self::Truncated { what, offset, len } => {
                write!(f, "{what}: {len:#x} bytes at offset {offset:#x} run past the end of the data")
            }
            Self::BadEyeCatcher { expected, found } => {
                write!(f, "bad HDIF header: expected eye-catcher \"{expected}\", found \"")?;
                for &b in found {
                    if (0x20..0x7f).contains(&b) {
                        write!(f, "{}", b as char)?;
                    } else {
                        write!(f, "\\x{b:02x}")?;
                    }
                }
                write!(f, "\"")
            }
            Self::UnsupportedVersion { what, version } => {
                write!(f, "{what}: unsupported version {version:#x}")
            }
            Self::CountPastSection { what, count, elem_size, available } => write!(
                f,
                "{what}: {count} elements of {elem_size:#x} bytes do not fit in the {available:#x} bytes of their block"
            ),
            Self::BadNtuple { what } => {
                write!(f, "{what}: n-tuple actual count or length exceeds its allocation")
            }
            Self::Missing { what } => write!(f, "{what}: missing"),
            Self::BadValue { what, value } => write!(f, "{what}: unusable value {value:#x}"),
            Self::UnsupportedProcessor(pvr) => write!(f, "PVR {pvr:#010x} is not a POWER9"),
        }
    }
}

/// Result of the HDAT parser.
pub type Result<T> = core::result::Result<T, HdatError>;
