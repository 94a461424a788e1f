//! The bundle as it is on disk, apart from the types the rest of apidiag works
//! with: a user's backup outlives the release that wrote it, so what a file holds
//! is fixed here, per schema version, and a change to a plan or an `Action` in
//! memory cannot silently change (or stop reading) it.
//!
//! `apidiag.dev/backup/v1` is the only version so far. Within a version, fields
//! may be added (readers ignore what they do not know, and every new field has a
//! default); anything else is a new version with its own module and a reader
//! that keeps reading the old one.
//!
//! The types borrow (`Cow`): writing a 20,000-operation manifest serializes
//! references into the in-memory plan instead of a copy of it, and reading
//! borrows from the file's bytes wherever no escape forces a copy.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{JournalEntry, Manifest, ManifestOperation, OperationOutcome};
use crate::object::{ObjectRef, ResourceType};
use crate::remediation::{Action, Operation};

/// The schema this build writes.
pub const BUNDLE_SCHEMA: &str = "apidiag.dev/backup/v1";

/// Why bytes are not a bundle file this build can read (the caller adds the path).
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "schema `{found}`: this build reads `{BUNDLE_SCHEMA}` (was the bundle written by a newer apidiag?)"
    )]
    Schema { found: String },
}

/// `manifest.json` from its bytes, whatever schema version wrote it.
pub fn read_manifest(bytes: &[u8]) -> Result<Manifest, FormatError> {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(borrow)]
        schema: Cow<'a, str>,
    }
    let head: Head<'_> = serde_json::from_slice(bytes)?;
    match head.schema.as_ref() {
        BUNDLE_SCHEMA => Ok(serde_json::from_slice::<v1::Manifest<'_>>(bytes)?.into()),
        other => Err(FormatError::Schema {
            found: other.to_string(),
        }),
    }
}

/// Writes `manifest` as `manifest.json` in the current schema.
pub fn write_manifest<W: std::io::Write>(
    writer: W,
    manifest: &Manifest,
) -> Result<(), serde_json::Error> {
    serde_json::to_writer_pretty(writer, &v1::Manifest::from(manifest))
}

/// One `journal.jsonl` line, newline included.
pub fn journal_line(entry: &JournalEntry) -> Result<Vec<u8>, serde_json::Error> {
    let mut line = serde_json::to_vec(&v1::JournalLine::from(entry))?;
    line.push(b'\n');
    Ok(line)
}

/// `journal.jsonl`: the last outcome recorded for each operation. A line that does
/// not parse is skipped, not an error: a crash mid-write leaves a torn last line,
/// and the operation it would have recorded then counts as not known to be done
/// (undo looks at the cluster for those).
pub fn read_journal(bytes: &[u8]) -> BTreeMap<usize, JournalEntry> {
    let mut entries = BTreeMap::new();
    for line in bytes.split(|b| *b == b'\n') {
        if let Ok(line) = serde_json::from_slice::<v1::JournalLine<'_>>(line) {
            let entry = JournalEntry::from(line);
            entries.insert(entry.index, entry);
        }
    }
    entries
}

/// One `undo.jsonl` line: the bundle was restored now, by `undo_bundle`.
pub fn restore_line(undo_bundle: Option<&str>) -> Result<Vec<u8>, serde_json::Error> {
    let mut line = serde_json::to_vec(&v1::RestoreLine {
        restored_at: jiff::Timestamp::now().to_string().into(),
        undo_bundle: undo_bundle.map(Cow::Borrowed),
    })?;
    line.push(b'\n');
    Ok(line)
}

mod v1 {
    use super::*;

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Manifest<'a> {
        #[serde(borrow)]
        pub schema: Cow<'a, str>,
        #[serde(borrow)]
        pub created: Cow<'a, str>,
        #[serde(borrow)]
        pub check: Cow<'a, str>,
        #[serde(borrow)]
        pub plan_id: Cow<'a, str>,
        #[serde(borrow)]
        pub title: Cow<'a, str>,
        #[serde(borrow)]
        pub server: Cow<'a, str>,
        #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
        pub context: Option<Cow<'a, str>>,
        #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
        pub cluster_uid: Option<Cow<'a, str>>,
        #[serde(borrow)]
        pub operations: Vec<Operation<'a>>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Operation<'a> {
        pub index: usize,
        #[serde(borrow)]
        pub target: Target<'a>,
        #[serde(borrow)]
        pub action: Action<'a>,
        #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
        pub object_file: Option<Cow<'a, str>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub object_line: Option<usize>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Target<'a> {
        #[serde(borrow)]
        pub resource: Resource<'a>,
        #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
        pub namespace: Option<Cow<'a, str>>,
        #[serde(borrow)]
        pub name: Cow<'a, str>,
        #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
        pub uid: Option<Cow<'a, str>>,
        #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
        pub resource_version: Option<Cow<'a, str>>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Resource<'a> {
        #[serde(borrow)]
        pub group: Cow<'a, str>,
        #[serde(borrow)]
        pub version: Cow<'a, str>,
        #[serde(borrow)]
        pub plural: Cow<'a, str>,
        #[serde(borrow)]
        pub kind: Cow<'a, str>,
        pub namespaced: bool,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", tag = "type")]
    pub enum Action<'a> {
        Patch {
            patch: Cow<'a, Value>,
        },
        Delete {
            #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
            propagation: Option<Cow<'a, str>>,
        },
        Create {
            object: Cow<'a, Value>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            status: Option<Cow<'a, Value>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            resume: Option<Cow<'a, Value>>,
        },
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct JournalLine<'a> {
        pub index: usize,
        pub outcome: Outcome,
        #[serde(default, borrow, skip_serializing_if = "str::is_empty")]
        pub message: Cow<'a, str>,
        #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
        pub uid: Option<Cow<'a, str>>,
        #[serde(borrow)]
        pub at: Cow<'a, str>,
    }

    #[derive(Clone, Copy, Serialize, Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub enum Outcome {
        Done,
        Skipped,
        Failed,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RestoreLine<'a> {
        pub restored_at: Cow<'a, str>,
        pub undo_bundle: Option<Cow<'a, str>>,
    }
}

fn borrowed(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(Cow::Borrowed)
}

fn owned(s: Option<Cow<'_, str>>) -> Option<String> {
    s.map(Cow::into_owned)
}

impl<'a> From<&'a Manifest> for v1::Manifest<'a> {
    fn from(m: &'a Manifest) -> Self {
        v1::Manifest {
            schema: BUNDLE_SCHEMA.into(),
            created: m.created.as_str().into(),
            check: m.check.as_str().into(),
            plan_id: m.plan_id.as_str().into(),
            title: m.title.as_str().into(),
            server: m.server.as_str().into(),
            context: borrowed(&m.context),
            cluster_uid: borrowed(&m.cluster_uid),
            operations: m.operations.iter().map(v1::Operation::from).collect(),
        }
    }
}

impl From<v1::Manifest<'_>> for Manifest {
    fn from(m: v1::Manifest<'_>) -> Self {
        Manifest {
            created: m.created.into_owned(),
            check: m.check.into_owned(),
            plan_id: m.plan_id.into_owned(),
            title: m.title.into_owned(),
            server: m.server.into_owned(),
            context: owned(m.context),
            cluster_uid: owned(m.cluster_uid),
            operations: m.operations.into_iter().map(Into::into).collect(),
        }
    }
}

impl<'a> From<&'a ManifestOperation> for v1::Operation<'a> {
    fn from(op: &'a ManifestOperation) -> Self {
        let target = &op.operation.target;
        v1::Operation {
            index: op.index,
            target: v1::Target {
                resource: v1::Resource {
                    group: target.resource.group.as_str().into(),
                    version: target.resource.version.as_str().into(),
                    plural: target.resource.plural.as_str().into(),
                    kind: target.resource.kind.as_str().into(),
                    namespaced: target.resource.namespaced,
                },
                namespace: borrowed(&target.namespace),
                name: target.name.as_str().into(),
                uid: borrowed(&target.uid),
                resource_version: borrowed(&target.resource_version),
            },
            action: match &op.operation.action {
                Action::Patch { patch } => v1::Action::Patch {
                    patch: Cow::Borrowed(patch),
                },
                Action::Delete { propagation } => v1::Action::Delete {
                    propagation: borrowed(propagation),
                },
                Action::Create {
                    object,
                    status,
                    resume,
                } => v1::Action::Create {
                    object: Cow::Borrowed(object),
                    status: status.as_ref().map(Cow::Borrowed),
                    resume: resume.as_ref().map(Cow::Borrowed),
                },
            },
            object_file: borrowed(&op.object_file),
            object_line: op.object_line,
        }
    }
}

impl From<v1::Operation<'_>> for ManifestOperation {
    fn from(op: v1::Operation<'_>) -> Self {
        let t = op.target;
        let action = match op.action {
            v1::Action::Patch { patch } => Action::Patch {
                patch: patch.into_owned(),
            },
            v1::Action::Delete { propagation } => Action::Delete {
                propagation: owned(propagation),
            },
            v1::Action::Create {
                object,
                status,
                resume,
            } => Action::Create {
                object: object.into_owned(),
                status: status.map(Cow::into_owned),
                resume: resume.map(Cow::into_owned),
            },
        };
        ManifestOperation {
            index: op.index,
            operation: Operation {
                target: ObjectRef {
                    resource: ResourceType {
                        group: t.resource.group.into_owned(),
                        version: t.resource.version.into_owned(),
                        plural: t.resource.plural.into_owned(),
                        kind: t.resource.kind.into_owned(),
                        namespaced: t.resource.namespaced,
                    },
                    namespace: owned(t.namespace),
                    name: t.name.into_owned(),
                    uid: owned(t.uid),
                    resource_version: owned(t.resource_version),
                },
                action,
                // The saved object lives in its own file, never in the manifest.
                before: None,
            },
            object_file: owned(op.object_file),
            object_line: op.object_line,
        }
    }
}

impl<'a> From<&'a JournalEntry> for v1::JournalLine<'a> {
    fn from(e: &'a JournalEntry) -> Self {
        v1::JournalLine {
            index: e.index,
            outcome: match e.outcome {
                OperationOutcome::Done => v1::Outcome::Done,
                OperationOutcome::Skipped => v1::Outcome::Skipped,
                OperationOutcome::Failed => v1::Outcome::Failed,
            },
            message: e.message.as_str().into(),
            uid: borrowed(&e.uid),
            at: e.at.as_str().into(),
        }
    }
}

impl From<v1::JournalLine<'_>> for JournalEntry {
    fn from(l: v1::JournalLine<'_>) -> Self {
        JournalEntry {
            index: l.index,
            outcome: match l.outcome {
                v1::Outcome::Done => OperationOutcome::Done,
                v1::Outcome::Skipped => OperationOutcome::Skipped,
                v1::Outcome::Failed => OperationOutcome::Failed,
            },
            message: l.message.into_owned(),
            uid: owned(l.uid),
            at: l.at.into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest() -> Manifest {
        let resource = ResourceType::new("batch", "v1", "jobs", "Job", true);
        let object = json!({"metadata": {"name": "j\"1", "namespace": "n", "uid": "u", "resourceVersion": "7"}});
        Manifest {
            created: "2026-12-01T00:00:00Z".into(),
            check: "etcd".into(),
            plan_id: "etcd.completed-jobs".into(),
            title: "delete".into(),
            server: "https://127.0.0.1:1".into(),
            context: Some("lab".into()),
            cluster_uid: None,
            operations: vec![
                ManifestOperation {
                    index: 0,
                    operation: Operation {
                        target: ObjectRef::of(&resource, &object),
                        action: Action::Delete {
                            propagation: Some("Background".into()),
                        },
                        before: Some(object.clone()),
                    },
                    object_file: Some("objects/p00000.jsonl".into()),
                    object_line: Some(0),
                },
                ManifestOperation {
                    index: 1,
                    operation: Operation {
                        target: ObjectRef::of(&resource, &object),
                        action: Action::Create {
                            object: object.clone(),
                            status: Some(json!({"succeeded": 1})),
                            resume: None,
                        },
                        before: None,
                    },
                    object_file: None,
                    object_line: None,
                },
            ],
        }
    }

    #[test]
    fn a_manifest_round_trips_and_never_holds_the_saved_object() {
        let mut bytes = Vec::new();
        write_manifest(&mut bytes, &manifest()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\"schema\": \"apidiag.dev/backup/v1\""));
        assert!(!text.contains("before"), "{text}");
        let read = read_manifest(&bytes).unwrap();
        assert_eq!(read.operations[0].operation.target.name, "j\"1");
        assert_eq!(read.operations[0].object_line, Some(0));
        assert_eq!(
            read.operations[0].operation.action,
            Action::Delete {
                propagation: Some("Background".into())
            }
        );
        assert!(read.operations[0].operation.before.is_none());
        assert!(matches!(
            &read.operations[1].operation.action,
            Action::Create { status: Some(s), .. } if s["succeeded"] == 1
        ));
        assert_eq!(read.context.as_deref(), Some("lab"));
    }

    #[test]
    fn another_schema_is_refused_by_name() {
        let err = read_manifest(br#"{"schema":"apidiag.dev/backup/v9"}"#).unwrap_err();
        assert!(err.to_string().contains("apidiag.dev/backup/v9"), "{err}");
        assert!(read_manifest(b"[]").is_err());
        assert!(read_manifest(b"").is_err());
    }

    #[test]
    fn a_torn_journal_line_is_skipped_and_the_last_outcome_wins() {
        let entry = |index, outcome| JournalEntry {
            index,
            outcome,
            message: String::new(),
            uid: None,
            at: "t".into(),
        };
        let mut bytes = journal_line(&entry(0, OperationOutcome::Failed)).unwrap();
        bytes.extend(journal_line(&entry(0, OperationOutcome::Done)).unwrap());
        bytes.extend(journal_line(&entry(1, OperationOutcome::Skipped)).unwrap());
        bytes.extend(b"{\"index\":2,\"outc");
        let journal = read_journal(&bytes);
        assert_eq!(journal.len(), 2);
        assert_eq!(journal[&0].outcome, OperationOutcome::Done);
        assert_eq!(journal[&1].outcome, OperationOutcome::Skipped);
    }

    /// Found by fuzzing `bundle_reader`: serde_json's default float parser may be
    /// one unit in the last place off, so a number in a saved object changed each
    /// time a manifest was read and written again.
    #[test]
    fn regression_a_number_in_a_saved_object_survives_round_trips() {
        let bytes = br#"{"schema": "apidiag.dev/backup/v1", "created": "", "check": "",
            "planId": "", "title": "", "server": "", "operations": [{"index": 0,
            "target": {"resource": {"group": "", "version": "v1", "plural": "pods",
            "kind": "Pod", "namespaced": true}, "name": "p"},
            "action": {"type": "create", "object": {"n": 184467443073709551615}}}]}"#;
        let write = |manifest: &Manifest| {
            let mut bytes = Vec::new();
            write_manifest(&mut bytes, manifest).unwrap();
            bytes
        };
        let once = write(&read_manifest(bytes).unwrap());
        let twice = write(&read_manifest(&once).unwrap());
        assert_eq!(
            String::from_utf8_lossy(&once),
            String::from_utf8_lossy(&twice)
        );
    }
}
