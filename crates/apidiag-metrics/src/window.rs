//! What one API server process did between two scrapes of its `/metrics`.
//!
//! Counters only mean something as differences: `apiserver_request_total` since
//! the process started says nothing about the incident now. A [`Window`] is two
//! scrapes `seconds` apart of **the same process** (equal
//! `process_start_time_seconds`; a different value means a restart, and the
//! counters reset, or another replica behind a load balancer answered), or one
//! scrape read "since start" when the caller asks for no wait.
//!
//! Differences are taken per label set, the way PromQL's `increase` does: a
//! series absent from the first scrape started in the window (its whole value
//! counts); a series that went down was reset (its second value counts).

use std::collections::HashMap;
use std::fmt;

use crate::exposition::{Histogram, MetricFamilies, Sample};

/// The gauge every Go process serves: when it started, in Unix seconds.
pub const PROCESS_START_TIME_SECONDS: &str = "process_start_time_seconds";

/// Why two scrapes are not a window.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowError {
    /// `process_start_time_seconds` differs: the server restarted, or another
    /// replica answered the second scrape.
    OtherProcess { before: f64, after: f64 },
    /// A scrape has no `process_start_time_seconds`, so nothing proves both come
    /// from one process (or, since start, how long "since start" is).
    NoStartTime,
}

impl fmt::Display for WindowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OtherProcess { before, after } => write!(
                f,
                "the two /metrics scrapes come from different API server processes (started at {before:.0} and {after:.0}): it restarted, or another replica answered"
            ),
            Self::NoStartTime => f.write_str("/metrics serves no process_start_time_seconds"),
        }
    }
}

impl std::error::Error for WindowError {}

/// Two scrapes of one process, or one read since the process started.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    after: &'a MetricFamilies,
    before: Option<&'a MetricFamilies>,
    seconds: f64,
}

impl<'a> Window<'a> {
    /// `before` and `after`, taken `seconds` apart, if one process served both.
    pub fn between(
        before: &'a MetricFamilies,
        after: &'a MetricFamilies,
        seconds: f64,
    ) -> Result<Self, WindowError> {
        let start = |m: &MetricFamilies| m.sum(PROCESS_START_TIME_SECONDS, &[]);
        let (Some(b), Some(a)) = (start(before), start(after)) else {
            return Err(WindowError::NoStartTime);
        };
        // Go prints the start time with millisecond precision; the same process
        // prints the same text, so any difference is another process.
        if (a - b).abs() > 1e-3 {
            return Err(WindowError::OtherProcess {
                before: b,
                after: a,
            });
        }
        Ok(Self {
            after,
            before: Some(before),
            seconds: seconds.max(f64::MIN_POSITIVE),
        })
    }

    /// One scrape read as everything since the process started, `now` being the
    /// time of the scrape in Unix seconds.
    pub fn since_start(after: &'a MetricFamilies, now: f64) -> Result<Self, WindowError> {
        let start = after
            .sum(PROCESS_START_TIME_SECONDS, &[])
            .ok_or(WindowError::NoStartTime)?;
        Ok(Self {
            after,
            before: None,
            seconds: (now - start).max(1.0),
        })
    }

    /// One scrape read since start when the process serves no start time:
    /// counts are whole, `seconds` only divides them into rates.
    pub fn since_start_assuming(after: &'a MetricFamilies, seconds: f64) -> Self {
        Self {
            after,
            before: None,
            seconds: seconds.max(1.0),
        }
    }

    /// The window's length in seconds.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// Whether this is one scrape read since the process started.
    pub fn is_since_start(&self) -> bool {
        self.before.is_none()
    }

    /// The second (or only) scrape, for gauges "now".
    pub fn now(&self) -> &'a MetricFamilies {
        self.after
    }

    /// The first scrape, when there are two.
    pub fn before(&self) -> Option<&'a MetricFamilies> {
        self.before
    }

    /// Per-second rate of an increase over the window.
    pub fn rate(&self, increase: f64) -> f64 {
        increase / self.seconds
    }

    /// The increase of counter `name` over the window, summed over the label sets
    /// matching `filter`. `None` when the second scrape has no such sample.
    pub fn increase(&self, name: &str, filter: &[(&str, &str)]) -> Option<f64> {
        self.increase_by(name, &[], filter)
            .into_iter()
            .map(|(_, v)| v)
            .reduce(|a, b| a + b)
    }

    /// Like `sum by (labels) (increase(name{filter}[window]))`, sorted by the
    /// label values.
    pub fn increase_by(
        &self,
        name: &str,
        labels: &[&str],
        filter: &[(&str, &str)],
    ) -> Vec<(Vec<String>, f64)> {
        let earlier = self.earlier(name, filter);
        let mut groups: std::collections::BTreeMap<Vec<&str>, f64> = Default::default();
        for sample in self.after.samples(name).filter(|s| s.matches(filter)) {
            let key = labels
                .iter()
                .map(|l| sample.label(l).unwrap_or(""))
                .collect();
            *groups.entry(key).or_insert(0.0) += increase(&earlier, sample);
        }
        groups
            .into_iter()
            .map(|(k, v)| (k.into_iter().map(str::to_owned).collect(), v))
            .collect()
    }

    /// The histogram `name` of the observations made in the window, summed over
    /// the label sets matching `filter`.
    pub fn histogram(&self, name: &str, filter: &[(&str, &str)]) -> Option<Histogram> {
        let now = self.after.histogram(name, filter)?;
        match self.before.and_then(|b| b.histogram(name, filter)) {
            Some(then) => Some(now.minus(&then)),
            None => Some(now),
        }
    }

    /// The first scrape's samples of `name` matching `filter`, by label set.
    fn earlier<'s>(
        &'s self,
        name: &'s str,
        filter: &[(&str, &str)],
    ) -> HashMap<&'s [(String, String)], f64> {
        self.before
            .into_iter()
            .flat_map(|b| b.samples(name))
            .filter(|s| s.matches(filter))
            .map(|s| (s.labels.as_slice(), s.value))
            .collect()
    }
}

/// PromQL's per-series `increase` without extrapolation.
fn increase(earlier: &HashMap<&[(String, String)], f64>, sample: &Sample) -> f64 {
    match earlier.get(sample.labels.as_slice()) {
        Some(&then) if sample.value >= then => sample.value - then,
        // Absent before (a new series) or lower now (a reset): all of it is new.
        _ => sample.value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(start: &str, total: f64, ok: f64, le1: f64, inf: f64) -> MetricFamilies {
        MetricFamilies::parse(&format!(
            "process_start_time_seconds {start}\n\
             apiserver_request_total{{code=\"429\",verb=\"LIST\"}} {total}\n\
             apiserver_request_total{{code=\"200\",verb=\"LIST\"}} {ok}\n\
             d_bucket{{le=\"1\"}} {le1}\nd_bucket{{le=\"+Inf\"}} {inf}\nd_sum 0\nd_count {inf}\n"
        ))
    }

    #[test]
    fn increases_are_per_label_set_and_new_series_count_whole() {
        let before = scrape("1.79e+09", 10.0, 100.0, 5.0, 5.0);
        let after = MetricFamilies::parse(
            "process_start_time_seconds 1.79e+09\n\
             apiserver_request_total{code=\"429\",verb=\"LIST\"} 15\n\
             apiserver_request_total{code=\"200\",verb=\"LIST\"} 130\n\
             apiserver_request_total{code=\"500\",verb=\"GET\"} 2\n",
        );
        let w = Window::between(&before, &after, 30.0).expect("one process");
        assert_eq!(w.increase("apiserver_request_total", &[]), Some(37.0));
        assert_eq!(
            w.increase("apiserver_request_total", &[("code", "429")]),
            Some(5.0)
        );
        assert_eq!(
            w.increase_by("apiserver_request_total", &["verb"], &[]),
            vec![
                (vec!["GET".to_owned()], 2.0),
                (vec!["LIST".to_owned()], 35.0)
            ]
        );
        assert!((w.rate(30.0) - 1.0).abs() < 1e-9);
        assert_eq!(w.increase("absent", &[]), None);
    }

    #[test]
    fn a_counter_that_went_down_was_reset() {
        let before = scrape("7", 10.0, 100.0, 0.0, 0.0);
        let after = scrape("7", 3.0, 100.0, 0.0, 0.0);
        let w = Window::between(&before, &after, 1.0).expect("one process");
        assert_eq!(
            w.increase("apiserver_request_total", &[("code", "429")]),
            Some(3.0)
        );
    }

    #[test]
    fn another_process_or_no_start_time_is_refused() {
        let a = scrape("1.79e+09", 1.0, 1.0, 0.0, 0.0);
        let b = scrape("1.791e+09", 1.0, 1.0, 0.0, 0.0);
        assert!(matches!(
            Window::between(&a, &b, 30.0),
            Err(WindowError::OtherProcess { .. })
        ));
        let none = MetricFamilies::parse("x 1\n");
        assert_eq!(
            Window::between(&none, &a, 30.0).err(),
            Some(WindowError::NoStartTime)
        );
        assert_eq!(
            Window::since_start(&none, 5.0).err(),
            Some(WindowError::NoStartTime)
        );
    }

    #[test]
    fn histograms_are_the_observations_of_the_window() {
        let before = scrape("7", 0.0, 0.0, 90.0, 100.0);
        let after = scrape("7", 0.0, 0.0, 90.0, 110.0);
        let w = Window::between(&before, &after, 10.0).expect("one process");
        let h = w.histogram("d", &[]).expect("served");
        // All ten new observations were above 1 s.
        assert_eq!(h.count(), Some(10.0));
        assert_eq!(h.quantile(0.5), Some(1.0));
        let since = Window::since_start(&after, 107.0).expect("start time");
        assert!(since.is_since_start());
        assert_eq!(since.seconds(), 100.0);
        assert_eq!(
            since.histogram("d", &[]).and_then(|h| h.count()),
            Some(110.0)
        );
    }
}
