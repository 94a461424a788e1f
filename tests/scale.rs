//! Judgement at scale (issue 14), on a small `aks-scale` lab: 100 Nodes with 110
//! Pods each (3 DaemonSet Pods, 107 of Deployments and Jobs), the most upstream allows a node, which the guide's flat 10,000 would
//! call a leak. Every check runs; nothing but what the scenario plants may show,
//! and what it plants is found with its exact count. The scenario stays as written
//! while the checks run (no controller adds, binds, taints or evicts anything).
//! The full 5,000 Nodes and 200,000 Pods are `bench/scale.sh`.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use apidiag_test::{
    Lab, LabOptions, Sandbox, Scenario, ScenarioSize, assert_code, evidence_table, finding,
    json_report, kubectl_as_admin, stdout_lines,
};
use serde_json::Value;

/// The suite binary, built by cargo from this source for this test.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

const NODES: usize = 100;
const PODS: usize = 11_000;

fn count(lab: &Lab, args: &[&str]) -> usize {
    let mut all = args.to_vec();
    all.extend(["--no-headers", "-o", "name"]);
    stdout_lines(&kubectl_as_admin(lab, &all)).len()
}

#[test]
fn a_cluster_at_110_pods_a_node_is_judged_by_its_size() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut lab = runtime
        .block_on(Lab::start(LabOptions {
            workload_controllers: false,
            ..LabOptions::default()
        }))
        .expect("the lab starts");
    let size = ScenarioSize {
        scale_nodes: NODES,
        scale_pods: PODS,
        ..ScenarioSize::default()
    };
    let applied = runtime
        .block_on(lab.apply(Scenario::AksScale, size))
        .expect("aks-scale applies");
    eprintln!("{applied}");
    assert_eq!(applied.count("Pod"), PODS);
    // As `apidiag-lab up` does: metrics since start describe the cluster in
    // place, not the seconds of bulk writes that made it.
    runtime.block_on(lab.restart_apiserver()).unwrap();
    // The object-count metric is polled every 5 s in the lab.
    std::thread::sleep(std::time::Duration::from_secs(6));

    let sandbox = Sandbox::new();
    let out = sandbox.run(APIDIAG, lab.admin_kubeconfig(), &["-o", "json"]);
    let report = json_report(&out.stdout);

    // Pods at 110 a node are within what the cluster's size allows.
    let counts = finding(&report, "etcd", "etcd.object-count");
    assert_eq!(counts["severity"], "ok", "{counts:#}");
    let table = evidence_table(counts, "objects per type (top 15)");
    let pods = table.iter().find(|row| row[0] == "pods").unwrap();

    let row: Vec<&str> = pods
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        row,
        ["pods", "11000", "11000", "cluster size", ""],
        "{counts:#}"
    );
    let size = counts["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"] == "cluster size")
        .unwrap();
    assert!(
        size["value"]
            .as_str()
            .unwrap()
            .starts_with("100 nodes, 11,000 Pods, 41 Services"),
        "{size:#}"
    );

    // What it plants: the Jobs whose Pod failed, half of 1 % of the Pods.
    let failed = finding(&report, "etcd", "etcd.failed-pods");
    assert!(
        failed["title"]
            .as_str()
            .unwrap()
            .starts_with("55 failed Pods"),
        "{failed:#}"
    );

    // ... and, as for every leak, a note that their namespaces have no quota.
    let quota = finding(&report, "etcd", "etcd.no-object-quota");
    assert!(
        quota["title"]
            .as_str()
            .unwrap()
            .starts_with("2 namespaces where objects pile up"),
        "{quota:#}"
    );

    // Nothing else above ok, but the tunnel probe's note that no Pod runs (there
    // is no kubelet to start one).
    let mut shown: Vec<(String, String)> = Vec::new();
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(check["status"]["state"], "complete", "{check:#}");
        for f in check["findings"].as_array().unwrap() {
            let planted = ["etcd.failed-pods", "etcd.no-object-quota"];
            if f["severity"] != "ok" && !planted.contains(&f["id"].as_str().unwrap()) {
                shown.push((f["id"].as_str().unwrap().into(), f["severity"].to_string()));
            }
        }
    }
    let tunnel = (
        "connectivity.node-tunnel.no-pod".to_string(),
        "\"info\"".to_string(),
    );
    assert_eq!(
        shown,
        vec![tunnel.clone(), tunnel.clone(), tunnel],
        "{report:#}"
    );
    assert_code(&out, 0);
    let requests = report["cost"]["requests"].as_u64().unwrap();
    assert!(requests <= 100, "the full report cost {requests} requests");

    // The scenario is as it was written: no controller added Pods or
    // ReplicaSets, and every Node is still Ready.
    assert_eq!(count(&lab, &["get", "pods", "-A"]), PODS);
    // All ReplicaSets: one the Deployment controller made would carry only the
    // template's labels, not the scenario's.
    assert_eq!(
        count(&lab, &["get", "replicasets", "-A"]),
        count(&lab, &["get", "deployments", "-A"])
    );
    assert_eq!(count(&lab, &["get", "deployments", "-A"]), 40);
    let ready = stdout_lines(&kubectl_as_admin(
        &lab,
        &[
            "get",
            "nodes",
            "-o",
            "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}",
        ],
    ));
    assert_eq!(ready.len(), NODES);
    assert!(ready.iter().all(|s| s == "True"), "{ready:?}");
}

/// On a lab whose controller manager runs the workload controllers, the
/// scenario refuses before it writes anything, and says what to do.
#[test]
fn aks_scale_needs_a_lab_started_for_it() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = apidiag_test::lab();
    let error = runtime
        .block_on(lab.apply(Scenario::AksScale, ScenarioSize::default()))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("apidiag-lab up --scenario aks-scale"),
        "{error}"
    );
    let nodes: Value = serde_json::from_slice(
        &kubectl_as_admin(
            lab,
            &[
                "get",
                "nodes",
                "-l",
                "lab.apidiag.dev/scenario=aks-scale",
                "-o",
                "json",
            ],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(nodes["items"].as_array().unwrap().len(), 0);
    let namespaces = stdout_lines(&kubectl_as_admin(lab, &["get", "namespaces", "-o", "name"]));
    assert!(
        !namespaces.iter().any(|ns| ns.contains("lab-scale-")),
        "{namespaces:?}"
    );
}

/// On 1.31, which drops Job `spec.managedBy`, the scenario refuses before it
/// writes anything rather than let the job controller run its Jobs.
#[test]
fn aks_scale_refuses_a_server_without_job_managed_by() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = runtime
        .block_on(Lab::start(LabOptions {
            workload_controllers: false,
            k8s: Some("1.31".to_string()),
            ..LabOptions::default()
        }))
        .expect("the lab starts");
    let size = ScenarioSize {
        scale_nodes: 3,
        scale_pods: 300,
        ..ScenarioSize::default()
    };
    let error = runtime
        .block_on(lab.apply(Scenario::AksScale, size))
        .unwrap_err()
        .to_string();
    assert!(error.contains("drops Job spec.managedBy"), "{error}");
    assert_eq!(count(&lab, &["get", "nodes"]), 0);
    assert_eq!(
        count(
            &lab,
            &[
                "get",
                "namespaces",
                "-l",
                "lab.apidiag.dev/scenario=aks-scale"
            ]
        ),
        0
    );
}
