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

use futures::FutureExt;
use serde_json::{Value, json};

use super::{CheckSpec, Context, could_not_check};
use crate::api::ApiError;
use crate::finding::{CheckReport, Evidence, Finding, Severity, Source};
use crate::flowcontrol::{FlowControlApi, FlowSchema, PriorityLevel};
use crate::metrics;
use crate::object::{ObjectRef, ResourceType};
use crate::remediation::{Acknowledgement, Action, Operation, Plan};

pub const SPEC: CheckSpec = CheckSpec {
    name: "guard",
    about: "the AKS managed API server guard (FlowSchema/PriorityLevelConfiguration aks-managed-apiserver-guard)",
    diagnose: |ctx| async move { diagnose(ctx).await.0 }.boxed(),
};

/// The name AKS gives both guard objects.
pub const GUARD: &str = "aks-managed-apiserver-guard";
/// The label that stops AKS from reconciling the guard back to its defaults.
pub const SKIP_UPDATE_LABEL: &str = "aks-managed-skip-update-operation";
/// The kube-system event AKS records when it applies the guard.
pub const EVENT: &str = "aks-managed-apiserver-throttling-enabled";
/// The kube-system ConfigMap where AKS keeps the control plane's scaling state.
pub const SCALING_STATUS: &str = "large-cluster-control-plane-scaling-status";

const PERMISSIONS: &str = "get on flowschemas and prioritylevelconfigurations (flowcontrol.apiserver.k8s.io); get on events and configmaps in kube-system; get on the non-resource URL /metrics";

fn source() -> Source {
    Source::apiserver_etcd("Cause 4: AKS managed API server guard was applied; Solution 4")
}

/// What the diagnosis read, for the fixes to build on.
#[derive(Debug, Clone, Default)]
pub struct GuardState {
    pub api: Option<FlowControlApi>,
    pub flow_schema: Option<Value>,
    pub priority_level: Option<Value>,
}

/// The guide's fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fix {
    /// Label both objects `aks-managed-skip-update-operation=true`, so AKS keeps your changes
    SkipUpdate,
    /// Raise the guard's concurrency shares (and label it, or AKS would undo the change)
    RaiseShares,
    /// Delete both objects; only after the offending clients were fixed
    Delete,
}

impl Fix {
    pub fn id(self) -> &'static str {
        match self {
            Fix::SkipUpdate => "guard.skip-update",
            Fix::RaiseShares => "guard.raise-shares",
            Fix::Delete => "guard.delete",
        }
    }
}

/// Reads everything the guard check needs: at most 6 requests, no LISTs.
pub async fn diagnose(ctx: &Context) -> (CheckReport, GuardState) {
    let mut report = CheckReport::new("guard");
    let mut state = GuardState::default();
    let api = &ctx.api;

    let flowcontrol = match FlowControlApi::discover(api).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            report.push(
                Finding::new("guard.applied", Severity::Ok, "The AKS managed API server guard is not applied")
                    .detail("This server does not serve flowcontrol.apiserver.k8s.io (API Priority and Fairness), so no guard can exist.")
                    .source(source()),
            );
            return (report, state);
        }
        Err(error) => return (could_not_check("guard", &error, PERMISSIONS), state),
    };
    let flow_schemas = flowcontrol.flow_schemas();
    let priority_levels = flowcontrol.priority_levels();
    let (fs_path, pl_path) = (
        flow_schemas.object_path(None, GUARD),
        priority_levels.object_path(None, GUARD),
    );
    let (fs, pl) = futures::join!(
        api.get_opt::<Value>(&fs_path),
        api.get_opt::<Value>(&pl_path)
    );
    let (fs, pl) = match (fs, pl) {
        (Ok(fs), Ok(pl)) => (fs, pl),
        (Err(error), _) | (_, Err(error)) => {
            return (could_not_check("guard", &error, PERMISSIONS), state);
        }
    };

    let events = ResourceType::new("", "v1", "events", "Event", true);
    let config_maps = ResourceType::new("", "v1", "configmaps", "ConfigMap", true);
    let (event_path, scaling_path) = (
        events.object_path(Some("kube-system"), EVENT),
        config_maps.object_path(Some("kube-system"), SCALING_STATUS),
    );
    let (event, scaling, metrics_text) = futures::join!(
        api.get_opt::<Value>(&event_path),
        api.get_opt::<Value>(&scaling_path),
        api.get_text("/metrics"),
    );
    let event = keep_or_gap(
        &mut report,
        event,
        "the kube-system event `aks-managed-apiserver-throttling-enabled`",
    );
    let scaling = keep_or_gap(
        &mut report,
        scaling,
        "the kube-system ConfigMap `large-cluster-control-plane-scaling-status`",
    );
    let rejected = match metrics_text {
        Ok(text) => Some(metrics::rejected_requests(&metrics::MetricFamilies::parse(
            &text,
        ))),
        Err(error) => {
            report.gap(format!("429 counts from /metrics ({})", first_line(&error)));
            None
        }
    };

    let guard_rejections: Option<f64> = rejected.as_ref().map(|all| {
        all.iter()
            .filter(|r| r.flow_schema == GUARD || r.priority_level == GUARD)
            .map(|r| r.count)
            // Not `sum()`: an empty f64 sum is -0.0, which prints as "-0".
            .fold(0.0, |sum, count| sum + count)
    });

    if fs.is_some() || pl.is_some() {
        report.push(applied_finding(
            &flowcontrol,
            fs.as_ref(),
            pl.as_ref(),
            event.as_ref(),
            guard_rejections,
            rejected.as_deref(),
        ));
    } else {
        let mut finding = Finding::new(
            "guard.applied",
            Severity::Ok,
            "The AKS managed API server guard is not applied",
        )
        .detail(format!(
            "No FlowSchema or PriorityLevelConfiguration named `{GUARD}` (looked in {}/{}).",
            crate::flowcontrol::GROUP,
            flowcontrol.version
        ))
        .source(source());
        if let Some(event) = &event {
            finding = Finding::new(
                "guard.applied",
                Severity::Warning,
                "AKS recorded that it enabled API server throttling, but the guard objects are gone",
            )
            .detail("The event says the guard was applied; it has since been removed. If the clients that overloaded the API server were not fixed, it may come back.")
            .evidence(event_evidence(event))
            .source(source())
            .next("kubectl apidiag throttle");
        }
        report.push(finding);
    }

    if let Some(scaling) = &scaling {
        let data: Vec<Vec<String>> = scaling["data"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| vec![k.clone(), v.as_str().unwrap_or_default().to_string()])
            .collect();
        report.push(
            Finding::new("guard.scaling-status", Severity::Info, "AKS control plane scaling status")
                .detail("AKS keeps the state of its control plane scaling for large clusters in this ConfigMap; the guard is its last resort after scaling.")
                .evidence(Evidence::table(format!("kube-system/{SCALING_STATUS}"), &["key", "value"], data))
                .source(source()),
        );
    }

    state.api = Some(flowcontrol);
    state.flow_schema = fs;
    state.priority_level = pl;
    (report, state)
}

fn applied_finding(
    flowcontrol: &FlowControlApi,
    fs: Option<&Value>,
    pl: Option<&Value>,
    event: Option<&Value>,
    guard_rejections: Option<f64>,
    rejected: Option<&[metrics::Rejected]>,
) -> Finding {
    let mut finding = Finding::new(
        "guard.applied",
        Severity::Critical,
        "The AKS managed API server guard is throttling non-system clients",
    )
    .detail(
        "AKS applies the guard as a last resort when the API server keeps running out of memory after scaling failed to stabilise it. \
         Requests of the clients it matches are limited and answered with 429. Step 1: find the clients that load the API server \
         (`kubectl apidiag throttle`) and fix their LIST patterns. Step 2: reduce load, then remove the guard. \
         Do not scale straight back to the original size until the clients are fixed.",
    )
    .source(source());

    if let Some(fs) = fs {
        let schema = FlowSchema::from_value(fs);
        finding = finding
            .evidence(Evidence::new(
                "flowschema",
                format!(
                    "{GUARD} ({}/{}), precedence {}, priority level {}, distinguisher {}",
                    crate::flowcontrol::GROUP,
                    flowcontrol.version,
                    schema
                        .matching_precedence
                        .map_or("?".into(), |p| p.to_string()),
                    schema.priority_level,
                    schema.distinguisher.as_deref().unwrap_or("none")
                ),
            ))
            .evidence(Evidence::new("matches", schema.subjects.join(", ")));
        for rule in schema.rules.iter().take(4) {
            finding = finding.evidence(Evidence::new("rule", rule.clone()));
        }
    } else {
        finding = finding.evidence(Evidence::new(
            "flowschema",
            "absent (only the priority level exists)",
        ));
    }
    if let Some(pl) = pl {
        let level = PriorityLevel::from_value(pl, flowcontrol);
        finding = finding.evidence(Evidence::new(
            "priority level",
            format!(
                "{} {}: {} {}, lendable {}%, limit response {}",
                GUARD,
                level.kind,
                flowcontrol.shares_field(),
                level.shares.map_or("default".into(), |s| s.to_string()),
                level.lendable_percent.unwrap_or(0),
                level.limit_response.as_deref().unwrap_or("-")
            ),
        ));
    } else {
        finding = finding.evidence(Evidence::new(
            "priority level",
            "absent (only the flow schema exists)",
        ));
    }
    let labelled: Vec<bool> = [fs, pl].into_iter().flatten().map(has_skip_label).collect();
    let all_labelled = !labelled.is_empty() && labelled.iter().all(|l| *l);
    finding = finding.evidence(Evidence::new(
        "skip-update label",
        if all_labelled {
            format!("{SKIP_UPDATE_LABEL}=true on both objects: AKS will not reconcile them back to its defaults")
        } else if labelled.iter().any(|l| *l) {
            format!("{SKIP_UPDATE_LABEL}=true on one object only")
        } else {
            format!("{SKIP_UPDATE_LABEL} not set: AKS may reconcile any change back to its defaults")
        },
    ));
    if let Some(event) = event {
        finding = finding.evidence(event_evidence(event));
    }
    match guard_rejections {
        Some(count) => {
            finding = finding.evidence(Evidence::new(
                "429s by the guard",
                format!("{count:.0} requests rejected since the API server started (apiserver_flowcontrol_rejected_requests_total)"),
            ))
        }
        None => finding = finding.evidence(Evidence::new("429s by the guard", "unknown: /metrics not readable")),
    }
    if let Some(rejected) = rejected.filter(|r| !r.is_empty()) {
        let mut rows: Vec<&metrics::Rejected> = rejected.iter().collect();
        rows.sort_by(|a, b| b.count.total_cmp(&a.count));
        finding = finding.evidence(Evidence::table(
            "429s by flow schema",
            &["flow schema", "priority level", "reason", "rejected"],
            rows.iter()
                .take(10)
                .map(|r| {
                    vec![
                        r.flow_schema.clone(),
                        r.priority_level.clone(),
                        r.reason.as_str().to_string(),
                        format!("{:.0}", r.count),
                    ]
                })
                .collect(),
        ));
    }
    finding = finding.next("kubectl apidiag throttle");
    if !all_labelled {
        finding = finding.offer(
            Fix::SkipUpdate.id(),
            "label both objects so AKS keeps your changes",
            "kubectl apidiag guard --fix skip-update".into(),
        );
    }
    if pl.is_some() {
        finding = finding.offer(
            Fix::RaiseShares.id(),
            "raise the guard's concurrency shares",
            "kubectl apidiag guard --fix raise-shares --shares N".into(),
        );
    }
    finding.offer(
        Fix::Delete.id(),
        "delete the guard, after the clients were fixed",
        "kubectl apidiag guard --fix delete".into(),
    )
}

fn event_evidence(event: &Value) -> Evidence {
    let count = event["count"]
        .as_i64()
        .or_else(|| event["series"]["count"].as_i64());
    let last = event["lastTimestamp"]
        .as_str()
        .or_else(|| event["eventTime"].as_str())
        .or_else(|| event["metadata"]["creationTimestamp"].as_str())
        .unwrap_or("?");
    Evidence::new(
        "event",
        format!(
            "kube-system/{EVENT} ({}{}, last {last}): {}",
            event["reason"].as_str().unwrap_or("no reason"),
            count
                .map(|c| format!(", seen {c} times"))
                .unwrap_or_default(),
            event["message"].as_str().unwrap_or(""),
        ),
    )
}

fn has_skip_label(object: &Value) -> bool {
    object["metadata"]["labels"][SKIP_UPDATE_LABEL].as_str() == Some("true")
}

fn keep_or_gap(
    report: &mut CheckReport,
    result: Result<Option<Value>, ApiError>,
    what: &str,
) -> Option<Value> {
    match result {
        Ok(value) => value,
        Err(error) => {
            report.gap(format!("{what} ({})", first_line(&error)));
            None
        }
    }
}

fn first_line(error: &ApiError) -> String {
    error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Why a fix cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the guard is not applied: there is nothing to fix")]
    NotApplied,
    #[error("the guard's PriorityLevelConfiguration is absent, so there are no shares to raise")]
    NoPriorityLevel,
    #[error("--shares must be at least 1 and above the current {current}")]
    Shares { current: i64 },
}

/// Builds the plan for a fix from what the diagnosis read.
pub fn plan(
    state: &GuardState,
    fix: Fix,
    shares: Option<i64>,
    clients_fixed: bool,
) -> Result<Plan, PlanError> {
    let Some(flowcontrol) = &state.api else {
        return Err(PlanError::NotApplied);
    };
    if state.flow_schema.is_none() && state.priority_level.is_none() {
        return Err(PlanError::NotApplied);
    }
    let objects: Vec<(ResourceType, &Value)> = [
        (flowcontrol.flow_schemas(), state.flow_schema.as_ref()),
        (flowcontrol.priority_levels(), state.priority_level.as_ref()),
    ]
    .into_iter()
    .filter_map(|(resource, object)| object.map(|o| (resource, o)))
    .collect();
    let label_patch = json!({"metadata": {"labels": {SKIP_UPDATE_LABEL: "true"}}});

    let (title, warning, acknowledgements, operations) = match fix {
        Fix::SkipUpdate => (
            format!("label the FlowSchema and PriorityLevelConfiguration `{GUARD}` with {SKIP_UPDATE_LABEL}=true"),
            Some("with the label, AKS no longer manages these objects: your settings stay until you change or delete them".to_string()),
            Vec::new(),
            objects
                .iter()
                .filter(|(_, object)| !has_skip_label(object))
                .map(|(resource, object)| patch(resource, object, label_patch.clone()))
                .collect::<Vec<_>>(),
        ),
        Fix::RaiseShares => {
            let Some(pl) = &state.priority_level else {
                return Err(PlanError::NoPriorityLevel);
            };
            let current = PriorityLevel::from_value(pl, flowcontrol).shares.unwrap_or(30);
            let target = shares.unwrap_or((current * 2).max(10));
            if target < 1 || target <= current {
                return Err(PlanError::Shares { current });
            }
            let mut operations = Vec::new();
            for (resource, object) in &objects {
                let mut change = if has_skip_label(object) { json!({}) } else { label_patch.clone() };
                if resource.plural == "prioritylevelconfigurations" {
                    change["spec"] = json!({"limited": {flowcontrol.shares_field(): target}});
                }
                if change.as_object().is_some_and(|m| !m.is_empty()) {
                    operations.push(patch(resource, object, change));
                }
            }
            (
                format!("raise {}'s {} from {current} to {target} (and label both objects so AKS keeps it)", GUARD, flowcontrol.shares_field()),
                Some("more shares let throttled clients load the API server again: fix the offending clients first (`kubectl apidiag throttle`)".to_string()),
                Vec::new(),
                operations,
            )
        }
        Fix::Delete => (
            format!("delete the FlowSchema and PriorityLevelConfiguration `{GUARD}`"),
            Some("avoid scaling the cluster back to its original size until client call patterns are optimised: premature scaling may crash the API server again (guide, Solution 4)".to_string()),
            vec![Acknowledgement {
                question: "Were the clients that overloaded the API server identified and fixed (`kubectl apidiag throttle`)?".into(),
                flag: "--clients-fixed".into(),
                given: clients_fixed,
            }],
            objects
                .iter()
                .map(|(resource, object)| Operation {
                    target: ObjectRef::of(resource, object),
                    action: Action::Delete { propagation: None },
                    before: Some((*object).clone()),
                })
                .collect(),
        ),
    };
    Ok(Plan {
        check: "guard".into(),
        id: fix.id().into(),
        title,
        warning,
        acknowledgements,
        operations,
    })
}

fn patch(resource: &ResourceType, object: &Value, change: Value) -> Operation {
    Operation {
        target: ObjectRef::of(resource, object),
        action: Action::Patch { patch: change },
        before: Some(object.clone()),
    }
}

/// `kubectl apidiag guard` — flags of the guard plugin.
#[derive(Debug, clap::Parser)]
#[command(
    name = "kubectl-apidiag-guard",
    bin_name = "kubectl apidiag guard",
    version = crate::VERSION,
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
    #[command(flatten)]
    pub global: crate::cli::GlobalArgs,
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
        crate::exit::Outcome::help_table()
    )
}

/// The guard plugin: diagnose, then apply `--fix` if asked.
pub async fn run(args: Args) -> crate::exit::Outcome {
    let Args {
        global,
        fix,
        shares,
        clients_fixed,
    } = args;
    crate::run::single(&global, "guard", async |ctx, printer| {
        let (report, state) = diagnose(ctx).await;
        printer.checks(ctx, std::slice::from_ref(&report));
        let remediation = match fix {
            None => None,
            Some(fix) => match plan(&state, fix, shares, clients_fixed) {
                Ok(plan) => Some(crate::run::remediate(ctx, plan, 1).await),
                // Nothing to plan (no guard, shares not above the current ones):
                // the fix was asked for and not applied, which exit 4 says.
                Err(error) => {
                    eprintln!("{}: {error}", fix.id());
                    Some(Ok(crate::remediation::RemediationResult::not_planned(
                        fix.id(),
                        &error.to_string(),
                    )))
                }
            },
        };
        crate::run::CheckRun {
            report,
            remediation,
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(labelled: bool) -> GuardState {
        let labels = if labelled {
            json!({SKIP_UPDATE_LABEL: "true"})
        } else {
            json!({})
        };
        GuardState {
            api: Some(FlowControlApi {
                version: "v1".into(),
            }),
            flow_schema: Some(
                json!({"metadata": {"name": GUARD, "uid": "fs-uid", "resourceVersion": "10", "labels": labels},
                "spec": {"priorityLevelConfiguration": {"name": GUARD}}}),
            ),
            priority_level: Some(
                json!({"metadata": {"name": GUARD, "uid": "pl-uid", "resourceVersion": "11", "labels": labels},
                "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 5}}}),
            ),
        }
    }

    #[test]
    fn skip_update_labels_only_what_is_unlabelled() {
        let plan = plan(&state(false), Fix::SkipUpdate, None, false).unwrap();
        assert_eq!(plan.operations.len(), 2);
        assert_eq!(
            plan.operations[0].target.resource_version.as_deref(),
            Some("10")
        );
        let plan = super::plan(&state(true), Fix::SkipUpdate, None, false).unwrap();
        assert!(plan.operations.is_empty());
    }

    #[test]
    fn raise_shares_uses_the_served_field_and_labels() {
        let plan = plan(&state(false), Fix::RaiseShares, Some(40), false).unwrap();
        let pl_patch = plan
            .operations
            .iter()
            .find(|o| o.target.resource.plural == "prioritylevelconfigurations")
            .map(|o| o.action.clone())
            .unwrap();
        assert_eq!(
            pl_patch,
            Action::Patch {
                patch: json!({"metadata": {"labels": {SKIP_UPDATE_LABEL: "true"}}, "spec": {"limited": {"nominalConcurrencyShares": 40}}})
            }
        );
        assert!(matches!(
            super::plan(&state(false), Fix::RaiseShares, Some(3), false),
            Err(PlanError::Shares { current: 5 })
        ));
        // Default: double the current shares.
        let plan = super::plan(&state(true), Fix::RaiseShares, None, false).unwrap();
        assert_eq!(plan.operations.len(), 1);
        assert!(plan.title.contains("from 5 to 10"), "{}", plan.title);
    }

    #[test]
    fn delete_needs_the_clients_fixed_acknowledgement() {
        let plan = plan(&state(false), Fix::Delete, None, false).unwrap();
        assert_eq!(plan.operations.len(), 2);
        assert_eq!(plan.acknowledgements.len(), 1);
        assert!(!plan.acknowledgements[0].given);
        assert!(plan.warning.as_deref().unwrap_or("").contains("scaling"));
        assert_eq!(plan.operations[1].target.uid.as_deref(), Some("pl-uid"));
    }

    #[test]
    fn nothing_to_fix_without_a_guard() {
        let empty = GuardState {
            api: Some(FlowControlApi {
                version: "v1".into(),
            }),
            ..Default::default()
        };
        assert!(matches!(
            plan(&empty, Fix::Delete, None, true),
            Err(PlanError::NotApplied)
        ));
    }
}
