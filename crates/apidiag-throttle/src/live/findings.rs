//! Live findings: one per question an SRE asks of the metrics, in order: is APF
//! rejecting or queueing (and whose priority level), is something else sending
//! 429s, which LISTs read etcd, which calls break their SLO, which responses are
//! huge, do watches grow, is the AKS guard on; and a summary of the load that
//! says who cannot be named from metrics and how to name them.
//!
//! Thresholds are the research's proposals (`../shared/research/throttle.md`
//! §8.1), kept here as named constants so the docs can quote them.

use apidiag_core::finding::{Evidence, Finding, Severity, Source};
use apidiag_metrics::load::{ListLoad, RequestLoad};

use super::{LiveLoad, humantime_short};

/// Objects clients make the API server read from etcd per minute, for one
/// resource, above which its LISTs are a load of their own.
pub const ETCD_OBJECTS_PER_MINUTE: f64 = 50_000.0;
/// Objects read per object returned above which selectors waste the reads.
pub const SELECTOR_WASTE: f64 = 10.0;
/// Mean LIST response above which responses alone strain memory.
pub const LARGE_LIST_BYTES: f64 = 50e6;
/// Queue wait above which APF queueing is felt as latency.
pub const QUEUE_WAIT_SECONDS: f64 = 1.0;
/// Requests a (verb, resource, scope) needs before its P99 is judged.
const MIN_TIMED: f64 = 10.0;
/// Prefix of what the FlowSchema fix creates: its own rejections are the fix working.
pub const OWN_PREFIX: &str = "apidiag-throttle-";
/// The AKS guard's FlowSchema and priority level.
const GUARD: &str = "aks-managed-apiserver-guard";
const ROWS: usize = 15;

fn source(step: &str) -> Source {
    crate::source(step)
}

fn n(value: f64) -> String {
    if value >= 100.0 || value == value.trunc() {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// A sum that is 0 when empty: `Iterator::sum` of no f64 is -0.0, which prints "-0".
fn add(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |total, v| total + v)
}

fn per_minute(load: &LiveLoad, count: f64) -> f64 {
    count * 60.0 / load.seconds
}

/// Every live finding, in the order of the module doc.
pub fn all(load: &LiveLoad) -> Vec<Finding> {
    let mut out = vec![rejecting(load)];
    out.extend(queueing(load));
    out.extend(non_apf(load));
    out.push(etcd_lists(load));
    out.push(latency(load));
    out.extend(large_lists(load));
    out.push(watches(load));
    out.extend(guard(load));
    out.push(summary(load));
    out
}

/// `throttle.apf-rejecting`: who API Priority and Fairness turned away.
fn rejecting(load: &LiveLoad) -> Finding {
    let rejected: Vec<_> = load
        .flows
        .iter()
        .filter(|f| f.rejected_total() > 0.0)
        .collect();
    let theirs: Vec<_> = rejected
        .iter()
        .filter(|f| {
            !f.flow_schema.starts_with(OWN_PREFIX) && !f.priority_level.starts_with(OWN_PREFIX)
        })
        .collect();
    let total = add(theirs.iter().map(|f| f.rejected_total()));
    let severity = match (theirs.is_empty(), rejected.is_empty(), load.since_start) {
        (true, true, _) => Severity::Ok,
        (true, false, _) => Severity::Info,
        (false, _, true) => Severity::Warning,
        (false, _, false) => Severity::Critical,
    };
    let title = match theirs.first() {
        None if rejected.is_empty() => format!(
            "API Priority and Fairness rejected no request in {}",
            load.span()
        ),
        None => format!(
            "Only the throttle apidiag created rejected requests in {} (it is working)",
            load.span()
        ),
        Some(top) => format!(
            "API Priority and Fairness rejected {} requests in {} (429), most in priority level `{}` for flow schema `{}`",
            n(total),
            load.span(),
            top.priority_level,
            top.flow_schema
        ),
    };
    let rows = rejected
        .iter()
        .take(ROWS)
        .map(|f| {
            let reasons = f
                .rejected
                .iter()
                .map(|(r, c)| format!("{r} {}", n(*c)))
                .collect::<Vec<_>>()
                .join(", ");
            let level = load
                .levels
                .iter()
                .find(|l| l.priority_level == f.priority_level);
            let limit = level.and_then(|l| l.current_limit_seats.or(l.nominal_seats));
            vec![
                f.priority_level.clone(),
                f.flow_schema.clone(),
                n(f.rejected_total()),
                reasons,
                n(f.dispatched),
                level.and_then(|l| l.nominal_seats).map_or("-".into(), n),
                match (level.and_then(|l| l.executing_seats), limit) {
                    (Some(used), Some(limit)) => format!("{} of {}", n(used), n(limit)),
                    (Some(used), None) => n(used),
                    _ => "-".into(),
                },
            ]
        })
        .collect();
    let mut finding = Finding::new("throttle.apf-rejecting", severity, title)
        .detail(
            "A rejection is a 429 with Retry-After from API Priority and Fairness: the priority level's seats and \
             queues were full (queue-full), it has no queues (concurrency-limit), or the request waited too long \
             (time-out). The flow schema names the class of client, not the client: --audit-log names who.",
        )
        .source(source("Solution 5b: throttle the offending client with a FlowSchema"));
    if !rejected.is_empty() {
        finding = finding.evidence(Evidence::table(
            "rejections by priority level and flow schema",
            &[
                "priority level",
                "flow schema",
                "rejected",
                "by reason",
                "dispatched",
                "nominal seats",
                "seats in use now",
            ],
            rows,
        ));
    }
    let mut throttled: Vec<&RequestLoad> = load
        .requests
        .iter()
        .filter(|r| r.too_many_requests > 0.0)
        .collect();
    throttled.sort_by(|a, b| b.too_many_requests.total_cmp(&a.too_many_requests));
    if !throttled.is_empty() {
        let rows = throttled
            .iter()
            .take(ROWS)
            .map(|r| {
                vec![
                    r.verb.clone(),
                    group_resource(r),
                    scope_label(r),
                    n(r.too_many_requests),
                    n(r.requests),
                ]
            })
            .collect();
        finding = finding.evidence(Evidence::table(
            "429s by verb and resource",
            &["verb", "resource", "scope", "429s", "requests"],
            rows,
        ));
    }
    if !theirs.is_empty() {
        finding = finding
            .next("kubectl apidiag throttle --kql resource-specific")
            .next("kubectl apidiag throttle --audit-log PATH");
    }
    finding
}

/// `throttle.apf-queueing`: requests that waited for a seat.
fn queueing(load: &LiveLoad) -> Option<Finding> {
    let waiting: Vec<_> = load
        .flows
        .iter()
        .filter(|f| f.in_queue > 0.0 || f.wait_p99_seconds.is_some_and(|w| w > QUEUE_WAIT_SECONDS))
        .collect();
    let first = waiting.first()?;
    let rows = waiting
        .iter()
        .take(ROWS)
        .map(|f| {
            vec![
                f.priority_level.clone(),
                f.flow_schema.clone(),
                n(f.in_queue),
                f.wait_p99_seconds
                    .map_or("-".into(), |w| format!("{w:.2}s")),
            ]
        })
        .collect();
    Some(
        Finding::new(
            "throttle.apf-queueing",
            Severity::Warning,
            format!(
                "Requests wait for a seat in priority level `{}` (flow schema `{}`)",
                first.priority_level, first.flow_schema
            ),
        )
        .detail(format!(
            "Queued requests are slow before they start; a P99 queue wait above {QUEUE_WAIT_SECONDS} s is felt by every client of that level."
        ))
        .evidence(Evidence::table(
            "queues",
            &["priority level", "flow schema", "in queue now", "wait P99"],
            rows,
        ))
        .source(source("Solution 5b")),
    )
}

/// `throttle.non-apf-429`: 429s that APF did not send.
fn non_apf(load: &LiveLoad) -> Option<Finding> {
    let other = load.non_apf_429.filter(|v| *v > 0.0)?;
    Some(
        Finding::new(
            "throttle.non-apf-429",
            Severity::Warning,
            format!("{} 429 answers in {} did not come from API Priority and Fairness", n(other), load.span()),
        )
        .detail(
            "apiserver_request_total counts more 429s than apiserver_flowcontrol_rejected_requests_total. Other \
             sources: the watch cache while it (re)initializes (\"storage is (re)initializing\"), an aggregated \
             API server, or --max-requests-inflight without APF.",
        )
        .source(source("Cause 5")),
    )
}

/// `throttle.etcd-lists`: LISTs that read etcd, after the server's own.
fn etcd_lists(load: &LiveLoad) -> Finding {
    let Some((scheme, lists)) = &load.lists else {
        return Finding::new(
            "throttle.etcd-lists",
            Severity::Info,
            "This API server serves no LIST counters (apiserver_storage_list_total, 1.23+)",
        )
        .source(source("Cause 5: LIST calls"));
    };
    let hot: Vec<&ListLoad> = lists
        .iter()
        .filter(|l| per_minute(load, l.client_etcd_fetched()) > ETCD_OBJECTS_PER_MINUTE)
        .collect();
    let wasteful: Vec<&ListLoad> = lists
        .iter()
        .filter(|l| {
            l.etcd_returned > 0.0
                && l.client_etcd_fetched() / l.etcd_returned > SELECTOR_WASTE
                && per_minute(load, l.client_etcd_fetched()) > ETCD_OBJECTS_PER_MINUTE / 10.0
        })
        .collect();
    let severity = if hot.is_empty() && wasteful.is_empty() {
        Severity::Ok
    } else {
        Severity::Warning
    };
    let title = match hot.first() {
        Some(top) => format!(
            "LISTs of {} read {} objects a minute from etcd (above {})",
            top.name(),
            n(per_minute(load, top.client_etcd_fetched())),
            n(ETCD_OBJECTS_PER_MINUTE)
        ),
        None => match wasteful.first() {
            Some(w) => format!(
                "LISTs of {} read {:.0}× more objects from etcd than they return: selectors filter after the read",
                w.name(),
                w.client_etcd_fetched() / w.etcd_returned.max(1.0)
            ),
            None => format!(
                "No resource's LISTs read more than {} objects a minute from etcd in {}",
                n(ETCD_OBJECTS_PER_MINUTE),
                load.span()
            ),
        },
    };
    let rows = lists
        .iter()
        .filter(|l| l.etcd_calls > 0.0 || l.cache_calls.unwrap_or(0.0) > 0.0)
        .take(ROWS)
        .map(|l| {
            vec![
                l.name(),
                format!("{:.1}", per_minute(load, l.client_etcd_calls())),
                l.cache_calls
                    .map_or("-".into(), |c| format!("{:.1}", per_minute(load, c))),
                n(per_minute(load, l.client_etcd_fetched())),
                if l.etcd_calls > 0.0 {
                    n(l.etcd_returned / l.etcd_calls)
                } else {
                    "-".into()
                },
                l.objects.map_or("-".into(), n),
                n(l.internal_calls),
            ]
        })
        .collect();
    let scheme = match scheme {
        apidiag_metrics::load::ListScheme::StorageLabel => {
            "apiserver_storage_list_*{storage} (1.37+: etcd and watch cache)"
        }
        apidiag_metrics::load::ListScheme::GroupResource => {
            "apiserver_storage_list_* (etcd) and apiserver_cache_list_* {group,resource} (1.34–1.36)"
        }
        apidiag_metrics::load::ListScheme::Qualified => {
            "apiserver_storage_list_*{resource} (etcd) and apiserver_cache_list_*{resource_prefix} (1.23–1.33)"
        }
    };
    Finding::new("throttle.etcd-lists", severity, title)
        .detail(
            "A LIST served from etcd reads every object of the range, however few the selector keeps; the watch \
             cache serves the same LIST from memory. Counts are calls to storage (each page is one). The API \
             server's own LISTs are estimated and subtracted first: the watch cache's consistency check (1.34+, \
             every 5 minutes per resource, pages of 10,000) and the one-object probe of consistent reads (1.31–1.32); \
             reflector relists cannot be told apart.",
        )
        .evidence(Evidence::new("metrics read", scheme))
        .evidence(Evidence::table(
            "LISTs per resource (per minute)",
            &["resource", "from etcd", "from cache", "objects read from etcd", "returned per etcd call", "objects stored", "internal calls subtracted"],
            rows,
        ))
        .source(source("Cause 5: an offending client makes excessive LIST calls"))
}

fn scope_label(r: &RequestLoad) -> String {
    if r.scope.is_empty() {
        "-".into()
    } else {
        r.scope.clone()
    }
}

/// `deployments.apps`, `flowschemas.flowcontrol.apiserver.k8s.io/status`.
fn group_resource(r: &RequestLoad) -> String {
    match (&r.group, r.resource.split_once('/')) {
        (Some(g), Some((resource, sub))) => format!("{resource}.{g}/{sub}"),
        (Some(g), None) => format!("{}.{g}", r.resource),
        (None, _) => r.resource.clone(),
    }
}

/// `throttle.latency-slo`: P99 against the upstream SLOs, from the histograms.
fn latency(load: &LiveLoad) -> Finding {
    let breaches: Vec<&RequestLoad> = load
        .requests
        .iter()
        .filter(|r| r.requests >= MIN_TIMED && r.breaches_slo())
        .collect();
    let severity = if breaches.is_empty() {
        Severity::Ok
    } else {
        Severity::Warning
    };
    let title = match breaches.first() {
        Some(r) => format!(
            "{} {} ({}) P99 is {:.1} s, above its {} s SLO{}",
            r.verb,
            group_resource(r),
            scope_label(r),
            r.p99_seconds.unwrap_or(0.0),
            r.slo_seconds.unwrap_or(0.0),
            if breaches.len() > 1 {
                format!(", and {} more", breaches.len() - 1)
            } else {
                String::new()
            }
        ),
        None => format!(
            "No busy verb and resource broke its latency SLO in {}",
            load.span()
        ),
    };
    let rows = breaches
        .iter()
        .take(ROWS)
        .map(|r| {
            vec![
                r.verb.clone(),
                group_resource(r),
                scope_label(r),
                n(r.requests),
                r.p99_seconds.map_or("-".into(), |p| format!("{p:.2}s")),
                r.slo_seconds.map_or("-".into(), |s| format!("{s}s")),
            ]
        })
        .collect();
    let mut finding = Finding::new("throttle.latency-slo", severity, title)
        .detail(
            "apiserver_request_duration_seconds over the window, P99 by bucket interpolation as PromQL does, against \
             the upstream SLOs: 1 s for single objects and writes, 5 s for namespace LISTs, 30 s for cluster LISTs \
             (the time includes APF queueing and webhooks, as the client feels it).",
        )
        .source(source("Cause 5, Step 3: P99 latency by verb and resource"));
    if !breaches.is_empty() {
        finding = finding.evidence(Evidence::table(
            "above the SLO",
            &["verb", "resource", "scope", "requests", "P99", "SLO"],
            rows,
        ));
    }
    finding
}

/// `throttle.large-lists`: LIST responses big enough to strain memory alone.
fn large_lists(load: &LiveLoad) -> Option<Finding> {
    let large: Vec<&RequestLoad> = load
        .requests
        .iter()
        .filter(|r| r.verb == "LIST" && r.mean_response_bytes.is_some_and(|b| b > LARGE_LIST_BYTES))
        .collect();
    let first = large.first()?;
    let rows = large
        .iter()
        .take(ROWS)
        .map(|r| {
            vec![
                group_resource(r),
                scope_label(r),
                n(r.requests),
                apidiag_core::api::human_bytes(r.mean_response_bytes.unwrap_or(0.0) as u64),
            ]
        })
        .collect();
    Some(
        Finding::new(
            "throttle.large-lists",
            Severity::Warning,
            format!(
                "LISTs of {} return {} on average",
                group_resource(first),
                apidiag_core::api::human_bytes(first.mean_response_bytes.unwrap_or(0.0) as u64)
            ),
        )
        .detail("The API server holds a response in memory while it encodes it; concurrent large LISTs are how it runs out of memory (Cause 4, the guard).")
        .evidence(Evidence::table("large LIST responses", &["resource", "scope", "LISTs", "mean size"], rows))
        .source(source("Cause 5")),
    )
}

/// `throttle.watches`: open watches, and whether they grew over the window.
fn watches(load: &LiveLoad) -> Finding {
    let growing: Vec<_> = load
        .watches
        .iter()
        .filter(|w| {
            w.before
                .is_some_and(|b| w.now - b >= 50.0 && w.now > b * 1.1)
        })
        .collect();
    let total = add(load.watches.iter().map(|w| w.now));
    let severity = if growing.is_empty() {
        Severity::Ok
    } else {
        Severity::Warning
    };
    let title = match growing.first() {
        Some(w) => format!(
            "Watches on {} grew from {} to {} in {}",
            w.resource,
            n(w.before.unwrap_or(0.0)),
            n(w.now),
            load.span()
        ),
        None => format!("{} watches are open; none grew by 10% or more", n(total)),
    };
    let rows = load
        .watches
        .iter()
        .take(ROWS)
        .map(|w| {
            vec![
                w.group
                    .as_ref()
                    .map_or(w.resource.clone(), |g| format!("{}.{g}", w.resource)),
                w.before.map_or("-".into(), n),
                n(w.now),
            ]
        })
        .collect();
    Finding::new("throttle.watches", severity, title)
        .detail(
            "apiserver_longrunning_requests{verb=\"WATCH\"}. A client that opens a watch for every read and never \
             closes it makes the count climb while objects stay flat (the TCP time-outs guide, Cause 5: leaking \
             watches and GETs).",
        )
        .evidence(Evidence::table("open watches", &["resource", "first scrape", "now"], rows))
        .source(Source {
            guide: "TCP time-outs when kubectl or other third-party tools connect to the API server".into(),
            section: "Cause 5: the API server is overloaded by leaking watches and GETs".into(),
        })
}

/// `throttle.guard-active`: the AKS guard throttles non-system clients.
fn guard(load: &LiveLoad) -> Option<Finding> {
    let level = load.levels.iter().find(|l| l.priority_level == GUARD)?;
    let rejected = add(load
        .flows
        .iter()
        .filter(|f| f.priority_level == GUARD)
        .map(|f| f.rejected_total()));
    Some(
        Finding::new(
            "throttle.guard-active",
            Severity::Warning,
            format!("The AKS managed API server guard is active ({} requests rejected in {})", n(rejected), load.span()),
        )
        .detail("AKS applied it after the API server ran out of memory; it throttles non-system clients. `kubectl apidiag guard` explains it and its fixes; find the clients first.")
        .evidence(Evidence::new("nominal seats", level.nominal_seats.map_or("-".into(), n)))
        .source(source("Cause 4: the AKS managed API server guard"))
        .next("kubectl apidiag guard"),
    )
}

/// `throttle.load`: the busiest verbs and resources, and how to name the clients.
fn summary(load: &LiveLoad) -> Finding {
    let total = add(load.requests.iter().map(|r| r.requests));
    let rows = load
        .requests
        .iter()
        .filter(|r| !r.resource.starts_with('/'))
        .take(ROWS)
        .map(|r| {
            vec![
                r.verb.clone(),
                group_resource(r),
                scope_label(r),
                format!("{:.2}", r.requests / load.seconds),
                n(r.too_many_requests),
                r.p99_seconds.map_or("-".into(), |p| format!("{p:.3}s")),
            ]
        })
        .collect();
    let mut finding = Finding::new(
        "throttle.load",
        Severity::Ok,
        format!(
            "{:.1} requests a second over {}{}",
            total / load.seconds,
            load.span(),
            load.minor.map_or(String::new(), |m| format!(" (Kubernetes 1.{m})"))
        ),
    )
    .detail(
        "No metric names a client: these say which verb and resource are hot. The audit log names who sends them \
         (user agent and user): export it with the query of --kql, or give a kube-apiserver or AKS export to \
         --audit-log.",
    )
    .evidence(Evidence::table(
        "busiest verbs and resources",
        &["verb", "resource", "scope", "per second", "429s", "P99"],
        rows,
    ))
    .source(source("collect the audit log"))
    .next("kubectl apidiag throttle --kql resource-specific")
    .next("kubectl apidiag throttle --audit-log PATH");
    if load.since_start {
        finding = finding.evidence(Evidence::new(
            "window",
            format!(
                "counters since the API server started, {} ago; `kubectl apidiag throttle --window 30s` measures the load now",
                humantime_short(load.seconds)
            ),
        ));
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use apidiag_metrics::load::ApfLevel;

    fn quiet() -> LiveLoad {
        LiveLoad {
            seconds: 30.0,
            since_start: false,
            window_refused: None,
            minor: Some(37),
            lists: None,
            requests: Vec::new(),
            flows: Vec::new(),
            levels: vec![ApfLevel {
                priority_level: GUARD.into(),
                nominal_seats: Some(12.0),
                current_limit_seats: None,
                executing_seats: None,
            }],
            non_apf_429: Some(0.0),
            watches: Vec::new(),
        }
    }

    #[test]
    fn regression_nothing_rejected_is_zero_not_minus_zero() {
        let load = quiet();
        let guard = guard(&load).expect("the guard's level is served");
        assert!(
            guard.title.contains("(0 requests rejected"),
            "{}",
            guard.title
        );
        assert!(
            watches(&load).title.starts_with("0 watches"),
            "{}",
            watches(&load).title
        );
        assert!(
            summary(&load).title.starts_with("0.0 requests"),
            "{}",
            summary(&load).title
        );
    }

    #[test]
    fn a_quiet_server_has_nothing_above_ok_but_the_guard() {
        for finding in all(&quiet()) {
            let expected = match finding.id.as_str() {
                "throttle.guard-active" => Severity::Warning,
                // Said, not guessed: this server serves no LIST counter.
                "throttle.etcd-lists" => Severity::Info,
                _ => Severity::Ok,
            };
            assert_eq!(
                finding.severity, expected,
                "{}: {}",
                finding.id, finding.title
            );
        }
    }
}
