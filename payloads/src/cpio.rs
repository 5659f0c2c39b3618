//! A writer for cpio "newc" archives (the format of a Linux initramfs), with deterministic
//! output: entries sorted by path (so every parent precedes its children), inode numbers
//! assigned in that order from 1, owner root, mtime 0. Archives are not compressed; Linux
//! unpacks an uncompressed cpio initramfs without any decompressor configured.
//!
//! Format (see the kernel's `Documentation/driver-api/early-userspace/buffer-format.rst`):
//! each entry is a 110-byte ASCII header (`070701` and 13 fields of 8 hex digits), the path
//! with a NUL, padding to a multiple of 4, then the data (file contents or symlink target),
//! padded to a multiple of 4. The archive ends with an entry named `TRAILER!!!`.

use std::collections::BTreeMap;
use std::fmt;

/// Magic of the "newc" format (no checksums).
pub const NEWC_MAGIC: &str = "070701";
/// Length of a newc header.
pub const HEADER_LEN: usize = 110;
/// Name of the entry that ends an archive.
pub const TRAILER_NAME: &str = "TRAILER!!!";

/// File-type bits of `c_mode` (as in `st_mode`).
pub mod mode_bits {
    pub const DIRECTORY: u32 = 0o040000;
    pub const REGULAR: u32 = 0o100000;
    pub const SYMLINK: u32 = 0o120000;
    pub const CHAR_DEVICE: u32 = 0o020000;
    pub const BLOCK_DEVICE: u32 = 0o060000;
    pub const TYPE_MASK: u32 = 0o170000;
}

/// Why an entry cannot be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpioError {
    /// Empty, containing `.`/`..`/empty components or NUL, or otherwise unusable.
    InvalidPath(String),
    /// The path is already in the archive with different content.
    Duplicate(String),
    /// A path's parent is in the archive but is not a directory.
    ParentNotDirectory(String),
    /// Permission bits beyond 0o7777.
    InvalidPermissions { path: String, permissions: u32 },
    /// File data over 4 GiB (the size field is 32 bits).
    TooLarge { path: String, len: usize },
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpioError::InvalidPath(p) => write!(f, "invalid path {p:?}"),
            CpioError::Duplicate(p) => write!(f, "{p:?} is already in the archive with other content"),
            CpioError::ParentNotDirectory(p) => write!(f, "the parent of {p:?} is not a directory"),
            CpioError::InvalidPermissions { path, permissions } => {
                write!(f, "{path:?}: permissions {permissions:#o} exceed 0o7777")
            }
            CpioError::TooLarge { path, len } => write!(f, "{path:?}: {len} bytes exceed the 4 GiB limit"),
        }
    }
}

impl std::error::Error for CpioError {}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Directory,
    File(Vec<u8>),
    /// A symbolic link to the given target (stored as the entry's data).
    Symlink(String),
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
}

/// One archive member: its kind and permission bits (owner is always root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    pub permissions: u32,
}

impl Entry {
    /// The `c_mode` field: type bits and permissions.
    pub fn mode(&self) -> u32 {
        let kind = match self.kind {
            EntryKind::Directory => mode_bits::DIRECTORY,
            EntryKind::File(_) => mode_bits::REGULAR,
            EntryKind::Symlink(_) => mode_bits::SYMLINK,
            EntryKind::CharDevice { .. } => mode_bits::CHAR_DEVICE,
            EntryKind::BlockDevice { .. } => mode_bits::BLOCK_DEVICE,
        };
        kind | self.permissions
    }

    fn data(&self) -> &[u8] {
        match &self.kind {
            EntryKind::File(data) => data,
            EntryKind::Symlink(target) => target.as_bytes(),
            _ => &[],
        }
    }
}

/// An archive being assembled. Paths are relative to the root (`bin/sh`); a leading `/` is
/// accepted and dropped. Missing parent directories are added with mode 0755.
#[derive(Debug, Clone, Default)]
pub struct Archive {
    entries: BTreeMap<String, Entry>,
}

impl Archive {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a directory (adding it again with the same permissions is not an error).
    pub fn add_dir(&mut self, path: &str, permissions: u32) -> Result<(), CpioError> {
        self.insert(path, Entry { kind: EntryKind::Directory, permissions })
    }

    /// Adds a regular file.
    pub fn add_file(&mut self, path: &str, permissions: u32, data: Vec<u8>) -> Result<(), CpioError> {
        self.insert(path, Entry { kind: EntryKind::File(data), permissions })
    }

    /// Adds a symbolic link `path` → `target` (mode 0777, as symlinks are).
    pub fn add_symlink(&mut self, path: &str, target: &str) -> Result<(), CpioError> {
        if target.is_empty() || target.contains('\0') {
            return Err(CpioError::InvalidPath(target.to_string()));
        }
        self.insert(path, Entry { kind: EntryKind::Symlink(target.to_string()), permissions: 0o777 })
    }

    /// Adds a character device node.
    pub fn add_char_device(
        &mut self,
        path: &str,
        permissions: u32,
        major: u32,
        minor: u32,
    ) -> Result<(), CpioError> {
        self.insert(path, Entry { kind: EntryKind::CharDevice { major, minor }, permissions })
    }

    /// Adds a block device node.
    pub fn add_block_device(
        &mut self,
        path: &str,
        permissions: u32,
        major: u32,
        minor: u32,
    ) -> Result<(), CpioError> {
        self.insert(path, Entry { kind: EntryKind::BlockDevice { major, minor }, permissions })
    }

    /// The entry at `path`, if any.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        normalize(path).ok().and_then(|p| self.entries.get(&p))
    }

    /// All entries in archive order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(p, e)| (p.as_str(), e))
    }

    fn insert(&mut self, path: &str, entry: Entry) -> Result<(), CpioError> {
        let path = normalize(path)?;
        if entry.permissions > 0o7777 {
            return Err(CpioError::InvalidPermissions { path, permissions: entry.permissions });
        }
        if entry.data().len() > u32::MAX as usize {
            return Err(CpioError::TooLarge { path, len: entry.data().len() });
        }
        // Check the whole chain of parents before changing anything.
        let parents: Vec<&str> =
            path.char_indices().filter(|&(_, c)| c == '/').map(|(i, _)| &path[..i]).collect();
        for parent in &parents {
            if let Some(existing) = self.entries.get(*parent) {
                if existing.kind != EntryKind::Directory {
                    return Err(CpioError::ParentNotDirectory(path.clone()));
                }
            }
        }
        if let Some(existing) = self.entries.get(&path) {
            if *existing == entry {
                return Ok(());
            }
            return Err(CpioError::Duplicate(path));
        }
        for parent in parents {
            self.entries
                .entry(parent.to_string())
                .or_insert(Entry { kind: EntryKind::Directory, permissions: 0o755 });
        }
        self.entries.insert(path, entry);
        Ok(())
    }

    /// The archive as bytes, ending with the trailer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (index, (path, entry)) in self.entries.iter().enumerate() {
            let (rdev_major, rdev_minor) = match entry.kind {
                EntryKind::CharDevice { major, minor } | EntryKind::BlockDevice { major, minor } => {
                    (major, minor)
                }
                _ => (0, 0),
            };
            let header = Header {
                ino: index as u32 + 1,
                mode: entry.mode(),
                nlink: if entry.kind == EntryKind::Directory { 2 } else { 1 },
                filesize: entry.data().len() as u32,
                rdev_major,
                rdev_minor,
            };
            write_entry(&mut out, &header, path, entry.data());
        }
        let trailer = Header { ino: 0, mode: 0, nlink: 1, filesize: 0, rdev_major: 0, rdev_minor: 0 };
        write_entry(&mut out, &trailer, TRAILER_NAME, &[]);
        out
    }
}

/// The header fields that vary between our entries; uid, gid, mtime, the containing device
/// and the checksum are always 0.
struct Header {
    ino: u32,
    mode: u32,
    nlink: u32,
    filesize: u32,
    rdev_major: u32,
    rdev_minor: u32,
}

fn write_entry(out: &mut Vec<u8>, header: &Header, name: &str, data: &[u8]) {
    let namesize = name.len() as u32 + 1;
    let fields = [
        header.ino,
        header.mode,
        0, // uid
        0, // gid
        header.nlink,
        0, // mtime
        header.filesize,
        0, // devmajor
        0, // devminor
        header.rdev_major,
        header.rdev_minor,
        namesize,
        0, // check
    ];
    out.extend_from_slice(NEWC_MAGIC.as_bytes());
    for field in fields {
        out.extend_from_slice(format!("{field:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// Checks and normalizes an archive path: no leading `/`, no empty, `.` or `..` components,
/// no NUL, not the trailer's name.
fn normalize(path: &str) -> Result<String, CpioError> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let bad = trimmed.is_empty()
        || trimmed == TRAILER_NAME
        || trimmed.contains('\0')
        || trimmed.split('/').any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        Err(CpioError::InvalidPath(path.to_string()))
    } else {
        Ok(trimmed.to_string())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One member of a parsed archive, with every header field.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ParsedEntry {
        pub name: String,
        pub fields: [u32; 13],
        pub data: Vec<u8>,
    }

    impl ParsedEntry {
        pub fn ino(&self) -> u32 {
            self.fields[0]
        }
        pub fn mode(&self) -> u32 {
            self.fields[1]
        }
    }

    /// A strict newc reader: checks magic, hex digits, NUL-terminated names, alignment, and
    /// that the trailer is last and nothing follows it.
    pub fn parse(bytes: &[u8]) -> Vec<ParsedEntry> {
        let mut entries = Vec::new();
        let mut pos = 0;
        loop {
            assert_eq!(pos % 4, 0, "header at {pos} not aligned");
            let header = &bytes[pos..pos + HEADER_LEN];
            assert_eq!(&header[..6], NEWC_MAGIC.as_bytes(), "magic at {pos}");
            let mut fields = [0u32; 13];
            for (i, field) in fields.iter_mut().enumerate() {
                let text = std::str::from_utf8(&header[6 + i * 8..14 + i * 8]).expect("ascii header");
                assert!(text.bytes().all(|b| b.is_ascii_hexdigit()), "field {i} {text:?}");
                *field = u32::from_str_radix(text, 16).expect("hex field");
            }
            let namesize = fields[11] as usize;
            let name_start = pos + HEADER_LEN;
            let name_bytes = &bytes[name_start..name_start + namesize];
            assert_eq!(name_bytes.last(), Some(&0), "name not NUL-terminated");
            let name = String::from_utf8(name_bytes[..namesize - 1].to_vec()).expect("utf-8 name");
            let data_start = (name_start + namesize).next_multiple_of(4);
            assert!(bytes[name_start + namesize..data_start].iter().all(|&b| b == 0));
            let size = fields[6] as usize;
            let data = bytes[data_start..data_start + size].to_vec();
            pos = (data_start + size).next_multiple_of(4);
            assert!(bytes[data_start + size..pos].iter().all(|&b| b == 0));
            let done = name == TRAILER_NAME;
            entries.push(ParsedEntry { name, fields, data });
            if done {
                assert_eq!(pos, bytes.len(), "bytes after the trailer");
                return entries;
            }
        }
    }

    fn tiny() -> Archive {
        let mut a = Archive::new();
        a.add_file("/init", 0o755, b"#!/bin/sh\n".to_vec()).unwrap();
        a.add_char_device("dev/console", 0o600, 5, 1).unwrap();
        a.add_symlink("bin/sh", "busybox").unwrap();
        a
    }

    #[test]
    fn tiny_archive_byte_for_byte() {
        let bytes = tiny().to_bytes();
        let mut expected = Vec::new();
        // Header fields (ino, mode, nlink, filesize, rdevmajor, rdevminor), name, data.
        type Row = ([u32; 6], &'static str, &'static [u8]);
        let rows: [Row; 6] = [
            ([1, 0o40755, 2, 0, 0, 0], "bin", b""),
            ([2, 0o120777, 1, 7, 0, 0], "bin/sh", b"busybox"),
            ([3, 0o40755, 2, 0, 0, 0], "dev", b""),
            ([4, 0o20600, 1, 0, 5, 1], "dev/console", b""),
            ([5, 0o100755, 1, 10, 0, 0], "init", b"#!/bin/sh\n"),
            ([0, 0, 1, 0, 0, 0], "TRAILER!!!", b""),
        ];
        for ([ino, mode, nlink, size, rmaj, rmin], name, data) in rows {
            let header = format!(
                "070701{ino:08X}{mode:08X}0000000000000000{nlink:08X}00000000{size:08X}\
                 0000000000000000{rmaj:08X}{rmin:08X}{:08X}00000000",
                name.len() + 1
            );
            assert_eq!(header.len(), HEADER_LEN);
            expected.extend_from_slice(header.as_bytes());
            expected.extend_from_slice(name.as_bytes());
            expected.push(0);
            while expected.len() % 4 != 0 {
                expected.push(0);
            }
            expected.extend_from_slice(data);
            while expected.len() % 4 != 0 {
                expected.push(0);
            }
        }
        assert_eq!(bytes, expected);
        // Spot-check the literal text of the first header.
        assert_eq!(
            &bytes[..HEADER_LEN],
            concat!(
                "070701", "00000001", "000041ED", "00000000", "00000000", "00000002", "00000000", "00000000",
                "00000000", "00000000", "00000000", "00000000", "00000004", "00000000"
            )
            .as_bytes()
        );
    }

    #[test]
    fn parse_back_round_trip() {
        let mut a = tiny();
        a.add_dir("proc", 0o555).unwrap();
        a.add_block_device("dev/vda", 0o660, 254, 0).unwrap();
        a.add_file("usr/share/odd", 0o644, vec![1, 2, 3]).unwrap();
        let parsed = parse(&a.to_bytes());
        let names: Vec<&str> = parsed.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "bin",
                "bin/sh",
                "dev",
                "dev/console",
                "dev/vda",
                "init",
                "proc",
                "usr",
                "usr/share",
                "usr/share/odd",
                "TRAILER!!!"
            ]
        );
        let odd = &parsed[9];
        assert_eq!(odd.mode(), 0o100644);
        assert_eq!(odd.data, [1, 2, 3]);
        assert_eq!(parsed[4].mode() & mode_bits::TYPE_MASK, mode_bits::BLOCK_DEVICE);
        assert_eq!((parsed[4].fields[9], parsed[4].fields[10]), (254, 0));
        assert_eq!(parsed[6].mode(), 0o40555);
        // Inode numbers are unique and sequential; owner and mtime are 0.
        for (i, e) in parsed[..parsed.len() - 1].iter().enumerate() {
            assert_eq!(e.ino(), i as u32 + 1);
            assert_eq!((e.fields[2], e.fields[3], e.fields[5]), (0, 0, 0));
        }
    }

    #[test]
    fn output_is_independent_of_insertion_order() {
        let mut a = Archive::new();
        a.add_file("b/x", 0o644, b"x".to_vec()).unwrap();
        a.add_file("a", 0o644, b"a".to_vec()).unwrap();
        let mut b = Archive::new();
        b.add_file("a", 0o644, b"a".to_vec()).unwrap();
        b.add_dir("b", 0o755).unwrap();
        b.add_file("b/x", 0o644, b"x".to_vec()).unwrap();
        assert_eq!(a.to_bytes(), b.to_bytes());
    }

    #[test]
    fn parents_sort_before_children_even_with_punctuation() {
        let mut a = Archive::new();
        a.add_file("a.b", 0o644, vec![]).unwrap();
        a.add_file("a/b", 0o644, vec![]).unwrap();
        a.add_file("a-b/c", 0o644, vec![]).unwrap();
        let names: Vec<String> = parse(&a.to_bytes()).into_iter().map(|e| e.name).collect();
        let position = |n: &str| names.iter().position(|x| x == n).unwrap();
        assert!(position("a") < position("a/b"));
        assert!(position("a-b") < position("a-b/c"));
    }

    #[test]
    fn rejects_bad_paths_and_conflicts() {
        let mut a = Archive::new();
        for bad in ["", "/", "a//b", "./a", "a/../b", "x\0y", "TRAILER!!!"] {
            assert_eq!(a.add_dir(bad, 0o755), Err(CpioError::InvalidPath(bad.to_string())), "{bad:?}");
        }
        a.add_file("f", 0o644, b"1".to_vec()).unwrap();
        assert!(a.add_file("f", 0o644, b"1".to_vec()).is_ok(), "identical re-add is fine");
        assert_eq!(a.add_file("f", 0o644, b"2".to_vec()), Err(CpioError::Duplicate("f".into())));
        assert_eq!(a.add_file("f/g", 0o644, vec![]), Err(CpioError::ParentNotDirectory("f/g".into())));
        assert!(matches!(a.add_dir("d", 0o10000), Err(CpioError::InvalidPermissions { .. })));
        assert!(a.add_symlink("l", "").is_err());
        a.add_dir("d", 0o755).unwrap();
        a.add_dir("d", 0o755).unwrap();
        assert!(a.get("/d").is_some());
    }

    #[test]
    fn empty_archive_is_just_the_trailer() {
        let parsed = parse(&Archive::new().to_bytes());
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].name, TRAILER_NAME);
    }

    /// Cross-check with GNU cpio when the host has it (Debian package `cpio`; not required).
    #[test]
    fn gnu_cpio_lists_the_archive_when_available() {
        let Ok(dir) = tempdir("cpio-gnu") else { return };
        let file = dir.join("a.cpio");
        std::fs::write(&file, tiny().to_bytes()).unwrap();
        let Ok(out) = std::process::Command::new("cpio").args(["-t", "-v", "-F"]).arg(&file).output() else {
            eprintln!("no cpio binary on this host; skipped");
            return;
        };
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let listing = String::from_utf8_lossy(&out.stdout);
        assert!(listing.contains("bin/sh -> busybox"), "{listing}");
        assert!(listing.contains("5,   1") || listing.contains("5, 1"), "{listing}");
        assert!(
            listing.lines().any(|l| l.starts_with("crw-------") && l.ends_with("dev/console")),
            "{listing}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A fresh directory under the system temp dir for one test.
    pub fn tempdir(tag: &str) -> std::io::Result<std::path::PathBuf> {
        let dir = std::env::temp_dir().join(format!("oxiboot-payloads-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}
