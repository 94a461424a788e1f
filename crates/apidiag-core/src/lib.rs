//! The shared core of the apidiag kubectl plugins.
//!
//! The framework every check is built on; it never names a check (the suite
//! plugin holds the list). The modules follow the life of one run: [`cli`] parses
//! the flags every plugin shares, [`connection`] turns them into a client the way
//! kubectl would, [`api`] is the only door to the API server (rate-limited,
//! paginated, counting what it costs), [`check`] is what a check runs in (with the
//! run's one `/metrics` scrape), checks produce [`finding`]s, [`render`] prints
//! them, [`remediation`] changes the cluster with a plan, a dry run, a confirmation
//! and a [`backup`], [`run`] drives one binary from argv to exit code, and [`exit`]
//! maps the outcome to a documented exit code.

pub mod api;
pub mod backup;
pub mod check;
pub mod cli;
pub mod connection;
pub mod exit;
pub mod finding;
pub mod flowcontrol;
#[doc(hidden)]
pub mod fuzzing;
pub mod object;
pub mod redact;
pub mod remediation;
pub mod render;
pub mod run;
pub mod style;

/// The version every binary reports and sends in its user agent.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The user agent apidiag sends, so that audit logs and APF metrics can tell its
/// requests apart from the workload's.
pub fn user_agent() -> String {
    format!("kubectl-apidiag/{VERSION}")
}
