//! The layout file: a small line-based text format describing a PNOR image, read into a
//! [`Layout`]. One directive per line, tokens separated by spaces, `#` starts a comment:
//!
//! ```text
//! flash-size 64M
//! block-size 4K
//! partition BOOTKERNEL size=16M flags=read-only kernel=vmlinux initramfs=initramfs.cpio.gz
//! partition NVRAM      size=576K flags=preserved
//! partition OXICFG     size=36K  flags=ecc,preserved content=oxicfg.bin
//! partition GUARD      base=0x3FF0000 size=20K flags=ecc,preserved
//! ```
//!
//! Numbers are decimal or `0x` hexadecimal, optionally followed by `K`, `M` or `G` (binary
//! multiples). Partition keys: `size` (required), `base` (default: right after the previous
//! partition), `flags` (comma-separated keywords, see [`Flag::keyword`]), and either `content`
//! (a file) or `kernel` with optional `initramfs` (packed into a BOOTKERNEL container). File
//! names are handed to the caller's loader as written; the tool resolves them relative to the
//! layout file.

use crate::bootkernel::BootKernel;
use crate::error::Error;
use crate::ffs::{Flag, UserFlags};
use crate::image::{Layout, PartitionSpec};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// A mistake in a layout file, with its line (1-based; 0 for the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError {
    /// Line number, from 1; 0 when something is missing from the whole file.
    pub line: usize,
    /// What is wrong.
    pub kind: LayoutErrorKind,
}

/// What is wrong in a layout file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutErrorKind {
    /// A line starting with something other than `flash-size`, `block-size` or `partition`.
    UnknownDirective(String),
    /// A directive without its value.
    MissingValue(&'static str),
    /// A token after a complete `flash-size` or `block-size` line.
    UnexpectedToken(String),
    /// `flash-size` or `block-size` given twice.
    RepeatedDirective(&'static str),
    /// A number that cannot be read or does not fit.
    BadNumber(String),
    /// A partition key other than `size`, `base`, `flags`, `content`, `kernel`, `initramfs`.
    UnknownKey(String),
    /// A partition token that is not `key=value`.
    NotKeyValue(String),
    /// A partition key given twice.
    RepeatedKey(String),
    /// A flag keyword that does not exist.
    UnknownFlag(String),
    /// A partition without `size=`.
    MissingSize(String),
    /// Both `content=` and `kernel=` on one partition.
    ContentAndKernel,
    /// `initramfs=` without `kernel=`.
    InitramfsWithoutKernel,
    /// The file has no `flash-size` line.
    MissingFlashSize,
    /// The file has no `block-size` line.
    MissingBlockSize,
    /// A content file the loader could not read.
    Unreadable { path: String, message: String },
    /// The kernel and initramfs could not be packed.
    BootKernel(Error),
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        match &self.kind {
            LayoutErrorKind::UnknownDirective(word) => {
                write!(f, "unknown directive \"{word}\" (expected flash-size, block-size or partition)")
            }
            LayoutErrorKind::MissingValue(what) => write!(f, "{what} is missing"),
            LayoutErrorKind::UnexpectedToken(token) => write!(f, "unexpected \"{token}\""),
            LayoutErrorKind::RepeatedDirective(what) => write!(f, "{what} is given twice"),
            LayoutErrorKind::BadNumber(text) => {
                write!(f, "\"{text}\" is not a number (decimal or 0x hex, optional K/M/G suffix, below 2^64)")
            }
            LayoutErrorKind::UnknownKey(key) => write!(
                f,
                "unknown partition key \"{key}\" (expected size, base, flags, content, kernel, initramfs)"
            ),
            LayoutErrorKind::NotKeyValue(token) => write!(f, "\"{token}\" is not key=value"),
            LayoutErrorKind::RepeatedKey(key) => write!(f, "\"{key}\" is given twice"),
            LayoutErrorKind::UnknownFlag(flag) => {
                write!(f, "unknown flag \"{flag}\" (expected one of")?;
                Flag::ALL.iter().try_for_each(|flag| write!(f, " {}", flag.keyword()))?;
                write!(f, ")")
            }
            LayoutErrorKind::MissingSize(name) => write!(f, "partition \"{name}\" has no size="),
            LayoutErrorKind::ContentAndKernel => write!(f, "give either content= or kernel=, not both"),
            LayoutErrorKind::InitramfsWithoutKernel => write!(f, "initramfs= needs kernel="),
            LayoutErrorKind::MissingFlashSize => write!(f, "the layout has no flash-size line"),
            LayoutErrorKind::MissingBlockSize => write!(f, "the layout has no block-size line"),
            LayoutErrorKind::Unreadable { path, message } => write!(f, "cannot read \"{path}\": {message}"),
            LayoutErrorKind::BootKernel(error) => write!(f, "{error}"),
        }
    }
}

/// Reads a layout file's text. `load` returns the bytes of a file named in it (or a message
/// saying why it cannot).
pub fn parse_layout(
    text: &str,
    load: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<Layout, LayoutError> {
    let mut flash_size = None;
    let mut block_size = None;
    let mut partitions = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let at = |kind| LayoutError { line: line_number, kind };
        let line = line.split('#').next().unwrap_or_default();
        let mut tokens = line.split_whitespace();
        let Some(directive) = tokens.next() else { continue };
        match directive {
            "flash-size" | "block-size" => {
                let what = if directive == "flash-size" { "flash-size" } else { "block-size" };
                let value = tokens.next().ok_or(at(LayoutErrorKind::MissingValue(what)))?;
                if let Some(extra) = tokens.next() {
                    return Err(at(LayoutErrorKind::UnexpectedToken(extra.into())));
                }
                let number = parse_number(value).ok_or(at(LayoutErrorKind::BadNumber(value.into())))?;
                let slot = if what == "flash-size" { &mut flash_size } else { &mut block_size };
                if slot.replace(number).is_some() {
                    return Err(at(LayoutErrorKind::RepeatedDirective(what)));
                }
            }
            "partition" => {
                let name = tokens.next().ok_or(at(LayoutErrorKind::MissingValue("the partition name")))?;
                partitions.push(parse_partition(name, tokens, load).map_err(at)?);
            }
            other => return Err(at(LayoutErrorKind::UnknownDirective(other.into()))),
        }
    }
    let whole_file = |kind| LayoutError { line: 0, kind };
    let flash_size = flash_size.ok_or(whole_file(LayoutErrorKind::MissingFlashSize))?;
    let block_size = block_size.ok_or(whole_file(LayoutErrorKind::MissingBlockSize))?;
    // A block size that does not fit 32 bits is refused by `create_image` as BadBlockSize.
    let block_size = u32::try_from(block_size).unwrap_or(0);
    Ok(Layout { flash_size, block_size, partitions })
}

fn parse_partition<'a>(
    name: &str,
    tokens: impl Iterator<Item = &'a str>,
    load: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<PartitionSpec, LayoutErrorKind> {
    let mut size = None;
    let mut base = None;
    let mut flags = None;
    let mut content = None;
    let mut kernel = None;
    let mut initramfs = None;
    for token in tokens {
        let (key, value) = token.split_once('=').ok_or(LayoutErrorKind::NotKeyValue(token.into()))?;
        let number = || parse_number(value).ok_or(LayoutErrorKind::BadNumber(value.into()));
        let replaced = match key {
            "size" => size.replace(number()?).is_some(),
            "base" => base.replace(number()?).is_some(),
            "flags" => flags.replace(parse_flags(value)?).is_some(),
            "content" => content.replace(value).is_some(),
            "kernel" => kernel.replace(value).is_some(),
            "initramfs" => initramfs.replace(value).is_some(),
            other => return Err(LayoutErrorKind::UnknownKey(other.into())),
        };
        if replaced {
            return Err(LayoutErrorKind::RepeatedKey(key.into()));
        }
    }
    let size = size.ok_or(LayoutErrorKind::MissingSize(name.into()))?;
    let mut read =
        |path: &str| load(path).map_err(|message| LayoutErrorKind::Unreadable { path: path.into(), message });
    let content = match (content, kernel, initramfs) {
        (Some(_), Some(_), _) => return Err(LayoutErrorKind::ContentAndKernel),
        (_, None, Some(_)) => return Err(LayoutErrorKind::InitramfsWithoutKernel),
        (Some(path), None, None) => Some(read(path)?),
        (None, Some(kernel), initramfs) => {
            let kernel = read(kernel)?;
            let initramfs = initramfs.map(&mut read).transpose()?.unwrap_or_default();
            Some(BootKernel::pack(&kernel, &initramfs).map_err(LayoutErrorKind::BootKernel)?)
        }
        (None, None, None) => None,
    };
    Ok(PartitionSpec { name: name.to_string(), base, size, flags: flags.unwrap_or_default(), content })
}

fn parse_flags(list: &str) -> Result<UserFlags, LayoutErrorKind> {
    list.split(',').filter(|keyword| !keyword.is_empty()).try_fold(UserFlags::NONE, |flags, keyword| {
        Flag::from_keyword(keyword)
            .map(|flag| flags.with(flag))
            .ok_or(LayoutErrorKind::UnknownFlag(keyword.into()))
    })
}

/// Reads `123`, `0x1F000`, `64K`, `16M`, `1G` (binary multiples).
pub fn parse_number(text: &str) -> Option<u64> {
    let (digits, multiplier) = match text.as_bytes().last()? {
        b'K' | b'k' => (text.get(..text.len() - 1)?, 1u64 << 10),
        b'M' | b'm' => (text.get(..text.len() - 1)?, 1 << 20),
        b'G' | b'g' => (text.get(..text.len() - 1)?, 1 << 30),
        _ => (text, 1),
    };
    let value = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<u64>().ok()?,
    };
    value.checked_mul(multiplier)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_files(path: &str) -> Result<Vec<u8>, String> {
        Err(format!("no file {path}"))
    }

    fn parse(text: &str) -> Result<Layout, LayoutError> {
        parse_layout(text, &mut no_files)
    }

    fn error_at(text: &str) -> (usize, LayoutErrorKind) {
        let error = parse(text).unwrap_err();
        (error.line, error.kind)
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("4096"), Some(4096));
        assert_eq!(parse_number("0x1F000"), Some(0x1F000));
        assert_eq!(parse_number("64K"), Some(65536));
        assert_eq!(parse_number("0x10k"), Some(16 * 1024));
        assert_eq!(parse_number("16M"), Some(16 << 20));
        assert_eq!(parse_number("1G"), Some(1 << 30));
        assert_eq!(parse_number("17179869184G"), None);
        assert_eq!(parse_number("K"), None);
        assert_eq!(parse_number("12Q"), None);
        assert_eq!(parse_number(""), None);
    }

    #[test]
    fn a_full_layout() {
        let text = "# comment\n\nflash-size 64M   # trailing comment\nblock-size 0x1000\n\
                    partition BOOTKERNEL size=16M flags=read-only kernel=k initramfs=i\n\
                    partition GUARD base=0x3FF0000 size=20K flags=ecc,preserved\n\
                    partition OXICFG size=36K content=c\n";
        let mut load = |path: &str| Ok(path.as_bytes().repeat(3));
        let layout = parse_layout(text, &mut load).unwrap();
        assert_eq!((layout.flash_size, layout.block_size), (64 << 20, 4096));
        let [bootkernel, guard, oxicfg] = &layout.partitions[..] else { panic!("{layout:?}") };
        assert_eq!(
            (bootkernel.name.as_str(), bootkernel.base, bootkernel.size),
            ("BOOTKERNEL", None, 16 << 20)
        );
        assert_eq!(bootkernel.flags, UserFlags::from_flags(&[Flag::ReadOnly]));
        let container = bootkernel.content.as_deref().unwrap_or_default();
        let packed = BootKernel::parse(container).unwrap();
        assert_eq!((packed.kernel, packed.initramfs), (&b"kkk"[..], &b"iii"[..]));
        assert_eq!((guard.base, guard.size, guard.content.clone()), (Some(0x3FF_0000), 20 * 1024, None));
        assert_eq!(guard.flags, UserFlags::from_flags(&[Flag::Ecc, Flag::Preserved]));
        assert_eq!(oxicfg.content, Some(b"ccc".to_vec()));
        assert_eq!(oxicfg.flags, UserFlags::NONE);
    }

    #[test]
    fn mistakes_are_reported_at_their_line() {
        let head = "flash-size 64K\nblock-size 4K\n";
        let at3 = |line: &str| error_at(&format!("{head}{line}\n"));
        assert_eq!(at3("partiton A size=4K"), (3, LayoutErrorKind::UnknownDirective("partiton".into())));
        assert_eq!(at3("partition"), (3, LayoutErrorKind::MissingValue("the partition name")));
        assert_eq!(at3("partition A"), (3, LayoutErrorKind::MissingSize("A".into())));
        assert_eq!(at3("partition A size=4X"), (3, LayoutErrorKind::BadNumber("4X".into())));
        assert_eq!(at3("partition A size=4K colour=red"), (3, LayoutErrorKind::UnknownKey("colour".into())));
        assert_eq!(at3("partition A size=4K size=8K"), (3, LayoutErrorKind::RepeatedKey("size".into())));
        assert_eq!(at3("partition A size=4K ecc"), (3, LayoutErrorKind::NotKeyValue("ecc".into())));
        assert_eq!(
            at3("partition A size=4K flags=ecc,fast"),
            (3, LayoutErrorKind::UnknownFlag("fast".into()))
        );
        assert_eq!(at3("partition A size=4K content=a kernel=b"), (3, LayoutErrorKind::ContentAndKernel));
        assert_eq!(at3("partition A size=4K initramfs=b"), (3, LayoutErrorKind::InitramfsWithoutKernel));
        assert_eq!(
            at3("partition A size=4K content=x"),
            (3, LayoutErrorKind::Unreadable { path: "x".into(), message: "no file x".into() })
        );
        assert_eq!(at3("block-size 8K"), (3, LayoutErrorKind::RepeatedDirective("block-size")));
        assert_eq!(error_at("flash-size 64K extra"), (1, LayoutErrorKind::UnexpectedToken("extra".into())));
        assert_eq!(error_at("flash-size"), (1, LayoutErrorKind::MissingValue("flash-size")));
        assert_eq!(error_at("block-size 4K"), (0, LayoutErrorKind::MissingFlashSize));
        assert_eq!(error_at("flash-size 4K"), (0, LayoutErrorKind::MissingBlockSize));
        let message = parse(&format!("{head}partition A size=4K flags=fast\n")).unwrap_err().to_string();
        assert!(message.starts_with("line 3: unknown flag \"fast\" (expected one of ecc "), "{message}");
    }

    #[test]
    fn an_empty_kernel_is_refused() {
        let mut load = |_: &str| Ok(Vec::new());
        let error = parse_layout("flash-size 64K\nblock-size 4K\npartition B size=4K kernel=k\n", &mut load);
        assert_eq!(error.map_err(|e| e.kind), Err(LayoutErrorKind::BootKernel(Error::BootKernelNoKernel)));
    }
}
