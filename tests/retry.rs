//! Faults the real API server will not produce on demand, against a scripted server:
//! a 429 with `Retry-After` mid-run, a 500 on a read, a connection cut mid-answer.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use apidiag_test::scripted::{Reply, ScriptedServer};
use apidiag_test::{Sandbox, assert_code, findings, json_report};
use serde_json::json;

/// The suite binary, built by cargo from this source for this test.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

const GUARD_FS: &str =
    "GET /apis/flowcontrol.apiserver.k8s.io/v1/flowschemas/aks-managed-apiserver-guard";
const GUARD_PL: &str = "GET /apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations/aks-managed-apiserver-guard";
const EVENT: &str =
    "GET /api/v1/namespaces/kube-system/events/aks-managed-apiserver-throttling-enabled";
const SCALING: &str =
    "GET /api/v1/namespaces/kube-system/configmaps/large-cluster-control-plane-scaling-status";

fn version() -> Reply {
    Reply::json(
        200,
        json!({"major": "1", "minor": "37", "gitVersion": "v1.37.1"}),
    )
}

fn flowcontrol_group() -> Reply {
    Reply::json(
        200,
        json!({"kind": "APIGroup", "name": "flowcontrol.apiserver.k8s.io",
               "versions": [{"groupVersion": "flowcontrol.apiserver.k8s.io/v1", "version": "v1"}],
               "preferredVersion": {"groupVersion": "flowcontrol.apiserver.k8s.io/v1", "version": "v1"}}),
    )
}

const METRICS: &str = "# HELP apiserver_flowcontrol_rejected_requests_total [BETA] Number of requests rejected by API Priority and Fairness subsystem\n# TYPE apiserver_flowcontrol_rejected_requests_total counter\napiserver_flowcontrol_rejected_requests_total{flow_schema=\"global-default\",priority_level=\"global-default\",reason=\"queue-full\"} 3\n";

#[test]
fn a_429_with_retry_after_mid_run_is_honoured_and_counted() {
    let server = ScriptedServer::start(vec![
        ("GET /version", version()),
        (
            "GET /apis/flowcontrol.apiserver.k8s.io",
            Reply::too_many_requests(1),
        ),
        (
            "GET /apis/flowcontrol.apiserver.k8s.io",
            flowcontrol_group(),
        ),
        (GUARD_FS, Reply::not_found()),
        (GUARD_PL, Reply::not_found()),
        (EVENT, Reply::not_found()),
        (SCALING, Reply::not_found()),
        ("GET /metrics", Reply::text(200, METRICS)),
    ]);
    let sandbox = Sandbox::new();
    let kubeconfig = server.kubeconfig(sandbox.home());
    let started = Instant::now();
    let output = sandbox.run(APIDIAG, &kubeconfig, &["guard", "-o", "json"]);
    let elapsed = started.elapsed();
    assert_code(&output, 0);
    assert!(
        server.unexpected().is_empty(),
        "unexpected: {:?}",
        server.unexpected()
    );
    assert!(
        server.unused().is_empty(),
        "never asked: {:?}",
        server.unused()
    );
    assert!(
        elapsed >= Duration::from_secs(1),
        "Retry-After: 1 not honoured: {elapsed:?}"
    );

    let report = json_report(&output.stdout);
    assert_eq!(report["cost"]["requests"], 8, "{report:#}");
    assert_eq!(report["cost"]["throttled"], 1, "{report:#}");
    let guard = findings(&report, "guard");
    assert_eq!(guard.len(), 1);
    assert_eq!(guard[0]["id"], "guard.applied");
    assert_eq!(guard[0]["severity"], "ok");

    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|(_, agent)| agent.starts_with("kubectl-apidiag/")),
        "{requests:?}"
    );
}

#[test]
fn a_read_that_fails_with_500_or_a_cut_connection_is_retried() {
    let server = ScriptedServer::start(vec![
        ("GET /version", version()),
        (
            "GET /apis/flowcontrol.apiserver.k8s.io",
            flowcontrol_group(),
        ),
        (
            GUARD_FS,
            Reply::status(500, "InternalError", "etcdserver: request timed out"),
        ),
        (GUARD_FS, Reply::not_found()),
        (GUARD_PL, Reply::not_found()),
        (EVENT, Reply::not_found()),
        (SCALING, Reply::not_found()),
        ("GET /metrics", Reply::text(200, METRICS).cut_short()),
        ("GET /metrics", Reply::text(200, METRICS)),
    ]);
    let sandbox = Sandbox::new();
    let kubeconfig = server.kubeconfig(sandbox.home());
    let output = sandbox.run(APIDIAG, &kubeconfig, &["guard", "-o", "json"]);
    assert_code(&output, 0);
    assert!(
        server.unused().is_empty(),
        "never asked: {:?}",
        server.unused()
    );
    let report = json_report(&output.stdout);
    assert_eq!(
        report["checks"][0]["status"]["state"], "complete",
        "{report:#}"
    );
}

#[test]
fn a_server_that_keeps_throttling_ends_in_could_not_check() {
    let mut script = vec![("GET /version", version())];
    for _ in 0..7 {
        script.push((
            "GET /apis/flowcontrol.apiserver.k8s.io",
            Reply::too_many_requests(0),
        ));
    }
    let server = ScriptedServer::start(script);
    let sandbox = Sandbox::new();
    let kubeconfig = server.kubeconfig(sandbox.home());
    let output = sandbox.run(APIDIAG, &kubeconfig, &["guard"]);
    assert_eq!(output.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("kept throttling"), "{stdout}");
    assert!(stdout.contains("kubectl apidiag throttle"), "{stdout}");
    assert!(
        server.unused().is_empty(),
        "never asked: {:?}",
        server.unused()
    );
}
