//! Kubernetes label selectors (`metav1.LabelSelector`), evaluated as the API server
//! evaluates a webhook's `namespaceSelector` and `objectSelector`.
//!
//! The selectors come from objects the server already validated, so an unknown
//! operator cannot normally appear; if one does, the requirement matches nothing
//! (a selector the server could not parse would have been refused, never applied).

use std::collections::BTreeMap;

use serde_json::Value;

/// A label map: an object's `metadata.labels`.
pub type Labels = BTreeMap<String, String>;

/// The labels of a `metadata.labels`-shaped Value (non-string values skipped).
pub fn labels(value: &Value) -> Labels {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// `matchExpressions[].operator`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    /// Not one the server accepts; matches nothing.
    Unknown(String),
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

impl Requirement {
    fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match &self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            // A missing key satisfies NotIn, as in apimachinery's `labels.Requirement`:
            // `kubernetes.io/metadata.name NotIn [kube-system]` excludes only kube-system.
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::Unknown(_) => false,
        }
    }
}

/// A parsed label selector. The default (and `{}`, and an absent selector) matches
/// every label set, which is the webhook default for both selectors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub match_labels: Labels,
    pub match_expressions: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses a selector Value; `null` or absent is the empty selector.
    pub fn from_value(value: &Value) -> Self {
        let match_expressions = value["matchExpressions"]
            .as_array()
            .map(|expressions| {
                expressions
                    .iter()
                    .map(|e| Requirement {
                        key: e["key"].as_str().unwrap_or_default().to_string(),
                        operator: match e["operator"].as_str().unwrap_or_default() {
                            "In" => Operator::In,
                            "NotIn" => Operator::NotIn,
                            "Exists" => Operator::Exists,
                            "DoesNotExist" => Operator::DoesNotExist,
                            other => Operator::Unknown(other.to_string()),
                        },
                        values: e["values"]
                            .as_array()
                            .map(|vs| {
                                vs.iter()
                                    .filter_map(|v| v.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        LabelSelector {
            match_labels: labels(&value["matchLabels"]),
            match_expressions,
        }
    }

    /// Whether the selector selects everything (the webhook default).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Whether `labels` satisfy every `matchLabels` entry and every requirement.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn empty_or_absent_selects_everything() {
        for value in [json!(null), json!({}), json!({"matchLabels": {}})] {
            let selector = LabelSelector::from_value(&value);
            assert!(selector.is_empty());
            assert!(selector.matches(&Labels::new()));
            assert!(selector.matches(&set(&[("a", "b")])));
        }
    }

    #[test]
    fn match_labels_need_every_pair() {
        let s = LabelSelector::from_value(&json!({"matchLabels": {"app": "web", "tier": "x"}}));
        assert!(s.matches(&set(&[("app", "web"), ("tier", "x"), ("extra", "1")])));
        assert!(!s.matches(&set(&[("app", "web")])));
        assert!(!s.matches(&set(&[("app", "db"), ("tier", "x")])));
    }

    #[test]
    fn operators_follow_apimachinery() {
        let s = |op: &str, values: &[&str]| {
            LabelSelector::from_value(
                &json!({"matchExpressions": [{"key": "k", "operator": op, "values": values}]}),
            )
        };
        let with = set(&[("k", "a")]);
        let other = set(&[("k", "b")]);
        let none = Labels::new();
        assert!(s("In", &["a", "c"]).matches(&with));
        assert!(!s("In", &["a"]).matches(&other));
        assert!(!s("In", &["a"]).matches(&none));
        assert!(!s("NotIn", &["a"]).matches(&with));
        assert!(s("NotIn", &["a"]).matches(&other));
        assert!(
            s("NotIn", &["a"]).matches(&none),
            "missing key satisfies NotIn"
        );
        assert!(s("Exists", &[]).matches(&with));
        assert!(!s("Exists", &[]).matches(&none));
        assert!(s("DoesNotExist", &[]).matches(&none));
        assert!(!s("DoesNotExist", &[]).matches(&with));
        assert!(
            !s("Sometimes", &[]).matches(&with),
            "unknown operators match nothing"
        );
    }

    #[test]
    fn labels_and_expressions_are_anded() {
        let s = LabelSelector::from_value(&json!({
            "matchLabels": {"team": "a"},
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]},
                {"key": "control-plane", "operator": "DoesNotExist"}
            ]
        }));
        assert!(s.matches(&set(&[
            ("team", "a"),
            ("kubernetes.io/metadata.name", "apps")
        ])));
        assert!(!s.matches(&set(&[
            ("team", "a"),
            ("kubernetes.io/metadata.name", "kube-system")
        ])));
        assert!(!s.matches(&set(&[("team", "a"), ("control-plane", "true")])));
        assert!(!s.matches(&set(&[("kubernetes.io/metadata.name", "apps")])));
    }

    #[test]
    fn labels_skip_non_strings() {
        assert_eq!(labels(&json!({"a": "1", "b": 2})), set(&[("a", "1")]));
        assert!(labels(&json!(null)).is_empty());
    }
}
