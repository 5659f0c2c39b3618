//! The error type of the payload tooling: every variant names the file, command or package
//! involved, so a failed fetch or build says what to look at.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

/// What went wrong while fetching packages or building an image.
#[derive(Debug)]
pub enum Error {
    /// A file system operation on `path` failed.
    Io { path: PathBuf, action: &'static str, source: std::io::Error },
    /// A command could not be started.
    Spawn { command: String, source: std::io::Error },
    /// A command ran and failed; `output` is the tail of what it printed.
    Command { command: String, status: ExitStatus, output: String },
    /// A command's output was not what we expected.
    UnexpectedOutput { command: String, detail: String },
    /// The host needs a change (architecture, apt source) that needs root.
    NeedsRoot { why: String, commands: String },
    /// No package in the apt lists satisfies the request.
    PackageNotFound { what: String, hint: String },
    /// An extracted package lacks a file we rely on.
    MissingInPackage { package: String, what: String, root: PathBuf },
    /// The cache manifest is malformed.
    Manifest { path: PathBuf, line: usize, detail: String },
    /// A cpio archive could not be built.
    Cpio(crate::cpio::CpioError),
    /// An initramfs or `/init` specification is inconsistent.
    Spec(String),
}

impl Error {
    /// An I/O error on `path` while doing `action` ("reading", "creating", …).
    pub fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), action, source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, action, source } => write!(f, "{action} {}: {source}", path.display()),
            Error::Spawn { command, source } => write!(f, "cannot run `{command}`: {source}"),
            Error::Command { command, status, output } => {
                write!(f, "`{command}` failed ({status})")?;
                if !output.is_empty() {
                    write!(f, ":\n{output}")?;
                }
                Ok(())
            }
            Error::UnexpectedOutput { command, detail } => write!(f, "`{command}`: {detail}"),
            Error::NeedsRoot { why, commands } => {
                write!(f, "{why}; this needs root. Run, as root:\n{commands}")
            }
            Error::PackageNotFound { what, hint } => write!(f, "no package found for {what}; {hint}"),
            Error::MissingInPackage { package, what, root } => {
                write!(f, "package {package} (extracted at {}) has no {what}", root.display())
            }
            Error::Manifest { path, line, detail } => write!(f, "{}:{line}: {detail}", path.display()),
            Error::Cpio(e) => write!(f, "cpio archive: {e}"),
            Error::Spec(detail) => write!(f, "initramfs specification: {detail}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::Spawn { source, .. } => Some(source),
            Error::Cpio(e) => Some(e),
            _ => None,
        }
    }
}

impl From<crate::cpio::CpioError> for Error {
    fn from(e: crate::cpio::CpioError) -> Self {
        Error::Cpio(e)
    }
}
