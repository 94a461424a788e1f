//! The client path, on sockets of its own: kubeconfig, DNS, TCP, TLS, ALPN.
//! (Being written: this placeholder tries nothing.)

use apidiag_core::connection::Resolved;

use crate::rung::Rung;

/// The client path's flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PathArgs {}

/// The client rungs, in order, up to the first hard failure.
pub async fn client_path(_resolved: &Resolved, _args: &PathArgs) -> Vec<Rung> {
    Vec::new()
}
