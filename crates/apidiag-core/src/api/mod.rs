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
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::cli::MannersArgs;
use crate::connection::Connection;

mod write;
pub use write::WriteMode;

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

    /// Lists a collection page by page, handing each page to `on_page` so memory is
    /// bounded by the page size, not the cluster size. On a 410 Gone (the continue
    /// token expired) it calls `on_page(ListPage::Restart)` and lists again from the
    /// start, at most three times.
    pub async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &ListQuery,
        mut on_page: impl FnMut(ListPage<T>),
    ) -> Result<ListSummary, ApiError> {
        let mut restarts = 0;
        'listing: loop {
            let mut continue_token: Option<String> = None;
            let mut summary = ListSummary::default();
            loop {
                let page = match self
                    .list_page::<T>(path, query, continue_token.as_deref())
                    .await
                {
                    Ok(page) => page,
                    Err(ApiError::Gone { .. }) if continue_token.is_some() && restarts < 3 => {
                        restarts += 1;
                        on_page(ListPage::Restart);
                        continue 'listing;
                    }
                    Err(other) => return Err(other),
                };
                summary.pages += 1;
                summary.items += page.items.len() as u64;
                summary.resource_version = page.resource_version;
                continue_token = page.continue_token;
                on_page(ListPage::Items(page.items));
                if continue_token.is_none() {
                    summary.restarts = restarts;
                    return Ok(summary);
                }
            }
        }
    }

    /// One page of a LIST, for callers that must do async work between pages (a
    /// bulk fix backs a page up before it acts on it). A 410 Gone on a continued
    /// listing is returned as [`ApiError::Gone`]: start again without a token.
    pub async fn list_page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &ListQuery,
        continue_token: Option<&str>,
    ) -> Result<OnePage<T>, ApiError> {
        let mut params: Vec<(&str, String)> = vec![("limit", self.inner.page_size.to_string())];
        if let Some(selector) = &query.label_selector {
            params.push(("labelSelector", selector.clone()));
        }
        if let Some(selector) = &query.field_selector {
            params.push(("fieldSelector", selector.clone()));
        }
        // A continued page carries its snapshot in the token; the server refuses a
        // resourceVersion next to it.
        if query.cached && continue_token.is_none() {
            params.push(("resourceVersion", "0".to_string()));
        }
        if let Some(token) = continue_token {
            params.push(("continue", token.to_string()));
        }
        let url = with_query(path, &params);
        let accept = query.metadata_only.then_some(ACCEPT_METADATA_LIST);
        let response = self.execute(Method::GET, &url, None, accept).await?;
        let page: Page<T> = decode(&url, &response.body)?;
        Ok(OnePage {
            items: page.items,
            continue_token: page.metadata.continue_.filter(|t| !t.is_empty()),
            resource_version: page.metadata.resource_version,
            remaining_item_count: page.metadata.remaining_item_count,
        })
    }

    /// Lists a collection into memory. Only for collections known to be small.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &ListQuery,
    ) -> Result<Vec<T>, ApiError> {
        let mut all = Vec::new();
        self.list(path, query, |page| match page {
            ListPage::Items(items) => all.extend(items),
            ListPage::Restart => all.clear(),
        })
        .await?;
        Ok(all)
    }

    /// GET with an `Accept` header of the caller's (metadata-only tables, say),
    /// answered raw.
    pub async fn get_raw(&self, path: &str, accept: Option<&str>) -> Result<RawResponse, ApiError> {
        self.execute(Method::GET, path, None, accept).await
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

            if status.is_success() {
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

/// The `metav1.Status` an error answer carries.
#[derive(Debug, Default, Deserialize)]
struct StatusBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    reason: String,
}

fn status_error(request: &str, path: &str, status: StatusCode, body: &[u8]) -> ApiError {
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

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// Ask for `PartialObjectMetadataList`: names, labels, owners and times, no bodies.
    pub metadata_only: bool,
    /// Accept the API server's watch cache (`resourceVersion=0`) instead of a quorum
    /// read from etcd. Cheaper for the server, possibly a moment stale. Servers before
    /// 1.34 answer a cached LIST in one piece whatever the `limit`, so use it only for
    /// collections known to be small.
    pub cached: bool,
}

impl ListQuery {
    pub fn metadata() -> Self {
        ListQuery {
            metadata_only: true,
            ..Default::default()
        }
    }
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = Some(selector.into());
        self
    }
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.field_selector = Some(selector.into());
        self
    }
    pub fn cached(mut self) -> Self {
        self.cached = true;
        self
    }
}

/// One step of a paginated listing.
pub enum ListPage<T> {
    Items(Vec<T>),
    /// The listing starts again from the beginning: forget what was seen.
    Restart,
}

/// One page of a listing.
#[derive(Debug)]
pub struct OnePage<T> {
    pub items: Vec<T>,
    /// The token for the next page; `None` on the last page.
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    /// How many objects follow this page; the server only says so for listings
    /// without selectors.
    pub remaining_item_count: Option<i64>,
}

/// What a listing took.
#[derive(Debug, Clone, Default)]
pub struct ListSummary {
    pub pages: u64,
    pub items: u64,
    pub restarts: u32,
    pub resource_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Page<T> {
    #[serde(default)]
    metadata: ListMeta,
    /// An empty `PartialObjectMetadataList` comes as `"items": null` (a Go nil
    /// slice), not `[]`.
    #[serde(default = "Vec::new", deserialize_with = "null_as_empty")]
    items: Vec<T>,
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// An item of a metadata-only list.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialObjectMetadata {
    #[serde(default)]
    pub metadata: ObjectMeta,
}

/// A token bucket that hands out slots in order, so concurrent checks share the
/// rate fairly: each caller reserves the next slot and sleeps until it comes.
struct TokenBucket {
    state: std::sync::Mutex<Bucket>,
}

struct Bucket {
    qps: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    fn new(qps: f64, burst: u32) -> Self {
        let (qps, burst) = Self::sane(qps, burst);
        TokenBucket {
            state: std::sync::Mutex::new(Bucket {
                qps,
                burst,
                tokens: burst,
                at: Instant::now(),
            }),
        }
    }

    fn sane(qps: f64, burst: u32) -> (f64, f64) {
        let qps = if qps.is_finite() && qps > 0.0 {
            qps
        } else {
            1.0
        };
        (qps, f64::from(burst.max(1)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// New rate from now on; slots already reserved keep their time.
    fn set_rate(&self, qps: f64, burst: u32) {
        let (qps, burst) = Self::sane(qps, burst);
        let mut state = self.lock();
        state.qps = qps;
        state.burst = burst;
        state.tokens = state.tokens.min(burst);
    }

    async fn acquire(&self) {
        let wait = {
            let mut state = self.lock();
            let now = Instant::now();
            let elapsed = now.duration_since(state.at).as_secs_f64();
            state.tokens = (state.tokens + elapsed * state.qps).min(state.burst);
            state.at = now;
            state.tokens -= 1.0;
            if state.tokens < 0.0 {
                Some(Duration::from_secs_f64(-state.tokens / state.qps))
            } else {
                None
            }
        };
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
        }
    }
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

    #[test]
    fn an_empty_metadata_list_has_null_items() {
        // Regression: kube-apiserver 1.37 answers an empty PartialObjectMetadataList
        // with `"items":null`, which failed to decode.
        let page: Page<PartialObjectMetadata> = decode(
            "/api/v1/pods",
            br#"{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"7"},"items":null}"#,
        )
        .unwrap();
        assert!(page.items.is_empty());
        let page: Page<PartialObjectMetadata> = decode("/x", br#"{"metadata":{}}"#).unwrap();
        assert!(page.items.is_empty());
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
