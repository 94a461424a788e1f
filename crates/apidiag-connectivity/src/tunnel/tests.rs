//! The tunnel verdicts on objects as the API server lists them, the node choice,
//! every dial error the API server and konnectivity print, and the restart plan.

use std::collections::BTreeSet;
use std::time::Duration;

use apidiag_core::api::ApiError;
use apidiag_core::finding::{Finding, Severity};
use apidiag_core::remediation::Action;
use serde_json::{Value, json};

use super::inventory::{Component, Inventory, TunnelDeployment};
use super::probe::{self, LogTarget, NodeTarget, Outcome, Probed, Verdict};
use super::{restart, verdicts};

fn pod(name: &str, uid: &str, labels: Value, node: Option<&str>, status: Value) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "kube-system", "uid": uid, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "konnectivity-agent",
            "image": "mcr.microsoft.com/oss/kubernetes/apiserver-network-proxy/agent:v0.30.3"}]},
        "status": status,
    })
}

fn ready_status() -> Value {
    json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "konnectivity-agent", "restartCount": 0, "state": {"running": {}}}]})
}

fn crashloop_status(restarts: i64, last: &str) -> Value {
    json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [{"name": "konnectivity-agent", "restartCount": restarts,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"reason": last, "exitCode": 137}}}]})
}

fn aks_labels() -> Value {
    json!({"app": "konnectivity-agent", "component": "tunnel",
        "kubernetes.azure.com/managedby": "aks", "pod-template-hash": "7d9c5"})
}

fn deployment() -> Value {
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

fn node(name: &str, conditions: Value) -> Value {
    json!({"metadata": {"name": name}, "status": {"conditions": conditions}})
}

fn healthy_node(name: &str) -> Value {
    node(
        name,
        json!([{"type": "Ready", "status": "True"}, {"type": "MemoryPressure", "status": "False"}]),
    )
}

fn rows(finding: &Finding, label: &str) -> Vec<Vec<String>> {
    finding
        .evidence
        .iter()
        .find(|e| e.label == label)
        .unwrap_or_else(|| panic!("no {label} in {finding:#?}"))
        .rows
        .clone()
}

fn ids(rungs: &[crate::rung::Rung]) -> Vec<&str> {
    rungs.iter().map(|r| r.finding.id.as_str()).collect()
}

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
fn no_tunnel_is_information_not_a_failure() {
    let rungs = verdicts::judge(&Inventory::default());
    assert_eq!(ids(&rungs), ["connectivity.tunnel.none"]);
    assert_eq!(rungs[0].finding.severity, Severity::Info);
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

fn target(name: &str, ready: bool, hosts_agent: bool) -> NodeTarget {
    NodeTarget {
        name: name.into(),
        address: Some("10.224.0.5".into()),
        port: 10250,
        ready,
        hosts_agent,
    }
}

fn names(nodes: &[NodeTarget]) -> Vec<&str> {
    nodes.iter().map(|n| n.name.as_str()).collect()
}

#[test]
fn the_sample_takes_nodes_with_and_without_an_agent_ready_first() {
    let nodes = [
        target("d", false, false),
        target("c", true, false),
        target("b", true, true),
        target("a", true, true),
        target("e", true, false),
    ];
    assert_eq!(names(&probe::choose(&nodes, 3)), ["a", "c", "b"]);
    assert_eq!(names(&probe::choose(&nodes, 2)), ["a", "c"]);
    assert_eq!(names(&probe::choose(&nodes, 1)), ["a"]);
    assert_eq!(names(&probe::choose(&nodes, 10)), ["a", "c", "b", "e", "d"]);
    assert_eq!(names(&probe::choose(&nodes[..2], 3)), ["c", "d"]);
    assert!(probe::choose(&nodes, 0).is_empty());
}

#[test]
fn a_node_says_its_internal_ip_and_kubelet_port() {
    let agents: BTreeSet<String> = ["aks-nodepool1-1".to_string()].into();
    let parsed = NodeTarget::parse(
        &json!({"metadata": {"name": "aks-nodepool1-1"}, "status": {
            "addresses": [{"type": "Hostname", "address": "aks-nodepool1-1"}, {"type": "InternalIP", "address": "10.224.0.4"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "conditions": [{"type": "Ready", "status": "True"}]}}),
        &agents,
    );
    assert_eq!(
        parsed,
        NodeTarget {
            name: "aks-nodepool1-1".into(),
            address: Some("10.224.0.4".into()),
            port: 10250,
            ready: true,
            hosts_agent: true,
        }
    );
    let bare = NodeTarget::parse(&json!({"metadata": {"name": "n"}}), &agents);
    assert_eq!(
        (bare.address, bare.port, bare.ready, bare.hosts_agent),
        (None, 10250, false, false)
    );
}

/// The API server's texts, as it answers a `pods/log` it cannot deliver.
const TIMEOUT: &str = "Get \"https://10.224.0.5:10250/containerLogs/default/web-0/web?limitBytes=1&tailLines=1\": dial tcp 10.224.0.5:10250: i/o timeout";
const REFUSED: &str = "Get \"https://10.224.0.5:10250/containerLogs/default/web-0/web?limitBytes=1&tailLines=1\": dial tcp 10.224.0.5:10250: connect: connection refused";
const NO_AGENT: &str = "Get \"https://10.224.0.5:10250/containerLogs/default/web-0/web?limitBytes=1&tailLines=1\": No agent available";
const HTTP: &str = "Get \"https://10.224.0.5:10250/containerLogs/default/web-0/web?limitBytes=1&tailLines=1\": http: server gave HTTP response to HTTPS client";

#[test]
fn every_dial_error_is_told_by_its_words() {
    let cases = [
        (TIMEOUT, Verdict::Timeout),
        (
            "Get \"https://10.224.0.5:10250/containerLogs/a/b/c\": dial tcp 10.224.0.5:10250: getsockopt: connection timed out",
            Verdict::Timeout,
        ),
        (REFUSED, Verdict::Refused),
        (NO_AGENT, Verdict::NoAgent),
        (
            "error trying to reach service: No agent available",
            Verdict::NoAgent,
        ),
        (HTTP, Verdict::NotKubelet),
        (
            "Get \"https://10.224.0.5:10250/containerLogs/a/b/c\": tunnel closed",
            Verdict::TunnelClosed,
        ),
        (
            "Get \"https://10.224.0.5:10250/containerLogs/a/b/c\": dial timeout, backstop",
            Verdict::TunnelClosed,
        ),
        (
            "Get \"https://10.224.0.5:10250/containerLogs/a/b/c\": dial closed",
            Verdict::TunnelClosed,
        ),
        (
            "Get \"https://10.224.0.5:10250/containerLogs/a/b/c\": write unix @->/tunnel-uds/proxysocket: write: broken pipe",
            Verdict::ControlPlaneSocket,
        ),
        (
            "Get \"https://10.224.0.5:10250/containerLogs/a/b/c\": dial tcp 10.224.0.5:10250: connect: no route to host",
            Verdict::Unreachable,
        ),
        (
            "Get \"https://10.224.0.5:10250/containerLogs/a/b/c\": remote error: tls: bad certificate",
            Verdict::Failed,
        ),
    ];
    for (message, expected) in cases {
        let outcome = Outcome::from_body(
            500,
            json!({"kind": "Status", "status": "Failure", "message": message, "code": 500})
                .to_string()
                .as_bytes(),
        );
        assert_eq!(probe::classify(&outcome), expected, "{message}");
    }
}

#[test]
fn any_kubelet_reply_proves_the_path() {
    assert_eq!(
        probe::classify(&Outcome::Replied { code: 200 }),
        Verdict::Ok
    );
    // The kubelet's own 400 and 500, passed on with a reason by the API server.
    let waiting = Outcome::of(Err(ApiError::Status {
        request: "GET /api/v1/namespaces/default/pods/web-0/log".into(),
        code: 400,
        reason: "BadRequest".into(),
        message: "container \"web\" in pod \"web-0\" is waiting to start: ContainerCreating".into(),
    }));
    assert_eq!(probe::classify(&waiting), Verdict::Ok);
    let internal = Outcome::from_body(500, br#"{"kind":"Status","reason":"InternalError","message":"Internal error occurred: failed to open log file","code":500}"#);
    assert_eq!(probe::classify(&internal), Verdict::Ok);
    // Not a Status at all: judged by its text.
    assert_eq!(
        probe::classify(&Outcome::from_body(502, REFUSED.as_bytes())),
        Verdict::Refused
    );
    assert_eq!(probe::classify(&Outcome::NoAnswer), Verdict::Timeout);
    let forbidden = Outcome::of(Err(ApiError::Forbidden {
        request: "GET x".into(),
        message: "pods \"web-0\" is forbidden".into(),
    }));
    assert_eq!(probe::classify(&forbidden), Verdict::NotProbed);
    assert_eq!(
        probe::classify(&Outcome::of(Err(ApiError::NotFound { path: "x".into() }))),
        Verdict::NotProbed
    );
}

fn log_target() -> LogTarget {
    LogTarget {
        namespace: "default".into(),
        pod: "web-0".into(),
        container: "web".into(),
    }
}

fn failed(message: &str) -> Outcome {
    Outcome::Failed {
        code: 500,
        reason: String::new(),
        message: message.into(),
    }
}

#[test]
fn a_probe_rung_quotes_kubectl() {
    let node = target("aks-nodepool1-2", true, false);
    let outcome = failed(TIMEOUT);
    let rung = probe::rung(
        &node,
        &log_target(),
        &outcome,
        probe::classify(&outcome),
        Duration::from_millis(1200),
    );
    let f = &rung.finding;
    assert_eq!(
        (f.id.as_str(), f.severity),
        ("connectivity.node-tunnel.timeout", Severity::Critical)
    );
    assert_eq!(
        f.title,
        "API server → kubelet on node aks-nodepool1-2: dial tcp 10.224.0.5:10250: i/o timeout (1.2 s)"
    );
    assert!(f.detail.starts_with(&format!("kubectl logs says: `Error from server: {TIMEOUT}`. Packets to the kubelet port are dropped.")), "{}", f.detail);

    // Our own 10 s limit: kubectl's words are what it prints once the API server gives up.
    let rung = probe::rung(
        &node,
        &log_target(),
        &Outcome::NoAnswer,
        Verdict::Timeout,
        Duration::from_secs(10),
    );
    assert_eq!(
        rung.finding.title,
        "API server → kubelet on node aks-nodepool1-2: no answer in 10 s (the API server is still dialing 10.224.0.5:10250) (10.0 s)"
    );
    assert!(rung.finding.detail.starts_with("kubectl logs says: `Error from server: Get \"https://10.224.0.5:10250/containerLogs/default/web-0/web\": dial tcp 10.224.0.5:10250: i/o timeout`."), "{}", rung.finding.detail);

    let outcome = failed(NO_AGENT);
    let rung = probe::rung(
        &node,
        &log_target(),
        &outcome,
        probe::classify(&outcome),
        Duration::from_millis(30),
    );
    assert_eq!(rung.finding.id, "connectivity.node-tunnel.no-agent");
    assert_eq!(
        rung.finding.title,
        "API server → kubelet on node aks-nodepool1-2: No agent available (30 ms)"
    );

    let rung = probe::rung(
        &node,
        &log_target(),
        &Outcome::Replied { code: 200 },
        Verdict::Ok,
        Duration::from_millis(8),
    );
    assert_eq!(
        (rung.finding.id.as_str(), rung.finding.severity),
        ("connectivity.node-tunnel.ok", Severity::Ok)
    );
    assert_eq!(
        rung.finding.title,
        "API server → kubelet on node aks-nodepool1-2: the kubelet answered: the path works (8 ms)"
    );
}

fn probed(name: &str, hosts_agent: bool, verdict: Verdict) -> Probed {
    let node = target(name, true, hosts_agent);
    let rung = crate::rung::Rung::pass("x", "x", "x", None);
    Probed {
        node,
        verdict,
        rung,
    }
}

#[test]
fn failures_only_off_agent_nodes_mean_10250_is_blocked_between_nodes() {
    let summary = probe::summarize(&[
        probed("a", true, Verdict::Ok),
        probed("c", false, Verdict::Timeout),
        probed("b", true, Verdict::Ok),
    ])
    .unwrap();
    assert_eq!(
        summary.finding.id,
        "connectivity.node-tunnel.blocked-between-nodes"
    );
    assert_eq!(
        summary.finding.title,
        "API server → kubelets: fails only on nodes without an agent (c): port 10250 is blocked between nodes"
    );

    let summary = probe::summarize(&[
        probed("a", true, Verdict::NoAgent),
        probed("c", false, Verdict::NoAgent),
    ])
    .unwrap();
    assert_eq!(summary.finding.id, "connectivity.node-tunnel.down");
    assert_eq!(
        summary.finding.title,
        "API server → kubelets: failed on all 2 probed nodes (a, c)"
    );
    assert!(
        summary
            .finding
            .detail
            .starts_with("Every probed node fails with `No agent available`")
    );

    let summary = probe::summarize(&[
        probed("a", true, Verdict::Refused),
        probed("c", false, Verdict::Ok),
    ])
    .unwrap();
    assert_eq!(summary.finding.id, "connectivity.node-tunnel.partial");
    assert_eq!(
        summary.finding.title,
        "API server → kubelets: failed on 1 of 2 probed nodes (a)"
    );

    assert!(
        probe::summarize(&[
            probed("a", true, Verdict::Ok),
            probed("c", false, Verdict::NotProbed)
        ])
        .is_none()
    );
}

#[test]
fn the_log_read_picks_a_running_container() {
    let pods = json!({"items": [
        {"metadata": {"name": "init", "namespace": "ns1"}, "spec": {"containers": [{"name": "main"}]},
         "status": {"containerStatuses": [{"name": "main", "state": {"waiting": {"reason": "PodInitializing"}}}]}},
        {"metadata": {"name": "web-0", "namespace": "ns2"}, "spec": {"containers": [{"name": "sidecar"}, {"name": "web"}]},
         "status": {"containerStatuses": [{"name": "sidecar", "state": {"terminated": {}}}, {"name": "web", "state": {"running": {}}}]}},
    ]});
    assert_eq!(
        LogTarget::pick(&pods),
        Some(LogTarget {
            namespace: "ns2".into(),
            pod: "web-0".into(),
            container: "web".into()
        })
    );
    let no_status = json!({"items": [{"metadata": {"name": "p", "namespace": "n"}, "spec": {"containers": [{"name": "c"}]}}]});
    assert_eq!(LogTarget::pick(&no_status).unwrap().container, "c");
    assert_eq!(LogTarget::pick(&json!({"items": []})), None);
}

#[test]
fn the_restart_is_kubectls_rollout_restart_from_the_object_as_read() {
    let found: Vec<TunnelDeployment> = [deployment()]
        .iter()
        .filter_map(TunnelDeployment::parse)
        .collect();
    let now: jiff::Timestamp = "2026-12-01T16:20:05.123Z".parse().unwrap();
    let plan = restart::plan(&found, &[], now).unwrap();
    assert_eq!(plan.id, "connectivity.restart-tunnel");
    assert_eq!(plan.check, "connectivity");
    assert_eq!(
        plan.title,
        "rollout restart of deployment konnectivity-agent in kube-system (as `kubectl rollout restart` does it)"
    );
    assert_eq!(plan.operations.len(), 1);
    let op = &plan.operations[0];
    assert_eq!(
        op.target.path(),
        "/apis/apps/v1/namespaces/kube-system/deployments/konnectivity-agent"
    );
    assert_eq!(op.target.resource_version.as_deref(), Some("4711"));
    assert_eq!(op.before.as_ref(), Some(&deployment()));
    assert_eq!(
        op.action,
        Action::Patch {
            patch: json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-12-01T16:20:05Z"}}}}})
        }
    );
    let changes = op.changes();
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0].path,
        "spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt"
    );
    assert_eq!(
        changes[0].after.as_deref(),
        Some("\"2026-12-01T16:20:05Z\"")
    );
}

#[test]
fn the_restart_refuses_when_there_is_nothing_to_roll_out() {
    let now = jiff::Timestamp::now();
    let error = restart::plan(&[], &["konnectivity-agent-x2b4c".into()], now).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no tunnel Deployment in kube-system: there is nothing to roll out. The agent Pods (konnectivity-agent-x2b4c) have no Deployment here; the guide says to try deleting the pods so they are created again (`kubectl -n kube-system delete pod <name>`); apidiag does not delete Pods"
    );
    assert_eq!(
        restart::plan(&[], &[], now).unwrap_err(),
        restart::RestartError::NoTunnel
    );
    let mut paused = deployment();
    paused["spec"]["paused"] = json!(true);
    let found: Vec<TunnelDeployment> = [paused]
        .iter()
        .filter_map(TunnelDeployment::parse)
        .collect();
    assert_eq!(
        restart::plan(&found, &[], now).unwrap_err().to_string(),
        "the tunnel Deployments are paused (konnectivity-agent): resume them first (`kubectl -n kube-system rollout resume deploy/<name>`)"
    );
}
