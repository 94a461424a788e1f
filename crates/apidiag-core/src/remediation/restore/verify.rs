//! After the creates: what stayed. A restored Job whose TTL had passed is deleted
//! again by the TTL controller within a second or two, a CronJob's history limit
//! prunes the oldest again, a Pod may be evicted; "restored 2,000" would then be
//! a claim the cluster contradicts. So the restored objects are listed again
//! (metadata only, one LIST per namespace and resource, as before the restore)
//! and each create whose object is gone, or is another object now, is reported as
//! deleted again.

use std::time::Duration;

use super::{Candidate, OperationResult, RemediationError, Session, existing};
use crate::backup::{Committed, OperationOutcome};

/// How long a controller gets to act on what came back before it is listed:
/// the TTL controller and the CronJob controller react to the create event
/// itself, well within this on a healthy control plane.
pub(super) const SETTLE: Duration = Duration::from_secs(3);

/// The outcome of a create whose object a controller removed again.
pub(super) const DELETED_AGAIN: &str = "deleted-again";

/// Marks every done create whose object is no longer there as
/// [`DELETED_AGAIN`], after waiting `settle`; returns how many.
pub(super) async fn mark_deleted_again(
    session: &Session<'_>,
    undo_bundle: &Committed,
    candidates: &[Candidate],
    operations: &mut [OperationResult],
    settle: Duration,
) -> Result<usize, RemediationError> {
    let journal = undo_bundle.journal()?;
    let created: Vec<(usize, &str)> = journal
        .iter()
        .filter(|(_, e)| e.outcome == OperationOutcome::Done)
        .filter_map(|(index, e)| e.uid.as_deref().map(|uid| (*index, uid)))
        .filter(|(index, _)| *index < candidates.len())
        .collect();
    if created.is_empty() {
        return Ok(0);
    }
    tokio::time::sleep(settle).await;
    let now = existing(
        session,
        created.iter().map(|(index, _)| candidates[*index].target()),
    )
    .await?;
    let mut gone = 0;
    for (index, uid) in created {
        let target = candidates[index].target();
        let key = (
            target.resource.collection_path(target.namespace.as_deref()),
            target.name.clone(),
        );
        let stayed = now
            .get(&key)
            .is_some_and(|(found, deleting)| found == uid && !deleting);
        if !stayed && let Some(result) = operations.get_mut(index) {
            result.outcome = DELETED_AGAIN.into();
            result.message =
                "restored, then removed again by a controller (TTL, CronJob history limit, eviction)"
                    .into();
            gone += 1;
        }
    }
    Ok(gone)
}
