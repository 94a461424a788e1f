//! `kubectl apidiag` as users reach it: every check at once on a healthy lab,
//! through real kubectl with only `kubectl-apidiag` on PATH (krew's layout), with
//! a user who may not see the guard, against a server that is not there, and with
//! a wrong command line. (A check's own binary on PATH is tested in its package.)

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use apidiag_test::{
    PluginPath, Sandbox, assert_code, check_names, findings, json_report, k8s_version, lab,
};

/// The suite binary, built by cargo from this source for this test.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

#[test]
fn every_check_on_a_healthy_lab_finds_nothing() {
    let lab = lab();
    let sandbox = Sandbox::new();
    let output = sandbox.run(APIDIAG, lab.admin_kubeconfig(), &["-o", "json"]);
    assert_code(&output, 0);
    let report = json_report(&output.stdout);
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(check["status"]["state"], "complete", "{check:#}");
        for finding in check["findings"].as_array().unwrap() {
            assert_eq!(
                finding["severity"], "ok",
                "a healthy lab gave a finding: {finding:#}"
            );
        }
    }
    // throttle reads the live load from the run's one /metrics scrape.
    let throttle: Vec<&str> = findings(&report, "throttle")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    for id in [
        "throttle.apf-rejecting",
        "throttle.etcd-lists",
        "throttle.load",
    ] {
        assert!(throttle.contains(&id), "{id} missing: {throttle:?}");
    }
    assert!(report["cost"]["requests"].as_u64().unwrap() > 0);

    // People get the cost line last.
    let human = sandbox
        .cmd(APIDIAG)
        .arg("--kubeconfig")
        .arg(lab.admin_kubeconfig())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    let last = text.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("cost: ") && last.contains("API requests"),
        "{text}"
    );
}

#[test]
fn only_kubectl_apidiag_on_path_runs_every_check_through_kubectl() {
    // krew's layout: one link, `kubectl-apidiag`, and no per-check binary anywhere.
    let path = PluginPath::new(&[("kubectl-apidiag", APIDIAG)]);

    let etcd = path.kubectl(&["apidiag", "etcd", "-o", "json"]);
    assert_code(&etcd, 0);
    let report = json_report(&etcd.stdout);
    assert_eq!(report["checks"][0]["check"], "etcd", "{report:#}");
    assert_eq!(report["checks"].as_array().unwrap().len(), 1);

    let guard = path.kubectl(&["apidiag", "guard", "-v"]);
    assert_code(&guard, 0);
    let text = String::from_utf8_lossy(&guard.stdout);
    assert!(
        text.contains("── guard") && text.contains("[guard.applied]"),
        "{text}"
    );

    for (command, expected) in [
        (&["apidiag", "guard", "--help"][..], "--clients-fixed"),
        (&["apidiag", "undo", "--help"][..], "Bundle name"),
    ] {
        let help = path.kubectl(command);
        assert_code(&help, 0);
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(text.contains(expected), "{command:?}:\n{text}");
        assert!(text.contains("--kubeconfig"), "{command:?}:\n{text}");
    }

    // Flags kubectl passes before the check name are parsed once, with the check's.
    let output = path.kubectl(&["apidiag", "-o", "json", "guard"]);
    assert_code(&output, 0);
    assert_eq!(json_report(&output.stdout)["checks"][0]["check"], "guard");
}

#[test]
fn an_unknown_check_is_a_usage_error_that_lists_the_checks() {
    let output = Sandbox::new()
        .cmd(APIDIAG)
        .arg("conectivity")
        .output()
        .unwrap();
    assert_code(&output, 64);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown command or check `conectivity`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("etcd, guard, throttle, webhooks, connectivity"),
        "{stderr}"
    );
}

#[test]
fn a_user_without_permission_gets_could_not_check() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(APIDIAG, lab().user_kubeconfig(), &["guard", "-o", "json"]);
    assert_code(&output, 3);
    let report = json_report(&output.stdout);
    let status = &report["checks"][0]["status"];
    assert_eq!(status["state"], "couldNotCheck", "{report:#}");
    assert!(
        status["reason"]
            .as_str()
            .unwrap()
            .starts_with("missing permission"),
        "{report:#}"
    );
    assert!(
        status["hint"].as_str().unwrap().contains("flowschemas"),
        "{report:#}"
    );
    assert!(findings(&report, "guard").is_empty());
}

#[test]
fn an_unreachable_server_points_to_the_connectivity_check() {
    let sandbox = Sandbox::new();
    let kubeconfig = sandbox.home().join("config");
    // Port 1 on loopback: nothing listens there.
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters:\n- name: gone\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: gone\n  context: {cluster: gone, user: u}\nusers:\n- name: u\n  user: {token: t}\n",
    )
    .unwrap();
    let output = sandbox
        .cmd(APIDIAG)
        .arg("guard")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("cannot reach the API server at https://127.0.0.1:1"),
        "{text}"
    );
    assert!(text.contains("kubectl apidiag connectivity"), "{text}");
}

#[test]
fn no_kubeconfig_at_all_says_what_to_do() {
    let sandbox = Sandbox::new();
    let output = sandbox.cmd(APIDIAG).arg("guard").output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no kubeconfig found"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn usage_errors_exit_64_and_help_exits_0() {
    let sandbox = Sandbox::new();
    let bad = sandbox
        .cmd(APIDIAG)
        .arg("guard")
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(64));
    let unknown = sandbox.cmd(APIDIAG).arg("frobnicate").output().unwrap();
    assert_eq!(unknown.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("unknown command or check `frobnicate`")
    );
    let help = sandbox
        .cmd(APIDIAG)
        .arg("guard")
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for expected in [
        "--fix <FIX>",
        "--kubeconfig",
        "--as <USER>",
        "--max-requests",
        "Exit codes:",
        "64  usage error",
    ] {
        assert!(
            text.contains(expected),
            "missing {expected:?} in help:\n{text}"
        );
    }
}

/// The value of `key: value` in a lab kubeconfig (they are flat, one key a line).
fn kubeconfig_field(path: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|line| line.trim().strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().trim_matches('"').to_string())
        .unwrap_or_else(|| panic!("no {key} in {}", path.display()))
}

fn base64_decode(text: &str) -> String {
    let mut child = std::process::Command::new("base64")
        .arg("-d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn exec_credential_plugins_work() {
    let lab = lab();
    let admin = lab.admin_kubeconfig();
    let sandbox = Sandbox::new();
    // The exec plugin hands out the admin's client certificate, as e.g. kubelogin
    // hands out tokens: apidiag must run it and use what it prints.
    let credential = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {
            "clientCertificateData": base64_decode(&kubeconfig_field(admin, "client-certificate-data")),
            "clientKeyData": base64_decode(&kubeconfig_field(admin, "client-key-data")),
        }
    });
    let credential_file = sandbox.home().join("credential.json");
    std::fs::write(&credential_file, credential.to_string()).unwrap();
    let kubeconfig = sandbox.home().join("exec-kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: exec\nclusters:\n- name: lab\n  cluster:\n    server: {}\n    certificate-authority-data: {}\ncontexts:\n- name: exec\n  context: {{cluster: lab, user: exec}}\nusers:\n- name: exec\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: cat\n      args: [\"{}\"]\n      interactiveMode: Never\n",
            kubeconfig_field(admin, "server"),
            kubeconfig_field(admin, "certificate-authority-data"),
            credential_file.display()
        ),
    )
    .unwrap();
    let output = sandbox
        .cmd(APIDIAG)
        .arg("guard")
        .env("KUBECONFIG", &kubeconfig)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert_eq!(
        json_report(&output.stdout)["server"]["version"],
        k8s_version()
    );
}

#[test]
fn merged_kubeconfig_files_and_context_selection_work_like_kubectl() {
    let lab = lab();
    let sandbox = Sandbox::new();
    // Like kubectl: missing files are skipped, the first current-context wins.
    let merged = std::env::join_paths([
        sandbox.home().join("does-not-exist").as_path(),
        lab.user_kubeconfig(),
        lab.admin_kubeconfig(),
    ])
    .unwrap();
    let as_user = sandbox
        .cmd(APIDIAG)
        .arg("guard")
        .env("KUBECONFIG", &merged)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        as_user.status.code(),
        Some(3),
        "the user's context comes first"
    );
    let admin_context = kubeconfig_field(lab.admin_kubeconfig(), "current-context");
    let as_admin = sandbox
        .cmd(APIDIAG)
        .arg("guard")
        .env("KUBECONFIG", &merged)
        .args(["--context", &admin_context, "-o", "json"])
        .output()
        .unwrap();
    assert_code(&as_admin, 0);
    assert_eq!(
        json_report(&as_admin.stdout)["server"]["context"],
        admin_context.as_str()
    );

    let wrong = sandbox
        .cmd(APIDIAG)
        .arg("guard")
        .env("KUBECONFIG", &merged)
        .args(["--context", "nope"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("context `nope`"));
}

#[test]
fn impersonation_reaches_the_api_server() {
    // The admin may impersonate; as the lab user the guard is out of reach.
    let sandbox = Sandbox::new();
    let output = sandbox.run(
        APIDIAG,
        lab().admin_kubeconfig(),
        &["guard", "--as", "lab-user", "-o", "json"],
    );
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let report = json_report(&output.stdout);
    assert!(
        report["checks"][0]["status"]["reason"]
            .as_str()
            .unwrap()
            .contains("\"lab-user\""),
        "{report:#}"
    );
}

#[test]
fn every_check_at_once_fetches_metrics_once() {
    // The run impersonates a name no other test uses (with the admins' group, so
    // both checks see everything), which picks its requests out of the audit log
    // of the shared lab.
    let user = "apidiag-metrics-once";
    let sandbox = Sandbox::new();
    let output = sandbox.run(
        APIDIAG,
        lab().admin_kubeconfig(),
        &["--as", user, "--as-group", "system:masters", "-o", "json"],
    );
    assert_code(&output, 0);
    let report = json_report(&output.stdout);
    let checks = check_names(&report);
    assert_eq!(
        checks,
        ["etcd", "guard", "throttle", "webhooks", "connectivity"],
        "{report:#}"
    );
    let cost = report["cost"]["requests"].as_u64().unwrap();
    let read_ours = || -> Vec<serde_json::Value> {
        let audit = std::fs::read_to_string(lab().audit_log()).unwrap();
        audit
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|event| {
                event["stage"] == "ResponseComplete"
                    && event["impersonatedUser"]["username"] == user
            })
            .collect()
    };
    // The last events may reach the file a moment after the client has its answer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut ours = read_ours();
    while (ours.len() as u64) < cost && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        ours = read_ours();
    }
    assert!(
        !ours.is_empty(),
        "the run's requests are not in the audit log"
    );
    let metrics = ours
        .iter()
        .filter(|event| event["requestURI"] == "/metrics")
        .count();
    assert_eq!(metrics, 1, "/metrics fetched {metrics} times by one run");
    assert_eq!(
        ours.len() as u64,
        cost,
        "the printed cost is what the server saw"
    );
}

#[test]
fn a_fix_without_a_place_for_backups_refuses_before_acting() {
    // No HOME, no APIDIAG_BACKUP_DIR: the fix must not write Secrets into
    // whatever the current folder is.
    let cwd = tempfile::tempdir().unwrap();
    let output = Sandbox::new()
        .cmd(APIDIAG)
        .env_remove("HOME")
        .current_dir(cwd.path())
        .arg("--kubeconfig")
        .arg(lab().admin_kubeconfig())
        .args(["etcd", "--fix", "failed-pods", "-A", "--yes"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(70), "{stderr}");
    assert!(stderr.contains("no place for backups"), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
}
