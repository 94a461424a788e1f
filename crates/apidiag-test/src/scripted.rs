//! A scripted API server for faults the real kube-apiserver will not produce on
//! demand: a 429 with `Retry-After` in the middle of a run, a 500 in the middle of
//! a paginated LIST, a connection closed mid-answer.
//!
//! It speaks plain HTTP/1.1 on loopback (kubeconfigs accept `http://` servers) and
//! answers each `METHOD /path` (query string ignored) with the next reply scripted
//! for it. A request nobody scripted gets a 500 and is recorded, and a scripted reply
//! nobody asked for is reported by [`ScriptedServer::unused`], so a test fails both
//! when the client sends too much and when an expected call never comes.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Close the connection after sending only part of the body.
    pub cut_short: bool,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string(),
            cut_short: false,
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: body.to_string(),
            cut_short: false,
        }
    }

    /// A `metav1.Status` answer, as the API server sends for errors.
    pub fn status(code: u16, reason: &str, message: &str) -> Self {
        Reply::json(
            code,
            serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": message, "reason": reason, "code": code}),
        )
    }

    /// 429 with a `Retry-After` of `seconds`, as APF sends.
    pub fn too_many_requests(seconds: u64) -> Self {
        let mut reply = Reply::status(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
        );
        reply
            .headers
            .push(("Retry-After".into(), seconds.to_string()));
        reply
    }

    pub fn not_found() -> Self {
        Reply::status(404, "NotFound", "not found")
    }

    pub fn cut_short(mut self) -> Self {
        self.cut_short = true;
        self
    }
}

#[derive(Default)]
struct State {
    script: HashMap<String, VecDeque<Reply>>,
    requests: Vec<(String, String)>,
    unexpected: Vec<String>,
}

/// A running scripted server; it stops when dropped.
pub struct ScriptedServer {
    port: u16,
    state: Arc<Mutex<State>>,
    /// Dropping it stops the server's thread.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl ScriptedServer {
    /// Starts a server answering the scripted `("GET /version", reply)` pairs, each once,
    /// in the order given per path. It runs on a thread of its own, so it can be
    /// started from synchronous tests and from inside a tokio runtime alike.
    pub fn start(script: Vec<(&str, Reply)>) -> Self {
        let mut state = State::default();
        for (key, reply) in script {
            state
                .script
                .entry(key.to_string())
                .or_default()
                .push_back(reply);
        }
        let state = Arc::new(Mutex::new(state));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let shared = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the scripted server");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a loopback port");
                let _ = port_tx.send(listener.local_addr().expect("bound address").port());
                let accept = async {
                    while let Ok((stream, _)) = listener.accept().await {
                        let state = shared.clone();
                        tokio::spawn(async move {
                            let _ = serve(stream, state).await;
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
        });
        let port = port_rx.recv().expect("the scripted server started");
        ScriptedServer {
            port,
            state,
            _stop: stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Writes a kubeconfig pointing at this server into `dir`.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("scripted-kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: scripted\nclusters:\n- name: scripted\n  cluster:\n    server: {}\ncontexts:\n- name: scripted\n  context:\n    cluster: scripted\n    user: scripted\nusers:\n- name: scripted\n  user:\n    token: scripted-token\n",
            self.url()
        );
        std::fs::write(&path, text).expect("kubeconfig written");
        path
    }

    /// Every request received, as `METHOD /path?query` with its user agent.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.lock().requests.clone()
    }

    /// Requests that had no scripted reply.
    pub fn unexpected(&self) -> Vec<String> {
        self.lock().unexpected.clone()
    }

    /// Scripted replies nobody asked for.
    pub fn unused(&self) -> Vec<String> {
        self.lock()
            .script
            .iter()
            .filter(|(_, replies)| !replies.is_empty())
            .map(|(key, replies)| format!("{key} ({} left)", replies.len()))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

async fn serve(stream: tokio::net::TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut content_length = 0usize;
        let mut agent = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => content_length = value.trim().parse().unwrap_or(0),
                    "user-agent" => agent = value.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body).await?;

        let path = target.split('?').next().unwrap_or_default();
        let key = format!("{method} {path}");
        let reply = {
            let mut state = match state.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            state.requests.push((format!("{method} {target}"), agent));
            match state.script.get_mut(&key).and_then(VecDeque::pop_front) {
                Some(reply) => reply,
                None => {
                    state.unexpected.push(format!("{method} {target}"));
                    Reply::status(500, "InternalError", &format!("unscripted request {key}"))
                }
            }
        };
        let mut head = format!(
            "HTTP/1.1 {} Scripted\r\nContent-Length: {}\r\n",
            reply.status,
            reply.body.len()
        );
        for (name, value) in &reply.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        write.write_all(head.as_bytes()).await?;
        if reply.cut_short {
            write
                .write_all(&reply.body.as_bytes()[..reply.body.len() / 2])
                .await?;
            write.shutdown().await?;
            return Ok(());
        }
        write.write_all(reply.body.as_bytes()).await?;
        write.flush().await?;
    }
}
