//! Test fixtures: the objects a current kube-apiserver creates at start-up
//! (`pkg/apis/flowcontrol/bootstrap/default.go`, 1.34 and later: no
//! endpoint-controller and workload-leader-election schemas), as listed in v1.

use serde_json::Value;

use super::matching::RequestAttributes;

fn items(text: &str) -> Vec<Value> {
    let list: Value = serde_json::from_str(text).expect("fixture is JSON");
    list["items"]
        .as_array()
        .cloned()
        .expect("fixture has items")
}

/// The mandatory and suggested FlowSchemas.
pub(crate) fn bootstrap_schemas() -> Vec<Value> {
    items(include_str!("testdata/flowschemas.json"))
}

/// The mandatory and suggested PriorityLevelConfigurations (Σ shares 245).
pub(crate) fn bootstrap_levels() -> Vec<Value> {
    items(include_str!("testdata/prioritylevels.json"))
}

pub(crate) fn request(
    user: &str,
    groups: &[String],
    verb: &str,
    api_group: &str,
    resource: &str,
    namespace: Option<&str>,
) -> RequestAttributes {
    RequestAttributes {
        user: user.into(),
        groups: groups.to_vec(),
        verb: verb.into(),
        api_group: api_group.into(),
        resource: resource.into(),
        namespace: namespace.map(str::to_string),
        non_resource_path: None,
    }
}
