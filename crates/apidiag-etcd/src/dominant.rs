//! Which factor dominates: request rate, object count or object size (seed 001
//! Solution 6, "determine the primary contributing factor"; seed 000's Etcd
//! Performance Analyzer flow: find the driving force first, then apply the
//! solution for it).
//!
//! Each factor is measured from the one `/metrics` read and divided by its
//! threshold, so the three are comparable: 1.0 means "at the limit", and a
//! factor dominates only above it.
//! - object count: the type furthest above its limit, what leaks against 10,000
//!   (seed 001 Cause 3), what grows with the cluster against its size
//!   ([`crate::allowance`]);
//! - object size: the database size / 2 GB (seed 001 Cause 3: "large etcd db");
//! - request rate: requests API Priority and Fairness rejected (429) as a share of
//!   those it dispatched, against 1%, and the requests waiting in APF queues now
//!   against 10 (a queue only forms when a priority level is saturated; a request
//!   or two in a queue for a moment is not yet pressure).
//!
//! The dominant factor is the one furthest above its threshold; below every
//! threshold, none dominates and the finding is `ok`.

use apidiag_core::finding::{Evidence, Finding, Severity};

use crate::db_size::{LARGE_DB_BYTES, MetricsView};
use crate::object_counts::ObjectCounts;
use crate::{Settings, source_cause6, thousands};
use apidiag_core::api::human_bytes;

/// A 429 share of dispatched requests from which request rate is at its limit.
pub const REJECTED_SHARE: f64 = 0.01;
/// Requests waiting in APF queues from which request rate is at its limit.
pub const QUEUED: f64 = 10.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Factor {
    RequestRate,
    ObjectCount,
    ObjectSize,
}

impl Factor {
    pub fn name(self) -> &'static str {
        match self {
            Factor::RequestRate => "request rate",
            Factor::ObjectCount => "object count",
            Factor::ObjectSize => "object size",
        }
    }
}

/// One factor's measure against its threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Pressure {
    pub factor: Factor,
    /// Measure / threshold; `None` when it could not be measured.
    pub ratio: Option<f64>,
    pub measure: String,
    pub threshold: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub pressures: Vec<Pressure>,
}

impl Assessment {
    /// The factor furthest above its threshold, if any is above it.
    pub fn dominant(&self) -> Option<&Pressure> {
        self.pressures
            .iter()
            .filter(|p| p.ratio.is_some_and(|r| r > 1.0))
            .max_by(|a, b| a.ratio.unwrap_or(0.0).total_cmp(&b.ratio.unwrap_or(0.0)))
    }
}

pub fn assess(
    metrics: Option<&MetricsView>,
    counts: Option<&ObjectCounts>,
    settings: &Settings,
) -> Assessment {
    let count = match counts.and_then(|c| c.most_pressed(settings)) {
        Some((pressed, allowance)) => Pressure {
            factor: Factor::ObjectCount,
            ratio: Some(pressed.count as f64 / allowance.limit.max(1) as f64),
            measure: format!("{} {}", thousands(pressed.count), pressed.qualified()),
            threshold: format!(
                "{} of that type ({})",
                thousands(allowance.limit),
                if allowance.rule.scales() {
                    "for this cluster's size"
                } else {
                    "the threshold"
                }
            ),
        },
        None => unmeasured(Factor::ObjectCount, "object counts"),
    };
    let size = match metrics.and_then(|m| m.db_bytes) {
        Some((bytes, _)) => Pressure {
            factor: Factor::ObjectSize,
            ratio: Some(bytes / LARGE_DB_BYTES as f64),
            measure: format!("database {}", human_bytes(bytes as u64)),
            threshold: format!("{} (large etcd database)", human_bytes(LARGE_DB_BYTES)),
        },
        None => unmeasured(Factor::ObjectSize, "the database size"),
    };
    let rate = match metrics {
        Some(m) if m.dispatched > 0.0 || m.rejected > 0.0 => {
            let share = m.rejected / (m.dispatched + m.rejected).max(1.0);
            let queued = m.inqueue / QUEUED;
            Pressure {
                factor: Factor::RequestRate,
                ratio: Some((share / REJECTED_SHARE).max(queued)),
                measure: format!(
                    "{} of {} requests rejected with 429 since start ({:.2}%), {} queued now",
                    thousands(m.rejected as u64),
                    thousands((m.dispatched + m.rejected) as u64),
                    share * 100.0,
                    m.inqueue as u64
                ),
                threshold: format!(
                    "{:.0}% rejected, or {QUEUED} requests queued",
                    REJECTED_SHARE * 100.0
                ),
            }
        }
        _ => unmeasured(Factor::RequestRate, "API Priority and Fairness metrics"),
    };
    Assessment {
        pressures: vec![rate, count, size],
    }
}

fn unmeasured(factor: Factor, what: &str) -> Pressure {
    Pressure {
        factor,
        ratio: None,
        measure: format!("unknown: {what} not readable"),
        threshold: String::new(),
    }
}

/// `etcd.dominant-factor`.
pub fn finding(assessment: &Assessment) -> Finding {
    let rows = assessment
        .pressures
        .iter()
        .map(|p| {
            vec![
                p.factor.name().to_string(),
                p.measure.clone(),
                p.threshold.clone(),
                p.ratio.map_or("?".into(), |r| format!("{r:.2}")),
            ]
        })
        .collect();
    let table = Evidence::table(
        "factors (measure / threshold)",
        &["factor", "measure", "threshold", "ratio"],
        rows,
    );
    let Some(dominant) = assessment.dominant() else {
        // "Within limits" is said only of what was measured: a factor that could
        // not be read is unknown, and an unknown is not ok.
        let unknown: Vec<&str> = assessment
            .pressures
            .iter()
            .filter(|p| p.ratio.is_none())
            .map(|p| p.factor.name())
            .collect();
        if unknown.is_empty() {
            return crate::ok(
                "etcd.dominant-factor",
                "No factor is above its limit: request rate, object count and object size are all within limits",
                source_cause6(),
            )
            .evidence(table);
        }
        let measured: Vec<&str> = assessment
            .pressures
            .iter()
            .filter(|p| p.ratio.is_some())
            .map(|p| p.factor.name())
            .collect();
        let title = if measured.is_empty() {
            "The dominant factor is unknown: request rate, object count and object size could not be measured".to_string()
        } else {
            format!(
                "The dominant factor is unknown: {} could not be measured ({} within its limits)",
                unknown.join(" and "),
                measured.join(" and ")
            )
        };
        return Finding::new("etcd.dominant-factor", Severity::Info, title)
            .detail("The guide's first step is to find the factor that dominates etcd's load. Without the measures marked unknown below it cannot be named; the report's gaps say what could not be read.")
            .evidence(table)
            .source(source_cause6());
    };
    let above: Vec<&str> = assessment
        .pressures
        .iter()
        .filter(|p| p.ratio.is_some_and(|r| r > 1.0) && p.factor != dominant.factor)
        .map(|p| p.factor.name())
        .collect();
    let mut finding = Finding::new(
        "etcd.dominant-factor",
        Severity::Info,
        format!(
            "{} dominates ({:.1}× its threshold){}",
            capitalised(dominant.factor.name()),
            dominant.ratio.unwrap_or(0.0),
            if above.is_empty() {
                String::new()
            } else {
                format!("; also above: {}", above.join(", "))
            }
        ),
    )
    .evidence(table)
    .source(source_cause6());
    finding = match dominant.factor {
        Factor::RequestRate => finding
            .detail("Excessive LIST or PUT calls drive the load: find the clients and tune or throttle them (guide, Cause 5).")
            .next("kubectl apidiag throttle"),
        Factor::ObjectCount => finding.detail(
            "Too many objects are stored: clean up what is no longer used and put retention in place: TTLs, history \
             limits, object-count quotas (guide, Cause 3 and Solution 3). The findings below say what piles up and where.",
        ),
        Factor::ObjectSize => finding.detail(
            "The stored bytes drive the load: reduce object sizes (move env vars to ConfigMaps, split large Secrets and \
             ConfigMaps, reduce revision counts). Run with --scan-sizes if the largest objects are not listed below.",
        ),
    };
    finding
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object_counts::TypeCount;

    fn metrics(db: f64, rejected: f64, dispatched: f64, inqueue: f64) -> MetricsView {
        MetricsView {
            db_bytes: Some((db, "apiserver_storage_size_bytes")),
            rejected,
            dispatched,
            inqueue,
            ..MetricsView::default()
        }
    }

    fn counts(largest: u64) -> ObjectCounts {
        ObjectCounts {
            how: String::new(),
            complete: true,
            types: vec![TypeCount {
                group: Some("batch".into()),
                resource: "jobs".into(),
                count: largest,
            }],
            by_namespace: Default::default(),
        }
    }

    #[test]
    fn nothing_dominates_below_every_threshold() {
        let a = assess(
            Some(&metrics(190e6, 0.0, 5000.0, 0.0)),
            Some(&counts(2000)),
            &Settings::default(),
        );
        assert!(a.dominant().is_none());
        assert_eq!(finding(&a).severity, Severity::Ok);
    }

    /// At its limit is not above it, and Pods only just past the figure AKS is
    /// tested at (info in `etcd.object-count`) are no pressure to clean up.
    #[test]
    fn a_cluster_at_its_limits_has_no_dominant_factor() {
        let settings = Settings::default();
        let at = assess(None, Some(&counts(10_000)), &settings);
        assert!(at.dominant().is_none());
        let tested = ObjectCounts {
            types: vec![
                TypeCount {
                    group: None,
                    resource: "pods".into(),
                    count: 200_002,
                },
                TypeCount {
                    group: None,
                    resource: "nodes".into(),
                    count: 5000,
                },
            ],
            ..counts(0)
        };
        let a = assess(None, Some(&tested), &settings);
        assert!(a.dominant().is_none(), "{:?}", a.pressures);
        let pods = a
            .pressures
            .iter()
            .find(|p| p.factor == Factor::ObjectCount)
            .unwrap();
        assert!(
            pods.threshold.contains("for this cluster's size"),
            "{}",
            pods.threshold
        );
    }

    #[test]
    fn the_factor_furthest_above_its_threshold_dominates() {
        let settings = Settings::default();
        let a = assess(
            Some(&metrics(190e6, 0.0, 5000.0, 0.0)),
            Some(&counts(20_002)),
            &settings,
        );
        assert_eq!(a.dominant().unwrap().factor, Factor::ObjectCount);
        let f = finding(&a);
        assert_eq!(f.severity, Severity::Info);
        assert!(
            f.title.starts_with("Object count dominates (2.0×"),
            "{}",
            f.title
        );

        // 3 GB database and 15,000 objects: size is 1.4×, count 1.5×.
        let a = assess(
            Some(&metrics(3.0e9, 0.0, 1.0, 0.0)),
            Some(&counts(15_000)),
            &settings,
        );
        assert_eq!(a.dominant().unwrap().factor, Factor::ObjectCount);
        assert!(finding(&a).title.contains("also above: object size"));

        // 5% of requests rejected: request rate, with a pointer to the throttle check.
        let a = assess(
            Some(&metrics(190e6, 50.0, 950.0, 0.0)),
            Some(&counts(100)),
            &settings,
        );
        let d = a.dominant().unwrap();
        assert_eq!(d.factor, Factor::RequestRate);
        assert!((d.ratio.unwrap() - 5.0).abs() < 1e-9);
        assert_eq!(
            finding(&a).next,
            vec!["kubectl apidiag throttle".to_string()]
        );

        // A queue now counts even without rejections; a blip does not.
        let a = assess(
            Some(&metrics(190e6, 0.0, 950.0, 12.0)),
            Some(&counts(100)),
            &settings,
        );
        assert_eq!(a.dominant().unwrap().factor, Factor::RequestRate);
        let a = assess(
            Some(&metrics(190e6, 0.0, 950.0, 2.0)),
            Some(&counts(100)),
            &settings,
        );
        assert!(a.dominant().is_none());
    }

    #[test]
    fn unreadable_metrics_leave_factors_unknown() {
        let a = assess(None, Some(&counts(20_000)), &Settings::default());
        assert_eq!(a.pressures[0].ratio, None);
        assert_eq!(a.pressures[2].ratio, None);
        assert_eq!(a.dominant().unwrap().factor, Factor::ObjectCount);
    }

    /// Regression: with /metrics out of reach the finding said "ok: no factor is
    /// above the thresholds" about two factors nobody had measured.
    #[test]
    fn an_unmeasured_factor_is_unknown_not_ok() {
        let a = assess(None, Some(&counts(2000)), &Settings::default());
        assert!(a.dominant().is_none());
        let f = finding(&a);
        assert_eq!(f.severity, Severity::Info);
        assert_eq!(
            f.title,
            "The dominant factor is unknown: request rate and object size could not be measured (object count within its limits)"
        );
        let nothing = finding(&assess(None, None, &Settings::default()));
        assert!(
            nothing.title.contains("could not be measured"),
            "{}",
            nothing.title
        );
        assert_ne!(nothing.severity, Severity::Ok);
    }
}
