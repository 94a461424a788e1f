//! Objects per resource type (seed 001 Cause 3: etcd slows down when it handles
//! "more than 10,000" objects of one type). What leaks is held to that number,
//! what grows with the cluster to the cluster's size ([`crate::allowance`]).
//!
//! The counts come from the object-count metric (`apiserver_resource_objects`, or
//! `apiserver_storage_objects` on older servers): no LIST at all. Without
//! `/metrics`, each common type is counted with one `LIST ?limit=1`, whose
//! `remainingItemCount` gives the total for a few hundred bytes. For a type above
//! the threshold, the same trick per namespace says which namespaces hold it (one
//! metadata-only LIST of the type when there are too many namespaces).

use std::collections::{BTreeMap, BTreeSet};

use apidiag_core::api::{
    ACCEPT_METADATA_LIST, ApiError, ListPage, ListQuery, PartialObjectMetadata,
};
use apidiag_core::finding::{CheckReport, Evidence, Finding, Severity};
use apidiag_core::object::ResourceType;
use apidiag_metrics::{self as metrics, MetricFamilies, Quantity};

use crate::allowance::{Allowance, ClusterSize};
use crate::{Context, Settings, source_cause3, thousands, types};

/// Seed 001: "more than 10,000" objects of any type.
pub const SEED_THRESHOLD: u64 = 10_000;
/// Rows of the per-type table.
const SHOWN: usize = 15;

/// One type's count.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeCount {
    pub group: Option<String>,
    pub resource: String,
    pub count: u64,
}

impl TypeCount {
    /// From its qualified name (`jobs.batch`, `pods`), for tests.
    #[cfg(test)]
    pub(crate) fn of(qualified: &str, count: u64) -> TypeCount {
        let (resource, group) = match qualified.split_once('.') {
            Some((r, g)) => (r.to_string(), Some(g.to_string())),
            None => (qualified.to_string(), None),
        };
        TypeCount {
            group,
            resource,
            count,
        }
    }

    /// `jobs.batch`, `configmaps`.
    pub fn qualified(&self) -> String {
        match &self.group {
            Some(g) => format!("{}.{g}", self.resource),
            None => self.resource.clone(),
        }
    }
}

/// Counts per type, and how they were obtained.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectCounts {
    /// `looked for …; found …`, or how the listing counted.
    pub how: String,
    /// Whether every type is covered (metrics) or only the common ones (listing).
    pub complete: bool,
    /// Sorted by count, largest first.
    pub types: Vec<TypeCount>,
    /// For types above the threshold: objects per namespace.
    pub by_namespace: BTreeMap<String, BTreeMap<String, u64>>,
}

impl ObjectCounts {
    /// From the object-count metric; `Err` says why there are no counts: no
    /// such metric, or one without a single count above 0. A started API server
    /// always stores objects (namespaces, APIServices), so all zeros is a count
    /// taken on a fresh etcd at start-up, before those were written, and -1 is a
    /// count that failed (etcd did not answer). Either lasts until the next poll
    /// (every `--etcd-count-metric-poll-period`, 1 min by default).
    pub fn from_metrics(families: &MetricFamilies) -> Result<ObjectCounts, String> {
        let Some(found) = metrics::object_counts(families) else {
            return Err(metrics::lookup_summary(Quantity::ObjectCount, None));
        };
        let how = metrics::lookup_summary(Quantity::ObjectCount, Some(found.metric));
        let failed = found.value.iter().filter(|c| c.is_fetch_error()).count();
        let mut types: Vec<TypeCount> = found
            .value
            .iter()
            .filter(|c| !c.is_fetch_error())
            .map(|c| TypeCount {
                group: c.group.clone(),
                resource: c.resource.clone(),
                count: c.count.max(0.0) as u64,
            })
            .collect();
        types.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.qualified().cmp(&b.qualified()))
        });
        if types.iter().all(|t| t.count == 0) {
            let what = if types.is_empty() {
                "-1 (count failed) for every type"
            } else {
                "no type above 0 (counted at start-up, before any object was written)"
            };
            return Err(format!(
                "{how}, {what}; recounted every --etcd-count-metric-poll-period (1 min by default)"
            ));
        }
        Ok(ObjectCounts {
            how,
            // A type whose count failed is not in the total.
            complete: failed == 0,
            types,
            by_namespace: BTreeMap::new(),
        })
    }

    pub fn total(&self) -> u64 {
        self.types.iter().map(|t| t.count).sum()
    }

    /// The cluster's size, from these counts.
    pub fn size(&self) -> ClusterSize {
        ClusterSize::of(self)
    }

    /// Types above their limit enough for a warning (not those only worth
    /// knowing about, [`Allowance::warn_above`]).
    pub fn over<'a>(&'a self, settings: &'a Settings) -> impl Iterator<Item = &'a TypeCount> + 'a {
        let size = self.size();
        self.types.iter().filter(move |t| {
            Allowance::of(t, &size, settings.object_threshold).severity(t.count)
                >= Severity::Warning
        })
    }

    /// The type nearest to (or furthest above) where it becomes a warning, with
    /// its allowance: Pods just past the tested figure are not pressure.
    pub fn most_pressed(&self, settings: &Settings) -> Option<(&TypeCount, Allowance)> {
        let size = self.size();
        let ratio = |t: &TypeCount, a: &Allowance| t.count as f64 / a.warn_above.max(1) as f64;
        self.types
            .iter()
            .map(|t| (t, Allowance::of(t, &size, settings.object_threshold)))
            .max_by(|(a, la), (b, lb)| ratio(a, la).total_cmp(&ratio(b, lb)))
    }

    /// Namespaces that hold at least a tenth of an over-threshold type.
    pub fn bloated_namespaces(&self, settings: &Settings) -> BTreeSet<String> {
        let mut namespaces = BTreeSet::new();
        for counts in self.by_namespace.values() {
            let total: u64 = counts.values().sum();
            for (ns, n) in counts {
                if *n * 10 >= total && *n >= settings.leak_warning() {
                    namespaces.insert(ns.clone());
                }
            }
        }
        namespaces
    }
}

/// Without counts in `/metrics` (`why`): one `LIST ?limit=1` per common type,
/// read `remainingItemCount`.
pub async fn count_by_listing(ctx: &Context, report: &mut CheckReport, why: &str) -> ObjectCounts {
    let mut types = Vec::new();
    let mut denied = Vec::new();
    let mut counted = Vec::new();
    // Nodes too (cluster-scoped, so not among the common types): without them
    // nothing could be judged by the cluster's size.
    let nodes = ResourceType::new("", "v1", "nodes", "Node", false);
    for resource in types::common().into_iter().chain([nodes]) {
        let path = format!("{}?limit=1", resource.collection_path(None));
        match ctx.api.get::<serde_json::Value>(&path).await {
            Ok(page) => {
                let items = page["items"].as_array().map_or(0, Vec::len) as u64;
                let remaining = page["metadata"]["remainingItemCount"].as_u64().unwrap_or(0);
                counted.push(resource.plural.clone());
                types.push(TypeCount {
                    group: (!resource.group.is_empty()).then(|| resource.group.clone()),
                    resource: resource.plural.clone(),
                    count: items + remaining,
                });
            }
            Err(ApiError::Forbidden { .. }) => denied.push(resource.plural.clone()),
            Err(error) => denied.push(format!("{} ({})", resource.plural, error.first_line())),
        }
    }
    if !denied.is_empty() {
        report.gap(format!(
            "object counts of {} (list across all namespaces is forbidden; listed because {why})",
            denied.join(", ")
        ));
    }
    types.sort_by_key(|t| std::cmp::Reverse(t.count));
    ObjectCounts {
        how: format!(
            "{why}; counted {} common types with LIST ?limit=1 (remainingItemCount)",
            counted.len()
        ),
        complete: false,
        types,
        by_namespace: BTreeMap::new(),
    }
}

/// Up to this many namespaces, objects per namespace are counted with one
/// `LIST ?limit=1` per namespace (a few hundred bytes each, `remainingItemCount`
/// gives the rest); above it, one metadata-only LIST of the type is cheaper.
pub const PER_NAMESPACE_PROBES: usize = 200;

/// For every common type above the threshold, objects per namespace.
pub async fn break_down_by_namespace(
    ctx: &Context,
    report: &mut CheckReport,
    counts: &mut ObjectCounts,
    settings: &Settings,
) {
    let over: Vec<(TypeCount, ResourceType)> = counts
        .over(settings)
        .filter_map(|c| types::lookup(c.group.as_deref(), &c.resource).map(|t| (c.clone(), t)))
        // Completed Jobs are listed by their own survey; all Jobs need no breakdown.
        .filter(|(_, t)| !(t.plural == "jobs" && t.group == "batch"))
        .collect();
    if over.is_empty() {
        return;
    }
    let mut namespaces = Vec::new();
    let listed = ctx
        .api
        .list::<PartialObjectMetadata>("/api/v1/namespaces", &ListQuery::metadata(), |page| {
            match page {
                ListPage::Items(items) => {
                    namespaces.extend(items.into_iter().filter_map(|n| n.metadata.name))
                }
                ListPage::Restart => namespaces.clear(),
            }
        })
        .await;
    let probe = listed.is_ok() && namespaces.len() <= PER_NAMESPACE_PROBES;
    for (count, resource) in over {
        let result = if probe {
            probe_namespaces(ctx, &resource, &namespaces).await
        } else {
            list_by_namespace(ctx, &resource).await
        };
        match result {
            Ok(per_ns) => {
                counts.by_namespace.insert(count.qualified(), per_ns);
            }
            Err(error) => report.gap(format!(
                "{} per namespace ({})",
                count.qualified(),
                error.first_line()
            )),
        }
    }
}

/// One `LIST ?limit=1` per namespace, 8 at a time (the client's rate limit holds).
async fn probe_namespaces(
    ctx: &Context,
    resource: &ResourceType,
    namespaces: &[String],
) -> Result<BTreeMap<String, u64>, ApiError> {
    use futures::StreamExt;
    let api = &ctx.api;
    let results: Vec<Result<(String, u64), ApiError>> = futures::stream::iter(namespaces.to_vec())
        .map(|ns: String| async move {
            let path = format!("{}?limit=1", resource.collection_path(Some(&ns)));
            let response = api.get_raw(&path, Some(ACCEPT_METADATA_LIST)).await?;
            let page: serde_json::Value =
                serde_json::from_slice(&response.body).map_err(|e| ApiError::Decode {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            let items = page["items"].as_array().map_or(0, Vec::len) as u64;
            let remaining = page["metadata"]["remainingItemCount"].as_u64().unwrap_or(0);
            Ok((ns, items + remaining))
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut per_ns = BTreeMap::new();
    for result in results {
        let (ns, n) = result?;
        if n > 0 {
            per_ns.insert(ns, n);
        }
    }
    Ok(per_ns)
}

/// One metadata-only LIST of the type, folded page by page.
async fn list_by_namespace(
    ctx: &Context,
    resource: &ResourceType,
) -> Result<BTreeMap<String, u64>, ApiError> {
    let mut per_ns: BTreeMap<String, u64> = BTreeMap::new();
    ctx.api
        .list::<PartialObjectMetadata>(
            &resource.collection_path(None),
            &ListQuery::metadata(),
            |page| match page {
                ListPage::Items(items) => {
                    for item in items {
                        *per_ns
                            .entry(item.metadata.namespace.unwrap_or_default())
                            .or_default() += 1;
                    }
                }
                ListPage::Restart => per_ns.clear(),
            },
        )
        .await?;
    Ok(per_ns)
}

/// `etcd.object-count`.
pub fn finding(counts: &ObjectCounts, settings: &Settings) -> Finding {
    let threshold = settings.object_threshold;
    let size = counts.size();
    let judged: Vec<(&TypeCount, Allowance)> = counts
        .types
        .iter()
        .map(|t| (t, Allowance::of(t, &size, threshold)))
        .collect();
    let worst = judged
        .iter()
        .map(|(t, a)| a.severity(t.count))
        .max()
        .unwrap_or(Severity::Ok);
    // The title names the types that make the finding as bad as it is: with a
    // warning, not the ones only worth knowing about (the table flags those).
    let over: Vec<&(&TypeCount, Allowance)> = judged
        .iter()
        .filter(|(t, a)| t.count > a.limit && a.severity(t.count) >= worst.min(Severity::Warning))
        .collect();
    let total = counts.total();
    let cluster = if size.nodes == 0 {
        "its size unknown (no Node counted), so to it as well".to_string()
    } else {
        format!("to its {} nodes", thousands(size.nodes))
    };
    let title = if over.is_empty() {
        format!(
            "No resource type above its limit ({} objects{}; what leaks held to {}, what grows with the cluster {cluster})",
            thousands(total),
            if counts.complete {
                " in all"
            } else {
                " in the types counted"
            },
            thousands(threshold),
        )
    } else {
        format!(
            "{} resource type{} above {} limit: {}",
            over.len(),
            if over.len() == 1 { "" } else { "s" },
            if over.len() == 1 { "its" } else { "their" },
            over.iter()
                .map(|(t, a)| format!(
                    "{} {} (> {})",
                    t.qualified(),
                    thousands(t.count),
                    thousands(a.limit)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let rows: Vec<Vec<String>> = judged
        .iter()
        .take(SHOWN)
        .map(|(t, a)| {
            vec![
                t.qualified(),
                t.count.to_string(),
                a.limit.to_string(),
                // "threshold": `--object-threshold`, the guide's 10,000 unless changed.
                if a.rule.scales() {
                    "cluster size"
                } else {
                    "threshold"
                }
                .to_string(),
                match a.severity(t.count) {
                    Severity::Ok => String::new(),
                    Severity::Info => format!("> {} (info)", thousands(a.limit)),
                    _ => format!("> {}", thousands(a.limit)),
                },
            ]
        })
        .collect();
    // Why each shown type that is judged by the cluster's size, or is flagged,
    // got its limit.
    let rules: Vec<Vec<String>> = judged
        .iter()
        .take(SHOWN)
        .filter(|(t, a)| a.rule.scales() || t.count > a.limit)
        .map(|(t, a)| vec![t.qualified(), a.explain(&size, threshold)])
        .collect();
    let mut finding = Finding::new("etcd.object-count", worst, title)
        .evidence(Evidence::new("counted", counts.how.clone()))
        .evidence(Evidence::new("total", thousands(total)))
        .evidence(Evidence::new(
            "cluster size",
            format!("{} (from the same counts)", size.describe()),
        ))
        .evidence(Evidence::table(
            format!("objects per type (top {SHOWN})"),
            &["type", "objects", "limit", "judged by", "flag"],
            rows,
        ))
        .evidence(Evidence::table("limits", &["type", "rule"], rules))
        .source(source_cause3());
    for (qualified, per_ns) in &counts.by_namespace {
        let mut rows: Vec<(&String, &u64)> = per_ns.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1));
        finding = finding.evidence(Evidence::table(
            format!("{qualified} per namespace"),
            &["namespace", "objects"],
            rows.iter()
                .take(10)
                .map(|(ns, n)| vec![(*ns).clone(), n.to_string()])
                .collect(),
        ));
    }
    // The quotas the fix creates cap only the kinds they count (nothing
    // cluster-scoped, no Events or EndpointSlices).
    let quota_helps = judged.iter().any(|(t, a)| {
        a.severity(t.count) >= Severity::Warning
            && crate::quotas::LIMITED.contains(&format!("count/{}", t.qualified()).as_str())
    });
    if worst >= Severity::Warning {
        finding = finding
            .detail(
                "etcd and the API server's watch cache slow down when one type holds this many objects, and every LIST of it gets \
                 expensive. Delete the objects no longer used, give them a TTL or owner references so they are collected, and cap \
                 what can be created with object-count ResourceQuotas (guide, Solution 3). A type that grows with the cluster \
                 (Pods, Nodes, Leases, Events) above the limit its size allows is leaking too, or the cluster is past the scale \
                 it is tested at.",
        );
        if quota_helps {
            finding = finding.offer(
                "etcd.object-quota",
                "create object-count ResourceQuotas where objects pile up",
                "kubectl apidiag etcd --fix object-quota".into(),
            );
        }
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> ObjectCounts {
        ObjectCounts {
            how: "test".into(),
            complete: true,
            types: pairs.iter().map(|(q, n)| TypeCount::of(q, *n)).collect(),
            by_namespace: BTreeMap::new(),
        }
    }

    #[test]
    fn types_above_the_seed_threshold_are_flagged() {
        let settings = Settings::default();
        let healthy = counts(&[("configmaps", 1200), ("leases.coordination.k8s.io", 10_000)]);
        let f = finding(&healthy, &settings);
        assert_eq!(
            f.severity,
            Severity::Ok,
            "exactly 10,000 is not more than 10,000"
        );
        assert!(f.title.contains("11,200 objects in all"), "{}", f.title);

        let bloated = counts(&[("jobs.batch", 20_002), ("configmaps", 60_000), ("pods", 40)]);
        let f = finding(&bloated, &settings);
        assert_eq!(
            f.severity,
            Severity::Critical,
            "60,000 is over five times the threshold"
        );
        assert!(
            f.title.starts_with("2 resource types above their limit"),
            "{}",
            f.title
        );
        assert!(
            f.title.contains("jobs.batch 20,002 (> 10,000)"),
            "{}",
            f.title
        );
        assert_eq!(f.remediations[0].id, "etcd.object-quota");
        let table = f.evidence.iter().find(|e| !e.rows.is_empty()).unwrap();
        assert_eq!(table.rows[0][0], "jobs.batch");
        assert_eq!(table.rows[0][2], "10000");
        assert_eq!(table.rows[0][3], "threshold");
        assert_eq!(table.rows[0][4], "> 10,000");
        assert_eq!(table.rows[2][0], "pods");
        assert_eq!(table.rows[2][3], "cluster size");
        assert_eq!(table.rows[2][4], "");

        let lower = Settings {
            object_threshold: 100,
            ..Settings::default()
        };
        assert_eq!(finding(&healthy, &lower).severity, Severity::Critical);
    }

    /// The report: 5,000 Nodes and 100,000 Pods were "critical" against
    /// the flat 10,000; at the size AKS is tested at they are ordinary, while what
    /// leaks is still held to the guide's number.
    #[test]
    fn a_cluster_of_the_tested_size_is_judged_by_its_size() {
        let settings = Settings::default();
        let aks = counts(&[
            ("pods", 200_000),
            ("events", 12_000),
            ("leases.coordination.k8s.io", 5012),
            ("nodes", 5000),
            ("services", 2001),
            ("endpointslices.discovery.k8s.io", 2001),
            ("configmaps", 2100),
        ]);
        let f = finding(&aks, &settings);
        assert_eq!(f.severity, Severity::Ok, "{}", f.title);
        assert!(
            f.title.starts_with("No resource type above its limit"),
            "{}",
            f.title
        );
        assert!(f.title.contains("to its 5,000 nodes"), "{}", f.title);
        let size = f
            .evidence
            .iter()
            .find(|e| e.label == "cluster size")
            .unwrap();
        assert!(
            size.value
                .starts_with("5,000 nodes, 200,000 Pods, 2,001 Services"),
            "{}",
            size.value
        );
        let rules = f.evidence.iter().find(|e| e.label == "limits").unwrap();
        let pods = rules.rows.iter().find(|r| r[0] == "pods").unwrap();
        assert!(
            pods[1].contains("110 per node × 5,000 nodes, at most 200,000"),
            "{}",
            pods[1]
        );
        assert!(
            !rules.rows.iter().any(|r| r[0] == "configmaps"),
            "unflagged guide types need no rule row"
        );

        // Two Pods past the 200,000 AKS is tested at, on nodes with room for
        // 550,000: worth knowing, not a warning, and no per-namespace probing.
        let mut past = aks.clone();
        past.types[0].count = 200_002;
        let f = finding(&past, &settings);
        assert_eq!(f.severity, Severity::Info, "{}", f.title);
        assert!(f.title.contains("pods 200,002 (> 200,000)"), "{}", f.title);
        assert!(f.remediations.is_empty());
        assert_eq!(past.over(&settings).count(), 0);

        let mut leaking = aks.clone();
        leaking.types.push(TypeCount {
            group: None,
            resource: "secrets".into(),
            count: 20_000,
        });
        leaking.types[0].count = 230_000;
        let f = finding(&leaking, &settings);
        assert_eq!(f.severity, Severity::Warning);
        let mut mixed = past.clone();
        mixed.types.push(TypeCount {
            group: Some("batch".into()),
            resource: "jobs".into(),
            count: 22_002,
        });
        let fm = finding(&mixed, &settings);
        assert_eq!(fm.severity, Severity::Warning);
        assert!(
            fm.title
                .starts_with("1 resource type above its limit: jobs.batch 22,002"),
            "{}",
            fm.title
        );
        let table = fm
            .evidence
            .iter()
            .find(|e| e.label.starts_with("objects per type"))
            .unwrap();
        assert_eq!(table.rows[0][4], "> 200,000 (info)");
        assert!(f.title.contains("pods 230,000 (> 200,000)"), "{}", f.title);
        assert!(f.title.contains("secrets 20,000 (> 10,000)"), "{}", f.title);
        let rules = f.evidence.iter().find(|e| e.label == "limits").unwrap();
        let secrets = rules.rows.iter().find(|r| r[0] == "secrets").unwrap();
        assert!(secrets[1].contains("leaks"), "{}", secrets[1]);

        // The same 100,000 Pods on 50 nodes is 2,000 a node: a leak.
        let dense = counts(&[("pods", 100_000), ("nodes", 50)]);
        let f = finding(&dense, &settings);
        assert_eq!(f.severity, Severity::Critical, "{}", f.title);
        assert!(f.title.contains("pods 100,000 (> 10,000)"), "{}", f.title);
    }

    /// Counted by LIST with no Node in sight, the report says the size is
    /// unknown instead of judging "0 nodes"; the quota fix is offered only for
    /// kinds its quotas count.
    #[test]
    fn an_unknown_size_is_said_and_quotas_are_offered_only_where_they_cap() {
        let settings = Settings::default();
        let f = finding(&counts(&[("configmaps", 10)]), &settings);
        assert!(
            f.title.contains("its size unknown (no Node counted)"),
            "{}",
            f.title
        );
        let events = counts(&[("events", 60_000), ("nodes", 100)]);
        let f = finding(&events, &settings);
        assert_eq!(f.severity, Severity::Critical, "{}", f.title);
        assert!(
            f.remediations.is_empty(),
            "a ResourceQuota does not count Events"
        );
        let f = finding(&counts(&[("secrets", 20_000)]), &settings);
        assert_eq!(f.remediations[0].id, "etcd.object-quota");
    }

    #[test]
    fn counts_come_from_either_metric_name() {
        let new = "apiserver_resource_objects{group=\"batch\",resource=\"jobs\"} 20002\napiserver_resource_objects{group=\"\",resource=\"pods\"} 41\n";
        let c = ObjectCounts::from_metrics(&MetricFamilies::parse(new)).unwrap();
        assert_eq!(c.types[0].qualified(), "jobs.batch");
        assert_eq!(c.types[0].count, 20_002);
        assert!(
            c.how.ends_with("found apiserver_resource_objects"),
            "{}",
            c.how
        );
        let old = "apiserver_storage_objects{resource=\"jobs.batch\"} 7\n";
        let c = ObjectCounts::from_metrics(&MetricFamilies::parse(old)).unwrap();
        assert_eq!(c.types[0].qualified(), "jobs.batch");
        assert!(
            c.how.ends_with("found apiserver_storage_objects"),
            "{}",
            c.how
        );
        let none = ObjectCounts::from_metrics(&MetricFamilies::parse("up 1\n")).unwrap_err();
        assert!(none.ends_with("found none"), "{none}");
    }

    /// Right after start every series is 0 (seen on a loaded CI machine), and
    /// after etcd stopped answering -1: not "0 objects in all", but no counts,
    /// so that they are listed instead.
    #[test]
    fn counts_not_taken_yet_are_no_counts() {
        let fresh = "apiserver_resource_objects{group=\"\",resource=\"namespaces\"} 0\n\
            apiserver_resource_objects{group=\"apiregistration.k8s.io\",resource=\"apiservices\"} 0\n\
            apiserver_resource_objects{group=\"\",resource=\"events\"} -1\n";
        let why = ObjectCounts::from_metrics(&MetricFamilies::parse(fresh)).unwrap_err();
        assert!(
            why.contains("no type above 0 (counted at start-up"),
            "{why}"
        );
        let one = fresh.replace("namespaces\"} 0", "namespaces\"} 4");
        let c = ObjectCounts::from_metrics(&MetricFamilies::parse(&one)).unwrap();
        assert_eq!(c.total(), 4);
        assert!(!c.complete, "events failed to count: not in the total");
        let failed = "apiserver_resource_objects{group=\"\",resource=\"namespaces\"} -1\n";
        let why = ObjectCounts::from_metrics(&MetricFamilies::parse(failed)).unwrap_err();
        assert!(why.contains("-1 (count failed) for every type"), "{why}");
    }

    #[test]
    fn bloated_namespaces_hold_a_real_share() {
        let mut c = counts(&[("configmaps", 20_060)]);
        c.by_namespace.insert(
            "configmaps".into(),
            [
                ("lab-bloat-a".to_string(), 6_700),
                ("lab-bloat-b".to_string(), 6_700),
                ("default".to_string(), 1),
            ]
            .into_iter()
            .collect(),
        );
        let found = c.bloated_namespaces(&Settings::default());
        assert!(found.contains("lab-bloat-a") && found.contains("lab-bloat-b"));
        assert!(!found.contains("default"));
    }
}
