//! Which way kubectl would reach the API server: straight, or through a proxy.
//!
//! kubectl (client-go) takes the kubeconfig's `proxy-url` as it is; without one
//! it asks Go's `http.ProxyFromEnvironment`: `HTTPS_PROXY`/`https_proxy` for an
//! https server, unless `NO_PROXY`/`no_proxy` matches the host (and never for
//! `localhost` or a loopback address). kube-rs, as apidiag builds it (without the
//! `kube/http-proxy` feature), reads the same variables but no `NO_PROXY`, and
//! refuses any proxy when it builds its client. The two can take different
//! paths, so the rung says which one it tested and where they part.
//!
//! [`NoProxy`] is written by hand, with Go's rules (`golang.org/x/net/http/httpproxy`
//! `config.init` and `useProxy`): hyper-util's matcher follows curl instead (no
//! `:port` entries, no `*.` prefix, loopback not exempt), and kube-client's is
//! private and matches an entry without a dot only exactly, which Go does not.

use std::net::IpAddr;

use apidiag_core::finding::{Evidence, Severity};
use ipnet::IpNet;

use crate::rung::Rung;

/// The proxy variables of the environment, read once (tests pass their own).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    /// `HTTPS_PROXY`, else `https_proxy` (the first that is not empty), and its name.
    pub https_proxy: Option<(&'static str, String)>,
    /// `NO_PROXY`, else `no_proxy`, and its name.
    pub no_proxy: Option<(&'static str, String)>,
}

impl ProxyEnv {
    /// The variables of this process, chosen the way Go's `getEnvAny` does.
    pub fn from_process() -> Self {
        let first = |names: [&'static str; 2]| {
            names.into_iter().find_map(|name| {
                std::env::var(name)
                    .ok()
                    .filter(|value| !value.trim().is_empty())
                    .map(|value| (name, value))
            })
        };
        ProxyEnv {
            https_proxy: first(["HTTPS_PROXY", "https_proxy"]),
            no_proxy: first(["NO_PROXY", "no_proxy"]),
        }
    }
}

/// Why kubectl goes direct although a proxy is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bypass {
    /// Go never proxies `localhost` or a loopback address.
    Loopback,
    /// `NO_PROXY` is `*`.
    Wildcard,
    /// This `NO_PROXY` entry matched.
    Entry(String),
}

/// A `NO_PROXY` list, parsed as Go parses it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    text: String,
    rule: Rule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// A CIDR: matches IP hosts inside it, on any port.
    Network(IpNet),
    /// An IP, with an optional port.
    Ip(IpAddr, Option<String>),
    /// `.example.com` (subdomains only) or `example.com` (it and its
    /// subdomains), stored with the leading dot; an optional port.
    Domain {
        suffix: String,
        also_itself: bool,
        port: Option<String>,
    },
}

impl NoProxy {
    /// Parses a comma list. Entries Go would ignore (empty, `:80`) are dropped;
    /// IDNA conversion is not done (non-ASCII names are only lowercased).
    pub fn parse(list: &str) -> Self {
        let mut parsed = NoProxy::default();
        for raw in list.split(',') {
            let entry = raw.trim().to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                return NoProxy {
                    all: true,
                    entries: Vec::new(),
                };
            }
            if entry.contains('/')
                && let Ok(network) = entry.parse::<IpNet>()
            {
                parsed.entries.push(Entry {
                    text: entry.clone(),
                    rule: Rule::Network(network.trunc()),
                });
                continue;
            }
            let (host, port) = match split_host_port(&entry) {
                Some(("", _)) => continue,
                Some((host, port)) => (host.to_string(), Some(port.to_string())),
                None => (entry.clone(), None),
            };
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .map(str::to_string)
                .unwrap_or(host);
            // Go keeps an empty port (`example.com:`) as "any port".
            let port = port.filter(|p| !p.is_empty());
            if let Ok(ip) = host.parse::<IpAddr>() {
                parsed.entries.push(Entry {
                    text: entry.clone(),
                    rule: Rule::Ip(ip, port),
                });
                continue;
            }
            let host = host.strip_prefix('*').unwrap_or(&host).to_string();
            if host.is_empty() {
                continue;
            }
            let (suffix, also_itself) = match host.strip_prefix('.') {
                Some(_) => (host.clone(), false),
                None => (format!(".{host}"), true),
            };
            parsed.entries.push(Entry {
                text: entry.clone(),
                rule: Rule::Domain {
                    suffix,
                    also_itself,
                    port,
                },
            });
        }
        parsed
    }

    /// Whether Go would go direct to `host:port` (host without brackets).
    pub fn bypass(&self, host: &str, port: u16) -> Option<Bypass> {
        let host = host.trim().to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        if host == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
            return Some(Bypass::Loopback);
        }
        if self.all {
            return Some(Bypass::Wildcard);
        }
        let port = port.to_string();
        let port_matches = |want: &Option<String>| want.as_ref().is_none_or(|p| *p == port);
        // Go tries the IP rules first, then the domain rules: the first match wins.
        let ip_match = self.entries.iter().find(|e| match (&e.rule, ip) {
            (Rule::Network(net), Some(ip)) => net.contains(&ip),
            (Rule::Ip(want, p), Some(ip)) => *want == ip && port_matches(p),
            _ => false,
        });
        let domain_match = || {
            self.entries.iter().find(|e| match &e.rule {
                Rule::Domain {
                    suffix,
                    also_itself,
                    port: p,
                } => {
                    (host.ends_with(suffix.as_str()) || (*also_itself && host == suffix[1..]))
                        && port_matches(p)
                }
                _ => false,
            })
        };
        ip_match
            .or_else(domain_match)
            .map(|e| Bypass::Entry(e.text.clone()))
    }
}

/// Go's `net.SplitHostPort` for the forms `NO_PROXY` entries take: `host:port`,
/// `[v6]:port`; `None` when there is no port (or too many colons: a bare IPv6).
fn split_host_port(entry: &str) -> Option<(&str, &str)> {
    if let Some(rest) = entry.strip_prefix('[') {
        let (host, tail) = rest.split_once(']')?;
        return tail.strip_prefix(':').map(|port| (host, port));
    }
    let (host, port) = entry.split_once(':')?;
    (!port.contains(':')).then_some((host, port))
}

/// Where a proxy setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySource {
    /// The cluster's `proxy-url`.
    Kubeconfig,
    /// An environment variable, by name.
    Env(&'static str),
}

impl ProxySource {
    fn label(&self) -> String {
        match self {
            ProxySource::Kubeconfig => "the kubeconfig's proxy-url".to_string(),
            ProxySource::Env(name) => name.to_string(),
        }
    }
}

/// The path kubectl takes to the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// No proxy set.
    Direct,
    /// Through this proxy.
    Proxy { url: String, source: ProxySource },
    /// A proxy is set in the environment, but kubectl goes direct.
    Bypassed {
        url: String,
        source: ProxySource,
        why: Bypass,
        no_proxy_var: Option<&'static str>,
    },
}

impl Route {
    /// The proxy URL when kubectl uses one.
    pub fn proxy(&self) -> Option<&str> {
        match self {
            Route::Proxy { url, .. } => Some(url),
            _ => None,
        }
    }
}

/// The route kubectl takes to `host:port`. `configured` is kube's merged
/// `proxy_url` (the kubeconfig's `proxy-url`, else `HTTPS_PROXY`); it came from
/// the environment when it equals the variable's value (a kubeconfig naming the
/// same URL as `HTTPS_PROXY` is taken for the variable: the two cannot be told
/// apart after kube merged them).
pub fn route(configured: Option<&str>, env: &ProxyEnv, host: &str, port: u16) -> Route {
    let Some(url) = configured.map(str::to_string) else {
        return Route::Direct;
    };
    let from_env = env.https_proxy.as_ref().filter(|(_, value)| {
        let value = value.trim();
        value == url || format!("{value}/") == url || value == url.trim_end_matches('/')
    });
    let Some((var, _)) = from_env else {
        return Route::Proxy {
            url,
            source: ProxySource::Kubeconfig,
        };
    };
    let source = ProxySource::Env(var);
    let no_proxy = env
        .no_proxy
        .as_ref()
        .map(|(name, list)| (*name, NoProxy::parse(list)));
    let why = match &no_proxy {
        Some((_, list)) => list.bypass(host, port),
        None => NoProxy::default().bypass(host, port),
    };
    match why {
        Some(why) => Route::Bypassed {
            url,
            source,
            why,
            no_proxy_var: no_proxy.map(|(name, _)| name),
        },
        None => Route::Proxy { url, source },
    }
}

/// A proxy URL as the report shows it: a password in it (`http://user:pass@p`,
/// common in HTTPS_PROXY) is masked, as every secret apidiag prints is.
pub fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{}", &rest[authority_end..]),
        None => url.to_string(),
    }
}

/// The rung that says which path was tested.
pub fn rung(route: &Route, host: &str, port: u16) -> Rung {
    let what = "path";
    let kube_rs = "apidiag's own API client (kube-rs, built without `kube/http-proxy`) reads the kubeconfig's proxy-url and HTTPS_PROXY but has no NO_PROXY support and refuses any proxy: the server rungs after this one cannot connect while a proxy is set";
    match route {
        Route::Direct => Rung::pass(
            "connectivity.path.direct",
            what,
            format!("direct to {host}:{port} (no proxy set)"),
            None,
        ),
        Route::Proxy { url, source } => {
            let url = &shown(url);
            Rung::new(
            "connectivity.path.proxy",
            Severity::Info,
            what,
            format!("through the proxy {url} ({}), as kubectl goes", source.label()),
            None,
        )
        .with(|f| {
            f.detail(format!(
                "kubectl sends `CONNECT {host}:{port}` to the proxy; the DNS and TCP rungs test the way to the proxy and the tunnel through it, the TLS rung the handshake with the API server inside it. {kube_rs}."
            ))
            .evidence(Evidence::new("proxy", url.clone()))
            .evidence(Evidence::new("from", source.label()))
        })
        }
        Route::Bypassed {
            url,
            source,
            why,
            no_proxy_var,
        } => {
            let url = &shown(url);
            let reason = match why {
                Bypass::Loopback => "Go never proxies localhost or a loopback address".to_string(),
                Bypass::Wildcard => format!("{} is `*`", no_proxy_var.unwrap_or("NO_PROXY")),
                Bypass::Entry(entry) => format!(
                    "{} entry `{entry}` matches {host}",
                    no_proxy_var.unwrap_or("NO_PROXY")
                ),
            };
            Rung::new(
                "connectivity.path.no-proxy",
                Severity::Warning,
                what,
                format!("direct to {host}:{port}: kubectl skips the proxy {url} ({reason})"),
                None,
            )
            .with(|f| {
                f.detail(format!(
                    "This direct path is the one tested. {} is set to {url}, and kubectl goes around it because {reason}. {kube_rs}, so it would go through {url} where kubectl goes direct.",
                    source.label()
                ))
                .evidence(Evidence::new("proxy set", url.clone()))
                .evidence(Evidence::new("bypass", reason))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_a_proxy_url_is_never_shown() {
        assert_eq!(
            shown("http://alice:s3cret@proxy:3128/"),
            "http://***@proxy:3128/"
        );
        assert_eq!(shown("http://proxy:3128"), "http://proxy:3128");
        assert_eq!(shown("http://proxy:3128/a@b"), "http://proxy:3128/a@b");
        let route = Route::Proxy {
            url: "http://alice:s3cret@proxy:3128/".into(),
            source: ProxySource::Kubeconfig,
        };
        let text = format!("{:?}", rung(&route, "api.example", 443).finding);
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("***@proxy:3128"), "{text}");
    }

    fn matched(list: &str, host: &str, port: u16) -> Option<Bypass> {
        NoProxy::parse(list).bypass(host, port)
    }

    fn entry(text: &str) -> Option<Bypass> {
        Some(Bypass::Entry(text.to_string()))
    }

    /// The cases of Go's `httpproxy` tests that apply to an https server, plus ports.
    #[test]
    fn no_proxy_matches_as_go_does() {
        let list = "foo.com, .bar.org, *.baz.net, 10.0.0.0/8, 192.168.1.7, 172.16.0.1:6443, qux.io:8443, [2001:db8::1]:443";
        let table: &[(&str, u16, Option<Bypass>)] = &[
            // A name without a dot matches itself and its subdomains.
            ("foo.com", 443, entry("foo.com")),
            ("api.foo.com", 443, entry("foo.com")),
            ("FOO.com", 443, entry("foo.com")),
            ("notfoo.com", 443, None),
            // A leading dot: subdomains only.
            ("bar.org", 443, None),
            ("x.bar.org", 443, entry(".bar.org")),
            // `*.` is the same as a leading dot.
            ("baz.net", 443, None),
            ("a.b.baz.net", 443, entry("*.baz.net")),
            // CIDR: any port; a name is never matched by a CIDR.
            ("10.1.2.3", 443, entry("10.0.0.0/8")),
            ("11.1.2.3", 443, None),
            ("192.168.1.7", 6443, entry("192.168.1.7")),
            ("192.168.1.8", 443, None),
            // IP and name entries with a port match that port only.
            ("172.16.0.1", 6443, entry("172.16.0.1:6443")),
            ("172.16.0.1", 443, None),
            ("qux.io", 8443, entry("qux.io:8443")),
            ("qux.io", 443, None),
            ("2001:db8::1", 443, entry("[2001:db8::1]:443")),
            ("2001:db8::2", 443, None),
            // Loopback and localhost are never proxied, whatever the list.
            ("localhost", 443, Some(Bypass::Loopback)),
            ("127.0.0.1", 6443, Some(Bypass::Loopback)),
            ("::1", 443, Some(Bypass::Loopback)),
            ("aks-x.hcp.eastus.azmk8s.io", 443, None),
        ];
        for (host, port, want) in table {
            assert_eq!(&matched(list, host, *port), want, "{host}:{port}");
        }
        assert_eq!(matched("*", "example.com", 443), Some(Bypass::Wildcard));
        assert_eq!(matched("a.com,*", "b.com", 443), Some(Bypass::Wildcard));
        // Empty and host-less entries are ignored, as in Go.
        assert_eq!(matched(" , :80,", "example.com", 443), None);
        assert_eq!(NoProxy::parse(" , :80,").entries.len(), 0);
        assert_eq!(
            matched(".azmk8s.io", "aks-x.hcp.eastus.azmk8s.io", 443),
            entry(".azmk8s.io")
        );
    }

    #[test]
    fn split_host_port_follows_go() {
        assert_eq!(split_host_port("a.com:80"), Some(("a.com", "80")));
        assert_eq!(split_host_port("[::1]:80"), Some(("::1", "80")));
        assert_eq!(split_host_port("a.com"), None);
        assert_eq!(split_host_port("2001:db8::1"), None);
        assert_eq!(split_host_port("a.com:"), Some(("a.com", "")));
    }

    fn env(proxy: Option<&str>, no_proxy: Option<&str>) -> ProxyEnv {
        ProxyEnv {
            https_proxy: proxy.map(|p| ("HTTPS_PROXY", p.to_string())),
            no_proxy: no_proxy.map(|n| ("NO_PROXY", n.to_string())),
        }
    }

    #[test]
    fn the_route_kubectl_takes() {
        let host = "aks-x.hcp.eastus.azmk8s.io";
        assert_eq!(route(None, &env(None, None), host, 443), Route::Direct);
        // kube's merged proxy_url carries a trailing slash.
        let proxied = route(
            Some("http://proxy:3128/"),
            &env(Some("http://proxy:3128"), Some("10.0.0.0/8")),
            host,
            443,
        );
        assert_eq!(
            proxied,
            Route::Proxy {
                url: "http://proxy:3128/".into(),
                source: ProxySource::Env("HTTPS_PROXY")
            }
        );
        let bypassed = route(
            Some("http://proxy:3128/"),
            &env(Some("http://proxy:3128"), Some(".azmk8s.io")),
            host,
            443,
        );
        assert_eq!(
            bypassed,
            Route::Bypassed {
                url: "http://proxy:3128/".into(),
                source: ProxySource::Env("HTTPS_PROXY"),
                why: Bypass::Entry(".azmk8s.io".into()),
                no_proxy_var: Some("NO_PROXY"),
            }
        );
        let rung = rung(&bypassed, host, 443);
        assert_eq!(rung.finding.id, "connectivity.path.no-proxy");
        assert_eq!(
            rung.finding.title,
            "path: direct to aks-x.hcp.eastus.azmk8s.io:443: kubectl skips the proxy http://proxy:3128/ (NO_PROXY entry `.azmk8s.io` matches aks-x.hcp.eastus.azmk8s.io)"
        );
        // The kubeconfig's proxy-url is used as it is: NO_PROXY does not apply.
        assert_eq!(
            route(Some("http://corp:8080/"), &env(None, Some("*")), host, 443),
            Route::Proxy {
                url: "http://corp:8080/".into(),
                source: ProxySource::Kubeconfig
            }
        );
    }
}
