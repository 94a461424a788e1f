//! AKS authorized IP ranges, checked offline: is the client's public egress IP
//! inside one of the ranges the user pasted from `az aks show --query
//! apiServerAccessProfile.authorizedIpRanges`? A client outside them sees a TCP
//! timeout, never a refusal (research §1.4), and apidiag cannot learn its
//! public egress IP itself without calling an echo service, which it never does.

use std::net::IpAddr;

use apidiag_core::finding::{Evidence, Severity};
use ipnet::IpNet;

use crate::rung::Rung;

const WHAT: &str = "authorized IP ranges";

/// `--authorized-ip-ranges` values: a CIDR or a plain IP (a /32 or /128). The
/// JSON list `az` prints may be pasted as it is: brackets, quotes and spaces
/// around an entry are dropped.
pub fn parse_range(text: &str) -> Result<IpNet, String> {
    let text = text.trim_matches(|c: char| c.is_whitespace() || "[]\"'".contains(c));
    text.parse::<IpNet>()
        .map(|net| net.trunc())
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is not a CIDR such as 203.0.113.0/24 or an IP address"))
}

/// The rung for `--client-ip` and `--authorized-ip-ranges`; none when neither is given.
pub fn rung(client_ip: Option<IpAddr>, ranges: &[IpNet]) -> Option<Rung> {
    let listed = ranges
        .iter()
        .map(IpNet::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    match (client_ip, ranges.is_empty()) {
        (None, true) => None,
        (Some(ip), true) => Some(usage(format!(
            "--client-ip {ip} given without --authorized-ip-ranges"
        ))),
        (None, false) => Some(usage(format!(
            "--authorized-ip-ranges {listed} given without --client-ip"
        ))),
        (Some(ip), false) => Some(match ranges.iter().find(|net| net.contains(&ip)) {
            Some(net) => Rung::pass(
                "connectivity.authorized-ip.inside",
                WHAT,
                format!("{ip} is inside {net}"),
                None,
            )
            .with(|f| f.evidence(Evidence::new("ranges", listed.clone()))),
            None => Rung::new(
                "connectivity.authorized-ip.outside",
                Severity::Critical,
                WHAT,
                format!("{ip} is outside every range ({listed})"),
                None,
            )
            .with(|f| {
                f.detail(format!(
                    "The API server drops the TCP SYNs of clients outside its authorized IP ranges, so kubectl says `Unable to connect to the server: dial tcp <API-SERVER-IP>:443: i/o timeout`. Add {ip} to the ranges (`az aks update -g <resource-group> -n <cluster> --api-server-authorized-ip-ranges <existing>,{ip}/32`); the rules take up to two minutes to propagate.{}",
                    zero_note(ranges)
                ))
                .evidence(Evidence::new("ranges", listed.clone()))
            }),
        }),
    }
}

/// `0.0.0.0/32` in the ranges means "only the cluster's own outbound IP".
fn zero_note(ranges: &[IpNet]) -> &'static str {
    if ranges.iter().any(|net| net.to_string() == "0.0.0.0/32") {
        " `0.0.0.0/32` in the list means that only the cluster's load balancer outbound IP is allowed."
    } else {
        ""
    }
}

fn usage(what_was_given: String) -> Rung {
    Rung::new(
        "connectivity.authorized-ip.usage",
        Severity::Info,
        WHAT,
        format!("not checked: {what_was_given}"),
        None,
    )
    .with(|f| {
        f.detail("Give both: --client-ip ADDR (your public egress IP) and --authorized-ip-ranges CIDR[,CIDR…] (from `az aks show -g <resource-group> -n <cluster> --query apiServerAccessProfile.authorizedIpRanges -o tsv`).")
    })
}

/// Said when TCP timed out on a public AKS address and no `--client-ip` was
/// given: what apidiag cannot know, and how the user finds it out.
pub fn client_ip_unknown() -> Rung {
    Rung::new(
        "connectivity.authorized-ip.client-ip-unknown",
        Severity::Info,
        WHAT,
        "not checked: apidiag cannot know this client's public egress IP offline",
        None,
    )
    .with(|f| {
        f.detail("A TCP timeout on a public AKS address is what a client outside the authorized IP ranges sees. apidiag does not call an echo service to learn your public IP. Find it as the AKS guide does (`dig +short myip.opendns.com @resolver1.opendns.com`, or `curl -s checkip.dyndns.org` behind a proxy), read the ranges with `az aks show -g <resource-group> -n <cluster> --query apiServerAccessProfile.authorizedIpRanges -o tsv`, and run again with --client-ip ADDR --authorized-ip-ranges CIDR[,CIDR…] to compare them.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|r| parse_range(r).unwrap()).collect()
    }

    #[test]
    fn the_client_ip_is_inside_or_outside() {
        let list = ranges(&["198.51.100.0/24", "203.0.113.7"]);
        let inside = rung(Some("198.51.100.42".parse().unwrap()), &list).unwrap();
        assert_eq!(inside.finding.id, "connectivity.authorized-ip.inside");
        assert_eq!(inside.finding.severity, Severity::Ok);
        assert_eq!(
            inside.finding.title,
            "authorized IP ranges: 198.51.100.42 is inside 198.51.100.0/24"
        );
        let exact = rung(Some("203.0.113.7".parse().unwrap()), &list).unwrap();
        assert_eq!(
            exact.finding.title,
            "authorized IP ranges: 203.0.113.7 is inside 203.0.113.7/32"
        );
        let outside = rung(Some("203.0.113.8".parse().unwrap()), &list).unwrap();
        assert_eq!(outside.finding.id, "connectivity.authorized-ip.outside");
        assert_eq!(outside.finding.severity, Severity::Critical);
        assert!(!outside.stops, "offline math stops nothing");
        assert_eq!(
            outside.finding.title,
            "authorized IP ranges: 203.0.113.8 is outside every range (198.51.100.0/24, 203.0.113.7/32)"
        );
        // The edges of a /24, and an IPv6 client against IPv4 ranges.
        assert!(
            rung(Some("198.51.100.255".parse().unwrap()), &list)
                .unwrap()
                .finding
                .id
                .ends_with("inside")
        );
        assert!(
            rung(Some("198.51.101.0".parse().unwrap()), &list)
                .unwrap()
                .finding
                .id
                .ends_with("outside")
        );
        assert!(
            rung(Some("2001:db8::1".parse().unwrap()), &list)
                .unwrap()
                .finding
                .id
                .ends_with("outside")
        );
    }

    #[test]
    fn one_flag_alone_is_a_usage_message() {
        assert!(rung(None, &[]).is_none());
        let alone = rung(Some("203.0.113.8".parse().unwrap()), &[]).unwrap();
        assert_eq!(alone.finding.id, "connectivity.authorized-ip.usage");
        assert_eq!(
            alone.finding.title,
            "authorized IP ranges: not checked: --client-ip 203.0.113.8 given without --authorized-ip-ranges"
        );
        let alone = rung(None, &ranges(&["10.0.0.0/8"])).unwrap();
        assert_eq!(
            alone.finding.title,
            "authorized IP ranges: not checked: --authorized-ip-ranges 10.0.0.0/8 given without --client-ip"
        );
    }

    #[test]
    fn pasted_az_output_parses() {
        assert_eq!(
            parse_range("[\"198.51.100.0/24\"").unwrap().to_string(),
            "198.51.100.0/24"
        );
        assert_eq!(
            parse_range(" '10.1.2.3/8' ]").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_range("nope").unwrap_err(),
            "`nope` is not a CIDR such as 203.0.113.0/24 or an IP address"
        );
        let zero = rung(
            Some("203.0.113.8".parse().unwrap()),
            &ranges(&["0.0.0.0/32"]),
        )
        .unwrap();
        assert!(
            zero.finding
                .detail
                .ends_with("only the cluster's load balancer outbound IP is allowed.")
        );
    }
}
