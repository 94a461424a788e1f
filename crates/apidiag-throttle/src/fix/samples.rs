//! The requests a throttle is meant to catch, one per combination of subject,
//! verb, group, resource and namespace, so each can be classified against today's
//! FlowSchemas.
//!
//! A wildcard cannot be enumerated, but matching only ever asks whether a value
//! is in a list, so every value some FlowSchema names, plus one that none names,
//! stands for all values of that field: a lone `*` is sampled that way (for
//! namespaces the fallback is `default`; for a service-account name `*`, the
//! `default` service account). Members of a `Group` subject are unknown: the sample
//! member has no name any schema lists, so schemas that name a member's user
//! are not seen; such a member simply stays where it is (not throttled, not broken).
//!
//! A `User`'s groups come from the authenticator (certificate organisations, the
//! token's claims) and no API tells them, except the audit log. With them known
//! ([`ThrottleRequest::user_groups`]) the user is sampled in exactly those groups;
//! without, once in no group and once in each group a FlowSchema names, so a
//! schema catching the user by a group it may be in (the lab's `lab-flooder`
//! catches group `lab:flooders` at 500) is seen and the new schema precedes it.
//! That can only move the precedence earlier, which is safe: the subjects still
//! admit only this user. Groups no user of a throttle can be in are left out:
//! `system:masters` (exempt, refused), `system:nodes` (refused) and the service
//! account groups (a user is not a service account).

use std::collections::BTreeSet;

use serde_json::Value;

use super::matching::{RequestAttributes, SERVICE_ACCOUNT_PREFIX};
use super::spec::{ResourceRule, Subject, ThrottleRequest};

const AUTHENTICATED: &str = "system:authenticated";

/// Every sample request of `request`, sorted and without duplicates.
pub(crate) fn samples(request: &ThrottleRequest, schemas: &[Value]) -> Vec<RequestAttributes> {
    let mut out = BTreeSet::new();
    for subject in &request.subjects {
        for (user, groups) in identities(subject, request, schemas) {
            for rule in &request.rules {
                for (verb, api_group, resource, namespace) in targets(rule, schemas) {
                    out.insert(RequestAttributes {
                        user: user.clone(),
                        groups: groups.clone(),
                        verb,
                        api_group,
                        resource,
                        namespace,
                        non_resource_path: None,
                    });
                }
            }
        }
    }
    out.into_iter().collect()
}

/// (username, groups) as the authenticator would hand them to APF.
fn identities(
    subject: &Subject,
    request: &ThrottleRequest,
    schemas: &[Value],
) -> Vec<(String, Vec<String>)> {
    match subject {
        Subject::User(name) if name == "system:anonymous" => {
            vec![(name.clone(), vec!["system:unauthenticated".into()])]
        }
        Subject::User(name) => match request.user_groups.get(name) {
            Some(known) => {
                let mut groups: BTreeSet<String> = known.iter().cloned().collect();
                groups.insert(AUTHENTICATED.into());
                vec![(name.clone(), groups.into_iter().collect())]
            }
            None => std::iter::once(vec![AUTHENTICATED.to_string()])
                .chain(
                    groups_named(schemas)
                        .into_iter()
                        .map(|g| vec![g, AUTHENTICATED.to_string()]),
                )
                .map(|groups| (name.clone(), groups))
                .collect(),
        },
        Subject::Group(group) => vec![(
            format!("(a member of group {group})"),
            vec![group.clone(), AUTHENTICATED.into()],
        )],
        Subject::ServiceAccount { namespace, name } => {
            let names = if name == "*" {
                let mut names: BTreeSet<String> = service_accounts_named(schemas, namespace);
                names.insert("default".into());
                names.into_iter().collect()
            } else {
                vec![name.clone()]
            };
            names
                .into_iter()
                .map(|n| {
                    (
                        format!("{SERVICE_ACCOUNT_PREFIX}{namespace}:{n}"),
                        vec![
                            "system:serviceaccounts".into(),
                            format!("system:serviceaccounts:{namespace}"),
                            AUTHENTICATED.into(),
                        ],
                    )
                })
                .collect()
        }
    }
}

type Target = (String, String, String, Option<String>);

fn targets(rule: &ResourceRule, schemas: &[Value]) -> Vec<Target> {
    let verbs = expand(&rule.verbs, schemas, "verbs", "list");
    let groups = expand(&rule.api_groups, schemas, "apiGroups", "");
    let resources = expand(&rule.resources, schemas, "resources", "pods");
    let mut namespaces: Vec<Option<String>> =
        expand(&rule.namespaces, schemas, "namespaces", "default")
            .into_iter()
            .map(Some)
            .collect();
    if rule.cluster_scope {
        namespaces.push(None);
    }
    let mut out = Vec::new();
    for verb in &verbs {
        for group in &groups {
            for resource in &resources {
                for namespace in &namespaces {
                    out.push((
                        verb.clone(),
                        group.clone(),
                        resource.clone(),
                        namespace.clone(),
                    ));
                }
            }
        }
    }
    out
}

/// The listed values; for a lone `*`, every value a schema's resource rules name
/// in `field`, plus `fallback`.
fn expand(values: &[String], schemas: &[Value], field: &str, fallback: &str) -> Vec<String> {
    if values.len() != 1 || values[0] != "*" {
        return values.to_vec();
    }
    let mut named: BTreeSet<String> = resource_rules(schemas)
        .flat_map(|rule| rule[field].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .filter(|v| *v != "*")
        .map(str::to_string)
        .collect();
    named.insert(fallback.into());
    named.into_iter().collect()
}

fn resource_rules(schemas: &[Value]) -> impl Iterator<Item = &Value> {
    schemas
        .iter()
        .flat_map(|s| s["spec"]["rules"].as_array().into_iter().flatten())
        .flat_map(|r| r["resourceRules"].as_array().into_iter().flatten())
}

/// Groups some schema's subjects name that a throttled user may be in.
fn groups_named(schemas: &[Value]) -> BTreeSet<String> {
    schemas
        .iter()
        .flat_map(|s| s["spec"]["rules"].as_array().into_iter().flatten())
        .flat_map(|r| r["subjects"].as_array().into_iter().flatten())
        .filter(|s| s["kind"] == "Group")
        .filter_map(|s| s["group"]["name"].as_str())
        .filter(|g| {
            !matches!(
                *g,
                "*" | "system:masters" | "system:nodes" | AUTHENTICATED | "system:unauthenticated"
            ) && !g.starts_with("system:serviceaccounts")
        })
        .map(str::to_string)
        .collect()
}

/// Service-account names of `namespace` that some schema names.
fn service_accounts_named(schemas: &[Value], namespace: &str) -> BTreeSet<String> {
    schemas
        .iter()
        .flat_map(|s| s["spec"]["rules"].as_array().into_iter().flatten())
        .flat_map(|r| r["subjects"].as_array().into_iter().flatten())
        .filter(|s| s["kind"] == "ServiceAccount" && s["serviceAccount"]["namespace"] == namespace)
        .filter_map(|s| s["serviceAccount"]["name"].as_str())
        .filter(|n| *n != "*")
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::fixtures::bootstrap_schemas;

    fn rule(
        verbs: &[&str],
        groups: &[&str],
        resources: &[&str],
        ns: &[&str],
        cluster: bool,
    ) -> ResourceRule {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        ResourceRule {
            verbs: v(verbs),
            api_groups: v(groups),
            resources: v(resources),
            namespaces: v(ns),
            cluster_scope: cluster,
        }
    }

    fn request(subjects: Vec<Subject>, rules: Vec<ResourceRule>) -> ThrottleRequest {
        ThrottleRequest {
            subjects,
            rules,
            target_seats: 10,
            reject: false,
            reason: None,
            user_groups: Default::default(),
        }
    }

    #[test]
    fn one_sample_per_combination() {
        let req = request(
            vec![Subject::ServiceAccount {
                namespace: "default".into(),
                name: "bad".into(),
            }],
            vec![rule(
                &["list", "watch"],
                &[""],
                &["pods"],
                &["default", "a"],
                true,
            )],
        );
        let all = samples(&req, &bootstrap_schemas());
        assert_eq!(all.len(), 2 * 3);
        assert_eq!(all[0].user, "system:serviceaccount:default:bad");
        assert_eq!(
            all[0].groups,
            [
                "system:serviceaccounts",
                "system:serviceaccounts:default",
                "system:authenticated"
            ]
        );
        assert!(all.iter().any(|s| s.namespace.is_none()));
    }

    #[test]
    fn wildcards_take_every_value_a_schema_names() {
        let req = request(
            vec![Subject::User("alice".into())],
            vec![rule(&["*"], &["*"], &["*"], &["*"], false)],
        );
        let all = samples(&req, &bootstrap_schemas());
        // The leader-election rule names get/create/update leases in coordination.k8s.io.
        assert!(all.iter().any(|s| s.verb == "update"
            && s.api_group == "coordination.k8s.io"
            && s.resource == "leases"));
        assert!(
            all.iter()
                .any(|s| s.verb == "list" && s.resource == "pods" && s.api_group.is_empty())
        );
        assert!(
            all.iter()
                .all(|s| s.namespace.as_deref() == Some("default"))
        );
    }

    #[test]
    fn group_members_and_anonymous() {
        let req = request(
            vec![
                Subject::Group("team-a".into()),
                Subject::User("system:anonymous".into()),
            ],
            vec![rule(&["get"], &[""], &["pods"], &["x"], false)],
        );
        let all = samples(&req, &[]);
        assert_eq!(all.len(), 2);
        assert!(
            all.iter()
                .any(|s| s.groups == ["team-a", "system:authenticated"])
        );
        assert!(all.iter().any(|s| s.groups == ["system:unauthenticated"]));
    }

    #[test]
    fn every_service_account_of_a_namespace() {
        let schemas = vec![serde_json::json!({"spec": {"rules": [{"subjects": [
            {"kind": "ServiceAccount", "serviceAccount": {"namespace": "kube-system", "name": "endpoint-controller"}},
            {"kind": "ServiceAccount", "serviceAccount": {"namespace": "other", "name": "x"}}
        ]}]}})];
        let req = request(
            vec![Subject::ServiceAccount {
                namespace: "kube-system".into(),
                name: "*".into(),
            }],
            vec![rule(&["get"], &[""], &["pods"], &["kube-system"], false)],
        );
        let users: Vec<String> = samples(&req, &schemas)
            .into_iter()
            .map(|s| s.user)
            .collect();
        assert_eq!(
            users,
            [
                "system:serviceaccount:kube-system:default",
                "system:serviceaccount:kube-system:endpoint-controller"
            ]
        );
    }
}
