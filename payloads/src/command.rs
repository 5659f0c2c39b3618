//! Running host commands (`apt-get`, `dpkg`, `xz`, …) with errors that show the command line
//! and the end of what it printed.

use std::process::{Command, Output};

use crate::Error;

/// How much of a failed command's output an error keeps.
const OUTPUT_TAIL_LINES: usize = 20;

/// The command as a shell-like line, for messages.
pub fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

fn output(command: &mut Command) -> Result<Output, Error> {
    command.output().map_err(|source| Error::Spawn { command: describe(command), source })
}

fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(OUTPUT_TAIL_LINES)..].join("\n")
}

/// Runs the command and returns its stdout; fails if it exits non-zero.
pub fn run_capture(command: &mut Command) -> Result<Vec<u8>, Error> {
    let out = output(command)?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        let mut printed = tail(&out.stdout);
        let stderr = tail(&out.stderr);
        if !printed.is_empty() && !stderr.is_empty() {
            printed.push('\n');
        }
        printed.push_str(&stderr);
        Err(Error::Command { command: describe(command), status: out.status, output: printed })
    }
}

/// Runs the command and returns its stdout as text.
pub fn run_text(command: &mut Command) -> Result<String, Error> {
    let stdout = run_capture(command)?;
    String::from_utf8(stdout).map_err(|_| Error::UnexpectedOutput {
        command: describe(command),
        detail: "output is not UTF-8".into(),
    })
}

/// Runs the command for its effect.
pub fn run(command: &mut Command) -> Result<(), Error> {
    run_capture(command).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_name_the_command_and_its_output() {
        let err = run(Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`sh -c echo out; echo err >&2; exit 3` failed"), "{text}");
        assert!(text.contains("out\nerr"), "{text}");
        let err = run(&mut Command::new("/nonexistent/oxiboot-tool")).unwrap_err();
        assert!(err.to_string().starts_with("cannot run `/nonexistent/oxiboot-tool`"));
        assert_eq!(run_text(Command::new("sh").args(["-c", "printf hi"])).unwrap(), "hi");
    }
}
