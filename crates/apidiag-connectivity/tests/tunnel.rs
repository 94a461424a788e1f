//! The tunnel rungs against the lab's real kube-apiserver: the crash-looping
//! konnectivity agents of the `konnectivity-crashloop` scenario, the restart fix
//! through the core's remediation flow and its undo (checked with kubectl), and
//! the tunnel probe against two Nodes made here: one whose kubelet port is
//! closed, one served by a fake kubelet. The API server dials them itself, so the
//! words in the findings are the server's, and they are checked against what
//! `kubectl logs` prints for the same pods.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use apidiag_connectivity::rung::Rung;
use apidiag_connectivity::tunnel::{self, TunnelArgs};
use apidiag_core::check::Context;
use apidiag_core::cli::{ConnectionArgs, GlobalArgs, RemediationArgs};
use apidiag_core::finding::Severity;
use apidiag_core::remediation::{self, Action, RemediationState, Session};
use apidiag_test::kubelet::FakeKubelet;
use apidiag_test::{Scenario, ScenarioSize, kubectl, lab};
use serde_json::{Value, json};

fn global() -> GlobalArgs {
    GlobalArgs {
        connection: ConnectionArgs {
            kubeconfig: Some(lab().admin_kubeconfig().to_path_buf()),
            ..Default::default()
        },
        remediation: RemediationArgs {
            yes: true,
            dry_run: false,
        },
        ..Default::default()
    }
}

async fn context() -> Context {
    match apidiag_core::run::open(&global()).await {
        Ok(ctx) => ctx,
        Err(_) => panic!("cannot open a context on the lab"),
    }
}

fn kubectl_admin(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(kubectl())
        .arg("--kubeconfig")
        .arg(lab().admin_kubeconfig())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[track_caller]
fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn deployment() -> Value {
    serde_json::from_str(&ok(kubectl_admin(
        &[
            "get",
            "deployment",
            "konnectivity-agent",
            "-n",
            "kube-system",
            "-o",
            "json",
        ],
        None,
    )))
    .unwrap()
}

/// Waits until the Deployment's resourceVersion holds still for a second: the
/// controllers update its status after every change, and the fix's patch carries
/// the resourceVersion it read as a precondition.
fn settled_deployment() -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = deployment();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = deployment();
        if now["metadata"]["resourceVersion"] == last["metadata"]["resourceVersion"] {
            return now;
        }
        assert!(Instant::now() < deadline, "the Deployment never settled");
        last = now;
    }
}

fn ids(rungs: &[Rung]) -> Vec<&str> {
    rungs.iter().map(|r| r.finding.id.as_str()).collect()
}

#[tokio::test]
async fn crash_looping_agents_are_found_restarted_and_restored() {
    lab()
        .apply(Scenario::KonnectivityCrashloop, ScenarioSize::default())
        .await
        .unwrap();
    let original = settled_deployment();
    let ctx = context().await;
    let (rungs, collected) = tunnel::diagnose(&ctx, &TunnelArgs { tunnel_nodes: 0 }).await;
    assert_eq!(ids(&rungs), ["connectivity.tunnel.crashloop"]);
    let finding = &rungs[0].finding;
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(
        finding.title,
        "tunnel agents in kube-system: konnectivity 2/2 in CrashLoopBackOff (229 restarts), 0/2 Ready"
    );
    let table = finding
        .evidence
        .iter()
        .find(|e| e.label == "agents")
        .unwrap();
    assert_eq!(
        table.columns,
        [
            "POD",
            "NODE",
            "READY",
            "RESTARTS",
            "STATE",
            "LAST TERMINATION"
        ]
    );
    let rest: Vec<&[String]> = table.rows.iter().map(|r| &r[1..]).collect();
    assert_eq!(
        rest,
        [
            ["(none)", "False", "87", "CrashLoopBackOff", "Error"],
            ["(none)", "False", "142", "CrashLoopBackOff", "Error"],
        ]
    );
    // The same pods and restart counts kubectl shows, in name order.
    let listed = ok(kubectl_admin(
        &[
            "get",
            "pods",
            "-n",
            "kube-system",
            "-l",
            "app=konnectivity-agent",
            "--sort-by=.metadata.name",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name} {.status.containerStatuses[0].restartCount}{\"\\n\"}{end}",
        ],
        None,
    ));
    let from_kubectl: Vec<String> = listed.lines().map(str::to_string).collect();
    let from_rung: Vec<String> = table
        .rows
        .iter()
        .map(|r| format!("{} {}", r[0], r[3]))
        .collect();
    assert_eq!(from_rung, from_kubectl);
    assert_eq!(
        finding.remediations[0].command,
        "kubectl apidiag connectivity --fix restart-tunnel"
    );

    // The plan: kubectl's rollout restart, on the Deployment as read.
    let plan = tunnel::plan_restart(&collected.unwrap()).unwrap();
    assert_eq!(plan.id, "connectivity.restart-tunnel");
    assert_eq!(plan.operations.len(), 1);
    let operation = &plan.operations[0];
    assert_eq!(
        operation.target.path(),
        "/apis/apps/v1/namespaces/kube-system/deployments/konnectivity-agent"
    );
    assert_eq!(
        operation.target.resource_version,
        original["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_string)
    );
    let Action::Patch { patch } = &operation.action else {
        panic!("not a patch: {:?}", operation.action)
    };
    let stamp =
        patch["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .as_str()
            .unwrap()
            .to_string();
    assert_eq!(
        patch,
        &json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}})
    );
    let stamped: jiff::Timestamp = stamp.parse().unwrap();
    assert!((jiff::Timestamp::now().as_second() - stamped.as_second()).abs() < 120);
    assert!(!stamp.contains('.'), "whole seconds, as kubectl: {stamp}");

    // Through the core's flow: dry run, backup, patch.
    let backups = tempfile::tempdir().unwrap();
    let session = Session {
        api: &ctx.api,
        args: &ctx.global.remediation,
        origin: apidiag_core::backup::Origin {
            server: ctx.server.url.clone(),
            context: ctx.server.context.clone(),
            cluster_uid: None,
        },
        palette: apidiag_core::style::Palette::plain(),
        concurrency: 1,
        backup_root: backups.path().to_path_buf(),
    };
    let result = remediation::execute(&session, plan).await.unwrap();
    assert_eq!(result.state, RemediationState::Applied, "{result:?}");
    let restarted = deployment();
    assert_eq!(
        restarted["spec"]["template"]["metadata"]["annotations"],
        json!({"kubectl.kubernetes.io/restartedAt": stamp})
    );
    // The Deployment controller takes it as a rollout: a second ReplicaSet.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sets = ok(kubectl_admin(
            &[
                "get",
                "replicasets",
                "-n",
                "kube-system",
                "-l",
                "app=konnectivity-agent",
                "-o",
                "name",
            ],
            None,
        ));
        if sets.lines().count() == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no new ReplicaSet: {sets}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // Undo from the bundle: the template as it was, so the rollout goes back.
    settled_deployment();
    let bundle = apidiag_core::backup::Bundle::open(result.backup.as_deref().unwrap()).unwrap();
    let (undo, _notes) = remediation::undo::plan(&ctx.api, &bundle).await.unwrap();
    let undone = remediation::execute(&session, undo).await.unwrap();
    assert_eq!(undone.state, RemediationState::Applied, "{undone:?}");
    let restored = deployment();
    assert_eq!(
        restored["spec"]["template"], original["spec"]["template"],
        "the template is back as it was"
    );
}

/// Nodes and pods this test makes, deleted when it ends (also when it fails).
struct Made;

impl Drop for Made {
    fn drop(&mut self) {
        let _ = kubectl_admin(
            &[
                "delete",
                "node",
                "lab-tunnel-kubelet",
                "lab-tunnel-refused",
                "--ignore-not-found",
                "--wait=false",
            ],
            None,
        );
        let _ = kubectl_admin(
            &[
                "delete",
                "namespace",
                "lab-tunnel",
                "--ignore-not-found",
                "--wait=false",
            ],
            None,
        );
    }
}

/// A Ready Node whose kubelet is at 127.0.0.1:`port`.
fn make_node(name: &str, port: u16) {
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}});
    ok(kubectl_admin(
        &["create", "-f", "-"],
        Some(&node.to_string()),
    ));
    let status = json!({"status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
            "message": "lab", "lastHeartbeatTime": jiff::Timestamp::now().to_string(),
            "lastTransitionTime": jiff::Timestamp::now().to_string()}],
    }});
    ok(kubectl_admin(
        &[
            "patch",
            "node",
            name,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ],
        None,
    ));
}

/// A Running pod bound to `node`, its status written as a kubelet would.
fn make_pod(name: &str, node: &str) {
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "lab-tunnel"},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "registry.lab.apidiag.dev/app:1"}]}});
    ok(kubectl_admin(
        &["create", "-f", "-"],
        Some(&pod.to_string()),
    ));
    let status = json!({"status": {"phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "app", "image": "registry.lab.apidiag.dev/app:1", "imageID": "",
            "ready": true, "restartCount": 0, "state": {"running": {"startedAt": jiff::Timestamp::now().to_string()}}}]}});
    ok(kubectl_admin(
        &[
            "patch",
            "pod",
            name,
            "-n",
            "lab-tunnel",
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ],
        None,
    ));
}

/// A loopback port nobody listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn the_probe_tells_a_kubelet_from_a_closed_port() {
    let _made = Made;
    let kubelet = FakeKubelet::start();
    let closed = closed_port();
    ok(kubectl_admin(&["create", "namespace", "lab-tunnel"], None));
    // The ServiceAccount admission plugin wants `default` before any pod.
    let _ = kubectl_admin(
        &["create", "serviceaccount", "default", "-n", "lab-tunnel"],
        None,
    );
    make_node("lab-tunnel-kubelet", kubelet.port);
    make_node("lab-tunnel-refused", closed);
    make_pod("on-kubelet", "lab-tunnel-kubelet");
    make_pod("on-refused", "lab-tunnel-refused");

    let ctx = context().await;
    let (rungs, _) = tunnel::diagnose(&ctx, &TunnelArgs { tunnel_nodes: 3 }).await;
    let probes: Vec<&Rung> = rungs
        .iter()
        .filter(|r| r.finding.id.starts_with("connectivity.node-tunnel."))
        .collect();
    let probe_ids: Vec<&str> = probes.iter().map(|r| r.finding.id.as_str()).collect();
    assert_eq!(
        probe_ids,
        [
            "connectivity.node-tunnel.ok",
            "connectivity.node-tunnel.refused",
            "connectivity.node-tunnel.partial"
        ],
        "{:#?}",
        probes.iter().map(|r| &r.finding).collect::<Vec<_>>()
    );

    let answered = &probes[0].finding;
    assert_eq!(answered.severity, Severity::Ok);
    assert!(
        answered.title.starts_with(
            "API server → kubelet on node lab-tunnel-kubelet: the kubelet answered: the path works ("
        ),
        "{}",
        answered.title
    );
    assert_eq!(
        kubelet.requests(),
        ["/containerLogs/lab-tunnel/on-kubelet/app?limitBytes=1&tailLines=1"]
    );

    let refused = &probes[1].finding;
    assert_eq!(refused.severity, Severity::Critical);
    assert!(
        refused.title.starts_with(&format!(
            "API server → kubelet on node lab-tunnel-refused: dial tcp 127.0.0.1:{closed}: connect: connection refused ("
        )),
        "{}",
        refused.title
    );
    // The finding quotes what `kubectl logs` prints for the same read.
    let logs = kubectl_admin(
        &[
            "logs",
            "on-refused",
            "-n",
            "lab-tunnel",
            "-c",
            "app",
            "--tail=1",
            "--limit-bytes=1",
        ],
        None,
    );
    assert!(!logs.status.success());
    let printed = String::from_utf8(logs.stderr).unwrap();
    let quoted = format!("kubectl logs says: `{}`.", printed.trim_end());
    assert_eq!(
        printed.trim_end(),
        format!(
            "Error from server: Get \"https://127.0.0.1:{closed}/containerLogs/lab-tunnel/on-refused/app?limitBytes=1&tailLines=1\": dial tcp 127.0.0.1:{closed}: connect: connection refused"
        )
    );
    assert!(
        refused.detail.starts_with(&quoted),
        "{}\n{quoted}",
        refused.detail
    );

    let summary = &probes[2].finding;
    assert_eq!(summary.severity, Severity::Warning);
    assert_eq!(
        summary.title,
        "API server → kubelets: failed on 1 of 2 probed nodes (lab-tunnel-refused)"
    );
}
