//! The etcd database size, from `/metrics` (seed 001 Cause 3: "an etcd database
//! with size > 2 gigabytes is considered a large etcd db"; the quota is 8 GB by
//! default on AKS, 4 GB in the older revision).
//!
//! The metric has had three names (`etcd_db_total_size_in_bytes` up to 1.25,
//! `apiserver_storage_db_total_size_in_bytes` 1.26–1.28,
//! `apiserver_storage_size_bytes` from 1.28): every name is tried and the report
//! says which one answered. `/metrics` is read once per run and reduced here to
//! the few numbers the check uses ([`MetricsView`]), so the 2–3 MB text is dropped
//! at once.

use apidiag_core::api::human_bytes;
use apidiag_core::finding::{Evidence, Finding, Severity};
use apidiag_metrics::{self as metrics, MetricFamilies, Quantity};

use crate::object_counts::ObjectCounts;
use crate::{Settings, source_cause3};

/// AKS's etcd quota: 8 GiB (`--quota-backend-bytes=8589934592`).
pub const AKS_QUOTA_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// Seed 001: "an Etcd database with size > 2 gigabytes is considered a large etcd db".
pub const LARGE_DB_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Share of the quota from which the database is critical: etcd refuses writes
/// (alarm NOSPACE) at 100%, and compaction needs room.
pub const CRITICAL_QUOTA_SHARE: f64 = 0.9;
/// Share of the quota from which the database is a warning even below 2 GB
/// (small quotas).
pub const WARNING_QUOTA_SHARE: f64 = 0.5;

/// What the check keeps from `/metrics`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsView {
    /// Largest database size over endpoints, and the metric that served it.
    pub db_bytes: Option<(f64, &'static str)>,
    /// `looked for …; found …` for the database size.
    pub db_lookup: String,
    /// Objects per type, when an object-count metric is served and filled.
    pub counts: Option<ObjectCounts>,
    /// Why `counts` is `None` ([`ObjectCounts::from_metrics`]).
    pub counts_missing: String,
    /// Estimated stored bytes per `resource.group`, when served (1.34+).
    pub estimates: Option<Vec<(String, f64)>>,
    pub estimate_lookup: String,
    /// Requests rejected by API Priority and Fairness since the server started.
    pub rejected: f64,
    /// Requests APF dispatched since the server started.
    pub dispatched: f64,
    /// Requests waiting in APF queues now.
    pub inqueue: f64,
}

impl MetricsView {
    pub fn read(families: &MetricFamilies) -> Self {
        let db = metrics::db_size(families);
        let estimates = metrics::object_size_estimates(families);
        let levels = metrics::priority_levels(families);
        let (counts, counts_missing) = match ObjectCounts::from_metrics(families) {
            Ok(counts) => (Some(counts), String::new()),
            Err(why) => (None, why),
        };
        let sum = |f: fn(&metrics::PriorityLevelLoad) -> Option<f64>| {
            levels
                .iter()
                .filter_map(f)
                .filter(|v| v.is_finite())
                .fold(0.0, |a, b| a + b)
        };
        MetricsView {
            db_lookup: metrics::lookup_summary(
                Quantity::DbSize,
                db.as_ref().map(|found| found.metric),
            ),
            db_bytes: db
                .filter(|found| found.value.max_bytes.is_finite())
                .map(|found| (found.value.max_bytes, found.metric)),
            counts,
            counts_missing,
            estimate_lookup: metrics::lookup_summary(
                Quantity::ObjectSizeEstimate,
                estimates.as_ref().map(|found| found.metric),
            ),
            estimates: estimates.map(|found| {
                found
                    .value
                    .into_iter()
                    .filter(|s| !s.is_fetch_error())
                    .map(|s| (s.qualified_name(), s.bytes))
                    .collect()
            }),
            rejected: sum(|l| l.rejected_requests),
            dispatched: sum(|l| l.dispatched_requests),
            inqueue: sum(|l| l.inqueue_requests),
        }
    }

    /// The estimated bytes of one type (`configmaps`, `jobs.batch`).
    pub fn estimate(&self, qualified: &str) -> Option<f64> {
        self.estimates
            .as_ref()?
            .iter()
            .find(|(name, _)| name == qualified)
            .map(|(_, bytes)| *bytes)
    }
}

/// How the database size is judged.
pub fn severity(bytes: f64, quota: u64) -> Severity {
    let share = bytes / quota.max(1) as f64;
    if share >= CRITICAL_QUOTA_SHARE {
        Severity::Critical
    } else if bytes > LARGE_DB_BYTES as f64 || share >= WARNING_QUOTA_SHARE {
        Severity::Warning
    } else {
        Severity::Ok
    }
}

/// `etcd.db-size`.
pub fn finding(view: &MetricsView, settings: &Settings) -> Finding {
    let quota = settings.quota_bytes;
    let Some((bytes, metric)) = view.db_bytes else {
        return Finding::new(
            "etcd.db-size",
            Severity::Info,
            "The API server serves no etcd database size",
        )
        .detail("From 1.28 the size metric is absent, not zero, while the API server cannot reach etcd; older servers may hide it. The object counts below still apply.")
        .evidence(Evidence::new("metric", view.db_lookup.clone()))
        .source(source_cause3());
    };
    let share = bytes / quota.max(1) as f64;
    let severity = severity(bytes, quota);
    let size = human_bytes(bytes as u64);
    let title = match severity {
        Severity::Critical => format!(
            "The etcd database is {size}, {:.0}% of its {} quota: writes stop at 100%",
            share * 100.0,
            human_bytes(quota)
        ),
        Severity::Warning => format!(
            "The etcd database is large: {size} ({:.0}% of the {} quota)",
            share * 100.0,
            human_bytes(quota)
        ),
        _ => format!(
            "The etcd database is {size} ({:.1}% of the {} quota)",
            share * 100.0,
            human_bytes(quota)
        ),
    };
    let mut finding = Finding::new("etcd.db-size", severity, title)
        .evidence(Evidence::new("metric", view.db_lookup.clone()))
        .evidence(Evidence::new(
            "size",
            format!("{} bytes ({size}) from {metric}", bytes as u64),
        ))
        .evidence(Evidence::new(
            "thresholds",
            format!(
                "large above {} (guide); quota {} (--quota); critical from {:.0}% of the quota",
                human_bytes(LARGE_DB_BYTES),
                human_bytes(quota),
                CRITICAL_QUOTA_SHARE * 100.0
            ),
        ))
        .source(source_cause3());
    if severity > Severity::Ok {
        finding = finding.detail(
            "A large database makes etcd slow to compact, defragment and snapshot, and at the quota etcd refuses every write. \
             Delete what is no longer used (completed Jobs, failed Pods, old Helm revisions), limit what can be created with \
             object-count quotas, and give leaked objects a TTL (guide, Solution 3).",
        );
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    const GI: f64 = 1024.0 * 1024.0 * 1024.0;

    #[test]
    fn thresholds_follow_the_guide() {
        assert_eq!(severity(0.5 * GI, AKS_QUOTA_BYTES), Severity::Ok);
        assert_eq!(
            severity(2.0 * GI, AKS_QUOTA_BYTES),
            Severity::Ok,
            "2 GB is not yet large"
        );
        assert_eq!(severity(2.1 * GI, AKS_QUOTA_BYTES), Severity::Warning);
        assert_eq!(severity(7.3 * GI, AKS_QUOTA_BYTES), Severity::Critical);
        // A small quota: half of it is a warning before 2 GB.
        assert_eq!(
            severity(1.1 * GI, 2 * 1024 * 1024 * 1024),
            Severity::Warning
        );
    }

    #[test]
    fn every_served_name_is_read_and_named() {
        for (text, metric) in [
            (
                "etcd_db_total_size_in_bytes{endpoint=\"http://e:2379\"} 3.0e9\n",
                "etcd_db_total_size_in_bytes",
            ),
            (
                "apiserver_storage_db_total_size_in_bytes{endpoint=\"e\"} 3.0e9\n",
                "apiserver_storage_db_total_size_in_bytes",
            ),
            (
                "apiserver_storage_size_bytes{storage_cluster_id=\"etcd-0\"} 3.0e9\n",
                "apiserver_storage_size_bytes",
            ),
        ] {
            let view = MetricsView::read(&MetricFamilies::parse(text));
            assert_eq!(view.db_bytes, Some((3.0e9, metric)));
            assert!(
                view.db_lookup.ends_with(&format!("found {metric}")),
                "{}",
                view.db_lookup
            );
            let found = finding(&view, &Settings::default());
            assert_eq!(found.severity, Severity::Warning);
            assert!(found.evidence.iter().any(|e| e.value.contains(metric)));
        }
        let none = MetricsView::read(&MetricFamilies::parse("up 1\n"));
        assert_eq!(none.db_bytes, None);
        assert_eq!(
            finding(&none, &Settings::default()).severity,
            Severity::Info
        );
    }

    #[test]
    fn apf_pressure_is_summed_over_levels() {
        let text = "apiserver_flowcontrol_rejected_requests_total{flow_schema=\"a\",priority_level=\"x\",reason=\"queue-full\"} 5\n\
                    apiserver_flowcontrol_rejected_requests_total{flow_schema=\"b\",priority_level=\"y\",reason=\"time-out\"} 2\n\
                    apiserver_flowcontrol_dispatched_requests_total{flow_schema=\"a\",priority_level=\"x\"} 100\n\
                    apiserver_flowcontrol_current_inqueue_requests{flow_schema=\"a\",priority_level=\"x\"} 3\n";
        let view = MetricsView::read(&MetricFamilies::parse(text));
        assert_eq!(view.rejected, 7.0);
        assert_eq!(view.dispatched, 100.0);
        assert_eq!(view.inqueue, 3.0);
    }
}
