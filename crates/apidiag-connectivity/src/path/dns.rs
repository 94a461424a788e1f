//! The DNS rung: the host through the system resolver (as kubectl's Go
//! resolver would ask it), each answer classified. A private answer for an AKS
//! public FQDN from outside the VNet is a private cluster (research §1.4).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use apidiag_core::finding::{Evidence, Severity};

use super::aks::AksEndpoint;
use crate::rung::Rung;

/// What kind of address an answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Public,
    /// RFC 1918, or an IPv6 unique local address (fc00::/7).
    Private,
    /// RFC 6598 carrier-grade NAT, 100.64.0.0/10.
    Cgnat,
    Loopback,
    LinkLocal,
    /// Unspecified, multicast, documentation and other special-purpose ranges.
    Reserved,
}

impl AddressClass {
    pub fn label(self) -> &'static str {
        match self {
            AddressClass::Public => "public",
            AddressClass::Private => "private",
            AddressClass::Cgnat => "CGNAT",
            AddressClass::Loopback => "loopback",
            AddressClass::LinkLocal => "link-local",
            AddressClass::Reserved => "reserved",
        }
    }

    /// Whether only a network inside (a VNet, a VPN) can reach it.
    pub fn is_internal(self) -> bool {
        matches!(self, AddressClass::Private | AddressClass::Cgnat)
    }
}

/// The class of `ip` (an IPv4-mapped IPv6 address is classed as its IPv4).
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                AddressClass::Loopback
            } else if v4.is_private() {
                AddressClass::Private
            } else if a == 100 && (64..128).contains(&b) {
                AddressClass::Cgnat
            } else if v4.is_link_local() {
                AddressClass::LinkLocal
            } else if v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
            {
                AddressClass::Reserved
            } else {
                AddressClass::Public
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                AddressClass::Loopback
            } else if first & 0xfe00 == 0xfc00 {
                AddressClass::Private
            } else if first & 0xffc0 == 0xfe80 {
                AddressClass::LinkLocal
            } else if v6.is_unspecified()
                || v6.is_multicast()
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)
            {
                AddressClass::Reserved
            } else {
                AddressClass::Public
            }
        }
    }
}

/// What the resolver said.
#[derive(Debug)]
pub enum Lookup {
    Answered(Vec<SocketAddr>),
    /// No such name (NXDOMAIN, or no address records).
    NoSuchHost(String),
    /// The resolver failed or did not answer: the name's status is unknown.
    Failed(String),
    TimedOut,
}

/// Resolves `host` with the system resolver, bounded by `timeout`.
pub async fn lookup(host: &str, port: u16, timeout: Duration) -> (Lookup, Duration) {
    let started = Instant::now();
    let answer = tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await;
    let lookup = match answer {
        Err(_) => Lookup::TimedOut,
        Ok(Ok(answers)) => {
            let mut addrs: Vec<SocketAddr> = Vec::new();
            for addr in answers {
                if !addrs.contains(&addr) {
                    addrs.push(addr);
                }
            }
            if addrs.is_empty() {
                Lookup::NoSuchHost("no addresses".into())
            } else {
                Lookup::Answered(addrs)
            }
        }
        // getaddrinfo's errors reach us only as text (std keeps EAI_* codes
        // private): "Temporary failure in name resolution" is EAI_AGAIN, a
        // resolver that failed or did not answer; anything else is taken for
        // a name that does not exist.
        Ok(Err(error)) => {
            let text = error.to_string();
            if text.contains("Temporary failure") || text.contains("try again") {
                Lookup::Failed(text)
            } else {
                Lookup::NoSuchHost(text)
            }
        }
    };
    (lookup, started.elapsed())
}

/// The rung for an IP literal: nothing to resolve, which is a pass (a healthy
/// cluster reached by address shows nothing above ok).
pub fn ip_literal(ip: IpAddr) -> Rung {
    Rung::new(
        "connectivity.dns.ip-literal",
        Severity::Ok,
        "DNS",
        format!(
            "not needed: the server is the IP address {ip} ({})",
            classify(ip).label()
        ),
        None,
    )
}

/// The DNS rung for `host` (the API server's, or the proxy's when kubectl
/// goes through one: `role` says which).
pub fn rung(
    host: &str,
    role: &str,
    lookup: &Lookup,
    aks: Option<AksEndpoint>,
    took: Duration,
) -> Rung {
    let what = format!("DNS {host}{role}");
    let took = Some(took);
    match lookup {
        Lookup::Answered(addrs) => {
            let classes: Vec<AddressClass> = addrs.iter().map(|a| classify(a.ip())).collect();
            let listed = addrs
                .iter()
                .zip(&classes)
                .map(|(a, c)| format!("{} ({})", a.ip(), c.label()))
                .collect::<Vec<_>>()
                .join(", ");
            let table = Evidence::table(
                "answers",
                &["ADDRESS", "CLASS"],
                addrs
                    .iter()
                    .zip(&classes)
                    .map(|(a, c)| vec![a.ip().to_string(), c.label().to_string()])
                    .collect(),
            );
            let public_aks = aks.is_some_and(|e| !e.private);
            if public_aks && classes.iter().any(|c| c.is_internal()) {
                Rung::new(
                    "connectivity.dns.private-answer",
                    Severity::Warning,
                    &what,
                    format!("{listed}: a private address for an AKS public FQDN"),
                    took,
                )
                .with(|f| {
                    f.detail("The public name of a private AKS cluster resolves to its private endpoint. From outside the cluster's virtual network (and networks peered or connected to it) TCP to that address times out; AKS calls this expected behaviour. Run from a VM in the VNet, a peered network, VPN or ExpressRoute, or use `az aks command invoke`.")
                        .evidence(table)
                })
            } else {
                Rung::pass("connectivity.dns.resolved", &what, listed, took)
                    .with(|f| f.evidence(table))
            }
        }
        Lookup::NoSuchHost(error) => Rung::new(
            "connectivity.dns.no-such-host",
            Severity::Critical,
            &what,
            "no such host",
            took,
        )
        .stopping()
        .with(|f| {
            f.detail(format!(
                "kubectl says: `Unable to connect to the server: dial tcp: lookup {host}: no such host`. The resolver says the name does not exist. {}",
                match aks {
                    Some(e) if e.private => "This is a private AKS cluster's privatelink name: it resolves only through the private DNS zone `privatelink.<region>.azmk8s.io`. Link that zone to your VNet, or on custom DNS add a conditional forwarder for the zone to 168.63.129.16 (UDP and TCP 53), or run from inside the VNet.",
                    Some(_) => "Check the FQDN against `az aks show -g <resource-group> -n <cluster> --query fqdn`; after a stop/start or a re-creation, fetch the kubeconfig again (`az aks get-credentials`).",
                    None => "Check the server name in the kubeconfig and the resolver this machine uses.",
                }
            ))
            .evidence(Evidence::new("resolver said", error.clone()))
        }),
        Lookup::Failed(error) => Rung::new(
            "connectivity.dns.failed",
            Severity::Critical,
            &what,
            "the resolver failed",
            took,
        )
        .stopping()
        .with(|f| {
            f.detail(format!(
                "kubectl says: `Unable to connect to the server: dial tcp: lookup {host}: server misbehaving` (or `i/o timeout`). The resolver did not give an answer, so whether the name exists is unknown: check this machine's DNS servers (and, for a private AKS cluster, the forwarder to 168.63.129.16)."
            ))
            .evidence(Evidence::new("resolver said", error.clone()))
        }),
        Lookup::TimedOut => Rung::new(
            "connectivity.dns.timeout",
            Severity::Critical,
            &what,
            "the resolver did not answer",
            took,
        )
        .stopping()
        .with(|f| {
            f.detail(format!(
                "kubectl says: `Unable to connect to the server: dial tcp: lookup {host}: i/o timeout`. The name's status is unknown: check this machine's DNS servers and that UDP and TCP 53 reach them."
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_classified() {
        let table: &[(&str, AddressClass)] = &[
            ("20.1.2.3", AddressClass::Public),
            ("10.0.0.1", AddressClass::Private),
            ("172.16.0.1", AddressClass::Private),
            ("172.31.255.255", AddressClass::Private),
            ("172.32.0.1", AddressClass::Public),
            ("192.168.10.4", AddressClass::Private),
            ("100.64.0.1", AddressClass::Cgnat),
            ("100.127.255.254", AddressClass::Cgnat),
            ("100.128.0.1", AddressClass::Public),
            ("127.0.0.1", AddressClass::Loopback),
            ("169.254.1.1", AddressClass::LinkLocal),
            ("192.0.2.10", AddressClass::Reserved),
            ("0.0.0.0", AddressClass::Reserved),
            ("::1", AddressClass::Loopback),
            ("fd00::10", AddressClass::Private),
            ("fe80::1", AddressClass::LinkLocal),
            ("2001:db8::1", AddressClass::Reserved),
            ("2603:1030::5", AddressClass::Public),
            ("::ffff:10.1.2.3", AddressClass::Private),
        ];
        for (ip, class) in table {
            assert_eq!(classify(ip.parse().unwrap()), *class, "{ip}");
        }
    }

    fn answered(ips: &[&str]) -> Lookup {
        Lookup::Answered(
            ips.iter()
                .map(|ip| SocketAddr::new(ip.parse().unwrap(), 443))
                .collect(),
        )
    }

    #[test]
    fn an_aks_public_fqdn_with_a_private_answer_is_a_private_cluster() {
        let host = "aks-x.hcp.eastus.azmk8s.io";
        let aks = super::super::aks::endpoint(host);
        let rung = rung(
            host,
            "",
            &answered(&["10.224.0.4"]),
            aks,
            Duration::from_millis(3),
        );
        assert_eq!(rung.finding.id, "connectivity.dns.private-answer");
        assert_eq!(rung.finding.severity, Severity::Warning);
        assert_eq!(
            rung.finding.title,
            "DNS aks-x.hcp.eastus.azmk8s.io: 10.224.0.4 (private): a private address for an AKS public FQDN (3 ms)"
        );
        assert!(!rung.stops);
        let public = super::rung(
            host,
            "",
            &answered(&["20.1.2.3"]),
            aks,
            Duration::from_millis(3),
        );
        assert_eq!(public.finding.id, "connectivity.dns.resolved");
        assert_eq!(
            public.finding.title,
            "DNS aks-x.hcp.eastus.azmk8s.io: 20.1.2.3 (public) (3 ms)"
        );
    }

    #[test]
    fn no_such_host_stops_with_kubectl_words_and_the_privatelink_hint() {
        let host = "aks-x.0f1e.privatelink.eastus.azmk8s.io";
        let aks = super::super::aks::endpoint(host);
        let lookup = Lookup::NoSuchHost(
            "failed to lookup address information: Name or service not known".into(),
        );
        let rung = rung(host, "", &lookup, aks, Duration::from_millis(20));
        assert_eq!(rung.finding.id, "connectivity.dns.no-such-host");
        assert_eq!(rung.finding.severity, Severity::Critical);
        assert!(rung.stops);
        assert_eq!(
            rung.finding.title,
            format!("DNS {host}: no such host (20 ms)")
        );
        assert!(rung.finding.detail.starts_with(&format!(
            "kubectl says: `Unable to connect to the server: dial tcp: lookup {host}: no such host`."
        )));
        assert!(
            rung.finding.detail.contains("168.63.129.16"),
            "{}",
            rung.finding.detail
        );
    }

    /// The system resolver answers for `localhost` from the hosts file.
    #[tokio::test]
    async fn localhost_resolves_to_loopback_only() {
        let (lookup, _) = super::lookup("localhost", 443, Duration::from_secs(5)).await;
        match lookup {
            Lookup::Answered(addrs) => {
                assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}")
            }
            other => panic!("localhost: {other:?}"),
        }
    }
}
