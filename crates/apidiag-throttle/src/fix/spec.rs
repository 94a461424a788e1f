//! What the user asks to throttle: who (subjects), which calls (resource rules),
//! and how hard (a target in seats, queue or reject).
//!
//! The helpers turn what an audit log shows into the narrowest rules that still
//! cover it (§3 of the research: subjects and rules exactly as observed), so the
//! rest of the client's traffic, and everybody else's, stays where it is.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::matching::SERVICE_ACCOUNT_PREFIX;

/// A FlowSchema subject.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    User(String),
    Group(String),
    /// `name` `*` is every service account of the namespace.
    ServiceAccount {
        namespace: String,
        name: String,
    },
}

/// Why a subject given on the command line cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error(
        "`{0}` is not a service account: give it as NAMESPACE/NAME (e.g. default/my-app, or kube-system/* for all of a namespace)"
    )]
    ServiceAccount(String),
}

impl Subject {
    /// `--service-account NAMESPACE/NAME`; the username form
    /// `system:serviceaccount:NAMESPACE:NAME` is accepted too, as audit logs print it.
    pub fn parse_service_account(text: &str) -> Result<Subject, SpecError> {
        let text = text.trim();
        let parts = match text.strip_prefix(SERVICE_ACCOUNT_PREFIX) {
            Some(rest) => rest.split_once(':'),
            None => text.split_once('/'),
        };
        match parts {
            Some((namespace, name))
                if !namespace.is_empty()
                    && !name.is_empty()
                    && !name.contains(['/', ':'])
                    && !namespace.contains(['/', ':']) =>
            {
                Ok(Subject::ServiceAccount {
                    namespace: namespace.into(),
                    name: name.into(),
                })
            }
            _ => Err(SpecError::ServiceAccount(text.into())),
        }
    }

    /// The subject for a username from an audit log: a service account when it
    /// authenticates as one, else that exact user.
    pub fn from_username(user: &str) -> Subject {
        if user.starts_with(SERVICE_ACCOUNT_PREFIX)
            && let Ok(subject) = Subject::parse_service_account(user)
        {
            return subject;
        }
        Subject::User(user.into())
    }

    /// `service account default/bad`, `user alice`, `group team-a`.
    pub fn describe(&self) -> String {
        match self {
            Subject::User(name) => format!("user {name}"),
            Subject::Group(name) => format!("group {name}"),
            Subject::ServiceAccount { namespace, name } if name == "*" => {
                format!("every service account of namespace {namespace}")
            }
            Subject::ServiceAccount { namespace, name } => {
                format!("service account {namespace}/{name}")
            }
        }
    }

    /// The subject as a FlowSchema spells it.
    pub fn to_value(&self) -> Value {
        match self {
            Subject::User(name) => json!({"kind": "User", "user": {"name": name}}),
            Subject::Group(name) => json!({"kind": "Group", "group": {"name": name}}),
            Subject::ServiceAccount { namespace, name } => json!({
                "kind": "ServiceAccount",
                "serviceAccount": {"namespace": namespace, "name": name}
            }),
        }
    }
}

/// A FlowSchema resource rule. `namespaces` may be empty when `cluster_scope` is set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ResourceRule {
    pub verbs: Vec<String>,
    /// `""` is the core group.
    pub api_groups: Vec<String>,
    /// With subresources: `pods/log`.
    pub resources: Vec<String>,
    pub namespaces: Vec<String>,
    /// Also namespace-less requests: cluster-scoped objects and cluster-wide LISTs.
    pub cluster_scope: bool,
}

impl ResourceRule {
    /// The rule as a FlowSchema spells it.
    pub fn to_value(&self) -> Value {
        let mut rule = json!({
            "verbs": self.verbs,
            "apiGroups": self.api_groups,
            "resources": self.resources,
            "clusterScope": self.cluster_scope,
        });
        // The API omits an empty list; the server rejects a rule with neither.
        if !self.namespaces.is_empty() {
            rule["namespaces"] = json!(self.namespaces);
        }
        rule
    }
}

/// The throttle the user asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleRequest {
    pub subjects: Vec<Subject>,
    pub rules: Vec<ResourceRule>,
    /// How many of the server's seats the throttled calls may hold at once.
    pub target_seats: u32,
    /// Answer calls beyond the cap with 429 at once instead of queueing them.
    pub reject: bool,
    /// Why, in a few words (the evidence): kept in the `apidiag.io/reason` annotation.
    pub reason: Option<String>,
    /// The groups of `User` subjects, when known (the audit log's `user.groups`).
    /// A user without an entry may be in any group a FlowSchema names, and is
    /// sampled so (see `samples`).
    pub user_groups: std::collections::BTreeMap<String, Vec<String>>,
}

/// One call seen in an audit log, as APF classifies it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObservedCall {
    pub verb: String,
    /// `""` for the core group.
    pub api_group: String,
    /// With the subresource: `pods/log`.
    pub resource: String,
    /// `None` for cluster-scoped objects and cluster-wide LISTs.
    pub namespace: Option<String>,
}

/// The fewest resource rules that cover the calls without matching a verb,
/// group or resource the calls did not use.
///
/// Per (API group, resource) the verbs and namespaces seen are collected
/// (`clusterScope` when a namespace-less call was seen); resources of one group
/// with the same verbs and namespaces share a rule. Groups never share a rule:
/// `apiGroups × resources` would also match, say, `apps/pods`. The one widening
/// left is verbs × namespaces of one resource: `list` seen in `a` and `get` in `b`
/// also cover `get` in `a`. Output is sorted, so the same calls give the same rules.
pub fn rules_from_calls(calls: &[ObservedCall]) -> Vec<ResourceRule> {
    #[derive(Default)]
    struct Seen {
        verbs: BTreeSet<String>,
        namespaces: BTreeSet<String>,
        cluster_scope: bool,
    }
    let mut per_resource: BTreeMap<(&str, &str), Seen> = BTreeMap::new();
    for call in calls {
        let seen = per_resource
            .entry((call.api_group.as_str(), call.resource.as_str()))
            .or_default();
        seen.verbs.insert(call.verb.clone());
        match call.namespace.as_deref().filter(|ns| !ns.is_empty()) {
            Some(ns) => {
                seen.namespaces.insert(ns.to_string());
            }
            None => seen.cluster_scope = true,
        }
    }
    type Shape = (String, Vec<String>, Vec<String>, bool);
    let mut shared: BTreeMap<Shape, Vec<String>> = BTreeMap::new();
    for ((group, resource), seen) in per_resource {
        let shape = (
            group.to_string(),
            seen.verbs.into_iter().collect(),
            seen.namespaces.into_iter().collect(),
            seen.cluster_scope,
        );
        shared.entry(shape).or_default().push(resource.to_string());
    }
    shared
        .into_iter()
        .map(
            |((group, verbs, namespaces, cluster_scope), resources)| ResourceRule {
                verbs,
                api_groups: vec![group],
                resources,
                namespaces,
                cluster_scope,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(verb: &str, group: &str, resource: &str, ns: Option<&str>) -> ObservedCall {
        ObservedCall {
            verb: verb.into(),
            api_group: group.into(),
            resource: resource.into(),
            namespace: ns.map(str::to_string),
        }
    }

    #[test]
    fn service_accounts_parse_from_both_spellings() {
        let sa = |ns: &str, n: &str| Subject::ServiceAccount {
            namespace: ns.into(),
            name: n.into(),
        };
        assert_eq!(
            Subject::parse_service_account("default/bad"),
            Ok(sa("default", "bad"))
        );
        assert_eq!(
            Subject::parse_service_account("kube-system/*"),
            Ok(sa("kube-system", "*"))
        );
        assert_eq!(
            Subject::parse_service_account("system:serviceaccount:ns:n"),
            Ok(sa("ns", "n"))
        );
        for bad in [
            "bad",
            "/bad",
            "ns/",
            "a/b/c",
            "system:serviceaccount:ns",
            "",
        ] {
            let err = Subject::parse_service_account(bad).unwrap_err();
            assert!(err.to_string().contains("NAMESPACE/NAME"), "{bad}: {err}");
        }
    }

    #[test]
    fn usernames_become_subjects() {
        assert_eq!(
            Subject::from_username("system:serviceaccount:default:bad"),
            Subject::ServiceAccount {
                namespace: "default".into(),
                name: "bad".into()
            }
        );
        assert_eq!(
            Subject::from_username("alice@example.com"),
            Subject::User("alice@example.com".into())
        );
        // Not a well-formed SA username: matched as the exact user it is.
        assert_eq!(
            Subject::from_username("system:serviceaccount:broken"),
            Subject::User("system:serviceaccount:broken".into())
        );
    }

    #[test]
    fn subjects_in_json_and_words() {
        let sa = Subject::ServiceAccount {
            namespace: "kube-system".into(),
            name: "*".into(),
        };
        assert_eq!(
            sa.to_value(),
            json!({"kind": "ServiceAccount", "serviceAccount": {"namespace": "kube-system", "name": "*"}})
        );
        assert_eq!(
            sa.describe(),
            "every service account of namespace kube-system"
        );
        assert_eq!(
            Subject::Group("g".into()).to_value(),
            json!({"kind": "Group", "group": {"name": "g"}})
        );
        assert_eq!(Subject::User("u".into()).describe(), "user u");
    }

    #[test]
    fn calls_become_minimal_rules() {
        let rules = rules_from_calls(&[
            call("list", "", "pods", Some("default")),
            call("list", "", "pods", Some("team-a")),
            call("watch", "", "pods", Some("default")),
            call("list", "", "configmaps", Some("default")),
            call("watch", "", "configmaps", Some("team-a")),
            call("list", "apps", "deployments", None),
            call("get", "", "pods/log", Some("default")),
        ]);
        assert_eq!(
            rules,
            vec![
                ResourceRule {
                    verbs: vec!["get".into()],
                    api_groups: vec!["".into()],
                    resources: vec!["pods/log".into()],
                    namespaces: vec!["default".into()],
                    cluster_scope: false,
                },
                ResourceRule {
                    verbs: vec!["list".into(), "watch".into()],
                    api_groups: vec!["".into()],
                    resources: vec!["configmaps".into(), "pods".into()],
                    namespaces: vec!["default".into(), "team-a".into()],
                    cluster_scope: false,
                },
                ResourceRule {
                    verbs: vec!["list".into()],
                    api_groups: vec!["apps".into()],
                    resources: vec!["deployments".into()],
                    namespaces: vec![],
                    cluster_scope: true,
                },
            ]
        );
        assert_eq!(
            rules[2].to_value(),
            json!({"verbs": ["list"], "apiGroups": ["apps"], "resources": ["deployments"], "clusterScope": true})
        );
        assert!(rules_from_calls(&[]).is_empty());
    }

    #[test]
    fn a_namespaced_and_a_cluster_wide_call_share_a_rule() {
        let rules = rules_from_calls(&[
            call("list", "", "pods", Some("default")),
            call("list", "", "pods", None),
            call("list", "", "pods", Some("")),
        ]);
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].namespaces, ["default"]);
        assert!(rules[0].cluster_scope);
    }
}
