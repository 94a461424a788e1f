//! Whether a LIST was served from the watch cache or from etcd, by the rules
//! of the server's version (research `audit-formats.md` §1, kube-apiserver
//! `cacher.go` ≤1.30, `cacher/delegator.go` 1.31–1.33, `delegator/interface.go`
//! since). The audit event does not say where a LIST was served; the request's
//! parameters and the version do, which is why a version is a parameter and
//! the rules used are part of the report.
//!
//! Example: `kubectl get`'s `?limit=500` with no resourceVersion goes to etcd
//! before 1.31 and to the cache from 1.31 (ConsistentListFromCache).

use std::fmt;

use crate::error::ParseError;
use crate::uri::Query;

/// A Kubernetes minor version, e.g. 1.31.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerVersion {
    /// Always 1 so far.
    pub major: u32,
    /// The minor release.
    pub minor: u32,
}

impl ServerVersion {
    /// The newest release whose rules this crate knows (the lab runs it).
    pub const NEWEST_KNOWN: Self = Self {
        major: 1,
        minor: 37,
    };

    /// Reads `1.31`, `v1.30.4`, `v1.33.1-aks.2`, or `/version`'s `gitVersion` or
    /// `minor` (`30+`), the way the metrics checks read it.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        apidiag_metrics::minor_version(text)
            .map(|minor| Self { major: 1, minor })
            .ok_or_else(|| ParseError::ServerVersion(text.to_owned()))
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Where a LIST was (by the rules) served from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ListClass {
    /// The watch cache: cheap.
    WatchCache,
    /// etcd: every object read from storage, the expensive kind.
    Etcd,
}

impl fmt::Display for ListClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WatchCache => "watch cache",
            Self::Etcd => "etcd",
        })
    }
}

/// The rules of one server version, with the two facts a version alone does
/// not settle made explicit so a caller who knows better can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListRules {
    /// The version the rules are for.
    pub version: ServerVersion,
    /// Consistent (resourceVersion="") LISTs are served from the cache:
    /// alpha and off ≤1.30, beta and on 1.31–1.33, GA from 1.34. It also needs
    /// etcd ≥ 3.4.31 / 3.5.13 (progress notify), assumed here.
    pub consistent_list_from_cache: bool,
    /// The cache keeps snapshots, so exact-resourceVersion and `continue`
    /// LISTs can be served from it (1.34+, `ListFromCacheSnapshot`).
    pub cache_snapshots: bool,
}

impl ListRules {
    /// The defaults of a version.
    pub fn for_version(version: ServerVersion) -> Self {
        let minor = if version.major > 1 {
            u32::MAX
        } else {
            version.minor
        };
        Self {
            version,
            consistent_list_from_cache: minor >= 31,
            cache_snapshots: minor >= 34,
        }
    }

    /// Classifies one LIST of `resource` (plural name, `pods`) sent as `request_uri`.
    pub fn classify(&self, resource: &str, request_uri: &str) -> ListClass {
        self.classify_query(resource, &Query::parse(request_uri))
    }

    /// Classifies one LIST whose query is already parsed.
    pub(crate) fn classify_query(&self, resource: &str, q: &Query<'_>) -> ListClass {
        // Events have no watch cache by default (DefaultWatchCacheSizes: events=0).
        if resource == "events" {
            return ListClass::Etcd;
        }
        let rv = q.resource_version;
        let exact_rv = matches!(rv, Some(v) if !v.is_empty() && v != "0");
        let etcd = if self.version.major == 1 && self.version.minor <= 30 {
            // cacher.go shouldDelegateList
            q.has_continue
                || (q.limit > 0 && rv != Some("0"))
                || matches!(q.resource_version_match, Some(m) if !m.is_empty() && m != "NotOlderThan")
                || (rv.unwrap_or("").is_empty() && !self.consistent_list_from_cache)
        } else {
            let exact = match q.resource_version_match {
                None | Some("") => q.limit > 0 && exact_rv,
                Some("Exact") => true,
                Some("NotOlderThan") => false,
                Some(_) => return ListClass::Etcd,
            };
            ((exact || q.has_continue) && !self.cache_snapshots)
                || (rv.unwrap_or("").is_empty()
                    && !q.has_continue
                    && !self.consistent_list_from_cache)
        };
        if etcd {
            ListClass::Etcd
        } else {
            ListClass::WatchCache
        }
    }
}

impl Default for ListRules {
    fn default() -> Self {
        Self::for_version(ServerVersion::NEWEST_KNOWN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(minor: u32, uri: &str) -> ListClass {
        ListRules::for_version(ServerVersion { major: 1, minor }).classify("pods", uri)
    }

    #[test]
    fn kubectl_get_moves_to_the_cache_in_1_31() {
        let uri = "/api/v1/namespaces/default/configmaps?limit=500";
        assert_eq!(class(30, uri), ListClass::Etcd);
        assert_eq!(class(31, uri), ListClass::WatchCache);
        assert_eq!(class(37, uri), ListClass::WatchCache);
    }

    #[test]
    fn informer_relist_from_rv_0_is_cached_everywhere() {
        for minor in [24, 30, 31, 33, 34, 37] {
            assert_eq!(
                class(minor, "/api/v1/pods?resourceVersion=0&limit=500"),
                ListClass::WatchCache,
                "1.{minor}"
            );
        }
    }

    #[test]
    fn continue_and_exact_need_snapshots() {
        for uri in [
            "/api/v1/pods?limit=500&continue=abc",
            "/api/v1/pods?resourceVersion=123&resourceVersionMatch=Exact",
        ] {
            assert_eq!(class(30, uri), ListClass::Etcd, "{uri}");
            assert_eq!(class(33, uri), ListClass::Etcd, "{uri}");
            assert_eq!(class(34, uri), ListClass::WatchCache, "{uri}");
        }
        let no_snapshots = ListRules {
            cache_snapshots: false,
            ..ListRules::default()
        };
        assert_eq!(
            no_snapshots.classify("pods", "/api/v1/pods?continue=x"),
            ListClass::Etcd
        );
    }

    #[test]
    fn limit_with_specific_rv() {
        assert_eq!(
            class(32, "/api/v1/pods?limit=10&resourceVersion=99"),
            ListClass::Etcd
        );
        assert_eq!(
            class(32, "/api/v1/pods?resourceVersion=99"),
            ListClass::WatchCache
        );
        assert_eq!(
            class(30, "/api/v1/pods?resourceVersion=99"),
            ListClass::WatchCache
        );
    }

    #[test]
    fn unpaginated_consistent_list() {
        assert_eq!(class(29, "/api/v1/pods"), ListClass::Etcd);
        assert_eq!(class(31, "/api/v1/pods"), ListClass::WatchCache);
        let off = ListRules {
            consistent_list_from_cache: false,
            ..ListRules::for_version(ServerVersion {
                major: 1,
                minor: 32,
            })
        };
        assert_eq!(off.classify("pods", "/api/v1/pods"), ListClass::Etcd);
    }

    #[test]
    fn events_and_unknown_match_go_to_etcd() {
        let rules = ListRules::default();
        assert_eq!(
            rules.classify("events", "/api/v1/events?resourceVersion=0"),
            ListClass::Etcd
        );
        assert_eq!(
            rules.classify("pods", "/api/v1/pods?resourceVersionMatch=Bogus"),
            ListClass::Etcd
        );
    }

    #[test]
    fn versions() {
        assert_eq!(
            ServerVersion::parse("v1.30.4"),
            Ok(ServerVersion {
                major: 1,
                minor: 30
            })
        );
        assert_eq!(
            ServerVersion::parse("1.33"),
            Ok(ServerVersion {
                major: 1,
                minor: 33
            })
        );
        assert_eq!(
            ServerVersion::parse("v1.33.1-aks.2"),
            Ok(ServerVersion {
                major: 1,
                minor: 33
            })
        );
        assert_eq!(
            ServerVersion::parse("1.31+"),
            Ok(ServerVersion {
                major: 1,
                minor: 31
            })
        );
        assert!(ServerVersion::parse("latest").is_err());
        assert_eq!(ServerVersion { major: 1, minor: 9 }.to_string(), "1.9");
    }
}
