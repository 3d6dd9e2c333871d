//! The one error type of the library, and the exit code each kind maps to.
//!
//! Every error a user can cause (bad file, bad argument) is an `Error` that renders as one
//! line naming the file, the line and what is wrong. A panic is a bug.

use std::path::PathBuf;

/// What went wrong while loading or analysing snapshots.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {message}")]
    Line {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    /// The command line asks for something that cannot be (a missing argument, a value out
    /// of range, the same snapshot twice).
    #[error("{0}")]
    Usage(String),
    /// The process or core file pymem was pointed at cannot be read or captured: gone, not
    /// CPython, an unsupported version, not permitted, or it failed during the capture.
    #[error("{0}")]
    Target(String),
    /// This machine failed pymem: a tool it needs is missing, or a temporary file, a child
    /// process, a signal handler or the output could not be made.
    #[error("{0}")]
    System(String),
}

impl Error {
    pub fn line(path: &std::path::Path, line: u64, message: impl Into<String>) -> Self {
        Error::Line {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    pub fn file(path: &std::path::Path, message: impl Into<String>) -> Self {
        Error::File {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    /// Exit code scripts can trust: every error is 2 (1 is reserved for a failed gate).
    pub fn exit_code(&self) -> i32 {
        2
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
