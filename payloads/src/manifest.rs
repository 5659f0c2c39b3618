//! The cache manifest (`<cache>/manifest.txt`): which exact Debian package versions the cache
//! holds, one line per role:
//!
//! ```text
//! # ROLE PACKAGE VERSION ARCHITECTURE SHA256 DEB EXTRACTED
//! kernel linux-image-6.12.95+deb12-powerpc64le 6.12.95-1~bpo12+1 ppc64el 3f…e1 debs/linux-image-….deb pkgs/linux-image-…
//! ```
//!
//! Fields are separated by single spaces and never contain spaces (Debian package names and
//! versions cannot); DEB and EXTRACTED are relative to the cache directory; `#` starts a comment.

use std::path::Path;

use crate::Error;

/// The manifest's file name inside the cache directory.
pub const MANIFEST_FILE: &str = "manifest.txt";

const HEADER: &str = "# oxiboot payload cache (written by oxiboot-payloads; see docs/payloads.md)\n\
                      # ROLE PACKAGE VERSION ARCHITECTURE SHA256 DEB EXTRACTED\n";

/// One cached package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// What the package is for: `kernel`, `busybox`, ….
    pub role: String,
    pub package: String,
    pub version: String,
    pub architecture: String,
    /// SHA-256 of the `.deb`, lower-case hex.
    pub sha256: String,
    /// The `.deb`, relative to the cache.
    pub deb: String,
    /// Where `dpkg -x` unpacked it, relative to the cache.
    pub extracted: String,
}

/// All cached packages, in role order as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub entries: Vec<ManifestEntry>,
}

impl Manifest {
    /// Reads `<cache>/manifest.txt`; a missing file is an empty manifest.
    pub fn load(cache: &Path) -> Result<Self, Error> {
        let path = cache.join(MANIFEST_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::io(&path, "reading", e)),
        }
    }

    /// Parses manifest text (`path` is only for error messages).
    pub fn parse(text: &str, path: &Path) -> Result<Self, Error> {
        let mut manifest = Manifest::default();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split(' ').collect();
            let [role, package, version, architecture, sha256, deb, extracted] = fields[..] else {
                return Err(Error::Manifest {
                    path: path.to_path_buf(),
                    line: index + 1,
                    detail: format!("expected 7 fields, found {}", fields.len()),
                });
            };
            let relative_ok =
                |p: &str| !p.starts_with('/') && !p.split('/').any(|c| c == ".." || c.is_empty());
            if !relative_ok(deb) || !relative_ok(extracted) {
                return Err(Error::Manifest {
                    path: path.to_path_buf(),
                    line: index + 1,
                    detail: "paths must stay inside the cache".into(),
                });
            }
            if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::Manifest {
                    path: path.to_path_buf(),
                    line: index + 1,
                    detail: format!("bad SHA-256 {sha256:?}"),
                });
            }
            manifest.set(ManifestEntry {
                role: role.into(),
                package: package.into(),
                version: version.into(),
                architecture: architecture.into(),
                sha256: sha256.into(),
                deb: deb.into(),
                extracted: extracted.into(),
            });
        }
        Ok(manifest)
    }

    /// The entry for `role`.
    pub fn get(&self, role: &str) -> Option<&ManifestEntry> {
        self.entries.iter().find(|e| e.role == role)
    }

    /// Adds or replaces the entry for its role.
    pub fn set(&mut self, entry: ManifestEntry) {
        match self.entries.iter_mut().find(|e| e.role == entry.role) {
            Some(existing) => *existing = entry,
            None => self.entries.push(entry),
        }
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut out = HEADER.to_string();
        for e in &self.entries {
            out.push_str(&format!(
                "{} {} {} {} {} {} {}\n",
                e.role, e.package, e.version, e.architecture, e.sha256, e.deb, e.extracted
            ));
        }
        out
    }

    /// Writes `<cache>/manifest.txt` atomically.
    pub fn save(&self, cache: &Path) -> Result<(), Error> {
        let path = cache.join(MANIFEST_FILE);
        let temporary = cache.join(format!("{MANIFEST_FILE}.tmp{}", std::process::id()));
        std::fs::write(&temporary, self.render()).map_err(|e| Error::io(&temporary, "writing", e))?;
        std::fs::rename(&temporary, &path).map_err(|e| Error::io(&path, "renaming into place", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(role: &str, version: &str) -> ManifestEntry {
        ManifestEntry {
            role: role.into(),
            package: format!("{role}-package"),
            version: version.into(),
            architecture: "ppc64el".into(),
            sha256: "0123456789abcdef".repeat(4),
            deb: format!("debs/{role}_{version}_ppc64el.deb"),
            extracted: format!("pkgs/{role}_{version}"),
        }
    }

    #[test]
    fn round_trip_and_replace() {
        let mut m = Manifest::default();
        m.set(entry("kernel", "6.12.95-1~bpo12+1"));
        m.set(entry("busybox", "1:1.35.0-4+deb12u1+b1"));
        m.set(entry("kernel", "6.12.96-1~bpo12+1"));
        let text = m.render();
        assert!(text.starts_with("# oxiboot payload cache"));
        let back = Manifest::parse(&text, Path::new("m")).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.entries.len(), 2);
        assert_eq!(back.get("kernel").unwrap().version, "6.12.96-1~bpo12+1");
        assert!(back.get("qemu").is_none());
    }

    #[test]
    fn rejects_malformed_lines() {
        let good = Manifest { entries: vec![entry("kernel", "1")] }.render();
        let bad_sha = good.replace(&"0123456789abcdef".repeat(4), "xyz");
        let err = Manifest::parse(&bad_sha, Path::new("cache/manifest.txt")).unwrap_err();
        assert!(err.to_string().starts_with("cache/manifest.txt:3: bad SHA-256"), "{err}");
        assert!(Manifest::parse("kernel a b\n", Path::new("m")).is_err());
        let escape = good.replace("pkgs/kernel_1", "../../etc");
        assert!(Manifest::parse(&escape, Path::new("m")).is_err());
        let absolute = good.replace("debs/", "/debs/");
        assert!(Manifest::parse(&absolute, Path::new("m")).is_err());
    }

    #[test]
    fn missing_file_is_empty_and_save_load_works() {
        let dir = crate::cpio::tests::tempdir("manifest").unwrap();
        assert_eq!(Manifest::load(&dir).unwrap(), Manifest::default());
        let m = Manifest { entries: vec![entry("busybox", "2")] };
        m.save(&dir).unwrap();
        assert_eq!(Manifest::load(&dir).unwrap(), m);
        let _ = std::fs::remove_dir_all(dir);
    }
}
