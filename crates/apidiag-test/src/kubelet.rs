//! A kubelet for tests, as far as the API server's `pods/log` needs one: HTTPS on
//! loopback (a Node's `status.daemonEndpoints.kubeletEndpoint.Port` points the
//! API server at it), answering `GET /containerLogs/<ns>/<pod>/<container>` with
//! one log line and anything else with 404, and recording the paths it was asked.
//!
//! HTTP/1.1 by hand, like [`crate::admission`]: the API server's kubelet client
//! sends plain GETs and offers no ALPN the server accepts here, so nothing more is
//! needed. The API server of the lab is started without
//! `--kubelet-certificate-authority`, so it does not verify this certificate,
//! and without `--kubelet-client-certificate`, so it presents none.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// What the kubelet answers to a log request.
pub const LOG_LINE: &str = "lab kubelet: one log line\n";

/// A running kubelet; it stops with the test process.
pub struct FakeKubelet {
    pub port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeKubelet {
    /// Starts the kubelet on its own thread and runtime.
    pub fn start() -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let port = crate::https::listen(move |tls| {
            let seen = seen.clone();
            async move {
                let _ = serve(tls, &seen).await;
            }
        })
        .port;
        FakeKubelet { port, requests }
    }

    /// The request targets (path and query) asked so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// Answers GETs on one connection until it closes.
async fn serve<S>(stream: S, seen: &Mutex<Vec<String>>) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        // Headers: none matters, and a GET has no body.
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).await? == 0 || header.trim_end().is_empty() {
                break;
            }
        }
        let target = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        if let Ok(mut seen) = seen.lock() {
            seen.push(target.clone());
        }
        let (status, body) = if target.starts_with("/containerLogs/") {
            ("200 OK", LOG_LINE)
        } else {
            ("404 Not Found", "404 page not found\n")
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        reader.get_mut().write_all(response.as_bytes()).await?;
        reader.get_mut().flush().await?;
    }
}
