//! The binary's own command line, without a cluster.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-apidiag-etcd");

#[test]
fn help_names_the_fixes_the_flags_and_the_guide() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "completed-jobs",
        "failed-pods",
        "helm-history",
        "cronjob-ttl",
        "object-quota",
        "--older-than <DURATION>",
        "--in <NAMESPACE>",
        "--all-namespaces",
        "--keep <N>",
        "--ttl <SECONDS>",
        "--quota-objects <N>",
        "--quota <SIZE>",
        "--scan-sizes",
        "--delete-qps <N>",
        "Cause 3",
        "Cause 6",
        "64  usage error",
    ] {
        assert!(text.contains(expected), "missing {expected:?}:\n{text}");
    }
}

#[test]
fn wrong_flags_are_usage_errors() {
    for args in [
        &["--fix", "burn-it-down"][..],
        &["--older-than", "7d"],
        &["--fix", "failed-pods", "--older-than", "seven days"],
        &["--fix", "failed-pods", "--in", "a", "--all-namespaces"],
        &["--quota", "8 parsecs"],
    ] {
        let output = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(64), "{args:?}");
    }
}

#[test]
fn yes_without_namespaces_is_refused_before_anything_is_read() {
    // No kubeconfig is needed to refuse: nothing is read.
    let output = Command::new(BIN)
        .args(["--fix", "completed-jobs", "--yes"])
        .env("KUBECONFIG", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--in NAMESPACE"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}
