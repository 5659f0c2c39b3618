//! What the build and the tests need besides Rust, and installing it on Debian.
//!
//! QEMU ≥ 10 (`qemu-system-ppc`) comes from `bookworm-backports` on Debian 12 (bookworm's own
//! 7.2 lacks what powernv9 needs). As root, the suite is added and the package installed;
//! otherwise the exact commands are printed.

use std::path::Path;
use std::process::Command;

/// Oldest QEMU major version that works.
pub const QEMU_MIN_MAJOR: u32 = 10;

/// Major version of the `qemu-system-ppc64` on PATH, if any.
pub fn qemu_major() -> Option<u32> {
    let out = Command::new("qemu-system-ppc64").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_qemu_major(&text)
}

/// Parses `QEMU emulator version 10.0.2 (…)`.
pub fn parse_qemu_major(text: &str) -> Option<u32> {
    let rest = text.split("version ").nth(1)?;
    rest.split('.').next()?.trim().parse().ok()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn debian_codename() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines().find_map(|l| l.strip_prefix("VERSION_CODENAME=")).map(|s| s.trim_matches('"').to_string())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed with {status}"))
    }
}

const BACKPORTS_LIST: &str = "/etc/apt/sources.list.d/oxiboot-backports.sources";

fn install_commands(codename: &str) -> String {
    format!(
        "  printf 'Types: deb\\nURIs: http://deb.debian.org/debian\\nSuites: {codename}-backports\\nComponents: main\\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\\n' | sudo tee {BACKPORTS_LIST}\n  \
         sudo apt-get update && sudo apt-get install -y -t {codename}-backports qemu-system-ppc"
    )
}

/// Makes sure a recent enough QEMU is installed, installing it when running as root.
pub fn ensure_qemu() -> Result<(), String> {
    if qemu_major().is_some_and(|m| m >= QEMU_MIN_MAJOR) {
        return Ok(());
    }
    let codename = debian_codename().unwrap_or_else(|| "bookworm".into());
    if !is_root() {
        return Err(format!(
            "qemu-system-ppc64 {QEMU_MIN_MAJOR} or newer is needed. Install it with:\n{}",
            install_commands(&codename)
        ));
    }
    eprintln!("xtask: installing qemu-system-ppc from {codename}-backports");
    let has_backports = std::fs::read_dir("/etc/apt/sources.list.d")
        .map(|d| {
            d.flatten().any(|e| {
                std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(&format!("{codename}-backports")))
            })
        })
        .unwrap_or(false)
        || std::fs::read_to_string("/etc/apt/sources.list")
            .is_ok_and(|t| t.contains(&format!("{codename}-backports")));
    if !has_backports {
        let entry = format!(
            "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: {codename}-backports\nComponents: main\n\
             Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        );
        std::fs::write(BACKPORTS_LIST, entry).map_err(|e| format!("{BACKPORTS_LIST}: {e}"))?;
    }
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "-t", &format!("{codename}-backports"), "qemu-system-ppc"])
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    match qemu_major() {
        Some(m) if m >= QEMU_MIN_MAJOR => Ok(()),
        other => Err(format!("after installing, qemu-system-ppc64 reports major version {other:?}")),
    }
}

/// Makes sure the host command `tool` exists, installing Debian package `package` when
/// running as root (e.g. `xz` from `xz-utils`, which decompresses kernel modules).
pub fn ensure_tool(tool: &str, package: &str) -> Result<(), String> {
    if Command::new(tool).arg("--version").output().is_ok() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!("`{tool}` is needed: apt-get install {package}"));
    }
    eprintln!("xtask: installing {package}");
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", package])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Whether a file exists and is non-empty.
pub fn present(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_version_parsing() {
        assert_eq!(parse_qemu_major("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2)\n"), Some(10));
        assert_eq!(parse_qemu_major("QEMU emulator version 7.2.15 (Debian)"), Some(7));
        assert_eq!(parse_qemu_major("something else"), None);
    }
}
