//! Runs the full aggregation over audit logs and prints the top-10 user agents
//! (requests, 429s, busy seconds), one tab-separated line each, then a summary
//! on stderr. `bench/audit.sh` times it against `wc -l` and a `jq` pipeline
//! computing the same table.
//!
//!     cargo run --release -p apidiag-audit --example top -- audit.log [more…]

use std::process::ExitCode;

use apidiag_audit::{Focus, Options, analyze};

fn main() -> ExitCode {
    let inputs: Vec<String> = std::env::args().skip(1).collect();
    let report = match analyze(&inputs, &Options::default()) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    for a in report.top_agents(10) {
        println!(
            "{}\t{}\t{}\t{:.3}",
            a.requests,
            a.user_agent,
            a.too_many_requests,
            a.busy.as_secs_f64()
        );
    }
    // The other tables are computed too, so the timing covers the whole engine.
    let p99 = report.latency_by_verb_resource(&Focus::TopAgents(10)).len();
    let lists = report.intensive_lists().rows.len();
    let patterns = report.call_patterns().len();
    let records: u64 = report.files.iter().map(|f| f.records).sum();
    let malformed: u64 = report.files.iter().map(|f| f.malformed).sum();
    eprintln!(
        "{records} records, {} requests counted, {malformed} malformed; {p99} P99 rows, {lists} LIST rows, {patterns} call patterns; notes: {:?}",
        report.total_requests(),
        report.notes
    );
    for f in report.files.iter().filter(|f| !f.problems.is_empty()) {
        for p in &f.problems {
            eprintln!("{}: {p}", f.name);
        }
    }
    ExitCode::SUCCESS
}
