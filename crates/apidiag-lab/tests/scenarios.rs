//! Every scenario, applied to a real lab and checked through the API. Namespaced
//! scenarios share this binary's lab; cluster-wide ones (webhook, APF, APIService)
//! get fresh labs so they cannot disturb each other.

// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use apidiag_lab::scenario::SCENARIO_LABEL;
use apidiag_lab::{JobsMode, Lab, LabOptions, Scenario, ScenarioSize, shared};
use common::{audit_events, kubectl};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod, Secret};
use k8s_openapi::api::flowcontrol::v1::{FlowSchema, PriorityLevelConfiguration};
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::api::{ListParams, PostParams};
use kube::{Api, ResourceExt};

fn labelled(s: Scenario) -> ListParams {
    ListParams::default().labels(&format!("{SCENARIO_LABEL}={}", s.name()))
}

async fn fresh_lab(controller_manager: bool) -> Lab {
    Lab::start(LabOptions {
        controller_manager,
        ..LabOptions::default()
    })
    .await
    .expect("starting a fresh lab")
}

#[tokio::test]
async fn completed_jobs_are_really_completed_by_the_job_controller() {
    let lab = shared();
    let size = ScenarioSize::default();
    let report = lab
        .apply(Scenario::CompletedJobs, size.clone())
        .await
        .unwrap();
    eprintln!("{report}");
    assert_eq!(report.count("Job"), size.completed_jobs + size.running_jobs);
    assert!(
        report.notes[0].contains("controller mode"),
        "{:?}",
        report.notes
    );

    let client = lab.admin_client().await.unwrap();
    let jobs: Api<Job> = Api::all(client.clone());
    // What a cleanup would select: status.successful=1.
    let done = jobs
        .list(&labelled(Scenario::CompletedJobs).fields("status.successful=1"))
        .await
        .unwrap();
    assert_eq!(done.items.len(), size.completed_jobs);
    for job in &done.items {
        let status = job.status.as_ref().unwrap();
        assert!(status.completion_time.is_some(), "{}", job.name_any());
        assert!(
            job.spec.as_ref().unwrap().managed_by.is_none(),
            "controller mode uses the real job controller"
        );
        let conditions = status.conditions.as_ref().unwrap();
        assert!(
            conditions
                .iter()
                .any(|c| c.type_ == "Complete" && c.status == "True")
        );
    }
    let owned = done
        .items
        .iter()
        .filter(|j| !j.owner_references().is_empty())
        .count();
    let with_ttl = done
        .items
        .iter()
        .filter(|j| {
            j.spec
                .as_ref()
                .unwrap()
                .ttl_seconds_after_finished
                .is_some()
        })
        .count();
    assert!(owned > 0 && owned < done.items.len(), "owned {owned}");
    assert!(
        with_ttl > 0 && with_ttl < done.items.len(),
        "ttl {with_ttl}"
    );
    // Owner references point at the real CronJobs (or the GC would delete the Jobs).
    let cronjobs = Api::<CronJob>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    for job in done
        .items
        .iter()
        .filter(|j| !j.owner_references().is_empty())
    {
        let owner = &job.owner_references()[0];
        assert!(
            cronjobs
                .items
                .iter()
                .any(|c| c.uid().as_deref() == Some(owner.uid.as_str()))
        );
    }

    // The running ones stay running: their pods never complete.
    let running = jobs
        .list(&ListParams::default().labels("lab.apidiag.dev/expect=running"))
        .await
        .unwrap();
    assert_eq!(running.items.len(), size.running_jobs);
    for job in &running.items {
        let status = job.status.clone().unwrap_or_default();
        assert_eq!(status.succeeded.unwrap_or(0), 0);
        assert_eq!(
            status.active,
            Some(1),
            "{} has an active pod",
            job.name_any()
        );
    }
    // The pods of completed Jobs are Succeeded, as the kubelet would report.
    let pods = Api::<Pod>::all(client)
        .list(
            &ListParams::default()
                .labels("lab.apidiag.dev/expect=complete")
                .fields("status.phase=Succeeded"),
        )
        .await
        .unwrap();
    assert!(pods.items.len() >= size.completed_jobs);

    // Idempotent: applying again keeps what exists.
    lab.apply(Scenario::CompletedJobs, size).await.unwrap();
}

#[tokio::test]
async fn bulk_jobs_complete_without_the_controller_manager() {
    let lab = fresh_lab(false).await;
    let size = ScenarioSize {
        completed_jobs: 300,
        jobs_mode: JobsMode::Auto,
        ..ScenarioSize::default()
    };
    let report = lab.apply(Scenario::CompletedJobs, size).await.unwrap();
    eprintln!("{report}");
    assert!(report.notes[0].contains("bulk mode"), "{:?}", report.notes);
    let jobs: Api<Job> = Api::all(lab.admin_client().await.unwrap());
    let done = jobs
        .list_metadata(&ListParams::default().fields("status.successful=1"))
        .await
        .unwrap();
    assert_eq!(done.items.len(), 300);
    let one = jobs
        .list(&ListParams::default().fields("status.successful=1").limit(1))
        .await
        .unwrap();
    let status = one.items[0].status.clone().unwrap();
    assert!(status.start_time.unwrap() <= status.completion_time.unwrap());
}

#[tokio::test]
async fn failed_pods_are_in_phase_failed() {
    let lab = shared();
    let report = lab
        .apply(Scenario::FailedPods, ScenarioSize::default())
        .await
        .unwrap();
    let pods = Api::<Pod>::all(lab.admin_client().await.unwrap())
        .list(&labelled(Scenario::FailedPods).fields("status.phase=Failed"))
        .await
        .unwrap();
    assert_eq!(pods.items.len(), report.count("Pod"));
    assert!(
        pods.items
            .iter()
            .any(|p| p.status.as_ref().unwrap().reason.as_deref() == Some("Evicted"))
    );
    let namespaces: std::collections::BTreeSet<_> =
        pods.items.iter().filter_map(|p| p.namespace()).collect();
    assert!(namespaces.len() > 1);
}

#[tokio::test]
async fn object_bloat_creates_many_large_and_env_heavy_objects() {
    let lab = shared();
    let size = ScenarioSize {
        bloat_objects: 1000,
        ..ScenarioSize::default()
    };
    let report = lab
        .apply(Scenario::ObjectBloat, size.clone())
        .await
        .unwrap();
    eprintln!("{report}");
    let client = lab.admin_client().await.unwrap();
    let cms = Api::<ConfigMap>::all(client.clone())
        .list(&labelled(Scenario::ObjectBloat))
        .await
        .unwrap();
    let secrets = Api::<Secret>::all(client.clone())
        .list(&labelled(Scenario::ObjectBloat))
        .await
        .unwrap();
    let leases = Api::<Lease>::all(client.clone())
        .list(&labelled(Scenario::ObjectBloat))
        .await
        .unwrap();
    assert_eq!(
        cms.items.len() + secrets.items.len() + leases.items.len(),
        1000 + size.large_objects
    );
    let big = cms
        .items
        .iter()
        .filter_map(|c| c.data.as_ref()?.get("config.yaml").map(String::len))
        .filter(|len| *len > 512 * 1024)
        .count()
        + secrets
            .items
            .iter()
            .filter_map(|s| s.data.as_ref()?.get("token").map(|b| b.0.len()))
            .filter(|len| *len > 512 * 1024)
            .count();
    assert_eq!(big, size.large_objects);
    let pods = Api::<Pod>::all(client)
        .list(&labelled(Scenario::ObjectBloat))
        .await
        .unwrap();
    assert_eq!(pods.items.len(), size.env_heavy_pods);
    for pod in pods.items {
        let env = pod.spec.unwrap().containers[0].env.clone().unwrap();
        assert!(env.len() >= 100, "hundreds of env vars, got {}", env.len());
    }
}

#[tokio::test]
async fn helm_history_is_stored_like_helm_stores_it() {
    let lab = shared();
    lab.apply(Scenario::HelmHistory, ScenarioSize::default())
        .await
        .unwrap();
    let client = lab.admin_client().await.unwrap();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "lab-helm");
    let web = secrets
        .list(&ListParams::default().labels("owner=helm,name=web"))
        .await
        .unwrap();
    assert!(web.items.len() >= 24, "dozens of revisions");
    let deployed: Vec<_> = web
        .items
        .iter()
        .filter(|s| s.labels()["status"] == "deployed")
        .collect();
    assert_eq!(deployed.len(), 1);
    let newest = web
        .items
        .iter()
        .map(|s| s.labels()["version"].parse::<usize>().unwrap())
        .max()
        .unwrap();
    assert_eq!(
        deployed[0].name_any(),
        format!("sh.helm.release.v1.web.v{newest}")
    );
    for s in &web.items {
        assert_eq!(s.type_.as_deref(), Some("helm.sh/release.v1"));
        let release = &s.data.as_ref().unwrap()["release"].0;
        assert!(release.starts_with(b"H4sI") && release.len() > 10_000);
    }
    let legacy = Api::<ConfigMap>::namespaced(client, "lab-helm")
        .list(&ListParams::default().labels("owner=helm,name=legacy"))
        .await
        .unwrap();
    assert!(!legacy.items.is_empty());
    assert!(
        legacy
            .items
            .iter()
            .all(|c| c.name_any().starts_with("sh.helm.release.v1.legacy.v"))
    );
}

#[tokio::test]
async fn konnectivity_agents_crash_loop() {
    let lab = shared();
    lab.apply(Scenario::KonnectivityCrashloop, ScenarioSize::default())
        .await
        .unwrap();
    let pods = Api::<Pod>::namespaced(lab.admin_client().await.unwrap(), "kube-system")
        .list(&ListParams::default().labels("k8s-app=konnectivity-agent"))
        .await
        .unwrap();
    assert_eq!(pods.items.len(), ScenarioSize::default().crashloop_pods);
    for pod in pods.items {
        let cs = &pod.status.unwrap().container_statuses.unwrap()[0];
        assert_eq!(
            cs.state
                .as_ref()
                .unwrap()
                .waiting
                .as_ref()
                .unwrap()
                .reason
                .as_deref(),
            Some("CrashLoopBackOff")
        );
        assert!(cs.restart_count > 50);
    }
    // kubectl shows what an operator would see.
    let (ok, out, err) = kubectl(
        lab.admin_kubeconfig(),
        &[
            "get",
            "pods",
            "-n",
            "kube-system",
            "-l",
            "k8s-app=konnectivity-agent",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("CrashLoopBackOff"), "{out}");
}

#[tokio::test]
async fn failing_webhook_rejects_pod_creation() {
    let lab = fresh_lab(true).await;
    lab.apply(Scenario::FailingWebhook, ScenarioSize::default())
        .await
        .unwrap();
    let client = lab.admin_client().await.unwrap();
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "blocked" },
        "spec": { "containers": [{ "name": "c", "image": "registry.lab.apidiag.dev/x:1" }] },
    }))
    .unwrap();
    // The default namespace and the lab's namespaces are covered.
    for ns in ["default", "team-a"] {
        let err = Api::<Pod>::namespaced(client.clone(), ns)
            .create(&PostParams::default(), &pod)
            .await
            .expect_err("pod creation must fail");
        assert!(err.to_string().contains("failed calling webhook"), "{err}");
    }
    let (ok, _, err) = kubectl(
        lab.admin_kubeconfig(),
        &["run", "blocked", "-n", "default", "--image=busybox"],
    );
    assert!(!ok && err.contains("failed calling webhook"), "{err}");
    // kube-system is excluded, as policy engines usually do.
    Api::<Pod>::namespaced(client, "kube-system")
        .create(&PostParams::default(), &pod)
        .await
        .expect("kube-system is exempt");
}

/// Scenarios can be applied again even behind `failing-webhook`: the webhook
/// rejects pod creation before the API server could answer "already exists", so
/// pods that are there must be kept, not created again.
#[tokio::test]
async fn failed_pods_apply_again_behind_the_failing_webhook() {
    let lab = fresh_lab(false).await;
    let size = ScenarioSize {
        failed_pods: 4,
        ..ScenarioSize::default()
    };
    lab.apply(Scenario::FailedPods, size.clone()).await.unwrap();
    lab.apply(Scenario::FailingWebhook, size.clone())
        .await
        .unwrap();
    let again = lab
        .apply(Scenario::FailedPods, size.clone())
        .await
        .expect("applying failed-pods again on a lab with failing-webhook");
    eprintln!("{again}");
    assert_eq!(again.count("Pod"), size.failed_pods);
    let pods = Api::<Pod>::all(lab.admin_client().await.unwrap())
        .list(&labelled(Scenario::FailedPods).fields("status.phase=Failed"))
        .await
        .unwrap();
    assert_eq!(pods.items.len(), size.failed_pods);

    // Pods that are not there yet still meet the webhook, and its error is reported.
    let bigger = ScenarioSize {
        failed_pods: size.failed_pods + 2,
        ..size
    };
    let started = Instant::now();
    let err = lab
        .apply(Scenario::FailedPods, bigger)
        .await
        .expect_err("new pods are rejected by the webhook");
    eprintln!("rejected after {:?}: {err}", started.elapsed());
    assert!(err.to_string().contains("failed calling webhook"), "{err}");
}

#[tokio::test]
async fn flood_is_throttled_while_the_admin_is_served() {
    let lab = fresh_lab(true).await;
    lab.apply(Scenario::ObjectBloat, ScenarioSize::scaled(0.3))
        .await
        .unwrap();

    // Admin traffic at the same time as the flood must all succeed.
    let admin = lab.admin_client().await.unwrap();
    let stop = Arc::new(AtomicU64::new(0));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let background = {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        tokio::spawn(async move {
            let api: Api<ConfigMap> = Api::all(admin);
            while stop.load(Ordering::Relaxed) == 0 {
                match api.list_metadata(&ListParams::default().limit(50)).await {
                    Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        eprintln!("admin request failed: {e}");
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        })
    };
    let started = Instant::now();
    let report = lab
        .apply(Scenario::Flood, ScenarioSize::default())
        .await
        .unwrap();
    stop.store(1, Ordering::Relaxed);
    background.await.unwrap();
    eprintln!("{report} (flood phase {:?})", started.elapsed());
    let flood = report.flood.unwrap();
    assert!(flood.throttled > 0, "{flood:?}");
    assert!(flood.sent <= ScenarioSize::default().flood_requests as u64);
    assert!(ok.load(Ordering::Relaxed) > 0);
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "admin requests failed during the flood"
    );

    let metrics = lab.get_text("/metrics").await.unwrap();
    let rejected: f64 = metrics
        .lines()
        .filter(|l| {
            l.starts_with("apiserver_flowcontrol_rejected_requests_total{")
                && l.contains("flow_schema=\"lab-flooder\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(
        rejected >= flood.throttled as f64,
        "metrics show {rejected} rejections"
    );
    let events = audit_events(lab.audit_log());
    let throttled = events
        .iter()
        .filter(|e| {
            e["userAgent"] == "lab-flooder/1.0"
                && e["responseStatus"]["code"] == 429
                && e["user"]["username"] == "flooder"
        })
        .count();
    assert!(throttled > 0, "no 429 for lab-flooder/1.0 in the audit log");
}

#[tokio::test]
async fn guard_and_unavailable_apiservice_exist_as_on_aks() {
    let lab = fresh_lab(true).await;
    lab.apply(Scenario::Guard, ScenarioSize::default())
        .await
        .unwrap();
    lab.apply(Scenario::UnavailableApiService, ScenarioSize::default())
        .await
        .unwrap();
    let client = lab.admin_client().await.unwrap();

    let level = Api::<PriorityLevelConfiguration>::all(client.clone())
        .get("aks-managed-apiserver-guard")
        .await
        .unwrap();
    let limited = level.spec.unwrap().limited.unwrap();
    assert_eq!(limited.lendable_percent, Some(0));
    assert_eq!(limited.limit_response.unwrap().type_, "Reject");
    let schemas = Api::<FlowSchema>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    let guard = schemas
        .items
        .iter()
        .find(|f| f.name_any() == "aks-managed-apiserver-guard")
        .unwrap();
    let precedence = guard.spec.as_ref().unwrap().matching_precedence.unwrap();
    for system in [
        "exempt",
        "system-leader-election",
        "kube-controller-manager",
        "kube-system-service-accounts",
    ] {
        let s = schemas
            .items
            .iter()
            .find(|f| f.name_any() == system)
            .unwrap();
        assert!(
            s.spec.as_ref().unwrap().matching_precedence.unwrap() < precedence,
            "{system} matches first"
        );
    }
    let event = Api::<Event>::namespaced(client.clone(), "kube-system")
        .get("aks-managed-apiserver-throttling-enabled")
        .await
        .unwrap();
    assert_eq!(event.involved_object.kind.as_deref(), Some("FlowSchema"));
    assert_eq!(
        event.reason.as_deref(),
        Some("AKSManagedAPIServerThrottlingEnabled")
    );
    Api::<ConfigMap>::namespaced(client.clone(), "kube-system")
        .get("large-cluster-control-plane-scaling-status")
        .await
        .unwrap();

    let apiservice = Api::<APIService>::all(client)
        .get("v1beta1.metrics.lab.apidiag.dev")
        .await
        .unwrap();
    let conditions = apiservice.status.unwrap().conditions.unwrap();
    assert!(
        conditions
            .iter()
            .any(|c| c.type_ == "Available" && c.status == "False")
    );
}

/// Every scenario composes on one lab, in well under a minute at default sizes.
#[tokio::test]
async fn all_scenarios_compose() {
    let lab = fresh_lab(true).await;
    let started = Instant::now();
    for s in Scenario::ALL {
        let report = lab.apply(s, ScenarioSize::default()).await.unwrap();
        eprintln!("{report}");
    }
    let elapsed = started.elapsed();
    eprintln!("all scenarios: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(120), "took {elapsed:?}");
}
