//! How fast a bulk fix or its undo sends: [`Pacer`], adaptive concurrency that
//! the server's answers steer, and [`Breaker`], which stops a run whose server has
//! stopped answering. Kept apart from the streaming flow because they are pure
//! state machines over answers and times, tested without a server.

use std::time::{Duration, Instant};

use crate::api::ApiError;

/// How many deletes may be in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    pub start: usize,
    pub max: usize,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing { start: 8, max: 32 }
    }
}

/// Stops a paced run when the API server stops answering: after
/// [`Breaker::LIMIT`] operations in a row failed with no connection, a timeout or a
/// 5xx (the client already retried each), sending more would only pile up failures
/// and load on a server that is down. What was done is in the journal; a rerun
/// continues.
#[derive(Debug, Default)]
pub(super) struct Breaker {
    consecutive: usize,
}

/// Watches the API server's Priority and Fairness queues during a paced run: a
/// fix must not become the client that overloads the server it is repairing.
/// The answers' latency shows our own requests slowing; the queues show everyone
/// else's waiting, which is what an SRE in an incident cares about. Sampled from
/// `/metrics` every [`QueueWatch::EVERY`] answers and at most every
/// [`QueueWatch::MIN_GAP`] (the scrape is tens of MB on a large cluster).
#[derive(Debug)]
pub(super) struct QueueWatch {
    answers: usize,
    last_sample: Option<std::time::Instant>,
    last_queued: Option<f64>,
    /// Whether `/metrics` can be read at all (403: stop asking).
    readable: bool,
}

impl Default for QueueWatch {
    fn default() -> Self {
        QueueWatch {
            answers: 0,
            last_sample: None,
            last_queued: None,
            readable: true,
        }
    }
}

impl QueueWatch {
    pub(super) const EVERY: usize = 500;
    pub(super) const MIN_GAP: std::time::Duration = std::time::Duration::from_secs(10);
    /// Requests waiting in APF queues below which growth is noise.
    const QUIET: f64 = 10.0;

    /// Counts one answer; true when a sample is due.
    pub(super) fn due(&mut self, now: std::time::Instant) -> bool {
        self.answers += 1;
        self.readable
            && self.answers.is_multiple_of(Self::EVERY)
            && self
                .last_sample
                .is_none_or(|at| now.duration_since(at) >= Self::MIN_GAP)
    }

    /// One sample of the requests waiting in APF queues (None: unreadable);
    /// true when they grew past the quiet level since the last sample.
    pub(super) fn observe(&mut self, queued: Option<f64>, now: std::time::Instant) -> bool {
        self.last_sample = Some(now);
        let Some(queued) = queued else {
            self.readable = false;
            return false;
        };
        let rising = self
            .last_queued
            .is_some_and(|before| queued > before && queued >= Self::QUIET);
        self.last_queued = Some(queued);
        rising
    }
}

impl Breaker {
    const LIMIT: usize = 10;

    /// One answer; `Some(reason)` when the run must stop.
    pub(super) fn observe<T>(&mut self, answer: &Result<T, ApiError>) -> Option<String> {
        let down = matches!(
            answer,
            Err(ApiError::Unreachable { .. })
                | Err(ApiError::Status {
                    code: 500..=599,
                    ..
                })
        );
        self.consecutive = if down { self.consecutive + 1 } else { 0 };
        (self.consecutive >= Self::LIMIT).then(|| {
            format!(
                "the API server stopped answering ({} operations in a row failed with no connection, a timeout or a 5xx)",
                self.consecutive
            )
        })
    }
}

/// Additive-increase, multiplicative-decrease concurrency: the server's answers
/// decide how many deletes are in flight.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Deletes allowed in flight now.
    pub limit: usize,
    max: usize,
    /// Calm answers since the last change of `limit`.
    calm: usize,
    /// Answers since the last change of `limit`.
    since_change: usize,
    samples: usize,
    /// Smoothed latency (ms) and the best it has been, once warmed up.
    smoothed: f64,
    best: Option<f64>,
    throttled_seen: u64,
    /// The rate cap, and when the last answers came back: at the cap, latency
    /// includes waiting for the client's own token bucket.
    cap: Option<f64>,
    recent: std::collections::VecDeque<Instant>,
    pub lowest: usize,
    pub highest: usize,
}

impl Pacer {
    /// Answers before the latency baseline is trusted.
    const WARM_UP: usize = 16;
    /// Latency this many times the best seen means the server is queueing.
    const SLOW: f64 = 3.0;
    /// Latency below this (ms) is never "slow": loopback noise.
    const FLOOR_MS: f64 = 5.0;

    pub fn new(pacing: Pacing, throttled_so_far: u64) -> Self {
        let max = pacing.max.max(1);
        let limit = pacing.start.clamp(1, max);
        Pacer {
            limit,
            max,
            calm: 0,
            since_change: 0,
            samples: 0,
            smoothed: 0.0,
            best: None,
            throttled_seen: throttled_so_far,
            cap: None,
            recent: std::collections::VecDeque::new(),
            lowest: limit,
            highest: limit,
        }
    }

    /// The requests-per-second cap the deletes run under.
    pub fn with_cap(mut self, qps: f64) -> Self {
        self.cap = (qps.is_finite() && qps > 0.0).then_some(qps);
        self
    }

    /// Answers over which the rate is measured.
    const RATE_WINDOW: usize = 32;

    /// Whether answers come back at (nearly) the rate cap: the cap binds.
    fn at_cap(&self) -> bool {
        let (Some(cap), Some(first), Some(last)) =
            (self.cap, self.recent.front(), self.recent.back())
        else {
            return false;
        };
        if self.recent.len() < Self::RATE_WINDOW {
            return false;
        }
        let span = last.duration_since(*first).as_secs_f64();
        span > 0.0 && (self.recent.len() - 1) as f64 / span >= 0.9 * cap
    }

    /// One answer came back at `now` after `latency`; `throttled_total` is the run's
    /// 429 count.
    pub fn observe(&mut self, latency: Duration, throttled_total: u64, now: Instant) {
        self.recent.push_back(now);
        if self.recent.len() > Self::RATE_WINDOW {
            self.recent.pop_front();
        }
        if throttled_total > self.throttled_seen {
            self.throttled_seen = throttled_total;
            self.decrease();
            return;
        }
        let ms = latency.as_secs_f64() * 1000.0;
        self.samples += 1;
        self.since_change += 1;
        self.smoothed = if self.samples == 1 {
            ms
        } else {
            0.8 * self.smoothed + 0.2 * ms
        };
        if self.samples >= Self::WARM_UP {
            self.best = Some(self.best.map_or(self.smoothed, |b| b.min(self.smoothed)));
        }
        let slow = self
            .best
            .is_some_and(|best| self.smoothed > Self::SLOW * best.max(Self::FLOOR_MS));
        // At the cap more in flight cannot go faster, and slower answers are our
        // own queue at the token bucket, not the server's: hold.
        if self.at_cap() {
            return;
        }
        if slow {
            // Once per window of `limit` answers, so the answers already in flight
            // when the limit dropped do not halve it again at once.
            if self.since_change >= self.limit {
                self.decrease();
            }
            return;
        }
        self.calm += 1;
        // One more in flight after a window of `limit` calm answers: slow growth.
        if self.calm >= 2 * self.limit && self.limit < self.max {
            self.limit += 1;
            self.highest = self.highest.max(self.limit);
            self.calm = 0;
            self.since_change = 0;
        }
    }

    /// One line on how a paced run went: `deleted 20000 of 20000 in 40.2s
    /// (concurrency 1..11, ended at 3; 0 throttled)`.
    pub(super) fn summary(
        &self,
        verb_past: &str,
        operations: &[super::OperationResult],
        started: Instant,
        throttled: u64,
    ) -> String {
        let done = operations.iter().filter(|o| o.outcome == "done").count();
        format!(
            "{verb_past} {done} of {} in {:.1}s (concurrency {}..{}, ended at {}; {throttled} throttled)",
            operations.len(),
            started.elapsed().as_secs_f64(),
            self.lowest,
            self.highest,
            self.limit,
        )
    }

    /// Halves the concurrency from outside the answers' own signals (the API
    /// server's queues growing, [`QueueWatch`]).
    pub(super) fn slow_down(&mut self) {
        self.decrease();
    }

    fn decrease(&mut self) {
        self.limit = (self.limit / 2).max(1);
        self.lowest = self.lowest.min(self.limit);
        self.calm = 0;
        self.since_change = 0;
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn queue_watch_samples_rarely_and_flags_only_real_growth() {
        let start = std::time::Instant::now();
        let mut watch = QueueWatch::default();
        let due: Vec<usize> = (1..=QueueWatch::EVERY * 2)
            .filter(|_| watch.due(start))
            .collect();
        assert_eq!(due, [QueueWatch::EVERY, QueueWatch::EVERY * 2]);
        assert!(
            !watch.observe(Some(2.0), start),
            "first sample: nothing to compare"
        );
        assert!(
            !watch.observe(Some(8.0), start),
            "growth below the quiet level"
        );
        assert!(watch.observe(Some(40.0), start), "queues growing");
        assert!(!watch.observe(Some(30.0), start), "shrinking");
        // Too soon after the last sample: not due even on the count.
        let mut soon = QueueWatch::default();
        assert!(!soon.observe(Some(1.0), start));
        assert!((0..QueueWatch::EVERY).all(|_| !soon.due(start)));
        // Unreadable /metrics (403): never asked again.
        let mut denied = QueueWatch::default();
        assert!(!denied.observe(None, start));
        let later = start + QueueWatch::MIN_GAP * 2;
        assert!((0..QueueWatch::EVERY * 2).all(|_| !denied.due(later)));
    }
    use super::*;

    /// Answers 5 ms apart (200 per second), from a fixed start.
    fn clock() -> impl FnMut() -> Instant {
        let start = Instant::now();
        let mut n = 0u32;
        move || {
            n += 1;
            start + Duration::from_millis(5) * n
        }
    }

    #[test]
    fn the_breaker_opens_after_ten_failures_in_a_row_only() {
        let down = || -> Result<(), ApiError> {
            Err(ApiError::Unreachable {
                server: "https://127.0.0.1:1".into(),
                message: "connection refused".into(),
            })
        };
        let unavailable = || -> Result<(), ApiError> {
            Err(ApiError::Status {
                request: "DELETE /x".into(),
                code: 503,
                reason: "ServiceUnavailable".into(),
                message: "etcd".into(),
            })
        };
        let mut breaker = Breaker::default();
        for _ in 0..9 {
            assert!(breaker.observe(&down()).is_none());
        }
        // One answer in between resets the count: a flaky server is not a dead one.
        assert!(breaker.observe(&Ok(())).is_none());
        for _ in 0..9 {
            assert!(breaker.observe(&unavailable()).is_none());
        }
        let forbidden: Result<(), ApiError> = Err(ApiError::Forbidden {
            request: "DELETE /x".into(),
            message: "no".into(),
        });
        assert!(
            breaker.observe(&forbidden).is_none(),
            "a refusal is an answer"
        );
        for _ in 0..9 {
            assert!(breaker.observe(&unavailable()).is_none());
        }
        let reason = breaker.observe(&down()).expect("ten in a row");
        assert!(reason.contains("stopped answering"), "{reason}");
    }

    #[test]
    fn pacer_grows_slowly_and_halves_on_429() {
        let mut now = clock();
        let mut pacer = Pacer::new(Pacing::default(), 0);
        assert_eq!(pacer.limit, 8);
        for _ in 0..16 {
            pacer.observe(Duration::from_millis(4), 0, now());
        }
        assert_eq!(pacer.limit, 9, "one step after 2 × 8 calm answers");
        for _ in 0..2000 {
            pacer.observe(Duration::from_millis(4), 0, now());
        }
        assert_eq!(pacer.limit, 32, "capped at the maximum");
        pacer.observe(Duration::from_millis(4), 1, now());
        assert_eq!(pacer.limit, 16);
        pacer.observe(Duration::from_millis(4), 3, now());
        assert_eq!(pacer.limit, 8);
        assert_eq!((pacer.lowest, pacer.highest), (8, 32));
    }

    #[test]
    fn pacer_backs_off_when_latency_climbs() {
        let mut now = clock();
        let mut pacer = Pacer::new(Pacing { start: 16, max: 32 }, 0);
        for _ in 0..40 {
            pacer.observe(Duration::from_millis(10), 0, now());
        }
        let before = pacer.limit;
        for _ in 0..60 {
            pacer.observe(Duration::from_millis(200), 0, now());
        }
        assert!(pacer.limit < before / 2, "{} vs {before}", pacer.limit);
        assert!(pacer.limit >= 1);
    }

    #[test]
    fn pacer_holds_when_the_rate_cap_binds() {
        // Answers at 200/s under a 200/s cap: slower answers are the client's own
        // token bucket, so the pacer neither backs off nor grows.
        let mut now = clock();
        let mut pacer = Pacer::new(Pacing { start: 16, max: 32 }, 0).with_cap(200.0);
        for _ in 0..40 {
            pacer.observe(Duration::from_millis(10), 0, now());
        }
        let held = pacer.limit;
        for _ in 0..200 {
            pacer.observe(Duration::from_millis(200), 0, now());
        }
        assert_eq!(pacer.limit, held);
        // A 429 still halves it.
        pacer.observe(Duration::from_millis(200), 1, now());
        assert_eq!(pacer.limit, held / 2);
    }

    #[test]
    fn pacer_ignores_loopback_noise() {
        let mut now = clock();
        let mut pacer = Pacer::new(Pacing::default(), 0);
        for i in 0..200 {
            // 0.5 ms to 4 ms: all under the floor, never "slow".
            pacer.observe(Duration::from_micros(500 + (i % 8) * 500), 0, now());
        }
        assert!(pacer.limit > 8);
        assert_eq!(pacer.lowest, 8);
    }
}
