//! The upstream API call latency SLOs (kubernetes/community
//! `sig-scalability/slos/api_call_latency.md`), mapped to audit fields:
//! P99 per cluster-day of mutating single-object calls ≤ 1 s; of read-only
//! calls ≤ 1 s for one object, ≤ 5 s in one namespace, ≤ 30 s cluster-wide.
//! Watches, connections and non-resource URLs have no SLO.
//!
//! The scope comes from `objectRef`: a name means one object, else a
//! namespace means one namespace, else the call spans the cluster (which is
//! also how a cluster-scoped resource such as nodes is judged).

use std::fmt;
use std::time::Duration;

/// What a call touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// One named object.
    Resource,
    /// A collection in one namespace.
    Namespace,
    /// Across namespaces, or a cluster-scoped collection.
    Cluster,
}

impl Scope {
    /// The scope of a call from its `objectRef` fields.
    pub fn of(namespace: &str, name: &str) -> Self {
        if !name.is_empty() {
            Self::Resource
        } else if !namespace.is_empty() {
            Self::Namespace
        } else {
            Self::Cluster
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Resource => "resource",
            Self::Namespace => "namespace",
            Self::Cluster => "cluster",
        })
    }
}

/// The SLO a call is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SloClass {
    /// create, update, patch, delete of one object: 1 s.
    Mutating,
    /// get of one object: 1 s.
    SingleObject,
    /// list in one namespace: 5 s.
    NamespaceList,
    /// list across the cluster: 30 s.
    ClusterList,
}

impl SloClass {
    /// The class of a call, `None` when no SLO covers it (watch, deletecollection,
    /// connect, non-resource URLs).
    pub fn of(verb: &str, resource: &str, scope: Scope) -> Option<Self> {
        if resource.is_empty() {
            return None;
        }
        match (verb, scope) {
            ("create", _) | ("update" | "patch" | "delete", Scope::Resource) => {
                Some(Self::Mutating)
            }
            ("get", Scope::Resource) => Some(Self::SingleObject),
            ("list", Scope::Namespace) => Some(Self::NamespaceList),
            ("list", Scope::Cluster) => Some(Self::ClusterList),
            _ => None,
        }
    }

    /// The P99 limit.
    pub fn limit(self) -> Duration {
        Duration::from_secs(match self {
            Self::Mutating | Self::SingleObject => 1,
            Self::NamespaceList => 5,
            Self::ClusterList => 30,
        })
    }
}

impl fmt::Display for SloClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Mutating => "mutating ≤1s",
            Self::SingleObject => "single object ≤1s",
            Self::NamespaceList => "namespace LIST ≤5s",
            Self::ClusterList => "cluster LIST ≤30s",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_limits() {
        let c = |verb, ns, name| SloClass::of(verb, "pods", Scope::of(ns, name));
        assert_eq!(c("get", "ns", "p"), Some(SloClass::SingleObject));
        assert_eq!(c("list", "ns", ""), Some(SloClass::NamespaceList));
        assert_eq!(c("list", "", ""), Some(SloClass::ClusterList));
        assert_eq!(c("create", "ns", ""), Some(SloClass::Mutating));
        assert_eq!(c("patch", "ns", "p"), Some(SloClass::Mutating));
        assert_eq!(c("watch", "ns", ""), None);
        assert_eq!(c("deletecollection", "ns", ""), None);
        assert_eq!(SloClass::of("get", "", Scope::Cluster), None);
        assert_eq!(SloClass::ClusterList.limit(), Duration::from_secs(30));
        assert_eq!(SloClass::Mutating.limit(), Duration::from_secs(1));
        assert_eq!(SloClass::NamespaceList.limit(), Duration::from_secs(5));
    }
}
