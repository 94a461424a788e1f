//! The judgement and the fix on objects shaped as the server lists them: every
//! reason's finding, the orphan rules, the cap, and the delete plan.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use apidiag_core::finding::{Finding, Severity};
use apidiag_core::remediation::Action;

use super::collect::{Backend, Collected, Unavailability};
use super::{findings, plan_delete};

const METRICS_SERVER: &str = "v1beta1.metrics.k8s.io";

/// An APIService as `GET /apis/apiregistration.k8s.io/v1/apiservices` lists it.
fn apiservice(name: &str, status: &str, reason: &str, message: &str, labels: Value) -> Value {
    let (version, group) = name.split_once('.').unwrap();
    json!({
        "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": "4711",
            "creationTimestamp": "2026-11-30T08:00:00Z", "labels": labels},
        "spec": {"group": group, "version": version, "groupPriorityMinimum": 100, "versionPriority": 100,
            "insecureSkipTLSVerify": true,
            "service": {"namespace": "kube-system", "name": "metrics-server", "port": 443}},
        "status": {"conditions": [{"type": "Available", "status": status, "reason": reason,
            "message": message, "lastTransitionTime": "2026-12-01T09:58:00Z"}]},
    })
}

fn local(name: &str) -> Value {
    let (version, group) = name.split_once('.').unwrap();
    json!({"metadata": {"name": name, "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"}},
        "spec": {"group": group, "version": version, "groupPriorityMinimum": 17800, "versionPriority": 15},
        "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local",
            "message": "Local APIServices are always available"}]}})
}

fn service() -> Value {
    json!({"metadata": {"name": "metrics-server", "namespace": "kube-system"},
        "spec": {"type": "ClusterIP", "clusterIP": "10.0.37.4", "selector": {"k8s-app": "metrics-server"},
            "ports": [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]}})
}

fn backend_with_pods() -> Backend {
    Backend {
        service: Ok(Some(service())),
        namespace_exists: None,
        slices: Some(Ok(vec![json!({
            "metadata": {"name": "metrics-server-x7k2p", "labels": {"kubernetes.io/service-name": "metrics-server"}},
            "addressType": "IPv4",
            "ports": [{"name": "https", "port": 10250, "protocol": "TCP"}],
            "endpoints": [{"addresses": ["10.244.2.17"], "conditions": {"ready": false},
                "targetRef": {"kind": "Pod", "name": "metrics-server-5f8-q"}}],
        })])),
        pods: Some(Ok(vec![json!({
            "metadata": {"name": "metrics-server-5f8-q", "labels": {"k8s-app": "metrics-server"}},
            "status": {"phase": "Running", "containerStatuses": [{"name": "metrics-server", "ready": false,
                "restartCount": 12, "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                "state": {"running": {}}}]},
        })])),
        log: Some(super::collect::PodLog {
            pod: "metrics-server-5f8-q".into(),
            container: "metrics-server".into(),
            lines: Err("GET /api/v1/namespaces/kube-system/pods/metrics-server-5f8-q/log?... failed: 502 : dial tcp 10.224.0.5:10250: i/o timeout".into()),
        }),
        events: Some(Ok(vec![json!({
            "lastTimestamp": "2026-12-01T09:59:00Z", "count": 40, "type": "Warning", "reason": "Unhealthy",
            "involvedObject": {"kind": "Pod", "name": "metrics-server-5f8-q"},
            "message": "Readiness probe failed: HTTP probe failed with statuscode: 500",
        })])),
        policies: Some(Ok(vec![json!({
            "metadata": {"name": "allow-apiserver"},
            "spec": {"podSelector": {"matchLabels": {"k8s-app": "metrics-server"}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"ipBlock": {"cidr": "20.1.2.3/32"}}]}]},
        })])),
    }
}

fn gone_backend(namespace_exists: bool) -> Backend {
    Backend {
        service: Ok(None),
        namespace_exists: Some(namespace_exists),
        slices: None,
        pods: None,
        log: None,
        events: namespace_exists.then(|| Ok(Vec::new())),
        policies: None,
    }
}

fn collected(apiservices: Vec<Value>, backend: Option<Backend>) -> Collected {
    let mut backends = BTreeMap::new();
    if let Some(b) = backend {
        backends.insert(("kube-system".to_string(), "metrics-server".to_string()), b);
    }
    Collected {
        apiservices,
        backends,
        ..Collected::default()
    }
}

fn ids(findings: &[Finding]) -> Vec<(&str, Severity)> {
    findings
        .iter()
        .map(|f| (f.id.as_str(), f.severity))
        .collect()
}

fn judged(collected: &Collected) -> Vec<Finding> {
    findings::rungs(collected)
        .into_iter()
        .map(|r| r.finding)
        .collect()
}

fn evidence<'a>(finding: &'a Finding, label: &str) -> &'a apidiag_core::finding::Evidence {
    finding
        .evidence
        .iter()
        .find(|e| e.label == label)
        .unwrap_or_else(|| panic!("no evidence {label:?} in {:#?}", finding.evidence))
}

#[test]
fn all_available_is_one_ok_rung() {
    let c = collected(
        vec![
            local("v1.apps"),
            local("v1.batch"),
            apiservice(
                METRICS_SERVER,
                "True",
                "Passed",
                "all checks passed",
                json!({}),
            ),
        ],
        None,
    );
    let found = judged(&c);
    assert_eq!(
        ids(&found),
        [("connectivity.apiservice.available", Severity::Ok)]
    );
    assert_eq!(found[0].title, "APIServices: 3 of 3 available");
}

#[test]
fn every_reason_is_its_own_critical_finding() {
    let cases = [
        (
            "ServiceNotFound",
            "False",
            "service/metrics-server in \"kube-system\" is not present",
            "connectivity.apiservice.service-not-found",
        ),
        (
            "MissingEndpoints",
            "False",
            "endpointslices for service/metrics-server in \"kube-system\" have no addresses with port name \"https\"",
            "connectivity.apiservice.missing-endpoints",
        ),
        (
            "EndpointsNotFound",
            "False",
            "cannot find endpointslices for service/metrics-server in \"kube-system\"",
            "connectivity.apiservice.endpoints-not-found",
        ),
        (
            "FailedDiscoveryCheck",
            "False",
            "failing or missing response from https://10.244.2.17:10250/apis/metrics.k8s.io/v1beta1: Get \"https://10.244.2.17:10250/apis/metrics.k8s.io/v1beta1\": dial tcp 10.244.2.17:10250: connect: connection refused",
            "connectivity.apiservice.failed-discovery-check",
        ),
        (
            "ServicePortError",
            "False",
            "service/metrics-server in \"kube-system\" is not listening on port 443",
            "connectivity.apiservice.service-port-error",
        ),
        (
            "ServiceAccessError",
            "Unknown",
            "service/metrics-server in \"kube-system\" cannot be checked due to: the server was unable to return a response in the time allotted",
            "connectivity.apiservice.unknown",
        ),
        (
            "EndpointsAccessError",
            "Unknown",
            "service/metrics-server in \"kube-system\" cannot be checked due to: timeout",
            "connectivity.apiservice.unknown",
        ),
    ];
    for (reason, status, message, id) in cases {
        let c = collected(
            vec![apiservice(
                METRICS_SERVER,
                status,
                reason,
                message,
                json!({}),
            )],
            None,
        );
        let found = judged(&c);
        let critical: Vec<&Finding> = found
            .iter()
            .filter(|f| f.severity == Severity::Critical)
            .collect();
        assert_eq!(critical.len(), 1, "{reason}");
        let f = critical[0];
        assert_eq!(f.id, id, "{reason}");
        assert_eq!(
            f.title,
            format!("APIService v1beta1.metrics.k8s.io: unavailable ({reason})")
        );
        assert!(
            f.detail.starts_with(&format!(
                "The availability controller says Available={status}, reason {reason}: `{message}`. kubectl prints `couldn't get resource list for metrics.k8s.io/v1beta1: the server is currently unable to handle the request` on every discovery"
            )),
            "{reason}: {}",
            f.detail
        );
        assert!(
            f.detail.contains("`kubectl top` fails (`Error from server (ServiceUnavailable): the server is currently unable to handle the request (get nodes.metrics.k8s.io)`)"),
            "{reason}"
        );
        assert!(
            f.detail.ends_with("Every namespace deletion in the cluster hangs in Terminating while it is unavailable (none is stuck now)."),
            "{reason}: {}",
            f.detail
        );
        assert_eq!(
            evidence(f, "unavailable since").value,
            "2026-12-01T09:58:00Z"
        );
        // Only ServiceNotFound (with no manager label) is orphaned.
        let orphans = found
            .iter()
            .filter(|f| f.id == "connectivity.apiservice.orphaned")
            .count();
        assert_eq!(
            orphans,
            usize::from(reason == "ServiceNotFound"),
            "{reason}"
        );
    }
}

#[test]
fn the_runbook_evidence_of_a_crashing_backend() {
    let c = Collected {
        metrics: Some(BTreeMap::from([(
            METRICS_SERVER.to_string(),
            Unavailability {
                gauge: Some(1.0),
                transitions: vec![("MissingEndpoints".into(), 6.0)],
            },
        )])),
        ..collected(
            vec![apiservice(
                METRICS_SERVER,
                "False",
                "MissingEndpoints",
                "endpointslices for service/metrics-server in \"kube-system\" have no addresses with port name \"https\"",
                json!({}),
            )],
            Some(backend_with_pods()),
        )
    };
    let found = judged(&c);
    assert_eq!(
        ids(&found),
        [(
            "connectivity.apiservice.missing-endpoints",
            Severity::Critical
        )]
    );
    let f = &found[0];
    let labels: Vec<&str> = f.evidence.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "unavailable since",
            "service kube-system/metrics-server",
            "endpoint slices",
            "pods",
            "log of metrics-server-5f8-q (metrics-server)",
            "warning events in kube-system",
            "ingress network policies selecting its pods",
            "network policy note",
            "aggregator metrics (this API server replica)",
        ]
    );
    assert_eq!(
        evidence(f, "service kube-system/metrics-server").value,
        "ClusterIP 10.0.37.4, ports https:443→https, selector k8s-app=metrics-server"
    );
    assert_eq!(
        evidence(f, "endpoint slices").rows,
        [["metrics-server-x7k2p", "https:10250", "10.244.2.17", "0/1"]]
    );
    assert_eq!(
        evidence(f, "pods").rows,
        [[
            "metrics-server-5f8-q",
            "Running",
            "0/1",
            "12",
            "OOMKilled (exit 137)"
        ]]
    );
    assert_eq!(
        evidence(f, "log of metrics-server-5f8-q (metrics-server)").value,
        "could not be read: GET /api/v1/namespaces/kube-system/pods/metrics-server-5f8-q/log?... failed: 502 : dial tcp 10.224.0.5:10250: i/o timeout"
    );
    assert_eq!(
        evidence(f, "warning events in kube-system").rows,
        [[
            "2026-12-01T09:59:00Z",
            "Pod/metrics-server-5f8-q",
            "Unhealthy",
            "40",
            "Readiness probe failed: HTTP probe failed with statuscode: 500"
        ]]
    );
    assert_eq!(
        evidence(f, "ingress network policies selecting its pods").rows,
        [[
            "allow-apiserver",
            "{\"matchLabels\":{\"k8s-app\":\"metrics-server\"}}",
            "ipBlock 20.1.2.3/32"
        ]]
    );
    assert_eq!(
        evidence(f, "aggregator metrics (this API server replica)").value,
        "aggregator_unavailable_apiservice 1 (unavailable now); became unavailable MissingEndpoints 6 times since this API server started (aggregator_unavailable_apiservice_total)"
    );
    assert_eq!(
        f.next,
        [
            "kubectl get apiservice v1beta1.metrics.k8s.io -o yaml; kubectl -n kube-system get pods,endpointslices,events"
        ]
    );
}

#[test]
fn a_discovery_timeout_points_at_the_tunnel() {
    for (message, tunnel) in [
        (
            "failing or missing response from https://10.244.2.17:10250/apis/metrics.k8s.io/v1beta1: Get \"https://10.244.2.17:10250/apis/metrics.k8s.io/v1beta1\": dial tcp 10.244.2.17:10250: i/o timeout",
            true,
        ),
        (
            "failing or missing response from https://10.97.131.110:443/apis/metrics.k8s.io/v1beta1: Get \"https://10.97.131.110:443/apis/metrics.k8s.io/v1beta1\": No agent available",
            true,
        ),
        (
            "bad status from https://10.244.2.17:10250/apis/metrics.k8s.io/v1beta1: 403",
            false,
        ),
    ] {
        let c = collected(
            vec![apiservice(
                METRICS_SERVER,
                "False",
                "FailedDiscoveryCheck",
                message,
                json!({}),
            )],
            None,
        );
        let f = &judged(&c)[0];
        assert_eq!(f.id, "connectivity.apiservice.failed-discovery-check");
        let next_tunnel = f
            .next
            .iter()
            .any(|n| n.starts_with("the tunnel rungs of this report"));
        assert_eq!(next_tunnel, tunnel, "{message}");
        assert_eq!(
            f.detail.contains("`i/o timeout` or `No agent available` point at the tunnel rather than at the backend"),
            tunnel,
            "{message}"
        );
    }
}

#[test]
fn stuck_namespaces_are_named_and_groups_say_what_breaks() {
    let message = "service/prometheus-adapter in \"monitoring\" is not present";
    let mut api = apiservice(
        "v1beta1.custom.metrics.k8s.io",
        "False",
        "ServiceNotFound",
        message,
        json!({}),
    );
    api["spec"]["service"] =
        json!({"namespace": "monitoring", "name": "prometheus-adapter", "port": 443});
    let terminating = |name: &str, gv: &str| {
        json!({"metadata": {"name": name}, "status": {"phase": "Terminating", "conditions": [{
            "type": "NamespaceDeletionDiscoveryFailure", "status": "True", "reason": "DiscoveryFailed",
            "message": format!("Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: {gv}: stale GroupVersion discovery: {gv}")}]}})
    };
    let c = Collected {
        terminating: vec![
            terminating("team-a", "custom.metrics.k8s.io/v1beta1"),
            terminating("team-b", "custom.metrics.k8s.io/v1beta1"),
            terminating("team-c", "other.example.com/v1"),
            json!({"metadata": {"name": "finishing"}, "status": {"phase": "Terminating"}}),
        ],
        ..collected(vec![api], None)
    };
    let found = judged(&c);
    assert_eq!(
        ids(&found),
        [
            (
                "connectivity.apiservice.service-not-found",
                Severity::Critical
            ),
            ("connectivity.apiservice.orphaned", Severity::Warning)
        ]
    );
    assert!(
        found[0].detail.contains(
            "HorizontalPodAutoscalers on custom metrics cannot read them and stop scaling."
        )
    );
    assert!(
        found[0]
            .detail
            .ends_with("Namespace deletion waits on it: 2 stuck in Terminating (team-a, team-b)."),
        "{}",
        found[0].detail
    );
    assert_eq!(
        evidence(
            &found[0],
            "namespaces stuck in Terminating (NamespaceDeletionDiscoveryFailure)"
        )
        .value,
        "team-a, team-b"
    );
    assert_eq!(
        found[1].title,
        "APIService v1beta1.custom.metrics.k8s.io: orphaned (its Service monitoring/prometheus-adapter is gone)"
    );
    assert_eq!(found[1].remediations.len(), 1);
    assert_eq!(
        found[1].remediations[0].id,
        "connectivity.delete-apiservice"
    );
    assert_eq!(
        found[1].remediations[0].command,
        "kubectl apidiag connectivity --fix delete-apiservice --apiservice v1beta1.custom.metrics.k8s.io"
    );
}

#[test]
fn orphaned_when_the_namespace_is_gone_and_never_when_managed() {
    let stale = apiservice(METRICS_SERVER, "False", "MissingEndpoints", "…", json!({}));
    let found = judged(&collected(vec![stale.clone()], Some(gone_backend(false))));
    assert_eq!(
        ids(&found),
        [
            (
                "connectivity.apiservice.missing-endpoints",
                Severity::Critical
            ),
            ("connectivity.apiservice.orphaned", Severity::Warning)
        ]
    );
    assert_eq!(
        found[1].title,
        "APIService v1beta1.metrics.k8s.io: orphaned (its Service kube-system/metrics-server and that namespace are gone)"
    );
    assert_eq!(
        evidence(&found[0], "service kube-system/metrics-server").value,
        "not found: namespace kube-system does not exist either"
    );
    for labels in [
        json!({"kubernetes.azure.com/managedby": "aks"}),
        json!({"addonmanager.kubernetes.io/mode": "Reconcile"}),
    ] {
        let managed = apiservice(METRICS_SERVER, "False", "ServiceNotFound", "…", labels);
        let found = judged(&collected(vec![managed], Some(gone_backend(true))));
        assert_eq!(
            ids(&found),
            [(
                "connectivity.apiservice.service-not-found",
                Severity::Critical
            )]
        );
    }
}

#[test]
fn beyond_the_cap_the_backend_is_not_examined() {
    let mut c = collected(
        vec![apiservice(
            METRICS_SERVER,
            "False",
            "MissingEndpoints",
            "…",
            json!({}),
        )],
        None,
    );
    c.not_examined
        .insert(("kube-system".to_string(), "metrics-server".to_string()));
    let f = &judged(&c)[0];
    assert_eq!(
        evidence(f, "backend").value,
        "not examined: only the first 5 unavailable APIServices' Services are"
    );
}

#[test]
fn the_delete_plan_is_built_from_the_object_as_listed() {
    let orphan = apiservice(METRICS_SERVER, "False", "ServiceNotFound", "…", json!({}));
    let c = collected(
        vec![orphan.clone(), local("v1.apps")],
        Some(gone_backend(true)),
    );
    let plan = plan_delete(&c, &[METRICS_SERVER.to_string()]).unwrap();
    assert_eq!(plan.check, "connectivity");
    assert_eq!(plan.id, "connectivity.delete-apiservice");
    assert_eq!(
        plan.title,
        "delete the orphaned APIService v1beta1.metrics.k8s.io"
    );
    assert_eq!(plan.operations.len(), 1);
    let op = &plan.operations[0];
    assert_eq!(op.action, Action::Delete { propagation: None });
    assert_eq!(op.before.as_ref(), Some(&orphan));
    assert_eq!(
        op.target.path(),
        "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io"
    );
    assert_eq!(op.target.display(), "apiservice/v1beta1.metrics.k8s.io");

    assert_eq!(
        plan_delete(&c, &[]).unwrap_err(),
        "name the APIServices to delete with --apiservice NAME (the orphaned finding names them)"
    );
    assert_eq!(
        plan_delete(&c, &["v1.nothing".to_string()]).unwrap_err(),
        "no APIService named `v1.nothing` (`kubectl get apiservices` lists them)"
    );
    assert_eq!(
        plan_delete(&c, &["v1.apps".to_string()]).unwrap_err(),
        "`v1.apps` is served by kube-apiserver itself (Local): never delete it"
    );
    // One refusal refuses the whole plan: nothing is half done.
    assert!(plan_delete(&c, &[METRICS_SERVER.to_string(), "v1.apps".to_string()]).is_err());
    let broken = collected(
        vec![apiservice(
            METRICS_SERVER,
            "False",
            "MissingEndpoints",
            "…",
            json!({}),
        )],
        Some(backend_with_pods()),
    );
    assert_eq!(
        plan_delete(&broken, &[METRICS_SERVER.to_string()]).unwrap_err(),
        "`v1beta1.metrics.k8s.io` is not orphaned: its Service kube-system/metrics-server is expected to exist (reason MissingEndpoints); repair its backend instead (`kubectl apidiag connectivity` shows the runbook's evidence)"
    );
}
