//! `kubectl apidiag throttle` live, end to end: two `/metrics` scrapes of the
//! lab's real API server around the flooder's burst, then the FlowSchema fix on
//! the flooder and its undo.
//!
//! One lab of its own: the flood and the fix change cluster-wide APF objects.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use apidiag_test::{
    FLOODER_NAME, Lab, LabOptions, Sandbox, Scenario, ScenarioSize, assert_code, findings,
    json_report, kubectl,
};
use serde_json::Value;

/// The suite binary, built by cargo from this source for this test.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

fn finding<'a>(report: &'a Value, id: &str) -> &'a Value {
    apidiag_test::finding(report, "throttle", id)
}

/// The rows of the evidence table labelled `label`.
fn table<'a>(finding: &'a Value, label: &str) -> &'a Vec<Value> {
    apidiag_test::evidence_table(finding, label)
}

/// The FlowSchemas and levels apidiag generated, by kubectl.
fn generated(lab: &Lab) -> Vec<String> {
    let output = std::process::Command::new(kubectl())
        .arg("--kubeconfig")
        .arg(lab.admin_kubeconfig())
        .args([
            "get",
            "flowschemas,prioritylevelconfigurations",
            "-l",
            "apidiag.io/generated=true",
            "-o",
            "name",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn flood(size: usize) -> ScenarioSize {
    ScenarioSize {
        flood_requests: size,
        ..ScenarioSize::default()
    }
}

#[test]
fn live_load_names_the_rejecting_level_and_the_fix_throttles_the_flooder_until_undone() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab: Lab = runtime
        .block_on(Lab::start(LabOptions {
            controller_manager: false,
            ..LabOptions::default()
        }))
        .expect("the lab starts");
    let sandbox = Sandbox::new();
    let admin = lab.admin_kubeconfig();

    // A fresh lab: nothing above ok, in a window and since start.
    for window in ["3s", "0"] {
        let healthy = sandbox.run(
            APIDIAG,
            admin,
            &["throttle", "--window", window, "-o", "json"],
        );
        assert_code(&healthy, 0);
        let report = json_report(&healthy.stdout);
        for f in findings(&report, "throttle") {
            assert_eq!(f["severity"], "ok", "healthy lab, --window {window}: {f:#}");
        }
        // /version, two scrapes (one when reading since start), one APF dump.
        let expected = if window == "0" { 3 } else { 4 };
        assert_eq!(report["cost"]["requests"], expected, "{report:#}");
    }

    // The flooder bursts while the check waits between its two scrapes.
    let live = std::thread::scope(|scope| {
        let check = scope.spawn(|| {
            sandbox.run(
                APIDIAG,
                admin,
                &["throttle", "--window", "20s", "-o", "json"],
            )
        });
        std::thread::sleep(Duration::from_secs(2));
        let outcome = runtime
            .block_on(lab.apply(Scenario::Flood, flood(1500)))
            .expect("the flood runs");
        (check.join().unwrap(), outcome)
    });
    let (output, outcome) = live;
    assert_code(&output, 2);
    let report = json_report(&output.stdout);
    let rejecting = finding(&report, "throttle.apf-rejecting");
    assert_eq!(rejecting["severity"], "critical", "{rejecting:#}");
    let title = rejecting["title"].as_str().unwrap();
    assert!(
        title.contains(&format!("priority level `{FLOODER_NAME}`"))
            && title.contains(&format!("flow schema `{FLOODER_NAME}`")),
        "{title}"
    );
    let by_flow = table(rejecting, "rejections by priority level and flow schema");
    assert_eq!(by_flow[0][0], FLOODER_NAME, "{by_flow:?}");
    // The window holds the burst: every 429 the flooder got, counted by the server.
    let rejected: f64 = by_flow[0][2].as_str().unwrap().parse().unwrap();
    assert_eq!(
        rejected as u64,
        outcome.flood.unwrap().throttled,
        "{by_flow:?}"
    );
    // The flooded verb and resources: cluster-wide LISTs of pods and configmaps.
    let by_resource = table(rejecting, "429s by verb and resource");
    let named: Vec<(String, String, String)> = by_resource
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().into(),
                r[1].as_str().unwrap().into(),
                r[2].as_str().unwrap().into(),
            )
        })
        .collect();
    for resource in ["pods", "configmaps"] {
        assert!(
            named.contains(&("LIST".into(), resource.into(), "cluster".into())),
            "{named:?}"
        );
    }
    assert_eq!(report["cost"]["requests"], 4, "{report:#}");
    let levels = finding(&report, "throttle.apf-levels");
    let dumped = table(levels, "priority levels");
    assert!(
        dumped.iter().any(|row| row[0] == FLOODER_NAME),
        "{levels:#}"
    );

    // The fix on the flooder (user `flooder`, group lab:flooders, whose groups the
    // flags do not tell): a dry run changes nothing.
    let fix = [
        "throttle",
        "--fix",
        "flowschema",
        "--subject-user",
        "flooder",
        "--seats",
        "1",
        "--reject",
        "--window",
        "0",
        "-o",
        "json",
    ];
    let dry = sandbox.run(APIDIAG, admin, &[&fix[..], &["--dry-run"]].concat());
    let report = json_report(&dry.stdout);
    assert_eq!(report["remediation"]["state"], "dry-run", "{report:#}");
    let plan = finding(&report, "throttle.flowschema-plan");
    // Ahead of the lab's own schema for the flooder's group, which catches it today.
    assert!(
        plan["title"].as_str().unwrap().contains("precedence 499"),
        "{plan:#}"
    );
    assert!(
        generated(&lab).is_empty(),
        "a dry run created {:?}",
        generated(&lab)
    );

    // The same throttle from the audit log: the users behind the flooder's user
    // agent, with the groups the log recorded, and the calls it made.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::copy(lab.audit_log(), &log).unwrap();
    let from_log = sandbox.run(
        APIDIAG,
        admin,
        &[
            "throttle",
            "--audit-log",
            log.to_str().unwrap(),
            "--user-agent",
            "lab-flooder/",
            "--fix",
            "flowschema",
            "--dry-run",
            "-o",
            "json",
        ],
    );
    let report = json_report(&from_log.stdout);
    assert_eq!(report["remediation"]["state"], "dry-run", "{report:#}");
    let plan = finding(&report, "throttle.flowschema-plan");
    assert!(
        plan["title"].as_str().unwrap().contains("precedence 499"),
        "{plan:#}"
    );
    let samples = table(plan, "where the calls land today");
    assert!(
        samples
            .iter()
            .all(|row| row[0].as_str().unwrap().starts_with("flooder list ")
                && row[1] == FLOODER_NAME),
        "the flooder only LISTs, and its group lands it in {FLOODER_NAME}: {samples:?}"
    );
    assert!(
        generated(&lab).is_empty(),
        "a dry run created {:?}",
        generated(&lab)
    );

    // Applied: both objects, then a verification window (no traffic yet).
    let applied = sandbox.run(APIDIAG, admin, &[&fix[..], &["--yes"]].concat());
    assert_code(&applied, 0);
    let report = json_report(&applied.stdout);
    assert_eq!(report["remediation"]["state"], "applied", "{report:#}");
    let objects = generated(&lab);
    assert_eq!(objects.len(), 2, "{objects:?}");
    let name = objects[0].rsplit('/').next().unwrap().to_string();
    assert!(name.starts_with("apidiag-throttle-"), "{objects:?}");
    let verified = finding(&report, "throttle.flowschema-verified");
    assert!(
        verified["evidence"].to_string().contains("Dangling=False"),
        "{verified:#}"
    );

    // The flooder bursts again while --verify watches: its calls land in the new
    // schema and are rejected there; nobody else's are.
    let (output, outcome) = std::thread::scope(|scope| {
        let check = scope.spawn(|| {
            sandbox.run(
                APIDIAG,
                admin,
                &[
                    "throttle", "--verify", &name, "--window", "20s", "-o", "json",
                ],
            )
        });
        std::thread::sleep(Duration::from_secs(2));
        let outcome = runtime
            .block_on(lab.apply(Scenario::Flood, flood(1500)))
            .expect("the flood runs");
        (check.join().unwrap(), outcome)
    });
    let report = json_report(&output.stdout);
    let verified = finding(&report, "throttle.flowschema-verified");
    assert_eq!(verified["severity"], "ok", "{verified:#}");
    let traffic = table(verified, "its traffic");
    let dispatched: f64 = traffic[0][1].as_str().unwrap().parse().unwrap();
    let rejected: f64 = traffic[0][2].as_str().unwrap().parse().unwrap();
    assert!(dispatched > 0.0, "{verified:#}");
    assert_eq!(
        rejected as u64,
        outcome.flood.unwrap().throttled,
        "every 429 of the burst came from the new schema: {verified:#}"
    );
    assert!(
        verified["evidence"].to_string().contains("0.00/s"),
        "other flow schemas got 429s: {verified:#}"
    );

    // undo removes both objects.
    let undo = sandbox.run(APIDIAG, admin, &["undo", "--yes"]);
    assert_code(&undo, 0);
    assert!(generated(&lab).is_empty(), "{:?}", generated(&lab));
}
