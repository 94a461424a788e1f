//! What the probes of several nodes say together: a failure only on the nodes
//! without an agent means port 10250 is blocked between nodes (the agents reach
//! the other kubelets over the node network); a failure on every node means the
//! tunnel is down.

use apidiag_core::finding::Severity;

use super::dial::Verdict;
use super::probe::Probed;
use super::verdicts::guide;
use crate::rung::Rung;

/// What the probes say together: a failure only on agent-less nodes means port
/// 10250 is blocked between nodes; a failure on every node means the tunnel is down.
pub fn summarize(probed: &[Probed]) -> Option<Rung> {
    let conclusive: Vec<&Probed> = probed
        .iter()
        .filter(|p| p.verdict != Verdict::NotProbed)
        .collect();
    let failed: Vec<&Probed> = conclusive
        .iter()
        .copied()
        .filter(|p| p.verdict.is_failure())
        .collect();
    if failed.is_empty() {
        return None;
    }
    let names = |group: &[&Probed]| {
        group
            .iter()
            .map(|p| p.node.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let what = "API server → kubelets";
    if failed.len() == conclusive.len() {
        let no_agent = failed.iter().all(|p| p.verdict == Verdict::NoAgent);
        return Some(
            Rung::new(
                "connectivity.node-tunnel.down",
                Severity::Critical,
                what,
                format!(
                    "failed on all {} probed nodes ({})",
                    failed.len(),
                    names(&failed)
                ),
                None,
            )
            .with(|f| {
                f.detail(if no_agent {
                    "Every probed node fails with `No agent available`: the konnectivity agents are disconnected from the control plane, so logs, exec, webhooks and aggregated APIs fail everywhere. Fix the agents (see the tunnel agents rung), then run this check again."
                } else {
                    "Every probed node fails: the tunnel from the API server to the nodes is down (or every kubelet is). Logs, exec, port-forward, and on konnectivity clusters webhooks and aggregated APIs, fail. Look at the tunnel agents above and at the node network."
                })
                .source(guide("Cause 1: Pods that are responsible for node-to-control plane communication aren't running"))
            }),
        );
    }
    let ok_with_agent = conclusive
        .iter()
        .any(|p| p.node.hosts_agent && p.verdict == Verdict::Ok);
    if ok_with_agent && failed.iter().all(|p| !p.node.hosts_agent) {
        return Some(
            Rung::new(
                "connectivity.node-tunnel.blocked-between-nodes",
                Severity::Critical,
                what,
                format!(
                    "fails only on nodes without an agent ({}): port 10250 is blocked between nodes",
                    names(&failed)
                ),
                None,
            )
            .with(|f| {
                f.detail("The nodes that host a konnectivity agent answer and the others do not: the agents reach the other kubelets over the node network, and an NSG, UFW or iptables rule blocks TCP 10250 between nodes. Allow it between the node subnets (the guide's Cause 7).")
                    .source(guide("Cause 7: Internal traffic between nodes is being blocked"))
            }),
        );
    }
    Some(
        Rung::new(
            "connectivity.node-tunnel.partial",
            Severity::Warning,
            what,
            format!(
                "failed on {} of {} probed nodes ({})",
                failed.len(),
                conclusive.len(),
                names(&failed)
            ),
            None,
        )
        .with(|f| f.detail("Some nodes are reachable and some are not, with no pattern by agent placement: look at the failing nodes themselves (kubelet, node network).")),
    )
}
