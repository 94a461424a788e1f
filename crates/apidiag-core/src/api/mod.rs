//! The only door to the API server: polite, paginated, and counting what it costs.
//!
//! A diagnostic run happens while the API server is already struggling, so this
//! client must never become the offending client the seeds warn about. It:
//! - spaces requests with a token bucket (`--qps`, `--burst`) shared by every check in
//!   the run, and stops at a total budget (`--max-requests`);
//! - honours `429 Retry-After` by holding *all* of the run's requests, not only the
//!   one that was refused, and backs off on repeated 429s;
//! - paginates LISTs (`limit`/`continue`), asks for metadata only when bodies are not
//!   needed, and restarts a listing whose continue token expired (410 Gone);
//! - counts every request it sends and every byte it receives, so each report can end
//!   with what it cost.
//!
//! Paths are raw API paths (`/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas/x`):
//! the checks choose API versions by discovery, which typed clients cannot do.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::cli::MannersArgs;
use crate::connection::Connection;

mod error;
mod limiter;
mod list;
mod write;

pub use error::ApiError;
use error::status_error;
use limiter::TokenBucket;
pub use list::{ListPage, ListQuery, ListSummary, OnePage, PartialObjectMetadata};
pub use write::WriteMode;

/// What a run has cost the API server so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Response body bytes received, after gzip decompression (the server compresses
    /// answers above 128 KiB, so the wire carries less).
    pub bytes_received: u64,
    /// Request body bytes sent.
    pub bytes_sent: u64,
    /// Responses that were 429 Too Many Requests.
    pub throttled: u64,
}

impl std::fmt::Display for Cost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} API request{}, {} received",
            self.requests,
            if self.requests == 1 { "" } else { "s" },
            human_bytes(self.bytes_received)
        )?;
        if self.throttled > 0 {
            write!(f, ", {} throttled (429)", self.throttled)?;
        }
        Ok(())
    }
}

/// `1536` → `1.5 KiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The polite client. Cheap to clone; clones share the budget, the rate limit and
/// the counters, which is what makes "one shared request budget" true when all
/// checks run at once.
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    client: kube::Client,
    server: String,
    limiter: TokenBucket,
    /// `--max-requests`, raised by [`ApiClient::raise_budget`] when a consented fix
    /// needs one request per object it changes.
    max_requests: AtomicU64,
    page_size: u32,
    requests: AtomicU64,
    bytes_received: AtomicU64,
    bytes_sent: AtomicU64,
    throttled: AtomicU64,
    /// Set by a 429 with Retry-After: nobody sends before this instant.
    hold_until: Mutex<Option<Instant>>,
    /// `--request-timeout`, for each request whole.
    request_timeout: Option<Duration>,
    /// Set when a request got no answer within `request_timeout`: the server (or
    /// the etcd behind it) has stalled, and every further request would wait as
    /// long and add to its queue. The rest of the run sends nothing more.
    stalled: std::sync::atomic::AtomicBool,
}

/// How many times one request is sent again after a 429 before giving up.
const MAX_THROTTLE_RETRIES: u32 = 6;
/// How many times an idempotent read is sent again after a 5xx or a dropped connection.
const MAX_SERVER_ERROR_RETRIES: u32 = 2;
/// A Retry-After longer than this is capped: an SRE is waiting.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// The `Accept` header that makes a LIST return `PartialObjectMetadataList`.
pub const ACCEPT_METADATA_LIST: &str =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/// Which answers a request takes as its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// 2xx; anything else is an error (5xx retried for GETs).
    Success,
    /// 2xx and 5xx as they come (health endpoints).
    AnyStatus,
}

/// A raw answer.
pub struct RawResponse {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl ApiClient {
    pub fn new(connection: &Connection, manners: &MannersArgs) -> Self {
        ApiClient {
            inner: Arc::new(Inner {
                client: connection.client.clone(),
                server: connection.server.clone(),
                limiter: TokenBucket::new(manners.qps, manners.burst),
                max_requests: AtomicU64::new(manners.max_requests),
                page_size: manners.page_size.max(1),
                requests: AtomicU64::new(0),
                bytes_received: AtomicU64::new(0),
                bytes_sent: AtomicU64::new(0),
                throttled: AtomicU64::new(0),
                hold_until: Mutex::new(None),
                request_timeout: connection.request_timeout,
                stalled: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// Whether a request of this run got no answer within `--request-timeout`
    /// (from then on, nothing more is sent).
    pub fn stalled(&self) -> bool {
        self.inner.stalled.load(Ordering::SeqCst)
    }

    /// The API server URL.
    pub fn server(&self) -> &str {
        &self.inner.server
    }

    /// The page size for LISTs.
    pub fn page_size(&self) -> u32 {
        self.inner.page_size
    }

    /// Changes the request rate for the rest of the run. The diagnosis stays at
    /// `--qps`; a consented bulk fix (thousands of deletes) raises it explicitly,
    /// with its own bounded, adaptive concurrency on top.
    pub fn set_rate(&self, qps: f64, burst: u32) {
        self.inner.limiter.set_rate(qps, burst);
    }

    /// Allows `extra` more requests than `--max-requests`: a fix the user consented
    /// to needs one request per object, which the diagnosis budget does not foresee.
    pub fn raise_budget(&self, extra: u64) {
        self.inner.max_requests.fetch_add(extra, Ordering::Relaxed);
    }

    /// Requests the run may still send before `--max-requests` is spent.
    pub fn budget_left(&self) -> u64 {
        self.inner
            .max_requests
            .load(Ordering::Relaxed)
            .saturating_sub(self.inner.requests.load(Ordering::Relaxed))
    }

    /// What the run has cost so far.
    pub fn cost(&self) -> Cost {
        Cost {
            requests: self.inner.requests.load(Ordering::Relaxed),
            bytes_received: self.inner.bytes_received.load(Ordering::Relaxed),
            bytes_sent: self.inner.bytes_sent.load(Ordering::Relaxed),
            throttled: self.inner.throttled.load(Ordering::Relaxed),
        }
    }

    /// GET and decode JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let response = self.execute(Method::GET, path, None, None).await?;
        decode(path, &response.body)
    }

    /// GET and decode JSON; `None` when the object does not exist.
    pub async fn get_opt<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, ApiError> {
        match self.get(path).await {
            Ok(value) => Ok(Some(value)),
            Err(ApiError::NotFound { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// GET a text endpoint such as `/metrics`.
    pub async fn get_text(&self, path: &str) -> Result<String, ApiError> {
        let response = self
            .execute(
                Method::GET,
                path,
                None,
                Some("text/plain;version=0.0.4,*/*"),
            )
            .await?;
        String::from_utf8(response.body).map_err(|e| ApiError::Decode {
            path: path.to_string(),
            message: e.to_string(),
        })
    }

    /// GET with an `Accept` header of the caller's (metadata-only tables, say),
    /// answered raw.
    pub async fn get_raw(&self, path: &str, accept: Option<&str>) -> Result<RawResponse, ApiError> {
        self.execute(Method::GET, path, None, accept).await
    }

    /// GET a health endpoint (`/readyz?verbose`, `/livez?verbose`), whose answer
    /// is the finding whatever its status: a failing check answers 500 with the
    /// list of checks, so a 5xx is returned as it came, not retried or turned
    /// into an error. 429s are still honoured and retried.
    pub async fn get_health(&self, path: &str) -> Result<RawResponse, ApiError> {
        self.send(
            Method::GET,
            path,
            None,
            Some("text/plain"),
            Answer::AnyStatus,
        )
        .await
    }

    /// POST a self-subject review (who am I, may I): a virtual resource that
    /// answers the request and stores nothing, so it needs no backup and no dry
    /// run. Only those reviews are accepted here; every other write goes through
    /// [`WriteMode`](write::WriteMode).
    pub async fn review(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ApiError> {
        let is_review = (path.starts_with("/apis/authentication.k8s.io/")
            || path.starts_with("/apis/authorization.k8s.io/"))
            && path
                .rsplit('/')
                .next()
                .is_some_and(|r| r.starts_with("selfsubject"));
        if !is_review {
            return Err(ApiError::Decode {
                path: path.to_string(),
                message: "not a self-subject review: only those are sent without a backup".into(),
            });
        }
        let bytes = serde_json::to_vec(body).map_err(|e| encode_error(path, e))?;
        let response = self
            .execute(Method::POST, path, Some((bytes, "application/json")), None)
            .await?;
        decode(path, &response.body)
    }

    /// Sends one request, waiting for the rate limiter and any Retry-After hold,
    /// retrying 429s (always safe: APF refuses before the request is handled) and,
    /// for GETs only, 5xx answers and dropped connections.
    pub(crate) async fn execute(
        &self,
        method: Method,
        path: &str,
        body: Option<(Vec<u8>, &'static str)>,
        accept: Option<&str>,
    ) -> Result<RawResponse, ApiError> {
        self.send(method, path, body, accept, Answer::Success).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(Vec<u8>, &'static str)>,
        accept: Option<&str>,
        wanted: Answer,
    ) -> Result<RawResponse, ApiError> {
        let request_name = format!("{method} {path}");
        let mut throttle_attempts = 0;
        let mut error_attempts = 0;
        loop {
            if self.stalled() {
                return Err(self.unreachable(format!(
                    "{request_name} not sent: an earlier request got no answer within --request-timeout"
                )));
            }
            self.wait_turn().await?;
            let mut builder = Request::builder()
                .method(method.clone())
                .uri(path)
                .header(header::ACCEPT, accept.unwrap_or("application/json"));
            let body_bytes = match &body {
                Some((bytes, content_type)) => {
                    builder = builder.header(header::CONTENT_TYPE, *content_type);
                    bytes.clone()
                }
                None => Vec::new(),
            };
            self.inner
                .bytes_sent
                .fetch_add(body_bytes.len() as u64, Ordering::Relaxed);
            let request = builder
                .body(kube::client::Body::from(body_bytes))
                .map_err(|e| ApiError::Decode {
                    path: path.to_string(),
                    message: format!("invalid request: {e}"),
                })?;

            let answer = async {
                let response = self.inner.client.send(request).await?;
                let status = response.status();
                let headers = response.headers().clone();
                let body = response.into_body().collect().await;
                Ok::<_, kube::Error>((status, headers, body))
            };
            let answer = match self.inner.request_timeout {
                Some(limit) => match tokio::time::timeout(limit, answer).await {
                    Ok(answer) => answer,
                    Err(_) => {
                        self.inner.stalled.store(true, Ordering::SeqCst);
                        return Err(self.unreachable(format!(
                            "{request_name}: no answer within {limit:?} (--request-timeout); nothing more is sent this run"
                        )));
                    }
                },
                None => answer.await,
            };
            let (status, headers, body) = match answer {
                Ok(answer) => answer,
                Err(error) => {
                    if method == Method::GET && error_attempts < MAX_SERVER_ERROR_RETRIES {
                        error_attempts += 1;
                        tokio::time::sleep(backoff(error_attempts)).await;
                        continue;
                    }
                    return Err(self.unreachable(error.to_string()));
                }
            };
            let retry_after = headers
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = match body {
                Ok(collected) => collected.to_bytes().to_vec(),
                Err(error) => {
                    if method == Method::GET && error_attempts < MAX_SERVER_ERROR_RETRIES {
                        error_attempts += 1;
                        tokio::time::sleep(backoff(error_attempts)).await;
                        continue;
                    }
                    return Err(self.unreachable(format!(
                        "connection lost while reading the answer: {error}"
                    )));
                }
            };
            self.inner
                .bytes_received
                .fetch_add(body.len() as u64, Ordering::Relaxed);

            if status.is_success() || (wanted == Answer::AnyStatus && status.is_server_error()) {
                return Ok(RawResponse { status, body });
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                self.inner.throttled.fetch_add(1, Ordering::Relaxed);
                throttle_attempts += 1;
                if throttle_attempts > MAX_THROTTLE_RETRIES {
                    return Err(ApiError::Throttled {
                        request: request_name,
                        attempts: throttle_attempts,
                    });
                }
                let wait = retry_after
                    .unwrap_or_else(|| backoff(throttle_attempts))
                    .min(MAX_RETRY_AFTER)
                    .max(Duration::from_millis(100));
                self.hold(wait).await;
                continue;
            }
            if status.is_server_error()
                && method == Method::GET
                && error_attempts < MAX_SERVER_ERROR_RETRIES
            {
                error_attempts += 1;
                tokio::time::sleep(
                    retry_after
                        .unwrap_or_else(|| backoff(error_attempts))
                        .min(MAX_RETRY_AFTER),
                )
                .await;
                continue;
            }
            return Err(status_error(&request_name, path, status, &body));
        }
    }

    fn unreachable(&self, message: String) -> ApiError {
        ApiError::Unreachable {
            server: self.inner.server.clone(),
            message,
        }
    }

    /// Takes a request slot: checks the budget, honours a Retry-After hold, then the
    /// token bucket.
    async fn wait_turn(&self) -> Result<(), ApiError> {
        let sent = self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let limit = self.inner.max_requests.load(Ordering::Relaxed);
        if sent >= limit {
            self.inner.requests.fetch_sub(1, Ordering::Relaxed);
            return Err(ApiError::BudgetSpent { limit });
        }
        let hold = *self.inner.hold_until.lock().await;
        if let Some(until) = hold {
            let now = Instant::now();
            if until > now {
                tokio::time::sleep(until - now).await;
            }
        }
        self.inner.limiter.acquire().await;
        Ok(())
    }

    async fn hold(&self, wait: Duration) {
        let until = Instant::now() + wait;
        {
            let mut hold = self.inner.hold_until.lock().await;
            if hold.is_none_or(|current| current < until) {
                *hold = Some(until);
            }
        }
        tokio::time::sleep(wait).await;
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1u64 << attempt.min(6)))
}

fn encode_error(path: &str, error: serde_json::Error) -> ApiError {
    ApiError::Decode {
        path: path.to_string(),
        message: format!("could not encode the request body: {error}"),
    }
}

fn decode<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Decode {
        path: path.to_string(),
        message: e.to_string(),
    })
}

/// Appends query parameters, percent-encoding the values (selectors contain `=`, `,`, `!`).
pub fn with_query(path: &str, params: &[(&str, String)]) -> String {
    let mut url = path.to_string();
    for (i, (key, value)) in params.iter().enumerate() {
        let separator = if i == 0 && !path.contains('?') {
            '?'
        } else {
            '&'
        };
        url.push(separator);
        url.push_str(key);
        url.push('=');
        url.push_str(&percent_encode(value));
    }
    url
}

fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            with_query(
                "/apis/batch/v1/jobs",
                &[
                    ("limit", "500".into()),
                    ("fieldSelector", "status.successful=1".into())
                ]
            ),
            "/apis/batch/v1/jobs?limit=500&fieldSelector=status.successful%3D1"
        );
        assert_eq!(
            with_query(
                "/api/v1/pods?x=1",
                &[("labelSelector", "a!=b,c in (d)".into())]
            ),
            "/api/v1/pods?x=1&labelSelector=a%21%3Db%2Cc%20in%20%28d%29"
        );
    }

    #[test]
    fn bytes_read_like_people_do() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(310 * 1024), "310 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn cost_line() {
        let cost = Cost {
            requests: 42,
            bytes_received: 310 * 1024,
            bytes_sent: 0,
            throttled: 0,
        };
        assert_eq!(cost.to_string(), "42 API requests, 310 KiB received");
    }

    #[test]
    fn forbidden_and_gone_are_typed() {
        let body = br#"{"kind":"Status","message":"flowschemas.flowcontrol.apiserver.k8s.io is forbidden: User \"u\" cannot list","reason":"Forbidden","code":403}"#;
        match status_error("GET /x", "/x", StatusCode::FORBIDDEN, body) {
            ApiError::Forbidden { message, .. } => assert!(message.contains("cannot list")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            status_error("GET /x", "/x", StatusCode::GONE, b"{}"),
            ApiError::Gone { .. }
        ));
        match status_error(
            "GET /x",
            "/x",
            StatusCode::BAD_GATEWAY,
            b"<html>oops</html>",
        ) {
            ApiError::Status { code, message, .. } => {
                assert_eq!(code, 502);
                assert!(message.contains("oops"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn token_bucket_spaces_requests_after_the_burst() {
        let bucket = TokenBucket::new(10.0, 2);
        let start = tokio::time::Instant::now();
        for _ in 0..4 {
            bucket.acquire().await;
        }
        // Two from the burst, then two at 10 per second: about 0.2 s. The bucket
        // measures with std's clock, which a paused tokio clock does not move, so
        // allow for the sleeps alone.
        assert!(
            start.elapsed() >= Duration::from_millis(150),
            "{:?}",
            start.elapsed()
        );
    }
}
