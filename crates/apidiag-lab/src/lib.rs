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

/// The modfiles that pin the control plane, newest minor first: each minor's
/// version lives in its file only (`go/go.mod` is the newest and the default,
/// `go/k8s-1.NN.mod` the older ones, written by `go/pin.sh`).
const PINS: [&str; 3] = [
    include_str!("../go/go.mod"),
    include_str!("../go/k8s-1.34.mod"),
    include_str!("../go/k8s-1.31.mod"),
];

/// Every Kubernetes release the lab can run, newest first (`v1.37.2`, …).
pub fn pinned_versions() -> Vec<&'static str> {
    PINS.iter()
        .filter_map(|pin| parse_k8s_version(pin))
        .collect()
}

/// The pinned release of `minor` (`1.31`, `v1.31`, `1.31.14`), or `None` when
/// that minor is not pinned.
pub fn pinned_version(minor: &str) -> Option<&'static str> {
    let minor = minor.trim().trim_start_matches('v');
    pinned_versions().into_iter().find(|version| {
        let version = &version[1..];
        version == minor || version.starts_with(&format!("{minor}."))
    })
}

/// The Kubernetes release a lab runs by default, e.g. `v1.37.2`: the one
/// `APIDIAG_LAB_K8S` names, else the newest pinned.
pub fn k8s_version() -> &'static str {
    match std::env::var("APIDIAG_LAB_K8S") {
        Ok(minor) if !minor.trim().is_empty() => pinned_version(&minor).unwrap_or("unknown"),
        _ => pinned_versions().first().copied().unwrap_or("unknown"),
    }
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
    fn three_minors_are_pinned_newest_first_and_found_by_minor() {
        let versions = pinned_versions();
        assert_eq!(versions.len(), 3, "{versions:?}");
        let minors: Vec<u32> = versions
            .iter()
            .map(|v| v.split('.').nth(1).unwrap().parse().unwrap())
            .collect();
        assert!(minors.windows(2).all(|w| w[0] > w[1]), "{versions:?}");
        assert_eq!(pinned_version("1.31"), Some("v1.31.14"));
        assert_eq!(pinned_version("v1.34"), Some("v1.34.4"));
        assert_eq!(
            pinned_version("1.3"),
            None,
            "a prefix of a minor is not that minor"
        );
        assert_eq!(pinned_version("1.29"), None);
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
