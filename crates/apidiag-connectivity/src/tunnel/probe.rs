//! The tunnel probe: a one-byte `pods/log` read on a Running pod of each sampled
//! node. Logs are the kubelet's (`/containerLogs/…`), so any reply of the kubelet
//! proves the API server reaches that node (through konnectivity where there is
//! one), even a 400 about the container's state. `nodes/proxy` would reach the
//! kubelet too, but its GET authorizes exec (WebSocket upgrades are GETs), so it
//! is never used or asked for.
//!
//! The sample takes nodes with and without an agent, since a failure only on
//! agent-less nodes means node-to-node 10250 is blocked, and a failure everywhere
//! means the tunnel is down ([`super::pattern`]).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use apidiag_core::api::{ApiError, with_query};
use apidiag_core::check::Context;
use apidiag_core::finding::{Evidence, Severity};
use serde_json::Value;

use super::dial::{LOG_TIMEOUT, Outcome, Verdict, classify};
use super::verdicts::guide;
use crate::rung::Rung;

/// Nodes read to choose from: one page, so a 5000-node cluster costs as little as
/// a small one.
pub const NODE_PAGE: u32 = 50;
/// Running pods listed per probed node to pick one from.
const PODS_PER_NODE: u32 = 5;
/// The kubelet port when a Node does not say its own.
const KUBELET_PORT: i64 = 10250;

/// A node that may be probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTarget {
    pub name: String,
    /// Its InternalIP (what kubectl's dial errors name).
    pub address: Option<String>,
    pub port: i64,
    pub ready: bool,
    pub hosts_agent: bool,
}

impl NodeTarget {
    pub fn parse(node: &Value, agent_nodes: &BTreeSet<String>) -> NodeTarget {
        let name = node["metadata"]["name"].as_str().unwrap_or_default();
        let status = &node["status"];
        let address = status["addresses"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["type"] == "InternalIP")
            .and_then(|a| a["address"].as_str())
            .map(str::to_string);
        let port = status["daemonEndpoints"]["kubeletEndpoint"]["Port"]
            .as_i64()
            .filter(|p| *p > 0)
            .unwrap_or(KUBELET_PORT);
        let ready = status["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        NodeTarget {
            name: name.to_string(),
            address,
            port,
            ready,
            hosts_agent: agent_nodes.contains(name),
        }
    }

    fn host(&self) -> &str {
        self.address.as_deref().unwrap_or(&self.name)
    }
}

/// At most `count` nodes, taken in turn from those hosting an agent and those not
/// (so both kinds are in when both exist and `count` ≥ 2), Ready nodes first:
/// a NotReady node's kubelet may be down, which says nothing about the tunnel.
pub fn choose(nodes: &[NodeTarget], count: usize) -> Vec<NodeTarget> {
    let ordered = |hosts_agent: bool| {
        let mut group: Vec<&NodeTarget> = nodes
            .iter()
            .filter(|n| n.hosts_agent == hosts_agent)
            .collect();
        group.sort_by(|a, b| (!a.ready, &a.name).cmp(&(!b.ready, &b.name)));
        group.into_iter()
    };
    let (mut with, mut without) = (ordered(true), ordered(false));
    let mut chosen = Vec::new();
    while chosen.len() < count {
        let before = chosen.len();
        for group in [&mut with, &mut without] {
            if chosen.len() < count
                && let Some(node) = group.next()
            {
                chosen.push(node.clone());
            }
        }
        if chosen.len() == before {
            break;
        }
    }
    chosen
}

/// The pod whose log is read on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

impl LogTarget {
    /// The first pod with a running container (else the first pod's first
    /// container) of a pod list.
    pub fn pick(pods: &Value) -> Option<LogTarget> {
        let items = pods["items"].as_array()?;
        let target = |pod: &Value, container: &str| LogTarget {
            namespace: pod["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            pod: pod["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            container: container.to_string(),
        };
        let running = items.iter().find_map(|pod| {
            pod["status"]["containerStatuses"]
                .as_array()?
                .iter()
                .find(|c| c["state"]["running"].is_object())
                .and_then(|c| c["name"].as_str())
                .map(|c| target(pod, c))
        });
        running.or_else(|| {
            let pod = items.first()?;
            let container = pod["spec"]["containers"][0]["name"].as_str()?;
            Some(target(pod, container))
        })
    }

    fn log_path(&self) -> String {
        with_query(
            &format!(
                "/api/v1/namespaces/{}/pods/{}/log",
                self.namespace, self.pod
            ),
            &[
                ("container", self.container.clone()),
                ("tailLines", "1".into()),
                ("limitBytes", "1".into()),
            ],
        )
    }

    /// The kubelet URL kubectl's error names.
    fn kubelet_url(&self, node: &NodeTarget) -> String {
        format!(
            "https://{}:{}/containerLogs/{}/{}/{}",
            node.host(),
            node.port,
            self.namespace,
            self.pod,
            self.container
        )
    }
}

/// One probed node.
#[derive(Debug, Clone)]
pub struct Probed {
    pub node: NodeTarget,
    pub verdict: Verdict,
    pub rung: Rung,
}

/// The nodes to choose from: one page of nodes.
pub async fn candidates(
    ctx: &Context,
    agent_nodes: &BTreeSet<String>,
) -> Result<Vec<NodeTarget>, ApiError> {
    let page: Value = ctx
        .api
        .get(&with_query(
            "/api/v1/nodes",
            &[("limit", NODE_PAGE.to_string())],
        ))
        .await?;
    Ok(page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| NodeTarget::parse(n, agent_nodes))
        .collect())
}

/// Probes one node: a list of its Running pods, then a one-byte log read.
pub async fn probe(ctx: &Context, node: &NodeTarget) -> Probed {
    let what = format!("API server → kubelet on node {}", node.name);
    let started = Instant::now();
    let pods = ctx
        .api
        .get::<Value>(&with_query(
            "/api/v1/pods",
            &[
                (
                    "fieldSelector",
                    format!("spec.nodeName={},status.phase=Running", node.name),
                ),
                ("limit", PODS_PER_NODE.to_string()),
                // From the watch cache (its nodeName index), not a quorum read
                // that makes etcd filter every pod, once per probed node.
                ("resourceVersion", "0".to_string()),
            ],
        ))
        .await;
    let target = match pods.as_ref().map(LogTarget::pick) {
        Ok(Some(target)) => target,
        Ok(None) => {
            return not_probed(
                node,
                Rung::new(
                    "connectivity.node-tunnel.no-pod",
                    Severity::Info,
                    &what,
                    "no Running pod to read a log line from",
                    None,
                ),
            );
        }
        Err(error) => {
            return not_probed(
                node,
                Rung::new(
                    "connectivity.node-tunnel.not-probed",
                    Severity::Info,
                    &what,
                    format!("its pods could not be listed: {}", error.first_line()),
                    None,
                ),
            );
        }
    };
    // kubectl's Accept: the error, if any, comes back as a Status.
    let path = target.log_path();
    let read = ctx.api.get_raw(&path, Some("application/json, */*"));
    let answer = tokio::time::timeout(LOG_TIMEOUT, read).await;
    let outcome = match answer {
        Ok(answer) => Outcome::of(answer),
        Err(_) => Outcome::NoAnswer,
    };
    let took = started.elapsed();
    let verdict = classify(&outcome);
    Probed {
        node: node.clone(),
        verdict,
        rung: rung(node, &target, &outcome, verdict, took),
    }
}

fn not_probed(node: &NodeTarget, rung: Rung) -> Probed {
    Probed {
        node: node.clone(),
        verdict: Verdict::NotProbed,
        rung,
    }
}

/// The rung of one probe.
pub fn rung(
    node: &NodeTarget,
    target: &LogTarget,
    outcome: &Outcome,
    verdict: Verdict,
    took: Duration,
) -> Rung {
    let what = format!("API server → kubelet on node {}", node.name);
    let id = format!("connectivity.node-tunnel.{}", verdict.id());
    let read = Evidence::new(
        "read",
        format!(
            "pods/log of {}/{} container {} (tailLines=1, limitBytes=1)",
            target.namespace, target.pod, target.container
        ),
    );
    let hosts = Evidence::new(
        "hosts an agent",
        if node.hosts_agent { "yes" } else { "no" },
    );
    // What kubectl prints for the same read (`kubectl logs`).
    let kubectl = match outcome {
        Outcome::Failed { message, .. } => format!("Error from server: {message}"),
        _ => format!(
            "Error from server: Get \"{}\": dial tcp {}:{}: i/o timeout",
            target.kubelet_url(node),
            node.host(),
            node.port
        ),
    };
    let message = match outcome {
        Outcome::Failed { message, .. } => message.clone(),
        _ => String::new(),
    };
    let (severity, verdict_text, meaning) = match verdict {
        Verdict::Ok => {
            let said = match outcome {
                Outcome::Failed { code, reason, .. } => {
                    format!("the kubelet answered ({code} {reason}): the path works")
                }
                _ => "the kubelet answered: the path works".to_string(),
            };
            return Rung::pass(&id, &what, said, Some(took))
                .with(|f| f.evidence(read).evidence(hosts));
        }
        Verdict::NotProbed => {
            let said = match outcome {
                Outcome::Forbidden(message) => format!("not allowed to read pod logs ({message})"),
                Outcome::Gone => "the pod went away before its log was read".to_string(),
                Outcome::Unreachable(message) => format!("not probed: {message}"),
                _ => "not probed".to_string(),
            };
            return Rung::new(
                "connectivity.node-tunnel.not-probed",
                Severity::Info,
                &what,
                said,
                Some(took),
            )
            .with(|f| f.evidence(read));
        }
        Verdict::Timeout => (
            Severity::Critical,
            match outcome {
                Outcome::NoAnswer => format!(
                    "no answer in {} s (the API server is still dialing {}:{})",
                    LOG_TIMEOUT.as_secs(),
                    node.host(),
                    node.port
                ),
                _ => format!("dial tcp {}:{}: i/o timeout", node.host(), node.port),
            },
            format!(
                "Packets to the kubelet port are dropped. Logs, exec and port-forward work only for pods on nodes that host a konnectivity agent when an NSG, UFW or iptables rule blocks TCP {} between the nodes: allow it (the guide's Cause 7, \"dial tcp <Node_IP>:10250: i/o timeout\").",
                node.port
            ),
        ),
        Verdict::Refused => (
            Severity::Critical,
            format!("dial tcp {}:{}: connect: connection refused", node.host(), node.port),
            "The node answered, but nothing listens on the kubelet port: the kubelet is down or listens elsewhere (the Node's kubelet port is status.daemonEndpoints.kubeletEndpoint.Port). Check the node (`kubectl describe node`, the kubelet's service on the VM).".to_string(),
        ),
        Verdict::NoAgent => (
            Severity::Critical,
            "No agent available".to_string(),
            "konnectivity-server has no agent connected for this node: the agents are down or cannot reach the control plane (node egress to the API server's FQDN:443, or ALPN blocked). See the tunnel agents above.".to_string(),
        ),
        Verdict::NotKubelet => (
            Severity::Critical,
            "server gave HTTP response to HTTPS client".to_string(),
            format!(
                "Something that is not the kubelet (plain HTTP) answers on {}:{}.",
                node.host(),
                node.port
            ),
        ),
        Verdict::TunnelClosed => (
            Severity::Critical,
            "the konnectivity tunnel closed or timed out dialing".to_string(),
            "The konnectivity tunnel to this node failed while dialing: an agent disconnected or is overloaded. Look at the agents above; a rollout restart of the agents is the documented fix.".to_string(),
        ),
        Verdict::ControlPlaneSocket => (
            Severity::Critical,
            "the API server's socket to konnectivity-server is broken".to_string(),
            "This is on the control plane side, between the API server and its konnectivity-server: on AKS, open a support request.".to_string(),
        ),
        Verdict::Unreachable => (
            Severity::Critical,
            format!("no route to {}", node.host()),
            "The API server (or the agent dialing for it) has no route to the node's address.".to_string(),
        ),
        Verdict::Failed => (
            Severity::Warning,
            first_line(&message),
            "The API server could not reach the kubelet, in words apidiag does not know.".to_string(),
        ),
    };
    Rung::new(&id, severity, &what, verdict_text, Some(took)).with(|f| {
        f.detail(format!("kubectl logs says: `{kubectl}`. {meaning}"))
            .evidence(read)
            .evidence(hosts)
            .source(guide(
                "Cause 7: Internal traffic between nodes is being blocked",
            ))
    })
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}
