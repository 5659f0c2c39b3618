//! The test initramfs: busybox, the few device nodes and mount points Linux user space needs
//! before devtmpfs is mounted, and the generated `/init` ([`crate::init_script`]).
//!
//! Layout (all owned by root, mtime 0, uncompressed newc cpio):
//!
//! | path | what |
//! | --- | --- |
//! | `/bin/busybox` | `busybox-static` (ppc64el), mode 0755 |
//! | `/bin/<applet>` | symlinks to `busybox` for every applet `/init` uses ([`APPLETS`]) |
//! | `/init` | the generated script, mode 0755 |
//! | `/dev/console` | character device 5:1, mode 0600 (the kernel opens it for init's stdio) |
//! | `/dev`, `/proc`, `/sys`, `/tmp`, `/root` | mount points and scratch space |
//! | `/lib/modules/` | kernel modules added with [`TestInitramfs::add_kernel_module`] (none by default) |

use std::path::Path;
use std::process::Command;

use crate::command::run_capture;
use crate::cpio::Archive;
use crate::init_script::InitScript;
use crate::Error;

/// Busybox applets linked into `/bin` (what `/init` and its helpers call, plus a few that make
/// the `shell` action usable before `busybox --install`).
pub const APPLETS: &[&str] = &[
    "awk", "cat", "cttyhack", "date", "dd", "devmem", "dmesg", "echo", "grep", "head", "hwclock", "insmod",
    "ls", "lsmod", "mkdir", "mount", "od", "poweroff", "printf", "reboot", "sed", "seq", "setsid", "sh",
    "sleep", "taskset", "timeout", "tr", "true", "uname", "wc",
];

/// Builds a test initramfs: start from [`TestInitramfs::new`], extend, then write.
#[derive(Debug, Clone)]
pub struct TestInitramfs {
    archive: Archive,
    script: InitScript,
}

impl TestInitramfs {
    /// The standard image around the busybox binary at `busybox` (a static ppc64el build).
    pub fn new(busybox: &Path) -> Result<Self, Error> {
        let binary = std::fs::read(busybox).map_err(|e| Error::io(busybox, "reading", e))?;
        Self::with_busybox_bytes(binary)
    }

    /// As [`TestInitramfs::new`], from the busybox binary's bytes.
    pub fn with_busybox_bytes(busybox: Vec<u8>) -> Result<Self, Error> {
        check_ppc64le_elf(&busybox)?;
        let mut archive = Archive::new();
        archive.add_file("bin/busybox", 0o755, busybox)?;
        for applet in APPLETS {
            archive.add_symlink(&format!("bin/{applet}"), "busybox")?;
        }
        archive.add_dir("dev", 0o755)?;
        archive.add_char_device("dev/console", 0o600, 5, 1)?;
        archive.add_dir("proc", 0o555)?;
        archive.add_dir("sys", 0o555)?;
        archive.add_dir("tmp", 0o1777)?;
        archive.add_dir("root", 0o700)?;
        archive.add_dir("lib/modules", 0o755)?;
        Ok(TestInitramfs { archive, script: InitScript::standard() })
    }

    /// The `/init` script, to add checks and actions.
    pub fn script_mut(&mut self) -> &mut InitScript {
        &mut self.script
    }

    /// The archive without `/init` (it is added when writing), to add files.
    pub fn archive_mut(&mut self) -> &mut Archive {
        &mut self.archive
    }

    /// Adds a host file at `path` in the image.
    pub fn add_host_file(&mut self, path: &str, host: &Path, permissions: u32) -> Result<(), Error> {
        let data = std::fs::read(host).map_err(|e| Error::io(host, "reading", e))?;
        self.archive.add_file(path, permissions, data)?;
        Ok(())
    }

    /// Adds a kernel module as `/lib/modules/<name>.ko`, decompressing `.ko.xz` on the host
    /// (with `xz -dc`), so busybox `insmod /lib/modules/<name>.ko` loads it. Returns the path
    /// in the image.
    pub fn add_kernel_module(&mut self, module: &Path) -> Result<String, Error> {
        let file_name = module.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let (name, compressed) = if let Some(name) = file_name.strip_suffix(".ko.xz") {
            (name, true)
        } else if let Some(name) = file_name.strip_suffix(".ko") {
            (name, false)
        } else {
            return Err(Error::Spec(format!("{}: not a .ko or .ko.xz file", module.display())));
        };
        let data = if compressed {
            run_capture(Command::new("xz").arg("-dc").arg(module))?
        } else {
            std::fs::read(module).map_err(|e| Error::io(module, "reading", e))?
        };
        let path = format!("lib/modules/{name}.ko");
        self.archive.add_file(&path, 0o644, data)?;
        Ok(format!("/{path}"))
    }

    /// The complete archive (with `/init`) as bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut archive = self.archive.clone();
        archive.add_file("init", 0o755, self.script.render().into_bytes())?;
        Ok(archive.to_bytes())
    }

    /// Writes the archive to `out` (through a temporary file, so readers never see half of it).
    /// An `out` that already holds exactly these bytes is left alone, so its modification time
    /// changes only when the content does (callers may always rebuild, and use the mtime to
    /// decide whether what embeds the image is stale).
    pub fn write(&self, out: &Path) -> Result<(), Error> {
        let bytes = self.to_bytes()?;
        if std::fs::read(out).is_ok_and(|existing| existing == bytes) {
            return Ok(());
        }
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, "creating", e))?;
        }
        let mut temporary = out.as_os_str().to_owned();
        temporary.push(format!(".tmp{}", std::process::id()));
        let temporary = std::path::PathBuf::from(temporary);
        std::fs::write(&temporary, bytes).map_err(|e| Error::io(&temporary, "writing", e))?;
        std::fs::rename(&temporary, out).map_err(|e| Error::io(out, "renaming into place", e))
    }
}

/// Builds the standard test initramfs around `busybox` and writes it to `out`.
pub fn build_test_initramfs(busybox: &Path, out: &Path) -> Result<(), Error> {
    TestInitramfs::new(busybox)?.write(out)
}

/// Refuses anything but a 64-bit little-endian PowerPC ELF executable (a host busybox would
/// only fail much later, as a kernel panic).
fn check_ppc64le_elf(binary: &[u8]) -> Result<(), Error> {
    const EM_PPC64: u16 = 21;
    let ok = binary.len() > 20
        && binary[..4] == *b"\x7fELF"
        && binary[4] == 2 // ELFCLASS64
        && binary[5] == 1 // little-endian
        && u16::from_le_bytes([binary[18], binary[19]]) == EM_PPC64;
    if ok {
        Ok(())
    } else {
        Err(Error::Spec("busybox is not a 64-bit little-endian PowerPC ELF binary".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpio::mode_bits;
    use crate::cpio::tests::parse;

    /// The first 20 bytes of a ppc64le ELF header and a body.
    fn fake_busybox() -> Vec<u8> {
        let mut elf = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x15\x00".to_vec();
        elf.extend_from_slice(b"rest of busybox");
        elf
    }

    #[test]
    fn standard_layout() {
        let bytes = TestInitramfs::with_busybox_bytes(fake_busybox()).unwrap().to_bytes().unwrap();
        let entries = parse(&bytes);
        let find = |name: &str| entries.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(find("bin/busybox").mode(), 0o100755);
        assert_eq!(find("bin/busybox").data, fake_busybox());
        assert_eq!(find("bin/sh").mode(), 0o120777);
        assert_eq!(find("bin/sh").data, b"busybox");
        let console = find("dev/console");
        assert_eq!(console.mode(), mode_bits::CHAR_DEVICE | 0o600);
        assert_eq!((console.fields[9], console.fields[10]), (5, 1));
        for dir in ["dev", "proc", "sys", "tmp", "lib/modules"] {
            assert_eq!(find(dir).mode() & mode_bits::TYPE_MASK, mode_bits::DIRECTORY, "{dir}");
        }
        let init = find("init");
        assert_eq!(init.mode(), 0o100755);
        assert!(init.data.starts_with(b"#!/bin/sh\n"));
        for applet in APPLETS {
            assert_eq!(find(&format!("bin/{applet}")).data, b"busybox");
        }
    }

    #[test]
    fn build_is_reproducible() {
        let a = TestInitramfs::with_busybox_bytes(fake_busybox()).unwrap().to_bytes().unwrap();
        let b = TestInitramfs::with_busybox_bytes(fake_busybox()).unwrap().to_bytes().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn rejects_a_host_binary() {
        let mut x86 = fake_busybox();
        x86[18] = 0x3e; // EM_X86_64
        assert!(TestInitramfs::with_busybox_bytes(x86).is_err());
        assert!(TestInitramfs::with_busybox_bytes(b"#!/bin/sh".to_vec()).is_err());
    }

    #[test]
    fn applets_cover_the_commands_init_runs() {
        let script = InitScript::standard().render();
        for command in [
            "mount", "cat", "grep", "sleep", "date", "hwclock", "od", "dd", "awk", "tr", "poweroff",
            "devmem", "head",
        ] {
            assert!(script.contains(command), "{command} unused: drop it from the test");
            assert!(APPLETS.contains(&command), "{command} missing from APPLETS");
        }
    }

    #[test]
    fn extra_files_and_modules() {
        let dir = crate::cpio::tests::tempdir("initramfs-extra").unwrap();
        let module = dir.join("dummy.ko");
        std::fs::write(&module, b"module").unwrap();
        let mut image = TestInitramfs::with_busybox_bytes(fake_busybox()).unwrap();
        assert_eq!(image.add_kernel_module(&module).unwrap(), "/lib/modules/dummy.ko");
        assert!(image.add_kernel_module(&dir.join("notes.txt")).is_err());
        image.add_host_file("etc/motd", &module, 0o644).unwrap();
        if Command::new("xz").arg("--version").output().is_ok() {
            let status = Command::new("xz").arg("-k").arg(&module).status().unwrap();
            assert!(status.success());
            std::fs::rename(dir.join("dummy.ko.xz"), dir.join("packed.ko.xz")).unwrap();
            assert_eq!(image.add_kernel_module(&dir.join("packed.ko.xz")).unwrap(), "/lib/modules/packed.ko");
        }
        let out = dir.join("out/initramfs.cpio");
        image.write(&out).unwrap();
        let written = std::fs::metadata(&out).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        image.write(&out).unwrap();
        assert_eq!(std::fs::metadata(&out).unwrap().modified().unwrap(), written, "unchanged: not rewritten");
        let entries = parse(&std::fs::read(&out).unwrap());
        let data = |name: &str| entries.iter().find(|e| e.name == name).map(|e| e.data.clone());
        assert_eq!(data("lib/modules/dummy.ko").as_deref(), Some(&b"module"[..]));
        assert_eq!(data("etc/motd").as_deref(), Some(&b"module"[..]));
        if entries.iter().any(|e| e.name == "lib/modules/packed.ko") {
            assert_eq!(data("lib/modules/packed.ko").as_deref(), Some(&b"module"[..]));
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
