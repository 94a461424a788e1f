//! The tunnel verdicts on objects as the API server lists them, the node choice,
//! every dial error the API server and konnectivity print, and the restart plan.

mod agents;
mod probe;
mod restart;

use apidiag_core::finding::Finding;
use serde_json::{Value, json};

pub(super) fn pod(
    name: &str,
    uid: &str,
    labels: Value,
    node: Option<&str>,
    status: Value,
) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "kube-system", "uid": uid, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "konnectivity-agent",
            "image": "mcr.microsoft.com/oss/kubernetes/apiserver-network-proxy/agent:v0.30.3"}]},
        "status": status,
    })
}

pub(super) fn ready_status() -> Value {
    json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "konnectivity-agent", "restartCount": 0, "state": {"running": {}}}]})
}

pub(super) fn crashloop_status(restarts: i64, last: &str) -> Value {
    json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [{"name": "konnectivity-agent", "restartCount": restarts,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"reason": last, "exitCode": 137}}}]})
}

pub(super) fn aks_labels() -> Value {
    json!({"app": "konnectivity-agent", "component": "tunnel",
        "kubernetes.azure.com/managedby": "aks", "pod-template-hash": "7d9c5"})
}

pub(super) fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "konnectivity-agent", "namespace": "kube-system", "uid": "d-1",
            "resourceVersion": "4711", "labels": {"app": "konnectivity-agent", "component": "tunnel",
            "kubernetes.azure.com/managedby": "aks"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "konnectivity-agent"}},
            "template": {"metadata": {"labels": {"app": "konnectivity-agent", "component": "tunnel",
                "kubernetes.azure.com/managedby": "aks"}},
                "spec": {"containers": [{"name": "konnectivity-agent",
                    "image": "mcr.microsoft.com/oss/kubernetes/apiserver-network-proxy/agent:v0.30.3"}]}}},
        "status": {"replicas": 2, "readyReplicas": 0},
    })
}

pub(super) fn node(name: &str, conditions: Value) -> Value {
    json!({"metadata": {"name": name}, "status": {"conditions": conditions}})
}

pub(super) fn healthy_node(name: &str) -> Value {
    node(
        name,
        json!([{"type": "Ready", "status": "True"}, {"type": "MemoryPressure", "status": "False"}]),
    )
}

pub(super) fn rows(finding: &Finding, label: &str) -> Vec<Vec<String>> {
    finding
        .evidence
        .iter()
        .find(|e| e.label == label)
        .unwrap_or_else(|| panic!("no {label} in {finding:#?}"))
        .rows
        .clone()
}

pub(super) fn ids(rungs: &[crate::rung::Rung]) -> Vec<&str> {
    rungs.iter().map(|r| r.finding.id.as_str()).collect()
}

#[test]
fn tunnel_nodes_is_a_flag_of_the_check_defaulting_to_3() {
    use clap::FromArgMatches;
    let command = apidiag_core::run::check_command::<crate::Args>(crate::NAME);
    command.clone().debug_assert();
    let parse = |argv: &[&str]| {
        let matches = command.clone().try_get_matches_from(argv).unwrap();
        crate::Args::from_arg_matches(&matches).unwrap().tunnel
    };
    assert_eq!(parse(&["connectivity"]).tunnel_nodes, 3);
    assert_eq!(
        parse(&["connectivity", "--tunnel-nodes", "0"]).tunnel_nodes,
        0
    );
    assert_eq!(super::TunnelArgs::default().tunnel_nodes, 3);
}
