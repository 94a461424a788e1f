//! `konnectivity-crashloop`: the konnectivity agents, which carry the API server's
//! traffic to the nodes (logs, exec, webhooks, aggregated APIs on AKS), crash-looping
//! in kube-system. The lab plays the kubelet and reports `CrashLoopBackOff` with a
//! high restart count through `pods/status`.
//!
//! As on AKS, the agents are the Pods of Deployment `kube-system/konnectivity-agent`
//! (labels `app=konnectivity-agent`, `component=tunnel`,
//! `kubernetes.azure.com/managedby=aks`; `k8s-app` too, as Gardener sets both), so
//! a rollout restart (the documented fix) has something to roll. The lab's
//! kube-controller-manager creates them through a ReplicaSet; without it the lab
//! creates the Pods itself, with no owner.
//!
//! The pods have no `nodeName` (the lab has no scheduler): pod status validation
//! does not need one, and a name of a Node that does not exist would get them
//! deleted by the pod garbage collector within a minute.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use serde_json::{Value, json};

use super::util::{self, Rng, ago, from_json, labels};
use super::{Scenario, ScenarioContext, ScenarioReport, ScenarioSize};
use crate::LabError;

const NAMESPACE: &str = "kube-system";
/// The label the agents carry upstream (and, next to `app=`, on Gardener).
pub const APP_LABEL: (&str, &str) = ("k8s-app", "konnectivity-agent");
/// The agents' Deployment, as on AKS.
pub const DEPLOYMENT: &str = "konnectivity-agent";
/// The labels of the AKS agents and their Deployment.
const AKS_LABELS: [(&str, &str); 3] = [
    ("app", "konnectivity-agent"),
    ("component", "tunnel"),
    ("kubernetes.azure.com/managedby", "aks"),
];
/// How long kube-controller-manager may take to create the Deployment's Pods.
const PODS_CREATED: Duration = Duration::from_secs(60);
const IMAGE: &str = "mcr.microsoft.com/oss/kubernetes/apiserver-network-proxy/agent:v0.30.3";
/// Restart counts of the agents (cycled): hours of crash-looping.
const RESTARTS: [i32; 3] = [87, 142, 61];

/// A pod name as a DaemonSet would generate it.
fn pod_name(i: usize) -> String {
    const ALPHABET: &[u8] = util::NAME_SUFFIX_ALPHABET;
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

fn pod_spec() -> Value {
    json!({
        "priorityClassName": "system-cluster-critical",
        "tolerations": [{ "operator": "Exists" }],
        "containers": [{
            "name": "konnectivity-agent",
            "image": IMAGE,
            "args": ["--proxy-server-host=konnectivity.lab.apidiag.dev", "--proxy-server-port=443", "--alpn-proto=konnectivity"],
        }],
    })
}

fn agent_labels() -> Value {
    let mut extra = AKS_LABELS.to_vec();
    extra.push(APP_LABEL);
    labels(Scenario::KonnectivityCrashloop, &extra)
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
    let names = if ctx.workload_controllers {
        deployment_pods(ctx, size).await?
    } else {
        standalone_pods(&api, size).await?
    };
    for (i, name) in names.iter().enumerate() {
        let pod = api
            .get(name)
            .await
            .map_err(LabError::kube(format!("reading Pod {NAMESPACE}/{name}")))?;
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
                name,
                &crashloop_status(name, RESTARTS[i % RESTARTS.len()]),
            )
            .await?;
        }
    }
    report.add("Pod", size.crashloop_pods);
    Ok(())
}

/// The Deployment, and the names of the Pods its ReplicaSet made (sorted, so the
/// restart counts go to the same Pods on every run).
async fn deployment_pods(
    ctx: &ScenarioContext,
    size: &ScenarioSize,
) -> Result<Vec<String>, LabError> {
    let client = ctx.client();
    let selector = json!({ "app": "konnectivity-agent" });
    let deployment: Deployment = from_json(json!({
        "metadata": { "name": DEPLOYMENT, "namespace": NAMESPACE, "labels": labels(Scenario::KonnectivityCrashloop, &AKS_LABELS) },
        "spec": {
            "replicas": size.crashloop_pods,
            "selector": { "matchLabels": selector },
            "template": { "metadata": { "labels": agent_labels() }, "spec": pod_spec() },
        },
    }))?;
    util::create_or_keep(&Api::namespaced(client.clone(), NAMESPACE), &deployment).await?;
    let api: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let started = Instant::now();
    loop {
        let pods = api
            .list(&ListParams::default().labels("app=konnectivity-agent"))
            .await
            .map_err(LabError::kube(
                "listing the konnectivity-agent Pods".to_string(),
            ))?;
        let mut names: Vec<String> = pods
            .items
            .iter()
            .filter(|p| p.owner_references().iter().any(|o| o.kind == "ReplicaSet"))
            .map(|p| p.name_any())
            .collect();
        names.sort();
        if names.len() >= size.crashloop_pods {
            names.truncate(size.crashloop_pods);
            return Ok(names);
        }
        if started.elapsed() > PODS_CREATED {
            return Err(LabError::Scenario {
                scenario: "konnectivity-crashloop",
                message: format!(
                    "kube-controller-manager made {} of {} konnectivity-agent Pods in {PODS_CREATED:?}",
                    names.len(),
                    size.crashloop_pods
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Pods with no owner, for labs without kube-controller-manager.
async fn standalone_pods(api: &Api<Pod>, size: &ScenarioSize) -> Result<Vec<String>, LabError> {
    let mut names = Vec::new();
    for i in 0..size.crashloop_pods {
        let name = pod_name(i);
        let pod: Pod = from_json(json!({
            "metadata": { "name": name, "namespace": NAMESPACE, "labels": agent_labels() },
            "spec": pod_spec(),
        }))?;
        util::create_or_keep(api, &pod).await?;
        names.push(name);
    }
    Ok(names)
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
