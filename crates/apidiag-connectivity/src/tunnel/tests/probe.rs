//! The node choice, the dial errors and the probe rungs.

use std::collections::BTreeSet;
use std::time::Duration;

use apidiag_core::api::ApiError;
use apidiag_core::finding::Severity;
use serde_json::json;

use super::super::dial::{self, Outcome, Verdict};
use super::super::pattern;
use super::super::probe::{self, LogTarget, NodeTarget, Probed};

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

/// An error answer as the client returns it.
fn server_error(code: u16, reason: &str, message: &str) -> ApiError {
    ApiError::Status {
        request: "GET /api/v1/namespaces/default/pods/web-0/log".into(),
        code,
        reason: reason.into(),
        message: message.into(),
    }
}

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
        // A dial failure's Status has no reason: the client says the code's phrase.
        let outcome = Outcome::of(Err(server_error(500, "Internal Server Error", message)));
        assert_eq!(dial::classify(&outcome), expected, "{message}");
    }
}

#[test]
fn any_kubelet_reply_proves_the_path() {
    assert_eq!(dial::classify(&Outcome::Replied { code: 200 }), Verdict::Ok);
    // The kubelet's own 400 and 500, passed on with a reason by the API server.
    let waiting = Outcome::of(Err(ApiError::Status {
        request: "GET /api/v1/namespaces/default/pods/web-0/log".into(),
        code: 400,
        reason: "BadRequest".into(),
        message: "container \"web\" in pod \"web-0\" is waiting to start: ContainerCreating".into(),
    }));
    assert_eq!(dial::classify(&waiting), Verdict::Ok);
    let internal = Outcome::of(Err(server_error(
        500,
        "InternalError",
        "Internal error occurred: failed to open log file",
    )));
    assert_eq!(dial::classify(&internal), Verdict::Ok);
    // A dial failure is one whatever the code; unknown words with no reason are not a reply.
    assert_eq!(
        dial::classify(&Outcome::of(Err(server_error(502, "Bad Gateway", REFUSED)))),
        Verdict::Refused
    );
    assert_eq!(
        dial::classify(&Outcome::of(Err(server_error(
            500,
            "Internal Server Error",
            "Get \"https://10.224.0.5:10250/containerLogs/a/b/c\": EOF"
        )))),
        Verdict::Failed
    );
    assert_eq!(dial::classify(&Outcome::NoAnswer), Verdict::Timeout);
    let forbidden = Outcome::of(Err(ApiError::Forbidden {
        request: "GET x".into(),
        message: "pods \"web-0\" is forbidden".into(),
    }));
    assert_eq!(dial::classify(&forbidden), Verdict::NotProbed);
    assert_eq!(
        dial::classify(&Outcome::of(Err(ApiError::NotFound { path: "x".into() }))),
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
        dial::classify(&outcome),
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
        dial::classify(&outcome),
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
    let summary = pattern::summarize(&[
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

    let summary = pattern::summarize(&[
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

    let summary = pattern::summarize(&[
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
        pattern::summarize(&[
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
