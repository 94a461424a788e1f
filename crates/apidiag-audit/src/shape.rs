//! Which export a file is, from its first bytes (after decompression).
//!
//! Decided per file, so one folder may hold a kube-apiserver log next to a
//! storage-account blob and an `az` export. Only the top-level keys of the
//! first record are read; a file that matches nothing gets an error naming
//! every shape known, and the legacy text format gets the flag that fixes it.

use std::fmt;

use serde::Deserialize;
use serde::de::IgnoredAny;

/// An export shape the engine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// kube-apiserver's log backend: one `audit.k8s.io/v1` (or `v1beta1`) event a line.
    KubeApiserver,
    /// An AKS diagnostic setting's storage-account blob (`PT1H.json`): one resource-log
    /// record a line, the event in `properties.log` (escaped string or object).
    StorageBlob,
    /// An Event Hub capture: `{"records":[…]}` documents of resource-log records.
    EventHub,
    /// `az monitor log-analytics query` output: one JSON array of rows, every value a
    /// string (`AKSAudit` columns, or `AzureDiagnostics` rows with `log_s`).
    AzQuery,
    /// A CSV export of the same tables (the portal's "Export to CSV").
    Csv,
}

impl Shape {
    /// Every shape, in the order the error message lists them.
    pub const ALL: [Self; 5] = [
        Self::KubeApiserver,
        Self::StorageBlob,
        Self::EventHub,
        Self::AzQuery,
        Self::Csv,
    ];
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::KubeApiserver => "kube-apiserver JSON lines (audit.k8s.io/v1, v1beta1)",
            Self::StorageBlob => "AKS storage-account blob (PT1H.json, one record a line)",
            Self::EventHub => "Event Hub capture ({\"records\":[…]})",
            Self::AzQuery => {
                "`az monitor log-analytics query` output (AKSAudit or AzureDiagnostics)"
            }
            Self::Csv => "CSV export of AKSAudit or AzureDiagnostics",
        })
    }
}

/// What the first bytes say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    /// A known shape.
    Known(Shape),
    /// No bytes at all.
    Empty,
    /// kube-apiserver's `--audit-log-format=legacy` text.
    Legacy,
    /// Something else; the text says what was seen.
    Unknown(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    kind: Option<IgnoredAny>,
    api_version: Option<String>,
    stage: Option<IgnoredAny>,
    #[serde(rename = "auditID")]
    audit_id: Option<IgnoredAny>,
    records: Option<IgnoredAny>,
    properties: Option<IgnoredAny>,
    category: Option<IgnoredAny>,
}

/// Detects the shape from the first bytes of a file (as much as is at hand;
/// 64 KiB is plenty unless the first line is longer).
pub fn detect(head: &[u8]) -> Detection {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Detection::Empty;
    };
    let text = &head[start..];
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or(text);
    match text[0] {
        b'[' => Detection::Known(Shape::AzQuery),
        b'{' => detect_object(text, first_line),
        _ if is_legacy(first_line) => Detection::Legacy,
        _ if is_csv_header(first_line) => Detection::Known(Shape::Csv),
        _ => Detection::Unknown(format!("it starts with `{}`", preview(first_line))),
    }
}

fn detect_object(text: &[u8], first_line: &[u8]) -> Detection {
    if let Ok(p) = serde_json::from_slice::<Probe>(first_line) {
        if p.records.is_some() {
            return Detection::Known(Shape::EventHub);
        }
        let audit_api = p
            .api_version
            .as_deref()
            .is_some_and(|v| v.starts_with("audit.k8s.io/"));
        if audit_api || (p.kind.is_some() && p.stage.is_some()) || p.audit_id.is_some() {
            return Detection::Known(Shape::KubeApiserver);
        }
        if p.properties.is_some() && p.category.is_some() {
            return Detection::Known(Shape::StorageBlob);
        }
        return Detection::Unknown(format!(
            "its first JSON object is `{}`",
            preview(first_line)
        ));
    }
    // A pretty-printed document, or a first line longer than what was read.
    let after = text[1..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &text[1 + i..]);
    if after.is_some_and(|rest| rest.starts_with(b"\"records\"")) {
        return Detection::Known(Shape::EventHub);
    }
    if contains(first_line, b"\"apiVersion\":\"audit.k8s.io/")
        || contains(first_line, b"\"auditID\":")
    {
        return Detection::Known(Shape::KubeApiserver);
    }
    if contains(first_line, b"\"properties\":") && contains(first_line, b"\"category\":") {
        return Detection::Known(Shape::StorageBlob);
    }
    Detection::Unknown(format!("it starts with `{}`", preview(first_line)))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// `2017-03-21T03:57:09.106841886-04:00 AUDIT: id="…" stage="…" …`
fn is_legacy(line: &[u8]) -> bool {
    let mut words = line.splitn(3, |&b| b == b' ');
    let stamp = words.next().unwrap_or_default();
    stamp.first().is_some_and(u8::is_ascii_digit) && words.next() == Some(b"AUDIT:")
}

fn is_csv_header(line: &[u8]) -> bool {
    let line = String::from_utf8_lossy(line);
    let columns: Vec<&str> = line
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    let known = [
        "TimeGenerated",
        "RequestUri",
        "log_s",
        "AuditId",
        "Stage",
        "Verb",
        "UserAgent",
    ];
    columns.len() > 1
        && columns
            .iter()
            .any(|c| known.iter().any(|k| c.starts_with(k)))
}

fn preview(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(&line[..line.len().min(60)]);
    text.chars()
        .map(|c| if c.is_control() { '·' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_apiserver_lines() {
        let line = br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","stage":"ResponseComplete"}
{"kind":"Event"}"#;
        assert_eq!(detect(line), Detection::Known(Shape::KubeApiserver));
        let beta =
            br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","stage":"ResponseComplete"}"#;
        assert_eq!(detect(beta), Detection::Known(Shape::KubeApiserver));
    }

    #[test]
    fn truncated_first_line_still_detected() {
        let mut long = br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"x","requestObject":{"a":""#.to_vec();
        long.extend(std::iter::repeat_n(b'a', 100));
        assert_eq!(detect(&long), Detection::Known(Shape::KubeApiserver));
    }

    #[test]
    fn azure_shapes() {
        let blob = br#"{"time":"2023-01-10T22:13:00Z","category":"kube-audit","properties":{"log":"{}\n","pod":"p"}}"#;
        assert_eq!(detect(blob), Detection::Known(Shape::StorageBlob));
        assert_eq!(
            detect(b"{\n  \"records\": [\n"),
            Detection::Known(Shape::EventHub)
        );
        assert_eq!(
            detect(br#"{"records":[]}"#),
            Detection::Known(Shape::EventHub)
        );
        assert_eq!(
            detect(b"  [\n  {\"TableName\": \"PrimaryResult\""),
            Detection::Known(Shape::AzQuery)
        );
        assert_eq!(
            detect(b"\xEF\xBB\xBFTimeGenerated [UTC],Stage,Verb\n"),
            Detection::Known(Shape::Csv)
        );
        assert_eq!(
            detect(b"\"TimeGenerated [UTC]\",\"log_s\"\n"),
            Detection::Known(Shape::Csv)
        );
    }

    #[test]
    fn legacy_empty_unknown() {
        let legacy = b"2017-03-21T03:57:09.106841886-04:00 AUDIT: id=\"c939d2a7\" stage=\"RequestReceived\" ip=\"127.0.0.1\"";
        assert_eq!(detect(legacy), Detection::Legacy);
        assert_eq!(detect(b" \n\n"), Detection::Empty);
        assert!(
            matches!(detect(b"hello world"), Detection::Unknown(m) if m.contains("hello world"))
        );
        assert!(matches!(
            detect(br#"{"apiVersion":"v1","kind":"Pod"}"#),
            Detection::Unknown(_)
        ));
        assert!(matches!(
            detect(b"\x1f\x8b\x08binary"),
            Detection::Unknown(_)
        ));
    }
}
