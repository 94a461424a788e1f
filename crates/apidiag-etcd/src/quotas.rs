//! Object-count ResourceQuotas where objects pile up (seed 001 Solution 3: "to
//! limit the number of objects that can be created, define object quotas").
//!
//! A namespace is covered when one of its ResourceQuotas has an object-count limit:
//! `count/<resource>` or one of the legacy names (`pods`, `configmaps`, `secrets`,
//! …). The finding names the namespaces where the diagnosis found leaked objects
//! and nothing limits them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use apidiag_core::api::{ListPage, ListQuery};
use apidiag_core::finding::{CheckReport, Evidence, Finding, Severity};

use crate::{Context, Scope, list_scoped, source_cause3, types};

/// The name of the ResourceQuota the fix creates.
pub const QUOTA_NAME: &str = "apidiag-object-count";

/// Quota keys that count objects, besides `count/*`.
const LEGACY_COUNT_KEYS: [&str; 8] = [
    "pods",
    "configmaps",
    "secrets",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "persistentvolumeclaims",
    "services.loadbalancers",
];

/// The object kinds a created quota limits: the ones that leak.
pub const LIMITED: [&str; 5] = [
    "count/jobs.batch",
    "count/pods",
    "count/configmaps",
    "count/secrets",
    "count/leases.coordination.k8s.io",
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quotas {
    pub scope: Option<Scope>,
    /// Namespace → the object-count keys its quotas limit.
    pub count_limits: BTreeMap<String, BTreeSet<String>>,
}

impl Quotas {
    pub fn covered(&self, namespace: &str) -> bool {
        self.count_limits
            .get(namespace)
            .is_some_and(|k| !k.is_empty())
    }

    pub fn add(&mut self, quota: &Value) {
        let namespace = quota["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let keys = self.count_limits.entry(namespace).or_default();
        for key in quota["spec"]["hard"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if key.starts_with("count/") || LEGACY_COUNT_KEYS.contains(&key.as_str()) {
                keys.insert(key.clone());
            }
        }
    }
}

pub async fn survey(ctx: &Context, report: &mut CheckReport) -> Option<Quotas> {
    let mut quotas = Quotas::default();
    let scope = list_scoped::<Value>(
        ctx,
        report,
        &types::resource_quotas(),
        &ListQuery::default(),
        "ResourceQuotas",
        |page| match page {
            ListPage::Items(items) => items.iter().for_each(|q| quotas.add(q)),
            ListPage::Restart => quotas.count_limits.clear(),
        },
    )
    .await?;
    quotas.scope = Some(scope);
    Some(quotas)
}

/// The ResourceQuota the fix creates in `namespace`.
pub fn manifest(namespace: &str, objects: u64) -> Value {
    let hard: serde_json::Map<String, Value> = LIMITED
        .iter()
        .map(|k| ((*k).to_string(), json!(objects.to_string())))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {
            "name": QUOTA_NAME,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "kubectl-apidiag"},
        },
        "spec": {"hard": hard},
    })
}

/// `etcd.no-object-quota`.
pub fn finding(quotas: &Quotas, bloated: &BTreeSet<String>) -> Finding {
    let uncovered: Vec<&String> = bloated.iter().filter(|ns| !quotas.covered(ns)).collect();
    if uncovered.is_empty() {
        return crate::ok(
            "etcd.no-object-quota",
            if bloated.is_empty() {
                "No namespace with piled-up objects to cap with a quota".to_string()
            } else {
                format!(
                    "Every namespace where objects pile up has an object-count quota ({})",
                    bloated.len()
                )
            },
            source_cause3(),
        );
    }
    Finding::new(
        "etcd.no-object-quota",
        Severity::Info,
        format!(
            "{} namespace{} where objects pile up ha{} no object-count ResourceQuota",
            uncovered.len(),
            if uncovered.len() == 1 { "" } else { "s" },
            if uncovered.len() == 1 { "s" } else { "ve" }
        ),
    )
    .detail(
        "An object-count quota (`count/jobs.batch`, `count/configmaps`, …) makes the API server refuse new objects past a \
         limit, so a leaking client fails in its own namespace instead of filling etcd for everyone (guide, Solution 3).",
    )
    .evidence(Evidence::new(
        "namespaces",
        uncovered.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
    ))
    .source(source_cause3())
    .offer(
        "etcd.object-quota",
        "create object-count ResourceQuotas in chosen namespaces (YAML shown first)",
        "kubectl apidiag etcd --fix object-quota --quota-objects 5000".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_object_count_limits_cover_a_namespace() {
        let mut q = Quotas::default();
        q.add(&json!({"metadata": {"namespace": "cpu-only"}, "spec": {"hard": {"requests.cpu": "4"}}}));
        q.add(&json!({"metadata": {"namespace": "counted"}, "spec": {"hard": {"count/jobs.batch": "100"}}}));
        q.add(&json!({"metadata": {"namespace": "legacy"}, "spec": {"hard": {"pods": "10"}}}));
        assert!(!q.covered("cpu-only"));
        assert!(q.covered("counted"));
        assert!(q.covered("legacy"));
        let bloated: BTreeSet<String> = ["cpu-only", "counted", "other"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let f = finding(&q, &bloated);
        assert_eq!(f.severity, Severity::Info);
        assert!(f.title.starts_with("2 namespaces"), "{}", f.title);
        assert_eq!(f.evidence[0].value, "cpu-only, other");
        assert_eq!(finding(&q, &BTreeSet::new()).severity, Severity::Ok);
    }

    #[test]
    fn the_created_quota_counts_every_leaking_kind() {
        let m = manifest("lab-jobs-a", 5000);
        assert_eq!(m["metadata"]["name"], QUOTA_NAME);
        assert_eq!(m["spec"]["hard"]["count/jobs.batch"], "5000");
        assert_eq!(m["spec"]["hard"].as_object().unwrap().len(), LIMITED.len());
    }
}
