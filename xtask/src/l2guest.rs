//! L2 Linux guests: an L1 initramfs whose `l2-linux` action (`oxitest.action=l2-linux`) loads
//! `kvm`/`kvm-hv` and runs Debian's ppc64el `qemu-system-ppc64` with `-accel kvm` to boot the
//! payload kernel again, as an L2 guest, with a tiny initramfs that prints [`L2_MARKER`] and
//! powers off. Only the tests build it ([`ensure`]); `cargo xtask build` does not.
//!
//! The L1's QEMU comes from Debian's archive like the kernel (`apt-get download`, `dpkg -x`,
//! never installed): `qemu-system-ppc` (ppc64el, the newest apt knows: 10.x from
//! bookworm-backports), `qemu-system-data` of the same version (for `vof.bin`), and the library
//! packages that provide the binary's shared libraries. Those are found from the ELF files
//! themselves (read with `goblin`): the `DT_NEEDED` sonames of the binary and, recursively, of
//! every library found, looked up in the packages fetched so far; the packages named in the
//! `Depends` fields of the packages in use are fetched until every soname is found. Only the packages that provide a
//! file are kept, listed in `target/payloads/l2guest/packages.txt`; with that list present and
//! unpacked, no apt command runs.
//!
//! Layout of the L1 initramfs (`target/payloads/l2-linux-l1-initramfs.cpio`), on top of the
//! test initramfs:
//!
//! | path | what |
//! | --- | --- |
//! | `/lib/modules/kvm.ko`, `kvm-hv.ko` | the kernel's KVM modules |
//! | `/usr/bin/qemu-system-ppc64` | Debian's ppc64el QEMU |
//! | `/lib64/ld64.so.2` | the dynamic loader (the binary's `PT_INTERP`) |
//! | `/lib/powerpc64le-linux-gnu/<soname>` | every shared library it needs |
//! | `/usr/share/qemu/vof.bin` | the firmware of `-M pseries,x-vof=on` |
//! | `/l2/vmlinux`, `/l2/initramfs.cpio` | the L2's kernel (the payload's) and initramfs |
//!
//! The action's output: `OXITEST l2: <line>` for each line QEMU and the L2 print (the L2's
//! `/init` prints `L2LINUX userspace reached`, so the proof is
//! `OXITEST l2: L2LINUX userspace reached`), `OXITEST l2 exit=<status>`,
//! `OXITEST l2-linux reached-userspace=yes|no`, then `OXITEST l2-dmesg: <line>` for the L1's
//! kernel messages that mention KVM.

use crate::payload::Payload;
use oxiboot_payloads::apt;
use oxiboot_payloads::cpio::Archive;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `oxitest.action=` value that runs the L2.
pub const ACTION: &str = "l2-linux";

/// What the L2's `/init` prints once it runs (the L1 prints it as `OXITEST l2: <marker>`).
pub const L2_MARKER: &str = "L2LINUX userspace reached";

/// The L1's console line that proves the L2 reached user space.
pub const L2_MARKER_LINE: &str = "OXITEST l2: L2LINUX userspace reached";

/// Debian's QEMU for POWER guests (the binary `qemu-system-ppc64`).
const QEMU_PACKAGE: &str = "qemu-system-ppc";
/// QEMU's firmware blobs (`vof.bin`), architecture `all`.
const QEMU_DATA_PACKAGE: &str = "qemu-system-data";
const QEMU_BINARY: &str = "usr/bin/qemu-system-ppc64";
const VOF: &str = "usr/share/qemu/vof.bin";
/// Where the libraries go in the image (a directory glibc's loader searches by default).
const LIBRARY_DIR: &str = "lib/powerpc64le-linux-gnu";
/// Where Debian's packages keep shared libraries.
const LIBRARY_SEARCH: &[&str] =
    &["lib/powerpc64le-linux-gnu", "usr/lib/powerpc64le-linux-gnu", "lib64", "usr/lib64", "lib", "usr/lib"];

/// The L2's machine: KVM in the L1, VOF instead of SLOF, and the capabilities a nested guest
/// of a 4 KiB-page L1 can have (QEMU refuses the default spectre workarounds and 64 KiB
/// pages there). An oxiboot LPAR offers a 32-bit decrementer (no `ibm,dec-bits`), so the
/// large decrementer is off, and it does not offer relocation-on interrupts (H_SET_MODE
/// address-translation mode), so neither does the L2: both as QEMU asks for there.
const L2_MACHINE: &str = "pseries,x-vof=on,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,\
                          cap-ccf-assist=off,cap-hpt-max-page-size=4k,cap-large-decr=off,cap-ail-mode-3=off";

/// The L2's `/init`.
const L2_INIT: &str = "#!/bin/sh\n\
     export PATH=/bin\n\
     mount -t proc proc /proc\n\
     mount -t sysfs sysfs /sys\n\
     echo 'L2LINUX userspace reached'\n\
     echo \"L2LINUX uname: $(uname -a)\"\n\
     grep -E '^(cpu|platform|model)' /proc/cpuinfo | sed 's/^/L2LINUX cpuinfo: /'\n\
     grep MemTotal /proc/meminfo | sed 's/^/L2LINUX meminfo: /'\n\
     echo 'L2LINUX powering off'\n\
     poweroff -f\n\
     echo o > /proc/sysrq-trigger\n\
     while :; do sleep 3600; done\n";

/// Busybox applets the L2's `/init` uses.
const L2_APPLETS: &[&str] = &["sh", "mount", "echo", "uname", "grep", "sed", "poweroff", "sleep"];

/// The test helper: the payload and the L1 initramfs of the `l2-linux` action.
pub fn ensure() -> Result<(Payload, PathBuf), String> {
    let payload = crate::payload::ensure()?;
    let initramfs = l2_qemu_initramfs(&payload)?;
    Ok((payload, initramfs))
}

/// QEMU's own `pseries` machine as the nested-v2 L0 (`cap-nested-papr=on`) booting the
/// payload kernel with `initramfs` and the `l2-linux` action: the reference run.
pub fn qemu_l0_command(p: &Payload, initramfs: &Path) -> Command {
    crate::nested::pseries_l0_command_with(p, initramfs, ACTION, "3G")
}

/// The L1 action: load KVM, run QEMU with the L2 (its output streamed as `OXITEST l2:`
/// lines), then the L1's KVM messages.
fn l1_action() -> String {
    format!(
        "insmod /lib/modules/kvm.ko\n\
         insmod /lib/modules/kvm-hv.ko\n\
         oxitest_run l2-kvm-device ls -l /dev/kvm\n\
         cr=$(printf '\\r')\n\
         echo \"OXITEST l2-start uptime=$(cat /proc/uptime)\"\n\
         {{ LD_LIBRARY_PATH=/{LIBRARY_DIR} timeout 600 /{QEMU_BINARY} -L /usr/share/qemu \\\n\
         \x20   -accel kvm -M {L2_MACHINE} -m 512M -smp 1 \\\n\
         \x20   -nographic -nodefaults -serial stdio -no-reboot \\\n\
         \x20   -kernel /l2/vmlinux -initrd /l2/initramfs.cpio -append console=hvc0 < /dev/null 2>&1\n\
         \x20   echo $? > /tmp/l2.status\n\
         }} | while IFS= read -r line || [ -n \"$line\" ]; do\n\
         \x20   line=${{line%\"$cr\"}}\n\
         \x20   printf 'OXITEST l2: %s\\n' \"$line\"\n\
         \x20   case \"$line\" in *'{L2_MARKER}'*) : > /tmp/l2.marker ;; esac\n\
         done\n\
         echo \"OXITEST l2 exit=$(cat /tmp/l2.status) uptime=$(cat /proc/uptime)\"\n\
         if [ -e /tmp/l2.marker ]; then\n\
         \x20   echo \"OXITEST {ACTION} reached-userspace=yes\"\n\
         else\n\
         \x20   echo \"OXITEST {ACTION} reached-userspace=no\"\n\
         fi\n\
         oxitest_run l2-dmesg sh -c 'dmesg | grep -i kvm'"
    )
}

/// Builds `target/payloads/l2-linux-l1-initramfs.cpio` (see the module documentation),
/// fetching QEMU and its libraries the first time.
pub fn l2_qemu_initramfs(p: &Payload) -> Result<PathBuf, String> {
    let _building = crate::nested::build_lock();
    let cache = crate::payload::cache_dir();
    let busybox = oxiboot_payloads::ensure_busybox(&cache).map_err(|e| e.to_string())?;
    let kernel = oxiboot_payloads::ensure_kernel(&cache).map_err(|e| e.to_string())?;
    let qemu = ensure_qemu(&cache.join("l2guest"))?;

    let mut image = oxiboot_payloads::TestInitramfs::new(&busybox).map_err(|e| e.to_string())?;
    for name in ["kvm", "kvm-hv"] {
        let module =
            kernel.module(name).ok_or_else(|| format!("{}: no {name} module", p.modules.display()))?;
        image.add_kernel_module(&module).map_err(|e| e.to_string())?;
    }
    let mut add = |path: &str, host: &Path, mode: u32| {
        image.add_host_file(path, host, mode).map_err(|e| format!("{path} from {}: {e}", host.display()))
    };
    add(QEMU_BINARY, &qemu.binary, 0o755)?;
    add(&qemu.interpreter.0, &qemu.interpreter.1, 0o755)?;
    for (soname, file) in &qemu.libraries {
        add(&format!("{LIBRARY_DIR}/{soname}"), file, 0o755)?;
    }
    add(VOF, &qemu.vof, 0o644)?;
    add("l2/vmlinux", &p.vmlinux, 0o644)?;
    image
        .archive_mut()
        .add_file("l2/initramfs.cpio", 0o644, l2_initramfs(&busybox)?)
        .map_err(|e| e.to_string())?;
    image
        .script_mut()
        .add_action(ACTION, &l1_action(), oxiboot_payloads::Finish::PowerOff)
        .map_err(|e| e.to_string())?;
    let out = cache.join("l2-linux-l1-initramfs.cpio");
    image.write(&out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The L2's initramfs: busybox and [`L2_INIT`].
fn l2_initramfs(busybox: &Path) -> Result<Vec<u8>, String> {
    let binary = std::fs::read(busybox).map_err(|e| format!("{}: {e}", busybox.display()))?;
    let mut archive = Archive::new();
    let build = || -> Result<(), oxiboot_payloads::cpio::CpioError> {
        archive.add_file("bin/busybox", 0o755, binary)?;
        for applet in L2_APPLETS {
            archive.add_symlink(&format!("bin/{applet}"), "busybox")?;
        }
        archive.add_char_device("dev/console", 0o600, 5, 1)?;
        archive.add_dir("proc", 0o555)?;
        archive.add_dir("sys", 0o555)?;
        archive.add_file("init", 0o755, L2_INIT.as_bytes().to_vec())
    };
    build().map_err(|e| format!("L2 initramfs: {e}"))?;
    Ok(archive.to_bytes())
}

/// The L1's QEMU, unpacked: the host paths of what goes into the image.
#[derive(Debug)]
struct UserspaceQemu {
    binary: PathBuf,
    /// The loader's path in the image (`lib64/ld64.so.2`) and its file.
    interpreter: (String, PathBuf),
    /// Soname → file.
    libraries: BTreeMap<String, PathBuf>,
    vof: PathBuf,
}

/// An unpacked package.
#[derive(Debug, Clone)]
struct Unpacked {
    package: String,
    version: String,
    architecture: String,
    /// Relative to the `l2guest` cache directory.
    extracted: String,
    depends: String,
}

const PACKAGE_LIST: &str = "packages.txt";

/// QEMU and its libraries from `dir` (`target/payloads/l2guest`), fetched when the package
/// list is missing or incomplete.
fn ensure_qemu(dir: &Path) -> Result<UserspaceQemu, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let lock_path = dir.join(".lock");
    let lock = std::fs::File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    lock.lock().map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    if let Some(packages) = read_package_list(dir) {
        if let Ok(qemu) = assemble(dir, &packages) {
            return Ok(qemu);
        }
    }
    let packages = fetch_closure(dir)?;
    let qemu = assemble(dir, &packages)?;
    let text: String = packages
        .iter()
        .map(|u| format!("{} {} {} {}\n", u.package, u.version, u.architecture, u.extracted))
        .collect();
    let list = dir.join(PACKAGE_LIST);
    std::fs::write(&list, text).map_err(|e| format!("{}: {e}", list.display()))?;
    Ok(qemu)
}

/// The cached package list, if every package in it is unpacked.
fn read_package_list(dir: &Path) -> Option<Vec<Unpacked>> {
    let text = std::fs::read_to_string(dir.join(PACKAGE_LIST)).ok()?;
    let mut packages = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let [package, version, architecture, extracted] = line.split_whitespace().collect::<Vec<_>>()[..]
        else {
            return None;
        };
        if !dir.join(extracted).is_dir() {
            return None;
        }
        packages.push(Unpacked {
            package: package.into(),
            version: version.into(),
            architecture: architecture.into(),
            extracted: extracted.into(),
            depends: String::new(),
        });
    }
    Some(packages)
}

/// The image's files from unpacked packages; an error names what is missing.
fn assemble(dir: &Path, packages: &[Unpacked]) -> Result<UserspaceQemu, String> {
    let root_of = |name: &str| {
        packages
            .iter()
            .find(|u| u.package == name)
            .map(|u| dir.join(&u.extracted))
            .ok_or_else(|| format!("{name} is not among the fetched packages"))
    };
    let binary = root_of(QEMU_PACKAGE)?.join(QEMU_BINARY);
    let vof = root_of(QEMU_DATA_PACKAGE)?.join(VOF);
    let roots: Vec<(String, PathBuf)> =
        packages.iter().map(|u| (u.package.clone(), dir.join(&u.extracted))).collect();
    let closure = library_closure(&roots, &binary)?;
    if !closure.missing.is_empty() {
        return Err(format!("no package provides {:?}", closure.missing));
    }
    let interpreter = closure.interpreter.ok_or("qemu-system-ppc64 has no PT_INTERP")?;
    if !vof.is_file() {
        return Err(format!("{} is missing", vof.display()));
    }
    Ok(UserspaceQemu {
        binary,
        interpreter: (interpreter.0, interpreter.1 .1),
        libraries: closure.libraries.into_iter().map(|(soname, (_, file))| (soname, file)).collect(),
        vof,
    })
}

/// Resolves the package set with apt: QEMU, its data, and the library packages reached from
/// QEMU's `Depends` through packages that provide a needed soname. Returns only the packages
/// in use.
fn fetch_closure(dir: &Path) -> Result<Vec<Unpacked>, String> {
    apt::prepare_host().map_err(|e| e.to_string())?;
    let qemu = fetch(dir, QEMU_PACKAGE, apt::ARCH, None)?
        .ok_or_else(|| format!("apt knows no {QEMU_PACKAGE}:{}", apt::ARCH))?;
    let data = fetch(dir, QEMU_DATA_PACKAGE, "all", Some(&qemu.version))?
        .ok_or_else(|| format!("apt knows no {QEMU_DATA_PACKAGE}:all {}", qemu.version))?;
    let binary = dir.join(&qemu.extracted).join(QEMU_BINARY);
    let mut fetched: BTreeMap<String, Unpacked> = BTreeMap::new();
    let mut tried: BTreeSet<String> = [qemu.package.clone(), data.package.clone()].into();
    fetched.insert(qemu.package.clone(), qemu.clone());
    loop {
        let roots: Vec<(String, PathBuf)> =
            fetched.values().map(|u| (u.package.clone(), dir.join(&u.extracted))).collect();
        let closure = library_closure(&roots, &binary)?;
        let used = closure.packages();
        if closure.missing.is_empty() {
            let mut packages: Vec<Unpacked> = fetched
                .into_values()
                .filter(|u| u.package == QEMU_PACKAGE || used.contains(&u.package))
                .collect();
            packages.push(data);
            return Ok(packages);
        }
        let candidates: BTreeSet<String> = fetched
            .values()
            .filter(|u| u.package == QEMU_PACKAGE || used.contains(&u.package))
            .flat_map(|u| depends_names(&u.depends))
            .filter(|name| !tried.contains(name))
            .collect();
        if candidates.is_empty() {
            return Err(format!(
                "{QEMU_PACKAGE}: no package among the dependencies provides {:?}",
                closure.missing
            ));
        }
        for name in candidates {
            tried.insert(name.clone());
            if let Some(unpacked) = fetch(dir, &name, apt::ARCH, None)? {
                fetched.insert(name, unpacked);
            }
        }
    }
}

/// The package names of a `Depends` field (first alternative of each, without version or
/// architecture qualifiers), except QEMU's own packages (their libraries are not needed).
fn depends_names(depends: &str) -> Vec<String> {
    depends
        .split(',')
        .filter_map(|dep| dep.split('|').next())
        .filter_map(|alt| alt.split_whitespace().next())
        .map(|name| name.split(':').next().unwrap_or(name).to_string())
        .filter(|name| !name.is_empty() && !name.starts_with("qemu-"))
        .collect()
}

/// The newest `package:architecture` (or exactly `version`) downloaded into `dir/debs` and
/// unpacked into `dir/pkgs`, both reused when present; `None` if apt knows no such package
/// (a virtual package in a `Depends`).
fn fetch(
    dir: &Path,
    package: &str,
    architecture: &str,
    version: Option<&str>,
) -> Result<Option<Unpacked>, String> {
    let stanzas: Vec<apt::PackageStanza> = apt::show_for(package, architecture)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|s| version.is_none_or(|v| s.version == v))
        .collect();
    let Some(stanza) = apt::newest(stanzas, |s| &s.version).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let file_version = apt::version_for_file_name(&stanza.version);
    let debs = dir.join("debs");
    let mut deb = debs.join(format!("{package}_{file_version}_{architecture}.deb"));
    if !deb.is_file() {
        deb = apt::download_for(package, architecture, &stanza.version, &debs).map_err(|e| e.to_string())?;
    }
    let extracted = format!("pkgs/{package}_{file_version}");
    if !dir.join(&extracted).is_dir() {
        apt::extract(&deb, &dir.join(&extracted)).map_err(|e| e.to_string())?;
    }
    Ok(Some(Unpacked {
        package: package.into(),
        version: stanza.version,
        architecture: architecture.into(),
        extracted,
        depends: stanza.depends,
    }))
}

/// The shared libraries an executable needs, found in unpacked packages.
#[derive(Debug, Default)]
struct Closure {
    /// Soname → (package, file).
    libraries: BTreeMap<String, (String, PathBuf)>,
    /// The `PT_INTERP` path (without the leading `/`) → (package, file).
    interpreter: Option<(String, (String, PathBuf))>,
    /// Sonames no package provides.
    missing: BTreeSet<String>,
}

impl Closure {
    /// The packages that provide a file.
    fn packages(&self) -> BTreeSet<String> {
        let libraries = self.libraries.values().map(|(p, _)| p.clone());
        libraries.chain(self.interpreter.iter().map(|(_, (p, _))| p.clone())).collect()
    }
}

/// Follows `DT_NEEDED` from `binary` through the libraries found in `roots` (package, unpacked
/// tree), in order.
fn library_closure(roots: &[(String, PathBuf)], binary: &Path) -> Result<Closure, String> {
    let mut closure = Closure::default();
    let read = |file: &Path| {
        let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        elf_dynamic(&bytes).map_err(|e| format!("{}: {e}", file.display()))
    };
    let main = read(binary)?;
    if let Some(interp) = &main.interpreter {
        let relative = interp.trim_start_matches('/');
        if let Some(found) =
            roots.iter().find_map(|(p, root)| resolve_in(root, relative).map(|f| (p.clone(), f)))
        {
            closure.interpreter = Some((relative.to_string(), found));
        } else {
            closure.missing.insert(interp.clone());
        }
    }
    let mut pending = main.needed;
    while let Some(soname) = pending.pop() {
        if closure.libraries.contains_key(&soname) || closure.missing.contains(&soname) {
            continue;
        }
        let found = roots.iter().find_map(|(package, root)| {
            LIBRARY_SEARCH
                .iter()
                .find_map(|d| resolve_in(root, &format!("{d}/{soname}")))
                .map(|file| (package.clone(), file))
        });
        match found {
            Some((package, file)) => {
                pending.extend(read(&file)?.needed);
                closure.libraries.insert(soname, (package, file));
            }
            None => {
                closure.missing.insert(soname);
            }
        }
    }
    Ok(closure)
}

/// `root/relative` with symbolic links followed inside `root` (an absolute link target is
/// taken relative to `root`, not to the host), if it ends at a regular file.
fn resolve_in(root: &Path, relative: &str) -> Option<PathBuf> {
    let mut path = root.join(relative);
    for _ in 0..16 {
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if meta.is_file() {
            return Some(path);
        }
        if !meta.file_type().is_symlink() {
            return None;
        }
        let target = std::fs::read_link(&path).ok()?;
        path = match target.strip_prefix("/") {
            Ok(inside) => root.join(inside),
            Err(_) => path.parent()?.join(target),
        };
    }
    None
}

/// What the dynamic loader reads from an ELF file.
#[derive(Debug, Default, PartialEq, Eq)]
struct ElfDynamic {
    /// `PT_INTERP`.
    interpreter: Option<String>,
    /// `DT_NEEDED` sonames, in order.
    needed: Vec<String>,
}

/// Reads `PT_INTERP` and the `DT_NEEDED` entries of an ELF file (through `goblin`).
fn elf_dynamic(bytes: &[u8]) -> Result<ElfDynamic, String> {
    let elf = goblin::elf::Elf::parse(bytes).map_err(|e| e.to_string())?;
    Ok(ElfDynamic {
        interpreter: elf.interpreter.map(str::to_string),
        needed: elf.libraries.iter().map(|s| s.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_names() {
        assert_eq!(
            depends_names(
                "libaio1 (>= 0.3.93), libc6 (>= 2.34), zlib1g (>= 1:1.2.0), qemu-system-common (= 1:10), \
                 debconf (>= 0.5) | debconf-2.0, libfoo:any"
            ),
            ["libaio1", "libc6", "zlib1g", "debconf", "libfoo"]
        );
        assert!(depends_names("").is_empty());
    }

    /// The host's own `/bin/sh` (an x86-64 ELF: the reader does not care for the machine).
    #[test]
    fn reads_the_dynamic_section_of_a_host_binary() {
        let Ok(bytes) = std::fs::read("/bin/sh") else { return };
        let info = elf_dynamic(&bytes).unwrap();
        assert!(info.needed.iter().any(|n| n == "libc.so.6"), "{info:?}");
        assert!(info.interpreter.is_some_and(|i| i.contains("ld-linux")));
        assert!(elf_dynamic(b"#!/bin/sh\n").is_err());
        assert!(elf_dynamic(&bytes[..100]).is_err());
    }

    #[test]
    fn symlinks_stay_inside_the_root() {
        let dir = std::env::temp_dir().join(format!("l2guest-resolve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("lib/x")).unwrap();
        std::fs::create_dir_all(dir.join("lib64")).unwrap();
        std::fs::write(dir.join("lib/x/ld.so.real"), b"x").unwrap();
        std::os::unix::fs::symlink("/lib/x/ld.so.real", dir.join("lib64/ld.so")).unwrap();
        std::os::unix::fs::symlink("ld.so.real", dir.join("lib/x/libc.so")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.join("lib/x/host")).unwrap();
        assert_eq!(resolve_in(&dir, "lib64/ld.so"), Some(dir.join("lib/x/ld.so.real")));
        assert_eq!(resolve_in(&dir, "lib/x/libc.so"), Some(dir.join("lib/x/ld.so.real")));
        assert_eq!(resolve_in(&dir, "lib/x/host"), None);
        assert_eq!(resolve_in(&dir, "lib/x"), None);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn l1_action_is_valid_shell() {
        let script = format!("oxitest_run() {{ :; }}\n{}\n", l1_action());
        let file = std::env::temp_dir().join(format!("l2guest-action-{}.sh", std::process::id()));
        std::fs::write(&file, script).unwrap();
        if let Ok(out) = Command::new("sh").arg("-n").arg(&file).output() {
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let _ = std::fs::remove_file(file);
        assert!(l1_action().contains(L2_MARKER) && L2_INIT.contains(L2_MARKER));
        assert!(L2_MARKER_LINE.ends_with(L2_MARKER));
    }
}
