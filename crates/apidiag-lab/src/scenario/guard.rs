//! `guard`: what AKS leaves behind when it applies its managed API server guard, a
//! last-resort throttle of non-system clients after repeated API server OOMs: a
//! FlowSchema and a PriorityLevelConfiguration named `aks-managed-apiserver-guard`,
//! a Warning Event `aks-managed-apiserver-throttling-enabled` in kube-system, and
//! the kube-system ConfigMap `large-cluster-control-plane-scaling-status`.
//!
//! The guard's FlowSchema sits at precedence 1000: below every built-in system
//! schema (exempt 1, probes 2, system-leader-election 100, … kube-controller-manager
//! 800, kube-system-service-accounts 900), above service-accounts (9000) and
//! global-default (9900). So system components keep their levels and everything
//! else authenticated lands in a level with a handful of seats that rejects.
//! The ConfigMap's keys are the lab's best approximation of AKS's, which are not
//! documented; apidiag should key on its presence and name.

use k8s_openapi::api::core::v1::{ConfigMap, Event};
use k8s_openapi::api::flowcontrol::v1::{FlowSchema, PriorityLevelConfiguration};
use kube::Api;
use serde_json::json;

use super::util::{self, ago, from_json, labels};
use super::{Scenario, ScenarioContext, ScenarioReport};
use crate::LabError;

/// Name of the guard's FlowSchema and PriorityLevelConfiguration.
pub const GUARD: &str = "aks-managed-apiserver-guard";
/// Name of the kube-system Event announcing it.
pub const EVENT: &str = "aks-managed-apiserver-throttling-enabled";
/// Name of the kube-system ConfigMap describing the control plane's scaling state.
pub const SCALING_STATUS: &str = "large-cluster-control-plane-scaling-status";
/// The guard FlowSchema's matching precedence.
pub const PRECEDENCE: i32 = 1000;

pub(super) async fn apply(
    ctx: &ScenarioContext,
    report: &mut ScenarioReport,
) -> Result<(), LabError> {
    let client = ctx.client();
    let managed = labels(
        Scenario::Guard,
        &[("kubernetes.azure.com/managedby", "aks")],
    );

    let level: PriorityLevelConfiguration = from_json(json!({
        "metadata": { "name": GUARD, "labels": managed },
        "spec": {
            "type": "Limited",
            "limited": {
                "nominalConcurrencyShares": 5,
                "lendablePercent": 0,
                "borrowingLimitPercent": 0,
                "limitResponse": { "type": "Reject" },
            },
        },
    }))?;
    util::create_or_keep(&Api::all(client.clone()), &level).await?;
    report.add("PriorityLevelConfiguration", 1);

    let everything = json!({
        "resourceRules": [{
            "verbs": ["*"], "apiGroups": ["*"], "resources": ["*"],
            "clusterScope": true, "namespaces": ["*"],
        }],
        "nonResourceRules": [{ "verbs": ["*"], "nonResourceURLs": ["*"] }],
    });
    let mut rule = everything;
    rule["subjects"] = json!([
        { "kind": "Group", "group": { "name": "system:serviceaccounts" } },
        { "kind": "Group", "group": { "name": "system:authenticated" } },
    ]);
    let schema: FlowSchema = from_json(json!({
        "metadata": { "name": GUARD, "labels": managed },
        "spec": {
            "matchingPrecedence": PRECEDENCE,
            "priorityLevelConfiguration": { "name": GUARD },
            "distinguisherMethod": { "type": "ByUser" },
            "rules": [rule],
        },
    }))?;
    util::create_or_keep(&Api::all(client.clone()), &schema).await?;
    report.add("FlowSchema", 1);

    let now = ago(0);
    let event: Event = from_json(json!({
        "metadata": { "name": EVENT, "namespace": "kube-system", "labels": managed },
        "involvedObject": {
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
            "kind": "FlowSchema",
            "name": GUARD,
        },
        "type": "Warning",
        "reason": "AKSManagedAPIServerThrottlingEnabled",
        "message": "API server is under memory pressure after scaling attempts; AKS applied FlowSchema \
                    aks-managed-apiserver-guard to throttle non-system clients. Identify and optimise \
                    clients with expensive LIST calls, then contact support to remove the guard.",
        // A cluster-scoped subject may only have its Event in kube-system when the
        // Event is "new style" (eventTime, action, reporting fields set).
        "eventTime": now,
        "action": "Throttle",
        "source": { "component": GUARD },
        "reportingComponent": GUARD,
        "reportingInstance": "aks-control-plane",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }))?;
    util::create_or_keep(&Api::namespaced(client.clone(), "kube-system"), &event).await?;
    report.add("Event", 1);

    let status: ConfigMap = from_json(json!({
        "metadata": { "name": SCALING_STATUS, "namespace": "kube-system", "labels": managed },
        "data": {
            "status": "Guarded",
            "apiserverGuard": "enabled",
            "reason": "APIServerOOMAfterScaleUp",
            "lastTransitionTime": now,
        },
    }))?;
    util::create_or_keep(&Api::namespaced(client.clone(), "kube-system"), &status).await?;
    report.add("ConfigMap", 1);
    Ok(())
}
