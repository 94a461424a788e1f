//! Staging: a bulk fix's bundle before consent, committed by a rename.

use std::fs::{self, File};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{
    BackupError, Bundle, Committed, Manifest, bundle_name, create_private_root, write_private,
    write_private_manifest,
};

/// A bundle being filled page by page before anyone agreed to act: the objects a
/// bulk fix would delete, written while they are listed, so the preview shows
/// exactly what is backed up and memory holds references, not objects. It becomes
/// a [`Bundle`] with [`Staging::commit`]; dropped uncommitted (dry run, declined,
/// error), it is removed and leaves nothing behind.
pub struct Staging {
    root: PathBuf,
    dir: PathBuf,
    pages: usize,
    committed: bool,
}

/// Where a staged object was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedObject {
    pub file: String,
    pub line: usize,
}

impl Staging {
    /// A hidden staging folder under `root` (same file system, so commit is a rename).
    pub fn create(root: &Path, plan_id: &str) -> Result<Staging, BackupError> {
        let write_error = |path: &Path| {
            let path = path.display().to_string();
            move |source| BackupError::Write { path, source }
        };
        create_private_root(root)?;
        let base = format!(".staging-{}-{}", bundle_name(plan_id), std::process::id());
        let dir = root.join(base);
        sweep_stale_staging(root);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir.join("objects"))
            .map_err(write_error(&dir))?;
        Ok(Staging {
            root: root.to_path_buf(),
            dir,
            pages: 0,
            committed: false,
        })
    }

    /// Writes one page of objects to its own file and syncs it.
    pub fn write_page(&mut self, objects: &[&Value]) -> Result<Vec<StagedObject>, BackupError> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let name = format!("p{:05}.jsonl", self.pages);
        let path = self.dir.join("objects").join(&name);
        let write_error = |source| BackupError::Write {
            path: path.display().to_string(),
            source,
        };
        let mut bytes = Vec::new();
        for object in objects {
            serde_json::to_writer(&mut bytes, object)
                .map_err(|e| write_error(std::io::Error::other(e)))?;
            bytes.push(b'\n');
        }
        write_private(&path, &bytes).map_err(write_error)?;
        self.pages += 1;
        let file = format!("objects/{name}");
        Ok((0..objects.len())
            .map(|line| StagedObject {
                file: file.clone(),
                line,
            })
            .collect())
    }

    /// Writes the manifest, syncs the folder and moves it to its final name: from
    /// here on it is a bundle `backups` lists and `undo` restores.
    pub fn commit(mut self, manifest: &Manifest) -> Result<Committed, BackupError> {
        let path = self.dir.join("manifest.json");
        write_private_manifest(&path, manifest).map_err(|source| BackupError::Write {
            path: path.display().to_string(),
            source,
        })?;
        for dir in [self.dir.join("objects"), self.dir.clone()] {
            if let Ok(handle) = File::open(&dir) {
                let _ = handle.sync_all();
            }
        }
        let base = bundle_name(&manifest.plan_id);
        let mut target = self.root.join(&base);
        let mut n = 1;
        while target.exists() {
            n += 1;
            target = self.root.join(format!("{base}-{n}"));
        }
        fs::rename(&self.dir, &target).map_err(|source| BackupError::Write {
            path: target.display().to_string(),
            source,
        })?;
        if let Ok(handle) = File::open(&self.root) {
            let _ = handle.sync_all();
        }
        self.committed = true;
        Ok(Committed {
            bundle: Bundle { dir: target },
        })
    }
}

/// Removes the staging folders of runs that died before they committed or
/// removed them (a crash, a kill -9): copies of objects, Secrets among them, that
/// no bundle lists. A folder is stale when the process its name ends with is gone;
/// where that cannot be told (no `/proc`), nothing is removed.
fn sweep_stale_staging(root: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(".staging-")
            .and_then(|rest| rest.rsplit('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{JournalEntry, ManifestOperation, OperationOutcome, PageCache, list};
    use super::*;
    use crate::object::ObjectRef;
    use crate::remediation::{Action, Operation};
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_staged_bundle_is_invisible_until_committed_and_gone_if_dropped() {
        let root = tempfile::tempdir().unwrap();
        let object = |name: &str| json!({"metadata": {"name": name, "namespace": "n", "uid": name}, "data": {"k": "v"}});
        {
            let mut staging = Staging::create(root.path(), "etcd.completed-jobs").unwrap();
            staging.write_page(&[&object("a")]).unwrap();
            assert!(
                list(root.path()).unwrap().is_empty(),
                "staging is not a bundle"
            );
        }
        assert_eq!(
            fs::read_dir(root.path()).unwrap().count(),
            0,
            "dropped uncommitted: removed"
        );

        let mut staging = Staging::create(root.path(), "etcd.completed-jobs").unwrap();
        let (a, b, c) = (object("a"), object("b"), object("c"));
        let first = staging.write_page(&[&a, &b]).unwrap();
        let second = staging.write_page(&[&c]).unwrap();
        assert_eq!(
            first[1],
            StagedObject {
                file: "objects/p00000.jsonl".into(),
                line: 1
            }
        );
        assert_eq!(
            second[0],
            StagedObject {
                file: "objects/p00001.jsonl".into(),
                line: 0
            }
        );
        let resource = crate::object::ResourceType::new("", "v1", "configmaps", "ConfigMap", true);
        let operations = [(&a, &first[0]), (&b, &first[1]), (&c, &second[0])]
            .iter()
            .enumerate()
            .map(|(index, (o, at))| ManifestOperation {
                index,
                operation: Operation {
                    target: ObjectRef::of(&resource, o),
                    action: Action::Delete { propagation: None },
                    before: None,
                },
                object_file: Some(at.file.clone()),
                object_line: Some(at.line),
            })
            .collect();
        let bundle = staging
            .commit(&Manifest {
                created: "t".into(),
                check: "etcd".into(),
                plan_id: "etcd.completed-jobs".into(),
                title: "t".into(),
                server: "s".into(),
                context: None,
                cluster_uid: None,
                operations,
            })
            .unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&bundle.dir.join("objects/p00000.jsonl")), 0o600);
        let manifest = bundle.manifest().unwrap();
        let mut cache = PageCache::default();
        let names: Vec<String> = manifest
            .operations
            .iter()
            .map(|op| {
                bundle.object_cached(op, &mut cache).unwrap().unwrap()["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(list(root.path()).unwrap().len(), 1);

        let mut journal = bundle.journal_writer().unwrap();
        for index in 0..3 {
            journal
                .record(&JournalEntry {
                    index,
                    outcome: OperationOutcome::Done,
                    message: String::new(),
                    uid: None,
                    at: "t".into(),
                })
                .unwrap();
        }
        journal.finish().unwrap();
        assert_eq!(bundle.journal().unwrap().len(), 3);
    }

    #[test]
    fn staging_folders_of_dead_runs_are_swept() {
        let root = tempfile::tempdir().unwrap();
        // A pid far above any pid_max: that run is gone. Our own stays.
        let dead = root
            .path()
            .join(".staging-20260101T000000Z-etcd-completed-jobs-4294967294");
        let ours = root.path().join(format!(
            ".staging-20260101T000000Z-etcd-completed-jobs-{}",
            std::process::id()
        ));
        for dir in [&dead, &ours] {
            fs::create_dir_all(dir.join("objects")).unwrap();
            fs::write(dir.join("objects/p00000.jsonl"), "{}\n").unwrap();
        }
        let staging = Staging::create(root.path(), "etcd.failed-pods").unwrap();
        assert!(!dead.exists(), "a dead run's staging folder was kept");
        assert!(ours.exists());
        drop(staging);
    }
}
