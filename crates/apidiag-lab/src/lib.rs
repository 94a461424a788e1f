//! A real Kubernetes control plane on loopback, for apidiag's tests and demo.
//!
//! apidiag diagnoses API server and etcd trouble, so its tests need the real thing:
//! the kube-apiserver's APF, audit log, metrics and admission chain, etcd's storage
//! and kube-controller-manager's job, TTL and garbage-collection controllers behave
//! in ways no mock reproduces. The lab builds those three binaries from the upstream
//! release pinned in `go/go.mod` ([`binaries`]), starts them on free loopback ports
//! in a temporary directory with generated certificates ([`Lab::start`]) and can then
//! inject the faults apidiag looks for, each through the real API ([`Scenario`]).
//!
//! Tests use [`shared`] (one lab per test binary) or [`Lab::start`] (a fresh lab for
//! cluster-wide faults); people use the `apidiag-lab` binary (`up`, `down`, `demo`).

pub mod binaries;
mod bootstrap;
mod components;
pub mod daemon;
mod encoding;
mod error;
pub mod kubeconfig;
mod lab;
pub mod pki;
pub mod ports;
mod process;
pub mod scenario;
pub mod target;

pub use bootstrap::USER_NAMESPACE;
pub use error::LabError;
pub use lab::{Lab, LabOptions, StartupTiming, shared};
pub use scenario::{JobsMode, Scenario, ScenarioReport, ScenarioSize};

/// The go.mod that pins the control plane; the one place the version lives.
const GO_MOD: &str = include_str!("../go/go.mod");

/// The Kubernetes release the lab runs, e.g. `v1.37.1`, as pinned in `go/go.mod`.
pub fn k8s_version() -> &'static str {
    parse_k8s_version(GO_MOD).unwrap_or("unknown")
}

/// Finds the `k8s.io/kubernetes vX.Y.Z` require line (not the replace block, which
/// pins the staging modules, nor comments).
fn parse_k8s_version(go_mod: &str) -> Option<&str> {
    let mut in_replace = false;
    for line in go_mod.lines() {
        let line = line.split("//").next().unwrap_or_default().trim();
        if line.starts_with("replace") {
            in_replace = line.ends_with('(');
            continue;
        }
        if in_replace {
            in_replace = line != ")";
            continue;
        }
        let line = line.strip_prefix("require").map(str::trim).unwrap_or(line);
        let mut words = line.split_whitespace();
        if words.next() == Some("k8s.io/kubernetes") {
            return words.next().filter(|v| v.starts_with('v'));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_comes_from_go_mod() {
        let v = k8s_version();
        assert!(v.starts_with("v1."), "{v}");
        assert_eq!(v.split('.').count(), 3, "{v}");
    }

    #[test]
    fn version_parser_ignores_replace_and_comments() {
        let go_mod = "module x\n// k8s.io/kubernetes v0.0.1\nreplace k8s.io/kubernetes => k8s.io/kubernetes v9.9.9\nrequire (\n\tk8s.io/api v0.37.1\n\tk8s.io/kubernetes v1.37.1 // pinned\n)\n";
        assert_eq!(parse_k8s_version(go_mod), Some("v1.37.1"));
        assert_eq!(
            parse_k8s_version("require k8s.io/kubernetes v1.2.3\n"),
            Some("v1.2.3")
        );
        assert_eq!(parse_k8s_version("module x\n"), None);
    }
}
