//! API server → aggregated API servers: every APIService, and the runbook's
//! steps for the failing ones. (Being written: this placeholder reads nothing.)

use apidiag_core::check::Context;
use apidiag_core::remediation::Plan;

use crate::rung::Rung;

/// What the APIService rungs read, for the delete fix to build on.
pub struct Collected {}

/// The APIService rungs.
pub async fn diagnose(_ctx: &Context) -> (Vec<Rung>, Option<Collected>) {
    (Vec::new(), None)
}

/// The plan of `--fix delete-apiservice` for the APIServices `names`.
pub fn plan_delete(_collected: &Collected, _names: &[String]) -> Result<Plan, String> {
    Err("not built yet".into())
}
