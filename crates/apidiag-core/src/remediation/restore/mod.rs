//! Undo of a bundle of deletes, streamed like the bulk delete it reverses.
//!
//! A cleanup of 20,000 Jobs is undone the way it was made, at the same scale:
//! 1. what exists already is learned from one paginated, metadata-only LIST per
//!    namespace and resource (not a GET per object), so an object that is back, or
//!    was never deleted, is left alone;
//! 2. the preview counts what will be re-created, per namespace, with a sample of
//!    names and what the restore does not bring back (Secret data is never shown);
//! 3. the server dry run is one create per namespace and resource;
//! 4. before anything changes, the run says how many requests it needs and raises
//!    `--max-requests` to that with consent (`--yes`, or a question), instead of
//!    running into the budget half-way;
//! 5. the undo's own bundle is committed (its creates name their targets; the
//!    journal records each new UID, so undoing the undo deletes exactly what was
//!    created), then the creates run through [`super::stream::run_paced`]: the
//!    same adaptive concurrency under the bulk rate cap, progress bar, journal and
//!    Ctrl-C as the delete. Saved objects are read page by page while the creates
//!    are sent, so memory holds only what is in flight;
//! 6. once the creates are done, what was created is listed again ([`verify`]):
//!    a controller may remove a restored object at once (the TTL controller, a
//!    CronJob's history limit), and the report says so instead of claiming it.
//!
//! An interrupted restore resumes by running undo again: the LISTs of step 1 find
//! what was already re-created and only the rest is sent.

mod verify;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use serde_json::json;

use super::stream::{self, PacedRun, Pacing};
use super::{
    Action, Operation, OperationResult, RemediationError, RemediationResult, RemediationState,
    Session, first_line, send,
};
use crate::api::WriteMode;
use crate::api::{ApiError, ListPage, ListQuery, PartialObjectMetadata};
use crate::backup::{
    Bundle, Committed, Manifest, ManifestOperation, OperationOutcome, PageCache, Staging,
};
use crate::object::ObjectRef;
use crate::remediation::undo::{JobFate, TtlChoice, UndoNote, recreate, restores_finished_jobs};

/// How a restore is paced, and what the user chose for what comes back.
#[derive(Debug, Clone, Copy)]
pub struct RestoreOptions {
    pub qps: f64,
    pub pacing: Pacing,
    /// Jobs whose TTL has passed: restored as saved, without it, or given longer.
    pub ttl: TtlChoice,
    /// `--rerun-pods`: the acknowledgement that restored Pods run again.
    pub rerun_pods: bool,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        RestoreOptions {
            // The undo of a cleanup runs at the pace of the cleanup.
            qps: stream::DEFAULT_BULK_RATE,
            pacing: Pacing::default(),
            ttl: TtlChoice::default(),
            rerun_pods: false,
        }
    }
}

/// Whether a bundle is undone by [`execute`]: it holds deletes only (every bulk
/// cleanup), which undo turns into creates.
pub fn applies_to(manifest: &Manifest) -> bool {
    !manifest.operations.is_empty()
        && manifest
            .operations
            .iter()
            .all(|o| matches!(o.operation.action, Action::Delete { .. }))
}

/// One deleted object to bring back: its entry in the original manifest (which
/// says where the object was saved). Only these entries are kept, not the manifest.
struct Candidate {
    saved: ManifestOperation,
}

impl Candidate {
    fn target(&self) -> &ObjectRef {
        &self.saved.operation.target
    }
}

/// Restores the deletes of `bundle` (see the module doc). `notes` gets what needs
/// no restoring, as [`super::undo::plan`] reports it.
pub async fn execute(
    session: &Session<'_>,
    bundle: &Bundle,
    manifest: Manifest,
    pace: RestoreOptions,
    notes: &mut Vec<UndoNote>,
) -> Result<RemediationResult, RemediationError> {
    let id = format!("undo.{}", manifest.plan_id);
    let title = format!("restore {} ({})", bundle.name(), manifest.title);
    let check = manifest.check.clone();
    let jobs_warning = restores_finished_jobs(&manifest);
    let result = |state, operations, backup| RemediationResult {
        id: id.clone(),
        title: title.clone(),
        state,
        operations,
        backup,
    };
    let candidates = match to_restore(session, bundle, manifest, notes).await {
        Ok(candidates) => candidates,
        Err(error) => {
            let reason = format!(
                "could not list what exists already: {}",
                first_line(&error.to_string())
            );
            eprintln!("{reason}");
            return Ok(result(
                RemediationState::Failed { reason },
                Vec::new(),
                None,
            ));
        }
    };
    let mut cache = PageCache::default();
    let fates = if jobs_warning {
        job_fates(bundle, &candidates, &mut cache)?
    } else {
        BTreeMap::new()
    };
    eprint!(
        "{}",
        preview(
            &id,
            &title,
            jobs_warning,
            (&fates, pace.ttl),
            &candidates,
            notes,
            session.palette
        )
    );
    let not_run = || -> Vec<OperationResult> {
        candidates
            .iter()
            .map(|c| OperationResult {
                target: c.target().display(),
                action: "create".into(),
                outcome: "not-run".into(),
                message: String::new(),
            })
            .collect()
    };
    if candidates.is_empty() {
        eprintln!("nothing to do");
        return Ok(result(RemediationState::Applied, Vec::new(), None));
    }

    let now = jiff::Timestamp::now();
    let make =
        |candidate: &Candidate, cache: &mut PageCache| -> Result<Operation, RemediationError> {
            let mut saved = bundle
                .object_cached(&candidate.saved, cache)?
                .ok_or_else(|| crate::backup::BackupError::Invalid {
                    path: bundle.dir.display().to_string(),
                    message: format!("no saved object for {}", candidate.target().display()),
                })?;
            if candidate.target().resource.is_jobs() {
                pace.ttl.apply(&mut saved, now);
            }
            let mut target = candidate.target().clone();
            target.uid = None;
            target.resource_version = None;
            Ok(Operation {
                action: recreate(&target.resource, &saved),
                target,
                before: None,
            })
        };

    // One dry run per namespace and resource: RBAC and admission decide per
    // namespace, and a dry run per object would double the load.
    let mut sampled = HashSet::new();
    let mut refused = Vec::new();
    let mut samples = 0;
    for candidate in &candidates {
        let key = (
            candidate.target().resource.plural.clone(),
            candidate.target().namespace.clone(),
        );
        if !sampled.insert(key) {
            continue;
        }
        samples += 1;
        let op = make(candidate, &mut cache)?;
        if let Err(error) = send(session.api, &op, WriteMode::DryRun).await
            && !matches!(error, ApiError::Conflict { .. })
        {
            refused.push((candidate.target().display(), error));
        }
    }
    if refused.is_empty() {
        eprintln!("server dry run: {samples} sampled create(s) (one per namespace) accepted");
    } else {
        eprintln!(
            "server dry run: {} of {samples} sampled creates (one per namespace) refused:",
            refused.len()
        );
        for (target, error) in refused.iter().take(10) {
            eprintln!("  {target}: {}", first_line(&error.to_string()));
        }
        if refused.len() == samples {
            let reason = format!(
                "the server refused the dry run in every namespace ({})",
                first_line(&refused[0].1.to_string())
            );
            return Ok(result(RemediationState::Failed { reason }, not_run(), None));
        }
    }

    // What the restore costs, said before it starts: a finished Job takes a create,
    // its status and its resume; anything else one create.
    let needed: u64 = candidates
        .iter()
        .map(|c| if c.target().resource.is_jobs() { 3 } else { 1 })
        .sum();
    let left = session.api.budget_left();
    let question = format!(
        "Restore {} objects ({needed} requests{})?",
        candidates.len(),
        if needed > left {
            format!(
                ", more than the {left} --max-requests leaves: the budget is raised for this undo"
            )
        } else {
            String::new()
        }
    );
    if needed > left {
        eprintln!(
            "this undo needs about {needed} requests; --max-requests leaves {left}: with consent the budget is raised to fit"
        );
    } else {
        eprintln!("this undo needs about {needed} requests (--max-requests leaves {left})");
    }
    // A restored Pod is a new Pod: it is scheduled and its containers run again
    // (a failed batch step repeats its side effects). Nobody agrees to that by
    // accident: it takes its own yes, or --rerun-pods with --yes.
    let pods = candidates
        .iter()
        .filter(|c| c.target().resource.kind == "Pod" && c.target().resource.group.is_empty())
        .count();
    let acknowledgements: Vec<super::Acknowledgement> = (pods > 0)
        .then(|| super::Acknowledgement {
            question: format!(
                "{pods} restored Pod(s) are new Pods: the scheduler places them and their containers run again from the start. Run them again?"
            ),
            flag: "--rerun-pods".into(),
            given: pace.rerun_pods,
        })
        .into_iter()
        .collect();
    if let Some(state) = stream::confirm(session, &acknowledgements, &question)? {
        return Ok(result(state, not_run(), None));
    }

    let undo_bundle = write_bundle(session, &check, &id, &title, &candidates)?;
    eprintln!("backup written: {}", undo_bundle.dir.display());
    // The user consented to this many requests. The cap counts objects, as the
    // cleanup's did: a Job restored at 100 a second is 300 requests a second, and
    // the adaptive concurrency still slows that down when the server's answers do.
    session
        .api
        .raise_budget(needed + candidates.len() as u64 / 10 + 100);
    let per_object = needed as f64 / candidates.len().max(1) as f64;
    let request_rate = pace.qps * per_object;
    session
        .api
        .set_rate(request_rate, request_rate.ceil().max(1.0) as u32);
    let started = Instant::now();
    let run = PacedRun {
        id: &id,
        verb: "create",
        pacing: pace.pacing,
        qps: pace.qps,
        skipped: "exists again, left alone",
    };
    let (operations, pacer) = stream::run_paced(
        session,
        &run,
        &undo_bundle,
        candidates.len(),
        |index| candidates[index].target().display(),
        |index| make(&candidates[index], &mut cache),
    )
    .await?;
    let mut operations = operations;
    let settle = if fates.is_empty() && pods == 0 {
        std::time::Duration::ZERO
    } else {
        verify::SETTLE
    };
    // The restore is done whatever this answers: a failed re-read must not turn
    // its results into an error.
    let deleted_again = match verify::mark_deleted_again(
        session,
        &undo_bundle,
        &candidates,
        &mut operations,
        settle,
    )
    .await
    {
        Ok(n) => n,
        Err(error) => {
            eprintln!(
                "warning: could not list what was restored ({}); the results are as the creates answered",
                first_line(&error.to_string())
            );
            0
        }
    };
    let state = if deleted_again > 0
        && operations
            .iter()
            .all(|o| o.outcome == "done" || o.outcome == verify::DELETED_AGAIN)
    {
        eprintln!(
            "{deleted_again} restored object(s) were removed again by a controller right after the restore (see the preview's notes); the others stayed"
        );
        RemediationState::Applied
    } else {
        RemediationState::of(&operations)
    };
    eprintln!(
        "{}",
        pacer.summary(
            "restored",
            &operations,
            started,
            session.api.cost().throttled
        )
    );
    let result = result(
        state,
        operations,
        Some(undo_bundle.dir.display().to_string()),
    );
    eprintln!("{}", result.summary());
    Ok(result)
}

/// The deletes that may have happened, less what exists already (one metadata
/// LIST per namespace and resource).
async fn to_restore(
    session: &Session<'_>,
    bundle: &Bundle,
    manifest: Manifest,
    notes: &mut Vec<UndoNote>,
) -> Result<Vec<Candidate>, RemediationError> {
    let journal = bundle.journal()?;
    let mut candidates = Vec::new();
    for entry in manifest.operations {
        // Only a skip is known not to have changed anything: a failed delete (a
        // timeout, a 5xx) may still have been applied.
        if matches!(
            journal.get(&entry.index).map(|j| j.outcome),
            Some(OperationOutcome::Skipped)
        ) {
            notes.push(UndoNote {
                target: entry.operation.target.display(),
                note: "was not changed by the original run".into(),
            });
            continue;
        }
        if entry.object_file.is_none() {
            notes.push(UndoNote {
                target: entry.operation.target.display(),
                note: "no saved object in the bundle".into(),
            });
            continue;
        }
        candidates.push(Candidate { saved: entry });
    }
    drop(journal);
    let existing = existing(session, candidates.iter().map(Candidate::target)).await?;
    let mut restore = Vec::with_capacity(candidates.len());
    for c in candidates {
        let key = (
            c.target()
                .resource
                .collection_path(c.target().namespace.as_deref()),
            c.target().name.clone(),
        );
        match existing.get(&key) {
            None => restore.push(c),
            Some((uid, deleting)) => notes.push(UndoNote {
                target: c.target().display(),
                note: if *deleting {
                    // Finalizers hold it: it will be gone soon, and then restorable.
                    "still being deleted: run undo again once it is gone".into()
                } else if c.target().uid.as_deref() == Some(uid.as_str()) {
                    "was never deleted".into()
                } else {
                    "exists again (re-created since); left alone".into()
                },
            }),
        }
    }
    Ok(restore)
}

/// What exists now of `targets`: (collection path, name) → (UID, being deleted),
/// from one paginated, metadata-only LIST per namespace and resource.
async fn existing<'a>(
    session: &Session<'_>,
    targets: impl Iterator<Item = &'a ObjectRef>,
) -> Result<HashMap<(String, String), (String, bool)>, RemediationError> {
    let mut by_collection: BTreeMap<String, HashSet<&str>> = BTreeMap::new();
    for target in targets {
        by_collection
            .entry(target.resource.collection_path(target.namespace.as_deref()))
            .or_default()
            .insert(target.name.as_str());
    }
    // name → UID of what exists now, for the names the bundle holds.
    let mut existing: HashMap<(String, String), (String, bool)> = HashMap::new();
    for (path, wanted) in &by_collection {
        let mut found: HashMap<(String, String), (String, bool)> = HashMap::new();
        session
            .api
            .list::<PartialObjectMetadata>(path, &ListQuery::metadata(), |page| match page {
                ListPage::Restart => found.clear(),
                ListPage::Items(items) => {
                    for item in items {
                        let meta = item.metadata;
                        if let Some(name) = meta.name.filter(|n| wanted.contains(n.as_str())) {
                            let deleting = meta.deletion_timestamp.is_some();
                            found.insert(
                                (path.clone(), name),
                                (meta.uid.unwrap_or_default(), deleting),
                            );
                        }
                    }
                }
            })
            .await?;
        existing.extend(found);
    }
    Ok(existing)
}

/// How many of the Jobs to restore a controller removes again (read from the
/// saved objects, page by page: the preview must say so before anyone agrees).
fn job_fates(
    bundle: &Bundle,
    candidates: &[Candidate],
    cache: &mut PageCache,
) -> Result<BTreeMap<JobFate, usize>, RemediationError> {
    let now = jiff::Timestamp::now();
    let mut fates = BTreeMap::new();
    for candidate in candidates.iter().filter(|c| c.target().resource.is_jobs()) {
        if let Some(saved) = bundle.object_cached(&candidate.saved, cache)?
            && let Some(fate) = JobFate::of(&saved, now)
        {
            *fates.entry(fate).or_default() += 1;
        }
    }
    Ok(fates)
}

fn preview(
    id: &str,
    title: &str,
    jobs_warning: bool,
    (fates, ttl): (&BTreeMap<JobFate, usize>, TtlChoice),
    candidates: &[Candidate],
    notes: &[UndoNote],
    palette: crate::style::Palette,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{} {id} — {title}", palette.bold("plan"));
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_namespace: BTreeMap<&str, usize> = BTreeMap::new();
    for c in candidates {
        *by_kind
            .entry(c.target().resource.kind.as_str())
            .or_default() += 1;
        *by_namespace
            .entry(c.target().namespace.as_deref().unwrap_or("(cluster)"))
            .or_default() += 1;
    }
    for (kind, count) in &by_kind {
        let _ = writeln!(
            out,
            "  create {count} {kind}{}",
            if *count == 1 { "" } else { "(s)" }
        );
    }
    for (namespace, count) in &by_namespace {
        let _ = writeln!(out, "    {count:>7}  in {namespace}");
    }
    const SHOWN: usize = 20;
    for c in candidates.iter().take(SHOWN) {
        let _ = writeln!(out, "    create {}", c.target().display());
    }
    if candidates.len() > SHOWN {
        let _ = writeln!(out, "    … and {} more", candidates.len() - SHOWN);
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for note in notes {
        *reasons.entry(note.note.as_str()).or_default() += 1;
    }
    for (reason, count) in reasons {
        let _ = writeln!(out, "  left alone: {count}: {reason}");
    }
    for (fate, count) in fates {
        let _ = writeln!(
            out,
            "  {} {}",
            palette.error("note:"),
            fate.describe(*count)
        );
        if *fate == JobFate::TtlPassed {
            let _ = writeln!(out, "        {}", ttl.describe());
        }
    }
    if jobs_warning {
        let _ = writeln!(
            out,
            "  {} {}",
            palette.error("warning:"),
            super::undo::FINISHED_JOBS_WARNING
        );
    }
    out
}

/// The undo's own bundle: one create per candidate, naming its target (the
/// object itself stays in the original bundle). Undoing the undo deletes what the
/// journal says was created, by UID, so nothing more is needed.
fn write_bundle(
    session: &Session<'_>,
    check: &str,
    id: &str,
    title: &str,
    candidates: &[Candidate],
) -> Result<Committed, RemediationError> {
    let staging = Staging::create(&session.backup_root, id)?;
    let operations = candidates
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let mut target = c.target().clone();
            target.uid = None;
            target.resource_version = None;
            ManifestOperation {
                index,
                operation: Operation {
                    action: Action::Create {
                        object: json!({"metadata": {
                            "name": target.name,
                            "namespace": target.namespace,
                        }}),
                        status: None,
                        resume: None,
                    },
                    target,
                    before: None,
                },
                object_file: None,
                object_line: None,
            }
        })
        .collect();
    let manifest = Manifest::new(&session.origin, check, id, title, operations);
    Ok(staging.commit(&manifest)?)
}
