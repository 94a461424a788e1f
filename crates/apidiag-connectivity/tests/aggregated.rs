//! The aggregated-API rungs on a real kube-apiserver with the lab's
//! `unavailable-apiservice` scenario: an APIService whose Service has no Pods
//! and one whose Service never existed (orphaned), a namespace stuck in
//! Terminating behind them; the exact findings, the delete plan and its
//! refusal, the delete through the core's guided flow (checked with kubectl),
//! and its undo bringing the APIService back with the same spec.
//!
//! A test binary of its own: APIServices are cluster-wide.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::process::Output;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::Value;

use apidiag_connectivity::aggregated;
use apidiag_core::cli::{GlobalArgs, RemediationArgs};
use apidiag_core::finding::{Finding, Severity};
use apidiag_core::remediation::{self, RemediationState, Session, restore};
use apidiag_test::{
    APISERVICE_NAME, APISERVICE_ORPHAN, Lab, Scenario, ScenarioSize, kubectl_as_admin,
};

/// The namespace the scenario keeps its Service in.
const NAMESPACE: &str = "lab-apiservice";
/// A namespace deleted while the APIServices are down: it stays Terminating.
const STUCK: &str = "lab-apiservice-stuck";
/// The crash-looping backend Pod the test adds, and the kubelet-less Node it is on.
const POD: &str = "lab-metrics-0";
const NODE: &str = "lab-aggregated-node";

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A Pod the Service selects, crash-looping as its status says, on a Node
/// whose kubelet port is closed (the lab has no kubelet): its log cannot be
/// fetched, and the API server's error is the evidence.
fn crashing_pod(lab: &Lab) -> u16 {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let node = serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE}});
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": POD, "namespace": NAMESPACE, "labels": {"app": "lab-metrics"}},
        "spec": {"nodeName": NODE, "automountServiceAccountToken": false,
            "containers": [{"name": "server", "image": "registry.lab.apidiag.dev/metrics:1"}]},
    });
    for object in [node, pod] {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), object.to_string()).unwrap();
        ok(kubectl_as_admin(
            lab,
            &["apply", "-f", file.path().to_str().unwrap()],
        ));
    }
    let node_status = serde_json::json!({"status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": closed}},
    }});
    ok(kubectl_as_admin(
        lab,
        &[
            "patch",
            "node",
            NODE,
            "--subresource=status",
            "--type=merge",
            "-p",
            &node_status.to_string(),
        ],
    ));
    let status = serde_json::json!({"status": {"phase": "Running", "containerStatuses": [{
        "name": "server", "image": "registry.lab.apidiag.dev/metrics:1", "imageID": "",
        "ready": false, "restartCount": 9, "started": false,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
    }]}});
    ok(kubectl_as_admin(
        lab,
        &[
            "patch",
            "pod",
            POD,
            "-n",
            NAMESPACE,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ],
    ));
    closed
}

/// Deletes `STUCK` and waits until the namespace controller says discovery
/// blocks it.
fn stuck_namespace(lab: &Lab) {
    ok(kubectl_as_admin(lab, &["create", "namespace", STUCK]));
    ok(kubectl_as_admin(
        lab,
        &["delete", "namespace", STUCK, "--wait=false"],
    ));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ns: Value = serde_json::from_str(&ok(kubectl_as_admin(
            lab,
            &["get", "namespace", STUCK, "-o", "json"],
        )))
        .unwrap();
        let blocked = ns["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "NamespaceDeletionDiscoveryFailure" && c["status"] == "True");
        if blocked {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{STUCK} never reported NamespaceDeletionDiscoveryFailure: {ns:#}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn by_id<'a>(findings: &'a [Finding], id: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.id == id).collect()
}

fn evidence(finding: &Finding) -> Vec<(String, String, Vec<Vec<String>>)> {
    finding
        .evidence
        .iter()
        .map(|e| (e.label.clone(), e.value.clone(), e.rows.clone()))
        .collect()
}

fn apiservice_json(lab: &Lab, name: &str) -> Value {
    serde_json::from_str(&ok(kubectl_as_admin(
        lab,
        &["get", "apiservice", name, "-o", "json"],
    )))
    .unwrap()
}

#[test]
fn unavailable_and_orphaned_apiservices_are_judged_and_the_orphan_deleted_and_restored() {
    let lab = apidiag_test::lab();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(lab.apply(Scenario::UnavailableApiService, ScenarioSize::default()))
        .unwrap();
    stuck_namespace(lab);
    let kubelet_port = crashing_pod(lab);
    let orphan_before = apiservice_json(lab, APISERVICE_ORPHAN);

    let cli = Cli::try_parse_from([
        "test",
        "--kubeconfig",
        lab.admin_kubeconfig().to_str().unwrap(),
        "--yes",
    ])
    .unwrap();
    let ctx = match runtime.block_on(apidiag_core::run::open(&cli.global)) {
        Ok(ctx) => ctx,
        Err(_) => panic!("the lab does not answer"),
    };
    let before = ctx.api.cost().requests;
    let (rungs, collected) = runtime.block_on(aggregated::diagnose(&ctx));
    let collected = collected.unwrap();
    // 1 LIST of APIServices; lab-metrics: its Service, EndpointSlices, Pods,
    // Warning events, NetworkPolicies, the crashing Pod's log (a 500, which the
    // client tries three times); lab-uninstalled: its Service, its namespace,
    // Warning events; Terminating namespaces; /metrics.
    assert_eq!(ctx.api.cost().requests - before, 1 + (5 + 3) + 3 + 1 + 1);
    let findings: Vec<Finding> = rungs.into_iter().map(|r| r.finding).collect();
    // The field selector status.phase works for namespaces, /metrics was read,
    // and nothing was capped.
    assert_eq!(collected.gaps, Vec::<String>::new());
    let ids: Vec<(&str, Severity)> = findings
        .iter()
        .map(|f| (f.id.as_str(), f.severity))
        .collect();
    assert_eq!(
        ids,
        [
            (
                "connectivity.apiservice.service-not-found",
                Severity::Critical
            ),
            ("connectivity.apiservice.orphaned", Severity::Warning),
            (
                "connectivity.apiservice.missing-endpoints",
                Severity::Critical
            ),
        ]
    );

    let orphan = by_id(&findings, "connectivity.apiservice.service-not-found")[0];
    assert_eq!(
        orphan.title,
        format!("APIService {APISERVICE_ORPHAN}: unavailable (ServiceNotFound)")
    );
    assert!(orphan.detail.starts_with(&format!(
        "The availability controller says Available=False, reason ServiceNotFound: `service/lab-uninstalled in \"{NAMESPACE}\" is not present`. kubectl prints `couldn't get resource list for orphaned.lab.apidiag.dev/v1alpha1: the server is currently unable to handle the request`"
    )), "{}", orphan.detail);
    assert!(
        orphan.detail.ends_with(&format!(
            "Namespace deletion waits on it: 1 stuck in Terminating ({STUCK})."
        )),
        "{}",
        orphan.detail
    );
    let offers = &by_id(&findings, "connectivity.apiservice.orphaned")[0].remediations;
    assert_eq!(offers.len(), 1);
    assert_eq!(
        offers[0].command,
        format!(
            "kubectl apidiag connectivity --fix delete-apiservice --apiservice {APISERVICE_ORPHAN}"
        )
    );

    let missing = by_id(&findings, "connectivity.apiservice.missing-endpoints")[0];
    assert_eq!(
        missing.title,
        format!("APIService {APISERVICE_NAME}: unavailable (MissingEndpoints)")
    );
    assert!(missing.detail.starts_with(&format!(
        "The availability controller says Available=False, reason MissingEndpoints: `endpointslices for service/lab-metrics in \"{NAMESPACE}\" have no addresses with port name \"https\"`."
    )), "{}", missing.detail);

    let cluster_ip = ok(kubectl_as_admin(
        lab,
        &[
            "get",
            "service",
            "lab-metrics",
            "-n",
            NAMESPACE,
            "-o",
            "jsonpath={.spec.clusterIP}",
        ],
    ));
    let no_transition = "unavailable now (aggregator_unavailable_apiservice 1); no transition counted since this API server replica started (the _total counter counts changes from available only)";
    let mut shown = evidence(missing);
    assert_eq!(shown[0].0, "unavailable since");
    let slice = shown[3].2[0][0].clone();
    assert!(slice.starts_with("lab-metrics-"), "{slice}");
    assert_eq!(
        shown.split_off(1),
        [
            (
                "stuck namespaces".into(),
                format!("{STUCK} (NamespaceDeletionDiscoveryFailure)"),
                vec![]
            ),
            (
                format!("service {NAMESPACE}/lab-metrics"),
                format!("ClusterIP {cluster_ip}, ports https:443→4443, selector app=lab-metrics"),
                vec![]
            ),
            (
                "endpoint slices".into(),
                String::new(),
                vec![vec![slice, "-".into(), "none".into(), "0/0".into()]]
            ),
            (
                "pods".into(),
                String::new(),
                vec![vec![
                    POD.into(),
                    "Running".into(),
                    "0/1".into(),
                    "9".into(),
                    "OOMKilled (exit 137)".into()
                ]]
            ),
            (
                format!("log of {POD} (server)"),
                format!(
                    "could not be read: 500 Internal Server Error: Get \"https://127.0.0.1:{kubelet_port}/containerLogs/{NAMESPACE}/{POD}/server?limitBytes=2048&tailLines=5\": dial tcp 127.0.0.1:{kubelet_port}: connect: connection refused"
                ),
                vec![]
            ),
            (
                format!("warning events in {NAMESPACE}"),
                "none".into(),
                vec![]
            ),
            ("aggregator metrics".into(), no_transition.into(), vec![]),
        ]
    );
    assert_eq!(
        evidence(orphan).split_off(1),
        [
            (
                "stuck namespaces".into(),
                format!("{STUCK} (NamespaceDeletionDiscoveryFailure)"),
                vec![]
            ),
            (
                format!("service {NAMESPACE}/lab-uninstalled"),
                format!("not found in namespace {NAMESPACE} (the namespace exists)"),
                vec![]
            ),
            (
                format!("warning events in {NAMESPACE}"),
                "none".into(),
                vec![]
            ),
            ("aggregator metrics".into(), no_transition.into(), vec![]),
        ]
    );

    // The plan of the orphan, and the refusal of the other.
    let plan = aggregated::plan_delete(&collected, &[APISERVICE_ORPHAN.to_string()]).unwrap();
    assert_eq!(plan.operations.len(), 1);
    assert_eq!(
        plan.operations[0].target.path(),
        format!("/apis/apiregistration.k8s.io/v1/apiservices/{APISERVICE_ORPHAN}")
    );
    assert_eq!(
        aggregated::plan_delete(&collected, &[APISERVICE_NAME.to_string()]).unwrap_err(),
        format!(
            "`{APISERVICE_NAME}` is not orphaned: its Service {NAMESPACE}/lab-metrics is expected to exist (reason MissingEndpoints); repair its backend instead (`kubectl apidiag connectivity` shows the runbook's evidence)"
        )
    );

    // The delete, through the core's guided flow with --yes and a private backup root.
    let backups = tempfile::tempdir().unwrap();
    let args = RemediationArgs {
        yes: true,
        dry_run: false,
    };
    let session = Session {
        api: &ctx.api,
        args: &args,
        origin: apidiag_core::backup::Origin {
            server: ctx.server.url.clone(),
            context: ctx.server.context.clone(),
            cluster_uid: runtime
                .block_on(ctx.cluster_uid())
                .ok()
                .flatten()
                .map(str::to_string),
        },
        palette: apidiag_core::style::Palette::plain(),
        concurrency: 1,
        backup_root: backups.path().to_path_buf(),
    };
    let result = runtime
        .block_on(remediation::execute(&session, plan))
        .unwrap();
    assert_eq!(result.state, RemediationState::Applied, "{result:?}");
    let gone = kubectl_as_admin(lab, &["get", "apiservice", APISERVICE_ORPHAN]);
    assert!(!gone.status.success());
    assert_eq!(
        String::from_utf8_lossy(&gone.stderr).trim(),
        format!(
            "Error from server (NotFound): apiservices.apiregistration.k8s.io \"{APISERVICE_ORPHAN}\" not found"
        )
    );

    // Without the orphan, only the APIService with no Pods is left to report.
    let (after, _) = runtime.block_on(aggregated::diagnose(&ctx));
    let after: Vec<&str> = after.iter().map(|r| r.finding.id.as_str()).collect();
    assert_eq!(after, ["connectivity.apiservice.missing-endpoints"]);

    // The undo re-creates it from the backup.
    let bundle = apidiag_core::backup::Bundle::open(result.backup.as_deref().unwrap()).unwrap();
    let manifest = bundle.manifest().unwrap();
    assert!(restore::applies_to(&manifest));
    let mut notes = Vec::new();
    let undone = runtime
        .block_on(restore::execute(
            &session,
            &bundle,
            manifest,
            restore::RestoreOptions::default(),
            &mut notes,
        ))
        .unwrap();
    assert_eq!(
        undone.state,
        RemediationState::Applied,
        "{undone:?} {notes:?}"
    );
    let back = apiservice_json(lab, APISERVICE_ORPHAN);
    assert_eq!(back["spec"], orphan_before["spec"]);
    assert_eq!(
        back["metadata"]["labels"],
        orphan_before["metadata"]["labels"]
    );
    assert_ne!(back["metadata"]["uid"], orphan_before["metadata"]["uid"]);
}
