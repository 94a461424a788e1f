//! The agents' verdicts.

use apidiag_core::finding::Severity;
use serde_json::json;

use super::super::inventory::{Component, Inventory, TunnelDeployment};
use super::super::verdicts;
use super::*;

#[test]
fn agents_are_the_union_of_their_labels_merged_by_uid() {
    let a = pod(
        "konnectivity-agent-7d9c5-abcde",
        "u-a",
        aks_labels(),
        Some("aks-system-1"),
        ready_status(),
    );
    let b = pod(
        "konnectivity-agent-7d9c5-fghij",
        "u-b",
        aks_labels(),
        Some("aks-system-2"),
        ready_status(),
    );
    let upstream = pod(
        "konnectivity-agent-x2b4c",
        "u-c",
        json!({"k8s-app": "konnectivity-agent"}),
        Some("aks-system-2"),
        ready_status(),
    );
    // The autoscaler carries the app label's prefix but is no agent.
    let autoscaler = pod(
        "konnectivity-agent-autoscaler-5b8-q",
        "u-d",
        json!({"app": "konnectivity-agent-autoscaler"}),
        Some("aks-system-1"),
        ready_status(),
    );
    // `app=` and `component=tunnel` both select the AKS pods: listed twice.
    let lists = vec![
        vec![a.clone(), b.clone()],
        vec![upstream],
        vec![a, b, autoscaler],
    ];
    let inventory = Inventory::from_objects(&[deployment()], &lists, None, &[]);
    let names: Vec<&str> = inventory.pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "konnectivity-agent-7d9c5-abcde",
            "konnectivity-agent-7d9c5-fghij",
            "konnectivity-agent-x2b4c"
        ]
    );
    assert_eq!(inventory.deployments.len(), 1);
    assert_eq!(
        inventory.agent_nodes().into_iter().collect::<Vec<_>>(),
        ["aks-system-1", "aks-system-2"]
    );
    let inventory = Inventory::from_objects(
        &[],
        &lists,
        None,
        &[healthy_node("aks-system-1"), healthy_node("aks-system-2")],
    );
    let rungs = verdicts::judge(&inventory);
    assert_eq!(ids(&rungs), ["connectivity.tunnel.healthy"]);
    assert_eq!(rungs[0].finding.severity, Severity::Ok);
    assert_eq!(
        rungs[0].finding.title,
        "tunnel agents in kube-system: konnectivity 3/3 Ready on nodes aks-system-1, aks-system-2"
    );
}

#[test]
fn legacy_tunnels_are_told_by_name_and_image() {
    let tunnelfront = json!({
        "metadata": {"name": "tunnelfront", "namespace": "kube-system", "labels": {"component": "tunnel"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"component": "tunnel"}},
            "template": {"metadata": {"labels": {"component": "tunnel"}},
                "spec": {"containers": [{"name": "tunnel-front", "image": "mcr.microsoft.com/aks/hcp/hcp-tunnel-front:v1.9.2"}]}}},
        "status": {"readyReplicas": 1},
    });
    let aks_link = json!({
        "metadata": {"name": "aks-link", "namespace": "kube-system"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "aks-link"}},
            "template": {"metadata": {"labels": {"app": "aks-link"}},
                "spec": {"containers": [{"name": "openvpn-client", "image": "mcr.microsoft.com/aks/hcp/tunnel-openvpn:1.0.9"}]}}},
    });
    let coredns = json!({"metadata": {"name": "coredns"}, "spec": {"template": {"metadata": {"labels": {"k8s-app": "kube-dns"}},
        "spec": {"containers": [{"image": "mcr.microsoft.com/oss/kubernetes/coredns:v1.11"}]}}}});
    let parsed: Vec<(Component, String)> = [tunnelfront, aks_link, coredns]
        .iter()
        .filter_map(TunnelDeployment::parse)
        .map(|d| (d.component, d.name))
        .collect();
    assert_eq!(
        parsed,
        [
            (Component::Tunnelfront, "tunnelfront".to_string()),
            (Component::AksLink, "aks-link".to_string())
        ]
    );
}

#[test]
fn crash_looping_agents_are_critical_with_their_restarts_and_the_restart_offer() {
    let lists = vec![vec![
        pod(
            "konnectivity-agent-7d9c5-abcde",
            "u-a",
            aks_labels(),
            Some("aks-system-1"),
            crashloop_status(87, "Error"),
        ),
        pod(
            "konnectivity-agent-7d9c5-fghij",
            "u-b",
            aks_labels(),
            Some("aks-system-2"),
            crashloop_status(142, "Error"),
        ),
    ]];
    let inventory = Inventory::from_objects(
        &[deployment()],
        &lists,
        None,
        &[healthy_node("aks-system-1"), healthy_node("aks-system-2")],
    );
    let rungs = verdicts::judge(&inventory);
    assert_eq!(ids(&rungs), ["connectivity.tunnel.crashloop"]);
    let f = &rungs[0].finding;
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(
        f.title,
        "tunnel agents in kube-system: konnectivity 2/2 in CrashLoopBackOff (229 restarts), 0/2 Ready"
    );
    assert_eq!(
        rows(f, "agents"),
        [
            [
                "konnectivity-agent-7d9c5-abcde",
                "aks-system-1",
                "False",
                "87",
                "CrashLoopBackOff",
                "Error"
            ],
            [
                "konnectivity-agent-7d9c5-fghij",
                "aks-system-2",
                "False",
                "142",
                "CrashLoopBackOff",
                "Error"
            ],
        ]
    );
    assert_eq!(f.remediations.len(), 1);
    assert_eq!(
        f.remediations[0].command,
        "kubectl apidiag connectivity --fix restart-tunnel"
    );
    assert!(f.detail.contains("No agent available"), "{}", f.detail);

    // Pods without a Deployment: no rollout to offer, and the detail says so.
    let orphans = Inventory::from_objects(&[], &lists, None, &[]);
    let f = &verdicts::judge(&orphans)[0].finding;
    assert_eq!(f.id, "connectivity.tunnel.crashloop");
    assert!(f.remediations.is_empty());
    assert!(f.detail.ends_with("delete the agent Pods (the guide says to try deleting them) so they are created again; apidiag does not delete Pods."), "{}", f.detail);
}

#[test]
fn oom_killed_agents_are_sized_too_small_and_show_the_autoscaler_ladder() {
    let status = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "konnectivity-agent", "restartCount": 3, "state": {"running": {}},
            "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]});
    let lists = vec![vec![
        pod(
            "konnectivity-agent-7d9c5-abcde",
            "u-a",
            aks_labels(),
            Some("n1"),
            status,
        ),
        pod(
            "konnectivity-agent-7d9c5-fghij",
            "u-b",
            aks_labels(),
            Some("n1"),
            ready_status(),
        ),
    ]];
    let cm = json!({"data": {"ladder": "{\"coresToReplicas\":[],\"nodesToReplicas\":[[1,2],[100,3],[250,4],[500,5],[1000,6],[5000,10]]}"}});
    let inventory =
        Inventory::from_objects(&[deployment()], &lists, Some(&cm), &[healthy_node("n1")]);
    let rungs = verdicts::judge(&inventory);
    assert_eq!(
        ids(&rungs),
        [
            "connectivity.tunnel.healthy",
            "connectivity.tunnel.oomkilled"
        ]
    );
    let f = &rungs[1].finding;
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(
        f.title,
        "tunnel agents in kube-system: 1 of 2 agents last ended OOMKilled"
    );
    assert!(f.detail.starts_with("The agents are sized too small for the traffic they carry (konnectivity-agent-7d9c5-abcde)."), "{}", f.detail);
    let ladder = f
        .evidence
        .iter()
        .find(|e| e.label == "autoscaler ladder")
        .unwrap();
    assert_eq!(
        ladder.value,
        "{\"coresToReplicas\":[],\"nodesToReplicas\":[[1,2],[100,3],[250,4],[500,5],[1000,6],[5000,10]]}"
    );
}

#[test]
fn nodes_under_pressure_are_named_with_their_conditions() {
    let lists = vec![vec![
        pod(
            "konnectivity-agent-a",
            "u-a",
            aks_labels(),
            Some("n1"),
            ready_status(),
        ),
        pod(
            "konnectivity-agent-b",
            "u-b",
            aks_labels(),
            Some("n2"),
            ready_status(),
        ),
    ]];
    let stressed = node(
        "n2",
        json!([{"type": "MemoryPressure", "status": "True"}, {"type": "DiskPressure", "status": "False"},
               {"type": "PIDPressure", "status": "True"}, {"type": "Ready", "status": "Unknown"}]),
    );
    let inventory = Inventory::from_objects(
        &[deployment()],
        &lists,
        None,
        &[healthy_node("n1"), stressed],
    );
    let rungs = verdicts::judge(&inventory);
    assert_eq!(
        ids(&rungs),
        [
            "connectivity.tunnel.healthy",
            "connectivity.tunnel.node-pressure"
        ]
    );
    let f = &rungs[1].finding;
    assert_eq!(
        f.title,
        "tunnel agents in kube-system: 1 of 2 nodes hosting agents are under stress"
    );
    assert_eq!(
        rows(f, "nodes"),
        [["n2", "MemoryPressure, PIDPressure, NotReady"]]
    );
    assert!(f.detail.contains("system node pool"));
}

#[test]
fn agents_not_ready_mean_no_servers_connected() {
    let not_ready = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [{"name": "konnectivity-agent", "restartCount": 0, "state": {"running": {}}}]});
    let lists = vec![vec![
        pod(
            "konnectivity-agent-a",
            "u-a",
            aks_labels(),
            Some("n1"),
            not_ready.clone(),
        ),
        pod(
            "konnectivity-agent-b",
            "u-b",
            aks_labels(),
            Some("n2"),
            not_ready,
        ),
    ]];
    let inventory = Inventory::from_objects(&[deployment()], &lists, None, &[]);
    let f = &verdicts::judge(&inventory)[0].finding;
    assert_eq!(
        (f.id.as_str(), f.severity),
        ("connectivity.tunnel.not-ready", Severity::Critical)
    );
    assert_eq!(
        f.title,
        "tunnel agents in kube-system: konnectivity 0/2 Ready (\"no servers connected\")"
    );
    assert!(
        f.detail
            .contains("TCP 443 to the API server's FQDN, with the ALPN TLS extension intact")
    );
    // One of two Ready: degraded, a warning.
    let lists = vec![vec![
        pod(
            "konnectivity-agent-a",
            "u-a",
            aks_labels(),
            Some("n1"),
            ready_status(),
        ),
        pod(
            "konnectivity-agent-b",
            "u-b",
            aks_labels(),
            Some("n2"),
            crashloop_status(0, "Error"),
        ),
    ]];
    let mut lists = lists;
    lists[0][1]["status"]["containerStatuses"][0]["state"] = json!({"running": {}});
    let f =
        &verdicts::judge(&Inventory::from_objects(&[deployment()], &lists, None, &[]))[0].finding;
    assert_eq!(f.id, "connectivity.tunnel.degraded");
    assert_eq!(
        f.title,
        "tunnel agents in kube-system: konnectivity 1/2 Ready on nodes n1"
    );
}

#[test]
fn no_tunnel_is_a_pass_not_a_failure() {
    let rungs = verdicts::judge(&Inventory::default());
    assert_eq!(ids(&rungs), ["connectivity.tunnel.none"]);
    assert_eq!(rungs[0].finding.severity, Severity::Ok);
    assert_eq!(
        rungs[0].finding.title,
        "tunnel agents in kube-system: no tunnel components (konnectivity-agent, tunnelfront, aks-link)"
    );
    assert!(
        rungs[0]
            .finding
            .detail
            .contains("API Server VNet Integration")
    );
}
