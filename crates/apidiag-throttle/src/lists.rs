//! What the calls cost and which ones are bugs: `throttle.intensive-lists` (the
//! AKS portal's "API server resource intensive listing detector", over its
//! 30-minute window) and `throttle.call-patterns` (the guides' "excessive LIST or
//! PUT calls" and the TCP time-outs guide's "leaking watches and GETs").
//!
//! Where a LIST was served is not in the audit event; the engine infers it from
//! the request's parameters and the server version's rules, so the finding says
//! which version's rules were used and where that version came from.

use apidiag_audit::{ListClass, ListRow, Note, Report as AuditReport};
use apidiag_core::finding::{Evidence, Finding, Severity};

use crate::analysis::VersionSource;
use crate::chart::latency;
use crate::findings::{MAX_ROWS, cut_note};
use crate::source;

/// An etcd-served LIST of every namespace, unpaginated or at least once a
/// minute: what makes etcd and the API server's memory suffer.
fn expensive(r: &ListRow) -> bool {
    r.class == ListClass::Etcd && r.cluster_wide && (!r.paginated || r.per_minute >= 1.0)
}

fn admin_only(audit: &AuditReport) -> bool {
    audit.notes.contains(&Note::AdminOnly)
}

/// `throttle.intensive-lists`.
pub fn intensive_lists(audit: &AuditReport, version: &VersionSource) -> Finding {
    let section = source("resource-intensive LIST calls");
    if admin_only(audit) {
        return Finding::new(
            "throttle.intensive-lists",
            Severity::Info,
            "LISTs cannot be judged: the log has only kube-audit-admin records, which leave out get and list",
        )
        .detail("Collect the kube-audit category (every verb) in the AKS diagnostic setting.")
        .source(section);
    }
    let table = audit.intensive_lists();
    let rules = table.rules;
    let rules_text = format!(
        "Kubernetes {} (consistent LISTs from the watch cache: {}; cache snapshots for exact versions and continue: {}); version from {}",
        rules.version,
        yes_no(rules.consistent_list_from_cache),
        yes_no(rules.cache_snapshots),
        version.from
    );
    let window = match table.window {
        Some((from, to)) => format!(
            "{} to {} (the 30 minutes before the newest event, like the AKS portal's detector)",
            apidiag_audit::format_timestamp(from),
            apidiag_audit::format_timestamp(to)
        ),
        None => "the whole window".into(),
    };
    if table.rows.is_empty() {
        return Finding::new(
            "throttle.intensive-lists",
            Severity::Ok,
            "No successful LIST in the detector's window",
        )
        .evidence(Evidence::new("window", window))
        .evidence(Evidence::new("rules", rules_text))
        .source(section);
    }
    let bad: Vec<&ListRow> = table.rows.iter().filter(|r| expensive(r)).collect();
    let etcd: u64 = table
        .rows
        .iter()
        .filter(|r| r.class == ListClass::Etcd)
        .map(|r| r.count)
        .sum();
    let all: u64 = table.rows.iter().map(|r| r.count).sum();
    let (severity, title) = match bad.first() {
        Some(worst) => (
            Severity::Warning,
            format!(
                "`{}` LISTs every {} from etcd across the cluster ({} calls, {})",
                worst.user_agent,
                worst.resource,
                worst.count,
                if worst.paginated {
                    format!("{:.1} a minute", worst.per_minute)
                } else {
                    "unpaginated".into()
                }
            ),
        ),
        None => (
            Severity::Info,
            format!(
                "{etcd} of {all} LISTs in the window were served from etcd; none cluster-wide and unpaginated or frequent"
            ),
        ),
    };
    let rows: Vec<Vec<String>> = table.rows.iter().take(MAX_ROWS).map(list_row).collect();
    let mut finding = Finding::new("throttle.intensive-lists", severity, title)
        .detail(
            "A LIST served from etcd reads every object of the range from storage; cluster-wide and \
             without `limit` it also builds the whole answer in the API server's memory. Clients should \
             use informers (LIST once, then WATCH), paginate, and LIST with resourceVersion=0 or from the \
             cache where staleness is acceptable (Solution 5).",
        )
        .evidence(Evidence::new("window", window))
        .evidence(Evidence::new("rules", rules_text))
        .evidence(Evidence::table(
            "successful LISTs, etcd first",
            &[
                "served from",
                "user agent",
                "namespace",
                "resource",
                "paginated",
                "LISTs",
                "per minute",
                "mean",
            ],
            rows,
        ))
        .source(section);
    if let Some(note) = cut_note(table.rows.len()) {
        finding = finding.evidence(Evidence::new("not shown", note));
    }
    finding
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn list_row(r: &ListRow) -> Vec<String> {
    vec![
        r.class.to_string(),
        r.user_agent.clone(),
        if r.cluster_wide {
            "(all)".into()
        } else {
            r.namespace.clone()
        },
        r.resource.clone(),
        yes_no(r.paginated).into(),
        r.count.to_string(),
        format!("{:.2}", r.per_minute),
        latency(r.mean),
    ]
}

/// `throttle.call-patterns`.
pub fn call_patterns(audit: &AuditReport) -> Finding {
    let section = source("excessive LIST or PUT calls, leaking watches and GETs");
    let patterns = audit.call_patterns();
    let blind = if admin_only(audit) {
        " (kube-audit-admin only: LIST and GET polling cannot be seen)"
    } else {
        ""
    };
    let Some(first) = patterns.first() else {
        return Finding::new(
            "throttle.call-patterns",
            Severity::Ok,
            format!("No LIST polling, watch churn, GET polling or write storm{blind}"),
        )
        .source(section);
    };
    let rows: Vec<Vec<String>> = patterns
        .iter()
        .take(MAX_ROWS)
        .map(|p| {
            vec![
                p.kind.to_string(),
                p.user_agent.clone(),
                p.user.clone(),
                p.resource.clone(),
                if p.namespace.is_empty() {
                    "(all)".into()
                } else {
                    p.namespace.clone()
                },
                p.target.clone(),
                p.calls.to_string(),
                format!("{:.1}", p.per_minute),
                format!("{:.1}", p.threshold_per_minute),
                format!("{}s", p.span.as_secs()),
            ]
        })
        .collect();
    let mut finding = Finding::new(
        "throttle.call-patterns",
        Severity::Warning,
        format!(
            "{} call pattern(s) that point at a client bug; first: {} by `{}` on {} ({} calls, {:.1} a minute){blind}",
            patterns.len(),
            first.kind,
            first.user_agent,
            first.resource,
            first.calls,
            first.per_minute
        ),
    )
    .detail(
        "LIST polling: the same LIST again and again with no watch (use an informer). Watch churn: a \
         watch re-opened far more often than client-go's every 5–10 minutes (a leak or a crash loop). \
         GET polling of one object, or a write storm on one object: a controller fighting another, or a \
         loop without backoff.",
    )
    .evidence(Evidence::table(
        "call patterns",
        &[
            "pattern",
            "user agent",
            "user",
            "resource",
            "namespace",
            "selector or name",
            "calls",
            "per minute",
            "threshold",
            "span",
        ],
        rows,
    ))
    .source(section);
    if let Some(note) = cut_note(patterns.len()) {
        finding = finding.evidence(Evidence::new("not shown", note));
    }
    finding
}
