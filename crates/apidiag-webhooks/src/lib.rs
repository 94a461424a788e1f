//! `kubectl apidiag webhooks`: the admission webhook that blocks the cluster.
//!
//! Guide: "Troubleshoot API server and etcd problems in AKS", Cause 2 ("A custom
//! webhook causes a deadlock in API server pods") and Solution 2 ("Delete webhook
//! configurations"). A fail-closed webhook whose backend is down rejects every
//! request it intercepts with HTTP 500; when it intercepts the pods that would
//! bring its own backend (or konnectivity, or kube-system) back, the cluster cannot
//! heal itself.
//!
//! The engine here is pure: it judges the webhook configurations, Services,
//! EndpointSlices, Pods, Events and metrics as the server returned them
//! (`serde_json::Value`), with no client and no network, so every rule is unit
//! tested. [`configuration`] parses the webhooks ([`owner`]: who will undo a
//! fix), [`selector`] and [`intercepts`]
//! answer "does it intercept this request?", [`ca`] judges the caBundle,
//! [`backend`] the Service behind it, [`budget`] the chained timeouts, [`errors`]
//! classifies failure messages, [`verdicts`] turns it all into findings, and
//! [`fixes`] plans the smallest safe change first.

pub mod backend;
pub mod budget;
pub mod ca;
pub mod collect;
pub mod configuration;
pub mod errors;
pub mod fixes;
pub mod intercepts;
pub mod observe;
pub mod owner;
pub mod selector;
pub mod verdicts;

use futures::FutureExt;

use apidiag_core::check::{CheckSpec, Context, could_not_check};
use apidiag_core::cli::GlobalArgs;
use apidiag_core::exit::Outcome;
use apidiag_core::finding::CheckReport;

/// The check's name, as in `kubectl apidiag webhooks`.
pub const NAME: &str = "webhooks";

/// What this check needs to be allowed.
pub const PERMISSIONS: &str = "list on mutatingwebhookconfigurations and validatingwebhookconfigurations; \
get on services, list on endpointslices and pods in the webhooks' namespaces; list on events; get on /metrics";

/// What `kubectl apidiag` runs of this check: the diagnosis, read-only.
pub const SPEC: CheckSpec = CheckSpec {
    name: NAME,
    about: "admission webhooks that block the cluster: fail-closed webhooks whose backend is down, system interception, chained timeouts, TLS",
    diagnose: |ctx| async move { diagnose(ctx).await.0 }.boxed(),
};

/// `--fix`: the smallest safe change first.
fn parse_fix(text: &str) -> Result<fixes::Fix, String> {
    fixes::Fix::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = fixes::Fix::ALL.iter().map(|f| f.name()).collect();
        format!("`{text}` is not a fix: use one of {}", names.join(", "))
    })
}

/// `kubectl apidiag webhooks`: the check's own flags (the shared ones come from
/// [`GlobalArgs`]).
#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Find the admission webhook that blocks the cluster, prove why, and change it safely",
    long_about = "Find the admission webhook that blocks the cluster and prove why: fail-closed webhooks \
whose backend is down (no Service, no ready endpoints, a port mismatch, failures in events and metrics), \
webhooks that intercept their own backend's pods, kube-system, leases or nodes, chained timeouts that \
fail requests with 504 although every webhook is Ignore, failing Ignore webhooks (silent policy bypass), \
TLS problems of the caBundle, tunnel failures (a connectivity problem), the AKS Admissions Enforcer \
opt-out, and the owners that will revert a change.\n\n\
Without --fix the check only reads: both configuration lists, each Service, its EndpointSlices and \
Pods, Warning events and /metrics. With --fix it shows a plan with the diff, dry-runs it on the \
server, asks (or takes --yes), writes a backup, then acts; `kubectl apidiag undo` restores the \
objects exactly. The fixes, smallest first: fail-open (failurePolicy Ignore on the chosen webhooks), \
exclude-system (keep kube-system, kube-node-lease, leases and the webhook's own namespace out), \
shorten-timeout (3 s on leases, at most 15 s elsewhere), delete (the guide's Solution 2).\n\n\
Guide: Troubleshoot API server and etcd problems in AKS, Cause 2 and Solution 2.",
    after_help = after_help()
)]
pub struct Args {
    /// Apply a fix to the webhooks named by --webhook (previewed, dry-run, confirmed, backed up, undoable)
    #[arg(long, value_name = "FIX", value_parser = parse_fix, requires = "webhook")]
    pub fix: Option<fixes::Fix>,
    /// With --fix: a webhook to change, by its name in the configuration (repeatable); delete removes its whole configuration
    #[arg(long, value_name = "NAME", requires = "fix")]
    pub webhook: Vec<String>,
}

fn after_help() -> String {
    format!(
        "Examples:\n  kubectl apidiag webhooks\n  kubectl apidiag webhooks --fix fail-open --webhook mutate.kyverno.svc-fail --dry-run\n  kubectl apidiag webhooks --fix exclude-system --webhook mutate.kyverno.svc-fail\n  kubectl apidiag webhooks --fix delete --webhook mutate.kyverno.svc-fail --yes\n\nFixes: fail-open, exclude-system, shorten-timeout, delete\n\n{}",
        Outcome::help_table()
    )
}

/// Reads and judges; the collected objects come back for a fix to build on.
pub async fn diagnose(ctx: &Context) -> (CheckReport, Option<collect::Collected>) {
    let collected = match collect::collect(ctx).await {
        Ok(collected) => collected,
        Err(error) => return (could_not_check(NAME, &error, PERMISSIONS), None),
    };
    let mut report = CheckReport::new(NAME);
    let (webhooks, unparsed) = observe::webhooks(&collected);
    let metrics = match ctx.metrics().await {
        Ok(families) => Some(families),
        Err(error) => {
            report.gap(format!(
                "webhook metrics from /metrics ({})",
                error.first_line()
            ));
            None
        }
    };
    let observed = observe::observe(&collected, webhooks, metrics, jiff::Timestamp::now());
    for finding in verdicts::findings(&observed) {
        report.push(finding);
    }
    for gap in collected.gaps.iter().chain(&unparsed) {
        report.gap(gap.clone());
    }
    if collected.events_capped {
        report.gap(format!(
            "Warning events beyond the first {} (older webhook failures may be missing)",
            collect::EVENT_CAP
        ));
    }
    (report, Some(collected))
}

/// The plan of `fix` on the configurations holding the named webhooks.
fn plan(
    ctx: &Context,
    collected: &collect::Collected,
    fix: fixes::Fix,
    names: &[String],
) -> Result<apidiag_core::remediation::Plan, String> {
    let mut targets = Vec::new();
    let mut found: Vec<&String> = Vec::new();
    for (kind, list) in [
        (configuration::Kind::Mutating, &collected.mutating),
        (configuration::Kind::Validating, &collected.validating),
    ] {
        for object in list {
            let here: Vec<String> = object["webhooks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| w["name"].as_str())
                .filter(|n| names.iter().any(|wanted| wanted == n))
                .map(str::to_string)
                .collect();
            if here.is_empty() {
                continue;
            }
            found.extend(names.iter().filter(|n| here.contains(n)));
            targets.push(fixes::Target {
                kind,
                version: &collected.version,
                object,
                webhooks: here,
            });
        }
    }
    let missing: Vec<&String> = names.iter().filter(|n| !found.contains(n)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "no webhook named {} (`kubectl apidiag webhooks -v` lists them)",
            missing
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // matchConditions: beta and on by default from 1.28, GA in 1.30, v1 only.
    let minor = ctx
        .server
        .version
        .as_deref()
        .and_then(apidiag_metrics::minor_version);
    let options = fixes::FixOptions {
        match_conditions: collected.version == "v1" && minor.is_some_and(|m| m >= 28),
    };
    fixes::plan(fix, &targets, options).map_err(|e| e.to_string())
}

/// `kubectl apidiag webhooks`: diagnose, then apply `--fix` if asked.
pub async fn run(global: GlobalArgs, args: Args) -> Outcome {
    let Args { fix, webhook } = args;
    apidiag_core::run::single(&global, NAME, async |ctx, printer| {
        let (report, collected) = diagnose(ctx).await;
        printer.checks(ctx, std::slice::from_ref(&report));
        let remediation = match (fix, collected) {
            (None, _) | (_, None) => None,
            (Some(fix), Some(collected)) => Some(
                apidiag_core::run::remediate_planned(
                    ctx,
                    fix.id(),
                    plan(ctx, &collected, fix, &webhook),
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
        apidiag_core::run::check_command::<Args>(NAME).debug_assert();
    }
}
