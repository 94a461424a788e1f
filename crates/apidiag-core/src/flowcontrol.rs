//! API Priority and Fairness objects: FlowSchema and PriorityLevelConfiguration.
//!
//! `flowcontrol.apiserver.k8s.io` has been served as v1beta1 (≤1.25), v1beta2
//! (1.23–1.28, shares field `assuredConcurrencyShares`), v1beta3 (1.26–1.31, renamed
//! `nominalConcurrencyShares`) and v1 (1.29+; the only one from 1.32). The guide's
//! YAML is v1beta2 and fails on a current cluster, so every read and write here goes
//! through the version discovery says the server serves, with that version's field
//! names. Objects stay `serde_json::Value` so any of those versions reads the same.

use serde::Deserialize;
use serde_json::Value;

use crate::api::{ApiClient, ApiError};
use crate::object::ResourceType;

pub const GROUP: &str = "flowcontrol.apiserver.k8s.io";

/// Versions apidiag understands, newest first.
const KNOWN_VERSIONS: [&str; 4] = ["v1", "v1beta3", "v1beta2", "v1beta1"];

/// The flowcontrol API as this server serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowControlApi {
    pub version: String,
}

#[derive(Deserialize)]
struct ApiGroup {
    #[serde(default)]
    versions: Vec<GroupVersion>,
}

#[derive(Deserialize)]
struct GroupVersion {
    version: String,
}

impl FlowControlApi {
    /// Asks discovery which flowcontrol version to use: the newest served that
    /// apidiag knows. `None` when the group is not served at all.
    pub async fn discover(api: &ApiClient) -> Result<Option<Self>, ApiError> {
        let Some(group) = api.get_opt::<ApiGroup>(&format!("/apis/{GROUP}")).await? else {
            return Ok(None);
        };
        Ok(Self::choose(
            group.versions.iter().map(|v| v.version.as_str()),
        ))
    }

    fn choose<'a>(served: impl Iterator<Item = &'a str> + Clone) -> Option<Self> {
        KNOWN_VERSIONS
            .iter()
            .find(|known| served.clone().any(|v| v == **known))
            .map(|v| FlowControlApi {
                version: v.to_string(),
            })
    }

    pub fn flow_schemas(&self) -> ResourceType {
        ResourceType::new(GROUP, &self.version, "flowschemas", "FlowSchema", false)
    }

    pub fn priority_levels(&self) -> ResourceType {
        ResourceType::new(
            GROUP,
            &self.version,
            "prioritylevelconfigurations",
            "PriorityLevelConfiguration",
            false,
        )
    }

    /// The name of the concurrency-shares field in this version.
    pub fn shares_field(&self) -> &'static str {
        match self.version.as_str() {
            "v1beta1" | "v1beta2" => "assuredConcurrencyShares",
            _ => "nominalConcurrencyShares",
        }
    }
}

/// A FlowSchema, as people need to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSchema {
    pub name: String,
    pub priority_level: String,
    pub matching_precedence: Option<i64>,
    pub distinguisher: Option<String>,
    /// `group system:authenticated`, `serviceaccount kube-system/*`, `user alice`.
    pub subjects: Vec<String>,
    /// `list pods (core) in *`, `* nonResourceURLs /metrics`.
    pub rules: Vec<String>,
}

impl FlowSchema {
    pub fn from_value(object: &Value) -> Self {
        let spec = &object["spec"];
        let mut subjects = Vec::new();
        let mut rules = Vec::new();
        for rule in spec["rules"].as_array().into_iter().flatten() {
            for subject in rule["subjects"].as_array().into_iter().flatten() {
                let text = match subject["kind"].as_str().unwrap_or("") {
                    "Group" => {
                        format!("group {}", subject["group"]["name"].as_str().unwrap_or("?"))
                    }
                    "User" => format!("user {}", subject["user"]["name"].as_str().unwrap_or("?")),
                    "ServiceAccount" => format!(
                        "serviceaccount {}/{}",
                        subject["serviceAccount"]["namespace"]
                            .as_str()
                            .unwrap_or("?"),
                        subject["serviceAccount"]["name"].as_str().unwrap_or("?")
                    ),
                    other => other.to_string(),
                };
                if !subjects.contains(&text) {
                    subjects.push(text);
                }
            }
            for resource in rule["resourceRules"].as_array().into_iter().flatten() {
                let namespaces = join(&resource["namespaces"]);
                let cluster = resource["clusterScope"].as_bool() == Some(true);
                let scope = match (namespaces.as_str(), cluster) {
                    ("-", true) => "cluster-scoped objects".to_string(),
                    ("*", true) => "all namespaces and cluster-scoped objects".to_string(),
                    ("*", false) => "all namespaces".to_string(),
                    (ns, true) => format!("namespaces {ns} and cluster-scoped objects"),
                    (ns, false) => format!("namespaces {ns}"),
                };
                rules.push(format!(
                    "verbs {} on {} in API groups {}, {scope}",
                    join(&resource["verbs"]),
                    join(&resource["resources"]),
                    join(&resource["apiGroups"]),
                ));
            }
            for non_resource in rule["nonResourceRules"].as_array().into_iter().flatten() {
                rules.push(format!(
                    "verbs {} on non-resource URLs {}",
                    join(&non_resource["verbs"]),
                    join(&non_resource["nonResourceURLs"])
                ));
            }
        }
        FlowSchema {
            name: object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            priority_level: spec["priorityLevelConfiguration"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            matching_precedence: spec["matchingPrecedence"].as_i64(),
            distinguisher: spec["distinguisherMethod"]["type"]
                .as_str()
                .map(str::to_string),
            subjects,
            rules,
        }
    }
}

/// A PriorityLevelConfiguration, as people need to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityLevel {
    pub name: String,
    /// `Limited` or `Exempt`.
    pub kind: String,
    pub shares: Option<i64>,
    pub lendable_percent: Option<i64>,
    /// `Reject`, or `Queue (64 queues, 50 per queue, hand 6)`.
    pub limit_response: Option<String>,
}

impl PriorityLevel {
    pub fn from_value(object: &Value, api: &FlowControlApi) -> Self {
        let spec = &object["spec"];
        let limited = &spec["limited"];
        let response = &limited["limitResponse"];
        let limit_response = response["type"].as_str().map(|kind| {
            if kind == "Queue" {
                let q = &response["queuing"];
                format!(
                    "Queue ({} queues, {} per queue, hand size {})",
                    q["queues"].as_i64().map_or("?".into(), |v| v.to_string()),
                    q["queueLengthLimit"]
                        .as_i64()
                        .map_or("?".into(), |v| v.to_string()),
                    q["handSize"].as_i64().map_or("?".into(), |v| v.to_string())
                )
            } else {
                kind.to_string()
            }
        });
        PriorityLevel {
            name: object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            kind: spec["type"].as_str().unwrap_or_default().to_string(),
            shares: limited[api.shares_field()].as_i64(),
            lendable_percent: limited["lendablePercent"].as_i64(),
            limit_response,
        }
    }
}

fn join(list: &Value) -> String {
    // The core API group is the empty string; say so.
    let items: Vec<&str> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| if s.is_empty() { "core" } else { s })
        .collect();
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn newest_known_version_wins() {
        let pick =
            |served: &[&str]| FlowControlApi::choose(served.iter().copied()).map(|a| a.version);
        assert_eq!(pick(&["v1", "v1beta3"]).as_deref(), Some("v1"));
        assert_eq!(pick(&["v1beta2", "v1beta3"]).as_deref(), Some("v1beta3"));
        assert_eq!(pick(&["v1beta2"]).as_deref(), Some("v1beta2"));
        assert_eq!(pick(&["v2alpha9"]), None);
        let old = FlowControlApi {
            version: "v1beta2".into(),
        };
        assert_eq!(old.shares_field(), "assuredConcurrencyShares");
        let new = FlowControlApi {
            version: "v1".into(),
        };
        assert_eq!(new.shares_field(), "nominalConcurrencyShares");
    }

    #[test]
    fn flow_schema_reads_subjects_and_rules() {
        let fs = FlowSchema::from_value(&json!({
            "metadata": {"name": "restrict-bad-client"},
            "spec": {
                "priorityLevelConfiguration": {"name": "very-low-priority"},
                "matchingPrecedence": 1000,
                "distinguisherMethod": {"type": "ByUser"},
                "rules": [{
                    "subjects": [
                        {"kind": "ServiceAccount", "serviceAccount": {"name": "bad", "namespace": "default"}},
                        {"kind": "Group", "group": {"name": "system:authenticated"}}
                    ],
                    "resourceRules": [{"verbs": ["list"], "apiGroups": [""], "resources": ["pods"], "namespaces": ["default"]}],
                    "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}]
                }]
            }
        }));
        assert_eq!(fs.priority_level, "very-low-priority");
        assert_eq!(fs.matching_precedence, Some(1000));
        assert_eq!(
            fs.subjects,
            vec!["serviceaccount default/bad", "group system:authenticated"]
        );
        assert_eq!(
            fs.rules,
            vec![
                "verbs list on pods in API groups core, namespaces default",
                "verbs get on non-resource URLs /metrics"
            ]
        );
    }

    #[test]
    fn priority_level_reads_the_versioned_shares_field() {
        let object = json!({"metadata": {"name": "p"}, "spec": {"type": "Limited", "limited": {
            "assuredConcurrencyShares": 7, "limitResponse": {"type": "Queue",
            "queuing": {"queues": 16, "queueLengthLimit": 50, "handSize": 4}}}}});
        let pl = PriorityLevel::from_value(
            &object,
            &FlowControlApi {
                version: "v1beta2".into(),
            },
        );
        assert_eq!(pl.shares, Some(7));
        assert_eq!(
            pl.limit_response.as_deref(),
            Some("Queue (16 queues, 50 per queue, hand size 4)")
        );
    }
}
