//! `--from-node`: the guide's Cause 1 ("a network rule blocks the traffic from
//! agent nodes to the API server"), checked from the node itself. kubectl-aks
//! does it through Azure's VM run-command; apidiag, which must work on any
//! Kubernetes, runs a short-lived Pod on the node's host network that resolves
//! and connects to the API server's address (and, on AKS, the required outbound
//! endpoints of the TCP time-outs guide's Cause 2), then deletes it.
//!
//! It creates Pods, so it goes through the guided flow like a fix: preview,
//! server dry run, consent (or `--yes`), backup; the Pods are taken back when
//! the probe is done ([`take_back`]), also when one never starts, so nothing is
//! left behind and nothing waits past `--probe-timeout`.

pub mod script;

use std::time::{Duration, Instant};

use apidiag_core::check::Context;
use apidiag_core::finding::{Evidence, Severity};
use apidiag_core::object::ResourceType;
use apidiag_core::remediation::{Action, Operation, Plan, RemediationResult, take_back};
use serde_json::{Value, json};

use crate::rung::Rung;

/// The image when none is given: it has `sh`, `nslookup` and `nc`.
pub const DEFAULT_IMAGE: &str = "busybox:1.36";

/// The AKS required outbound endpoints a node must reach (global Azure,
/// "Outbound network and FQDN rules for AKS clusters"), without the wildcard
/// ones, which cannot be probed by name.
const AKS_OUTBOUND: &[&str] = &[
    "mcr.microsoft.com",
    "management.azure.com",
    "login.microsoftonline.com",
    "packages.microsoft.com",
    "acs-mirror.azureedge.net",
    "packages.aks.azure.com",
];

/// The node probe's flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NodeProbeArgs {
    /// Probe from this node (repeatable): a short-lived Pod on its host network resolves and connects to the API server (on AKS also to the required outbound endpoints) and is deleted after. It creates Pods, so it is previewed and confirmed like a fix
    #[arg(long = "from-node", value_name = "NODE", conflicts_with = "fix")]
    pub from_node: Vec<String>,
    /// Probe from N nodes, chosen across node pools, instead of naming them
    #[arg(long, value_name = "N", conflicts_with_all = ["from_node", "fix"], value_parser = clap::value_parser!(u16).range(1..=20))]
    pub sample_nodes: Option<u16>,
    /// The probe's image: it needs sh, nslookup and nc (busybox has them); where egress allows only MCR, an MCR busybox such as mcr.microsoft.com/azurelinux/busybox:1.36
    #[arg(long, value_name = "IMAGE", default_value = DEFAULT_IMAGE)]
    pub probe_image: String,
    /// How long a probe Pod may take to start and finish before it is given up (and deleted)
    #[arg(long, value_name = "DURATION", default_value = "90s", value_parser = apidiag_core::cli::parse_go_duration)]
    pub probe_timeout: Duration,
}

impl NodeProbeArgs {
    pub fn wanted(&self) -> bool {
        !self.from_node.is_empty() || self.sample_nodes.is_some()
    }
}

fn pods() -> ResourceType {
    ResourceType::new("", "v1", "pods", "Pod", true)
}

/// What the probe connects to: the API server as this kubeconfig names it, and
/// on public AKS the required outbound endpoints.
pub fn targets(server: &str) -> Vec<(String, u16)> {
    let (host, port) =
        crate::path::kubeconfig::host_port(server).unwrap_or_else(|| (server.to_string(), 443));
    let aks = host.ends_with(".azmk8s.io");
    let mut targets = vec![(host, port)];
    if aks {
        targets.extend(AKS_OUTBOUND.iter().map(|h| (h.to_string(), 443)));
    }
    targets
}

/// The probe Pod for `node`: host network, the node's resolver, every taint
/// tolerated, nothing mounted, no privileges, a deadline.
pub fn pod(
    node: &str,
    namespace: &str,
    name: &str,
    image: &str,
    script: &str,
    deadline: Duration,
) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/name": "apidiag-node-probe",
                "app.kubernetes.io/managed-by": "apidiag",
            },
        },
        "spec": {
            "nodeName": node,
            "hostNetwork": true,
            // The node's own resolv.conf: what the kubelet and the node see.
            "dnsPolicy": "Default",
            "restartPolicy": "Never",
            "activeDeadlineSeconds": deadline.as_secs().max(10),
            "terminationGracePeriodSeconds": 0,
            "automountServiceAccountToken": false,
            "enableServiceLinks": false,
            "tolerations": [{ "operator": "Exists" }],
            "containers": [{
                "name": "probe",
                "image": image,
                "command": ["sh", "-c", script],
                "resources": {
                    "requests": { "cpu": "10m", "memory": "16Mi" },
                    "limits": { "memory": "32Mi" },
                },
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "capabilities": { "drop": ["ALL"] },
                    "runAsNonRoot": true,
                    "runAsUser": 65534,
                    "readOnlyRootFilesystem": true,
                },
            }],
        },
    })
}

/// A Pod name for `node`: DNS-1123, at most 63 characters, unique per run.
fn pod_name(node: &str, stamp: u64) -> String {
    let node: String = node
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(38)
        .collect();
    format!(
        "apidiag-probe-{}-{:x}",
        node.trim_matches('-'),
        stamp & 0xff_ffff
    )
}

/// The nodes to probe from: the named ones (each must exist), or a sample
/// spread across node pools.
async fn nodes(ctx: &Context, args: &NodeProbeArgs) -> Result<Vec<String>, String> {
    if !args.from_node.is_empty() {
        for name in &args.from_node {
            let found = ctx
                .api
                .get_opt::<Value>(&format!("/api/v1/nodes/{name}"))
                .await
                .map_err(|e| e.first_line())?;
            if found.is_none() {
                return Err(format!(
                    "no node named `{name}` (`kubectl get nodes` lists them)"
                ));
            }
        }
        return Ok(args.from_node.clone());
    }
    let wanted = usize::from(args.sample_nodes.unwrap_or(1));
    let list: Value = ctx
        .api
        .get("/api/v1/nodes?limit=500")
        .await
        .map_err(|e| e.first_line())?;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    Ok(sample(&items, wanted))
}

/// Up to `wanted` node names, one per pool first (AKS `agentpool` label), then
/// the rest in name order.
pub fn sample(nodes: &[Value], wanted: usize) -> Vec<String> {
    let pool = |n: &Value| {
        n["metadata"]["labels"]["kubernetes.azure.com/agentpool"]
            .as_str()
            .or(n["metadata"]["labels"]["agentpool"].as_str())
            .unwrap_or("")
            .to_string()
    };
    let mut named: Vec<(String, String)> = nodes
        .iter()
        .filter_map(|n| Some((pool(n), n["metadata"]["name"].as_str()?.to_string())))
        .collect();
    named.sort();
    let mut chosen: Vec<String> = Vec::new();
    let mut pools_seen: Vec<String> = Vec::new();
    for (pool, name) in &named {
        if chosen.len() < wanted && !pools_seen.contains(pool) {
            pools_seen.push(pool.clone());
            chosen.push(name.clone());
        }
    }
    for (_, name) in &named {
        if chosen.len() < wanted && !chosen.contains(name) {
            chosen.push(name.clone());
        }
    }
    chosen
}

/// The plan that creates one probe Pod per node.
pub fn plan(
    nodes: &[String],
    namespace: &str,
    args: &NodeProbeArgs,
    targets: &[(String, u16)],
    stamp: u64,
) -> Plan {
    let script = script::script(targets, 5);
    let operations = nodes
        .iter()
        .map(|node| {
            let object = pod(
                node,
                namespace,
                &pod_name(node, stamp),
                &args.probe_image,
                &script,
                args.probe_timeout,
            );
            Operation {
                target: apidiag_core::object::ObjectRef::of(&pods(), &object),
                action: Action::Create {
                    object,
                    status: None,
                    resume: None,
                },
                before: None,
            }
        })
        .collect();
    let names: Vec<&str> = targets.iter().map(|(h, _)| h.as_str()).collect();
    Plan {
        check: crate::NAME.into(),
        id: "connectivity.node-probe".into(),
        title: format!(
            "probe the path to the API server from {} node(s)",
            nodes.len()
        ),
        warning: Some(format!(
            "Creates a Pod on each node's host network (image {}, every taint tolerated, no privileges, no service account) that resolves and connects to {}; each is deleted when it is done, or after {:?} if it never finishes.",
            args.probe_image,
            names.join(", "),
            args.probe_timeout
        )),
        acknowledgements: Vec::new(),
        operations,
    }
}

/// How one probe Pod ended.
enum Ended {
    Finished {
        phase: String,
    },
    /// It did not finish in time; what its status said.
    NotStarted {
        why: String,
    },
}

async fn wait(ctx: &Context, path: &str, timeout: Duration) -> Ended {
    let deadline = Instant::now() + timeout;
    loop {
        let pod = ctx.api.get_opt::<Value>(path).await;
        if let Ok(Some(pod)) = &pod {
            let phase = pod["status"]["phase"]
                .as_str()
                .unwrap_or("Pending")
                .to_string();
            if phase == "Succeeded" || phase == "Failed" {
                return Ended::Finished { phase };
            }
            let waiting = &pod["status"]["containerStatuses"][0]["state"]["waiting"];
            if let Some(reason @ ("ErrImagePull" | "ImagePullBackOff" | "InvalidImageName")) =
                waiting["reason"].as_str()
            {
                return Ended::NotStarted {
                    why: format!(
                        "its image could not be pulled ({reason}: {}); give one your registry allows with --probe-image",
                        waiting["message"].as_str().unwrap_or("")
                    ),
                };
            }
            if Instant::now() >= deadline {
                let why = if pod["status"]["containerStatuses"].is_null() {
                    format!(
                        "it was still {phase} with no container status after {timeout:?}: no kubelet took it up (is the node Ready? `kubectl describe node`)"
                    )
                } else {
                    format!("it was still {phase} after {timeout:?}")
                };
                return Ended::NotStarted { why };
            }
        } else if Instant::now() >= deadline {
            return Ended::NotStarted {
                why: "it could not be read back".into(),
            };
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// The rungs of one node's probe.
async fn judge(ctx: &Context, node: &str, path: &str, timeout: Duration) -> Vec<Rung> {
    let what = format!("from node {node}");
    let started = Instant::now();
    match wait(ctx, path, timeout).await {
        Ended::NotStarted { why } => vec![Rung::new(
            "connectivity.node.not-started",
            Severity::Warning,
            &what,
            format!("the probe Pod never ran: {why}"),
            Some(started.elapsed()),
        )],
        Ended::Finished { phase } => {
            let log = ctx
                .api
                .get_text(&format!("{path}/log?container=probe&limitBytes=65536"))
                .await;
            let log = match log {
                Ok(log) => log,
                Err(error) => {
                    return vec![Rung::new(
                        "connectivity.node.log-unreadable",
                        Severity::Warning,
                        &what,
                        format!("the probe ran ({phase}) but its log could not be read: {}", error.first_line()),
                        Some(started.elapsed()),
                    )
                    .with(|f| f.detail("Reading a Pod's log goes from the API server to the node's kubelet: on AKS through the konnectivity tunnel (see the tunnel rungs)."))];
                }
            };
            let (seen, complete) = script::parse(&log);
            let mut rungs: Vec<Rung> = seen
                .iter()
                .map(|s| {
                    let target = format!("{what}: TCP {}:{}", s.host, s.port);
                    let verdict = script::verdict(s);
                    let (id, severity) = if s.connected {
                        ("connectivity.node.ok", Severity::Ok)
                    } else {
                        ("connectivity.node.blocked", Severity::Critical)
                    };
                    Rung::new(id, severity, &target, &verdict, None).with(|f| {
                        f.evidence(Evidence::new(
                            "addresses from the node",
                            s.addresses.join(", "),
                        ))
                    })
                })
                .collect();
            if !complete {
                rungs.push(Rung::new("connectivity.node.incomplete", Severity::Warning, &what, format!("the probe stopped before its end ({phase}): its image may lack sh, nslookup or nc"), None));
            }
            rungs
        }
    }
}

/// Runs the probe when asked: the guided creation of the Pods, the wait, the
/// verdicts, and the Pods' removal.
pub async fn run(
    ctx: &Context,
    args: &NodeProbeArgs,
) -> (Vec<Rung>, Option<Result<RemediationResult, String>>) {
    let nodes = match nodes(ctx, args).await {
        Ok(nodes) if nodes.is_empty() => {
            return (
                Vec::new(),
                Some(apidiag_core::run::not_planned(
                    "connectivity.node-probe",
                    &"the cluster has no nodes to probe from",
                )),
            );
        }
        Ok(nodes) => nodes,
        Err(reason) => {
            return (
                Vec::new(),
                Some(apidiag_core::run::not_planned(
                    "connectivity.node-probe",
                    &reason,
                )),
            );
        }
    };
    let stamp = jiff::Timestamp::now().as_millisecond().unsigned_abs();
    let plan = plan(
        &nodes,
        &ctx.namespace,
        args,
        &targets(ctx.api.server()),
        stamp,
    );
    let paths: Vec<(String, String)> = plan
        .operations
        .iter()
        .map(|op| (op.target.name.clone(), op.target.path()))
        .collect();
    let session = match apidiag_core::run::session(ctx, 4).await {
        Ok(session) => session,
        Err(message) => return (Vec::new(), Some(Err(message))),
    };
    let applied = match apidiag_core::remediation::execute(&session, plan).await {
        Ok(applied) => applied,
        Err(error) => {
            return (
                Vec::new(),
                Some(Err(apidiag_core::run::with_hint(&error, error.hint()))),
            );
        }
    };
    if applied.backup.is_none() {
        return (Vec::new(), Some(Ok(applied)));
    }
    let mut rungs = Vec::new();
    let judged = futures::future::join_all(
        nodes
            .iter()
            .zip(&paths)
            .map(|(node, (_, path))| judge(ctx, node, path, args.probe_timeout)),
    )
    .await;
    rungs.extend(judged.into_iter().flatten());
    match take_back(&session, &applied).await {
        Ok(Some(removed))
            if removed.state == apidiag_core::remediation::RemediationState::Applied =>
        {
            rungs.push(Rung::pass(
                "connectivity.node.cleaned-up",
                "probe cleanup",
                format!("{} probe Pod(s) deleted", removed.operations.len()),
                None,
            ));
        }
        Ok(_) | Err(_) => {
            let names: Vec<&str> = paths.iter().map(|(name, _)| name.as_str()).collect();
            rungs.push(Rung::new(
                "connectivity.node.left-behind",
                Severity::Warning,
                "probe cleanup",
                format!("the probe Pods could not all be deleted: `kubectl delete pod -n {} {}`, or `kubectl apidiag undo`", ctx.namespace, names.join(" ")),
                None,
            ));
        }
    }
    (rungs, Some(Ok(applied)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_come_from_the_server_url_and_aks_adds_its_outbound_endpoints() {
        assert_eq!(
            targets("https://127.0.0.1:6443"),
            vec![("127.0.0.1".to_string(), 6443)]
        );
        assert_eq!(
            targets("https://[::1]:6443/"),
            vec![("::1".to_string(), 6443)]
        );
        assert_eq!(targets("https://[::1]"), vec![("::1".to_string(), 443)]);
        assert_eq!(
            targets("https://api.example"),
            vec![("api.example".to_string(), 443)]
        );
        let aks = targets("https://aks-x-1a2b.hcp.eastus.azmk8s.io:443");
        assert_eq!(aks[0], ("aks-x-1a2b.hcp.eastus.azmk8s.io".to_string(), 443));
        assert_eq!(aks.len(), 1 + AKS_OUTBOUND.len());
        assert!(aks.contains(&("mcr.microsoft.com".to_string(), 443)));
    }

    #[test]
    fn the_probe_pod_is_bound_unprivileged_and_bounded() {
        let pod = pod(
            "aks-nodepool1-0",
            "default",
            "apidiag-probe-x",
            DEFAULT_IMAGE,
            "echo done",
            Duration::from_secs(90),
        );
        let spec = &pod["spec"];
        assert_eq!(spec["nodeName"], "aks-nodepool1-0");
        assert_eq!(spec["hostNetwork"], true);
        assert_eq!(spec["dnsPolicy"], "Default");
        assert_eq!(spec["activeDeadlineSeconds"], 90);
        assert_eq!(spec["automountServiceAccountToken"], false);
        assert_eq!(spec["tolerations"], json!([{ "operator": "Exists" }]));
        let container = &spec["containers"][0];
        assert_eq!(
            container["securityContext"]["allowPrivilegeEscalation"],
            false
        );
        assert_eq!(
            container["securityContext"]["capabilities"]["drop"],
            json!(["ALL"])
        );
        assert_eq!(container["command"], json!(["sh", "-c", "echo done"]));
    }

    #[test]
    fn names_are_dns_labels_and_samples_cover_every_pool_first() {
        let name = pod_name(
            "AKS_NodePool1.VMSS000000-with-a-very-long-suffix-indeed",
            0x1234_5678_9abc,
        );
        assert!(name.len() <= 63, "{name}");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{name}"
        );
        let node = |name: &str, pool: &str| json!({"metadata": {"name": name, "labels": {"kubernetes.azure.com/agentpool": pool}}});
        let nodes = [
            node("a-0", "system"),
            node("a-1", "system"),
            node("b-0", "user"),
            node("c-0", "gpu"),
        ];
        assert_eq!(sample(&nodes, 3), vec!["c-0", "a-0", "b-0"]);
        assert_eq!(sample(&nodes, 4), vec!["c-0", "a-0", "b-0", "a-1"]);
        assert_eq!(sample(&nodes, 1), vec!["c-0"]);
    }
}
