//! The binary's own command line, without a cluster.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-apidiag-connectivity");

#[test]
fn help_explains_the_ladder_and_the_fixes() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "delete-apiservice",
        "restart-tunnel",
        "--apiservice",
        "--dry-run",
        "ALPN",
        "KubeAggregatedAPIErrors",
    ] {
        assert!(text.contains(expected), "missing {expected:?}:\n{text}");
    }
}

#[test]
fn a_wrong_fix_is_a_usage_error_that_names_the_fixes() {
    let wrong = Command::new(BIN)
        .args(["--fix", "burn-it-down"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("delete-apiservice") && stderr.contains("restart-tunnel"),
        "{stderr}"
    );
}

#[test]
fn no_kubeconfig_says_what_to_do() {
    let home = std::env::temp_dir().join(format!("apidiag-conn-cli-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let output = Command::new(BIN)
        .env("HOME", &home)
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no kubeconfig found"));
}
