//! The workload side of `aks-scale`: DaemonSets with one Pod on every node,
//! Deployments with their ReplicaSet, Service, ConfigMap and Secret, and Jobs,
//! every Pod bound to a Node (`spec.nodeName`) and owned as its controller would
//! own it.
//!
//! The lab writes the Pods itself, as fast as the API server takes them: a
//! scale lab's kube-controller-manager runs without the Deployment, ReplicaSet
//! and DaemonSet controllers, which would otherwise create Pods of their own for
//! these objects (and never bind them: there is no scheduler). The Jobs carry
//! `spec.managedBy`, so the job controller leaves them to the lab too. The Pods
//! stay Pending, as they would with no kubelet; only the failed Jobs' Pods get a
//! status (Failed, as a kubelet reports it).

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod, Secret, Service};
use kube::{Api, Client, Resource, ResourceExt};
use serde_json::{Value, json};

use super::plan::{DAEMONSETS, ScalePlan, node_name};
use crate::LabError;
use crate::scenario::failed_pods::Failure;
use crate::scenario::jobs::BULK_MANAGER;
use crate::scenario::util::{self, Rng, ago, from_json, labels};
use crate::scenario::{Scenario, ScenarioReport};

const IMAGE: &str = "registry.lab.apidiag.dev/shop/api:4.2.1";
const JOB_CONTAINER: &str = "batch";

/// A Pod name suffix as the API server generates them, unique per `i`.
fn suffix(i: usize) -> String {
    const ALPHABET: &[u8] = util::NAME_SUFFIX_ALPHABET;
    let mut n = i;
    (0..5)
        .map(|_| {
            let c = ALPHABET[n % ALPHABET.len()];
            n /= ALPHABET.len();
            char::from(c)
        })
        .collect()
}

/// A ReplicaSet's `pod-template-hash`, stable per Deployment.
fn template_hash(name: &str) -> String {
    let mut rng = Rng::new(util::seed(name));
    format!("{:010x}", rng.next_u64() & 0xff_ffff_ffff)[..10].to_owned()
}

fn owner<K: Resource<DynamicType = ()>>(object: &K) -> Value {
    json!([{
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "name": object.meta().name,
        "uid": object.meta().uid,
        "controller": true,
        "blockOwnerDeletion": true,
    }])
}

fn container(name: &str, image: &str) -> Value {
    json!({
        "name": name,
        "image": image,
        "ports": [{ "containerPort": 8080, "name": "http" }],
        "env": [{ "name": "LOG_LEVEL", "value": "info" }],
        "resources": { "requests": { "cpu": "50m", "memory": "64Mi" }, "limits": { "memory": "256Mi" } },
    })
}

/// A Pod of `template` (labels and spec), owned by `owner`, on node `node`.
fn pod(
    namespace: &str,
    name: String,
    template: &Value,
    owner: Value,
    node: usize,
) -> Result<Pod, LabError> {
    let mut spec = template["spec"].clone();
    spec["nodeName"] = json!(node_name(node));
    let mut labels = template["metadata"]["labels"].clone();
    labels[crate::scenario::SCENARIO_LABEL] = json!(Scenario::AksScale.name());
    from_json(json!({
        "metadata": { "name": name, "namespace": namespace, "labels": labels, "ownerReferences": owner },
        "spec": spec,
    }))
}

/// DaemonSets in kube-system, then their Pods, one per node.
pub(super) async fn daemonsets(
    client: &Client,
    plan: &ScalePlan,
    concurrency: usize,
) -> Result<(), LabError> {
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), "kube-system");
    for name in &DAEMONSETS[..plan.daemonsets] {
        let template = json!({
            "metadata": { "labels": { "k8s-app": name } },
            "spec": {
                "containers": [container(name, &format!("mcr.microsoft.com/oss/kubernetes/{name}:v1.33.2"))],
                "priorityClassName": "system-node-critical",
                "tolerations": [{ "operator": "Exists" }],
            },
        });
        let ds: DaemonSet = from_json(json!({
            "metadata": { "name": name, "namespace": "kube-system", "labels": labels(Scenario::AksScale, &[("k8s-app", name)]) },
            "spec": {
                "selector": { "matchLabels": { "k8s-app": name } },
                "updateStrategy": { "type": "OnDelete" },
                "template": template,
            },
        }))?;
        let ds = util::create_or_keep(&api, &ds).await?;
        let n = plan.nodes as i32;
        util::patch_status(
            &api,
            name,
            &json!({
                "currentNumberScheduled": n, "desiredNumberScheduled": n, "numberMisscheduled": 0,
                "numberReady": 0, "numberUnavailable": n, "observedGeneration": 1,
            }),
        )
        .await?;
        let (template, owner, pods) = (
            &template,
            &owner(&ds),
            &Api::<Pod>::namespaced(client.clone(), "kube-system"),
        );
        util::run_concurrently(
            &format!("aks-scale: {name} Pods"),
            (0..plan.nodes).collect(),
            concurrency,
            |i| async move {
                let pod = pod(
                    "kube-system",
                    format!("{name}-{}", suffix(i)),
                    template,
                    owner.clone(),
                    i,
                )?;
                util::create_or_keep(pods, &pod).await.map(|_| ())
            },
        )
        .await?;
    }
    Ok(())
}

fn app_template(app: &str) -> Value {
    json!({
        "metadata": { "labels": { "app": app } },
        "spec": { "containers": [container("api", IMAGE)] },
    })
}

/// One Deployment: the Deployment, its ReplicaSet (with a status), its Pods
/// (spread over the nodes from the Deployment's first Pod on), Service, ConfigMap,
/// Secret (every other one) and Event.
async fn deployment(
    client: &Client,
    plan: &ScalePlan,
    d: usize,
    concurrency: usize,
) -> Result<(), LabError> {
    let ns = plan.deployment_namespace(d);
    let app = format!("app-{d:04}");
    let replicas = plan.replicas(d);
    let scenario_labels = labels(Scenario::AksScale, &[("app", &app)]);
    let template = app_template(&app);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let deployment = util::create_or_keep(&deployments, &from_json(json!({
        "metadata": { "name": app, "namespace": ns, "labels": scenario_labels },
        "spec": { "replicas": replicas, "selector": { "matchLabels": { "app": app } }, "template": template },
    }))?)
    .await?;
    let hash = template_hash(&app);
    let mut rs_template = template.clone();
    rs_template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let rs_name = format!("{app}-{hash}");
    let replica_sets: Api<ReplicaSet> = Api::namespaced(client.clone(), &ns);
    let rs = util::create_or_keep(&replica_sets, &from_json(json!({
        "metadata": {
            "name": rs_name, "namespace": ns, "labels": labels(Scenario::AksScale, &[("app", &app), ("pod-template-hash", &hash)]),
            "annotations": { "deployment.kubernetes.io/revision": "1" },
            "ownerReferences": owner(&deployment),
        },
        "spec": { "replicas": replicas, "selector": { "matchLabels": { "app": app, "pod-template-hash": hash } }, "template": rs_template },
    }))?)
    .await?;
    util::patch_status(
        &replica_sets,
        &rs_name,
        &json!({ "replicas": replicas, "observedGeneration": 1 }),
    )
    .await?;
    util::patch_status(&deployments, &app, &json!({
        "replicas": replicas, "updatedReplicas": replicas, "unavailableReplicas": replicas, "observedGeneration": 1,
    }))
    .await?;
    let first = plan.first_pod(d);
    let (pods, rs_owner, rs_template, ns_ref) = (
        &Api::<Pod>::namespaced(client.clone(), &ns),
        &owner(&rs),
        &rs_template,
        &ns,
    );
    let rs_name = &rs_name;
    util::run_concurrently(
        "aks-scale: Deployment Pods",
        (0..replicas).collect(),
        concurrency,
        |j| async move {
            let node = (first + j) % plan.nodes;
            let pod = pod(
                ns_ref,
                format!("{rs_name}-{}", suffix(j)),
                rs_template,
                rs_owner.clone(),
                node,
            )?;
            util::create_or_keep(pods, &pod).await.map(|_| ())
        },
    )
    .await?;

    let service: Service = from_json(json!({
        "metadata": { "name": app, "namespace": ns, "labels": scenario_labels },
        "spec": { "selector": { "app": app }, "ports": [{ "name": "http", "port": 80, "targetPort": "http" }] },
    }))?;
    util::create_or_keep(&Api::namespaced(client.clone(), &ns), &service).await?;
    let config: ConfigMap = from_json(json!({
        "metadata": { "name": format!("{app}-config"), "namespace": ns, "labels": scenario_labels },
        "data": { "settings.yaml": format!("service: {app}\nreplicas: {replicas}\nlogLevel: info\nfeatures:\n  cache: true\n") },
    }))?;
    util::create_or_keep(&Api::namespaced(client.clone(), &ns), &config).await?;
    if d.is_multiple_of(2) {
        let secret: Secret = from_json(json!({
            "metadata": { "name": format!("{app}-credentials"), "namespace": ns, "labels": scenario_labels },
            "type": "Opaque",
            "stringData": { "password": Rng::new(util::seed(&app)).text(24) },
        }))?;
        util::create_or_keep(&Api::namespaced(client.clone(), &ns), &secret).await?;
    }
    let when = ago(3600);
    let event: Event = from_json(json!({
        "metadata": { "name": format!("{app}.{:016x}", util::seed(&app)), "namespace": ns, "labels": labels(Scenario::AksScale, &[]) },
        "involvedObject": { "kind": "Deployment", "namespace": ns, "name": app, "uid": deployment.uid(), "apiVersion": "apps/v1" },
        "reason": "ScalingReplicaSet",
        "message": format!("Scaled up replica set {rs_name} from 0 to {replicas}"),
        "source": { "component": "deployment-controller" },
        "firstTimestamp": when, "lastTimestamp": when, "count": 1, "type": "Normal",
    }))?;
    util::create_or_keep(&Api::namespaced(client.clone(), &ns), &event).await?;
    Ok(())
}

/// Every Deployment, a few at a time, each with its Pods `concurrency` at a time
/// (so the Pods of small Deployments still go out in parallel).
pub(super) async fn deployments(
    client: &Client,
    plan: &ScalePlan,
    concurrency: usize,
) -> Result<(), LabError> {
    const AT_ONCE: usize = 8;
    let per = (concurrency / AT_ONCE).max(2);
    util::run_concurrently(
        "aks-scale: Deployments",
        (0..plan.deployments).collect(),
        AT_ONCE,
        |d| deployment(client, plan, d, per),
    )
    .await?;
    Ok(())
}

/// The Jobs, one Pod each; the first `failed_jobs` failed (their Pod `Failed`, the
/// Job's status as the job controller writes it), the others still run.
pub(super) async fn jobs(
    client: &Client,
    plan: &ScalePlan,
    concurrency: usize,
    report: &mut ScenarioReport,
) -> Result<(), LabError> {
    util::run_concurrently("aks-scale: Jobs", (0..plan.jobs).collect(), concurrency, |j| async move {
        let ns = plan.namespace(j);
        let name = format!("batch-{j:04}");
        let template = json!({
            "metadata": { "labels": { "app": "batch" } },
            "spec": { "restartPolicy": "Never", "containers": [container(JOB_CONTAINER, IMAGE)] },
        });
        let jobs: Api<Job> = Api::namespaced(client.clone(), &ns);
        let job = util::create_or_keep(&jobs, &from_json(json!({
            "metadata": { "name": name, "namespace": ns, "labels": labels(Scenario::AksScale, &[("app", "batch")]) },
            "spec": { "backoffLimit": 0, "managedBy": BULK_MANAGER, "template": template },
        }))?)
        .await?;
        if job.spec.as_ref().and_then(|s| s.managed_by.as_deref()) != Some(BULK_MANAGER) {
            return Err(LabError::Scenario {
                scenario: Scenario::AksScale.name(),
                message: "this API server drops Job spec.managedBy (Kubernetes before 1.32), so its job controller would run aks-scale's Jobs; use a newer minor (APIDIAG_LAB_K8S)".into(),
            });
        }
        // The template as the API server completed it (controller-uid labels).
        let template = serde_json::to_value(job.spec.as_ref().map(|s| &s.template)).unwrap_or_default();
        let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let pod_name = format!("{name}-{}", suffix(j));
        let created = util::create_or_keep(&pods, &pod(&ns, pod_name.clone(), &template, owner(&job), (plan.deployment_pods + j) % plan.nodes)?).await?;
        let started = ago(7200);
        let failed = j < plan.failed_jobs;
        if failed && created.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Failed") {
            util::patch_status(&pods, &pod_name, &Failure::of(j).status(3600, JOB_CONTAINER, IMAGE)).await?;
        }
        if job.status.as_ref().and_then(|s| s.start_time.as_ref()).is_none() {
            let status = if failed {
                let condition = |kind: &str| json!({
                    "type": kind, "status": "True", "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                    "lastProbeTime": ago(3600), "lastTransitionTime": ago(3600),
                });
                json!({ "startTime": started, "failed": 1, "active": 0, "ready": 0, "terminating": 0,
                        "uncountedTerminatedPods": {}, "conditions": [condition("FailureTarget"), condition("Failed")] })
            } else {
                json!({ "startTime": started, "active": 1, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {} })
            };
            util::patch_status(&jobs, &name, &status).await?;
        }
        Ok(())
    })
    .await?;
    report
        .notes
        .push(format!("{} of {} Jobs failed", plan.failed_jobs, plan.jobs));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_suffixes_are_unique_and_five_characters() {
        let all: std::collections::BTreeSet<String> = (0..200_000).map(suffix).collect();
        assert_eq!(all.len(), 200_000);
        assert!(all.iter().all(|s| s.len() == 5));
    }

    #[test]
    fn a_pod_is_bound_and_labelled_for_its_owner() {
        let template = app_template("app-0001");
        let owner = json!([{ "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "app-0001-x", "uid": "u", "controller": true }]);
        let pod = pod(
            "lab-scale-001",
            "app-0001-x-bbbbb".into(),
            &template,
            owner,
            7,
        )
        .unwrap();
        assert_eq!(
            pod.spec.as_ref().unwrap().node_name.as_deref(),
            Some("aks-nodepool1-31415926-vmss000007")
        );
        let labels = pod.metadata.labels.unwrap();
        assert_eq!(labels["app"], "app-0001");
        assert_eq!(labels[crate::scenario::SCENARIO_LABEL], "aks-scale");
        assert_eq!(pod.metadata.owner_references.unwrap()[0].kind, "ReplicaSet");
    }
}
