//! Ages of leaked objects, in the buckets an SRE picks `--older-than` from.
//!
//! Age is the time since `metadata.creationTimestamp`, kubectl's AGE column: it is
//! in the metadata-only LISTs the diagnosis makes, so the diagnosis and a cleanup
//! with `--older-than` count the same objects.

use std::time::Duration;

use jiff::Timestamp;

/// Bucket upper bounds; the last bucket is open.
const BOUNDS: [(u64, &str); 4] = [
    (3600, "< 1h"),
    (86_400, "1h–1d"),
    (7 * 86_400, "1d–7d"),
    (30 * 86_400, "7d–30d"),
];
const LAST: &str = "≥ 30d";

/// How many objects fall in each age bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgeBuckets {
    counts: [u64; 5],
    oldest: Option<Timestamp>,
}

impl AgeBuckets {
    /// Adds an object created at `created` (unknown times count as new).
    pub fn add(&mut self, created: Option<Timestamp>, now: Timestamp) {
        let age = created
            .map(|c| now.duration_since(c).as_secs().max(0) as u64)
            .unwrap_or(0);
        let index = BOUNDS
            .iter()
            .position(|(bound, _)| age < *bound)
            .unwrap_or(BOUNDS.len());
        self.counts[index] += 1;
        if let Some(c) = created
            && self.oldest.is_none_or(|o| c < o)
        {
            self.oldest = Some(c);
        }
    }

    pub fn merge(&mut self, other: &AgeBuckets) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
        if let Some(o) = other.oldest
            && self.oldest.is_none_or(|s| o < s)
        {
            self.oldest = Some(o);
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `3 < 1h, 12 1d–7d`: non-empty buckets only.
    pub fn describe(&self) -> String {
        let labels = BOUNDS.iter().map(|(_, l)| *l).chain([LAST]);
        let parts: Vec<String> = self
            .counts
            .iter()
            .zip(labels)
            .filter(|(n, _)| **n > 0)
            .map(|(n, label)| format!("{n} {label}"))
            .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }

    /// The age of the oldest object, e.g. `12d`.
    pub fn oldest_age(&self, now: Timestamp) -> Option<String> {
        self.oldest.map(|o| {
            short_duration(Duration::from_secs(
                now.duration_since(o).as_secs().max(0) as u64
            ))
        })
    }
}

/// `90061s` → `1d1h`; `59s` → `59s`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h{}", s / 3600, nonzero((s % 3600) / 60, "m")),
        _ => format!("{}d{}", s / 86_400, nonzero((s % 86_400) / 3600, "h")),
    }
}

fn nonzero(n: u64, unit: &str) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("{n}{unit}")
    }
}

/// `metadata.creationTimestamp` of an object.
pub fn created(object: &serde_json::Value) -> Option<Timestamp> {
    object["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|t| t.parse().ok())
}

/// Whether an object is at least `min_age` old at `now` (always, without a minimum).
pub fn old_enough(object: &serde_json::Value, min_age: Option<Duration>, now: Timestamp) -> bool {
    match (min_age, created(object)) {
        (None, _) => true,
        (Some(min), Some(c)) => now.duration_since(c).as_secs() >= min.as_secs() as i64,
        // No creation time: not known to be old enough, so left alone.
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn buckets_by_age() {
        let now = at("2026-06-30T00:00:00Z");
        let mut b = AgeBuckets::default();
        b.add(Some(at("2026-06-29T23:30:00Z")), now); // 30 min
        b.add(Some(at("2026-06-29T12:00:00Z")), now); // 12 h
        b.add(Some(at("2026-06-26T00:00:00Z")), now); // 4 d
        b.add(Some(at("2026-06-10T00:00:00Z")), now); // 20 d
        b.add(Some(at("2026-01-01T00:00:00Z")), now); // months
        b.add(None, now);
        assert_eq!(b.total(), 6);
        assert_eq!(b.describe(), "2 < 1h, 1 1h–1d, 1 1d–7d, 1 7d–30d, 1 ≥ 30d");
        assert_eq!(b.oldest_age(now).as_deref(), Some("180d"));
        let mut sum = AgeBuckets::default();
        sum.merge(&b);
        sum.merge(&b);
        assert_eq!(sum.total(), 12);
        assert_eq!(AgeBuckets::default().describe(), "none");
    }

    #[test]
    fn bucket_edges_belong_to_the_older_bucket() {
        let now = at("2026-06-30T00:00:00Z");
        let mut b = AgeBuckets::default();
        b.add(Some(at("2026-06-29T23:00:00Z")), now); // exactly 1 h
        assert_eq!(b.describe(), "1 1h–1d");
    }

    #[test]
    fn durations_read_short() {
        assert_eq!(short_duration(Duration::from_secs(59)), "59s");
        assert_eq!(short_duration(Duration::from_secs(600)), "10m");
        assert_eq!(short_duration(Duration::from_secs(3600 * 5 + 120)), "5h2m");
        assert_eq!(short_duration(Duration::from_secs(86_400 * 3)), "3d");
        assert_eq!(short_duration(Duration::from_secs(86_400 + 7200)), "1d2h");
    }

    #[test]
    fn old_enough_uses_creation_time() {
        let now = at("2026-06-30T00:00:00Z");
        let job = json!({"metadata": {"creationTimestamp": "2026-06-29T00:00:00Z"}});
        assert!(old_enough(&job, None, now));
        assert!(old_enough(&job, Some(Duration::from_secs(3600)), now));
        assert!(!old_enough(
            &job,
            Some(Duration::from_secs(2 * 86_400)),
            now
        ));
        assert!(!old_enough(
            &json!({"metadata": {}}),
            Some(Duration::from_secs(1)),
            now
        ));
    }
}
