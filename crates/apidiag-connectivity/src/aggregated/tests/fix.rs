//! The delete plan: built from the object as listed, refused otherwise.

use serde_json::json;

use apidiag_core::finding::Severity;
use apidiag_core::remediation::Action;

use super::*;
use crate::aggregated::plan_delete;

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

    // The condition still says ServiceNotFound, but the Service read just now exists.
    let back = collected(
        vec![apiservice(
            METRICS_SERVER,
            "False",
            "ServiceNotFound",
            "…",
            json!({}),
        )],
        Some(backend_with_pods()),
    );
    assert_eq!(
        plan_delete(&back, &[METRICS_SERVER.to_string()]).unwrap_err(),
        "`v1beta1.metrics.k8s.io` is not orphaned: its Service kube-system/metrics-server exists (read just now); repair its backend instead (`kubectl apidiag connectivity` shows the runbook's evidence)"
    );
    let found = judged(&back);
    assert_eq!(
        ids(&found),
        [(
            "connectivity.apiservice.service-not-found",
            Severity::Critical
        )]
    );
}
