//! `kubectl apidiag undo`: restores a backup bundle. A bundle of deletes (a bulk
//! cleanup) is restored streamed and paced ([`restore`]); any other becomes a
//! plan ([`undo::plan`]) run through the guided flow.

use std::collections::BTreeMap;

use apidiag_core::backup::{self, BackupError, Bundle};
use apidiag_core::cli::GlobalArgs;
use apidiag_core::exit::Outcome;
use apidiag_core::finding::{CheckReport, Evidence, Finding, Severity};
use apidiag_core::remediation::RemediationState;
use apidiag_core::remediation::restore::{self, RestoreOptions};
use apidiag_core::remediation::undo::{self, UndoError, UndoNote};
use apidiag_core::run::with_hint;

/// `kubectl apidiag undo [BUNDLE]`: restores a bundle (default: the newest one
/// not restored yet in which something changed) through the guided flow of a fix,
/// after checking that it belongs to this cluster.
pub async fn run(bundle: Option<&str>, options: RestoreOptions, global: &GlobalArgs) -> Outcome {
    let bundle = match bundle {
        Some(name) => Bundle::open(name),
        None => backup::root().and_then(|root| match Bundle::latest_to_undo(&root) {
            Ok(Some(bundle)) => Ok(bundle),
            Ok(None) => Err(BackupError::NothingToUndo {
                root: root.display().to_string(),
            }),
            Err(error) => Err(error),
        }),
    };
    let bundle = match bundle {
        Ok(bundle) => bundle,
        Err(error) => {
            eprintln!("error: {}", with_hint(&error, error.hint()));
            return Outcome::Usage;
        }
    };
    apidiag_core::run::single(global, "undo", async |ctx, _printer| {
        let could_not = |error: &UndoError| apidiag_core::run::CheckRun {
            report: CheckReport::could_not_check(
                "undo",
                error.to_string(),
                error.hint().unwrap_or_default(),
            ),
            remediation: None,
            findings_decide: false,
        };
        let manifest = match bundle.manifest() {
            Ok(manifest) => manifest,
            Err(error) => return could_not(&error.into()),
        };
        let manifest_check = manifest.check.clone();
        match undo::verify_cluster(ctx, &manifest).await {
            Ok(Some(note)) => eprintln!("{note}"),
            Ok(None) => {}
            Err(error) => return could_not(&error),
        }
        let mut notes = Vec::new();
        let result = if restore::applies_to(&manifest) {
            // A bundle of deletes (a cleanup of thousands): streamed, paced, resumable.
            match apidiag_core::run::session(ctx, 8).await {
                Ok(session) => restore::execute(&session, &bundle, manifest, options, &mut notes)
                    .await
                    .map_err(|e| with_hint(&e, e.hint())),
                Err(message) => Err(message),
            }
        } else {
            match undo::plan(&ctx.api, &bundle).await {
                Ok((plan, found)) => {
                    notes = found;
                    apidiag_core::run::remediate(ctx, plan, 8).await
                }
                Err(error) => return could_not(&error),
            }
        };
        let mut report = CheckReport::new("undo");
        for finding in note_findings(&notes) {
            report.push(finding);
        }
        if let Ok(result) = &result
            && result.state == RemediationState::Applied
            && let Err(error) = bundle.record_restore(result.backup.as_deref())
        {
            eprintln!("warning: restored, but could not mark the bundle: {error}");
        }
        if result
            .as_ref()
            .is_ok_and(|r| r.state == RemediationState::Applied)
            && manifest_check == apidiag_webhooks::NAME
        {
            for finding in still_down(ctx).await {
                report.push(finding);
            }
        }
        apidiag_core::run::CheckRun {
            report,
            remediation: Some(result),
            findings_decide: false,
        }
    })
    .await
}

/// After a webhook fix is undone the webhook is back as it was, failing closed if
/// its backend is still down: the webhooks check runs again and says so, since
/// the undo has just brought the outage back.
async fn still_down(ctx: &apidiag_core::check::Context) -> Vec<Finding> {
    let (report, _) = apidiag_webhooks::diagnose(ctx).await;
    report
        .findings
        .into_iter()
        .filter(|f| f.id == "webhooks.fail-closed-backend-down")
        .map(|f| {
            Finding::new(
                "undo.webhook-still-down",
                Severity::Warning,
                format!("Restored, and still failing: {}", f.title),
            )
            .detail(
                "The undo put the webhook back as it was, and its backend is still down: the requests it \
                 intercepts fail again. Fix the backend, or apply a fix again (`kubectl apidiag webhooks`).",
            )
            .evidence(Evidence::new(
                "backend",
                f.evidence
                    .iter()
                    .find(|e| e.label == "backend")
                    .map_or(String::new(), |e| e.value.clone()),
            ))
        })
        .collect()
}

/// What needed no restoring, one finding per reason (a bundle of 20,000 objects
/// must not become 20,000 findings), with a sample of the objects.
fn note_findings(notes: &[UndoNote]) -> Vec<Finding> {
    let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for note in notes {
        by_reason.entry(&note.note).or_default().push(&note.target);
    }
    by_reason
        .into_iter()
        .map(|(reason, targets)| {
            let sample: Vec<Vec<String>> = targets
                .iter()
                .take(10)
                .map(|t| vec![t.to_string()])
                .collect();
            let title = match targets.as_slice() {
                [one] => format!("{one}: {reason}"),
                many => format!("{} objects: {reason}", many.len()),
            };
            let mut finding = Finding::new("undo.note", Severity::Info, title);
            if targets.len() > 1 {
                finding = finding.evidence(Evidence::table("objects", &["object"], sample));
            }
            finding
        })
        .collect()
}
