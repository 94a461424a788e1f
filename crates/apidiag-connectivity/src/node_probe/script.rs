//! What the probe Pod runs, and reading what it printed.
//!
//! The probe uses only what a busybox-style image has (`sh`, `nslookup`, `nc`):
//! nothing is installed on the node. Each target gives two lines the parser
//! below reads back, `dns|<host>|<addresses>` and `tcp|<host>|<port>|<rc>|<text>`,
//! so the verdicts are made here, not in shell.

/// The shell script for `targets` (`host:port` each). Hosts and ports come from
/// the kubeconfig's server URL and a fixed list, never from the cluster; they
/// are still single-quoted so no value is read as shell.
pub fn script(targets: &[(String, u16)], connect_timeout_secs: u64) -> String {
    let mut text = String::from("set +e\n");
    for (host, port) in targets {
        let host = quote(host);
        text.push_str(&format!(
            "a=$(nslookup {host} 2>&1 | awk '/^Name:/ {{n=1}} n && /^Address/ {{print $NF}}' | tr '\\n' ' ')\n\
echo \"dns|\"{host}\"|$a\"\n\
o=$(nc -z -w {connect_timeout_secs} {host} {port} 2>&1); r=$?\n\
echo \"tcp|\"{host}\"|{port}|$r|$(echo \"$o\" | tr '|\\n' '  ')\"\n"
        ));
    }
    text.push_str("echo done\n");
    text
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// One target as seen from the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub host: String,
    pub port: u16,
    /// The addresses the node's resolver gave (empty: none).
    pub addresses: Vec<String>,
    /// `nc -z`'s exit code: 0 connected.
    pub connected: bool,
    /// What `nc` said on failure (`bad address`, `Connection refused`, `timed out`).
    pub said: String,
}

/// The probe's output, target by target, and whether it ran to the end.
pub fn parse(log: &str) -> (Vec<Seen>, bool) {
    let mut seen: Vec<Seen> = Vec::new();
    let mut complete = false;
    for line in log.lines() {
        let fields: Vec<&str> = line.split('|').collect();
        match fields.as_slice() {
            ["dns", host, addresses] => seen.push(Seen {
                host: host.to_string(),
                port: 0,
                addresses: addresses.split_whitespace().map(str::to_string).collect(),
                connected: false,
                said: String::new(),
            }),
            ["tcp", host, port, rc, said] => {
                if let Some(last) = seen.last_mut().filter(|s| s.host == *host && s.port == 0) {
                    last.port = port.parse().unwrap_or(0);
                    last.connected = *rc == "0";
                    last.said = said.trim().to_string();
                }
            }
            ["done"] => complete = true,
            _ => {}
        }
    }
    (seen, complete)
}

/// `nc`'s words for a failure, as kubectl would say them.
pub fn verdict(seen: &Seen) -> String {
    let said = seen.said.to_ascii_lowercase();
    if seen.connected {
        "connected".into()
    } else if seen.addresses.is_empty() || said.contains("bad address") {
        format!(
            "DNS: lookup {}: no such host (the node's resolver)",
            seen.host
        )
    } else if said.contains("refused") {
        format!(
            "dial tcp {}:{}: connect: connection refused",
            seen.addresses[0], seen.port
        )
    } else if said.contains("unreachable") || said.contains("no route") {
        format!(
            "dial tcp {}:{}: connect: no route to host",
            seen.addresses[0], seen.port
        )
    } else {
        format!("dial tcp {}:{}: i/o timeout", seen.addresses[0], seen.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_read_back_target_by_target() {
        let log = "dns|aks-x.hcp.eastus.azmk8s.io|20.1.2.3 \n\
tcp|aks-x.hcp.eastus.azmk8s.io|443|0|\n\
dns|mcr.microsoft.com|204.79.197.219 \n\
tcp|mcr.microsoft.com|443|1|nc: timed out \n\
dns|packages.aks.azure.com|\n\
tcp|packages.aks.azure.com|443|1|nc: bad address 'packages.aks.azure.com' \n\
done\n";
        let (seen, complete) = parse(log);
        assert!(complete);
        assert_eq!(seen.len(), 3);
        assert!(seen[0].connected);
        assert_eq!(seen[0].addresses, vec!["20.1.2.3"]);
        assert_eq!(
            verdict(&seen[1]),
            "dial tcp 204.79.197.219:443: i/o timeout"
        );
        assert_eq!(
            verdict(&seen[2]),
            "DNS: lookup packages.aks.azure.com: no such host (the node's resolver)"
        );
        assert!(
            !parse("dns|a|1.2.3.4\n").1,
            "a probe cut short is not complete"
        );
    }

    /// The script, run by this machine's `sh` with `nslookup` and `nc` played by
    /// small scripts, prints what [`parse`] reads: the shell glue is exercised,
    /// not assumed.
    #[test]
    fn the_script_prints_what_the_parser_reads() {
        let dir = tempfile::tempdir().unwrap();
        let fake = |name: &str, body: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        // busybox's format (the default image): the resolver's own line is
        // `Address: 10.0.0.10:53` (bind's says `#53`); the answers follow `Name:`.
        fake(
            "nslookup",
            "case \"$1\" in good.example) printf 'Server: 10.0.0.10\\nAddress: 10.0.0.10:53\\n\\nNon-authoritative answer:\\nName: good.example\\nAddress: 192.0.2.7\\n';; *) echo \"** server can't find $1: NXDOMAIN\"; exit 1;; esac",
        );
        fake(
            "nc",
            "case \"$4\" in good.example) exit 0;; *) echo \"nc: bad address '$4'\" >&2; exit 1;; esac",
        );
        let script = script(
            &[("good.example".into(), 443), ("it's.bad".into(), 8443)],
            5,
        );
        let path = format!(
            "{}:{}",
            dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .env("PATH", path)
            .output()
            .unwrap();
        let (seen, complete) = parse(&String::from_utf8_lossy(&output.stdout));
        assert!(complete, "{}", String::from_utf8_lossy(&output.stdout));
        assert_eq!(seen.len(), 2);
        assert_eq!(
            (seen[0].addresses.clone(), seen[0].connected, seen[0].port),
            (vec!["192.0.2.7".to_string()], true, 443)
        );
        assert_eq!(seen[1].host, "it's.bad");
        assert!(!seen[1].connected);
        assert_eq!(
            verdict(&seen[1]),
            "DNS: lookup it's.bad: no such host (the node's resolver)"
        );
    }
}
