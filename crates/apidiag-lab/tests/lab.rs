//! The lab itself, against the shared lab of this test binary (no scenarios are
//! applied here, so it is also the "healthy cluster" these tests check).

// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use apidiag_lab::kubeconfig::{self, ClientOptions};
use apidiag_lab::{Scenario, shared};
use common::{audit_events, kubectl, unique};
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use k8s_openapi::api::flowcontrol::v1::FlowSchema;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::Api;
use kube::api::{ListParams, PostParams};

#[tokio::test]
async fn version_is_the_pinned_release() {
    let lab = shared();
    let version: serde_json::Value =
        serde_json::from_str(&lab.get_text("/version").await.unwrap()).unwrap();
    assert_eq!(version["gitVersion"], apidiag_lab::k8s_version());
    assert_eq!(version["gitVersion"], lab.k8s_version());
    eprintln!("shared lab: {} ({})", lab.server(), lab.startup());
    assert!(lab.server().starts_with("https://127.0.0.1:"));
}

#[test]
fn kubectl_admin_creates_and_lists_a_configmap() {
    let lab = shared();
    let name = unique("kubectl-cm");
    let (ok, _, err) = kubectl(
        lab.admin_kubeconfig(),
        &[
            "create",
            "configmap",
            &name,
            "-n",
            "default",
            "--from-literal=hello=world",
        ],
    );
    assert!(ok, "create failed: {err}");
    let (ok, out, err) = kubectl(
        lab.admin_kubeconfig(),
        &["get", "configmaps", "-n", "default", "-o", "name"],
    );
    assert!(ok, "list failed: {err}");
    assert!(
        out.lines().any(|l| l == format!("configmap/{name}")),
        "{out}"
    );
}

#[test]
fn kubectl_user_is_confined_to_team_a() {
    let lab = shared();
    let (ok, _, err) = kubectl(
        lab.user_kubeconfig(),
        &["get", "configmaps", "--all-namespaces"],
    );
    assert!(!ok, "cluster-wide list should be denied");
    assert!(
        err.contains("Forbidden") || err.contains("forbidden"),
        "{err}"
    );
    let (ok, _, err) = kubectl(lab.user_kubeconfig(), &["get", "pods", "-n", "default"]);
    assert!(
        !ok && err.contains("forbidden"),
        "other namespaces are denied: {err}"
    );
    // Its default namespace is team-a, where it may list and create.
    let (ok, _, err) = kubectl(lab.user_kubeconfig(), &["get", "pods"]);
    assert!(ok, "listing pods in team-a: {err}");
    let name = unique("user-cm");
    let (ok, _, err) = kubectl(
        lab.user_kubeconfig(),
        &["create", "configmap", &name, "--from-literal=a=b"],
    );
    assert!(ok, "creating a ConfigMap in team-a: {err}");
    let (ok, _, err) = kubectl(lab.user_kubeconfig(), &["delete", "configmap", &name]);
    assert!(
        !ok && err.contains("forbidden"),
        "delete is not granted: {err}"
    );
}

#[tokio::test]
async fn every_request_is_audited_with_its_user_agent() {
    let lab = shared();
    let agent = unique("apidiag-lab-test/audit");
    let client = kubeconfig::client(
        lab.admin_kubeconfig(),
        ClientOptions {
            user_agent: Some(&agent),
            no_retry: true,
        },
    )
    .await
    .unwrap();
    let name = unique("audited");
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({ "metadata": { "name": name } })).unwrap();
    api.create(&PostParams::default(), &cm).await.unwrap();
    api.list(&ListParams::default().limit(1)).await.unwrap();

    // Blocking audit mode: the events are on disk before the responses arrive.
    let events = audit_events(lab.audit_log());
    let ours: Vec<_> = events
        .iter()
        .filter(|e| e["userAgent"] == agent.as_str())
        .collect();
    assert!(
        ours.iter().any(|e| e["verb"] == "create"
            && e["objectRef"]["name"] == name.as_str()
            && e["responseStatus"]["code"] == 201
            && e["user"]["username"] == "lab-admin"
            && e["level"] == "Metadata"),
        "no create event for {name} in {}",
        lab.audit_log().display()
    );
    assert!(ours.iter().any(|e| e["verb"] == "list"), "no list event");
}

#[tokio::test]
async fn storage_metrics_are_exposed() {
    let lab = shared();
    let client = lab.admin_client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({ "metadata": { "name": unique("metrics") } }))
            .unwrap();
    api.create(&PostParams::default(), &cm).await.unwrap();
    // The lab polls etcd every 5 s for these (upstream: 30 s / 1 min).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = lab.get_text("/metrics").await.unwrap();
        let size = metrics
            .lines()
            .any(|l| l.starts_with("apiserver_storage_size_bytes{"));
        let count = metrics.lines().any(|l| {
            (l.starts_with("apiserver_resource_objects{")
                || l.starts_with("apiserver_storage_objects{"))
                && l.contains("resource=\"configmaps\"")
        });
        if size && count {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "storage metrics missing after 30s (size: {size}, configmaps count: {count})"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn controller_manager_runs() {
    let lab = shared();
    assert!(lab.has_controller_manager());
    let components: Vec<_> = lab.pids().into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        components,
        ["etcd", "kube-apiserver", "kube-controller-manager"]
    );
    // It publishes the root CA into every namespace, e.g. team-a.
    let client = lab.admin_client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client, "team-a");
    let mut found = false;
    for _ in 0..100 {
        if api.get_opt("kube-root-ca.crt").await.unwrap().is_some() {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(found, "kube-root-ca.crt not published in team-a");
}

/// A lab with no scenario applied contains none of their objects.
#[tokio::test]
async fn a_healthy_lab_has_no_faults() {
    let lab = shared();
    let client = lab.admin_client().await.unwrap();
    let labelled = ListParams::default().labels(apidiag_lab::scenario::SCENARIO_LABEL);
    let namespaces = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    for s in Scenario::ALL {
        for ns in s.namespaces() {
            if *ns != "kube-system" {
                assert!(
                    namespaces
                        .items
                        .iter()
                        .all(|n| n.metadata.name.as_deref() != Some(*ns)),
                    "{ns} exists"
                );
            }
        }
    }
    assert!(
        Api::<Pod>::all(client.clone())
            .list(&labelled)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        Api::<ConfigMap>::all(client.clone())
            .list(&labelled)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        Api::<ValidatingWebhookConfiguration>::all(client.clone())
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let schemas = Api::<FlowSchema>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(schemas.items.iter().all(|f| {
        !f.metadata
            .name
            .as_deref()
            .unwrap_or_default()
            .contains("lab-")
            && !f
                .metadata
                .name
                .as_deref()
                .unwrap_or_default()
                .starts_with("aks-")
    }));
    let apiservices = Api::<APIService>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    for a in &apiservices.items {
        let available = a
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| {
                c.iter()
                    .any(|c| c.type_ == "Available" && c.status == "True")
            });
        assert!(
            available,
            "APIService {:?} is not available",
            a.metadata.name
        );
    }
}
