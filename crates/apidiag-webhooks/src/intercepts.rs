//! Does a webhook intercept a request? The API server's matching, in its order:
//! rules (operation, group, version, resource/subresource, scope), then the
//! namespaceSelector, then the objectSelector, then matchConditions.
//!
//! Rules follow `pkg/admission/plugin/webhook/predicates/rules/rules.go`: `*` in
//! resources is every resource without subresources, `pods/*` is pods and every
//! pods subresource, `*/*` everything. A Namespace object is cluster-scoped for
//! `scope` (`Cluster` and `*` match it, `Namespaced` does not). The namespaceSelector sees the request's namespace's labels; for a
//! Namespace object its own labels; other cluster-scoped objects (nodes) never
//! skip a webhook because of it. CEL `matchConditions` are not evaluated here, so
//! a webhook that has them is a "maybe".

use crate::configuration::{MatchPolicy, Rule, Scope, Webhook};
use crate::selector::Labels;

/// An admitted operation (reads are never sent to webhooks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// A namespace and its labels (as the namespace object carries them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub name: String,
    pub labels: Labels,
}

impl Namespace {
    /// A namespace known only by name: the labels every namespace has had since
    /// 1.22 (`kubernetes.io/metadata.name`), used when its object was not read.
    pub fn named(name: &str) -> Self {
        let mut labels = Labels::new();
        labels.insert(METADATA_NAME.into(), name.into());
        Namespace {
            name: name.into(),
            labels,
        }
    }
}

/// The label the API server sets on every namespace to its name (1.22+).
pub const METADATA_NAME: &str = "kubernetes.io/metadata.name";

/// One kind of request, as the admission chain sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKind {
    /// `""` for the core group.
    pub group: String,
    pub version: String,
    pub resource: String,
    /// `""` for the main resource, else e.g. `status`.
    pub subresource: String,
    pub operation: Operation,
    /// The request's namespace; for a Namespace object, the namespace itself;
    /// `None` for every other cluster-scoped object (so `cluster_scoped` needs no
    /// field of its own and cannot disagree with it).
    pub namespace: Option<Namespace>,
    /// The object's labels (the objectSelector sees them).
    pub object_labels: Labels,
}

impl RequestKind {
    pub fn new(group: &str, version: &str, resource: &str, operation: Operation) -> Self {
        RequestKind {
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
            subresource: String::new(),
            operation,
            namespace: None,
            object_labels: Labels::new(),
        }
    }
    pub fn subresource(mut self, subresource: &str) -> Self {
        self.subresource = subresource.into();
        self
    }
    pub fn in_namespace(mut self, namespace: Namespace) -> Self {
        self.namespace = Some(namespace);
        self
    }
    pub fn labelled(mut self, labels: Labels) -> Self {
        self.object_labels = labels;
        self
    }

    /// A Pod CREATE in `namespace` (replacement pods, konnectivity-agent, …).
    pub fn pod_create(namespace: Namespace) -> Self {
        RequestKind::new("", "v1", "pods", Operation::Create).in_namespace(namespace)
    }
    /// A Lease UPDATE in `namespace`: node heartbeats (kube-node-lease), leader
    /// election (kube-system).
    pub fn lease_update(namespace: Namespace) -> Self {
        RequestKind::new("coordination.k8s.io", "v1", "leases", Operation::Update)
            .in_namespace(namespace)
    }
    /// A kubelet's Node status UPDATE (cluster-scoped).
    pub fn node_status_update() -> Self {
        RequestKind::new("", "v1", "nodes", Operation::Update).subresource("status")
    }

    /// Whether the object is cluster-scoped (a Namespace object included).
    pub fn cluster_scoped(&self) -> bool {
        self.namespace.is_none() || self.is_namespace_object()
    }

    fn is_namespace_object(&self) -> bool {
        self.group.is_empty() && self.resource == "namespaces"
    }

    /// `pods CREATE in kube-system`, for evidence.
    pub fn describe(&self) -> String {
        let mut resource = self.resource.clone();
        if !self.subresource.is_empty() {
            resource = format!("{resource}/{}", self.subresource);
        }
        if !self.group.is_empty() {
            resource = format!("{resource}.{}", self.group);
        }
        match &self.namespace {
            Some(ns) if !self.is_namespace_object() => {
                format!("{resource} {} in {}", self.operation.as_str(), ns.name)
            }
            _ => format!("{resource} {}", self.operation.as_str()),
        }
    }
}

/// The answer to "does it intercept?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interception {
    Yes,
    No,
    /// Rules and selectors match; its CEL matchConditions decide, unseen here.
    MaybeConditions,
}

impl Interception {
    /// Yes or maybe: what a worst case (a deadlock, a budget) must count.
    pub fn possible(self) -> bool {
        self != Interception::No
    }
}

/// Whether `webhook` intercepts requests of this kind.
pub fn intercepts(webhook: &Webhook, request: &RequestKind) -> Interception {
    if !webhook
        .rules
        .iter()
        .any(|r| rule_matches(r, webhook.match_policy, request))
    {
        return Interception::No;
    }
    if !namespace_selected(webhook, request) {
        return Interception::No;
    }
    if !webhook.object_selector.matches(&request.object_labels) {
        return Interception::No;
    }
    if webhook.match_conditions > 0 {
        Interception::MaybeConditions
    } else {
        Interception::Yes
    }
}

fn namespace_selected(webhook: &Webhook, request: &RequestKind) -> bool {
    match &request.namespace {
        // Cluster-scoped and not a Namespace: the selector does not apply.
        None => true,
        Some(ns) => webhook.namespace_selector.matches(&ns.labels),
    }
}

fn any_or(items: &[String], requested: &str) -> bool {
    items.iter().any(|i| i == "*" || i == requested)
}

fn rule_matches(rule: &Rule, policy: MatchPolicy, request: &RequestKind) -> bool {
    let scope = match rule.scope {
        Scope::Any => true,
        Scope::Namespaced => !request.cluster_scoped(),
        Scope::Cluster => request.cluster_scoped(),
    };
    let operation = any_or(&rule.operations, request.operation.as_str());
    // Equivalent (the v1 default) also matches another version of the same
    // resource: the server converts the object to the version the rule names.
    // Cross-group equivalents (extensions → apps) are gone from current servers.
    // It over-reports a rule naming a version the server no longer serves (the
    // server cannot convert to it): the safe side for a blast radius.
    let version = policy == MatchPolicy::Equivalent || any_or(&rule.api_versions, &request.version);
    let resource = rule.resources.iter().any(|r| {
        let (res, sub) = r.split_once('/').unwrap_or((r.as_str(), ""));
        (res == "*" || res == request.resource) && (sub == "*" || sub == request.subresource)
    });
    scope && operation && any_or(&rule.api_groups, &request.group) && version && resource
}

/// Whether a rule catches every resource of every group (`*` or `*/*`): such a
/// webhook sees kube-system, leases and nodes unless its selectors say otherwise.
pub fn catches_all(webhook: &Webhook) -> bool {
    webhook.rules.iter().any(|r| {
        r.api_groups.iter().any(|g| g == "*")
            && r.resources.iter().any(|res| res == "*" || res == "*/*")
    })
}

/// Whether it intercepts the CREATE of its own backend's replacement pods: pods in
/// the Service's namespace with the backend's labels (the Service selector's, if
/// no pod is left to read them from). The deadlock of the guide's Cause 2.
pub fn intercepts_own_backend(
    webhook: &Webhook,
    namespace: &Namespace,
    pod_labels: &Labels,
) -> Interception {
    intercepts(
        webhook,
        &RequestKind::pod_create(namespace.clone()).labelled(pod_labels.clone()),
    )
}

/// The requests whose failure stops the cluster from healing, by what they keep
/// alive: kube-system pods (konnectivity-agent, CoreDNS), node heartbeats, leader
/// election, node status and registration. `kube_system` and `node_lease` are the namespace objects
/// as read (or [`Namespace::named`]).
pub fn critical_requests(kube_system: &Namespace, node_lease: &Namespace) -> Vec<RequestKind> {
    vec![
        RequestKind::pod_create(kube_system.clone()),
        RequestKind::new("", "v1", "pods", Operation::Update)
            .subresource("status")
            .in_namespace(kube_system.clone()),
        RequestKind::lease_update(node_lease.clone()),
        RequestKind::lease_update(kube_system.clone()),
        RequestKind::node_status_update(),
        // Node registration: new or replaced nodes join with a CREATE.
        RequestKind::new("", "v1", "nodes", Operation::Create),
    ]
}

#[cfg(test)]
mod tests;
