//! Pods left in phase `Failed` (seed 001 Solution 6: "clean up failed pods that
//! may be consuming memory", `kubectl delete pods --field-selector
//! status.phase=Failed`).
//!
//! A failed Pod stays in etcd until someone deletes it or the pod garbage collector
//! reaches its threshold (12,500 terminated Pods by default): evicted and
//! OOM-killed Pods pile up. One metadata-only LIST with the guide's field selector
//! finds them; the owner (a Job, a ReplicaSet, none) is in `ownerReferences`.

use std::collections::BTreeMap;

use apidiag_core::api::{ListPage, ListQuery, PartialObjectMetadata};
use apidiag_core::finding::{CheckReport, Evidence, Finding, Severity};

use crate::ages::AgeBuckets;
use crate::{Context, Scope, Settings, list_scoped, source_cause3, thousands, types};

/// The guide's field selector for failed Pods.
pub const FAILED: &str = "status.phase=Failed";

/// What the survey found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailedPods {
    pub scope: Option<Scope>,
    /// `(namespace, owner as kind/name or "-")` → failed Pods.
    pub groups: BTreeMap<(String, String), (u64, AgeBuckets)>,
}

impl FailedPods {
    pub fn total(&self) -> u64 {
        self.groups.values().map(|(n, _)| n).sum()
    }

    pub fn namespaces(&self) -> Vec<String> {
        let mut namespaces: Vec<String> = self.groups.keys().map(|(ns, _)| ns.clone()).collect();
        namespaces.dedup();
        namespaces
    }

    pub fn add(
        &mut self,
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        now: jiff::Timestamp,
    ) {
        let owner = meta
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
            .map_or("-".to_string(), |o| {
                format!("{}/{}", o.kind.to_lowercase(), o.name)
            });
        let entry = self
            .groups
            .entry((meta.namespace.clone().unwrap_or_default(), owner))
            .or_default();
        entry.0 += 1;
        entry
            .1
            .add(meta.creation_timestamp.as_ref().map(|t| t.0), now);
    }
}

pub async fn survey(ctx: &Context, report: &mut CheckReport) -> Option<FailedPods> {
    let now = jiff::Timestamp::now();
    let mut folded = FailedPods::default();
    let scope = list_scoped::<PartialObjectMetadata>(
        ctx,
        report,
        &types::pods(),
        &ListQuery::metadata().fields(FAILED),
        "failed Pods",
        |page| match page {
            ListPage::Items(items) => {
                for item in items {
                    folded.add(&item.metadata, now);
                }
            }
            ListPage::Restart => folded.groups.clear(),
        },
    )
    .await;
    scope.map(|scope| FailedPods {
        scope: Some(scope),
        groups: folded.groups,
    })
}

/// `etcd.failed-pods`.
pub fn finding(failed: &FailedPods, settings: &Settings) -> Finding {
    let scope = failed
        .scope
        .as_ref()
        .map_or("all namespaces".into(), Scope::describe);
    let total = failed.total();
    if total == 0 {
        return crate::ok(
            "etcd.failed-pods",
            format!("No failed Pods are kept ({scope})"),
            source_cause3(),
        );
    }
    let now = jiff::Timestamp::now();
    let severity = if total >= settings.leak_warning() {
        Severity::Warning
    } else {
        Severity::Info
    };
    let mut all = AgeBuckets::default();
    let rows = failed
        .groups
        .iter()
        .map(|((ns, owner), (n, ages))| {
            all.merge(ages);
            vec![
                ns.clone(),
                owner.clone(),
                n.to_string(),
                ages.describe(),
                ages.oldest_age(now).unwrap_or_default(),
            ]
        })
        .collect();
    let namespaces = failed.namespaces().len();
    Finding::new(
        "etcd.failed-pods",
        severity,
        format!(
            "{} failed Pod{} kept in {namespaces} namespace{}",
            thousands(total),
            if total == 1 { "" } else { "s" },
            if namespaces == 1 { "" } else { "s" }
        ),
    )
    .detail(
        "Pods that failed (errors, OOM kills, evictions) stay in etcd until deleted or until the pod garbage collector's \
         threshold (12,500 terminated Pods by default) is reached. Look at why they failed, then delete them (guide, Solution 6).",
    )
    .evidence(Evidence::new("looked for", format!("Pods with --field-selector {FAILED} ({scope})")))
    .evidence(Evidence::new("ages", all.describe()))
    .evidence(Evidence::table(
        "failed Pods by namespace and owner",
        &["namespace", "owner", "failed", "ages", "oldest"],
        rows,
    ))
    .source(source_cause3())
    .offer(
        "etcd.failed-pods",
        "delete failed Pods (all, or --older-than), backed up",
        "kubectl apidiag etcd --fix failed-pods --older-than 1d".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failed_pods_group_by_owner() {
        let now: jiff::Timestamp = "2026-06-30T00:00:00Z".parse().unwrap();
        let pod = |ns: &str, owner: Option<&str>| {
            let mut m =
                json!({"name": "p", "namespace": ns, "creationTimestamp": "2026-06-29T00:00:00Z"});
            if let Some(o) = owner {
                m["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "Job", "name": o, "uid": "u", "controller": true}]);
            }
            serde_json::from_value(m).unwrap()
        };
        let mut f = FailedPods {
            scope: Some(Scope::Cluster),
            ..Default::default()
        };
        f.add(&pod("a", None), now);
        f.add(&pod("a", None), now);
        f.add(&pod("b", Some("nightly")), now);
        assert_eq!(f.total(), 3);
        assert_eq!(f.groups[&("b".into(), "job/nightly".into())].0, 1);
        let found = finding(&f, &Settings::default());
        assert_eq!(found.severity, Severity::Info);
        assert!(
            found
                .title
                .starts_with("3 failed Pods kept in 2 namespaces"),
            "{}",
            found.title
        );
        assert_eq!(found.remediations[0].id, "etcd.failed-pods");
        assert_eq!(
            finding(
                &FailedPods {
                    scope: Some(Scope::Cluster),
                    ..Default::default()
                },
                &Settings::default()
            )
            .severity,
            Severity::Ok
        );
    }
}
