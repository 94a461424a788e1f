//! The journal of a bulk fix, written in synced batches.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use super::{BackupError, JournalEntry};

/// Appends journal lines, syncing every [`JournalWriter::SYNC_EVERY`] lines or
/// second, and on [`JournalWriter::finish`].
pub struct JournalWriter {
    path: PathBuf,
    file: std::io::BufWriter<File>,
    unsynced: usize,
    last_sync: std::time::Instant,
}

impl JournalWriter {
    pub const SYNC_EVERY: usize = 500;

    /// Appends to the journal at `path` (created 0600 if missing).
    pub(super) fn open(path: PathBuf) -> Result<JournalWriter, BackupError> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| BackupError::Write {
                path: path.display().to_string(),
                source,
            })?;
        Ok(JournalWriter {
            path,
            file: std::io::BufWriter::new(file),
            unsynced: 0,
            last_sync: std::time::Instant::now(),
        })
    }

    pub fn record(&mut self, entry: &JournalEntry) -> Result<(), BackupError> {
        let line = super::format::journal_line(entry)
            .map_err(|e| self.write_error(std::io::Error::other(e)))?;
        self.file
            .write_all(&line)
            .map_err(|e| self.write_error(e))?;
        self.unsynced += 1;
        if self.unsynced >= Self::SYNC_EVERY
            || self.last_sync.elapsed() >= std::time::Duration::from_secs(1)
        {
            self.sync()?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<(), BackupError> {
        self.sync()
    }

    fn sync(&mut self) -> Result<(), BackupError> {
        self.file.flush().map_err(|e| self.write_error(e))?;
        self.file
            .get_ref()
            .sync_data()
            .map_err(|e| self.write_error(e))?;
        self.unsynced = 0;
        self.last_sync = std::time::Instant::now();
        Ok(())
    }

    fn write_error(&self, source: std::io::Error) -> BackupError {
        BackupError::Journal {
            path: self.path.display().to_string(),
            source,
        }
    }
}
