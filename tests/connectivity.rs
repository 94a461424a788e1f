//! `kubectl apidiag connectivity` end to end on a real kube-apiserver: a
//! healthy lab passes every rung; an identity without permissions is told which
//! rungs that limits; the node probe creates its Pod only with consent, says
//! when it never starts (the lab has no kubelet) and deletes it, checked with
//! kubectl.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use apidiag_test::{
    Lab, Sandbox, assert_code, findings, json_report, kubectl, kubectl_as_admin, lab,
};
use serde_json::Value;

/// The suite binary, built by cargo from this source for this test.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

fn ids(report: &Value) -> Vec<String> {
    findings(report, "connectivity")
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn by_id<'a>(report: &'a Value, id: &str) -> &'a Value {
    findings(report, "connectivity")
        .into_iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} in {:?}", ids(report)))
}

/// The probe Pods left in the cluster, by name.
fn probe_pods(lab: &Lab) -> Vec<String> {
    let output = kubectl_as_admin(
        lab,
        &[
            "get",
            "pods",
            "-A",
            "-l",
            "app.kubernetes.io/name=apidiag-node-probe",
            "-o",
            "name",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_healthy_lab_passes_every_rung() {
    let lab = lab();
    let sandbox = Sandbox::new();
    let output = sandbox.run(
        APIDIAG,
        lab.admin_kubeconfig(),
        &["connectivity", "-o", "json"],
    );
    assert_code(&output, 0);
    let report = json_report(&output.stdout);
    for finding in findings(&report, "connectivity") {
        assert_eq!(finding["severity"], "ok", "{finding:#}");
    }
    let version = by_id(&report, "connectivity.version.ok");
    assert!(
        version["title"]
            .as_str()
            .unwrap()
            .starts_with("GET /version: kube-apiserver v1."),
        "{version:#}"
    );
    let authn = by_id(&report, "connectivity.authn.ok");
    assert!(
        authn["title"]
            .as_str()
            .unwrap()
            .contains("authenticated as lab-admin"),
        "{authn:#}"
    );
    // The lab's own facts, said as passes: its API server advertises 127.0.0.1
    // (which an EndpointSlice cannot hold), and it has neither nodes nor agents.
    for id in [
        "connectivity.authz.ok",
        "connectivity.readyz.ok",
        "connectivity.livez.ok",
        "connectivity.service.loopback",
        "connectivity.tunnel.none",
        "connectivity.node-tunnel.no-nodes",
        "connectivity.apiservice.available",
        "connectivity.tls.verified",
        "connectivity.alpn.h2",
    ] {
        by_id(&report, id);
    }
    // The people's view: every rung a line, in ladder order.
    let human = sandbox.run(APIDIAG, lab.admin_kubeconfig(), &["connectivity"]);
    assert_code(&human, 0);
    let text = String::from_utf8_lossy(&human.stdout);
    let readyz = text
        .find("ok       GET /readyz?verbose: 200,")
        .unwrap_or_else(|| panic!("{text}"));
    let livez = text
        .find("ok       GET /livez?verbose: 200,")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(readyz < livez, "{text}");
}

#[test]
fn an_identity_without_permissions_is_told_which_rungs_are_limited() {
    let lab = lab();
    let sandbox = Sandbox::new();
    let output = sandbox.run(
        APIDIAG,
        lab.user_kubeconfig(),
        &["connectivity", "-o", "json"],
    );
    let report = json_report(&output.stdout);
    let limited = by_id(&report, "connectivity.authz.limited");
    assert_eq!(limited["severity"], "warning");
    assert!(
        limited["title"]
            .as_str()
            .unwrap()
            .contains("4 of 4 permissions denied"),
        "{limited:#}"
    );
    let rows = &limited["evidence"][0]["rows"];
    assert_eq!(rows[1][0], "get pods/log in kube-system", "{rows:#}");
    assert_eq!(rows[1][1], "denied");
}

#[test]
fn the_node_probe_asks_first_says_it_never_started_and_deletes_its_pod() {
    // A lab of its own: the Node it adds would be probed by the other tests.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = &runtime
        .block_on(Lab::start(apidiag_test::LabOptions::default()))
        .expect("the lab starts");
    let node = "lab-probe-node-1";
    let create = std::process::Command::new(kubectl())
        .arg("--kubeconfig")
        .arg(lab.admin_kubeconfig())
        .args(["create", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(
                format!("apiVersion: v1\nkind: Node\nmetadata:\n  name: {node}\n").as_bytes(),
            )?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        create.status.success(),
        "{}",
        String::from_utf8_lossy(&create.stderr)
    );
    let sandbox = Sandbox::new();

    // No terminal and no --yes: nothing is created, nothing waits.
    let started = std::time::Instant::now();
    let refused = sandbox.run(
        APIDIAG,
        lab.admin_kubeconfig(),
        &["connectivity", "--from-node", node],
    );
    assert_code(&refused, 4);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("no terminal to ask on and no --yes")
    );
    assert!(probe_pods(lab).is_empty());
    assert!(sandbox.bundles().is_empty());

    // A node that does not exist: said, nothing planned.
    let missing = sandbox.run(
        APIDIAG,
        lab.admin_kubeconfig(),
        &["connectivity", "--from-node", "no-such-node"],
    );
    assert_code(&missing, 4);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no node named `no-such-node`"));

    // With --yes: the Pod is created on the node, never runs (no kubelet), and
    // is deleted; the bundle is marked restored.
    let probed = sandbox.run(
        APIDIAG,
        lab.admin_kubeconfig(),
        &[
            "connectivity",
            "--from-node",
            node,
            "--probe-timeout",
            "4s",
            "--yes",
            "-o",
            "json",
        ],
    );
    // Critical: with a Node, a loopback server is no longer taken for a local
    // lab (it could be a real cluster behind a port-forward), so the `kubernetes`
    // Service without endpoints is judged as on any cluster.
    assert_code(&probed, 2);
    let report = json_report(&probed.stdout);
    assert_eq!(
        by_id(&report, "connectivity.service.no-endpoints")["severity"],
        "critical"
    );
    let never = by_id(&report, "connectivity.node.not-started");
    assert_eq!(never["severity"], "warning");
    assert_eq!(
        never["title"].as_str().unwrap().split(" (").next().unwrap(),
        format!(
            "from node {node}: the probe Pod never ran: it was still Pending with no container status after 4s: no kubelet took it up"
        )
    );
    let cleaned = by_id(&report, "connectivity.node.cleaned-up");
    assert!(
        cleaned["title"]
            .as_str()
            .unwrap()
            .contains("1 probe Pod(s) deleted")
    );
    assert_eq!(
        report["remediation"]["state"], "applied",
        "{:#}",
        report["remediation"]
    );
    assert!(
        probe_pods(lab).is_empty(),
        "probe Pods left: {:?}",
        probe_pods(lab)
    );
    let bundles = sandbox.bundles();
    assert_eq!(bundles.len(), 2, "{bundles:?}");
    assert!(
        bundles[0].join("undo.jsonl").exists(),
        "the probe's bundle is marked restored"
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(bundles[0].join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["operations"][0]["action"]["object"]["spec"]["nodeName"],
        node
    );
}

/// A copy of the lab's admin kubeconfig changed by `kubectl config` (a real
/// client edits it, as an SRE would).
fn kubeconfig_variant(
    lab: &Lab,
    dir: &std::path::Path,
    name: &str,
    edits: &[&[&str]],
) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::copy(lab.admin_kubeconfig(), &path).unwrap();
    for edit in edits {
        let output = std::process::Command::new(kubectl())
            .arg("--kubeconfig")
            .arg(&path)
            .arg("config")
            .args(*edit)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    path
}

fn cluster_name(lab: &Lab) -> String {
    let output = kubectl_as_admin(
        lab,
        &[
            "config",
            "view",
            "--minify",
            "-o",
            "jsonpath={.clusters[0].name}",
        ],
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn a_closed_port_stops_the_ladder_with_kubectls_words_and_sends_nothing() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cluster = cluster_name(lab);
    let server = format!("--server=https://127.0.0.1:{port}");
    let config = kubeconfig_variant(
        lab,
        dir.path(),
        "closed",
        &[&["set-cluster", &cluster, &server]],
    );
    let sandbox = Sandbox::new();
    let output = sandbox.run(APIDIAG, &config, &["connectivity", "-o", "json"]);
    assert_code(&output, 2);
    let report = json_report(&output.stdout);
    let refused = by_id(&report, "connectivity.tcp.refused");
    assert_eq!(refused["severity"], "critical");
    assert!(
        refused["detail"].as_str().unwrap().contains(&format!(
            "The connection to the server 127.0.0.1:{port} was refused - did you specify the right host or port?"
        )),
        "{refused:#}"
    );
    let not_tried = by_id(&report, "connectivity.path.not-tried");
    assert!(
        not_tried["title"].as_str().unwrap().contains("TLS"),
        "{not_tried:#}"
    );
    assert_eq!(
        report["cost"]["requests"], 0,
        "no API request after the path failed"
    );
    // The people's view: the failing rung is the headline.
    let human = sandbox.run(APIDIAG, &config, &["connectivity"]);
    let text = String::from_utf8_lossy(&human.stdout);
    let summary = text.split("── connectivity").next().unwrap();
    assert!(summary.contains("[connectivity.tcp.refused]"), "{text}");
}

#[test]
fn a_wrong_ca_and_a_failing_credential_plugin_are_named_before_any_request() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster_name(lab);
    let sandbox = Sandbox::new();

    // A CA that did not sign the server's certificate (TLS inspection looks so).
    let other = rcgen::generate_simple_self_signed(vec!["other-ca.example".to_string()]).unwrap();
    let ca = dir.path().join("other-ca.pem");
    std::fs::write(&ca, other.cert.pem()).unwrap();
    let ca_flag = format!("--certificate-authority={}", ca.display());
    let wrong_ca = kubeconfig_variant(
        lab,
        dir.path(),
        "wrong-ca",
        &[&["set-cluster", &cluster, &ca_flag, "--embed-certs=true"]],
    );
    let output = sandbox.run(APIDIAG, &wrong_ca, &["connectivity", "-o", "json"]);
    assert_code(&output, 2);
    let report = json_report(&output.stdout);
    let unknown = by_id(&report, "connectivity.tls.unknown-issuer");
    assert!(
        unknown["detail"]
            .as_str()
            .unwrap()
            .contains("x509: certificate signed by unknown authority"),
        "{unknown:#}"
    );
    assert_eq!(report["cost"]["requests"], 0);

    // An exec plugin that fails as kubelogin does without `az login`.
    let plugin = dir.path().join("kubelogin");
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho \"Error: failed to get token: AzureCLICredential: ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let command = format!("--exec-command={}", plugin.display());
    let exec = kubeconfig_variant(
        lab,
        dir.path(),
        "exec",
        &[
            &[
                "set-credentials",
                "broken",
                &command,
                "--exec-api-version=client.authentication.k8s.io/v1",
            ],
            &[
                "set-context",
                "broken",
                &format!("--cluster={cluster}"),
                "--user=broken",
            ],
            &["use-context", "broken"],
        ],
    );
    // kubectl keeps the command's name only; the plugin is found on PATH, as
    // kubelogin is.
    let with_plugin = Sandbox::new().with_path(&[
        dir.path(),
        std::path::Path::new("/usr/bin"),
        std::path::Path::new("/bin"),
    ]);
    let output = with_plugin.run(APIDIAG, &exec, &["connectivity", "-o", "json"]);
    assert_code(&output, 2);
    let report = json_report(&output.stdout);
    let failed = findings(&report, "connectivity")
        .into_iter()
        .find(|f| f["id"].as_str().unwrap().starts_with("connectivity.exec."))
        .unwrap_or_else(|| panic!("no exec rung in {:?}", ids(&report)));
    assert_eq!(failed["severity"], "critical");
    let text = failed.to_string();
    assert!(text.contains("failed with exit code 1"), "{failed:#}");
    assert!(text.contains("Please run 'az login'"), "{failed:#}");
    assert_eq!(report["cost"]["requests"], 0);
}

/// An APIService as kubectl shows it, or `None` when it does not exist.
fn apiservice(lab: &Lab, name: &str) -> Option<Value> {
    let output = kubectl_as_admin(
        lab,
        &[
            "get",
            "apiservice",
            name,
            "-o",
            "json",
            "--ignore-not-found",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (!output.stdout.is_empty()).then(|| serde_json::from_slice(&output.stdout).unwrap())
}

#[test]
fn an_orphaned_apiservice_is_deleted_only_when_orphaned_and_undo_brings_it_back() {
    use apidiag_test::{APISERVICE_NAME, APISERVICE_ORPHAN, Scenario, ScenarioSize};
    // A lab of its own: the broken APIServices are cluster-wide.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = &runtime
        .block_on(Lab::start(apidiag_test::LabOptions::default()))
        .expect("the lab starts");
    runtime
        .block_on(lab.apply(Scenario::UnavailableApiService, ScenarioSize::default()))
        .unwrap();
    let before = apiservice(lab, APISERVICE_ORPHAN).expect("the scenario's orphan exists");
    let sandbox = Sandbox::new();

    let report = sandbox.run(
        APIDIAG,
        lab.admin_kubeconfig(),
        &["connectivity", "-o", "json"],
    );
    assert_code(&report, 2);
    let report = json_report(&report.stdout);
    let orphaned = by_id(&report, "connectivity.apiservice.orphaned");
    assert_eq!(
        orphaned["remediations"][0]["command"],
        format!(
            "kubectl apidiag connectivity --fix delete-apiservice --apiservice {APISERVICE_ORPHAN}"
        )
    );

    // The APIService whose Service exists (no endpoints) is not orphaned: refused.
    let refused = sandbox.run(
        APIDIAG,
        lab.admin_kubeconfig(),
        &[
            "connectivity",
            "--fix",
            "delete-apiservice",
            "--apiservice",
            APISERVICE_NAME,
            "--yes",
        ],
    );
    assert_code(&refused, 4);
    assert!(apiservice(lab, APISERVICE_NAME).is_some());

    // The orphan: deleted with --yes, checked with kubectl.
    let deleted = sandbox.run(
        APIDIAG,
        lab.admin_kubeconfig(),
        &[
            "connectivity",
            "--fix",
            "delete-apiservice",
            "--apiservice",
            APISERVICE_ORPHAN,
            "--yes",
        ],
    );
    assert_code(&deleted, 0);
    assert!(
        apiservice(lab, APISERVICE_ORPHAN).is_none(),
        "kubectl still sees {APISERVICE_ORPHAN}"
    );

    // Undo: back, with the same spec and labels.
    let undone = sandbox.run(APIDIAG, lab.admin_kubeconfig(), &["undo", "--yes"]);
    assert_code(&undone, 0);
    let after = apiservice(lab, APISERVICE_ORPHAN).expect("undo re-created the APIService");
    assert_eq!(after["spec"], before["spec"]);
    assert_eq!(after["metadata"]["labels"], before["metadata"]["labels"]);
    assert_ne!(after["metadata"]["uid"], before["metadata"]["uid"]);
}
