//! `pnor`: build and inspect OpenPOWER PNOR flash images, as `ffspart` and `pflash` do for
//! image files. Commands: `create`, `list`, `extract`, `verify`, `replace`, `pack-bootkernel`;
//! `pnor help` explains them. Errors name the file they concern; the exit status is 0 on
//! success, 1 on an error (or a failed verification), 2 on a usage mistake.

use oxiboot_pnor::ecc::Correction;
use oxiboot_pnor::image::{raw_partition, EccReport, PartitionReport};
use oxiboot_pnor::{
    create_image, extract, parse_layout, replace, verify, BootKernel, PartitionType, Table, WritePolicy,
};
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: pnor <command> [arguments]

  create LAYOUT -o IMAGE
        Build IMAGE from the layout file LAYOUT (format: docs/flash.md).
  list IMAGE
        Show the partition table.
  extract IMAGE PARTITION -o FILE [--raw]
        Write the partition's content to FILE, ECC bytes removed and corrected (--raw: the
        whole partition as it is on flash).
  verify IMAGE
        Check the table, every ECC word and the BOOTKERNEL container; exit status 1 if
        anything is wrong.
  replace IMAGE PARTITION FILE [--force]
        Put FILE's bytes in the partition (ECC added if the partition has it) and set its
        actual size. --force writes read-only partitions too.
  pack-bootkernel --kernel FILE [--initramfs FILE] -o FILE
        Pack a kernel and an initramfs into a BOOTKERNEL container.";

/// Why a command did not succeed.
enum CliError {
    /// A command-line mistake (exit status 2, usage shown).
    Usage(String),
    /// A failure, already phrased with the file it concerns (exit status 1).
    Failure(String),
}

fn fail(path: &Path, error: impl Display) -> CliError {
    CliError::Failure(format!("{}: {error}", path.display()))
}

fn usage(message: String) -> CliError {
    CliError::Usage(message)
}

/// Positional arguments and `--option [value]` pairs.
struct Arguments {
    positional: Vec<String>,
    options: Vec<(String, Option<String>)>,
}

impl Arguments {
    /// Splits `args`; options listed in `with_value` take the next argument.
    fn parse(args: &[String], with_value: &[&str], flags: &[&str]) -> Result<Self, CliError> {
        let mut parsed = Arguments { positional: Vec::new(), options: Vec::new() };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            if with_value.contains(&arg.as_str()) {
                let value = args.next().ok_or_else(|| usage(format!("{arg} needs a value")))?;
                parsed.options.push((arg.clone(), Some(value.clone())));
            } else if flags.contains(&arg.as_str()) {
                parsed.options.push((arg.clone(), None));
            } else if arg.starts_with('-') && arg.len() > 1 {
                return Err(usage(format!("unknown option {arg}")));
            } else {
                parsed.positional.push(arg.clone());
            }
        }
        Ok(parsed)
    }

    fn value(&self, option: &str) -> Option<PathBuf> {
        self.options
            .iter()
            .rev()
            .find(|(name, _)| name == option)
            .and_then(|(_, value)| value.as_ref().map(PathBuf::from))
    }

    fn required(&self, option: &str) -> Result<PathBuf, CliError> {
        self.value(option).ok_or_else(|| usage(format!("{option} FILE is required")))
    }

    fn has(&self, option: &str) -> bool {
        self.options.iter().any(|(name, _)| name == option)
    }

    /// Exactly `names.len()` positional arguments.
    fn positional<const N: usize>(&self, names: [&str; N]) -> Result<[String; N], CliError> {
        <[String; N]>::try_from(self.positional.clone())
            .map_err(|_| usage(format!("expected {} argument(s): {}", N, names.join(" "))))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|error| fail(path, error))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|error| fail(path, error))
}

fn create(args: &Arguments) -> Result<(), CliError> {
    let [layout_path] = args.positional(["LAYOUT"])?;
    let output = args.required("-o")?;
    let layout_path = PathBuf::from(layout_path);
    let text = std::fs::read_to_string(&layout_path).map_err(|error| fail(&layout_path, error))?;
    let directory = layout_path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut load = |name: &str| std::fs::read(directory.join(name)).map_err(|error| error.to_string());
    let layout = parse_layout(&text, &mut load).map_err(|error| fail(&layout_path, error))?;
    let image = create_image(&layout).map_err(|error| fail(&layout_path, error))?;
    write(&output, &image)?;
    println!("{}: {} bytes, {} partitions", output.display(), image.len(), layout.partitions.len());
    Ok(())
}

fn list(args: &Arguments) -> Result<(), CliError> {
    let [image_path] = args.positional(["IMAGE"])?;
    let image_path = PathBuf::from(image_path);
    let image = read(&image_path)?;
    let table = Table::from_image(&image).map_err(|error| fail(&image_path, error))?;
    let header = table.header();
    println!(
        "{}: {} bytes; block size 0x{:x}, {} blocks; table {} block(s), {} entries",
        image_path.display(),
        image.len(),
        header.block_size,
        header.block_count,
        header.table_blocks,
        header.entry_count
    );
    println!("ID NAME            START      END        ACTUAL     FLAGS");
    for partition in table.partitions() {
        let note = if partition.kind == PartitionType::Table { " (table)" } else { "" };
        println!(
            "{:02} {:<15} 0x{:08x} 0x{:08x} 0x{:08x} {}{note}",
            partition.id,
            partition.name,
            partition.base,
            partition.end(),
            partition.actual,
            partition.user
        );
    }
    Ok(())
}

fn extract_command(args: &Arguments) -> Result<(), CliError> {
    let [image_path, name] = args.positional(["IMAGE", "PARTITION"])?;
    let output = args.required("-o")?;
    let raw = args.has("--raw");
    let image_path = PathBuf::from(image_path);
    let image = read(&image_path)?;
    let bytes = if raw {
        let (_, bytes) = raw_partition(&image, &name).map_err(|error| fail(&image_path, error))?;
        bytes.to_vec()
    } else {
        let extracted = extract(&image, &name).map_err(|error| fail(&image_path, error))?;
        report_corrections(&image_path, &name, &extracted.corrections);
        extracted.data
    };
    write(&output, &bytes)?;
    println!("{}: {} bytes from {} of {}", output.display(), bytes.len(), name, image_path.display());
    Ok(())
}

/// How many corrections or errors of one partition are listed one by one.
const LISTED_PER_PARTITION: usize = 16;

fn report_corrections(image_path: &Path, name: &str, corrections: &[Correction]) {
    for correction in corrections.iter().take(LISTED_PER_PARTITION) {
        eprintln!(
            "{}: {name}: corrected bit {} of the {} byte at flash offset 0x{:08x}",
            image_path.display(),
            correction.bit,
            if correction.in_ecc_byte { "ECC" } else { "data" },
            correction.offset
        );
    }
    report_unlisted(image_path, name, corrections.len(), "corrected bits");
}

fn report_unlisted(image_path: &Path, name: &str, count: usize, what: &str) {
    if count > LISTED_PER_PARTITION {
        eprintln!("{}: {name}: ... {} more {what}", image_path.display(), count - LISTED_PER_PARTITION);
    }
}

fn verify_command(args: &Arguments) -> Result<(), CliError> {
    let [image_path] = args.positional(["IMAGE"])?;
    let image_path = PathBuf::from(image_path);
    let image = read(&image_path)?;
    let (_, reports) = verify(&image).map_err(|error| fail(&image_path, error))?;
    let mut problems = 0;
    for report in &reports {
        problems += print_partition_report(&image_path, report);
    }
    if problems > 0 {
        return Err(fail(&image_path, format!("{problems} problem(s) found")));
    }
    println!("{}: ok ({} partitions)", image_path.display(), reports.len());
    Ok(())
}

/// Prints what verification found in one partition; returns the number of problems.
fn print_partition_report(image_path: &Path, report: &PartitionReport) -> usize {
    let name = report.partition.name;
    let mut problems = 0;
    if let Some(EccReport { words, erased_words, corrections, uncorrectable }) = &report.ecc {
        report_corrections(image_path, name.as_str(), corrections);
        for offset in uncorrectable.iter().take(LISTED_PER_PARTITION) {
            eprintln!(
                "{}: {name}: uncorrectable ECC error in the word at flash offset 0x{offset:08x}",
                image_path.display()
            );
        }
        report_unlisted(image_path, name.as_str(), uncorrectable.len(), "uncorrectable words");
        problems += corrections.len() + uncorrectable.len();
        let erased =
            if *erased_words > 0 { format!(", {erased_words} erased without ECC") } else { String::new() };
        println!(
            "{name}: {words} ECC words, {} corrected, {} uncorrectable{erased}",
            corrections.len(),
            uncorrectable.len()
        );
    }
    match &report.bootkernel {
        Some(Ok(header)) => println!(
            "{name}: kernel {} bytes, initramfs {} bytes, CRCs good",
            header.kernel.len, header.initramfs.len
        ),
        Some(Err(error)) => {
            eprintln!("{}: {error}", image_path.display());
            problems += 1;
        }
        None => {}
    }
    problems
}

fn replace_command(args: &Arguments) -> Result<(), CliError> {
    let [image_path, name, content_path] = args.positional(["IMAGE", "PARTITION", "FILE"])?;
    let policy = if args.has("--force") { WritePolicy::IgnoreReadOnly } else { WritePolicy::RespectReadOnly };
    let (image_path, content_path) = (PathBuf::from(image_path), PathBuf::from(content_path));
    let mut image = read(&image_path)?;
    let content = read(&content_path)?;
    replace(&mut image, &name, &content, policy).map_err(|error| fail(&image_path, error))?;
    write(&image_path, &image)?;
    println!(
        "{}: {name} now holds {} bytes from {}",
        image_path.display(),
        content.len(),
        content_path.display()
    );
    Ok(())
}

fn pack_bootkernel(args: &Arguments) -> Result<(), CliError> {
    args.positional([])?;
    let kernel_path = args.required("--kernel")?;
    let initramfs_path = args.value("--initramfs");
    let output = args.required("-o")?;
    let kernel = read(&kernel_path)?;
    let initramfs = initramfs_path.as_deref().map(read).transpose()?.unwrap_or_default();
    let container = BootKernel::pack(&kernel, &initramfs).map_err(|error| fail(&kernel_path, error))?;
    write(&output, &container)?;
    println!(
        "{}: {} bytes (kernel {}, initramfs {})",
        output.display(),
        container.len(),
        kernel.len(),
        initramfs.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let outcome = match command.as_str() {
        "create" => Arguments::parse(rest, &["-o"], &[]).and_then(|args| create(&args)),
        "list" => Arguments::parse(rest, &[], &[]).and_then(|args| list(&args)),
        "extract" => Arguments::parse(rest, &["-o"], &["--raw"]).and_then(|args| extract_command(&args)),
        "verify" => Arguments::parse(rest, &[], &[]).and_then(|args| verify_command(&args)),
        "replace" => Arguments::parse(rest, &[], &["--force"]).and_then(|args| replace_command(&args)),
        "pack-bootkernel" => Arguments::parse(rest, &["--kernel", "--initramfs", "-o"], &[])
            .and_then(|args| pack_bootkernel(&args)),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(usage(format!("unknown command \"{other}\""))),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Failure(message)) => {
            eprintln!("pnor: {message}");
            ExitCode::from(1)
        }
        Err(CliError::Usage(message)) => {
            eprintln!("pnor: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
