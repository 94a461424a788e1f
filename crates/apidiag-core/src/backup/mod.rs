//! Backup bundles: every object a remediation deletes or patches, written to disk
//! before the first change.
//!
//! A bundle is a directory `~/.kube/apidiag/backups/<UTC time>-<plan id>/` (mode
//! 0700; `APIDIAG_BACKUP_DIR` moves the root) holding:
//! - `manifest.json`: the plan (server, context, every operation with its target);
//! - `objects/NNNNN.json`: each object as the server returned it at preview time;
//!   a bulk fix ([`crate::remediation::stream`]) writes `objects/pNNNNN.jsonl`
//!   instead, one page of objects per file and one object per line, because
//!   20,000 files with 20,000 fsyncs would cost more than the deletes;
//! - `journal.jsonl`: one line per operation outcome, appended as the work goes, so
//!   an interrupted run leaves a record of what was done;
//! - `undo.jsonl`: one line each time the bundle is restored.
//!
//! Files are 0600: Secrets end up here, so only their owner may read them.

mod error;
pub mod format;
mod journal;
mod staging;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::remediation::{Action, Operation, Plan};

pub use error::BackupError;
pub use format::BUNDLE_SCHEMA;
pub use journal::JournalWriter;
pub use staging::{StagedObject, Staging};

/// Where bundles live: `$APIDIAG_BACKUP_DIR`, else `~/.kube/apidiag/backups`.
/// With neither (no `HOME`, as in some containers and cron jobs) there is no
/// private place for backups, and a fix must not write Secrets into whatever the
/// current folder is: [`BackupError::NoRoot`].
pub fn root() -> Result<PathBuf, BackupError> {
    if let Some(dir) = std::env::var_os("APIDIAG_BACKUP_DIR").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    match std::env::var_os("HOME").map(PathBuf::from) {
        Some(home) if home.is_absolute() => Ok(home.join(".kube").join("apidiag").join("backups")),
        _ => Err(BackupError::NoRoot),
    }
}

/// What `manifest.json` holds (its on-disk form is [`format`]'s).
#[derive(Debug, Clone)]
pub struct Manifest {
    pub created: String,
    pub check: String,
    pub plan_id: String,
    pub title: String,
    pub server: String,
    pub context: Option<String>,
    /// The cluster's identity, the UID of its `kube-system` namespace: the same
    /// cluster may be reached through another URL (private and public FQDN), and
    /// another cluster may answer at the same one. Absent in bundles written before
    /// it was recorded, and where `kube-system` could not be read.
    pub cluster_uid: Option<String>,
    pub operations: Vec<ManifestOperation>,
}

/// Where a bundle is made: the cluster as the run reached it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub server: String,
    pub context: Option<String>,
    pub cluster_uid: Option<String>,
}

impl Manifest {
    /// A manifest made now at `origin`.
    pub fn new(
        origin: &Origin,
        check: &str,
        plan_id: &str,
        title: &str,
        operations: Vec<ManifestOperation>,
    ) -> Self {
        Manifest {
            created: jiff::Timestamp::now().to_string(),
            check: check.to_string(),
            plan_id: plan_id.to_string(),
            title: title.to_string(),
            server: origin.server.clone(),
            context: origin.context.clone(),
            cluster_uid: origin.cluster_uid.clone(),
            operations,
        }
    }
}

/// One operation of a bundle, with where its saved object is.
#[derive(Debug, Clone)]
pub struct ManifestOperation {
    pub index: usize,
    pub operation: Operation,
    /// The object file under `objects/`, for deletes and patches.
    pub object_file: Option<String>,
    /// When `object_file` is a JSON-lines page (bulk fixes): the object's line,
    /// counted from 0.
    pub object_line: Option<usize>,
}

/// One line of `journal.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub index: usize,
    pub outcome: OperationOutcome,
    pub message: String,
    /// For creates: the UID of the created object, so undo deletes exactly it.
    pub uid: Option<String>,
    pub at: String,
}

/// What happened to one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationOutcome {
    Done,
    /// Not applied because the object changed or vanished since the preview.
    Skipped,
    Failed,
}

impl OperationOutcome {
    /// As reports name it (`done`, `skipped`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            OperationOutcome::Done => "done",
            OperationOutcome::Skipped => "skipped",
            OperationOutcome::Failed => "failed",
        }
    }
}

/// A bundle on disk.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub dir: PathBuf,
}

/// A bundle this run wrote and synced: the proof that every object a fix will
/// change is backed up. [`crate::api::WriteMode::Backed`] needs one, and only
/// [`Bundle::write`] and [`Staging::commit`] make one, so no code path (a new
/// check in a hurry included) can create, patch or delete without a committed
/// backup; a [`Bundle`] opened from disk is not one:
///
/// ```compile_fail,E0451
/// let bundle = apidiag_core::backup::Bundle { dir: "/tmp/x".into() };
/// let forged = apidiag_core::backup::Committed { bundle };
/// ```
#[derive(Debug)]
pub struct Committed {
    bundle: Bundle,
}

impl std::ops::Deref for Committed {
    type Target = Bundle;
    fn deref(&self) -> &Bundle {
        &self.bundle
    }
}

impl Bundle {
    /// Writes a bundle for `plan`: the manifest and every object the plan will
    /// delete or patch, synced to disk before this returns.
    pub fn write(root: &Path, plan: &Plan, origin: &Origin) -> Result<Committed, BackupError> {
        let write_error = |path: &Path| {
            let path = path.display().to_string();
            move |source| BackupError::Write { path, source }
        };
        create_private_root(root)?;
        let base = bundle_name(&plan.id);
        let mut dir = root.join(&base);
        let mut n = 1;
        loop {
            match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    n += 1;
                    dir = root.join(format!("{base}-{n}"));
                }
                Err(e) => return Err(write_error(&dir)(e)),
            }
        }
        let objects = dir.join("objects");
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&objects)
            .map_err(write_error(&objects))?;

        let mut operations = Vec::with_capacity(plan.operations.len());
        for (index, operation) in plan.operations.iter().enumerate() {
            let object_file = match (&operation.action, &operation.before) {
                (Action::Patch { .. } | Action::Delete { .. }, Some(before)) => {
                    let name = format!("{index:05}.json");
                    let path = objects.join(&name);
                    let bytes =
                        serde_json::to_vec_pretty(before).map_err(|e| BackupError::Write {
                            path: path.display().to_string(),
                            source: std::io::Error::other(e),
                        })?;
                    write_private(&path, &bytes).map_err(write_error(&path))?;
                    Some(format!("objects/{name}"))
                }
                (Action::Patch { .. } | Action::Delete { .. }, None) => {
                    return Err(BackupError::Invalid {
                        path: dir.display().to_string(),
                        message: format!(
                            "{} {} has no saved object: nothing may change without its backup",
                            operation.action.verb(),
                            operation.target.display()
                        ),
                    });
                }
                _ => None,
            };
            let mut operation = operation.clone();
            // The object is in its own file; the manifest stays small and readable.
            operation.before = None;
            operations.push(ManifestOperation {
                index,
                operation,
                object_file,
                object_line: None,
            });
        }
        let manifest = Manifest::new(origin, &plan.check, &plan.id, &plan.title, operations);
        let path = dir.join("manifest.json");
        write_private_manifest(&path, &manifest).map_err(write_error(&path))?;
        // The directory entries must be durable too before anything is deleted.
        if let Ok(handle) = File::open(&dir) {
            let _ = handle.sync_all();
        }
        Ok(Committed {
            bundle: Bundle { dir },
        })
    }

    /// Opens a bundle by path, or by name under [`root`].
    pub fn open(name_or_path: &str) -> Result<Bundle, BackupError> {
        let path = PathBuf::from(name_or_path);
        let dir = if path.join("manifest.json").exists() {
            path
        } else {
            let root = root()?;
            let under_root = root.join(name_or_path);
            if under_root.join("manifest.json").exists() {
                under_root
            } else {
                return Err(BackupError::NotFound {
                    name: name_or_path.to_string(),
                    root: root.display().to_string(),
                });
            }
        };
        Ok(Bundle { dir })
    }

    /// The bundle `kubectl apidiag undo` restores when given none: the newest one
    /// that was not restored yet, is not itself an undo, and in which something
    /// may have changed (a run stopped before its first change leaves nothing to
    /// undo). So running `undo` twice does not flip the change back; undoing an
    /// undo takes its name.
    pub fn latest_to_undo(root: &Path) -> Result<Option<Bundle>, BackupError> {
        Ok(list(root)?
            .into_iter()
            .rev()
            .find(|(bundle, manifest)| {
                !bundle.restored()
                    && !manifest.plan_id.starts_with("undo.")
                    && bundle.may_have_changed()
            })
            .map(|(bundle, _)| bundle))
    }

    /// Whether anything may have changed: false only when the journal says every
    /// operation was skipped (a crash can leave applied operations without a
    /// journal line, so a missing line counts as a change).
    pub fn may_have_changed(&self) -> bool {
        let (Ok(manifest), Ok(journal)) = (self.manifest(), self.journal()) else {
            return true;
        };
        manifest.operations.iter().any(|op| {
            journal
                .get(&op.index)
                .is_none_or(|entry| entry.outcome != OperationOutcome::Skipped)
        })
    }

    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn manifest(&self) -> Result<Manifest, BackupError> {
        let path = self.dir.join("manifest.json");
        let bytes = fs::read(&path).map_err(|source| BackupError::Read {
            path: path.display().to_string(),
            source,
        })?;
        format::read_manifest(&bytes).map_err(|e| BackupError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// The object saved for an operation.
    pub fn object(&self, operation: &ManifestOperation) -> Result<Option<Value>, BackupError> {
        self.object_cached(operation, &mut PageCache::default())
    }

    /// [`Bundle::object`] for callers that read many objects in manifest order:
    /// a bulk bundle's page file is read once, not once per object.
    pub fn object_cached(
        &self,
        operation: &ManifestOperation,
        cache: &mut PageCache,
    ) -> Result<Option<Value>, BackupError> {
        let Some(file) = &operation.object_file else {
            return Ok(None);
        };
        let path = self.dir.join(file);
        let invalid = |message: String| BackupError::Invalid {
            path: path.display().to_string(),
            message,
        };
        // The manifest names the file; a crafted one must not make undo read (and
        // re-create) whatever lies outside the bundle.
        let inside = Path::new(file)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside {
            return Err(invalid(format!(
                "object file `{file}` is outside the bundle"
            )));
        }
        let Some(line) = operation.object_line else {
            let bytes = fs::read(&path).map_err(|source| BackupError::Read {
                path: path.display().to_string(),
                source,
            })?;
            return serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| invalid(e.to_string()));
        };
        if cache.file.as_deref() != Some(file.as_str()) {
            let text = fs::read_to_string(&path).map_err(|source| BackupError::Read {
                path: path.display().to_string(),
                source,
            })?;
            cache.lines = text.lines().map(str::to_string).collect();
            cache.file = Some(file.clone());
        }
        let text = cache
            .lines
            .get(line)
            .ok_or_else(|| invalid(format!("no line {line}")))?;
        serde_json::from_str(text)
            .map(Some)
            .map_err(|e| invalid(e.to_string()))
    }

    /// A journal writer that syncs in batches, for bulk fixes. A crash can lose the
    /// last lines; undo treats an operation without a line as "may have been done"
    /// and looks at the cluster, so nothing is restored twice or forgotten.
    pub fn journal_writer(&self) -> Result<JournalWriter, BackupError> {
        JournalWriter::open(self.dir.join("journal.jsonl"))
    }

    /// Appends an outcome to the journal and syncs it.
    pub fn record(&self, entry: &JournalEntry) -> Result<(), BackupError> {
        let path = self.dir.join("journal.jsonl");
        let line = format::journal_line(entry).map_err(|e| BackupError::Journal {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        append_line(&path, &line).map_err(|source| BackupError::Journal {
            path: path.display().to_string(),
            source,
        })
    }

    /// The journal: the last outcome of each operation.
    pub fn journal(&self) -> Result<std::collections::BTreeMap<usize, JournalEntry>, BackupError> {
        let path = self.dir.join("journal.jsonl");
        match fs::read(&path) {
            Ok(bytes) => Ok(format::read_journal(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
            Err(source) => Err(BackupError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Notes that the bundle was restored (by which undo bundle).
    pub fn record_restore(&self, undo_bundle: Option<&str>) -> Result<(), BackupError> {
        let path = self.dir.join("undo.jsonl");
        let write_error = |source| BackupError::Write {
            path: path.display().to_string(),
            source,
        };
        let line =
            format::restore_line(undo_bundle).map_err(|e| write_error(std::io::Error::other(e)))?;
        append_line(&path, &line).map_err(write_error)
    }

    pub fn restored(&self) -> bool {
        self.dir.join("undo.jsonl").exists()
    }
}

/// The page file [`Bundle::object_cached`] read last.
#[derive(Debug, Default)]
pub struct PageCache {
    file: Option<String>,
    lines: Vec<String>,
}

/// Every bundle under `root`, oldest first, with its manifest.
pub fn list(root: &Path) -> Result<Vec<(Bundle, Manifest)>, BackupError> {
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(BackupError::Read {
                path: root.display().to_string(),
                source,
            });
        }
    };
    let mut bundles = Vec::new();
    for entry in entries.flatten() {
        // `.staging-*`: a bulk fix still deciding; not a bundle (yet).
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let bundle = Bundle { dir: entry.path() };
        if let Ok(manifest) = bundle.manifest() {
            bundles.push((bundle, manifest));
        }
    }
    bundles.sort_by(|a, b| {
        a.1.created
            .cmp(&b.1.created)
            .then_with(|| a.0.dir.cmp(&b.0.dir))
    });
    Ok(bundles)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates the backup root (0700) if it is missing.
fn create_private_root(root: &Path) -> Result<(), BackupError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .map_err(|source| BackupError::Write {
            path: root.display().to_string(),
            source,
        })
}

/// `<UTC time>-<plan id>`: bundles sort by when they were made.
fn bundle_name(plan_id: &str) -> String {
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    format!("{stamp}-{}", plan_id.replace(['.', '/'], "-"))
}

/// [`write_private`] for a manifest serialized straight into the file: the
/// manifest of a 20,000-object fix is megabytes that need not be held twice.
fn write_private_manifest(path: &Path, manifest: &Manifest) -> std::io::Result<()> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let mut writer = std::io::BufWriter::new(file);
    format::write_manifest(&mut writer, manifest).map_err(std::io::Error::other)?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

/// Appends one line and syncs it.
fn append_line(path: &Path, line: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(line)?;
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{ObjectRef, ResourceType};
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;

    fn origin(server: &str) -> Origin {
        Origin {
            server: server.into(),
            ..Origin::default()
        }
    }

    fn plan() -> Plan {
        let resource = ResourceType::new("", "v1", "configmaps", "ConfigMap", true);
        let object = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n", "uid": "u1", "resourceVersion": "5"},
            "data": {"secret-ish": "value"}});
        Plan {
            check: "etcd".into(),
            id: "etcd.test".into(),
            title: "test".into(),
            warning: None,
            acknowledgements: Vec::new(),
            operations: vec![Operation {
                target: ObjectRef::of(&resource, &object),
                action: Action::Delete { propagation: None },
                before: Some(object),
            }],
        }
    }

    #[test]
    fn bundle_is_private_and_round_trips() {
        let root = tempfile::tempdir().unwrap();
        let bundle = Bundle::write(root.path(), &plan(), &origin("https://127.0.0.1:1")).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&bundle.dir), 0o700);
        assert_eq!(mode(&bundle.dir.join("manifest.json")), 0o600);
        assert_eq!(mode(&bundle.dir.join("objects/00000.json")), 0o600);

        let manifest = bundle.manifest().unwrap();
        assert_eq!(manifest.plan_id, "etcd.test");
        assert_eq!(manifest.operations.len(), 1);
        assert!(manifest.operations[0].operation.before.is_none());
        let object = bundle.object(&manifest.operations[0]).unwrap().unwrap();
        assert_eq!(object["data"]["secret-ish"], "value");

        bundle
            .record(&JournalEntry {
                index: 0,
                outcome: OperationOutcome::Done,
                message: String::new(),
                uid: None,
                at: "t".into(),
            })
            .unwrap();
        // A torn last line (crash mid-write) is ignored, not an error.
        let mut journal = OpenOptions::new()
            .append(true)
            .open(bundle.dir.join("journal.jsonl"))
            .unwrap();
        journal.write_all(b"{\"index\":0,\"outc").unwrap();
        assert_eq!(
            bundle.journal().unwrap()[&0].outcome,
            OperationOutcome::Done
        );

        let listed = list(root.path()).unwrap();
        assert_eq!(listed.len(), 1);
        assert!(!listed[0].0.restored());
        assert_eq!(
            Bundle::latest_to_undo(root.path()).unwrap().unwrap().dir,
            bundle.dir
        );
        bundle.record_restore(None).unwrap();
        assert!(bundle.restored());
        assert!(Bundle::latest_to_undo(root.path()).unwrap().is_none());

        // A newer bundle in which every operation was skipped changed nothing:
        // `undo` with no name passes over it.
        let skipped = Bundle::write(root.path(), &plan(), &origin("https://127.0.0.1:1")).unwrap();
        assert!(
            skipped.may_have_changed(),
            "no journal line yet: may have changed"
        );
        skipped
            .record(&JournalEntry {
                index: 0,
                outcome: OperationOutcome::Skipped,
                message: "changed since the preview".into(),
                uid: None,
                at: "t".into(),
            })
            .unwrap();
        assert!(!skipped.may_have_changed());
        assert!(Bundle::latest_to_undo(root.path()).unwrap().is_none());
    }

    #[test]
    fn an_object_file_outside_the_bundle_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let bundle = Bundle::write(root.path(), &plan(), &origin("s")).unwrap();
        let mut op = bundle.manifest().unwrap().operations.remove(0);
        for file in ["../../etc/passwd", "/etc/passwd"] {
            op.object_file = Some(file.into());
            let err = bundle.object(&op).unwrap_err();
            assert!(err.to_string().contains("outside the bundle"), "{err}");
        }
    }

    #[test]
    fn two_bundles_in_the_same_second_get_distinct_names() {
        let root = tempfile::tempdir().unwrap();
        let a = Bundle::write(root.path(), &plan(), &origin("s")).unwrap();
        let b = Bundle::write(root.path(), &plan(), &origin("s")).unwrap();
        assert_ne!(a.dir, b.dir);
        assert_eq!(list(root.path()).unwrap().len(), 2);
    }
}
