//! Who will recreate or revert a webhook configuration after a fix.
//!
//! Deleting Kyverno's configuration is the guide's Solution 2, and Kyverno puts it
//! back as soon as it runs again; istiod flips `failurePolicy` back to Fail;
//! cert-manager's cainjector rewrites only the caBundle. A fix that does not say
//! so looks like it failed. The hints come from what the object says about itself:
//! labels, annotations, ownerReferences and `managedFields` managers.

use serde_json::Value;

/// The field manager of the AKS Admissions Enforcer (it writes namespaceSelectors).
pub const AKS_ENFORCER_MANAGER: &str = "admissionsenforcer";

/// What an owner puts back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconciles {
    /// The whole configuration, continuously: a delete or patch is reverted.
    Configuration,
    /// Only `clientConfig.caBundle`.
    CaBundle,
    /// The configuration, on the next install or upgrade (Helm, a CLI).
    NextRelease,
}

/// One owner hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerHint {
    /// `Kyverno`, `istiod`, `OLM`, …
    pub owner: String,
    pub reconciles: Reconciles,
    /// The platform's own webhook (AKS, Gardener, addon-manager): report, never edit.
    pub platform: bool,
    /// What showed it, e.g. `label webhook.kyverno.io/managed-by=kyverno`.
    pub evidence: String,
}

impl OwnerHint {
    /// One sentence for a fix's warning.
    pub fn warning(&self) -> String {
        match self.reconciles {
            Reconciles::Configuration => format!(
                "{} reconciles this configuration and will recreate or revert it ({}): scale it down first, or accept that the change is temporary",
                self.owner, self.evidence
            ),
            Reconciles::CaBundle => format!(
                "{} rewrites this configuration's caBundle ({})",
                self.owner, self.evidence
            ),
            Reconciles::NextRelease => format!(
                "{} will restore this configuration on its next install or upgrade ({})",
                self.owner, self.evidence
            ),
        }
    }
}

/// The `managedFields[].manager` names of an object's metadata.
pub fn managers(meta: &Value) -> Vec<String> {
    meta["managedFields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| f["manager"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The owner hints of a configuration's `metadata`, most specific first, one per owner.
pub fn hints(meta: &Value) -> Vec<OwnerHint> {
    let label = |key: &str| meta["labels"][key].as_str();
    let annotation = |key: &str| meta["annotations"][key].as_str();
    let name = meta["name"].as_str().unwrap_or_default();
    let managers = managers(meta);
    let managed_by = |needle: &str| managers.iter().find(|m| m.contains(needle));
    let mut hints: Vec<OwnerHint> = Vec::new();
    let mut add = |owner: &str, reconciles, platform, evidence: String| {
        if !hints.iter().any(|h| h.owner == owner) {
            hints.push(OwnerHint {
                owner: owner.into(),
                reconciles,
                platform,
                evidence,
            });
        }
    };
    use Reconciles::*;

    // Platform-owned first: these are not ours to change.
    if let Some(v) = label("kubernetes.azure.com/controlPlaneWebhook") {
        add(
            "AKS",
            Configuration,
            true,
            format!("label kubernetes.azure.com/controlPlaneWebhook={v}"),
        );
    }
    if label("kubernetes.azure.com/managedby") == Some("aks") {
        add(
            "AKS",
            Configuration,
            true,
            "label kubernetes.azure.com/managedby=aks".into(),
        );
    }
    if let Some(mode) = label("addonmanager.kubernetes.io/mode") {
        add(
            "the addon manager",
            Configuration,
            true,
            format!("label addonmanager.kubernetes.io/mode={mode}"),
        );
    }
    for key in [
        "resources.gardener.cloud/managed-by",
        "app.kubernetes.io/managed-by",
    ] {
        if label(key).is_some_and(|v| v.starts_with("gardener")) {
            add(
                "Gardener",
                Configuration,
                true,
                format!("label {key}={}", label(key).unwrap_or_default()),
            );
        }
    }

    if let Some(v) = label("webhook.kyverno.io/managed-by") {
        add(
            "Kyverno",
            Configuration,
            false,
            format!("label webhook.kyverno.io/managed-by={v}"),
        );
    } else if let Some(m) = managed_by("kyverno") {
        add(
            "Kyverno",
            Configuration,
            false,
            format!("managedFields manager {m}"),
        );
    }
    if label("gatekeeper.sh/system").is_some() {
        add(
            "Gatekeeper",
            Configuration,
            false,
            "label gatekeeper.sh/system".into(),
        );
    }
    if let Some(rev) = label("istio.io/rev") {
        add(
            "istiod",
            Configuration,
            false,
            format!("label istio.io/rev={rev}"),
        );
    } else if let Some(m) = managed_by("pilot-discovery") {
        add(
            "istiod",
            Configuration,
            false,
            format!("managedFields manager {m}"),
        );
    }
    if let Some(v) = label("olm.owner") {
        add("OLM", Configuration, false, format!("label olm.owner={v}"));
    }
    for key in [
        "cert-manager.io/inject-ca-from",
        "cert-manager.io/inject-ca-from-secret",
        "cert-manager.io/inject-apiserver-ca",
    ] {
        if let Some(v) = annotation(key) {
            add(
                "cert-manager cainjector",
                CaBundle,
                false,
                format!("annotation {key}={v}"),
            );
        }
    }
    if let Some(m) = managed_by("cainjector") {
        add(
            "cert-manager cainjector",
            CaBundle,
            false,
            format!("managedFields manager {m}"),
        );
    }
    if let Some(m) = managed_by("vault-k8s") {
        add(
            "Vault agent injector",
            CaBundle,
            false,
            format!("managedFields manager {m}"),
        );
    }
    if label("linkerd.io/control-plane-ns").is_some() || name.starts_with("linkerd-") {
        add(
            "Linkerd",
            NextRelease,
            false,
            format!("configuration {name}"),
        );
    }

    // Any controller owner not recognised above still recreates its objects.
    for owner in meta["ownerReferences"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let kind = owner["kind"].as_str().unwrap_or_default();
        let owner_name = owner["name"].as_str().unwrap_or_default();
        let evidence = format!("ownerReference {kind}/{owner_name}");
        match kind {
            "ClusterServiceVersion" => add("OLM", Configuration, false, evidence),
            // Kyverno owns its configurations through its ClusterRole.
            "ClusterRole" if owner_name.contains("kyverno") => {
                add("Kyverno", Configuration, false, evidence)
            }
            _ if owner["controller"].as_bool() == Some(true) => add(
                &format!("the controller of {kind}/{owner_name}"),
                Configuration,
                false,
                evidence,
            ),
            // A non-controller owner deletes it with itself but does not recreate it.
            _ => {}
        }
    }

    if label("app.kubernetes.io/managed-by") == Some("Helm") {
        let release = annotation("meta.helm.sh/release-name").unwrap_or("?");
        add("Helm", NextRelease, false, format!("release {release}"));
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kyverno_from_its_label_and_owner_reference() {
        let meta = json!({
            "name": "kyverno-resource-validating-webhook-cfg",
            "labels": {"webhook.kyverno.io/managed-by": "kyverno"},
            "ownerReferences": [{"kind": "ClusterRole", "name": "kyverno:admission-controller"}]
        });
        let h = hints(&meta);
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h[0].owner, "Kyverno");
        assert_eq!(h[0].reconciles, Reconciles::Configuration);
        assert!(!h[0].platform);
        assert!(h[0].warning().contains("recreate"));
    }

    #[test]
    fn aks_platform_webhooks_are_platform() {
        let meta = json!({"labels": {"kubernetes.azure.com/controlPlaneWebhook": "Reconcile"}});
        let h = hints(&meta);
        assert!(h[0].platform && h[0].owner == "AKS");
        let meta = json!({"labels": {"addonmanager.kubernetes.io/mode": "Reconcile"}});
        assert!(hints(&meta)[0].platform);
    }

    #[test]
    fn cainjector_rewrites_only_the_ca_bundle() {
        let meta = json!({
            "annotations": {"cert-manager.io/inject-ca-from": "cert-manager/cert-manager-webhook-ca"},
            "labels": {"app.kubernetes.io/managed-by": "Helm"},
            "managedFields": [{"manager": "cainjector"}, {"manager": "helm"}]
        });
        let h = hints(&meta);
        assert_eq!(h.len(), 2, "{h:?}");
        assert_eq!(h[0].reconciles, Reconciles::CaBundle);
        assert_eq!(h[1].owner, "Helm");
        assert_eq!(h[1].reconciles, Reconciles::NextRelease);
    }

    #[test]
    fn istio_olm_and_generic_controllers() {
        let meta = json!({"labels": {"istio.io/rev": "default"}});
        assert_eq!(hints(&meta)[0].owner, "istiod");
        let meta = json!({"managedFields": [{"manager": "pilot-discovery"}]});
        assert_eq!(hints(&meta)[0].owner, "istiod");
        let meta = json!({"ownerReferences": [{"kind": "ClusterServiceVersion", "name": "x.v1"}]});
        assert_eq!(hints(&meta)[0].owner, "OLM");
        let meta = json!({"ownerReferences": [{"kind": "Foo", "name": "bar", "controller": true}]});
        assert_eq!(hints(&meta)[0].owner, "the controller of Foo/bar");
        let meta = json!({"ownerReferences": [{"kind": "Foo", "name": "bar"}]});
        assert!(hints(&meta).is_empty());
    }

    #[test]
    fn a_hand_made_configuration_has_no_owner() {
        let meta =
            json!({"name": "mine", "managedFields": [{"manager": "kubectl-client-side-apply"}]});
        assert!(hints(&meta).is_empty());
    }
}
