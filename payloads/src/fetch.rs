//! The payload cache: the Debian kernel and busybox, fetched once and reused.
//!
//! Layout of a cache directory (`cargo xtask` uses `target/payloads/`):
//!
//! | path | what |
//! | --- | --- |
//! | `manifest.txt` | exact package versions and hashes ([`crate::manifest`]) |
//! | `debs/<package>_<version>_ppc64el.deb` | the downloaded packages |
//! | `pkgs/<package>_<version>/` | `dpkg -x` of each package |
//! | `.lock` | held while a process updates the cache |
//!
//! A role (`kernel`, `busybox`) that the manifest lists and whose files are present is served
//! without running apt at all, so later runs need no network and take milliseconds.
//! [`FetchOptions::refresh`] asks apt for the newest version again.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::apt::{self, PackageStanza, ARCH};
use crate::manifest::{Manifest, ManifestEntry};
use crate::Error;

/// The kernel series we boot: Debian's 6.12 (bookworm-backports, trixie).
pub const KERNEL_SERIES: &str = "6.12.";
/// The metapackage whose pinned dependency names the newest `powerpc64le` kernel image.
pub const KERNEL_METAPACKAGE: &str = "linux-image-powerpc64le";
/// The package with the static busybox.
pub const BUSYBOX_PACKAGE: &str = "busybox-static";

/// Role names in the manifest.
pub const ROLE_KERNEL: &str = "kernel";
pub const ROLE_BUSYBOX: &str = "busybox";

/// How to treat the cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchOptions {
    /// Ask apt for the newest version even if the cache has one (refreshes the lists as root).
    pub refresh: bool,
}

/// The unmodified Debian kernel, unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelPayload {
    /// `linux-image-6.12.95+deb12-powerpc64le`.
    pub package: String,
    /// Debian version of the package: `6.12.95-1~bpo12+1`.
    pub version: String,
    /// Kernel release (`uname -r`): `6.12.95+deb12-powerpc64le`.
    pub release: String,
    /// `/boot/vmlinux-<release>`: the unstripped ELF QEMU's `-kernel` takes.
    pub vmlinux: PathBuf,
    /// `/lib/modules/<release>`.
    pub modules_dir: PathBuf,
    /// Where the package is unpacked.
    pub root: PathBuf,
}

impl KernelPayload {
    /// The module file `<name>.ko.xz` (or `.ko`) under `modules_dir/kernel`, e.g. `kvm-hv`.
    pub fn module(&self, name: &str) -> Option<PathBuf> {
        find_file(&self.modules_dir.join("kernel"), &[format!("{name}.ko.xz"), format!("{name}.ko")])
    }
}

/// The static busybox, unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusyboxPayload {
    pub package: String,
    pub version: String,
    /// The binary (`/bin/busybox` in bookworm's package, `/usr/bin/busybox` in later ones).
    pub binary: PathBuf,
}

/// The kernel, from the cache or fetched into it.
pub fn ensure_kernel(cache: &Path) -> Result<KernelPayload, Error> {
    ensure_kernel_with(cache, FetchOptions::default())
}

/// [`ensure_kernel`] with options.
pub fn ensure_kernel_with(cache: &Path, options: FetchOptions) -> Result<KernelPayload, Error> {
    let entry =
        ensure_package(cache, ROLE_KERNEL, options, resolve_kernel, |root| kernel_files(root).is_ok())?;
    let root = cache.join(&entry.extracted);
    let (release, vmlinux, modules_dir) = kernel_files(&root).map_err(|what| Error::MissingInPackage {
        package: entry.package.clone(),
        what,
        root: root.clone(),
    })?;
    Ok(KernelPayload { package: entry.package, version: entry.version, release, vmlinux, modules_dir, root })
}

/// The busybox binary, from the cache or fetched into it.
pub fn ensure_busybox(cache: &Path) -> Result<PathBuf, Error> {
    ensure_busybox_with(cache, FetchOptions::default()).map(|b| b.binary)
}

/// [`ensure_busybox`] with options, returning the package version too.
pub fn ensure_busybox_with(cache: &Path, options: FetchOptions) -> Result<BusyboxPayload, Error> {
    let entry =
        ensure_package(cache, ROLE_BUSYBOX, options, resolve_busybox, |root| busybox_binary(root).is_some())?;
    let root = cache.join(&entry.extracted);
    let binary = busybox_binary(&root).ok_or_else(|| Error::MissingInPackage {
        package: entry.package.clone(),
        what: "bin/busybox or usr/bin/busybox".into(),
        root: root.clone(),
    })?;
    Ok(BusyboxPayload { package: entry.package, version: entry.version, binary })
}

/// The manifest of the cache (empty if nothing was fetched yet).
pub fn read_manifest(cache: &Path) -> Result<Manifest, Error> {
    Manifest::load(cache)
}

/// Serves `role` from the cache when `complete` accepts its unpacked tree; otherwise prepares
/// the host, resolves `(package, version)` with `resolve`, downloads and unpacks.
fn ensure_package(
    cache: &Path,
    role: &str,
    options: FetchOptions,
    resolve: fn() -> Result<(String, String), Error>,
    complete: impl Fn(&Path) -> bool,
) -> Result<ManifestEntry, Error> {
    std::fs::create_dir_all(cache).map_err(|e| Error::io(cache, "creating", e))?;
    let _lock = lock(cache)?;
    let mut manifest = Manifest::load(cache)?;
    let cached = manifest.get(role).filter(|e| complete(&cache.join(&e.extracted))).cloned();
    if let Some(entry) = &cached {
        if !options.refresh {
            return Ok(entry.clone());
        }
    }
    apt::prepare_host()?;
    let (package, version) = resolve()?;
    if let Some(entry) = cached.filter(|e| e.package == package && e.version == version) {
        eprintln!("payloads: {package} {version} is the newest and already cached");
        return Ok(entry);
    }
    let debs = cache.join("debs");
    let deb = apt::download(&package, &version, &debs)?;
    let sha256 = apt::sha256(&deb)?;
    let extracted = format!("pkgs/{package}_{}", apt::version_for_file_name(&version));
    eprintln!("payloads: dpkg -x {} {extracted}", deb.display());
    apt::extract(&deb, &cache.join(&extracted))?;
    if !complete(&cache.join(&extracted)) {
        return Err(Error::MissingInPackage {
            package: package.clone(),
            what: format!("the files the {role} role needs"),
            root: cache.join(&extracted),
        });
    }
    let deb_name = deb.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let entry = ManifestEntry {
        role: role.into(),
        package,
        version,
        architecture: ARCH.into(),
        sha256,
        deb: format!("debs/{deb_name}"),
        extracted,
    };
    manifest.set(entry.clone());
    manifest.save(cache)?;
    Ok(entry)
}

/// An exclusive lock on `<cache>/.lock`, released when dropped.
fn lock(cache: &Path) -> Result<File, Error> {
    let path = cache.join(".lock");
    let file = File::create(&path).map_err(|e| Error::io(&path, "creating", e))?;
    file.lock().map_err(|e| Error::io(&path, "locking", e))?;
    Ok(file)
}

/// The newest `linux-image-6.12.*-powerpc64le` (not `-64k`), through the metapackage.
fn resolve_kernel() -> Result<(String, String), Error> {
    let candidates: Vec<(String, String)> = apt::show(KERNEL_METAPACKAGE)?
        .iter()
        .flat_map(|s: &PackageStanza| apt::pinned_dependencies(&s.depends))
        .filter(|(name, _)| is_wanted_kernel_image(name))
        .collect();
    apt::newest(candidates, |(_, version)| version)?.ok_or_else(|| Error::PackageNotFound {
        what: format!("linux-image-{KERNEL_SERIES}*-powerpc64le:{ARCH} (through {KERNEL_METAPACKAGE})"),
        hint: "is bookworm-backports in the apt sources and `apt-get update` done?".into(),
    })
}

/// `linux-image-6.12.<…>-powerpc64le`, not the 64 KiB-page flavour, not a debug package.
fn is_wanted_kernel_image(name: &str) -> bool {
    name.strip_prefix("linux-image-")
        .and_then(|rest| rest.strip_suffix("-powerpc64le"))
        .is_some_and(|release| release.starts_with(KERNEL_SERIES) && !release.contains("-dbg"))
}

/// The newest `busybox-static:ppc64el`.
fn resolve_busybox() -> Result<(String, String), Error> {
    let stanzas = apt::show(BUSYBOX_PACKAGE)?;
    let newest = apt::newest(stanzas, |s| &s.version)?;
    newest.map(|s| (s.package, s.version)).ok_or_else(|| Error::PackageNotFound {
        what: format!("{BUSYBOX_PACKAGE}:{ARCH}"),
        hint: format!("has `dpkg --add-architecture {ARCH}` and `apt-get update` been done?"),
    })
}

/// `(release, vmlinux, modules dir)` of an unpacked kernel package, or what is missing.
fn kernel_files(root: &Path) -> Result<(String, PathBuf, PathBuf), String> {
    let modules = root.join("lib/modules");
    let releases: Vec<String> = std::fs::read_dir(&modules)
        .map_err(|_| "lib/modules".to_string())?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    let [release] = &releases[..] else {
        return Err(format!("exactly one release in lib/modules (found {releases:?})"));
    };
    let vmlinux = root.join(format!("boot/vmlinux-{release}"));
    if !vmlinux.is_file() {
        return Err(format!("boot/vmlinux-{release}"));
    }
    Ok((release.clone(), vmlinux, modules.join(release)))
}

fn busybox_binary(root: &Path) -> Option<PathBuf> {
    ["bin/busybox", "usr/bin/busybox"].iter().map(|p| root.join(p)).find(|p| p.is_file())
}

/// The first file under `dir` (recursively, in sorted order) whose name is one of `names`.
fn find_file(dir: &Path, names: &[String]) -> Option<PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).collect();
    entries.sort();
    for name in names {
        if let Some(file) =
            entries.iter().find(|p| p.is_file() && p.file_name().is_some_and(|n| n == name.as_str()))
        {
            return Some(file.clone());
        }
    }
    entries.iter().filter(|p| p.is_dir()).find_map(|d| find_file(d, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_image_names() {
        assert!(is_wanted_kernel_image("linux-image-6.12.95+deb12-powerpc64le"));
        assert!(is_wanted_kernel_image("linux-image-6.12.107+deb13-powerpc64le"));
        assert!(!is_wanted_kernel_image("linux-image-6.12.95+deb12-powerpc64le-64k"));
        assert!(!is_wanted_kernel_image("linux-image-6.1.0-50-powerpc64le"));
        assert!(!is_wanted_kernel_image("linux-image-6.12.95+deb12-powerpc64le-dbg"));
        assert!(!is_wanted_kernel_image("linux-headers-6.12.95+deb12-powerpc64le"));
    }

    /// A fake unpacked kernel package and busybox in a cache with a manifest: served without apt.
    #[test]
    fn cached_packages_are_served_without_apt() {
        let cache = crate::cpio::tests::tempdir("fetch-cache").unwrap();
        let release = "6.12.95+deb12-powerpc64le";
        let kernel_root = cache.join("pkgs/linux-image-x_1");
        let kvm = kernel_root.join(format!("lib/modules/{release}/kernel/arch/powerpc/kvm"));
        std::fs::create_dir_all(&kvm).unwrap();
        std::fs::write(kvm.join("kvm-hv.ko.xz"), b"").unwrap();
        std::fs::create_dir_all(kernel_root.join("boot")).unwrap();
        std::fs::write(kernel_root.join(format!("boot/vmlinux-{release}")), b"ELF").unwrap();
        let busybox_root = cache.join("pkgs/busybox-static_1%3a1");
        std::fs::create_dir_all(busybox_root.join("bin")).unwrap();
        std::fs::write(busybox_root.join("bin/busybox"), b"ELF").unwrap();
        let sha = "ab".repeat(32);
        let text = format!(
            "kernel linux-image-x 1 ppc64el {sha} debs/k.deb pkgs/linux-image-x_1\n\
             busybox busybox-static 1:1 ppc64el {sha} debs/b.deb pkgs/busybox-static_1%3a1\n"
        );
        std::fs::write(cache.join("manifest.txt"), text).unwrap();

        let kernel = ensure_kernel(&cache).unwrap();
        assert_eq!(kernel.release, release);
        assert_eq!(kernel.version, "1");
        assert_eq!(kernel.vmlinux, kernel_root.join(format!("boot/vmlinux-{release}")));
        assert_eq!(kernel.module("kvm-hv"), Some(kvm.join("kvm-hv.ko.xz")));
        assert_eq!(kernel.module("kvm"), None);
        assert_eq!(ensure_busybox(&cache).unwrap(), busybox_root.join("bin/busybox"));
        assert_eq!(read_manifest(&cache).unwrap().get("busybox").unwrap().version, "1:1");
        let _ = std::fs::remove_dir_all(cache);
    }

    /// Fetches the real packages from Debian's archive. Needs network and root (or a host
    /// already prepared as `docs/payloads.md` describes): `cargo test -p oxiboot-payloads --
    /// --ignored`. Uses `target/payloads` like `cargo xtask`.
    #[test]
    #[ignore = "needs network and root: fetches Debian packages"]
    fn fetch_real_packages() {
        let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/payloads");
        let kernel = ensure_kernel(&cache).unwrap();
        assert!(kernel.release.starts_with(KERNEL_SERIES), "{}", kernel.release);
        assert!(std::fs::metadata(&kernel.vmlinux).unwrap().len() > 10 << 20);
        assert!(kernel.module("kvm").is_some() && kernel.module("kvm-hv").is_some());
        let busybox = ensure_busybox(&cache).unwrap();
        crate::initramfs::TestInitramfs::new(&busybox).unwrap();
    }
}
