//! The binary's own command line, without a cluster.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-apidiag-guard");

#[test]
fn help_explains_the_fixes() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "skip-update",
        "raise-shares",
        "delete",
        "--clients-fixed",
        "--dry-run",
        "--yes",
        "Cause 4",
    ] {
        assert!(text.contains(expected), "missing {expected:?}:\n{text}");
    }
}

#[test]
fn a_wrong_fix_name_is_a_usage_error() {
    let output = Command::new(BIN)
        .args(["--fix", "burn-it-down"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
}

#[test]
fn shares_without_fix_is_a_usage_error() {
    let output = Command::new(BIN).args(["--shares", "5"]).output().unwrap();
    assert_eq!(output.status.code(), Some(64));
}
