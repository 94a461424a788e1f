//! The shared core of the apidiag kubectl plugins.
//!
//! Every plugin binary is a thin `main.rs` over this crate. The modules follow the
//! life of one run: [`cli`] parses the flags every plugin shares, [`connection`]
//! turns them into a client the way kubectl would, [`api`] is the only door to the
//! API server (rate-limited, paginated, counting what it costs), [`metrics`] reads
//! `/metrics`, the [`checks`] produce [`finding`]s, [`render`] prints them,
//! [`remediation`] changes the cluster with a plan, a dry run, a confirmation and a
//! [`backup`], and [`exit`] maps the outcome to a documented exit code.

pub mod api;
pub mod backup;
pub mod checks;
pub mod cli;
pub mod connection;
pub mod exit;
pub mod finding;
pub mod flowcontrol;
pub mod metrics;
pub mod object;
pub mod remediation;
pub mod render;
pub mod run;
pub mod style;
pub mod suite;

/// The version every binary reports and sends in its user agent.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The user agent apidiag sends, so that audit logs and APF metrics can tell its
/// requests apart from the workload's.
pub fn user_agent() -> String {
    format!("kubectl-apidiag/{VERSION}")
}
