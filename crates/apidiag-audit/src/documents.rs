//! Whole-document shapes (`az` arrays, Event Hub documents, CSV) are read as
//! a stream on the reader thread, one record at a time, and each record
//! becomes one line of a chunk, so the parser threads treat every shape
//! alike. Newlines inside a JSON record can only be whitespace between tokens,
//! so they become spaces; a CSV row becomes the JSON object of strings an
//! `az` row is, with only the columns the engine reads.

use std::io::{self, BufRead};

use crossbeam_channel::Sender;
use serde::de::{DeserializeSeed, Error as _, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::event::short;
use crate::framing::{Framing, TABLE_COLUMNS};
use crate::pipeline::{CHUNK, Chunk, Failure};
use crate::summary::FileSummary;

pub(crate) fn json_failure(e: serde_json::Error) -> Failure {
    match e.io_error_kind() {
        Some(kind) => Failure::Io(io::Error::new(kind, e.to_string())),
        None if e.to_string() == "stopped" => Failure::Stopped,
        None => Failure::Document(format!(
            "{} at line {} column {}",
            short(&e),
            e.line(),
            e.column()
        )),
    }
}

/// Collects records of a document into chunks, one record a line.
struct Records<'t> {
    tx: &'t Sender<Chunk>,
    file: usize,
    framing: Framing,
    data: Vec<u8>,
    first: u64,
    next: u64,
}

impl<'t> Records<'t> {
    fn new(tx: &'t Sender<Chunk>, file: usize, framing: Framing) -> Self {
        Self {
            tx,
            file,
            framing,
            data: Vec::with_capacity(CHUNK),
            first: 1,
            next: 1,
        }
    }

    fn push(&mut self, record: &str) -> bool {
        let start = self.data.len();
        self.data.extend_from_slice(record.as_bytes());
        for b in &mut self.data[start..] {
            if *b == b'\n' || *b == b'\r' {
                *b = b' ';
            }
        }
        self.data.push(b'\n');
        self.next += 1;
        self.data.len() < CHUNK || self.flush()
    }

    fn flush(&mut self) -> bool {
        if self.data.is_empty() {
            return true;
        }
        let data = std::mem::replace(&mut self.data, Vec::with_capacity(CHUNK));
        let chunk = Chunk {
            file: self.file,
            first: self.first,
            framing: self.framing,
            data,
        };
        self.first = self.next;
        self.tx.send(chunk).is_ok()
    }
}

#[derive(serde::Deserialize)]
struct EventHubDoc {
    records: Vec<Box<RawValue>>,
}

pub(crate) fn event_hub(
    reader: Box<dyn BufRead + Send>,
    file: usize,
    tx: &Sender<Chunk>,
) -> Result<(), Failure> {
    let mut out = Records::new(tx, file, Framing::ResourceLog);
    let docs = serde_json::Deserializer::from_reader(reader).into_iter::<EventHubDoc>();
    let mut result = Ok(());
    'docs: for doc in docs {
        match doc {
            Ok(doc) => {
                for record in doc.records {
                    if !out.push(record.get()) {
                        result = Err(Failure::Stopped);
                        break 'docs;
                    }
                }
            }
            Err(e) => {
                result = Err(json_failure(e));
                break;
            }
        }
    }
    if !out.flush() {
        return Err(Failure::Stopped);
    }
    result
}

struct Rows<'r, 't>(&'r mut Records<'t>);

impl<'de> DeserializeSeed<'de> for Rows<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array of rows")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(row) = seq.next_element::<Box<RawValue>>()? {
            if !self.0.push(row.get()) {
                return Err(A::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

pub(crate) fn az_rows(
    reader: Box<dyn BufRead + Send>,
    file: usize,
    tx: &Sender<Chunk>,
) -> Result<(), Failure> {
    let mut out = Records::new(tx, file, Framing::TableRow);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let result = Rows(&mut out)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(json_failure);
    if !out.flush() {
        return Err(Failure::Stopped);
    }
    result
}

/// CSV rows become the same JSON object of strings an `az` row is.
pub(crate) fn csv_rows(
    reader: Box<dyn BufRead + Send>,
    file: usize,
    tx: &Sender<Chunk>,
    summary: &mut FileSummary,
) -> Result<(), Failure> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = csv.headers().map_err(csv_failure)?.clone();
    let columns: Vec<(usize, &str)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let name = h
                .trim_start_matches('\u{feff}')
                .split(" [")
                .next()
                .unwrap_or("")
                .trim();
            TABLE_COLUMNS.iter().find(|c| **c == name).map(|c| (i, *c))
        })
        .collect();
    let mut out = Records::new(tx, file, Framing::TableRow);
    let mut record = csv::StringRecord::new();
    let mut number = 0u64;
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                number += 1;
                let row: serde_json::Map<String, serde_json::Value> = columns
                    .iter()
                    .filter_map(|&(i, name)| record.get(i).map(|v| (name.to_owned(), v.into())))
                    .collect();
                if !out.push(&serde_json::Value::Object(row).to_string()) {
                    return Err(Failure::Stopped);
                }
            }
            Err(e) if e.is_io_error() => {
                out.flush();
                return Err(csv_failure(e));
            }
            Err(e) => {
                // A row the CSV reader refuses (bad UTF-8): counted, not fatal.
                number += 1;
                out.push("");
                summary.records += 1;
                summary.malformed += 1;
                summary.note(number, format!("CSV: {e}"));
            }
        }
    }
    if !out.flush() {
        return Err(Failure::Stopped);
    }
    Ok(())
}

fn csv_failure(e: csv::Error) -> Failure {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => Failure::Io(e),
        other => Failure::Document(format!("CSV: {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(
        read: impl FnOnce(&Sender<Chunk>) -> Result<(), Failure>,
    ) -> (Vec<String>, Option<String>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let failure = match read(&tx) {
            Ok(()) => None,
            Err(Failure::Document(why)) => Some(why),
            Err(Failure::Io(e)) => Some(e.to_string()),
            Err(Failure::Stopped) => Some("stopped".into()),
        };
        drop(tx);
        let lines = rx
            .iter()
            .flat_map(|c| {
                String::from_utf8(c.data)
                    .expect("utf8")
                    .lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        (lines, failure)
    }

    fn reader(text: &'static str) -> Box<dyn BufRead + Send> {
        Box::new(io::Cursor::new(text.as_bytes()))
    }

    #[test]
    fn az_rows_become_one_line_each() {
        let (lines, failure) = chunks(|tx| {
            az_rows(
                reader("[\n  {\n    \"Stage\": \"a\"\n  },\n  {\"Stage\": \"b\"}\n]\n"),
                0,
                tx,
            )
        });
        assert_eq!(lines, ["{     \"Stage\": \"a\"   }", "{\"Stage\": \"b\"}"]);
        assert_eq!(failure, None);
        let (lines, failure) = chunks(|tx| az_rows(reader("[{\"Stage\": \"a\"}, {\"Sta"), 0, tx));
        assert_eq!(lines.len(), 1);
        assert!(failure.is_some_and(|f| f.contains("line 1")));
    }

    #[test]
    fn event_hub_documents_one_after_another() {
        let two = "{\"records\":[{\"a\":1},{\"a\":2}]}\n{\"records\": [\n {\"a\":3}\n]}";
        let (lines, failure) = chunks(|tx| event_hub(reader(two), 0, tx));
        assert_eq!(
            lines,
            ["{\"a\":1}", "{\"a\":2}", " {\"a\":3}"].map(str::trim_start)
        );
        assert_eq!(failure, None);
    }

    #[test]
    fn csv_keeps_the_engine_columns_only() {
        let csv = "\u{feff}TimeGenerated [UTC],Stage,Verb,Extra\n2025-01-01T00:00:00Z,ResponseComplete,get,x\n";
        let mut summary = FileSummary::default();
        let (lines, failure) = chunks(|tx| csv_rows(reader(csv), 0, tx, &mut summary));
        assert_eq!(lines, [r#"{"Stage":"ResponseComplete","Verb":"get"}"#]);
        assert_eq!((failure, summary.malformed), (None, 0));
    }
}
