//! The client path, on sockets of its own: kubeconfig, DNS, TCP, TLS, ALPN.
//!
//! Each rung needs the one before it (no TCP without an address, no TLS
//! without a connection), so the first hard failure ([`Rung::stopping`]) ends
//! the list, with a last Info rung naming what was not tried. The path tested
//! is the one kubectl would take: straight, or through the proxy it would use
//! ([`proxy`]). The authorized-IP rung is offline arithmetic that explains a
//! TCP timeout, so it comes last and survives a stop.

pub mod aks;
pub mod authorized;
pub mod dns;
pub mod exec;
pub mod kubeconfig;
pub mod proxy;
pub mod tcp;
pub mod tls;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use apidiag_core::connection::Resolved;
use apidiag_core::finding::Severity;
use ipnet::IpNet;
use jiff::Timestamp;

use crate::rung::Rung;

/// The default `--connect-timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The client path's flags.
#[derive(Debug, Clone, clap::Args)]
pub struct PathArgs {
    /// How long one TCP connect may take (the TLS handshake gets twice as long): 5s, 500ms
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = apidiag_core::cli::parse_go_duration)]
    pub connect_timeout: Duration,
    /// Your public egress IP, to check against --authorized-ip-ranges (apidiag never looks it up)
    #[arg(long, value_name = "ADDR")]
    pub client_ip: Option<IpAddr>,
    /// The cluster's authorized IP ranges, as `az aks show --query apiServerAccessProfile.authorizedIpRanges` prints them (repeatable, or comma-separated)
    #[arg(long, value_name = "CIDR", value_delimiter = ',', value_parser = authorized::parse_range)]
    pub authorized_ip_ranges: Vec<IpNet>,
}

impl Default for PathArgs {
    fn default() -> Self {
        PathArgs {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            client_ip: None,
            authorized_ip_ranges: Vec::new(),
        }
    }
}

/// The client rungs, in order, up to the first hard failure.
pub async fn client_path(resolved: &Resolved, args: &PathArgs) -> Vec<Rung> {
    client_path_in(resolved, args, &proxy::ProxyEnv::from_process()).await
}

/// [`client_path`] with the proxy variables given rather than read from the
/// process (tests cannot change a running process's environment safely).
pub async fn client_path_in(
    resolved: &Resolved,
    args: &PathArgs,
    env: &proxy::ProxyEnv,
) -> Vec<Rung> {
    let mut rungs = Vec::new();
    let not_tried = walk(resolved, args, env, &mut rungs).await;
    if let Some(not_tried) = not_tried {
        rungs.push(
            Rung::new(
                "connectivity.path.not-tried",
                Severity::Info,
                "not tried",
                not_tried.join(", "),
                None,
            )
            .with(|f| f.detail("Each of these needs the rung that failed above.")),
        );
    }
    let timed_out = tcp::timed_out_on_public(&rungs);
    let aks_server = kubeconfig::target(resolved)
        .ok()
        .and_then(|t| aks::endpoint(&t.host));
    match authorized::rung(args.client_ip, &args.authorized_ip_ranges) {
        Some(rung) => rungs.push(rung),
        None if timed_out && aks_server.is_some() => rungs.push(authorized::client_ip_unknown()),
        None => {}
    }
    rungs
}

/// The rungs up to the first stop; what was not tried after it, if anything.
async fn walk(
    resolved: &Resolved,
    args: &PathArgs,
    env: &proxy::ProxyEnv,
    rungs: &mut Vec<Rung>,
) -> Option<Vec<&'static str>> {
    let stopped = |rungs: &[Rung]| rungs.last().is_some_and(|r| r.stops);
    let target = match kubeconfig::target(resolved) {
        Ok(target) => target,
        Err(rung) => {
            rungs.push(*rung);
            return Some(vec!["DNS", "TCP", "TLS", "ALPN"]);
        }
    };
    let trust = kubeconfig::trust(resolved);
    rungs.push(kubeconfig::rung(resolved, &target, &trust));
    if let Some(rung) = kubeconfig::client_certificate(resolved, Timestamp::now()) {
        rungs.push(rung);
        if stopped(rungs) {
            return Some(vec!["exec plugin", "DNS", "TCP", "TLS", "ALPN"]);
        }
    }
    if let Some(exec) = &resolved.config.auth_info.exec {
        rungs.push(exec::run(exec, exec::TIMEOUT).await);
        if stopped(rungs) {
            return Some(vec!["DNS", "TCP", "TLS", "ALPN"]);
        }
    }

    let configured = resolved.config.proxy_url.as_ref().map(|u| u.to_string());
    let route = proxy::route(configured.as_deref(), env, &target.host, target.port);
    rungs.push(proxy::rung(&route, &target.host, target.port));
    let timeout = args.connect_timeout;
    let aks = aks::endpoint(&target.host);

    let stream = match route.proxy() {
        Some(url) => {
            let Ok(proxy_url) = url.parse::<http::Uri>() else {
                return Some(vec!["TCP", "TLS", "ALPN"]);
            };
            if proxy_url.scheme_str() != Some("http") {
                rungs.push(Rung::new(
                    "connectivity.path.proxy-not-tested",
                    Severity::Info,
                    "path",
                    format!(
                        "the {} proxy {} is not tested (only http:// proxies are)",
                        proxy_url.scheme_str().unwrap_or("unknown"),
                        proxy::shown(url),
                    ),
                    None,
                ));
                return None;
            }
            let proxy_host = proxy_url
                .host()
                .unwrap_or("")
                .trim_matches(['[', ']'])
                .to_string();
            let proxy_port = proxy_url.port_u16().unwrap_or(80);
            let addrs = match resolve(
                &proxy_host,
                proxy_port,
                " (the proxy)",
                None,
                timeout,
                rungs,
            )
            .await
            {
                Some(addrs) => addrs,
                None => return Some(vec!["TCP", "TLS", "ALPN"]),
            };
            let (rung, stream) =
                tcp::through_proxy(&proxy_url, &addrs, &target.authority(), timeout).await;
            rungs.push(rung);
            match stream {
                Some(stream) => stream,
                None => return Some(vec!["TLS", "ALPN"]),
            }
        }
        None => {
            let addrs = match resolve(&target.host, target.port, "", aks, timeout, rungs).await {
                Some(addrs) => addrs,
                None => return Some(vec!["TCP", "TLS", "ALPN"]),
            };
            let attempts = tcp::connect_all(&addrs, timeout).await;
            let (tcp_rungs, first) = tcp::rungs(attempts, &target.authority(), timeout, aks);
            rungs.extend(tcp_rungs);
            match first {
                Some((_, stream)) => stream,
                None => return Some(vec!["TLS", "ALPN"]),
            }
        }
    };
    if !target.tls {
        return None;
    }
    let handshake_timeout = timeout * 2;
    let handshake = tls::handshake(stream, &trust, &target.server_name, handshake_timeout).await;
    rungs.extend(tls::rungs(
        &handshake,
        &trust,
        &target.server_name,
        handshake_timeout,
        Timestamp::now(),
    ));
    if stopped(rungs) {
        return Some(vec!["ALPN"]);
    }
    None
}

/// The DNS rung for `host` (none needed for an IP literal); the addresses, or
/// `None` when the rung stopped the ladder.
async fn resolve(
    host: &str,
    port: u16,
    role: &str,
    aks: Option<aks::AksEndpoint>,
    timeout: Duration,
    rungs: &mut Vec<Rung>,
) -> Option<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        rungs.push(dns::ip_literal(ip));
        return Some(vec![SocketAddr::new(ip, port)]);
    }
    // Resolvers retry for several seconds; twice the connect timeout bounds it.
    let (lookup, took) = dns::lookup(host, port, timeout * 2).await;
    let rung = dns::rung(host, role, &lookup, aks, took);
    let stops = rung.stops;
    rungs.push(rung);
    match lookup {
        dns::Lookup::Answered(addrs) if !stops => Some(addrs),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        path: PathArgs,
    }

    #[test]
    fn flags_parse_and_default_like_default() {
        Cli::command().debug_assert();
        let cli = Cli::parse_from(["x"]);
        assert_eq!(
            cli.path.connect_timeout,
            PathArgs::default().connect_timeout
        );
        let cli = Cli::parse_from([
            "x",
            "--connect-timeout",
            "500ms",
            "--client-ip",
            "203.0.113.7",
            "--authorized-ip-ranges",
            "198.51.100.0/24,203.0.113.0/28",
            "--authorized-ip-ranges",
            "10.0.0.1",
        ]);
        assert_eq!(cli.path.connect_timeout, Duration::from_millis(500));
        assert_eq!(cli.path.client_ip, Some("203.0.113.7".parse().unwrap()));
        let ranges: Vec<String> = cli
            .path
            .authorized_ip_ranges
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(ranges, ["198.51.100.0/24", "203.0.113.0/28", "10.0.0.1/32"]);
    }
}
