//! Taking a remediation back within the same run: for plans that make something
//! only to remove it again when they are done (the connectivity check's probe
//! Pods). The preview said so and the consent covered both halves, so the
//! removal is not asked again; it is the bundle's undo all the same (checked
//! against the cluster, backed up, journalled), and the bundle is marked
//! restored, so a later `kubectl apidiag undo` does not offer it.

use super::{RemediationError, RemediationResult, RemediationState, Session, send::apply, undo};
use crate::backup::Bundle;

/// Undoes what `applied` (the result of [`super::execute`]) changed, at once.
/// Nothing applied (a dry run, declined, no terminal) is nothing to take back.
pub async fn take_back(
    session: &Session<'_>,
    applied: &RemediationResult,
) -> Result<Option<RemediationResult>, RemediationError> {
    let Some(dir) = applied.backup.as_deref() else {
        return Ok(None);
    };
    let bundle = Bundle::open(dir)?;
    let (plan, _notes) = undo::plan(session.api, &bundle).await?;
    if plan.operations.is_empty() {
        bundle.record_restore(None)?;
        return Ok(Some(RemediationResult::without_changes(
            &plan,
            RemediationState::Applied,
        )));
    }
    let undo_bundle = Bundle::write(&session.backup_root, &plan, &session.origin)?;
    let operations = apply(session, &plan, &undo_bundle).await?;
    bundle.record_restore(Some(&undo_bundle.name()))?;
    Ok(Some(RemediationResult {
        id: plan.id.clone(),
        title: plan.title.clone(),
        state: RemediationState::of(&operations),
        operations,
        backup: Some(undo_bundle.dir.display().to_string()),
    }))
}
