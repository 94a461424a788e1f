//! What the check reads, politely: both webhook configuration lists (small, whole
//! bodies: selectors, rules and caBundles are the evidence), each service-backed
//! webhook's Service, EndpointSlices and Pods (one GET and two LISTs per distinct
//! Service, by name and label selector), the labels of the namespaces whose
//! interception matters (kube-system, kube-node-lease), recent Warning events
//! (paginated, capped) for failed webhook calls, and the run's one `/metrics`.
//!
//! Nothing here judges: [`Collected`] is handed to the verdicts as read, with
//! what could not be read recorded as gaps, so a missing permission narrows the
//! report instead of stopping it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use apidiag_core::api::{ApiError, ListPage, ListQuery};
use apidiag_core::check::Context;

/// admissionregistration versions apidiag reads, newest first (v1beta1 was
/// removed in 1.22 and defaulted to Ignore and 30 s).
const VERSIONS: [&str; 2] = ["v1", "v1beta1"];
/// Warning events read at most: enough for the recent failures, bounded on a
/// cluster whose events pile up.
pub const EVENT_CAP: usize = 2000;
/// Namespaces whose labels decide the guide's questions.
pub const SYSTEM_NAMESPACES: [&str; 2] = ["kube-system", "kube-node-lease"];

/// A Service a webhook calls, by namespace and name.
pub type ServiceKey = (String, String);

/// Everything read, raw.
#[derive(Debug, Default)]
pub struct Collected {
    /// The admissionregistration version served and read.
    pub version: String,
    /// `MutatingWebhookConfiguration` objects.
    pub mutating: Vec<Value>,
    /// `ValidatingWebhookConfiguration` objects.
    pub validating: Vec<Value>,
    /// Per Service a webhook names: the Service (`None`: it does not exist).
    pub services: BTreeMap<ServiceKey, Option<Value>>,
    /// Its EndpointSlices (label `kubernetes.io/service-name`).
    pub endpoint_slices: BTreeMap<ServiceKey, Vec<Value>>,
    /// The Pods its selector picks.
    pub pods: BTreeMap<ServiceKey, Vec<Value>>,
    /// kube-system and kube-node-lease, as served.
    pub namespaces: BTreeMap<String, Value>,
    /// Warning events whose message mentions a webhook call.
    pub events: Vec<Value>,
    /// Whether [`EVENT_CAP`] cut the event listing short.
    pub events_capped: bool,
    /// What could not be read, in words.
    pub gaps: Vec<String>,
}

impl Collected {
    fn gap(&mut self, what: &str, error: &ApiError) {
        self.gaps.push(format!("{what} ({})", error.first_line()));
    }
}

/// The Services webhooks call, from the configurations as served.
pub fn services_called(configurations: &[Value]) -> BTreeSet<ServiceKey> {
    configurations
        .iter()
        .flat_map(|c| c["webhooks"].as_array().into_iter().flatten())
        .filter_map(|w| {
            let service = &w["clientConfig"]["service"];
            Some((
                service["namespace"].as_str()?.to_string(),
                service["name"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Whether a Warning event is about a webhook call (the API server's text,
/// as clients such as the ReplicaSet controller record it).
pub fn about_a_webhook(event: &Value) -> bool {
    event["message"]
        .as_str()
        .is_some_and(|m| m.contains("failed calling webhook") || m.contains("admission webhook"))
}

/// Reads everything; `Err` only when the configurations themselves cannot be read.
pub async fn collect(ctx: &Context) -> Result<Collected, ApiError> {
    let api = &ctx.api;
    let mut out = Collected::default();
    let mut version = None;
    for v in VERSIONS {
        if api
            .get_opt::<Value>(&format!("/apis/admissionregistration.k8s.io/{v}"))
            .await?
            .is_some()
        {
            version = Some(v);
            break;
        }
    }
    let Some(version) = version else {
        // No admission webhooks can exist on this server.
        return Ok(out);
    };
    out.version = version.to_string();
    let base = format!("/apis/admissionregistration.k8s.io/{version}");
    let query = ListQuery::default();
    out.mutating = api
        .list_all(&format!("{base}/mutatingwebhookconfigurations"), &query)
        .await?;
    out.validating = api
        .list_all(&format!("{base}/validatingwebhookconfigurations"), &query)
        .await?;

    let called: Vec<Value> = out
        .mutating
        .iter()
        .chain(&out.validating)
        .cloned()
        .collect();
    for (namespace, name) in services_called(&called) {
        let key = (namespace.clone(), name.clone());
        let service = match api
            .get_opt::<Value>(&format!("/api/v1/namespaces/{namespace}/services/{name}"))
            .await
        {
            Ok(service) => service,
            Err(error) => {
                out.gap(&format!("Service {namespace}/{name}"), &error);
                continue;
            }
        };
        let slices = ListQuery::default().labels(format!("kubernetes.io/service-name={name}"));
        match api
            .list_all::<Value>(
                &format!("/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"),
                &slices,
            )
            .await
        {
            Ok(found) => {
                out.endpoint_slices.insert(key.clone(), found);
            }
            Err(error) => out.gap(&format!("EndpointSlices of {namespace}/{name}"), &error),
        }
        if let Some(selector) = service.as_ref().and_then(selector_of) {
            match api
                .list_all::<Value>(
                    &format!("/api/v1/namespaces/{namespace}/pods"),
                    &ListQuery::default().labels(selector),
                )
                .await
            {
                Ok(found) => {
                    out.pods.insert(key.clone(), found);
                }
                Err(error) => out.gap(&format!("Pods of {namespace}/{name}"), &error),
            }
        }
        out.services.insert(key, service);
    }

    for namespace in SYSTEM_NAMESPACES {
        match api
            .get_opt::<Value>(&format!("/api/v1/namespaces/{namespace}"))
            .await
        {
            Ok(Some(found)) => {
                out.namespaces.insert(namespace.to_string(), found);
            }
            Ok(None) => {}
            Err(error) => out.gap(&format!("namespace {namespace}"), &error),
        }
    }

    events(ctx, &mut out).await;
    Ok(out)
}

/// `a=b,c=d` from a Service's `spec.selector`; `None` without one (a Service
/// without a selector has hand-made endpoints and no Pods to look at).
fn selector_of(service: &Value) -> Option<String> {
    let selector = service["spec"]["selector"].as_object()?;
    if selector.is_empty() {
        return None;
    }
    Some(
        selector
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Warning events of every namespace, page by page, keeping those about webhooks.
async fn events(ctx: &Context, out: &mut Collected) {
    let query = ListQuery::default().fields("type=Warning");
    let mut seen = 0usize;
    let mut kept = Vec::new();
    let mut capped = false;
    let result = ctx
        .api
        .list::<Value>("/api/v1/events", &query, |page| match page {
            ListPage::Items(items) => {
                for event in items {
                    seen += 1;
                    if seen > EVENT_CAP {
                        capped = true;
                        break;
                    }
                    if about_a_webhook(&event) {
                        kept.push(event);
                    }
                }
            }
            ListPage::Restart => {
                kept.clear();
                seen = 0;
            }
        })
        .await;
    if let Err(error) = result {
        out.gap("Warning events", &error);
    }
    out.events = kept;
    out.events_capped = capped;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn services_are_read_once_each() {
        let configs = [json!({"webhooks": [
            {"name": "a", "clientConfig": {"service": {"namespace": "kyverno", "name": "svc"}}},
            {"name": "b", "clientConfig": {"service": {"namespace": "kyverno", "name": "svc"}}},
            {"name": "c", "clientConfig": {"url": "https://example.com"}},
        ]})];
        let called = services_called(&configs);
        assert_eq!(called.len(), 1);
        assert!(called.contains(&("kyverno".into(), "svc".into())));
    }

    #[test]
    fn selectors_and_webhook_events() {
        let service = json!({"spec": {"selector": {"app": "kyverno", "tier": "admission"}}});
        assert_eq!(
            selector_of(&service).as_deref(),
            Some("app=kyverno,tier=admission")
        );
        assert_eq!(selector_of(&json!({"spec": {}})), None);
        assert!(about_a_webhook(
            &json!({"message": "Error creating: Internal error occurred: failed calling webhook \"x\""})
        ));
        assert!(!about_a_webhook(
            &json!({"message": "Back-off restarting failed container"})
        ));
    }
}
