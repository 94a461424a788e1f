//! The node side of `aks-scale`: Node objects as AKS VMSS nodes register them, the
//! status a healthy kubelet reports, one Lease each in `kube-node-lease`, and the
//! Events a node leaves behind when it joins.
//!
//! No kubelet renews anything: the lab's kube-controller-manager runs without the
//! node lifecycle controller ([`crate::components::controller_manager_args`]),
//! so the Nodes stay Ready as written instead of turning Unknown 40–50 s later.

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Node};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::{Api, ResourceExt};
use serde_json::{Value, json};

use super::plan::{NODES_PER_POOL, ScalePlan, node_name};
use crate::LabError;
use crate::scenario::Scenario;
use crate::scenario::util::{self, ago, from_json, labels};

const ZONES: usize = 3;
/// The address the `kubernetes` EndpointSlice gives for the API server: a
/// documentation address (RFC 5737), since the lab's real one is on loopback,
/// which EndpointSlice validation refuses.
pub const APISERVER_ENDPOINT: &str = "192.0.2.10";

fn node_ip(i: usize) -> String {
    // 254 hosts per /24 (never .0 or .255), from 10.224.0.1 up.
    let host = i % 254 + 1;
    let subnet = i / 254;
    format!("10.{}.{}.{host}", 224 + subnet / 256, subnet % 256)
}

fn node_manifest(i: usize) -> Result<Node, LabError> {
    let name = node_name(i);
    let pool = format!("nodepool{}", i / NODES_PER_POOL + 1);
    let zone = format!("westeurope-{}", i % ZONES + 1);
    from_json(json!({
        "metadata": {
            "name": name,
            "labels": labels(Scenario::AksScale, &[
                ("kubernetes.io/hostname", &name),
                ("kubernetes.io/os", "linux"),
                ("kubernetes.io/arch", "amd64"),
                ("node.kubernetes.io/instance-type", "Standard_D8ds_v5"),
                ("topology.kubernetes.io/region", "westeurope"),
                ("topology.kubernetes.io/zone", &zone),
                ("kubernetes.azure.com/agentpool", &pool),
                ("kubernetes.azure.com/role", "agent"),
                ("agentpool", &pool),
            ]),
        },
        "spec": {
            "providerID": format!(
                "azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mc_lab_aks-scale_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-{pool}-31415926-vmss/virtualMachines/{}",
                i % NODES_PER_POOL
            ),
        },
    }))
}

/// What a healthy kubelet reports: Ready, no pressure, 110 Pods of capacity.
fn ready_status(i: usize) -> Value {
    let now = ago(0);
    let condition = |kind: &str, status: &str, reason: &str| {
        json!({ "type": kind, "status": status, "reason": reason,
                "lastHeartbeatTime": now, "lastTransitionTime": ago(86_400) })
    };
    let resources = json!({
        "cpu": "8", "memory": "32863040Ki", "pods": "110", "ephemeral-storage": "129886128Ki",
    });
    json!({
        "capacity": resources,
        "allocatable": resources,
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID"),
            condition("Ready", "True", "KubeletReady"),
        ],
        "addresses": [
            { "type": "InternalIP", "address": node_ip(i) },
            { "type": "Hostname", "address": node_name(i) },
        ],
        "daemonEndpoints": { "kubeletEndpoint": { "Port": 10250 } },
        "nodeInfo": {
            "machineID": "", "systemUUID": "", "bootID": "",
            "kernelVersion": "5.15.0-1079-azure", "osImage": "Ubuntu 22.04.5 LTS",
            "containerRuntimeVersion": "containerd://1.7.27-1", "kubeletVersion": "",
            "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64",
        },
    })
}

fn lease_manifest(node: &Node) -> Result<Lease, LabError> {
    let name = node.name_any();
    from_json(json!({
        "metadata": {
            "name": name,
            "namespace": "kube-node-lease",
            "labels": labels(Scenario::AksScale, &[]),
            // As the kubelet sets it: the Lease goes with its Node.
            "ownerReferences": [{ "apiVersion": "v1", "kind": "Node", "name": name,
                                  "uid": node.uid().unwrap_or_default() }],
        },
        "spec": { "holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": ago(0).replace('Z', ".000000Z") },
    }))
}

/// Event `k` of node `i`: `RegisteredNode` from the node controller, then
/// `NodeReady` from the kubelet.
fn node_event(i: usize, k: usize) -> Result<Event, LabError> {
    let node = node_name(i);
    let (reason, message, component) = match k {
        0 => (
            "RegisteredNode",
            format!("Node {node} event: Registered Node {node} in Controller"),
            "node-controller",
        ),
        _ => (
            "NodeReady",
            format!("Node {node} status is now: NodeReady"),
            "kubelet",
        ),
    };
    let when = ago(1800);
    let host = if k == 0 { Value::Null } else { json!(node) };
    from_json(json!({
        "metadata": {
            "name": format!("{node}.{:016x}", util::seed(&format!("{node}/{k}"))),
            "namespace": "default",
            "labels": labels(Scenario::AksScale, &[]),
        },
        "involvedObject": { "kind": "Node", "name": node, "uid": node, "apiVersion": "v1" },
        "reason": reason,
        "message": message,
        "source": { "component": component, "host": host },
        "firstTimestamp": when,
        "lastTimestamp": when,
        "count": 1,
        "type": "Normal",
    }))
}

/// Nodes (then their status), Leases and node Events.
pub(super) async fn apply(
    client: &kube::Client,
    plan: &ScalePlan,
    concurrency: usize,
) -> Result<(), LabError> {
    let nodes: Api<Node> = Api::all(client.clone());
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let (nodes, leases) = (&nodes, &leases);
    util::run_concurrently(
        "aks-scale: Nodes",
        (0..plan.nodes).collect(),
        concurrency,
        |i| async move {
            let node = util::create_or_keep(nodes, &node_manifest(i)?).await?;
            let ready = node
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready"));
            if !ready {
                util::patch_status(nodes, &node.name_any(), &ready_status(i)).await?;
            }
            util::create_or_keep(leases, &lease_manifest(&node)?).await?;
            Ok(())
        },
    )
    .await?;
    let events: Vec<(usize, usize)> = (0..plan.nodes)
        .flat_map(|i| (0..super::plan::EVENTS_PER_NODE).map(move |k| (i, k)))
        .collect();
    let api: Api<Event> = Api::namespaced(client.clone(), "default");
    let api = &api;
    util::run_concurrently(
        "aks-scale: node Events",
        events,
        concurrency,
        |(i, k)| async move {
            util::create_or_keep(api, &node_event(i, k)?)
                .await
                .map(|_| ())
        },
    )
    .await?;
    Ok(())
}

/// The `kubernetes` Service's EndpointSlice, which the lab's API server does not
/// write (`--endpoint-reconciler-type=none`): on a cluster with Nodes, a Service
/// without endpoints is a fault connectivity reports. Port 443, where AKS's API
/// server listens.
pub(super) async fn apiserver_endpoints(client: &kube::Client) -> Result<(), LabError> {
    let slice: EndpointSlice = from_json(json!({
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": labels(Scenario::AksScale, &[
                ("kubernetes.io/service-name", "kubernetes"),
                ("endpointslice.kubernetes.io/managed-by", "lab.apidiag.dev"),
            ]),
        },
        "addressType": "IPv4",
        "endpoints": [{ "addresses": [APISERVER_ENDPOINT], "conditions": { "ready": true } }],
        "ports": [{ "name": "https", "port": 443, "protocol": "TCP" }],
    }))?;
    util::create_or_keep(&Api::namespaced(client.clone(), "default"), &slice).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_addresses_are_distinct_and_never_network_or_broadcast() {
        assert_eq!(node_ip(0), "10.224.0.1");
        assert_eq!(node_ip(253), "10.224.0.254");
        assert_eq!(node_ip(254), "10.224.1.1");
        assert_eq!(node_ip(70_000), "10.225.19.151");
        let all: std::collections::BTreeSet<String> = (0..70_000).map(node_ip).collect();
        assert_eq!(all.len(), 70_000);
    }

    #[test]
    fn a_node_is_ready_with_room_for_110_pods() {
        let status = ready_status(3);
        assert_eq!(status["capacity"]["pods"], "110");
        let ready = status["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        assert_eq!(ready["status"], "True");
        assert_eq!(status["addresses"][0]["address"], "10.224.0.4");
    }
}
