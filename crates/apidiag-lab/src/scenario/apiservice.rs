//! `unavailable-apiservice`: an aggregated API whose backend is gone, like a
//! metrics-server whose pods were evicted. The APIService stays registered and
//! reports `Available=False`; discovery of its group fails, which breaks
//! `kubectl api-resources`, namespace deletion and the garbage collector's view of
//! the cluster.

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

    let apiservice: APIService = from_json(json!({
        "metadata": { "name": NAME, "labels": labels(Scenario::UnavailableApiService, &[]) },
        "spec": {
            "group": "metrics.lab.apidiag.dev",
            "version": "v1beta1",
            "service": { "namespace": NAMESPACE, "name": SERVICE, "port": 443 },
            "insecureSkipTLSVerify": true,
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
        },
    }))?;
    let api: Api<APIService> = Api::all(client.clone());
    util::create_or_keep(&api, &apiservice).await?;
    report.add("APIService", 1);

    // The availability controller checks the endpoints within a second or two.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let current = util::retrying(|| api.get(NAME))
            .await
            .map_err(LabError::kube(format!("reading APIService {NAME}")))?;
        let unavailable = current.status.and_then(|s| s.conditions).is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "Available" && c.status == "False")
        });
        if unavailable {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(LabError::Scenario {
                scenario: Scenario::UnavailableApiService.name(),
                message: format!("APIService {NAME} did not report Available=False within 30s"),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
