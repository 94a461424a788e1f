//! Printing a report: a readable summary for people, JSON or YAML for scripts.
//!
//! Human output is read in an incident, so it opens with a summary: one line per
//! finding above `ok`, across all checks, critical first, each with its check, id
//! and fix command. The details follow in the same order (checks with the worst
//! findings first, worst finding first within a check), with evidence under each
//! finding; `ok` findings are collapsed to a count unless `-v`, and `--summary`
//! stops after the summary. It ends with what the run cost the API server. Machine
//! output is the [`Report`] struct itself, so the schema in
//! `docs/report-schema.md` is the serde shape of that struct.

use std::fmt::Write as _;

use crate::cli::{OutputArgs, OutputFormat};
use crate::finding::{CheckReport, CheckStatus, Evidence, Finding, Report, Severity};
use crate::style::{Palette, visible_width};

/// Why a report could not be printed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("could not encode the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("could not encode the report as YAML: {0}")]
    Yaml(String),
}

/// How much of a human report to show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct View {
    /// Show `ok` findings in full instead of a count (`-v`).
    pub verbose: bool,
    /// Only the summary (`--summary`).
    pub summary_only: bool,
}

impl View {
    pub fn from_args(output: &OutputArgs) -> Self {
        View {
            verbose: output.verbose,
            summary_only: output.summary,
        }
    }
}

/// The report in the requested format.
pub fn render(
    report: &Report,
    format: OutputFormat,
    palette: Palette,
    view: View,
) -> Result<String, RenderError> {
    match format {
        OutputFormat::Human => Ok(human(report, palette, view)),
        OutputFormat::Json => Ok(serde_json::to_string_pretty(report)? + "\n"),
        OutputFormat::Yaml => {
            serde_saphyr::to_string(report).map_err(|e| RenderError::Yaml(e.to_string()))
        }
    }
}

/// The human report.
pub fn human(report: &Report, palette: Palette, view: View) -> String {
    human_checks(report, palette, view) + &human_footer(report, palette)
}

/// The header, the summary and (unless `--summary`) each check's details.
pub fn human_checks(report: &Report, palette: Palette, view: View) -> String {
    let mut out = String::new();
    let version = report
        .server
        .version
        .as_deref()
        .unwrap_or("version unknown");
    let _ = writeln!(
        out,
        "{} {} ({version})",
        palette.bold("apidiag"),
        palette.dim(&report.server.url)
    );
    out.push('\n');
    summary(&mut out, report, palette, view);
    if view.summary_only {
        return out;
    }
    for check in checks_worst_first(report) {
        out.push('\n');
        check_section(&mut out, check, palette, view);
    }
    out
}

/// More findings of a check whose section is already on screen (the results of
/// a probe that asked its question after the diagnosis was shown): the section
/// again under the same heading, without the report's header and summary.
pub fn human_section(check: &CheckReport, palette: Palette, view: View) -> String {
    let mut out = String::from("\n");
    check_section(&mut out, check, palette, view);
    out
}

/// Checks with the worst findings first; report order among equals.
fn checks_worst_first(report: &Report) -> Vec<&CheckReport> {
    let mut checks: Vec<&CheckReport> = report.checks.iter().collect();
    checks.sort_by_key(|c| std::cmp::Reverse(c.worst()));
    checks
}

/// One line per finding above `ok`, worst first across all checks, then what
/// could not be seen.
fn summary(out: &mut String, report: &Report, palette: Palette, view: View) {
    // Details follow unless --summary: then the lines must not point below.
    let below = if view.summary_only { "" } else { " below" };
    let mut lines: Vec<(&CheckReport, &Finding)> = checks_worst_first(report)
        .into_iter()
        .flat_map(|c| c.findings.iter().map(move |f| (c, f)))
        .filter(|(_, f)| f.severity > Severity::Ok)
        .collect();
    lines.sort_by_key(|(_, f)| std::cmp::Reverse(f.severity));
    let _ = writeln!(out, "{}", palette.bold("summary"));
    let check_width = report
        .checks
        .iter()
        .map(|c| c.check.chars().count())
        .max()
        .unwrap_or(0);
    if lines.is_empty() {
        let ok = report.checks.iter().flat_map(|c| &c.findings).count();
        let _ = writeln!(
            out,
            "  {}       nothing above ok ({ok} finding{} in {} check{})",
            palette.severity(Severity::Ok),
            if ok == 1 { "" } else { "s" },
            report.checks.len(),
            if report.checks.len() == 1 { "" } else { "s" }
        );
    }
    for (check, finding) in lines {
        let severity = palette.severity(finding.severity);
        let pad = " ".repeat(8usize.saturating_sub(visible_width(&severity)));
        let _ = writeln!(
            out,
            "  {severity}{pad} {:<check_width$}  {}  {}",
            check.check,
            finding.title,
            palette.dim(&format!("[{}]", finding.id))
        );
        if let Some(first) = finding.remediations.first() {
            let more = match finding.remediations.len() - 1 {
                0 => String::new(),
                n => format!("  (+{n} more{below})"),
            };
            let _ = writeln!(
                out,
                "           {:<check_width$}  fix: {}{more}",
                "", first.command
            );
        }
    }
    for check in &report.checks {
        let (label, text) = match &check.status {
            CheckStatus::Complete => continue,
            CheckStatus::Partial { gaps } => (
                palette.dim("partial"),
                format!(
                    "saw only part of the cluster: {} thing{} not seen{}",
                    gaps.len(),
                    if gaps.len() == 1 { "" } else { "s" },
                    if view.summary_only {
                        ""
                    } else {
                        " (listed below)"
                    }
                ),
            ),
            CheckStatus::CouldNotCheck { reason, .. } => {
                (palette.error("blind"), format!("could not check: {reason}"))
            }
        };
        let pad = " ".repeat(8usize.saturating_sub(visible_width(&label)));
        let _ = writeln!(out, "  {label}{pad} {:<check_width$}  {text}", check.check);
    }
}

/// The remediation outcome, if any, and what the run cost.
pub fn human_footer(report: &Report, palette: Palette) -> String {
    let mut out = String::new();
    if let Some(result) = &report.remediation {
        out.push('\n');
        let _ = writeln!(out, "{}", palette.bold("remediation"));
        let _ = writeln!(out, "  {}", result.summary());
        for op in result
            .operations
            .iter()
            .filter(|o| o.outcome != "done")
            .take(20)
        {
            let _ = writeln!(
                out,
                "    {} {}: {} {}",
                op.action, op.target, op.outcome, op.message
            );
        }
        if let Some(bundle) = &result.backup {
            let _ = writeln!(out, "  backup: {bundle}");
            let _ = writeln!(out, "  undo:   kubectl apidiag undo {bundle}");
        }
    }
    let _ = writeln!(out, "\n{}", palette.dim(&format!("cost: {}", report.cost)));
    out
}

fn check_section(out: &mut String, check: &CheckReport, palette: Palette, view: View) {
    let state = match &check.status {
        CheckStatus::Complete => String::new(),
        CheckStatus::Partial { .. } => " (partial)".to_string(),
        CheckStatus::CouldNotCheck { .. } => " (could not check)".to_string(),
    };
    let _ = writeln!(
        out,
        "{}{}",
        palette.bold(&format!("── {} ", check.check)),
        state
    );
    if let CheckStatus::CouldNotCheck { reason, hint } = &check.status {
        let _ = writeln!(out, "  {} {reason}", palette.error("could not check:"));
        if !hint.is_empty() {
            let _ = writeln!(out, "  hint: {hint}");
        }
    }
    if check.ladder {
        for finding in &check.findings {
            if finding.severity > Severity::Ok || view.verbose {
                finding_block(out, finding, palette);
            } else {
                finding_line(out, finding, palette);
            }
        }
        gaps(out, check, palette);
        return;
    }
    let mut findings: Vec<&Finding> = check.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let ok = findings
        .iter()
        .filter(|f| f.severity == Severity::Ok)
        .count();
    for finding in findings {
        if finding.severity > Severity::Ok || view.verbose {
            finding_block(out, finding, palette);
        }
    }
    if ok > 0 && !view.verbose {
        let _ = writeln!(
            out,
            "  {}       {ok} finding{} ok {}",
            palette.severity(Severity::Ok),
            if ok == 1 { "" } else { "s" },
            palette.dim("(-v shows them)")
        );
    }
    gaps(out, check, palette);
}

fn gaps(out: &mut String, check: &CheckReport, palette: Palette) {
    if let CheckStatus::Partial { gaps } = &check.status {
        let _ = writeln!(
            out,
            "  {}",
            palette.dim("not seen (missing permission or not served):")
        );
        for gap in gaps {
            let _ = writeln!(out, "    - {gap}");
        }
    }
}

/// A passed step of a ladder: its title on one line.
fn finding_line(out: &mut String, finding: &Finding, palette: Palette) {
    let severity = palette.severity(finding.severity);
    let pad = " ".repeat(8usize.saturating_sub(visible_width(&severity)));
    let _ = writeln!(out, "  {severity}{pad} {}", finding.title);
}

fn finding_block(out: &mut String, finding: &Finding, palette: Palette) {
    let severity = palette.severity(finding.severity);
    let pad = " ".repeat(8usize.saturating_sub(visible_width(&severity)));
    let _ = writeln!(
        out,
        "  {severity}{pad} {}  {}",
        palette.bold(&finding.title),
        palette.dim(&format!("[{}]", finding.id))
    );
    if !finding.detail.is_empty() {
        for line in wrap(&finding.detail, LINE_WIDTH - 11) {
            let _ = writeln!(out, "           {line}");
        }
    }
    if !finding.evidence.is_empty() {
        let width = finding
            .evidence
            .iter()
            .filter(|e| e.rows.is_empty())
            .map(|e| e.label.chars().count())
            .max()
            .unwrap_or(0);
        for evidence in &finding.evidence {
            evidence_lines(out, evidence, width);
        }
    }
    if let Some(source) = &finding.source {
        let _ = writeln!(
            out,
            "           {}",
            palette.dim(&format!("guide: {} — {}", source.guide, source.section))
        );
    }
    for offer in &finding.remediations {
        let _ = writeln!(out, "           fix: {}  ({})", offer.command, offer.title);
    }
    for next in &finding.next {
        let _ = writeln!(out, "           next: {next}");
    }
}

/// Human reports are wrapped to this many columns: readable in a terminal and in
/// a ticket or a chat message alike.
const LINE_WIDTH: usize = 100;

fn evidence_lines(out: &mut String, evidence: &Evidence, width: usize) {
    if evidence.rows.is_empty() {
        // A long value wraps under itself, not under the label.
        let indent = 11 + width + 2;
        let lines = wrap(&evidence.value, LINE_WIDTH.saturating_sub(indent).max(30));
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                let _ = writeln!(out, "           {:<width$}  {line}", evidence.label);
            } else {
                let _ = writeln!(out, "{}{line}", " ".repeat(indent));
            }
        }
        return;
    }
    let _ = writeln!(out, "           {}:", evidence.label);
    for line in table(&evidence.columns, &evidence.rows) {
        let _ = writeln!(out, "             {line}");
    }
}

/// Aligned columns; numbers (cells that parse as numbers) are right-aligned.
pub fn table(columns: &[String], rows: &[Vec<String>]) -> Vec<String> {
    let count = columns
        .len()
        .max(rows.iter().map(Vec::len).max().unwrap_or(0));
    let mut widths = vec![0; count];
    for row in std::iter::once(columns).chain(rows.iter().map(|r| r.as_slice())) {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(visible_width(cell));
        }
    }
    let numeric = |cell: &str| {
        !cell.is_empty()
            && cell
                .replace([',', '.', '%'], "")
                .chars()
                .all(|c| c.is_ascii_digit())
    };
    let line = |row: &[String]| {
        let mut text = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i].saturating_sub(visible_width(cell));
            if i > 0 {
                text.push_str("  ");
            }
            if numeric(cell) {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                if i + 1 < row.len() {
                    text.push_str(&" ".repeat(pad));
                }
            }
        }
        text.trim_end().to_string()
    };
    let mut lines = Vec::new();
    if !columns.is_empty() {
        lines.push(line(columns).to_uppercase());
    }
    lines.extend(rows.iter().map(|r| line(r)));
    lines
}

/// Splits text into lines of at most `width` characters at spaces.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Cost;
    use crate::finding::{REPORT_SCHEMA, ServerInfo, Severity, Source};

    fn sample() -> Report {
        let mut check = CheckReport::new("guard");
        check.push(
            Finding::new(
                "guard.applied",
                Severity::Critical,
                "The AKS managed API server guard is throttling clients",
            )
            .detail("AKS applied a FlowSchema and PriorityLevelConfiguration.")
            .evidence(Evidence::new("flowschema", "aks-managed-apiserver-guard"))
            .evidence(Evidence::table(
                "429s by flow schema",
                &["flow schema", "rejected"],
                vec![vec!["aks-managed-apiserver-guard".into(), "1200".into()]],
            ))
            .source(Source::apiserver_etcd("Cause 4"))
            .offer(
                "guard.skip-update",
                "label both objects",
                "kubectl apidiag guard --fix skip-update".into(),
            ),
        );
        check.gap("events in kube-system (forbidden)");
        Report {
            schema: REPORT_SCHEMA.into(),
            apidiag_version: "0.1.0".into(),
            server: ServerInfo {
                url: "https://127.0.0.1:6443".into(),
                context: None,
                version: Some("v1.37.1".into()),
            },
            checks: vec![check],
            cost: Cost {
                requests: 6,
                bytes_received: 2048,
                bytes_sent: 0,
                throttled: 0,
            },
            remediation: None,
        }
    }

    #[test]
    fn human_report_without_colour_says_everything() {
        let text = human(&sample(), Palette::plain(), View::default());
        assert!(!text.contains('\u{1b}'), "{text}");
        for expected in [
            "apidiag https://127.0.0.1:6443 (v1.37.1)",
            "── guard  (partial)",
            "critical The AKS managed API server guard is throttling clients  [guard.applied]",
            "flowschema  aks-managed-apiserver-guard",
            "FLOW SCHEMA                  REJECTED",
            "aks-managed-apiserver-guard      1200",
            "guide: Troubleshoot API server and etcd problems in AKS — Cause 4",
            "fix: kubectl apidiag guard --fix skip-update  (label both objects)",
            "- events in kube-system (forbidden)",
            "cost: 6 API requests, 2.0 KiB received",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }

    #[test]
    fn json_and_yaml_round_trip() {
        let report = sample();
        let json = render(
            &report,
            OutputFormat::Json,
            Palette::plain(),
            View::default(),
        )
        .unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["schema"], "apidiag.dev/v1");
        assert_eq!(value["checks"][0]["status"]["state"], "partial");
        assert_eq!(value["checks"][0]["findings"][0]["severity"], "critical");
        assert_eq!(value["cost"]["requests"], 6);

        let yaml = render(
            &report,
            OutputFormat::Yaml,
            Palette::plain(),
            View::default(),
        )
        .unwrap();
        let back: Report = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(back, report);
    }

    fn two_checks() -> Report {
        let mut report = sample();
        let mut etcd = CheckReport::new("etcd");
        etcd.push(Finding::new(
            "etcd.db-size",
            Severity::Ok,
            "The database is small",
        ));
        etcd.push(
            Finding::new(
                "etcd.completed-jobs",
                Severity::Warning,
                "2,000 completed Jobs",
            )
            .offer(
                "etcd.completed-jobs",
                "delete them",
                "kubectl apidiag etcd --fix completed-jobs".into(),
            ),
        );
        etcd.push(Finding::new(
            "etcd.quotas",
            Severity::Info,
            "No object quotas",
        ));
        report.checks.insert(0, etcd);
        report
    }

    #[test]
    fn the_summary_comes_first_worst_first_across_checks() {
        let text = human(&two_checks(), Palette::plain(), View::default());
        let summary_at = text.find("summary").unwrap();
        let line = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("missing {needle:?} in\n{text}"))
        };
        // One line each, critical → warning → info, before any details.
        let critical = line(
            "critical guard  The AKS managed API server guard is throttling clients  [guard.applied]",
        );
        let warning = line("warning  etcd   2,000 completed Jobs  [etcd.completed-jobs]");
        let info = line("info     etcd   No object quotas  [etcd.quotas]");
        assert!(
            summary_at < critical && critical < warning && warning < info,
            "{text}"
        );
        assert!(
            text.contains("fix: kubectl apidiag etcd --fix completed-jobs"),
            "{text}"
        );
        assert!(
            text.contains("partial  guard  saw only part of the cluster: 1 thing not seen"),
            "{text}"
        );
        // Details: the guard (critical) before etcd, though etcd came first.
        assert!(line("── guard") < line("── etcd"), "{text}");
        assert!(info < line("── guard"), "{text}");
        // ok findings are counted, not shown, unless -v.
        assert!(!text.contains("The database is small"), "{text}");
        assert!(text.contains("1 finding ok (-v shows them)"), "{text}");
        let verbose = human(
            &two_checks(),
            Palette::plain(),
            View {
                verbose: true,
                ..View::default()
            },
        );
        assert!(
            verbose.contains("The database is small  [etcd.db-size]"),
            "{verbose}"
        );
    }

    #[test]
    fn summary_only_stops_after_the_summary() {
        let text = human(
            &two_checks(),
            Palette::plain(),
            View {
                summary_only: true,
                ..View::default()
            },
        );
        assert!(text.contains("[guard.applied]"), "{text}");
        assert!(!text.contains("── "), "{text}");
        assert!(!text.contains("flowschema  aks-managed"), "{text}");
        assert!(
            text.trim_end()
                .ends_with("cost: 6 API requests, 2.0 KiB received"),
            "{text}"
        );
    }

    #[test]
    fn a_clean_report_says_so_in_its_summary() {
        let mut report = sample();
        let mut check = CheckReport::new("guard");
        check.push(Finding::new("guard.applied", Severity::Ok, "not applied"));
        report.checks = vec![check];
        let text = human(&report, Palette::plain(), View::default());
        assert!(
            text.contains("ok       nothing above ok (1 finding in 1 check)"),
            "{text}"
        );
    }

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
    }
}
