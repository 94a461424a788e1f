//! Who sends the requests and how slow their calls are: `throttle.top-agents`,
//! `throttle.latency-by-agent` and `throttle.slo-breaches`.
//!
//! A FlowSchema cannot match a user agent, only users, groups and service
//! accounts, so the top-agents table names the users behind each agent: that is
//! what a throttle (Solution 5) is written against.

use apidiag_audit::{AgentRow, Focus, LatencyRow, Report as AuditReport};
use apidiag_core::finding::{Evidence, Finding, Severity};

use crate::chart::{MAX_CELLS, Series, latency, sparkline};
use crate::findings::{MAX_ROWS, cut_note};
use crate::source;

/// Users named per agent in the table; the rest are counted.
const USERS_SHOWN: usize = 3;

/// `throttle.top-agents`.
pub fn top_agents(audit: &AuditReport, top: usize) -> Finding {
    // Every agent the engine kept (a bounded table): the 429 total needs them all.
    let all = audit.top_agents(usize::MAX);
    let total = audit.total_requests();
    let Some(first) = all.first() else {
        return Finding::new(
            "throttle.top-agents",
            Severity::Info,
            "No request was counted, so no user agent can be named",
        )
        .detail("See throttle.input for what was read and why nothing counted.")
        .source(source("identify the top user agents"));
    };
    let throttled: u64 = all.iter().map(|a| a.too_many_requests).sum();
    let most_429 = all
        .iter()
        .find(|a| throttled > 0 && a.too_many_requests * 2 > throttled);
    let dominant = first.share > 0.5;
    let severity = if dominant || most_429.is_some() {
        Severity::Warning
    } else {
        Severity::Info
    };
    let mut title = format!(
        "`{}` sent {} of {total} requests ({:.1}%)",
        first.user_agent,
        first.requests,
        first.share * 100.0
    );
    if let Some(a) = most_429 {
        title.push_str(&format!(
            "; `{}` got {} of the {throttled} 429s",
            a.user_agent, a.too_many_requests
        ));
    }
    let rows: Vec<Vec<String>> = all.iter().take(top).map(agent_row).collect();
    let mut finding = Finding::new("throttle.top-agents", severity, title)
        .detail(
            "Each request is counted once (ResponseComplete; a watch when it opens). Busy seconds sum \
             the latency of every call but watches. A FlowSchema cannot match a user agent: throttle \
             or fix the users and service accounts behind it (Solution 5), after fixing the client's \
             call pattern.",
        )
        .evidence(Evidence::table(
            "top user agents",
            &[
                "user agent",
                "requests",
                "share",
                "busy s",
                "429s",
                "other 4xx",
                "5xx",
                "users / service accounts",
            ],
            rows,
        ))
        .source(source("identify the top user agents"));
    if all.len() > top {
        finding = finding.evidence(Evidence::new(
            "not shown",
            format!("{} more user agents (--top)", all.len() - top),
        ));
    }
    finding
}

fn agent_row(a: &AgentRow) -> Vec<String> {
    let mut users: Vec<String> = a
        .users
        .iter()
        .take(USERS_SHOWN)
        .map(|u| format!("{} ({})", u.username, u.requests))
        .collect();
    if a.users.len() > USERS_SHOWN {
        users.push(format!("+{} more", a.users.len() - USERS_SHOWN));
    }
    vec![
        a.user_agent.clone(),
        a.requests.to_string(),
        format!("{:.1}%", a.share * 100.0),
        format!("{:.1}", a.busy.as_secs_f64()),
        a.too_many_requests.to_string(),
        a.client_errors.to_string(),
        a.server_errors.to_string(),
        users.join(", "),
    ]
}

/// The top agents' latency series, one per agent, merged to terminal width.
pub fn series(audit: &AuditReport, top: usize, width: usize) -> Vec<Series> {
    let agents: Vec<String> = audit
        .top_agents(top)
        .into_iter()
        .map(|a| a.user_agent)
        .collect();
    audit
        .latency_bins(&agents)
        .iter()
        .map(|bins| Series::of(bins, width))
        .collect()
}

/// `throttle.latency-by-agent`: a sparkline per top agent on one shared scale.
pub fn latency_by_agent(audit: &AuditReport, top: usize, bin: std::time::Duration) -> Finding {
    let series = series(audit, top, MAX_CELLS);
    let scale = series
        .iter()
        .map(Series::peak_mean)
        .max()
        .unwrap_or_default();
    let finding = Finding::new(
        "throttle.latency-by-agent",
        Severity::Info,
        format!(
            "Mean latency per {} bin of the top {} user agents",
            crate::chart::bin_width(bin),
            series.len()
        ),
    )
    .source(source("latency of the top user agents over time"));
    let Some(first) = series.first().filter(|s| !s.cells.is_empty()) else {
        return finding.detail("No call was counted, so there is nothing to chart.");
    };
    let rows = series
        .iter()
        .map(|s| {
            vec![
                s.user_agent.clone(),
                sparkline(&s.cells, scale),
                latency(s.peak_mean()),
                latency(s.max()),
            ]
        })
        .collect();
    let span = match audit.span() {
        Some((from, to)) => format!(
            "{} to {}",
            apidiag_audit::format_timestamp(from),
            apidiag_audit::format_timestamp(to)
        ),
        None => String::new(),
    };
    finding
        .detail(
            "One character per bin (merged when the span is long), the mean latency of the calls \
             received in it, watches excluded; a blank is a bin with no timed call. Every row uses the \
             same scale, so the rows compare. A slow agent while others stay fast points at its calls \
             (expensive LISTs below); everyone slow at once points at the API server or etcd.",
        )
        .evidence(Evidence::new("span", span))
        .evidence(Evidence::new(
            "scale",
            format!(
                "█ = {} (highest mean of a column); one column = {} bin(s)",
                latency(scale),
                first.bins_per_cell
            ),
        ))
        .evidence(Evidence::table(
            "mean latency over time",
            &["user agent", "mean per bin", "peak mean", "max"],
            rows,
        ))
}

/// `throttle.slo-breaches`: a warning per (agent, verb, resource, scope) whose
/// P99 is above its SLO; one ok finding with the table when none is.
pub fn slo_breaches(audit: &AuditReport, top: usize) -> Vec<Finding> {
    let rows = audit.latency_by_verb_resource(&Focus::TopAgents(top));
    let columns = [
        "user agent",
        "verb",
        "resource",
        "scope",
        "calls",
        "p50",
        "p99",
        "max",
        "SLO",
    ];
    let breaches: Vec<&LatencyRow> = rows.iter().filter(|r| r.breach).collect();
    if breaches.is_empty() {
        let mut finding = Finding::new(
            "throttle.slo-breaches",
            Severity::Ok,
            format!(
                "No P99 above its SLO among {} verb and resource groups of the top agents",
                rows.len()
            ),
        )
        .detail(
            "Upstream SLOs, P99: single-object and mutating calls 1 s, namespace LIST 5 s, \
             cluster LIST 30 s; watches, connections and non-resource URLs have none.",
        )
        .evidence(Evidence::table(
            "P99 by verb and resource",
            &columns,
            rows.iter().take(MAX_ROWS).map(latency_row).collect(),
        ))
        .source(source("P99 latency by verb and resource"));
        if let Some(note) = cut_note(rows.len()) {
            finding = finding.evidence(Evidence::new("not shown", note));
        }
        return vec![finding];
    }
    let shown = breaches.len().min(MAX_ROWS);
    let mut out: Vec<Finding> = breaches
        .iter()
        .take(shown)
        .map(|r| {
            let slo = r.slo.map(|s| s.to_string()).unwrap_or_default();
            Finding::new(
                "throttle.slo-breaches",
                Severity::Warning,
                format!(
                    "`{}` {} {} ({}): P99 {} is above the SLO ({slo})",
                    r.user_agent,
                    r.verb,
                    r.resource,
                    r.scope,
                    latency(r.p99)
                ),
            )
            .detail(
                "Slow calls of one kind from one client: an expensive LIST (see throttle.intensive-lists), \
                 a slow webhook on writes, or an API server that is short of seats for this client.",
            )
            .evidence(Evidence::table("the calls", &columns, vec![latency_row(r)]))
            .source(source("P99 latency by verb and resource"))
        })
        .collect();
    if let (Some(last), Some(note)) = (out.last_mut(), cut_note(breaches.len())) {
        last.evidence
            .push(Evidence::new("not shown", format!("{note} (breaches)")));
    }
    out
}

fn latency_row(r: &LatencyRow) -> Vec<String> {
    vec![
        r.user_agent.clone(),
        r.verb.clone(),
        r.resource.clone(),
        r.scope.to_string(),
        r.count.to_string(),
        latency(r.p50),
        latency(r.p99),
        latency(r.max),
        r.slo.map_or_else(|| "none".into(), |s| s.to_string()),
    ]
}
