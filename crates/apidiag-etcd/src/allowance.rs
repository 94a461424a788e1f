//! How many objects of one type a cluster of its size may hold.
//!
//! The guide (seed 001, Cause 3) flags "more than 10,000" objects of one type. That
//! is right for what leaks (ConfigMaps, Secrets, Jobs, custom resources, Helm
//! history): their number says nothing about the cluster's size. It is wrong for
//! what grows with the cluster: the same guide says AKS is tested at "5,000 nodes
//! and 200,000 pods", twenty Pods a node is ordinary there, and every node brings
//! its Lease. Those types are judged against the cluster's own size, read from the
//! same counts (Nodes, Pods, Services), with upstream's scalability thresholds
//! (sig-scalability `configs-and-limits/thresholds.md`: 5,000 nodes, 150,000 Pods,
//! 110 Pods per node, 10,000 Services): never below the threshold
//! (`--object-threshold`), so a small cluster is judged as before. Nodes are the
//! one exception: above 5,000 a cluster is past what AKS allows and upstream
//! tests, whatever the threshold.

use apidiag_core::finding::Severity;

use crate::object_counts::{ObjectCounts, TypeCount};
use crate::thousands;

/// Upstream: at most 110 Pods per node.
pub const PODS_PER_NODE: u64 = 110;
/// Upstream's threshold for Pods in one cluster.
pub const UPSTREAM_PODS: u64 = 150_000;
/// The guide: AKS is tested at 200,000 Pods.
pub const TESTED_PODS: u64 = 200_000;
/// The guide and upstream: 5,000 nodes.
pub const TESTED_NODES: u64 = 5000;
/// Events a node and its Pods leave within the event TTL (one hour by default)
/// in a healthy cluster: registration, readiness, each Pod's scheduling and start.
pub const EVENTS_PER_NODE: u64 = 10;
/// Endpoints one EndpointSlice holds (the EndpointSlice controller's default).
pub const ENDPOINTS_PER_SLICE: u64 = 100;

/// The cluster's size, from the object counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClusterSize {
    pub nodes: u64,
    pub pods: u64,
    pub services: u64,
}

impl ClusterSize {
    pub fn of(counts: &ObjectCounts) -> ClusterSize {
        let count = |resource: &str| {
            counts
                .types
                .iter()
                .find(|t| t.group.is_none() && t.resource == resource)
                .map_or(0, |t| t.count)
        };
        ClusterSize {
            nodes: count("nodes"),
            pods: count("pods"),
            services: count("services"),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "{} nodes, {} Pods, {} Services",
            thousands(self.nodes),
            thousands(self.pods),
            thousands(self.services)
        )
    }
}

/// Which rule sets a type's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// What leaks: the guide's flat threshold.
    Guide,
    /// Pods: 110 per node, at most the 200,000 AKS is tested at.
    PodsPerNode,
    /// Nodes: the 5,000 AKS and upstream are tested at.
    Nodes,
    /// One per node on top of the threshold (node Leases, CSINodes, the CNI's
    /// node objects).
    PerNode,
    /// One per Pod (the CNI's endpoint objects).
    PerPod,
    /// Endpoints, EndpointSlices, IPAddresses: one per Service, plus a slice per
    /// 100 endpoints, on top of the threshold.
    PerService,
    /// Events: ten per node.
    EventsPerNode,
}

/// A type's limit and the rule behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub limit: u64,
    /// Up to here, above `limit` is only worth knowing (info): a figure a cluster
    /// is *tested* at is no cliff, and 200,002 Pods on nodes with room for
    /// 550,000 is not a fault. Equal to `limit` for every other rule.
    pub warn_above: u64,
    pub rule: Rule,
}

impl Rule {
    /// The rule for a type (`group` as in [`TypeCount`]).
    pub fn of(group: Option<&str>, resource: &str) -> Rule {
        match (group.unwrap_or(""), resource) {
            ("", "pods") => Rule::PodsPerNode,
            ("", "nodes") => Rule::Nodes,
            ("coordination.k8s.io", "leases")
            | ("storage.k8s.io", "csinodes")
            | ("cilium.io", "ciliumnodes")
            | ("acn.azure.com", "nodenetworkconfigs") => Rule::PerNode,
            ("cilium.io", "ciliumendpoints") => Rule::PerPod,
            ("", "endpoints")
            | ("discovery.k8s.io", "endpointslices")
            | ("networking.k8s.io", "ipaddresses") => Rule::PerService,
            ("", "events") | ("events.k8s.io", "events") => Rule::EventsPerNode,
            _ => Rule::Guide,
        }
    }

    /// Whether the type grows with the cluster (anything but the guide's rule).
    pub fn scales(self) -> bool {
        self != Rule::Guide
    }
}

impl Allowance {
    pub fn of(t: &TypeCount, size: &ClusterSize, threshold: u64) -> Allowance {
        let rule = Rule::of(t.group.as_deref(), &t.resource);
        if rule == Rule::PodsPerNode {
            let room = PODS_PER_NODE.saturating_mul(size.nodes);
            let limit = threshold.max(room.min(TESTED_PODS));
            // Past the tested figure but with room on the nodes: a tenth more is
            // information; beyond that, or beyond the room, a warning.
            let warn_above = limit.max(room.min(TESTED_PODS + TESTED_PODS / 10));
            return Allowance {
                limit,
                warn_above,
                rule,
            };
        }
        let limit = match rule {
            Rule::Guide | Rule::PodsPerNode => threshold,
            Rule::Nodes => TESTED_NODES,
            Rule::PerNode => threshold.saturating_add(size.nodes),
            Rule::PerPod => threshold.saturating_add(size.pods),
            Rule::PerService => threshold
                .saturating_add(size.services)
                .saturating_add(size.pods / ENDPOINTS_PER_SLICE),
            Rule::EventsPerNode => threshold.max(EVENTS_PER_NODE.saturating_mul(size.nodes)),
        };
        Allowance {
            limit,
            warn_above: limit,
            rule,
        }
    }

    /// How bad `count` objects are: info up to `warn_above`, a warning beyond,
    /// critical above five times the limit.
    pub fn severity(&self, count: u64) -> Severity {
        if count <= self.limit {
            Severity::Ok
        } else if count <= self.warn_above {
            Severity::Info
        } else if count > self.limit.saturating_mul(5) {
            Severity::Critical
        } else {
            Severity::Warning
        }
    }

    /// The rule in a few words, with the numbers it used.
    pub fn explain(&self, size: &ClusterSize, threshold: u64) -> String {
        // `--object-threshold` may have changed the guide's number.
        let t = if threshold == crate::object_counts::SEED_THRESHOLD {
            format!("the guide's {}", thousands(threshold))
        } else {
            format!("the threshold of {}", thousands(threshold))
        };
        match self.rule {
            Rule::Guide => format!("{t}: this type leaks, whatever the cluster's size"),
            Rule::PodsPerNode if self.limit == threshold => format!(
                "grows with the cluster, but {PODS_PER_NODE} per node × {} nodes (at most {}) is below {t}",
                thousands(size.nodes),
                thousands(TESTED_PODS)
            ),
            Rule::PodsPerNode if self.limit == PODS_PER_NODE * size.nodes => format!(
                "grows with the cluster: {PODS_PER_NODE} per node × {} nodes (upstream's most Pods per node)",
                thousands(size.nodes)
            ),
            Rule::PodsPerNode => format!(
                "grows with the cluster: {PODS_PER_NODE} per node × {} nodes, at most {} (AKS is tested at {}; upstream's threshold is {}); up to {} is info, the nodes having room",
                thousands(size.nodes),
                thousands(TESTED_PODS),
                thousands(TESTED_PODS),
                thousands(UPSTREAM_PODS),
                thousands(self.warn_above)
            ),
            Rule::Nodes => format!(
                "the {} nodes AKS allows and upstream tests, whatever the threshold",
                thousands(TESTED_NODES)
            ),
            Rule::PerNode => format!(
                "grows with the cluster: one per node ({}) on top of {t}",
                thousands(size.nodes)
            ),
            Rule::PerPod => format!(
                "grows with the cluster: one per Pod ({}) on top of {t}",
                thousands(size.pods)
            ),
            Rule::PerService => format!(
                "grows with the cluster: one per Service ({}) and per {ENDPOINTS_PER_SLICE} Pods ({}) on top of {t}",
                thousands(size.services),
                thousands(size.pods / ENDPOINTS_PER_SLICE)
            ),
            Rule::EventsPerNode if self.limit == threshold => format!(
                "grows with the cluster: {EVENTS_PER_NODE} per node × {} nodes is below {t}",
                thousands(size.nodes)
            ),
            Rule::EventsPerNode => format!(
                "grows with the cluster: {EVENTS_PER_NODE} per node × {} nodes (what a healthy cluster records within the event TTL; more is Events piling up)",
                thousands(size.nodes)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(q: &str, count: u64) -> TypeCount {
        TypeCount::of(q, count)
    }

    const AKS: ClusterSize = ClusterSize {
        nodes: 5000,
        pods: 200_000,
        services: 2001,
    };

    #[test]
    fn at_the_tested_scale_pods_nodes_leases_and_events_are_within_their_limit() {
        let limit = |q: &str, n: u64| Allowance::of(&t(q, n), &AKS, 10_000).limit;
        assert_eq!(limit("pods", 200_000), 200_000);
        assert_eq!(limit("nodes", 5000), 5000);
        assert_eq!(limit("leases.coordination.k8s.io", 5012), 15_000);
        assert_eq!(limit("events", 12_000), 50_000);
        assert_eq!(limit("events.events.k8s.io", 12_000), 50_000);
        assert_eq!(limit("endpointslices.discovery.k8s.io", 2001), 14_001);
        assert_eq!(limit("csinodes.storage.k8s.io", 5000), 15_000);
        assert_eq!(limit("ciliumendpoints.cilium.io", 1), 210_000);
    }

    #[test]
    fn what_leaks_keeps_the_guides_threshold_at_any_size() {
        for q in [
            "configmaps",
            "secrets",
            "jobs.batch",
            "replicasets.apps",
            "widgets.example.com",
            "services",
        ] {
            let a = Allowance::of(&t(q, 1), &AKS, 10_000);
            assert_eq!((a.limit, a.rule), (10_000, Rule::Guide), "{q}");
            assert!(a.explain(&AKS, 10_000).contains("leaks"));
        }
    }

    #[test]
    fn pods_are_capped_at_the_tested_200000_and_never_below_the_guide() {
        let big = ClusterSize {
            nodes: 10_000,
            ..AKS
        };
        let a = Allowance::of(&t("pods", 1), &big, 10_000);
        assert_eq!(a.limit, TESTED_PODS);
        let text = a.explain(&big, 10_000);
        assert!(
            text.contains("110 per node × 10,000 nodes, at most 200,000"),
            "{text}"
        );
        assert!(text.contains("upstream's threshold is 150,000"), "{text}");
        let small = ClusterSize {
            nodes: 3,
            pods: 40,
            services: 2,
        };
        let a = Allowance::of(&t("pods", 1), &small, 10_000);
        assert_eq!(
            a.limit, 10_000,
            "330 Pods of room is below the guide's threshold"
        );
        assert!(
            a.explain(&small, 10_000)
                .contains("below the guide's 10,000")
        );
        let mid = ClusterSize {
            nodes: 100,
            ..small
        };
        assert_eq!(Allowance::of(&t("pods", 1), &mid, 10_000).limit, 11_000);
    }

    #[test]
    fn just_past_the_tested_pod_count_is_info_and_a_tenth_past_it_a_warning() {
        let a = Allowance::of(&t("pods", 1), &AKS, 10_000);
        assert_eq!((a.limit, a.warn_above), (200_000, 220_000));
        assert_eq!(a.severity(200_000), Severity::Ok);
        assert_eq!(a.severity(200_002), Severity::Info);
        assert_eq!(a.severity(220_001), Severity::Warning);
        assert_eq!(a.severity(1_000_001), Severity::Critical);
        // Past the room on the nodes is a warning at once.
        let room = ClusterSize { nodes: 1000, ..AKS };
        let a = Allowance::of(&t("pods", 1), &room, 10_000);
        assert_eq!((a.limit, a.warn_above), (110_000, 110_000));
        assert_eq!(a.severity(110_001), Severity::Warning);
        assert!(
            a.explain(&room, 10_000)
                .contains("110 per node × 1,000 nodes (upstream's most")
        );
        let leases = Allowance::of(&t("leases.coordination.k8s.io", 1), &AKS, 10_000);
        assert_eq!(leases.severity(15_001), Severity::Warning);
    }

    #[test]
    fn a_lower_threshold_lowers_what_scales_too_but_not_the_node_limit() {
        let none = ClusterSize::default();
        assert_eq!(Allowance::of(&t("pods", 1), &none, 100).limit, 100);
        assert_eq!(
            Allowance::of(&t("leases.coordination.k8s.io", 1), &none, 100).limit,
            100
        );
        assert_eq!(Allowance::of(&t("nodes", 1), &none, 100).limit, 5000);
    }

    #[test]
    fn the_size_comes_from_the_counts() {
        let counts = ObjectCounts {
            types: vec![
                t("pods", 7),
                t("nodes", 2),
                t("services", 3),
                t("nodes.metrics.k8s.io", 9),
            ],
            ..ObjectCounts::default()
        };
        assert_eq!(
            ClusterSize::of(&counts),
            ClusterSize {
                nodes: 2,
                pods: 7,
                services: 3
            }
        );
    }
}
