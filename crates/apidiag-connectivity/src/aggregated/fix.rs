//! `--fix delete-apiservice`: delete APIServices that nothing serves any more,
//! from the objects as listed, so the core's flow backs each up, deletes it
//! with its UID and resourceVersion as preconditions, and undoes by
//! re-creating it. Only what the orphan rules allow ([`super::apiservice::orphaned`]).

use apidiag_core::object::ResourceType;
use apidiag_core::remediation::{Operation, Plan};

use super::apiservice::{ApiService, NotOrphaned, orphaned};
use super::collect::Collected;
use super::findings::DELETE_FIX;

/// Why the delete cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// `--apiservice` was not given.
    #[error(
        "name the APIServices to delete with --apiservice NAME (the orphaned finding names them)"
    )]
    NoName,
    /// No APIService of that name was listed.
    #[error("no APIService named `{0}` (`kubectl get apiservices` lists them)")]
    NotFound(String),
    /// The APIService is not orphaned by the rules.
    #[error(transparent)]
    NotOrphaned(#[from] NotOrphaned),
}

/// The APIService resource, as the fix deletes and the undo re-creates it.
pub fn resource() -> ResourceType {
    ResourceType::new(
        "apiregistration.k8s.io",
        "v1",
        "apiservices",
        "APIService",
        false,
    )
}

/// The plan deleting the orphaned APIServices `names`, or why not.
pub fn plan(collected: &Collected, names: &[String]) -> Result<Plan, PlanError> {
    if names.is_empty() {
        return Err(PlanError::NoName);
    }
    let mut operations = Vec::new();
    let mut planned: Vec<&String> = Vec::new();
    for name in names {
        // `--apiservice X --apiservice X` is one delete, not a second that fails.
        if planned.contains(&name) {
            continue;
        }
        planned.push(name);
        let object = collected
            .apiservices
            .iter()
            .find(|o| o["metadata"]["name"].as_str() == Some(name))
            .ok_or_else(|| PlanError::NotFound(name.clone()))?;
        let api = ApiService::parse(object);
        orphaned(&api, collected.seen(&api))?;
        operations.push(Operation::delete(&resource(), object));
    }
    Ok(Plan {
        check: crate::NAME.into(),
        id: DELETE_FIX.into(),
        title: format!("delete the orphaned APIService {}", names.join(", ")),
        warning: Some("the group/version leaves discovery until the APIService is re-created (`kubectl apidiag undo` does it from the backup); reinstalling what served it also re-creates it".into()),
        acknowledgements: Vec::new(),
        operations,
    })
}
