//! The webhooks of Mutating/ValidatingWebhookConfigurations, as listed from the
//! server, with every default filled in the way the API server fills it.
//!
//! Defaults differ by version and decide the verdict: a v1 webhook that sets
//! nothing is `Fail` with 10 s on everything its rules match, while v1beta1
//! (removed in 1.22, still seen in old backups and servers) defaulted to `Ignore`
//! and 30 s. Each webhook keeps its index in the configuration's list, because the
//! fixes rebuild that list (a merge patch replaces it whole).

use std::fmt;

use base64::Engine as _;
use serde_json::Value;

use apidiag_core::object::ResourceType;

use crate::owner::{self, OwnerHint};
use crate::selector::LabelSelector;

/// The group every webhook configuration lives in.
pub const GROUP: &str = "admissionregistration.k8s.io";
/// The label or annotation that opts a webhook out of the AKS Admissions Enforcer
/// (which otherwise keeps kube-system and AKS namespaces out of every webhook).
pub const AKS_ENFORCER_OPT_OUT: &str = "admissions.enforcer/disabled";
/// The suffix of static (manifest-based) webhook configurations, 1.36+: loaded
/// from the control plane's disk, so no API call can delete them.
pub const STATIC_SUFFIX: &str = ".static.k8s.io";

/// Mutating or validating: they run differently (in sequence or in parallel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Mutating,
    Validating,
}

impl Kind {
    /// `MutatingWebhookConfiguration` or `ValidatingWebhookConfiguration`.
    pub fn kind(self) -> &'static str {
        match self {
            Kind::Mutating => "MutatingWebhookConfiguration",
            Kind::Validating => "ValidatingWebhookConfiguration",
        }
    }

    /// The resource type in `version` (`v1`, or `v1beta1` on servers before 1.22).
    pub fn resource_type(self, version: &str) -> ResourceType {
        let plural = match self {
            Kind::Mutating => "mutatingwebhookconfigurations",
            Kind::Validating => "validatingwebhookconfigurations",
        };
        ResourceType::new(GROUP, version, plural, self.kind(), false)
    }

    fn short(self) -> &'static str {
        match self {
            Kind::Mutating => "mutating",
            Kind::Validating => "validating",
        }
    }
}

/// Identifies one webhook: two configurations may use the same webhook name (the
/// metrics cannot tell them apart, kubernetes/kubernetes#79832; we can).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WebhookId {
    pub kind: Kind,
    pub configuration: String,
    pub name: String,
}

impl fmt::Display for WebhookId {
    /// `validating/kyverno-resource-validating-webhook-cfg#validate.kyverno.svc-fail`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}#{}",
            self.kind.short(),
            self.configuration,
            self.name
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Fail closed: an unreachable webhook rejects the request (HTTP 500).
    Fail,
    /// Fail open: the request goes on, but only after the call failed or timed out.
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchPolicy {
    Exact,
    /// A rule also matches other versions (or groups) of the same resource; the
    /// server converts the request to the version the rule names.
    Equivalent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reinvocation {
    Never,
    /// Called again if a later mutating plugin changed the object: its timeout can
    /// count twice in a request's budget.
    IfNeeded,
}

/// `rules[].scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
    Any,
}

/// One `rules[]` entry (`RuleWithOperations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub operations: Vec<String>,
    pub api_groups: Vec<String>,
    pub api_versions: Vec<String>,
    /// `pods`, `pods/status`, `pods/*`, `*`, `*/*`, `*/scale`.
    pub resources: Vec<String>,
    pub scope: Scope,
}

/// Where the API server sends the AdmissionReview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientConfig {
    /// An in-cluster Service, dialled at `<name>.<namespace>.svc:<port>`.
    Service {
        namespace: String,
        name: String,
        /// Defaults to 443.
        port: i64,
        path: Option<String>,
    },
    /// A URL dialled from the control plane's own network.
    Url(String),
    /// Neither (the server refuses this; kept so a broken object still parses).
    Missing,
}

/// `clientConfig.caBundle`: base64 in the JSON, PEM once decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaBundle {
    /// Absent or empty: the API server's own trust roots verify the serving cert.
    Empty,
    /// The decoded bytes (PEM, as the API requires).
    Bytes(Vec<u8>),
    /// Not valid base64 (cannot come from the server, only from a bad fixture).
    NotBase64,
}

/// One admission webhook, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub kind: Kind,
    /// `v1` or `v1beta1`: decides the defaults.
    pub version: String,
    pub configuration: String,
    /// Position in the configuration's `webhooks` list.
    pub index: usize,
    pub name: String,
    pub failure_policy: FailurePolicy,
    /// Whether `failurePolicy` was set, or defaulted (v1: Fail, v1beta1: Ignore).
    pub failure_policy_explicit: bool,
    /// Seconds; v1 default 10 (1–30 allowed), v1beta1 default 30.
    pub timeout_seconds: u32,
    pub timeout_explicit: bool,
    /// Mutating webhooks only; validating ones are `Never`.
    pub reinvocation: Reinvocation,
    pub side_effects: Option<String>,
    pub match_policy: MatchPolicy,
    pub rules: Vec<Rule>,
    pub namespace_selector: LabelSelector,
    pub object_selector: LabelSelector,
    /// `matchConditions` (CEL) count: any makes "does it intercept?" a "maybe".
    pub match_conditions: usize,
    pub client: ClientConfig,
    pub ca_bundle: CaBundle,
    /// Who will recreate or revert the configuration (or its caBundle).
    pub owners: Vec<OwnerHint>,
    /// `admissions.enforcer/disabled: true` as a label or annotation.
    pub aks_enforcer_opt_out: bool,
    /// `managedFields` show the AKS enforcer writing the namespaceSelector.
    pub aks_enforcer_managed: bool,
}

impl Webhook {
    pub fn id(&self) -> WebhookId {
        WebhookId {
            kind: self.kind,
            configuration: self.configuration.clone(),
            name: self.name.clone(),
        }
    }

    /// A static (manifest) configuration, which no API call can remove.
    pub fn is_static(&self) -> bool {
        is_static_name(&self.configuration)
    }

    pub fn fails_closed(&self) -> bool {
        self.failure_policy == FailurePolicy::Fail
    }

    /// The namespace of the Service behind it, if it is service-backed.
    pub fn service_namespace(&self) -> Option<&str> {
        match &self.client {
            ClientConfig::Service { namespace, .. } => Some(namespace),
            _ => None,
        }
    }
}

/// Whether a configuration (or webhook) name is that of a static manifest webhook.
pub fn is_static_name(name: &str) -> bool {
    name.ends_with(STATIC_SUFFIX)
}

/// Why a configuration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigurationError {
    #[error("a webhook configuration is not a JSON object")]
    NotAnObject,
    #[error("a webhook configuration has no metadata.name")]
    NoName,
    #[error("webhook {index} of `{configuration}` has no name")]
    WebhookWithoutName { configuration: String, index: usize },
}

/// The webhooks of one configuration. `version` is the list's or object's
/// `apiVersion` version part (`v1`, `v1beta1`); items of a LIST carry none.
pub fn parse(
    configuration: &Value,
    kind: Kind,
    version: &str,
) -> Result<Vec<Webhook>, ConfigurationError> {
    if !configuration.is_object() {
        return Err(ConfigurationError::NotAnObject);
    }
    let meta = &configuration["metadata"];
    let config_name = meta["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or(ConfigurationError::NoName)?
        .to_string();
    let v1beta1 = version == "v1beta1";
    let owners = owner::hints(meta);
    let truthy = |v: &Value| {
        v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true")) || v.as_bool() == Some(true)
    };
    let aks_enforcer_opt_out = truthy(&meta["labels"][AKS_ENFORCER_OPT_OUT])
        || truthy(&meta["annotations"][AKS_ENFORCER_OPT_OUT]);
    let aks_enforcer_managed = owner::managers(meta)
        .iter()
        .any(|m| m == owner::AKS_ENFORCER_MANAGER);

    let items = configuration["webhooks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut webhooks = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let name = item["name"]
            .as_str()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ConfigurationError::WebhookWithoutName {
                configuration: config_name.clone(),
                index,
            })?
            .to_string();
        let (failure_policy, failure_policy_explicit) = match item["failurePolicy"].as_str() {
            Some("Ignore") => (FailurePolicy::Ignore, true),
            Some("Fail") => (FailurePolicy::Fail, true),
            _ if v1beta1 => (FailurePolicy::Ignore, false),
            _ => (FailurePolicy::Fail, false),
        };
        let (timeout_seconds, timeout_explicit) = match item["timeoutSeconds"].as_u64() {
            Some(t) => (u32::try_from(t).unwrap_or(u32::MAX), true),
            None if v1beta1 => (30, false),
            None => (10, false),
        };
        let match_policy = match item["matchPolicy"].as_str() {
            Some("Exact") => MatchPolicy::Exact,
            Some("Equivalent") => MatchPolicy::Equivalent,
            _ if v1beta1 => MatchPolicy::Exact,
            _ => MatchPolicy::Equivalent,
        };
        let reinvocation = match (kind, item["reinvocationPolicy"].as_str()) {
            (Kind::Mutating, Some("IfNeeded")) => Reinvocation::IfNeeded,
            _ => Reinvocation::Never,
        };
        webhooks.push(Webhook {
            kind,
            version: version.to_string(),
            configuration: config_name.clone(),
            index,
            name,
            failure_policy,
            failure_policy_explicit,
            timeout_seconds,
            timeout_explicit,
            reinvocation,
            side_effects: item["sideEffects"].as_str().map(str::to_string),
            match_policy,
            rules: item["rules"]
                .as_array()
                .map(|r| r.iter().map(rule).collect())
                .unwrap_or_default(),
            namespace_selector: LabelSelector::from_value(&item["namespaceSelector"]),
            object_selector: LabelSelector::from_value(&item["objectSelector"]),
            match_conditions: item["matchConditions"].as_array().map_or(0, Vec::len),
            client: client_config(&item["clientConfig"]),
            ca_bundle: ca_bundle(&item["clientConfig"]["caBundle"]),
            owners: owners.clone(),
            aks_enforcer_opt_out,
            aks_enforcer_managed,
        });
    }
    Ok(webhooks)
}

/// The webhooks of every item of a LIST response (`…WebhookConfigurationList`),
/// in the version the list's `apiVersion` names (v1 if it names none).
pub fn parse_list(list: &Value, kind: Kind) -> Result<Vec<Webhook>, ConfigurationError> {
    let version = version_of(list["apiVersion"].as_str().unwrap_or_default());
    let mut all = Vec::new();
    for item in list["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let own = item["apiVersion"].as_str().map(version_of);
        all.extend(parse(item, kind, own.unwrap_or(version))?);
    }
    Ok(all)
}

fn version_of(api_version: &str) -> &str {
    match api_version.rsplit_once('/') {
        Some((_, version)) if !version.is_empty() => version,
        _ => "v1",
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn rule(value: &Value) -> Rule {
    Rule {
        operations: strings(&value["operations"]),
        api_groups: strings(&value["apiGroups"]),
        api_versions: strings(&value["apiVersions"]),
        resources: strings(&value["resources"]),
        scope: match value["scope"].as_str() {
            Some("Namespaced") => Scope::Namespaced,
            Some("Cluster") => Scope::Cluster,
            _ => Scope::Any,
        },
    }
}

fn client_config(value: &Value) -> ClientConfig {
    if let Some(url) = value["url"].as_str() {
        return ClientConfig::Url(url.to_string());
    }
    let service = &value["service"];
    match (service["namespace"].as_str(), service["name"].as_str()) {
        (Some(namespace), Some(name)) => ClientConfig::Service {
            namespace: namespace.to_string(),
            name: name.to_string(),
            port: service["port"].as_i64().unwrap_or(443),
            path: service["path"].as_str().map(str::to_string),
        },
        _ => ClientConfig::Missing,
    }
}

fn ca_bundle(value: &Value) -> CaBundle {
    match value.as_str().map(str::trim) {
        None | Some("") => CaBundle::Empty,
        Some(text) => match base64::engine::general_purpose::STANDARD.decode(text) {
            Ok(bytes) if bytes.is_empty() => CaBundle::Empty,
            Ok(bytes) => CaBundle::Bytes(bytes),
            Err(_) => CaBundle::NotBase64,
        },
    }
}

#[cfg(test)]
mod tests;
