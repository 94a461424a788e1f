//! A rung of the ladder: one thing tried on one path, how long it took, and the
//! verdict in the words kubectl would print for the same failure, so an SRE
//! recognises it. A rung is a [`Finding`] (id `connectivity.<rung>.<result>`)
//! with its timing; a hard failure on the client path stops the client rungs
//! after it, since each needs the one before (no TCP without an address).

use std::time::Duration;

use apidiag_core::finding::{Finding, Severity};

/// One rung's result.
#[derive(Debug, Clone)]
pub struct Rung {
    pub finding: Finding,
    /// How long the attempt took (none for offline rungs).
    pub took: Option<Duration>,
    /// A hard failure: the rungs that need this one are not tried.
    pub stops: bool,
}

impl Rung {
    /// A rung that passed: `what` was tried, `verdict` says what came back.
    pub fn pass(id: &str, what: &str, verdict: impl AsRef<str>, took: Option<Duration>) -> Self {
        Rung::new(id, Severity::Ok, what, verdict, took)
    }

    /// A rung with `severity`, titled `<what>: <verdict> (<took>)`.
    pub fn new(
        id: &str,
        severity: Severity,
        what: &str,
        verdict: impl AsRef<str>,
        took: Option<Duration>,
    ) -> Self {
        let title = match took {
            Some(took) => format!("{what}: {} ({})", verdict.as_ref(), human_duration(took)),
            None => format!("{what}: {}", verdict.as_ref()),
        };
        Rung {
            finding: Finding::new(id, severity, title),
            took,
            stops: false,
        }
    }

    /// Marks a hard failure: the rungs after it on the same path are not tried.
    pub fn stopping(mut self) -> Self {
        self.stops = true;
        self
    }

    /// Changes the finding (detail, evidence, next steps).
    pub fn with(mut self, change: impl FnOnce(Finding) -> Finding) -> Self {
        self.finding = change(self.finding);
        self
    }
}

/// `12 ms`, `1.2 s`: timings as a person reads them.
pub fn human_duration(took: Duration) -> String {
    let ms = took.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        "<1 ms".into()
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_carry_the_timing() {
        let rung = Rung::pass(
            "connectivity.tcp.connected",
            "TCP 10.0.0.1:443",
            "connected",
            Some(Duration::from_millis(12)),
        );
        assert_eq!(rung.finding.title, "TCP 10.0.0.1:443: connected (12 ms)");
        assert!(!rung.stops);
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human_duration(Duration::from_micros(300)), "<1 ms");
    }
}
