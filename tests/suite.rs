//! `kubectl apidiag` as users reach it: every check at once on a healthy lab,
//! through real kubectl in both plugin layouts, with a user who may not see the
//! guard, against a server that is not there, and with a wrong command line.

use std::os::unix::fs::symlink;
use std::path::Path;

use apidiag_test::{Sandbox, binary, findings, json_report, lab};

#[test]
fn every_check_on_a_healthy_lab_finds_nothing() {
    let lab = lab();
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd("kubectl-apidiag")
        .arg("--kubeconfig")
        .arg(lab.admin_kubeconfig())
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
    assert!(report["cost"]["requests"].as_u64().unwrap() > 0);

    // People get the cost line last.
    let human = sandbox
        .cmd("kubectl-apidiag")
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

/// A PATH folder holding links to the named built binaries.
fn plugin_dir(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        symlink(binary(name), dir.path().join(name)).unwrap();
    }
    dir
}

fn kubectl_apidiag_guard(path: &Path) -> std::process::Output {
    Sandbox::new()
        .with_path(&[path])
        .command("/usr/bin/kubectl")
        .args(["apidiag", "guard", "--kubeconfig"])
        .arg(lab().admin_kubeconfig())
        .output()
        .unwrap()
}

#[test]
fn kubectl_runs_the_guard_when_the_sibling_is_on_path() {
    let dir = plugin_dir(&["kubectl-apidiag", "kubectl-apidiag-guard"]);
    let output = kubectl_apidiag_guard(dir.path());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("── guard") && text.contains("[guard.applied]"),
        "{text}"
    );
}

#[test]
fn kubectl_runs_the_guard_through_kubectl_apidiag_in_the_krew_layout() {
    // krew links only kubectl-apidiag; the sibling sits next to the link's target.
    let dir = plugin_dir(&["kubectl-apidiag"]);
    let output = kubectl_apidiag_guard(dir.path());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("── guard") && text.contains("[guard.applied]"),
        "{text}"
    );

    // Flags kubectl passes before the check name reach the check too.
    let output = Sandbox::new()
        .with_path(&[dir.path()])
        .command("/usr/bin/kubectl")
        .args(["apidiag", "-o", "json", "guard", "--kubeconfig"])
        .arg(lab().admin_kubeconfig())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(json_report(&output.stdout)["checks"][0]["check"], "guard");
}

#[test]
fn a_missing_sibling_is_a_clear_error() {
    // A copy, not a link: its folder has no kubectl-apidiag-guard.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        binary("kubectl-apidiag"),
        dir.path().join("kubectl-apidiag"),
    )
    .unwrap();
    let output = kubectl_apidiag_guard(dir.path());
    assert_eq!(output.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the `guard` check is not installed"),
        "{stderr}"
    );
}

#[test]
fn a_user_without_permission_gets_could_not_check() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd("kubectl-apidiag-guard")
        .arg("--kubeconfig")
        .arg(lab().user_kubeconfig())
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
        .cmd("kubectl-apidiag-guard")
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
    let output = sandbox.cmd("kubectl-apidiag-guard").output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no kubeconfig found"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn usage_errors_exit_64_and_help_exits_0() {
    let sandbox = Sandbox::new();
    let bad = sandbox
        .cmd("kubectl-apidiag-guard")
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(64));
    let unknown = sandbox
        .cmd("kubectl-apidiag")
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("unknown command or check `frobnicate`")
    );
    let help = sandbox
        .cmd("kubectl-apidiag-guard")
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
