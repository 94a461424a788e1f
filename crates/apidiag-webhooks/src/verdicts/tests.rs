use base64::Engine as _;
use serde_json::{Value, json};

use super::*;
use crate::backend::Pods;
use crate::configuration::{Kind, parse};
use crate::errors::classify;

mod live;

const GUIDE: &str = "Internal error occurred: failed calling webhook \"validate.kyverno.svc-fail\": failed to call webhook: Post \"https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s\": write unix @->/tunnel-uds/proxysocket: write: broken pipe";

fn ca_bundle() -> String {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    base64::engine::general_purpose::STANDARD.encode(pem)
}

fn webhooks(kind: Kind, name: &str, meta: Value, hooks: Vec<Value>) -> Vec<Webhook> {
    let mut meta = meta;
    meta["name"] = json!(name);
    parse(&json!({"metadata": meta, "webhooks": hooks}), kind, "v1").unwrap()
}

fn service_hook(name: &str, policy: &str, rules: Value, extra: Value) -> Value {
    let mut hook = json!({"name": name, "failurePolicy": policy, "rules": rules,
        "clientConfig": {"service": {"namespace": "kyverno", "name": "kyverno-svc"}, "caBundle": ca_bundle()}});
    if let (Some(map), Some(extra)) = (hook.as_object_mut(), extra.as_object()) {
        map.extend(extra.clone());
    }
    hook
}

fn everything() -> Value {
    json!([{"operations": ["CREATE", "UPDATE"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/*"]}])
}

fn deployments_only() -> Value {
    json!([{"operations": ["CREATE"], "apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments"]}])
}

fn ready() -> Backend {
    Backend {
        state: BackendState::Ready {
            ready: 2,
            total: 2,
            pods: Pods {
                total: 2,
                ready: 2,
                restarts: 0,
                waiting: vec![],
            },
        },
        pod_labels: Labels::new(),
    }
}

fn down() -> Backend {
    Backend {
        state: BackendState::NoReadyEndpoints {
            port_name: "https".into(),
            slices: 1,
            not_ready: 1,
            terminating: 0,
            ready_under_other_port_names: 0,
            pods: Pods {
                total: 1,
                ready: 0,
                restarts: 14,
                waiting: vec!["kyverno-0: CrashLoopBackOff".into()],
            },
        },
        pod_labels: [("app".to_string(), "kyverno".to_string())].into(),
    }
}

fn observed(hooks: Vec<Webhook>, backend: Backend) -> Observed {
    let backends = hooks
        .iter()
        .filter(|w| w.service_namespace().is_some())
        .map(|w| (w.id(), backend.clone()))
        .collect();
    Observed {
        webhooks: hooks,
        backends,
        now: Timestamp::now(),
        ..Observed::default()
    }
}

fn ids(found: &[Finding]) -> Vec<(&str, Severity)> {
    found.iter().map(|f| (f.id.as_str(), f.severity)).collect()
}

fn failure(message: &str, count: u64) -> ObservedFailure {
    let failure = classify(message);
    ObservedFailure {
        webhook: failure.webhook.clone().unwrap_or_default(),
        failure,
        count,
        last_seen: None,
        namespace: Some("kube-system".into()),
        message: message.into(),
    }
}

#[test]
fn no_webhook_is_healthy() {
    let found = findings(&Observed::default());
    assert_eq!(ids(&found), [("webhooks.healthy", Severity::Ok)]);
}

#[test]
fn narrow_webhooks_with_ready_backends_are_only_ok() {
    let hooks = webhooks(
        Kind::Validating,
        "policy",
        json!({}),
        vec![service_hook(
            "deploy.example.com",
            "Fail",
            deployments_only(),
            json!({"timeoutSeconds": 5}),
        )],
    );
    let found = findings(&observed(hooks, ready()));
    assert!(
        found.iter().all(|f| f.severity == Severity::Ok),
        "{:?}",
        ids(&found)
    );
    assert_eq!(found[0].id, "webhooks.healthy");
}

#[test]
fn the_guide_scenario_kyverno_fail_closed_on_aks() {
    let meta = json!({"labels": {"webhook.kyverno.io/managed-by": "kyverno", "admissions.enforcer/disabled": "true"}});
    let hooks = webhooks(
        Kind::Validating,
        "kyverno-resource-validating-webhook-cfg",
        meta,
        vec![service_hook(
            "validate.kyverno.svc-fail",
            "Fail",
            everything(),
            json!({}),
        )],
    );
    let mut observed = observed(hooks, down());
    observed.on_aks = Some(true);
    observed.failures.push(failure(GUIDE, 37));
    let found = findings(&observed);
    let got = ids(&found);
    assert!(
        got.contains(&("webhooks.fail-closed-backend-down", Severity::Critical)),
        "{got:?}"
    );
    assert!(
        got.contains(&("webhooks.tunnel", Severity::Critical)),
        "{got:?}"
    );
    assert!(
        got.contains(&("webhooks.aks-enforcer-opt-out", Severity::Warning)),
        "{got:?}"
    );
    assert!(
        got.contains(&("webhooks.lease-timeout", Severity::Warning)),
        "{got:?}"
    );
    assert!(!got.iter().any(|(id, _)| *id == "webhooks.healthy"));
    assert_eq!(found[0].severity, Severity::Critical, "critical first");

    let blocking = found
        .iter()
        .find(|f| f.id == "webhooks.fail-closed-backend-down")
        .unwrap();
    assert!(blocking.title.contains("deadlock"), "{}", blocking.title);
    assert!(
        blocking.detail.contains("pods CREATE in kube-system"),
        "{}",
        blocking.detail
    );
    assert_eq!(blocking.source, Some(cause2()));
    let offers: Vec<&str> = blocking
        .remediations
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(
        offers,
        [
            "webhooks.fail-open",
            "webhooks.exclude-system",
            "webhooks.delete"
        ],
        "smallest safe change first"
    );
    assert!(
        blocking
            .evidence
            .iter()
            .any(|e| e.label == "reconciled by" && e.value.contains("Kyverno"))
    );
    assert!(
        blocking
            .evidence
            .iter()
            .any(|e| e.label == "backend" && e.value.contains("CrashLoopBackOff"))
    );

    let leases = found
        .iter()
        .find(|f| f.id == "webhooks.lease-timeout")
        .unwrap();
    assert_eq!(
        leases.evidence[0].rows[0][1..],
        [
            "10s",
            "leases.coordination.k8s.io UPDATE in kube-node-lease",
            "Kyverno"
        ]
    );
    assert_eq!(
        leases.remediations[0].command,
        "kubectl apidiag webhooks --fix shorten-timeout --webhook validate.kyverno.svc-fail"
    );

    let tunnel = found.iter().find(|f| f.id == "webhooks.tunnel").unwrap();
    assert_eq!(tunnel.next, ["kubectl apidiag connectivity"]);
    assert!(
        tunnel.detail.contains("konnectivity-agent"),
        "{}",
        tunnel.detail
    );
    assert_eq!(
        tunnel
            .source
            .as_ref()
            .map(|s| s.guide.starts_with("TCP time-outs")),
        Some(true)
    );
    assert_eq!(tunnel.evidence[0].rows[0][1], "37");
}

#[test]
fn a_healthy_fail_closed_catch_all_is_a_warning_not_critical() {
    let hooks = webhooks(
        Kind::Mutating,
        "m",
        json!({}),
        vec![service_hook(
            "all.example.com",
            "Fail",
            everything(),
            json!({"timeoutSeconds": 3}),
        )],
    );
    let found = findings(&observed(hooks, ready()));
    let got = ids(&found);
    assert!(
        got.contains(&("webhooks.system-fail-closed", Severity::Warning)),
        "{got:?}"
    );
    assert!(
        got.contains(&("webhooks.blocks-own-backend", Severity::Warning)),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|(_, s)| *s == Severity::Critical),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|(id, _)| *id == "webhooks.lease-timeout"),
        "3 s is within the lease limit"
    );
}

#[test]
fn an_empty_ca_bundle_on_a_service_webhook() {
    let hooks = webhooks(
        Kind::Validating,
        "v",
        json!({}),
        vec![service_hook(
            "deploy.example.com",
            "Fail",
            deployments_only(),
            json!({"clientConfig": {"service": {"namespace": "p", "name": "s"}}}),
        )],
    );
    let found = findings(&observed(hooks.clone(), ready()));
    assert_eq!(ids(&found)[0], ("webhooks.tls", Severity::Critical));
    assert_eq!(found[0].remediations[0].id, "webhooks.fail-open");
    let mut ignore = hooks;
    ignore[0].failure_policy = crate::configuration::FailurePolicy::Ignore;
    assert_eq!(
        ids(&findings(&observed(ignore, ready())))[0],
        ("webhooks.tls", Severity::Warning)
    );
}

#[test]
fn url_webhooks_with_in_cluster_names_are_down_unless_the_platform_owns_them() {
    let hook = json!({"name": "node.aks", "failurePolicy": "Fail", "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["nodes"]}],
        "clientConfig": {"url": "https://ccp-webhook.aks.svc.cluster.local.:8443/node", "caBundle": ca_bundle()}});
    let hooks = webhooks(
        Kind::Mutating,
        "aks-node-mutating-webhook",
        json!({}),
        vec![hook.clone()],
    );
    let found = findings(&observed(hooks, ready()));
    assert_eq!(found[0].id, "webhooks.fail-closed-backend-down");
    assert!(matches!(judge_backend(&found[0]), Some(v) if v.contains("cannot resolve")));
    let platform = webhooks(
        Kind::Mutating,
        "aks-node-mutating-webhook",
        json!({"labels": {"kubernetes.azure.com/controlPlaneWebhook": "Reconcile"}}),
        vec![hook],
    );
    let found = findings(&observed(platform, ready()));
    // Fail-closed on nodes by design, reached from the control plane: only ok.
    assert_eq!(
        ids(&found),
        [
            ("webhooks.healthy", Severity::Ok),
            ("webhooks.platform-owned", Severity::Ok)
        ]
    );
    assert!(found[1].evidence[0].rows[0][1].contains("AKS"));
}

#[test]
fn platform_webhooks_are_reported_without_fixes() {
    let hook = service_hook("policy.aks", "Fail", everything(), json!({}));
    let platform = webhooks(
        Kind::Validating,
        "aks-policy",
        json!({"labels": {"kubernetes.azure.com/managedby": "aks"}}),
        vec![hook],
    );
    let found = findings(&observed(platform, down()));
    let blocking = found
        .iter()
        .find(|f| f.id == "webhooks.fail-closed-backend-down")
        .unwrap();
    assert!(blocking.remediations.is_empty());
    assert!(blocking.detail.contains("belongs to the platform"));
}

fn judge_backend(f: &Finding) -> Option<&str> {
    f.evidence
        .iter()
        .find(|e| e.label == "backend")
        .map(|e| e.value.as_str())
}
