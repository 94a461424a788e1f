//! The fixes, smallest safe change first: fail open, keep the system namespaces
//! and leases out, shorten timeouts, and, the guide's Solution 2, delete the
//! configuration. Webhook configurations are never sent to webhooks, so each of
//! these goes through even while the webhook is down (static webhooks aside).
//!
//! The core sends JSON merge patches only, and a merge patch replaces a list
//! whole: `webhooks` (and a selector's `matchExpressions`, which is atomic) is
//! rebuilt from the object read at preview time, with only the chosen webhooks
//! changed. The resourceVersion precondition the core adds makes the patch fail
//! rather than overwrite a list someone changed in between, and `before` (the
//! object) gives the preview its diff and undo its inverse patch.

use serde_json::{Value, json};

use apidiag_core::remediation::{Operation, Plan};

use crate::budget::LEASE_TIMEOUT_LIMIT_SECONDS;
use crate::configuration::{self, ConfigurationError, Kind, Webhook};
use crate::intercepts::{METADATA_NAME, Namespace, RequestKind, intercepts};
use crate::owner;

/// The timeout apidiag sets on webhooks not on leases (Gardener's limit).
pub const MAX_TIMEOUT_SECONDS: u32 = 15;
/// The API server's limit on matchConditions per webhook.
pub const MAX_MATCH_CONDITIONS: usize = 64;
/// The namespaces `exclude-system` keeps out, with the webhook's own.
pub const SYSTEM_NAMESPACES: [&str; 2] = ["kube-system", "kube-node-lease"];
const LEASES_CONDITION: &str = "apidiag-exclude-leases";
const NAMESPACES_CONDITION: &str = "apidiag-exclude-system-namespaces";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// failurePolicy Ignore on the chosen webhooks.
    FailOpen,
    /// Keep kube-system, kube-node-lease, the webhook's own namespace and leases out.
    ExcludeSystem,
    /// 3 s for webhooks on leases, at most 15 s elsewhere.
    ShortenTimeout,
    /// Delete the whole configuration (Solution 2).
    Delete,
}

impl Fix {
    pub const ALL: [Fix; 4] = [
        Fix::FailOpen,
        Fix::ExcludeSystem,
        Fix::ShortenTimeout,
        Fix::Delete,
    ];

    /// The `--fix` value: `fail-open`, `exclude-system`, `shorten-timeout`, `delete`.
    pub fn name(self) -> &'static str {
        match self {
            Fix::FailOpen => "fail-open",
            Fix::ExcludeSystem => "exclude-system",
            Fix::ShortenTimeout => "shorten-timeout",
            Fix::Delete => "delete",
        }
    }
    pub fn from_name(name: &str) -> Option<Fix> {
        Fix::ALL.into_iter().find(|f| f.name() == name)
    }
    /// Stable plan id: `webhooks.fail-open`, …
    pub fn id(self) -> &'static str {
        match self {
            Fix::FailOpen => "webhooks.fail-open",
            Fix::ExcludeSystem => "webhooks.exclude-system",
            Fix::ShortenTimeout => "webhooks.shorten-timeout",
            Fix::Delete => "webhooks.delete",
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            Fix::FailOpen => "set failurePolicy Ignore on this webhook only",
            Fix::ExcludeSystem => {
                "keep kube-system, kube-node-lease, its own namespace and leases out of the webhook"
            }
            Fix::ShortenTimeout => "shorten the timeout (3s on leases, at most 15s elsewhere)",
            Fix::Delete => "delete the webhook configuration (the guide's Solution 2)",
        }
    }
}

/// The command that runs a fix for one webhook (by webhook name).
pub fn command(fix: Fix, webhook: &str) -> String {
    format!(
        "kubectl apidiag webhooks --fix {} --webhook {webhook}",
        fix.name()
    )
}

/// One configuration to change, as read from the server.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub kind: Kind,
    /// `v1` (or `v1beta1`), the version the object was read in.
    pub version: &'a str,
    pub object: &'a Value,
    /// The webhook names to change; empty: all of the configuration's.
    pub webhooks: Vec<String>,
}

/// What the server supports.
#[derive(Debug, Clone, Copy, Default)]
pub struct FixOptions {
    /// matchConditions are served (1.28+ beta, GA 1.30, v1 only).
    pub match_conditions: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no webhook configuration to change")]
    NoTarget,
    #[error("`{configuration}` has no webhook named `{webhook}`")]
    UnknownWebhook {
        configuration: String,
        webhook: String,
    },
    #[error("nothing to change: the chosen webhooks already have what this fix sets")]
    NothingToChange,
    #[error(
        "`{configuration}` belongs to {owner}: report it to the platform rather than editing it"
    )]
    PlatformOwned {
        configuration: String,
        owner: String,
    },
    #[error("webhook `{webhook}` already has {MAX_MATCH_CONDITIONS} matchConditions")]
    TooManyMatchConditions { webhook: String },
    #[error(transparent)]
    Configuration(#[from] ConfigurationError),
}

/// Builds the plan of `fix` over `targets`.
pub fn plan(fix: Fix, targets: &[Target<'_>], options: FixOptions) -> Result<Plan, PlanError> {
    if targets.is_empty() {
        return Err(PlanError::NoTarget);
    }
    let mut operations = Vec::new();
    let mut warnings = Vec::new();
    let mut names = Vec::new();
    for target in targets {
        let hooks = configuration::parse(target.object, target.kind, target.version)?;
        let config = target.object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let owners = owner::hints(&target.object["metadata"]);
        if let Some(owner) = owners.iter().find(|o| o.platform) {
            return Err(PlanError::PlatformOwned {
                configuration: config,
                owner: owner.owner.clone(),
            });
        }
        for wanted in &target.webhooks {
            if !hooks.iter().any(|w| &w.name == wanted) {
                return Err(PlanError::UnknownWebhook {
                    configuration: config,
                    webhook: wanted.clone(),
                });
            }
        }
        let chosen: Vec<&Webhook> = hooks
            .iter()
            .filter(|w| target.webhooks.is_empty() || target.webhooks.contains(&w.name))
            .collect();
        warnings.extend(owners.iter().map(|o| o.warning()));
        let enforced = owner::managers(&target.object["metadata"])
            .iter()
            .any(|m| m == owner::AKS_ENFORCER_MANAGER);
        if fix == Fix::ExcludeSystem && !options.match_conditions && enforced {
            warnings.push("the AKS Admissions Enforcer (field manager admissionsenforcer) also writes namespaceSelector: it keeps its own expressions, and yours stay next to them".into());
        }
        let resource = target.kind.resource_type(target.version);
        if fix == Fix::Delete {
            operations.push(Operation::delete(&resource, target.object));
            names.push(format!("{} {config}", target.kind.kind()));
            continue;
        }
        let mut list = target.object["webhooks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut changed = false;
        for w in &chosen {
            let Some(entry) = list.get_mut(w.index) else {
                continue;
            };
            let this = match fix {
                Fix::FailOpen => fail_open(w, entry),
                Fix::ExcludeSystem => exclude_system(w, entry, options)?,
                Fix::ShortenTimeout => shorten_timeout(w, entry),
                Fix::Delete => false,
            };
            if this {
                names.push(w.name.clone());
            }
            changed |= this;
        }
        if changed {
            operations.push(Operation::patch(
                &resource,
                target.object,
                json!({"webhooks": list}),
            ));
        }
    }
    if operations.is_empty() {
        return Err(PlanError::NothingToChange);
    }
    warnings.push(match fix {
        Fix::FailOpen => "while its backend is down, an Ignore webhook lets requests through unchecked (a policy bypass), and each call still costs up to its timeout; set it back to Fail (`kubectl apidiag undo`) once the backend is healthy".into(),
        Fix::ExcludeSystem if options.match_conditions => "the added matchConditions are CEL: under failurePolicy Fail an expression that fails to evaluate rejects with 403, which the server dry run would show first".into(),
        Fix::ExcludeSystem => "a namespaceSelector does not apply to cluster-scoped objects: nodes and other cluster-wide resources stay intercepted".into(),
        Fix::ShortenTimeout => "a shorter timeout fails a slow but working webhook sooner: fail-closed webhooks then reject, fail-open ones skip their checks".into(),
        Fix::Delete => "deleting the configuration turns all its webhooks off (policy, injection, defaulting) until it is recreated; the undo recreates it from the backup, with the caBundle of that time".into(),
    });
    Ok(Plan {
        check: "webhooks".into(),
        id: fix.id().into(),
        title: format!("{}: {}", fix.title(), names.join(", ")),
        warning: Some(warnings.join("; ")),
        acknowledgements: Vec::new(),
        operations,
    })
}

fn fail_open(w: &Webhook, entry: &mut Value) -> bool {
    if !w.fails_closed() {
        return false;
    }
    entry["failurePolicy"] = json!("Ignore");
    true
}

fn shorten_timeout(w: &Webhook, entry: &mut Value) -> bool {
    let on_leases = SYSTEM_NAMESPACES
        .iter()
        .any(|ns| intercepts(w, &RequestKind::lease_update(Namespace::named(ns))).possible());
    let target = if on_leases {
        LEASE_TIMEOUT_LIMIT_SECONDS
    } else {
        MAX_TIMEOUT_SECONDS
    };
    if w.timeout_seconds <= target {
        return false;
    }
    entry["timeoutSeconds"] = json!(target);
    true
}

fn excluded_namespaces(w: &Webhook) -> Vec<String> {
    let mut namespaces: Vec<String> = SYSTEM_NAMESPACES.iter().map(|s| s.to_string()).collect();
    if let Some(own) = w.service_namespace()
        && !namespaces.iter().any(|n| n == own)
    {
        namespaces.push(own.to_string());
    }
    namespaces
}

fn exclude_system(w: &Webhook, entry: &mut Value, options: FixOptions) -> Result<bool, PlanError> {
    let namespaces = excluded_namespaces(w);
    if options.match_conditions && w.version == "v1" {
        let quoted: Vec<String> = namespaces.iter().map(|n| format!("'{n}'")).collect();
        let wanted = [
            json!({"name": LEASES_CONDITION, "expression": "!(request.resource.group == 'coordination.k8s.io' && request.resource.resource == 'leases')"}),
            json!({"name": NAMESPACES_CONDITION, "expression": format!("!(request.namespace in [{}])", quoted.join(", "))}),
        ];
        let mut conditions = entry["matchConditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let before = conditions.clone();
        for condition in wanted {
            match conditions
                .iter_mut()
                .find(|c| c["name"] == condition["name"])
            {
                Some(existing) => *existing = condition,
                None => conditions.push(condition),
            }
        }
        if conditions.len() > MAX_MATCH_CONDITIONS {
            return Err(PlanError::TooManyMatchConditions {
                webhook: w.name.clone(),
            });
        }
        if conditions == before {
            return Ok(false);
        }
        entry["matchConditions"] = json!(conditions);
        return Ok(true);
    }
    // matchExpressions is atomic: write the whole list, merging into an existing
    // `kubernetes.io/metadata.name NotIn` rather than adding a second one.
    let mut expressions = entry["namespaceSelector"]["matchExpressions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let before = expressions.clone();
    match expressions
        .iter_mut()
        .find(|e| e["key"] == METADATA_NAME && e["operator"] == "NotIn")
    {
        Some(existing) => {
            let mut values: Vec<String> = existing["values"]
                .as_array()
                .map(|vs| {
                    vs.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            for ns in namespaces {
                if !values.contains(&ns) {
                    values.push(ns);
                }
            }
            existing["values"] = json!(values);
        }
        None => expressions
            .push(json!({"key": METADATA_NAME, "operator": "NotIn", "values": namespaces})),
    }
    if expressions == before {
        return Ok(false);
    }
    if !entry["namespaceSelector"].is_object() {
        entry["namespaceSelector"] = json!({});
    }
    entry["namespaceSelector"]["matchExpressions"] = json!(expressions);
    Ok(true)
}

#[cfg(test)]
mod tests;
