//! The check's report from the engine's tables, one finding per question of the
//! guide, in the order an SRE asks them: who sends the most ([`agents`]), how
//! slow their calls are over time and against the SLOs, which LISTs are expensive
//! and which call patterns are bugs ([`lists`]), and what was read ([`input`]).
//!
//! [`agents`]: crate::agents
//! [`lists`]: crate::lists
//! [`input`]: crate::input

use apidiag_audit::Report as AuditReport;
use apidiag_core::finding::CheckReport;

use crate::analysis::VersionSource;
use crate::{Args, NAME, agents, input, lists};

/// Every finding of an audit-log analysis.
pub fn check_report(
    audit: &AuditReport,
    top: usize,
    args: &Args,
    version: &VersionSource,
) -> CheckReport {
    let mut report = CheckReport::new(NAME);
    report.push(agents::top_agents(audit, top));
    report.push(agents::latency_by_agent(audit, top, args.bin));
    for finding in agents::slo_breaches(audit, top) {
        report.push(finding);
    }
    report.push(lists::intensive_lists(audit, version));
    report.push(lists::call_patterns(audit));
    report.push(input::finding(audit, args, version));
    report
}

/// Rows shown at most in one evidence table; the finding says how many more.
pub const MAX_ROWS: usize = 25;

/// "N more" when a table was cut.
pub(crate) fn cut_note(total: usize) -> Option<String> {
    (total > MAX_ROWS).then(|| format!("{} more rows not shown", total - MAX_ROWS))
}
