//! The findings about the webhooks together: leases, the chained budget, the
//! tunnel, webhooks not in the API, rejections, platform-owned webhooks.

use std::collections::BTreeSet;

use apidiag_core::finding::{Evidence, Finding, Severity};

use super::{
    Judged, Observed, ObservedFailure, cause2, failure_table, is_static, lease_budget_reached,
    tunnel_source,
};
use crate::backend::BackendState;
use crate::budget::{LEASE_TIMEOUT_LIMIT_SECONDS, slow_on};
use crate::configuration::Webhook;
use crate::errors::FailureCause;
use crate::fixes::Fix;
use crate::intercepts::{Namespace, RequestKind};

/// `webhooks.lease-timeout`: any webhook on leases above 3 s, whatever its policy.
pub(super) fn lease_timeouts(
    webhooks: &[Webhook],
    kube_system: &Namespace,
    node_lease: &Namespace,
) -> Option<Finding> {
    let mut slow: Vec<(&Webhook, String)> = Vec::new();
    for request in [
        RequestKind::lease_update(node_lease.clone()),
        RequestKind::lease_update(kube_system.clone()),
    ] {
        for (id, _) in slow_on(webhooks, &request) {
            if !slow.iter().any(|(w, _)| w.id() == id)
                && let Some(w) = webhooks.iter().find(|w| w.id() == id)
            {
                slow.push((w, request.describe()));
            }
        }
    }
    if slow.is_empty() {
        return None;
    }
    let rows = slow
        .iter()
        .map(|(w, request)| {
            let owners: Vec<&str> = w.owners.iter().map(|o| o.owner.as_str()).collect();
            vec![
                w.id().to_string(),
                format!("{}s", w.timeout_seconds),
                request.clone(),
                owners.join(", "),
            ]
        })
        .collect();
    let mut f = Finding::new(
        "webhooks.lease-timeout",
        Severity::Warning,
        format!(
            "{} webhooks intercept lease renewals with a timeout above {LEASE_TIMEOUT_LIMIT_SECONDS}s",
            slow.len()
        ),
    )
    .detail(
        "Kubelet heartbeats and leader election renew leases within 10 s. One hanging webhook with the default \
10 s timeout makes nodes NotReady and controllers lose leadership, even with failurePolicy Ignore \
(kubernetes/kubernetes#90217). Gardener allows at most 3 s on leases. An owner listed will revert the change.",
    )
    .evidence(Evidence::table(
        "webhooks on leases",
        &["webhook", "timeout", "request", "reconciled by"],
        rows,
    ))
    .source(cause2());
    // Offer the fixes for the first webhook we may edit (the platform's are not ours).
    if let Some((w, _)) = slow
        .iter()
        .find(|(w, _)| !w.owners.iter().any(|o| o.platform))
    {
        for fix in [Fix::ShortenTimeout, Fix::ExcludeSystem] {
            f = f.offer(fix.id(), fix.title(), crate::fixes::command(fix, &w.name));
        }
    }
    Some(f)
}

/// `webhooks.chained-timeout`: the worst case of a critical request (or a pod
/// create anywhere) reaches its client's budget, or 504s were seen.
pub(super) fn chained_budget(
    webhooks: &[Webhook],
    criticals: &[RequestKind],
    failures: &[ObservedFailure],
) -> Option<Finding> {
    let mut requests = criticals.to_vec();
    requests.push(RequestKind::pod_create(Namespace::named("default")));
    let over: Vec<_> = requests
        .iter()
        .filter_map(|r| lease_budget_reached(webhooks, r))
        .collect();
    let deadlines: u64 = failures
        .iter()
        .filter(|f| f.failure.cause == FailureCause::RequestDeadline)
        .map(|f| f.count)
        .sum();
    if over.is_empty() && deadlines == 0 {
        return None;
    }
    let mut f = Finding::new("webhooks.chained-timeout", Severity::Warning,
        "The webhooks' chained timeouts can exhaust a request's deadline")
        .detail("Mutating webhooks run in sequence (IfNeeded ones may run twice), validating ones in parallel; a hanging backend costs \
each call its whole timeout. When the sum reaches the request's deadline (60 s, 10 s for lease renewals) the request fails with \
504 even if every webhook is Ignore (kubernetes/kubernetes#128162). Shorten the timeouts.")
        .source(cause2());
    for b in &over {
        f = f.evidence(Evidence::new(
            b.request.describe(),
            format!("worst case {}s", b.worst_case_seconds),
        ));
    }
    if let Some(b) = over.first() {
        f = f.evidence(Evidence::table(
            format!("chain for {}", b.request.describe()),
            &["webhook", "phase", "timeout", "note"],
            b.rows(),
        ));
    }
    if deadlines > 0 {
        f = f.evidence(Evidence::new("504s seen", format!("{deadlines} requests failed with `request did not complete within requested timeout`")));
    }
    // Offer the fix for the slowest webhook of the chain that we may edit.
    let slowest = over
        .first()
        .into_iter()
        .flat_map(|b| b.mutating.iter().chain(&b.validating))
        .filter_map(|step| webhooks.iter().find(|w| w.id() == step.webhook))
        .filter(|w| !w.owners.iter().any(|o| o.platform))
        // The first of equals: the earliest in the chain.
        .min_by_key(|w| std::cmp::Reverse(w.timeout_seconds));
    if let Some(w) = slowest {
        f = f.offer(
            Fix::ShortenTimeout.id(),
            Fix::ShortenTimeout.title(),
            crate::fixes::command(Fix::ShortenTimeout, &w.name),
        );
    }
    Some(f)
}

/// `webhooks.tunnel`: failures through the control-plane-to-node tunnel.
pub(super) fn tunnel(judged: &[Judged<'_>], failures: &[ObservedFailure]) -> Option<Finding> {
    let tunnel: Vec<&ObservedFailure> = failures
        .iter()
        .filter(|f| f.failure.cause == FailureCause::Tunnel)
        .collect();
    if tunnel.is_empty() {
        return None;
    }
    // A tunnel failure without a webhook name (a log line) still counts as one.
    let names: BTreeSet<&str> = tunnel
        .iter()
        .map(|f| f.webhook.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    let fail_closed = judged
        .iter()
        .any(|j| names.contains(j.webhook.name.as_str()) && j.webhook.fails_closed())
        || names
            .iter()
            .any(|n| !judged.iter().any(|j| j.webhook.name == *n));
    // A fail-closed one on kube-system pod creation may be why the tunnel is down:
    // konnectivity-agent pods cannot be created (the guide's Cause 2).
    let blocking_agents = judged.iter().find(|j| {
        names.contains(j.webhook.name.as_str())
            && j.webhook.fails_closed()
            && !j.platform
            && j.critical
                .iter()
                .any(|(r, _)| r.resource == "pods" && r.subresource.is_empty())
    });
    let blocks_agents = blocking_agents.is_some();
    let mut detail = "The API server reaches service webhooks through the control-plane-to-node tunnel (konnectivity on AKS). \
`tunnel-uds`, `proxysocket` or `No agent available` mean the tunnel failed, not necessarily the webhook: check it with \
`kubectl apidiag connectivity`.".to_string();
    if blocks_agents {
        detail.push_str(" The failing webhook is fail-closed and intercepts pod creation in kube-system, where konnectivity-agent runs: \
it may be why the tunnel cannot come back (the guide's Cause 2). Failing it open breaks the loop.");
    }
    let mut f = Finding::new(
        "webhooks.tunnel",
        if fail_closed {
            Severity::Critical
        } else {
            Severity::Warning
        },
        match names.iter().copied().collect::<Vec<_>>().join(", ") {
            list if list.is_empty() => {
                "Webhook calls fail in the control-plane-to-node tunnel".to_string()
            }
            list => format!("Webhook calls fail in the control-plane-to-node tunnel ({list})"),
        },
    )
    .detail(detail)
    .source(tunnel_source())
    .next("kubectl apidiag connectivity");
    if let Some(table) = failure_table(&tunnel) {
        f = f.evidence(table);
    }
    if let Some(j) = blocking_agents {
        f = f.offer(
            Fix::FailOpen.id(),
            Fix::FailOpen.title(),
            crate::fixes::command(Fix::FailOpen, &j.webhook.name),
        );
    }
    Some(f)
}

/// `webhooks.unlisted`: webhooks that fail or are measured but not in the API:
/// static manifest webhooks (1.36+), or configurations deleted since.
pub(super) fn unlisted(webhooks: &[Webhook], observed: &Observed) -> Option<Finding> {
    let known: BTreeSet<&str> = webhooks.iter().map(|w| w.name.as_str()).collect();
    let names: BTreeSet<&str> = observed
        .failures
        .iter()
        .map(|f| f.webhook.as_str())
        .filter(|n| !n.is_empty())
        .chain(observed.metrics.keys().map(String::as_str))
        .chain(
            webhooks
                .iter()
                .filter(|w| w.is_static())
                .map(|w| w.name.as_str()),
        )
        .filter(|n| !known.contains(n) || webhooks.iter().any(|w| w.name == *n && w.is_static()))
        .collect();
    if names.is_empty() {
        return None;
    }
    let rows = names
        .iter()
        .map(|n| {
            vec![
                n.to_string(),
                if is_static(n) {
                    "static manifest webhook".into()
                } else {
                    "not in the API".into()
                },
            ]
        })
        .collect();
    Some(
        Finding::new("webhooks.unlisted", Severity::Info, format!("{} webhooks are called but not listed by the API", names.len()))
            .detail("Static (manifest-based) webhooks (1.36+, names ending `.static.k8s.io`) are loaded from the control plane's disk: \
no API call can delete or patch them, and they are evaluated even on webhook configurations. Other names may belong to \
configurations deleted since the API server started (the metrics keep counting them).")
            .evidence(Evidence::table("webhooks", &["name", "what"], rows))
            .source(cause2()),
    )
}

/// `webhooks.rejecting`: the webhook answered and denied: policy, not an outage.
pub(super) fn rejections(failures: &[ObservedFailure]) -> Option<Finding> {
    let denied: Vec<&ObservedFailure> = failures
        .iter()
        .filter(|f| matches!(f.failure.cause, FailureCause::Rejected { .. }))
        .collect();
    let table = failure_table(&denied)?;
    Some(
        Finding::new("webhooks.rejecting", Severity::Info, format!("{} requests were denied by webhook policy", denied.iter().map(|f| f.count).sum::<u64>()))
            .detail("These webhooks answered and said no: their policy decided, nothing is down. Fix the objects, or the policy.")
            .evidence(table)
            .source(cause2()),
    )
}

/// `webhooks.platform-owned`: not ours to change (ok: context only).
pub(super) fn platform_owned(judged: &[Judged<'_>]) -> Option<Finding> {
    let rows: Vec<Vec<String>> = judged
        .iter()
        .filter(|j| j.platform)
        .map(|j| {
            let owner = j
                .webhook
                .owners
                .iter()
                .find(|o| o.platform)
                .map(|o| format!("{} ({})", o.owner, o.evidence))
                .unwrap_or_default();
            vec![
                j.webhook.id().to_string(),
                owner,
                match j.backend {
                    BackendState::Ready { .. } => "ready".into(),
                    ref b => b.describe(),
                },
            ]
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    Some(
        Finding::new(
            "webhooks.platform-owned",
            Severity::Ok,
            format!("{} webhooks belong to the platform", rows.len()),
        )
        .detail("The platform reconciles these; apidiag reports them and never edits them.")
        .evidence(Evidence::table(
            "webhooks",
            &["webhook", "owner", "backend"],
            rows,
        )),
    )
}
