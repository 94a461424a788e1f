//! API server → aggregated API servers: every APIService's `Available`
//! condition, and the KubeAggregatedAPIErrors runbook's steps for the failing
//! ones (their Service, EndpointSlices, Pods and last log lines, the namespace's
//! Warning events and NetworkPolicies, the aggregator's metrics), with what each
//! outage breaks; and the one safe fix, deleting an orphaned APIService.
//!
//! [`collect`] reads, [`apiservice`] models one APIService and its orphan
//! rules, [`runbook`] turns reads into evidence, [`findings`] judges, [`fix`]
//! plans the delete.

pub mod apiservice;
pub mod collect;
pub mod findings;
pub mod fix;
pub mod runbook;

use apidiag_core::api::ApiError;
use apidiag_core::check::Context;
use apidiag_core::finding::Severity;
use apidiag_core::remediation::Plan;

use crate::rung::Rung;

pub use collect::Collected;

/// The APIService rungs, and what they read for the delete fix.
pub async fn diagnose(ctx: &Context) -> (Vec<Rung>, Option<Collected>) {
    match collect::collect(ctx).await {
        Ok(collected) => (findings::rungs(&collected), Some(collected)),
        Err(error) => (vec![unreadable(&error)], None),
    }
}

/// The rung when the APIServices cannot be listed.
fn unreadable(error: &ApiError) -> Rung {
    let (id, severity, verdict) = match error {
        ApiError::Forbidden { .. } => (
            "connectivity.apiservice.forbidden",
            Severity::Info,
            "not allowed for this identity (needs list apiservices.apiregistration.k8s.io)"
                .to_string(),
        ),
        other => (
            "connectivity.apiservice.unreadable",
            Severity::Warning,
            other.first_line(),
        ),
    };
    Rung::new(id, severity, "APIServices", verdict, None)
}

/// The plan of `--fix delete-apiservice` for the APIServices `names`.
pub fn plan_delete(collected: &Collected, names: &[String]) -> Result<Plan, String> {
    fix::plan(collected, names).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
