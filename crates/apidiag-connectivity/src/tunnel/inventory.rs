//! Which tunnel the cluster has, read from kube-system only: the agents'
//! Deployments and Pods, the autoscaler's ConfigMap, and the nodes the agents run on.
//!
//! Distributions label the konnectivity agent differently (AKS `app=` and
//! `component=tunnel`, upstream, GKE and k0s `k8s-app=`), so the Pods are listed
//! once per label and merged by UID. The legacy AKS tunnels (`tunnelfront`,
//! `aks-link`) are told by Deployment name and image, and their Pods listed by
//! their Deployment's selector. Parsing is separate from reading so the verdicts
//! can be tested on JSON as the server sends it.

use std::collections::BTreeSet;

use apidiag_core::api::{ApiError, ListQuery};
use apidiag_core::check::Context;
use serde_json::Value;

/// How many agent nodes are read for their pressure conditions, at most.
pub const NODE_READS: usize = 20;

/// Where every tunnel component lives.
pub const NAMESPACE: &str = "kube-system";

/// The labels the konnectivity agent carries somewhere (research §1.1): their
/// union selects it.
pub const AGENT_SELECTORS: [&str; 3] = [
    "app=konnectivity-agent",
    "k8s-app=konnectivity-agent",
    "component=tunnel",
];

/// The cluster-proportional autoscaler's ladder of agent replicas on AKS.
pub const AUTOSCALER_CONFIGMAP: &str = "konnectivity-agent-autoscaler";

/// Which tunnel a Deployment or Pod belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Component {
    /// `konnectivity-agent`, current AKS and upstream (TCP 443 with ALPN).
    Konnectivity,
    /// `tunnelfront`, legacy AKS (TCP 9000).
    Tunnelfront,
    /// `aks-link`, legacy AKS Uptime SLA clusters (UDP 1194).
    AksLink,
}

impl Component {
    pub fn name(self) -> &'static str {
        match self {
            Component::Konnectivity => "konnectivity",
            Component::Tunnelfront => "tunnelfront",
            Component::AksLink => "aks-link",
        }
    }

    /// What the component needs from the node's egress (tunnel-connectivity-issues.md Cause 4).
    pub fn egress(self) -> &'static str {
        match self {
            Component::Konnectivity => {
                "TCP 443 to the API server's FQDN, with the ALPN TLS extension intact"
            }
            Component::Tunnelfront => "TCP 9000 (and 22) to the API server's tunnel endpoint",
            Component::AksLink => "UDP 1194 to the API server's tunnel endpoint",
        }
    }
}

/// The component of an object by name, labels and images (`None`: not a tunnel).
fn component_of(name: &str, labels: &Value, images: &[&str]) -> Option<Component> {
    if images.iter().any(|i| i.contains("hcp-tunnel-front")) || name.starts_with("tunnelfront") {
        return Some(Component::Tunnelfront);
    }
    if images.iter().any(|i| i.contains("tunnel-openvpn")) || name.starts_with("aks-link") {
        return Some(Component::AksLink);
    }
    // The autoscaler is a konnectivity Deployment of its own, but no agent.
    if name.starts_with(AUTOSCALER_CONFIGMAP) {
        return None;
    }
    let labelled = AGENT_SELECTORS.iter().any(|selector| {
        selector
            .split_once('=')
            .is_some_and(|(key, value)| labels[key].as_str() == Some(value))
    });
    (labelled || name.starts_with("konnectivity-agent")).then_some(Component::Konnectivity)
}

fn images(pod_spec: &Value) -> Vec<&str> {
    pod_spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["image"].as_str())
        .collect()
}

fn str_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// A tunnel Deployment, kept as read: the restart fix patches it from this copy.
#[derive(Debug, Clone)]
pub struct TunnelDeployment {
    pub component: Component,
    pub name: String,
    pub desired: i64,
    pub ready: i64,
    pub paused: bool,
    pub object: Value,
}

impl TunnelDeployment {
    /// The Deployment if it is one of a tunnel's.
    pub fn parse(object: &Value) -> Option<TunnelDeployment> {
        let name = str_of(&object["metadata"]["name"]);
        let template = &object["spec"]["template"];
        let component = component_of(
            &name,
            &template["metadata"]["labels"],
            &images(&template["spec"]),
        )
        .or_else(|| component_of(&name, &object["metadata"]["labels"], &[]))?;
        Some(TunnelDeployment {
            component,
            name,
            desired: object["spec"]["replicas"].as_i64().unwrap_or(1),
            ready: object["status"]["readyReplicas"].as_i64().unwrap_or(0),
            paused: object["spec"]["paused"].as_bool() == Some(true),
            object: object.clone(),
        })
    }

    /// `app=konnectivity-agent,component=tunnel`: the Deployment's own selector.
    fn selector(&self) -> Option<String> {
        let labels = self.object["spec"]["selector"]["matchLabels"].as_object()?;
        let parts: Vec<String> = labels
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
            .collect();
        (!parts.is_empty()).then(|| parts.join(","))
    }
}

/// One agent Pod, as its status tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPod {
    pub component: Component,
    pub name: String,
    pub uid: String,
    pub node: Option<String>,
    pub phase: String,
    pub ready: bool,
    /// Restarts of all its containers.
    pub restarts: i64,
    /// A container's waiting reason (`CrashLoopBackOff`, `ImagePullBackOff`, …).
    pub waiting: Option<String>,
    /// The last termination's reason (`OOMKilled`, `Error`, …).
    pub last_termination: Option<String>,
}

impl AgentPod {
    /// The Pod if it is one of a tunnel's.
    pub fn parse(pod: &Value) -> Option<AgentPod> {
        let meta = &pod["metadata"];
        let name = str_of(&meta["name"]);
        let component = component_of(&name, &meta["labels"], &images(&pod["spec"]))?;
        let status = &pod["status"];
        let ready = status["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        let containers: Vec<&Value> = status["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let restarts = containers
            .iter()
            .filter_map(|c| c["restartCount"].as_i64())
            .sum();
        let waiting = containers
            .iter()
            .find_map(|c| c["state"]["waiting"]["reason"].as_str())
            .map(str::to_string);
        // A container that is terminated now counts as its last termination too.
        let last_termination = containers
            .iter()
            .find_map(|c| {
                c["lastState"]["terminated"]["reason"]
                    .as_str()
                    .or(c["state"]["terminated"]["reason"].as_str())
            })
            .map(str::to_string);
        Some(AgentPod {
            component,
            name,
            uid: str_of(&meta["uid"]),
            node: pod["spec"]["nodeName"]
                .as_str()
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            phase: str_of(&status["phase"]),
            ready,
            restarts,
            waiting,
            last_termination,
        })
    }
}

/// The conditions of a node that say it is under stress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeHealth {
    pub name: String,
    /// `MemoryPressure`, `DiskPressure`, `PIDPressure` that are True, and
    /// `NotReady` when Ready is not True.
    pub troubles: Vec<String>,
}

impl NodeHealth {
    pub fn parse(node: &Value) -> NodeHealth {
        let mut troubles = Vec::new();
        let mut ready = false;
        for condition in node["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (kind, status) = (
                condition["type"].as_str().unwrap_or_default(),
                condition["status"].as_str().unwrap_or_default(),
            );
            match kind {
                "Ready" => ready = status == "True",
                "MemoryPressure" | "DiskPressure" | "PIDPressure" if status == "True" => {
                    troubles.push(kind.to_string())
                }
                _ => {}
            }
        }
        if !ready {
            troubles.push("NotReady".to_string());
        }
        NodeHealth {
            name: str_of(&node["metadata"]["name"]),
            troubles,
        }
    }
}

/// Everything the tunnel verdicts judge.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub deployments: Vec<TunnelDeployment>,
    pub pods: Vec<AgentPod>,
    /// The autoscaler ConfigMap's data, if it exists.
    pub autoscaler: Option<Value>,
    /// The nodes the agents run on.
    pub nodes: Vec<NodeHealth>,
}

impl Inventory {
    /// Builds the inventory from the objects as listed: Deployments of kube-system,
    /// the Pods of each listing (merged by UID), the ConfigMap, the agents' nodes.
    pub fn from_objects(
        deployments: &[Value],
        pod_lists: &[Vec<Value>],
        autoscaler: Option<&Value>,
        nodes: &[Value],
    ) -> Inventory {
        let mut seen = BTreeSet::new();
        let mut pods: Vec<AgentPod> = pod_lists
            .iter()
            .flatten()
            .filter_map(AgentPod::parse)
            .filter(|p| seen.insert(p.uid.clone()))
            .collect();
        pods.sort_by(|a, b| (a.component, &a.name).cmp(&(b.component, &b.name)));
        let mut deployments: Vec<TunnelDeployment> = deployments
            .iter()
            .filter_map(TunnelDeployment::parse)
            .collect();
        deployments.sort_by(|a, b| a.name.cmp(&b.name));
        Inventory {
            deployments,
            pods,
            autoscaler: autoscaler.map(|cm| cm["data"].clone()),
            nodes: nodes.iter().map(NodeHealth::parse).collect(),
        }
    }

    /// The nodes that run an agent, sorted.
    pub fn agent_nodes(&self) -> BTreeSet<String> {
        self.pods.iter().filter_map(|p| p.node.clone()).collect()
    }
}

/// Reads the inventory: one LIST of kube-system Deployments, one LIST of Pods per
/// agent label (and per legacy Deployment's selector), the autoscaler ConfigMap,
/// and a GET of each node an agent runs on (the first [`NODE_READS`]).
pub async fn read(ctx: &Context) -> Result<Inventory, ApiError> {
    let deployments: Vec<Value> = ctx
        .api
        .list_all(
            &format!("/apis/apps/v1/namespaces/{NAMESPACE}/deployments"),
            &ListQuery::default(),
        )
        .await?;
    let legacy_selectors: Vec<String> = deployments
        .iter()
        .filter_map(TunnelDeployment::parse)
        .filter(|d| d.component != Component::Konnectivity)
        .filter_map(|d| d.selector())
        .filter(|s| !AGENT_SELECTORS.contains(&s.as_str()))
        .collect();
    let selectors: Vec<String> = AGENT_SELECTORS
        .iter()
        .map(|s| s.to_string())
        .chain(legacy_selectors)
        .collect();
    let pods_path = format!("/api/v1/namespaces/{NAMESPACE}/pods");
    let listings = futures::future::join_all(selectors.iter().map(|selector| {
        let (pods_path, query) = (&pods_path, ListQuery::default().labels(selector.clone()));
        async move { ctx.api.list_all::<Value>(pods_path, &query).await }
    }))
    .await;
    let pod_lists = listings.into_iter().collect::<Result<Vec<_>, _>>()?;
    let autoscaler: Option<Value> = ctx
        .api
        .get_opt(&format!(
            "/api/v1/namespaces/{NAMESPACE}/configmaps/{AUTOSCALER_CONFIGMAP}"
        ))
        .await?;
    let mut inventory = Inventory::from_objects(&deployments, &pod_lists, autoscaler.as_ref(), &[]);
    let mut nodes = Vec::new();
    // A DaemonSet of agents runs on every node: read at most NODE_READS of their
    // nodes (the first in name order), and let a node that cannot be read (gone
    // since its Pod was listed, or denied) only narrow what is said of pressure.
    for name in inventory.agent_nodes().into_iter().take(NODE_READS) {
        if let Ok(Some(node)) = ctx
            .api
            .get_opt::<Value>(&format!("/api/v1/nodes/{name}"))
            .await
        {
            nodes.push(NodeHealth::parse(&node));
        }
    }
    inventory.nodes = nodes;
    Ok(inventory)
}
