//! `--fix restart-tunnel`: a rollout restart of the tunnel Deployments, the fix
//! Microsoft documents for stuck konnectivity agents
//! (`kubectl rollout restart deploy konnectivity-agent -n kube-system`).
//!
//! It is done as kubectl does it: a merge patch setting the pod template's
//! annotation `kubectl.kubernetes.io/restartedAt` to now (RFC 3339), which makes
//! the Deployment roll its Pods one by one under its own surge limits. The patch
//! is built from the Deployment as read, so the core's preview, backup,
//! resourceVersion precondition and undo (which puts the template back as it
//! was, and so rolls back to the Pods of before) all come from that copy.

use apidiag_core::object::ResourceType;
use apidiag_core::remediation::{Operation, Plan};
use serde_json::json;

use super::inventory::TunnelDeployment;

/// The annotation `kubectl rollout restart` sets.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// The plan's id, as [`crate::Fix::RestartTunnel`] names it.
pub const PLAN_ID: &str = "connectivity.restart-tunnel";

/// Why there is no restart to plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestartError {
    /// Agent Pods exist but no Deployment owns them here.
    #[error(
        "no tunnel Deployment in kube-system: there is nothing to roll out. The agent Pods ({pods}) have no Deployment here; the guide says to try deleting the pods so they are created again (`kubectl -n kube-system delete pod <name>`); apidiag does not delete Pods"
    )]
    PodsWithoutDeployment { pods: String },
    /// No tunnel at all.
    #[error(
        "no tunnel components in kube-system (konnectivity-agent, tunnelfront, aks-link): nothing to restart"
    )]
    NoTunnel,
    /// Every tunnel Deployment is paused; kubectl refuses to restart those too.
    #[error(
        "the tunnel Deployments are paused ({names}): resume them first (`kubectl -n kube-system rollout resume deploy/<name>`)"
    )]
    Paused { names: String },
}

pub fn deployments() -> ResourceType {
    ResourceType::new("apps", "v1", "deployments", "Deployment", true)
}

/// The plan restarting every tunnel Deployment of `found`, stamped `now`.
pub fn plan(
    found: &[TunnelDeployment],
    pods: &[String],
    now: jiff::Timestamp,
) -> Result<Plan, RestartError> {
    if found.is_empty() {
        return Err(if pods.is_empty() {
            RestartError::NoTunnel
        } else {
            RestartError::PodsWithoutDeployment {
                pods: pods.join(", "),
            }
        });
    }
    let (paused, active): (Vec<_>, Vec<_>) = found.iter().partition(|d| d.paused);
    if active.is_empty() {
        return Err(RestartError::Paused {
            names: paused
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    // Whole seconds in UTC, as kubectl writes it (Go's time.RFC3339).
    let stamp = jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string();
    let resource = deployments();
    let operations = active
        .iter()
        .map(|d| {
            Operation::patch(
                &resource,
                &d.object,
                json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}),
            )
        })
        .collect();
    let names: Vec<&str> = active.iter().map(|d| d.name.as_str()).collect();
    Ok(Plan {
        check: crate::NAME.into(),
        id: PLAN_ID.into(),
        title: format!(
            "rollout restart of deployment {} in kube-system (as `kubectl rollout restart` does it)",
            names.join(", ")
        ),
        warning: (!paused.is_empty()).then(|| {
            format!(
                "paused, left alone: {}",
                paused
                    .iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }),
        acknowledgements: Vec::new(),
        operations,
    })
}
