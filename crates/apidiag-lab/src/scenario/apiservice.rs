//! `unavailable-apiservice`: an aggregated API whose backend is gone, like a
//! metrics-server whose pods were evicted. The APIService stays registered and
//! reports `Available=False`; discovery of its group fails, which breaks
//! `kubectl api-resources`, namespace deletion and the garbage collector's view of
//! the cluster. A second APIService, left behind by an uninstall, names a Service
//! that does not exist (`ServiceNotFound`): the orphan the delete fix is for.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::Api;
use serde_json::json;

use super::util::{self, from_json, labels};
use super::{Scenario, ScenarioContext, ScenarioReport};
use crate::LabError;

pub(super) const NAMESPACE: &str = "lab-apiservice";
/// The APIService's name (`<version>.<group>`).
pub const NAME: &str = "v1beta1.metrics.lab.apidiag.dev";
const SERVICE: &str = "lab-metrics";
/// The orphaned APIService's name: its Service `lab-uninstalled` never existed.
pub const ORPHAN: &str = "v1alpha1.orphaned.lab.apidiag.dev";
const ORPHAN_SERVICE: &str = "lab-uninstalled";

pub(super) async fn apply(
    ctx: &ScenarioContext,
    report: &mut ScenarioReport,
) -> Result<(), LabError> {
    let client = ctx.client();
    util::ensure_namespace(client, Scenario::UnavailableApiService, NAMESPACE).await?;
    let service: Service = from_json(json!({
        "metadata": { "name": SERVICE, "namespace": NAMESPACE, "labels": labels(Scenario::UnavailableApiService, &[]) },
        "spec": {
            "selector": { "app": SERVICE },
            "ports": [{ "name": "https", "port": 443, "targetPort": 4443 }],
        },
    }))?;
    util::create_or_keep(&Api::namespaced(client.clone(), NAMESPACE), &service).await?;
    report.add("Service", 1);

    let api: Api<APIService> = Api::all(client.clone());
    for (name, service) in [(NAME, SERVICE), (ORPHAN, ORPHAN_SERVICE)] {
        let (version, group) = name.split_once('.').unwrap_or_default();
        let apiservice: APIService = from_json(json!({
            "metadata": { "name": name, "labels": labels(Scenario::UnavailableApiService, &[]) },
            "spec": {
                "group": group,
                "version": version,
                "service": { "namespace": NAMESPACE, "name": service, "port": 443 },
                "insecureSkipTLSVerify": true,
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
            },
        }))?;
        util::create_or_keep(&api, &apiservice).await?;
    }
    report.add("APIService", 2);

    // The availability controller checks the endpoints within a second or two.
    for (name, reason) in [(NAME, None), (ORPHAN, Some("ServiceNotFound"))] {
        wait_unavailable(&api, name, reason).await?;
    }
    Ok(())
}

/// Waits until `name` reports `Available=False` (with `reason`, when given).
async fn wait_unavailable(
    api: &Api<APIService>,
    name: &str,
    reason: Option<&str>,
) -> Result<(), LabError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let current = util::retrying(|| api.get(name))
            .await
            .map_err(LabError::kube(format!("reading APIService {name}")))?;
        let unavailable = current.status.and_then(|s| s.conditions).is_some_and(|c| {
            c.iter().any(|c| {
                c.type_ == "Available"
                    && c.status == "False"
                    && reason.is_none_or(|r| c.reason.as_deref() == Some(r))
            })
        });
        if unavailable {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(LabError::Scenario {
                scenario: Scenario::UnavailableApiService.name(),
                message: format!(
                    "APIService {name} did not report Available=False{} within 30s",
                    reason.map(|r| format!(" ({r})")).unwrap_or_default()
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
