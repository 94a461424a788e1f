//! `kubectl apidiag undo`: turns a backup bundle back into a plan and runs it.

use apidiag_core::backup::{self, Bundle};
use apidiag_core::cli::GlobalArgs;
use apidiag_core::exit::Outcome;
use apidiag_core::finding::CheckReport;
use apidiag_core::run::with_hint;

/// `kubectl apidiag undo [BUNDLE]`: restores a bundle (default: the newest one
/// not restored yet) through the same guided flow as a fix.
pub async fn run(bundle: Option<&str>, global: &GlobalArgs) -> Outcome {
    let bundle = match bundle {
        Some(name) => Bundle::open(name),
        None => match Bundle::latest_to_undo(&backup::root()) {
            Ok(Some(bundle)) => Ok(bundle),
            Ok(None) => {
                eprintln!(
                    "error: no backup bundle left to restore in {}\nhint: bundles are written by `--fix` runs; `kubectl apidiag backups` lists them, and `kubectl apidiag undo NAME` restores a given one",
                    backup::root().display()
                );
                return Outcome::Usage;
            }
            Err(error) => Err(error),
        },
    };
    let bundle = match bundle {
        Ok(bundle) => bundle,
        Err(error) => {
            eprintln!("error: {}", with_hint(&error, error.hint()));
            return Outcome::Usage;
        }
    };
    apidiag_core::run::single(global, "undo", async |ctx, _printer| {
        let mut report = CheckReport::new("undo");
        let (plan, notes) = match apidiag_core::remediation::undo::plan(&ctx.api, &bundle).await {
            Ok(found) => found,
            Err(error) => {
                return apidiag_core::run::CheckRun {
                    report: CheckReport::could_not_check(
                        "undo",
                        error.to_string(),
                        error.hint().unwrap_or_default(),
                    ),
                    remediation: None,
                };
            }
        };
        for note in &notes {
            report.push(apidiag_core::finding::Finding::new(
                "undo.note",
                apidiag_core::finding::Severity::Info,
                format!("{}: {}", note.target, note.note),
            ));
        }
        let result = apidiag_core::run::remediate(ctx, plan, 8).await;
        if let Ok(result) = &result
            && result.state == apidiag_core::remediation::RemediationState::Applied
            && let Err(error) = bundle.record_restore(result.backup.as_deref())
        {
            eprintln!("warning: restored, but could not mark the bundle: {error}");
        }
        apidiag_core::run::CheckRun {
            report,
            remediation: Some(result),
        }
    })
    .await
}
