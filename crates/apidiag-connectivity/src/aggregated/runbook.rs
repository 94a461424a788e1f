//! The KubeAggregatedAPIErrors runbook's evidence for one unavailable
//! APIService, as tables: its Service, EndpointSlices, Pods (status, restarts,
//! last termination), the last log lines of one troubled Pod, the namespace's
//! Warning events, the NetworkPolicies that select its Pods for ingress, and
//! what `/metrics` says. Pure: the reads are in [`super::collect`].

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::{Selector, SelectorExt};
use serde_json::Value;

use apidiag_core::finding::Evidence;

use super::collect::{Backend, PodLog, Unavailability};

/// Warning events shown per namespace: the most recent ones.
pub const EVENTS_SHOWN: usize = 5;
/// Characters of an event message or log kept in a table cell.
const CELL: usize = 200;

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn cut(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(CELL) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// `https:443→4443/TCP`: a Service port as `kubectl get svc` would show it.
fn service_ports(service: &Value) -> String {
    service["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let name = text(&p["name"]);
            let port = p["port"].to_string();
            let target = match &p["targetPort"] {
                Value::Null => port.clone(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let prefix = if name.is_empty() {
                String::new()
            } else {
                format!("{name}:")
            };
            format!("{prefix}{port}→{target}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line on the Service: type, address, ports, selector; or that it is gone.
pub fn service(key: &(String, String), backend: &Backend) -> Evidence {
    let (ns, name) = key;
    let value = match &backend.service {
        Ok(Some(svc)) => {
            let spec = &svc["spec"];
            let kind = spec["type"].as_str().unwrap_or("ClusterIP");
            let address = match kind {
                "ExternalName" => text(&spec["externalName"]).to_string(),
                _ => spec["clusterIP"].as_str().unwrap_or("-").to_string(),
            };
            let selector = super::collect::selector_of(svc)
                .unwrap_or_else(|| "none (endpoints managed by hand)".into());
            format!(
                "{kind} {address}, ports {}, selector {selector}",
                service_ports(svc)
            )
        }
        Ok(None) => match backend.namespace_exists {
            Some(false) => format!("not found: namespace {ns} does not exist either"),
            Some(true) => format!("not found in namespace {ns} (the namespace exists)"),
            None => "not found".into(),
        },
        Err(error) => format!("could not be read: {error}"),
    };
    Evidence::new(format!("service {ns}/{name}"), value)
}

/// The EndpointSlices: per slice its ports and addresses, ready or not.
pub fn slices(slices: &[Value]) -> Evidence {
    let rows = slices
        .iter()
        .map(|slice| {
            let ports = slice["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| format!("{}:{}", text(&p["name"]), p["port"]))
                .collect::<Vec<_>>()
                .join(", ");
            let endpoints: Vec<&Value> = slice["endpoints"]
                .as_array()
                .into_iter()
                .flatten()
                .collect();
            let ready = endpoints
                .iter()
                .filter(|e| e["conditions"]["ready"] != false)
                .count();
            let addresses = endpoints
                .iter()
                .flat_map(|e| e["addresses"].as_array().into_iter().flatten())
                .map(|a| text(a).to_string())
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                text(&slice["metadata"]["name"]).to_string(),
                if ports.is_empty() { "-".into() } else { ports },
                if addresses.is_empty() {
                    "none".into()
                } else {
                    addresses
                },
                format!("{ready}/{}", endpoints.len()),
            ]
        })
        .collect();
    Evidence::table(
        "endpoint slices",
        &["SLICE", "PORTS", "ADDRESSES", "READY"],
        rows,
    )
}

/// The Pods: phase, ready containers, restarts, the last termination's reason.
pub fn pods(pods: &[Value]) -> Evidence {
    let rows = pods
        .iter()
        .map(|pod| {
            let statuses: Vec<&Value> = pod["status"]["containerStatuses"]
                .as_array()
                .into_iter()
                .flatten()
                .collect();
            let ready = statuses.iter().filter(|c| c["ready"] == true).count();
            let restarts: i64 = statuses
                .iter()
                .map(|c| c["restartCount"].as_i64().unwrap_or(0))
                .sum();
            let last = statuses
                .iter()
                .find_map(|c| {
                    let t = &c["lastState"]["terminated"];
                    t.is_object()
                        .then(|| format!("{} (exit {})", text(&t["reason"]), t["exitCode"]))
                })
                .or_else(|| {
                    statuses
                        .iter()
                        .find_map(|c| c["state"]["waiting"]["reason"].as_str())
                        .map(|r| format!("waiting: {r}"))
                })
                .unwrap_or_else(|| "-".into());
            vec![
                text(&pod["metadata"]["name"]).to_string(),
                pod["status"]["phase"].as_str().unwrap_or("-").to_string(),
                format!("{ready}/{}", statuses.len()),
                restarts.to_string(),
                last,
            ]
        })
        .collect();
    Evidence::table(
        "pods",
        &["POD", "PHASE", "READY", "RESTARTS", "LAST TERMINATION"],
        rows,
    )
}

/// The last log lines, or why the API server could not fetch them (a failure
/// is evidence too: it reaches the kubelet through the same path).
pub fn log(log: &PodLog) -> Evidence {
    let label = format!("log of {} ({})", log.pod, log.container);
    match &log.lines {
        Ok(lines) if lines.trim().is_empty() => match &log.node {
            Some(node) => Evidence::new(label, format!("empty (on node {node})")),
            None => Evidence::new(
                label,
                "empty: the Pod is on no node (not scheduled), so it has no log yet",
            ),
        },
        Ok(lines) => Evidence::new(label, cut(lines)),
        // Whole: the address the API server dialled and its error are the point.
        Err(error) => Evidence::new(label, format!("could not be read: {}", error.trim())),
    }
}

/// When an event last happened: `lastTimestamp`, else the series' or `eventTime`.
fn last_seen(event: &Value) -> String {
    [
        &event["lastTimestamp"],
        &event["series"]["lastObservedTime"],
        &event["eventTime"],
        &event["metadata"]["creationTimestamp"],
    ]
    .into_iter()
    .find_map(Value::as_str)
    .unwrap_or("-")
    .to_string()
}

/// The most recent Warning events, newest first.
pub fn events(namespace: &str, events: &[Value]) -> Evidence {
    let mut sorted: Vec<&Value> = events.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(last_seen(e)));
    let rows = sorted
        .into_iter()
        .take(EVENTS_SHOWN)
        .map(|e| {
            let object = &e["involvedObject"];
            vec![
                last_seen(e),
                format!("{}/{}", text(&object["kind"]), text(&object["name"])),
                text(&e["reason"]).to_string(),
                e["count"].as_i64().unwrap_or(1).to_string(),
                cut(text(&e["message"])),
            ]
        })
        .collect();
    Evidence::table(
        format!("warning events in {namespace}"),
        &["LAST SEEN", "OBJECT", "REASON", "COUNT", "MESSAGE"],
        rows,
    )
}

/// Whether a policy restricts ingress: `policyTypes` names it, or (unset)
/// the API's default, which always includes Ingress.
fn restricts_ingress(policy: &Value) -> bool {
    match policy["spec"]["policyTypes"].as_array() {
        Some(types) => types.iter().any(|t| t == "Ingress"),
        None => true,
    }
}

/// What a policy's ingress rules let in, in a few words.
fn allowed_from(policy: &Value) -> String {
    let rules: Vec<&Value> = policy["spec"]["ingress"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    if rules.is_empty() {
        return "nothing (deny all ingress)".into();
    }
    if rules
        .iter()
        .any(|r| r["from"].as_array().is_none_or(Vec::is_empty))
    {
        return "any source".into();
    }
    rules
        .iter()
        .flat_map(|r| r["from"].as_array().into_iter().flatten())
        .map(|peer| {
            if let Some(cidr) = peer["ipBlock"]["cidr"].as_str() {
                format!("ipBlock {cidr}")
            } else {
                let mut parts = Vec::new();
                if peer["namespaceSelector"].is_object() {
                    parts.push(format!("namespaceSelector {}", peer["namespaceSelector"]));
                }
                if peer["podSelector"].is_object() {
                    parts.push(format!("podSelector {}", peer["podSelector"]));
                }
                parts.join(" ")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The labels a policy is matched against: each Pod's, or the Service's
/// selector when no Pod was listed (every Pod it would pick carries them).
fn candidate_labels(pods: &[Value], service: Option<&Value>) -> Vec<BTreeMap<String, String>> {
    let labels = |v: &Value| -> BTreeMap<String, String> {
        v.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), text(v).to_string()))
            .collect()
    };
    if !pods.is_empty() {
        return pods
            .iter()
            .map(|p| labels(&p["metadata"]["labels"]))
            .collect();
    }
    service
        .map(|s| vec![labels(&s["spec"]["selector"])])
        .filter(|l| l.iter().any(|m| !m.is_empty()))
        .unwrap_or_default()
}

/// The ingress NetworkPolicies that select the backend's Pods: a table, or
/// `None` when no policy restricts their ingress.
pub fn policies(policies: &[Value], pods: &[Value], service: Option<&Value>) -> Option<Evidence> {
    let candidates = candidate_labels(pods, service);
    let rows: Vec<Vec<String>> = policies
        .iter()
        .filter(|p| restricts_ingress(p))
        .filter(|p| {
            let Ok(selector) =
                serde_json::from_value::<LabelSelector>(p["spec"]["podSelector"].clone())
            else {
                return false;
            };
            let Ok(selector) = Selector::try_from(selector) else {
                return false;
            };
            candidates.iter().any(|labels| selector.matches(labels))
        })
        .map(|p| {
            vec![
                text(&p["metadata"]["name"]).to_string(),
                p["spec"]["podSelector"].to_string(),
                cut(&allowed_from(p)),
            ]
        })
        .collect();
    (!rows.is_empty()).then(|| {
        Evidence::table(
            "ingress network policies selecting its pods",
            &["POLICY", "POD SELECTOR", "ALLOWS FROM"],
            rows,
        )
    })
}

/// `/metrics` for one APIService: the gauge and the transitions by reason.
pub fn metrics(metrics: Option<&Unavailability>) -> Evidence {
    let label = "aggregator metrics";
    let Some(m) = metrics else {
        return Evidence::new(label, "no aggregator_unavailable_apiservice sample for it");
    };
    let gauge = match m.gauge {
        Some(v) if v >= 1.0 => "unavailable now (aggregator_unavailable_apiservice 1)".to_string(),
        Some(_) => "available now (aggregator_unavailable_apiservice 0)".to_string(),
        None => "aggregator_unavailable_apiservice not served".to_string(),
    };
    let transitions = if m.transitions.is_empty() {
        "no transition counted since this API server replica started (the _total counter counts changes from available only)".to_string()
    } else {
        let total: f64 = m.transitions.iter().map(|(_, n)| n).sum();
        let by_reason = m
            .transitions
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "became unavailable {total} times since this API server replica started ({by_reason})"
        )
    };
    Evidence::new(label, format!("{gauge}; {transitions}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pods_show_restarts_and_the_last_termination() {
        let table = pods(&[json!({
            "metadata": {"name": "metrics-server-7d9-x"},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "metrics-server", "ready": false, "restartCount": 7,
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
            }]},
        })]);
        assert_eq!(
            table.rows,
            [[
                "metrics-server-7d9-x",
                "Running",
                "0/1",
                "7",
                "OOMKilled (exit 137)"
            ]]
        );
    }

    #[test]
    fn slices_count_ready_addresses() {
        let table = slices(&[json!({
            "metadata": {"name": "metrics-server-abc"},
            "ports": [{"name": "https", "port": 10250}],
            "endpoints": [
                {"addresses": ["10.244.0.5"], "conditions": {"ready": false}},
                {"addresses": ["10.244.1.9"], "conditions": {"ready": true}},
            ],
        })]);
        assert_eq!(
            table.rows,
            [[
                "metrics-server-abc",
                "https:10250",
                "10.244.0.5, 10.244.1.9",
                "1/2"
            ]]
        );
    }

    #[test]
    fn events_newest_first_and_capped() {
        let list: Vec<Value> = (0..8)
            .map(|i| {
                json!({
                    "lastTimestamp": format!("2026-12-01T10:0{i}:00Z"),
                    "involvedObject": {"kind": "Pod", "name": format!("p{i}")},
                    "reason": "Unhealthy", "count": i + 1, "message": "Readiness probe failed",
                })
            })
            .collect();
        let table = events("kube-system", &list);
        assert_eq!(table.rows.len(), EVENTS_SHOWN);
        assert_eq!(
            table.rows[0],
            [
                "2026-12-01T10:07:00Z",
                "Pod/p7",
                "Unhealthy",
                "8",
                "Readiness probe failed"
            ]
        );
    }

    #[test]
    fn only_ingress_policies_that_select_the_pods() {
        let pods = [json!({"metadata": {"labels": {"app": "adapter", "pod-template-hash": "x"}}})];
        let list = [
            json!({"metadata": {"name": "allow-apiserver-ip"}, "spec": {
                "podSelector": {"matchLabels": {"app": "adapter"}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"ipBlock": {"cidr": "20.1.2.3/32"}}]}]}}),
            json!({"metadata": {"name": "default-deny"}, "spec": {"podSelector": {}}}),
            json!({"metadata": {"name": "egress-only"}, "spec": {
                "podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}}),
            json!({"metadata": {"name": "other-app"}, "spec": {
                "podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}}}),
        ];
        let table = policies(&list, &pods, None).unwrap();
        assert_eq!(
            table.rows,
            [
                [
                    "allow-apiserver-ip",
                    "{\"matchLabels\":{\"app\":\"adapter\"}}",
                    "ipBlock 20.1.2.3/32"
                ],
                ["default-deny", "{}", "nothing (deny all ingress)"],
            ]
        );
        // No Pods listed: the Service's selector stands in for their labels.
        let service = json!({"spec": {"selector": {"app": "web"}}});
        let table = policies(&list, &[], Some(&service)).unwrap();
        let names: Vec<&str> = table.rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(names, ["default-deny", "other-app"]);
        assert!(policies(&list[2..3], &pods, None).is_none());
    }

    #[test]
    fn a_log_in_words() {
        let log_of = |node: Option<&str>, lines: Result<&str, &str>| PodLog {
            pod: "p".into(),
            container: "c".into(),
            node: node.map(str::to_string),
            lines: lines.map(str::to_string).map_err(str::to_string),
        };
        assert_eq!(
            log(&log_of(None, Ok(""))).value,
            "empty: the Pod is on no node (not scheduled), so it has no log yet"
        );
        assert_eq!(
            log(&log_of(Some("n1"), Ok("\n"))).value,
            "empty (on node n1)"
        );
        assert_eq!(
            log(&log_of(Some("n1"), Ok("E1201 serving failed: x509\n"))).value,
            "E1201 serving failed: x509"
        );
        assert_eq!(
            log(&log_of(Some("n1"), Err("no kubelet"))).value,
            "could not be read: no kubelet"
        );
        assert_eq!(log(&log_of(None, Ok(""))).label, "log of p (c)");
    }

    #[test]
    fn metrics_in_words() {
        let m = Unavailability {
            gauge: Some(1.0),
            transitions: vec![("MissingEndpoints".into(), 3.0)],
        };
        assert_eq!(
            metrics(Some(&m)).value,
            "unavailable now (aggregator_unavailable_apiservice 1); became unavailable 3 times since this API server replica started (MissingEndpoints 3)"
        );
        assert_eq!(
            metrics(None).value,
            "no aggregator_unavailable_apiservice sample for it"
        );
    }
}
