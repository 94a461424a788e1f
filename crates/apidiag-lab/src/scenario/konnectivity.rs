//! `konnectivity-crashloop`: the konnectivity agents, which carry the API server's
//! traffic to the nodes (logs, exec, webhooks, aggregated APIs on AKS), crash-looping
//! in kube-system. The lab plays the kubelet and reports `CrashLoopBackOff` with a
//! high restart count through `pods/status`.
//!
//! The pods have no `nodeName`: pod status validation does not need one, and a
//! name of a Node that does not exist would get them deleted by the pod garbage
//! collector within a minute.

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use serde_json::{Value, json};

use super::util::{self, Rng, ago, from_json, labels};
use super::{Scenario, ScenarioContext, ScenarioReport, ScenarioSize};
use crate::LabError;

const NAMESPACE: &str = "kube-system";
/// The label the agents carry, as on AKS.
pub const APP_LABEL: (&str, &str) = ("k8s-app", "konnectivity-agent");
const IMAGE: &str = "mcr.microsoft.com/oss/kubernetes/apiserver-network-proxy/agent:v0.30.3";
/// Restart counts of the agents (cycled): hours of crash-looping.
const RESTARTS: [i32; 3] = [87, 142, 61];

/// A pod name as a DaemonSet would generate it.
fn pod_name(i: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = Rng::new(util::seed(&format!("konnectivity-{i}")));
    let suffix: String = (0..5)
        .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len() as u64) as usize]))
        .collect();
    format!("konnectivity-agent-{suffix}")
}

fn crashloop_status(name: &str, restarts: i32) -> Value {
    let (died_started, died) = (ago(330), ago(300));
    json!({
        "phase": "Running",
        "startTime": ago(6 * 3600),
        "conditions": [
            { "type": "Ready", "status": "False", "reason": "ContainersNotReady",
              "message": "containers with unready status: [konnectivity-agent]", "lastTransitionTime": died },
            { "type": "ContainersReady", "status": "False", "reason": "ContainersNotReady",
              "message": "containers with unready status: [konnectivity-agent]", "lastTransitionTime": died },
        ],
        "containerStatuses": [{
            "name": "konnectivity-agent",
            "image": IMAGE,
            "imageID": "",
            "ready": false,
            "started": false,
            "restartCount": restarts,
            "state": { "waiting": {
                "reason": "CrashLoopBackOff",
                "message": format!("back-off 5m0s restarting failed container=konnectivity-agent pod={name}_kube-system"),
            } },
            "lastState": { "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": died_started,
                "finishedAt": died,
            } },
        }],
    })
}

pub(super) async fn apply(
    ctx: &ScenarioContext,
    size: &ScenarioSize,
    report: &mut ScenarioReport,
) -> Result<(), LabError> {
    let client = ctx.client();
    let api: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    // kube-system's default ServiceAccount comes from kube-controller-manager; make
    // sure it exists for labs that run without it.
    util::ensure_service_account(client, NAMESPACE).await?;
    for i in 0..size.crashloop_pods {
        let name = pod_name(i);
        let pod: Pod = from_json(json!({
            "metadata": {
                "name": name,
                "namespace": NAMESPACE,
                "labels": labels(Scenario::KonnectivityCrashloop, &[APP_LABEL]),
            },
            "spec": {
                "priorityClassName": "system-cluster-critical",
                "tolerations": [{ "operator": "Exists" }],
                "containers": [{
                    "name": "konnectivity-agent",
                    "image": IMAGE,
                    "args": ["--proxy-server-host=konnectivity.lab.apidiag.dev", "--proxy-server-port=443"],
                }],
            },
        }))?;
        let pod = util::create_or_keep(&api, &pod).await?;
        let waiting = pod
            .status
            .and_then(|s| s.container_statuses)
            .is_some_and(|c| {
                c.iter()
                    .any(|c| c.state.as_ref().is_some_and(|s| s.waiting.is_some()))
            });
        if !waiting {
            util::patch_status(
                &api,
                &name,
                &crashloop_status(&name, RESTARTS[i % RESTARTS.len()]),
            )
            .await?;
        }
    }
    report.add("Pod", size.crashloop_pods);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_look_like_daemonset_pods_and_are_stable() {
        let a = pod_name(0);
        assert!(a.starts_with("konnectivity-agent-") && a.len() == "konnectivity-agent-".len() + 5);
        assert_eq!(a, pod_name(0));
        assert_ne!(a, pod_name(1));
        let status = crashloop_status(&a, 87);
        assert_eq!(
            status["containerStatuses"][0]["state"]["waiting"]["reason"],
            "CrashLoopBackOff"
        );
    }
}
