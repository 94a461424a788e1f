//! From what [`collect`](crate::collect) read to what [`verdicts`](crate::verdicts)
//! judge: webhooks parsed, each backend judged from its Service, EndpointSlices and
//! Pods, Events classified, and the `apiserver_admission_webhook_*` metrics of the
//! run's one scrape read per webhook name (counters since the replica started;
//! `None` where the server does not serve the family).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;

use apidiag_metrics::MetricFamilies;

use crate::backend::{backend_pod_labels, judge};
use crate::collect::Collected;
use crate::configuration::{ClientConfig, Kind, Webhook, parse};
use crate::errors::classify;
use crate::selector::labels;
use crate::verdicts::{Backend, Observed, ObservedFailure, WebhookMetrics};

const REJECTIONS: &str = "apiserver_admission_webhook_rejection_count";
const FAIL_OPEN: &str = "apiserver_admission_webhook_fail_open_count";
const REQUESTS: &str = "apiserver_admission_webhook_request_total";
const DURATION: &str = "apiserver_admission_webhook_admission_duration_seconds";

/// Every webhook of the configurations read; those that do not parse are
/// returned as gaps (named, with why).
pub fn webhooks(collected: &Collected) -> (Vec<Webhook>, Vec<String>) {
    let mut out = Vec::new();
    let mut gaps = Vec::new();
    for (kind, list) in [
        (Kind::Mutating, &collected.mutating),
        (Kind::Validating, &collected.validating),
    ] {
        for object in list {
            match parse(object, kind, &collected.version) {
                Ok(found) => out.extend(found),
                Err(error) => gaps.push(format!(
                    "{} {}: {error}",
                    object["kind"].as_str().unwrap_or("configuration"),
                    object["metadata"]["name"].as_str().unwrap_or("?")
                )),
            }
        }
    }
    (out, gaps)
}

/// The observation the verdicts judge.
pub fn observe(
    collected: &Collected,
    webhooks: Vec<Webhook>,
    metrics: Option<&MetricFamilies>,
    now: Timestamp,
) -> Observed {
    let mut observed = Observed::new(now);
    for webhook in &webhooks {
        let (service, slices, pods) = match &webhook.client {
            ClientConfig::Service {
                namespace, name, ..
            } => {
                let key = (namespace.clone(), name.clone());
                (
                    collected.services.get(&key).and_then(Option::as_ref),
                    collected
                        .endpoint_slices
                        .get(&key)
                        .map_or(&[][..], Vec::as_slice),
                    collected.pods.get(&key).map_or(&[][..], Vec::as_slice),
                )
            }
            _ => (None, &[][..], &[][..]),
        };
        observed.backends.insert(
            webhook.id(),
            Backend {
                state: judge(&webhook.client, service, slices, pods),
                pod_labels: backend_pod_labels(service, pods),
            },
        );
    }
    for event in &collected.events {
        let message = event["message"].as_str().unwrap_or_default();
        let failure = classify(message);
        observed.failures.push(ObservedFailure {
            webhook: failure.webhook.clone().unwrap_or_default(),
            failure,
            count: event_count(event),
            last_seen: last_seen(event),
            namespace: event["metadata"]["namespace"].as_str().map(str::to_string),
            message: message.to_string(),
        });
    }
    if let Some(families) = metrics {
        for webhook in &webhooks {
            observed
                .metrics
                .entry(webhook.name.clone())
                .or_insert_with(|| webhook_metrics(families, &webhook.name));
        }
    }
    for (name, namespace) in &collected.namespaces {
        observed
            .namespaces
            .insert(name.clone(), labels(&namespace["metadata"]["labels"]));
    }
    observed.webhooks = webhooks;
    observed
}

/// How many times an Event happened (`count` for core/v1 Events, `series.count`
/// for events.k8s.io ones written through the core API).
fn event_count(event: &Value) -> u64 {
    event["count"]
        .as_u64()
        .or_else(|| event["series"]["count"].as_u64())
        .unwrap_or(1)
        .max(1)
}

/// When an Event was last seen: `lastTimestamp`, else `series.lastObservedTime`,
/// else `eventTime`, else its creation.
fn last_seen(event: &Value) -> Option<Timestamp> {
    [
        &event["lastTimestamp"],
        &event["series"]["lastObservedTime"],
        &event["eventTime"],
        &event["metadata"]["creationTimestamp"],
    ]
    .into_iter()
    .filter_map(Value::as_str)
    .find_map(|text| text.parse::<Timestamp>().ok())
}

/// One webhook's counters and latency; a family the server does not serve stays
/// `None`, a served one without this webhook's series is 0.
fn webhook_metrics(families: &MetricFamilies, name: &str) -> WebhookMetrics {
    let served = |family: &str| families.family(family).is_some();
    let by_name = [("name", name)];
    WebhookMetrics {
        calling_errors: served(REJECTIONS).then(|| {
            families
                .sum(
                    REJECTIONS,
                    &[("name", name), ("error_type", "calling_webhook_error")],
                )
                .unwrap_or(0.0)
        }),
        fail_open: served(FAIL_OPEN).then(|| families.sum(FAIL_OPEN, &by_name).unwrap_or(0.0)),
        requests_by_code: served(REQUESTS).then(|| {
            families
                .group_by_labels(REQUESTS, &["code"], &by_name)
                .into_iter()
                .map(|(mut keys, v)| (keys.pop().unwrap_or_default(), v))
                .collect::<BTreeMap<String, f64>>()
        }),
        latency_p99_seconds: families
            .histogram(DURATION, &by_name)
            .and_then(|h| h.quantile(0.99)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_count_and_age() {
        let core = json!({"count": 7, "lastTimestamp": "2026-12-01T10:00:00Z"});
        assert_eq!(event_count(&core), 7);
        assert_eq!(
            last_seen(&core).map(|t| t.to_string()).as_deref(),
            Some("2026-12-01T10:00:00Z")
        );
        let series = json!({"series": {"count": 3, "lastObservedTime": "2026-12-01T10:00:01.5Z"},
            "eventTime": "2026-12-01T09:00:00Z"});
        assert_eq!(event_count(&series), 3);
        assert!(last_seen(&series).is_some());
        assert_eq!(event_count(&json!({})), 1);
        assert_eq!(last_seen(&json!({})), None);
    }

    #[test]
    fn metrics_are_none_when_not_served_and_zero_when_silent() {
        let families = MetricFamilies::parse(
            "# TYPE apiserver_admission_webhook_rejection_count counter\n\
             apiserver_admission_webhook_rejection_count{error_type=\"calling_webhook_error\",name=\"a\",operation=\"CREATE\",rejection_code=\"500\",type=\"validating\"} 4\n\
             apiserver_admission_webhook_rejection_count{error_type=\"no_error\",name=\"a\",operation=\"CREATE\",rejection_code=\"403\",type=\"validating\"} 9\n",
        );
        let a = webhook_metrics(&families, "a");
        assert_eq!(a.calling_errors, Some(4.0));
        assert_eq!(a.fail_open, None);
        assert_eq!(webhook_metrics(&families, "b").calling_errors, Some(0.0));
    }
}
