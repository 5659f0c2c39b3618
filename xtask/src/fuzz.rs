//! Bounded fuzzing: every cargo-fuzz target of the repository (`*/fuzz`, each its own cargo
//! workspace) runs for a fixed time. Needs a nightly toolchain and cargo-fuzz; both are
//! installed when missing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn ok(cmd: &mut Command) -> bool {
    cmd.output().is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let s = cmd.status().map_err(|e| format!("{what}: {e}"))?;
    if s.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({s})"))
    }
}

/// Makes sure `cargo +nightly fuzz` works.
pub fn ensure_tools() -> Result<(), String> {
    if !ok(Command::new("rustup").args(["run", "nightly", "rustc", "--version"])) {
        eprintln!("xtask: installing the nightly toolchain for fuzzing");
        run(
            Command::new("rustup").args(["toolchain", "install", "nightly", "--profile", "minimal"]),
            "rustup",
        )?;
    }
    if !ok(Command::new("cargo").args(["+nightly", "fuzz", "--version"])) {
        eprintln!("xtask: installing cargo-fuzz");
        run(
            Command::new("cargo").args(["+nightly", "install", "cargo-fuzz", "--locked"]),
            "cargo install cargo-fuzz",
        )?;
    }
    Ok(())
}

/// The fuzz projects (directories named `fuzz` with a Cargo.toml, one level down).
pub fn projects(root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|d| {
            d.flatten().map(|e| e.path().join("fuzz")).filter(|p| p.join("Cargo.toml").exists()).collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Runs every target of every project for `seconds` each; fails on the first crash.
pub fn run_all(root: &Path, seconds: u32) -> Result<(), String> {
    ensure_tools()?;
    let projects = projects(root);
    if projects.is_empty() {
        return Err(format!("no cargo-fuzz projects under {}", root.display()));
    }
    for project in projects {
        let list = Command::new("cargo")
            .args(["+nightly", "fuzz", "list"])
            .current_dir(&project)
            .output()
            .map_err(|e| format!("cargo fuzz list: {e}"))?;
        let targets: Vec<String> = String::from_utf8_lossy(&list.stdout)
            .lines()
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        if !list.status.success() || targets.is_empty() {
            return Err(format!(
                "cargo fuzz list in {} found no targets ({}): {}",
                project.display(),
                list.status,
                String::from_utf8_lossy(&list.stderr).trim()
            ));
        }
        for target in &targets {
            eprintln!("xtask: fuzzing {}/{target} for {seconds} s", project.display());
            let mut cmd = Command::new("cargo");
            cmd.args(["+nightly", "fuzz", "run", target, "--", &format!("-max_total_time={seconds}")])
                .current_dir(&project)
                // The repository pins a stable toolchain; the fuzz projects need nightly.
                .env_remove("RUSTUP_TOOLCHAIN");
            run(&mut cmd, &format!("fuzz target {}/{target}", project.display()))?;
        }
    }
    Ok(())
}
