//! From what was observed to findings: which webhook blocks the cluster, the
//! proof, and the smallest safe change first.
//!
//! A fail-closed webhook whose backend is down rejects what it intercepts with
//! HTTP 500; when that includes its own replacement pods or kube-system (where
//! konnectivity-agent lives on AKS) the cluster cannot heal: the guide's Cause 2.
//! The verdicts weigh configuration (what it intercepts, how it fails), the backend
//! (is anything there), and live proof (Events, metrics): a down backend with no
//! live failure is still critical for a fail-closed webhook, because the next
//! matching request will fail. Every finding about a webhook someone reconciles
//! says who, since that owner will undo the fix.

use std::collections::BTreeMap;

use jiff::Timestamp;

use apidiag_core::finding::{Evidence, Finding, Severity, Source};

use crate::backend::BackendState;
use crate::budget::{self, LEASE_CLIENT_BUDGET_SECONDS, REQUEST_DEADLINE_SECONDS};
use crate::ca::{self, CaVerdict};
use crate::configuration::{ClientConfig, Webhook, WebhookId, is_static_name};
use crate::errors::{FailureCause, WebhookFailure};
use crate::fixes::{Fix, command};
use crate::intercepts::{
    Interception, Namespace, RequestKind, critical_requests, intercepts, intercepts_own_backend,
};
use crate::selector::Labels;

mod cluster;
#[cfg(test)]
mod tests;
mod webhook;

/// What the check read, for the judgement. Everything live is optional: the
/// server may not serve a metric, RBAC may hide Events.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub webhooks: Vec<Webhook>,
    /// Service-backed webhooks' backends, judged by [`crate::backend::judge`].
    /// URL webhooks may be absent (their [`BackendState::Url`] is derived here).
    pub backends: BTreeMap<WebhookId, Backend>,
    /// Failures read from Events (or status causes), already classified.
    pub failures: Vec<ObservedFailure>,
    /// By webhook *name* (the metrics' `name` label cannot tell configurations apart).
    pub metrics: BTreeMap<String, WebhookMetrics>,
    /// Namespace labels as read (kube-system, kube-node-lease, backends'
    /// namespaces); a namespace missing here is judged by its name label alone.
    pub namespaces: BTreeMap<String, Labels>,
    /// Whether the cluster is AKS; `None`: inferred from the AKS enforcer's
    /// fingerprints (its field manager, `kubernetes.azure.com/managedby` labels).
    pub on_aks: Option<bool>,
    /// When the check looked: certificates are judged and Events aged against it
    /// (the default, the epoch, would make every certificate not yet valid: use
    /// [`Observed::new`]).
    pub now: Timestamp,
}

impl Observed {
    /// Nothing observed yet, at `now`.
    pub fn new(now: Timestamp) -> Self {
        Observed {
            now,
            ..Observed::default()
        }
    }
}

/// Failures seen within this many seconds prove a backend unreachable now;
/// older ones (Events live an hour) only say it failed before.
pub const RECENT_FAILURE_SECONDS: i64 = 600;

/// A webhook's backend and the labels its replacement pods will carry
/// ([`crate::backend::backend_pod_labels`]), for the self-deadlock question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub state: BackendState,
    pub pod_labels: Labels,
}

/// One classified failure, aggregated (an Event's `count`, its last timestamp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedFailure {
    /// The webhook name the message names (`failed calling webhook "<name>"`);
    /// empty when it names none (a 504 from the request deadline).
    pub webhook: String,
    pub failure: WebhookFailure,
    pub count: u64,
    pub last_seen: Option<Timestamp>,
    /// Where the failed request was (the Event's namespace).
    pub namespace: Option<String>,
    /// The message, for evidence.
    pub message: String,
}

/// A webhook's metrics (`apiserver_admission_webhook_*`), since the scraped API
/// server replica started; `None` when not served.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookMetrics {
    /// `rejection_count{error_type="calling_webhook_error"}`: fail-closed failures.
    pub calling_errors: Option<f64>,
    /// `fail_open_count` (1.24+): fail-open failures, requests let through unchecked.
    pub fail_open: Option<f64>,
    /// `request_total` by `code` (1.23+; `0` is an API-server-internal error).
    pub requests_by_code: Option<BTreeMap<String, f64>>,
    /// P99 of `admission_duration_seconds`, if computable.
    pub latency_p99_seconds: Option<f64>,
}

pub(crate) fn cause2() -> Source {
    Source::apiserver_etcd(
        "Cause 2: A custom webhook causes a deadlock in API server pods; Solution 2: Delete webhook configurations",
    )
}

pub(crate) fn tunnel_source() -> Source {
    Source {
        guide: "TCP time-outs when kubectl or other third-party tools connect to the API server".into(),
        section: "Cause 1: Pods that are responsible for node-to-control plane communication aren't running".into(),
    }
}

/// Everything judged about one webhook, shared by the rules.
pub(crate) struct Judged<'a> {
    pub webhook: &'a Webhook,
    pub backend: BackendState,
    pub ca: CaVerdict,
    pub failures: Vec<&'a ObservedFailure>,
    pub metrics: Option<&'a WebhookMetrics>,
    /// Critical requests it may intercept, with the answer.
    pub critical: Vec<(RequestKind, Interception)>,
    /// Its own replacement pods (service-backed only).
    pub own_backend: Interception,
    pub platform: bool,
    /// Unreachable-backend failures seen within [`RECENT_FAILURE_SECONDS`] (or undated).
    pub recent_failures: bool,
}

impl Judged<'_> {
    /// Unreachable now: the backend is down, an in-cluster URL, recent
    /// failures say so (tunnel failures excepted: they are the tunnel's), or the
    /// fail-closed counter grew while no ready backend is known.
    pub fn down(&self) -> bool {
        let url_unresolvable =
            matches!(&self.backend, BackendState::Url(t) if t.cluster_internal) && !self.platform;
        let ready = matches!(self.backend, BackendState::Ready { .. });
        self.backend.is_down()
            || url_unresolvable
            || self.recent_failures
            || (self.calling_errors() && !ready)
    }

    /// Calls failed earlier (metrics since the API server started, older Events),
    /// though nothing shows the backend down now.
    pub fn failed_before(&self) -> bool {
        !self.down() && (self.calling_errors() || self.failures.iter().any(|f| unreachable(f)))
    }

    fn calling_errors(&self) -> bool {
        self.metrics
            .and_then(|m| m.calling_errors)
            .is_some_and(|n| n > 0.0)
    }
}

fn unreachable(f: &ObservedFailure) -> bool {
    f.failure.cause.is_unreachable() && f.failure.cause != FailureCause::Tunnel
}

fn namespace(observed: &Observed, name: &str) -> Namespace {
    match observed.namespaces.get(name) {
        Some(labels) => Namespace {
            name: name.into(),
            labels: labels.clone(),
        },
        None => Namespace::named(name),
    }
}

fn judge<'a>(
    observed: &'a Observed,
    webhook: &'a Webhook,
    criticals: &[RequestKind],
) -> Judged<'a> {
    let (backend, pod_labels) = match (observed.backends.get(&webhook.id()), &webhook.client) {
        (Some(b), _) => (b.state.clone(), b.pod_labels.clone()),
        // URL webhooks are judged from their URL alone.
        (None, client @ ClientConfig::Url(_)) => {
            (crate::backend::judge(client, None, &[], &[]), Labels::new())
        }
        (None, _) => (
            BackendState::Unknown {
                reason: "not read".into(),
            },
            Labels::new(),
        ),
    };
    let failures: Vec<&ObservedFailure> = observed
        .failures
        .iter()
        .filter(|f| f.webhook == webhook.name)
        .collect();
    let now = observed.now.as_second();
    let recent_failures = failures.iter().any(|f| {
        unreachable(f)
            && f.last_seen
                .is_none_or(|t| now - t.as_second() <= RECENT_FAILURE_SECONDS)
    });
    let own_backend = match &webhook.client {
        ClientConfig::Service { namespace: ns, .. } => {
            intercepts_own_backend(webhook, &namespace(observed, ns), &pod_labels)
        }
        _ => Interception::No,
    };
    Judged {
        webhook,
        ca: ca::judge(&webhook.ca_bundle, observed.now),
        failures,
        recent_failures,
        metrics: observed.metrics.get(&webhook.name),
        critical: criticals
            .iter()
            .map(|r| (r.clone(), intercepts(webhook, r)))
            .filter(|(_, i)| i.possible())
            .collect(),
        own_backend,
        platform: webhook.owners.iter().any(|o| o.platform),
        backend,
    }
}

/// The findings of the webhooks check.
pub fn findings(observed: &Observed) -> Vec<Finding> {
    let kube_system = namespace(observed, "kube-system");
    let node_lease = namespace(observed, "kube-node-lease");
    let criticals = critical_requests(&kube_system, &node_lease);
    let judged: Vec<Judged<'_>> = observed
        .webhooks
        .iter()
        .map(|w| judge(observed, w, &criticals))
        .collect();
    let on_aks = observed.on_aks.unwrap_or_else(|| {
        observed.webhooks.iter().any(|w| w.aks_enforcer_managed)
            || observed
                .namespaces
                .values()
                .any(|l| l.contains_key("kubernetes.azure.com/managedby"))
    });

    let mut found = Vec::new();
    for j in &judged {
        found.extend(webhook::findings(j, on_aks));
    }
    found.extend(cluster::lease_timeouts(
        &observed.webhooks,
        &kube_system,
        &node_lease,
    ));
    found.extend(cluster::chained_budget(
        &observed.webhooks,
        &criticals,
        &observed.failures,
    ));
    found.extend(cluster::tunnel(&judged, &observed.failures));
    found.extend(cluster::unlisted(&observed.webhooks, observed));
    found.extend(cluster::rejections(&observed.failures));
    if !found.iter().any(|f| f.severity > Severity::Ok) {
        found.push(healthy(&judged));
    }
    found.extend(cluster::platform_owned(&judged));
    found.sort_by_key(|f| std::cmp::Reverse(f.severity));
    found
}

fn healthy(judged: &[Judged<'_>]) -> Finding {
    if judged.is_empty() {
        return Finding::new("webhooks.healthy", Severity::Ok, "No admission webhook is configured")
            .detail("Without Mutating or ValidatingWebhookConfigurations nothing can block requests in admission.")
            .source(cause2());
    }
    let service_backed: Vec<&Judged<'_>> = judged
        .iter()
        .filter(|j| matches!(j.webhook.client, ClientConfig::Service { .. }))
        .collect();
    let ready = service_backed
        .iter()
        .filter(|j| matches!(j.backend, BackendState::Ready { .. }))
        .count();
    let unread = service_backed
        .iter()
        .filter(|j| matches!(j.backend, BackendState::Unknown { .. }))
        .count();
    let mut detail =
        "No fail-closed webhook is down, intercepts its own backend or what the cluster \
needs to heal itself, or holds lease renewals too long."
            .to_string();
    if unread > 0 {
        detail.push_str(&format!(
            " {unread} service backends were not read, so their state is unknown."
        ));
    }
    Finding::new(
        "webhooks.healthy",
        Severity::Ok,
        format!(
            "{} admission webhooks checked: none blocks the cluster",
            judged.len()
        ),
    )
    .detail(detail)
    .evidence(Evidence::new(
        "ready backends",
        format!(
            "{ready} of {} service-backed webhooks",
            service_backed.len()
        ),
    ))
    .source(cause2())
}

/// The webhook line of every finding about one webhook.
pub(crate) fn webhook_evidence(w: &Webhook) -> Evidence {
    let policy = match (w.fails_closed(), w.failure_policy_explicit) {
        (true, true) => "Fail",
        (true, false) => "Fail (the v1 default)",
        (false, true) => "Ignore",
        (false, false) => "Ignore (the v1beta1 default)",
    };
    let conditions = match w.match_conditions {
        0 => String::new(),
        n => format!(", {n} matchConditions"),
    };
    Evidence::new(
        "webhook",
        format!(
            "{} ({}), failurePolicy {policy}, timeout {}s{conditions}",
            w.id(),
            w.version,
            w.timeout_seconds
        ),
    )
}

/// The owner lines, and the fix offers unless the platform owns it.
pub(crate) fn with_owner_and_fixes(mut finding: Finding, w: &Webhook, fixes: &[Fix]) -> Finding {
    for owner in &w.owners {
        finding = finding.evidence(Evidence::new("reconciled by", owner.warning()));
    }
    if w.owners.iter().any(|o| o.platform) || w.is_static() {
        let detail = format!(
            "{} This webhook belongs to the platform: report it to its owner rather than editing it.",
            finding.detail
        );
        return finding.detail(detail);
    }
    for fix in fixes {
        finding = finding.offer(fix.id(), fix.title(), command(*fix, &w.name));
    }
    finding
}

/// A table of observed failures: cause, count, last seen, namespace, message.
pub(crate) fn failure_table(failures: &[&ObservedFailure]) -> Option<Evidence> {
    if failures.is_empty() {
        return None;
    }
    let rows = failures
        .iter()
        .map(|f| {
            vec![
                f.failure.cause.label().to_string(),
                f.count.to_string(),
                f.last_seen.map(|t| t.to_string()).unwrap_or_default(),
                f.namespace.clone().unwrap_or_default(),
                f.message.chars().take(200).collect(),
            ]
        })
        .collect();
    Some(Evidence::table(
        "failures seen",
        &["cause", "count", "last seen", "namespace", "message"],
        rows,
    ))
}

pub(crate) fn metrics_evidence(m: Option<&WebhookMetrics>) -> Vec<Evidence> {
    let Some(m) = m else { return Vec::new() };
    let mut out = Vec::new();
    if let Some(n) = m.calling_errors.filter(|n| *n > 0.0) {
        out.push(Evidence::new("fail-closed rejections", format!("{n} since the API server started (apiserver_admission_webhook_rejection_count, calling_webhook_error)")));
    }
    if let Some(n) = m.fail_open.filter(|n| *n > 0.0) {
        out.push(Evidence::new("failed open", format!("{n} calls failed and were let through (apiserver_admission_webhook_fail_open_count)")));
    }
    if let Some(codes) = &m.requests_by_code {
        let bad: Vec<String> = codes
            .iter()
            .filter(|(c, n)| c.as_str() != "200" && **n > 0.0)
            .map(|(c, n)| format!("{c}: {n}"))
            .collect();
        if !bad.is_empty() {
            out.push(Evidence::new(
                "non-200 calls",
                format!(
                    "{} (apiserver_admission_webhook_request_total by code)",
                    bad.join(", ")
                ),
            ));
        }
    }
    if let Some(p99) = m.latency_p99_seconds {
        out.push(Evidence::new("latency P99", format!("{p99:.3}s")));
    }
    out
}

/// Used by the budget rule: the lease request kinds whose clients give up at 10 s.
pub(crate) fn lease_budget_reached(
    webhooks: &[Webhook],
    request: &RequestKind,
) -> Option<budget::Budget> {
    let b = budget::chain(webhooks, request);
    let limit = if request.resource == "leases" {
        LEASE_CLIENT_BUDGET_SECONDS
    } else {
        REQUEST_DEADLINE_SECONDS
    };
    b.reaches(limit).then_some(b)
}

pub(crate) fn is_static(name: &str) -> bool {
    is_static_name(name)
}
