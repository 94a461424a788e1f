//! The findings: one per reason, the runbook's evidence, what breaks, the
//! orphan and the flapping ones.

use std::collections::BTreeMap;

use serde_json::json;

use apidiag_core::finding::{Finding, Severity};

use super::*;
use crate::aggregated::collect::{Collected, Unavailability};

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
            // What collect reads for a failing APIService: for ServiceNotFound,
            // the Service seen gone (the orphan rules need that, not the
            // condition alone).
            (reason == "ServiceNotFound").then(|| gone_backend(true)),
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
            "aggregator metrics",
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
        evidence(f, "aggregator metrics").value,
        "unavailable now (aggregator_unavailable_apiservice 1); became unavailable 6 times since this API server replica started (MissingEndpoints 6)"
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
    let mut c = Collected {
        terminating: vec![
            terminating("team-a", "custom.metrics.k8s.io/v1beta1"),
            terminating("team-b", "custom.metrics.k8s.io/v1beta1"),
            terminating("team-c", "other.example.com/v1"),
            json!({"metadata": {"name": "finishing"}, "status": {"phase": "Terminating"}}),
        ],
        ..collected(vec![api], None)
    };
    c.backends.insert(
        ("monitoring".to_string(), "prometheus-adapter".to_string()),
        gone_backend(true),
    );
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
        evidence(&found[0], "stuck namespaces").value,
        "team-a, team-b (NamespaceDeletionDiscoveryFailure)"
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
fn available_but_flapping_is_a_warning_with_its_count() {
    let c = Collected {
        metrics: Some(BTreeMap::from([
            (
                METRICS_SERVER.to_string(),
                Unavailability {
                    gauge: Some(0.0),
                    transitions: vec![
                        ("FailedDiscoveryCheck".into(), 4.0),
                        ("MissingEndpoints".into(), 1.0),
                    ],
                },
            ),
            (
                "v1.apps".to_string(),
                Unavailability {
                    gauge: Some(0.0),
                    transitions: Vec::new(),
                },
            ),
        ])),
        ..collected(
            vec![
                local("v1.apps"),
                apiservice(
                    METRICS_SERVER,
                    "True",
                    "Passed",
                    "all checks passed",
                    json!({}),
                ),
            ],
            None,
        )
    };
    let found = judged(&c);
    assert_eq!(
        ids(&found),
        [
            ("connectivity.apiservice.available", Severity::Ok),
            ("connectivity.apiservice.flapping", Severity::Warning)
        ]
    );
    assert_eq!(
        found[1].title,
        "APIService v1beta1.metrics.k8s.io: available now, unavailable 5 times since this API server started"
    );
    assert_eq!(
        evidence(&found[1], "aggregator metrics").value,
        "available now (aggregator_unavailable_apiservice 0); became unavailable 5 times since this API server replica started (FailedDiscoveryCheck 4, MissingEndpoints 1)"
    );
}
