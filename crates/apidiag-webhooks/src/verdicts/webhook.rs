//! The findings about one webhook: blocking, self-deadlock, system reach,
//! failing open, TLS, the AKS enforcer opt-out.

use apidiag_core::finding::{Evidence, Finding, Severity};

use super::{
    Judged, ObservedFailure, cause2, failure_table, metrics_evidence, webhook_evidence,
    with_owner_and_fixes,
};
use crate::ca::CaVerdict;
use crate::configuration::ClientConfig;
use crate::errors::FailureCause;
use crate::fixes::Fix;
use crate::intercepts::{Interception, catches_all};

fn critical_list(j: &Judged<'_>) -> String {
    let mut list: Vec<String> = j
        .critical
        .iter()
        .map(|(r, i)| match i {
            Interception::MaybeConditions => {
                format!("{} (unless its matchConditions exclude it)", r.describe())
            }
            _ => r.describe(),
        })
        .collect();
    if catches_all(j.webhook) {
        list.insert(0, "every resource (`*`)".into());
    }
    list.join(", ")
}

/// The findings about one webhook: blocking, self-deadlock, system reach, failing
/// open, TLS, AKS enforcer opt-out.
pub(super) fn findings(j: &Judged<'_>, on_aks: bool) -> Vec<Finding> {
    let w = j.webhook;
    let mut out = Vec::new();
    let down = j.down();
    let self_deadlock = j.own_backend.possible() && w.fails_closed();
    let fixes_first_safe = [Fix::FailOpen, Fix::ExcludeSystem, Fix::Delete];

    if down && w.fails_closed() {
        let mut title = format!(
            "Fail-closed webhook {} cannot be reached: every request it intercepts is rejected",
            w.name
        );
        if self_deadlock {
            title = format!(
                "Fail-closed webhook {} cannot be reached and blocks its own replacement pods: deadlock",
                w.name
            );
        }
        let mut detail = "With failurePolicy Fail, a webhook whose backend is down answers every request it intercepts with HTTP 500 \
(`failed calling webhook`). The guide's Cause 2: if it intercepts the pods that would bring it (or konnectivity) back, the cluster \
cannot heal. Smallest safe change first: fail open (failurePolicy Ignore) on this webhook; then exclude the system namespaces; \
deleting the configuration (Solution 2) is the last resort. Webhook configurations are never sent to webhooks, so these changes \
go through even now (static manifest webhooks aside).".to_string();
        if !j.critical.is_empty() {
            detail.push_str(&format!(
                " It intercepts what the cluster needs: {}.",
                critical_list(j)
            ));
        }
        let mut f = Finding::new(
            "webhooks.fail-closed-backend-down",
            Severity::Critical,
            title,
        )
        .detail(detail)
        .evidence(webhook_evidence(w))
        .evidence(Evidence::new("backend", j.backend.describe()));
        if self_deadlock && let Some(ns) = w.service_namespace() {
            f = f.evidence(Evidence::new("self-interception", format!("pod CREATE in {ns} with its backend's labels is sent to this webhook: replacement pods are rejected too")));
        }
        if let Some(table) = failure_table(&j.failures) {
            f = f.evidence(table);
        }
        for e in metrics_evidence(j.metrics) {
            f = f.evidence(e);
        }
        out.push(with_owner_and_fixes(
            f.source(cause2()),
            w,
            &fixes_first_safe,
        ));
    } else if self_deadlock {
        let ns = w.service_namespace().unwrap_or_default();
        let f = Finding::new("webhooks.blocks-own-backend", Severity::Warning,
            format!("Fail-closed webhook {} intercepts its own replacement pods in {ns}", w.name))
            .detail("If its backend ever goes down, the pods that would replace it are rejected by the webhook itself: the \
deadlock of the guide's Cause 2. Exclude its own namespace (and the system namespaces), or fail open.")
            .evidence(webhook_evidence(w))
            .evidence(Evidence::new("backend", j.backend.describe()))
            .source(cause2());
        out.push(with_owner_and_fixes(
            f,
            w,
            &[Fix::ExcludeSystem, Fix::FailOpen],
        ));
    }

    // The platform's own fail-closed webhooks (AKS's node webhook) are by design.
    if !down && w.fails_closed() && !j.critical.is_empty() && !j.platform {
        let mut detail = format!(
            "It intercepts {}. If its backend fails, kube-system pods (konnectivity-agent, CoreDNS), node heartbeats or \
leader election fail with it, and the cluster may not be able to bring the webhook back (the guide's Cause 2).",
            critical_list(j)
        );
        if w.aks_enforcer_opt_out && on_aks {
            detail.push_str(" It opts out of the AKS Admissions Enforcer, so AKS does not keep kube-system out of it.");
        }
        let f = Finding::new(
            "webhooks.system-fail-closed",
            Severity::Warning,
            format!(
                "Fail-closed webhook {} intercepts requests the cluster needs to heal itself",
                w.name
            ),
        )
        .detail(detail)
        .evidence(webhook_evidence(w))
        .evidence(Evidence::new("backend", j.backend.describe()))
        .source(cause2());
        out.push(with_owner_and_fixes(
            f,
            w,
            &[Fix::ExcludeSystem, Fix::FailOpen],
        ));
    }

    if w.fails_closed() && j.failed_before() {
        let mut f = Finding::new(
            "webhooks.failed-before",
            Severity::Warning,
            format!("Fail-closed webhook {} failed calls earlier; its backend looks ready now", w.name),
        )
        .detail(
            "The API server could not reach this webhook before (its fail-closed rejection counter, \
or Events older than a few minutes), and rejected what it intercepted. Nothing shows it down now; if it \
fails again it blocks again. Check what restarted or was unreachable.",
        )
        .evidence(webhook_evidence(w))
        .evidence(Evidence::new("backend", j.backend.describe()));
        if let Some(table) = failure_table(&j.failures) {
            f = f.evidence(table);
        }
        for e in metrics_evidence(j.metrics) {
            f = f.evidence(e);
        }
        out.push(with_owner_and_fixes(
            f.source(cause2()),
            w,
            &[Fix::ExcludeSystem],
        ));
    }

    let fail_open = j.metrics.and_then(|m| m.fail_open).is_some_and(|n| n > 0.0);
    if !w.fails_closed() && (down || fail_open) {
        let mut f = Finding::new("webhooks.failing-open", Severity::Warning,
            format!("Fail-open webhook {} is failing: requests pass without its checks", w.name))
            .detail("With failurePolicy Ignore a failing webhook lets requests through unchecked (a silent policy bypass), and each call \
still costs up to its timeout when the backend hangs. Fix the backend; shorten the timeout if it hangs.")
            .evidence(webhook_evidence(w))
            .evidence(Evidence::new("backend", j.backend.describe()));
        if let Some(table) = failure_table(&j.failures) {
            f = f.evidence(table);
        }
        for e in metrics_evidence(j.metrics) {
            f = f.evidence(e);
        }
        out.push(with_owner_and_fixes(
            f.source(cause2()),
            w,
            &[Fix::ShortenTimeout],
        ));
    }

    if let Some(f) = tls(j) {
        out.push(f);
    }
    if w.aks_enforcer_opt_out && on_aks {
        let reaches_system = j
            .critical
            .iter()
            .any(|(r, _)| r.resource == "pods" || r.resource == "leases");
        let severity = if w.fails_closed() && reaches_system {
            Severity::Warning
        } else {
            Severity::Info
        };
        let f = Finding::new("webhooks.aks-enforcer-opt-out", severity,
            format!("Webhook {} opts out of the AKS Admissions Enforcer", w.name))
            .detail("AKS's Admissions Enforcer keeps kube-system and AKS namespaces out of every webhook, except those labelled or \
annotated `admissions.enforcer/disabled: true` (Kyverno ≥ 1.12 sets it by default). A fail-closed opted-out webhook can block \
kube-system and konnectivity: the guide's scenario.")
            .evidence(webhook_evidence(w))
            .source(cause2());
        out.push(if severity == Severity::Warning {
            with_owner_and_fixes(f, w, &[Fix::ExcludeSystem])
        } else {
            f
        });
    }
    out
}

fn tls(j: &Judged<'_>) -> Option<Finding> {
    let w = j.webhook;
    let service_backed = matches!(w.client, ClientConfig::Service { .. });
    let seen: Vec<&&ObservedFailure> = j
        .failures
        .iter()
        .filter(|f| matches!(f.failure.cause, FailureCause::Tls { .. }))
        .collect();
    let breaks = j.ca.unusable() || j.ca.empty_is_a_problem(service_backed) || !seen.is_empty();
    let weak = matches!(&j.ca, CaVerdict::Certificates { problems, .. } if !problems.is_empty());
    if !breaks && !weak {
        return None;
    }
    let severity = if breaks && w.fails_closed() {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let mut f = Finding::new("webhooks.tls", severity, format!("Webhook {} has a TLS problem: {}", w.name, j.ca.summary()))
        .detail("The API server verifies the webhook's serving certificate with the caBundle (or, if it is empty, its own system roots). \
An expired, unparsable or wrong bundle fails every call with `x509:` errors. If cert-manager's cainjector or the webhook's \
controller manages the bundle, check its Certificate and restart the injector rather than editing the bundle.")
        .evidence(webhook_evidence(w))
        .evidence(Evidence::new("caBundle", j.ca.summary()));
    if !seen.is_empty() {
        let owned: Vec<&ObservedFailure> = seen.into_iter().copied().collect();
        if let Some(table) = failure_table(&owned) {
            f = f.evidence(table);
        }
    }
    let fixes: &[Fix] = if breaks && w.fails_closed() {
        &[Fix::FailOpen]
    } else {
        &[]
    };
    Some(with_owner_and_fixes(f.source(cause2()), w, fixes))
}
