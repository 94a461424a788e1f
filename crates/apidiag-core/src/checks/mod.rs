//! The checks. Each is a module with a `diagnose` function that reads the cluster
//! politely and returns a [`CheckReport`]; checks that can fix what they find also
//! return the state their plans are built from, so a fix never re-reads what the
//! diagnosis already read.
//!
//! [`ALL`] is what `kubectl apidiag` runs when given no check: every check compiled
//! into this build, concurrently, read-only, through one shared [`ApiClient`].

pub mod etcd;
pub mod guard;

use futures::future::BoxFuture;

use crate::api::ApiClient;
use crate::cli::GlobalArgs;
use crate::finding::{CheckReport, ServerInfo};

/// What every check gets: the one polite client of the run and what is known of the server.
pub struct Context {
    pub api: ApiClient,
    pub server: ServerInfo,
    /// The namespace for namespaced checks (from `-n` or the kubeconfig context).
    pub namespace: String,
    pub global: GlobalArgs,
}

/// A check as the aggregate run sees it.
pub struct CheckSpec {
    /// As in `kubectl apidiag <name>` and the `kubectl-apidiag-<name>` binary.
    pub name: &'static str,
    pub about: &'static str,
    /// Read-only diagnosis.
    pub diagnose: for<'a> fn(&'a Context) -> BoxFuture<'a, CheckReport>,
}

/// Every check built into this version, in report order.
pub const ALL: &[CheckSpec] = &[etcd::SPEC, guard::SPEC];

/// The names of the checks the suite is made of, built yet or not: `kubectl apidiag
/// <name>` accepts these and hands them to `kubectl-apidiag-<name>`.
pub const SUITE: &[&str] = &["etcd", "webhooks", "guard", "throttle", "connectivity"];

/// A check's report when an API error stopped it: permission problems say which
/// permission, everything else says what failed and what to do.
pub fn could_not_check(
    check: &str,
    error: &crate::api::ApiError,
    permissions: &str,
) -> CheckReport {
    use crate::api::ApiError;
    let text = error.to_string();
    let mut lines = text.lines();
    let reason = lines.next().unwrap_or_default().to_string();
    let hint = match error {
        ApiError::Forbidden { .. } => format!("this check needs: {permissions}"),
        _ => lines
            .map(|l| l.trim_start_matches("hint: "))
            .collect::<Vec<_>>()
            .join(" "),
    };
    CheckReport::could_not_check(check, reason, hint)
}
