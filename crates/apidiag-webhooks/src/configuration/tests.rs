use serde_json::json;

use super::*;
use crate::owner::Reconciles;

fn kyverno() -> Value {
    json!({
        "metadata": {
            "name": "kyverno-resource-validating-webhook-cfg",
            "resourceVersion": "42",
            "labels": {"webhook.kyverno.io/managed-by": "kyverno", "admissions.enforcer/disabled": "true"},
            "managedFields": [{"manager": "kyverno"}]
        },
        "webhooks": [
            {
                "name": "validate.kyverno.svc-fail",
                "clientConfig": {
                    "service": {"namespace": "kyverno", "name": "kyverno-svc", "path": "/validate/fail"},
                    "caBundle": "LS0tLS1CRUdJTg=="
                },
                "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/*"], "scope": "*"}],
                "sideEffects": "NoneOnDryRun",
                "matchConditions": [{"name": "a", "expression": "true"}]
            },
            {
                "name": "validate.kyverno.svc-ignore",
                "failurePolicy": "Ignore",
                "timeoutSeconds": 3,
                "clientConfig": {"url": "https://kyverno.example.com/validate"},
                "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]},
                "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "Namespaced"}]
            }
        ]
    })
}

#[test]
fn v1_defaults_are_fail_ten_seconds_equivalent() {
    let hooks = parse(&kyverno(), Kind::Validating, "v1").unwrap();
    assert_eq!(hooks.len(), 2);
    let fail = &hooks[0];
    assert_eq!(fail.index, 0);
    assert_eq!(fail.failure_policy, FailurePolicy::Fail);
    assert!(!fail.failure_policy_explicit);
    assert_eq!(fail.timeout_seconds, 10);
    assert!(!fail.timeout_explicit);
    assert_eq!(fail.match_policy, MatchPolicy::Equivalent);
    assert_eq!(fail.match_conditions, 1);
    assert!(fail.namespace_selector.is_empty());
    assert_eq!(
        fail.client,
        ClientConfig::Service {
            namespace: "kyverno".into(),
            name: "kyverno-svc".into(),
            port: 443,
            path: Some("/validate/fail".into())
        }
    );
    assert_eq!(fail.ca_bundle, CaBundle::Bytes(b"-----BEGIN".to_vec()));
    assert_eq!(fail.rules[0].resources, vec!["*/*"]);
    assert_eq!(fail.rules[0].scope, Scope::Any);
    assert!(fail.aks_enforcer_opt_out);
    assert_eq!(fail.owners[0].owner, "Kyverno");
    assert_eq!(fail.owners[0].reconciles, Reconciles::Configuration);
    assert_eq!(
        fail.id().to_string(),
        "validating/kyverno-resource-validating-webhook-cfg#validate.kyverno.svc-fail"
    );

    let ignore = &hooks[1];
    assert_eq!(ignore.index, 1);
    assert_eq!(ignore.failure_policy, FailurePolicy::Ignore);
    assert_eq!(ignore.timeout_seconds, 3);
    assert_eq!(
        ignore.client,
        ClientConfig::Url("https://kyverno.example.com/validate".into())
    );
    assert_eq!(ignore.ca_bundle, CaBundle::Empty);
    assert_eq!(ignore.rules[0].scope, Scope::Namespaced);
    assert!(!ignore.namespace_selector.is_empty());
}

#[test]
fn v1beta1_defaults_are_ignore_thirty_seconds_exact() {
    let hooks = parse(&kyverno(), Kind::Validating, "v1beta1").unwrap();
    assert_eq!(hooks[0].failure_policy, FailurePolicy::Ignore);
    assert_eq!(hooks[0].timeout_seconds, 30);
    assert_eq!(hooks[0].match_policy, MatchPolicy::Exact);
    // Explicit values win in either version.
    assert_eq!(hooks[1].timeout_seconds, 3);
}

#[test]
fn reinvocation_only_for_mutating() {
    let object = json!({"metadata": {"name": "m"}, "webhooks": [
        {"name": "a.example.com", "reinvocationPolicy": "IfNeeded", "clientConfig": {"url": "https://a"}}
    ]});
    assert_eq!(
        parse(&object, Kind::Mutating, "v1").unwrap()[0].reinvocation,
        Reinvocation::IfNeeded
    );
    assert_eq!(
        parse(&object, Kind::Validating, "v1").unwrap()[0].reinvocation,
        Reinvocation::Never
    );
}

#[test]
fn lists_carry_the_version_and_items_may_override() {
    let list = json!({
        "apiVersion": "admissionregistration.k8s.io/v1beta1",
        "items": [kyverno(), {"apiVersion": "admissionregistration.k8s.io/v1", "metadata": {"name": "b"}, "webhooks": [{"name": "x"}]}]
    });
    let hooks = parse_list(&list, Kind::Validating).unwrap();
    assert_eq!(hooks.len(), 3);
    assert_eq!(hooks[0].version, "v1beta1");
    assert_eq!(hooks[2].version, "v1");
    assert_eq!(hooks[2].client, ClientConfig::Missing);
    assert!(
        parse_list(&json!({"items": []}), Kind::Mutating)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn broken_objects_say_what_is_missing() {
    assert_eq!(
        parse(&json!([]), Kind::Mutating, "v1"),
        Err(ConfigurationError::NotAnObject)
    );
    assert_eq!(
        parse(&json!({"metadata": {}}), Kind::Mutating, "v1"),
        Err(ConfigurationError::NoName)
    );
    let nameless = json!({"metadata": {"name": "c"}, "webhooks": [{"clientConfig": {}}]});
    assert_eq!(
        parse(&nameless, Kind::Mutating, "v1"),
        Err(ConfigurationError::WebhookWithoutName {
            configuration: "c".into(),
            index: 0
        })
    );
    // No webhooks at all is a valid (useless) configuration.
    assert!(
        parse(&json!({"metadata": {"name": "c"}}), Kind::Mutating, "v1")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn ca_bundles_and_enforcer_flags() {
    let object = |ca: Value, meta: Value| json!({"metadata": meta, "webhooks": [{"name": "w", "clientConfig": {"url": "https://x", "caBundle": ca}}]});
    let meta = json!({"name": "c", "annotations": {"admissions.enforcer/disabled": true},
        "managedFields": [{"manager": "admissionsenforcer"}]});
    let hook = &parse(&object(json!("!!not base64"), meta), Kind::Validating, "v1").unwrap()[0];
    assert_eq!(hook.ca_bundle, CaBundle::NotBase64);
    assert!(hook.aks_enforcer_opt_out);
    assert!(hook.aks_enforcer_managed);
    let hook = &parse(
        &object(json!(""), json!({"name": "c"})),
        Kind::Validating,
        "v1",
    )
    .unwrap()[0];
    assert_eq!(hook.ca_bundle, CaBundle::Empty);
    assert!(!hook.aks_enforcer_opt_out && !hook.aks_enforcer_managed);
}

#[test]
fn static_names() {
    assert!(is_static_name("policy.static.k8s.io"));
    assert!(!is_static_name("kyverno-resource-validating-webhook-cfg"));
    assert_eq!(
        Kind::Mutating.resource_type("v1").plural,
        "mutatingwebhookconfigurations"
    );
}
