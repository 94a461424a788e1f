//! `throttle --remove`: delete every FlowSchema and PriorityLevelConfiguration
//! apidiag generated, found by label (the audit2rbac pattern), so a throttle is
//! undone without remembering its name.
//!
//! Schemas go first, the reverse of creation: a level deleted first would leave
//! its schema dangling (and reported as such) until the schema's delete.
//! Objects the API server maintains (`apf.kubernetes.io/autoupdate-spec`) are never
//! touched, even if someone labelled one.

use serde_json::Value;

use apidiag_core::flowcontrol::FlowControlApi;
use apidiag_core::object::ResourceType;
use apidiag_core::remediation::{Operation, Plan};

use super::generate::{AUTOUPDATE_ANNOTATION, is_generated};
use super::matching::name;
use super::refusal::Refusal;

/// The removal plan's id.
pub const REMOVE_PLAN_ID: &str = "throttle.flowschema-remove";

/// Plans deleting every generated FlowSchema, then every generated level; each
/// delete carries the object seen now (`before`), for the backup and undo.
pub fn remove_plan(
    schemas: &[Value],
    levels: &[Value],
    api: &FlowControlApi,
) -> Result<Plan, Refusal> {
    let mut operations = deletes(&api.flow_schemas(), schemas);
    let schema_count = operations.len();
    operations.extend(deletes(&api.priority_levels(), levels));
    if operations.is_empty() {
        return Err(Refusal::NothingToRemove);
    }
    let level_count = operations.len() - schema_count;
    Ok(Plan {
        check: "throttle".into(),
        id: REMOVE_PLAN_ID.into(),
        title: format!(
            "delete the {schema_count} FlowSchema(s) and {level_count} PriorityLevelConfiguration(s) apidiag generated (label apidiag.io/generated=true)"
        ),
        warning: Some(
            "the throttled clients return to the FlowSchemas that caught them before, without a cap".into(),
        ),
        acknowledgements: Vec::new(),
        operations,
    })
}

fn deletes(resource: &ResourceType, objects: &[Value]) -> Vec<Operation> {
    let mut ours: Vec<&Value> = objects
        .iter()
        .filter(|o| is_generated(o))
        .filter(|o| !o["metadata"]["annotations"][AUTOUPDATE_ANNOTATION].is_string())
        .collect();
    ours.sort_by_key(|o| name(o));
    ours.into_iter()
        .map(|object| Operation::delete(resource, object))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::fixtures::{bootstrap_levels, bootstrap_schemas};
    use apidiag_core::remediation::Action;
    use serde_json::json;

    fn generated(name: &str, uid: &str) -> Value {
        json!({"metadata": {"name": name, "uid": uid, "resourceVersion": "7",
            "labels": {"apidiag.io/generated": "true"}}})
    }

    #[test]
    fn deletes_schemas_then_levels_by_label() {
        let api = FlowControlApi {
            version: "v1".into(),
        };
        let mut schemas = bootstrap_schemas();
        schemas.push(generated("apidiag-throttle-b", "fs-b"));
        schemas.push(generated("apidiag-throttle-a", "fs-a"));
        // Labelled by hand, but maintained by the server: left alone.
        let mut global = schemas[9].clone();
        global["metadata"]["labels"] = json!({"apidiag.io/generated": "true"});
        schemas[9] = global;
        let mut levels = bootstrap_levels();
        levels.push(generated("apidiag-throttle-a", "pl-a"));
        let plan = remove_plan(&schemas, &levels, &api).expect("something to remove");
        let targets: Vec<String> = plan.operations.iter().map(|o| o.target.display()).collect();
        assert_eq!(
            targets,
            [
                "flowschema/apidiag-throttle-a",
                "flowschema/apidiag-throttle-b",
                "prioritylevelconfiguration/apidiag-throttle-a"
            ]
        );
        let first = &plan.operations[0];
        assert_eq!(first.action, Action::Delete { propagation: None });
        assert_eq!(first.target.uid.as_deref(), Some("fs-a"));
        assert_eq!(first.before.as_ref().map(name), Some("apidiag-throttle-a"));
        assert_eq!(plan.id, REMOVE_PLAN_ID);
        assert_eq!(plan.check, "throttle");
    }

    #[test]
    fn nothing_generated_is_a_refusal() {
        let api = FlowControlApi {
            version: "v1".into(),
        };
        let err = remove_plan(&bootstrap_schemas(), &bootstrap_levels(), &api).unwrap_err();
        assert_eq!(err, Refusal::NothingToRemove);
    }
}
