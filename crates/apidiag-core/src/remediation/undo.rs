//! Undo: a backup bundle turned back into a plan.
//!
//! Undo is itself a remediation (previewed, dry-run, confirmed, backed up), so an
//! undo can be undone. For each operation the bundle says was done, or may have
//! been done (a run interrupted between the change and its journal line):
//! - a delete becomes a create of the saved object, without server-set fields;
//!   an object that exists again is left alone. A finished Job is re-created
//!   suspended (so it cannot run again), without its generated selector, then its
//!   saved status (Complete, completion time, succeeded) is written through the
//!   `status` subresource and it is unsuspended if it was not suspended before;
//!   its Pods, deleted with it by background propagation, are not restored;
//! - a patch becomes the inverse merge patch, applied only while the object still
//!   carries what the patch set (so later changes by others are not reverted);
//! - a create becomes a delete of exactly the created object (by UID).

use serde_json::Value;

use crate::api::ApiClient;
use crate::backup::PageCache;
use crate::backup::{BackupError, Bundle, Manifest, OperationOutcome};
use crate::object::{
    ObjectRef, ResourceType, apply_merge_patch, finished_job_for_recreate, for_recreate,
    inverse_merge_patch,
};
use crate::remediation::{Action, Operation, Plan};

/// Why a bundle cannot be undone.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error(
        "the bundle was made against {bundle_server}, but the current context points at {current}"
    )]
    OtherServer {
        bundle_server: String,
        current: String,
    },
    #[error(
        "the bundle was made against another cluster (its kube-system namespace has another UID) than the one at {current}, though the bundle's URL was {bundle_server}"
    )]
    OtherCluster {
        bundle_server: String,
        current: String,
    },
    #[error(transparent)]
    Api(#[from] crate::api::ApiError),
}

impl UndoError {
    /// What to do next, apart from the message.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            UndoError::Backup(error) => error.hint(),
            UndoError::OtherServer { .. } | UndoError::OtherCluster { .. } => {
                Some("pick the right cluster with --context or --kubeconfig")
            }
            UndoError::Api(error) => error.hint(),
        }
    }
}

/// What undo found for each operation, for the preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoNote {
    pub target: String,
    pub note: String,
}

/// Builds the plan that restores `bundle`, and notes on what needs no restoring.
/// The caller has checked with [`check_cluster`] that the bundle belongs here.
pub async fn plan(api: &ApiClient, bundle: &Bundle) -> Result<(Plan, Vec<UndoNote>), UndoError> {
    let manifest = bundle.manifest()?;
    let journal = bundle.journal()?;
    let mut operations = Vec::new();
    let mut notes = Vec::new();
    let mut cache = PageCache::default();
    for entry in &manifest.operations {
        let target = &entry.operation.target;
        let outcome = journal.get(&entry.index).map(|j| j.outcome);
        // Only a skip is known not to have changed anything: a failed request (a
        // timeout, a 5xx) may still have been applied, so it is checked like one
        // that has no journal line.
        if matches!(outcome, Some(OperationOutcome::Skipped)) {
            notes.push(UndoNote {
                target: target.display(),
                note: "was not changed by the original run".into(),
            });
            continue;
        }
        match &entry.operation.action {
            Action::Delete { .. } => {
                let Some(saved) = bundle.object_cached(entry, &mut cache)? else {
                    notes.push(UndoNote {
                        target: target.display(),
                        note: "no saved object in the bundle".into(),
                    });
                    continue;
                };
                if let Some(current) = api.get_opt::<Value>(&target.path()).await? {
                    let same = current["metadata"]["uid"] == saved["metadata"]["uid"];
                    notes.push(UndoNote {
                        target: target.display(),
                        note: if same {
                            "was never deleted".into()
                        } else {
                            "exists again (re-created since); left alone".into()
                        },
                    });
                    continue;
                }
                let mut create_target = target.clone();
                create_target.uid = None;
                create_target.resource_version = None;
                operations.push(Operation {
                    action: recreate(&target.resource, &saved),
                    target: create_target,
                    before: None,
                });
            }
            Action::Patch { patch } => {
                let Some(saved) = bundle.object_cached(entry, &mut cache)? else {
                    notes.push(UndoNote {
                        target: target.display(),
                        note: "no saved object in the bundle".into(),
                    });
                    continue;
                };
                let Some(current) = api.get_opt::<Value>(&target.path()).await? else {
                    notes.push(UndoNote {
                        target: target.display(),
                        note: "no longer exists; nothing to revert".into(),
                    });
                    continue;
                };
                if !carries(&current, patch) {
                    notes.push(UndoNote {
                        target: target.display(),
                        note: "no longer carries the change (not applied, or changed since); left alone".into(),
                    });
                    continue;
                }
                operations.push(Operation {
                    target: ObjectRef::of(&target.resource, &current),
                    action: Action::Patch {
                        patch: inverse_merge_patch(&saved, patch),
                    },
                    before: Some(current),
                });
            }
            Action::Create { .. } => {
                let Some(uid) = journal.get(&entry.index).and_then(|j| j.uid.clone()) else {
                    notes.push(UndoNote {
                        target: target.display(),
                        note: "not known to have been created; left alone".into(),
                    });
                    continue;
                };
                match api.get_opt::<Value>(&target.path()).await? {
                    Some(current) if current["metadata"]["uid"].as_str() == Some(uid.as_str()) => {
                        operations.push(Operation {
                            target: ObjectRef::of(&target.resource, &current),
                            action: Action::Delete { propagation: None },
                            before: Some(current),
                        });
                    }
                    _ => notes.push(UndoNote {
                        target: target.display(),
                        note: "the created object is gone or was replaced; left alone".into(),
                    }),
                }
            }
        }
    }
    // Undone last change first: a fix builds what depends on something after it
    // (a PriorityLevelConfiguration, then the FlowSchema pointing to it), so the
    // undo removes the FlowSchema before its level (which would otherwise turn
    // it Dangling, a status write that fails the delete's resourceVersion
    // precondition) and re-creates a level before the schemas that use it.
    operations.reverse();
    let restores_jobs = operations.iter().any(|op| {
        matches!(
            &op.action,
            Action::Create {
                status: Some(_),
                ..
            }
        )
    });
    let plan = Plan {
        check: manifest.check.clone(),
        id: format!("undo.{}", manifest.plan_id),
        title: format!("restore {} ({})", bundle.name(), manifest.title),
        warning: restores_jobs.then(|| FINISHED_JOBS_WARNING.to_string()),
        acknowledgements: Vec::new(),
        operations,
    };
    Ok((plan, notes))
}

/// Whether `manifest` was made against the cluster this run reaches at `server`
/// (whose `kube-system` UID is `cluster_uid`). The identity decides when both are
/// known: another cluster behind the same URL is refused, the same cluster behind
/// another URL (private and public FQDN) is accepted, and the note says so.
/// Without an identity on either side, the URLs decide.
pub fn check_cluster(
    manifest: &Manifest,
    server: &str,
    cluster_uid: Option<&str>,
) -> Result<Option<String>, UndoError> {
    let same_url = normalise(&manifest.server) == normalise(server);
    match (manifest.cluster_uid.as_deref(), cluster_uid) {
        (Some(then), Some(now)) if then != now => Err(UndoError::OtherCluster {
            bundle_server: manifest.server.clone(),
            current: server.to_string(),
        }),
        (Some(_), Some(_)) if !same_url => Ok(Some(format!(
            "the bundle was made through {}; this is the same cluster (kube-system UID) through {server}",
            manifest.server
        ))),
        (Some(_), Some(_)) => Ok(None),
        _ if same_url => Ok(None),
        _ => Err(UndoError::OtherServer {
            bundle_server: manifest.server.clone(),
            current: server.to_string(),
        }),
    }
}

/// Whether `manifest` belongs to the cluster `ctx` reaches ([`check_cluster`]),
/// reading the cluster's identity once. When the bundle names its cluster and
/// this one cannot be identified now (a timeout, a 5xx), the URL alone must not
/// decide: the error is returned.
pub async fn verify_cluster(
    ctx: &crate::check::Context,
    manifest: &Manifest,
) -> Result<Option<String>, UndoError> {
    let cluster_uid = match ctx.cluster_uid().await {
        Ok(uid) => uid,
        Err(error) if manifest.cluster_uid.is_some() => return Err(UndoError::Api(error.clone())),
        Err(_) => None,
    };
    check_cluster(manifest, &ctx.server.url, cluster_uid)
}

/// What the preview says when finished Jobs come back.
pub const FINISHED_JOBS_WARNING: &str = "finished Jobs are re-created suspended, their saved status (Complete, completion time) is written back, then they are unsuspended: they do not run again. They get new UIDs; their Pods were deleted with them and are not restored";

/// What a controller will do to a restored Job soon after it is back, for the
/// preview: undo must not claim to restore what is deleted again at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum JobFate {
    /// Its `ttlSecondsAfterFinished` has passed since it completed: the TTL
    /// controller deletes it again.
    TtlPassed,
    /// A CronJob owns it: the CronJob's history limit may prune it again.
    CronJobHistory,
}

impl JobFate {
    /// Of a saved finished Job at `now`; `None` when nothing removes it again.
    pub fn of(saved: &Value, now: jiff::Timestamp) -> Option<JobFate> {
        let finished_at = saved["status"]["completionTime"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok());
        if let (Some(ttl), Some(finished_at)) = (
            saved["spec"]["ttlSecondsAfterFinished"].as_i64(),
            finished_at,
        ) && finished_at.as_second().saturating_add(ttl) <= now.as_second()
        {
            return Some(JobFate::TtlPassed);
        }
        let owned_by_cronjob = saved["metadata"]["ownerReferences"]
            .as_array()
            .is_some_and(|owners| owners.iter().any(|o| o["kind"] == "CronJob"));
        owned_by_cronjob.then_some(JobFate::CronJobHistory)
    }

    /// The preview's sentence for `count` Jobs.
    pub fn describe(self, count: usize) -> String {
        match self {
            JobFate::TtlPassed => format!(
                "{count} Job(s) have a ttlSecondsAfterFinished that has already passed: the TTL controller deletes them again right after the restore"
            ),
            JobFate::CronJobHistory => format!(
                "{count} Job(s) belong to a CronJob: its successfulJobsHistoryLimit / failedJobsHistoryLimit may prune them again"
            ),
        }
    }
}

/// What undo does to a restored Job whose `ttlSecondsAfterFinished` has passed
/// (`kubectl apidiag undo --ttl`): the TTL controller would delete it again at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TtlChoice {
    /// Restore it as saved, TTL and all: it is deleted again. The default, because
    /// undo restores what was there; the preview says what follows.
    #[default]
    Keep,
    /// Restore it without `ttlSecondsAfterFinished`: it stays until deleted.
    Drop,
    /// Give it this long from now before the TTL controller deletes it.
    Extend(std::time::Duration),
}

impl TtlChoice {
    /// `keep`, `drop`, or a duration (`24h`, `30m`) to extend by.
    pub fn parse(text: &str) -> Result<TtlChoice, String> {
        match text {
            "keep" => Ok(TtlChoice::Keep),
            "drop" => Ok(TtlChoice::Drop),
            other => match crate::cli::parse_go_duration(other) {
                Ok(d) if !d.is_zero() => Ok(TtlChoice::Extend(d)),
                _ => Err(format!(
                    "`{other}` is not keep, drop or a duration such as 24h"
                )),
            },
        }
    }

    /// Rewrites the TTL of `saved` (a finished Job) when it has passed at `now`.
    pub fn apply(self, saved: &mut Value, now: jiff::Timestamp) {
        if JobFate::of(saved, now) != Some(JobFate::TtlPassed) {
            return;
        }
        let Some(spec) = saved.get_mut("spec").and_then(Value::as_object_mut) else {
            return;
        };
        match self {
            TtlChoice::Keep => {}
            TtlChoice::Drop => {
                spec.remove("ttlSecondsAfterFinished");
            }
            TtlChoice::Extend(more) => {
                let finished = saved["status"]["completionTime"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .map_or(0, |t| t.as_second());
                let ttl = now.as_second().saturating_sub(finished)
                    + i64::try_from(more.as_secs()).unwrap_or(i64::MAX / 2);
                if let Some(spec) = saved.get_mut("spec").and_then(Value::as_object_mut) {
                    spec.insert("ttlSecondsAfterFinished".into(), ttl.into());
                }
            }
        }
    }

    /// The preview's words on what becomes of Jobs whose TTL has passed.
    pub fn describe(self) -> String {
        match self {
            TtlChoice::Keep => {
                "restored as saved (undo --ttl drop keeps them; --ttl 24h keeps them a day)".into()
            }
            TtlChoice::Drop => "restored without their TTL (--ttl drop): they stay".into(),
            TtlChoice::Extend(d) => {
                format!("their TTL is extended (--ttl): deleted again {d:?} after the restore")
            }
        }
    }
}

/// Whether undoing `manifest` re-creates Jobs (the completed-jobs cleanup).
pub fn restores_finished_jobs(manifest: &Manifest) -> bool {
    manifest.operations.iter().any(|o| {
        matches!(o.operation.action, Action::Delete { .. }) && o.operation.target.resource.is_jobs()
    })
}

/// The create that restores a deleted object. A finished Job needs more than its
/// manifest: re-created bare it would run again.
pub(crate) fn recreate(resource: &ResourceType, saved: &Value) -> Action {
    if resource.is_jobs()
        && let Some(job) = finished_job_for_recreate(saved)
    {
        return Action::Create {
            object: job.object,
            status: Some(job.status),
            resume: job.resume,
        };
    }
    Action::Create {
        object: for_recreate(saved),
        status: None,
        resume: None,
    }
}

/// Whether `current` still holds every value `patch` set.
fn carries(current: &Value, patch: &Value) -> bool {
    let mut patch = patch.clone();
    if let Some(meta) = patch.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
    }
    apply_merge_patch(current, &patch) == *current
}

fn normalise(server: &str) -> String {
    server.trim_end_matches('/').to_lowercase()
}

#[cfg(test)]
mod tests {

    #[test]
    fn ttl_choice_drops_or_extends_only_a_passed_ttl() {
        let now: jiff::Timestamp = "2026-12-01T12:00:00Z".parse().unwrap();
        let job = |ttl: i64| {
            serde_json::json!({"spec": {"ttlSecondsAfterFinished": ttl},
                "status": {"completionTime": "2026-12-01T11:00:00Z"}})
        };
        let mut passed = job(600);
        TtlChoice::Drop.apply(&mut passed, now);
        assert!(passed["spec"].get("ttlSecondsAfterFinished").is_none());
        let mut passed = job(600);
        TtlChoice::parse("24h").unwrap().apply(&mut passed, now);
        // An hour since completion, plus a day from now.
        assert_eq!(passed["spec"]["ttlSecondsAfterFinished"], 3600 + 86_400);
        let mut alive = job(86_400);
        TtlChoice::Drop.apply(&mut alive, now);
        assert_eq!(
            alive["spec"]["ttlSecondsAfterFinished"], 86_400,
            "not passed: kept"
        );
        assert_eq!(TtlChoice::parse("keep"), Ok(TtlChoice::Keep));
        assert!(TtlChoice::parse("soon").is_err());
        assert!(TtlChoice::parse("0s").is_err());
    }
    use super::*;
    use serde_json::json;

    #[test]
    fn a_finished_job_is_restored_suspended_with_its_status() {
        let jobs = ResourceType::new("batch", "v1", "jobs", "Job", true);
        let saved = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "j", "namespace": "n", "uid": "u"},
            "spec": {"suspend": false, "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
                     "template": {"metadata": {"labels": {"app": "a", "controller-uid": "u", "batch.kubernetes.io/controller-uid": "u", "job-name": "j", "batch.kubernetes.io/job-name": "j"}}}},
            "status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}});
        match recreate(&jobs, &saved) {
            Action::Create {
                object,
                status,
                resume,
            } => {
                assert_eq!(object["spec"]["suspend"], true);
                assert!(object["spec"].get("selector").is_none());
                assert_eq!(
                    object["spec"]["template"]["metadata"]["labels"],
                    json!({"app": "a"})
                );
                assert!(object.get("status").is_none());
                assert_eq!(status.unwrap()["succeeded"], 1);
                assert_eq!(resume, Some(json!({"spec": {"suspend": false}})));
            }
            other => panic!("{other:?}"),
        }
        // A Job that had not finished is restored as it was (it was never ours to stop).
        let mut running = saved.clone();
        running["status"] = json!({"active": 1});
        assert!(matches!(
            recreate(&jobs, &running),
            Action::Create { status: None, .. }
        ));
    }

    #[test]
    fn the_preview_knows_which_restored_jobs_come_back_only_briefly() {
        let now: jiff::Timestamp = "2026-12-01T12:00:00Z".parse().unwrap();
        let job = |ttl: Option<i64>, completed: &str, owner: Option<&str>| {
            let mut job = json!({"metadata": {"name": "j"}, "spec": {},
                "status": {"completionTime": completed}});
            if let Some(ttl) = ttl {
                job["spec"]["ttlSecondsAfterFinished"] = json!(ttl);
            }
            if let Some(kind) = owner {
                job["metadata"]["ownerReferences"] = json!([{"kind": kind, "name": "nightly"}]);
            }
            job
        };
        // Finished an hour ago with a 10-minute TTL: gone again at once.
        assert_eq!(
            JobFate::of(&job(Some(600), "2026-12-01T11:00:00Z", None), now),
            Some(JobFate::TtlPassed)
        );
        // A day's TTL not yet passed, no owner: it stays.
        assert_eq!(
            JobFate::of(&job(Some(86_400), "2026-12-01T11:00:00Z", None), now),
            None
        );
        assert_eq!(
            JobFate::of(&job(None, "2026-11-01T00:00:00Z", None), now),
            None
        );
        // A CronJob's Job: its history limit decides.
        assert_eq!(
            JobFate::of(&job(None, "2026-12-01T11:00:00Z", Some("CronJob")), now),
            Some(JobFate::CronJobHistory)
        );
        assert!(JobFate::TtlPassed.describe(3).starts_with("3 Job(s)"));
    }

    #[test]
    fn the_cluster_identity_decides_over_the_url() {
        let manifest = |server: &str, uid: Option<&str>| Manifest {
            cluster_uid: uid.map(str::to_string),
            ..Manifest::new(
                &crate::backup::Origin {
                    server: server.into(),
                    ..Default::default()
                },
                "etcd",
                "etcd.x",
                "t",
                Vec::new(),
            )
        };
        let public = "https://aks-x.hcp.westeurope.azmk8s.io:443";
        let private = "https://aks-x.privatelink.westeurope.azmk8s.io:443";
        // Same cluster through another URL: accepted, and said.
        let note = check_cluster(&manifest(public, Some("u1")), private, Some("u1")).unwrap();
        assert!(note.unwrap().contains("same cluster"));
        // Another cluster behind the same URL: refused.
        assert!(matches!(
            check_cluster(&manifest(public, Some("u1")), public, Some("u2")),
            Err(UndoError::OtherCluster { .. })
        ));
        // No identity on one side: the URL decides (old bundles, kube-system unreadable).
        assert_eq!(
            check_cluster(&manifest(public, None), public, Some("u1")).unwrap(),
            None
        );
        assert!(matches!(
            check_cluster(&manifest(public, Some("u1")), private, None),
            Err(UndoError::OtherServer { .. })
        ));
        assert_eq!(
            check_cluster(
                &manifest(&format!("{public}/"), Some("u1")),
                public,
                Some("u1")
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn carries_ignores_the_precondition() {
        let current = json!({"metadata": {"resourceVersion": "9", "labels": {"a": "true"}}});
        assert!(carries(
            &current,
            &json!({"metadata": {"resourceVersion": "3", "labels": {"a": "true"}}})
        ));
        assert!(!carries(
            &current,
            &json!({"metadata": {"labels": {"a": "false"}}})
        ));
        assert!(carries(
            &current,
            &json!({"metadata": {"labels": {"b": null}}})
        ));
    }
}
