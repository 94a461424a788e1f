//! Sending a plan's operations: the server dry run, each operation with its
//! preconditions, and the journalled run of a small (non-bulk) fix.

use futures::StreamExt;
use serde_json::{Value, json};

use super::interrupt::{self, Interrupt};
use super::{
    Operation, OperationResult, Plan, RemediationError, Session, first_line, progress_bar,
};
use crate::api::{ApiClient, ApiError, WriteMode};
use crate::backup::{Committed, JournalEntry, OperationOutcome};
use crate::remediation::Action;

/// The server-side dry run: the index and error of every refused operation.
pub(super) async fn dry_run(session: &Session<'_>, plan: &Plan) -> Vec<(usize, ApiError)> {
    let results: Vec<(usize, Result<SentOutcome, ApiError>)> = futures::stream::iter(
        plan.operations.iter().enumerate(),
    )
    .map(|(index, op)| async move { (index, send(session.api, op, WriteMode::DryRun).await) })
    .buffer_unordered(session.concurrency.max(1))
    .collect()
    .await;
    let mut refused: Vec<(usize, ApiError)> = results
        .into_iter()
        .filter_map(|(index, result)| result.err().map(|e| (index, e)))
        .collect();
    refused.sort_by_key(|(index, _)| *index);
    refused
}

/// What a sent operation returned that the journal needs.
pub(crate) struct SentOutcome {
    pub(crate) uid: Option<String>,
}

/// Sends one operation with its preconditions.
pub(crate) async fn send(
    api: &ApiClient,
    op: &Operation,
    mode: WriteMode<'_>,
) -> Result<SentOutcome, ApiError> {
    let target = &op.target;
    match &op.action {
        Action::Patch { patch } => {
            let mut patch = patch.clone();
            if let (Some(rv), Some(map)) = (&target.resource_version, patch.as_object_mut()) {
                let meta = map.entry("metadata").or_insert_with(|| json!({}));
                if let Some(meta) = meta.as_object_mut() {
                    meta.insert("resourceVersion".into(), json!(rv));
                }
            }
            api.merge_patch(&target.path(), &patch, mode).await?;
            Ok(SentOutcome { uid: None })
        }
        Action::Delete { propagation } => {
            let mut options = json!({"apiVersion": "v1", "kind": "DeleteOptions"});
            let mut preconditions = serde_json::Map::new();
            if let Some(uid) = &target.uid {
                preconditions.insert("uid".into(), json!(uid));
            }
            if let Some(rv) = &target.resource_version {
                preconditions.insert("resourceVersion".into(), json!(rv));
            }
            if !preconditions.is_empty() {
                options["preconditions"] = Value::Object(preconditions);
            }
            if let Some(policy) = propagation {
                options["propagationPolicy"] = json!(policy);
            }
            api.delete(&target.path(), &options, mode).await?;
            Ok(SentOutcome { uid: None })
        }
        Action::Create {
            object,
            status,
            resume,
        } => {
            let created = api.create(&target.collection_path(), object, mode).await?;
            let uid = created["metadata"]["uid"].as_str().map(str::to_string);
            // A dry-run create stores nothing, so there is no status to write yet.
            if let WriteMode::Backed(_) = mode {
                let name = created["metadata"]["name"].as_str().unwrap_or(&target.name);
                let path = target
                    .resource
                    .object_path(target.namespace.as_deref(), name);
                if let Some(status) = status {
                    // No resourceVersion precondition: the controller may already have
                    // written the status of the new object; ours replaces it.
                    api.merge_patch(&format!("{path}/status"), &json!({"status": status}), mode)
                        .await
                        .map_err(|e| {
                            after_create(&path, "restoring its status", uid.as_deref(), e)
                        })?;
                }
                if let Some(resume) = resume {
                    api.merge_patch(&path, resume, mode)
                        .await
                        .map_err(|e| after_create(&path, "resuming it", uid.as_deref(), e))?;
                }
            }
            Ok(SentOutcome { uid })
        }
    }
}

/// An error in a step after a successful create: the object exists (suspended, for
/// a Job), which the message must say so nobody creates it twice, and its UID
/// must reach the journal so that undoing the undo finds it.
fn after_create(path: &str, step: &str, uid: Option<&str>, error: ApiError) -> ApiError {
    ApiError::CreatedButIncomplete {
        path: path.to_string(),
        step: step.to_string(),
        message: first_line(&error.to_string()).to_string(),
        uid: uid.map(str::to_string),
    }
}

/// The UID of an object a failed operation created all the same.
pub(crate) fn created_uid(error: &ApiError) -> Option<String> {
    match error {
        ApiError::CreatedButIncomplete { uid, .. } => uid.clone(),
        _ => None,
    }
}

/// Runs the operations, journalling each, with a progress bar on a terminal.
pub(super) async fn apply(
    session: &Session<'_>,
    plan: &Plan,
    bundle: &Committed,
) -> Result<Vec<OperationResult>, RemediationError> {
    let total = plan.operations.len() as u64;
    let bar = progress_bar(
        total,
        &plan.id,
        "{spinner} {msg} [{bar:30}] {pos}/{len} ({eta})",
    );
    let mut interrupt = Interrupt::watch();
    let interrupted = interrupt.flag();

    let mut results: Vec<Option<OperationResult>> = vec![None; plan.operations.len()];
    let mut journal_error = None;
    // The first journal line that cannot be written stops the sending: nothing
    // more may change without a record of it.
    let journal_failed = std::sync::atomic::AtomicBool::new(false);
    {
        let stream = futures::stream::iter(plan.operations.iter().enumerate())
            .take_while(|_| {
                let stop = interrupted.load(std::sync::atomic::Ordering::SeqCst)
                    || journal_failed.load(std::sync::atomic::Ordering::SeqCst);
                async move { !stop }
            })
            .map(|(index, op)| async move {
                (
                    index,
                    send(session.api, op, WriteMode::Backed(bundle)).await,
                )
            })
            .buffer_unordered(session.concurrency.max(1));
        let mut stream = std::pin::pin!(stream);
        loop {
            // Every answer is journalled (and synced) as it comes: on a second
            // Ctrl-C there is nothing left to flush.
            let answered = tokio::select! {
                answered = stream.next() => answered,
                () = interrupt.again() => {
                    bar.finish_and_clear();
                    let sent = results.iter().filter(|r| r.is_some()).count();
                    interrupt::quit_now(sent, results.len() - sent, &bundle.dir);
                }
            };
            let Some((index, sent)) = answered else {
                break;
            };
            let op = &plan.operations[index];
            let (outcome, message, uid) = match sent {
                Ok(sent) => (OperationOutcome::Done, String::new(), sent.uid),
                Err(error @ (ApiError::Conflict { .. } | ApiError::NotFound { .. })) => (
                    OperationOutcome::Skipped,
                    format!(
                        "changed or removed since the preview, left alone: {}",
                        first_line(&error.to_string())
                    ),
                    None,
                ),
                Err(error) => (
                    OperationOutcome::Failed,
                    first_line(&error.to_string()).to_string(),
                    created_uid(&error),
                ),
            };
            if let Err(e) = bundle.record(&JournalEntry {
                index,
                outcome,
                message: message.clone(),
                uid,
                at: jiff::Timestamp::now().to_string(),
            }) {
                journal_failed.store(true, std::sync::atomic::Ordering::SeqCst);
                journal_error.get_or_insert(e);
            }
            if outcome != OperationOutcome::Done {
                bar.suspend(|| {
                    eprintln!("  {} {}: {message}", op.action.verb(), op.target.display())
                });
            }
            results[index] = Some(OperationResult {
                target: op.target.display(),
                action: op.action.verb().into(),
                outcome: outcome.as_str().into(),
                message,
            });
            bar.inc(1);
        }
    }
    drop(interrupt);
    bar.finish_and_clear();
    // The results are kept: the report must say what was done, not "nothing".
    if let Some(error) = &journal_error {
        eprintln!("error: {}", crate::run::with_hint(error, error.hint()));
    }
    let stopped = interrupted.load(std::sync::atomic::Ordering::SeqCst) || journal_error.is_some();
    Ok(results
        .into_iter()
        .zip(&plan.operations)
        .map(|(result, op)| {
            result.unwrap_or_else(|| OperationResult {
                target: op.target.display(),
                action: op.action.verb().into(),
                outcome: "not-run".into(),
                message: if stopped {
                    "not sent; re-run to continue".into()
                } else {
                    String::new()
                },
            })
        })
        .collect())
}
