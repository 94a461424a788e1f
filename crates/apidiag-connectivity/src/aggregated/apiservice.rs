//! One APIService as the availability controller left it: its `Available`
//! condition, the Service it names, and the rules that make it orphaned.
//!
//! The reasons are a fixed set written by kube-aggregator's availability
//! controllers (research §4): `Local` and `Passed` are available, the others
//! say which step of the controller's check failed. The finding id is chosen
//! from that set, never built from the server's text, so an id stays stable
//! whatever a future server writes (anything else is `unknown`).

use std::collections::BTreeMap;

use serde_json::Value;

/// The label AKS puts on what it manages (its add-ons' APIServices among them).
pub const AKS_MANAGED_BY: &str = "kubernetes.azure.com/managedby";
/// The label of objects the addon manager reconciles (AKS, kube-up, GKE).
pub const ADDON_MANAGER_MODE: &str = "addonmanager.kubernetes.io/mode";

/// The Service an APIService sends its group's requests to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceRef {
    pub namespace: String,
    pub name: String,
    /// `spec.service.port`, 443 when unset (the API's default).
    pub port: i64,
}

impl ServiceRef {
    /// `namespace/name`, as kubectl names a Service.
    pub fn key(&self) -> (String, String) {
        (self.namespace.clone(), self.name.clone())
    }
}

/// Why the APIService is (un)available: the condition's reason, from the set
/// the controller writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Served by kube-apiserver itself (no `spec.service`).
    Local,
    /// Every check passed.
    Passed,
    /// `service/x in "ns" is not present`.
    ServiceNotFound,
    /// `service/x in "ns" is not listening on port N`.
    ServicePortError,
    /// `cannot find endpointslices for service/x in "ns"`.
    EndpointsNotFound,
    /// `endpointslices for service/x in "ns" have no addresses with port name "p"`.
    MissingEndpoints,
    /// `failing or missing response from <url>: <err>`, `bad status from …`,
    /// `timed out waiting for …`.
    FailedDiscoveryCheck,
    /// `ServiceAccessError`, `EndpointsAccessError`, no condition yet, or a
    /// reason this version does not know (kept as written).
    Other(String),
}

impl Reason {
    pub fn parse(reason: &str) -> Self {
        match reason {
            "Local" => Reason::Local,
            "Passed" => Reason::Passed,
            "ServiceNotFound" => Reason::ServiceNotFound,
            "ServicePortError" => Reason::ServicePortError,
            "EndpointsNotFound" => Reason::EndpointsNotFound,
            "MissingEndpoints" => Reason::MissingEndpoints,
            "FailedDiscoveryCheck" => Reason::FailedDiscoveryCheck,
            other => Reason::Other(other.to_string()),
        }
    }

    /// The `<result>` of the finding id `connectivity.apiservice.<result>`.
    pub fn id_part(&self) -> &'static str {
        match self {
            Reason::Local | Reason::Passed => "available",
            Reason::ServiceNotFound => "service-not-found",
            Reason::ServicePortError => "service-port-error",
            Reason::EndpointsNotFound => "endpoints-not-found",
            Reason::MissingEndpoints => "missing-endpoints",
            Reason::FailedDiscoveryCheck => "failed-discovery-check",
            Reason::Other(_) => "unknown",
        }
    }
}

/// The `Available` condition as written (status `True`, `False` or `Unknown`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub status: String,
    pub reason: String,
    pub message: String,
    pub since: Option<String>,
}

/// One APIService, parsed from the object as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiService {
    /// `<version>.<group>`.
    pub name: String,
    pub group: String,
    pub version: String,
    pub service: Option<ServiceRef>,
    pub labels: BTreeMap<String, String>,
    /// `None` before the controller has written it.
    pub available: Option<Availability>,
}

impl ApiService {
    pub fn parse(object: &Value) -> Self {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let spec = &object["spec"];
        let service = spec["service"].as_object().map(|s| ServiceRef {
            namespace: s.get("namespace").map(text).unwrap_or_default(),
            name: s.get("name").map(text).unwrap_or_default(),
            port: s.get("port").and_then(Value::as_i64).unwrap_or(443),
        });
        let labels = object["metadata"]["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), text(v)))
            .collect();
        let available = object["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["type"] == "Available")
            .map(|c| Availability {
                status: text(&c["status"]),
                reason: text(&c["reason"]),
                message: text(&c["message"]),
                since: c["lastTransitionTime"].as_str().map(str::to_string),
            });
        ApiService {
            name: text(&object["metadata"]["name"]),
            group: text(&spec["group"]),
            version: text(&spec["version"]),
            service,
            labels,
            available,
        }
    }

    /// `group/version`, as discovery and kubectl's errors name it.
    pub fn group_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    pub fn is_available(&self) -> bool {
        match &self.available {
            Some(a) => a.status == "True",
            // No condition yet (a server that just started, before its local
            // availability controller ran): a Local one (no Service) is served
            // by kube-apiserver itself, so it is available by definition.
            None => self.service.is_none(),
        }
    }

    pub fn reason(&self) -> Reason {
        match (&self.available, &self.service) {
            (Some(a), _) => Reason::parse(&a.reason),
            // No condition yet: a Local one is available by definition.
            (None, None) => Reason::Local,
            (None, Some(_)) => Reason::Other(String::new()),
        }
    }

    /// Who reconciles it, when a label says so: such an APIService comes back
    /// if deleted, and belongs to whoever manages it.
    pub fn manager(&self) -> Option<String> {
        if self.labels.get(AKS_MANAGED_BY).map(String::as_str) == Some("aks") {
            return Some(format!("AKS (label {AKS_MANAGED_BY}=aks)"));
        }
        self.labels
            .get(ADDON_MANAGER_MODE)
            .map(|mode| format!("the addon manager (label {ADDON_MANAGER_MODE}={mode})"))
    }
}

/// What this run's reads showed of the Service an APIService names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceSeen {
    /// It exists (whatever the condition says, which may be a moment old).
    Present,
    /// It does not exist; its namespace does, or was not read.
    Gone,
    /// Neither it nor its namespace exists.
    NamespaceGone,
    /// Not read (beyond the cap, or the read failed).
    NotRead,
}

/// Why an APIService may not be deleted as orphaned (research §4, "Safe
/// remediations" 1: all of its rules must hold).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotOrphaned {
    #[error("`{name}` is served by kube-apiserver itself (Local): never delete it")]
    Local { name: String },
    #[error("`{name}` is available: nothing to delete")]
    Available { name: String },
    #[error("`{name}` is managed by {manager}: it would be put back; report it to whoever runs it")]
    Managed { name: String, manager: String },
    #[error(
        "`{name}` is not orphaned: its Service {service} exists (read just now); repair its backend instead (`kubectl apidiag connectivity` shows the runbook's evidence)"
    )]
    ServicePresent { name: String, service: String },
    #[error(
        "`{name}` is not orphaned: its Service {service} is expected to exist (reason {reason}); repair its backend instead (`kubectl apidiag connectivity` shows the runbook's evidence)"
    )]
    ServiceExpected {
        name: String,
        service: String,
        reason: String,
    },
    #[error(
        "`{name}`: its condition says the Service {service} is gone, but this run could not read it to make sure (beyond the first five failing APIServices, or the read was refused); nothing is deleted on the condition alone"
    )]
    ServiceNotChecked { name: String, service: String },
}

/// Whether `api` is orphaned: it names a Service (not `Local`); the Service is
/// gone (`ServiceNotFound`) or its namespace is, and this run's read does not
/// show it back; and no manager's label says it would come back.
pub fn orphaned(api: &ApiService, seen: ServiceSeen) -> Result<(), NotOrphaned> {
    let name = api.name.clone();
    let Some(service) = &api.service else {
        return Err(NotOrphaned::Local { name });
    };
    if api.reason() == Reason::Local {
        return Err(NotOrphaned::Local { name });
    }
    if api.is_available() {
        return Err(NotOrphaned::Available { name });
    }
    if let Some(manager) = api.manager() {
        return Err(NotOrphaned::Managed { name, manager });
    }
    let gone = api.reason() == Reason::ServiceNotFound || seen == ServiceSeen::NamespaceGone;
    if gone && seen == ServiceSeen::Present {
        return Err(NotOrphaned::ServicePresent {
            name,
            service: format!("{}/{}", service.namespace, service.name),
        });
    }
    // The condition can be a moment old: only a Service this run saw gone counts.
    if gone && seen == ServiceSeen::NotRead {
        return Err(NotOrphaned::ServiceNotChecked {
            name,
            service: format!("{}/{}", service.namespace, service.name),
        });
    }
    if gone {
        return Ok(());
    }
    Err(NotOrphaned::ServiceExpected {
        name,
        service: format!("{}/{}", service.namespace, service.name),
        reason: api
            .available
            .as_ref()
            .map(|a| a.reason.clone())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "not yet reported".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apiservice(reason: &str, status: &str, labels: Value) -> ApiService {
        ApiService::parse(&json!({
            "metadata": {"name": "v1beta1.custom.metrics.k8s.io", "labels": labels},
            "spec": {"group": "custom.metrics.k8s.io", "version": "v1beta1",
                "service": {"namespace": "monitoring", "name": "prometheus-adapter"}},
            "status": {"conditions": [{"type": "Available", "status": status, "reason": reason,
                "message": "service/prometheus-adapter in \"monitoring\" is not present",
                "lastTransitionTime": "2026-12-01T10:00:00Z"}]},
        }))
    }

    #[test]
    fn parses_the_condition_and_defaults_the_port() {
        let api = apiservice("ServiceNotFound", "False", json!({}));
        assert_eq!(api.group_version(), "custom.metrics.k8s.io/v1beta1");
        assert_eq!(
            api.service,
            Some(ServiceRef {
                namespace: "monitoring".into(),
                name: "prometheus-adapter".into(),
                port: 443
            })
        );
        assert!(!api.is_available());
        assert_eq!(api.reason(), Reason::ServiceNotFound);
        assert_eq!(
            api.available.unwrap().since.as_deref(),
            Some("2026-12-01T10:00:00Z")
        );
    }

    #[test]
    fn every_reason_has_its_id() {
        let ids: Vec<&str> = [
            "ServiceNotFound",
            "MissingEndpoints",
            "EndpointsNotFound",
            "FailedDiscoveryCheck",
            "ServicePortError",
            "ServiceAccessError",
            "EndpointsAccessError",
            "SomethingNew",
            "Passed",
            "Local",
        ]
        .iter()
        .map(|r| Reason::parse(r).id_part())
        .collect();
        assert_eq!(
            ids,
            [
                "service-not-found",
                "missing-endpoints",
                "endpoints-not-found",
                "failed-discovery-check",
                "service-port-error",
                "unknown",
                "unknown",
                "unknown",
                "available",
                "available"
            ]
        );
    }

    #[test]
    fn a_local_apiservice_without_a_condition_yet_is_available() {
        let local = ApiService::parse(
            &json!({"metadata": {"name": "v1.apps"}, "spec": {"group": "apps", "version": "v1"}}),
        );
        assert!(local.is_available());
        let remote = ApiService::parse(
            &json!({"metadata": {"name": "v1beta1.metrics.k8s.io"}, "spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}}}),
        );
        assert!(
            !remote.is_available(),
            "a remote one is judged by its condition"
        );
    }

    #[test]
    fn orphaned_only_when_every_rule_holds() {
        assert_eq!(
            orphaned(
                &apiservice("ServiceNotFound", "False", json!({})),
                ServiceSeen::Gone
            ),
            Ok(())
        );
        // The condition alone is not enough: the Service must be seen gone.
        assert!(matches!(
            orphaned(
                &apiservice("ServiceNotFound", "False", json!({})),
                ServiceSeen::NotRead
            ),
            Err(NotOrphaned::ServiceNotChecked { .. })
        ));
        // The namespace is gone while the condition still says something else.
        assert_eq!(
            orphaned(
                &apiservice("MissingEndpoints", "False", json!({})),
                ServiceSeen::NamespaceGone
            ),
            Ok(())
        );
        assert_eq!(
            orphaned(
                &apiservice("MissingEndpoints", "False", json!({})),
                ServiceSeen::NotRead
            )
            .unwrap_err()
            .to_string(),
            "`v1beta1.custom.metrics.k8s.io` is not orphaned: its Service monitoring/prometheus-adapter is expected to exist (reason MissingEndpoints); repair its backend instead (`kubectl apidiag connectivity` shows the runbook's evidence)"
        );
        assert_eq!(
            orphaned(
                &apiservice(
                    "ServiceNotFound",
                    "False",
                    json!({"kubernetes.azure.com/managedby": "aks"})
                ),
                ServiceSeen::Gone
            )
            .unwrap_err()
            .to_string(),
            "`v1beta1.custom.metrics.k8s.io` is managed by AKS (label kubernetes.azure.com/managedby=aks): it would be put back; report it to whoever runs it"
        );
        assert_eq!(
            orphaned(
                &apiservice(
                    "ServiceNotFound",
                    "False",
                    json!({"addonmanager.kubernetes.io/mode": "Reconcile"})
                ),
                ServiceSeen::NamespaceGone
            )
            .unwrap_err()
            .to_string(),
            "`v1beta1.custom.metrics.k8s.io` is managed by the addon manager (label addonmanager.kubernetes.io/mode=Reconcile): it would be put back; report it to whoever runs it"
        );
        // Another value of the AKS label is not AKS's.
        assert_eq!(
            orphaned(
                &apiservice(
                    "ServiceNotFound",
                    "False",
                    json!({"kubernetes.azure.com/managedby": "someone"})
                ),
                ServiceSeen::Gone
            ),
            Ok(())
        );
        assert_eq!(
            orphaned(
                &apiservice("Passed", "True", json!({})),
                ServiceSeen::NamespaceGone
            )
            .unwrap_err()
            .to_string(),
            "`v1beta1.custom.metrics.k8s.io` is available: nothing to delete"
        );
        // The condition is a moment old: the Service read just now is back.
        assert_eq!(
            orphaned(
                &apiservice("ServiceNotFound", "False", json!({})),
                ServiceSeen::Present
            )
            .unwrap_err()
            .to_string(),
            "`v1beta1.custom.metrics.k8s.io` is not orphaned: its Service monitoring/prometheus-adapter exists (read just now); repair its backend instead (`kubectl apidiag connectivity` shows the runbook's evidence)"
        );
        let local = ApiService::parse(&json!({
            "metadata": {"name": "v1.apps"},
            "spec": {"group": "apps", "version": "v1"},
            "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]},
        }));
        assert_eq!(
            orphaned(&local, ServiceSeen::NamespaceGone)
                .unwrap_err()
                .to_string(),
            "`v1.apps` is served by kube-apiserver itself (Local): never delete it"
        );
    }
}
