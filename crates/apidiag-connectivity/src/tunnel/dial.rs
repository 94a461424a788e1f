//! What a `pods/log` read that did not reach the kubelet says, by the API
//! server's words. When the API server cannot dial the kubelet it answers 500 with
//! the dial error as its message and no reason, which kubectl prints as `Error
//! from server: <message>`; a kubelet's own error is passed on with a reason
//! (BadRequest, InternalError), so it proves the path. The words tell the failure
//! modes apart (research §3: Go's dialer, konnectivity-client, konnectivity-server).
//!
//! The read asks for `application/json, */*` as kubectl does: with `text/plain`
//! alone the API server cannot encode its error and answers 406 instead.

use apidiag_core::api::ApiError;

/// How long one log read may take: the API server's own kubelet dial waits
/// longer (30 s), so a black-holed node shows here as no answer.
pub const LOG_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How one log read ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The kubelet answered with a log line.
    Replied { code: u16 },
    /// The API server answered with an error: a dial failure, or the kubelet's own
    /// error passed on.
    Failed {
        code: u16,
        reason: String,
        message: String,
    },
    /// No answer within [`LOG_TIMEOUT`].
    NoAnswer,
    /// This identity may not read pod logs.
    Forbidden(String),
    /// The pod went away between the list and the read.
    Gone,
    /// The API server itself was not reachable (see the server rungs).
    Unreachable(String),
}

impl Outcome {
    /// The outcome of a log read as the client returned it.
    pub fn of(answer: Result<apidiag_core::api::RawResponse, ApiError>) -> Outcome {
        match answer {
            Ok(response) => Outcome::Replied {
                code: response.status.as_u16(),
            },
            Err(ApiError::Status {
                code,
                reason,
                message,
                ..
            }) => Outcome::Failed {
                code,
                reason,
                message,
            },
            Err(ApiError::Forbidden { message, .. }) => Outcome::Forbidden(message),
            Err(ApiError::NotFound { .. }) => Outcome::Gone,
            Err(other) => Outcome::Unreachable(other.first_line()),
        }
    }
}

/// What a probe of one node found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The kubelet answered: the path works.
    Ok,
    /// `dial tcp <ip>:10250: i/o timeout` (or no answer in 10 s): packets dropped.
    Timeout,
    /// `connect: connection refused`: the node answers, no kubelet listens there.
    Refused,
    /// `No agent available`: konnectivity-server has no agent for that node.
    NoAgent,
    /// `server gave HTTP response to HTTPS client`: something else listens on 10250.
    NotKubelet,
    /// konnectivity-client dial failures: `tunnel closed`, `dial timeout`, `dial closed`.
    TunnelClosed,
    /// The API server's socket to its konnectivity-server is broken (control plane side).
    ControlPlaneSocket,
    /// `no route to host` / `network is unreachable`.
    Unreachable,
    /// A failure with other words.
    Failed,
    /// Could not be probed: not allowed, pod gone, API server unreachable.
    NotProbed,
}

impl Verdict {
    /// The finding id's last part.
    pub fn id(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Timeout => "timeout",
            Verdict::Refused => "refused",
            Verdict::NoAgent => "no-agent",
            Verdict::NotKubelet => "not-kubelet",
            Verdict::TunnelClosed => "tunnel-closed",
            Verdict::ControlPlaneSocket => "control-plane-socket",
            Verdict::Unreachable => "unreachable",
            Verdict::Failed => "failed",
            Verdict::NotProbed => "not-probed",
        }
    }

    /// A failure of the path to this node (not an inconclusive probe).
    pub fn is_failure(self) -> bool {
        !matches!(self, Verdict::Ok | Verdict::NotProbed)
    }
}

/// The verdict on a dial error's message, by the words the API server and
/// konnectivity print (research §3 table).
pub fn classify_message(message: &str) -> Verdict {
    let has = |words: &str| message.contains(words);
    if has("No agent available") {
        Verdict::NoAgent
    } else if has("/tunnel-uds/") {
        Verdict::ControlPlaneSocket
    } else if has("tunnel closed") || has("dial timeout") || has("dial closed") {
        Verdict::TunnelClosed
    } else if has("i/o timeout") || has("connection timed out") {
        Verdict::Timeout
    } else if has("connection refused") {
        Verdict::Refused
    } else if has("server gave HTTP response to HTTPS client") {
        Verdict::NotKubelet
    } else if has("no route to host") || has("network is unreachable") {
        Verdict::Unreachable
    } else {
        Verdict::Failed
    }
}

/// Whether an error that names no dial failure is the kubelet's own, passed on by
/// the API server: it turns a kubelet's 4xx into the same status with the
/// kubelet's text (a 400 `BadRequest` such as `container "x" in pod "y" is
/// waiting to start`), and a kubelet's 500 into `InternalError`. Its own dial
/// failures carry no reason, which the client reports as the code's phrase.
fn kubelet_answered(code: u16, reason: &str) -> bool {
    (400..500).contains(&code) || reason == "InternalError"
}

/// The verdict on a log read.
pub fn classify(outcome: &Outcome) -> Verdict {
    match outcome {
        Outcome::Replied { .. } => Verdict::Ok,
        Outcome::Failed {
            code,
            reason,
            message,
        } => match classify_message(message) {
            Verdict::Failed if kubelet_answered(*code, reason) => Verdict::Ok,
            verdict => verdict,
        },
        Outcome::NoAnswer => Verdict::Timeout,
        Outcome::Forbidden(_) | Outcome::Gone | Outcome::Unreachable(_) => Verdict::NotProbed,
    }
}
