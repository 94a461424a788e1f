use serde_json::{Value, json};

use super::*;

fn client(port: i64) -> ClientConfig {
    ClientConfig::Service {
        namespace: "kyverno".into(),
        name: "kyverno-svc".into(),
        port,
        path: None,
    }
}

fn service() -> Value {
    json!({"metadata": {"name": "kyverno-svc", "namespace": "kyverno"},
        "spec": {"clusterIP": "10.0.0.12", "selector": {"app.kubernetes.io/component": "admission-controller"},
            "ports": [{"name": "https", "port": 443, "targetPort": "https"}]}})
}

fn slice(port_name: &str, endpoints: Value) -> Value {
    json!({"metadata": {"labels": {"kubernetes.io/service-name": "kyverno-svc"}},
        "ports": [{"name": port_name, "port": 9443}], "endpoints": endpoints})
}

fn pod(name: &str, ready: bool, restarts: u64, waiting: Option<&str>) -> Value {
    let state = match waiting {
        Some(reason) => json!({"waiting": {"reason": reason}}),
        None => json!({"running": {}}),
    };
    json!({"metadata": {"name": name, "labels": {"app.kubernetes.io/component": "admission-controller", "pod-template-hash": "x"}},
        "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": [{"restartCount": restarts, "state": state}]}})
}

#[test]
fn missing_service_and_wrong_port() {
    assert_eq!(
        judge(&client(443), None, &[], &[]),
        BackendState::ServiceMissing {
            namespace: "kyverno".into(),
            name: "kyverno-svc".into()
        }
    );
    let state = judge(&client(8443), Some(&service()), &[], &[]);
    assert_eq!(
        state,
        BackendState::PortMismatch {
            wanted: 8443,
            available: vec![443]
        }
    );
    assert!(state.is_down());
    assert!(state.describe().contains("no service port 8443"));
}

#[test]
fn ready_endpoints_with_the_port_name() {
    let slices = [slice(
        "https",
        json!([{"addresses": ["10.1.0.5"], "conditions": {"ready": true}},
        {"addresses": ["10.1.0.6"]}, {"addresses": ["10.1.0.7"], "conditions": {"ready": false, "terminating": true}}]),
    )];
    let pods = [
        pod("a", true, 0, None),
        pod("b", true, 2, None),
        pod("c", false, 7, Some("CrashLoopBackOff")),
    ];
    let state = judge(&client(443), Some(&service()), &slices, &pods);
    let BackendState::Ready { ready, total, pods } = &state else {
        panic!("{state:?}")
    };
    assert_eq!(
        (*ready, *total),
        (2, 3),
        "a nil ready condition counts as ready"
    );
    assert_eq!((pods.total, pods.ready, pods.restarts), (3, 2, 9));
    assert_eq!(pods.waiting, vec!["c: CrashLoopBackOff"]);
    assert!(!state.is_down());
    assert!(
        state
            .describe()
            .contains("2/3 endpoints ready; 2/3 pods ready, 9 restarts (c: CrashLoopBackOff)"),
        "{}",
        state.describe()
    );
}

#[test]
fn no_ready_endpoints_counts_what_is_there() {
    let slices = [slice(
        "https",
        json!([{"addresses": ["10.1.0.7"], "conditions": {"ready": false, "terminating": true}}]),
    )];
    let pods = [pod("c", false, 12, Some("CrashLoopBackOff"))];
    let state = judge(&client(443), Some(&service()), &slices, &pods);
    assert_eq!(
        state,
        BackendState::NoReadyEndpoints {
            port_name: "https".into(),
            slices: 1,
            not_ready: 1,
            terminating: 1,
            ready_under_other_port_names: 0,
            pods: Pods {
                total: 1,
                ready: 0,
                restarts: 12,
                waiting: vec!["c: CrashLoopBackOff".into()]
            },
        }
    );
    assert!(state.is_down());
    // No slice at all (selector-less Service, or no controller): the same verdict.
    assert!(matches!(
        judge(&client(443), Some(&service()), &[], &[]),
        BackendState::NoReadyEndpoints { slices: 0, .. }
    ));
}

#[test]
fn a_wrong_port_name_hides_ready_endpoints() {
    let slices = [slice(
        "webhook",
        json!([{"addresses": ["10.1.0.5"], "conditions": {"ready": true}}]),
    )];
    let state = judge(&client(443), Some(&service()), &slices, &[]);
    assert!(
        matches!(
            state,
            BackendState::NoReadyEndpoints {
                ready_under_other_port_names: 1,
                ..
            }
        ),
        "{state:?}"
    );
    assert!(state.describe().contains("another port name"));
    // Slices of other Services are not ours.
    let mut foreign = slice("https", json!([{"addresses": ["10.1.0.9"]}]));
    foreign["metadata"]["labels"]["kubernetes.io/service-name"] = json!("other");
    assert!(matches!(
        judge(&client(443), Some(&service()), &[foreign], &[]),
        BackendState::NoReadyEndpoints { slices: 0, .. }
    ));
}

#[test]
fn headless_and_external_name_services() {
    let mut headless = service();
    headless["spec"]["clusterIP"] = json!("None");
    let slices = [slice("https", json!([{"addresses": ["10.1.0.5"]}]))];
    let state = judge(&client(443), Some(&headless), &slices, &[]);
    assert!(
        matches!(&state, BackendState::Unroutable { reason } if reason.contains("headless")),
        "{state:?}"
    );
    let mut external = service();
    external["spec"] = json!({"type": "ExternalName", "externalName": "example.com"});
    assert!(matches!(
        judge(&client(443), Some(&external), &[], &[]),
        BackendState::Unroutable { .. }
    ));
}

#[test]
fn url_targets() {
    let t = url_target("https://127.0.0.1:9443/validate").unwrap();
    assert_eq!(
        (
            t.host.as_str(),
            t.port,
            t.path.as_str(),
            t.loopback,
            t.cluster_internal
        ),
        ("127.0.0.1", 9443, "/validate", true, false)
    );
    let t = url_target("https://ccp-webhook.aks.svc.cluster.local.:8443/node").unwrap();
    assert!(t.cluster_internal && !t.loopback);
    let t = url_target("https://policy.example.com").unwrap();
    assert_eq!(
        (t.port, t.path.as_str(), t.loopback, t.cluster_internal),
        (443, "/", false, false)
    );
    let t = url_target("https://[::1]:8443/x").unwrap();
    assert!(t.loopback && t.port == 8443 && t.host == "::1");
    assert!(url_target("https://localhost/").unwrap().loopback);
    assert_eq!(url_target("ftp://x"), None);
    assert_eq!(url_target("https://:443/"), None);
    assert!(matches!(
        judge(&ClientConfig::Url("https://a.svc/".into()), None, &[], &[]),
        BackendState::Url(UrlTarget {
            cluster_internal: true,
            ..
        })
    ));
    assert!(matches!(
        judge(&ClientConfig::Url("nope".into()), None, &[], &[]),
        BackendState::Unknown { .. }
    ));
}

#[test]
fn replacement_pods_carry_the_selector_labels() {
    let labels = backend_pod_labels(Some(&service()), &[]);
    assert_eq!(
        labels
            .get("app.kubernetes.io/component")
            .map(String::as_str),
        Some("admission-controller")
    );
    let labels = backend_pod_labels(Some(&service()), &[pod("a", true, 0, None)]);
    assert!(labels.contains_key("pod-template-hash"));
    assert!(backend_pod_labels(None, &[]).is_empty());
}
