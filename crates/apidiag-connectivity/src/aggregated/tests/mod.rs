//! The judgement and the fix on objects shaped as the server lists them: every
//! reason's finding, the orphan rules, the cap, and the delete plan. The
//! fixtures are here; [`findings`] and [`fix`] hold the tests.

mod findings;
mod fix;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use apidiag_core::finding::{Finding, Severity};

use super::collect::{Backend, Collected};
use super::findings as judgement;

pub(super) const METRICS_SERVER: &str = "v1beta1.metrics.k8s.io";

/// An APIService as `GET /apis/apiregistration.k8s.io/v1/apiservices` lists it.
pub(super) fn apiservice(
    name: &str,
    status: &str,
    reason: &str,
    message: &str,
    labels: Value,
) -> Value {
    let (version, group) = name.split_once('.').unwrap();
    json!({
        "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": "4711",
            "creationTimestamp": "2026-11-30T08:00:00Z", "labels": labels},
        "spec": {"group": group, "version": version, "groupPriorityMinimum": 100, "versionPriority": 100,
            "insecureSkipTLSVerify": true,
            "service": {"namespace": "kube-system", "name": "metrics-server", "port": 443}},
        "status": {"conditions": [{"type": "Available", "status": status, "reason": reason,
            "message": message, "lastTransitionTime": "2026-12-01T09:58:00Z"}]},
    })
}

pub(super) fn local(name: &str) -> Value {
    let (version, group) = name.split_once('.').unwrap();
    json!({"metadata": {"name": name, "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"}},
        "spec": {"group": group, "version": version, "groupPriorityMinimum": 17800, "versionPriority": 15},
        "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local",
            "message": "Local APIServices are always available"}]}})
}

pub(super) fn service() -> Value {
    json!({"metadata": {"name": "metrics-server", "namespace": "kube-system"},
        "spec": {"type": "ClusterIP", "clusterIP": "10.0.37.4", "selector": {"k8s-app": "metrics-server"},
            "ports": [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]}})
}

pub(super) fn backend_with_pods() -> Backend {
    Backend {
        service: Ok(Some(service())),
        namespace_exists: None,
        slices: Some(Ok(vec![json!({
            "metadata": {"name": "metrics-server-x7k2p", "labels": {"kubernetes.io/service-name": "metrics-server"}},
            "addressType": "IPv4",
            "ports": [{"name": "https", "port": 10250, "protocol": "TCP"}],
            "endpoints": [{"addresses": ["10.244.2.17"], "conditions": {"ready": false},
                "targetRef": {"kind": "Pod", "name": "metrics-server-5f8-q"}}],
        })])),
        pods: Some(Ok(vec![json!({
            "metadata": {"name": "metrics-server-5f8-q", "labels": {"k8s-app": "metrics-server"}},
            "status": {"phase": "Running", "containerStatuses": [{"name": "metrics-server", "ready": false,
                "restartCount": 12, "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                "state": {"running": {}}}]},
        })])),
        log: Some(super::collect::PodLog {
            pod: "metrics-server-5f8-q".into(),
            container: "metrics-server".into(),
            node: Some("aks-nodepool1-0".into()),
            lines: Err("GET /api/v1/namespaces/kube-system/pods/metrics-server-5f8-q/log?... failed: 502 : dial tcp 10.224.0.5:10250: i/o timeout".into()),
        }),
        events: Some(Ok(vec![json!({
            "lastTimestamp": "2026-12-01T09:59:00Z", "count": 40, "type": "Warning", "reason": "Unhealthy",
            "involvedObject": {"kind": "Pod", "name": "metrics-server-5f8-q"},
            "message": "Readiness probe failed: HTTP probe failed with statuscode: 500",
        })])),
        policies: Some(Ok(vec![json!({
            "metadata": {"name": "allow-apiserver"},
            "spec": {"podSelector": {"matchLabels": {"k8s-app": "metrics-server"}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"ipBlock": {"cidr": "20.1.2.3/32"}}]}]},
        })])),
    }
}

pub(super) fn gone_backend(namespace_exists: bool) -> Backend {
    Backend {
        service: Ok(None),
        namespace_exists: Some(namespace_exists),
        slices: None,
        pods: None,
        log: None,
        events: namespace_exists.then(|| Ok(Vec::new())),
        policies: None,
    }
}

pub(super) fn collected(apiservices: Vec<Value>, backend: Option<Backend>) -> Collected {
    let mut backends = BTreeMap::new();
    if let Some(b) = backend {
        backends.insert(("kube-system".to_string(), "metrics-server".to_string()), b);
    }
    Collected {
        apiservices,
        backends,
        ..Collected::default()
    }
}

pub(super) fn ids(findings: &[Finding]) -> Vec<(&str, Severity)> {
    findings
        .iter()
        .map(|f| (f.id.as_str(), f.severity))
        .collect()
}

pub(super) fn judged(collected: &Collected) -> Vec<Finding> {
    judgement::rungs(collected)
        .into_iter()
        .map(|r| r.finding)
        .collect()
}

pub(super) fn evidence<'a>(
    finding: &'a Finding,
    label: &str,
) -> &'a apidiag_core::finding::Evidence {
    finding
        .evidence
        .iter()
        .find(|e| e.label == label)
        .unwrap_or_else(|| panic!("no evidence {label:?} in {:#?}", finding.evidence))
}
