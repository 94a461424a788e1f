//! Is anything there to answer? The backend of a webhook, judged as the API
//! server resolves it.
//!
//! Service webhooks: the Service must exist, have a port equal to
//! `clientConfig.service.port` (default 443), and, with endpoint routing
//! (`--enable-aggregator-routing`, and what kube-proxy needs in ClusterIP mode),
//! an EndpointSlice port whose **name** equals that Service port's name, with an
//! endpoint whose `conditions.ready` is not false (`RandomEndpoint`; a nil ready
//! counts as ready). A hand-made slice with the wrong port name is "no endpoints"
//! even though it lists ready addresses: the subtle case, said as such.
//! URL webhooks: the host is dialled from the control plane, which cannot resolve
//! in-cluster names.

use std::net::IpAddr;

use serde_json::Value;

use crate::configuration::ClientConfig;
use crate::selector::{Labels, labels};

/// The backend pods, as far as their status shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pods {
    pub total: usize,
    pub ready: usize,
    pub restarts: u64,
    /// `name: reason` of containers waiting in CrashLoopBackOff, ImagePullBackOff, …
    pub waiting: Vec<String>,
}

impl Pods {
    /// Summarises Pod Values (those the Service selects).
    pub fn of(pods: &[Value]) -> Self {
        let mut summary = Pods {
            total: pods.len(),
            ..Pods::default()
        };
        for pod in pods {
            let status = &pod["status"];
            let ready = status["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            summary.ready += usize::from(ready);
            let name = pod["metadata"]["name"].as_str().unwrap_or("?");
            for container in status["containerStatuses"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                summary.restarts += container["restartCount"].as_u64().unwrap_or(0);
                if let Some(reason) = container["state"]["waiting"]["reason"].as_str()
                    && reason != "ContainerCreating"
                {
                    summary.waiting.push(format!("{name}: {reason}"));
                }
            }
        }
        summary
    }

    pub fn describe(&self) -> String {
        let mut text = format!(
            "{}/{} pods ready, {} restarts",
            self.ready, self.total, self.restarts
        );
        if !self.waiting.is_empty() {
            text.push_str(&format!(" ({})", self.waiting.join(", ")));
        }
        text
    }
}

/// Where a URL webhook points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTarget {
    pub host: String,
    pub port: u16,
    pub path: String,
    /// 127.0.0.0/8, ::1, localhost: "risky unless you take great care" (types.go).
    pub loopback: bool,
    /// `*.svc`, `*.cluster.local`: the API server cannot resolve in-cluster DNS.
    pub cluster_internal: bool,
}

/// Parses `https://host[:port][/path]` as the API server does (no user info).
pub fn url_target(url: &str) -> Option<UrlTarget> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => 443,
    };
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    let loopback = name == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    let cluster_internal = name.ends_with(".svc") || name.ends_with(".cluster.local");
    Some(UrlTarget {
        host: host.to_string(),
        port,
        path: if path.is_empty() {
            "/".into()
        } else {
            path.to_string()
        },
        loopback,
        cluster_internal,
    })
}

/// What stands behind a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendState {
    /// A URL webhook; see [`UrlTarget`] for its hints.
    Url(UrlTarget),
    /// The URL could not be parsed, or the webhook has no clientConfig.
    Unknown { reason: String },
    /// The Service does not exist: `service "x" not found`.
    ServiceMissing { namespace: String, name: String },
    /// Headless (ClusterIP `None`) or ExternalName: unusable in one routing mode.
    Unroutable { reason: String },
    /// No Service port equals `clientConfig.service.port`.
    PortMismatch { wanted: i64, available: Vec<i64> },
    /// No ready endpoint with the Service port's name.
    NoReadyEndpoints {
        port_name: String,
        slices: usize,
        not_ready: usize,
        terminating: usize,
        /// Ready endpoints exist, but under another port name.
        ready_under_other_port_names: usize,
        pods: Pods,
    },
    /// Ready endpoints exist (`ready` of `total` endpoints with the port name).
    Ready {
        ready: usize,
        total: usize,
        pods: Pods,
    },
}

impl BackendState {
    /// Whether calls cannot reach a webhook server now. `Url` backends are not
    /// judged down here (nothing in the cluster shows them); the verdicts treat a
    /// cluster-internal URL as unresolvable.
    pub fn is_down(&self) -> bool {
        matches!(
            self,
            BackendState::ServiceMissing { .. }
                | BackendState::PortMismatch { .. }
                | BackendState::NoReadyEndpoints { .. }
        )
    }

    /// One line for evidence.
    pub fn describe(&self) -> String {
        match self {
            BackendState::Url(t) => {
                let mut text = format!("URL https://{}:{}{}", t.host, t.port, t.path);
                if t.cluster_internal {
                    text.push_str(" (an in-cluster name the API server cannot resolve)");
                } else if t.loopback {
                    text.push_str(" (loopback: the API server's own host)");
                }
                text
            }
            BackendState::Unknown { reason } => format!("unknown: {reason}"),
            BackendState::ServiceMissing { namespace, name } => {
                format!(
                    "Service {namespace}/{name} does not exist: calls fail with `service \"{name}\" not found`"
                )
            }
            BackendState::Unroutable { reason } => reason.clone(),
            BackendState::PortMismatch { wanted, available } => format!(
                "no Service port {wanted} (the Service has {available:?}): calls fail with `no service port {wanted} found`"
            ),
            BackendState::NoReadyEndpoints {
                port_name,
                slices,
                not_ready,
                terminating,
                ready_under_other_port_names,
                pods,
            } => {
                let mut text = format!(
                    "no ready endpoint for port name {port_name:?}: {slices} EndpointSlices, {not_ready} not ready, {terminating} terminating; {}",
                    pods.describe()
                );
                if *ready_under_other_port_names > 0 {
                    text.push_str(&format!(
                        "; {ready_under_other_port_names} ready endpoints are listed under another port name, which the API server does not use"
                    ));
                }
                text
            }
            BackendState::Ready { ready, total, pods } => {
                format!("{ready}/{total} endpoints ready; {}", pods.describe())
            }
        }
    }
}

/// Judges a webhook's backend. `service` is the Service as read (`None`: not
/// found), `slices` its EndpointSlices (`kubernetes.io/service-name=<name>`, others
/// are skipped), `pods` the Pods its selector selects.
pub fn judge(
    client: &ClientConfig,
    service: Option<&Value>,
    slices: &[Value],
    pods: &[Value],
) -> BackendState {
    let (namespace, name, port) = match client {
        ClientConfig::Url(url) => {
            return match url_target(url) {
                Some(target) => BackendState::Url(target),
                None => BackendState::Unknown {
                    reason: format!("cannot parse URL {url:?}"),
                },
            };
        }
        ClientConfig::Missing => {
            return BackendState::Unknown {
                reason: "no clientConfig".into(),
            };
        }
        ClientConfig::Service {
            namespace,
            name,
            port,
            ..
        } => (namespace, name, *port),
    };
    let Some(service) = service else {
        return BackendState::ServiceMissing {
            namespace: namespace.clone(),
            name: name.clone(),
        };
    };
    let spec = &service["spec"];
    if spec["type"] == "ExternalName" {
        return BackendState::Unroutable {
            reason: "ExternalName Service: fails with `unsupported service type`".into(),
        };
    }
    let ports = spec["ports"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let Some(service_port) = ports.iter().find(|p| p["port"].as_i64() == Some(port)) else {
        return BackendState::PortMismatch {
            wanted: port,
            available: ports.iter().filter_map(|p| p["port"].as_i64()).collect(),
        };
    };
    let port_name = service_port["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (mut total, mut ready, mut not_ready, mut terminating, mut other_ports, mut count) =
        (0, 0, 0, 0, 0, 0);
    for slice in slices {
        if slice["metadata"]["labels"]["kubernetes.io/service-name"].as_str() != Some(name.as_str())
        {
            continue;
        }
        count += 1;
        let has_port = slice["ports"].as_array().is_some_and(|ps| {
            ps.iter().any(|p| {
                p["name"].as_str().unwrap_or_default() == port_name && p["port"].is_number()
            })
        });
        for endpoint in slice["endpoints"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let conditions = &endpoint["conditions"];
            let is_ready = conditions["ready"].as_bool() != Some(false);
            match (has_port, is_ready) {
                (true, true) => ready += 1,
                (true, false) => not_ready += 1,
                (false, true) => other_ports += 1,
                (false, false) => {}
            }
            total += usize::from(has_port);
            terminating +=
                usize::from(has_port && conditions["terminating"].as_bool() == Some(true));
        }
    }
    let pods = Pods::of(pods);
    // The default (ClusterIP) routing dials the ClusterIP, which a headless
    // Service lacks; only `--enable-aggregator-routing` can use its endpoints.
    if spec["clusterIP"] == "None" {
        return BackendState::Unroutable {
            reason: format!(
                "headless Service ({ready} ready endpoints): fails with `cannot route to service with ClusterIP \"None\"` unless the API server runs with --enable-aggregator-routing"
            ),
        };
    }
    if ready > 0 {
        return BackendState::Ready { ready, total, pods };
    }
    BackendState::NoReadyEndpoints {
        port_name,
        slices: count,
        not_ready,
        terminating,
        ready_under_other_port_names: other_ports,
        pods,
    }
}

/// The labels a replacement backend pod will carry: the Service selector's (a
/// dead backend may have no pod left to read labels from), plus a live pod's.
pub fn backend_pod_labels(service: Option<&Value>, pods: &[Value]) -> Labels {
    let mut found = service
        .map(|s| labels(&s["spec"]["selector"]))
        .unwrap_or_default();
    if let Some(pod) = pods.first() {
        found.extend(labels(&pod["metadata"]["labels"]));
    }
    found
}

#[cfg(test)]
mod tests;
