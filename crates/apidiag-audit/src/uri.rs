//! The query parameters of a `requestURI` that decide where a LIST is served
//! from and what a caller watches: `limit`, `continue`, `resourceVersion`,
//! `resourceVersionMatch` and the selectors.
//!
//! Values are compared as sent (percent-encoded): the decision only needs to
//! know whether a value is empty, `0`, or a number, and a selector is a key.
//! Splitting on `&` and `=` by hand avoids a URL parser for that.

/// The query of one request, borrowed from its URI.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Query<'a> {
    /// `limit` as a number (0 when absent or not a number).
    pub limit: u64,
    /// `continue` was given and not empty.
    pub has_continue: bool,
    /// `resourceVersion`, `None` when absent.
    pub resource_version: Option<&'a str>,
    /// `resourceVersionMatch`, `None` when absent.
    pub resource_version_match: Option<&'a str>,
    /// `labelSelector`, percent-encoded, empty when absent.
    pub label_selector: &'a str,
    /// `fieldSelector`, percent-encoded, empty when absent.
    pub field_selector: &'a str,
}

impl<'a> Query<'a> {
    /// Reads the parameters of `uri` (`/api/v1/pods?limit=500&…`).
    pub fn parse(uri: &'a str) -> Self {
        let mut query = Self::default();
        // memchr, not `split_once('?')`: the str searcher for a char is slower
        // on URIs of a few hundred bytes, and this runs for every LIST and watch.
        let Some(at) = memchr::memchr(b'?', uri.as_bytes()) else {
            return query;
        };
        for pair in uri[at + 1..].split('&') {
            let (key, value) = match memchr::memchr(b'=', pair.as_bytes()) {
                Some(eq) => (&pair[..eq], &pair[eq + 1..]),
                None => (pair, ""),
            };
            match key {
                "limit" => query.limit = value.parse().unwrap_or(0),
                "continue" => query.has_continue = !value.is_empty(),
                "resourceVersion" => query.resource_version = Some(value),
                "resourceVersionMatch" => query.resource_version_match = Some(value),
                "labelSelector" => query.label_selector = value,
                "fieldSelector" => query.field_selector = value,
                _ => {}
            }
        }
        query
    }

    /// The selectors as one key part (`l:…`, `f:…`, both, or empty): what a caller asks for.
    pub fn write_selector(&self, out: &mut String) {
        out.clear();
        if !self.label_selector.is_empty() {
            out.push_str("l:");
            out.push_str(self.label_selector);
        }
        if !self.field_selector.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str("f:");
            out.push_str(self.field_selector);
        }
    }

    #[cfg(test)]
    fn selector(&self) -> String {
        let mut s = String::from("stale");
        self.write_selector(&mut s);
        s
    }
}

/// The path of a URI without its query, for non-resource requests.
pub fn path(uri: &str) -> &str {
    memchr::memchr(b'?', uri.as_bytes()).map_or(uri, |at| &uri[..at])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_get() {
        let q = Query::parse("/api/v1/namespaces/default/configmaps?limit=500");
        assert_eq!(q.limit, 500);
        assert_eq!(q.resource_version, None);
        assert!(!q.has_continue);
    }

    #[test]
    fn informer_watch_and_selectors() {
        let q = Query::parse(
            "/apis/networking.k8s.io/v1/servicecidrs?allowWatchBookmarks=true&fieldSelector=metadata.name%3Dkubernetes&resourceVersionMatch=NotOlderThan&resourceVersion=0&watch=true",
        );
        assert_eq!(q.resource_version, Some("0"));
        assert_eq!(q.resource_version_match, Some("NotOlderThan"));
        assert_eq!(q.selector(), "f:metadata.name%3Dkubernetes");
    }

    #[test]
    fn odd_queries_do_not_confuse() {
        let q =
            Query::parse("/api/v1/pods?limit=abc&continue=&resourceVersion&&labelSelector=app%3Dx");
        assert_eq!(q.limit, 0);
        assert!(!q.has_continue);
        assert_eq!(q.resource_version, Some(""));
        assert_eq!(q.selector(), "l:app%3Dx");
        assert_eq!(Query::parse("/healthz"), Query::default());
        assert_eq!(path("/readyz?verbose"), "/readyz");
    }
}
