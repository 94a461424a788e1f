//! `kubectl apidiag throttle --fix flowschema`: the pure planning logic.
//!
//! No network and no client: everything works on the FlowSchemas and
//! PriorityLevelConfigurations as listed from the server (`serde_json::Value`, any
//! served version). The caller lists them, passes Σ
//! `apiserver_flowcontrol_nominal_limit_seats` when it has it, runs the plan
//! through `apidiag_core::remediation`, and verifies afterwards with
//! [`first_match`] on the new object set.
//!
//! - [`matching`]: where a request lands today, exactly as kube-apiserver decides;
//! - [`spec`]: what to throttle ([`ThrottleRequest`]), and helpers from audit calls;
//! - [`plan`]: the PriorityLevelConfiguration and FlowSchema to create, or a
//!   [`Refusal`] that says what to do instead; [`ThrottlePlan::describe`] explains it;
//! - [`remove_plan`]: delete everything apidiag generated;
//! - [`seats`]: the shares ⇄ seats arithmetic.

mod generate;
pub mod matching;
mod refusal;
mod remove;
mod samples;
pub mod seats;
pub mod spec;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod plan_tests;

pub use generate::{
    AUTOUPDATE_ANNOTATION, GENERATED_LABEL, PLAN_ID, REASON_ANNOTATION, SUBJECT_ANNOTATION,
    ThrottlePlan, generated_name, is_generated, plan,
};
pub use matching::{RequestAttributes, first_match};
pub use refusal::Refusal;
pub use remove::{REMOVE_PLAN_ID, remove_plan};
pub use spec::{ObservedCall, ResourceRule, SpecError, Subject, ThrottleRequest, rules_from_calls};
