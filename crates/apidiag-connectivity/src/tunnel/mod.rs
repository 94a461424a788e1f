//! API server → nodes: which tunnel carries the API server's traffic to the
//! kubelets (konnectivity-agent, or the legacy tunnelfront and aks-link, or none
//! with API Server VNet Integration), whether its agents are healthy, and a
//! probe per sampled node that proves the path end to end.
//!
//! [`inventory`] reads (kube-system only), [`verdicts`] judges the agents,
//! [`probe`] reads one byte of a pod's log per node, [`dial`] classifies the API
//! server's words, [`pattern`] reads the probes together, [`restart`] plans
//! `--fix restart-tunnel`.

pub mod dial;
pub mod inventory;
pub mod pattern;
pub mod probe;
pub mod restart;
pub mod verdicts;

use apidiag_core::check::Context;
use apidiag_core::finding::Severity;
use apidiag_core::remediation::Plan;

use crate::rung::Rung;
use inventory::Inventory;

/// The tunnel's flags.
#[derive(Debug, Clone, clap::Args)]
pub struct TunnelArgs {
    /// Probe the path API server → kubelet on at most N nodes (with and without an
    /// agent) by reading one byte of a pod's log there; 0 turns the probe off
    #[arg(long, value_name = "N", default_value_t = DEFAULT_TUNNEL_NODES)]
    pub tunnel_nodes: usize,
}

/// Nodes probed by default: one or two with an agent, one or two without.
pub const DEFAULT_TUNNEL_NODES: usize = 3;

impl Default for TunnelArgs {
    fn default() -> Self {
        TunnelArgs {
            tunnel_nodes: DEFAULT_TUNNEL_NODES,
        }
    }
}

/// What the tunnel rungs read, for the restart fix to build on.
#[derive(Debug, Clone)]
pub struct Collected {
    pub inventory: Inventory,
}

/// The tunnel rungs: the agents, then the probe of each sampled node and what
/// the probes say together.
pub async fn diagnose(ctx: &Context, args: &TunnelArgs) -> (Vec<Rung>, Option<Collected>) {
    let (mut rungs, inventory) = match inventory::read(ctx).await {
        Ok(inventory) => (verdicts::judge(&inventory), Some(inventory)),
        Err(error) => (
            vec![Rung::new(
                "connectivity.tunnel.not-read",
                Severity::Info,
                "tunnel agents in kube-system",
                format!("could not be read: {}", error.first_line()),
                None,
            )],
            None,
        ),
    };
    if args.tunnel_nodes > 0 {
        let agent_nodes = inventory
            .as_ref()
            .map(Inventory::agent_nodes)
            .unwrap_or_default();
        rungs.extend(probe_nodes(ctx, &agent_nodes, args.tunnel_nodes).await);
    }
    (rungs, inventory.map(|inventory| Collected { inventory }))
}

/// The probe rungs of up to `count` nodes.
async fn probe_nodes(
    ctx: &Context,
    agent_nodes: &std::collections::BTreeSet<String>,
    count: usize,
) -> Vec<Rung> {
    let what = "API server → kubelets";
    let candidates = match probe::candidates(ctx, agent_nodes).await {
        Ok(candidates) => candidates,
        Err(error) => {
            return vec![Rung::new(
                "connectivity.node-tunnel.not-probed",
                Severity::Info,
                what,
                format!("the nodes could not be listed: {}", error.first_line()),
                None,
            )];
        }
    };
    let chosen = probe::choose(&candidates, count);
    if chosen.is_empty() {
        return vec![Rung::new(
            "connectivity.node-tunnel.no-nodes",
            // Nothing to reach is not a fault: a healthy empty cluster shows ok.
            Severity::Ok,
            what,
            "no nodes to probe",
            None,
        )];
    }
    let probed = futures::future::join_all(chosen.iter().map(|node| probe::probe(ctx, node))).await;
    let summary = pattern::summarize(&probed);
    probed.into_iter().map(|p| p.rung).chain(summary).collect()
}

/// The plan of `--fix restart-tunnel`.
pub fn plan_restart(collected: &Collected) -> Result<Plan, String> {
    let pods: Vec<String> = collected
        .inventory
        .pods
        .iter()
        .map(|p| p.name.clone())
        .collect();
    restart::plan(
        &collected.inventory.deployments,
        &pods,
        jiff::Timestamp::now(),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
