//! Call patterns that point at a client bug rather than at load: LIST
//! polling (the same LIST again and again, with no watch that would make it
//! unnecessary), watch churn (a watch re-opened far more often than an
//! informer does), GET polling of one object and write storms on one object.
//! The guides call them "excessive LIST or PUT calls" and "leaking watches
//! and GETs" (research `throttle.md` §5, §8.2 THR-A04…A07).
//!
//! A rate is (calls − 1) / (last − first), so one burst of N calls in a few
//! seconds is a high rate; a minimum number of calls keeps two calls close
//! together from looking like a storm.

use std::fmt;
use std::time::Duration;

use crate::aggregate::Span;

/// Thresholds of the call patterns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// LIST polling: calls per minute of one key, with no watch on it from the same client.
    pub list_per_minute: f64,
    /// LIST polling: fewest calls.
    pub list_min_calls: u64,
    /// Watch churn: opens per minute of one key. client-go's reflector re-opens a
    /// watch every 5–10 minutes (`minWatchTimeout` × [1, 2]), at most 0.2 a minute;
    /// the default is twice that.
    pub watch_per_minute: f64,
    /// Watch churn: fewest opens.
    pub watch_min_opens: u64,
    /// GET polling: GETs per second of one object by one client.
    pub get_per_second: f64,
    /// GET polling: fewest calls.
    pub get_min_calls: u64,
    /// Write storm: updates and patches per second of one object by one client.
    pub write_per_second: f64,
    /// Write storm: fewest calls.
    pub write_min_calls: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            list_per_minute: 1.0,
            list_min_calls: 5,
            watch_per_minute: 0.4,
            watch_min_opens: 5,
            get_per_second: 1.0,
            get_min_calls: 30,
            write_per_second: 1.0,
            write_min_calls: 30,
        }
    }
}

/// Which pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PatternKind {
    /// The same LIST repeated, no watch on it.
    ListPolling,
    /// A watch re-opened too often.
    WatchChurn,
    /// One object read again and again.
    GetPolling,
    /// One object updated or patched again and again.
    WriteStorm,
}

impl fmt::Display for PatternKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ListPolling => "LIST polling",
            Self::WatchChurn => "watch churn",
            Self::GetPolling => "GET polling",
            Self::WriteStorm => "write storm",
        })
    }
}

/// One flagged key.
#[derive(Debug, Clone, PartialEq)]
pub struct CallPattern {
    /// Which pattern.
    pub kind: PatternKind,
    /// Who.
    pub user_agent: String,
    /// Which user.
    pub user: String,
    /// `pods`, `deployments.apps`, `leases.coordination.k8s.io`, …
    pub resource: String,
    /// Empty when cluster-wide.
    pub namespace: String,
    /// The selector (LIST, watch; `l:` label, `f:` field) or the object name (GET, write).
    pub target: String,
    /// Calls (or watch opens).
    pub calls: u64,
    /// First to last call.
    pub span: Duration,
    /// Calls per minute.
    pub per_minute: f64,
    /// The threshold it exceeded, per minute.
    pub threshold_per_minute: f64,
}

impl Thresholds {
    /// The per-minute threshold and minimum count of a pattern.
    pub(crate) fn limit(&self, kind: PatternKind) -> (f64, u64) {
        match kind {
            PatternKind::ListPolling => (self.list_per_minute, self.list_min_calls),
            PatternKind::WatchChurn => (self.watch_per_minute, self.watch_min_opens),
            PatternKind::GetPolling => (self.get_per_second * 60.0, self.get_min_calls),
            PatternKind::WriteStorm => (self.write_per_second * 60.0, self.write_min_calls),
        }
    }
}

/// Calls per minute of a span; a span under a second counts as one second.
pub(crate) fn per_minute(span: &Span) -> f64 {
    let seconds = ((span.last - span.first) as f64 / 1e6).max(1.0);
    span.count.saturating_sub(1) as f64 * 60.0 / seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        let s = Span {
            count: 11,
            first: 0,
            last: 600_000_000,
        };
        assert!((per_minute(&s) - 1.0).abs() < 1e-9);
        let burst = Span {
            count: 2,
            first: 0,
            last: 10,
        };
        assert!((per_minute(&burst) - 60.0).abs() < 1e-9);
        assert_eq!(
            per_minute(&Span {
                count: 1,
                first: 5,
                last: 5
            }),
            0.0
        );
    }

    #[test]
    fn informer_norm_is_below_the_watch_threshold() {
        // Re-opened every 5 minutes for an hour: the fastest a healthy reflector goes.
        let healthy = Span {
            count: 13,
            first: 0,
            last: 3_600_000_000,
        };
        let t = Thresholds::default();
        assert!(per_minute(&healthy) < t.limit(PatternKind::WatchChurn).0);
        assert_eq!(t.limit(PatternKind::GetPolling), (60.0, 30));
    }
}
