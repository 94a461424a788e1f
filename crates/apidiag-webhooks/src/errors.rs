//! What a webhook failure message says: the cause after `Post "…": `, as the API
//! server and Go's net/http and crypto/tls write it (research §2), and which
//! webhook it names.
//!
//! Messages come from Events (`FailedCreate` `Error creating: …` by the
//! controllers), status causes and logs. The order of the tests matters: the
//! guide's tunnel text ends in `broken pipe`, and `net/http: TLS handshake timeout`
//! is a hanging backend, not a certificate problem.

/// The class of a webhook failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureCause {
    /// The webhook answered and said no: not a connectivity problem.
    Rejected {
        message: String,
    },
    /// The control-plane-to-node tunnel (`tunnel-uds`, `proxysocket`,
    /// konnectivity's `No agent available`): see `kubectl apidiag connectivity`.
    Tunnel,
    /// The request's own deadline ran out in the chain (504), `Ignore` webhooks too.
    RequestDeadline,
    /// `service "x" not found`: the webhook's Service is gone (an orphan).
    ServiceNotFound {
        service: String,
    },
    /// `no endpoints available for service "x"`: no ready endpoint with the port name.
    NoEndpoints {
        service: String,
    },
    /// `no service port N found for service "x"`.
    NoServicePort {
        service: String,
    },
    /// Headless or ExternalName Service where the routing mode cannot use it.
    UnroutableService,
    /// `connection refused`: nothing listens (or kube-proxy rejects a Service with
    /// no endpoints, the ClusterIP-mode face of "no endpoints").
    ConnectionRefused,
    /// The call hung for its whole timeout: dropped SYNs, a hung or slow webhook.
    Timeout,
    /// `x509:` or a TLS verification failure: caBundle or serving certificate.
    Tls {
        detail: String,
    },
    /// `EOF`, `connection reset by peer`, `broken pipe`: the server dropped us.
    ConnectionDropped,
    /// The webhook answered something that is not a valid AdmissionReview.
    InvalidResponse,
    /// `does not support dry run` (sideEffects Some/Unknown under `--dry-run`).
    DryRunUnsupported,
    /// A CEL matchCondition failed to evaluate (403 under Fail).
    MatchConditionError,
    Other,
}

impl FailureCause {
    /// A short name for tables: `connection refused`, `tls`, …
    pub fn label(&self) -> &'static str {
        match self {
            FailureCause::Rejected { .. } => "rejected",
            FailureCause::Tunnel => "tunnel",
            FailureCause::RequestDeadline => "request deadline (504)",
            FailureCause::ServiceNotFound { .. } => "service not found",
            FailureCause::NoEndpoints { .. } => "no endpoints",
            FailureCause::NoServicePort { .. } => "no service port",
            FailureCause::UnroutableService => "unroutable service",
            FailureCause::ConnectionRefused => "connection refused",
            FailureCause::Timeout => "timeout",
            FailureCause::Tls { .. } => "tls",
            FailureCause::ConnectionDropped => "connection dropped",
            FailureCause::InvalidResponse => "invalid response",
            FailureCause::DryRunUnsupported => "no dry run",
            FailureCause::MatchConditionError => "match condition error",
            FailureCause::Other => "other",
        }
    }

    /// Whether the webhook's backend could not be reached (the webhook decided
    /// nothing): what makes a fail-closed webhook block requests.
    pub fn is_unreachable(&self) -> bool {
        !matches!(
            self,
            FailureCause::Rejected { .. }
                | FailureCause::DryRunUnsupported
                | FailureCause::MatchConditionError
                | FailureCause::RequestDeadline
                | FailureCause::Other
        )
    }
}

/// A classified failure message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookFailure {
    /// The webhook named by the message, if any.
    pub webhook: Option<String>,
    pub cause: FailureCause,
    /// The URL the API server posted to (`https://svc.ns.svc:443/path?timeout=10s`).
    pub url: Option<String>,
    /// The `?timeout=Ns` in that URL: the time left for the call. Below the
    /// webhook's timeoutSeconds, the request's budget was nearly spent already.
    pub timeout_seconds: Option<u32>,
}

/// Classifies one message.
pub fn classify(message: &str) -> WebhookFailure {
    WebhookFailure {
        webhook: webhook_name(message),
        cause: cause(message),
        url: posted_url(message),
        timeout_seconds: posted_url(message).and_then(|url| {
            let (_, query) = url.split_once("timeout=")?;
            let digits: String = query.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        }),
    }
}

fn cause(message: &str) -> FailureCause {
    let lower = message.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    if let Some(rest) = after_quoted(message, "admission webhook \"")
        && let Some(reason) = rest.strip_prefix(" denied the request")
    {
        let reason = reason.trim_start_matches(':').trim();
        return FailureCause::Rejected {
            message: reason.to_string(),
        };
    }
    if has("does not support dry run") {
        return FailureCause::DryRunUnsupported;
    }
    if has("tunnel-uds") || has("proxysocket") || has("no agent available") {
        return FailureCause::Tunnel;
    }
    if let Some(service) = quoted_after(message, "no endpoints available for service \"") {
        return FailureCause::NoEndpoints { service };
    }
    if has("no service port")
        && let Some(service) = quoted_after(message, "found for service \"")
    {
        return FailureCause::NoServicePort { service };
    }
    if let Some(service) = quoted_after(message, "service \"")
        && has(&format!(
            "service \"{}\" not found",
            service.to_ascii_lowercase()
        ))
    {
        return FailureCause::ServiceNotFound { service };
    }
    if has("cannot route to service with clusterip \"none\"") || has("unsupported service type") {
        return FailureCause::UnroutableService;
    }
    if has("connection refused") {
        return FailureCause::ConnectionRefused;
    }
    if has("match conditions") && (has("failing closed") || has("evaluat")) {
        return FailureCause::MatchConditionError;
    }
    // The 504 says "context deadline exceeded" too: check it before the timeouts.
    if has("request did not complete within requested timeout") {
        return FailureCause::RequestDeadline;
    }
    if has("context deadline exceeded")
        || has("i/o timeout")
        || has("client.timeout exceeded")
        || has("tls handshake timeout")
        || has("request canceled while waiting for connection")
    {
        return FailureCause::Timeout;
    }
    let tls_at = [lower.find("tls: "), lower.find("x509:")]
        .into_iter()
        .flatten()
        .min();
    if let Some(at) = tls_at {
        return FailureCause::Tls {
            detail: message[at..].trim().to_string(),
        };
    }
    let eof = message.trim_end().ends_with("EOF") || message.contains(": EOF");
    if eof || has("connection reset by peer") || has("broken pipe") {
        return FailureCause::ConnectionDropped;
    }
    if has("received invalid webhook response") || has("webhook response was absent") {
        return FailureCause::InvalidResponse;
    }
    FailureCause::Other
}

/// The webhook a message names: `failed calling webhook "<name>"`,
/// `admission webhook "<name>" denied …`, or a log line's `failing closed <name>:`.
pub fn webhook_name(message: &str) -> Option<String> {
    for prefix in ["failed calling webhook \"", "admission webhook \""] {
        if let Some(name) = quoted_after(message, prefix) {
            return Some(name);
        }
    }
    for prefix in ["failing closed ", "failing open "] {
        if let Some(at) = message.find(prefix) {
            let rest = &message[at + prefix.len()..];
            let name = rest.split(':').next().unwrap_or_default().trim();
            if !name.is_empty() && !name.contains(' ') {
                return Some(name.to_string());
            }
        }
    }
    None
}

/// The quoted word after `prefix` (which ends with the opening quote).
fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let at = message.find(prefix)? + prefix.len();
    let rest = &message[at..];
    let end = rest.find('"')?;
    Some(rest[..end].to_string()).filter(|s| !s.is_empty())
}

/// What follows the closing quote of the quoted word after `prefix`.
fn after_quoted<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let at = message.find(prefix)? + prefix.len();
    let rest = &message[at..];
    let end = rest.find('"')?;
    Some(&rest[end + 1..])
}

fn posted_url(message: &str) -> Option<String> {
    quoted_after(message, "Post \"")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUIDE: &str = "Internal error occurred: failed calling webhook \"mutate.kyverno.svc-fail\": failed to call webhook: Post \"https://kyverno-svc.kyverno.svc:443/mutate?timeout=10s\": write unix @->/tunnel-uds/proxysocket: write: broken pipe";

    fn of(cause: &str) -> FailureCause {
        classify(&format!(
            "Error creating: Internal error occurred: failed calling webhook \"w.example.com\": failed to call webhook: Post \"https://svc.ns.svc:443/v?timeout=7s\": {cause}"
        ))
        .cause
    }

    #[test]
    fn the_guide_text_is_a_tunnel_failure() {
        let failure = classify(GUIDE);
        assert_eq!(failure.cause, FailureCause::Tunnel);
        assert_eq!(failure.webhook.as_deref(), Some("mutate.kyverno.svc-fail"));
        assert_eq!(
            failure.url.as_deref(),
            Some("https://kyverno-svc.kyverno.svc:443/mutate?timeout=10s")
        );
        assert_eq!(failure.timeout_seconds, Some(10));
        assert!(failure.cause.is_unreachable());
        assert_eq!(of("No agent available"), FailureCause::Tunnel);
    }

    #[test]
    fn service_and_endpoint_causes_name_the_service() {
        assert_eq!(
            of("service \"kyverno-svc\" not found"),
            FailureCause::ServiceNotFound {
                service: "kyverno-svc".into()
            }
        );
        assert_eq!(
            of("no endpoints available for service \"volcano-admission-service\""),
            FailureCause::NoEndpoints {
                service: "volcano-admission-service".into()
            }
        );
        assert_eq!(
            of("no service port 8443 found for service \"svc\""),
            FailureCause::NoServicePort {
                service: "svc".into()
            }
        );
        assert_eq!(
            of("cannot route to service with ClusterIP \"None\""),
            FailureCause::UnroutableService
        );
    }

    #[test]
    fn network_causes() {
        assert_eq!(
            of("dial tcp 10.0.0.1:443: connect: connection refused"),
            FailureCause::ConnectionRefused
        );
        assert_eq!(of("context deadline exceeded"), FailureCause::Timeout);
        assert_eq!(
            of("dial tcp 192.0.2.1:443: i/o timeout"),
            FailureCause::Timeout
        );
        assert_eq!(
            of("net/http: TLS handshake timeout"),
            FailureCause::Timeout,
            "a hang, not a certificate"
        );
        assert_eq!(
            of(
                "net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)"
            ),
            FailureCause::Timeout
        );
        assert_eq!(of("EOF"), FailureCause::ConnectionDropped);
        assert_eq!(
            of("read tcp 1.2.3.4:5->6.7.8.9:443: read: connection reset by peer"),
            FailureCause::ConnectionDropped
        );
    }

    #[test]
    fn tls_keeps_the_detail() {
        let cause =
            of("tls: failed to verify certificate: x509: certificate signed by unknown authority");
        assert_eq!(cause, FailureCause::Tls { detail: "tls: failed to verify certificate: x509: certificate signed by unknown authority".into() });
        assert!(matches!(
            of(
                "x509: certificate has expired or is not yet valid: current time 2026 is after 2025"
            ),
            FailureCause::Tls { .. }
        ));
        assert_eq!(cause.label(), "tls");
    }

    #[test]
    fn rejections_and_answers_are_not_connectivity() {
        let failure = classify(
            "admission webhook \"validate.kyverno.svc-fail\" denied the request: policy require-labels: label app is required",
        );
        assert_eq!(
            failure.webhook.as_deref(),
            Some("validate.kyverno.svc-fail")
        );
        assert_eq!(
            failure.cause,
            FailureCause::Rejected {
                message: "policy require-labels: label app is required".into()
            }
        );
        assert!(!failure.cause.is_unreachable());
        // A rejection message that itself mentions a timeout is still a rejection.
        assert!(matches!(
            classify("admission webhook \"x\" denied the request: timeout too long").cause,
            FailureCause::Rejected { .. }
        ));
        assert_eq!(
            classify("admission webhook \"x\" does not support dry run").cause,
            FailureCause::DryRunUnsupported
        );
        assert_eq!(
            of("received invalid webhook response: webhook response was absent"),
            FailureCause::InvalidResponse
        );
    }

    #[test]
    fn the_request_deadline_is_not_a_webhook_timeout() {
        let failure = classify(
            "Timeout: request did not complete within requested timeout - context deadline exceeded",
        );
        assert_eq!(failure.cause, FailureCause::RequestDeadline);
        assert_eq!(failure.webhook, None);
    }

    #[test]
    fn log_lines_name_the_webhook() {
        assert_eq!(webhook_name("Failed calling webhook, failing closed mutate.kyverno.svc-fail: failed calling webhook").as_deref(),
            Some("mutate.kyverno.svc-fail"));
        assert_eq!(
            webhook_name("Failed calling webhook, failing open w.example.com: x").as_deref(),
            Some("w.example.com")
        );
        assert_eq!(webhook_name("nothing here"), None);
        assert_eq!(
            classify("something else entirely").cause,
            FailureCause::Other
        );
    }

    #[test]
    fn a_timeout_below_the_configured_one_is_visible() {
        assert_eq!(classify("failed calling webhook \"w\": failed to call webhook: Post \"https://a/?timeout=2s\": context deadline exceeded").timeout_seconds, Some(2));
    }
}
