//! What every apidiag end-to-end test starts from.
//!
//! - [`Sandbox`]: runs the built binaries with an environment scrubbed of what would
//!   change their behaviour (`KUBECONFIG`, `NO_COLOR`, `HOME`), a private `HOME` and
//!   backup directory, and no terminal, so tests see exactly what a script would.
//!   A binary is always named by its path from `env!("CARGO_BIN_EXE_<name>")` in the
//!   test of the package that owns it, which cargo builds from the same source before
//!   the test runs: no test can pick up a stale `target/debug/<name>`.
//! - [`lab`]: the real control plane ([`apidiag_lab`]) shared by a test binary.
//! - [`kubelet`]: a kubelet that serves container logs, for the API server to dial.
//! - [`scripted`]: a scripted API server for the faults the real one will not
//!   produce on demand (a 429 with `Retry-After`, a 500 mid-pagination).

pub mod admission;
mod https;
pub mod kubelet;
pub mod scripted;

use std::path::{Path, PathBuf};

pub use apidiag_lab::scenario::{
    APISERVICE_NAME, APISERVICE_ORPHAN, FLOODER_NAME, FLOODER_USER_AGENT, WEBHOOK_CHAIN_NAMESPACE,
    WEBHOOK_CONFIGURATION, WEBHOOK_FAULTS_MUTATING, WEBHOOK_FAULTS_VALIDATING,
    WEBHOOK_HANG_NAMESPACE, WEBHOOK_NO_SERVICE_NAMESPACE, WEBHOOK_REFUSED_NAMESPACE,
};
pub use apidiag_lab::{
    JobsMode, Lab, LabOptions, Scenario, ScenarioSize, k8s_version, pinned_version, pinned_versions,
};

/// kubectl, found on PATH as a user's shell would find it (not a fixed path): the
/// end-to-end tests use it as a real client and as the plugin launcher.
pub fn kubectl() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("kubectl"))
            .find(|path| path.is_file())
    });
    found.expect(
        "kubectl is not on PATH: the end-to-end tests need it as a real client (install kubectl)",
    )
}

/// A PATH folder holding plugin binaries under the names kubectl looks for, to run
/// `kubectl apidiag …` as a user's shell would, with only that folder and
/// kubectl's own on PATH.
pub struct PluginPath {
    dir: tempfile::TempDir,
}

impl PluginPath {
    /// Links each `(name, binary)`: e.g. `("kubectl-apidiag", env!("CARGO_BIN_EXE_kubectl-apidiag"))`.
    pub fn new(plugins: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary PATH folder");
        for (name, binary) in plugins {
            std::os::unix::fs::symlink(binary, dir.path().join(name)).expect("a plugin link");
        }
        PluginPath { dir }
    }

    /// `kubectl ARGS… --kubeconfig <the lab's admin>` in a fresh sandbox.
    pub fn kubectl(&self, args: &[&str]) -> std::process::Output {
        let kubectl = kubectl();
        let kubectl_dir = kubectl
            .parent()
            .expect("kubectl has a folder")
            .to_path_buf();
        Sandbox::new()
            .with_path(&[self.dir.path(), &kubectl_dir])
            .cmd(&kubectl)
            .args(args)
            .arg("--kubeconfig")
            .arg(lab().admin_kubeconfig())
            .output()
            .expect("kubectl runs")
    }
}

/// `kubectl --kubeconfig <lab's admin kubeconfig> args…`: the real client the
/// end-to-end tests check results with.
pub fn kubectl_as_admin(lab: &Lab, args: &[&str]) -> std::process::Output {
    std::process::Command::new(kubectl())
        .arg("--kubeconfig")
        .arg(lab.admin_kubeconfig())
        .args(args)
        .output()
        .expect("kubectl runs")
}

/// The lines kubectl printed, asserting it succeeded.
#[track_caller]
pub fn stdout_lines(output: &std::process::Output) -> Vec<String> {
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

/// The shared lab of this test binary.
pub fn lab() -> &'static Lab {
    apidiag_lab::shared()
}

/// A private home for one test: its own `HOME`, backups and PATH.
pub struct Sandbox {
    home: tempfile::TempDir,
    path: Option<std::ffi::OsString>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            home: tempfile::tempdir().expect("a temporary HOME"),
            path: None,
        }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Where remediations write their bundles in this sandbox (the default location
    /// under `HOME`, so the default is what gets tested).
    pub fn backups(&self) -> PathBuf {
        self.home.path().join(".kube/apidiag/backups")
    }

    /// Sets PATH for the commands of this sandbox.
    pub fn with_path(mut self, dirs: &[&Path]) -> Self {
        self.path = Some(std::env::join_paths(dirs).expect("valid PATH entries"));
        self
    }

    /// A program (a built binary by its `CARGO_BIN_EXE_*` path, or [`kubectl`]) with
    /// the scrubbed environment.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(program);
        cmd.env_remove("KUBECONFIG")
            .env_remove("NO_COLOR")
            .env_remove("APIDIAG_BACKUP_DIR")
            .env_remove("CLICOLOR_FORCE")
            .env("HOME", self.home.path())
            .env("TERM", "dumb")
            .timeout(std::time::Duration::from_secs(120));
        if let Some(path) = &self.path {
            cmd.env("PATH", path);
        }
        cmd
    }

    /// Runs a built binary against a cluster: `binary --kubeconfig FILE args…`.
    pub fn run(
        &self,
        binary: impl AsRef<std::ffi::OsStr>,
        kubeconfig: &Path,
        args: &[&str],
    ) -> std::process::Output {
        self.cmd(binary)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args)
            .output()
            .expect("the binary runs")
    }

    /// The bundles written so far, oldest first.
    pub fn bundles(&self) -> Vec<PathBuf> {
        let mut bundles: Vec<PathBuf> = std::fs::read_dir(self.backups())
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        bundles.sort();
        bundles
    }
}

/// Asserts an exit code, showing both streams when it is not the expected one.
#[track_caller]
pub fn assert_code(output: &std::process::Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Asserts that a `-o json` run exited 0 (healthy). When it did not, the
/// message names what made it so (each finding worse than `info`, each check
/// that did not complete) in full, rather than the whole report, whose size
/// would hide them in a CI log that keeps only part of a test's output.
#[track_caller]
pub fn assert_healthy(output: &std::process::Output) {
    if output.status.code() == Some(0) {
        return;
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let why = match serde_json::from_slice::<serde_json::Value>(&output.stdout) {
        Ok(report) => {
            let mut why = Vec::new();
            for check in report["checks"].as_array().into_iter().flatten() {
                let name = check["check"].as_str().unwrap_or("?");
                if check["status"]["state"] != "complete" {
                    why.push(format!("{name}: {:#}", check["status"]));
                }
                for f in check["findings"].as_array().into_iter().flatten() {
                    if !matches!(f["severity"].as_str(), Some("ok" | "info")) {
                        why.push(format!("{name}: {f:#}"));
                    }
                }
            }
            if why.is_empty() {
                // Not the diagnosis (a fix's exit code, an internal error).
                format!("stdout:\n{stdout}")
            } else {
                why.join("\n")
            }
        }
        Err(_) => format!("stdout:\n{stdout}"),
    };
    panic!(
        "exit {:?}, not 0 (healthy)\n{why}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Parses a report printed with `-o json`.
pub fn json_report(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not a JSON report ({e}):\n{}",
            String::from_utf8_lossy(stdout)
        )
    })
}

/// The names of the checks in a JSON report, in its order.
pub fn check_names(report: &serde_json::Value) -> Vec<&str> {
    report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["check"].as_str())
        .collect()
}

/// The findings of a check in a JSON report.
pub fn findings<'a>(report: &'a serde_json::Value, check: &str) -> Vec<&'a serde_json::Value> {
    report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["check"] == check)
        .flat_map(|c| c["findings"].as_array().into_iter().flatten())
        .collect()
}

/// The finding `id` of `check`; panics (the test's failure report) when absent.
pub fn finding<'a>(report: &'a serde_json::Value, check: &str, id: &str) -> &'a serde_json::Value {
    findings(report, check)
        .into_iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

/// The rows of a finding's evidence table labelled `label`; panics when absent.
pub fn evidence_table<'a>(
    finding: &'a serde_json::Value,
    label: &str,
) -> &'a Vec<serde_json::Value> {
    finding["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["label"] == label)
        .and_then(|e| e["rows"].as_array())
        .unwrap_or_else(|| panic!("no table {label:?} in {finding:#}"))
}
