//! `kubectl apidiag webhooks` end to end on a real kube-apiserver with the lab's
//! broken webhooks (`failing-webhook`, `webhook-faults`): the verdicts with the
//! server's own metrics and the ReplicaSet controller's events as evidence, a
//! fail-open fix that makes pod creation work again (checked with kubectl), a
//! delete, and undo bringing each configuration back exactly.
//!
//! One lab of its own: the webhooks are cluster-wide objects.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::process::Output;
use std::time::{Duration, Instant};

use apidiag_test::admission::AdmissionServer;
use apidiag_test::{
    Lab, LabOptions, Sandbox, Scenario, ScenarioSize, WEBHOOK_CONFIGURATION,
    WEBHOOK_FAULTS_VALIDATING, WEBHOOK_HANG_NAMESPACE, WEBHOOK_NO_SERVICE_NAMESPACE,
    WEBHOOK_REFUSED_NAMESPACE, assert_code, findings, json_report, kubectl_as_admin,
};
use serde_json::Value;

/// The suite binary, built by cargo from this source for this test.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

const REFUSED: &str = "refused.faults.lab.apidiag.dev";
const NO_ENDPOINTS: &str = "validate-pods.lab.apidiag.dev";
const WORKING: &str = "working.lab.apidiag.dev";
const LEASES: &str = "leases.faults.lab.apidiag.dev";
const NO_SERVICE: &str = "nosvc.faults.lab.apidiag.dev";
const HANG: &str = "hang.faults.lab.apidiag.dev";

/// A pod created on the server as a dry run: what a webhook answers.
fn try_pod(lab: &Lab, namespace: &str) -> Output {
    kubectl_as_admin(
        lab,
        &[
            "run",
            "probe",
            "--image=registry.lab.apidiag.dev/probe:1",
            "-n",
            namespace,
            "--dry-run=server",
        ],
    )
}

/// A validating configuration's `webhooks` as the server holds them.
fn webhooks_of(lab: &Lab, name: &str) -> Value {
    let output = kubectl_as_admin(
        lab,
        &["get", "validatingwebhookconfiguration", name, "-o", "json"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice::<Value>(&output.stdout).unwrap()["webhooks"].clone()
}

fn by_id<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    findings(report, "webhooks")
        .into_iter()
        .filter(|f| f["id"] == id)
        .collect()
}

#[test]
fn broken_webhooks_are_proved_fixed_smallest_first_and_restored_exactly() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = runtime
        .block_on(Lab::start(LabOptions::default()))
        .expect("the lab starts");
    let sandbox = Sandbox::new();
    let admin = lab.admin_kubeconfig();

    // No webhook: nothing above ok.
    let healthy = sandbox.run(APIDIAG, admin, &["webhooks", "-o", "json"]);
    assert_code(&healthy, 0);
    for f in findings(&json_report(&healthy.stdout), "webhooks") {
        assert_eq!(f["severity"], "ok", "{f:#}");
    }

    // A webhook that works: HTTPS from the test, trusted through its caBundle,
    // failing closed on pods in its own namespace. Pods are created, and the check
    // finds nothing above ok.
    let backend = AdmissionServer::start();
    let ns = kubectl_as_admin(&lab, &["create", "namespace", "lab-wh-ok"]);
    assert!(
        ns.status.success(),
        "{}",
        String::from_utf8_lossy(&ns.stderr)
    );
    let working = serde_json::json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": { "name": "lab-working-webhook" },
        "webhooks": [{
            "name": WORKING,
            "clientConfig": { "url": backend.url, "caBundle": backend.ca_bundle() },
            "rules": [{ "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"], "scope": "Namespaced" }],
            "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "lab-wh-ok" } },
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 5,
        }],
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("working.json");
    std::fs::write(&file, working.to_string()).unwrap();
    let applied = kubectl_as_admin(&lab, &["create", "-f", file.to_str().unwrap()]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while backend.answered() == 0 {
        let probe = try_pod(&lab, "lab-wh-ok");
        assert!(
            probe.status.success(),
            "the working webhook refused: {}",
            String::from_utf8_lossy(&probe.stderr)
        );
        assert!(
            Instant::now() < deadline,
            "the API server never called the working webhook"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let healthy = sandbox.run(APIDIAG, admin, &["webhooks", "-o", "json"]);
    assert_code(&healthy, 0);
    for f in findings(&json_report(&healthy.stdout), "webhooks") {
        assert_eq!(f["severity"], "ok", "a working webhook: {f:#}");
    }

    for scenario in [Scenario::FailingWebhook, Scenario::WebhookFaults] {
        runtime
            .block_on(lab.apply(scenario, ScenarioSize::default()))
            .expect("scenario");
    }
    // A Deployment behind the refused webhook: the ReplicaSet controller records
    // the failure as a Warning event, as it does in a real cluster.
    let created = kubectl_as_admin(
        &lab,
        &[
            "create",
            "deployment",
            "web",
            "--image=registry.lab.apidiag.dev/web:1",
            "-n",
            WEBHOOK_REFUSED_NAMESPACE,
        ],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let events = kubectl_as_admin(
            &lab,
            &[
                "get",
                "events",
                "-n",
                WEBHOOK_REFUSED_NAMESPACE,
                "--field-selector",
                "type=Warning",
                "-o",
                "json",
            ],
        );
        if String::from_utf8_lossy(&events.stdout).contains("failed calling webhook") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no FailedCreate event from the ReplicaSet controller"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // The silent backend: a pod creation waits out its 3 s timeout, then fails.
    let started = Instant::now();
    let hung = try_pod(&lab, WEBHOOK_HANG_NAMESPACE);
    assert!(!hung.status.success());
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // (The message names whichever parallel validating webhook failed first: the
    // failing-webhook covers this namespace too. The server waited for both.)

    let output = sandbox.run(APIDIAG, admin, &["webhooks", "-o", "json"]);
    assert_code(&output, 2);
    let report = json_report(&output.stdout);
    let down: Vec<String> = by_id(&report, "webhooks.fail-closed-backend-down")
        .iter()
        .map(|f| f["title"].as_str().unwrap().to_string())
        .collect();
    for name in [REFUSED, NO_ENDPOINTS, NO_SERVICE, HANG] {
        assert!(
            down.iter().any(|t| t.contains(name)),
            "{name} not found down: {down:#?}"
        );
    }
    // Both webhooks of the refused namespace are validating and run in parallel:
    // the event names whichever failed first, and is evidence of that one.
    let both: Vec<&Value> = by_id(&report, "webhooks.fail-closed-backend-down")
        .into_iter()
        .filter(|f| {
            let title = f["title"].as_str().unwrap();
            title.contains(REFUSED) || title.contains(NO_ENDPOINTS)
        })
        .collect();
    let evidence = serde_json::to_string(&both).unwrap();
    assert!(
        evidence.contains("failures seen") && evidence.contains("Error creating"),
        "the ReplicaSet controller's event is evidence: {both:#?}"
    );
    assert!(
        evidence.contains("calling_webhook_error"),
        "the server's metric is evidence: {both:#?}"
    );
    for f in findings(&report, "webhooks") {
        if f["severity"] != "ok" {
            assert!(
                !f["title"].as_str().unwrap().contains(WORKING),
                "the working webhook is not to blame: {f:#}"
            );
        }
    }
    assert_eq!(
        by_id(&report, "webhooks.chained-timeout").len(),
        1,
        "{report:#}"
    );
    assert_eq!(
        by_id(&report, "webhooks.lease-timeout").len(),
        1,
        "{report:#}"
    );

    // The smallest change first: fail open on the webhooks whose backend is down
    // and that intercept pod creation (the failing-webhook covers every namespace
    // but kube-system), in their two configurations; the others stay as they are.
    let before = webhooks_of(&lab, WEBHOOK_FAULTS_VALIDATING);
    let before_other = webhooks_of(&lab, WEBHOOK_CONFIGURATION);
    assert!(!try_pod(&lab, WEBHOOK_REFUSED_NAMESPACE).status.success());
    let fix = sandbox.run(
        APIDIAG,
        admin,
        &[
            "webhooks",
            "--fix",
            "fail-open",
            "--webhook",
            REFUSED,
            "--webhook",
            NO_ENDPOINTS,
            "--webhook",
            NO_SERVICE,
            "--webhook",
            HANG,
            "--yes",
            "-o",
            "json",
        ],
    );
    assert_code(&fix, 0);
    let after = webhooks_of(&lab, WEBHOOK_FAULTS_VALIDATING);
    for (b, a) in before
        .as_array()
        .unwrap()
        .iter()
        .zip(after.as_array().unwrap())
    {
        if [REFUSED, NO_SERVICE, HANG].iter().any(|n| b["name"] == *n) {
            assert_eq!(a["failurePolicy"], "Ignore");
        } else {
            assert_eq!(a, b, "only the chosen webhooks change");
        }
    }
    assert_eq!(
        webhooks_of(&lab, WEBHOOK_CONFIGURATION)[0]["failurePolicy"],
        "Ignore"
    );
    // Pods are created again behind each (behind the silent one after its 3 s).
    for namespace in [
        WEBHOOK_REFUSED_NAMESPACE,
        WEBHOOK_NO_SERVICE_NAMESPACE,
        WEBHOOK_HANG_NAMESPACE,
    ] {
        let probe = try_pod(&lab, namespace);
        assert!(
            probe.status.success(),
            "pod creation in {namespace} still fails: {}",
            String::from_utf8_lossy(&probe.stderr)
        );
    }

    let undo = sandbox.run(APIDIAG, admin, &["undo", "--yes", "-o", "json"]);
    assert_code(&undo, 0);
    // The undo brings the outage back, and says so.
    let still: Vec<String> = findings(&json_report(&undo.stdout), "undo")
        .into_iter()
        .filter(|f| f["id"] == "undo.webhook-still-down")
        .map(|f| f["title"].to_string())
        .collect();
    assert!(still.iter().any(|t| t.contains(REFUSED)), "{still:#?}");
    assert_eq!(
        webhooks_of(&lab, WEBHOOK_FAULTS_VALIDATING),
        before,
        "undo restores the list exactly"
    );
    assert_eq!(
        webhooks_of(&lab, WEBHOOK_CONFIGURATION),
        before_other,
        "and the other one"
    );
    assert!(!try_pod(&lab, WEBHOOK_REFUSED_NAMESPACE).status.success());

    // The guide's Solution 2 on the no-endpoints webhook, and its undo.
    let saved = webhooks_of(&lab, WEBHOOK_CONFIGURATION);
    let delete = sandbox.run(
        APIDIAG,
        admin,
        &[
            "webhooks",
            "--fix",
            "delete",
            "--webhook",
            NO_ENDPOINTS,
            "--yes",
            "-o",
            "json",
        ],
    );
    assert_code(&delete, 0);
    assert!(
        !kubectl_as_admin(
            &lab,
            &[
                "get",
                "validatingwebhookconfiguration",
                WEBHOOK_CONFIGURATION
            ]
        )
        .status
        .success()
    );
    assert!(
        try_pod(&lab, "default").status.success(),
        "pods are created again once it is gone"
    );
    let undo = sandbox.run(APIDIAG, admin, &["undo", "--yes"]);
    assert_code(&undo, 0);
    assert_eq!(
        webhooks_of(&lab, WEBHOOK_CONFIGURATION),
        saved,
        "undo re-creates it exactly"
    );

    // shorten-timeout on the lease webhook: 3 s, and the lease finding is gone.
    let before = webhooks_of(&lab, WEBHOOK_FAULTS_VALIDATING);
    let shorten = sandbox.run(
        APIDIAG,
        admin,
        &[
            "webhooks",
            "--fix",
            "shorten-timeout",
            "--webhook",
            LEASES,
            "--yes",
            "-o",
            "json",
        ],
    );
    assert_code(&shorten, 0);
    let after = webhooks_of(&lab, WEBHOOK_FAULTS_VALIDATING);
    let lease = after
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == LEASES)
        .unwrap();
    assert_eq!(lease["timeoutSeconds"], 3, "{lease:#}");
    let rerun = json_report(
        &sandbox
            .run(APIDIAG, admin, &["webhooks", "-o", "json"])
            .stdout,
    );
    assert!(
        by_id(&rerun, "webhooks.lease-timeout").is_empty(),
        "{rerun:#}"
    );
    let undo = sandbox.run(APIDIAG, admin, &["undo", "--yes"]);
    assert_code(&undo, 0);
    assert_eq!(webhooks_of(&lab, WEBHOOK_FAULTS_VALIDATING), before);

    // exclude-system with matchConditions (1.37 serves them): the server's
    // validation accepts the named CEL conditions and stores them; undo removes them.
    let before = webhooks_of(&lab, WEBHOOK_CONFIGURATION);
    let exclude = sandbox.run(
        APIDIAG,
        admin,
        &[
            "webhooks",
            "--fix",
            "exclude-system",
            "--webhook",
            NO_ENDPOINTS,
            "--yes",
            "-o",
            "json",
        ],
    );
    assert_code(&exclude, 0);
    let after = webhooks_of(&lab, WEBHOOK_CONFIGURATION);
    let conditions: Vec<&str> = after[0]["matchConditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(
        conditions.iter().any(|c| c.starts_with("apidiag-exclude")),
        "{after:#}"
    );
    let undo = sandbox.run(APIDIAG, admin, &["undo", "--yes"]);
    assert_code(&undo, 0);
    assert_eq!(webhooks_of(&lab, WEBHOOK_CONFIGURATION), before);

    // A name that is no webhook: not planned, exit 4, and it says what to do.
    let wrong = sandbox.run(
        APIDIAG,
        admin,
        &[
            "webhooks",
            "--fix",
            "fail-open",
            "--webhook",
            "nope",
            "--yes",
        ],
    );
    assert_code(&wrong, 4);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("kubectl apidiag webhooks -v"));
}
