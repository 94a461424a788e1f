//! The TLS and ALPN rungs: a rustls handshake of our own (kube-rs sends no
//! ALPN, and hides the certificate error behind "invalid peer certificate"),
//! with the SNI and trust kubectl would use, offering `h2` and `http/1.1` as
//! client-go does. The verifier is wrapped so that the chain the server
//! presented is recorded even when verification fails: an "unknown
//! authority" is only useful with the issuer that was presented instead.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use apidiag_core::finding::{Evidence, Severity};
use jiff::Timestamp;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::rung::{Rung, human_duration};

/// Whom the handshake trusts, as kubectl would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The kubeconfig's CA (DER certificates).
    Kubeconfig(Vec<Vec<u8>>),
    /// No CA configured: the system's roots (kube-rs uses the platform verifier).
    System,
    /// `insecure-skip-tls-verify`: nothing is verified.
    Insecure,
}

impl Trust {
    fn label(&self) -> &'static str {
        match self {
            Trust::Kubeconfig(_) => "the kubeconfig's CA",
            Trust::System => "the system's trusted roots",
            Trust::Insecure => "nothing (insecure-skip-tls-verify)",
        }
    }
}

/// One certificate the server presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub subject: String,
    pub issuer: String,
    /// The issuer's common name, else the whole issuer.
    pub issuer_name: String,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    /// Unix seconds.
    pub not_after: i64,
}

impl Presented {
    /// The certificate in `der`, or `None` if it does not parse.
    pub fn parse(der: &[u8]) -> Option<Self> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let issuer_name = cert
            .issuer()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| cert.issuer().to_string());
        let mut dns_names = Vec::new();
        let mut ip_addresses = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(dns) => dns_names.push(dns.to_string()),
                    GeneralName::IPAddress(bytes) => {
                        if let Some(ip) = ip_of(bytes) {
                            ip_addresses.push(ip.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        Some(Presented {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            issuer_name,
            dns_names,
            ip_addresses,
            not_after: cert.validity().not_after.timestamp(),
        })
    }
}

fn ip_of(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        _ => None,
    }
}

/// A verifier that records what it was shown and what it concluded, then
/// answers as `inner` does (or accepts everything when there is none).
#[derive(Debug)]
struct Recording {
    inner: Option<Arc<dyn ServerCertVerifier>>,
    provider: Arc<CryptoProvider>,
    chain: Mutex<Vec<CertificateDer<'static>>>,
    error: Mutex<Option<rustls::Error>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = self.chain.lock().unwrap_or_else(PoisonError::into_inner);
        chain.clear();
        chain.push(end_entity.clone().into_owned());
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        let Some(inner) = &self.inner else {
            return Ok(ServerCertVerified::assertion());
        };
        let verdict =
            inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        if let Err(error) = &verdict {
            *self.error.lock().unwrap_or_else(PoisonError::into_inner) = Some(error.clone());
        }
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match &self.inner {
            Some(inner) => inner.verify_tls12_signature(message, cert, dss),
            None => rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            ),
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match &self.inner {
            Some(inner) => inner.verify_tls13_signature(message, cert, dss),
            None => rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            ),
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        match &self.inner {
            Some(inner) => inner.supported_verify_schemes(),
            None => self
                .provider
                .signature_verification_algorithms
                .supported_schemes(),
        }
    }
}

/// Why the handshake failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    UnknownIssuer,
    /// Expired, or not yet valid.
    Expired,
    NameMismatch,
    /// No handshake within the time given.
    Timeout,
    /// The trust could not be set up (no system roots), or another TLS error.
    Other(String),
}

/// What the handshake gave.
#[derive(Debug)]
pub struct Handshake {
    pub outcome: Result<Session, TlsFailure>,
    /// What the server presented, leaf first (empty if it never got that far).
    pub chain: Vec<Presented>,
    pub took: Duration,
}

/// A completed handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The protocol the server selected, if any.
    pub alpn: Option<String>,
    pub version: String,
}

fn verifier(trust: &Trust, provider: &Arc<CryptoProvider>) -> Result<Recording, String> {
    let inner: Option<Arc<dyn ServerCertVerifier>> = match trust {
        Trust::Insecure => None,
        Trust::Kubeconfig(ders) => {
            let mut roots = rustls::RootCertStore::empty();
            for der in ders {
                roots
                    .add(CertificateDer::from(der.clone()))
                    .map_err(|e| format!("the kubeconfig's CA does not load: {e}"))?;
            }
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| format!("the kubeconfig's CA does not load: {e}"))?;
            Some(verifier)
        }
        Trust::System => Some(Arc::new(
            rustls_platform_verifier::Verifier::new(provider.clone())
                .map_err(|e| format!("the system's roots do not load: {e}"))?,
        )),
    };
    Ok(Recording {
        inner,
        provider: provider.clone(),
        chain: Mutex::new(Vec::new()),
        error: Mutex::new(None),
    })
}

/// A handshake over `stream` (a TCP connection, or a tunnel through a proxy).
pub async fn handshake<S>(
    stream: S,
    trust: &Trust,
    server_name: &str,
    timeout: Duration,
) -> Handshake
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let started = Instant::now();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let failed = |why: String| Handshake {
        outcome: Err(TlsFailure::Other(why)),
        chain: Vec::new(),
        took: started.elapsed(),
    };
    let recording = match verifier(trust, &provider) {
        Ok(recording) => Arc::new(recording),
        Err(why) => return failed(why),
    };
    let name = match ServerName::try_from(server_name.to_string()) {
        Ok(name) => name,
        Err(e) => return failed(format!("`{server_name}` is not a server name: {e}")),
    };
    let config = match rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
    {
        Ok(builder) => builder,
        Err(e) => return failed(e.to_string()),
    };
    let mut config = config
        .dangerous()
        .with_custom_certificate_verifier(recording.clone())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let answer = tokio::time::timeout(timeout, connector.connect(name, stream)).await;
    let chain = recording
        .chain
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter_map(|der| Presented::parse(der))
        .collect();
    let recorded = recording
        .error
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let outcome = match answer {
        Err(_) => Err(TlsFailure::Timeout),
        Ok(Ok(tls)) => {
            let (_, connection) = tls.get_ref();
            Ok(Session {
                alpn: connection
                    .alpn_protocol()
                    .map(|p| String::from_utf8_lossy(p).into_owned()),
                version: connection
                    .protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default(),
            })
        }
        Ok(Err(error)) => {
            let rustls_error = recorded.or_else(|| {
                error
                    .get_ref()
                    .and_then(|e| e.downcast_ref::<rustls::Error>())
                    .cloned()
            });
            Err(match rustls_error {
                Some(e) => failure_of(&e),
                None => TlsFailure::Other(error.to_string()),
            })
        }
    };
    Handshake {
        outcome,
        chain,
        took: started.elapsed(),
    }
}

/// The class of a rustls error.
pub fn failure_of(error: &rustls::Error) -> TlsFailure {
    match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => TlsFailure::UnknownIssuer,
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => TlsFailure::Expired,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailure::NameMismatch
            }
            other => TlsFailure::Other(format!("invalid peer certificate: {other:?}")),
        },
        other => TlsFailure::Other(other.to_string()),
    }
}

fn time(unix: i64) -> String {
    Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| unix.to_string())
}

fn chain_table(chain: &[Presented]) -> Evidence {
    Evidence::table(
        "presented chain",
        &["SUBJECT", "ISSUER", "SANS", "NOT AFTER"],
        chain
            .iter()
            .map(|c| {
                let sans: Vec<&str> = c
                    .dns_names
                    .iter()
                    .chain(&c.ip_addresses)
                    .map(String::as_str)
                    .collect();
                vec![
                    c.subject.clone(),
                    c.issuer.clone(),
                    sans.join(", "),
                    time(c.not_after),
                ]
            })
            .collect(),
    )
}

/// Go's words for a name the leaf does not cover.
fn mismatch_words(leaf: Option<&Presented>, server_name: &str) -> String {
    let is_ip = server_name.parse::<std::net::IpAddr>().is_ok();
    match leaf {
        Some(leaf) if is_ip && leaf.ip_addresses.is_empty() => format!(
            "x509: cannot validate certificate for {server_name} because it doesn't contain any IP SANs"
        ),
        Some(leaf) => {
            let names = if is_ip {
                &leaf.ip_addresses
            } else {
                &leaf.dns_names
            };
            format!(
                "x509: certificate is valid for {}, not {server_name}",
                names.join(", ")
            )
        }
        None => format!("x509: certificate is not valid for {server_name}"),
    }
}

/// The TLS rung, and the ALPN rung after a completed handshake.
pub fn rungs(
    handshake: &Handshake,
    trust: &Trust,
    server_name: &str,
    timeout: Duration,
    now: Timestamp,
) -> Vec<Rung> {
    let what = format!("TLS handshake with {server_name}");
    let took = Some(handshake.took);
    let chain = || chain_table(&handshake.chain);
    let leaf = handshake.chain.first();
    let top_issuer = handshake
        .chain
        .last()
        .map(|c| c.issuer_name.clone())
        .unwrap_or_else(|| "(no certificate)".to_string());
    let critical = |id: &str, verdict: String, detail: String, with_took: bool| {
        Rung::new(
            id,
            Severity::Critical,
            &what,
            verdict,
            with_took.then_some(handshake.took),
        )
        .stopping()
        .with(|f| f.detail(detail).evidence(chain()))
    };
    let session = match &handshake.outcome {
        Ok(session) => session,
        Err(TlsFailure::UnknownIssuer) => {
            return vec![critical(
                "connectivity.tls.unknown-issuer",
                format!("certificate signed by unknown authority (issuer \"{top_issuer}\")"),
                format!(
                    "kubectl says: `Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority`. The server presented a chain issued by \"{top_issuer}\", which {} does not trust. A TLS-inspecting proxy or firewall on the path is a common cause (its name is usually in the issuer): exempt the API server's host from inspection. Otherwise the kubeconfig's CA is stale (the cluster CA was rotated): fetch the kubeconfig again (`az aks get-credentials`).",
                    trust.label()
                ),
                true,
            )];
        }
        Err(TlsFailure::Expired) => {
            let not_after = leaf.map(|c| time(c.not_after)).unwrap_or_default();
            return vec![critical(
                "connectivity.tls.expired",
                format!("the server's certificate expired {not_after} (or is not yet valid)"),
                format!(
                    "kubectl says: `Unable to connect to the server: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time {} is after {not_after}`. The API server's serving certificate is outside its validity (or this machine's clock is wrong: check it first). On AKS, rotate the cluster certificates (`az aks rotate-certs`).",
                    time(now.as_second())
                ),
                true,
            )];
        }
        Err(TlsFailure::NameMismatch) => {
            let words = mismatch_words(leaf, server_name);
            return vec![critical(
                "connectivity.tls.name-mismatch",
                format!("the certificate is not valid for {server_name}"),
                format!(
                    "kubectl says: `Unable to connect to the server: tls: failed to verify certificate: {words}`. The server's certificate does not name the host this kubeconfig connects to: use the API server's FQDN as the server, or set `tls-server-name` to a name the certificate carries."
                ),
                true,
            )];
        }
        Err(TlsFailure::Timeout) => {
            return vec![critical(
                "connectivity.tls.timeout",
                format!("no ServerHello in {}", human_duration(timeout)),
                "kubectl says: `Unable to connect to the server: net/http: TLS handshake timeout`. TCP connected but the handshake never completed: an overloaded API server, or a middlebox that accepts connections and forwards nothing.".to_string(),
                false,
            )];
        }
        Err(TlsFailure::Other(error)) => {
            return vec![critical(
                "connectivity.tls.failed",
                error.clone(),
                format!("The handshake failed: {error}."),
                true,
            )];
        }
    };
    let tls = match trust {
        Trust::Insecure => Rung::new(
            "connectivity.tls.not-verified",
            Severity::Warning,
            &what,
            format!("{}, certificate not verified (insecure-skip-tls-verify)", session.version),
            took,
        )
        .with(|f| {
            f.detail(format!(
                "The kubeconfig sets `insecure-skip-tls-verify`, so kubectl accepts any certificate, also one a TLS-inspecting proxy presents. The server presented a chain issued by \"{top_issuer}\". Put the cluster's CA in `certificate-authority-data` and drop the setting."
            ))
            .evidence(chain())
        }),
        _ => Rung::pass(
            "connectivity.tls.verified",
            &what,
            format!("{}, verified by {}", session.version, trust.label()),
            took,
        )
        .with(|f| f.evidence(chain())),
    };
    vec![tls, alpn(session)]
}

/// The ALPN rung: which protocol the server picked of `h2`, `http/1.1`.
pub fn alpn(session: &Session) -> Rung {
    let what = "ALPN (offered h2, http/1.1)";
    match session.alpn.as_deref() {
        Some("h2") => Rung::pass("connectivity.alpn.h2", what, "the server selected h2", None),
        Some("http/1.1") => Rung::new(
            "connectivity.alpn.http1",
            Severity::Info,
            what,
            "the server selected http/1.1",
            None,
        )
        .with(|f| f.detail("kube-apiserver offers h2 unless it was started with --disable-http2-serving; otherwise a proxy on the path terminates TLS and speaks HTTP/1.1 only. kubectl works either way.")),
        None => Rung::new(
            "connectivity.alpn.none",
            Severity::Warning,
            what,
            "no protocol selected",
            None,
        )
        .with(|f| f.detail("kube-apiserver always selects a protocol when the client offers h2: something on the path strips ALPN. kubectl still works over HTTP/1.1, but konnectivity, which tells its traffic apart by ALPN `konnectivity` on the same host and port, would fail through the same device: the API server → node tunnel breaks (kubectl logs, exec, webhooks).")),
        Some(other) => Rung::new(
            "connectivity.alpn.unexpected",
            Severity::Warning,
            what,
            format!("the server selected {other}, which was not offered"),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_errors_are_classified() {
        use rustls::Error::InvalidCertificate;
        assert_eq!(
            failure_of(&InvalidCertificate(CertificateError::UnknownIssuer)),
            TlsFailure::UnknownIssuer
        );
        assert_eq!(
            failure_of(&InvalidCertificate(CertificateError::Expired)),
            TlsFailure::Expired
        );
        assert_eq!(
            failure_of(&InvalidCertificate(CertificateError::NotValidYet)),
            TlsFailure::Expired
        );
        assert_eq!(
            failure_of(&InvalidCertificate(CertificateError::NotValidForName)),
            TlsFailure::NameMismatch
        );
        assert_eq!(
            failure_of(&rustls::Error::NoCertificatesPresented),
            TlsFailure::Other("peer sent no certificates".into())
        );
    }

    fn presented(dns: &[&str], ips: &[&str]) -> Presented {
        Presented {
            subject: "CN=kube-apiserver".into(),
            issuer: "CN=kubernetes".into(),
            issuer_name: "kubernetes".into(),
            dns_names: dns.iter().map(|s| s.to_string()).collect(),
            ip_addresses: ips.iter().map(|s| s.to_string()).collect(),
            not_after: 0,
        }
    }

    #[test]
    fn name_mismatch_in_go_words() {
        let leaf = presented(&["kubernetes", "kubernetes.default"], &["10.0.0.1"]);
        assert_eq!(
            mismatch_words(Some(&leaf), "api.example.com"),
            "x509: certificate is valid for kubernetes, kubernetes.default, not api.example.com"
        );
        assert_eq!(
            mismatch_words(Some(&leaf), "10.0.0.2"),
            "x509: certificate is valid for 10.0.0.1, not 10.0.0.2"
        );
        assert_eq!(
            mismatch_words(Some(&presented(&["a"], &[])), "10.0.0.2"),
            "x509: cannot validate certificate for 10.0.0.2 because it doesn't contain any IP SANs"
        );
    }

    #[test]
    fn alpn_verdicts() {
        let session = |alpn: Option<&str>| Session {
            alpn: alpn.map(str::to_string),
            version: "TLSv1_3".into(),
        };
        let h2 = alpn(&session(Some("h2")));
        assert_eq!(
            (h2.finding.id.as_str(), h2.finding.severity),
            ("connectivity.alpn.h2", Severity::Ok)
        );
        assert_eq!(
            h2.finding.title,
            "ALPN (offered h2, http/1.1): the server selected h2"
        );
        let http1 = alpn(&session(Some("http/1.1")));
        assert_eq!(
            (http1.finding.id.as_str(), http1.finding.severity),
            ("connectivity.alpn.http1", Severity::Info)
        );
        let none = alpn(&session(None));
        assert_eq!(
            (none.finding.id.as_str(), none.finding.severity),
            ("connectivity.alpn.none", Severity::Warning)
        );
        assert!(
            none.finding
                .detail
                .contains("konnectivity, which tells its traffic apart by ALPN `konnectivity`")
        );
    }
}
