//! `/debug/api_priority_and_fairness/dump_priority_levels`: the APF state of each
//! priority level as the server holds it now (queues, waiting and executing
//! requests, and from 1.27 the dispatched, rejected, timed-out and cancelled
//! totals). Sampled once per run: the dump takes the APF controller's write
//! lock, which every request's classification waits on.
//!
//! The body is Go `text/tabwriter` output with cells joined by `",\t"`: a CSV
//! with padding, read by the `csv` crate with every field trimmed. Columns are
//! found by header name, since they grew over releases.

use apidiag_core::finding::{Evidence, Finding, Severity};

/// Where the dump is served (unlisted, not gated on `--profiling`).
pub const PATH: &str = "/debug/api_priority_and_fairness/dump_priority_levels";

/// The columns shown, in this order, when served.
const SHOWN: [&str; 8] = [
    "PriorityLevelName",
    "ActiveQueues",
    "IsIdle",
    "WaitingRequests",
    "ExecutingRequests",
    "DispatchedRequests",
    "RejectedRequests",
    "TimedoutRequests",
];

/// How the report heads each of [`SHOWN`].
fn heading(column: &str) -> &str {
    match column {
        "PriorityLevelName" => "priority level",
        "ActiveQueues" => "active queues",
        "IsIdle" => "idle",
        "WaitingRequests" => "waiting",
        "ExecutingRequests" => "executing",
        "DispatchedRequests" => "dispatched",
        "RejectedRequests" => "rejected",
        "TimedoutRequests" => "timed out",
        other => other,
    }
}

/// The dump as a header and rows, the columns of [`SHOWN`] the server has.
pub fn parse(body: &str) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(body.as_bytes());
    let header: Vec<String> = reader.headers().ok()?.iter().map(str::to_string).collect();
    let columns: Vec<(usize, &str)> = SHOWN
        .iter()
        .filter_map(|name| header.iter().position(|h| h == name).map(|i| (i, *name)))
        .collect();
    if columns.first().map(|(_, n)| *n) != Some("PriorityLevelName") {
        return None;
    }
    let rows = reader
        .records()
        .filter_map(Result::ok)
        .filter(|r| !r.iter().all(str::is_empty))
        .map(|r| {
            columns
                .iter()
                .map(|(i, _)| r.get(*i).unwrap_or("").to_string())
                .collect()
        })
        .collect();
    Some((columns.iter().map(|(_, n)| n.to_string()).collect(), rows))
}

/// `throttle.apf-levels`: the dump, or why there is none.
pub fn finding(answer: Result<String, apidiag_core::api::ApiError>) -> Finding {
    let base = |severity, title: String| {
        Finding::new("throttle.apf-levels", severity, title)
            .detail(
                "dump_priority_levels, read once: the APF controller's state of each priority level now. It \
                 covers only the API server replica that answered.",
            )
            .source(crate::source("Solution 5b"))
    };
    match answer {
        Ok(body) => match parse(&body) {
            Some((header, rows)) => {
                let columns: Vec<&str> = header.iter().map(|h| heading(h)).collect();
                base(Severity::Ok, format!("{} priority levels, as API Priority and Fairness holds them now", rows.len()))
                    .evidence(Evidence::table("priority levels", &columns, rows))
            }
            None => base(Severity::Info, "dump_priority_levels answered in a layout apidiag does not know".into()),
        },
        Err(error) if error.is_forbidden() || error.is_not_found() => base(
            Severity::Info,
            format!("dump_priority_levels was not readable ({})", error.first_line()),
        )
        .detail(
            "It needs get on the non-resource URL /debug/api_priority_and_fairness/* (cluster-admin has it; \
             system:monitoring does not), and some managed control planes do not serve it. Everything else of \
             this check comes from /metrics.",
        ),
        Err(error) => base(Severity::Info, format!("dump_priority_levels failed: {}", error.first_line())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_tabwriter_layout_by_header() {
        let body = "PriorityLevelName, ActiveQueues, IsIdle, IsQuiescing, WaitingRequests, ExecutingRequests, DispatchedRequests, RejectedRequests, TimedoutRequests, CancelledRequests\n\
                    catch-all,         0,            true,   false,       0,               0,                 0,                  0,                0,                0\n\
                    lab-flooder,       1,            false,  false,       3,               1,                 8,                  392,              0,                0\n";
        let (header, rows) = parse(body).expect("known layout");
        assert_eq!(header, SHOWN);
        assert_eq!(
            rows[1],
            ["lab-flooder", "1", "false", "3", "1", "8", "392", "0"]
        );
    }

    #[test]
    fn older_layouts_show_the_columns_they_have_and_others_are_unknown() {
        let old = "PriorityLevelName, ActiveQueues, IsIdle, IsQuiescing, WaitingRequests, ExecutingRequests\nexempt, 0, true, false, 0, 2\n";
        let (header, rows) = parse(old).expect("1.20–1.26 layout");
        assert_eq!(
            header,
            [
                "PriorityLevelName",
                "ActiveQueues",
                "IsIdle",
                "WaitingRequests",
                "ExecutingRequests"
            ]
        );
        assert_eq!(rows, [["exempt", "0", "true", "0", "2"]]);
        assert!(parse("not a dump\n").is_none());
        assert!(parse("").is_none());
    }
}
