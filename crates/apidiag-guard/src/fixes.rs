//! The guide's fixes (Solution 4): label both guard objects so AKS keeps a
//! change, raise the guard's concurrency shares, or delete it once the clients are
//! fixed. Plans are built from what the diagnosis read, never from a second read.

use serde_json::{Value, json};

use apidiag_core::flowcontrol::PriorityLevel;
use apidiag_core::object::ResourceType;
use apidiag_core::remediation::{Acknowledgement, Operation, Plan};

use crate::diagnosis::{GUARD, GuardState, SKIP_UPDATE_LABEL, has_skip_label};

/// The guide's fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fix {
    /// Label both objects `aks-managed-skip-update-operation=true`, so AKS keeps your changes
    SkipUpdate,
    /// Raise the guard's concurrency shares (and label it, or AKS would undo the change)
    RaiseShares,
    /// Delete both objects; only after the offending clients were fixed
    Delete,
}

impl Fix {
    pub fn id(self) -> &'static str {
        match self {
            Fix::SkipUpdate => "guard.skip-update",
            Fix::RaiseShares => "guard.raise-shares",
            Fix::Delete => "guard.delete",
        }
    }
}

/// Why a fix cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the guard is not applied: there is nothing to fix")]
    NotApplied,
    #[error("the guard's PriorityLevelConfiguration is absent, so there are no shares to raise")]
    NoPriorityLevel,
    #[error("--shares must be at least 1 and above the current {current}")]
    Shares { current: i64 },
}

/// Builds the plan for a fix from what the diagnosis read.
pub fn plan(
    state: &GuardState,
    fix: Fix,
    shares: Option<i64>,
    clients_fixed: bool,
) -> Result<Plan, PlanError> {
    let Some(flowcontrol) = &state.api else {
        return Err(PlanError::NotApplied);
    };
    if state.flow_schema.is_none() && state.priority_level.is_none() {
        return Err(PlanError::NotApplied);
    }
    let objects: Vec<(ResourceType, &Value)> = [
        (flowcontrol.flow_schemas(), state.flow_schema.as_ref()),
        (flowcontrol.priority_levels(), state.priority_level.as_ref()),
    ]
    .into_iter()
    .filter_map(|(resource, object)| object.map(|o| (resource, o)))
    .collect();
    let label_patch = json!({"metadata": {"labels": {SKIP_UPDATE_LABEL: "true"}}});

    let (title, warning, acknowledgements, operations) = match fix {
        Fix::SkipUpdate => (
            format!("label the FlowSchema and PriorityLevelConfiguration `{GUARD}` with {SKIP_UPDATE_LABEL}=true"),
            Some("with the label, AKS no longer manages these objects: your settings stay until you change or delete them".to_string()),
            Vec::new(),
            objects
                .iter()
                .filter(|(_, object)| !has_skip_label(object))
                .map(|(resource, object)| Operation::patch(resource, object, label_patch.clone()))
                .collect::<Vec<_>>(),
        ),
        Fix::RaiseShares => {
            let Some(pl) = &state.priority_level else {
                return Err(PlanError::NoPriorityLevel);
            };
            let current = PriorityLevel::from_value(pl, flowcontrol).shares.unwrap_or(30);
            let target = shares.unwrap_or((current * 2).max(10));
            if target < 1 || target <= current {
                return Err(PlanError::Shares { current });
            }
            let mut operations = Vec::new();
            for (resource, object) in &objects {
                let mut change = if has_skip_label(object) { json!({}) } else { label_patch.clone() };
                if resource.plural == "prioritylevelconfigurations" {
                    change["spec"] = json!({"limited": {flowcontrol.shares_field(): target}});
                }
                if change.as_object().is_some_and(|m| !m.is_empty()) {
                    operations.push(Operation::patch(resource, object, change));
                }
            }
            (
                format!("raise {}'s {} from {current} to {target} (and label both objects so AKS keeps it)", GUARD, flowcontrol.shares_field()),
                Some("more shares let throttled clients load the API server again: fix the offending clients first (`kubectl apidiag throttle`)".to_string()),
                Vec::new(),
                operations,
            )
        }
        Fix::Delete => (
            format!("delete the FlowSchema and PriorityLevelConfiguration `{GUARD}`"),
            Some("avoid scaling the cluster back to its original size until client call patterns are optimised: premature scaling may crash the API server again (guide, Solution 4)".to_string()),
            vec![Acknowledgement {
                question: "Were the clients that overloaded the API server identified and fixed (`kubectl apidiag throttle`)?".into(),
                flag: "--clients-fixed".into(),
                given: clients_fixed,
            }],
            objects
                .iter()
                .map(|(resource, object)| Operation::delete(resource, object))
                .collect(),
        ),
    };
    Ok(Plan {
        check: "guard".into(),
        id: fix.id().into(),
        title,
        warning,
        acknowledgements,
        operations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use apidiag_core::flowcontrol::FlowControlApi;
    use apidiag_core::remediation::Action;

    fn state(labelled: bool) -> GuardState {
        let labels = if labelled {
            json!({SKIP_UPDATE_LABEL: "true"})
        } else {
            json!({})
        };
        GuardState {
            api: Some(FlowControlApi {
                version: "v1".into(),
            }),
            flow_schema: Some(
                json!({"metadata": {"name": GUARD, "uid": "fs-uid", "resourceVersion": "10", "labels": labels},
                "spec": {"priorityLevelConfiguration": {"name": GUARD}}}),
            ),
            priority_level: Some(
                json!({"metadata": {"name": GUARD, "uid": "pl-uid", "resourceVersion": "11", "labels": labels},
                "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 5}}}),
            ),
        }
    }

    #[test]
    fn skip_update_labels_only_what_is_unlabelled() {
        let plan = plan(&state(false), Fix::SkipUpdate, None, false).unwrap();
        assert_eq!(plan.operations.len(), 2);
        assert_eq!(
            plan.operations[0].target.resource_version.as_deref(),
            Some("10")
        );
        let plan = super::plan(&state(true), Fix::SkipUpdate, None, false).unwrap();
        assert!(plan.operations.is_empty());
    }

    #[test]
    fn raise_shares_uses_the_served_field_and_labels() {
        let plan = plan(&state(false), Fix::RaiseShares, Some(40), false).unwrap();
        let pl_patch = plan
            .operations
            .iter()
            .find(|o| o.target.resource.plural == "prioritylevelconfigurations")
            .map(|o| o.action.clone())
            .unwrap();
        assert_eq!(
            pl_patch,
            Action::Patch {
                patch: json!({"metadata": {"labels": {SKIP_UPDATE_LABEL: "true"}}, "spec": {"limited": {"nominalConcurrencyShares": 40}}})
            }
        );
        assert!(matches!(
            super::plan(&state(false), Fix::RaiseShares, Some(3), false),
            Err(PlanError::Shares { current: 5 })
        ));
        // Default: double the current shares.
        let plan = super::plan(&state(true), Fix::RaiseShares, None, false).unwrap();
        assert_eq!(plan.operations.len(), 1);
        assert!(plan.title.contains("from 5 to 10"), "{}", plan.title);
    }

    #[test]
    fn delete_needs_the_clients_fixed_acknowledgement() {
        let plan = plan(&state(false), Fix::Delete, None, false).unwrap();
        assert_eq!(plan.operations.len(), 2);
        assert_eq!(plan.acknowledgements.len(), 1);
        assert!(!plan.acknowledgements[0].given);
        assert!(plan.warning.as_deref().unwrap_or("").contains("scaling"));
        assert_eq!(plan.operations[1].target.uid.as_deref(), Some("pl-uid"));
    }

    #[test]
    fn nothing_to_fix_without_a_guard() {
        let empty = GuardState {
            api: Some(FlowControlApi {
                version: "v1".into(),
            }),
            ..Default::default()
        };
        assert!(matches!(
            plan(&empty, Fix::Delete, None, true),
            Err(PlanError::NotApplied)
        ));
    }
}
