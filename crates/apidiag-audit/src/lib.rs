//! Kubernetes audit logs for load diagnosis: who loads the API server.
//!
//! A crate of its own with no kube, tokio or network dependency, so the
//! engine can be tested on fixtures and benchmarked alone; the `throttle`
//! check calls [`analyze`] and renders the [`Report`].
//!
//! In: files, folders, globs or `-`, gzip or not, each in whichever export
//! the user has ([`Shape`]: kube-apiserver JSON lines, AKS storage blobs,
//! Event Hub captures, `az monitor log-analytics query` output for
//! `AKSAudit` and `AzureDiagnostics`, CSV exports). Out: top user agents and
//! the users behind them, latency over time, P99 by verb and resource against
//! the SLOs, resource-intensive LISTs (watch cache or etcd by the server
//! version's rules), and call patterns (LIST polling, watch churn, GET
//! polling, write storms).
//!
//! **Each request is counted once**: on `ResponseComplete` (or `Panic`), a
//! watch when it opens (`ResponseStarted`), never on `RequestReceived`. The
//! Kusto queries of "Troubleshoot API server and etcd problems in AKS" count
//! every stage, so they count most requests twice and pull averages toward
//! zero (a `RequestReceived` event's latency is 0 by construction). Watches
//! are left out of latency and busy time: their duration is their lifetime.
//!
//! Edge cases of that rule: a watch refused (403, 429…) never starts, so its
//! completion is the request; when no watch in the input has a
//! `ResponseStarted` (a policy with `omitStages`), watches are counted on
//! completion and the report says so ([`Note::WatchesOnComplete`]). Records
//! of `kube-audit-admin` repeat the writes of `kube-audit`: next to it they
//! are not counted ([`Note::AdminIgnored`]), alone they are, with
//! [`Note::AdminOnly`] (no get/list, so no LIST analysis).
//!
//! Shaped for big logs: a reader thread decompresses and cuts chunks, parser
//! threads parse only the fields needed (borrowed, the rest skipped) into
//! per-thread aggregates of bounded size (log-linear [`LatencyHistogram`]s,
//! heavy-hitter tables for unbounded keys, [`Capacity`]), merged at the end.
//! Aggregates are sums keyed by absolute time, so results do not depend on
//! file order or on how chunks were spread over threads. Bad input is counted
//! and shown ([`FileSummary`]), never fatal.
//!
//! ```no_run
//! use apidiag_audit::{Focus, Options, analyze};
//!
//! let report = analyze(&["audit.log.gz", "exports/"], &Options::default())?;
//! for agent in report.top_agents(10) {
//!     println!("{} {} {:?}", agent.requests, agent.user_agent, agent.busy);
//! }
//! let slow = report.latency_by_verb_resource(&Focus::TopAgents(5));
//! # Ok::<(), apidiag_audit::AuditError>(())
//! ```

mod aggregate;
mod documents;
mod error;
mod event;
mod event_scan;
mod framing;
#[doc(hidden)]
pub mod fuzzing;
mod histogram;
mod input;
mod kql;
mod list_class;
mod options;
mod patterns;
mod pipeline;
mod report;
mod shape;
mod slo;
mod summary;
mod time;
mod topk;
mod uri;

pub use aggregate::Capacity;
pub use error::{AuditError, ParseError};
pub use histogram::LatencyHistogram;
pub use kql::{
    AZURE_DIAGNOSTICS_COLUMNS, KqlMode, RESOURCE_SPECIFIC_COLUMNS, kql, kql_since,
    projected_columns,
};
pub use list_class::{ListClass, ListRules, ServerVersion};
pub use options::{Filter, Options};
pub use patterns::{CallPattern, PatternKind, Thresholds};
pub use report::{
    AgentBins, AgentRow, Bin, Focus, LatencyRow, ListRow, ListTable, Note, Report, UserRow,
};
pub use shape::Shape;
pub use slo::{Scope, SloClass};
pub use summary::{FileSummary, Problem, SAMPLES, Sample};
pub use time::{
    Micros, Resolved, TimeBound, Window, format_timestamp, parse_duration, parse_time_bound,
    parse_timestamp,
};

use input::Source;
use pipeline::{Mode, run};

/// Reads every input and aggregates it.
///
/// `inputs` are paths, folders (walked), globs, or `-` for standard input.
/// A window relative to the newest event costs a first pass (standard input
/// is then kept in a temporary file). Errors only when an input cannot be
/// found or a thread cannot start; everything wrong inside a file is in
/// [`Report::files`].
pub fn analyze<S: AsRef<str>>(inputs: &[S], options: &Options) -> Result<Report, AuditError> {
    let mut sources = input::expand(inputs)?;
    let newest = if options.window.is_relative() {
        if let Some(stdin) = sources.iter_mut().find(|s| matches!(s, Source::Stdin)) {
            *stdin = input::spool_stdin()?;
        }
        run(&sources, options, Mode::Newest)?.newest
    } else {
        None
    };
    let window = options.window.resolve(newest);
    let pass = run(&sources, options, Mode::Count(window))?;
    Ok(finish(pass, options, window))
}

fn finish(pass: pipeline::Pass, options: &Options, window: Resolved) -> Report {
    let [[full, full_ends], [admin, admin_ends]] = pass.sets;
    let full_seen = full.is_some() || full_ends.is_some();
    let mut notes = Vec::new();
    let (main, ends) = if full_seen {
        if let Some(a) = admin.as_ref().map(|a| a.counted).filter(|n| *n > 0) {
            notes.push(Note::AdminIgnored(a));
        }
        (full, full_ends)
    } else {
        if admin.is_some() || admin_ends.is_some() {
            notes.push(Note::AdminOnly);
        }
        (admin, admin_ends)
    };
    let mut main = main.unwrap_or_else(|| aggregate::Aggregates::new(&options.capacity));
    if let Some(ends) = ends.filter(|e| e.counted > 0 && main.watch_opens == 0) {
        notes.push(Note::WatchesOnComplete(ends.counted));
        main.merge(&ends);
    }
    let floor = main.approximation_floor();
    if floor > 0 {
        notes.push(Note::Approximate(floor));
    }
    if main.counted == 0 {
        let filtered: u64 = pass.files.iter().map(|f| f.filtered).sum();
        let counted_files: u64 = pass.files.iter().map(|f| f.counted).sum();
        notes.push(Note::EmptyWindow {
            events: filtered + counted_files,
            filtered,
        });
    }
    Report {
        files: pass.files,
        window,
        notes,
        aggregates: main,
        bin: options.bin,
        list_window: options.list_window,
        rules: options.rules,
        thresholds: options.thresholds,
    }
}
