//! Faults of the control plane's own processes, for apidiag's fault suite: a
//! crashed kube-apiserver that comes back on the same etcd data, and an etcd that
//! stops answering without closing its connections (SIGSTOP), which is what a
//! stalled disk or an overloaded etcd looks like from the API server.

use std::time::{Duration, Instant};

use rustix::process::Signal;

use super::Lab;
use crate::LabError;
use crate::kubeconfig::{self, ClientOptions};
use crate::process::signal;

/// How long a restarted kube-apiserver may take to be ready again.
const RESTART_TIMEOUT: Duration = Duration::from_secs(90);

impl Lab {
    /// Kills kube-apiserver with SIGKILL, as a crash or an OOM kill would: no
    /// graceful shutdown, connections reset. etcd and its data stay.
    pub fn kill_apiserver(&mut self) {
        if let Some(position) = self
            .processes
            .iter()
            .position(|p| p.component == "kube-apiserver")
        {
            let mut process = self.processes.remove(position);
            process.kill();
        }
    }

    /// Starts kube-apiserver again, on the same port, certificates and etcd data
    /// (after [`Lab::kill_apiserver`]), and waits until `/readyz` says ok.
    pub async fn restart_apiserver(&mut self) -> Result<(), LabError> {
        self.kill_apiserver();
        let (program, args) = self.apiserver.clone().ok_or_else(|| LabError::Io {
            context: "restarting kube-apiserver".into(),
            source: std::io::Error::other("the lab never started one"),
        })?;
        let process = self.spawn("kube-apiserver", &program, args)?;
        // Before kube-controller-manager, so that `stop` still kills in reverse order.
        let position = self
            .processes
            .iter()
            .position(|p| p.component == "etcd")
            .map_or(0, |p| p + 1);
        self.processes.insert(position, process);
        let client = kubeconfig::client(
            &self.layout.admin_kubeconfig,
            ClientOptions {
                user_agent: Some("apidiag-lab/restart"),
                no_retry: true,
            },
        )
        .await?;
        let started = Instant::now();
        loop {
            self.check_processes()?;
            let request = http::Request::get("/readyz")
                .body(Vec::new())
                .map_err(super::http_error)?;
            let last = match client.request_text(request).await {
                Ok(body) if body.trim() == "ok" => return Ok(()),
                Ok(body) => body,
                Err(e) => e.to_string(),
            };
            if started.elapsed() > RESTART_TIMEOUT {
                return Err(LabError::Timeout {
                    what: "kube-apiserver /readyz after a restart".into(),
                    after: RESTART_TIMEOUT,
                    logs: self.layout.logs.clone(),
                    detail: format!("; last answer: {}", last.trim()),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stops (SIGSTOP) or resumes (SIGCONT) etcd. Stopped, it keeps its sockets
    /// open and answers nothing: requests that reach etcd hang until their
    /// timeouts. Dropping the lab kills it either way.
    pub fn pause_etcd(&self, paused: bool) -> bool {
        let sig = if paused { Signal::STOP } else { Signal::CONT };
        self.processes
            .iter()
            .filter(|p| p.component == "etcd")
            .all(|p| signal(p.pid(), sig))
    }
}
