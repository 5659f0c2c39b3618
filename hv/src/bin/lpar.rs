//! `lpar`: checks an LPAR config file against a machine, compiles it into the blob the firmware
//! reads, and shows what a blob holds. See `docs/lpar-config.md`.
//!
//! ```text
//! lpar check   CONFIG [--machine DTB] [--pnor-layout LAYOUT]
//! lpar compile CONFIG -o BLOB [--machine DTB] [--pnor-layout LAYOUT]
//! lpar inspect BLOB [--machine DTB]
//! ```
//!
//! Exit status: 0 valid, 1 the config or blob is wrong (every error is printed; nothing is
//! written), 2 a usage mistake or an input (machine, layout) that cannot be read.

use oxiboot_hv::config::host::{
    compile_config, pnor_partition_names, summary, Target, DEFAULT_MACHINE_DTB, DEFAULT_MACHINE_NAME,
};
use oxiboot_hv::config::{check_against, parse_blob};
use oxiboot_platform::model::{parse_fdt, Platform};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage:
  lpar check   CONFIG [--machine DTB] [--pnor-layout LAYOUT]
  lpar compile CONFIG -o BLOB [--machine DTB] [--pnor-layout LAYOUT]
  lpar inspect BLOB [--machine DTB]

The machine defaults to the recorded QEMU powernv9 tree (1 chip, 2 cores x 4 threads, 2 GiB).";

/// A failure and the exit status it gives.
struct Failure {
    status: u8,
    message: String,
}

fn usage(message: &str) -> Failure {
    Failure { status: 2, message: format!("lpar: {message}\n{USAGE}") }
}

fn unreadable(what: &str, path: &Path, why: impl std::fmt::Display) -> Failure {
    Failure { status: 2, message: format!("lpar: cannot read {what} {}: {why}", path.display()) }
}

/// The command line, parsed.
struct Options {
    command: String,
    input: PathBuf,
    output: Option<PathBuf>,
    machine: Option<PathBuf>,
    pnor_layout: Option<PathBuf>,
}

fn parse_options(args: &[String]) -> Result<Options, Failure> {
    let mut args = args.iter();
    let command = args.next().ok_or_else(|| usage("no command"))?.clone();
    if !["check", "compile", "inspect"].contains(&command.as_str()) {
        return Err(usage(&format!("unknown command \"{command}\"")));
    }
    let (mut input, mut output, mut machine, mut pnor_layout) = (None, None, None, None);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "-o" | "--output" => &mut output,
            "--machine" => &mut machine,
            "--pnor-layout" => &mut pnor_layout,
            "-h" | "--help" => return Err(Failure { status: 0, message: USAGE.to_string() }),
            flag if flag.starts_with('-') => return Err(usage(&format!("unknown option {flag}"))),
            path => {
                if input.replace(PathBuf::from(path)).is_some() {
                    return Err(usage("more than one input file"));
                }
                continue;
            }
        };
        let value = args.next().ok_or_else(|| usage(&format!("{arg} needs a value")))?;
        if slot.replace(PathBuf::from(value)).is_some() {
            return Err(usage(&format!("{arg} given twice")));
        }
    }
    let input = input.ok_or_else(|| usage("no input file"))?;
    match command.as_str() {
        "compile" if output.is_none() => return Err(usage("compile needs -o BLOB")),
        "check" | "inspect" if output.is_some() => {
            return Err(usage(&format!("{command} writes nothing; drop -o")))
        }
        "inspect" if pnor_layout.is_some() => return Err(usage("inspect takes no --pnor-layout")),
        _ => {}
    }
    Ok(Options { command, input, output, machine, pnor_layout })
}

fn load_machine(path: Option<&Path>) -> Result<(Platform, String), Failure> {
    let (bytes, name) = match path {
        Some(path) => {
            (std::fs::read(path).map_err(|e| unreadable("machine", path, e))?, path.display().to_string())
        }
        None => (DEFAULT_MACHINE_DTB.to_vec(), DEFAULT_MACHINE_NAME.to_string()),
    };
    let platform = parse_fdt(&bytes)
        .map_err(|e| Failure { status: 2, message: format!("lpar: machine {name}: {e}") })?;
    Ok((platform, name))
}

fn load_partitions(path: Option<&Path>) -> Result<Option<Vec<String>>, Failure> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path).map_err(|e| unreadable("PNOR layout", path, e))?;
    pnor_partition_names(&text)
        .map(Some)
        .map_err(|e| Failure { status: 2, message: format!("lpar: PNOR layout {}: {e}", path.display()) })
}

fn run(options: &Options) -> Result<String, Failure> {
    let (platform, machine_name) = load_machine(options.machine.as_deref())?;
    if options.command == "inspect" {
        return inspect(&options.input, &platform);
    }
    let partitions = load_partitions(options.pnor_layout.as_deref())?;
    let source =
        std::fs::read_to_string(&options.input).map_err(|e| unreadable("config", &options.input, e))?;
    let base_dir = options.input.parent().unwrap_or(Path::new("."));
    let target = Target { platform: &platform, pnor_partitions: partitions.as_deref(), base_dir };
    let file_name = options.input.display().to_string();
    let (config, blob) = compile_config(&source, &file_name, &target).map_err(|errors| {
        let mut message: Vec<String> = errors.iter().map(ToString::to_string).collect();
        message.push(format!(
            "lpar: {file_name}: {} error(s) against {machine_name}; nothing written",
            errors.len()
        ));
        Failure { status: 1, message: message.join("\n") }
    })?;
    let mut report = format!("{file_name}: valid for {machine_name}\n{}", summary(&config, &platform));
    if let Some(output) = &options.output {
        write_atomically(output, &blob)?;
        report.push_str(&format!(
            "\nwrote {} ({} bytes, {} LPARs)\n",
            output.display(),
            blob.len(),
            config.lpars.len()
        ));
    }
    Ok(report)
}

fn inspect(path: &Path, platform: &Platform) -> Result<String, Failure> {
    let bytes = std::fs::read(path).map_err(|e| unreadable("blob", path, e))?;
    let refused =
        |message: String| Failure { status: 1, message: format!("lpar: {}: {message}", path.display()) };
    let config = parse_blob(&bytes).map_err(|e| refused(format!("refused: {e}")))?;
    let mut report = format!("{}: blob valid\n{}", path.display(), summary(&config, platform));
    match check_against(&config, platform) {
        Ok(()) => Ok(report),
        Err(failure) => {
            report.push_str(&format!("\ndoes not match the machine:\n{failure}"));
            Err(Failure { status: 1, message: report })
        }
    }
}

/// Writes through a temporary file in the same directory, so a failure leaves no partial blob.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let failed = |e: std::io::Error| {
        let _ = std::fs::remove_file(&temporary);
        Failure { status: 2, message: format!("lpar: cannot write {}: {e}", path.display()) }
    };
    std::fs::write(&temporary, bytes).map_err(failed)?;
    std::fs::rename(&temporary, path).map_err(failed)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_options(&args).and_then(|options| run(&options)) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(Failure { status: 0, message }) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(Failure { status, message }) => {
            eprintln!("{message}");
            ExitCode::from(status)
        }
    }
}
