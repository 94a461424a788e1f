//! Which metric names kube-apiserver serves for the quantities apidiag reads,
//! across the Kubernetes versions it supports.
//!
//! Metric names move: the etcd database size has had three names since 1.25,
//! object counts are moving from `apiserver_storage_objects` to
//! `apiserver_resource_objects`, watch counts moved from
//! `apiserver_registered_watchers` to `apiserver_longrunning_requests`. A
//! check therefore never reads one fixed name. Each lookup here tries every
//! name a supported server may serve, in preference order (newest first,
//! because a server in a transition release serves both and the newer one is
//! the one that stays), and returns the values in a [`Found`] that records
//! which name answered. [`candidates`] lists what was tried, so a report can
//! say "looked for X, Y, Z; found Y" instead of a bare "no data".
//!
//! The version facts come from the history of kubernetes
//! `k8s.io/apiserver/pkg/storage/etcd3/metrics/metrics.go` and the
//! flow-control and endpoint metrics; [`expected_for_version`] encodes them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::exposition::{MetricFamilies, Stability};

/// etcd database size per etcd endpoint, up to 1.25.
pub const ETCD_DB_TOTAL_SIZE_IN_BYTES: &str = "etcd_db_total_size_in_bytes";
/// etcd database size per etcd endpoint, 1.26–1.28 (deprecated 1.28, hidden
/// from 1.29).
pub const APISERVER_STORAGE_DB_TOTAL_SIZE_IN_BYTES: &str =
    "apiserver_storage_db_total_size_in_bytes";
/// Storage size per storage cluster, 1.28+ (stable since 1.30).
pub const APISERVER_STORAGE_SIZE_BYTES: &str = "apiserver_storage_size_bytes";
/// Object count per `resource` (`jobs.batch`), 1.21+; stable, deprecated since 1.34.
pub const APISERVER_STORAGE_OBJECTS: &str = "apiserver_storage_objects";
/// Object count per `resource` (`jobs.batch`) up to 1.22: the only count metric up
/// to 1.20, served next to [`APISERVER_STORAGE_OBJECTS`] in 1.21 and 1.22.
pub const ETCD_OBJECT_COUNTS: &str = "etcd_object_counts";
/// Object count per `group`,`resource`; 1.34+, alpha.
pub const APISERVER_RESOURCE_OBJECTS: &str = "apiserver_resource_objects";
/// Estimated stored bytes per `group`,`resource`; 1.34+, alpha.
pub const APISERVER_RESOURCE_SIZE_ESTIMATE_BYTES: &str = "apiserver_resource_size_estimate_bytes";
/// API Priority and Fairness rejections per priority level, flow schema and
/// reason; beta since 1.28.
pub const APF_REJECTED_REQUESTS_TOTAL: &str = "apiserver_flowcontrol_rejected_requests_total";
/// Requests waiting in APF queues; beta since 1.28.
pub const APF_CURRENT_INQUEUE_REQUESTS: &str = "apiserver_flowcontrol_current_inqueue_requests";
/// Requests executing under APF; beta since 1.28.
pub const APF_CURRENT_EXECUTING_REQUESTS: &str = "apiserver_flowcontrol_current_executing_requests";
/// Configured seats per priority level; beta since 1.28.
pub const APF_NOMINAL_LIMIT_SEATS: &str = "apiserver_flowcontrol_nominal_limit_seats";
/// Requests dispatched by APF; beta since 1.28.
pub const APF_DISPATCHED_REQUESTS_TOTAL: &str = "apiserver_flowcontrol_dispatched_requests_total";
/// Histogram of time spent in APF queues; beta since 1.28.
pub const APF_REQUEST_WAIT_DURATION_SECONDS: &str =
    "apiserver_flowcontrol_request_wait_duration_seconds";
/// Open long-running requests by verb (WATCH among them); the replacement
/// for [`APISERVER_REGISTERED_WATCHERS`].
pub const APISERVER_LONGRUNNING_REQUESTS: &str = "apiserver_longrunning_requests";
/// Registered watchers per `group`,`version`,`kind`; removed in 1.25.
pub const APISERVER_REGISTERED_WATCHERS: &str = "apiserver_registered_watchers";
/// Requests by verb, group, version, resource, subresource, scope, component
/// and code; stable.
pub const APISERVER_REQUEST_TOTAL: &str = "apiserver_request_total";

/// Something a check measures, independent of what the metric is called on
/// a given server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// Physical size of the etcd database file.
    DbSize,
    /// Number of stored objects per resource.
    ObjectCount,
    /// Estimated stored bytes per resource.
    ObjectSizeEstimate,
    /// Requests rejected by API Priority and Fairness.
    RejectedRequests,
    /// Requests waiting in APF queues.
    InqueueRequests,
    /// Requests executing under APF.
    ExecutingRequests,
    /// Configured APF seats per priority level.
    NominalLimitSeats,
    /// Requests dispatched by APF.
    DispatchedRequests,
    /// Time requests spend in APF queues (histogram).
    RequestWaitDuration,
    /// Open watches.
    LongRunningWatches,
    /// Requests served, by verb, resource and code.
    RequestCount,
}

impl Quantity {
    /// Every quantity, for tables and self-checks.
    pub const ALL: [Quantity; 11] = [
        Quantity::DbSize,
        Quantity::ObjectCount,
        Quantity::ObjectSizeEstimate,
        Quantity::RejectedRequests,
        Quantity::InqueueRequests,
        Quantity::ExecutingRequests,
        Quantity::NominalLimitSeats,
        Quantity::DispatchedRequests,
        Quantity::RequestWaitDuration,
        Quantity::LongRunningWatches,
        Quantity::RequestCount,
    ];

    /// A short human description for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Quantity::DbSize => "etcd database size",
            Quantity::ObjectCount => "stored object count",
            Quantity::ObjectSizeEstimate => "stored object size estimate",
            Quantity::RejectedRequests => "requests rejected by API Priority and Fairness",
            Quantity::InqueueRequests => "requests waiting in API Priority and Fairness queues",
            Quantity::ExecutingRequests => "requests executing under API Priority and Fairness",
            Quantity::NominalLimitSeats => "API Priority and Fairness nominal seats",
            Quantity::DispatchedRequests => "requests dispatched by API Priority and Fairness",
            Quantity::RequestWaitDuration => "API Priority and Fairness queue wait time",
            Quantity::LongRunningWatches => "open watches",
            Quantity::RequestCount => "requests served",
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Every metric name that may carry `quantity`, in the order the lookups
/// try them (newest first).
pub fn candidates(quantity: Quantity) -> &'static [&'static str] {
    match quantity {
        Quantity::DbSize => &[
            APISERVER_STORAGE_SIZE_BYTES,
            APISERVER_STORAGE_DB_TOTAL_SIZE_IN_BYTES,
            ETCD_DB_TOTAL_SIZE_IN_BYTES,
        ],
        Quantity::ObjectCount => &[
            APISERVER_RESOURCE_OBJECTS,
            APISERVER_STORAGE_OBJECTS,
            ETCD_OBJECT_COUNTS,
        ],
        Quantity::ObjectSizeEstimate => &[APISERVER_RESOURCE_SIZE_ESTIMATE_BYTES],
        Quantity::RejectedRequests => &[APF_REJECTED_REQUESTS_TOTAL],
        Quantity::InqueueRequests => &[APF_CURRENT_INQUEUE_REQUESTS],
        Quantity::ExecutingRequests => &[APF_CURRENT_EXECUTING_REQUESTS],
        Quantity::NominalLimitSeats => &[APF_NOMINAL_LIMIT_SEATS],
        Quantity::DispatchedRequests => &[APF_DISPATCHED_REQUESTS_TOTAL],
        Quantity::RequestWaitDuration => &[APF_REQUEST_WAIT_DURATION_SECONDS],
        Quantity::LongRunningWatches => &[
            APISERVER_LONGRUNNING_REQUESTS,
            APISERVER_REGISTERED_WATCHERS,
        ],
        Quantity::RequestCount => &[APISERVER_REQUEST_TOTAL],
    }
}

/// One line for a report: `looked for a, b, c; found b` (or `found none`).
pub fn lookup_summary(quantity: Quantity, found: Option<&str>) -> String {
    format!(
        "looked for {}; found {}",
        candidates(quantity).join(", "),
        found.unwrap_or("none")
    )
}

/// Values read for a quantity, with the metric name that supplied them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Found<T> {
    /// The metric name the values came from; one of [`candidates`].
    pub metric: &'static str,
    /// The values.
    pub value: T,
}

impl<T> Found<T> {
    /// Transforms the values, keeping the metric name.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Found<U> {
        Found {
            metric: self.metric,
            value: f(self.value),
        }
    }
}

/// etcd database size as served, one entry per endpoint or storage cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbSize {
    /// Largest size across entries (NaN values ignored; NaN only if all
    /// are). The largest is what counts against etcd's quota.
    pub max_bytes: f64,
    /// Every entry, sorted by `source`.
    pub per_source: Vec<DbSizeSample>,
}

/// One served size value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbSizeSample {
    /// Which label identified the source: `endpoint` (an etcd client URL,
    /// older names), `storage_cluster_id` (like `etcd-0`), or `cluster`
    /// (earlier spelling of the latter); empty if the sample had none.
    pub source_label: &'static str,
    /// That label's value.
    pub source: String,
    /// Size in bytes.
    pub bytes: f64,
}

/// Labels naming the source of a size sample, per metric, in the order they
/// are tried.
fn db_size_source_labels(metric: &str) -> &'static [&'static str] {
    if metric == APISERVER_STORAGE_SIZE_BYTES {
        &["storage_cluster_id", "cluster"]
    } else {
        &["endpoint"]
    }
}

/// Reads the etcd database size from the first of [`candidates`]`(DbSize)`
/// that has samples. Note that `apiserver_storage_size_bytes` is absent, not
/// zero, while the server cannot reach etcd, so `None` on a 1.28+ server is a
/// finding in itself.
pub fn db_size(families: &MetricFamilies) -> Option<Found<DbSize>> {
    candidates(Quantity::DbSize).iter().find_map(|&metric| {
        let labels = db_size_source_labels(metric);
        let mut per_source: Vec<DbSizeSample> = families
            .samples(metric)
            .map(|s| {
                let (source_label, source) = labels
                    .iter()
                    .find_map(|&l| s.label(l).map(|v| (l, v)))
                    .unwrap_or(("", ""));
                DbSizeSample {
                    source_label,
                    source: source.to_owned(),
                    bytes: s.value,
                }
            })
            .collect();
        if per_source.is_empty() {
            return None;
        }
        per_source.sort_by(|a, b| a.source.cmp(&b.source));
        let max_bytes = per_source
            .iter()
            .map(|s| s.bytes)
            .filter(|v| !v.is_nan())
            .reduce(f64::max)
            .unwrap_or(f64::NAN);
        Some(Found {
            metric,
            value: DbSize {
                max_bytes,
                per_source,
            },
        })
    })
}

/// Number of stored objects of one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceCount {
    /// API group; `None` for the core group.
    pub group: Option<String>,
    /// Resource (plural), e.g. `jobs`.
    pub resource: String,
    /// Object count; kube-apiserver writes `-1` when it could not count, see
    /// [`Self::is_fetch_error`].
    pub count: f64,
}

impl ResourceCount {
    /// Whether the server reported that counting failed (value `-1`).
    pub fn is_fetch_error(&self) -> bool {
        self.count < 0.0
    }

    /// `resource.group` as kubectl writes it (`jobs.batch`, `configmaps`).
    pub fn qualified_name(&self) -> String {
        qualified(self.group.as_deref(), &self.resource)
    }
}

/// Estimated stored size of one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceSize {
    /// API group; `None` for the core group.
    pub group: Option<String>,
    /// Resource (plural).
    pub resource: String,
    /// Estimated bytes; `-1` when the server could not estimate.
    pub bytes: f64,
}

impl ResourceSize {
    /// Whether the server reported that estimating failed (value `-1`).
    pub fn is_fetch_error(&self) -> bool {
        self.bytes < 0.0
    }

    /// `resource.group` as kubectl writes it.
    pub fn qualified_name(&self) -> String {
        qualified(self.group.as_deref(), &self.resource)
    }
}

fn qualified(group: Option<&str>, resource: &str) -> String {
    match group {
        Some(g) => format!("{resource}.{g}"),
        None => resource.to_owned(),
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Splits `jobs.batch` into `(Some("batch"), "jobs")` and
/// `leases.coordination.k8s.io` into `(Some("coordination.k8s.io"),
/// "leases")`: resource names never contain a dot, group names usually do,
/// so the first dot is the boundary.
fn split_group_resource(s: &str) -> (Option<String>, String) {
    match s.split_once('.') {
        Some((resource, group)) => (non_empty(group.to_owned()), resource.to_owned()),
        None => (None, s.to_owned()),
    }
}

/// `(group, resource, value)` from a metric labelled `group` and `resource`.
fn by_group_resource(
    families: &MetricFamilies,
    metric: &str,
) -> Vec<(Option<String>, String, f64)> {
    families
        .group_by2(metric, "group", "resource")
        .into_iter()
        .map(|(g, r, v)| (non_empty(g), r, v))
        .collect()
}

fn sort_by_group_resource<T>(items: &mut [T], key: impl Fn(&T) -> (&Option<String>, &String)) {
    items.sort_by(|a, b| key(a).cmp(&key(b)));
}

/// Object counts per resource, preferring `apiserver_resource_objects`
/// (separate `group` and `resource` labels) and falling back to
/// `apiserver_storage_objects`, then (up to 1.22) `etcd_object_counts`: both
/// carry one `resource` label like `jobs.batch`, split here. Sorted by group
/// (core first), then resource.
pub fn object_counts(families: &MetricFamilies) -> Option<Found<Vec<ResourceCount>>> {
    let mut found = if families.has_samples(APISERVER_RESOURCE_OBJECTS) {
        let counts: Vec<ResourceCount> = by_group_resource(families, APISERVER_RESOURCE_OBJECTS)
            .into_iter()
            .map(|(group, resource, count)| ResourceCount {
                group,
                resource,
                count,
            })
            .collect();
        Found {
            metric: APISERVER_RESOURCE_OBJECTS,
            value: counts,
        }
    } else {
        let metric = [APISERVER_STORAGE_OBJECTS, ETCD_OBJECT_COUNTS]
            .into_iter()
            .find(|name| families.has_samples(name))?;
        let counts: Vec<ResourceCount> = families
            .group_by(metric, "resource")
            .into_iter()
            .map(|(qualified, count)| {
                let (group, resource) = split_group_resource(&qualified);
                ResourceCount {
                    group,
                    resource,
                    count,
                }
            })
            .collect();
        Found {
            metric,
            value: counts,
        }
    };
    sort_by_group_resource(&mut found.value, |c| (&c.group, &c.resource));
    Some(found)
}

/// Estimated stored bytes per resource from
/// `apiserver_resource_size_estimate_bytes` (1.34+, and only when the
/// server computes estimates). Sorted like [`object_counts`].
pub fn object_size_estimates(families: &MetricFamilies) -> Option<Found<Vec<ResourceSize>>> {
    let metric = APISERVER_RESOURCE_SIZE_ESTIMATE_BYTES;
    if !families.has_samples(metric) {
        return None;
    }
    let mut sizes: Vec<ResourceSize> = by_group_resource(families, metric)
        .into_iter()
        .map(|(group, resource, bytes)| ResourceSize {
            group,
            resource,
            bytes,
        })
        .collect();
    sort_by_group_resource(&mut sizes, |s| (&s.group, &s.resource));
    Some(Found {
        metric,
        value: sizes,
    })
}

/// Why API Priority and Fairness rejected a request (`reason` label).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// `queue-full`: the flow's queue was at its length limit.
    QueueFull,
    /// `concurrency-limit`: the priority level has no queues and was full.
    ConcurrencyLimit,
    /// `time-out`: the request waited in a queue past its deadline.
    TimeOut,
    /// `cancelled`: the client gave up while the request was queued.
    Cancelled,
    /// Any other value, kept verbatim so a new reason is not lost.
    Other(String),
}

impl RejectReason {
    /// Reads the `reason` label value.
    pub fn from_label(value: &str) -> Self {
        match value {
            "queue-full" => Self::QueueFull,
            "concurrency-limit" => Self::ConcurrencyLimit,
            "time-out" => Self::TimeOut,
            "cancelled" => Self::Cancelled,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The label value as served.
    pub fn as_str(&self) -> &str {
        match self {
            Self::QueueFull => "queue-full",
            Self::ConcurrencyLimit => "concurrency-limit",
            Self::TimeOut => "time-out",
            Self::Cancelled => "cancelled",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// Serialized as the label value, which is what an operator greps for.
impl Serialize for RejectReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Rejections (a counter since server start) for one priority level, flow
/// schema and reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    /// The PriorityLevelConfiguration name.
    pub priority_level: String,
    /// The FlowSchema name.
    pub flow_schema: String,
    /// Why the requests were rejected.
    pub reason: RejectReason,
    /// Rejections since the server started.
    pub count: f64,
}

/// All APF rejections, sorted by priority level, flow schema, reason. Empty
/// when nothing was ever rejected: the server only serves the counter for
/// label sets that occurred.
pub fn rejected_requests(families: &MetricFamilies) -> Vec<Rejected> {
    families
        .group_by_labels(
            APF_REJECTED_REQUESTS_TOTAL,
            &["priority_level", "flow_schema", "reason"],
            &[],
        )
        .into_iter()
        .map(|(keys, count)| {
            let mut it = keys.into_iter();
            let priority_level = it.next().unwrap_or_default();
            let flow_schema = it.next().unwrap_or_default();
            let reason = RejectReason::from_label(&it.next().unwrap_or_default());
            Rejected {
                priority_level,
                flow_schema,
                reason,
                count,
            }
        })
        .collect()
}

/// The APF gauges and counters of one priority level, summed over its flow
/// schemas. A field is `None` when the server served no sample of it for
/// this level.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PriorityLevelLoad {
    /// The PriorityLevelConfiguration name.
    pub priority_level: String,
    /// Configured seats ([`APF_NOMINAL_LIMIT_SEATS`]).
    pub nominal_limit_seats: Option<f64>,
    /// Requests executing now ([`APF_CURRENT_EXECUTING_REQUESTS`]).
    pub executing_requests: Option<f64>,
    /// Requests queued now ([`APF_CURRENT_INQUEUE_REQUESTS`]).
    pub inqueue_requests: Option<f64>,
    /// Requests dispatched since start ([`APF_DISPATCHED_REQUESTS_TOTAL`]).
    pub dispatched_requests: Option<f64>,
    /// Requests rejected since start, all reasons ([`APF_REJECTED_REQUESTS_TOTAL`]).
    pub rejected_requests: Option<f64>,
}

/// One [`PriorityLevelLoad`] per priority level seen in any APF metric,
/// sorted by name.
pub fn priority_levels(families: &MetricFamilies) -> Vec<PriorityLevelLoad> {
    type Field = fn(&mut PriorityLevelLoad) -> &mut Option<f64>;
    let fields: [(&str, Field); 5] = [
        (APF_NOMINAL_LIMIT_SEATS, |p| &mut p.nominal_limit_seats),
        (APF_CURRENT_EXECUTING_REQUESTS, |p| {
            &mut p.executing_requests
        }),
        (APF_CURRENT_INQUEUE_REQUESTS, |p| &mut p.inqueue_requests),
        (APF_DISPATCHED_REQUESTS_TOTAL, |p| {
            &mut p.dispatched_requests
        }),
        (APF_REJECTED_REQUESTS_TOTAL, |p| &mut p.rejected_requests),
    ];
    let mut levels: BTreeMap<String, PriorityLevelLoad> = BTreeMap::new();
    for (metric, field) in fields {
        for (level, value) in families.group_by(metric, "priority_level") {
            let entry = levels
                .entry(level.clone())
                .or_insert_with(|| PriorityLevelLoad {
                    priority_level: level,
                    ..PriorityLevelLoad::default()
                });
            *field(entry) = Some(value);
        }
    }
    levels.into_values().collect()
}

/// What a watch count is broken down by: the newer metric names the
/// resource, the removed one named the kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchTarget {
    /// Resource (plural, e.g. `pods`) from `apiserver_longrunning_requests`.
    Resource(String),
    /// Kind (e.g. `Pod`) from `apiserver_registered_watchers`.
    Kind(String),
}

/// Open watches on one group and resource (or kind), summed over versions,
/// scopes and subresources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchCount {
    /// API group; `None` for the core group.
    pub group: Option<String>,
    /// The watched resource or kind.
    pub target: WatchTarget,
    /// Open watches now.
    pub count: f64,
}

/// Open watches, from `apiserver_longrunning_requests{verb="WATCH"}` if the
/// server serves any, else from `apiserver_registered_watchers` (before
/// 1.25). Sorted by group, then target.
pub fn long_running_watches(families: &MetricFamilies) -> Option<Found<Vec<WatchCount>>> {
    let watch = [("verb", "WATCH")];
    let (metric, target_label, filter): (&'static str, &str, &[(&str, &str)]) = if families
        .sum(APISERVER_LONGRUNNING_REQUESTS, &watch)
        .is_some()
    {
        (APISERVER_LONGRUNNING_REQUESTS, "resource", &watch)
    } else if families.has_samples(APISERVER_REGISTERED_WATCHERS) {
        (APISERVER_REGISTERED_WATCHERS, "kind", &[])
    } else {
        return None;
    };
    let counts = families
        .group_by_labels(metric, &["group", target_label], filter)
        .into_iter()
        .map(|(keys, count)| {
            let mut it = keys.into_iter();
            let group = non_empty(it.next().unwrap_or_default());
            let name = it.next().unwrap_or_default();
            let target = if metric == APISERVER_REGISTERED_WATCHERS {
                WatchTarget::Kind(name)
            } else {
                WatchTarget::Resource(name)
            };
            WatchCount {
                group,
                target,
                count,
            }
        })
        .collect();
    Some(Found {
        metric,
        value: counts,
    })
}

/// How sure apidiag is that a server version serves a metric by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Serving {
    /// Served, not deprecated.
    Yes,
    /// Served but deprecated: a newer name should be served as well.
    Deprecated,
    /// Depends on something else (a feature gate, an expected removal that
    /// has not been confirmed): absence is not by itself a finding.
    Maybe,
}

/// One metric a given server version should serve; see
/// [`expected_for_version`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expected {
    /// The quantity the metric carries.
    pub quantity: Quantity,
    /// The metric name.
    pub metric: &'static str,
    /// Its stability class in that version.
    pub stability: Stability,
    /// How sure the expectation is.
    pub serving: Serving,
    /// Why it might be missing, or what to know when reading it.
    pub note: Option<&'static str>,
}

/// What the project knows about one name. `since`/`until` bound the minor
/// versions for which these facts vouch that the name is served by default:
/// `since` is not always the release that introduced it (APF metrics existed
/// as alpha before 1.28, but their labels were only settled then), and a
/// name served outside the range after `--show-hidden-metrics-for-version`
/// is still read by the lookups above, just not expected.
struct NameFact {
    quantity: Quantity,
    metric: &'static str,
    since: Option<u32>,
    until: Option<u32>,
    /// `until` is an expectation for a future release, not a released fact.
    until_expected: bool,
    deprecated_since: Option<u32>,
    /// Needs something besides the version (a feature gate).
    conditional: bool,
    /// Stability from a minor version on, in increasing order.
    stability: &'static [(u32, Stability)],
    note: Option<&'static str>,
}

const ALPHA: &[(u32, Stability)] = &[(0, Stability::Alpha)];
const BETA: &[(u32, Stability)] = &[(0, Stability::Beta)];
const STABLE: &[(u32, Stability)] = &[(0, Stability::Stable)];

const APF_SINCE: Option<u32> = Some(28);
const APF_NOTE: Option<&str> = Some("beta from 1.28; served as alpha before");

const FACTS: &[NameFact] = &[
    NameFact {
        quantity: Quantity::DbSize,
        metric: ETCD_DB_TOTAL_SIZE_IN_BYTES,
        since: None,
        until: Some(25),
        until_expected: false,
        deprecated_since: None,
        conditional: false,
        stability: ALPHA,
        note: Some("renamed apiserver_storage_db_total_size_in_bytes in 1.26"),
    },
    NameFact {
        quantity: Quantity::DbSize,
        metric: APISERVER_STORAGE_DB_TOTAL_SIZE_IN_BYTES,
        since: Some(26),
        until: Some(28),
        until_expected: false,
        deprecated_since: Some(28),
        conditional: false,
        stability: ALPHA,
        note: Some(
            "hidden from 1.29 unless --show-hidden-metrics-for-version=1.28; \
             replaced by apiserver_storage_size_bytes",
        ),
    },
    NameFact {
        quantity: Quantity::DbSize,
        metric: APISERVER_STORAGE_SIZE_BYTES,
        since: Some(28),
        until: None,
        until_expected: false,
        deprecated_since: None,
        conditional: false,
        stability: &[(0, Stability::Alpha), (30, Stability::Stable)],
        note: Some(
            "one sample per storage cluster (label storage_cluster_id, earlier cluster); \
             absent while the server cannot reach etcd",
        ),
    },
    NameFact {
        quantity: Quantity::ObjectCount,
        metric: ETCD_OBJECT_COUNTS,
        since: None,
        until: Some(22),
        until_expected: false,
        deprecated_since: Some(22),
        conditional: false,
        stability: ALPHA,
        note: Some(
            "the only object-count metric up to 1.20; served next to \
             apiserver_storage_objects in 1.21 and 1.22, then removed",
        ),
    },
    NameFact {
        quantity: Quantity::ObjectCount,
        metric: APISERVER_STORAGE_OBJECTS,
        since: Some(21),
        until: Some(36),
        until_expected: true,
        deprecated_since: Some(34),
        conditional: false,
        stability: STABLE,
        note: Some(
            "deprecated in favour of apiserver_resource_objects; expected to be hidden \
             from about 1.37",
        ),
    },
    NameFact {
        quantity: Quantity::ObjectCount,
        metric: APISERVER_RESOURCE_OBJECTS,
        since: Some(34),
        until: None,
        until_expected: false,
        deprecated_since: None,
        conditional: false,
        stability: ALPHA,
        note: None,
    },
    NameFact {
        quantity: Quantity::ObjectSizeEstimate,
        metric: APISERVER_RESOURCE_SIZE_ESTIMATE_BYTES,
        since: Some(34),
        until: None,
        until_expected: false,
        deprecated_since: None,
        conditional: true,
        stability: ALPHA,
        note: Some("only while the server computes size estimates (feature gate)"),
    },
    NameFact {
        quantity: Quantity::RejectedRequests,
        metric: APF_REJECTED_REQUESTS_TOTAL,
        since: APF_SINCE,
        until: None,
        until_expected: false,
        deprecated_since: None,
        conditional: false,
        stability: BETA,
        note: Some("served only for label sets that occurred: absent means none rejected"),
    },
    NameFact {
        quantity: Quantity::InqueueRequests,
        metric: APF_CURRENT_INQUEUE_REQUESTS,
        since: APF_SINCE,
        until: None,
        until_expected: false,
        deprecated_since: None,
        conditional: false,
        stability: BETA,
        note: APF_NOTE,
    },
    NameFact {
        quantity: Quantity::ExecutingRequests,
        metric: APF_CURRENT_EXECUTING_REQUESTS,
        since: APF_SINCE,
        until: None,
        until_expected: false,
        deprecated_since: None,
        conditional: false,
        stability: BETA,
        note: APF_NOTE,
    },
    NameFact {
        quantity: Quantity::NominalLimitSeats,
        metric: APF_NOMINAL_LIMIT_SEATS,
        since: APF_SINCE,
        until: None,
        until_expected: false,
        deprecated_since: None,
        conditional: false,
        stability: BETA,
        note: APF_NOTE,
    },
    NameFact {
        quantity: Quantity::DispatchedRequests,
        metric: APF_DISPATCHED_REQUESTS_TOTAL,
        since: APF_SINCE,
        until: None,
        until_expected: false,
        deprecated_since: None,
        conditional: false,
        stability: BETA,
        note: APF_NOTE,
    },
    NameFact {
        quantity: Quantity::RequestWaitDuration,
        metric: APF_REQUEST_WAIT_DURATION_SECONDS,
        since: APF_SINCE,
        until: None,
        until_expected: false,
        deprecated_since: None,
        conditional: false,
        stability: BETA,
        note: APF_NOTE,
    },
    NameFact {
        quantity: Quantity::LongRunningWatches,
        metric: APISERVER_LONGRUNNING_REQUESTS,
        since: Some(25),
        until: None,
        until_expected: false,
        deprecated_since: None,
        conditional: false,
        stability: ALPHA,
        note: Some("watches are the samples with verb=\"WATCH\""),
    },
    NameFact {
        quantity: Quantity::LongRunningWatches,
        metric: APISERVER_REGISTERED_WATCHERS,
        since: None,
        until: Some(24),
        until_expected: false,
        deprecated_since: Some(23),
        conditional: false,
        stability: ALPHA,
        note: Some("removed in 1.25; use apiserver_longrunning_requests{verb=\"WATCH\"}"),
    },
    NameFact {
        quantity: Quantity::RequestCount,
        metric: APISERVER_REQUEST_TOTAL,
        since: None,
        until: None,
        until_expected: false,
        deprecated_since: None,
        conditional: false,
        stability: STABLE,
        note: None,
    },
];

impl NameFact {
    fn expectation(&self, minor: u32) -> Option<Expected> {
        if self.since.is_some_and(|s| minor < s) {
            return None;
        }
        let past_end = self.until.is_some_and(|u| minor > u);
        if past_end && !self.until_expected {
            return None;
        }
        let serving = if past_end || self.conditional {
            Serving::Maybe
        } else if self.deprecated_since.is_some_and(|d| minor >= d) {
            Serving::Deprecated
        } else {
            Serving::Yes
        };
        let stability = self
            .stability
            .iter()
            .rev()
            .find(|(from, _)| *from <= minor)
            .map_or(Stability::Alpha, |(_, s)| *s);
        Some(Expected {
            quantity: self.quantity,
            metric: self.metric,
            stability,
            serving,
            note: self.note,
        })
    }
}

/// The metrics a `1.<minor>` kube-apiserver should serve for the quantities
/// above, in [`Quantity`] order then preference order, e.g. to say "server
/// 1.37 should serve apiserver_storage_size_bytes" when a lookup finds
/// nothing.
pub fn expected_for_version(minor: u32) -> Vec<Expected> {
    let mut out: Vec<Expected> = FACTS.iter().filter_map(|f| f.expectation(minor)).collect();
    out.sort_by_key(|e| {
        let rank = candidates(e.quantity)
            .iter()
            .position(|&m| m == e.metric)
            .unwrap_or(usize::MAX);
        (e.quantity, rank)
    });
    out
}

/// The names of [`expected_for_version`] for one quantity, excluding
/// [`Serving::Maybe`] ones: what a check may call missing.
pub fn expected_names(quantity: Quantity, minor: u32) -> Vec<&'static str> {
    expected_for_version(minor)
        .into_iter()
        .filter(|e| e.quantity == quantity && e.serving != Serving::Maybe)
        .map(|e| e.metric)
        .collect()
}

/// The minor version from what `/version` returns: a `gitVersion` such as
/// `v1.30.4-eks-a737599` or `1.30`, or a `minor` field such as `30` or `30+`
/// (managed offerings append `+`). `None` for a major other than 1.
pub fn minor_version(version: &str) -> Option<u32> {
    let v = version.trim();
    let v = v.strip_prefix('v').unwrap_or(v);
    let minor = match v.split_once('.') {
        Some((major, rest)) => {
            if major != "1" {
                return None;
            }
            rest
        }
        None => v,
    };
    let digits = minor
        .find(|c: char| !c.is_ascii_digit())
        .map_or(minor, |end| minor.get(..end).unwrap_or(""));
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{FIXTURE_1_19, FIXTURE_1_21, FIXTURE_1_37, FIXTURE_OLD};

    fn new_server() -> MetricFamilies {
        MetricFamilies::parse(FIXTURE_1_37)
    }

    fn old_server() -> MetricFamilies {
        MetricFamilies::parse(FIXTURE_OLD)
    }

    #[test]
    fn db_size_new_name() {
        let found = db_size(&new_server()).expect("db size");
        assert_eq!(found.metric, APISERVER_STORAGE_SIZE_BYTES);
        assert_eq!(found.value.max_bytes, 12_340_000.0);
        assert_eq!(
            found.value.per_source,
            vec![
                DbSizeSample {
                    source_label: "storage_cluster_id",
                    source: "etcd-0".to_owned(),
                    bytes: 12_340_000.0,
                },
                DbSizeSample {
                    source_label: "storage_cluster_id",
                    source: "etcd-1".to_owned(),
                    bytes: 4_500_000.0,
                },
            ]
        );
    }

    #[test]
    fn db_size_old_name_per_endpoint() {
        let found = db_size(&old_server()).expect("db size");
        assert_eq!(found.metric, ETCD_DB_TOTAL_SIZE_IN_BYTES);
        assert_eq!(found.value.max_bytes, 76_000_000.0);
        let sources: Vec<(&str, &str, f64)> = found
            .value
            .per_source
            .iter()
            .map(|s| (s.source_label, s.source.as_str(), s.bytes))
            .collect();
        assert_eq!(
            sources,
            vec![
                ("endpoint", "http://127.0.0.1:2379", 75_497_472.0),
                ("endpoint", "https://10.0.0.2:2379", 76_000_000.0),
            ]
        );
    }

    #[test]
    fn db_size_prefers_newest_name_and_reads_cluster_label() {
        // A 1.28 server serves both names; the newer one wins.
        let f = MetricFamilies::parse(concat!(
            "apiserver_storage_db_total_size_in_bytes{endpoint=\"https://e:2379\"} 100\n",
            "apiserver_storage_size_bytes{cluster=\"etcd-0\"} 200\n",
        ));
        let found = db_size(&f).expect("db size");
        assert_eq!(found.metric, APISERVER_STORAGE_SIZE_BYTES);
        assert_eq!(found.value.per_source[0].source_label, "cluster");
        assert_eq!(found.value.max_bytes, 200.0);
        // 1.26-1.27: only the middle name.
        let f = MetricFamilies::parse(
            "apiserver_storage_db_total_size_in_bytes{endpoint=\"https://e:2379\"} 100\n",
        );
        let found = db_size(&f).expect("db size");
        assert_eq!(found.metric, APISERVER_STORAGE_DB_TOTAL_SIZE_IN_BYTES);
        assert_eq!(found.value.max_bytes, 100.0);
        assert!(db_size(&MetricFamilies::parse("up 1\n")).is_none());
    }

    #[test]
    fn object_counts_prefer_resource_objects() {
        let found = object_counts(&new_server()).expect("counts");
        assert_eq!(found.metric, APISERVER_RESOURCE_OBJECTS);
        let rows: Vec<(String, f64)> = found
            .value
            .iter()
            .map(|c| (c.qualified_name(), c.count))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("configmaps".to_owned(), 412.0),
                ("events".to_owned(), -1.0),
                ("jobs.batch".to_owned(), 20012.0),
                ("leases.coordination.k8s.io".to_owned(), 37.0),
            ]
        );
        assert!(found.value[1].is_fetch_error());
        assert_eq!(found.value[2].group.as_deref(), Some("batch"));
        assert_eq!(found.value[2].resource, "jobs");
        assert_eq!(found.value[0].group, None);
    }

    #[test]
    fn object_counts_fall_back_and_split_group() {
        let found = object_counts(&old_server()).expect("counts");
        assert_eq!(found.metric, APISERVER_STORAGE_OBJECTS);
        let rows: Vec<(Option<&str>, &str, f64)> = found
            .value
            .iter()
            .map(|c| (c.group.as_deref(), c.resource.as_str(), c.count))
            .collect();
        assert_eq!(
            rows,
            vec![
                (None, "configmaps", 300.0),
                (Some("apps"), "deployments", 52.0),
                (Some("batch"), "jobs", 1200.0),
                (Some("coordination.k8s.io"), "leases", 9.0),
            ]
        );
    }

    /// Regression: replaying a 1.19 scrape, the etcd check said "object counts not
    /// readable" although the scrape has `etcd_object_counts` series.
    #[test]
    fn object_counts_read_etcd_object_counts_up_to_1_22() {
        let found = object_counts(&MetricFamilies::parse(FIXTURE_1_19)).expect("counts");
        assert_eq!(found.metric, ETCD_OBJECT_COUNTS);
        let rows: Vec<(String, f64)> = found
            .value
            .iter()
            .map(|c| (c.qualified_name(), c.count))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("configmaps".to_owned(), 61.0),
                ("events".to_owned(), 1204.0),
                ("secrets".to_owned(), 233.0),
                ("jobs.batch".to_owned(), 14007.0),
                ("leases.coordination.k8s.io".to_owned(), 12.0),
            ]
        );
        // 1.21 serves both names with the same values: the stable one is read.
        let both = object_counts(&MetricFamilies::parse(FIXTURE_1_21)).expect("counts");
        assert_eq!(both.metric, APISERVER_STORAGE_OBJECTS);
        assert_eq!(
            expected_names(Quantity::ObjectCount, 19),
            vec![ETCD_OBJECT_COUNTS]
        );
        assert_eq!(
            expected_names(Quantity::ObjectCount, 21),
            vec![APISERVER_STORAGE_OBJECTS, ETCD_OBJECT_COUNTS]
        );
        assert_eq!(
            expected_names(Quantity::ObjectCount, 23),
            vec![APISERVER_STORAGE_OBJECTS]
        );
        let db = db_size(&MetricFamilies::parse(FIXTURE_1_19)).expect("db size");
        assert_eq!(db.metric, ETCD_DB_TOTAL_SIZE_IN_BYTES);
    }

    #[test]
    fn split_group_resource_cases() {
        assert_eq!(
            split_group_resource("jobs.batch"),
            (Some("batch".to_owned()), "jobs".to_owned())
        );
        assert_eq!(
            split_group_resource("leases.coordination.k8s.io"),
            (Some("coordination.k8s.io".to_owned()), "leases".to_owned())
        );
        assert_eq!(split_group_resource("pods"), (None, "pods".to_owned()));
        assert_eq!(split_group_resource("odd."), (None, "odd".to_owned()));
    }

    #[test]
    fn object_size_estimates_new_only() {
        let found = object_size_estimates(&new_server()).expect("sizes");
        assert_eq!(found.metric, APISERVER_RESOURCE_SIZE_ESTIMATE_BYTES);
        let rows: Vec<(String, f64)> = found
            .value
            .iter()
            .map(|s| (s.qualified_name(), s.bytes))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("configmaps".to_owned(), 1_800_000.0),
                ("jobs.batch".to_owned(), 84_123_000.0),
            ]
        );
        assert!(object_size_estimates(&old_server()).is_none());
    }

    #[test]
    fn rejected_requests_by_schema_and_reason() {
        let rejected = rejected_requests(&new_server());
        let rows: Vec<(&str, &str, &str, f64)> = rejected
            .iter()
            .map(|r| {
                (
                    r.priority_level.as_str(),
                    r.flow_schema.as_str(),
                    r.reason.as_str(),
                    r.count,
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                ("global-default", "global-default", "concurrency-limit", 4.0),
                ("workload-high", "kube-scheduler", "cancelled", 1.0),
                ("workload-low", "service-accounts", "queue-full", 1523.0),
                ("workload-low", "service-accounts", "time-out", 87.0),
            ]
        );
        assert_eq!(rejected[0].reason, RejectReason::ConcurrencyLimit);
        assert_eq!(rejected[2].reason, RejectReason::QueueFull);
        assert_eq!(rejected[3].reason, RejectReason::TimeOut);
        assert_eq!(
            RejectReason::from_label("brand-new"),
            RejectReason::Other("brand-new".to_owned())
        );
        assert_eq!(rejected_requests(&MetricFamilies::parse("")), vec![]);
    }

    #[test]
    fn priority_level_load() {
        let levels = priority_levels(&new_server());
        let names: Vec<&str> = levels.iter().map(|l| l.priority_level.as_str()).collect();
        assert_eq!(
            names,
            vec!["exempt", "global-default", "workload-high", "workload-low"]
        );
        let low = &levels[3];
        assert_eq!(low.nominal_limit_seats, Some(245.0));
        assert_eq!(low.executing_requests, Some(7.0));
        assert_eq!(low.inqueue_requests, Some(41.0));
        assert_eq!(low.dispatched_requests, Some(182_734.0));
        assert_eq!(low.rejected_requests, Some(1610.0));
        assert_eq!(levels[0].rejected_requests, None);
    }

    #[test]
    fn watches_from_longrunning_requests() {
        let found = long_running_watches(&new_server()).expect("watches");
        assert_eq!(found.metric, APISERVER_LONGRUNNING_REQUESTS);
        assert_eq!(
            found.value,
            vec![
                WatchCount {
                    group: None,
                    target: WatchTarget::Resource("pods".to_owned()),
                    count: 155.0,
                },
                WatchCount {
                    group: Some("batch".to_owned()),
                    target: WatchTarget::Resource("jobs".to_owned()),
                    count: 12.0,
                },
            ]
        );
    }

    #[test]
    fn watches_from_registered_watchers() {
        let found = long_running_watches(&old_server()).expect("watches");
        assert_eq!(found.metric, APISERVER_REGISTERED_WATCHERS);
        assert_eq!(
            found.value,
            vec![
                WatchCount {
                    group: None,
                    target: WatchTarget::Kind("Pod".to_owned()),
                    count: 88.0,
                },
                WatchCount {
                    group: Some("apps".to_owned()),
                    target: WatchTarget::Kind("Deployment".to_owned()),
                    count: 14.0,
                },
            ]
        );
        // Long-running requests that are not watches do not count.
        let f = MetricFamilies::parse("apiserver_longrunning_requests{verb=\"CONNECT\"} 3\n");
        assert!(long_running_watches(&f).is_none());
    }

    #[test]
    fn candidates_and_summary() {
        assert_eq!(
            candidates(Quantity::DbSize),
            &[
                "apiserver_storage_size_bytes",
                "apiserver_storage_db_total_size_in_bytes",
                "etcd_db_total_size_in_bytes"
            ]
        );
        let found = db_size(&old_server()).map(|f| f.metric);
        assert_eq!(
            lookup_summary(Quantity::DbSize, found),
            "looked for apiserver_storage_size_bytes, apiserver_storage_db_total_size_in_bytes, \
             etcd_db_total_size_in_bytes; found etcd_db_total_size_in_bytes"
        );
        assert_eq!(
            lookup_summary(Quantity::ObjectSizeEstimate, None),
            "looked for apiserver_resource_size_estimate_bytes; found none"
        );
    }

    #[test]
    fn every_fact_is_a_candidate_and_every_candidate_has_a_fact() {
        for fact in FACTS {
            assert!(
                candidates(fact.quantity).contains(&fact.metric),
                "{} missing from candidates",
                fact.metric
            );
        }
        for q in Quantity::ALL {
            for name in candidates(q) {
                assert!(
                    FACTS.iter().any(|f| f.metric == *name && f.quantity == q),
                    "{name} has no fact"
                );
            }
        }
    }

    #[test]
    fn expectations_by_version() {
        assert_eq!(
            expected_names(Quantity::DbSize, 25),
            vec![ETCD_DB_TOTAL_SIZE_IN_BYTES]
        );
        assert_eq!(
            expected_names(Quantity::DbSize, 27),
            vec![APISERVER_STORAGE_DB_TOTAL_SIZE_IN_BYTES]
        );
        assert_eq!(
            expected_names(Quantity::DbSize, 28),
            vec![
                APISERVER_STORAGE_SIZE_BYTES,
                APISERVER_STORAGE_DB_TOTAL_SIZE_IN_BYTES
            ]
        );
        assert_eq!(
            expected_names(Quantity::DbSize, 37),
            vec![APISERVER_STORAGE_SIZE_BYTES]
        );
        assert_eq!(
            expected_names(Quantity::ObjectCount, 33),
            vec![APISERVER_STORAGE_OBJECTS]
        );
        assert_eq!(
            expected_names(Quantity::ObjectCount, 35),
            vec![APISERVER_RESOURCE_OBJECTS, APISERVER_STORAGE_OBJECTS]
        );
        assert_eq!(
            expected_names(Quantity::ObjectCount, 37),
            vec![APISERVER_RESOURCE_OBJECTS]
        );
        assert_eq!(
            expected_names(Quantity::LongRunningWatches, 24),
            vec![APISERVER_REGISTERED_WATCHERS]
        );
        assert_eq!(
            expected_names(Quantity::LongRunningWatches, 25),
            vec![APISERVER_LONGRUNNING_REQUESTS]
        );
        assert!(expected_names(Quantity::ObjectSizeEstimate, 37).is_empty());

        let v37 = expected_for_version(37);
        let storage_objects = v37
            .iter()
            .find(|e| e.metric == APISERVER_STORAGE_OBJECTS)
            .expect("storage objects listed as maybe");
        assert_eq!(storage_objects.serving, Serving::Maybe);
        let size = v37
            .iter()
            .find(|e| e.metric == APISERVER_STORAGE_SIZE_BYTES)
            .expect("size");
        assert_eq!(size.stability, Stability::Stable);
        assert_eq!(size.serving, Serving::Yes);
        let v29 = expected_for_version(29);
        let size29 = v29
            .iter()
            .find(|e| e.metric == APISERVER_STORAGE_SIZE_BYTES)
            .expect("size");
        assert_eq!(size29.stability, Stability::Alpha);
        assert!(
            !v29.iter()
                .any(|e| e.metric == APISERVER_STORAGE_DB_TOTAL_SIZE_IN_BYTES)
        );
        let v34 = expected_for_version(34);
        let so = v34
            .iter()
            .find(|e| e.metric == APISERVER_STORAGE_OBJECTS)
            .expect("so");
        assert_eq!(so.serving, Serving::Deprecated);
        // Quantity order, preference order inside a quantity.
        assert_eq!(
            v37.first().map(|e| e.metric),
            Some(APISERVER_STORAGE_SIZE_BYTES)
        );
    }

    #[test]
    fn fixture_1_37_serves_what_1_37_should() {
        let f = new_server();
        for e in expected_for_version(37) {
            if e.serving != Serving::Maybe {
                assert!(f.family(e.metric).is_some(), "fixture lacks {}", e.metric);
            }
        }
    }

    #[test]
    fn minor_version_forms() {
        assert_eq!(minor_version("v1.30.4-eks-a737599"), Some(30));
        assert_eq!(minor_version("1.37"), Some(37));
        assert_eq!(minor_version("30+"), Some(30));
        assert_eq!(minor_version(" 28 "), Some(28));
        assert_eq!(minor_version("v2.1.0"), None);
        assert_eq!(minor_version("v1."), None);
        assert_eq!(minor_version(""), None);
    }

    #[test]
    fn found_serializes_with_metric_name() {
        let found = db_size(&new_server()).expect("db size");
        let json = serde_json::to_value(&found).expect("json");
        assert_eq!(json["metric"], "apiserver_storage_size_bytes");
        assert_eq!(json["value"]["max_bytes"], 12_340_000.0);
        assert_eq!(
            json["value"]["per_source"][0]["source_label"],
            "storage_cluster_id"
        );
        let rejected = serde_json::to_value(rejected_requests(&new_server())).expect("json");
        assert_eq!(rejected[2]["reason"], "queue-full");
        let watches = long_running_watches(&old_server()).expect("w");
        let json = serde_json::to_value(&watches).expect("json");
        assert_eq!(json["value"][0]["target"]["kind"], "Pod");
    }
}
