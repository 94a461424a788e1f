use apidiag_core::object::apply_merge_patch;
use apidiag_core::remediation::Action;
use serde_json::json;

use super::*;

fn kyverno() -> Value {
    json!({
        "metadata": {"name": "kyverno-resource-validating-webhook-cfg", "uid": "u1", "resourceVersion": "42",
            "labels": {"webhook.kyverno.io/managed-by": "kyverno"}},
        "webhooks": [
            {"name": "validate.kyverno.svc-fail", "failurePolicy": "Fail", "timeoutSeconds": 10,
             "clientConfig": {"service": {"namespace": "kyverno", "name": "kyverno-svc"}},
             "namespaceSelector": {"matchLabels": {"team": "a"}, "matchExpressions": [{"key": "control-plane", "operator": "NotIn", "values": ["true"]}]},
             "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/*"]}]},
            {"name": "validate.kyverno.svc-ignore", "failurePolicy": "Ignore", "timeoutSeconds": 30,
             "clientConfig": {"service": {"namespace": "kyverno", "name": "kyverno-svc"}},
             "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}]}
        ]
    })
}

fn target<'a>(object: &'a Value, webhooks: &[&str]) -> Target<'a> {
    Target {
        kind: Kind::Validating,
        version: "v1",
        object,
        webhooks: webhooks.iter().map(|s| s.to_string()).collect(),
    }
}

fn patched(plan: &Plan, object: &Value) -> Value {
    let Action::Patch { patch } = &plan.operations[0].action else {
        panic!("not a patch")
    };
    apply_merge_patch(object, patch)
}

#[test]
fn fail_open_changes_only_the_chosen_webhook_and_keeps_the_list() {
    let object = kyverno();
    let plan = plan(
        Fix::FailOpen,
        &[target(&object, &["validate.kyverno.svc-fail"])],
        FixOptions::default(),
    )
    .unwrap();
    assert_eq!(plan.id, "webhooks.fail-open");
    assert_eq!(plan.operations.len(), 1);
    let op = &plan.operations[0];
    assert_eq!(op.target.resource_version.as_deref(), Some("42"));
    assert_eq!(op.target.resource.plural, "validatingwebhookconfigurations");
    assert_eq!(op.before.as_ref(), Some(&object));
    let after = patched(&plan, &object);
    assert_eq!(after["webhooks"][0]["failurePolicy"], "Ignore");
    // The other webhook is carried unchanged: a merge patch replaces the list.
    assert_eq!(after["webhooks"][1], object["webhooks"][1]);
    assert_eq!(op.changes().len(), 1, "{:?}", op.changes());
    let warning = plan.warning.unwrap_or_default();
    assert!(
        warning.contains("Kyverno") && warning.contains("policy bypass"),
        "{warning}"
    );
}

#[test]
fn nothing_to_change_and_unknown_webhooks() {
    let object = kyverno();
    assert_eq!(
        plan(
            Fix::FailOpen,
            &[target(&object, &["validate.kyverno.svc-ignore"])],
            FixOptions::default()
        )
        .unwrap_err(),
        PlanError::NothingToChange
    );
    assert!(matches!(
        plan(
            Fix::FailOpen,
            &[target(&object, &["nope"])],
            FixOptions::default()
        ),
        Err(PlanError::UnknownWebhook { .. })
    ));
    assert_eq!(
        plan(Fix::FailOpen, &[], FixOptions::default()).unwrap_err(),
        PlanError::NoTarget
    );
}

#[test]
fn exclude_system_with_match_conditions() {
    let object = kyverno();
    let options = FixOptions {
        match_conditions: true,
    };
    let plan = plan(
        Fix::ExcludeSystem,
        &[target(&object, &["validate.kyverno.svc-fail"])],
        options,
    )
    .unwrap();
    let after = patched(&plan, &object);
    let conditions = after["webhooks"][0]["matchConditions"].as_array().unwrap();
    assert_eq!(conditions.len(), 2);
    assert!(
        conditions[0]["expression"]
            .as_str()
            .unwrap()
            .contains("leases")
    );
    assert_eq!(
        conditions[1]["expression"],
        "!(request.namespace in ['kube-system', 'kube-node-lease', 'kyverno'])"
    );
    assert_eq!(
        after["webhooks"][0]["namespaceSelector"], object["webhooks"][0]["namespaceSelector"],
        "the selector is left alone"
    );
    // Running it again changes nothing.
    let again = super::plan(
        Fix::ExcludeSystem,
        &[target(&after, &["validate.kyverno.svc-fail"])],
        options,
    );
    assert_eq!(again.unwrap_err(), PlanError::NothingToChange);
}

#[test]
fn exclude_system_with_a_namespace_selector_keeps_existing_expressions() {
    let object = kyverno();
    let plan = plan(
        Fix::ExcludeSystem,
        &[target(&object, &["validate.kyverno.svc-fail"])],
        FixOptions::default(),
    )
    .unwrap();
    let after = patched(&plan, &object);
    let selector = &after["webhooks"][0]["namespaceSelector"];
    assert_eq!(selector["matchLabels"], json!({"team": "a"}));
    assert_eq!(
        selector["matchExpressions"],
        json!([
            {"key": "control-plane", "operator": "NotIn", "values": ["true"]},
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system", "kube-node-lease", "kyverno"]}
        ])
    );
    assert!(plan.warning.unwrap_or_default().contains("cluster-scoped"));
    // A webhook without a selector gets one; an existing NotIn on the name is extended.
    let mut other = kyverno();
    other["webhooks"][1]["namespaceSelector"] = json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kyverno"]}]});
    let plan = super::plan(
        Fix::ExcludeSystem,
        &[target(&other, &["validate.kyverno.svc-ignore"])],
        FixOptions::default(),
    )
    .unwrap();
    let after = patched(&plan, &other);
    assert_eq!(
        after["webhooks"][1]["namespaceSelector"]["matchExpressions"],
        json!([{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kyverno", "kube-system", "kube-node-lease"]}])
    );
}

#[test]
fn v1beta1_objects_get_a_selector_even_when_conditions_are_served() {
    let object = kyverno();
    let t = Target {
        version: "v1beta1",
        ..target(&object, &["validate.kyverno.svc-fail"])
    };
    let plan = plan(
        Fix::ExcludeSystem,
        &[t],
        FixOptions {
            match_conditions: true,
        },
    )
    .unwrap();
    let after = patched(&plan, &object);
    assert!(after["webhooks"][0]["matchConditions"].is_null());
    assert_eq!(plan.operations[0].target.resource.version, "v1beta1");
}

#[test]
fn shorten_timeout_three_on_leases_fifteen_elsewhere() {
    let mut object = kyverno();
    // With its `team: a` selector the first webhook never sees kube-node-lease.
    let selected = plan(
        Fix::ShortenTimeout,
        &[target(&object, &["validate.kyverno.svc-fail"])],
        FixOptions::default(),
    );
    assert_eq!(selected.unwrap_err(), PlanError::NothingToChange);
    object["webhooks"][0]["namespaceSelector"] = json!(null);
    let plan = plan(
        Fix::ShortenTimeout,
        &[target(&object, &[])],
        FixOptions::default(),
    )
    .unwrap();
    let after = patched(&plan, &object);
    assert_eq!(
        after["webhooks"][0]["timeoutSeconds"], 3,
        "*/* includes leases"
    );
    assert_eq!(after["webhooks"][1]["timeoutSeconds"], 15, "pods only");
    assert!(
        plan.title
            .contains("validate.kyverno.svc-fail, validate.kyverno.svc-ignore"),
        "{}",
        plan.title
    );
}

#[test]
fn delete_the_configuration_names_the_owner() {
    let object = kyverno();
    let plan = plan(Fix::Delete, &[target(&object, &[])], FixOptions::default()).unwrap();
    assert_eq!(
        plan.operations[0].action,
        Action::Delete { propagation: None }
    );
    assert_eq!(plan.operations[0].target.uid.as_deref(), Some("u1"));
    let warning = plan.warning.unwrap_or_default();
    assert!(
        warning.contains("Kyverno reconciles this configuration and will recreate"),
        "{warning}"
    );
}

#[test]
fn platform_webhooks_are_never_edited() {
    let mut object = kyverno();
    object["metadata"]["labels"] = json!({"kubernetes.azure.com/controlPlaneWebhook": "Reconcile"});
    for fix in Fix::ALL {
        assert!(matches!(
            plan(fix, &[target(&object, &[])], FixOptions::default()),
            Err(PlanError::PlatformOwned { .. })
        ));
    }
}

#[test]
fn names_ids_and_commands() {
    for fix in Fix::ALL {
        assert_eq!(Fix::from_name(fix.name()), Some(fix));
        assert!(fix.id().starts_with("webhooks."));
    }
    assert_eq!(
        command(Fix::FailOpen, "w"),
        "kubectl apidiag webhooks --fix fail-open --webhook w"
    );
}

#[test]
fn the_aks_enforcer_is_named_when_a_selector_is_written() {
    let mut object = kyverno();
    object["metadata"]["managedFields"] = json!([{"manager": "admissionsenforcer"}]);
    let t = target(&object, &["validate.kyverno.svc-fail"]);
    let warning = plan(
        Fix::ExcludeSystem,
        std::slice::from_ref(&t),
        FixOptions::default(),
    )
    .unwrap()
    .warning
    .unwrap_or_default();
    assert!(warning.contains("admissionsenforcer"), "{warning}");
    // With matchConditions the selector is left alone, so nothing to say.
    let warning = plan(
        Fix::ExcludeSystem,
        &[t],
        FixOptions {
            match_conditions: true,
        },
    )
    .unwrap()
    .warning
    .unwrap_or_default();
    assert!(!warning.contains("admissionsenforcer"), "{warning}");
}

#[test]
fn a_platform_configuration_without_webhooks_is_still_refused() {
    let object =
        json!({"metadata": {"name": "aks", "labels": {"kubernetes.azure.com/managedby": "aks"}}});
    assert!(matches!(
        plan(Fix::Delete, &[target(&object, &[])], FixOptions::default()),
        Err(PlanError::PlatformOwned { .. })
    ));
}
