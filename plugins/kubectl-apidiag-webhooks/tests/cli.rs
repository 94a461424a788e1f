//! The binary's own command line, without a cluster.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-apidiag-webhooks");

#[test]
fn help_explains_the_fixes_smallest_first() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "fail-open",
        "exclude-system",
        "shorten-timeout",
        "delete",
        "--webhook",
        "--dry-run",
        "Cause 2",
    ] {
        assert!(text.contains(expected), "missing {expected:?}:\n{text}");
    }
}

#[test]
fn a_wrong_fix_or_a_fix_without_a_webhook_is_a_usage_error() {
    let wrong = Command::new(BIN)
        .args(["--fix", "burn-it-down", "--webhook", "x"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("fail-open, exclude-system"));
    let unnamed = Command::new(BIN)
        .args(["--fix", "fail-open"])
        .output()
        .unwrap();
    assert_eq!(unnamed.status.code(), Some(64));
}
