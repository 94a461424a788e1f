//! The TCP rung: a connect to every address the name gave, all at once, each
//! with its own timeout and timing, the failure classified from its
//! `io::ErrorKind` (research §6: kube-rs shows only "tcp connect error"). A
//! timeout is what AKS authorized IP ranges and firewalls do (the SYN is
//! dropped), so on AKS it says which of the two explanations fits the address.
//! Through an http:// proxy the rung is the tunnel instead: a connect to the
//! proxy and `CONNECT host:port`, as kubectl does.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use apidiag_core::finding::{Evidence, Severity};
use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::aks::AksEndpoint;
use super::dns::{AddressClass, classify};
use crate::rung::{Rung, human_duration};

/// Why a connect failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No answer within the timeout (the kernel's or ours): a dropped SYN.
    Timeout,
    /// A RST: nothing listens, or something on the path refuses.
    Refused,
    /// No route to the host or its network.
    Unreachable {
        network: bool,
    },
    Reset,
    Other(String),
}

impl Failure {
    /// The failure of a connect that returned `error`.
    pub fn of(error: &io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::TimedOut => Failure::Timeout,
            io::ErrorKind::ConnectionRefused => Failure::Refused,
            io::ErrorKind::HostUnreachable => Failure::Unreachable { network: false },
            io::ErrorKind::NetworkUnreachable => Failure::Unreachable { network: true },
            io::ErrorKind::ConnectionReset => Failure::Reset,
            _ => Failure::Other(error.to_string()),
        }
    }

    fn result(&self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Refused => "refused",
            Failure::Unreachable { .. } => "unreachable",
            Failure::Reset => "reset",
            Failure::Other(_) => "failed",
        }
    }
}

/// One connect.
#[derive(Debug)]
pub struct Attempt {
    pub addr: SocketAddr,
    pub took: Duration,
    pub outcome: Result<TcpStream, Failure>,
}

/// Connects to `addr`, giving up after `timeout`.
pub async fn connect(addr: SocketAddr, timeout: Duration) -> Attempt {
    let started = Instant::now();
    let outcome = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Err(Failure::Timeout),
        Ok(Err(error)) => Err(Failure::of(&error)),
        Ok(Ok(stream)) => Ok(stream),
    };
    Attempt {
        addr,
        took: started.elapsed(),
        outcome,
    }
}

/// Connects to every address at once.
pub async fn connect_all(addrs: &[SocketAddr], timeout: Duration) -> Vec<Attempt> {
    futures::future::join_all(addrs.iter().map(|addr| connect(*addr, timeout))).await
}

/// kubectl's words for a failed dial of `addr` (`server` is the host:port of
/// the kubeconfig, which the refusal message names).
pub fn kubectl_words(failure: &Failure, addr: SocketAddr, server: &str) -> String {
    match failure {
        Failure::Timeout => {
            format!("Unable to connect to the server: dial tcp {addr}: i/o timeout")
        }
        Failure::Refused => format!(
            "The connection to the server {server} was refused - did you specify the right host or port?"
        ),
        Failure::Unreachable { network: false } => {
            format!("Unable to connect to the server: dial tcp {addr}: connect: no route to host")
        }
        Failure::Unreachable { network: true } => format!(
            "Unable to connect to the server: dial tcp {addr}: connect: network is unreachable"
        ),
        Failure::Reset => format!(
            "Unable to connect to the server: dial tcp {addr}: connect: connection reset by peer"
        ),
        Failure::Other(error) => {
            format!("Unable to connect to the server: dial tcp {addr}: {error}")
        }
    }
}

/// What to do next about `failure` on `addr`.
fn next_step(failure: &Failure, addr: SocketAddr, aks: Option<AksEndpoint>) -> String {
    let class = classify(addr.ip());
    match failure {
        Failure::Timeout if aks.is_some() && class == AddressClass::Public => "The SYN got no answer: this is what the AKS API server does to a client outside its authorized IP ranges (it drops the packets, it never refuses), and what an egress firewall that drops 443 does. Check `az aks show -g <resource-group> -n <cluster> --query apiServerAccessProfile.authorizedIpRanges` against your public egress IP (--client-ip and --authorized-ip-ranges compare them), then the firewall rules between here and the cluster.".to_string(),
        Failure::Timeout if class.is_internal() => "A private address that does not answer: a private cluster (or a service on a private network) reached from outside its network, which AKS calls expected behaviour. Run from a VM in the cluster's VNet, a peered network, VPN or ExpressRoute, or use `az aks command invoke`; otherwise check the routes and NSGs on the way.".to_string(),
        Failure::Timeout => "The SYN got no answer: a firewall drops the packets on the way, or the host is down.".to_string(),
        Failure::Refused => "Something at that address answered with a reset: nothing listens on that port (wrong port or host in the kubeconfig), or a proxy or appliance on the path refuses the connection.".to_string(),
        Failure::Unreachable { .. } => "This machine has no route to that address: check the VPN and the routing table.".to_string(),
        Failure::Reset => "The connection was reset while it was being set up: an appliance on the path, or an overloaded load balancer.".to_string(),
        Failure::Other(_) => "The connect failed for a reason the system gave above.".to_string(),
    }
}

/// One rung per attempt; when every attempt failed the last one stops the ladder.
/// Returns the stream of the first address (in answer order) that connected.
pub fn rungs(
    attempts: Vec<Attempt>,
    server: &str,
    timeout: Duration,
    aks: Option<AksEndpoint>,
) -> (Vec<Rung>, Option<(SocketAddr, TcpStream)>) {
    let mut rungs = Vec::new();
    let mut first = None;
    for attempt in attempts {
        let what = format!("TCP {}", attempt.addr);
        let took = Some(attempt.took);
        match attempt.outcome {
            Ok(stream) => {
                rungs.push(Rung::pass(
                    "connectivity.tcp.connected",
                    &what,
                    "connected",
                    took,
                ));
                if first.is_none() {
                    first = Some((attempt.addr, stream));
                }
            }
            Err(failure) => {
                let verdict = match &failure {
                    Failure::Timeout => {
                        format!("no answer in {} (timeout)", human_duration(timeout))
                    }
                    Failure::Refused => "refused".to_string(),
                    Failure::Unreachable { network: false } => "no route to host".to_string(),
                    Failure::Unreachable { network: true } => "network is unreachable".to_string(),
                    Failure::Reset => "connection reset".to_string(),
                    Failure::Other(error) => error.clone(),
                };
                let detail = format!(
                    "kubectl says: `{}`. {}",
                    kubectl_words(&failure, attempt.addr, server),
                    next_step(&failure, attempt.addr, aks)
                );
                // A timeout takes as long as it was given: the title says it.
                let took = if failure == Failure::Timeout {
                    None
                } else {
                    took
                };
                rungs.push(
                    Rung::new(
                        &format!("connectivity.tcp.{}", failure.result()),
                        Severity::Critical,
                        &what,
                        verdict,
                        took,
                    )
                    .with(|f| f.detail(detail)),
                );
            }
        }
    }
    if first.is_none()
        && let Some(last) = rungs.pop()
    {
        rungs.push(last.stopping());
    }
    (rungs, first)
}

/// Whether a TCP rung timed out on a public address of an AKS endpoint.
pub fn timed_out_on_public(rungs: &[Rung]) -> bool {
    rungs.iter().any(|r| {
        r.finding.id == "connectivity.tcp.timeout"
            && r.finding
                .title
                .strip_prefix("TCP ")
                .and_then(|rest| rest.split(": ").next())
                .and_then(|addr| addr.parse::<SocketAddr>().ok())
                .is_some_and(|addr| classify(addr.ip()) == AddressClass::Public)
    })
}

/// The tunnel through an http:// proxy: a connect to the proxy's first address
/// that answers, then `CONNECT target`; the stream is the tunnel when the
/// proxy said 200.
pub async fn through_proxy(
    proxy: &http::Uri,
    proxy_addrs: &[SocketAddr],
    target: &str,
    timeout: Duration,
) -> (Rung, Option<TcpStream>) {
    let started = Instant::now();
    let what = format!(
        "TCP CONNECT {target} through the proxy {}",
        proxy_authority(proxy)
    );
    let mut last = None;
    for addr in proxy_addrs {
        let attempt = connect(*addr, timeout).await;
        match attempt.outcome {
            Ok(stream) => {
                return tunnel(stream, proxy, *addr, target, timeout, &what, started).await;
            }
            Err(failure) => last = Some((*addr, failure)),
        }
    }
    let (addr, failure) = last.unwrap_or((
        SocketAddr::from(([0, 0, 0, 0], 0)),
        Failure::Other("no address".into()),
    ));
    let rung = Rung::new(
        &format!("connectivity.tcp.proxy-{}", failure.result()),
        Severity::Critical,
        &what,
        format!("the proxy {addr}: {}", failure.result()),
        Some(started.elapsed()),
    )
    .stopping()
    .with(|f| {
        f.detail(format!(
            "kubectl says: `Unable to connect to the server: proxyconnect tcp: dial tcp {addr}: {}`. The proxy itself cannot be reached: check the proxy URL and that it runs.",
            match failure {
                Failure::Timeout => "i/o timeout".to_string(),
                Failure::Refused => "connect: connection refused".to_string(),
                Failure::Unreachable { .. } => "connect: no route to host".to_string(),
                Failure::Reset => "connect: connection reset by peer".to_string(),
                Failure::Other(error) => error,
            }
        ))
    });
    (rung, None)
}

fn proxy_authority(proxy: &http::Uri) -> String {
    let host = proxy.host().unwrap_or("");
    match proxy.port_u16() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

async fn tunnel(
    mut stream: TcpStream,
    proxy: &http::Uri,
    addr: SocketAddr,
    target: &str,
    timeout: Duration,
    what: &str,
    started: Instant,
) -> (Rung, Option<TcpStream>) {
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some((user, _)) = proxy.authority().and_then(|a| a.as_str().rsplit_once('@')) {
        // Proxy credentials from the URL, as Go sends them (basic).
        let user = percent_decode(user);
        let encoded = base64::engine::general_purpose::STANDARD.encode(user);
        request.push_str(&format!("Proxy-Authorization: Basic {encoded}\r\n"));
    }
    request.push_str("\r\n");
    let exchange = async {
        stream.write_all(request.as_bytes()).await?;
        read_head(&mut stream).await
    };
    let failed = |verdict: String, detail: String| {
        Rung::new(
            "connectivity.tcp.proxy-refused",
            Severity::Critical,
            what,
            verdict,
            Some(started.elapsed()),
        )
        .stopping()
        .with(|f| f.detail(detail))
    };
    match tokio::time::timeout(timeout * 2, exchange).await {
        Err(_) => (
            failed(
                format!("the proxy {addr} did not answer the CONNECT"),
                "The proxy accepted the connection and never answered `CONNECT`: check the proxy's logs and its rules for the API server's host.".into(),
            ),
            None,
        ),
        Ok(Err(error)) => (
            failed(
                format!("the proxy {addr} closed the connection ({error})"),
                "The proxy dropped the tunnel request: check its rules for the API server's host.".into(),
            ),
            None,
        ),
        Ok(Ok(head)) => {
            let status_line = head.lines().next().unwrap_or("").trim().to_string();
            let mut parts = status_line.splitn(3, ' ');
            let code = parts.nth(1).and_then(|c| c.parse::<u16>().ok());
            let reason = parts.next().unwrap_or("").to_string();
            match code {
                Some(200) => (
                    Rung::pass(
                        "connectivity.tcp.proxy-connected",
                        what,
                        format!("tunnel open ({status_line})"),
                        Some(started.elapsed()),
                    )
                    .with(|f| f.evidence(Evidence::new("proxy address", addr.to_string()))),
                    Some(stream),
                ),
                _ => (
                    failed(
                        format!("the proxy answered `{status_line}`"),
                        format!(
                            "kubectl says: `Unable to connect to the server: {reason}`. {}",
                            if code == Some(407) {
                                "The proxy wants credentials: put them in the proxy URL (http://user:password@proxy:port) or ask for the API server's host to be allowed."
                            } else {
                                "The proxy refused to open a tunnel to the API server: ask for its host and port to be allowed, or add it to NO_PROXY if it is reachable directly."
                            }
                        ),
                    ),
                    None,
                ),
            }
        }
    }
}

/// Reads an HTTP response head (up to the blank line, at most 8 KiB).
async fn read_head(stream: &mut TcpStream) -> io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte so that nothing after the head (the TLS bytes of the
    // tunnel) is read away from the stream.
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response head over 8 KiB",
            ));
        }
        if stream.read(&mut byte).await? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed"));
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// `%40` → `@` in the user part of a proxy URL.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(value)) => {
                out.push(value);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_errors_are_classified_by_kind() {
        let table = [
            (io::ErrorKind::TimedOut, Failure::Timeout),
            (io::ErrorKind::ConnectionRefused, Failure::Refused),
            (
                io::ErrorKind::HostUnreachable,
                Failure::Unreachable { network: false },
            ),
            (
                io::ErrorKind::NetworkUnreachable,
                Failure::Unreachable { network: true },
            ),
            (io::ErrorKind::ConnectionReset, Failure::Reset),
        ];
        for (kind, failure) in table {
            assert_eq!(Failure::of(&io::Error::from(kind)), failure, "{kind:?}");
        }
        assert_eq!(
            Failure::of(&io::Error::other("boom")),
            Failure::Other("boom".into())
        );
    }

    fn timed_out(addr: &str, host: &str) -> Rung {
        let addr: SocketAddr = addr.parse().unwrap();
        let attempts = vec![Attempt {
            addr,
            took: Duration::from_secs(5),
            outcome: Err(Failure::Timeout),
        }];
        let (mut rungs, stream) = rungs(
            attempts,
            &format!("{host}:443"),
            Duration::from_secs(5),
            super::super::aks::endpoint(host),
        );
        assert!(stream.is_none());
        assert_eq!(rungs.len(), 1);
        rungs.remove(0)
    }

    #[test]
    fn a_timeout_on_a_public_aks_address_names_authorized_ip_ranges() {
        let rung = timed_out("20.1.2.3:443", "aks-x.hcp.eastus.azmk8s.io");
        assert_eq!(rung.finding.id, "connectivity.tcp.timeout");
        assert_eq!(
            rung.finding.title,
            "TCP 20.1.2.3:443: no answer in 5.0 s (timeout)"
        );
        assert!(rung.stops);
        assert!(rung.finding.detail.starts_with(
            "kubectl says: `Unable to connect to the server: dial tcp 20.1.2.3:443: i/o timeout`. The SYN got no answer: this is what the AKS API server does to a client outside its authorized IP ranges"
        ), "{}", rung.finding.detail);
        assert!(timed_out_on_public(std::slice::from_ref(&rung)));

        let private = timed_out("10.224.0.4:443", "aks-x.hcp.eastus.azmk8s.io");
        assert!(private.finding.detail.contains("a private cluster (or a service on a private network) reached from outside its network"), "{}", private.finding.detail);
        assert!(!timed_out_on_public(std::slice::from_ref(&private)));
    }

    #[test]
    fn kubectl_words_for_each_failure() {
        let addr: SocketAddr = "10.0.0.1:443".parse().unwrap();
        assert_eq!(
            kubectl_words(&Failure::Unreachable { network: false }, addr, "api:443"),
            "Unable to connect to the server: dial tcp 10.0.0.1:443: connect: no route to host"
        );
        assert_eq!(
            kubectl_words(&Failure::Refused, addr, "api:443"),
            "The connection to the server api:443 was refused - did you specify the right host or port?"
        );
    }

    #[test]
    fn proxy_user_is_percent_decoded() {
        assert_eq!(percent_decode("me%40corp:p%3Ass"), "me@corp:p:ss");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
