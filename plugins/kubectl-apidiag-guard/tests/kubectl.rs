//! A direct install: `kubectl apidiag guard` resolves to `kubectl-apidiag-guard`
//! when it is on PATH, and answers like the suite's subcommand, against the lab.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use apidiag_test::{PluginPath, assert_code, json_report};

/// This package's binary, built by cargo from this source for this test.
const BIN: &str = env!("CARGO_BIN_EXE_kubectl-apidiag-guard");

#[test]
fn kubectl_runs_the_guard_binary_on_path() {
    let path = PluginPath::new(&[("kubectl-apidiag-guard", BIN)]);
    let output = path.kubectl(&["apidiag", "guard", "-o", "json"]);
    assert_code(&output, 0);
    let report = json_report(&output.stdout);
    assert_eq!(report["checks"][0]["check"], "guard", "{report:#}");
    assert_eq!(report["checks"][0]["status"]["state"], "complete");
}
