//! The offline rungs: what the selected context says before any byte is
//! sent: the server, where trust comes from, how this client authenticates,
//! and the client certificate's validity (an expired one fails every request,
//! and kubectl only says "Unauthorized").

use apidiag_core::connection::Resolved;
use apidiag_core::finding::{Evidence, Severity};
use base64::Engine;
use jiff::Timestamp;
use x509_parser::pem::Pem;

use super::aks;
use super::tls::Trust;
use crate::rung::Rung;

/// A client certificate this close to its end is reported before it breaks.
pub const EXPIRY_WARNING_DAYS: i64 = 7;

/// What the client path connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host as written in the server URL, without IPv6 brackets.
    pub host: String,
    pub port: u16,
    /// https (else plain http: no TLS rungs).
    pub tls: bool,
    /// The name TLS checks: `tls-server-name`, else the host.
    pub server_name: String,
}

impl Target {
    /// `host:port`, as kubectl's messages name the server.
    pub fn authority(&self) -> String {
        match self.host.contains(':') {
            true => format!("[{}]:{}", self.host, self.port),
            false => format!("{}:{}", self.host, self.port),
        }
    }
}

/// The target of `resolved`, or the rung that says why there is none.
/// The host (without IPv6 brackets) and port of a server URL, as `http::Uri`
/// reads it; the port defaults to the scheme's. For the rungs that only have
/// the URL the client uses (the probe's targets, the loopback test).
pub fn host_port(server: &str) -> Option<(String, u16)> {
    let uri: http::Uri = server.parse().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    let default = if uri.scheme_str() == Some("http") {
        80
    } else {
        443
    };
    Some((host.to_string(), uri.port_u16().unwrap_or(default)))
}

pub fn target(resolved: &Resolved) -> Result<Target, Box<Rung>> {
    let url = &resolved.config.cluster_url;
    let scheme = url.scheme_str().unwrap_or("https");
    let host = url
        .host()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
        .filter(|h| !h.is_empty());
    let Some(host) = host else {
        return Err(Box::new(
            Rung::new(
                "connectivity.kubeconfig.no-host",
                Severity::Critical,
                "kubeconfig server",
                format!("`{url}` names no host"),
                None,
            )
            .stopping(),
        ));
    };
    let tls = scheme != "http";
    let port = url.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let server_name = resolved
        .config
        .tls_server_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| host.clone());
    Ok(Target {
        host,
        port,
        tls,
        server_name,
    })
}

/// The trust the TLS rung uses, as kube-rs and kubectl would.
pub fn trust(resolved: &Resolved) -> Trust {
    match (
        &resolved.config.root_cert,
        resolved.config.accept_invalid_certs,
    ) {
        (_, true) => Trust::Insecure,
        (Some(ders), false) if !ders.is_empty() => Trust::Kubeconfig(ders.clone()),
        _ => Trust::System,
    }
}

/// How this client authenticates.
fn auth_kind(resolved: &Resolved) -> String {
    let auth = &resolved.config.auth_info;
    if let Some(exec) = &auth.exec {
        return format!(
            "exec credential plugin `{}`",
            exec.command.as_deref().unwrap_or("(no command)")
        );
    }
    if auth.client_certificate.is_some() || auth.client_certificate_data.is_some() {
        return "client certificate".into();
    }
    if auth.token.is_some() {
        return "bearer token".into();
    }
    if let Some(file) = &auth.token_file {
        return format!("bearer token from {file}");
    }
    if let Some(provider) = &auth.auth_provider {
        return format!("auth provider `{}`", provider.name);
    }
    if auth.username.is_some() {
        return "basic auth".into();
    }
    "none (anonymous)".into()
}

/// The kubeconfig rung: server, CA, auth, AKS.
pub fn rung(resolved: &Resolved, target: &Target, trust: &Trust) -> Rung {
    let what = match (&resolved.context, resolved.in_cluster) {
        (_, true) => "in-cluster config (service account)".to_string(),
        (Some(context), false) => format!("kubeconfig context `{context}`"),
        (None, false) => "kubeconfig".to_string(),
    };
    let scheme = if target.tls { "https" } else { "http" };
    let server = format!("{scheme}://{}", target.authority());
    let ca = match trust {
        Trust::Kubeconfig(ders) if resolved.in_cluster => {
            format!("the service account's CA ({} certificates)", ders.len())
        }
        Trust::Kubeconfig(ders) => format!(
            "the kubeconfig (certificate-authority or -data, {} certificate{})",
            ders.len(),
            if ders.len() == 1 { "" } else { "s" }
        ),
        Trust::System => "the system's trusted roots (no CA in the kubeconfig)".to_string(),
        Trust::Insecure => "none: insecure-skip-tls-verify".to_string(),
    };
    let auth = auth_kind(resolved);
    let endpoint = aks::endpoint(&target.host);
    let (id, severity, verdict) = if !target.tls {
        (
            "connectivity.kubeconfig.plain-http",
            Severity::Warning,
            format!("{server}: plain HTTP, no TLS"),
        )
    } else if *trust == Trust::Insecure {
        (
            "connectivity.kubeconfig.insecure",
            Severity::Warning,
            format!("{server}, insecure-skip-tls-verify: the server's certificate is not verified"),
        )
    } else {
        (
            "connectivity.kubeconfig.ok",
            Severity::Ok,
            format!("{server}, {auth}"),
        )
    };
    Rung::new(id, severity, &what, verdict, None).with(|mut f| {
        f = f
            .evidence(Evidence::new("server", server.clone()))
            .evidence(Evidence::new("CA", ca))
            .evidence(Evidence::new("auth", auth.clone()));
        if target.server_name != target.host {
            f = f.evidence(Evidence::new("tls-server-name", target.server_name.clone()));
        }
        if let Some(endpoint) = endpoint {
            f = f.evidence(Evidence::new("AKS", endpoint.describe()));
        }
        if *trust == Trust::Insecure {
            f = f.detail("With insecure-skip-tls-verify kubectl accepts any certificate, also one a TLS-inspecting proxy presents. Put the cluster's CA in `certificate-authority-data` instead.");
        }
        f
    })
}

/// The PEM of the client certificate: `client-certificate-data` (base64), else
/// the `client-certificate` file.
fn client_certificate_pem(resolved: &Resolved) -> Option<Result<Vec<u8>, String>> {
    let auth = &resolved.config.auth_info;
    if let Some(data) = &auth.client_certificate_data {
        return Some(
            base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|e| format!("client-certificate-data is not base64: {e}")),
        );
    }
    auth.client_certificate.as_ref().map(|path| {
        std::fs::read(path).map_err(|e| format!("client-certificate `{path}` cannot be read: {e}"))
    })
}

/// The client certificate rung, when this user has one.
pub fn client_certificate(resolved: &Resolved, now: Timestamp) -> Option<Rung> {
    let pem = client_certificate_pem(resolved)?;
    let unreadable = |why: String| {
        Rung::new(
            "connectivity.client-cert.unreadable",
            Severity::Critical,
            "client certificate",
            why,
            None,
        )
        .stopping()
    };
    let pem = match pem {
        Ok(pem) => pem,
        Err(why) => return Some(unreadable(why)),
    };
    let facts = Pem::iter_from_buffer(&pem)
        .next()
        .and_then(|p| p.ok())
        .ok_or_else(|| "no PEM certificate in the client certificate".to_string())
        .and_then(|p| {
            p.parse_x509()
                .map(|c| {
                    let user = c
                        .subject()
                        .iter_common_name()
                        .next()
                        .and_then(|cn| cn.as_str().ok())
                        .unwrap_or("(no CN)")
                        .to_string();
                    (
                        user,
                        c.validity().not_before.timestamp(),
                        c.validity().not_after.timestamp(),
                    )
                })
                .map_err(|e| format!("the client certificate does not parse: {e}"))
        });
    let (user, not_before, not_after) = match facts {
        Ok(facts) => facts,
        Err(why) => return Some(unreadable(why)),
    };
    Some(judge_client_certificate(&user, not_before, not_after, now))
}

/// The verdict on a client certificate for `user` valid from `not_before` to
/// `not_after` (Unix seconds), at `now`.
pub fn judge_client_certificate(
    user: &str,
    not_before: i64,
    not_after: i64,
    now: Timestamp,
) -> Rung {
    let what = format!("client certificate for user `{user}`");
    let date = |unix: i64| {
        Timestamp::from_second(unix)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| unix.to_string())
    };
    let now_s = now.as_second();
    let days_left = (not_after - now_s).div_euclid(86_400);
    if not_after < now_s {
        return Rung::new(
            "connectivity.client-cert.expired",
            Severity::Critical,
            &what,
            format!("expired {} (offline check)", date(not_after)),
            None,
        )
        .stopping()
        .with(|f| {
            f.detail("The API server rejects an expired client certificate before anything else, and kubectl only says `error: You must be logged in to the server (Unauthorized)`. Get a new kubeconfig (`az aks get-credentials`; after `az aks rotate-certs` every old kubeconfig is invalid) or a new certificate from the cluster's CA.")
        });
    }
    if not_before > now_s {
        return Rung::new(
            "connectivity.client-cert.not-yet-valid",
            Severity::Critical,
            &what,
            format!("not valid before {} (offline check)", date(not_before)),
            None,
        )
        .stopping()
        .with(|f| f.detail("The certificate is not valid yet: this machine's clock is probably wrong. Fix the clock, then try again."));
    }
    if days_left < EXPIRY_WARNING_DAYS {
        return Rung::new(
            "connectivity.client-cert.expiring",
            Severity::Warning,
            &what,
            format!("expires {} ({days_left} days left)", date(not_after)),
            None,
        )
        .with(|f| {
            f.detail(
                "Renew it before it expires: once it has, every request fails with `Unauthorized`.",
            )
        });
    }
    Rung::pass(
        "connectivity.client-cert.valid",
        &what,
        format!("valid until {} ({days_left} days left)", date(not_after)),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000; // 2027-01-15T08:00:00Z

    fn now() -> Timestamp {
        Timestamp::from_second(NOW).unwrap()
    }

    #[test]
    fn client_certificate_validity() {
        let expired = judge_client_certificate("admin", NOW - 400 * 86_400, NOW - 86_400, now());
        assert_eq!(expired.finding.id, "connectivity.client-cert.expired");
        assert_eq!(expired.finding.severity, Severity::Critical);
        assert!(expired.stops);
        assert_eq!(
            expired.finding.title,
            "client certificate for user `admin`: expired 2027-01-14T08:00:00Z (offline check)"
        );
        let soon = judge_client_certificate("admin", NOW - 86_400, NOW + 3 * 86_400 + 60, now());
        assert_eq!(soon.finding.id, "connectivity.client-cert.expiring");
        assert_eq!(
            soon.finding.title,
            "client certificate for user `admin`: expires 2027-01-18T08:01:00Z (3 days left)"
        );
        assert!(!soon.stops);
        let fine = judge_client_certificate("admin", NOW - 86_400, NOW + 30 * 86_400, now());
        assert_eq!(fine.finding.id, "connectivity.client-cert.valid");
        assert_eq!(fine.finding.severity, Severity::Ok);
        let early = judge_client_certificate("admin", NOW + 3600, NOW + 30 * 86_400, now());
        assert_eq!(early.finding.id, "connectivity.client-cert.not-yet-valid");
    }
}
