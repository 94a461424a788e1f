//! Live load, from `/metrics` alone: nothing installed, no audit log, no LIST.
//!
//! Two scrapes `--window` apart (the run's shared scrape, then one more), read as
//! one window when one process served both (`process_start_time_seconds`
//! equal); otherwise the second scrape is read since its process started and
//! the report says why. `--window 0`, and `kubectl apidiag` running every check,
//! read the shared scrape since start: no wait and no extra request.
//!
//! Metrics say which resource, verb and priority level are hot, never which
//! client: the report says so and points to `--audit-log` and `--kql`.

pub mod dump;
pub mod findings;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apidiag_core::check::Context;
use apidiag_core::finding::CheckReport;
use apidiag_metrics::load::{
    self, ApfFlow, ApfLevel, ListLoad, ListScheme, RequestLoad, WatchGrowth,
};
use apidiag_metrics::{MetricFamilies, Window, WindowError, minor_version};

use crate::NAME;

/// How many (verb, resource, scope) rows get a latency and size reading.
const TIMED_ROWS: usize = 60;

/// Everything live mode read, reduced: what findings and the fix build on.
#[derive(Debug, Clone)]
pub struct LiveLoad {
    /// Seconds the counters cover.
    pub seconds: f64,
    /// Read since the process started (no second scrape, or it was refused).
    pub since_start: bool,
    /// Why a second scrape was not used as a window, when it was not.
    pub window_refused: Option<WindowError>,
    pub minor: Option<u32>,
    /// `None`: the server serves no LIST counter.
    pub lists: Option<(ListScheme, Vec<ListLoad>)>,
    pub requests: Vec<RequestLoad>,
    pub flows: Vec<ApfFlow>,
    pub levels: Vec<ApfLevel>,
    pub non_apf_429: Option<f64>,
    pub watches: Vec<WatchGrowth>,
}

impl LiveLoad {
    /// Reads a window of metrics.
    pub fn read(window: &Window<'_>, minor: Option<u32>, refused: Option<WindowError>) -> Self {
        let (flows, levels) = load::apf(window);
        LiveLoad {
            seconds: window.seconds(),
            since_start: window.is_since_start(),
            window_refused: refused,
            minor,
            lists: load::list_load(window, minor),
            requests: load::request_load(window, TIMED_ROWS),
            flows,
            levels,
            non_apf_429: load::non_apf_throttling(window),
            watches: load::watch_growth(window),
        }
    }

    /// The window in words: "the last 30 s", "the 3 h since the API server started".
    pub fn span(&self) -> String {
        let d = humantime_short(self.seconds);
        if self.since_start {
            format!("the {d} since the API server started")
        } else {
            format!("the last {d}")
        }
    }

    /// Σ nominal seats over the priority levels: the server's concurrency limit
    /// as APF divides it (`--max-requests-inflight` + `--max-mutating-requests-inflight`).
    pub fn server_seats(&self) -> Option<f64> {
        let seats: Vec<f64> = self.levels.iter().filter_map(|l| l.nominal_seats).collect();
        (!seats.is_empty()).then(|| seats.iter().sum())
    }
}

/// 90 → "1m30s", 10800 → "3h".
pub(crate) fn humantime_short(seconds: f64) -> String {
    let s = seconds.round() as u64;
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    match (h, m, sec) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// What a live diagnosis reads besides `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// `kubectl apidiag`: the shared scrape only.
    Suite,
    /// `kubectl apidiag throttle`: also one APF dump.
    Check,
}

/// The live diagnosis: the shared scrape, and after `window` one more.
pub async fn diagnose(
    ctx: &Context,
    window: Duration,
    depth: Depth,
) -> (CheckReport, Option<LiveLoad>) {
    let minor = ctx.server.version.as_deref().and_then(minor_version);
    let first = match ctx.metrics().await {
        Ok(families) => families,
        Err(error) => {
            let report = apidiag_core::check::could_not_check(NAME, error, PERMISSIONS);
            return (report, None);
        }
    };
    let first_at = unix_now();
    // The window is measured, not assumed: the wait plus the second scrape's
    // own time (tens of MB on a big cluster).
    let first_done = std::time::Instant::now();
    let load = if window.is_zero() {
        since_start(first, first_at, minor, None)
    } else {
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            eprintln!(
                "throttle: reading /metrics again in {} to see the load now (--window 0 reads the counters since the API server started)",
                humantime_short(window.as_secs_f64())
            );
        }
        tokio::time::sleep(window).await;
        match ctx.api.get_text("/metrics").await {
            Ok(text) => {
                let second = MetricFamilies::parse(&text);
                let elapsed = first_done.elapsed().as_secs_f64();
                match Window::between(first, &second, elapsed) {
                    Ok(w) => LiveLoad::read(&w, minor, None),
                    Err(refused) => since_start(&second, unix_now(), minor, Some(refused)),
                }
            }
            Err(error) => {
                let report = apidiag_core::check::could_not_check(NAME, &error, PERMISSIONS);
                return (report, None);
            }
        }
    };
    let mut report = CheckReport::new(NAME);
    for finding in findings::all(&load) {
        report.push(finding);
    }
    if depth == Depth::Check {
        report.push(dump::finding(ctx.api.get_text(dump::PATH).await));
    }
    if let Some(why) = &load.window_refused {
        // Not a gap: the second scrape was read whole, over a longer span.
        report.push(
            apidiag_core::finding::Finding::new(
                "throttle.metrics-window",
                apidiag_core::finding::Severity::Info,
                format!(
                    "The {} window was refused: {why}",
                    humantime_short(window.as_secs_f64())
                ),
            )
            .detail("The counters of the second scrape were read since its process started; run the check again for a window of one process.")
            .source(crate::source("collect the metrics")),
        );
    }
    (report, Some(load))
}

fn since_start(
    families: &MetricFamilies,
    now: f64,
    minor: Option<u32>,
    refused: Option<WindowError>,
) -> LiveLoad {
    match Window::since_start(families, now) {
        Ok(w) => LiveLoad::read(&w, minor, refused),
        // Without a start time the counters still are counts; an hour is only a
        // divisor for rates, and the span says "since the API server started".
        Err(_) => {
            let w = Window::since_start_assuming(families, 3600.0);
            LiveLoad::read(&w, minor, refused)
        }
    }
}

/// What live mode needs to be allowed.
pub const PERMISSIONS: &str =
    "get on the non-resource URL /metrics (ClusterRole system:monitoring)";
