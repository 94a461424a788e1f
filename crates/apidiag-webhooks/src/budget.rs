//! The chained time budget of one kind of request.
//!
//! Mutating webhooks run one after the other (configurations by name, webhooks in
//! list order); those with `reinvocationPolicy: IfNeeded` may be called a second
//! time; validating webhooks run in parallel. A hanging backend costs each call
//! `min(timeoutSeconds, 30)` (30 s is the webhook client's own timeout), so the
//! worst case is `Σ mutating + Σ IfNeeded + max validating`. When that reaches the
//! request's deadline (60 s by default) the request fails with 504 even if every
//! webhook is `Ignore` (kubernetes/kubernetes#128162). Lease renewals have a much
//! smaller budget: the kubelet's heartbeat and leader election give up after 10 s,
//! so any webhook on leases above 3 s (Gardener's limit) is a risk, whatever its
//! failurePolicy (kubernetes/kubernetes#90217).

use crate::configuration::{Kind, Reinvocation, Webhook, WebhookId};
use crate::intercepts::{Interception, RequestKind, intercepts};

/// kube-apiserver's default `--request-timeout`.
pub const REQUEST_DEADLINE_SECONDS: u32 = 60;
/// The webhook REST client's own timeout: no call lasts longer.
pub const CLIENT_TIMEOUT_SECONDS: u32 = 30;
/// Kubelet heartbeat and leader-election renew deadline.
pub const LEASE_CLIENT_BUDGET_SECONDS: u32 = 10;
/// The longest timeout a webhook on leases should have (Gardener).
pub const LEASE_TIMEOUT_LIMIT_SECONDS: u32 = 3;

/// One webhook's place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub webhook: WebhookId,
    pub timeout_seconds: u32,
    /// Counted twice (mutating, IfNeeded).
    pub reinvoked: bool,
    /// Yes, or maybe (matchConditions): the worst case counts both.
    pub interception: Interception,
}

/// The worst case of one request kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub request: RequestKind,
    /// In call order.
    pub mutating: Vec<Step>,
    pub validating: Vec<Step>,
    /// `Σ mutating + Σ IfNeeded + max validating`, each capped at 30 s.
    pub worst_case_seconds: u32,
}

impl Budget {
    /// Whether the worst case reaches `deadline` (the request then gets a 504).
    pub fn reaches(&self, deadline: u32) -> bool {
        self.worst_case_seconds >= deadline
    }

    /// A table of the chain for evidence: webhook, phase, timeout, note.
    pub fn rows(&self) -> Vec<Vec<String>> {
        let row = |phase: &str, step: &Step| {
            let mut note = Vec::new();
            if step.reinvoked {
                note.push("IfNeeded: may run twice");
            }
            if step.interception == Interception::MaybeConditions {
                note.push("if its matchConditions match");
            }
            vec![
                step.webhook.to_string(),
                phase.to_string(),
                format!("{}s", step.timeout_seconds),
                note.join(", "),
            ]
        };
        self.mutating
            .iter()
            .map(|s| row("mutating (in sequence)", s))
            .chain(
                self.validating
                    .iter()
                    .map(|s| row("validating (in parallel)", s)),
            )
            .collect()
    }
}

fn cost(step: &Step) -> u32 {
    step.timeout_seconds.min(CLIENT_TIMEOUT_SECONDS)
}

/// The chain of webhooks that may intercept `request`, and its worst case.
pub fn chain(webhooks: &[Webhook], request: &RequestKind) -> Budget {
    let mut mutating: Vec<(&Webhook, Step)> = Vec::new();
    let mut validating = Vec::new();
    for webhook in webhooks {
        let interception = intercepts(webhook, request);
        if !interception.possible() {
            continue;
        }
        let step = Step {
            webhook: webhook.id(),
            timeout_seconds: webhook.timeout_seconds,
            reinvoked: webhook.kind == Kind::Mutating
                && webhook.reinvocation == Reinvocation::IfNeeded,
            interception,
        };
        match webhook.kind {
            Kind::Mutating => mutating.push((webhook, step)),
            Kind::Validating => validating.push(step),
        }
    }
    // The order the mutating dispatcher calls them in.
    mutating
        .sort_by(|(a, _), (b, _)| (&a.configuration, a.index).cmp(&(&b.configuration, b.index)));
    let mutating: Vec<Step> = mutating.into_iter().map(|(_, s)| s).collect();
    let sequential: u32 = mutating
        .iter()
        .map(|s| cost(s) * if s.reinvoked { 2 } else { 1 })
        .sum();
    let parallel = validating.iter().map(cost).max().unwrap_or(0);
    Budget {
        request: request.clone(),
        mutating,
        validating,
        worst_case_seconds: sequential + parallel,
    }
}

/// The webhooks that may intercept `request` with a timeout above the lease
/// limit: with either failurePolicy, one hanging call can outlast a lease renewal.
pub fn slow_on(webhooks: &[Webhook], request: &RequestKind) -> Vec<(WebhookId, u32)> {
    webhooks
        .iter()
        .filter(|w| {
            w.timeout_seconds > LEASE_TIMEOUT_LIMIT_SECONDS && intercepts(w, request).possible()
        })
        .map(|w| (w.id(), w.timeout_seconds))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::configuration::parse;
    use crate::intercepts::Namespace;

    fn config(kind: Kind, name: &str, hooks: Vec<Value>) -> Vec<Webhook> {
        let object = json!({"metadata": {"name": name}, "webhooks": hooks});
        parse(&object, kind, "v1").unwrap()
    }

    fn hook(name: &str, timeout: u32, extra: Value) -> Value {
        let mut hook = json!({"name": name, "timeoutSeconds": timeout, "failurePolicy": "Ignore",
            "clientConfig": {"url": "https://x"},
            "rules": [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}]});
        if let (Some(map), Some(extra)) = (hook.as_object_mut(), extra.as_object()) {
            map.extend(extra.clone());
        }
        hook
    }

    #[test]
    fn four_ignore_webhooks_of_ten_seconds_reach_a_504_chain() {
        // kubernetes/kubernetes#128162: 4 × 10 s Ignore mutating webhooks.
        let hooks = config(
            Kind::Mutating,
            "m",
            (0..4)
                .map(|i| hook(&format!("m{i}"), 10, json!({})))
                .collect(),
        );
        let budget = chain(
            &hooks,
            &RequestKind::pod_create(Namespace::named("default")),
        );
        assert_eq!(budget.worst_case_seconds, 40);
        assert!(!budget.reaches(REQUEST_DEADLINE_SECONDS));
        assert!(
            budget.reaches(30),
            "a kubectl --request-timeout=30s gets the 504"
        );
        assert_eq!(budget.rows().len(), 4);
    }

    #[test]
    fn reinvocation_counts_twice_validating_counts_the_slowest() {
        let mut hooks = config(
            Kind::Mutating,
            "b-second",
            vec![hook("late", 10, json!({}))],
        );
        hooks.extend(config(
            Kind::Mutating,
            "a-first",
            vec![hook("early", 15, json!({"reinvocationPolicy": "IfNeeded"}))],
        ));
        hooks.extend(config(
            Kind::Validating,
            "v",
            vec![hook("v1", 30, json!({})), hook("v2", 5, json!({}))],
        ));
        let budget = chain(
            &hooks,
            &RequestKind::pod_create(Namespace::named("default")),
        );
        assert_eq!(budget.worst_case_seconds, 15 * 2 + 10 + 30);
        assert!(budget.reaches(REQUEST_DEADLINE_SECONDS));
        let order: Vec<&str> = budget
            .mutating
            .iter()
            .map(|s| s.webhook.name.as_str())
            .collect();
        assert_eq!(order, ["early", "late"], "configurations run in name order");
        assert!(budget.rows()[0][3].contains("twice"));
        assert_eq!(budget.validating.len(), 2);
    }

    #[test]
    fn timeouts_are_capped_by_the_client_and_non_matching_hooks_are_free() {
        let mut hooks = config(Kind::Mutating, "m", vec![hook("huge", 45, json!({}))]);
        hooks.extend(config(Kind::Mutating, "n", vec![hook("pods-only", 10, json!({"rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}]}))]));
        let lease = RequestKind::lease_update(Namespace::named("kube-node-lease"));
        let budget = chain(&hooks, &lease);
        assert_eq!(budget.worst_case_seconds, 30);
        assert_eq!(budget.mutating.len(), 1);
    }

    #[test]
    fn lease_timeouts_above_three_seconds_whatever_the_policy() {
        let mut hooks = config(
            Kind::Validating,
            "v",
            vec![hook("slow", 10, json!({})), hook("fast", 3, json!({}))],
        );
        hooks.extend(config(
            Kind::Validating,
            "w",
            vec![hook(
                "fail",
                5,
                json!({"failurePolicy": "Fail",
            "matchConditions": [{"name": "x", "expression": "true"}]}),
            )],
        ));
        let lease = RequestKind::lease_update(Namespace::named("kube-system"));
        let slow = slow_on(&hooks, &lease);
        let names: Vec<&str> = slow.iter().map(|(id, _)| id.name.as_str()).collect();
        assert_eq!(names, ["slow", "fail"]);
        let budget = chain(&hooks, &lease);
        assert_eq!(budget.worst_case_seconds, 10);
        assert!(budget.reaches(LEASE_CLIENT_BUDGET_SECONDS));
        assert!(
            budget
                .rows()
                .iter()
                .any(|r| r[3].contains("matchConditions"))
        );
    }
}
