//! What the aggregated-API rungs read, politely: one LIST of APIServices; for
//! each distinct Service behind an unavailable one (at most [`BACKEND_CAP`]) the
//! runbook's reads, each small and bounded (the Service; then its namespace if
//! the Service is gone, else its EndpointSlices, its Pods by the Service's
//! selector, the last log lines of one unready or restarting Pod, and the
//! namespace's NetworkPolicies; Warning events of the namespace); the
//! namespaces stuck in Terminating; and the run's one `/metrics`.
//!
//! Nothing here judges; a read that fails is kept as its error, since a failure
//! (the lab has no kubelet, so no log) is itself evidence.

use std::collections::{BTreeMap, BTreeSet};

use kube::core::Selector;
use serde_json::Value;

use apidiag_core::api::{ApiError, ListQuery, with_query};
use apidiag_core::check::Context;

use super::apiservice::{ApiService, ServiceRef, ServiceSeen};

/// Backends examined at most: the runbook's reads cost about six requests each.
pub const BACKEND_CAP: usize = 5;
/// Pods listed per backend (`limit`): enough to show a Deployment's replicas.
pub const POD_LIMIT: u32 = 20;
/// Warning events and NetworkPolicies read per namespace (`limit`).
pub const NAMESPACE_LIST_LIMIT: u32 = 50;
/// Log lines and bytes asked of one Pod: the last error, not the history.
pub const LOG_TAIL: (u32, u32) = (5, 2048);
/// Terminating namespaces read at most.
pub const TERMINATING_LIMIT: u32 = 100;

/// The metric the availability controller sets to 1 while an APIService is unavailable.
pub const UNAVAILABLE_GAUGE: &str = "aggregator_unavailable_apiservice";
/// The counter it increments on each transition to unavailable.
pub const UNAVAILABLE_TOTAL: &str = "aggregator_unavailable_apiservice_total";

/// The last lines of one Pod's log, or why they could not be read.
#[derive(Debug, Clone)]
pub struct PodLog {
    pub pod: String,
    pub container: String,
    /// `spec.nodeName`: a Pod on no node has no log (the API server answers empty).
    pub node: Option<String>,
    pub lines: Result<String, String>,
}

/// The runbook's reads for one Service.
#[derive(Debug, Clone)]
pub struct Backend {
    /// The Service: `Ok(None)` when it does not exist.
    pub service: Result<Option<Value>, String>,
    /// Read only when the Service is gone: `Some(false)` when its namespace is too.
    pub namespace_exists: Option<bool>,
    pub slices: Option<Result<Vec<Value>, String>>,
    pub pods: Option<Result<Vec<Value>, String>>,
    pub log: Option<PodLog>,
    pub events: Option<Result<Vec<Value>, String>>,
    pub policies: Option<Result<Vec<Value>, String>>,
}

/// What `/metrics` says of one APIService.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unavailability {
    /// `aggregator_unavailable_apiservice`: 1 while unavailable.
    pub gauge: Option<f64>,
    /// `aggregator_unavailable_apiservice_total` by reason: transitions since
    /// this API server started.
    pub transitions: Vec<(String, f64)>,
}

/// Everything read, raw.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// The APIServices as listed: the delete fix's objects.
    pub apiservices: Vec<Value>,
    /// The runbook's reads per Service of an unavailable APIService.
    pub backends: BTreeMap<(String, String), Backend>,
    /// Services not examined because of [`BACKEND_CAP`].
    pub not_examined: BTreeSet<(String, String)>,
    /// Namespaces in Terminating (every one, whatever its condition).
    pub terminating: Vec<Value>,
    /// `/metrics` per APIService name; `None` when it could not be read.
    pub metrics: Option<BTreeMap<String, Unavailability>>,
    /// What could not be read, in words.
    pub gaps: Vec<String>,
}

impl Collected {
    /// What the reads showed of the Service `api` names.
    pub fn seen(&self, api: &ApiService) -> ServiceSeen {
        let Some(backend) = api
            .service
            .as_ref()
            .and_then(|s| self.backends.get(&s.key()))
        else {
            return ServiceSeen::NotRead;
        };
        match (&backend.service, backend.namespace_exists) {
            (Ok(Some(_)), _) => ServiceSeen::Present,
            (Ok(None), Some(false)) => ServiceSeen::NamespaceGone,
            (Ok(None), _) => ServiceSeen::Gone,
            (Err(_), _) => ServiceSeen::NotRead,
        }
    }

    /// The APIServices, parsed.
    pub fn parsed(&self) -> Vec<ApiService> {
        self.apiservices.iter().map(ApiService::parse).collect()
    }
}

/// The Services to examine: distinct, in the order of the unavailable
/// APIServices' names, the first [`BACKEND_CAP`] of them.
pub fn backends_to_examine(apis: &[ApiService]) -> (Vec<ServiceRef>, BTreeSet<(String, String)>) {
    let mut chosen: Vec<ServiceRef> = Vec::new();
    let mut skipped = BTreeSet::new();
    let mut failing: Vec<&ApiService> = apis.iter().filter(|a| !a.is_available()).collect();
    failing.sort_by(|a, b| a.name.cmp(&b.name));
    for service in failing.iter().filter_map(|a| a.service.as_ref()) {
        if chosen.iter().any(|c| c.key() == service.key()) {
            continue;
        }
        if chosen.len() < BACKEND_CAP {
            chosen.push(service.clone());
        } else {
            skipped.insert(service.key());
        }
    }
    (chosen, skipped)
}

/// Reads everything. `Err` only when the APIServices themselves cannot be listed.
pub async fn collect(ctx: &Context) -> Result<Collected, ApiError> {
    let apiservices: Vec<Value> = ctx
        .api
        .list_all(
            "/apis/apiregistration.k8s.io/v1/apiservices",
            &ListQuery::default(),
        )
        .await?;
    let mut collected = Collected {
        apiservices,
        ..Collected::default()
    };
    let apis = collected.parsed();
    let (chosen, skipped) = backends_to_examine(&apis);
    collected.not_examined = skipped;
    let any_unavailable = apis.iter().any(|a| !a.is_available());
    let (backends, terminating, metrics) = futures::join!(
        futures::future::join_all(chosen.iter().map(|s| backend(ctx, s))),
        async {
            if any_unavailable {
                Some(terminating_namespaces(ctx).await)
            } else {
                None
            }
        },
        ctx.metrics()
    );
    for (service, read) in chosen.iter().zip(backends) {
        collected.backends.insert(service.key(), read);
    }
    match terminating {
        Some(Ok((namespaces, note))) => {
            collected.terminating = namespaces;
            collected.gaps.extend(note);
        }
        Some(Err(error)) => collected.gaps.push(format!(
            "namespaces in Terminating ({})",
            error.first_line()
        )),
        None => {}
    }
    match metrics {
        Ok(families) => collected.metrics = Some(unavailability(families)),
        Err(error) => collected.gaps.push(format!(
            "aggregator metrics from /metrics ({})",
            error.first_line()
        )),
    }
    if !collected.not_examined.is_empty() {
        collected.gaps.push(format!(
            "the backends of {} more unavailable APIServices' Services ({}): only the first {BACKEND_CAP} are examined",
            collected.not_examined.len(),
            collected
                .not_examined
                .iter()
                .map(|(ns, name)| format!("{ns}/{name}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(collected)
}

fn words(error: ApiError) -> String {
    error.first_line()
}

/// One GET of a bounded list (`url` carries its `limit`): `items`, as served.
async fn items(ctx: &Context, url: String) -> Result<Vec<Value>, String> {
    let list: Value = ctx.api.get(&url).await.map_err(words)?;
    Ok(list["items"].as_array().cloned().unwrap_or_default())
}

/// The runbook's reads for one Service.
async fn backend(ctx: &Context, service: &ServiceRef) -> Backend {
    let ns = &service.namespace;
    let read = ctx
        .api
        .get_opt::<Value>(&format!(
            "/api/v1/namespaces/{ns}/services/{}",
            service.name
        ))
        .await
        .map_err(words);
    let limit = NAMESPACE_LIST_LIMIT.to_string();
    let events_url = with_query(
        &format!("/api/v1/namespaces/{ns}/events"),
        &[
            ("fieldSelector", "type=Warning".into()),
            ("limit", limit.clone()),
        ],
    );
    let mut backend = Backend {
        service: read,
        namespace_exists: None,
        slices: None,
        pods: None,
        log: None,
        events: None,
        policies: None,
    };
    let object = match &backend.service {
        Ok(Some(object)) => object.clone(),
        gone_or_unknown => {
            if matches!(gone_or_unknown, Ok(None)) {
                let namespace = ctx
                    .api
                    .get_opt::<Value>(&format!("/api/v1/namespaces/{ns}"))
                    .await;
                backend.namespace_exists = namespace.ok().map(|n| n.is_some());
            }
            if backend.namespace_exists != Some(false) {
                backend.events = Some(items(ctx, events_url).await);
            }
            return backend;
        }
    };
    let slices_url = with_query(
        &format!("/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"),
        &[
            (
                "labelSelector",
                format!("kubernetes.io/service-name={}", service.name),
            ),
            ("limit", limit.clone()),
        ],
    );
    // No selector: endpoints are managed by hand, there are no Pods to list.
    let pods_url = selector_of(&object).map(|selector| {
        with_query(
            &format!("/api/v1/namespaces/{ns}/pods"),
            &[
                ("labelSelector", selector),
                ("limit", POD_LIMIT.to_string()),
            ],
        )
    });
    let policies_url = with_query(
        &format!("/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies"),
        &[("limit", limit)],
    );
    let (slices, pods, events, policies) = futures::join!(
        items(ctx, slices_url),
        async {
            match pods_url {
                Some(url) => Some(items(ctx, url).await),
                None => None,
            }
        },
        items(ctx, events_url),
        items(ctx, policies_url),
    );
    if let Some(Ok(pods)) = &pods
        && let Some((pod, container, node)) = troubled_container(pods)
    {
        let path = with_query(
            &format!("/api/v1/namespaces/{ns}/pods/{pod}/log"),
            &[
                ("container", container.clone()),
                ("tailLines", LOG_TAIL.0.to_string()),
                ("limitBytes", LOG_TAIL.1.to_string()),
            ],
        );
        backend.log = Some(PodLog {
            pod,
            container,
            node,
            lines: pod_log(ctx, &path).await,
        });
    }
    backend.slices = Some(slices);
    backend.pods = pods;
    backend.events = Some(events);
    backend.policies = Some(policies);
    backend
}

/// The last lines of a Pod's log. A failure is the API server's report of its
/// own dial to the kubelet (`dial tcp …:10250: i/o timeout`, `No agent
/// available`), kept as the evidence. The core's client retries a GET's 5xx
/// twice, so a broken path to the kubelet costs three requests here; its
/// `get_health`, which does not retry, asks for `text/plain` only, and the log
/// endpoint refuses that (406).
/// How long one backend Pod's log may take (the tunnel probe's limit too).
const LOG_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

async fn pod_log(ctx: &Context, path: &str) -> Result<String, String> {
    // The API server dials the kubelet for this; a blackholed node takes its own
    // ~30 s, which would reach --request-timeout and stop the whole run.
    let read = tokio::time::timeout(LOG_TIMEOUT, ctx.api.get_text(path));
    let Ok(answer) = read.await else {
        return Err(format!(
            "no answer within {}s: the API server could not reach the node's kubelet in time",
            LOG_TIMEOUT.as_secs()
        ));
    };
    answer.map_err(|error| match error {
        // The server's message is the evidence; the request is known.
        ApiError::Status {
            code,
            reason,
            message,
            ..
        } => format!("{code} {reason}: {message}"),
        other => other.first_line(),
    })
}

/// The Service's selector as a label selector string, `None` when it has none.
pub fn selector_of(service: &Value) -> Option<String> {
    let pairs: Vec<(String, String)> = service["spec"]["selector"]
        .as_object()?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    (!pairs.is_empty()).then(|| Selector::from_iter(pairs).to_string())
}

/// The first Pod with a container that is not ready or has restarted, and that
/// container: the one whose last lines most likely say why.
pub fn troubled_container(pods: &[Value]) -> Option<(String, String, Option<String>)> {
    pods.iter().find_map(|pod| {
        let name = pod["metadata"]["name"].as_str()?;
        pod["status"]["containerStatuses"]
            .as_array()?
            .iter()
            .find(|c| c["ready"] != true || c["restartCount"].as_i64().unwrap_or(0) > 0)
            .and_then(|c| c["name"].as_str())
            .map(|c| {
                let node = pod["spec"]["nodeName"].as_str().map(str::to_string);
                (name.to_string(), c.to_string(), node)
            })
    })
}

/// Namespaces in Terminating, by field selector (namespaces support
/// `status.phase`); a server that refuses it gets one bounded LIST filtered
/// here, and the report says so.
async fn terminating_namespaces(ctx: &Context) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let limit = TERMINATING_LIMIT.to_string();
    let path = with_query(
        "/api/v1/namespaces",
        &[
            ("fieldSelector", "status.phase=Terminating".into()),
            ("limit", limit.clone()),
        ],
    );
    match ctx.api.get::<Value>(&path).await {
        Ok(list) => Ok((list["items"].as_array().cloned().unwrap_or_default(), None)),
        Err(ApiError::Status { code: 400, .. }) => {
            let list: Value = ctx
                .api
                .get(&with_query("/api/v1/namespaces", &[("limit", limit)]))
                .await?;
            let terminating = list["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|n| n["status"]["phase"] == "Terminating")
                .cloned()
                .collect();
            Ok((
                terminating,
                Some(format!(
                    "namespaces beyond the first {TERMINATING_LIMIT} (this server refuses the field selector status.phase on namespaces, so they were listed and filtered here)"
                )),
            ))
        }
        Err(other) => Err(other),
    }
}

/// The aggregator's two metrics, per APIService name.
pub fn unavailability(
    families: &apidiag_metrics::MetricFamilies,
) -> BTreeMap<String, Unavailability> {
    let mut by_name: BTreeMap<String, Unavailability> = BTreeMap::new();
    for (name, value) in families.group_by(UNAVAILABLE_GAUGE, "name") {
        by_name.entry(name).or_default().gauge = Some(value);
    }
    for (name, reason, value) in families.group_by2(UNAVAILABLE_TOTAL, "name", "reason") {
        by_name
            .entry(name)
            .or_default()
            .transitions
            .push((reason, value));
    }
    by_name
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failing(name: &str, ns: &str, service: &str) -> ApiService {
        ApiService::parse(&json!({
            "metadata": {"name": name},
            "spec": {"group": "g", "version": "v1", "service": {"namespace": ns, "name": service}},
            "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]},
        }))
    }

    #[test]
    fn the_cap_counts_distinct_services_in_name_order() {
        let mut apis: Vec<ApiService> = (0..7)
            .map(|i| failing(&format!("v1.g{i}"), "ns", &format!("svc{i}")))
            .collect();
        // A second version served by the first Service costs nothing more.
        apis.push(failing("v2.g0", "ns", "svc0"));
        apis.push(ApiService::parse(&json!({
            "metadata": {"name": "v1.ok"},
            "spec": {"group": "ok", "version": "v1", "service": {"namespace": "ns", "name": "fine"}},
            "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Passed"}]},
        })));
        let (chosen, skipped) = backends_to_examine(&apis);
        let names: Vec<&str> = chosen.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["svc0", "svc1", "svc2", "svc3", "svc4"]);
        assert_eq!(
            skipped.into_iter().collect::<Vec<_>>(),
            [
                ("ns".to_string(), "svc5".to_string()),
                ("ns".to_string(), "svc6".to_string())
            ]
        );
    }

    #[test]
    fn selector_and_troubled_container() {
        let service = json!({"spec": {"selector": {"app": "metrics", "tier": "api"}}});
        assert_eq!(
            selector_of(&service).as_deref(),
            Some("app=metrics,tier=api")
        );
        assert_eq!(selector_of(&json!({"spec": {}})), None);
        let pods = [
            json!({"metadata": {"name": "fine"}, "status": {"containerStatuses": [
                {"name": "c", "ready": true, "restartCount": 0}]}}),
            json!({"metadata": {"name": "flaky"}, "status": {"containerStatuses": [
                {"name": "sidecar", "ready": true, "restartCount": 0},
                {"name": "server", "ready": true, "restartCount": 3}]}}),
        ];
        assert_eq!(
            troubled_container(&pods),
            Some(("flaky".into(), "server".into(), None))
        );
        assert_eq!(troubled_container(&pods[..1]), None);
    }

    #[test]
    fn metrics_by_name_and_reason() {
        let families = apidiag_metrics::MetricFamilies::parse(
            "aggregator_unavailable_apiservice{name=\"v1beta1.metrics.k8s.io\"} 1\n\
             aggregator_unavailable_apiservice{name=\"v1.apps\"} 0\n\
             aggregator_unavailable_apiservice_total{name=\"v1beta1.metrics.k8s.io\",reason=\"FailedDiscoveryCheck\"} 4\n\
             aggregator_unavailable_apiservice_total{name=\"v1beta1.metrics.k8s.io\",reason=\"MissingEndpoints\"} 1\n",
        );
        let by_name = unavailability(&families);
        assert_eq!(by_name.len(), 2);
        assert_eq!(
            by_name["v1beta1.metrics.k8s.io"],
            Unavailability {
                gauge: Some(1.0),
                transitions: vec![
                    ("FailedDiscoveryCheck".into(), 4.0),
                    ("MissingEndpoints".into(), 1.0)
                ],
            }
        );
        assert_eq!(by_name["v1.apps"].gauge, Some(0.0));
    }
}
