//! Live evidence: Events, metrics, their age, chained timeouts and names the
//! API does not list.

use serde_json::{Value, json};

use super::*;

#[test]
fn live_failures_alone_prove_a_fail_closed_webhook_down() {
    let hooks = webhooks(
        Kind::Validating,
        "v",
        json!({}),
        vec![service_hook(
            "deploy.example.com",
            "Fail",
            deployments_only(),
            json!({}),
        )],
    );
    let mut observed = observed(hooks, ready());
    observed.failures.push(failure("Internal error occurred: failed calling webhook \"deploy.example.com\": failed to call webhook: Post \"https://x.svc:443/?timeout=10s\": dial tcp 10.0.0.9:443: connect: connection refused", 3));
    let found = findings(&observed);
    assert_eq!(found[0].id, "webhooks.fail-closed-backend-down");
    assert!(!found[0].title.contains("deadlock"));
    // The fail-closed counter alone proves it only when no ready backend is known.
    let mut by_metric = observed.clone();
    by_metric.failures.clear();
    by_metric.metrics.insert(
        "deploy.example.com".into(),
        WebhookMetrics {
            calling_errors: Some(5.0),
            ..Default::default()
        },
    );
    assert_eq!(
        ids(&findings(&by_metric))[0],
        ("webhooks.failed-before", Severity::Warning)
    );
    by_metric.backends.clear();
    assert_eq!(
        findings(&by_metric)[0].id,
        "webhooks.fail-closed-backend-down"
    );
}

#[test]
fn old_failures_say_it_failed_before_not_that_it_is_down() {
    let hooks = webhooks(
        Kind::Validating,
        "v",
        json!({}),
        vec![service_hook(
            "deploy.example.com",
            "Fail",
            deployments_only(),
            json!({}),
        )],
    );
    let mut observed = observed(hooks, ready());
    let mut old = failure(
        "failed calling webhook \"deploy.example.com\": failed to call webhook: Post \"https://x.svc:443/?timeout=10s\": EOF",
        2,
    );
    old.last_seen =
        Some(observed.now - jiff::SignedDuration::from_secs(RECENT_FAILURE_SECONDS + 60));
    observed.failures.push(old.clone());
    let found = findings(&observed);
    assert_eq!(
        ids(&found)[0],
        ("webhooks.failed-before", Severity::Warning)
    );
    assert_eq!(
        found[0]
            .evidence
            .iter()
            .find(|e| e.label == "failures seen")
            .map(|e| e.rows.len()),
        Some(1)
    );
    old.last_seen = Some(observed.now - jiff::SignedDuration::from_secs(30));
    observed.failures = vec![old];
    assert_eq!(
        ids(&findings(&observed))[0],
        ("webhooks.fail-closed-backend-down", Severity::Critical)
    );
}

#[test]
fn unread_service_backends_are_unknown_not_missing() {
    let hooks = webhooks(
        Kind::Validating,
        "v",
        json!({}),
        vec![service_hook(
            "deploy.example.com",
            "Fail",
            deployments_only(),
            json!({}),
        )],
    );
    let observed = Observed {
        webhooks: hooks,
        ..Observed::new(Timestamp::now())
    };
    let found = findings(&observed);
    assert_eq!(ids(&found), [("webhooks.healthy", Severity::Ok)]);
    assert!(
        found[0].detail.contains("1 service backends were not read"),
        "{}",
        found[0].detail
    );
}

#[test]
fn failing_ignore_webhooks_are_a_silent_bypass() {
    let hooks = webhooks(
        Kind::Validating,
        "v",
        json!({}),
        vec![service_hook(
            "deploy.example.com",
            "Ignore",
            deployments_only(),
            json!({"timeoutSeconds": 5}),
        )],
    );
    let mut observed = observed(hooks, ready());
    observed.metrics.insert(
        "deploy.example.com".into(),
        WebhookMetrics {
            fail_open: Some(12.0),
            requests_by_code: Some([("200".to_string(), 5.0), ("0".to_string(), 12.0)].into()),
            ..Default::default()
        },
    );
    let found = findings(&observed);
    assert_eq!(ids(&found)[0], ("webhooks.failing-open", Severity::Warning));
    assert!(
        found[0].evidence.iter().any(|e| e.value.contains("0: 12")),
        "{:?}",
        found[0].evidence
    );
    // Down and Ignore: a warning, never critical.
    let hooks = observed.webhooks.clone();
    let found = findings(&super::tests::observed(hooks, down()));
    assert!(
        found.iter().all(|f| f.severity < Severity::Critical),
        "{:?}",
        ids(&found)
    );
}

#[test]
fn chained_timeouts_reach_the_request_deadline() {
    let hooks: Vec<Value> = (0..7).map(|i| service_hook(&format!("m{i}.example.com"), "Ignore", json!([{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}]),
        json!({"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system", "kyverno"]}]}}))).collect();
    let hooks = webhooks(Kind::Mutating, "m", json!({}), hooks);
    let found = findings(&observed(hooks, ready()));
    let chained = found
        .iter()
        .find(|f| f.id == "webhooks.chained-timeout")
        .unwrap();
    assert_eq!(chained.severity, Severity::Warning);
    assert!(
        chained
            .evidence
            .iter()
            .any(|e| e.label == "pods CREATE in default" && e.value == "worst case 70s"),
        "{:?}",
        chained.evidence
    );
    assert!(chained.detail.contains("128162"));
    assert_eq!(
        chained.remediations[0].command,
        "kubectl apidiag webhooks --fix shorten-timeout --webhook m0.example.com"
    );
}

#[test]
fn unlisted_static_webhooks_and_rejections_are_info() {
    let mut observed = Observed::default();
    observed
        .metrics
        .insert("policy.static.k8s.io".into(), WebhookMetrics::default());
    observed.failures.push(failure(
        "admission webhook \"deny.example.com\" denied the request: no",
        4,
    ));
    let found = findings(&observed);
    let got = ids(&found);
    assert!(
        got.contains(&("webhooks.unlisted", Severity::Info)),
        "{got:?}"
    );
    assert!(
        got.contains(&("webhooks.rejecting", Severity::Info)),
        "{got:?}"
    );
    let unlisted = found.iter().find(|f| f.id == "webhooks.unlisted").unwrap();
    assert!(
        unlisted.evidence[0]
            .rows
            .iter()
            .any(|r| r[0] == "policy.static.k8s.io" && r[1] == "static manifest webhook")
    );
    assert!(
        unlisted.evidence[0]
            .rows
            .iter()
            .any(|r| r[0] == "deny.example.com" && r[1] == "not in the API")
    );
}

#[test]
fn failures_that_name_no_webhook_are_not_unlisted_names() {
    let mut observed = Observed::new(Timestamp::now());
    observed.failures.push(failure(
        "Timeout: request did not complete within requested timeout - context deadline exceeded",
        2,
    ));
    observed.failures.push(failure(
        "dial unix /tunnel-uds/proxysocket: connect: no such file",
        1,
    ));
    let found = findings(&observed);
    let got = ids(&found);
    assert!(
        got.contains(&("webhooks.chained-timeout", Severity::Warning)),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|(id, _)| *id == "webhooks.unlisted"),
        "{got:?}"
    );
    let tunnel = found.iter().find(|f| f.id == "webhooks.tunnel").unwrap();
    assert_eq!(
        tunnel.title,
        "Webhook calls fail in the control-plane-to-node tunnel"
    );
    assert_eq!(tunnel.severity, Severity::Warning);
    let chained = found
        .iter()
        .find(|f| f.id == "webhooks.chained-timeout")
        .unwrap();
    assert!(chained.evidence.iter().any(|e| e.label == "504s seen"));
    assert!(chained.remediations.is_empty(), "no webhook to shorten");
}
