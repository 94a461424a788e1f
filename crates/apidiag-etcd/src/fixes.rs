//! The guided fixes of `kubectl apidiag etcd`.
//!
//! Seed 001 Solution 3 (delete what is no longer used, limit object lifetime,
//! define object quotas), Solution 6 (delete completed Jobs and failed Pods) and
//! seed 004 Cause 6 (limit Helm history). Every fix is previewed, dry-run on the
//! server, confirmed (or `--yes`), backed up and undoable with `kubectl apidiag
//! undo`:
//! - deletes of completed Jobs, failed Pods and old Helm revisions can concern
//!   tens of thousands of objects, so they go through the streaming flow
//!   ([`apidiag_core::remediation::stream`]): listed as full objects page by page with
//!   the server-side selector, re-checked one by one (a Job must carry its
//!   `Complete` condition, so one still running is never selected), backed up page
//!   by page, then deleted with UID and resourceVersion preconditions at an
//!   adaptive pace;
//! - the CronJob TTL patch and the quota creation concern a few objects and go
//!   through [`apidiag_core::remediation::execute`] like every other check's fixes.
//!
//! Namespaces are chosen with a multi-select on a terminal, or with `--in NS`
//! (repeatable) or `--all-namespaces`; under `--yes` one of those is required.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::time::Duration;

use serde_json::{Value, json};

use crate::completed_jobs::SUCCEEDED;
use crate::failed_pods::FAILED;
use crate::helm_history::{Driver, OWNER_SELECTOR};
use crate::{EtcdState, FixArgs, Sections, Settings, ages, bloated_namespaces, quotas, types};
use apidiag_core::api::ListQuery;
use apidiag_core::check::Context;
use apidiag_core::object::{ObjectRef, job_is_finished};
use apidiag_core::remediation::stream::{self, BulkDelete, Pacing, Source};
use apidiag_core::remediation::{Action, Operation, Plan, RemediationResult};

/// The fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fix {
    /// Delete completed Jobs (status.successful=1 and a Complete condition), with their Pods
    CompletedJobs,
    /// Delete Pods in phase Failed
    FailedPods,
    /// Delete Helm revisions beyond the newest --keep per release; the deployed one stays
    HelmHistory,
    /// Add ttlSecondsAfterFinished (--ttl) to the job templates of CronJobs that have none
    CronjobTtl,
    /// Create object-count ResourceQuotas (--quota-objects) in namespaces where objects pile up
    ObjectQuota,
}

impl Fix {
    pub fn id(self) -> &'static str {
        match self {
            Fix::CompletedJobs => "etcd.completed-jobs",
            Fix::FailedPods => "etcd.failed-pods",
            Fix::HelmHistory => "etcd.helm-history",
            Fix::CronjobTtl => "etcd.cronjob-ttl",
            Fix::ObjectQuota => "etcd.object-quota",
        }
    }

    /// The part of the diagnosis a fix is built from: a cleanup of Jobs does not
    /// need to read Secrets first.
    pub fn sections(self) -> Sections {
        let none = Sections::none();
        match self {
            Fix::CompletedJobs | Fix::CronjobTtl => Sections { jobs: true, ..none },
            Fix::FailedPods => Sections {
                failed_pods: true,
                ..none
            },
            Fix::HelmHistory => Sections { helm: true, ..none },
            Fix::ObjectQuota => Sections {
                sizes: false,
                ..Sections::all()
            },
        }
    }
}

/// The deletes' rate cap: the bulk fixes' and their undo's
/// ([`apidiag_core::remediation::stream::DEFAULT_BULK_RATE`]).
pub const DEFAULT_DELETE_QPS: f64 = apidiag_core::remediation::stream::DEFAULT_BULK_RATE;
const DEFAULT_TTL: i64 = 86_400;
const DEFAULT_QUOTA_OBJECTS: u64 = 5000;

/// Where a fix applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Every namespace (one cluster-wide listing).
    All,
    /// These namespaces.
    Some(BTreeSet<String>),
}

impl Choice {
    fn includes(&self, namespace: &str) -> bool {
        match self {
            Choice::All => true,
            Choice::Some(set) => set.contains(namespace),
        }
    }
}

/// Candidates for a fix: namespace → what the diagnosis found there.
pub fn candidates(
    state: &EtcdState,
    settings: &Settings,
    fix: Fix,
    keep: usize,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match fix {
        Fix::CompletedJobs => {
            if let Some(jobs) = &state.jobs {
                for (ns, n) in jobs.per_namespace() {
                    out.insert(ns, format!("{n} completed Jobs"));
                }
            }
        }
        Fix::FailedPods => {
            if let Some(failed) = &state.failed {
                let mut per_ns: BTreeMap<&str, u64> = BTreeMap::new();
                for ((ns, _), (n, _)) in &failed.groups {
                    *per_ns.entry(ns).or_default() += n;
                }
                for (ns, n) in per_ns {
                    out.insert(ns.to_string(), format!("{n} failed Pods"));
                }
            }
        }
        Fix::HelmHistory => {
            if let Some(helm) = &state.helm {
                for release in &helm.releases {
                    let prunable = release.prunable(keep).len();
                    if prunable > 0 {
                        append(
                            &mut out,
                            &release.namespace,
                            &format!("{}: {prunable} old revisions", release.name),
                        );
                    }
                }
            }
        }
        Fix::CronjobTtl => {
            if let Some(jobs) = &state.jobs {
                for cron in jobs.cronjobs_without_ttl() {
                    append(&mut out, &cron.namespace, &format!("cronjob/{}", cron.name));
                }
            }
        }
        Fix::ObjectQuota => {
            let covered = |ns: &str| state.quotas.as_ref().is_some_and(|q| q.covered(ns));
            for ns in bloated_namespaces(state, settings) {
                if !covered(&ns) {
                    out.insert(ns, "objects pile up, no object-count quota".into());
                }
            }
        }
    }
    out
}

/// Adds `text` to a namespace's comma-separated summary.
fn append(out: &mut BTreeMap<String, String>, namespace: &str, text: &str) {
    let entry = out.entry(namespace.to_string()).or_default();
    if !entry.is_empty() {
        entry.push_str(", ");
    }
    entry.push_str(text);
}

/// Decides where the fix applies: flags, else a multi-select on a terminal, else
/// every candidate (a dry run previews them; without a terminal nothing changes).
fn choose(
    ctx: &Context,
    fix: Fix,
    args: &FixArgs,
    candidates: &BTreeMap<String, String>,
) -> Result<Choice, String> {
    if args.all_namespaces {
        return Ok(Choice::All);
    }
    if !args.namespaces.is_empty() {
        return Ok(Choice::Some(args.namespaces.iter().cloned().collect()));
    }
    let remediation = &ctx.global.remediation;
    let interactive = !remediation.dry_run
        && !remediation.yes
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    if !interactive || candidates.is_empty() {
        return Ok(Choice::Some(candidates.keys().cloned().collect()));
    }
    let labels: Vec<String> = candidates
        .iter()
        .map(|(ns, what)| format!("{ns}  ({what})"))
        .collect();
    let chosen = dialoguer::MultiSelect::new()
        .with_prompt(format!(
            "{}: namespaces (space to select, enter to confirm)",
            fix.id()
        ))
        .items(&labels)
        .interact()
        .map_err(|e| format!("could not ask for namespaces: {e}"))?;
    let names: Vec<&String> = candidates.keys().collect();
    Ok(Choice::Some(
        chosen.into_iter().map(|i| names[i].clone()).collect(),
    ))
}

/// Sources for a bulk delete: one cluster-wide listing, or one per namespace.
fn sources(
    choice: &Choice,
    resource: &apidiag_core::object::ResourceType,
    query: &ListQuery,
) -> Vec<Source> {
    match choice {
        Choice::All => vec![Source {
            resource: resource.clone(),
            path: resource.collection_path(None),
            query: query.clone(),
        }],
        Choice::Some(namespaces) => namespaces
            .iter()
            .map(|ns| Source {
                resource: resource.clone(),
                path: resource.collection_path(Some(ns)),
                query: query.clone(),
            })
            .collect(),
    }
}

pub(crate) async fn apply(
    ctx: &Context,
    state: &EtcdState,
    settings: &Settings,
    fix: Fix,
    args: &FixArgs,
) -> Result<RemediationResult, String> {
    let keep = args.keep.unwrap_or(settings.history_max);
    let found = candidates(state, settings, fix, keep);
    // No place for backups: refuse before asking anything.
    let session = apidiag_core::run::session(ctx, 8).await?;
    let choice = choose(ctx, fix, args, &found)?;
    if choice == Choice::Some(BTreeSet::new()) {
        eprintln!("{}: no namespace to fix", fix.id());
    }
    let now = jiff::Timestamp::now();
    let older_than = args.older_than;
    let age_note = older_than.map_or(String::new(), |d| {
        format!(" at least {} old", ages::short_duration(d))
    });
    let result = match fix {
        Fix::CompletedJobs => {
            let select = move |job: &Value| -> Result<(), String> {
                select_completed_job(job, older_than, now)
            };
            stream::execute(
                &session,
                BulkDelete {
                    check: "etcd".into(),
                    id: fix.id().into(),
                    title: format!("delete completed Jobs{age_note} (propagation Background: their Pods go too)"),
                    warning: None,
                    notes: vec![
                        "the backup holds the Jobs; their Pods are deleted by the garbage collector and are not backed up. \
                         `kubectl apidiag undo` re-creates the Jobs as finished (suspended while their status is written back), so they do not run again"
                            .into(),
                    ],
                    acknowledgements: Vec::new(),
                    noun: "Job".into(),
                    propagation: Some("Background".into()),
                    sources: sources(&choice, &types::jobs(), &ListQuery::default().fields(SUCCEEDED)),
                    select: &select,
                    pacing: Pacing::default(),
                    qps: args.delete_qps,
                },
            )
            .await
        }
        Fix::FailedPods => {
            let select = move |pod: &Value| -> Result<(), String> {
                if pod["status"]["phase"] != "Failed" {
                    return Err("no longer in phase Failed".into());
                }
                if pod["metadata"].get("deletionTimestamp").is_some() {
                    return Err("already being deleted".into());
                }
                if !ages::old_enough(pod, older_than, now) {
                    return Err("younger than --older-than".into());
                }
                Ok(())
            };
            stream::execute(
                &session,
                BulkDelete {
                    check: "etcd".into(),
                    id: fix.id().into(),
                    title: format!("delete failed Pods{age_note}"),
                    warning: None,
                    notes: vec!["`kubectl apidiag undo` re-creates the Pods from the backup, without their status: they start again".into()],
                    acknowledgements: Vec::new(),
                    noun: "Pod".into(),
                    propagation: None,
                    sources: sources(&choice, &types::pods(), &ListQuery::default().fields(FAILED)),
                    select: &select,
                    pacing: Pacing::default(),
                    qps: args.delete_qps,
                },
            )
            .await
        }
        Fix::HelmHistory => {
            let prunable = helm_prunable(state, &choice, keep);
            let mut namespaces: BTreeMap<Driver, BTreeSet<String>> = BTreeMap::new();
            for (driver, ns, _) in &prunable {
                namespaces.entry(*driver).or_default().insert(ns.clone());
            }
            let mut helm_sources = Vec::new();
            for (driver, set) in &namespaces {
                helm_sources.extend(sources(
                    &Choice::Some(set.clone()),
                    &driver.resource(),
                    &ListQuery::default().labels(OWNER_SELECTOR),
                ));
            }
            let select = move |object: &Value| -> Result<(), String> {
                // Items of a LIST carry no `kind`; only Secrets have a `type`.
                let driver = if object.get("type").is_some() {
                    Driver::Secret
                } else {
                    Driver::ConfigMap
                };
                let key = (
                    driver,
                    object["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    object["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
                if !prunable.contains(&key) {
                    return Err(
                        "kept: among the newest revisions, or not a revision the preview chose"
                            .into(),
                    );
                }
                let status = object["metadata"]["labels"]["status"]
                    .as_str()
                    .unwrap_or_default();
                if status == "deployed" || status.starts_with("pending") {
                    return Err(format!("kept: now {status}"));
                }
                Ok(())
            };
            stream::execute(
                &session,
                BulkDelete {
                    check: "etcd".into(),
                    id: fix.id().into(),
                    title: format!("prune Helm history to the newest {keep} revisions per release (the deployed revision stays)"),
                    warning: Some(format!(
                        "`helm rollback` to a pruned revision is no longer possible; set `--history-max {keep}` on the next `helm upgrade` so the history stays short"
                    )),
                    notes: Vec::new(),
                    acknowledgements: Vec::new(),
                    noun: "Helm revision".into(),
                    propagation: None,
                    sources: helm_sources,
                    select: &select,
                    pacing: Pacing::default(),
                    qps: args.delete_qps,
                },
            )
            .await
        }
        Fix::CronjobTtl => {
            let ttl = args.ttl.unwrap_or(DEFAULT_TTL);
            if ttl < 0 {
                return Err("--ttl must be 0 or more seconds".into());
            }
            let operations = state
                .jobs
                .iter()
                .flat_map(|j| j.cronjobs_without_ttl())
                .filter(|c| choice.includes(&c.namespace))
                .map(|c| Operation {
                    target: ObjectRef::of(&types::cronjobs(), &c.object),
                    action: Action::Patch {
                        patch: json!({"spec": {"jobTemplate": {"spec": {"ttlSecondsAfterFinished": ttl}}}}),
                    },
                    before: Some(c.object.clone()),
                })
                .collect();
            let plan = Plan {
                check: "etcd".into(),
                id: fix.id().into(),
                title: format!("set ttlSecondsAfterFinished: {ttl} in the job template of CronJobs that have none"),
                warning: Some("applies to Jobs created from now on; Jobs already finished keep no TTL (delete them with --fix completed-jobs)".into()),
                acknowledgements: Vec::new(),
                operations,
            };
            apidiag_core::remediation::execute(&session, plan).await
        }
        Fix::ObjectQuota => {
            let objects = args.quota_objects.unwrap_or(DEFAULT_QUOTA_OBJECTS);
            let covered = |ns: &str| state.quotas.as_ref().is_some_and(|q| q.covered(ns));
            let namespaces: Vec<String> = match &choice {
                Choice::All => found.keys().cloned().collect(),
                Choice::Some(set) => set.iter().cloned().collect(),
            };
            let resource = types::resource_quotas();
            let operations = namespaces
                .iter()
                .filter(|ns| !covered(ns))
                .map(|ns| Operation {
                    target: ObjectRef {
                        resource: resource.clone(),
                        namespace: Some(ns.clone()),
                        name: quotas::QUOTA_NAME.into(),
                        uid: None,
                        resource_version: None,
                    },
                    action: Action::Create {
                        object: quotas::manifest(ns, objects),
                        status: None,
                        resume: None,
                    },
                    before: None,
                })
                .collect();
            let plan = Plan {
                check: "etcd".into(),
                id: fix.id().into(),
                title: format!(
                    "create ResourceQuota {} ({objects} objects of each counted kind)",
                    quotas::QUOTA_NAME
                ),
                warning: Some(format!(
                    "a namespace that already holds more than {objects} objects of a kind cannot create more of that kind until some are deleted"
                )),
                acknowledgements: Vec::new(),
                operations,
            };
            apidiag_core::remediation::execute(&session, plan).await
        }
    };
    result.map_err(|e| apidiag_core::run::with_hint(&e, e.hint()))
}

/// The completed-Jobs re-check on the full object: the field selector is the
/// guide's, but `status.successful=1` also matches a Job with more completions to
/// go, so a Job must have finished (`Complete` condition) and run nothing.
pub fn select_completed_job(
    job: &Value,
    older_than: Option<Duration>,
    now: jiff::Timestamp,
) -> Result<(), String> {
    let complete = job["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Complete" && c["status"] == "True");
    if !complete || !job_is_finished(job) {
        return Err("not complete (still running)".into());
    }
    if job["status"]["active"].as_i64().unwrap_or(0) > 0 {
        return Err("still has active Pods".into());
    }
    if job["metadata"].get("deletionTimestamp").is_some() {
        return Err("already being deleted".into());
    }
    if !ages::old_enough(job, older_than, now) {
        return Err("younger than --older-than".into());
    }
    Ok(())
}

/// `(driver, namespace, object name)` of every revision a prune to `keep` deletes
/// in the chosen namespaces.
fn helm_prunable(
    state: &EtcdState,
    choice: &Choice,
    keep: usize,
) -> BTreeSet<(Driver, String, String)> {
    state
        .helm
        .iter()
        .flat_map(|h| h.releases.iter())
        .filter(|r| choice.includes(&r.namespace))
        .flat_map(|r| {
            r.prunable(keep)
                .into_iter()
                .map(|rev| (r.driver, r.namespace.clone(), rev.object.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_finished_jobs_are_selected() {
        let now: jiff::Timestamp = "2026-06-30T00:00:00Z".parse().unwrap();
        let job = |conditions: Value, active: i64| {
            json!({"metadata": {"name": "j", "creationTimestamp": "2026-06-20T00:00:00Z"},
                   "status": {"succeeded": 1, "active": active, "conditions": conditions}})
        };
        let complete = json!([{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]);
        assert!(select_completed_job(&job(complete.clone(), 0), None, now).is_ok());
        // 1 of 3 completions succeeded: matches status.successful=1, still running.
        assert!(select_completed_job(&job(json!([]), 2), None, now).is_err());
        assert!(
            select_completed_job(
                &job(json!([{"type": "Complete", "status": "False"}]), 0),
                None,
                now
            )
            .is_err()
        );
        assert!(
            select_completed_job(
                &job(complete.clone(), 0),
                Some(Duration::from_secs(30 * 86_400)),
                now
            )
            .is_err()
        );
        assert!(
            select_completed_job(&job(complete, 0), Some(Duration::from_secs(86_400)), now).is_ok()
        );
    }
}
