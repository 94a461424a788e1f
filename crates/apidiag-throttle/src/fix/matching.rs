//! Which FlowSchema a request lands in, decided the way kube-apiserver decides it
//! (k8s.io/apiserver `pkg/util/flowcontrol/rule.go` and `FlowSchemaSequence`).
//!
//! Reproduced exactly, because the new FlowSchema's precedence is derived from the
//! answer: a difference here would put the throttle behind the schema that catches
//! the traffic today, and it would never apply.
//!
//! - A FlowSchema matches when one of its rules has a matching subject and, for a
//!   resource request, a matching resource rule (for a non-resource request, a
//!   matching non-resource rule).
//! - Verbs, API groups, resources and namespaces match exactly, or by a `*` that is
//!   the list's only member (`containsString`: a `*` beside other values is literal).
//! - A request without a namespace matches only `clusterScope: true`;
//!   `namespaces: ["*"]` does not cover it.
//! - A non-resource URL matches exactly, by `*`, or as a path prefix: the rule minus
//!   a trailing `*`, with a `/` appended when it does not end in one. So `/healthz`
//!   also matches `/healthz/etcd`, and `/apis/*` does not match `/apis`.
//! - Schemas are tried by (`matchingPrecedence`, name) ascending, 1000 when unset;
//!   a schema marked `Dangling=True` is skipped, as the server skips it.

use serde_json::Value;

/// `matchingPrecedence` when the field is unset (v1 `SetDefaults_FlowSchemaSpec`).
pub const DEFAULT_PRECEDENCE: i64 = 1000;

/// `system:serviceaccount:<namespace>:<name>` is how a service account authenticates.
pub(crate) const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// What APF looks at in a request: the authenticated user (after impersonation)
/// and the request info.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RequestAttributes {
    pub user: String,
    pub groups: Vec<String>,
    /// The APF verb (`list`, `watch`, `get`, …; for non-resource requests the
    /// lowercase HTTP method).
    pub verb: String,
    /// `""` for the core group.
    pub api_group: String,
    /// With the subresource when there is one: `pods/status`.
    pub resource: String,
    /// `None` (or empty) for cluster-scoped objects and cluster-wide LISTs.
    pub namespace: Option<String>,
    /// `Some` makes this a non-resource request (`/healthz`, `/apis`, …).
    pub non_resource_path: Option<String>,
}

impl RequestAttributes {
    /// `system:serviceaccount:default:bad list pods in default`,
    /// `alice list apps/deployments cluster-wide`, `bob get /metrics`.
    pub fn describe(&self) -> String {
        if let Some(path) = &self.non_resource_path {
            return format!("{} {} {path}", self.user, self.verb);
        }
        let resource = if self.api_group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.api_group, self.resource)
        };
        match self.namespace() {
            Some(ns) => format!("{} {} {resource} in {ns}", self.user, self.verb),
            None => format!("{} {} {resource} cluster-wide", self.user, self.verb),
        }
    }

    /// The namespace, with an empty one read as none (the server tests `len == 0`).
    fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref().filter(|ns| !ns.is_empty())
    }
}

/// `metadata.name`, or `""`.
pub fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

/// `spec.matchingPrecedence`, 1000 when unset.
pub fn precedence(schema: &Value) -> i64 {
    schema["spec"]["matchingPrecedence"]
        .as_i64()
        .unwrap_or(DEFAULT_PRECEDENCE)
}

/// Whether the server marked the schema `Dangling=True` (its priority level is
/// missing): such a schema matches nothing.
pub fn is_dangling(schema: &Value) -> bool {
    schema["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Dangling" && c["status"] == "True")
}

/// Whether one FlowSchema matches the request (precedence and danglingness aside).
pub fn matches(schema: &Value, request: &RequestAttributes) -> bool {
    items(&schema["spec"]["rules"]).any(|rule| {
        if !items(&rule["subjects"]).any(|s| subject_matches(s, request)) {
            return false;
        }
        match &request.non_resource_path {
            None => items(&rule["resourceRules"]).any(|r| resource_rule_matches(r, request)),
            Some(path) => items(&rule["nonResourceRules"]).any(|r| {
                contains(&r["verbs"], &request.verb, "*")
                    && url_matches(&r["nonResourceURLs"], path)
            }),
        }
    })
}

/// The FlowSchema the server puts the request in: the first by (precedence, name)
/// that matches, skipping dangling ones. `None` only when the list lacks the
/// mandatory `catch-all`.
pub fn first_match<'a>(schemas: &'a [Value], request: &RequestAttributes) -> Option<&'a Value> {
    schemas
        .iter()
        .filter(|schema| !is_dangling(schema) && matches(schema, request))
        .min_by(|a, b| (precedence(a), name(a)).cmp(&(precedence(b), name(b))))
}

fn subject_matches(subject: &Value, request: &RequestAttributes) -> bool {
    match subject["kind"].as_str() {
        Some("User") => subject["user"]["name"]
            .as_str()
            .is_some_and(|n| n == "*" || n == request.user),
        Some("Group") => subject["group"]["name"]
            .as_str()
            .is_some_and(|n| n == "*" || request.groups.iter().any(|g| g == n)),
        Some("ServiceAccount") => {
            let sa = &subject["serviceAccount"];
            let (Some(namespace), Some(sa_name)) = (sa["namespace"].as_str(), sa["name"].as_str())
            else {
                return false;
            };
            let Some(rest) = request.user.strip_prefix(SERVICE_ACCOUNT_PREFIX) else {
                return false;
            };
            let Some(rest) = rest.strip_prefix(namespace) else {
                return false;
            };
            let Some(user_name) = rest.strip_prefix(':') else {
                return false;
            };
            // `*` is every service account of the namespace
            // (`serviceAccountMatchesNamespace`); otherwise the whole username.
            sa_name == "*" || user_name == sa_name
        }
        _ => false,
    }
}

fn resource_rule_matches(rule: &Value, request: &RequestAttributes) -> bool {
    if !contains(&rule["verbs"], &request.verb, "*")
        || !contains(&rule["resources"], &request.resource, "*")
        || !contains(&rule["apiGroups"], &request.api_group, "*")
    {
        return false;
    }
    match request.namespace() {
        None => rule["clusterScope"].as_bool() == Some(true),
        Some(ns) => contains(&rule["namespaces"], ns, "*"),
    }
}

/// `containsString`: the value is listed, or the wildcard is the only member.
fn contains(list: &Value, value: &str, wildcard: &str) -> bool {
    let list: Vec<&str> = items(list).filter_map(Value::as_str).collect();
    (list.len() == 1 && list[0] == wildcard) || list.contains(&value)
}

fn url_matches(urls: &Value, path: &str) -> bool {
    items(urls).filter_map(Value::as_str).any(|rule| {
        if rule == "*" || rule == path {
            return true;
        }
        let mut prefix = rule.strip_suffix('*').unwrap_or(rule).to_string();
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        path.starts_with(&prefix)
    })
}

fn items(list: &Value) -> impl Iterator<Item = &Value> {
    list.as_array().into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::fixtures::{bootstrap_schemas, request};
    use serde_json::json;

    fn lands(request: &RequestAttributes) -> String {
        let schemas = bootstrap_schemas();
        first_match(&schemas, request)
            .map_or("none", name)
            .to_string()
    }

    fn sa(ns: &str, n: &str) -> (String, Vec<String>) {
        (
            format!("system:serviceaccount:{ns}:{n}"),
            vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{ns}"),
                "system:authenticated".into(),
            ],
        )
    }

    #[test]
    fn bootstrap_schemas_sort_traffic_like_the_server() {
        let (user, groups) = sa("default", "bad");
        let list_pods = request(&user, &groups, "list", "", "pods", Some("default"));
        assert_eq!(lands(&list_pods), "service-accounts");

        let (user, groups) = sa("kube-system", "coredns");
        assert_eq!(
            lands(&request(&user, &groups, "list", "", "pods", None)),
            "kube-system-service-accounts"
        );
        // Lease calls of kube-system SAs go to leader election first.
        assert_eq!(
            lands(&request(
                &user,
                &groups,
                "update",
                "coordination.k8s.io",
                "leases",
                Some("kube-system")
            )),
            "system-leader-election"
        );
        // ... but not a lease list: the rule names get, create, update.
        assert_eq!(
            lands(&request(
                &user,
                &groups,
                "list",
                "coordination.k8s.io",
                "leases",
                Some("kube-system")
            )),
            "kube-system-service-accounts"
        );

        let auth = vec!["system:authenticated".to_string()];
        assert_eq!(
            lands(&request("alice", &auth, "list", "", "pods", None)),
            "global-default"
        );
        assert_eq!(
            lands(&request(
                "system:kube-scheduler",
                &auth,
                "get",
                "",
                "pods",
                Some("a")
            )),
            "kube-scheduler"
        );
        let masters = vec!["system:masters".into(), "system:authenticated".into()];
        assert_eq!(
            lands(&request("admin", &masters, "list", "", "pods", None)),
            "exempt"
        );
        let node = vec!["system:nodes".into(), "system:authenticated".into()];
        assert_eq!(
            lands(&request(
                "system:node:n1",
                &node,
                "patch",
                "",
                "nodes/status",
                None
            )),
            "system-node-high"
        );
        assert_eq!(
            lands(&request(
                "system:node:n1",
                &node,
                "get",
                "",
                "pods",
                Some("a")
            )),
            "system-nodes"
        );
        assert_eq!(
            lands(&request(
                "system:anonymous",
                &[],
                "get",
                "",
                "pods",
                Some("a")
            )),
            "none"
        );
    }

    #[test]
    fn non_resource_urls_match_as_the_server_does() {
        let auth = vec!["system:authenticated".to_string()];
        let mut probe = request("alice", &auth, "get", "", "", None);
        probe.non_resource_path = Some("/healthz".into());
        assert_eq!(lands(&probe), "probes");
        // `/healthz` is also a prefix of its sub-paths.
        probe.non_resource_path = Some("/healthz/etcd".into());
        assert_eq!(lands(&probe), "probes");
        probe.non_resource_path = Some("/healthzz".into());
        assert_eq!(lands(&probe), "global-default");
        probe.verb = "post".into();
        probe.non_resource_path = Some("/healthz".into());
        assert_eq!(lands(&probe), "global-default");

        let urls = json!(["/apis/*", "/openapi/v2"]);
        assert!(url_matches(&urls, "/apis/apps"));
        assert!(!url_matches(&urls, "/apis"));
        assert!(url_matches(&urls, "/openapi/v2"));
        assert!(url_matches(&urls, "/openapi/v2/x"));
        assert!(!url_matches(&urls, "/openapi/v3"));
    }

    #[test]
    fn a_wildcard_counts_only_alone() {
        assert!(contains(&json!(["*"]), "list", "*"));
        assert!(!contains(&json!(["get", "*"]), "list", "*"));
        assert!(contains(&json!(["get", "list"]), "list", "*"));
        assert!(!contains(&json!([]), "list", "*"));
        assert!(!contains(&Value::Null, "list", "*"));
    }

    #[test]
    fn namespaces_and_cluster_scope() {
        let auth = vec!["system:authenticated".to_string()];
        let schema = json!({"metadata": {"name": "x"}, "spec": {"rules": [{
            "subjects": [{"kind": "User", "user": {"name": "alice"}}],
            "resourceRules": [{"verbs": ["list"], "apiGroups": [""], "resources": ["pods"], "namespaces": ["*"]}]
        }]}});
        assert!(matches(
            &schema,
            &request("alice", &auth, "list", "", "pods", Some("a"))
        ));
        // A cluster-wide LIST is not covered by namespaces ["*"].
        assert!(!matches(
            &schema,
            &request("alice", &auth, "list", "", "pods", None)
        ));
        assert!(!matches(
            &schema,
            &request("alice", &auth, "list", "", "pods", Some(""))
        ));
        assert!(!matches(
            &schema,
            &request("alice", &auth, "list", "", "pods/log", Some("a"))
        ));
        assert!(!matches(
            &schema,
            &request("bob", &auth, "list", "", "pods", Some("a"))
        ));
        assert_eq!(precedence(&schema), DEFAULT_PRECEDENCE);
    }

    #[test]
    fn service_account_subjects() {
        let subject = |ns: &str, n: &str| json!({"kind": "ServiceAccount", "serviceAccount": {"namespace": ns, "name": n}});
        let req = |user: &str| request(user, &[], "get", "", "pods", Some("a"));
        assert!(subject_matches(
            &subject("kube-system", "*"),
            &req("system:serviceaccount:kube-system:x")
        ));
        // The namespace must end at the separator: `kube` is not `kube-system`.
        assert!(!subject_matches(
            &subject("kube", "*"),
            &req("system:serviceaccount:kube-system:x")
        ));
        assert!(subject_matches(
            &subject("ns", "bad"),
            &req("system:serviceaccount:ns:bad")
        ));
        assert!(!subject_matches(
            &subject("ns", "bad"),
            &req("system:serviceaccount:ns:badder")
        ));
        assert!(!subject_matches(&subject("ns", "bad"), &req("ns:bad")));
        assert!(!subject_matches(
            &json!({"kind": "ServiceAccount"}),
            &req("system:serviceaccount:ns:bad")
        ));
        assert!(subject_matches(
            &json!({"kind": "User", "user": {"name": "*"}}),
            &req("anyone")
        ));
        assert!(subject_matches(
            &json!({"kind": "Group", "group": {"name": "*"}}),
            &req("anyone")
        ));
        assert!(!subject_matches(&json!({"kind": "Robot"}), &req("anyone")));
    }

    #[test]
    fn order_is_precedence_then_name_and_dangling_is_skipped() {
        let auth = vec!["system:authenticated".to_string()];
        let schema = |name: &str, prec: Option<i64>, dangling: bool| {
            let mut s = json!({"metadata": {"name": name}, "spec": {"rules": [{
                "subjects": [{"kind": "Group", "group": {"name": "system:authenticated"}}],
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "clusterScope": true}]
            }]}});
            if let Some(p) = prec {
                s["spec"]["matchingPrecedence"] = json!(p);
            }
            if dangling {
                s["status"] = json!({"conditions": [{"type": "Dangling", "status": "True"}]});
            }
            s
        };
        let req = request("alice", &auth, "list", "", "pods", None);
        let schemas = vec![schema("b", Some(500), false), schema("a", Some(500), false)];
        assert_eq!(first_match(&schemas, &req).map(name), Some("a"));
        let schemas = vec![schema("b", None, false), schema("a", Some(1001), false)];
        assert_eq!(first_match(&schemas, &req).map(name), Some("b"));
        let schemas = vec![schema("a", Some(5), true), schema("b", Some(500), false)];
        assert_eq!(first_match(&schemas, &req).map(name), Some("b"));
    }

    #[test]
    fn requests_in_words() {
        let r = request("alice", &[], "list", "apps", "deployments", None);
        assert_eq!(r.describe(), "alice list apps/deployments cluster-wide");
        let r = request("alice", &[], "get", "", "pods/log", Some("a"));
        assert_eq!(r.describe(), "alice get pods/log in a");
    }
}
