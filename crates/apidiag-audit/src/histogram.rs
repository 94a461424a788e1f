//! Fixed-precision latency histograms, one per (agent, verb, resource, scope).
//!
//! Log-linear buckets: exact below 64 µs, then 32 buckets per power of two,
//! so a quantile is within 1/64 (1.6 %) of the true value, and the storage is
//! a dense array over the occupied range only. A group whose calls take 1 ms
//! to 1 s holds about 320 counters (1.3 KiB), however many calls it sees.
//!
//! Why not the `hdrhistogram` crate: it allocates every bucket from 1 to the
//! highest value at the chosen precision, about 13 KiB per histogram at two
//! significant digits (or 6 % error at one), and the engine keeps thousands of
//! groups per thread within a 100 MiB budget. The bucketing is the same idea.

/// Values below this are their own bucket.
const EXACT: u64 = 64;
/// Sub-buckets per power of two above [`EXACT`].
const SUB: u64 = 32;

/// A latency histogram in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    offset: usize,
    /// u32: a bucket would need 4 billion calls of one group on one thread to
    /// saturate, and it halves the memory of thousands of groups.
    counts: Vec<u32>,
    total: u64,
    sum: u64,
    min: u64,
    max: u64,
}

fn index(v: u64) -> usize {
    if v < EXACT {
        return v as usize;
    }
    let msb = 63 - u64::from(v.leading_zeros());
    let shift = msb - 5;
    let mantissa = v >> shift;
    (EXACT + (shift - 1) * SUB + (mantissa - SUB)) as usize
}

/// The middle of bucket `i`.
fn value(i: usize) -> u64 {
    let i = i as u64;
    if i < EXACT {
        return i;
    }
    let shift = (i - EXACT) / SUB + 1;
    let mantissa = (i - EXACT) % SUB + SUB;
    (mantissa << shift) + (1 << (shift - 1))
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one latency.
    pub fn record(&mut self, micros: u64) {
        self.record_n(index(micros), 1);
        self.sum = self.sum.saturating_add(micros);
        self.min = if self.total == 1 {
            micros
        } else {
            self.min.min(micros)
        };
        self.max = self.max.max(micros);
    }

    fn record_n(&mut self, i: usize, n: u64) {
        if self.counts.is_empty() {
            self.offset = i;
        } else if i < self.offset {
            let grow = self.offset - i;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = i;
        }
        let at = i - self.offset;
        if at >= self.counts.len() {
            self.counts.resize(at + 1, 0);
        }
        self.counts[at] = self.counts[at].saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        self.total += n;
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &Self) {
        if other.total == 0 {
            return;
        }
        let (min, max) = if self.total == 0 {
            (other.min, other.max)
        } else {
            (self.min.min(other.min), self.max.max(other.max))
        };
        for (at, &n) in other.counts.iter().enumerate() {
            if n > 0 {
                self.record_n(other.offset + at, u64::from(n));
            }
        }
        self.sum = self.sum.saturating_add(other.sum);
        (self.min, self.max) = (min, max);
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Sum of the values (saturating).
    pub fn sum(&self) -> u64 {
        self.sum
    }

    /// The largest value, exact.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The mean, exact; 0 when empty.
    pub fn mean(&self) -> u64 {
        self.sum.checked_div(self.total).unwrap_or(0)
    }

    /// The value at quantile `q` (0..=1), within 1.6 %; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (at, &n) in self.counts.iter().enumerate() {
            seen += u64::from(n);
            if seen >= rank {
                return value(self.offset + at).clamp(self.min, self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact(sorted: &[u64], q: f64) -> u64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    #[test]
    fn buckets_are_monotonic_and_contain_their_values() {
        let mut last = 0;
        for v in (0..5000).chain([1 << 20, u64::MAX / 3, u64::MAX]) {
            let i = index(v);
            assert!(i >= last, "{v}");
            last = i;
            let mid = value(i);
            assert!(mid.abs_diff(v) <= v / 64 + 1, "{v} → {mid}");
        }
    }

    #[test]
    fn small_known_case() {
        let mut h = LatencyHistogram::new();
        for v in 1..=100 {
            h.record(v * 1000);
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.max(), 100_000);
        assert_eq!(h.mean(), 50_500);
        let p99 = h.quantile(0.99);
        assert!(p99.abs_diff(99_000) <= 99_000 / 64, "{p99}");
        assert_eq!(LatencyHistogram::new().quantile(0.99), 0);
    }

    proptest! {
        #[test]
        fn quantiles_within_precision(values in proptest::collection::vec(0u64..10_000_000_000, 1..400), q in 0.0f64..=1.0) {
            let mut h = LatencyHistogram::new();
            for &v in &values { h.record(v); }
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let truth = exact(&sorted, q);
            let got = h.quantile(q);
            prop_assert!(got.abs_diff(truth) <= truth / 64 + 1, "q={q} truth={truth} got={got}");
        }

        #[test]
        fn merge_equals_recording_everything(a in proptest::collection::vec(0u64..1u64 << 40, 0..200), b in proptest::collection::vec(0u64..1u64 << 40, 0..200)) {
            let (mut ha, mut hb, mut all) = (LatencyHistogram::new(), LatencyHistogram::new(), LatencyHistogram::new());
            for &v in &a { ha.record(v); all.record(v); }
            for &v in &b { hb.record(v); all.record(v); }
            let mut ba = hb.clone();
            ha.merge(&hb);
            ba.merge(&{ let mut x = LatencyHistogram::new(); for &v in &a { x.record(v); } x });
            prop_assert_eq!(ha.quantile(0.99), all.quantile(0.99));
            prop_assert_eq!(ha.count(), all.count());
            prop_assert_eq!((ha.min, ha.max, ha.sum), (all.min, all.max, all.sum));
            prop_assert_eq!(ba.quantile(0.5), all.quantile(0.5));
        }
    }
}
