//! What was read, per file: the shape, how many records, how many counted,
//! and everything that was not counted and why. Nothing is dropped silently:
//! a malformed line is counted and the first few are named by line number.

use std::fmt;

use crate::shape::Shape;

/// How many malformed records are named per file.
pub const SAMPLES: usize = 5;

/// A problem with a whole file (the rest of the run goes on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The shape is none of [`Shape::ALL`].
    UnknownShape(String),
    /// kube-apiserver's legacy text format.
    LegacyFormat,
    /// The gzip stream ends early; what came before it was read.
    TruncatedGzip,
    /// A whole-document export (`az` array, Event Hub) is broken at this point.
    BrokenDocument(String),
    /// The file could not be read.
    Io(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownShape(seen) => {
                write!(f, "not an audit log: {seen}; known shapes: ")?;
                let names: Vec<String> = Shape::ALL.iter().map(ToString::to_string).collect();
                f.write_str(&names.join("; "))
            }
            Self::LegacyFormat => f.write_str(
                "kube-apiserver's legacy text audit format; restart kube-apiserver with \
                 `--audit-log-format=json` (the default) to get JSON lines",
            ),
            Self::TruncatedGzip => {
                f.write_str("the gzip stream is truncated; records before the cut were read")
            }
            Self::BrokenDocument(why) => write!(
                f,
                "the document is broken: {why}; records before it were read"
            ),
            Self::Io(why) => write!(f, "read error: {why}"),
        }
    }
}

/// One record that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Line number (1-based) for line shapes, record number for documents.
    pub at: u64,
    /// Why, in a few words.
    pub reason: String,
}

/// Counts for one file (or standard input).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSummary {
    /// The path as found, `-` for standard input.
    pub name: String,
    /// The shape detected; `None` when it could not be.
    pub shape: Option<Shape>,
    /// Whether it was gzip.
    pub gzip: bool,
    /// Whether [`Sample::at`] counts lines (`true`) or records of a document.
    pub numbered_by_line: bool,
    /// Records (non-empty lines, array elements, rows) read.
    pub records: u64,
    /// Requests counted (after stage rules and filters).
    pub counted: u64,
    /// Records that are not JSON, or lack a required field.
    pub malformed: u64,
    /// Valid records that are not audit events (another `kind`, another diagnostic category).
    pub not_events: u64,
    /// Events of a stage that is not counted (`RequestReceived`; `ResponseStarted` of non-watches).
    pub other_stages: u64,
    /// Events outside the window or the user agent / user / namespace filters.
    pub filtered: u64,
    /// `kube-audit-admin` records.
    pub admin_records: u64,
    /// The first malformed or non-event records, lowest numbers first.
    pub samples: Vec<Sample>,
    /// Problems with the file as a whole.
    pub problems: Vec<Problem>,
}

impl FileSummary {
    pub(crate) fn note(&mut self, at: u64, reason: String) {
        let pos = self.samples.partition_point(|s| s.at < at);
        if pos < SAMPLES {
            self.samples.insert(pos, Sample { at, reason });
            self.samples.truncate(SAMPLES);
        }
    }

    pub(crate) fn absorb(&mut self, o: &Self) {
        self.records += o.records;
        self.counted += o.counted;
        self.malformed += o.malformed;
        self.not_events += o.not_events;
        self.other_stages += o.other_stages;
        self.filtered += o.filtered;
        self.admin_records += o.admin_records;
        for s in &o.samples {
            self.note(s.at, s.reason.clone());
        }
        self.problems.extend(o.problems.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_lowest_numbers_whatever_the_order() {
        let mut a = FileSummary::default();
        for at in [9, 3, 7, 1, 8, 2, 6] {
            a.note(at, format!("line {at}"));
        }
        let ats: Vec<u64> = a.samples.iter().map(|s| s.at).collect();
        assert_eq!(ats, [1, 2, 3, 6, 7]);
    }

    #[test]
    fn messages_name_the_fix() {
        assert!(
            Problem::LegacyFormat
                .to_string()
                .contains("--audit-log-format=json")
        );
        let unknown = Problem::UnknownShape("it starts with `x`".into()).to_string();
        for shape in Shape::ALL {
            assert!(unknown.contains(&shape.to_string()), "{unknown}");
        }
    }
}
