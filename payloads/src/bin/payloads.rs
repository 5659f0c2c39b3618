//! `payloads`: fetch the Debian kernel and busybox into a cache and build test initramfs
//! images (the library API `cargo xtask` uses, from the command line). See docs/payloads.md.

use std::path::PathBuf;
use std::process::ExitCode;

use oxiboot_payloads::fetch::{self, FetchOptions};
use oxiboot_payloads::{InitScript, TestInitramfs};

const USAGE: &str = "\
usage:
  payloads fetch --cache DIR [--refresh]
      fetch (or reuse) the Debian kernel and busybox-static; print their paths and versions
  payloads initramfs (--cache DIR | --busybox FILE) -o FILE
      build the test initramfs (uncompressed newc cpio) around busybox
  payloads manifest --cache DIR
      print the cache's manifest (exact package versions)
  payloads init-script
      print the generated /init";

struct Args {
    cache: Option<PathBuf>,
    busybox: Option<PathBuf>,
    out: Option<PathBuf>,
    refresh: bool,
}

fn parse(mut rest: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args { cache: None, busybox: None, out: None, refresh: false };
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| rest.next().map(PathBuf::from).ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--cache" => args.cache = Some(value("--cache")?),
            "--busybox" => args.busybox = Some(value("--busybox")?),
            "-o" | "--output" => args.out = Some(value("-o")?),
            "--refresh" => args.refresh = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn run() -> Result<(), String> {
    let mut argv = std::env::args().skip(1);
    let command = argv.next().ok_or("no command")?;
    let args = parse(argv)?;
    let cache = || args.cache.clone().ok_or_else(|| format!("{command} needs --cache DIR"));
    match command.as_str() {
        "fetch" => {
            let cache = cache()?;
            let options = FetchOptions { refresh: args.refresh };
            let kernel = fetch::ensure_kernel_with(&cache, options).map_err(|e| e.to_string())?;
            let busybox = fetch::ensure_busybox_with(&cache, options).map_err(|e| e.to_string())?;
            println!("vmlinux={}", kernel.vmlinux.display());
            println!("modules={}", kernel.modules_dir.display());
            println!("kernel-release={}", kernel.release);
            println!("kernel-package={} {}", kernel.package, kernel.version);
            println!("busybox={}", busybox.binary.display());
            println!("busybox-package={} {}", busybox.package, busybox.version);
        }
        "initramfs" => {
            let out = args.out.clone().ok_or("initramfs needs -o FILE")?;
            let busybox = match &args.busybox {
                Some(path) => path.clone(),
                None => fetch::ensure_busybox(&cache()?).map_err(|e| e.to_string())?,
            };
            let image = TestInitramfs::new(&busybox).map_err(|e| e.to_string())?;
            image.write(&out).map_err(|e| e.to_string())?;
            println!("{}", out.display());
        }
        "manifest" => {
            let manifest = fetch::read_manifest(&cache()?).map_err(|e| e.to_string())?;
            print!("{}", manifest.render());
        }
        "init-script" => print!("{}", InitScript::standard().render()),
        "help" | "--help" | "-h" => println!("{USAGE}"),
        other => return Err(format!("unknown command {other:?}")),
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("payloads: {message}");
            if message.starts_with("unknown")
                || message.starts_with("no command")
                || message.contains("needs")
            {
                eprintln!("\n{USAGE}");
            }
            ExitCode::FAILURE
        }
    }
}
