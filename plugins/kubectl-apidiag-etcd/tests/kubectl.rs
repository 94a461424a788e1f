//! A direct install: `kubectl apidiag etcd` resolves to `kubectl-apidiag-etcd`
//! when it is on PATH, and answers like the suite's subcommand, against the lab.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use apidiag_test::{PluginPath, assert_code, json_report};

/// This package's binary, built by cargo from this source for this test.
const BIN: &str = env!("CARGO_BIN_EXE_kubectl-apidiag-etcd");

#[test]
fn kubectl_runs_the_etcd_binary_on_path() {
    let path = PluginPath::new(&[("kubectl-apidiag-etcd", BIN)]);
    let output = path.kubectl(&["apidiag", "etcd", "-o", "json"]);
    assert_code(&output, 0);
    let report = json_report(&output.stdout);
    assert_eq!(report["checks"][0]["check"], "etcd", "{report:#}");
    assert_eq!(report["checks"][0]["status"]["state"], "complete");
}
