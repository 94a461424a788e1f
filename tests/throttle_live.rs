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
    json_report,
};
use serde_json::Value;

/// The suite binary, built by cargo from this source for this test.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

fn finding<'a>(report: &'a Value, id: &str) -> &'a Value {
    findings(report, "throttle")
        .into_iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

/// The rows of the evidence table labelled `label`.
fn table<'a>(finding: &'a Value, label: &str) -> &'a Vec<Value> {
    finding["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"] == label)
        .and_then(|e| e["rows"].as_array())
        .unwrap_or_else(|| panic!("no table {label:?} in {finding:#}"))
}

fn flood(size: usize) -> ScenarioSize {
    ScenarioSize {
        flood_requests: size,
        ..ScenarioSize::default()
    }
}

#[test]
fn live_load_names_the_rejecting_level_and_the_flooded_lists_and_the_fix_throttles_the_flooder() {
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
}
