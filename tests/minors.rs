//! The older Kubernetes minors the lab pins (`go/k8s-1.34.mod`, `go/k8s-1.31.mod`;
//! every other test runs on the newest), each on a lab of its own: a healthy lab
//! gives nothing above ok in any check, and one story per check where the
//! versions differ: etcd's object counts come from the metric that minor serves
//! (the report says which) and a completed-Jobs cleanup is undone; the guard is
//! found and fixed on the flowcontrol versions that minor serves; throttle reads
//! the flood's 429s from that minor's APF metrics; connectivity finds the broken
//! APIServices; webhooks finds the fail-closed webhook whose backend is down.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use apidiag_test::{
    Lab, LabOptions, Sandbox, Scenario, ScenarioSize, assert_code, check_names, findings,
    json_report, kubectl_as_admin, stdout_lines,
};
use serde_json::Value;

/// The suite binary, built by cargo from this source for this test.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

fn completed_jobs(lab: &Lab, namespace: &str) -> Vec<String> {
    stdout_lines(&kubectl_as_admin(
        lab,
        &[
            "get",
            "jobs",
            "-n",
            namespace,
            "--field-selector",
            "status.successful=1",
            "-o",
            "name",
        ],
    ))
}

/// Everything that is said about how the object counts were read.
fn object_count_source(report: &Value) -> String {
    findings(report, "etcd")
        .iter()
        .map(|f| f.to_string())
        .filter(|text| {
            text.contains("apiserver_resource_objects")
                || text.contains("apiserver_storage_objects")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The story of one minor: `metric` is the object-count metric it serves, and
/// `flowcontrol` the flowcontrol versions it serves.
fn story(minor: &str, metric: &str, flowcontrol: &[&str]) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = runtime
        .block_on(Lab::start(LabOptions {
            k8s: Some(minor.to_string()),
            ..LabOptions::default()
        }))
        .expect("the lab starts");
    let pinned = apidiag_test::pinned_version(minor).unwrap();
    assert_eq!(lab.k8s_version(), pinned);
    let sandbox = Sandbox::new();
    let admin = lab.admin_kubeconfig();

    // A healthy lab: every check complete, nothing above ok.
    let healthy = sandbox.run(APIDIAG, admin, &["-o", "json"]);
    assert_code(&healthy, 0);
    let report = json_report(&healthy.stdout);
    assert_eq!(report["server"]["version"], pinned);
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(check["status"]["state"], "complete", "{check:#}");
        for finding in check["findings"].as_array().unwrap() {
            assert_eq!(finding["severity"], "ok", "{pinned}: {finding:#}");
        }
    }
    let checks = check_names(&report);
    assert_eq!(
        checks,
        ["etcd", "guard", "throttle", "webhooks", "connectivity"]
    );

    // etcd: the counts come from the metric this minor serves, and say so.
    runtime
        .block_on(lab.apply(Scenario::CompletedJobs, ScenarioSize::default()))
        .unwrap();
    let etcd = sandbox.run(APIDIAG, admin, &["etcd", "-o", "json"]);
    let report = json_report(&etcd.stdout);
    let source = object_count_source(&report);
    assert!(
        source.contains(metric),
        "{pinned}: the report does not name {metric}:\n{source}"
    );
    let other = if metric == "apiserver_storage_objects" {
        "apiserver_resource_objects"
    } else {
        "apiserver_storage_objects"
    };
    assert!(
        !source.contains(&format!("found {other}")),
        "{pinned}: {source}"
    );

    // A cleanup, then its undo, counted with kubectl.
    let before = completed_jobs(&lab, "lab-jobs-a");
    assert!(!before.is_empty());
    let cleaned = sandbox.run(
        APIDIAG,
        admin,
        &[
            "etcd",
            "--fix",
            "completed-jobs",
            "--in",
            "lab-jobs-a",
            "--yes",
        ],
    );
    assert_code(&cleaned, 0);
    assert!(
        completed_jobs(&lab, "lab-jobs-a").is_empty(),
        "{pinned}: Jobs left after the cleanup"
    );
    let undone = sandbox.run(APIDIAG, admin, &["undo", "--yes"]);
    assert_code(&undone, 0);
    let mut after = completed_jobs(&lab, "lab-jobs-a");
    let mut before = before;
    after.sort();
    before.sort();
    assert_eq!(after, before, "{pinned}: undo brought back other Jobs");

    // guard: the flowcontrol versions this minor serves, the guard found and fixed.
    let served = stdout_lines(&kubectl_as_admin(&lab, &["api-versions"]));
    let mut flow: Vec<&str> = served
        .iter()
        .filter_map(|v| v.strip_prefix("flowcontrol.apiserver.k8s.io/"))
        .collect();
    flow.sort();
    let mut wanted = flowcontrol.to_vec();
    wanted.sort();
    assert_eq!(flow, wanted, "{pinned}: flowcontrol versions");
    runtime
        .block_on(lab.apply(Scenario::Guard, ScenarioSize::default()))
        .unwrap();
    let guard = sandbox.run(APIDIAG, admin, &["guard", "-o", "json"]);
    assert_code(&guard, 2);
    let report = json_report(&guard.stdout);
    let applied = findings(&report, "guard")
        .into_iter()
        .find(|f| f["id"] == "guard.applied")
        .cloned()
        .unwrap();
    assert_eq!(applied["severity"], "critical");
    let fixed = sandbox.run(
        APIDIAG,
        admin,
        &["guard", "--fix", "skip-update", "--yes", "-o", "json"],
    );
    assert_code(&fixed, 0);
    assert_eq!(
        json_report(&fixed.stdout)["remediation"]["state"],
        "applied"
    );
    let schema = kubectl_as_admin(
        &lab,
        &[
            "get",
            "flowschema",
            "aks-managed-apiserver-guard",
            "-o",
            "jsonpath={.metadata.labels.aks-managed-skip-update-operation}",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&schema.stdout),
        "true",
        "{pinned}: the guard FlowSchema was not labelled"
    );

    fault_stories(&runtime, &lab, &sandbox, pinned);
}

/// The finding `id` of `check` in a report, failing with the ids there are.
fn finding<'a>(report: &'a Value, check: &str, id: &str) -> &'a Value {
    findings(report, check)
        .into_iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

/// Throttle, connectivity and webhooks on the lab of `story`, with their faults.
fn fault_stories(runtime: &tokio::runtime::Runtime, lab: &Lab, sandbox: &Sandbox, pinned: &str) {
    let admin = lab.admin_kubeconfig();
    runtime
        .block_on(lab.apply(Scenario::Flood, ScenarioSize::default()))
        .unwrap();
    let throttle = sandbox.run(APIDIAG, admin, &["throttle", "--window", "0", "-o", "json"]);
    let report = json_report(&throttle.stdout);
    let rejecting = finding(&report, "throttle", "throttle.apf-rejecting");
    assert_ne!(rejecting["severity"], "ok", "{pinned}: {rejecting:#}");
    assert!(
        rejecting["title"].as_str().unwrap().contains("lab-flooder"),
        "{pinned}: {rejecting:#}"
    );

    runtime
        .block_on(lab.apply(Scenario::UnavailableApiService, ScenarioSize::default()))
        .unwrap();
    let connectivity = sandbox.run(APIDIAG, admin, &["connectivity", "-o", "json"]);
    assert_code(&connectivity, 2);
    let report = json_report(&connectivity.stdout);
    for id in [
        "connectivity.apiservice.service-not-found",
        "connectivity.apiservice.missing-endpoints",
        "connectivity.apiservice.orphaned",
    ] {
        finding(&report, "connectivity", id);
    }

    runtime
        .block_on(lab.apply(Scenario::FailingWebhook, ScenarioSize::default()))
        .unwrap();
    let webhooks = sandbox.run(APIDIAG, admin, &["webhooks", "-o", "json"]);
    assert_code(&webhooks, 2);
    let report = json_report(&webhooks.stdout);
    let down = finding(&report, "webhooks", "webhooks.fail-closed-backend-down");
    assert_eq!(down["severity"], "critical", "{pinned}: {down:#}");
}

#[test]
fn kubernetes_1_34() {
    story("1.34", "apiserver_resource_objects", &["v1"]);
}

#[test]
fn kubernetes_1_31() {
    story("1.31", "apiserver_storage_objects", &["v1", "v1beta3"]);
}
