//! The fault suite: a bulk cleanup and its undo while the control plane fails
//! under them, with real processes. Each test has a lab of its own, because the
//! faults (a killed kube-apiserver, a paused etcd) would break any other test
//! sharing it.
//!
//! The promise under test: whatever happens, every Job a fix deleted is in a
//! bundle, a rerun finishes the work, and undo brings every one of them back.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apidiag_test::{JobsMode, Lab, LabOptions, Sandbox, Scenario, ScenarioSize, kubectl};

/// The suite binary, built by cargo from this source for this test.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

const NAMESPACES: [&str; 3] = ["lab-jobs-a", "lab-jobs-b", "lab-jobs-c"];
const JOBS: usize = 2000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn lab(rt: &tokio::runtime::Runtime) -> Lab {
    rt.block_on(Lab::start(LabOptions {
        // No TTL or job controller: the story is about what apidiag does, and
        // the restored Jobs must stay to be counted.
        controller_manager: false,
        ..LabOptions::default()
    }))
    .unwrap()
}

/// `namespace/name` of every completed Job, read with kubectl.
fn completed_jobs(admin: &Path) -> BTreeSet<String> {
    let output = Command::new(kubectl())
        .arg("--kubeconfig")
        .arg(admin)
        .args([
            "get",
            "jobs",
            "-A",
            "--field-selector",
            "status.successful=1",
            "-o",
            r#"jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}"#,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|l| NAMESPACES.iter().any(|ns| l.starts_with(&format!("{ns}/"))))
        .map(str::to_string)
        .collect()
}

fn cleanup_args(admin: &Path) -> Vec<String> {
    let mut args = vec![
        "--kubeconfig".to_string(),
        admin.display().to_string(),
        "etcd".into(),
        "--fix".into(),
        "completed-jobs".into(),
    ];
    for ns in NAMESPACES {
        args.extend(["--in".to_string(), ns.to_string()]);
    }
    // Slow enough that a fault lands in the middle of it.
    args.extend(["--yes", "--delete-qps", "40"].map(String::from));
    args
}

/// The committed bundles, oldest first (staging folders are not bundles).
fn bundles(sandbox: &Sandbox) -> Vec<PathBuf> {
    sandbox
        .bundles()
        .into_iter()
        .filter(|b| !b.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect()
}

fn journal_lines(bundle: &Path) -> usize {
    std::fs::read_to_string(bundle.join("journal.jsonl"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

fn journal_done(bundle: &Path) -> usize {
    std::fs::read_to_string(bundle.join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(r#""outcome":"done""#))
        .count()
}

/// Waits until bundle number `n` (from 1) exists and has `lines` journal lines.
fn wait_for_progress(sandbox: &Sandbox, n: usize, lines: usize) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if let Some(bundle) = bundles(sandbox).get(n - 1)
            && journal_lines(bundle) >= lines
        {
            return bundle.clone();
        }
        assert!(
            Instant::now() < deadline,
            "bundle {n} never reached {lines} journal lines"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A run in a pseudo-terminal, as a user at a terminal starts it; Ctrl-C is the
/// byte 0x03 that the terminal turns into SIGINT.
struct InTerminal {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    keys: Box<dyn Write + Send>,
    output: Arc<Mutex<Vec<u8>>>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl InTerminal {
    fn start(sandbox: &Sandbox, args: &[String]) -> Self {
        use portable_pty::{CommandBuilder, PtySize, native_pty_system};
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 160,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(APIDIAG);
        cmd.args(args);
        cmd.env("HOME", sandbox.home());
        cmd.env("TERM", "xterm");
        cmd.env_remove("KUBECONFIG");
        cmd.env_remove("APIDIAG_BACKUP_DIR");
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let keys = pty.master.take_writer().unwrap();
        InTerminal {
            child,
            keys,
            output,
            _master: pty.master,
        }
    }

    fn ctrl_c(&mut self) {
        self.keys.write_all(b"\x03").unwrap();
        self.keys.flush().unwrap();
    }

    /// The exit code, waiting at most `limit`.
    fn wait(&mut self, limit: Duration) -> (u32, Duration) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.exit_code(), started.elapsed());
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "still running after {limit:?}; it printed:\n{}",
                    self.text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }
}

/// A cleanup stopped by a full disk, by Ctrl-C once, by Ctrl-C twice and by a
/// crashed kube-apiserver, then finished by a rerun; undo restores every Job.
#[test]
fn a_cleanup_interrupted_every_way_loses_nothing() {
    let rt = runtime();
    let mut lab = lab(&rt);
    let size = ScenarioSize {
        completed_jobs: JOBS,
        jobs_mode: JobsMode::Bulk,
        ..ScenarioSize::default()
    };
    rt.block_on(lab.apply(Scenario::CompletedJobs, size))
        .unwrap();
    let admin = lab.admin_kubeconfig().to_path_buf();
    let initial = completed_jobs(&admin);
    assert!(initial.len() >= JOBS, "{} completed Jobs", initial.len());
    let sandbox = Sandbox::new();
    let args = cleanup_args(&admin);

    // 0. The backup folder is on a full file system (a 64 KiB tmpfs, mounted in
    // a mount namespace of the command's own): the backup cannot be written, so
    // nothing is deleted, and the exit code says apidiag failed (70).
    let full = tempfile::tempdir().unwrap();
    let output = Command::new("unshare")
        .args(["--mount", "--map-root-user", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o size=64k tmpfs "$0" && exec "$@""#)
        .arg(full.path())
        .arg(APIDIAG)
        .args(&args)
        .env("HOME", sandbox.home())
        .env("APIDIAG_BACKUP_DIR", full.path())
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(70), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(completed_jobs(&admin), initial, "a Job was deleted");
    assert!(bundles(&sandbox).is_empty());

    // 1. Ctrl-C once: the requests in flight finish, the rest is not sent, exit 5.
    let mut run = InTerminal::start(&sandbox, &args);
    let first = wait_for_progress(&sandbox, 1, 150);
    run.ctrl_c();
    let (code, took) = run.wait(Duration::from_secs(30));
    assert_eq!(code, 5, "{}", run.text());
    assert!(took < Duration::from_secs(10), "Ctrl-C took {took:?}");
    assert!(run.text().contains("not sent"), "{}", run.text());
    let after_first = completed_jobs(&admin);
    assert!(after_first.len() < initial.len() && !after_first.is_empty());

    // 2. Ctrl-C twice: quit at once, exit 130, the journal flushed. etcd is
    // paused first, so that the deletes sent in the next 50 ms (about two, at 40
    // a second) hang and are still in flight at the second press: unpaused, they
    // may all be answered within the 200 ms between the presses, and the run then
    // rightly ends as after one press (exit 5, seen in CI).
    let mut run = InTerminal::start(&sandbox, &args);
    let second = wait_for_progress(&sandbox, 2, 150);
    assert!(lab.pause_etcd(true));
    std::thread::sleep(Duration::from_millis(50));
    run.ctrl_c();
    std::thread::sleep(Duration::from_millis(200));
    run.ctrl_c();
    let (code, took) = run.wait(Duration::from_secs(30));
    assert!(lab.pause_etcd(false));
    wait_ready(&admin);
    assert_eq!(code, 130, "{}", run.text());
    assert!(
        took < Duration::from_secs(5),
        "the second Ctrl-C took {took:?}"
    );
    assert!(run.text().contains("interrupted twice"), "{}", run.text());
    // Flushed: every delete the cluster saw has its journal line, but for the
    // few in flight at the second Ctrl-C (the pace is 40 a second). Unflushed,
    // up to a second of lines (about 40) would be missing.
    let after_second = completed_jobs(&admin);
    let deleted = after_first.len() - after_second.len();
    let done = journal_done(&second);
    assert!(
        done <= deleted && deleted - done <= 8,
        "{deleted} Jobs deleted in the second run, {done} journalled as done"
    );

    // 3. kube-apiserver killed mid-run: the breaker stops the run with exit 5
    // well within 30 s, saying the server stopped answering.
    let mut run = Command::new(APIDIAG)
        .args(&args)
        .env("HOME", sandbox.home())
        .env_remove("KUBECONFIG")
        .env_remove("APIDIAG_BACKUP_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let third = wait_for_progress(&sandbox, 3, 150);
    lab.kill_apiserver();
    let killed = Instant::now();
    let deadline = killed + Duration::from_secs(30);
    while run.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = run.kill();
            panic!("still running 30 s after kube-apiserver died");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("the API server stopped answering"),
        "{stderr}"
    );

    // Every Job that is gone is in one of the three bundles.
    rt.block_on(lab.restart_apiserver()).unwrap();
    let gone: BTreeSet<String> = initial
        .difference(&completed_jobs(&admin))
        .cloned()
        .collect();
    let backed_up: BTreeSet<String> = [&first, &second, &third]
        .iter()
        .flat_map(|b| bundle_targets(b))
        .collect();
    let missing: Vec<&String> = gone.difference(&backed_up).collect();
    assert!(missing.is_empty(), "deleted without a backup: {missing:?}");

    // 4. The rerun on the restarted API server finishes the cleanup.
    let output = sandbox
        .cmd(APIDIAG)
        .args(&args)
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(completed_jobs(&admin).is_empty());

    // Undo, newest bundle first, one bundle per run: every Job is back.
    for n in 1..=4 {
        let output = sandbox
            .cmd(APIDIAG)
            .arg("--kubeconfig")
            .arg(&admin)
            .args(["undo", "--yes"])
            .timeout(Duration::from_secs(300))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "undo {n}: {stderr}");
    }
    assert_eq!(completed_jobs(&admin), initial);
}

/// Waits (at most 30 s) until `/readyz` answers ok again after etcd was paused.
fn wait_ready(admin: &Path) {
    let ready = Instant::now() + Duration::from_secs(30);
    while !Command::new(kubectl())
        .arg("--kubeconfig")
        .arg(admin)
        .args(["get", "--raw", "/readyz"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        assert!(
            Instant::now() < ready,
            "the API server did not become ready again"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// `namespace/name` of every object a bundle's manifest names.
fn bundle_targets(bundle: &Path) -> Vec<String> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    manifest["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| {
            format!(
                "{}/{}",
                op["target"]["namespace"].as_str().unwrap(),
                op["target"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

/// etcd stops answering (SIGSTOP) during `kubectl apidiag`: no check hangs, each
/// ends in time and says it could not check; resumed, a rerun is clean.
#[test]
fn a_paused_etcd_makes_checks_say_could_not_check_not_hang() {
    let rt = runtime();
    let lab = lab(&rt);
    let sandbox = Sandbox::new();
    let admin = lab.admin_kubeconfig();
    let healthy = sandbox.run(APIDIAG, admin, &["-o", "json"]);
    apidiag_test::assert_healthy(&healthy);

    assert!(lab.pause_etcd(true));
    let started = Instant::now();
    let output = sandbox
        .cmd(APIDIAG)
        .arg("--kubeconfig")
        .arg(admin)
        .args(["--request-timeout", "5s", "-o", "json"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(lab.pause_etcd(false));
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!(
        "with etcd paused: {took:?}, exit {:?}\n{stderr}",
        output.status.code()
    );
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let report = apidiag_test::json_report(&output.stdout);
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(
            check["status"]["state"],
            "couldNotCheck",
            "{}",
            serde_json::to_string_pretty(check).unwrap()
        );
    }
    // One timeout, not one per request: the first unanswered request stops the rest.
    assert!(took < Duration::from_secs(20), "took {took:?}");

    // Once the API server is ready again (etcd-readiness fails for a moment after
    // the pause, which the connectivity check reports as it should), every check
    // completes with nothing to say.
    wait_ready(admin);
    let after = sandbox.run(APIDIAG, admin, &["-o", "json"]);
    apidiag_test::assert_healthy(&after);
}

/// A 429 storm: `kubectl apidiag` runs as the lab's flooder (its own priority
/// level: one seat, a queue of one, Reject) while the flood saturates it, with
/// the guard scenario applied too. Every 429 is held per `Retry-After` (the run's
/// cost counts them), no request is lost to a crash or a hang, and the report
/// completes once the storm passes.
#[test]
fn a_429_storm_is_waited_out_and_the_report_completes() {
    let rt = runtime();
    let lab = lab(&rt);
    rt.block_on(lab.apply(Scenario::Guard, ScenarioSize::default()))
        .unwrap();
    let sandbox = Sandbox::new();
    let storm = ScenarioSize {
        flood_requests: 8000,
        flood_concurrency: 32,
        flood_duration: Duration::from_secs(6),
        ..ScenarioSize::default()
    };
    let (flood, output, took) = std::thread::scope(|scope| {
        let flood = scope.spawn(|| rt.block_on(lab.apply(Scenario::Flood, storm)));
        // Let the flood fill the flooder's seat and queue first.
        std::thread::sleep(Duration::from_secs(1));
        let started = Instant::now();
        let output = sandbox
            .cmd(APIDIAG)
            .arg("--kubeconfig")
            .arg(lab.flooder_kubeconfig())
            .args(["-o", "json"])
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        (flood.join().unwrap(), output, started.elapsed())
    });
    let flood = flood.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!(
        "storm: {took:?}, exit {:?}; flood {flood:?}\n{stderr}",
        output.status.code()
    );
    assert!(
        matches!(output.status.code(), Some(0..=3)),
        "exit {:?}: {stderr}",
        output.status.code()
    );
    let report = apidiag_test::json_report(&output.stdout);
    let throttled = report["cost"]["throttled"].as_u64().unwrap();
    assert!(
        throttled > 0,
        "no 429 reached apidiag: {:#}",
        report["cost"]
    );
    // Held, then answered: nothing in the report says it was throttled for good.
    let text = report.to_string();
    assert!(
        !text.contains("kept throttling"),
        "a request gave up on 429s: {text}"
    );
}
