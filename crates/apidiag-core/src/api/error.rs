//! Why a request got no usable answer, and what to do next.

use http::StatusCode;
use serde::Deserialize;

/// Why an API request did not give an answer. Variants a check can act on are
/// separate: `Forbidden` becomes "could not check: missing permission", `NotFound`
/// becomes "absent", `Unreachable` points to the connectivity check.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// No connection to the API server (refused, reset, DNS, TLS) or no answer in time.
    #[error("cannot reach the API server at {server}: {message}")]
    Unreachable { server: String, message: String },
    /// The credentials were refused (expired token, wrong certificate).
    #[error("the API server refused the credentials (401): {message}")]
    Unauthorized { message: String },
    /// RBAC denied the request.
    #[error("missing permission: {message}")]
    Forbidden {
        /// The request, as `VERB PATH`.
        request: String,
        message: String,
    },
    /// The object or endpoint does not exist.
    #[error("not found: {path}")]
    NotFound { path: String },
    /// A precondition (UID, resourceVersion) failed or the object already exists.
    #[error("conflict on {path}: {message}")]
    Conflict { path: String, message: String },
    /// The continue token of a LIST expired; the listing must start again.
    #[error("the list continuation for {path} expired (410 Gone)")]
    Gone { path: String },
    /// The server kept answering 429 after every retry.
    #[error("the API server kept throttling {request} (429) after {attempts} attempts")]
    Throttled { request: String, attempts: u32 },
    /// Any other error status.
    #[error("{request} failed: {code} {reason}: {message}")]
    Status {
        request: String,
        code: u16,
        reason: String,
        message: String,
    },
    /// The answer was not the JSON that was expected.
    #[error("unexpected answer from {path}: {message}")]
    Decode { path: String, message: String },
    /// A create succeeded and a step after it (a restored Job's status, its
    /// resume) failed: the object exists, with this UID, as created.
    #[error("{path}: created, but {step} failed ({message}); the object was left as created")]
    CreatedButIncomplete {
        path: String,
        step: String,
        message: String,
        uid: Option<String>,
    },
    /// The run used up `--max-requests`.
    #[error("request budget of {limit} spent")]
    BudgetSpent { limit: u64 },
}

impl ApiError {
    /// What to do next, when there is something to say: kept apart from the
    /// message so a report can show it as its own line without parsing text.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ApiError::Unreachable { .. } => Some(
                "`kubectl apidiag connectivity` checks the path to the API server; --request-timeout allows slower answers",
            ),
            ApiError::Unauthorized { .. } => Some(
                "refresh the credentials in your kubeconfig (e.g. `az aks get-credentials`), then retry",
            ),
            ApiError::Throttled { .. } => {
                Some("the server is overloaded; `kubectl apidiag throttle` shows who is loading it")
            }
            ApiError::BudgetSpent { .. } => {
                Some("raise --max-requests, or run one check at a time")
            }
            _ => None,
        }
    }

    /// The message's first line, for a report's list of gaps (a server's message
    /// may span lines).
    pub fn first_line(&self) -> String {
        self.to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::NotFound { .. })
    }
    pub fn is_forbidden(&self) -> bool {
        matches!(self, ApiError::Forbidden { .. })
    }
}

/// The `metav1.Status` an error answer carries.
#[derive(Debug, Default, Deserialize)]
struct StatusBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    reason: String,
}

pub(super) fn status_error(request: &str, path: &str, status: StatusCode, body: &[u8]) -> ApiError {
    let parsed: StatusBody = serde_json::from_slice(body).unwrap_or_else(|_| StatusBody {
        message: String::from_utf8_lossy(body).chars().take(300).collect(),
        reason: String::new(),
    });
    let message = if parsed.message.is_empty() {
        status.canonical_reason().unwrap_or("").to_string()
    } else {
        parsed.message
    };
    match status {
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized { message },
        StatusCode::FORBIDDEN => ApiError::Forbidden {
            request: request.to_string(),
            message,
        },
        StatusCode::NOT_FOUND => ApiError::NotFound {
            path: path.to_string(),
        },
        StatusCode::CONFLICT => ApiError::Conflict {
            path: path.to_string(),
            message,
        },
        StatusCode::GONE => ApiError::Gone {
            path: path.to_string(),
        },
        _ => ApiError::Status {
            request: request.to_string(),
            code: status.as_u16(),
            reason: if parsed.reason.is_empty() {
                status.canonical_reason().unwrap_or("").to_string()
            } else {
                parsed.reason
            },
            message,
        },
    }
}
