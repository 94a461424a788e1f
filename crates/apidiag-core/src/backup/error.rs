//! Why a bundle could not be written or read, and what to do next.

/// Why a bundle could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("could not write the backup in {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not read the backup {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not an apidiag backup bundle: {message}")]
    Invalid { path: String, message: String },
    #[error("no backup bundle named `{name}` in {root}")]
    NotFound { name: String, root: String },
    /// The journal of a running fix could not be written: some operations were
    /// sent, so unlike [`BackupError::Write`] this is not "nothing was changed".
    #[error("could not write the journal {path}: {source}")]
    Journal {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// `undo` without a name, and no bundle left to restore.
    #[error("no backup bundle left to restore in {root}")]
    NothingToUndo { root: String },
    /// Neither `APIDIAG_BACKUP_DIR` nor an absolute `HOME` is set.
    #[error("no place for backups: neither APIDIAG_BACKUP_DIR nor HOME is set")]
    NoRoot,
}

impl BackupError {
    /// What to do next, apart from the message (see [`crate::api::ApiError::hint`]).
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            BackupError::Write { .. } => Some(
                "nothing was changed; free disk space or set APIDIAG_BACKUP_DIR to a writable directory",
            ),
            BackupError::Invalid { .. } | BackupError::NotFound { .. } => {
                Some("`kubectl apidiag backups` lists the bundles")
            }
            BackupError::Read { .. } => None,
            BackupError::Journal { .. } => Some(
                "the fix stopped sending; every object it touched is in the bundle, and `kubectl apidiag undo` checks each one against the cluster",
            ),
            BackupError::NothingToUndo { .. } => Some(
                "bundles are written by `--fix` runs; `kubectl apidiag backups` lists them, and `kubectl apidiag undo NAME` restores a given one",
            ),
            BackupError::NoRoot => Some(
                "nothing was changed; set APIDIAG_BACKUP_DIR to a private directory (it will hold copies of Secrets)",
            ),
        }
    }
}
