//! `completed-jobs`: finished Jobs nobody cleans up, the most common source of
//! object bloat, next to Jobs that are still running (which a cleanup must spare).
//!
//! There is no kubelet, so in controller mode the lab plays one: the real job
//! controller creates each Job's pod, the lab marks the pod `Succeeded` through
//! `pods/status`, and the job controller completes the Job. That is a few hundred
//! Jobs a minute; for the benchmark's tens of thousands, bulk mode hands the Jobs
//! to an external controller (`spec.managedBy`) and writes their final status
//! through `jobs/status`, as such a controller would.

use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};
use serde_json::{Value, json};

use super::util::{self, Rng, ago, from_json, labels};
use super::{JobsMode, Scenario, ScenarioContext, ScenarioReport, ScenarioSize};
use crate::LabError;

pub(super) const NAMESPACES: [&str; 3] = ["lab-jobs-a", "lab-jobs-b", "lab-jobs-c"];

/// `(namespace, name, schedule)`. The schedules almost never fire, so the CronJob
/// controller adopts and keeps our Jobs but does not start new ones mid-test.
const CRONJOBS: [(&str, &str, &str); 2] = [
    ("lab-jobs-a", "quarterly-report", "0 3 1 */3 *"),
    ("lab-jobs-b", "yearly-archive", "0 4 1 1 *"),
];

/// The CronJobs' history limit: high enough that their controller never prunes the
/// Jobs, which is exactly the misconfiguration that lets them pile up.
const HISTORY_LIMIT: i32 = 100_000;

/// The external controller bulk-mode Jobs are handed to.
pub(crate) const BULK_MANAGER: &str = "lab.apidiag.dev/bulk";

/// Label saying what the lab expects of a Job: `complete` or `running`.
pub const EXPECT_LABEL: &str = "lab.apidiag.dev/expect";

/// TTL of the Jobs that have one: an hour, so they outlive a test run.
const TTL_SECONDS: i32 = 3600;

const IMAGE: &str = "registry.lab.apidiag.dev/batch:1.0";

struct Planned {
    namespace: &'static str,
    name: String,
    /// Index into CRONJOBS.
    owner: Option<usize>,
    ttl: bool,
    complete: bool,
}

/// Spreads Jobs over the namespaces; in namespaces with a CronJob every other Job
/// is owned by it, and every third Job (owned or not) has a TTL.
fn plan(completed: usize, running: usize) -> Vec<Planned> {
    let mut jobs = Vec::with_capacity(completed + running);
    for i in 0..completed {
        let namespace = NAMESPACES[i % NAMESPACES.len()];
        let k = i / NAMESPACES.len();
        let owner = CRONJOBS
            .iter()
            .position(|c| c.0 == namespace)
            .filter(|_| k.is_multiple_of(2));
        let name = match owner {
            // Named like the CronJob controller names Jobs (scheduled minute).
            Some(c) => format!("{}-{}", CRONJOBS[c].1, 29_000_000 + k),
            None => format!("batch-{k:05}"),
        };
        jobs.push(Planned {
            namespace,
            name,
            owner,
            ttl: k.is_multiple_of(3),
            complete: true,
        });
    }
    for j in 0..running {
        let owned = j == 0;
        jobs.push(Planned {
            namespace: if owned {
                CRONJOBS[0].0
            } else {
                NAMESPACES[j % NAMESPACES.len()]
            },
            name: if owned {
                format!("{}-{}", CRONJOBS[0].1, 29_999_999)
            } else {
                format!("still-running-{j}")
            },
            owner: owned.then_some(0),
            ttl: false,
            complete: false,
        });
    }
    jobs
}

fn pod_template(app: &str, expect: &str) -> Value {
    json!({
        "metadata": { "labels": { "app": app, EXPECT_LABEL: expect } },
        "spec": {
            "restartPolicy": "Never",
            "containers": [{ "name": "main", "image": IMAGE, "command": ["/bin/run-batch"] }],
        },
    })
}

pub(super) async fn apply(
    ctx: &ScenarioContext,
    size: &ScenarioSize,
    report: &mut ScenarioReport,
) -> Result<(), LabError> {
    let client = ctx.client();
    for ns in NAMESPACES {
        util::ensure_namespace(client, Scenario::CompletedJobs, ns).await?;
    }
    let mode = match size.jobs_mode {
        JobsMode::Auto
            if ctx.controller_manager && size.completed_jobs <= JobsMode::AUTO_CONTROLLER_LIMIT =>
        {
            JobsMode::Controller
        }
        JobsMode::Auto => JobsMode::Bulk,
        JobsMode::Controller if !ctx.controller_manager => {
            return Err(LabError::Scenario {
                scenario: Scenario::CompletedJobs.name(),
                message: "controller mode needs kube-controller-manager; start the lab with it or use bulk mode".into(),
            });
        }
        other => other,
    };

    let mut cron_uids = Vec::new();
    for (ns, name, schedule) in CRONJOBS {
        let cronjob: CronJob = from_json(json!({
            "metadata": { "name": name, "namespace": ns, "labels": labels(Scenario::CompletedJobs, &[("app", name)]) },
            "spec": {
                "schedule": schedule,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": HISTORY_LIMIT,
                "failedJobsHistoryLimit": 10,
                "jobTemplate": { "spec": { "backoffLimit": 0, "template": pod_template(name, "complete") } },
            },
        }))?;
        let cronjob = util::create_or_keep(&Api::namespaced(client.clone(), ns), &cronjob).await?;
        cron_uids.push(cronjob.uid().unwrap_or_default());
    }
    report.add("CronJob", CRONJOBS.len());

    let planned = plan(size.completed_jobs, size.running_jobs);
    let completing = planned.iter().filter(|p| p.complete).count();
    let cron_uids = &cron_uids;
    let mode_ref = &mode;
    util::run_concurrently(
        "completed-jobs: Jobs",
        planned,
        size.concurrency,
        |p| async move {
            let bulk = *mode_ref == JobsMode::Bulk && p.complete;
            let job = job_manifest(&p, cron_uids, bulk)?;
            let api: Api<Job> = Api::namespaced(client.clone(), p.namespace);
            let job = util::create_or_keep(&api, &job).await?;
            let started = job.status.as_ref().is_some_and(|s| s.start_time.is_some());
            if bulk && !started {
                util::patch_status(&api, &p.name, &bulk_status(&p.name, p.ttl)).await?;
            }
            Ok(())
        },
    )
    .await?;
    report.add("Job", completing + size.running_jobs);

    if mode == JobsMode::Controller {
        let pods = drive_job_controller(client, completing).await?;
        report.add("Pod", pods);
    }
    report.notes.push(format!(
        "{completing} Jobs completed ({} mode), {} left running",
        match mode {
            JobsMode::Bulk => "bulk",
            _ => "controller",
        },
        size.running_jobs
    ));
    Ok(())
}

fn job_manifest(p: &Planned, cron_uids: &[String], bulk: bool) -> Result<Job, LabError> {
    let expect = if p.complete { "complete" } else { "running" };
    let app = p.owner.map_or("batch", |c| CRONJOBS[c].1);
    let mut job = json!({
        "metadata": {
            "name": p.name,
            "namespace": p.namespace,
            "labels": labels(Scenario::CompletedJobs, &[("app", app), (EXPECT_LABEL, expect)]),
        },
        "spec": {
            "completions": 1,
            "parallelism": 1,
            "backoffLimit": 0,
            "template": pod_template(app, expect),
        },
    });
    if let Some(c) = p.owner {
        job["metadata"]["ownerReferences"] = json!([{
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": CRONJOBS[c].1,
            "uid": cron_uids[c],
            "controller": true,
            "blockOwnerDeletion": true,
        }]);
    }
    if p.ttl {
        job["spec"]["ttlSecondsAfterFinished"] = json!(TTL_SECONDS);
    }
    if bulk {
        job["spec"]["managedBy"] = json!(BULK_MANAGER);
    }
    from_json(job)
}

/// The status the job controller would have written for a Job whose single pod
/// succeeded; 1.37 validates the conditions (SuccessCriteriaMet before Complete),
/// startTime and completionTime. Completion times spread over the past month, except
/// for Jobs with a TTL, which finished moments ago (their TTL has not expired).
fn bulk_status(name: &str, ttl: bool) -> Value {
    let mut rng = Rng::new(util::seed(name));
    let finished_ago = if ttl {
        rng.below(300) as i64
    } else {
        60 + rng.below(30 * 24 * 3600) as i64
    };
    let ran_for = 5 + rng.below(900) as i64;
    let finished = ago(finished_ago);
    let condition = |kind: &str| {
        json!({
            "type": kind,
            "status": "True",
            "reason": "CompletionsReached",
            "message": "Reached expected number of succeeded pods",
            "lastProbeTime": finished,
            "lastTransitionTime": finished,
        })
    };
    json!({
        "startTime": ago(finished_ago + ran_for),
        "completionTime": finished,
        "succeeded": 1,
        "active": 0,
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
        "conditions": [condition("SuccessCriteriaMet"), condition("Complete")],
    })
}

/// Marks the pods of completing Jobs `Succeeded` as the job controller creates
/// them, until every completing Job reports `status.succeeded=1`. Returns the
/// number of pods marked.
async fn drive_job_controller(client: &Client, completing: usize) -> Result<usize, LabError> {
    let timeout = Duration::from_secs(60) + Duration::from_millis(200 * completing as u64);
    let deadline = Instant::now() + timeout;
    let pending = ListParams::default()
        .labels(&format!("{EXPECT_LABEL}=complete"))
        .fields("status.phase=Pending");
    let succeeded = ListParams::default()
        .labels(&format!("{EXPECT_LABEL}=complete"))
        .fields("status.successful=1");
    let mut marked = 0;
    loop {
        for ns in NAMESPACES {
            let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
            let list = util::retrying(|| pods.list(&pending))
                .await
                .map_err(LabError::kube(format!("listing pending pods in {ns}")))?;
            let pods = &pods;
            marked +=
                util::run_concurrently("completed-jobs: pods", list.items, 32, |pod| async move {
                    util::patch_status(pods, &pod.name_any(), &succeeded_pod_status())
                        .await
                        .map(|_| ())
                })
                .await?;
        }
        let mut done = 0;
        for ns in NAMESPACES {
            let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
            done += util::retrying(|| jobs.list_metadata(&succeeded))
                .await
                .map_err(LabError::kube(format!("listing completed Jobs in {ns}")))?
                .items
                .len();
        }
        if done >= completing {
            return Ok(marked);
        }
        if Instant::now() > deadline {
            return Err(LabError::Scenario {
                scenario: Scenario::CompletedJobs.name(),
                message: format!(
                    "only {done} of {completing} Jobs completed within {timeout:?}; is kube-controller-manager \
                     running (see logs/kube-controller-manager.log)? Bulk mode does not need it"
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What a kubelet reports for a pod whose only container exited 0.
fn succeeded_pod_status() -> Value {
    let (started, finished) = (ago(3), ago(0));
    json!({
        "phase": "Succeeded",
        "startTime": started,
        "conditions": [
            { "type": "Ready", "status": "False", "reason": "PodCompleted", "lastTransitionTime": finished },
        ],
        "containerStatuses": [{
            "name": "main",
            "image": IMAGE,
            "imageID": "",
            "ready": false,
            "restartCount": 0,
            "started": false,
            "state": { "terminated": {
                "exitCode": 0,
                "reason": "Completed",
                "startedAt": started,
                "finishedAt": finished,
            } },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_mixes_owned_ttl_and_running_jobs() {
        let jobs = plan(24, 2);
        assert_eq!(jobs.len(), 26);
        let complete: Vec<_> = jobs.iter().filter(|j| j.complete).collect();
        assert!(complete.iter().any(|j| j.owner.is_some() && j.ttl));
        assert!(complete.iter().any(|j| j.owner.is_some() && !j.ttl));
        assert!(complete.iter().any(|j| j.owner.is_none() && j.ttl));
        assert!(complete.iter().any(|j| j.owner.is_none() && !j.ttl));
        let running: Vec<_> = jobs.iter().filter(|j| !j.complete).collect();
        assert_eq!(running.len(), 2);
        assert!(running.iter().any(|j| j.owner.is_some()));
        let mut names: Vec<_> = jobs
            .iter()
            .map(|j| (j.namespace, j.name.as_str()))
            .collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), jobs.len(), "names are unique per namespace");
    }

    #[test]
    fn bulk_status_is_complete_and_ordered() {
        let status = bulk_status("batch-00001", false);
        assert_eq!(status["succeeded"], 1);
        assert_eq!(status["conditions"][0]["type"], "SuccessCriteriaMet");
        assert_eq!(status["conditions"][1]["type"], "Complete");
        let start = status["startTime"].as_str().unwrap();
        let end = status["completionTime"].as_str().unwrap();
        assert!(start < end, "{start} < {end}");
        let job = job_manifest(
            &Planned {
                namespace: "lab-jobs-a",
                name: "x".into(),
                owner: Some(0),
                ttl: true,
                complete: true,
            },
            &["uid-1".into(), "uid-2".into()],
            true,
        )
        .unwrap();
        let spec = job.spec.unwrap();
        assert_eq!(spec.managed_by.as_deref(), Some(BULK_MANAGER));
        assert_eq!(spec.ttl_seconds_after_finished, Some(TTL_SECONDS));
        assert_eq!(job.metadata.owner_references.unwrap()[0].uid, "uid-1");
    }
}
