//! What the tunnel inventory says: one rung per tunnel component found (healthy,
//! crash-looping, not Ready), plus the causes the TCP time-outs guide names for
//! agents that are not running (Cause 1): agents OOMKilled (sized too small) and
//! nodes under pressure (the guide's fix: a system node pool).
//!
//! A konnectivity agent is Ready only while it holds a connection to at least one
//! konnectivity-server ("no servers connected" otherwise, ANP
//! `pkg/agent/readiness.go`), so Ready is the agent's own word on its tunnel.

use apidiag_core::finding::{Evidence, Severity, Source};

use super::inventory::{Component, Inventory};
use crate::rung::Rung;

const WHAT: &str = "tunnel agents in kube-system";

/// The guide these verdicts implement.
pub fn guide(section: &str) -> Source {
    Source {
        guide: "TCP time-outs when kubectl or other third-party tools connect to the API server"
            .into(),
        section: section.into(),
    }
}

const CAUSE_1: &str =
    "Cause 1: Pods that are responsible for node-to-control plane communication aren't running";

/// The command of the restart fix.
pub const RESTART_COMMAND: &str = "kubectl apidiag connectivity --fix restart-tunnel";

/// The inventory's rungs.
pub fn judge(inventory: &Inventory) -> Vec<Rung> {
    let mut components: Vec<Component> = inventory
        .deployments
        .iter()
        .map(|d| d.component)
        .chain(inventory.pods.iter().map(|p| p.component))
        .collect();
    components.sort();
    components.dedup();
    if components.is_empty() {
        return vec![none()];
    }
    let mut rungs: Vec<Rung> = components
        .into_iter()
        .map(|c| component(inventory, c))
        .collect();
    rungs.extend(oom_killed(inventory));
    rungs.extend(node_pressure(inventory));
    rungs
}

fn none() -> Rung {
    Rung::new(
        "connectivity.tunnel.none",
        // Expected without a tunnel (VNet integration, most clusters off AKS); the
        // per-node probe is what tells a missing tunnel from none needed.
        Severity::Ok,
        WHAT,
        "no tunnel components (konnectivity-agent, tunnelfront, aks-link)",
        None,
    )
    .with(|f| {
        f.detail(
            "None is expected with AKS API Server VNet Integration (\"no tunnel is required for API server to node connectivity\") and on clusters whose API server reaches the nodes directly. Otherwise the tunnel is missing. The tunnel probe below tells whether the API server reaches the kubelets either way.",
        )
    })
}

fn pod_table(inventory: &Inventory, component: Component) -> Evidence {
    let rows = inventory
        .pods
        .iter()
        .filter(|p| p.component == component)
        .map(|p| {
            vec![
                p.name.clone(),
                p.node.clone().unwrap_or_else(|| "(none)".into()),
                if p.ready { "True" } else { "False" }.into(),
                p.restarts.to_string(),
                p.waiting.clone().unwrap_or_else(|| p.phase.clone()),
                p.last_termination.clone().unwrap_or_default(),
            ]
        })
        .collect();
    Evidence::table(
        "agents",
        &[
            "POD",
            "NODE",
            "READY",
            "RESTARTS",
            "STATE",
            "LAST TERMINATION",
        ],
        rows,
    )
}

fn component(inventory: &Inventory, component: Component) -> Rung {
    let pods: Vec<_> = inventory
        .pods
        .iter()
        .filter(|p| p.component == component)
        .collect();
    let deployment = inventory
        .deployments
        .iter()
        .find(|d| d.component == component);
    let name = component.name();
    let ready = pods.iter().filter(|p| p.ready).count();
    let total = pods
        .len()
        .max(deployment.map_or(0, |d| d.desired.max(0) as usize));
    let has_deployment = deployment.is_some();
    let next_step = if has_deployment {
        format!(
            "Restart the agents with a rollout restart (`{RESTART_COMMAND}`), then run this check again."
        )
    } else {
        "No Deployment owns these Pods here, so there is nothing to roll out: delete the agent Pods (the guide says to try deleting them) so they are created again; apidiag does not delete Pods.".to_string()
    };
    let offer = |f: apidiag_core::finding::Finding| {
        if has_deployment {
            f.offer(
                "connectivity.restart-tunnel",
                "restart the tunnel agents (a rollout restart, as Microsoft documents)",
                RESTART_COMMAND.to_string(),
            )
        } else {
            f
        }
    };
    let crashing: Vec<_> = pods
        .iter()
        .filter(|p| p.waiting.as_deref() == Some("CrashLoopBackOff"))
        .collect();
    if !crashing.is_empty() {
        let restarts: i64 = crashing.iter().map(|p| p.restarts).sum();
        return Rung::new(
            "connectivity.tunnel.crashloop",
            Severity::Critical,
            WHAT,
            format!(
                "{name} {}/{} in CrashLoopBackOff ({restarts} restarts), {ready}/{total} Ready",
                crashing.len(),
                pods.len()
            ),
            None,
        )
        .with(|f| {
            offer(f.detail(format!(
                "The agents that carry the API server's traffic to the nodes keep crashing, so `kubectl logs`, `exec`, `port-forward`, admission webhooks and aggregated APIs fail for the nodes they serve (kubectl: `Error from server: … No agent available` or `dial tcp <node-ip>:10250: i/o timeout`). Look at why they exit (`kubectl -n kube-system logs -p <pod>`), make sure the nodes hosting them are not under stress (a system node pool), and that the nodes' egress allows {}. {next_step}",
                component.egress()
            )))
            .evidence(pod_table(inventory, component))
            .source(guide(CAUSE_1))
        });
    }
    if ready == 0 {
        let verdict = if pods.is_empty() {
            format!("{name} 0/{total} Ready: the Deployment has no Pods")
        } else {
            format!("{name} 0/{total} Ready (\"no servers connected\")")
        };
        return Rung::new(
            "connectivity.tunnel.not-ready",
            Severity::Critical,
            WHAT,
            verdict,
            None,
        )
        .with(|f| {
            offer(f.detail(format!(
                "An agent is Ready only while it holds a connection to the control plane (its readiness fails with \"no servers connected\" otherwise), so no node has a working tunnel: `kubectl logs` and `exec` fail with `Error from server: … No agent available`, and so do webhooks and aggregated APIs behind the tunnel. The node's egress must allow {}: check the firewall or NVA on the node subnet's route, SNAT exhaustion and DNS. {next_step}",
                component.egress()
            )))
            .evidence(pod_table(inventory, component))
            .source(guide("Cause 2: Access is blocked on some required ports, FQDNs, and IP addresses"))
        });
    }
    let nodes: Vec<String> = {
        let mut nodes: Vec<String> = pods
            .iter()
            .filter(|p| p.ready)
            .filter_map(|p| p.node.clone())
            .collect();
        nodes.sort();
        nodes.dedup();
        nodes
    };
    let on = if nodes.is_empty() {
        String::new()
    } else {
        format!(" on nodes {}", nodes.join(", "))
    };
    if ready < total {
        return Rung::new(
            "connectivity.tunnel.degraded",
            Severity::Warning,
            WHAT,
            format!("{name} {ready}/{total} Ready{on}"),
            None,
        )
        .with(|f| {
            offer(f.detail(format!(
                "Some agents are not Ready: the tunnel still works through the others, with less headroom. {next_step}"
            )))
            .evidence(pod_table(inventory, component))
            .source(guide(CAUSE_1))
        });
    }
    Rung::pass(
        "connectivity.tunnel.healthy",
        WHAT,
        format!("{name} {ready}/{total} Ready{on}"),
        None,
    )
    .with(|f| f.evidence(pod_table(inventory, component)))
}

/// Agents whose last termination was `OOMKilled`: the agents are sized too small
/// for the cluster (on AKS the autoscaler ConfigMap sets how many there are).
fn oom_killed(inventory: &Inventory) -> Option<Rung> {
    let killed: Vec<_> = inventory
        .pods
        .iter()
        .filter(|p| p.last_termination.as_deref() == Some("OOMKilled"))
        .collect();
    if killed.is_empty() {
        return None;
    }
    let names: Vec<&str> = killed.iter().map(|p| p.name.as_str()).collect();
    Some(
        Rung::new(
            "connectivity.tunnel.oomkilled",
            Severity::Warning,
            WHAT,
            format!(
                "{} of {} agents last ended OOMKilled",
                killed.len(),
                inventory.pods.len()
            ),
            None,
        )
        .with(|f| {
            let f = f
                .detail(format!(
                    "The agents are sized too small for the traffic they carry ({}). On AKS their number follows the cluster-proportional autoscaler (ConfigMap kube-system/{}); more nodes, or fewer pods per agent, spread the load. Move the nodes hosting them to a system node pool so they are not starved.",
                    names.join(", "),
                    super::inventory::AUTOSCALER_CONFIGMAP
                ))
                .source(guide(CAUSE_1));
            match inventory.autoscaler.as_ref().and_then(|d| d.as_object()) {
                Some(data) => data.iter().fold(f, |f, (key, value)| {
                    f.evidence(Evidence::new(
                        format!("autoscaler {key}"),
                        value.as_str().unwrap_or_default(),
                    ))
                }),
                None => f,
            }
        }),
    )
}

/// The nodes hosting agents that are under pressure or not Ready.
fn node_pressure(inventory: &Inventory) -> Option<Rung> {
    let stressed: Vec<_> = inventory
        .nodes
        .iter()
        .filter(|n| !n.troubles.is_empty())
        .collect();
    if stressed.is_empty() {
        return None;
    }
    let rows = stressed
        .iter()
        .map(|n| vec![n.name.clone(), n.troubles.join(", ")])
        .collect();
    Some(
        Rung::new(
            "connectivity.tunnel.node-pressure",
            Severity::Warning,
            WHAT,
            format!(
                "{} of {} nodes hosting agents are under stress",
                stressed.len(),
                inventory.nodes.len()
            ),
            None,
        )
        .with(|f| {
            f.detail(
                "The guide: make sure the nodes that host the tunnel pods aren't overly utilized or under stress, and consider moving them to their own system node pool (`az aks nodepool add --mode System`).",
            )
            .evidence(Evidence::table("nodes", &["NODE", "CONDITIONS"], rows))
            .source(guide(CAUSE_1))
        }),
    )
}
