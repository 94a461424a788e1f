//! `--html FILE`: one self-contained page with the latency timechart (inline
//! SVG) and every table of the report. No network: no external CSS, script,
//! font or image, so it opens offline and can be attached to a ticket. Every
//! value from the log is HTML-escaped (user agents and user names are chosen by
//! clients).
//!
//! The SVG is inline HTML5 SVG, so it needs no namespace declaration and the
//! page holds no URL at all. It is written by hand: a few polylines, axes and labels do not need a
//! plotting crate and its dependency tree.

use std::fmt::Write as _;

use apidiag_audit::Report as AuditReport;
use apidiag_core::finding::{CheckReport, Evidence};

use crate::agents::series;
use crate::chart::{Series, latency};

/// Points per polyline at most: enough for a wide screen.
const MAX_POINTS: usize = 600;
const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 320.0;
const MARGIN: f64 = 48.0;
/// Line colours, one per agent, repeating.
const COLOURS: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// Escapes text for HTML element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The whole page.
pub fn page(audit: &AuditReport, check: &CheckReport, top: usize) -> String {
    let mut out = String::new();
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>apidiag throttle</title><style>\
         body{font-family:sans-serif;margin:2em;color:#222}\
         table{border-collapse:collapse;margin:.5em 0 1.5em}\
         td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;font-size:90%}\
         th{background:#f0f0f0}.sev{font-weight:bold}\
         .warning{color:#b35c00}.critical{color:#b00}.ok{color:#2a7d2a}\
         </style></head><body>\n<h1>apidiag throttle</h1>\n",
    );
    let _ = writeln!(
        out,
        "<p>{} requests counted. Latency over time: mean per bin of the top {top} user agents.</p>",
        audit.total_requests()
    );
    out.push_str(&timechart(&series(audit, top, MAX_POINTS)));
    for finding in &check.findings {
        let severity = finding.severity.label();
        let _ = writeln!(
            out,
            "<h2><span class=\"sev {severity}\">[{severity}]</span> {} <small>{}</small></h2>",
            escape(&finding.title),
            escape(&finding.id)
        );
        if !finding.detail.is_empty() {
            let _ = writeln!(out, "<p>{}</p>", escape(&finding.detail));
        }
        for evidence in &finding.evidence {
            out.push_str(&evidence_html(evidence));
        }
        if let Some(source) = &finding.source {
            let _ = writeln!(
                out,
                "<p><small>Guide: {}, {}</small></p>",
                escape(&source.guide),
                escape(&source.section)
            );
        }
    }
    out.push_str("</body></html>\n");
    out
}

fn evidence_html(e: &Evidence) -> String {
    let mut out = String::new();
    if e.rows.is_empty() {
        let _ = writeln!(
            out,
            "<p><b>{}</b>: {}</p>",
            escape(&e.label),
            escape(&e.value)
        );
        return out;
    }
    let _ = writeln!(out, "<h3>{}</h3>\n<table><tr>", escape(&e.label));
    for c in &e.columns {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("</tr>\n");
    for row in &e.rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// A line per agent, mean latency per cell, on one shared axis; gaps (cells
/// with no timed call) break the line.
pub fn timechart(series: &[Series]) -> String {
    let scale = series
        .iter()
        .map(Series::peak_mean)
        .max()
        .unwrap_or_default()
        .as_secs_f64();
    let cells = series.iter().map(|s| s.cells.len()).max().unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg width=\"{WIDTH}\" height=\"{}\" viewBox=\"0 0 {WIDTH} {}\" role=\"img\">",
        HEIGHT + 20.0 * series.len() as f64,
        HEIGHT + 20.0 * series.len() as f64
    );
    let (left, right, top, bottom) = (MARGIN, WIDTH - 10.0, 10.0, HEIGHT - MARGIN);
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\" stroke=\"#888\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom}\" stroke=\"#888\"/>\
         <text x=\"4\" y=\"{}\" font-size=\"11\">{}</text><text x=\"4\" y=\"{bottom}\" font-size=\"11\">0</text>",
        top + 10.0,
        escape(&latency(std::time::Duration::from_secs_f64(scale)))
    );
    if let (Some(first), Some(last)) = (
        series.first().and_then(|s| s.cells.first()),
        series.first().and_then(|s| s.cells.last()),
    ) {
        let _ = writeln!(
            out,
            "<text x=\"{left}\" y=\"{}\" font-size=\"11\">{}</text>\
             <text x=\"{right}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            bottom + 16.0,
            escape(&apidiag_audit::format_timestamp(first.start)),
            bottom + 16.0,
            escape(&apidiag_audit::format_timestamp(last.start))
        );
    }
    let x = |i: usize| left + (right - left) * i as f64 / cells.saturating_sub(1).max(1) as f64;
    let y = |v: f64| {
        if scale > 0.0 {
            bottom - (bottom - top) * v / scale
        } else {
            bottom
        }
    };
    for (n, s) in series.iter().enumerate() {
        let colour = COLOURS[n % COLOURS.len()];
        let mut runs: Vec<Vec<String>> = vec![Vec::new()];
        for (i, cell) in s.cells.iter().enumerate() {
            match (cell.mean, runs.last_mut()) {
                (Some(mean), Some(run)) => {
                    run.push(format!("{:.1},{:.1}", x(i), y(mean.as_secs_f64())))
                }
                _ => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| !r.is_empty()) {
            if run.len() == 1 {
                let (cx, cy) = run[0].split_once(',').unwrap_or(("0", "0"));
                let _ = writeln!(
                    out,
                    "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"2\" fill=\"{colour}\"/>"
                );
            } else {
                let _ = writeln!(
                    out,
                    "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>",
                    run.join(" ")
                );
            }
        }
        let ly = HEIGHT + 20.0 * n as f64;
        let _ = writeln!(
            out,
            "<rect x=\"{left}\" y=\"{}\" width=\"12\" height=\"4\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{ly}\" font-size=\"12\">{} (peak mean {})</text>",
            ly - 4.0,
            left + 18.0,
            escape(&s.user_agent),
            escape(&latency(s.peak_mean()))
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Cell;
    use std::time::Duration;

    #[test]
    fn escapes_what_a_client_can_put_in_a_user_agent() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(
            escape("kubectl/v1.31.0 (linux/amd64)"),
            "kubectl/v1.31.0 (linux/amd64)"
        );
    }

    #[test]
    fn the_chart_draws_one_line_per_agent_and_breaks_at_gaps() {
        let cell = |start, ms: Option<u64>| Cell {
            start,
            timed: u64::from(ms.is_some()),
            mean: ms.map(Duration::from_millis),
            max: Duration::from_millis(ms.unwrap_or(0)),
        };
        let agent = |name: &str, cells| Series {
            user_agent: name.into(),
            cells,
            bins_per_cell: 1,
        };
        let svg = timechart(&[
            agent(
                "<evil>",
                vec![
                    cell(0, Some(10)),
                    cell(1, Some(20)),
                    cell(2, None),
                    cell(3, Some(5)),
                    cell(4, Some(5)),
                ],
            ),
            agent(
                "b",
                vec![
                    cell(0, Some(1)),
                    cell(1, Some(1)),
                    cell(2, Some(1)),
                    cell(3, Some(1)),
                    cell(4, Some(1)),
                ],
            ),
        ]);
        assert_eq!(svg.matches("<polyline").count(), 3, "{svg}");
        assert!(
            svg.contains("&lt;evil&gt;") && !svg.contains("<evil>"),
            "{svg}"
        );
        // The highest mean reaches the top of the plot, zero stays on the axis.
        assert!(
            svg.contains(&format!(
                "{:.1},{:.1}",
                MARGIN + (WIDTH - 10.0 - MARGIN) / 4.0,
                10.0
            )),
            "{svg}"
        );
        // Inline SVG in HTML needs no namespace URL: nothing on the page points anywhere.
        assert!(!svg.contains("http"), "{svg}");
    }
}
