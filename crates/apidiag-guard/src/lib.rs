//! `kubectl apidiag guard`: the AKS managed API server guard.
//!
//! Guide: "Troubleshoot API server and etcd problems in AKS", Cause 4 and Solution 4.
//! When the API server keeps running out of memory after scaling failed, AKS applies
//! a FlowSchema and a PriorityLevelConfiguration named `aks-managed-apiserver-guard`
//! that throttle non-system clients (they get 429s), records the kube-system event
//! `aks-managed-apiserver-throttling-enabled`, and keeps its scaling state in the
//! kube-system ConfigMap `large-cluster-control-plane-scaling-status`.
//!
//! The check finds all of these in whichever flowcontrol version the server serves,
//! explains what the guard matches and how hard it limits, measures its effect from
//! `apiserver_flowcontrol_rejected_requests_total`, and points to the offending
//! clients first, as the guide's step 1 says. Fixes: label both objects so AKS stops
//! reconciling them; raise the guard's concurrency shares; delete both, but only
//! after the user confirms the clients were fixed. Nothing here is AKS-only: on any
//! cluster the check looks, finds nothing, and says so.
//!
//! [`run`] is the entry point of `kubectl apidiag guard` (the suite's subcommand
//! and the `kubectl-apidiag-guard` binary); [`SPEC`] is what `kubectl apidiag`
//! runs; [`diagnosis`] reads and judges, [`fixes`] plans the guide's fixes.

pub mod diagnosis;
pub mod fixes;

use futures::FutureExt;

use apidiag_core::check::CheckSpec;
use apidiag_core::cli::GlobalArgs;
use apidiag_core::exit::Outcome;

pub use diagnosis::{EVENT, GUARD, GuardState, SCALING_STATUS, SKIP_UPDATE_LABEL, diagnose};
pub use fixes::{Fix, PlanError, plan};

/// What `kubectl apidiag` runs of this check: the diagnosis, read-only.
pub const SPEC: CheckSpec = CheckSpec {
    name: "guard",
    about: "the AKS managed API server guard (FlowSchema/PriorityLevelConfiguration aks-managed-apiserver-guard)",
    diagnose: |ctx| async move { diagnose(ctx).await.0 }.boxed(),
};

/// `kubectl apidiag guard`: the check's own flags (the shared ones come from
/// [`GlobalArgs`], flattened by whoever runs the check).
#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Find the AKS managed API server guard, explain what it throttles, and remove or relax it safely",
    long_about = "Find the AKS managed API server guard (FlowSchema and PriorityLevelConfiguration \
`aks-managed-apiserver-guard`), explain which clients it throttles and how hard, count the 429s it caused, \
and point to the clients that overloaded the API server (`kubectl apidiag throttle`).\n\n\
Without --fix the check only reads (7 requests, no LISTs). With --fix it shows a plan, dry-runs it \
on the server, asks (or takes --yes), writes a backup, then acts; `kubectl apidiag undo` restores.\n\n\
Guide: Troubleshoot API server and etcd problems in AKS, Cause 4 and Solution 4.",
    after_help = after_help()
)]
pub struct Args {
    /// Apply one of the guide's fixes (previewed, confirmed, backed up, undoable)
    #[arg(long, value_enum, value_name = "FIX")]
    pub fix: Option<Fix>,
    /// With --fix raise-shares: the new concurrency shares (default: double the current)
    #[arg(long, value_name = "N", requires = "fix", value_parser = clap::value_parser!(i64).range(1..))]
    pub shares: Option<i64>,
    /// With --fix delete --yes: confirm that the offending clients were found and fixed
    #[arg(long, requires = "fix")]
    pub clients_fixed: bool,
}

fn after_help() -> String {
    format!(
        "Examples:\n  kubectl apidiag guard\n  kubectl apidiag guard --fix skip-update --dry-run\n  kubectl apidiag guard --fix delete --yes --clients-fixed\n\n{}",
        Outcome::help_table()
    )
}

/// `kubectl apidiag guard`: diagnose, then apply `--fix` if asked.
pub async fn run(global: GlobalArgs, args: Args) -> Outcome {
    let Args {
        fix,
        shares,
        clients_fixed,
    } = args;
    apidiag_core::run::single(&global, "guard", async |ctx, printer| {
        let (report, state) = diagnose(ctx).await;
        printer.checks(ctx, std::slice::from_ref(&report));
        let remediation = match fix {
            None => None,
            // Nothing to plan (no guard, shares not above the current ones) is
            // a fix asked for and not applied, which exit 4 says.
            Some(fix) => Some(
                apidiag_core::run::remediate_planned(
                    ctx,
                    fix.id(),
                    plan(&state, fix, shares, clients_fixed),
                    1,
                )
                .await,
            ),
        };
        apidiag_core::run::CheckRun {
            report,
            remediation,
            findings_decide: false,
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        apidiag_core::run::check_command::<Args>("guard").debug_assert();
    }
}
