//! A working admission webhook backend for tests: HTTPS on loopback with a
//! certificate for `127.0.0.1` from its own CA, answering every AdmissionReview
//! with `allowed: true` (the request's `uid` echoed, as the API server requires).
//!
//! HTTP/1.1 by hand, like [`crate::scripted`]: the API server's webhook client
//! sends a POST with `Content-Length` and keeps the connection alive; nothing
//! else is needed, and no HTTP server crate is worth pulling into the tests for
//! it. TLS is `tokio-rustls` with the `ring` provider the workspace already uses.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A running backend; it stops with the test process.
pub struct AdmissionServer {
    /// `https://127.0.0.1:<port>/admit`.
    pub url: String,
    /// The CA that signed its certificate, PEM: the webhook's `caBundle` (base64 of it).
    pub ca_pem: String,
    answered: Arc<AtomicU64>,
}

impl AdmissionServer {
    /// Starts the server on its own thread and runtime.
    pub fn start() -> Self {
        let answered = Arc::new(AtomicU64::new(0));
        let counter = answered.clone();
        let listening = crate::https::listen(move |tls| {
            let counter = counter.clone();
            async move {
                let _ = serve(tls, &counter).await;
            }
        });
        let (port, ca_pem) = (listening.port, listening.ca_pem);
        AdmissionServer {
            url: format!("https://127.0.0.1:{port}/admit"),
            ca_pem,
            answered,
        }
    }

    /// `caBundle` for a webhook configuration: the CA's PEM in base64.
    pub fn ca_bundle(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&self.ca_pem)
    }

    /// AdmissionReviews answered so far.
    pub fn answered(&self) -> u64 {
        self.answered.load(Ordering::Relaxed)
    }
}

/// Answers requests on one connection until it closes.
async fn serve<S>(stream: S, counter: &AtomicU64) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).await?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        let review: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let answer = serde_json::json!({
            "apiVersion": review["apiVersion"].as_str().unwrap_or("admission.k8s.io/v1"),
            "kind": "AdmissionReview",
            "response": { "uid": review["request"]["uid"], "allowed": true },
        })
        .to_string();
        counter.fetch_add(1, Ordering::Relaxed);
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        reader.get_mut().write_all(response.as_bytes()).await?;
        reader.get_mut().flush().await?;
    }
}
