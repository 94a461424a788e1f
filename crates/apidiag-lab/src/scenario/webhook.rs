//! `failing-webhook`: a validating admission webhook with `failurePolicy: Fail`
//! whose backing Service has no endpoints, so every pod creation it covers fails
//! with "failed calling webhook". A classic way to break a cluster: the webhook's
//! own pods get evicted, and nothing can create pods to bring them back.

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::Service;
use kube::Api;
use serde_json::json;

use super::util::{self, from_json, labels};
use super::{Scenario, ScenarioContext, ScenarioReport};
use crate::LabError;

pub(super) const NAMESPACE: &str = "lab-webhook";
/// The ValidatingWebhookConfiguration's name.
pub const CONFIGURATION: &str = "lab-failing-webhook";
const SERVICE: &str = "failing-webhook";

pub(super) async fn apply(
    ctx: &ScenarioContext,
    report: &mut ScenarioReport,
) -> Result<(), LabError> {
    let client = ctx.client();
    util::ensure_namespace(client, Scenario::FailingWebhook, NAMESPACE).await?;
    // A selector that matches no pod: the Service exists, its endpoints never do.
    let service: Service = from_json(json!({
        "metadata": { "name": SERVICE, "namespace": NAMESPACE, "labels": labels(Scenario::FailingWebhook, &[]) },
        "spec": {
            "selector": { "app": SERVICE },
            "ports": [{ "name": "https", "port": 443, "targetPort": 8443 }],
        },
    }))?;
    util::create_or_keep(&Api::namespaced(client.clone(), NAMESPACE), &service).await?;
    report.add("Service", 1);

    let webhook: ValidatingWebhookConfiguration = from_json(json!({
        "metadata": { "name": CONFIGURATION, "labels": labels(Scenario::FailingWebhook, &[]) },
        "webhooks": [{
            "name": "validate-pods.lab.apidiag.dev",
            "clientConfig": { "service": { "namespace": NAMESPACE, "name": SERVICE, "path": "/validate", "port": 443 } },
            "rules": [{
                "apiGroups": [""],
                "apiVersions": ["v1"],
                "operations": ["CREATE"],
                "resources": ["pods"],
                "scope": "Namespaced",
            }],
            // Every namespace but kube-system, as the usual policy engines do.
            "namespaceSelector": { "matchExpressions": [{
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": ["kube-system"],
            }] },
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 5,
        }],
    }))?;
    util::create_or_keep(&Api::all(client.clone()), &webhook).await?;
    report.add("ValidatingWebhookConfiguration", 1);

    util::until_a_webhook_rejects_pods(client, Scenario::FailingWebhook, NAMESPACE).await
}
