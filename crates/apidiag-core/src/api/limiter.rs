//! The run's request rate, shared by every check.

use std::time::{Duration, Instant};

/// A token bucket that hands out slots in order, so concurrent checks share the
/// rate fairly: each caller reserves the next slot and sleeps until it comes.
pub(super) struct TokenBucket {
    state: std::sync::Mutex<Bucket>,
}

struct Bucket {
    qps: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    pub(super) fn new(qps: f64, burst: u32) -> Self {
        let (qps, burst) = Self::sane(qps, burst);
        TokenBucket {
            state: std::sync::Mutex::new(Bucket {
                qps,
                burst,
                tokens: burst,
                at: Instant::now(),
            }),
        }
    }

    fn sane(qps: f64, burst: u32) -> (f64, f64) {
        let qps = if qps.is_finite() && qps > 0.0 {
            qps
        } else {
            1.0
        };
        (qps, f64::from(burst.max(1)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// New rate from now on; slots already reserved keep their time.
    pub(super) fn set_rate(&self, qps: f64, burst: u32) {
        let (qps, burst) = Self::sane(qps, burst);
        let mut state = self.lock();
        state.qps = qps;
        state.burst = burst;
        state.tokens = state.tokens.min(burst);
    }

    pub(super) async fn acquire(&self) {
        let wait = {
            let mut state = self.lock();
            let now = Instant::now();
            let elapsed = now.duration_since(state.at).as_secs_f64();
            state.tokens = (state.tokens + elapsed * state.qps).min(state.burst);
            state.at = now;
            state.tokens -= 1.0;
            if state.tokens < 0.0 {
                Some(Duration::from_secs_f64(-state.tokens / state.qps))
            } else {
                None
            }
        };
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
        }
    }
}
