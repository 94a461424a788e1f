//! The lab's errors. Each message names what went wrong and what to do next, because
//! the person reading it is usually looking at a failed test, not at this crate.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while building, starting or driving a lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// `go` is not on `PATH`; the control plane is built from source with it.
    #[error(
        "Go toolchain not found: install Go ≥ 1.26 (https://go.dev/dl) and put `go` on PATH; \
         the lab builds kube-apiserver, kube-controller-manager and etcd from source with it"
    )]
    GoNotFound,

    /// `go/build.sh` failed; its output went to stderr above the error.
    #[error(
        "building the control plane failed ({status}); read the Go output above (build.sh streams \
         it to stderr), fix it and rerun (cache: {cache}; delete it to force a clean build)"
    )]
    BuildFailed {
        /// How build.sh exited.
        status: String,
        /// The cache directory build.sh writes to.
        cache: String,
    },

    /// build.sh claimed success but a binary is not where it said.
    #[error("build.sh reported {dir} but {missing} is missing: delete {dir} and rerun to rebuild")]
    BinaryMissing {
        /// The directory build.sh printed.
        dir: PathBuf,
        /// The binary that is not there.
        missing: PathBuf,
    },

    /// A file or directory operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the lab was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// Generating a key or certificate failed (rcgen).
    #[error("generating the lab's certificates failed: {0}")]
    Pki(#[from] rcgen::Error),

    /// A control-plane process could not be started at all.
    #[error("could not start {component} ({program}): {source}")]
    Spawn {
        /// etcd, kube-apiserver or kube-controller-manager.
        component: &'static str,
        /// The binary the lab tried to run.
        program: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A control-plane process died while the lab was starting.
    #[error("{component} exited during start-up ({status}); last lines of {log}:\n{tail}")]
    ProcessExited {
        /// etcd, kube-apiserver or kube-controller-manager.
        component: &'static str,
        /// How it exited.
        status: String,
        /// Its log file in the lab directory.
        log: PathBuf,
        /// The end of that log.
        tail: String,
    },

    /// Something did not become ready in time.
    #[error("{what} was not ready after {after:?}; look at the logs in {logs}{detail}")]
    Timeout {
        /// What the lab was waiting for.
        what: String,
        /// How long it waited.
        after: Duration,
        /// The lab's log directory.
        logs: PathBuf,
        /// The last observed state, prefixed with a separator (may be empty).
        detail: String,
    },

    /// A kubeconfig could not be loaded into a client.
    #[error("cannot build a client from {path}: {source}")]
    Kubeconfig {
        /// The kubeconfig file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A request to the lab's API server failed.
    #[error("{context}: {source}")]
    Kube {
        /// What the lab was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: kube::Error,
    },

    /// A scenario could not be applied as designed.
    #[error("scenario {scenario} failed: {message}")]
    Scenario {
        /// The scenario's name.
        scenario: &'static str,
        /// What went wrong and what to do about it.
        message: String,
    },

    /// `apidiag-lab down/status/apply` found no lab started by `up`.
    #[error(
        "no lab is running (no state file at {0}); start one with `cargo run -p apidiag-lab -- up`"
    )]
    NotRunning(PathBuf),

    /// The shared lab of this test binary failed to start earlier.
    #[error("the shared lab failed to start: {0}")]
    Shared(String),
}

impl LabError {
    /// Wraps an I/O error with what the lab was doing.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> LabError {
        let context = context.into();
        move |source| LabError::Io { context, source }
    }

    /// Wraps a kube error with what the lab was doing.
    pub(crate) fn kube(context: impl Into<String>) -> impl FnOnce(kube::Error) -> LabError {
        let context = context.into();
        move |source| LabError::Kube { context, source }
    }

    /// True when a start-up failure came from a port another process took between
    /// the lab choosing it and the component binding it, so a retry will help.
    pub(crate) fn is_port_race(&self) -> bool {
        matches!(self, LabError::ProcessExited { tail, .. } if tail.contains("address already in use"))
    }
}
