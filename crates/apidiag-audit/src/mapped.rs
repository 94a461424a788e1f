//! Plain files of JSON lines are read through a memory map, a window at a
//! time; gzip, standard input and whole-document shapes keep `read()`.
//!
//! Why: reading a page-cached gigabyte with `read()` copies it twice (kernel
//! to the `BufReader`, then into a chunk), about a fifth of the engine's time
//! on the reader thread alone, which shares the cores with the parsers.
//! Mapped, the kernel only maps the page-cache pages (`MAP_POPULATE` maps a
//! whole window in one call instead of a fault per page) and a parser reads
//! them in place.
//!
//! Why windows and not one map of the file: the pages of a map count in the
//! resident set while it is mapped, so one map of a 10 GiB file would show a
//! 10 GiB RSS. A window ([`WINDOW`]) ends at its last newline and is
//! unmapped when its parser is done, so at most the channel's few windows
//! are mapped at a time, whatever the file's size.
//!
//! The risk, and why it is taken: a mapped file that is truncated while being
//! read makes the next access to a page past the new end raise `SIGBUS`, which
//! kills the process, where `read()` would just see a shorter file.
//! kube-apiserver's own log writer (lumberjack) rotates by renaming, and the
//! engine reads files that are usually copies (downloaded blobs, `kubectl cp`,
//! a support bundle); only `logrotate copytruncate` truncates a live log, and
//! then a copy is what should be analysed anyway. A file that grows while
//! being read is read up to its size at opening. A file that cannot be mapped
//! (a FIFO, `/proc`) goes to `read()`, and so does the rest of a file from a
//! line longer than a window, so long lines behave as they always did.

use std::fs::File;
use std::io::{self, BufReader, Seek, SeekFrom};
use std::ops::Deref;

use memmap2::{Mmap, MmapOptions};

use crate::framing::Framing;
use crate::pipeline::{Channels, Chunk, Failure};
use crate::summary::FileSummary;

/// Bytes mapped at a time: big enough that a map and an unmap per window cost
/// nothing next to parsing it, small enough that the mapped windows stay a
/// few MiB of resident memory.
const WINDOW: usize = 4 << 20;

/// The bytes of a chunk: a buffer the reader filled, or a mapped window.
pub(crate) enum Data {
    Owned(Vec<u8>),
    Mapped { map: Mmap, len: usize },
}

impl Deref for Data {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::Owned(v) => v,
            Self::Mapped { map, len } => &map[..*len],
        }
    }
}

/// Sends the lines of a plain file as mapped windows. Returns `None` when the
/// file cannot be mapped, so the caller reads it instead; `Some(Err)` for an
/// I/O error or stopped parsers, as the read path does.
pub(crate) fn lines(
    path: &std::path::Path,
    file: usize,
    framing: Framing,
    channels: &Channels<'_>,
    summary: &mut FileSummary,
) -> Option<Result<(), Failure>> {
    let mut opened = File::open(path).ok()?;
    let meta = opened.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let size = meta.len();
    let mut offset = 0u64;
    let mut line = 1u64;
    while offset < size {
        let len = usize::try_from(size - offset).map_or(WINDOW, |rest| rest.min(WINDOW));
        let map = match map(&opened, offset, len) {
            Ok(map) => map,
            // Not mappable from the start: the caller reads the whole file.
            Err(_) if offset == 0 => return None,
            Err(e) => return Some(Err(e.into())),
        };
        let last = offset + len as u64 == size;
        let end = if last {
            len
        } else {
            match memchr::memrchr(b'\n', &map) {
                Some(at) => at + 1,
                None => {
                    // A line longer than a window: `read()` from here on.
                    drop(map);
                    return Some(read_rest(
                        &mut opened,
                        offset,
                        line,
                        file,
                        framing,
                        channels,
                        summary,
                    ));
                }
            }
        };
        let next = line + memchr::memchr_iter(b'\n', &map[..end]).count() as u64;
        let chunk = Chunk {
            file,
            first: line,
            framing,
            data: Data::Mapped { map, len: end },
        };
        if channels.tx.send(chunk).is_err() {
            return Some(Err(Failure::Stopped));
        }
        line = next;
        offset += end as u64;
    }
    Some(Ok(()))
}

fn read_rest(
    opened: &mut File,
    offset: u64,
    line: u64,
    file: usize,
    framing: Framing,
    channels: &Channels<'_>,
    summary: &mut FileSummary,
) -> Result<(), Failure> {
    opened.seek(SeekFrom::Start(offset))?;
    let mut reader = BufReader::with_capacity(WINDOW, opened);
    crate::pipeline::lines(&mut reader, file, framing, line, channels, summary)
}

/// The one `unsafe` of the crate: mapping a file is unsafe because another
/// process may change or truncate it while mapped (see the module's doc for
/// why that risk is taken). The map is only ever read, as bytes.
#[allow(unsafe_code)]
fn map(file: &File, offset: u64, len: usize) -> io::Result<Mmap> {
    // SAFETY: read-only map of a regular file; the bytes are treated as
    // untrusted input (checked as UTF-8 and JSON) and never as Rust values.
    unsafe {
        MmapOptions::new()
            .offset(offset)
            .len(len)
            .populate()
            .map(file)
    }
}
