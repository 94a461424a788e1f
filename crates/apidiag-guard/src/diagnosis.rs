//! The diagnosis: the guard objects in the served flowcontrol version, the AKS
//! event and scaling ConfigMap, and the 429s the guard caused (from the run's one
//! `/metrics` scrape). At most 6 requests, no LISTs.

use serde_json::Value;

use apidiag_core::api::ApiError;
use apidiag_core::check::{Context, could_not_check};
use apidiag_core::finding::{CheckReport, Evidence, Finding, Severity, Source};
use apidiag_core::flowcontrol::{FlowControlApi, FlowSchema, PriorityLevel};
use apidiag_core::object::ResourceType;
use apidiag_metrics as metrics;

use crate::Fix;

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
    let (event, scaling, metrics) = futures::join!(
        api.get_opt::<Value>(&event_path),
        api.get_opt::<Value>(&scaling_path),
        ctx.metrics(),
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
    let rejected = match metrics {
        Ok(families) => Some(metrics::rejected_requests(families)),
        Err(error) => {
            report.gap(format!("429 counts from /metrics ({})", error.first_line()));
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
            apidiag_core::flowcontrol::GROUP,
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

/// The finding's title says what is known: the guard is applied; that it
/// throttles only with the number of requests it rejected.
fn applied_title(guard_rejections: Option<f64>) -> String {
    match guard_rejections {
        Some(count) if count > 0.0 => format!(
            "The AKS managed API server guard is applied and throttling non-system clients: {} requests rejected",
            count.round()
        ),
        Some(_) => "The AKS managed API server guard is applied; it has rejected no request since the API server started".into(),
        None => "The AKS managed API server guard is applied (its 429s could not be read from /metrics)".into(),
    }
}

fn applied_finding(
    flowcontrol: &FlowControlApi,
    fs: Option<&Value>,
    pl: Option<&Value>,
    event: Option<&Value>,
    guard_rejections: Option<f64>,
    rejected: Option<&[metrics::Rejected]>,
) -> Finding {
    let mut finding = Finding::new("guard.applied", Severity::Critical, applied_title(guard_rejections))
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
                    apidiag_core::flowcontrol::GROUP,
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

pub(crate) fn has_skip_label(object: &Value) -> bool {
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
            report.gap(format!("{what} ({})", error.first_line()));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: the title said "is throttling non-system clients" while the
    /// evidence said the guard had rejected nothing.
    #[test]
    fn the_title_claims_throttling_only_with_rejections() {
        let title = applied_title(Some(389.0));
        assert!(
            title.contains("throttling") && title.contains("389 requests rejected"),
            "{title}"
        );
        let none = applied_title(Some(0.0));
        assert!(!none.contains("throttling"), "{none}");
        assert!(none.contains("rejected no request"), "{none}");
        let unknown = applied_title(None);
        assert!(
            !unknown.contains("throttling") && unknown.contains("could not be read"),
            "{unknown}"
        );
    }
}
