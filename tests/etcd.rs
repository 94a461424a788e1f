//! `kubectl apidiag etcd` end to end, against a real kube-apiserver with the job,
//! TTL and garbage-collection controllers running.
//!
//! One story on a fresh lab, in order, because the fixes delete cluster objects: a
//! healthy cluster; the seeds' leaks injected by the lab's scenarios and counted
//! back exactly (the expected numbers follow from the scenario code, and are
//! cross-checked with kubectl); each fix refused, previewed, applied with its
//! backup and, for the Job cleanup, undone; and a user without cluster-wide rights,
//! who gets a partial report. The cluster is read back with real kubectl.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use apidiag_test::{
    Lab, LabOptions, Sandbox, Scenario, ScenarioSize, findings, json_report, kubectl,
};
use serde_json::Value;

/// The suite binary, built by cargo from this source for this test.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

const RUNNING_LABEL: &str = "lab.apidiag.dev/expect=running";

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

struct Story<'a> {
    sandbox: Sandbox,
    admin: &'a Path,
}

impl Story<'_> {
    fn etcd(&self, args: &[&str]) -> Output {
        self.sandbox
            .cmd(APIDIAG)
            .arg("etcd")
            .arg("--kubeconfig")
            .arg(self.admin)
            .args(args)
            .timeout(Duration::from_secs(300))
            .output()
            .unwrap()
    }

    fn report(&self, args: &[&str]) -> Value {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        let output = self.etcd(&all);
        assert!(
            [0, 1, 2].contains(&code(&output)),
            "exit {}: {}",
            code(&output),
            stderr(&output)
        );
        json_report(&output.stdout)
    }

    fn kubectl(&self, args: &[&str]) -> Value {
        let output = self
            .sandbox
            .cmd(kubectl())
            .arg("--kubeconfig")
            .arg(self.admin)
            .args(args)
            .args(["-o", "json"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "kubectl {args:?}: {}",
            stderr(&output)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    fn names(&self, args: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = self.kubectl(args)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    }

    /// `kubectl apidiag undo --yes ARGS…`.
    fn undo(&self, args: &[&str]) -> Output {
        self.sandbox
            .cmd(APIDIAG)
            .arg("--kubeconfig")
            .arg(self.admin)
            .args(["undo", "--yes"])
            .args(args)
            .output()
            .unwrap()
    }
}

fn finding<'a>(report: &'a Value, id: &str) -> &'a Value {
    findings(report, "etcd")
        .into_iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

/// The rows of a table in a finding's evidence, by the start of its label.
fn rows(finding: &Value, label: &str) -> Vec<Vec<String>> {
    finding["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"].as_str().unwrap().starts_with(label))
        .unwrap_or_else(|| panic!("no table {label:?} in {finding:#}"))["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

/// `(namespace, owner)` → count, from a "by namespace and owner" table.
fn by_owner(rows: &[Vec<String>]) -> BTreeMap<(String, String), u64> {
    rows.iter()
        .map(|r| ((r[0].clone(), r[1].clone()), r[2].parse().unwrap()))
        .collect()
}

fn key(ns: &str, owner: &str) -> (String, String) {
    (ns.to_string(), owner.to_string())
}

#[test]
fn etcd_story_on_a_real_api_server() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = runtime
        .block_on(Lab::start(LabOptions::default()))
        .expect("the lab starts");
    let story = Story {
        sandbox: Sandbox::new(),
        admin: lab.admin_kubeconfig(),
    };

    // A healthy cluster: every finding ok, everything seen, exit 0.
    let healthy = story.etcd(&["-o", "json"]);
    assert_eq!(code(&healthy), 0, "{}", stderr(&healthy));
    let report = json_report(&healthy.stdout);
    assert_eq!(
        report["checks"][0]["status"]["state"], "complete",
        "{report:#}"
    );
    for f in findings(&report, "etcd") {
        assert_eq!(f["severity"], "ok", "{f:#}");
    }
    let db = finding(&report, "etcd.db-size");
    assert!(
        db.to_string()
            .contains("found apiserver_storage_size_bytes"),
        "the metric name found is stated: {db:#}"
    );

    // The seeds' leaks, small. Expected numbers follow from the scenario code:
    // 24 completed Jobs over lab-jobs-{a,b,c}, every other one in a and b owned by
    // that namespace's CronJob, every third (by index) with a TTL; 2 left running.
    let size = ScenarioSize {
        completed_jobs: 24,
        running_jobs: 2,
        failed_pods: 12,
        bloat_objects: 300,
        large_objects: 4,
        env_heavy_pods: 3,
        helm_revisions: 20,
        ..ScenarioSize::default()
    };
    let mut created = BTreeMap::new();
    for scenario in [
        Scenario::ObjectBloat,
        Scenario::HelmHistory,
        Scenario::CompletedJobs,
        Scenario::FailedPods,
    ] {
        let applied = runtime
            .block_on(lab.apply(scenario, size.clone()))
            .unwrap_or_else(|e| panic!("{scenario}: {e}"));
        created.insert(scenario, applied);
    }
    let jobs = &created[&Scenario::CompletedJobs];
    assert_eq!(jobs.count("Job"), 26);

    let report = story.report(&["--scan-sizes"]);
    assert_eq!(
        report["checks"][0]["status"]["state"], "complete",
        "{report:#}"
    );

    let completed = finding(&report, "etcd.completed-jobs");
    assert_eq!(completed["severity"], "info");
    assert!(
        completed["title"]
            .as_str()
            .unwrap()
            .starts_with("24 completed Jobs kept in 3 namespaces"),
        "{completed:#}"
    );
    let groups = by_owner(&rows(completed, "completed Jobs by namespace"));
    assert_eq!(
        groups,
        BTreeMap::from([
            (key("lab-jobs-a", "-"), 4),
            (key("lab-jobs-a", "cronjob/quarterly-report"), 4),
            (key("lab-jobs-b", "-"), 4),
            (key("lab-jobs-b", "cronjob/yearly-archive"), 4),
            (key("lab-jobs-c", "-"), 8),
        ])
    );
    // Cross-check with kubectl and the guide's own selector.
    let kubectl_completed = story.kubectl(&[
        "get",
        "jobs",
        "-A",
        "--field-selector",
        "status.successful=1",
    ]);
    assert_eq!(kubectl_completed["items"].as_array().unwrap().len(), 24);

    let without_ttl = finding(&report, "etcd.jobs-without-ttl");
    assert!(
        without_ttl["title"]
            .as_str()
            .unwrap()
            .starts_with("15 completed Jobs without"),
        "{without_ttl:#}"
    );
    assert_eq!(
        by_owner(&rows(without_ttl, "completed Jobs without TTL")),
        BTreeMap::from([
            (key("lab-jobs-a", "-"), 3),
            (key("lab-jobs-a", "cronjob/quarterly-report"), 2),
            (key("lab-jobs-b", "-"), 3),
            (key("lab-jobs-b", "cronjob/yearly-archive"), 2),
            (key("lab-jobs-c", "-"), 5),
        ])
    );
    let history = finding(&report, "etcd.cronjob-history");
    assert_eq!(history["severity"], "warning");
    let history_rows = rows(history, "CronJobs with history limits");
    assert_eq!(history_rows.len(), 2);
    assert_eq!(history_rows[0][0], "lab-jobs-a/quarterly-report");
    assert_eq!(history_rows[0][1], "100000");
    assert_eq!(history_rows[0][3], "4", "completed Jobs it keeps");

    let failed = finding(&report, "etcd.failed-pods");
    assert!(
        failed["title"]
            .as_str()
            .unwrap()
            .starts_with("12 failed Pods kept in 2 namespaces"),
        "{failed:#}"
    );
    assert_eq!(
        by_owner(&rows(failed, "failed Pods by namespace")),
        BTreeMap::from([(key("lab-failed-a", "-"), 6), (key("lab-failed-b", "-"), 6)])
    );

    // Helm: web 20 revisions, api 15, worker 12 as Secrets, legacy 8 as ConfigMaps.
    let helm = finding(&report, "etcd.helm-history");
    assert_eq!(helm["severity"], "warning");
    assert!(
        helm["title"]
            .as_str()
            .unwrap()
            .starts_with("3 Helm releases keep more than 10 revisions (47 stored)"),
        "{helm:#}"
    );
    let releases: BTreeMap<String, (String, String, String)> = rows(helm, "Helm releases")
        .into_iter()
        .map(|r| (r[1].clone(), (r[2].clone(), r[3].clone(), r[4].clone())))
        .collect();
    assert_eq!(
        releases["web"],
        ("secret".into(), "20".into(), "v20".into())
    );
    assert_eq!(
        releases["legacy"],
        ("configmap".into(), "8".into(), "v8".into())
    );
    assert!(
        helm["detail"]
            .as_str()
            .unwrap()
            .contains("--history-max 10")
    );

    // Large objects: 4 of 0.55–0.9 MiB in lab-bloat-a; names and sizes, never data.
    let large = finding(&report, "etcd.large-objects");
    assert_eq!(large["severity"], "warning", "{large:#}");
    assert!(
        large["title"]
            .as_str()
            .unwrap()
            .starts_with("4 ConfigMaps/Secrets of 512 KiB"),
        "{large:#}"
    );
    let biggest = rows(large, "largest ConfigMaps and Secrets");
    let flagged: Vec<&String> = biggest
        .iter()
        .filter(|r| r[3] == "large")
        .map(|r| &r[1])
        .collect();
    assert_eq!(flagged.len(), 4, "{biggest:?}");
    assert!(
        flagged.iter().all(|n| n.starts_with("lab-bloat-a/huge-")),
        "{flagged:?}"
    );
    let secret = story.kubectl(&["get", "secret", "-n", "lab-bloat-a", "huge-secret-1"]);
    let data = secret["data"]["token"].as_str().unwrap();
    assert!(
        !String::from_utf8_lossy(&story.etcd(&["-o", "json", "--scan-sizes"]).stdout)
            .contains(&data[100..160]),
        "Secret data must never be printed"
    );
    let env = finding(&report, "etcd.env-heavy-pods");
    assert!(
        env["title"].as_str().unwrap().starts_with("3 Pods carry"),
        "{env:#}"
    );

    // Object counts come from the metric, refreshed every few seconds: they settle
    // on exactly what kubectl counts.
    let kubectl_config_maps = story.kubectl(&["get", "configmaps", "-A"])["items"]
        .as_array()
        .unwrap()
        .len();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let report = story.report(&[]);
        let counts = finding(&report, "etcd.object-count");
        // From the metric, not from the LIST that stands in while it holds nothing.
        let text = counts.to_string();
        let from_metric =
            text.contains("found apiserver_resource_objects") && !text.contains("LIST ?limit=1");
        let metric = rows(counts, "objects per type")
            .into_iter()
            .find(|r| r[0] == "configmaps")
            .map(|r| r[1].parse::<usize>().unwrap());
        if from_metric && metric == Some(kubectl_config_maps) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "configmaps: metric {metric:?}, kubectl {kubectl_config_maps}\n{counts:#}"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    let quota = finding(&report, "etcd.no-object-quota");
    assert_eq!(
        quota["evidence"][0]["value"],
        "lab-failed-a, lab-failed-b, lab-helm, lab-jobs-a, lab-jobs-b, lab-jobs-c"
    );
    assert!(finding(&report, "etcd.dominant-factor")["severity"] == "ok");
    assert!(report["cost"]["requests"].as_u64().unwrap() > 0);

    completed_jobs_cleanup(&story);
    failed_pods_cleanup(&story);
    helm_prune(&story);
    cronjob_ttl_and_quota(&story);
    a_user_without_cluster_rights(&story, lab.user_kubeconfig());
}

fn completed_jobs_cleanup(story: &Story<'_>) {
    let completed = |ns: &str| {
        story.names(&[
            "get",
            "jobs",
            "-n",
            ns,
            "--field-selector",
            "status.successful=1",
        ])
    };
    let running = story.names(&["get", "jobs", "-A", "-l", RUNNING_LABEL]);
    assert_eq!(running.len(), 2);
    let before_a = completed("lab-jobs-a");
    let before_b = completed("lab-jobs-b");
    assert_eq!((before_a.len(), before_b.len()), (8, 8));

    // --dry-run: previewed and dry-run on the server; nothing changes, no bundle.
    let dry = story.etcd(&["--fix", "completed-jobs", "--in", "lab-jobs-a", "--dry-run"]);
    assert!(
        stderr(&dry).contains("delete 8 Job(s) (propagation Background)"),
        "{}",
        stderr(&dry)
    );
    assert!(
        stderr(&dry).contains("server dry run: 1 sampled delete (one per namespace) accepted"),
        "{}",
        stderr(&dry)
    );
    assert!(
        stderr(&dry).contains("not backed up"),
        "the preview says Pods are not in the backup"
    );
    assert_eq!(completed("lab-jobs-a"), before_a);
    assert!(
        story.sandbox.bundles().is_empty(),
        "{:?}",
        story.sandbox.bundles()
    );

    // No terminal and no --yes: nothing changes, exit 4.
    let skipped = story.etcd(&["--fix", "completed-jobs", "--in", "lab-jobs-a"]);
    assert_eq!(code(&skipped), 4, "{}", stderr(&skipped));
    assert_eq!(completed("lab-jobs-a"), before_a);
    assert!(
        story.sandbox.bundles().is_empty(),
        "{:?}",
        story.sandbox.bundles()
    );
    // Neither run wrote a single object to disk, not even a staging folder that
    // it removed again: the backup folder was never made.
    assert!(
        !story.sandbox.backups().exists(),
        "a run that could not act wrote to {}",
        story.sandbox.backups().display()
    );

    // --yes without namespaces: refused before anything is read.
    let unnamed = story.etcd(&["--fix", "completed-jobs", "--yes"]);
    assert_eq!(code(&unnamed), 64, "{}", stderr(&unnamed));

    // Only Jobs created at least an hour ago: none here.
    let old = story.etcd(&[
        "--fix",
        "completed-jobs",
        "--in",
        "lab-jobs-a",
        "--older-than",
        "1h",
        "--yes",
    ]);
    assert_eq!(code(&old), 0, "{}", stderr(&old));
    assert!(
        stderr(&old).contains("left alone: 8 Job(s): younger than --older-than"),
        "{}",
        stderr(&old)
    );
    assert_eq!(completed("lab-jobs-a"), before_a);

    // The cleanup of two namespaces: exactly their completed Jobs, nothing running,
    // nothing elsewhere.
    let uids_a: Vec<Value> = story.kubectl(&[
        "get",
        "jobs",
        "-n",
        "lab-jobs-a",
        "--field-selector",
        "status.successful=1",
    ])["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["metadata"]["uid"].clone())
        .collect();
    let output = story.etcd(&[
        "--fix",
        "completed-jobs",
        "--in",
        "lab-jobs-a",
        "--in",
        "lab-jobs-b",
        "--yes",
        "-o",
        "json",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let result = json_report(&output.stdout)["remediation"].clone();
    assert_eq!(result["state"], "applied", "{result:#}");
    assert_eq!(result["operations"].as_array().unwrap().len(), 16);
    assert!(completed("lab-jobs-a").is_empty());
    assert!(completed("lab-jobs-b").is_empty());
    assert_eq!(completed("lab-jobs-c").len(), 8, "not chosen, not touched");
    assert_eq!(
        story.names(&["get", "jobs", "-A", "-l", RUNNING_LABEL]),
        running,
        "running Jobs stay"
    );

    // The bundle holds the 16 Jobs as they were, page by page, and a journal.
    let bundles = story.sandbox.bundles();
    assert_eq!(bundles.len(), 1);
    let bundle = bundles[0].clone();
    assert_eq!(result["backup"].as_str().unwrap(), bundle.to_str().unwrap());
    let saved: Vec<Value> = std::fs::read_dir(bundle.join("objects"))
        .unwrap()
        .flatten()
        .flat_map(|f| {
            std::fs::read_to_string(f.path())
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(saved.len(), 16);
    for uid in &uids_a {
        assert!(
            saved.iter().any(|j| &j["metadata"]["uid"] == uid),
            "{uid} backed up"
        );
    }
    let journal = std::fs::read_to_string(bundle.join("journal.jsonl")).unwrap();
    assert_eq!(
        journal.lines().filter(|l| l.contains("\"done\"")).count(),
        16
    );

    // Background propagation: the garbage collector removes their Pods.
    let deadline = Instant::now() + Duration::from_secs(60);
    for ns in ["lab-jobs-a", "lab-jobs-b"] {
        while !story
            .names(&[
                "get",
                "pods",
                "-n",
                ns,
                "-l",
                "lab.apidiag.dev/expect=complete",
            ])
            .is_empty()
        {
            assert!(
                Instant::now() < deadline,
                "the Pods of deleted Jobs are collected"
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    // undo re-creates the 16 Jobs, finished: suspended while their status is
    // written back, then resumed; none runs again.
    let undo = story.undo(&[bundle.to_str().unwrap()]);
    assert_eq!(code(&undo), 0, "{}", stderr(&undo));
    // Streamed: it says what it will cost first (a finished Job is a create, its
    // status and its resume), and none of these Jobs has a TTL that would remove
    // it again at once.
    assert!(
        stderr(&undo).contains("this undo needs about 48 requests"),
        "{}",
        stderr(&undo)
    );
    assert!(
        !stderr(&undo).contains("has already passed"),
        "{}",
        stderr(&undo)
    );
    assert_eq!(completed("lab-jobs-a"), before_a);
    assert_eq!(completed("lab-jobs-b"), before_b);
    for job in story.kubectl(&[
        "get",
        "jobs",
        "-n",
        "lab-jobs-a",
        "--field-selector",
        "status.successful=1",
    ])["items"]
        .as_array()
        .unwrap()
    {
        assert!(!uids_a.contains(&job["metadata"]["uid"]), "a new object");
        assert_eq!(job["spec"]["suspend"], false, "resumed as it was");
        let conditions = job["status"]["conditions"].to_string();
        assert!(conditions.contains("\"Complete\""), "{conditions}");
        let uid = job["metadata"]["uid"].as_str().unwrap();
        let selector = format!("batch.kubernetes.io/controller-uid={uid}");
        assert!(
            story
                .names(&["get", "pods", "-n", "lab-jobs-a", "-l", &selector])
                .is_empty(),
            "a restored Job must not run again"
        );
    }
    // Still none a few seconds later: the job controller leaves finished Jobs alone.
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        story
            .names(&[
                "get",
                "pods",
                "-n",
                "lab-jobs-a",
                "-l",
                "lab.apidiag.dev/expect=complete"
            ])
            .is_empty()
    );
}

fn failed_pods_cleanup(story: &Story<'_>) {
    let failed = || {
        story.names(&[
            "get",
            "pods",
            "-A",
            "--field-selector",
            "status.phase=Failed",
        ])
    };
    assert_eq!(failed().len(), 12);
    let output = story.etcd(&[
        "--fix",
        "failed-pods",
        "--all-namespaces",
        "--yes",
        "-o",
        "json",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let result = json_report(&output.stdout)["remediation"].clone();
    assert_eq!(
        result["operations"].as_array().unwrap().len(),
        12,
        "{result:#}"
    );
    assert!(failed().is_empty());
    let names: Vec<String> = result["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["target"].as_str().unwrap().to_string())
        .collect();

    // Undo re-creates Pods, which then run again: --yes alone does not agree to
    // that (exit 4, nothing created); --rerun-pods does.
    let refused = story.undo(&[]);
    assert_eq!(code(&refused), 4, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--rerun-pods"),
        "{}",
        stderr(&refused)
    );
    assert!(
        stderr(&refused).contains("12 restored Pod(s) are new Pods"),
        "{}",
        stderr(&refused)
    );
    let restored = story.undo(&["--rerun-pods", "-o", "json"]);
    assert_eq!(code(&restored), 0, "{}", stderr(&restored));
    let back = json_report(&restored.stdout)["remediation"]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["outcome"] == "done")
        .count();
    assert_eq!(back, 12, "{}", stderr(&restored));
    let all_pods = story.names(&["get", "pods", "-A"]);
    for name in &names {
        let short = name.rsplit('/').next().unwrap();
        assert!(all_pods.iter().any(|p| p == short), "{name} not restored");
    }
    // The Pods that did not fail are still there.
    assert_eq!(
        story
            .names(&["get", "pods", "-n", "lab-bloat-b", "-l", "app=env-heavy"])
            .len(),
        3
    );
}

fn helm_prune(story: &Story<'_>) {
    let revisions = |release: &str, kind: &str| {
        let mut versions: Vec<u64> = story.kubectl(&[
            "get",
            kind,
            "-n",
            "lab-helm",
            "-l",
            &format!("owner=helm,name={release}"),
        ])["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                o["metadata"]["labels"]["version"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        versions.sort();
        versions
    };
    let history_before: Vec<Vec<u64>> = [
        ("web", "secrets"),
        ("api", "secrets"),
        ("worker", "secrets"),
        ("legacy", "configmaps"),
    ]
    .iter()
    .map(|(release, kind)| revisions(release, kind))
    .collect();
    // A rollback made web's revision 3 the deployed one.
    for (version, status) in [(20, "superseded"), (3, "deployed")] {
        let output = story
            .sandbox
            .cmd(kubectl())
            .arg("--kubeconfig")
            .arg(story.admin)
            .args([
                "label",
                "secret",
                "-n",
                "lab-helm",
                &format!("sh.helm.release.v1.web.v{version}"),
                &format!("status={status}"),
                "--overwrite",
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let output = story.etcd(&[
        "--fix",
        "helm-history",
        "--keep",
        "5",
        "--in",
        "lab-helm",
        "--yes",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        revisions("web", "secrets"),
        vec![3, 16, 17, 18, 19, 20],
        "the newest 5 and the deployed one"
    );
    assert_eq!(revisions("api", "secrets"), (11..=15).collect::<Vec<_>>());
    assert_eq!(revisions("worker", "secrets"), (8..=12).collect::<Vec<_>>());
    assert_eq!(
        revisions("legacy", "configmaps"),
        (4..=8).collect::<Vec<_>>(),
        "the ConfigMap driver too"
    );

    // The undo preview names the release Secrets it would re-create, and never
    // prints their data (it did: 115 KB of base64 release payload).
    let bundle = story.sandbox.bundles().pop().unwrap();
    let payload = saved_objects(&bundle)
        .into_iter()
        .find(|o| o["type"] == "helm.sh/release.v1")
        .and_then(|o| o["data"]["release"].as_str().map(str::to_string))
        .expect("the bundle holds a release Secret");
    let preview = story
        .sandbox
        .cmd(APIDIAG)
        .arg("--kubeconfig")
        .arg(story.admin)
        .arg("undo")
        .arg(&bundle)
        .arg("--dry-run")
        .output()
        .unwrap();
    assert_eq!(code(&preview), 0, "{}", stderr(&preview));
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&preview.stdout),
        stderr(&preview)
    );
    assert!(shown.contains("create secret"), "{shown}");
    assert!(
        !shown.contains(&payload[..40]),
        "Secret data printed:\n{shown}"
    );

    // The real undo brings every pruned revision back, Secrets and ConfigMaps.
    let undo = story.undo(&[bundle.to_str().unwrap()]);
    assert_eq!(code(&undo), 0, "{}", stderr(&undo));
    let history_after: Vec<Vec<u64>> = [
        ("web", "secrets"),
        ("api", "secrets"),
        ("worker", "secrets"),
        ("legacy", "configmaps"),
    ]
    .iter()
    .map(|(release, kind)| revisions(release, kind))
    .collect();
    assert_eq!(history_after, history_before);
}

/// Every object a bundle saved (bulk bundles keep pages of JSON lines).
fn saved_objects(bundle: &Path) -> Vec<Value> {
    let mut objects = Vec::new();
    for entry in std::fs::read_dir(bundle.join("objects")).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        if entry.path().extension().is_some_and(|e| e == "jsonl") {
            objects.extend(
                text.lines()
                    .map(|l| serde_json::from_str::<Value>(l).unwrap()),
            );
        } else {
            objects.push(serde_json::from_str(&text).unwrap());
        }
    }
    objects
}

fn cronjob_ttl_and_quota(story: &Story<'_>) {
    let dry = story.etcd(&[
        "--fix",
        "cronjob-ttl",
        "--ttl",
        "3600",
        "--in",
        "lab-jobs-a",
        "--dry-run",
    ]);
    assert!(
        stderr(&dry).contains("+ spec.jobTemplate.spec.ttlSecondsAfterFinished: 3600"),
        "the diff is shown: {}",
        stderr(&dry)
    );
    let output = story.etcd(&[
        "--fix",
        "cronjob-ttl",
        "--ttl",
        "3600",
        "--in",
        "lab-jobs-a",
        "--yes",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let ttl = |ns: &str, name: &str| {
        story.kubectl(&["get", "cronjob", "-n", ns, name])["spec"]["jobTemplate"]["spec"]["ttlSecondsAfterFinished"].clone()
    };
    assert_eq!(ttl("lab-jobs-a", "quarterly-report"), 3600);
    assert_eq!(
        ttl("lab-jobs-b", "yearly-archive"),
        Value::Null,
        "not chosen"
    );

    let dry = story.etcd(&[
        "--fix",
        "object-quota",
        "--quota-objects",
        "100",
        "--in",
        "lab-jobs-c",
        "--dry-run",
    ]);
    assert!(
        stderr(&dry).contains("+ kind: ResourceQuota"),
        "the YAML is shown: {}",
        stderr(&dry)
    );
    assert!(
        stderr(&dry).contains("count/jobs.batch"),
        "{}",
        stderr(&dry)
    );
    let output = story.etcd(&[
        "--fix",
        "object-quota",
        "--quota-objects",
        "100",
        "--in",
        "lab-jobs-c",
        "--yes",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let quota = story.kubectl(&[
        "get",
        "resourcequota",
        "-n",
        "lab-jobs-c",
        "apidiag-object-count",
    ]);
    assert_eq!(quota["spec"]["hard"]["count/jobs.batch"], "100");
    let report = story.report(&[]);
    let uncovered = finding(&report, "etcd.no-object-quota")["evidence"][0]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!uncovered.contains("lab-jobs-c"), "{uncovered}");

    // Undo, newest first: the quota the fix created is deleted (by UID), then the
    // CronJob's TTL is taken back out, under the real CronJob controller.
    let undo = story.undo(&[]);
    assert_eq!(code(&undo), 0, "{}", stderr(&undo));
    let quotas = story.names(&["get", "resourcequota", "-n", "lab-jobs-c"]);
    assert!(
        !quotas.contains(&"apidiag-object-count".to_string()),
        "{quotas:?}"
    );
    let undo = story.undo(&[]);
    assert_eq!(code(&undo), 0, "{}", stderr(&undo));
    assert_eq!(ttl("lab-jobs-a", "quarterly-report"), Value::Null);
}

fn a_user_without_cluster_rights(story: &Story<'_>, user: &Path) {
    let output = story
        .sandbox
        .cmd(APIDIAG)
        .arg("etcd")
        .arg("--kubeconfig")
        .arg(user)
        .args(["-o", "json"])
        .output()
        .unwrap();
    // Partial, with nothing above ok in what it saw: not "healthy" (exit 3), so
    // `kubectl apidiag etcd && echo healthy` does not lie.
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    let report = json_report(&output.stdout);
    let status = &report["checks"][0]["status"];
    assert_eq!(status["state"], "partial", "{report:#}");
    let gaps = status["gaps"].to_string();
    for unseen in [
        "/metrics",
        "completed Jobs",
        "CronJobs",
        "Helm release secrets",
        "ResourceQuotas",
    ] {
        assert!(gaps.contains(unseen), "{unseen} not named in {gaps}");
    }
    assert!(
        gaps.contains("failed Pods in other namespaces than team-a"),
        "{gaps}"
    );
    let failed = finding(&report, "etcd.failed-pods");
    assert!(
        failed["title"]
            .as_str()
            .unwrap()
            .contains("namespace team-a only"),
        "{failed:#}"
    );
}
