//! Addressing API objects by raw path, and the JSON surgery remediation needs.
//!
//! Remediations work on `serde_json::Value` rather than typed structs: a backup must
//! hold the object exactly as the server returned it (fields this build's
//! k8s-openapi does not know included), and undo must send it back the same way.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A kind of object and where it lives in the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceType {
    /// `""` for the core group.
    pub group: String,
    pub version: String,
    /// The plural resource name used in paths, e.g. `flowschemas`.
    pub plural: String,
    pub kind: String,
    pub namespaced: bool,
}

impl ResourceType {
    pub fn new(group: &str, version: &str, plural: &str, kind: &str, namespaced: bool) -> Self {
        ResourceType {
            group: group.into(),
            version: version.into(),
            plural: plural.into(),
            kind: kind.into(),
            namespaced,
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    fn prefix(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// The collection path, across all namespaces when `namespace` is `None`.
    /// `batch/jobs`, whose finished objects need more than a create to come back.
    pub fn is_jobs(&self) -> bool {
        self.group == "batch" && self.plural == "jobs"
    }

    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if self.namespaced => {
                format!("{}/namespaces/{ns}/{}", self.prefix(), self.plural)
            }
            _ => format!("{}/{}", self.prefix(), self.plural),
        }
    }

    pub fn object_path(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}/{name}", self.collection_path(namespace))
    }
}

/// One object: its type, identity and the version that was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub resource: ResourceType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The UID seen at preview time: a delete carries it as a precondition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The resourceVersion seen at preview time: deletes and patches carry it as a
    /// precondition, so an object changed since the preview is skipped, not clobbered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

impl ObjectRef {
    /// The reference to an object as returned by the server.
    pub fn of(resource: &ResourceType, object: &Value) -> Self {
        let meta = &object["metadata"];
        ObjectRef {
            resource: resource.clone(),
            namespace: meta["namespace"].as_str().map(str::to_string),
            name: meta["name"].as_str().unwrap_or_default().to_string(),
            uid: meta["uid"].as_str().map(str::to_string),
            resource_version: meta["resourceVersion"].as_str().map(str::to_string),
        }
    }

    pub fn path(&self) -> String {
        self.resource
            .object_path(self.namespace.as_deref(), &self.name)
    }

    pub fn collection_path(&self) -> String {
        self.resource.collection_path(self.namespace.as_deref())
    }

    /// `flowschema/aks-managed-apiserver-guard`, `job/team-a/nightly-1`.
    pub fn display(&self) -> String {
        let kind = self.resource.kind.to_lowercase();
        match &self.namespace {
            Some(ns) => format!("{kind}/{ns}/{}", self.name),
            None => format!("{kind}/{}", self.name),
        }
    }
}

/// Applies a JSON merge patch (RFC 7386) to a copy of `target`.
pub fn apply_merge_patch(target: &Value, patch: &Value) -> Value {
    match patch {
        Value::Object(patch_map) => {
            let mut result = match target {
                Value::Object(map) => map.clone(),
                _ => Map::new(),
            };
            for (key, value) in patch_map {
                if value.is_null() {
                    result.remove(key);
                } else {
                    let current = result.get(key).cloned().unwrap_or(Value::Null);
                    result.insert(key.clone(), apply_merge_patch(&current, value));
                }
            }
            Value::Object(result)
        }
        other => other.clone(),
    }
}

/// The merge patch that undoes `patch` on an object that was `before`: every path
/// the patch touches is set back to its old value, or removed if it had none.
/// `metadata.resourceVersion` (the precondition) is left out.
pub fn inverse_merge_patch(before: &Value, patch: &Value) -> Value {
    fn walk(before: Option<&Value>, patch: &Value) -> Value {
        match patch {
            Value::Object(patch_map) => {
                let mut out = Map::new();
                for (key, value) in patch_map {
                    let old = before.and_then(|b| b.get(key));
                    let undone = match (old, value) {
                        (Some(old), Value::Object(_)) if old.is_object() => walk(Some(old), value),
                        (Some(old), _) => old.clone(),
                        (None, _) => Value::Null,
                    };
                    out.insert(key.clone(), undone);
                }
                Value::Object(out)
            }
            _ => before.cloned().unwrap_or(Value::Null),
        }
    }
    let mut inverse = walk(Some(before), patch);
    if let Some(meta) = inverse.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
    }
    if inverse["metadata"]
        .as_object()
        .is_some_and(|m| m.is_empty())
        && let Some(map) = inverse.as_object_mut()
    {
        map.remove("metadata");
    }
    inverse
}

/// One changed leaf between two versions of an object, for the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// The leaves that differ between `before` and `after`, as dotted paths. Server
/// bookkeeping (`metadata.resourceVersion`, `managedFields`, …) is ignored.
pub fn diff(before: &Value, after: &Value) -> Vec<Change> {
    fn leaves(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, child) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    leaves(&path, child, out);
                }
            }
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    let ignored = |path: &str| {
        path.starts_with("metadata.managedFields")
            || path == "metadata.resourceVersion"
            || path == "metadata.generation"
            || path.starts_with("status")
    };
    let mut old = Vec::new();
    let mut new = Vec::new();
    leaves("", before, &mut old);
    leaves("", after, &mut new);
    let old: std::collections::BTreeMap<_, _> = old.into_iter().collect();
    let new: std::collections::BTreeMap<_, _> = new.into_iter().collect();
    let mut paths: Vec<&String> = old.keys().chain(new.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter(|p| !ignored(p))
        .filter_map(|path| {
            let (b, a) = (old.get(path), new.get(path));
            (b != a).then(|| Change {
                path: path.clone(),
                before: b.cloned(),
                after: a.cloned(),
            })
        })
        .collect()
}

/// The object as it must be sent to re-create it: server-set fields removed
/// (`uid`, `resourceVersion`, `creationTimestamp`, `managedFields`, `generation`,
/// `deletionTimestamp`, `selfLink`) and `status` dropped, since the server ignores
/// or rejects them on create.
pub fn for_recreate(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(meta) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "managedFields",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ] {
            meta.remove(field);
        }
    }
    if let Some(map) = copy.as_object_mut() {
        map.remove("status");
    }
    copy
}

/// Labels the API server generates for a Job's pods from the Job's UID and name;
/// a re-created Job gets a new UID, so old values would contradict its selector.
const GENERATED_JOB_LABELS: [&str; 4] = [
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
];

/// How to re-create a finished Job without running it again.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedJob {
    /// The Job to create: suspended, without the generated selector and labels.
    pub object: Value,
    /// The saved status, to write through the `status` subresource.
    pub status: Value,
    /// The patch that unsuspends it afterwards, if it was not suspended before.
    pub resume: Option<Value>,
}

/// A Job is finished when it has a `Complete` or `Failed` condition that is true.
pub fn job_is_finished(job: &Value) -> bool {
    job["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| matches!(c["type"].as_str(), Some("Complete" | "Failed")) && c["status"] == "True")
}

/// The create (and follow-ups) that bring a deleted, finished Job back as it was:
/// the API server rejects a selector it did not generate (unless
/// `spec.manualSelector`), and a Job created without its status would run again,
/// so it is created suspended and its status is written back before it is
/// unsuspended; the job controller leaves a finished Job alone. `None` when the
/// Job had not finished.
pub fn finished_job_for_recreate(saved: &Value) -> Option<FinishedJob> {
    if !job_is_finished(saved) {
        return None;
    }
    let mut object = for_recreate(saved);
    let manual = object["spec"]["manualSelector"].as_bool() == Some(true);
    let was_suspended = object["spec"]["suspend"].as_bool() == Some(true);
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        if !manual {
            spec.remove("selector");
        }
        spec.insert("suspend".into(), Value::Bool(true));
    }
    if !manual
        && let Some(labels) = object
            .pointer_mut("/spec/template/metadata/labels")
            .and_then(Value::as_object_mut)
    {
        for label in GENERATED_JOB_LABELS {
            labels.remove(label);
        }
    }
    Some(FinishedJob {
        object,
        status: saved["status"].clone(),
        resume: (!was_suspended).then(|| serde_json::json!({"spec": {"suspend": false}})),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flowschemas() -> ResourceType {
        ResourceType::new(
            "flowcontrol.apiserver.k8s.io",
            "v1",
            "flowschemas",
            "FlowSchema",
            false,
        )
    }

    #[test]
    fn paths_for_core_and_groups() {
        assert_eq!(
            flowschemas().object_path(None, "aks-managed-apiserver-guard"),
            "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas/aks-managed-apiserver-guard"
        );
        let events = ResourceType::new("", "v1", "events", "Event", true);
        assert_eq!(
            events.object_path(Some("kube-system"), "x"),
            "/api/v1/namespaces/kube-system/events/x"
        );
        assert_eq!(events.collection_path(None), "/api/v1/events");
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        let patch = json!({"a": "z", "c": {"f": null}});
        assert_eq!(
            apply_merge_patch(&target, &patch),
            json!({"a": "z", "c": {"d": "e"}})
        );
    }

    #[test]
    fn inverse_patch_restores_the_object() {
        let before = json!({
            "metadata": {"name": "g", "resourceVersion": "7", "labels": {"owner": "aks"}},
            "spec": {"limited": {"nominalConcurrencyShares": 5, "lendablePercent": 0}}
        });
        let patch = json!({
            "metadata": {"resourceVersion": "7", "labels": {"aks-managed-skip-update-operation": "true"}},
            "spec": {"limited": {"nominalConcurrencyShares": 40}}
        });
        let after = apply_merge_patch(&before, &patch);
        let inverse = inverse_merge_patch(&before, &patch);
        assert_eq!(
            inverse,
            json!({
                "metadata": {"labels": {"aks-managed-skip-update-operation": null}},
                "spec": {"limited": {"nominalConcurrencyShares": 5}}
            })
        );
        let restored = apply_merge_patch(&after, &inverse);
        assert_eq!(restored, before);
    }

    #[test]
    fn diff_names_changed_leaves_only() {
        let before =
            json!({"metadata": {"resourceVersion": "1", "labels": {"a": "1"}}, "spec": {"x": 1}});
        let after = json!({"metadata": {"resourceVersion": "2", "labels": {"a": "1", "b": "2"}}, "spec": {"x": 3}});
        let changes = diff(&before, &after);
        assert_eq!(
            changes,
            vec![
                Change {
                    path: "metadata.labels.b".into(),
                    before: None,
                    after: Some("\"2\"".into())
                },
                Change {
                    path: "spec.x".into(),
                    before: Some("1".into()),
                    after: Some("3".into())
                },
            ]
        );
    }

    #[test]
    fn recreate_drops_server_fields() {
        let object = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "namespace": "n", "uid": "u", "resourceVersion": "9",
                          "creationTimestamp": "t", "managedFields": [], "labels": {"a": "b"}},
            "data": {"k": "v"}, "status": {}
        });
        assert_eq!(
            for_recreate(&object),
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "x", "namespace": "n", "labels": {"a": "b"}},
                   "data": {"k": "v"}})
        );
    }
}
