//! Getting ppc64el packages from Debian's archive with the host's apt, without installing them:
//! `dpkg --add-architecture ppc64el`, the `<codename>-backports` suite in the apt sources,
//! `apt-get update`, `apt-cache show` to pick versions, `apt-get download` and `dpkg -x`.
//!
//! Changing the host's apt configuration needs root; without root, [`prepare_host`] fails
//! with the exact commands to run (unless the host is already prepared).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::command::{describe, run, run_capture, run_text};
use crate::Error;

/// The Debian architecture of every package we fetch.
pub const ARCH: &str = "ppc64el";

/// The apt source file we add (the same one `cargo xtask` adds for QEMU).
pub const BACKPORTS_SOURCES: &str = "/etc/apt/sources.list.d/oxiboot-backports.sources";

/// What the host's apt configuration lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostState {
    pub codename: String,
    pub has_architecture: bool,
    pub has_backports: bool,
}

impl HostState {
    /// Inspects `dpkg` and the apt sources.
    pub fn inspect() -> Result<Self, Error> {
        let codename = debian_codename();
        let foreign = run_text(Command::new("dpkg").arg("--print-foreign-architectures"))?;
        Ok(HostState {
            has_architecture: foreign.split_whitespace().any(|a| a == ARCH),
            has_backports: sources_mention(&format!("{codename}-backports")),
            codename,
        })
    }

    pub fn is_prepared(&self) -> bool {
        self.has_architecture && self.has_backports
    }

    /// The shell commands (for a root shell) that prepare the host and refresh the lists.
    pub fn commands(&self) -> String {
        let mut lines = Vec::new();
        if !self.has_architecture {
            lines.push(format!("dpkg --add-architecture {ARCH}"));
        }
        if !self.has_backports {
            lines.push(format!(
                "printf '{}' > {BACKPORTS_SOURCES}",
                backports_entry(&self.codename).replace('\n', "\\n")
            ));
        }
        lines.push("apt-get update".into());
        lines.iter().map(|l| format!("  {l}\n")).collect()
    }
}

/// The deb822 entry for `<codename>-backports` (as `cargo xtask` writes it).
pub fn backports_entry(codename: &str) -> String {
    format!(
        "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: {codename}-backports\nComponents: main\n\
         Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )
}

fn debian_codename() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
                .map(|s| s.trim_matches('"').to_string())
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "bookworm".into())
}

/// Whether any apt source file mentions `suite`.
fn sources_mention(suite: &str) -> bool {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        files.extend(
            dir.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "list" || x == "sources")),
        );
    }
    files
        .iter()
        .any(|f| std::fs::read_to_string(f).is_ok_and(|t| t.lines().any(|l| active_mention(l, suite))))
}

/// A source line (not a comment) naming the suite as a whole word.
fn active_mention(line: &str, suite: &str) -> bool {
    !line.trim_start().starts_with('#') && line.split_whitespace().any(|w| w == suite)
}

/// Whether we run as root (euid 0).
pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Makes sure apt can see ppc64el packages from the suite and its backports, then refreshes
/// the package lists (as root). Without root, a prepared host is used with its current lists;
/// an unprepared one is an error listing the commands. Done once per process.
pub fn prepare_host() -> Result<(), Error> {
    // Once per process is enough (fetching the kernel and busybox would update twice).
    static PREPARED: AtomicBool = AtomicBool::new(false);
    if PREPARED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let state = HostState::inspect()?;
    if !is_root() {
        if state.is_prepared() {
            eprintln!("payloads: not root: using the apt package lists as they are");
            PREPARED.store(true, Ordering::Relaxed);
            return Ok(());
        }
        return Err(Error::NeedsRoot {
            why: format!("apt must know the {ARCH} architecture and {}-backports", state.codename),
            commands: state.commands(),
        });
    }
    if !state.has_architecture {
        eprintln!("payloads: dpkg --add-architecture {ARCH}");
        run(Command::new("dpkg").args(["--add-architecture", ARCH]))?;
    }
    if !state.has_backports {
        eprintln!("payloads: adding {}-backports as {BACKPORTS_SOURCES}", state.codename);
        let path = Path::new(BACKPORTS_SOURCES);
        std::fs::write(path, backports_entry(&state.codename)).map_err(|e| Error::io(path, "writing", e))?;
    }
    eprintln!("payloads: apt-get update");
    // A mirror that is mid-sync makes `apt-get update` fail for one index while the others are
    // fine; carry on with what apt has and fail later if the packages we need are missing.
    if let Err(e) = run(Command::new("apt-get").args(["update", "-q"])) {
        let text = e.to_string();
        let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("E:") || l.starts_with("W:")).collect();
        eprintln!(
            "payloads: warning: `apt-get update` failed:\n{}\npayloads: continuing with the package lists apt has",
            if errors.is_empty() { text.clone() } else { errors.join("\n") }
        );
    }
    PREPARED.store(true, Ordering::Relaxed);
    Ok(())
}

/// One stanza of `apt-cache show` output: the fields we use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageStanza {
    pub package: String,
    pub version: String,
    pub architecture: String,
    pub depends: String,
}

/// Parses `apt-cache show` output (deb822 stanzas separated by blank lines; continuation
/// lines start with white space and are ignored).
pub fn parse_stanzas(text: &str) -> Vec<PackageStanza> {
    let mut stanzas = Vec::new();
    let mut current = PackageStanza::default();
    for line in text.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            if !current.package.is_empty() {
                stanzas.push(std::mem::take(&mut current));
            }
            current = PackageStanza::default();
            continue;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim().to_string();
        match key {
            "Package" => current.package = value,
            "Version" => current.version = value,
            "Architecture" => current.architecture = value,
            "Depends" => current.depends = value,
            _ => {}
        }
    }
    stanzas
}

/// All versions of `package` for [`ARCH`] apt knows about (empty if none).
pub fn show(package: &str) -> Result<Vec<PackageStanza>, Error> {
    show_for(package, ARCH)
}

/// All versions of `package` for `architecture` (`ppc64el`, or `all`) apt knows about.
pub fn show_for(package: &str, architecture: &str) -> Result<Vec<PackageStanza>, Error> {
    let mut command = Command::new("apt-cache");
    command.args(["show", &format!("{package}:{architecture}")]).env("LC_ALL", "C");
    match run_text(&mut command) {
        Ok(text) => Ok(parse_stanzas(&text).into_iter().filter(|s| s.architecture == architecture).collect()),
        // apt-cache exits non-zero for an unknown package.
        Err(Error::Command { output, .. })
            if output.contains("No packages found") || output.contains("Unable to locate") =>
        {
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// Whether Debian version `a` is newer than `b` (`dpkg --compare-versions a gt b`).
pub fn version_newer(a: &str, b: &str) -> Result<bool, Error> {
    let mut command = Command::new("dpkg");
    command.args(["--compare-versions", a, "gt", b]);
    let status = command.status().map_err(|source| Error::Spawn { command: describe(&command), source })?;
    match status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(Error::UnexpectedOutput {
            command: describe(&command),
            detail: format!("exit status {status} (invalid version?)"),
        }),
    }
}

/// The newest of `items` by the version `version_of` returns.
pub fn newest<T>(items: Vec<T>, version_of: impl Fn(&T) -> &str) -> Result<Option<T>, Error> {
    let mut best: Option<T> = None;
    for item in items {
        let better = match &best {
            None => true,
            Some(b) => version_newer(version_of(&item), version_of(b))?,
        };
        if better {
            best = Some(item);
        }
    }
    Ok(best)
}

/// The `(package, exact version)` pairs of a Depends field pinned with `(= version)`.
pub fn pinned_dependencies(depends: &str) -> Vec<(String, String)> {
    depends
        .split(',')
        .filter_map(|dep| {
            let dep = dep.trim();
            let (name, rest) = dep.split_once(' ')?;
            let version = rest.trim().strip_prefix("(=")?.strip_suffix(')')?.trim();
            let name = name.split(':').next()?;
            Some((name.to_string(), version.to_string()))
        })
        .collect()
}

/// Downloads `package=version` for [`ARCH`] into `dir` (created if needed) and returns the
/// `.deb`'s path.
pub fn download(package: &str, version: &str, dir: &Path) -> Result<PathBuf, Error> {
    download_for(package, ARCH, version, dir)
}

/// [`download`] for `architecture` (`ppc64el`, or `all`).
pub fn download_for(package: &str, architecture: &str, version: &str, dir: &Path) -> Result<PathBuf, Error> {
    let staging = dir.join(format!(".download-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, "creating", e))?;
    let mut command = Command::new("apt-get");
    command.args(["download", "-q", &format!("{package}:{architecture}={version}")]).current_dir(&staging);
    if is_root() {
        // Root downloads into a directory `_apt` may not reach; say so instead of a warning.
        command.args(["-o", "APT::Sandbox::User=root"]);
    }
    eprintln!("payloads: apt-get download {package}:{architecture}={version}");
    run_capture(&mut command)?;
    let debs: Vec<PathBuf> = std::fs::read_dir(&staging)
        .map_err(|e| Error::io(&staging, "listing", e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    let [deb] = &debs[..] else {
        return Err(Error::UnexpectedOutput {
            command: describe(&command),
            detail: format!("expected one .deb in {}, found {}", staging.display(), debs.len()),
        });
    };
    let file_name = deb.file_name().unwrap_or_default();
    let target = dir.join(file_name);
    std::fs::rename(deb, &target).map_err(|e| Error::io(&target, "moving the download to", e))?;
    let _ = std::fs::remove_dir_all(&staging);
    Ok(target)
}

/// Unpacks `deb` with `dpkg -x` into `target` (through a temporary directory, so `target`
/// exists only when complete).
pub fn extract(deb: &Path, target: &Path) -> Result<(), Error> {
    let mut staging = target.as_os_str().to_owned();
    staging.push(format!(".partial{}", std::process::id()));
    let staging = PathBuf::from(staging);
    let _ = std::fs::remove_dir_all(&staging);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, "creating", e))?;
    }
    run(Command::new("dpkg").arg("-x").arg(deb).arg(&staging))?;
    let _ = std::fs::remove_dir_all(target);
    std::fs::rename(&staging, target).map_err(|e| Error::io(target, "renaming into place", e))
}

/// SHA-256 of a file, lower-case hex (`sha256sum`).
pub fn sha256(file: &Path) -> Result<String, Error> {
    let mut command = Command::new("sha256sum");
    command.arg(file);
    let text = run_text(&mut command)?;
    match text.split_whitespace().next() {
        Some(hash) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(hash.to_lowercase())
        }
        _ => Err(Error::UnexpectedOutput {
            command: describe(&command),
            detail: format!("no hash in {text:?}"),
        }),
    }
}

/// A package version as a file-name component (apt's own convention: `:` → `%3a`).
pub fn version_for_file_name(version: &str) -> String {
    version.replace(':', "%3a")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOW: &str = "Package: linux-image-powerpc64le\n\
Source: linux-signed-ppc64el (6.12.95+1~bpo12+1)\n\
Version: 6.12.95-1~bpo12+1\n\
Architecture: ppc64el\n\
Depends: linux-image-6.12.95+deb12-powerpc64le (= 6.12.95-1~bpo12+1)\n\
Description: Linux for 64-bit little-endian PowerPC (meta-package)\n\
\x20This package depends on the latest Linux kernel\n\
\x20Depends: not-a-field\n\
\n\
Package: linux-image-powerpc64le\n\
Version: 6.1.176-1\n\
Architecture: ppc64el\n\
Depends: linux-image-6.1.0-50-powerpc64le (= 6.1.176-1)\n";

    #[test]
    fn parses_apt_cache_show() {
        let stanzas = parse_stanzas(SHOW);
        assert_eq!(stanzas.len(), 2);
        assert_eq!(stanzas[0].version, "6.12.95-1~bpo12+1");
        assert_eq!(stanzas[0].depends, "linux-image-6.12.95+deb12-powerpc64le (= 6.12.95-1~bpo12+1)");
        assert_eq!(stanzas[1].package, "linux-image-powerpc64le");
        assert_eq!(stanzas[1].architecture, "ppc64el");
    }

    #[test]
    fn pinned_dependencies_of_a_metapackage() {
        assert_eq!(
            pinned_dependencies(
                "linux-image-6.12.95+deb12-powerpc64le (= 6.12.95-1~bpo12+1), foo (>= 1), bar"
            ),
            [("linux-image-6.12.95+deb12-powerpc64le".to_string(), "6.12.95-1~bpo12+1".to_string())]
        );
        assert_eq!(pinned_dependencies("a:any (= 2)"), [("a".to_string(), "2".to_string())]);
        assert!(pinned_dependencies("").is_empty());
    }

    #[test]
    fn backports_entry_matches_xtask_format() {
        let entry = backports_entry("bookworm");
        assert_eq!(
            entry,
            "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\n\
             Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        );
        let state = HostState { codename: "bookworm".into(), has_architecture: false, has_backports: false };
        let commands = state.commands();
        assert!(commands.contains("dpkg --add-architecture ppc64el"));
        assert!(commands.contains("Suites: bookworm-backports\\n"));
        assert!(commands.trim_end().ends_with("apt-get update"));
    }

    #[test]
    fn source_lines() {
        assert!(active_mention("Suites: bookworm-backports", "bookworm-backports"));
        assert!(active_mention(
            "deb http://deb.debian.org/debian bookworm-backports main",
            "bookworm-backports"
        ));
        assert!(!active_mention("# deb http://x bookworm-backports main", "bookworm-backports"));
        assert!(!active_mention("Suites: bookworm-backports-sloppy", "bookworm-backports"));
    }

    #[test]
    fn version_names() {
        assert_eq!(version_for_file_name("1:1.35.0-4+deb12u1+b1"), "1%3a1.35.0-4+deb12u1+b1");
    }

    /// Needs `dpkg` (any Debian host).
    #[test]
    fn newest_uses_debian_ordering() {
        if Command::new("dpkg").arg("--version").output().is_err() {
            eprintln!("no dpkg; skipped");
            return;
        }
        let versions = vec!["6.12.9-1", "6.12.95-1~bpo12+1", "6.12.10-1", "6.12.95-1~bpo12+1~rc"];
        assert_eq!(newest(versions, |v| v).unwrap(), Some("6.12.95-1~bpo12+1"));
        assert!(version_newer("1:1.0", "9.9").unwrap());
        assert!(!version_newer("1.0~rc1", "1.0").unwrap());
        assert_eq!(newest(Vec::<&str>::new(), |v| v).unwrap(), None);
    }
}
