//! Bulk deletes: the same guided flow as [`super::execute`], for plans too big to
//! hold in memory (20,000 completed Jobs).
//!
//! [`super::Plan`] keeps every object it will change, and its bundle is written in
//! one go before acting. For a bulk delete that costs hundreds of MiB, so here the
//! order is kept but the objects stream:
//! 1. the candidates are listed page by page as full objects (server-side field
//!    selector), each is re-checked ([`BulkDelete::select`]), and each page of
//!    selected objects is written to a staging bundle and synced at once; memory
//!    keeps only references (namespace, name, UID, resourceVersion);
//! 2. the preview shows counts per namespace and a sample, from exactly the
//!    objects that were backed up: anything created after it is never touched;
//! 3. the server dry run sends one delete per namespace (RBAC and admission are
//!    decided per namespace; 20,000 dry runs would double the load);
//! 4. consent as in [`super::execute`]; without it the staging bundle is removed;
//! 5. the staging bundle is committed (renamed into place, synced), then the
//!    deletes run with the UID and resourceVersion seen in step 1 as
//!    preconditions, so an object changed since is skipped and reported. Every
//!    object was on disk before the first delete was sent.
//!
//! Deletes run with bounded, adaptive concurrency ([`Pacer`]): it starts at
//! [`Pacing::start`], halves on a 429 (the client also holds every request for
//! Retry-After) or when latency climbs well above what it was, and grows by one
//! after each window of calm answers, up to [`Pacing::max`]. When the rate cap
//! ([`BulkDelete::qps`]) is what binds, the measured latency includes the wait for
//! the client's own token bucket, so the pacer holds instead of backing off. The journal is
//! written in batches; Ctrl-C stops scheduling, and running the same fix again
//! recomputes what is left from the server, which is how an interrupted cleanup
//! resumes.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::Value;

use super::interrupt::{self, Interrupt};
use super::{
    Acknowledgement, Action, Consent, Operation, OperationResult, RemediationError,
    RemediationResult, RemediationState, Session, ask, consent, first_line, send,
};
use crate::api::WriteMode;
use crate::api::{ApiError, ListQuery};
use crate::backup::Committed;
use crate::backup::{JournalEntry, Manifest, ManifestOperation, OperationOutcome, Staging};
use crate::object::{ObjectRef, ResourceType};

use super::pace::{Breaker, QueueWatch};
pub use super::pace::{Pacer, Pacing};

/// The objects per second a bulk fix (and its undo) changes at most by default.
/// 20,000 deletes at the diagnosis' 20 requests per second would take 17 minutes;
/// at this cap 200 s. It is gentle on purpose: the fix runs during the incident it
/// repairs, against an API server that may be the one in trouble, and must not
/// become its heaviest client. The cap is a ceiling, not a target: the adaptive
/// concurrency (8 in flight at first, at most 32) halves on 429s and when latency
/// climbs to three times its best, so a server that cannot keep up sets the pace.
/// (An admin is exempt from API Priority and Fairness and never gets 429s, which is
/// why latency is watched too.) `--delete-qps` and `undo --rate` raise it.
pub const DEFAULT_BULK_RATE: f64 = 100.0;

/// A bulk delete: what to list, what to keep, how to delete.
pub struct BulkDelete<'a> {
    pub check: String,
    /// Stable id, e.g. `etcd.completed-jobs`.
    pub id: String,
    pub title: String,
    pub warning: Option<String>,
    /// Shown with the preview, e.g. what the backup does not hold.
    pub notes: Vec<String>,
    pub acknowledgements: Vec<Acknowledgement>,
    /// The kind shown in the preview (`Job`, `Pod`, `Helm revision`).
    pub noun: String,
    /// `Background` for Jobs, so their Pods go too.
    pub propagation: Option<String>,
    /// Where the candidates are listed: collections with server-side selectors.
    pub sources: Vec<Source>,
    /// The per-object re-check on the full object: `Err(reason)` leaves it alone.
    pub select: &'a (dyn Fn(&Value) -> Result<(), String> + Sync),
    pub pacing: Pacing,
    /// Requests per second while deleting (the diagnosis keeps `--qps`).
    pub qps: f64,
}

/// One collection to list candidates from.
#[derive(Debug, Clone)]
pub struct Source {
    pub resource: ResourceType,
    /// A collection path (all namespaces, or one).
    pub path: String,
    pub query: ListQuery,
}

/// One selected object and where its backup is.
struct Staged {
    target: ObjectRef,
    file: String,
    line: usize,
}

/// Runs a bulk delete through listing and backup, preview, sampled dry run,
/// consent and the paced deletes.
pub async fn execute(
    session: &Session<'_>,
    bulk: BulkDelete<'_>,
) -> Result<RemediationResult, RemediationError> {
    let palette = session.palette;
    // What consent will say is known before anything is listed: a --yes that lacks
    // an acknowledgement is refused at once, and a run that cannot change anything
    // (--dry-run, no terminal and no --yes) lists and previews without writing a
    // single object to disk.
    let will_act = match consent(session.args) {
        Consent::Yes => {
            if let Some(state) = confirm(session, &bulk.acknowledgements, "")? {
                return Ok(result(&bulk, state, Vec::new(), None));
            }
            true
        }
        Consent::Ask => true,
        Consent::DryRun | Consent::NoTerminal => false,
    };
    let mut staging = match will_act {
        true => Some(Staging::create(&session.backup_root, &bulk.id)?),
        false => None,
    };
    let (staged, left_alone) = match stage(session, &bulk, staging.as_mut()).await {
        Ok(found) => found,
        Err(StageError::Api(error)) => {
            let reason = format!(
                "could not list the objects to delete: {}",
                first_line(&error.to_string())
            );
            eprintln!("{reason}");
            return Ok(result(
                &bulk,
                RemediationState::Failed { reason },
                Vec::new(),
                None,
            ));
        }
        Err(StageError::Backup(error)) => return Err(error.into()),
    };

    eprint!("{}", preview(&bulk, &staged, &left_alone, palette));
    let not_run = |staged: &[Staged]| -> Vec<OperationResult> {
        staged
            .iter()
            .map(|s| OperationResult {
                target: s.target.display(),
                action: "delete".into(),
                outcome: "not-run".into(),
                message: String::new(),
            })
            .collect()
    };
    if staged.is_empty() {
        eprintln!("nothing to do");
        return Ok(result(&bulk, RemediationState::Applied, Vec::new(), None));
    }

    // One dry run per namespace: the verdicts that can differ between objects of
    // one kind (RBAC, namespaced admission) differ by namespace.
    let mut sample: BTreeMap<Option<String>, &Staged> = BTreeMap::new();
    for s in &staged {
        sample.entry(s.target.namespace.clone()).or_insert(s);
    }
    let mut refused = Vec::new();
    for s in sample.values() {
        if let Err(error) = send(session.api, &operation(&bulk, &s.target), WriteMode::DryRun).await
            && !error.is_not_found()
        {
            refused.push((s.target.display(), error));
        }
    }
    if refused.is_empty() {
        eprintln!(
            "server dry run: {} sampled delete{} (one per namespace) accepted",
            sample.len(),
            if sample.len() == 1 { "" } else { "s" }
        );
    } else {
        eprintln!(
            "server dry run: {} of {} sampled deletes (one per namespace) refused:",
            refused.len(),
            sample.len()
        );
        for (target, error) in refused.iter().take(10) {
            eprintln!("  {target}: {}", first_line(&error.to_string()));
        }
        if refused.len() == sample.len() {
            let reason = format!(
                "the server refused the dry run in every namespace ({})",
                first_line(&refused[0].1.to_string())
            );
            return Ok(result(
                &bulk,
                RemediationState::Failed { reason },
                not_run(&staged),
                None,
            ));
        }
    }

    let question = format!("Apply {} ({} deletes)?", bulk.id, staged.len());
    if let Some(state) = confirm(session, &bulk.acknowledgements, &question)? {
        return Ok(result(&bulk, state, not_run(&staged), None));
    }

    let operations = staged
        .iter()
        .enumerate()
        .map(|(index, s)| ManifestOperation {
            index,
            operation: operation(&bulk, &s.target),
            object_file: Some(s.file.clone()),
            object_line: Some(s.line),
        })
        .collect();
    let manifest = Manifest::new(
        &session.origin,
        &bulk.check,
        &bulk.id,
        &bulk.title,
        operations,
    );
    let Some(staging) = staging else {
        // confirm() goes ahead only with --yes or an answer, and then there is a
        // staging bundle: this is a bug, and nothing has changed.
        let reason = "internal error: no staged backup to commit; nothing was changed".to_string();
        return Ok(result(
            &bulk,
            RemediationState::Failed { reason },
            not_run(&staged),
            None,
        ));
    };
    let bundle = staging.commit(&manifest)?;
    drop(manifest);
    eprintln!("backup written: {}", bundle.dir.display());

    // The user asked for these deletes: they may exceed the diagnosis budget, and
    // they go at the cleanup's rate, paced by the server's answers.
    session.api.raise_budget(staged.len() as u64 + 100);
    session
        .api
        .set_rate(bulk.qps, bulk.qps.ceil().max(1.0) as u32);
    let started = Instant::now();
    let (operations, pacer) = delete_all(session, &bulk, &staged, &bundle).await?;
    let state = RemediationState::of(&operations);
    eprintln!(
        "{}",
        pacer.summary(
            "deleted",
            &operations,
            started,
            session.api.cost().throttled
        )
    );
    let result = result(
        &bulk,
        state,
        operations,
        Some(bundle.dir.display().to_string()),
    );
    eprintln!("{}", result.summary());
    Ok(result)
}

/// Consent for a streamed fix, asked as [`super::execute`] asks it: `None` to go
/// ahead, or the state to stop in (dry run, no terminal, a missing
/// acknowledgement, declined). Nothing has changed when it says stop.
pub(super) fn confirm(
    session: &Session<'_>,
    acknowledgements: &[Acknowledgement],
    question: &str,
) -> Result<Option<RemediationState>, RemediationError> {
    match consent(session.args) {
        Consent::DryRun => {
            eprintln!("--dry-run: stopping before any change");
            Ok(Some(RemediationState::DryRun))
        }
        Consent::NoTerminal => {
            let reason = "no terminal to ask on and no --yes; nothing was changed".to_string();
            eprintln!("{reason}\nhint: re-run with --yes to apply, or --dry-run to preview only");
            Ok(Some(RemediationState::Skipped { reason }))
        }
        Consent::Yes => match acknowledgements.iter().find(|a| !a.given) {
            Some(missing) => {
                let reason = format!(
                    "{} (pass {} with --yes to confirm)",
                    missing.question, missing.flag
                );
                eprintln!("not applied: {reason}");
                Ok(Some(RemediationState::Skipped { reason }))
            }
            None => Ok(None),
        },
        Consent::Ask => {
            for ack in acknowledgements.iter().filter(|a| !a.given) {
                if !ask(&ack.question)? {
                    let reason = format!("not confirmed: {}", ack.question);
                    return Ok(Some(RemediationState::Skipped { reason }));
                }
            }
            if !ask(question)? {
                return Ok(Some(RemediationState::Skipped {
                    reason: "declined".into(),
                }));
            }
            Ok(None)
        }
    }
}

fn result(
    bulk: &BulkDelete<'_>,
    state: RemediationState,
    operations: Vec<OperationResult>,
    backup: Option<String>,
) -> RemediationResult {
    RemediationResult {
        id: bulk.id.clone(),
        title: bulk.title.clone(),
        state,
        operations,
        backup,
    }
}

fn operation(bulk: &BulkDelete<'_>, target: &ObjectRef) -> Operation {
    Operation {
        target: target.clone(),
        action: Action::Delete {
            propagation: bulk.propagation.clone(),
        },
        before: None,
    }
}

enum StageError {
    Api(ApiError),
    Backup(crate::backup::BackupError),
}

/// Lists every source page by page, re-checks each object and backs up the
/// selected ones page by page into `staging` (with `None`, a run that cannot act,
/// nothing is written). Returns them and why the others were left alone.
async fn stage(
    session: &Session<'_>,
    bulk: &BulkDelete<'_>,
    mut staging: Option<&mut Staging>,
) -> Result<(Vec<Staged>, BTreeMap<String, usize>), StageError> {
    let mut staged = Vec::new();
    let mut left_alone: BTreeMap<String, usize> = BTreeMap::new();
    // A listing restarted after its continue token expired sees objects again.
    let mut seen: HashSet<String> = HashSet::new();
    for source in &bulk.sources {
        let (path, query) = (&source.path, &source.query);
        let mut token: Option<String> = None;
        let mut restarts = 0;
        loop {
            let page = match session
                .api
                .list_page::<Value>(path, query, token.as_deref())
                .await
            {
                Ok(page) => page,
                Err(ApiError::Gone { .. }) if token.is_some() && restarts < 3 => {
                    restarts += 1;
                    token = None;
                    continue;
                }
                Err(error) => return Err(StageError::Api(error)),
            };
            let mut keep: Vec<&Value> = Vec::new();
            for item in &page.items {
                let uid = item["metadata"]["uid"].as_str().unwrap_or_default();
                if !seen.insert(uid.to_string()) {
                    continue;
                }
                match (bulk.select)(item) {
                    Ok(()) => keep.push(item),
                    Err(reason) => *left_alone.entry(reason).or_default() += 1,
                }
            }
            let written = match staging.as_deref_mut() {
                Some(staging) => staging.write_page(&keep).map_err(StageError::Backup)?,
                None => Vec::new(),
            };
            for (index, item) in keep.iter().enumerate() {
                let place = written.get(index);
                staged.push(Staged {
                    target: ObjectRef::of(&source.resource, item),
                    file: place.map(|p| p.file.clone()).unwrap_or_default(),
                    line: place.map_or(0, |p| p.line),
                });
            }
            token = page.continue_token;
            if token.is_none() {
                break;
            }
        }
    }
    Ok((staged, left_alone))
}

fn preview(
    bulk: &BulkDelete<'_>,
    staged: &[Staged],
    left_alone: &BTreeMap<String, usize>,
    palette: crate::style::Palette,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{} {} — {}", palette.bold("plan"), bulk.id, bulk.title);
    let kind = &bulk.noun;
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for s in staged {
        *by_kind.entry(s.target.resource.kind.as_str()).or_default() += 1;
    }
    for (resource_kind, count) in &by_kind {
        let _ = writeln!(
            out,
            "  delete {count} {resource_kind}{}{}",
            if *count == 1 { "" } else { "(s)" },
            bulk.propagation
                .as_deref()
                .map(|p| format!(" (propagation {p})"))
                .unwrap_or_default()
        );
    }
    let mut by_namespace: BTreeMap<&str, usize> = BTreeMap::new();
    for s in staged {
        *by_namespace
            .entry(s.target.namespace.as_deref().unwrap_or("(cluster)"))
            .or_default() += 1;
    }
    for (namespace, count) in &by_namespace {
        let _ = writeln!(out, "    {count:>7}  in {namespace}");
    }
    const SHOWN: usize = 20;
    for s in staged.iter().take(SHOWN) {
        let _ = writeln!(out, "    delete {}", s.target.display());
    }
    if staged.len() > SHOWN {
        let _ = writeln!(out, "    … and {} more", staged.len() - SHOWN);
    }
    for (reason, count) in left_alone {
        let _ = writeln!(out, "  left alone: {count} {kind}(s): {reason}");
    }
    if !staged.is_empty() {
        let _ = writeln!(
            out,
            "  each delete carries the UID and resourceVersion listed now: an object changed since is skipped"
        );
    }
    for note in &bulk.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    if let Some(warning) = &bulk.warning {
        let _ = writeln!(out, "  {} {warning}", palette.error("warning:"));
    }
    out
}

/// The deletes, paced, journalled, interruptible.
async fn delete_all(
    session: &Session<'_>,
    bulk: &BulkDelete<'_>,
    staged: &[Staged],
    bundle: &Committed,
) -> Result<(Vec<OperationResult>, Pacer), RemediationError> {
    let run = PacedRun {
        id: &bulk.id,
        verb: "delete",
        pacing: bulk.pacing,
        qps: bulk.qps,
        skipped: "changed or removed since the preview, left alone",
    };
    run_paced(
        session,
        &run,
        bundle,
        staged.len(),
        |index| staged[index].target.display(),
        |index| Ok(operation(bulk, &staged[index].target)),
    )
    .await
}

/// How a paced run goes: [`run_paced`]'s settings.
pub(super) struct PacedRun<'a> {
    pub id: &'a str,
    /// What every operation does, for those never sent.
    pub verb: &'a str,
    pub pacing: Pacing,
    pub qps: f64,
    /// What a 409 or 404 means for these operations, for the report.
    pub skipped: &'a str,
}

/// Sends `count` operations, made one at a time by `make` (so only those in flight
/// are in memory), with the [`Pacer`]'s concurrency, a progress bar, the journal of
/// `bundle` and Ctrl-C; `target` names an operation that was never sent. Bulk
/// deletes and bulk restores both go through here.
pub(super) async fn run_paced(
    session: &Session<'_>,
    run: &PacedRun<'_>,
    bundle: &Committed,
    count: usize,
    target: impl Fn(usize) -> String,
    mut make: impl FnMut(usize) -> Result<Operation, RemediationError>,
) -> Result<(Vec<OperationResult>, Pacer), RemediationError> {
    let bar = super::progress_bar(
        count as u64,
        run.id,
        "{spinner} {msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta})",
    );
    let mut interrupt = Interrupt::watch();

    let mut journal = bundle.journal_writer()?;
    let mut journal_error = None;
    let mut pacer = Pacer::new(run.pacing, session.api.cost().throttled).with_cap(run.qps);
    let mut results: Vec<Option<OperationResult>> = Vec::new();
    results.resize_with(count, || None);
    let mut next = 0;
    let mut in_flight = FuturesUnordered::new();
    let mut make_error = None;
    // Why sending stopped before the end, if it did: a journal line that could
    // not be written (nothing more may be sent without one), a spent budget
    // (every further request would fail at once), or a server that stopped
    // answering (the breaker).
    let mut halted: Option<String> = None;
    let mut breaker = Breaker::default();
    let mut queues = QueueWatch::default();
    loop {
        while next < count
            && in_flight.len() < pacer.limit
            && make_error.is_none()
            && journal_error.is_none()
            && halted.is_none()
            && !interrupt.requested()
        {
            let index = next;
            let op = match make(index) {
                Ok(op) => op,
                Err(error) => {
                    make_error = Some(error);
                    break;
                }
            };
            next += 1;
            in_flight.push(async move {
                let sent_at = Instant::now();
                let outcome = send(session.api, &op, WriteMode::Backed(bundle)).await;
                (index, op, sent_at.elapsed(), outcome)
            });
        }
        let answered = tokio::select! {
            answered = in_flight.next() => answered,
            () = interrupt.again() => {
                bar.finish_and_clear();
                if let Err(e) = journal.finish() {
                    eprintln!("warning: {}", crate::run::with_hint(&e, e.hint()));
                }
                let sent = results.iter().filter(|r| r.is_some()).count();
                interrupt::quit_now(sent, count - sent, &bundle.dir);
            }
        };
        let Some((index, op, latency, sent)) = answered else {
            break;
        };
        pacer.observe(latency, session.api.cost().throttled, Instant::now());
        if queues.due(Instant::now()) {
            let queued = match session.api.get_text("/metrics").await {
                Ok(text) => apidiag_metrics::MetricFamilies::sum_in(
                    &text,
                    apidiag_metrics::names::APF_CURRENT_INQUEUE_REQUESTS,
                ),
                Err(_) => None,
            };
            if queues.observe(queued, Instant::now()) {
                pacer.slow_down();
                bar.suspend(|| {
                    eprintln!(
                        "  the API server's queues are growing ({} requests waiting): slowing down to {} in flight",
                        queued.unwrap_or_default(),
                        pacer.limit
                    )
                });
            }
        }
        if let Some(reason) = breaker.observe(&sent) {
            halted.get_or_insert(reason);
        }
        let (outcome, message, uid) = match sent {
            Ok(sent) => (OperationOutcome::Done, String::new(), sent.uid),
            // A 409: changed since the preview (a delete), or there again (a create).
            // A 404 means the object is gone for a delete, but for a create that its
            // namespace is: that one failed.
            Err(error)
                if matches!(error, ApiError::Conflict { .. })
                    || (error.is_not_found() && !matches!(op.action, Action::Create { .. })) =>
            {
                (
                    OperationOutcome::Skipped,
                    format!("{}: {}", run.skipped, first_line(&error.to_string())),
                    None,
                )
            }
            Err(error) => {
                if let ApiError::BudgetSpent { .. } = error {
                    halted.get_or_insert_with(|| error.to_string());
                }
                (
                    OperationOutcome::Failed,
                    first_line(&error.to_string()).to_string(),
                    super::created_uid(&error),
                )
            }
        };
        if let Err(e) = journal.record(&JournalEntry {
            index,
            outcome,
            message: message.clone(),
            uid,
            at: jiff::Timestamp::now().to_string(),
        }) {
            halted.get_or_insert_with(|| {
                format!("{e}: nothing more is sent without its journal line")
            });
            journal_error.get_or_insert(e);
        }
        let verb = op.action.verb();
        let shown = op.target.display();
        if outcome != OperationOutcome::Done {
            bar.suspend(|| eprintln!("  {verb} {shown}: {message}"));
        }
        results[index] = Some(OperationResult {
            target: shown,
            action: verb.into(),
            outcome: outcome.as_str().into(),
            message,
        });
        bar.inc(1);
    }
    let stopped = interrupt.requested();
    drop(interrupt);
    bar.finish_and_clear();
    if let Err(e) = journal.finish() {
        eprintln!("warning: {}", crate::run::with_hint(&e, e.hint()));
    }
    // A journal that failed mid-run stopped the sending (`halted` says so) but
    // keeps the results: the report must say what was done, not "nothing".
    if let Some(error) = &journal_error {
        eprintln!("hint: {}", error.hint().unwrap_or_default());
    }
    if let Some(error) = make_error {
        return Err(error);
    }
    if stopped {
        eprintln!(
            "interrupted: {} operations not sent; run the same command again to continue",
            count - next
        );
    }
    if let Some(reason) = &halted {
        eprintln!(
            "stopped: {reason}; {} operations not sent; run the same command again to continue",
            count - next
        );
    }
    let results = results
        .into_iter()
        .enumerate()
        .map(|(index, result)| {
            result.unwrap_or_else(|| OperationResult {
                target: target(index),
                action: run.verb.into(),
                outcome: "not-run".into(),
                message: if stopped || halted.is_some() {
                    "not sent; re-run to continue".into()
                } else {
                    String::new()
                },
            })
        })
        .collect();
    Ok((results, pacer))
}
