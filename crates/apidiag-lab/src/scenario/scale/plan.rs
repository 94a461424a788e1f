//! How many of each object `aks-scale` makes for a given node and Pod count, in
//! the proportions of a busy AKS cluster: a handful of DaemonSet Pods on every
//! node, most Pods behind Deployments (one Service, ConfigMap and, for every other
//! one, Secret each), a few Jobs, and the node-scoped objects a kubelet keeps.
//! Pure arithmetic, so the counts a test expects are the ones the lab makes.

/// Namespaces for apps: one per 50 nodes, between 1 and 200.
const NODES_PER_NAMESPACE: usize = 50;
const MAX_NAMESPACES: usize = 200;
/// Deployments per app namespace.
const DEPLOYMENTS_PER_NAMESPACE: usize = 20;
/// The DaemonSets an AKS node runs Pods of (kube-system), when there are Pods
/// enough for them.
pub(crate) const DAEMONSETS: [&str; 3] = ["kube-proxy", "cloud-node-manager", "csi-azuredisk-node"];
/// A Pod in a hundred belongs to a Job; half of those Jobs failed.
const PODS_PER_JOB_POD: usize = 100;
/// Nodes per AKS node pool (the pool's own limit).
pub(crate) const NODES_PER_POOL: usize = 1000;
/// Events a node leaves in the event TTL (`RegisteredNode`, `NodeReady`); each
/// Deployment adds one `ScalingReplicaSet`.
pub(crate) const EVENTS_PER_NODE: usize = 2;

/// The objects of one `aks-scale` apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalePlan {
    pub nodes: usize,
    /// App namespaces (`lab-scale-000`, …).
    pub namespaces: usize,
    /// DaemonSets in kube-system, each with one Pod on every node.
    pub daemonsets: usize,
    /// Deployments, each with one ReplicaSet, Service and ConfigMap.
    pub deployments: usize,
    /// Pods of the Deployments' ReplicaSets, all together.
    pub deployment_pods: usize,
    /// Jobs (one Pod each).
    pub jobs: usize,
    /// Jobs whose Pod failed (the rest are still running).
    pub failed_jobs: usize,
    /// Secrets: one per two Deployments.
    pub secrets: usize,
    /// Events: per node and per Deployment.
    pub events: usize,
}

impl ScalePlan {
    pub fn new(nodes: usize, pods: usize) -> ScalePlan {
        let nodes = nodes.max(1);
        let namespaces = (nodes / NODES_PER_NAMESPACE).clamp(1, MAX_NAMESPACES);
        // Three DaemonSets once there are four Pods a node, one from two, else none.
        let daemonsets = if pods >= 4 * nodes {
            DAEMONSETS.len()
        } else if pods >= 2 * nodes {
            1
        } else {
            0
        };
        let jobs = pods / PODS_PER_JOB_POD;
        let deployment_pods = pods - daemonsets * nodes - jobs;
        let deployments = (namespaces * DEPLOYMENTS_PER_NAMESPACE).min(deployment_pods);
        ScalePlan {
            nodes,
            namespaces,
            daemonsets,
            deployments,
            deployment_pods,
            jobs,
            failed_jobs: jobs / 2,
            secrets: deployments.div_ceil(2),
            events: EVENTS_PER_NODE * nodes + deployments,
        }
    }

    /// Every Pod: DaemonSets', Deployments' and Jobs'.
    pub fn pods(&self) -> usize {
        self.daemonsets * self.nodes + self.deployment_pods + self.jobs
    }

    /// Replicas of Deployment `d`: the Pods shared out, the first ones one more.
    pub fn replicas(&self, d: usize) -> usize {
        let base = self.deployment_pods / self.deployments.max(1);
        base + usize::from(d < self.deployment_pods % self.deployments.max(1))
    }

    /// The index of Deployment `d`'s first Pod among all Deployment Pods.
    pub fn first_pod(&self, d: usize) -> usize {
        let base = self.deployment_pods / self.deployments.max(1);
        d * base + d.min(self.deployment_pods % self.deployments.max(1))
    }

    pub fn namespace(&self, i: usize) -> String {
        format!("lab-scale-{:03}", i % self.namespaces)
    }

    /// The namespace of Deployment `d`: Deployments go round the namespaces.
    pub fn deployment_namespace(&self, d: usize) -> String {
        self.namespace(d)
    }
}

/// Node `i`'s name, as AKS names VMSS nodes: `aks-<pool>-<hash>-vmss<index>`
/// with a six-digit base-36 index.
pub fn node_name(i: usize) -> String {
    format!(
        "aks-nodepool{}-31415926-vmss{}",
        i / NODES_PER_POOL + 1,
        base36(i % NODES_PER_POOL)
    )
}

fn base36(mut n: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[n % 36];
        n /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_size_is_the_guides_5000_nodes_and_200000_pods() {
        let plan = ScalePlan::new(5000, 200_000);
        assert_eq!(plan.pods(), 200_000);
        assert_eq!(plan.namespaces, 100);
        assert_eq!(plan.daemonsets, 3);
        assert_eq!(plan.deployments, 2000);
        assert_eq!(plan.jobs, 2000);
        assert_eq!(plan.failed_jobs, 1000);
        assert_eq!(plan.deployment_pods, 200_000 - 15_000 - 2000);
        assert_eq!(plan.events, 12_000);
        assert_eq!(plan.secrets, 1000);
        let replicas: usize = (0..plan.deployments).map(|d| plan.replicas(d)).sum();
        assert_eq!(replicas, plan.deployment_pods);
        let last = plan.deployments - 1;
        assert_eq!(
            plan.first_pod(last) + plan.replicas(last),
            plan.deployment_pods
        );
    }

    #[test]
    fn small_sizes_keep_every_count_whole() {
        for (nodes, pods) in [(1, 1), (3, 5), (50, 2000), (100, 11_000), (7, 29)] {
            let plan = ScalePlan::new(nodes, pods);
            assert_eq!(plan.pods(), pods, "{nodes} nodes, {pods} pods");
            let replicas: usize = (0..plan.deployments).map(|d| plan.replicas(d)).sum();
            assert_eq!(replicas, plan.deployment_pods);
            assert!((0..plan.deployments).all(|d| plan.replicas(d) >= 1));
        }
    }

    #[test]
    fn node_names_look_like_aks_vmss_nodes() {
        assert_eq!(node_name(0), "aks-nodepool1-31415926-vmss000000");
        assert_eq!(node_name(37), "aks-nodepool1-31415926-vmss000011");
        assert_eq!(node_name(4999), "aks-nodepool5-31415926-vmss0000rr");
    }
}
