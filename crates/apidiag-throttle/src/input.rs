//! `throttle.input`: what was read, and everything that was not counted and why.
//! Bad input never aborts the run and never hides: every file is listed with
//! its shape and counts, the first malformed records by line (or record)
//! number, whole-file problems (not an audit log, the legacy text format, a
//! truncated gzip), and the engine's notes (admin-only category, watches
//! counted on completion, approximations, an empty window).

use apidiag_audit::{Note, Report as AuditReport, TimeBound};
use apidiag_core::finding::{Evidence, Finding, Severity};

use crate::Args;
use crate::analysis::VersionSource;
use crate::source;

/// One sentence per engine note.
pub fn note_text(note: &Note) -> String {
    match note {
        Note::AdminOnly => {
            "only kube-audit-admin records: that category has no get or list, so LISTs \
             and GET polling cannot be judged; collect kube-audit (every verb)"
                .into()
        }
        Note::AdminIgnored(n) => format!(
            "both kube-audit and kube-audit-admin were given; the {n} kube-audit-admin records repeat \
             writes of kube-audit and were not counted"
        ),
        Note::WatchesOnComplete(n) => format!(
            "no watch had a ResponseStarted event (the audit policy omits the stage), so {n} watches \
             were counted when they ended"
        ),
        Note::Approximate(floor) => format!(
            "a table outgrew its bound: keys with fewer than {floor} requests may be undercounted or \
             missing (the heavy hitters are right)"
        ),
        Note::EmptyWindow { events, filtered } => format!(
            "nothing was counted: {events} countable events were read, {filtered} of them outside the \
             window or the filters"
        ),
    }
}

fn bound(b: Option<TimeBound>) -> String {
    match b {
        None => "open".into(),
        Some(TimeBound::At(t)) => t.to_string(),
        Some(TimeBound::BeforeNewest(d)) => format!("{}s before the newest event", d.as_secs()),
    }
}

/// `throttle.input`.
pub fn finding(audit: &AuditReport, args: &Args, version: &VersionSource) -> Finding {
    let files = &audit.files;
    let records: u64 = files.iter().map(|f| f.records).sum();
    let malformed: u64 = files.iter().map(|f| f.malformed).sum();
    let problems = files.iter().filter(|f| !f.problems.is_empty()).count();
    let empty = audit.total_requests() == 0;
    let severity = if problems > 0 || empty {
        Severity::Warning
    } else if malformed > 0 || !audit.notes.is_empty() || version.assumed {
        Severity::Info
    } else {
        Severity::Ok
    };
    let mut title = format!(
        "Read {} file(s), {records} records, {} requests counted",
        files.len(),
        audit.total_requests()
    );
    if malformed > 0 {
        title.push_str(&format!(", {malformed} malformed"));
    }
    if problems > 0 {
        title.push_str(&format!(", {problems} file(s) not read as audit logs"));
    }
    let table = files
        .iter()
        .map(|f| {
            vec![
                f.name.clone(),
                f.shape.map_or_else(|| "unknown".into(), |s| s.to_string()),
                if f.gzip { "gzip" } else { "" }.into(),
                f.records.to_string(),
                f.counted.to_string(),
                f.malformed.to_string(),
                f.not_events.to_string(),
                f.other_stages.to_string(),
                f.filtered.to_string(),
            ]
        })
        .collect();
    let mut finding = Finding::new("throttle.input", severity, title)
        .detail(
            "Each request counts once: on ResponseComplete (or Panic), a watch when it opens \
             (ResponseStarted), never on RequestReceived. The guide's Kusto queries count every stage \
             and so count most requests twice; `--kql` prints queries that do not.",
        )
        .evidence(Evidence::table(
            "files",
            &[
                "file",
                "shape",
                "",
                "records",
                "counted",
                "malformed",
                "not events",
                "other stages",
                "filtered",
            ],
            table,
        ));
    let samples: Vec<Vec<String>> = files
        .iter()
        .flat_map(|f| {
            let unit = if f.numbered_by_line { "line" } else { "record" };
            f.samples
                .iter()
                .map(move |s| vec![f.name.clone(), format!("{unit} {}", s.at), s.reason.clone()])
        })
        .collect();
    if !samples.is_empty() {
        finding = finding.evidence(Evidence::table(
            "first records not used",
            &["file", "at", "why"],
            samples,
        ));
    }
    for f in files {
        for p in &f.problems {
            finding =
                finding.evidence(Evidence::new(format!("problem: {}", f.name), p.to_string()));
        }
    }
    for note in &audit.notes {
        finding = finding.evidence(Evidence::new("note", note_text(note)));
    }
    let filters = [
        ("since", Some(bound(args.since))),
        ("until", Some(bound(args.until))),
        ("user agent prefix", args.user_agent.clone()),
        ("user", args.audit_user.clone()),
    ];
    let window: Vec<String> = filters
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}: {v}")))
        .collect();
    finding
        .evidence(Evidence::new("window and filters", window.join("; ")))
        .evidence(Evidence::new(
            "server version",
            format!("{} ({})", version.version, version.from),
        ))
        .source(source("read the audit log"))
}
