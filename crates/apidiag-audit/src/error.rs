//! What can stop a run before it reads anything. Everything that goes wrong
//! while reading (a malformed line, a truncated gzip, a file of an unknown
//! shape) is not an error but part of the [`Report`](crate::Report): bad input
//! never aborts the run and never hides.

use std::path::PathBuf;

/// Why [`analyze`](crate::analyze) could not run.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// No input was given.
    #[error("no audit log given")]
    NoInput,
    /// A path that is neither a file, a folder nor a glob matching something.
    #[error("`{path}` does not exist and matches no file")]
    NotFound {
        /// The path as given.
        path: String,
    },
    /// A glob pattern that does not parse.
    #[error("`{pattern}` is not a valid glob: {message}")]
    BadGlob {
        /// The pattern as given.
        pattern: String,
        /// What the glob parser said.
        message: String,
    },
    /// A folder that could not be listed.
    #[error("cannot list `{path}`: {source}")]
    ReadDir {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Standard input had to be kept for a second pass (a window relative to the
    /// newest event) and the temporary copy failed.
    #[error("cannot keep standard input for a second pass: {0}")]
    Spool(std::io::Error),
    /// A worker thread could not be started.
    #[error("cannot start a worker thread: {0}")]
    Thread(std::io::Error),
}

/// Why a window bound, bin width or server version given as text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Neither an RFC 3339 timestamp nor a duration such as `15m` or `1h30m`.
    #[error(
        "`{0}` is neither an RFC 3339 time (2025-05-30T18:00:00Z) nor a duration (15m, 2h, 1h30m)"
    )]
    TimeBound(String),
    /// A duration that is zero, negative or not a duration.
    #[error("`{0}` is not a positive duration such as 5m or 30s")]
    Duration(String),
    /// Not a Kubernetes version such as `1.31` or `v1.30.4`.
    #[error("`{0}` is not a Kubernetes version such as 1.31 or v1.30.4")]
    ServerVersion(String),
}
