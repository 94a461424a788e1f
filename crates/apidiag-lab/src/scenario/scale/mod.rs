//! `aks-scale`: a cluster of the size the guides say AKS is tested at (5,000
//! nodes, 200,000 Pods), healthy but for what it plants on purpose: the Jobs
//! whose Pod failed (1,000 at that size). Everything goes through the real API
//! as fast as the lab takes it: Nodes with a Ready status and a Lease each,
//! DaemonSet Pods on every node, Deployments with their ReplicaSets, Pods,
//! Services, ConfigMaps and Secrets, Jobs, and the Events of a cluster that
//! joined its nodes and rolled out its apps within the event TTL.
//!
//! What the lab's controllers do with it (kube-controller-manager of a lab
//! started with this scenario, [`crate::LabOptions::workload_controllers`]):
//! - node lifecycle: off in every lab. No kubelet renews the Leases, so it would
//!   mark every Node Unknown after its grace period (40–50 s), taint it
//!   `unreachable` and, until all Nodes are down ("master disruption mode"),
//!   evict Pods. The Nodes stay Ready as written.
//! - Deployment, ReplicaSet and DaemonSet controllers: off in a scale lab, or
//!   they would create Pods of their own next to the lab's (and no scheduler
//!   would bind them).
//! - job controller: leaves the Jobs alone (`spec.managedBy`, 1.32+; the
//!   scenario refuses an older server before it writes anything).
//!
//! Applying it again keeps what exists; at another size the counts no longer
//! add up (a Deployment keeps its replicas), so re-apply at the same size.
//! - endpoint and EndpointSlice controllers: write one (empty: no Pod has an IP)
//!   Endpoints and EndpointSlice per Service; the root-CA publisher and the
//!   service-account controller write a ConfigMap and a ServiceAccount per
//!   namespace; the TTL controller annotates the Nodes; garbage collection keeps
//!   everything, every owner exists; the Pod GC deletes nothing (1,000 failed Pods
//!   are under its 12,500 threshold).

mod nodes;
pub mod plan;
mod workloads;

pub use nodes::APISERVER_ENDPOINT;
pub use plan::{ScalePlan, node_name};

use super::util;
use super::{Scenario, ScenarioContext, ScenarioReport, ScenarioSize};
use crate::LabError;

/// The app namespaces `plan` uses.
pub fn namespaces(plan: &ScalePlan) -> Vec<String> {
    (0..plan.namespaces).map(|i| plan.namespace(i)).collect()
}

pub(super) async fn apply(
    ctx: &ScenarioContext,
    size: &ScenarioSize,
    report: &mut ScenarioReport,
) -> Result<(), LabError> {
    if ctx.workload_controllers {
        return Err(LabError::Scenario {
            scenario: Scenario::AksScale.name(),
            message: "this lab's kube-controller-manager runs the Deployment, ReplicaSet and DaemonSet controllers, \
                      which would create Pods of their own next to the scenario's; stop it (`apidiag-lab down`) \
                      and start a lab for it with `apidiag-lab up --scenario aks-scale`"
                .into(),
        });
    }
    let plan = ScalePlan::new(size.scale_nodes, size.scale_pods);
    let client = ctx.client();
    // Before anything is written: with a job controller running, the Jobs need
    // `spec.managedBy` (1.32+), or it would run them next to the lab's Pods. (The
    // Jobs themselves check the field again.)
    if plan.jobs > 0 && ctx.controller_manager {
        let version = client
            .apiserver_version()
            .await
            .map_err(LabError::kube("reading the server version"))?;
        let minor: Option<u32> = version.minor.trim_end_matches('+').parse().ok();
        if version.major == "1" && minor.is_some_and(|m| m < 32) {
            return Err(LabError::Scenario {
                scenario: Scenario::AksScale.name(),
                message: format!(
                    "Kubernetes {}.{} drops Job spec.managedBy (1.32+), so its job controller would run the scenario's Jobs; \
                     use the newest pinned minor (unset APIDIAG_LAB_K8S)",
                    version.major, version.minor
                ),
            });
        }
    }
    let concurrency = size.concurrency;
    report.namespaces = namespaces(&plan);
    report.namespaces.push("kube-system".into());
    for ns in namespaces(&plan) {
        util::ensure_namespace(client, Scenario::AksScale, &ns).await?;
    }
    nodes::apply(client, &plan, concurrency).await?;
    nodes::apiserver_endpoints(client).await?;
    workloads::daemonsets(client, &plan, concurrency).await?;
    workloads::jobs(client, &plan, concurrency, report).await?;
    workloads::deployments(client, &plan, concurrency).await?;
    for (kind, n) in [
        ("Node", plan.nodes),
        ("Lease", plan.nodes),
        ("Namespace", plan.namespaces),
        ("DaemonSet", plan.daemonsets),
        ("Deployment", plan.deployments),
        ("ReplicaSet", plan.deployments),
        ("Service", plan.deployments),
        ("ConfigMap", plan.deployments),
        ("Secret", plan.secrets),
        ("Job", plan.jobs),
        ("Pod", plan.pods()),
        ("Event", plan.events),
        ("EndpointSlice", 1),
    ] {
        report.add(kind, n);
    }
    Ok(())
}
