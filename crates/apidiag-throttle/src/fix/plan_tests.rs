//! `plan` against the bootstrap objects: the guide's Solution 5b case and the cases
//! where Solution 5b's precedence 1000 never applies.

use serde_json::{Value, json};

use apidiag_core::flowcontrol::FlowControlApi;
use apidiag_core::remediation::Action;

use super::fixtures::{bootstrap_levels, bootstrap_schemas, request};
use super::*;

fn v1() -> FlowControlApi {
    FlowControlApi {
        version: "v1".into(),
    }
}

fn sa(ns: &str, n: &str) -> Subject {
    Subject::ServiceAccount {
        namespace: ns.into(),
        name: n.into(),
    }
}

fn list_pods(namespaces: &[&str], cluster_scope: bool) -> ResourceRule {
    ResourceRule {
        verbs: vec!["list".into()],
        api_groups: vec!["".into()],
        resources: vec!["pods".into()],
        namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
        cluster_scope,
    }
}

fn throttle(subject: Subject, rule: ResourceRule, seats: u32) -> ThrottleRequest {
    ThrottleRequest {
        subjects: vec![subject],
        rules: vec![rule],
        target_seats: seats,
        reject: false,
        reason: Some("list pods 40/s, 12 MiB each".into()),
        user_groups: Default::default(),
    }
}

fn planned(request: &ThrottleRequest) -> ThrottlePlan {
    plan(
        request,
        &bootstrap_schemas(),
        &bootstrap_levels(),
        &v1(),
        None,
    )
    .expect("planned")
}

fn created(plan: &ThrottlePlan, index: usize) -> Value {
    match &plan.plan.operations[index].action {
        Action::Create { object, .. } => object.clone(),
        other => panic!("expected a create, got {other:?}"),
    }
}

#[test]
fn solution_5b_default_namespace_service_account() {
    let req = throttle(sa("default", "bad"), list_pods(&["default"], false), 12);
    let p = planned(&req);
    assert_eq!(p.precedence, 8999);
    assert_eq!(
        p.caught_by,
        [(
            "system:serviceaccount:default:bad list pods in default".to_string(),
            "service-accounts".to_string(),
            9000
        )]
    );
    assert_eq!(
        (p.shares, p.effective_seats, p.total_shares, p.server_seats),
        (5, 12, 245, 600)
    );
    assert!(p.server_seats_assumed);
    assert_eq!(p.plan.id, "throttle.flowschema");
    assert_eq!(p.plan.check, "throttle");

    // The level first, then the schema.
    let level = created(&p, 0);
    let schema = created(&p, 1);
    assert_eq!(
        p.plan.operations[0].target.display(),
        format!("prioritylevelconfiguration/{}", p.priority_level_name)
    );
    assert_eq!(
        p.plan.operations[1].target.display(),
        format!("flowschema/{}", p.flow_schema_name)
    );
    assert!(p.plan.operations.iter().all(|o| o.before.is_none()));
    assert_eq!(
        level,
        json!({
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
            "kind": "PriorityLevelConfiguration",
            "metadata": {
                "name": p.priority_level_name,
                "labels": {"apidiag.io/generated": "true"},
                "annotations": {
                    "apidiag.io/subject": "service account default/bad",
                    "apidiag.io/reason": "list pods 40/s, 12 MiB each"
                }
            },
            "spec": {"type": "Limited", "limited": {
                "nominalConcurrencyShares": 5,
                "lendablePercent": 0,
                "borrowingLimitPercent": 0,
                "limitResponse": {"type": "Queue", "queuing": {"queues": 1, "handSize": 1, "queueLengthLimit": 50}}
            }}
        })
    );
    assert_eq!(
        schema["spec"],
        json!({
            "priorityLevelConfiguration": {"name": p.priority_level_name},
            "matchingPrecedence": 8999,
            "distinguisherMethod": {"type": "ByUser"},
            "rules": [{
                "subjects": [{"kind": "ServiceAccount", "serviceAccount": {"namespace": "default", "name": "bad"}}],
                "resourceRules": [{"verbs": ["list"], "apiGroups": [""], "resources": ["pods"], "namespaces": ["default"], "clusterScope": false}]
            }]
        })
    );

    // Verification: with the new objects the offender lands in the new schema,
    // and another service account of the namespace does not.
    let mut after = bootstrap_schemas();
    after.push(schema);
    let groups: Vec<String> = [
        "system:serviceaccounts",
        "system:serviceaccounts:default",
        "system:authenticated",
    ]
    .map(String::from)
    .to_vec();
    let offender = request(
        "system:serviceaccount:default:bad",
        &groups,
        "list",
        "",
        "pods",
        Some("default"),
    );
    assert_eq!(
        first_match(&after, &offender).map(matching::name),
        Some(p.flow_schema_name.as_str())
    );
    let neighbour = request(
        "system:serviceaccount:default:good",
        &groups,
        "list",
        "",
        "pods",
        Some("default"),
    );
    assert_eq!(
        first_match(&after, &neighbour).map(matching::name),
        Some("service-accounts")
    );

    let text = p.describe();
    for needle in [
        "FlowSchema service-accounts (precedence 9000)",
        "precedence 8999",
        "5 shares = 12 seats of the server's 600",
        "not 5 concurrent calls",
        "borrowingLimitPercent 0",
        "Queue",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
}

#[test]
fn a_kube_system_service_account_goes_before_900() {
    let req = throttle(sa("kube-system", "metrics-agent"), list_pods(&[], true), 12);
    let p = planned(&req);
    assert_eq!(p.precedence, 899);
    assert_eq!(p.caught_by[0].1, "kube-system-service-accounts");
}

#[test]
fn lease_updates_of_a_kube_system_service_account_go_before_100() {
    let mut rule = list_pods(&["kube-system"], false);
    rule.verbs = vec!["list".into(), "update".into()];
    rule.api_groups = vec!["coordination.k8s.io".into()];
    rule.resources = vec!["leases".into()];
    let p = planned(&throttle(sa("kube-system", "my-operator"), rule, 12));
    assert_eq!(p.precedence, 99);
    assert!(p.caught_by.iter().any(|c| c.1 == "system-leader-election"));
    assert!(
        p.caught_by
            .iter()
            .any(|c| c.1 == "kube-system-service-accounts")
    );
}

#[test]
fn a_user_goes_before_global_default() {
    let p = planned(&throttle(
        Subject::User("alice".into()),
        list_pods(&["*"], true),
        12,
    ));
    assert_eq!(p.precedence, 9899);
    assert!(p.caught_by.iter().all(|c| c.1 == "global-default"));
    // `*` is sampled in `default` (no bootstrap rule names a namespace), plus cluster-wide.
    assert_eq!(p.caught_by.len(), 2);
}

#[test]
fn a_user_caught_by_a_custom_schema_goes_before_it() {
    let mut schemas = bootstrap_schemas();
    schemas.push(json!({"metadata": {"name": "team-alice"}, "spec": {
        "priorityLevelConfiguration": {"name": "workload-high"},
        "matchingPrecedence": 500,
        "rules": [{"subjects": [{"kind": "User", "user": {"name": "alice"}}],
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": true}]}]}}));
    let req = throttle(
        Subject::User("alice".into()),
        list_pods(&["default"], false),
        12,
    );
    let p = plan(&req, &schemas, &bootstrap_levels(), &v1(), None).expect("planned");
    assert_eq!(p.precedence, 499);
    assert_eq!(p.caught_by[0].1, "team-alice");
}

#[test]
fn a_user_whose_groups_are_unknown_goes_before_schemas_of_groups_it_may_be_in() {
    // The lab's flooder: user `flooder`, group `lab:flooders`, caught at 500 by group.
    let mut schemas = bootstrap_schemas();
    schemas.push(json!({"metadata": {"name": "lab-flooder"}, "spec": {
        "priorityLevelConfiguration": {"name": "workload-low"},
        "matchingPrecedence": 500,
        "rules": [{"subjects": [{"kind": "Group", "group": {"name": "lab:flooders"}}],
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": true}]}]}}));
    let mut req = throttle(Subject::User("flooder".into()), list_pods(&["*"], true), 5);
    let unknown = plan(&req, &schemas, &bootstrap_levels(), &v1(), None).expect("planned");
    assert_eq!(unknown.precedence, 499);
    assert!(
        unknown.caught_by.iter().any(|c| c.1 == "lab-flooder"),
        "{:?}",
        unknown.caught_by
    );
    // system:nodes and system:masters are never sampled for a user: still 499, not 399.
    assert!(
        unknown.caught_by.iter().all(|c| c.2 >= 500),
        "{:?}",
        unknown.caught_by
    );

    // Known groups (from the audit log) decide exactly.
    req.user_groups
        .insert("flooder".into(), vec!["lab:flooders".into()]);
    let known = plan(&req, &schemas, &bootstrap_levels(), &v1(), None).expect("planned");
    assert_eq!(known.precedence, 499);
    req.user_groups
        .insert("flooder".into(), vec!["team-b".into()]);
    let elsewhere = plan(&req, &schemas, &bootstrap_levels(), &v1(), None).expect("planned");
    assert_eq!(elsewhere.precedence, 9899);
}

#[test]
fn a_dangling_schema_is_skipped() {
    let mut schemas = bootstrap_schemas();
    let custom = |name: &str, level: &str, dangling: &str| {
        json!({"metadata": {"name": name}, "spec": {
            "priorityLevelConfiguration": {"name": level},
            "matchingPrecedence": 300,
            "rules": [{"subjects": [{"kind": "User", "user": {"name": "alice"}}],
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"]}]}]},
            "status": {"conditions": [{"type": "Dangling", "status": dangling}]}})
    };
    // Marked dangling by the server, and one whose level is missing from the list.
    schemas.push(custom("marked", "workload-high", "True"));
    schemas.push(custom("orphan", "deleted-level", "False"));
    let req = throttle(
        Subject::User("alice".into()),
        list_pods(&["default"], false),
        12,
    );
    let p = plan(&req, &schemas, &bootstrap_levels(), &v1(), None).expect("planned");
    assert_eq!(p.precedence, 9899);
}

#[test]
fn v1beta2_writes_assured_concurrency_shares() {
    let api = FlowControlApi {
        version: "v1beta2".into(),
    };
    let mut levels = bootstrap_levels();
    for level in &mut levels {
        if let Some(limited) = level["spec"]["limited"].as_object_mut()
            && let Some(ncs) = limited.remove("nominalConcurrencyShares")
        {
            limited.insert("assuredConcurrencyShares".into(), ncs);
        }
    }
    let req = throttle(sa("default", "bad"), list_pods(&["default"], false), 12);
    let p = plan(&req, &bootstrap_schemas(), &levels, &api, None).expect("planned");
    assert_eq!(p.total_shares, 245);
    let level = created(&p, 0);
    assert_eq!(level["apiVersion"], "flowcontrol.apiserver.k8s.io/v1beta2");
    assert_eq!(level["spec"]["limited"]["assuredConcurrencyShares"], 5);
    assert!(
        level["spec"]["limited"]
            .get("nominalConcurrencyShares")
            .is_none()
    );
    // Emitted anyway; the server's dry run decides on a pre-1.26 server.
    assert_eq!(level["spec"]["limited"]["borrowingLimitPercent"], 0);
    assert_eq!(
        created(&p, 1)["apiVersion"],
        "flowcontrol.apiserver.k8s.io/v1beta2"
    );
}

#[test]
fn measured_server_seats_and_reject() {
    let mut req = throttle(sa("default", "bad"), list_pods(&["default"], false), 20);
    req.reject = true;
    req.reason = None;
    let p = plan(
        &req,
        &bootstrap_schemas(),
        &bootstrap_levels(),
        &v1(),
        Some(1200.0),
    )
    .expect("planned");
    // ceil(20 × 245 / 1180) = 5 shares; ceil(1200 × 5 / 250) = 24 seats.
    assert_eq!((p.shares, p.effective_seats, p.server_seats), (5, 24, 1200));
    assert!(!p.server_seats_assumed);
    let level = created(&p, 0);
    assert_eq!(
        level["spec"]["limited"]["limitResponse"],
        json!({"type": "Reject"})
    );
    assert!(
        level["metadata"]["annotations"]
            .get("apidiag.io/reason")
            .is_none()
    );
    assert!(
        p.describe()
            .contains("Reject: calls beyond the cap get 429 at once")
    );
}

#[test]
fn same_subjects_same_names() {
    let a = generated_name(&[sa("default", "bad"), Subject::User("alice".into())]);
    let b = generated_name(&[
        Subject::User("alice".into()),
        sa("default", "bad"),
        sa("default", "bad"),
    ]);
    assert_eq!(a, b);
    assert_ne!(a, generated_name(&[sa("default", "bad")]));
    assert_ne!(
        generated_name(&[Subject::User("x".into())]),
        generated_name(&[Subject::Group("x".into())])
    );
    assert!(
        a.starts_with("apidiag-throttle-") && a.len() == "apidiag-throttle-".len() + 10,
        "{a}"
    );
    // Pinned: a rerun by a later build must find the objects an earlier one wrote.
    assert_eq!(
        generated_name(&[sa("default", "bad")]),
        "apidiag-throttle-d1dd07243c"
    );
    let p1 = planned(&throttle(
        sa("default", "bad"),
        list_pods(&["default"], false),
        12,
    ));
    let p2 = planned(&throttle(sa("default", "bad"), list_pods(&["a"], true), 30));
    assert_eq!(p1.flow_schema_name, p2.flow_schema_name);
    assert_eq!(p1.flow_schema_name, p1.priority_level_name);
}

#[test]
fn a_rerun_patches_its_own_objects_and_ignores_them_for_precedence() {
    let first = planned(&throttle(
        sa("default", "bad"),
        list_pods(&["default"], false),
        12,
    ));
    let mut schemas = bootstrap_schemas();
    let mut levels = bootstrap_levels();
    let with_uid = |mut object: Value, uid: &str| {
        object["metadata"]["uid"] = json!(uid);
        object["metadata"]["resourceVersion"] = json!("42");
        object
    };
    levels.push(with_uid(created(&first, 0), "pl-own"));
    schemas.push(with_uid(created(&first, 1), "fs-own"));

    let mut again = throttle(sa("default", "bad"), list_pods(&["default"], false), 12);
    again.reject = true;
    let p = plan(&again, &schemas, &levels, &v1(), None).expect("planned");
    // Same precedence and shares: its own objects do not count.
    assert_eq!((p.precedence, p.shares, p.total_shares), (8999, 5, 245));
    let op = &p.plan.operations[0];
    assert_eq!(op.target.uid.as_deref(), Some("pl-own"));
    assert!(op.before.is_some());
    let Action::Patch { patch } = &op.action else {
        panic!("expected a patch: {:?}", op.action);
    };
    // Switching to Reject removes the queuing settings.
    assert_eq!(
        patch["spec"]["limited"]["limitResponse"],
        json!({"type": "Reject", "queuing": null})
    );
    assert!(matches!(p.plan.operations[1].action, Action::Patch { .. }));
}

#[test]
fn refusals() {
    let schemas = bootstrap_schemas();
    let levels = bootstrap_levels();
    let refuse =
        |req: &ThrottleRequest| plan(req, &schemas, &levels, &v1(), None).expect_err("refused");
    let ok = throttle(sa("default", "bad"), list_pods(&["default"], false), 12);

    // A system:masters credential lands in exempt; health checks in probes.
    let mut masters = ok.clone();
    masters.subjects = vec![Subject::Group("system:masters".into())];
    assert!(matches!(refuse(&masters), Refusal::ProtectedSubject { .. }));
    let mut custom = schemas.clone();
    custom.push(json!({"metadata": {"name": "early"}, "spec": {
        "priorityLevelConfiguration": {"name": "workload-high"}, "matchingPrecedence": 3,
        "rules": [{"subjects": [{"kind": "User", "user": {"name": "alice"}}],
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"]}]}]}}));
    let alice = throttle(
        Subject::User("alice".into()),
        list_pods(&["default"], false),
        12,
    );
    let err = plan(&alice, &custom, &levels, &v1(), None).expect_err("refused");
    assert_eq!(
        err,
        Refusal::Exempt {
            sample: "alice list pods in default".into(),
            flow_schema: "early".into(),
            precedence: 3
        }
    );

    for subject in [
        Subject::User("system:node:n1".into()),
        Subject::Group("system:nodes".into()),
        Subject::User("system:kube-controller-manager".into()),
        Subject::Group("system:authenticated".into()),
        Subject::User("*".into()),
    ] {
        let mut req = ok.clone();
        req.subjects.push(subject);
        assert!(matches!(refuse(&req), Refusal::ProtectedSubject { .. }));
    }

    let mut zero = ok.clone();
    zero.target_seats = 0;
    assert_eq!(refuse(&zero), Refusal::ZeroSeats);
    let mut huge = ok.clone();
    huge.target_seats = 600;
    assert_eq!(
        refuse(&huge),
        Refusal::TargetTooLarge {
            target: 600,
            server: 600
        }
    );
    let mut none = ok.clone();
    none.subjects.clear();
    assert_eq!(refuse(&none), Refusal::NoSubjects);
    let mut no_rules = ok.clone();
    no_rules.rules.clear();
    assert_eq!(refuse(&no_rules), Refusal::NoRules);
    let mut empty = ok.clone();
    empty.rules = vec![list_pods(&[], false)];
    assert!(matches!(
        refuse(&empty),
        Refusal::EmptyRule { index: 0, .. }
    ));
    assert_eq!(
        plan(&ok, &schemas, &[], &v1(), None).expect_err("refused"),
        Refusal::NoPriorityLevels
    );
    let unmatched: Vec<Value> = schemas
        .iter()
        .filter(|s| {
            matching::name(s) != "catch-all"
                && matching::name(s) != "service-accounts"
                && matching::name(s) != "global-default"
        })
        .cloned()
        .collect();
    assert!(matches!(
        plan(&ok, &unmatched, &levels, &v1(), None).expect_err("refused"),
        Refusal::Unmatched { .. }
    ));

    // An object of the generated name that apidiag did not write, or a bootstrap one.
    let name = generated_name(&ok.subjects);
    let mut taken = levels.clone();
    taken.push(json!({"metadata": {"name": name}, "spec": {"type": "Limited", "limited": {}}}));
    assert_eq!(
        plan(&ok, &schemas, &taken, &v1(), None).expect_err("refused"),
        Refusal::NotGenerated {
            kind: "PriorityLevelConfiguration",
            name: name.clone()
        }
    );
    let mut bootstrap = schemas.clone();
    bootstrap.push(
        json!({"metadata": {"name": name, "labels": {"apidiag.io/generated": "true"},
        "annotations": {"apf.kubernetes.io/autoupdate-spec": "false"}}, "spec": {}}),
    );
    assert_eq!(
        plan(&ok, &bootstrap, &levels, &v1(), None).expect_err("refused"),
        Refusal::Bootstrap {
            kind: "FlowSchema",
            name
        }
    );
}

#[test]
fn refusal_messages_say_what_to_do() {
    let text = Refusal::Exempt {
        sample: "admin list pods cluster-wide".into(),
        flow_schema: "exempt".into(),
        precedence: 1,
    }
    .to_string();
    assert!(text.contains("identity of its own"), "{text}");
    assert!(Refusal::ZeroSeats.to_string().contains("at least 1 seat"));
}
