use serde_json::{Value, json};

use super::*;
use crate::configuration::{Kind, parse};

fn hook(spec: Value) -> Webhook {
    let mut spec = spec;
    spec["name"] = json!("w.example.com");
    spec["clientConfig"] = json!({"service": {"namespace": "policy", "name": "svc"}});
    let object = json!({"metadata": {"name": "c"}, "webhooks": [spec]});
    parse(&object, Kind::Validating, "v1").unwrap().remove(0)
}

fn rule(operations: &[&str], groups: &[&str], resources: &[&str], scope: &str) -> Value {
    json!({"operations": operations, "apiGroups": groups, "apiVersions": ["*"], "resources": resources, "scope": scope})
}

fn kube_system() -> Namespace {
    Namespace::named("kube-system")
}

#[test]
fn star_slash_star_catches_everything_even_subresources() {
    let w = hook(json!({"rules": [rule(&["*"], &["*"], &["*/*"], "*")]}));
    assert!(catches_all(&w));
    for request in critical_requests(&kube_system(), &Namespace::named("kube-node-lease")) {
        assert_eq!(
            intercepts(&w, &request),
            Interception::Yes,
            "{}",
            request.describe()
        );
    }
}

#[test]
fn star_is_every_resource_but_no_subresource() {
    let w = hook(json!({"rules": [rule(&["UPDATE"], &["*"], &["*"], "*")]}));
    assert!(catches_all(&w));
    assert_eq!(
        intercepts(&w, &RequestKind::lease_update(kube_system())),
        Interception::Yes
    );
    assert_eq!(
        intercepts(&w, &RequestKind::node_status_update()),
        Interception::No
    );
}

#[test]
fn pods_slash_star_is_pods_and_their_subresources() {
    // As rules.go does it: sub `*` matches the empty subresource too.
    let w = hook(json!({"rules": [rule(&["CREATE", "UPDATE"], &[""], &["pods/*"], "*")]}));
    assert!(!catches_all(&w));
    let status = RequestKind::new("", "v1", "pods", Operation::Update)
        .subresource("status")
        .in_namespace(kube_system());
    assert_eq!(intercepts(&w, &status), Interception::Yes);
    assert_eq!(
        intercepts(&w, &RequestKind::pod_create(kube_system())),
        Interception::Yes
    );
    let w = hook(json!({"rules": [rule(&["CREATE"], &[""], &["pods"], "*")]}));
    assert_eq!(intercepts(&w, &status), Interception::No);
    let scale =
        RequestKind::new("apps", "v1", "deployments", Operation::Update).subresource("scale");
    let w = hook(json!({"rules": [rule(&["*"], &["apps"], &["*/scale"], "*")]}));
    assert_eq!(intercepts(&w, &scale), Interception::Yes);
}

#[test]
fn operations_groups_and_exact_versions() {
    let w = hook(json!({"rules": [rule(&["CREATE"], &[""], &["pods"], "*")]}));
    let mut update = RequestKind::pod_create(kube_system());
    update.operation = Operation::Update;
    assert_eq!(intercepts(&w, &update), Interception::No);
    assert_eq!(
        intercepts(&w, &RequestKind::lease_update(kube_system())),
        Interception::No
    );

    let exact = |policy: &str| {
        hook(
            json!({"matchPolicy": policy, "rules": [{"operations": ["UPDATE"], "apiGroups": ["coordination.k8s.io"],
            "apiVersions": ["v1beta1"], "resources": ["leases"]}]}),
        )
    };
    let lease = RequestKind::lease_update(kube_system());
    assert_eq!(intercepts(&exact("Exact"), &lease), Interception::No);
    assert_eq!(intercepts(&exact("Equivalent"), &lease), Interception::Yes);
}

#[test]
fn scopes_and_the_namespace_object() {
    let namespaced = hook(json!({"rules": [rule(&["*"], &["*"], &["*"], "Namespaced")]}));
    let cluster = hook(json!({"rules": [rule(&["*"], &["*"], &["*"], "Cluster")]}));
    let node = RequestKind::new("", "v1", "nodes", Operation::Create);
    let ns_object =
        RequestKind::new("", "v1", "namespaces", Operation::Update).in_namespace(kube_system());
    let pod = RequestKind::pod_create(kube_system());
    assert_eq!(intercepts(&namespaced, &node), Interception::No);
    assert_eq!(intercepts(&namespaced, &ns_object), Interception::No);
    assert_eq!(intercepts(&namespaced, &pod), Interception::Yes);
    assert_eq!(intercepts(&cluster, &node), Interception::Yes);
    assert_eq!(intercepts(&cluster, &ns_object), Interception::Yes);
    assert_eq!(intercepts(&cluster, &pod), Interception::No);
}

#[test]
fn namespace_selector_excludes_kube_system_but_not_nodes() {
    let w = hook(json!({
        "rules": [rule(&["*"], &["*"], &["*/*"], "*")],
        "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]}
    }));
    assert_eq!(
        intercepts(&w, &RequestKind::pod_create(kube_system())),
        Interception::No
    );
    assert_eq!(
        intercepts(&w, &RequestKind::pod_create(Namespace::named("apps"))),
        Interception::Yes
    );
    // Cluster-scoped objects never skip a webhook because of its namespaceSelector…
    assert_eq!(
        intercepts(&w, &RequestKind::node_status_update()),
        Interception::Yes
    );
    // …except a Namespace object, judged by its own labels.
    let ns =
        RequestKind::new("", "v1", "namespaces", Operation::Update).in_namespace(kube_system());
    assert_eq!(intercepts(&w, &ns), Interception::No);
}

#[test]
fn the_aks_enforcer_selector_keeps_control_plane_namespaces_out() {
    let w = hook(json!({
        "rules": [rule(&["CREATE"], &[""], &["pods"], "*")],
        "namespaceSelector": {"matchExpressions": [
            {"key": "control-plane", "operator": "NotIn", "values": ["true"]},
            {"key": "kubernetes.azure.com/managedby", "operator": "NotIn", "values": ["aks"]}
        ]}
    }));
    let mut aks_system = Namespace::named("kube-system");
    aks_system
        .labels
        .insert("kubernetes.azure.com/managedby".into(), "aks".into());
    assert_eq!(
        intercepts(&w, &RequestKind::pod_create(aks_system)),
        Interception::No
    );
    // Without the label read from the live namespace, the answer is "yes".
    assert_eq!(
        intercepts(&w, &RequestKind::pod_create(kube_system())),
        Interception::Yes
    );
}

#[test]
fn object_selector_and_match_conditions() {
    let w = hook(json!({
        "rules": [rule(&["CREATE"], &[""], &["pods"], "*")],
        "objectSelector": {"matchLabels": {"inject": "true"}}
    }));
    let pod = RequestKind::pod_create(kube_system());
    assert_eq!(intercepts(&w, &pod), Interception::No);
    let mut labels = Labels::new();
    labels.insert("inject".into(), "true".into());
    assert_eq!(
        intercepts(&w, &pod.clone().labelled(labels)),
        Interception::Yes
    );

    let w = hook(json!({"rules": [rule(&["CREATE"], &[""], &["pods"], "*")],
        "matchConditions": [{"name": "no-leases", "expression": "true"}]}));
    assert_eq!(intercepts(&w, &pod), Interception::MaybeConditions);
    assert!(Interception::MaybeConditions.possible());
    assert!(!Interception::No.possible());
}

#[test]
fn own_backend_pods_are_pods_of_the_service_namespace_with_its_labels() {
    let w = hook(json!({
        "rules": [rule(&["CREATE"], &[""], &["pods"], "*")],
        "objectSelector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["policy"]}]}
    }));
    let mut labels = Labels::new();
    labels.insert("app".into(), "policy".into());
    let policy = Namespace::named("policy");
    assert_eq!(
        intercepts_own_backend(&w, &policy, &labels),
        Interception::No
    );
    assert_eq!(
        intercepts_own_backend(&w, &policy, &Labels::new()),
        Interception::Yes
    );
}

#[test]
fn descriptions() {
    assert_eq!(
        RequestKind::pod_create(kube_system()).describe(),
        "pods CREATE in kube-system"
    );
    assert_eq!(
        RequestKind::lease_update(Namespace::named("kube-node-lease")).describe(),
        "leases.coordination.k8s.io UPDATE in kube-node-lease"
    );
    assert_eq!(
        RequestKind::node_status_update().describe(),
        "nodes/status UPDATE"
    );
}
