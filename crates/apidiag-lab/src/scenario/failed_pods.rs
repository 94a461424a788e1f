//! `failed-pods`: pods left in phase `Failed` (crashed, OOM-killed, evicted), which
//! stay in etcd until someone deletes them or the pod GC threshold is reached.
//! The lab plays the kubelet and reports the failure through `pods/status`.

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use serde_json::{Value, json};

use super::util::{self, ago, from_json, labels};
use super::{Scenario, ScenarioContext, ScenarioReport, ScenarioSize};
use crate::LabError;

pub(super) const NAMESPACES: [&str; 2] = ["lab-failed-a", "lab-failed-b"];

const IMAGE: &str = "registry.lab.apidiag.dev/worker:2.3";

/// The three ways pods commonly end up `Failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    Error,
    OomKilled,
    Evicted,
}

impl Failure {
    pub(crate) fn of(i: usize) -> Failure {
        [Failure::Error, Failure::OomKilled, Failure::Evicted][i % 3]
    }

    /// The status of a Pod whose one container, `container` running `image`,
    /// failed `age` seconds ago.
    pub(crate) fn status(self, age: i64, container: &str, image: &str) -> Value {
        let (started, finished) = (ago(age + 120), ago(age));
        let (exit_code, reason) = match self {
            Failure::Error => (1, "Error"),
            Failure::OomKilled => (137, "OOMKilled"),
            Failure::Evicted => (137, "ContainerStatusUnknown"),
        };
        let mut status = json!({
            "phase": "Failed",
            "startTime": started,
            "conditions": [{ "type": "Ready", "status": "False", "reason": "PodFailed", "lastTransitionTime": finished }],
            "containerStatuses": [{
                "name": container,
                "image": image,
                "imageID": "",
                "ready": false,
                "restartCount": 0,
                "started": false,
                "state": { "terminated": {
                    "exitCode": exit_code,
                    "reason": reason,
                    "startedAt": started,
                    "finishedAt": finished,
                } },
            }],
        });
        if self == Failure::Evicted {
            status["reason"] = json!("Evicted");
            status["message"] = json!(
                "The node was low on resource: memory. Threshold quantity: 100Mi, available: 91232Ki."
            );
        }
        status
    }
}

pub(super) async fn apply(
    ctx: &ScenarioContext,
    size: &ScenarioSize,
    report: &mut ScenarioReport,
) -> Result<(), LabError> {
    let client = ctx.client();
    for ns in NAMESPACES {
        util::ensure_namespace(client, Scenario::FailedPods, ns).await?;
    }
    let items: Vec<usize> = (0..size.failed_pods).collect();
    util::run_concurrently("failed-pods", items, size.concurrency, |i| async move {
        let namespace = NAMESPACES[i % NAMESPACES.len()];
        let name = format!("worker-{:05}", i / NAMESPACES.len());
        let pod: Pod = from_json(json!({
            "metadata": { "name": name, "namespace": namespace, "labels": labels(Scenario::FailedPods, &[("app", "worker")]) },
            "spec": {
                "restartPolicy": "Never",
                "containers": [{ "name": "worker", "image": IMAGE }],
            },
        }))?;
        let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let pod = util::create_or_keep(&api, &pod).await?;
        let already_failed = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed");
        if !already_failed {
            let age = 300 + 3600 * (i as i64 % 48);
            util::patch_status(&api, &name, &Failure::of(i).status(age, "worker", IMAGE)).await?;
        }
        Ok(())
    })
    .await?;
    report.add("Pod", size.failed_pods);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_look_like_kubelet_reports() {
        let evicted = Failure::of(2).status(60, "worker", IMAGE);
        assert_eq!(evicted["phase"], "Failed");
        assert_eq!(evicted["reason"], "Evicted");
        let oom = Failure::of(1).status(60, "worker", IMAGE);
        assert_eq!(
            oom["containerStatuses"][0]["state"]["terminated"]["reason"],
            "OOMKilled"
        );
        assert!(
            Failure::of(0)
                .status(60, "worker", IMAGE)
                .get("reason")
                .is_none()
        );
    }
}
