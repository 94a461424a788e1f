//! The guide's Cause 2 through the public API only, the way the check will run:
//! a Kyverno fail-closed webhook on AKS whose admission controller crash-loops,
//! the objects as the server lists them, the findings, the fail-open plan, and the
//! findings after it.

use jiff::Timestamp;
use serde_json::{Value, json};

use apidiag_core::finding::Severity;
use apidiag_core::object::apply_merge_patch;
use apidiag_core::remediation::Action;
use apidiag_webhooks::backend::{backend_pod_labels, judge};
use apidiag_webhooks::configuration::{Kind, parse_list};
use apidiag_webhooks::errors::classify;
use apidiag_webhooks::fixes::{Fix, FixOptions, Target, plan};
use apidiag_webhooks::verdicts::{Backend, Observed, ObservedFailure, findings};

const EVENT: &str = "Error creating: Internal error occurred: failed calling webhook \"mutate.kyverno.svc-fail\": failed to call webhook: Post \"https://kyverno-svc.kyverno.svc:443/mutate/fail?timeout=10s\": no endpoints available for service \"kyverno-svc\"";

fn configuration() -> Value {
    json!({
        "metadata": {
            "name": "kyverno-resource-mutating-webhook-cfg", "uid": "6b1f", "resourceVersion": "90210",
            "labels": {"webhook.kyverno.io/managed-by": "kyverno", "admissions.enforcer/disabled": "true"},
            "managedFields": [{"manager": "kyverno", "operation": "Update"}]
        },
        "webhooks": [{
            "name": "mutate.kyverno.svc-fail",
            "admissionReviewVersions": ["v1"],
            "clientConfig": {"service": {"namespace": "kyverno", "name": "kyverno-svc", "path": "/mutate/fail", "port": 443}},
            "failurePolicy": "Fail",
            "matchPolicy": "Equivalent",
            "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kyverno"]}]},
            "objectSelector": {},
            "reinvocationPolicy": "IfNeeded",
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods", "pods/ephemeralcontainers"], "scope": "Namespaced"}],
            "sideEffects": "NoneOnDryRun",
            "timeoutSeconds": 10
        }]
    })
}

fn observed(list: &Value) -> Observed {
    let webhooks = parse_list(list, Kind::Mutating).expect("the list parses");
    let service = json!({"metadata": {"name": "kyverno-svc", "namespace": "kyverno"},
        "spec": {"clusterIP": "10.0.114.7", "selector": {"app.kubernetes.io/component": "admission-controller"},
            "ports": [{"name": "https", "port": 443, "targetPort": "https"}]}});
    let slices = [
        json!({"metadata": {"labels": {"kubernetes.io/service-name": "kyverno-svc"}},
        "ports": [{"name": "https", "port": 9443}],
        "endpoints": [{"addresses": ["10.244.1.9"], "conditions": {"ready": false}, "targetRef": {"kind": "Pod", "name": "kyverno-admission-controller-7d9-x"}}]}),
    ];
    let pods = [
        json!({"metadata": {"name": "kyverno-admission-controller-7d9-x", "labels": {"app.kubernetes.io/component": "admission-controller"}},
        "status": {"conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"restartCount": 23, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}),
    ];
    let mut observed = Observed::new(Timestamp::now());
    for w in &webhooks {
        let state = judge(&w.client, Some(&service), &slices, &pods);
        observed.backends.insert(
            w.id(),
            Backend {
                state,
                pod_labels: backend_pod_labels(Some(&service), &pods),
            },
        );
    }
    let failure = classify(EVENT);
    observed.failures.push(ObservedFailure {
        webhook: failure.webhook.clone().unwrap_or_default(),
        failure,
        count: 112,
        last_seen: Some(observed.now),
        namespace: Some("kube-system".into()),
        message: EVENT.into(),
    });
    observed.namespaces.insert(
        "kube-system".into(),
        [(
            "kubernetes.io/metadata.name".to_string(),
            "kube-system".to_string(),
        )]
        .into(),
    );
    observed.on_aks = Some(true);
    observed.webhooks = webhooks;
    observed
}

#[test]
fn kyverno_fail_closed_is_found_proved_and_failed_open() {
    let object = configuration();
    let list = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfigurationList", "items": [object]});
    let found = findings(&observed(&list));
    let blocking = &found[0];
    assert_eq!(
        (blocking.id.as_str(), blocking.severity),
        ("webhooks.fail-closed-backend-down", Severity::Critical)
    );
    assert!(
        blocking.detail.contains("pods CREATE in kube-system"),
        "{}",
        blocking.detail
    );
    assert!(
        found
            .iter()
            .any(|f| f.id == "webhooks.aks-enforcer-opt-out" && f.severity == Severity::Warning)
    );
    assert!(
        !found.iter().any(|f| f.id == "webhooks.lease-timeout"),
        "pods only: leases are not intercepted"
    );
    let backend = blocking
        .evidence
        .iter()
        .find(|e| e.label == "backend")
        .unwrap();
    assert!(
        backend.value.contains(
            "0/1 pods ready, 23 restarts (kyverno-admission-controller-7d9-x: CrashLoopBackOff)"
        ),
        "{}",
        backend.value
    );
    assert_eq!(
        blocking.remediations[0].command,
        "kubectl apidiag webhooks --fix fail-open --webhook mutate.kyverno.svc-fail"
    );

    // The smallest safe change: fail open on that webhook only.
    let target = Target {
        kind: Kind::Mutating,
        version: "v1",
        object: &object,
        webhooks: vec!["mutate.kyverno.svc-fail".into()],
    };
    let plan = plan(
        Fix::FailOpen,
        &[target],
        FixOptions {
            match_conditions: true,
        },
    )
    .unwrap();
    assert!(
        plan.warning
            .as_deref()
            .unwrap_or_default()
            .contains("Kyverno reconciles this configuration")
    );
    let Action::Patch { patch } = &plan.operations[0].action else {
        panic!("a patch")
    };
    assert_eq!(
        plan.operations[0].target.path(),
        "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/kyverno-resource-mutating-webhook-cfg"
    );
    let after = apply_merge_patch(&object, patch);
    let list = json!({"apiVersion": "admissionregistration.k8s.io/v1", "items": [after]});
    let found = findings(&observed(&list));
    assert!(
        found.iter().all(|f| f.severity < Severity::Critical),
        "{:?}",
        found.iter().map(|f| &f.id).collect::<Vec<_>>()
    );
    assert!(
        found.iter().any(|f| f.id == "webhooks.failing-open"),
        "the bypass is still reported"
    );
}
