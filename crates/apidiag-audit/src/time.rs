//! Timestamps and windows.
//!
//! Every event carries two timestamps, and a gigabyte of log is millions of
//! them, so the common form gets a fast path: kube-apiserver writes MicroTime
//! as `2006-01-02T15:04:05.000000Z` (UTC, six digits) and Log Analytics as the
//! same with seven. Those are read by hand in a few dozen instructions; any
//! other RFC 3339 form (an offset, no fraction) goes to `jiff`, and so does
//! the parsing of durations. The portal's CSV export writes US-style local
//! times (`5/30/2025, 6:02:52.425 PM`, UTC); that form is read by hand too,
//! because no RFC parser knows it.
//!
//! Inside the engine a time is `i64` microseconds since the Unix epoch: the
//! log's own resolution, cheap to compare and to bin.

use std::time::Duration;

use crate::error::ParseError;

/// Microseconds since the Unix epoch, UTC.
pub type Micros = i64;

/// Reads an audit timestamp: RFC 3339 (any fraction, any offset) or the
/// portal's CSV form. Fractions beyond microseconds are truncated.
pub fn parse_timestamp(text: &str) -> Option<Micros> {
    // kube-apiserver's own form first, untrimmed: when it reads, the text
    // starts with a digit and ends with `Z`, so trimming would change nothing.
    if let Some(micros) = micro_time(text.as_bytes()) {
        return Some(micros);
    }
    let text = text.trim();
    fast_utc(text.as_bytes())
        .or_else(|| portal_csv(text))
        .or_else(|| {
            let ts: jiff::Timestamp = text.parse().ok()?;
            Some(ts.as_microsecond())
        })
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, Go's MicroTime, two per event: checked and
/// read at fixed places, where [`fast_utc`] walks any fraction length.
fn micro_time(b: &[u8]) -> Option<Micros> {
    let b: &[u8; 27] = b.try_into().ok()?;
    const SHAPE: &[u8; 27] = b"0000-00-00T00:00:00.000000Z";
    let mut digits_ok = true;
    for (&c, &want) in b.iter().zip(SHAPE) {
        digits_ok &= if want == b'0' {
            c.is_ascii_digit()
        } else {
            c == want
        };
    }
    if !digits_ok {
        return None;
    }
    let n = |from: usize, to: usize| {
        b[from..to]
            .iter()
            .fold(0i64, |n, &c| n * 10 + i64::from(c - b'0'))
    };
    civil_micros(
        n(0, 4),
        n(5, 7),
        n(8, 10),
        n(11, 13),
        n(14, 16),
        n(17, 19),
        n(20, 26),
    )
}

/// `YYYY-MM-DDTHH:MM:SS[.f…]Z`.
fn fast_utc(b: &[u8]) -> Option<Micros> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' || !matches!(b.last(), Some(b'Z' | b'z')) {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let micros = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', fraction @ ..] if !fraction.is_empty() => fraction_micros(fraction)?,
        _ => return None,
    };
    civil_micros(year, month, day, hour, minute, second, micros)
}

/// `M/D/YYYY, h:mm:ss[.fff] AM|PM`, the portal's CSV export (UTC).
fn portal_csv(text: &str) -> Option<Micros> {
    let (date, rest) = text.split_once(", ")?;
    let mut date = date.split('/');
    let month = date.next()?.parse().ok()?;
    let day = date.next()?.parse().ok()?;
    let year = date.next()?.parse().ok()?;
    let (clock, meridiem) = rest.rsplit_once(' ')?;
    let mut clock = clock.split(':');
    let hour12: i64 = clock.next()?.parse().ok()?;
    let minute = clock.next()?.parse().ok()?;
    let seconds = clock.next()?;
    let (second, micros) = match seconds.split_once('.') {
        Some((s, f)) => (s.parse().ok()?, fraction_micros(f.as_bytes())?),
        None => (seconds.parse().ok()?, 0),
    };
    if date.next().is_some() || clock.next().is_some() || !(1..=12).contains(&hour12) {
        return None;
    }
    let hour = match meridiem {
        "AM" => hour12 % 12,
        "PM" => hour12 % 12 + 12,
        _ => return None,
    };
    civil_micros(year, month, day, hour, minute, second, micros)
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
    })
}

fn fraction_micros(fraction: &[u8]) -> Option<i64> {
    if fraction.is_empty() || fraction.len() > 12 {
        return None;
    }
    let mut micros = digits(&fraction[..fraction.len().min(6)])?;
    for _ in fraction.len()..6 {
        micros *= 10;
    }
    digits(fraction).map(|_| micros)
}

/// Days from the civil calendar (H. Hinnant's algorithm), then microseconds.
fn civil_micros(y: i64, m: i64, d: i64, h: i64, min: i64, s: i64, us: i64) -> Option<Micros> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || min > 59 || s > 60 {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + min) * 60_000_000 + s * 1_000_000 + us)
}

/// RFC 3339 text of a time, for reports.
pub fn format_timestamp(micros: Micros) -> String {
    jiff::Timestamp::from_microsecond(micros).map_or_else(|_| micros.to_string(), |t| t.to_string())
}

/// One end of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// A fixed time.
    At(jiff::Timestamp),
    /// This long before the newest event of the input (`--since 15m`).
    BeforeNewest(Duration),
}

/// Reads `--since`/`--until`: RFC 3339, or a duration back from the newest event.
pub fn parse_time_bound(text: &str) -> Result<TimeBound, ParseError> {
    if let Ok(ts) = text.trim().parse::<jiff::Timestamp>() {
        return Ok(TimeBound::At(ts));
    }
    parse_duration(text)
        .map(TimeBound::BeforeNewest)
        .map_err(|_| ParseError::TimeBound(text.to_owned()))
}

/// Reads a positive duration: `15m`, `2h`, `1h30m`, `1d`, `90s`, or ISO 8601 (`PT15M`).
pub fn parse_duration(text: &str) -> Result<Duration, ParseError> {
    let bad = || ParseError::Duration(text.to_owned());
    let span: jiff::Span = text.trim().parse().map_err(|_| bad())?;
    let signed = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|_| bad())?;
    Duration::try_from(signed)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(bad)
}

/// Which events count, by the time they were received. Both ends inclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Events received at or after this.
    pub since: Option<TimeBound>,
    /// Events received at or before this.
    pub until: Option<TimeBound>,
}

impl Window {
    /// Every event.
    pub fn all() -> Self {
        Self::default()
    }

    /// True when a bound depends on the newest event, which costs a first pass.
    pub fn is_relative(&self) -> bool {
        [self.since, self.until]
            .iter()
            .any(|b| matches!(b, Some(TimeBound::BeforeNewest(_))))
    }

    /// The window in microseconds, given the newest event's time (when known).
    pub(crate) fn resolve(&self, newest: Option<Micros>) -> Resolved {
        let end = |bound: Option<TimeBound>, open: Micros| match bound {
            None => open,
            Some(TimeBound::At(ts)) => ts.as_microsecond(),
            Some(TimeBound::BeforeNewest(d)) => match newest {
                Some(n) => n.saturating_sub(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
                None => open,
            },
        };
        Resolved {
            since: end(self.since, Micros::MIN),
            until: end(self.until, Micros::MAX),
        }
    }
}

/// A window in microseconds, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// First microsecond in the window.
    pub since: Micros,
    /// Last microsecond in the window.
    pub until: Micros,
}

impl Resolved {
    pub(crate) fn contains(&self, t: Micros) -> bool {
        (self.since..=self.until).contains(&t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jiff_micros(s: &str) -> Micros {
        s.parse::<jiff::Timestamp>()
            .expect("valid")
            .as_microsecond()
    }

    #[test]
    fn fast_path_agrees_with_jiff() {
        for s in [
            "2023-01-10T22:13:00.640063Z",
            "1970-01-01T00:00:00.000000Z",
            "2000-02-29T23:59:59.999999Z",
            "2026-12-31T12:00:00Z",
            "1969-12-31T23:59:59.5Z",
        ] {
            assert_eq!(fast_utc(s.as_bytes()), Some(jiff_micros(s)), "{s}");
        }
    }

    #[test]
    fn micro_time_agrees_with_the_general_path() {
        for s in [
            "2023-01-10T22:13:00.640063Z",
            "1970-01-01T00:00:00.000000Z",
            "2000-02-29T23:59:59.999999Z",
        ] {
            assert_eq!(micro_time(s.as_bytes()), fast_utc(s.as_bytes()), "{s}");
            assert_eq!(micro_time(s.as_bytes()), Some(jiff_micros(s)), "{s}");
        }
        for s in [
            "2023-01-10t22:13:00.640063Z",
            "2023-13-10T22:13:00.640063Z",
            "2023-01-10T22:13:00.64006xZ",
            "2023-01-10T22:13:00.6400630Z",
        ] {
            assert_eq!(micro_time(s.as_bytes()), None, "{s}");
        }
        assert_eq!(
            parse_timestamp(" 2023-01-10T22:13:00.640063Z "),
            parse_timestamp("2023-01-10T22:13:00.640063Z")
        );
        assert!(parse_timestamp("2023-01-10t22:13:00.640063Z").is_some());
    }

    #[test]
    fn log_analytics_seven_digits_truncate_to_micros() {
        assert_eq!(
            parse_timestamp("2025-05-30T18:02:52.4298698Z"),
            parse_timestamp("2025-05-30T18:02:52.429869Z")
        );
    }

    #[test]
    fn offsets_go_to_jiff() {
        assert_eq!(
            parse_timestamp("2025-05-30T20:02:52.5+02:00"),
            Some(jiff_micros("2025-05-30T18:02:52.5Z"))
        );
    }

    #[test]
    fn portal_csv_form() {
        assert_eq!(
            parse_timestamp("5/30/2025, 6:02:52.425 PM"),
            Some(jiff_micros("2025-05-30T18:02:52.425Z"))
        );
        assert_eq!(
            parse_timestamp("1/2/2025, 12:00:01 AM"),
            Some(jiff_micros("2025-01-02T00:00:01Z"))
        );
        assert_eq!(parse_timestamp("13/2/2025, 1:00:00 PM"), None);
    }

    #[test]
    fn garbage_is_refused() {
        for s in [
            "",
            "2025",
            "2025-13-01T00:00:00Z",
            "2025-01-01T00:00:00.Z",
            "x025-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("PT30S"), Ok(Duration::from_secs(30)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("-5m").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn bounds_and_windows() {
        assert_eq!(
            parse_time_bound("2025-05-30T18:00:00Z"),
            Ok(TimeBound::At(
                "2025-05-30T18:00:00Z".parse().expect("valid")
            ))
        );
        assert_eq!(
            parse_time_bound("15m"),
            Ok(TimeBound::BeforeNewest(Duration::from_secs(900)))
        );
        assert!(parse_time_bound("yesterday").is_err());
        let w = Window {
            since: Some(TimeBound::BeforeNewest(Duration::from_secs(60))),
            until: None,
        };
        assert!(w.is_relative());
        let r = w.resolve(Some(120_000_000));
        assert_eq!((r.since, r.until), (60_000_000, Micros::MAX));
        assert!(r.contains(60_000_000) && !r.contains(59_999_999));
    }
}
