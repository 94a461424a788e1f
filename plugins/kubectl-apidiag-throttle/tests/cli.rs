//! The binary's own command line, without a cluster.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-apidiag-throttle");

#[test]
fn help_names_the_inputs_and_the_guide() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "--audit-log",
        "--server-version",
        "--audit-user",
        "--html",
        "--kql",
        "Cause 5",
        "--kubeconfig",
    ] {
        assert!(text.contains(expected), "missing {expected:?}:\n{text}");
    }
}

#[test]
fn kql_prints_one_query_per_mode_with_the_look_back_of_since() {
    let output = Command::new(BIN)
        .args(["--kql", "azure-diagnostics", "--since", "2h"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let query = String::from_utf8_lossy(&output.stdout);
    assert_eq!(query.lines().count(), 1, "{query}");
    assert!(
        query.starts_with("AzureDiagnostics") && query.contains("ago(120m)"),
        "{query}"
    );
}

#[test]
fn a_log_that_does_not_exist_is_a_usage_error() {
    let output = Command::new(BIN)
        .args([
            "--audit-log",
            "/nonexistent/audit.log",
            "--server-version",
            "1.31",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/nonexistent/audit.log") && stderr.contains("hint:"),
        "{stderr}"
    );
}

#[test]
fn without_a_log_or_a_cluster_it_says_the_log_needs_no_cluster() {
    let output = Command::new(BIN)
        .env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent-home")
        .args(["--color", "never"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Live mode needs a cluster: it could not check, and says what works without one.
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    for expected in [
        "no kubeconfig found",
        "--audit-log PATH",
        "--kql resource-specific",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?}:\n{stderr}");
    }
}
