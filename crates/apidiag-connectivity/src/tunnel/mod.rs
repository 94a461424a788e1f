//! API server → nodes: the tunnel agents and a probe per sampled node.
//! (Being written: this placeholder reads nothing.)

use apidiag_core::check::Context;
use apidiag_core::remediation::Plan;

use crate::rung::Rung;

/// The tunnel's flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TunnelArgs {}

/// What the tunnel rungs read, for the restart fix to build on.
pub struct Collected {}

/// The tunnel rungs.
pub async fn diagnose(_ctx: &Context, _args: &TunnelArgs) -> (Vec<Rung>, Option<Collected>) {
    (Vec::new(), None)
}

/// The plan of `--fix restart-tunnel`.
pub fn plan_restart(_collected: &Collected) -> Result<Plan, String> {
    Err("not built yet".into())
}
