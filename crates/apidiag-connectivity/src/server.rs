//! What the server says once the path to it works: `/version`, who this
//! identity is and what it may do for the rest of the ladder, `/readyz` and
//! `/livez`, and the `kubernetes` Service that in-cluster clients use.
//!
//! Every request here is small: two reviews and a handful of access reviews,
//! two health pages, one Service and one EndpointSlice list.

use std::time::Instant;

use apidiag_core::api::ApiError;
use apidiag_core::check::Context;
use apidiag_core::finding::{Evidence, Severity};
use apidiag_core::run::OpenError;
use serde_json::{Value, json};

use crate::rung::Rung;

pub mod health;

/// The server rungs, in ladder order.
pub async fn rungs(ctx: &Context) -> Vec<Rung> {
    let mut rungs = vec![version(ctx)];
    let (authn, authz, health, service) = futures::join!(
        authentication(ctx),
        authorization(ctx),
        health::rungs(ctx),
        kubernetes_service(ctx)
    );
    rungs.push(authn);
    rungs.extend(authz);
    rungs.extend(health);
    rungs.push(service);
    rungs
}

/// `/version` was read when the connection opened: 0 requests more.
fn version(ctx: &Context) -> Rung {
    match &ctx.server.version {
        Some(version) => Rung::pass(
            "connectivity.version.ok",
            "GET /version",
            format!("kube-apiserver {version}"),
            None,
        ),
        None => Rung::new(
            "connectivity.version.forbidden",
            Severity::Info,
            "GET /version",
            "not allowed for this identity (the rest of the ladder still runs)",
            None,
        ),
    }
}

/// Who the server takes this identity for: a `SelfSubjectReview` (GA in 1.28,
/// beta from 1.27), the server's own answer to `kubectl auth whoami`.
async fn authentication(ctx: &Context) -> Rung {
    let what = "authentication (SelfSubjectReview)";
    let started = Instant::now();
    let mut answer = Err(ApiError::NotFound {
        path: String::new(),
    });
    for version in ["v1", "v1beta1"] {
        let body = json!({
            "apiVersion": format!("authentication.k8s.io/{version}"),
            "kind": "SelfSubjectReview",
        });
        answer = ctx
            .api
            .review(
                &format!("/apis/authentication.k8s.io/{version}/selfsubjectreviews"),
                &body,
            )
            .await;
        if !matches!(answer, Err(ApiError::NotFound { .. })) {
            break;
        }
    }
    let took = Some(started.elapsed());
    match answer {
        Ok(review) => {
            let user = &review["status"]["userInfo"];
            let name = user["username"].as_str().unwrap_or("(no name)");
            let groups: Vec<&str> = user["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            Rung::pass(
                "connectivity.authn.ok",
                what,
                format!("authenticated as {name}"),
                took,
            )
            .with(|f| f.evidence(Evidence::new("groups", groups.join(", "))))
        }
        Err(ApiError::Unauthorized { message }) => Rung::new(
            "connectivity.authn.unauthorized",
            Severity::Critical,
            what,
            "401 Unauthorized",
            took,
        )
        .with(|f| {
            f.detail(format!(
                "kubectl says: `error: You must be logged in to the server (Unauthorized)`. The server refused the credential ({message}): an expired token or client certificate, or a credential plugin (kubelogin) that returned a stale token. Get a new credential (`az aks get-credentials`, `kubelogin convert-kubeconfig -l azurecli`) and try again."
            ))
        }),
        Err(ApiError::NotFound { .. }) => Rung::new(
            "connectivity.authn.not-served",
            Severity::Info,
            what,
            "not served by this server (before 1.27): the identity is not known",
            took,
        ),
        Err(error) => Rung::new(
            "connectivity.authn.failed",
            Severity::Warning,
            what,
            error.first_line(),
            took,
        ),
    }
}

/// What the later rungs need, asked of the server with one
/// `SelfSubjectAccessReview` each (every authenticated user may send them).
const NEEDED: &[(&str, &str, &str, &str, &str)] = &[
    // verb, group, resource, subresource, namespace
    ("list", "", "pods", "", "kube-system"),
    ("get", "", "pods", "log", "kube-system"),
    ("list", "", "nodes", "", ""),
    ("list", "apiregistration.k8s.io", "apiservices", "", ""),
];

fn permission_name(verb: &str, group: &str, resource: &str, sub: &str, ns: &str) -> String {
    let resource = match (group, sub) {
        ("", "") => resource.to_string(),
        ("", sub) => format!("{resource}/{sub}"),
        (group, "") => format!("{resource}.{group}"),
        (group, sub) => format!("{resource}.{group}/{sub}"),
    };
    match ns {
        "" => format!("{verb} {resource}"),
        ns => format!("{verb} {resource} in {ns}"),
    }
}

/// The access reviews of [`NEEDED`]: an Ok rung when all are allowed, else a
/// warning that says which rungs are limited.
async fn authorization(ctx: &Context) -> Option<Rung> {
    let what = "authorization for this ladder (SelfSubjectAccessReview)";
    let started = Instant::now();
    let answers =
        futures::future::join_all(NEEDED.iter().map(|(verb, group, resource, sub, ns)| {
            let body = json!({
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": { "resourceAttributes": {
                    "verb": verb, "group": group, "resource": resource,
                    "subresource": sub, "namespace": ns,
                } },
            });
            async move {
                ctx.api
                    .review(
                        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                        &body,
                    )
                    .await
            }
        }))
        .await;
    let took = Some(started.elapsed());
    let mut denied = Vec::new();
    for ((verb, group, resource, sub, ns), answer) in NEEDED.iter().zip(answers) {
        let name = permission_name(verb, group, resource, sub, ns);
        match answer {
            Ok(review) if review["status"]["allowed"].as_bool() == Some(true) => {}
            Ok(review) => {
                let reason = review["status"]["reason"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                denied.push(vec![name, "denied".into(), reason]);
            }
            // A server that refuses access reviews: nothing to say about the rest.
            Err(error) if error.is_forbidden() || error.is_not_found() => return None,
            Err(error) => denied.push(vec![name, "unknown".into(), error.first_line()]),
        }
    }
    Some(if denied.is_empty() {
        Rung::pass(
            "connectivity.authz.ok",
            what,
            format!(
                "all {} permissions the later rungs use are allowed",
                NEEDED.len()
            ),
            took,
        )
    } else {
        Rung::new(
            "connectivity.authz.limited",
            Severity::Warning,
            what,
            format!("{} of {} permissions denied: the rungs that need them are limited", denied.len(), NEEDED.len()),
            took,
        )
        .with(|f| {
            f.detail("The tunnel probe needs list pods and get pods/log in kube-system and list nodes; the aggregated-API rung needs list apiservices. Under AKS Azure RBAC the fix is an Azure role assignment (for example \"Azure Kubernetes Service RBAC Reader\"); elsewhere a RoleBinding to the built-in `view` role.")
                .evidence(Evidence::table("permissions", &["permission", "answer", "reason"], denied))
        })
    })
}

/// The `kubernetes` Service of `default` and its EndpointSlice: the path every
/// in-cluster client (`KUBERNETES_SERVICE_HOST`) takes to the API server.
async fn kubernetes_service(ctx: &Context) -> Rung {
    let what = "in-cluster path (Service default/kubernetes)";
    let started = Instant::now();
    let (service, slices) = futures::join!(
        ctx.api.get_opt::<Value>("/api/v1/namespaces/default/services/kubernetes"),
        ctx.api.get::<Value>(
            "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dkubernetes"
        )
    );
    let took = Some(started.elapsed());
    let service = match service {
        Ok(Some(service)) => service,
        Ok(None) => {
            return Rung::new(
                "connectivity.service.missing",
                Severity::Critical,
                what,
                "the Service does not exist",
                took,
            )
            .with(|f| f.detail("kube-apiserver recreates default/kubernetes within seconds of starting; its absence means the API server's endpoint reconciler is not running. Pods that reach the API server through KUBERNETES_SERVICE_HOST fail."));
        }
        Err(error) => {
            return Rung::new(
                "connectivity.service.unknown",
                Severity::Info,
                what,
                error.first_line(),
                took,
            );
        }
    };
    let cluster_ip = service["spec"]["clusterIP"]
        .as_str()
        .unwrap_or("-")
        .to_string();
    let port = service["spec"]["ports"][0]["port"].as_i64().unwrap_or(443);
    let slices = match slices {
        Ok(list) => list["items"].as_array().cloned().unwrap_or_default(),
        Err(error) => {
            return Rung::new(
                "connectivity.service.unknown",
                Severity::Info,
                what,
                format!(
                    "Service {cluster_ip}:{port}; its EndpointSlices could not be read ({})",
                    error.first_line()
                ),
                took,
            );
        }
    };
    let mut rows = Vec::new();
    for slice in &slices {
        let ports: Vec<String> = slice["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["port"].as_i64())
            .map(|p| p.to_string())
            .collect();
        for endpoint in slice["endpoints"].as_array().into_iter().flatten() {
            let ready = endpoint["conditions"]["ready"].as_bool().unwrap_or(true);
            for address in endpoint["addresses"].as_array().into_iter().flatten() {
                rows.push(vec![
                    address.as_str().unwrap_or("-").to_string(),
                    ports.join(","),
                    if ready { "ready" } else { "not ready" }.to_string(),
                ]);
            }
        }
    }
    let ready = rows.iter().filter(|r| r[2] == "ready").count();
    let table = Evidence::table(
        "EndpointSlice kubernetes",
        &["address", "port", "state"],
        rows.clone(),
    );
    if ready > 0 {
        let addresses: Vec<&str> = rows
            .iter()
            .filter(|r| r[2] == "ready")
            .map(|r| r[0].as_str())
            .collect();
        return Rung::pass(
            "connectivity.service.ok",
            what,
            format!("{cluster_ip}:{port} → {} (ready)", addresses.join(", ")),
            took,
        )
        .with(|f| f.evidence(table));
    }
    if loopback_server(ctx.api.server()) && !has_nodes(ctx).await {
        // EndpointSlice validation refuses loopback addresses, so an API server
        // that advertises 127.0.0.1 and has no nodes (a local lab) has no slice:
        // expected there, not a fault. A real cluster reached through a local
        // tunnel (kubectl proxy, a port-forward) has nodes, and is judged below.
        return Rung::new(
            "connectivity.service.loopback",
            Severity::Ok,
            what,
            format!("{cluster_ip}:{port} has no endpoints: this API server is reached on a loopback address, which an EndpointSlice cannot hold"),
            took,
        )
        .with(|f| f.detail("Pods could not reach this API server through the Service; clients on this machine are not affected."));
    }
    Rung::new(
        "connectivity.service.no-endpoints",
        Severity::Critical,
        what,
        format!("{cluster_ip}:{port} has no ready endpoint"),
        took,
    )
    .with(|f| {
        f.detail("Every in-cluster client (controllers, operators, webhooks calling back) reaches the API server through this Service. kube-apiserver keeps its own address in the slice while it is ready; none means no API server is ready, or each one advertises an address the slice cannot hold. `/readyz?verbose` above says which.")
            .evidence(table)
    })
}

/// Whether the cluster has a Node (one item of a LIST is enough; an error
/// counts as yes, so that the finding is not made milder on a guess).
async fn has_nodes(ctx: &Context) -> bool {
    match ctx.api.get::<Value>("/api/v1/nodes?limit=1").await {
        Ok(list) => list["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty()),
        Err(_) => true,
    }
}

/// Whether the server URL's host is a loopback address (or `localhost`).
fn loopback_server(server: &str) -> bool {
    crate::path::kubeconfig::host_port(server).is_some_and(|(host, _)| {
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

/// The rung of a connection that could not be opened although the client path
/// passed: the first request itself failed (a credential plugin, a 401, a
/// server that hung up after the handshake).
pub fn open_failed(error: &OpenError) -> Rung {
    let what = "GET /version";
    match error {
        OpenError::Connect(error) => Rung::new(
            "connectivity.client.failed",
            Severity::Critical,
            "client setup",
            error.to_string().lines().next().unwrap_or(""),
            None,
        )
        .with(|f| f.detail(error.to_string())),
        OpenError::Api {
            error: ApiError::Unauthorized { message },
            ..
        } => Rung::new(
            "connectivity.authn.unauthorized",
            Severity::Critical,
            what,
            "401 Unauthorized",
            None,
        )
        .with(|f| {
            f.detail(format!(
                "kubectl says: `error: You must be logged in to the server (Unauthorized)`. The server refused the credential ({message}): get a new one (`az aks get-credentials`, or `kubelogin convert-kubeconfig -l azurecli`)."
            ))
        }),
        OpenError::Api { error, .. } => Rung::new(
            "connectivity.version.failed",
            Severity::Critical,
            what,
            error.first_line(),
            None,
        )
        .with(|f| {
            f.detail(format!(
                "The TCP and TLS rungs passed, but the first request failed: {error}. A credential plugin that fails, or a server that closes the connection after the handshake, shows here."
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_servers_are_recognised() {
        assert!(loopback_server("https://127.0.0.1:6443"));
        assert!(loopback_server("https://[::1]:6443/"));
        assert!(loopback_server("https://localhost:6443"));
        assert!(!loopback_server("https://10.0.0.1:443"));
        assert!(!loopback_server("https://aks-x.hcp.eastus.azmk8s.io:443"));
    }

    #[test]
    fn permissions_read_like_kubectl_auth_can_i() {
        assert_eq!(
            permission_name("get", "", "pods", "log", "kube-system"),
            "get pods/log in kube-system"
        );
        assert_eq!(
            permission_name("list", "apiregistration.k8s.io", "apiservices", "", ""),
            "list apiservices.apiregistration.k8s.io"
        );
    }
}
