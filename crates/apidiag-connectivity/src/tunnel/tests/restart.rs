//! The restart plan.

use apidiag_core::remediation::Action;
use serde_json::json;

use super::super::inventory::TunnelDeployment;
use super::super::restart;
use super::deployment;

#[test]
fn the_restart_is_kubectls_rollout_restart_from_the_object_as_read() {
    let found: Vec<TunnelDeployment> = [deployment()]
        .iter()
        .filter_map(TunnelDeployment::parse)
        .collect();
    let now: jiff::Timestamp = "2026-12-01T16:20:05.123Z".parse().unwrap();
    let plan = restart::plan(&found, &[], now).unwrap();
    assert_eq!(plan.id, "connectivity.restart-tunnel");
    assert_eq!(plan.check, "connectivity");
    assert_eq!(
        plan.title,
        "rollout restart of deployment konnectivity-agent in kube-system (as `kubectl rollout restart` does it)"
    );
    assert_eq!(plan.operations.len(), 1);
    let op = &plan.operations[0];
    assert_eq!(
        op.target.path(),
        "/apis/apps/v1/namespaces/kube-system/deployments/konnectivity-agent"
    );
    assert_eq!(op.target.resource_version.as_deref(), Some("4711"));
    assert_eq!(op.before.as_ref(), Some(&deployment()));
    assert_eq!(
        op.action,
        Action::Patch {
            patch: json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-12-01T16:20:05Z"}}}}})
        }
    );
    let changes = op.changes();
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0].path,
        "spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt"
    );
    assert_eq!(
        changes[0].after.as_deref(),
        Some("\"2026-12-01T16:20:05Z\"")
    );
}

#[test]
fn the_restart_refuses_when_there_is_nothing_to_roll_out() {
    let now = jiff::Timestamp::now();
    let error = restart::plan(&[], &["konnectivity-agent-x2b4c".into()], now).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no tunnel Deployment in kube-system: there is nothing to roll out. The agent Pods (konnectivity-agent-x2b4c) have no Deployment here; the guide says to try deleting the pods so they are created again (`kubectl -n kube-system delete pod <name>`); apidiag does not delete Pods"
    );
    assert_eq!(
        restart::plan(&[], &[], now).unwrap_err(),
        restart::RestartError::NoTunnel
    );
    let mut paused = deployment();
    paused["spec"]["paused"] = json!(true);
    let found: Vec<TunnelDeployment> = [paused]
        .iter()
        .filter_map(TunnelDeployment::parse)
        .collect();
    assert_eq!(
        restart::plan(&found, &[], now).unwrap_err().to_string(),
        "the tunnel Deployments are paused (konnectivity-agent): resume them first (`kubectl -n kube-system rollout resume deploy/<name>`)"
    );
}
