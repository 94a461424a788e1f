//! What a caller chooses: window, filters, bin width, server version, and
//! the bounds of the tables.

use std::time::Duration;

use crate::aggregate::Capacity;
use crate::event::Request;
use crate::list_class::ListRules;
use crate::patterns::Thresholds;
use crate::time::Window;

/// Which requests count, beyond the window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only user agents that start with this (`kubectl/` matches every kubectl).
    pub user_agent: Option<String>,
    /// Only this user name, exactly.
    pub user: Option<String>,
    /// Only requests in this namespace, exactly.
    pub namespace: Option<String>,
}

impl Filter {
    pub(crate) fn matches(&self, r: &Request<'_>) -> bool {
        self.user_agent
            .as_deref()
            .is_none_or(|p| r.user_agent().starts_with(p))
            && self
                .user
                .as_deref()
                .is_none_or(|u| r.event.user.username == u)
            && self
                .namespace
                .as_deref()
                .is_none_or(|n| r.object().namespace == n)
    }
}

/// Everything [`analyze`](crate::analyze) takes besides the inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Which events count, by receive time.
    pub window: Window,
    /// User agent, user, namespace.
    pub filter: Filter,
    /// Width of the latency time bins (default 5 minutes, the guide's).
    pub bin: Duration,
    /// The resource-intensive LIST table covers this long before the newest event
    /// (default 30 minutes, like the AKS portal's detector); `None` for the whole window.
    pub list_window: Option<Duration>,
    /// Where LISTs are served from, by server version.
    pub rules: ListRules,
    /// Call-pattern thresholds.
    pub thresholds: Thresholds,
    /// Table bounds.
    pub capacity: Capacity,
    /// Parser threads; 0 for one per core.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            window: Window::all(),
            filter: Filter::default(),
            bin: Duration::from_secs(300),
            list_window: Some(Duration::from_secs(30 * 60)),
            rules: ListRules::default(),
            thresholds: Thresholds::default(),
            capacity: Capacity::default(),
            threads: 0,
        }
    }
}

impl Options {
    pub(crate) fn parser_threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_event;

    #[test]
    fn filters() {
        let line = r#"{"stage":"ResponseComplete","verb":"get","user":{"username":"system:serviceaccount:ns:sa"},"userAgent":"kubectl/v1.31.0 (linux/amd64)","objectRef":{"resource":"pods","namespace":"ns","name":"p"},"requestReceivedTimestamp":"2025-01-01T00:00:00Z","stageTimestamp":"2025-01-01T00:00:00Z"}"#;
        let r = parse_event(line).expect("valid");
        let f = |ua: Option<&str>, user: Option<&str>, ns: Option<&str>| Filter {
            user_agent: ua.map(Into::into),
            user: user.map(Into::into),
            namespace: ns.map(Into::into),
        };
        assert!(f(None, None, None).matches(&r));
        assert!(
            f(
                Some("kubectl/"),
                Some("system:serviceaccount:ns:sa"),
                Some("ns")
            )
            .matches(&r)
        );
        assert!(!f(Some("helm/"), None, None).matches(&r));
        assert!(!f(None, Some("system:serviceaccount:ns"), None).matches(&r));
        assert!(!f(None, None, Some("n")).matches(&r));
    }
}
