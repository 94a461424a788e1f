//! Streaming and parallel: one reader thread decompresses and cuts the input
//! into chunks of whole records (~1 MiB), parser threads take chunks from a
//! bounded channel and count into their own aggregates, merged at the end.
//! Decompression overlaps parsing, memory is the channel's few chunks plus
//! the bounded tables, and no lock is taken per event.
//!
//! Line shapes are cut at the last newline of a block; whole-document shapes
//! are cut into records by [`documents`](crate::documents).

use std::io::{self, BufRead};

use crossbeam_channel::{Receiver, Sender};

use crate::aggregate::{Aggregates, MINUTE, Settings};
use crate::documents;
use crate::error::AuditError;
use crate::event::{Stage, Unusable};
use crate::framing::{Category, Framing, with_record};
use crate::input::Source;
use crate::options::{Filter, Options};
use crate::shape::{Detection, Shape, detect};
use crate::summary::{FileSummary, Problem};
use crate::time::{Micros, Resolved};

/// Target chunk size.
pub(crate) const CHUNK: usize = 1 << 20;
/// A line longer than this is counted as malformed and skipped.
const MAX_LINE: usize = 64 << 20;

/// The reader's two channels: chunks out, emptied buffers back (so a buffer
/// is allocated and zeroed once, not once per chunk).
pub(crate) struct Channels<'c> {
    pub tx: &'c Sender<Chunk>,
    pub recycled: &'c Receiver<Vec<u8>>,
}

pub(crate) struct Chunk {
    pub file: usize,
    pub first: u64,
    pub framing: Framing,
    pub data: Vec<u8>,
}

/// What one pass produced.
pub(crate) struct Pass {
    pub files: Vec<FileSummary>,
    pub newest: Option<Micros>,
    /// `[category][role]`: category full/admin, role counted/watch-ends.
    pub sets: [[Option<Aggregates>; 2]; 2],
}

/// The first pass only finds the newest event; the second counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    Newest,
    Count(Resolved),
}

pub(crate) fn run(sources: &[Source], options: &Options, mode: Mode) -> Result<Pass, AuditError> {
    let threads = options.parser_threads().max(1);
    let list_slots = options
        .list_window
        .map_or(0, |w| (w.as_micros() as i64 / MINUTE) as usize + 1);
    let settings = Settings {
        rules: options.rules,
        bin_micros: i64::try_from(options.bin.as_micros())
            .unwrap_or(i64::MAX)
            .max(1),
        list_slots,
        capacity: options.capacity,
    };
    let (tx, rx) = crossbeam_channel::bounded::<Chunk>(threads * 2);
    let (give_back, recycled) = crossbeam_channel::bounded::<Vec<u8>>(threads * 2 + 2);
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("audit-reader".into())
            .spawn_scoped(scope, move || {
                read_all(
                    sources,
                    &Channels {
                        tx: &tx,
                        recycled: &recycled,
                    },
                )
            })
            .map_err(AuditError::Thread)?;
        let mut workers = Vec::with_capacity(threads);
        for i in 0..threads {
            let (rx, give_back) = (rx.clone(), give_back.clone());
            let (settings, filter) = (&settings, &options.filter);
            let worker = std::thread::Builder::new()
                .name(format!("audit-parser-{i}"))
                .spawn_scoped(scope, move || {
                    parse_all(&rx, &give_back, sources.len(), settings, filter, mode)
                })
                .map_err(AuditError::Thread)?;
            workers.push(worker);
        }
        drop(rx);
        let mut files = reader
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        let mut pass = Pass {
            files: Vec::new(),
            newest: None,
            sets: Default::default(),
        };
        for worker in workers {
            let partial = worker
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            for (mine, theirs) in files.iter_mut().zip(&partial.files) {
                mine.absorb(theirs);
            }
            pass.newest = pass.newest.max(partial.newest);
            for (c, roles) in partial.sets.into_iter().enumerate() {
                for (r, set) in roles.into_iter().enumerate() {
                    match (&mut pass.sets[c][r], set) {
                        (Some(mine), Some(theirs)) => mine.merge(&theirs),
                        (slot @ None, theirs) => *slot = theirs,
                        (Some(_), None) => {}
                    }
                }
            }
        }
        pass.files = files;
        Ok(pass)
    })
}

// ---------- reader ----------

fn read_all(sources: &[Source], channels: &Channels<'_>) -> Vec<FileSummary> {
    sources
        .iter()
        .enumerate()
        .map(|(i, s)| read_one(i, s, channels))
        .collect()
}

fn read_one(file: usize, source: &Source, channels: &Channels<'_>) -> FileSummary {
    let mut summary = FileSummary {
        name: source.name(),
        ..FileSummary::default()
    };
    let (mut reader, gzip) = match source.open() {
        Ok(opened) => opened,
        Err(e) => {
            summary.problems.push(Problem::Io(e.to_string()));
            return summary;
        }
    };
    summary.gzip = gzip;
    let detection = match reader.fill_buf() {
        Ok(head) => detect(head),
        Err(e) => {
            summary.problems.push(io_problem(&e, gzip));
            return summary;
        }
    };
    let shape = match detection {
        Detection::Known(shape) => shape,
        Detection::Empty => return summary,
        Detection::Legacy => {
            summary.problems.push(Problem::LegacyFormat);
            return summary;
        }
        Detection::Unknown(seen) => {
            summary.problems.push(Problem::UnknownShape(seen));
            return summary;
        }
    };
    summary.shape = Some(shape);
    summary.numbered_by_line = matches!(shape, Shape::KubeApiserver | Shape::StorageBlob);
    let result = match shape {
        Shape::KubeApiserver => lines(&mut reader, file, Framing::Kube, channels, &mut summary),
        Shape::StorageBlob => lines(
            &mut reader,
            file,
            Framing::ResourceLog,
            channels,
            &mut summary,
        ),
        Shape::EventHub => documents::event_hub(reader, file, channels.tx),
        Shape::AzQuery => documents::az_rows(reader, file, channels.tx),
        Shape::Csv => documents::csv_rows(reader, file, channels.tx, &mut summary),
    };
    match result {
        Ok(()) => {}
        Err(Failure::Io(e)) => summary.problems.push(io_problem(&e, gzip)),
        Err(Failure::Document(why)) => summary.problems.push(Problem::BrokenDocument(why)),
        Err(Failure::Stopped) => {}
    }
    summary
}

pub(crate) enum Failure {
    Io(io::Error),
    Document(String),
    /// The parsers are gone (a panic is being propagated).
    Stopped,
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

fn io_problem(e: &io::Error, gzip: bool) -> Problem {
    let truncated = matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData
    );
    if gzip && truncated {
        Problem::TruncatedGzip
    } else {
        Problem::Io(e.to_string())
    }
}

fn lines(
    reader: &mut dyn BufRead,
    file: usize,
    framing: Framing,
    channels: &Channels<'_>,
    summary: &mut FileSummary,
) -> Result<(), Failure> {
    let mut line = 1u64;
    let mut carry: Vec<u8> = Vec::new();
    let mut skipping = false;
    loop {
        // What is carried and then a chunk, or as much again as is carried: a
        // line longer than a chunk grows the buffer geometrically instead of
        // being copied over and over. Never asking for less than a chunk also
        // lets the `BufReader` (a chunk's size) hand the read to the decoder
        // or the file directly, with no copy through its own buffer.
        let target = carry.len() + CHUNK.max(carry.len());
        let mut data = channels.recycled.try_recv().unwrap_or_default();
        if data.len() < target {
            data.resize(target, 0);
        }
        data[..carry.len()].copy_from_slice(&carry);
        let (mut filled, carried) = (carry.len(), carry.len());
        carry.clear();
        let mut eof = false;
        while filled < target {
            match reader.read(&mut data[filled..target]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                // A short read ends the chunk: asking for the rest (less than
                // the `BufReader` holds) would make it buffer and copy every
                // read after this one. Not while a long line is carried,
                // whose buffer must fill to grow geometrically.
                Ok(n) if filled + n < target && carried < CHUNK => {
                    filled += n;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    data.truncate(filled);
                    send_lines(data, file, framing, line, channels.tx, skipping)?;
                    return Err(e.into());
                }
            }
        }
        data.truncate(filled);
        if eof {
            return send_lines(data, file, framing, line, channels.tx, skipping).map(|_| ());
        }
        match memchr::memrchr(b'\n', &data) {
            Some(end) => {
                carry.extend_from_slice(&data[end + 1..]);
                data.truncate(end + 1);
                line = send_lines(data, file, framing, line, channels.tx, skipping)?;
                skipping = false;
            }
            None if data.len() >= MAX_LINE || skipping => {
                // One line longer than any audit event: drop it, say so, resync at the next newline.
                if !skipping {
                    summary.records += 1;
                    summary.malformed += 1;
                    summary.note(line, format!("line longer than {} MiB", MAX_LINE >> 20));
                }
                skipping = true;
            }
            None => carry = data,
        }
    }
}

/// Sends whole lines starting at line `line`; returns the next line number.
/// When `skipping`, the first line is the tail of an overlong one and is dropped.
fn send_lines(
    mut data: Vec<u8>,
    file: usize,
    framing: Framing,
    mut line: u64,
    tx: &Sender<Chunk>,
    skipping: bool,
) -> Result<u64, Failure> {
    if skipping {
        let cut = memchr::memchr(b'\n', &data).map_or(data.len(), |i| i + 1);
        data.drain(..cut);
        line += 1;
    }
    let next = line + memchr::memchr_iter(b'\n', &data).count() as u64;
    if !data.is_empty() {
        tx.send(Chunk {
            file,
            first: line,
            framing,
            data,
        })
        .map_err(|_| Failure::Stopped)?;
    }
    Ok(next)
}

// ---------- parsers ----------

/// Half of an AKS log is `RequestReceived`, never counted: such lines are
/// skipped unparsed. Only the first `"stage":"` of a line is looked at, which
/// is the event's own (Go writes `stage` before `requestObject`), so an
/// object in the body with a `stage` field cannot make a line skipped.
struct Prefilter {
    plain: memchr::memmem::Finder<'static>,
    escaped: memchr::memmem::Finder<'static>,
}

impl Prefilter {
    fn new() -> Self {
        Self {
            plain: memchr::memmem::Finder::new(br#""stage":""#),
            escaped: memchr::memmem::Finder::new(br#"\"stage\":\""#),
        }
    }

    fn request_received(&self, framing: Framing, line: &[u8]) -> bool {
        let first = |finder: &memchr::memmem::Finder<'_>, value: &[u8]| {
            finder
                .find(line)
                .is_some_and(|at| line[at + finder.needle().len()..].starts_with(value))
        };
        match framing {
            Framing::Kube => first(&self.plain, b"RequestReceived\""),
            // The event as an escaped string in `properties.log`, or as an object.
            Framing::ResourceLog => {
                first(&self.escaped, br#"RequestReceived\""#)
                    || first(&self.plain, b"RequestReceived\"")
            }
            Framing::TableRow => false,
        }
    }
}

struct Partial {
    files: Vec<FileSummary>,
    newest: Option<Micros>,
    sets: [[Option<Aggregates>; 2]; 2],
}

fn parse_all(
    rx: &Receiver<Chunk>,
    give_back: &Sender<Vec<u8>>,
    files: usize,
    s: &Settings,
    filter: &Filter,
    mode: Mode,
) -> Partial {
    let mut p = Partial {
        files: vec![FileSummary::default(); files],
        newest: None,
        sets: Default::default(),
    };
    let prefilter = Prefilter::new();
    for chunk in rx {
        let mut start = 0;
        let data = &chunk.data;
        // UTF-8 is checked once per chunk (SIMD, chosen at run time), and
        // line by line only in a chunk that fails, to name the bad lines.
        let text = simdutf8::basic::from_utf8(data).ok();
        let ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
        for (number, end) in (chunk.first..).zip(ends) {
            let (range, line) = (start..end, &data[start..end]);
            start = end + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let summary = &mut p.files[chunk.file];
            summary.records += 1;
            if prefilter.request_received(chunk.framing, line) {
                summary.other_stages += 1;
                continue;
            }
            // Cut at newlines, so always on character boundaries.
            let checked = text.and_then(|t| t.get(range));
            let Some(line) = checked.or_else(|| std::str::from_utf8(line).ok()) else {
                summary.malformed += 1;
                summary.note(number, "not UTF-8".into());
                continue;
            };
            with_record(chunk.framing, line, |category, result| {
                let summary = &mut p.files[chunk.file];
                let r = match result {
                    Ok(r) => r,
                    Err(Unusable::Malformed(why)) => {
                        summary.malformed += 1;
                        return summary.note(number, why);
                    }
                    Err(Unusable::NotAnEvent(why)) => {
                        summary.not_events += 1;
                        return summary.note(number, why);
                    }
                };
                let c = match category {
                    Category::Full => 0,
                    Category::Admin => 1,
                    Category::Other => return summary.not_events += 1,
                };
                summary.admin_records += u64::from(c == 1);
                let watch = r.event.verb == "watch";
                // Each request once: ResponseComplete (or Panic); a watch when it opens.
                let (role, open) = match (r.stage, watch) {
                    (Stage::RequestReceived, _) | (Stage::ResponseStarted, false) => {
                        return summary.other_stages += 1;
                    }
                    (Stage::ResponseStarted, true) => (0, true),
                    // A watch refused (403, 429, …) never started: its completion is the request.
                    (Stage::ResponseComplete | Stage::Panic, true) if r.code() >= 400 => (0, false),
                    (Stage::ResponseComplete | Stage::Panic, true) => (1, false),
                    (Stage::ResponseComplete | Stage::Panic, false) => (0, false),
                };
                let window = match mode {
                    Mode::Newest => {
                        p.newest = p.newest.max(Some(r.received));
                        return summary.other_stages += 1;
                    }
                    Mode::Count(window) => window,
                };
                if !window.contains(r.received) || !filter.matches(&r) {
                    return summary.filtered += 1;
                }
                if role == 0 {
                    summary.counted += 1;
                } else {
                    summary.other_stages += 1;
                }
                p.sets[c][role]
                    .get_or_insert_with(|| Aggregates::new(&s.capacity))
                    .add(&r, open, s);
            });
        }
        // A full pool means the reader has enough; this buffer is then freed.
        let _ = give_back.try_send(chunk.data);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefilter_looks_at_the_events_own_stage_only() {
        let p = Prefilter::new();
        let received = br#"{"kind":"Event","stage":"RequestReceived","requestURI":"/x"}"#;
        let nested = br#"{"kind":"Event","stage":"ResponseComplete","requestObject":{"stage":"RequestReceived"}}"#;
        assert!(p.request_received(Framing::Kube, received));
        assert!(!p.request_received(Framing::Kube, nested));
        let escaped = serde_json::json!({"properties": {"log": String::from_utf8_lossy(received)}})
            .to_string();
        let escaped_nested =
            serde_json::json!({"properties": {"log": String::from_utf8_lossy(nested)}}).to_string();
        assert!(p.request_received(Framing::ResourceLog, escaped.as_bytes()));
        assert!(!p.request_received(Framing::ResourceLog, escaped_nested.as_bytes()));
        let object = format!(
            r#"{{"properties":{{"log":{}}}}}"#,
            String::from_utf8_lossy(received)
        );
        assert!(p.request_received(Framing::ResourceLog, object.as_bytes()));
        assert!(!p.request_received(Framing::TableRow, received));
    }
}
