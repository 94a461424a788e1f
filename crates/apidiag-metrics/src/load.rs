//! What loads the API server now, from a [`Window`] of `/metrics`: LISTs per
//! resource and where they were served from, requests by verb, resource and
//! scope with their latency against the SLOs, API Priority and Fairness per
//! priority level and flow schema, and open watches.
//!
//! The LIST counters changed labels twice (`../shared/research/throttle.md`
//! §1.1): `apiserver_storage_list_*{resource}` (`deployments.apps`) up to 1.33,
//! `{group,resource}` in 1.34–1.36, and `{group,resource,storage,index}` from
//! 1.37, where `storage="watchcache"` also counts the LISTs the cache served.
//! Before 1.37 those are `apiserver_cache_list_*`, keyed by the etcd key prefix
//! (`/pods`, `/minions` for nodes) until 1.33. The scheme is recognised from
//! the labels served, not assumed from the version, and always reported.
//!
//! The etcd counters include the API server's own LISTs, which [`ListLoad`]
//! estimates and subtracts before a client is blamed: the watch cache's
//! consistency checker (1.34+, every 5 minutes per cached resource, pages of
//! 10,000) and the `Limit: 1` resource-version probe every consistent LIST from
//! the cache made in 1.31–1.32. Reflector relists cannot be told apart.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::exposition::Histogram;
use crate::names::{
    APF_CURRENT_INQUEUE_REQUESTS, APF_DISPATCHED_REQUESTS_TOTAL, APF_NOMINAL_LIMIT_SEATS,
    APF_REJECTED_REQUESTS_TOTAL, APF_REQUEST_WAIT_DURATION_SECONDS, APISERVER_LONGRUNNING_REQUESTS,
    APISERVER_REQUEST_TOTAL, object_counts,
};
use crate::window::Window;

const STORAGE_LIST: &str = "apiserver_storage_list_total";
const STORAGE_FETCHED: &str = "apiserver_storage_list_fetched_objects_total";
const STORAGE_EVALUATED: &str = "apiserver_storage_list_evaluated_objects_total";
const STORAGE_RETURNED: &str = "apiserver_storage_list_returned_objects_total";
const CACHE_LIST: &str = "apiserver_cache_list_total";
const CACHE_FETCHED: &str = "apiserver_cache_list_fetched_objects_total";
const CACHE_RETURNED: &str = "apiserver_cache_list_returned_objects_total";
/// Request latency as the client sees it (APF queueing and webhooks included).
pub const APISERVER_REQUEST_DURATION_SECONDS: &str = "apiserver_request_duration_seconds";
/// Response sizes, observed for GET and LIST only.
pub const APISERVER_RESPONSE_SIZES: &str = "apiserver_response_sizes";
const APF_EXECUTING_SEATS: &str = "apiserver_flowcontrol_current_executing_seats";
const APF_CURRENT_LIMIT_SEATS: &str = "apiserver_flowcontrol_current_limit_seats";

/// The consistency checker's period and page size (1.34+).
const CHECK_PERIOD_SECONDS: f64 = 300.0;
const CHECK_PAGE: f64 = 10_000.0;

/// How the LIST counters were labelled on this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListScheme {
    /// `apiserver_storage_list_*{group,resource,storage}` (1.37+): etcd and cache in one family.
    StorageLabel,
    /// `apiserver_storage_list_*{group,resource}` and `apiserver_cache_list_*{group,resource}` (1.34–1.36).
    GroupResource,
    /// `apiserver_storage_list_*{resource="deployments.apps"}` and `apiserver_cache_list_*{resource_prefix}` (1.23–1.33).
    Qualified,
}

/// LISTs of one resource over the window. Counts are calls to the storage
/// layer: each page of a paginated LIST is one.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListLoad {
    /// API group; `None` for core, and for cache counters keyed by etcd prefix
    /// that matched no etcd series.
    pub group: Option<String>,
    pub resource: String,
    /// LIST calls served from etcd, internal ones included.
    pub etcd_calls: f64,
    /// Objects read from etcd by them.
    pub etcd_fetched: f64,
    /// Objects tested against selectors.
    pub etcd_evaluated: f64,
    /// Objects returned from etcd LISTs.
    pub etcd_returned: f64,
    /// LISTs served from the watch cache (`None`: not served by this version).
    pub cache_calls: Option<f64>,
    /// Objects the cache scanned for them.
    pub cache_fetched: Option<f64>,
    /// Objects the cache returned.
    pub cache_returned: Option<f64>,
    /// The API server's own etcd LIST calls estimated in the window.
    pub internal_calls: f64,
    /// Objects those read.
    pub internal_fetched: f64,
    /// Objects of this resource stored now, when served.
    pub objects: Option<f64>,
}

impl ListLoad {
    /// etcd LIST calls once the internal ones are taken out.
    pub fn client_etcd_calls(&self) -> f64 {
        (self.etcd_calls - self.internal_calls).max(0.0)
    }

    /// Objects clients made the API server read from etcd.
    pub fn client_etcd_fetched(&self) -> f64 {
        (self.etcd_fetched - self.internal_fetched).max(0.0)
    }

    /// `resource.group`, as kubectl names it.
    pub fn name(&self) -> String {
        qualified(self.group.as_deref(), &self.resource)
    }
}

/// Every resource with LIST activity in the window, busiest from etcd first;
/// `None` when the server serves no LIST counter.
pub fn list_load(window: &Window<'_>, minor: Option<u32>) -> Option<(ListScheme, Vec<ListLoad>)> {
    let now = window.now();
    let first = now.samples(STORAGE_LIST).next()?;
    let scheme = if first.label("storage").is_some() {
        ListScheme::StorageLabel
    } else if first.label("group").is_some() {
        ListScheme::GroupResource
    } else {
        ListScheme::Qualified
    };
    let mut rows: BTreeMap<(Option<String>, String), ListLoad> = BTreeMap::new();
    let key_of = |keys: &[String]| -> (Option<String>, String) {
        match scheme {
            ListScheme::Qualified => split(keys.first().map_or("", String::as_str)),
            _ => (
                keys.first().filter(|g| !g.is_empty()).cloned(),
                keys.get(1).cloned().unwrap_or_default(),
            ),
        }
    };
    let labels: &[&str] = match scheme {
        ListScheme::Qualified => &["resource"],
        _ => &["group", "resource"],
    };
    let etcd: &[(&str, &str)] = match scheme {
        ListScheme::StorageLabel => &[("storage", "etcd")],
        _ => &[],
    };
    type Field = fn(&mut ListLoad) -> &mut f64;
    let etcd_fields: [(&str, Field); 4] = [
        (STORAGE_LIST, |r| &mut r.etcd_calls),
        (STORAGE_FETCHED, |r| &mut r.etcd_fetched),
        (STORAGE_EVALUATED, |r| &mut r.etcd_evaluated),
        (STORAGE_RETURNED, |r| &mut r.etcd_returned),
    ];
    for (metric, field) in etcd_fields {
        for (keys, value) in window.increase_by(metric, labels, etcd) {
            let key = key_of(&keys);
            *field(entry(&mut rows, key)) += value;
        }
    }
    type CacheField = fn(&mut ListLoad) -> &mut Option<f64>;
    let cache_fields: [(&str, &str, CacheField); 3] = [
        (STORAGE_LIST, CACHE_LIST, |r| &mut r.cache_calls),
        (STORAGE_FETCHED, CACHE_FETCHED, |r| &mut r.cache_fetched),
        (STORAGE_RETURNED, CACHE_RETURNED, |r| &mut r.cache_returned),
    ];
    for (storage_metric, cache_metric, field) in cache_fields {
        let increases = match scheme {
            ListScheme::StorageLabel => {
                window.increase_by(storage_metric, labels, &[("storage", "watchcache")])
            }
            ListScheme::GroupResource => window.increase_by(cache_metric, labels, &[]),
            ListScheme::Qualified => window
                .increase_by(cache_metric, &["resource_prefix"], &[])
                .into_iter()
                .map(|(keys, v)| {
                    (
                        vec![from_prefix(keys.first().map_or("", String::as_str))],
                        v,
                    )
                })
                .collect(),
        };
        for (keys, value) in increases {
            let key = match scheme {
                ListScheme::Qualified => {
                    by_resource_name(&rows, keys.first().map_or("", String::as_str))
                }
                _ => key_of(&keys),
            };
            let slot = field(entry(&mut rows, key));
            *slot = Some(slot.unwrap_or(0.0) + value);
        }
    }
    let counts = object_counts(now)
        .map(|found| found.value)
        .unwrap_or_default();
    for row in rows.values_mut() {
        row.objects = counts
            .iter()
            .find(|c| c.resource == row.resource && c.group == row.group)
            .map(|c| c.count);
        subtract_internal(row, window, minor);
    }
    let mut out: Vec<ListLoad> = rows.into_values().collect();
    out.sort_by(|a, b| {
        b.client_etcd_fetched()
            .total_cmp(&a.client_etcd_fetched())
            .then_with(|| b.etcd_calls.total_cmp(&a.etcd_calls))
            .then_with(|| a.name().cmp(&b.name()))
    });
    Some((scheme, out))
}

fn entry(
    rows: &mut BTreeMap<(Option<String>, String), ListLoad>,
    key: (Option<String>, String),
) -> &mut ListLoad {
    rows.entry(key.clone()).or_insert_with(|| ListLoad {
        group: key.0,
        resource: key.1,
        ..ListLoad::default()
    })
}

/// Estimates the internal etcd LISTs of the window (see the module doc).
fn subtract_internal(row: &mut ListLoad, window: &Window<'_>, minor: Option<u32>) {
    let Some(minor) = minor else { return };
    // Events have no watch cache by default, so nothing checks them.
    if minor >= 34 && row.resource != "events" {
        let objects = row.objects.unwrap_or(0.0);
        let rounds = window.seconds() / CHECK_PERIOD_SECONDS;
        let pages = (objects / CHECK_PAGE).ceil().max(1.0);
        row.internal_calls = (rounds * pages).min(row.etcd_calls);
        row.internal_fetched = (rounds * objects).min(row.etcd_fetched);
    } else if (31..=32).contains(&minor) {
        let probes = row.cache_calls.unwrap_or(0.0).min(row.etcd_calls);
        row.internal_calls = probes;
        row.internal_fetched = probes.min(row.etcd_fetched);
    }
}

/// `deployments.apps` → `(Some("apps"), "deployments")`.
fn split(qualified: &str) -> (Option<String>, String) {
    match qualified.split_once('.') {
        Some((resource, group)) if !group.is_empty() => {
            (Some(group.to_owned()), resource.to_owned())
        }
        _ => (None, qualified.trim_end_matches('.').to_owned()),
    }
}

fn qualified(group: Option<&str>, resource: &str) -> String {
    match group {
        Some(g) => format!("{resource}.{g}"),
        None => resource.to_owned(),
    }
}

/// The resource an etcd key prefix stores (`storageFactory.ResourcePrefix`,
/// with the special prefixes of `SpecialDefaultResourcePrefixes`).
fn from_prefix(prefix: &str) -> String {
    let trimmed = prefix.trim_start_matches('/');
    match trimmed {
        "minions" => "nodes",
        "services/specs" => "services",
        "services/endpoints" => "endpoints",
        "controllers" => "replicationcontrollers",
        "ingress" => "ingresses",
        other => other.rsplit('/').next().unwrap_or(other),
    }
    .to_owned()
}

/// The etcd series' key for a resource known by name only, when exactly one
/// group has it; otherwise its own row without a group.
fn by_resource_name(
    rows: &BTreeMap<(Option<String>, String), ListLoad>,
    resource: &str,
) -> (Option<String>, String) {
    let mut matching = rows.keys().filter(|(_, r)| r == resource);
    match (matching.next(), matching.next()) {
        (Some(key), None) => key.clone(),
        _ => (None, resource.to_owned()),
    }
}

/// The upstream latency SLO of a request, in seconds, from its metric verb and
/// scope: 1 s for single-object and mutating calls, 5 s for namespace LISTs, 30 s
/// for cluster LISTs; none for watches, CONNECT and non-resource URLs.
pub fn slo_seconds(verb: &str, scope: &str) -> Option<f64> {
    match (verb, scope) {
        ("LIST", "cluster") => Some(30.0),
        ("LIST", "namespace") => Some(5.0),
        ("LIST", _) => Some(1.0),
        (
            "GET" | "POST" | "PUT" | "PATCH" | "APPLY" | "DELETE",
            "resource" | "namespace" | "cluster",
        ) => Some(1.0),
        _ => None,
    }
}

/// Requests of one verb, resource and scope over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestLoad {
    pub verb: String,
    pub group: Option<String>,
    /// `pods`, `pods/status`; a non-resource path (`/healthz`) when no resource.
    pub resource: String,
    /// `resource`, `namespace`, `cluster`, or empty for non-resource URLs.
    pub scope: String,
    pub requests: f64,
    pub too_many_requests: f64,
    pub server_errors: f64,
    /// P99 latency in the window (`None`: watches and CONNECT, or no observation).
    pub p99_seconds: Option<f64>,
    pub slo_seconds: Option<f64>,
    /// Mean response size in bytes (GET and LIST only).
    pub mean_response_bytes: Option<f64>,
}

impl RequestLoad {
    pub fn breaches_slo(&self) -> bool {
        matches!((self.p99_seconds, self.slo_seconds), (Some(p), Some(s)) if p > s)
    }
}

/// Requests by verb, group, resource and scope, busiest first. Latency and
/// sizes are read for the `limit` busiest only: each is a pass over a large
/// histogram family.
pub fn request_load(window: &Window<'_>, limit: usize) -> Vec<RequestLoad> {
    let labels = ["verb", "group", "resource", "subresource", "scope", "code"];
    let mut rows: BTreeMap<[String; 5], RequestLoad> = BTreeMap::new();
    for (keys, value) in window.increase_by(APISERVER_REQUEST_TOTAL, &labels, &[]) {
        let [verb, group, resource, subresource, scope, code] =
            <[String; 6]>::try_from(keys).unwrap_or_default();
        let shown = match (resource.is_empty(), subresource.is_empty()) {
            (true, _) => subresource.clone(),
            (false, true) => resource.clone(),
            (false, false) => format!("{resource}/{subresource}"),
        };
        let row = rows
            .entry([
                verb.clone(),
                group.clone(),
                resource,
                subresource,
                scope.clone(),
            ])
            .or_insert_with(|| RequestLoad {
                slo_seconds: slo_seconds(&verb, &scope),
                verb,
                group: (!group.is_empty()).then_some(group),
                resource: shown,
                scope,
                requests: 0.0,
                too_many_requests: 0.0,
                server_errors: 0.0,
                p99_seconds: None,
                mean_response_bytes: None,
            });
        row.requests += value;
        if code == "429" {
            row.too_many_requests += value;
        } else if code.starts_with('5') {
            row.server_errors += value;
        }
    }
    let mut out: Vec<([String; 5], RequestLoad)> =
        rows.into_iter().filter(|(_, r)| r.requests > 0.0).collect();
    out.sort_by(|a, b| {
        b.1.requests
            .total_cmp(&a.1.requests)
            .then_with(|| a.0.cmp(&b.0))
    });
    for (key, row) in out.iter_mut().take(limit) {
        let filter: Vec<(&str, &str)> = ["verb", "group", "resource", "subresource", "scope"]
            .into_iter()
            .zip(key.iter().map(String::as_str))
            .collect();
        if row.slo_seconds.is_some() {
            row.p99_seconds = window
                .histogram(APISERVER_REQUEST_DURATION_SECONDS, &filter)
                .and_then(|h| h.quantile(0.99));
        }
        if matches!(row.verb.as_str(), "GET" | "LIST") {
            row.mean_response_bytes = window
                .histogram(APISERVER_RESPONSE_SIZES, &filter)
                .and_then(|h| h.mean());
        }
    }
    out.into_iter().map(|(_, r)| r).collect()
}

/// One flow schema's traffic in one priority level over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApfFlow {
    pub priority_level: String,
    pub flow_schema: String,
    pub dispatched: f64,
    /// Rejections by reason (`queue-full`, `concurrency-limit`, `time-out`, `cancelled`).
    pub rejected: Vec<(String, f64)>,
    /// Requests waiting in its queues at the second scrape.
    pub in_queue: f64,
    /// P99 of the queue wait of requests that ran, in the window.
    pub wait_p99_seconds: Option<f64>,
    /// Seats its requests occupy at the second scrape.
    pub executing_seats: Option<f64>,
}

impl ApfFlow {
    pub fn rejected_total(&self) -> f64 {
        // Not `sum()`: an empty f64 sum is -0.0, which prints as "-0".
        self.rejected.iter().fold(0.0, |total, (_, n)| total + n)
    }
}

/// A priority level's seats at the second scrape.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApfLevel {
    pub priority_level: String,
    /// Seats from its shares.
    pub nominal_seats: Option<f64>,
    /// Seats after borrowing and lending (ALPHA, not always served).
    pub current_limit_seats: Option<f64>,
    /// Seats in use.
    pub executing_seats: Option<f64>,
}

/// APF per (priority level, flow schema) with any activity, most rejected then
/// most dispatched first; and per priority level.
pub fn apf(window: &Window<'_>) -> (Vec<ApfFlow>, Vec<ApfLevel>) {
    let pair = ["priority_level", "flow_schema"];
    let mut flows: BTreeMap<(String, String), ApfFlow> = BTreeMap::new();
    let flow = |keys: &[String]| -> (String, String) {
        (
            keys.first().cloned().unwrap_or_default(),
            keys.get(1).cloned().unwrap_or_default(),
        )
    };
    for (keys, value) in window.increase_by(APF_DISPATCHED_REQUESTS_TOTAL, &pair, &[]) {
        let key = flow(&keys);
        flows_entry(&mut flows, key).dispatched += value;
    }
    for (keys, value) in window.increase_by(
        APF_REJECTED_REQUESTS_TOTAL,
        &["priority_level", "flow_schema", "reason"],
        &[],
    ) {
        if value > 0.0 {
            let reason = keys.get(2).cloned().unwrap_or_default();
            flows_entry(&mut flows, flow(&keys))
                .rejected
                .push((reason, value));
        }
    }
    for (keys, value) in window
        .now()
        .group_by_labels(APF_CURRENT_INQUEUE_REQUESTS, &pair, &[])
    {
        flows_entry(&mut flows, flow(&keys)).in_queue += value;
    }
    for (keys, value) in window
        .now()
        .group_by_labels(APF_EXECUTING_SEATS, &pair, &[])
    {
        let row = flows_entry(&mut flows, flow(&keys));
        row.executing_seats = Some(row.executing_seats.unwrap_or(0.0) + value);
    }
    let mut out: Vec<ApfFlow> = flows
        .into_values()
        .filter(|f| f.dispatched > 0.0 || f.rejected_total() > 0.0 || f.in_queue > 0.0)
        .collect();
    for row in &mut out {
        let filter = [
            ("priority_level", row.priority_level.as_str()),
            ("flow_schema", row.flow_schema.as_str()),
            ("execute", "true"),
        ];
        row.wait_p99_seconds = window
            .histogram(APF_REQUEST_WAIT_DURATION_SECONDS, &filter)
            .filter(|h| h.count().unwrap_or(0.0) > 0.0)
            .and_then(|h: Histogram| h.quantile(0.99));
    }
    out.sort_by(|a, b| {
        b.rejected_total()
            .total_cmp(&a.rejected_total())
            .then_with(|| b.dispatched.total_cmp(&a.dispatched))
            .then_with(|| a.flow_schema.cmp(&b.flow_schema))
    });
    let mut levels: BTreeMap<String, ApfLevel> = BTreeMap::new();
    type LevelField = fn(&mut ApfLevel) -> &mut Option<f64>;
    let fields: [(&str, LevelField); 3] = [
        (APF_NOMINAL_LIMIT_SEATS, |l| &mut l.nominal_seats),
        (APF_CURRENT_LIMIT_SEATS, |l| &mut l.current_limit_seats),
        (APF_EXECUTING_SEATS, |l| &mut l.executing_seats),
    ];
    for (metric, field) in fields {
        for (level, value) in window.now().group_by(metric, "priority_level") {
            let row = levels.entry(level.clone()).or_insert_with(|| ApfLevel {
                priority_level: level,
                nominal_seats: None,
                current_limit_seats: None,
                executing_seats: None,
            });
            *field(row) = Some(field(row).unwrap_or(0.0) + value);
        }
    }
    (out, levels.into_values().collect())
}

fn flows_entry(
    flows: &mut BTreeMap<(String, String), ApfFlow>,
    key: (String, String),
) -> &mut ApfFlow {
    flows.entry(key.clone()).or_insert_with(|| ApfFlow {
        priority_level: key.0,
        flow_schema: key.1,
        dispatched: 0.0,
        rejected: Vec::new(),
        in_queue: 0.0,
        wait_p99_seconds: None,
        executing_seats: None,
    })
}

/// 429s that API Priority and Fairness did not send (the watch cache while it
/// initializes, a proxy, an aggregated API): all 429s of the window minus APF's
/// rejections. `None` when the server serves no request counter.
pub fn non_apf_throttling(window: &Window<'_>) -> Option<f64> {
    let all = window
        .increase(APISERVER_REQUEST_TOTAL, &[("code", "429")])
        .unwrap_or(0.0);
    window.now().samples(APISERVER_REQUEST_TOTAL).next()?;
    let apf = window
        .increase(APF_REJECTED_REQUESTS_TOTAL, &[])
        .unwrap_or(0.0);
    Some((all - apf).max(0.0))
}

/// Open watches of one resource at both ends of the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchGrowth {
    pub group: Option<String>,
    pub resource: String,
    /// At the first scrape (`None` since start).
    pub before: Option<f64>,
    pub now: f64,
}

/// Open watches per resource (`apiserver_longrunning_requests{verb="WATCH"}`),
/// most first.
pub fn watch_growth(window: &Window<'_>) -> Vec<WatchGrowth> {
    let labels = ["group", "resource"];
    let filter = [("verb", "WATCH")];
    let then: BTreeMap<Vec<String>, f64> = window
        .before()
        .map(|b| b.group_by_labels(APISERVER_LONGRUNNING_REQUESTS, &labels, &filter))
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut out: Vec<WatchGrowth> = window
        .now()
        .group_by_labels(APISERVER_LONGRUNNING_REQUESTS, &labels, &filter)
        .into_iter()
        .map(|(keys, now)| WatchGrowth {
            before: window
                .before()
                .map(|_| then.get(&keys).copied().unwrap_or(0.0)),
            group: keys.first().filter(|g| !g.is_empty()).cloned(),
            resource: keys.get(1).cloned().unwrap_or_default(),
            now,
        })
        .collect();
    out.sort_by(|a, b| {
        b.now
            .total_cmp(&a.now)
            .then_with(|| a.resource.cmp(&b.resource))
    });
    out
}
