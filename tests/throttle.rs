//! `kubectl apidiag throttle --audit-log` end to end, on the lab's own audit log.
//!
//! One lab of its own (the flood changes cluster-wide APF objects): the flooder
//! sends its burst, the audit log is copied once so that every run and every
//! independent count read the same bytes, then the check runs with the cluster,
//! with no cluster at all, on bad input, and writes its page. Counts are checked
//! against a count of the same file made here with serde_json, by the rule the
//! check documents: each request once, on `ResponseComplete` (or `Panic`), a
//! watch on `ResponseStarted`.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use apidiag_test::{
    FLOODER_USER_AGENT, Lab, LabOptions, Sandbox, Scenario, ScenarioSize, assert_code, json_report,
};
use serde_json::Value;

/// The suite binary, built by cargo from this source for this test.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

/// Requests of `agent` in the file, and how many of them got a 429.
fn independent_count(log: &Path, agent: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(log).unwrap();
    let mut requests = 0;
    let mut throttled = 0;
    for event in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        if event["userAgent"] != agent {
            continue;
        }
        let stage = event["stage"].as_str().unwrap_or("");
        let watch = event["verb"] == "watch";
        let counted = match stage {
            "ResponseComplete" | "Panic" => !watch,
            "ResponseStarted" => watch,
            _ => false,
        };
        if counted {
            requests += 1;
            if event["responseStatus"]["code"] == 429 {
                throttled += 1;
            }
        }
    }
    (requests, throttled)
}

fn finding<'a>(report: &'a Value, id: &str) -> &'a Value {
    apidiag_test::finding(report, "throttle", id)
}

/// The rows of the evidence table labelled `label`.
fn table<'a>(finding: &'a Value, label: &str) -> &'a Vec<Value> {
    apidiag_test::evidence_table(finding, label)
}

/// The warning or healthy outcome of an analysis (0 or 1), with the report.
fn analysis(output: &std::process::Output) -> Value {
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "exit {:?}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    json_report(&output.stdout)
}

#[test]
fn throttle_on_the_lab_audit_log_after_a_flood() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = runtime
        .block_on(Lab::start(LabOptions {
            controller_manager: false,
            ..LabOptions::default()
        }))
        .expect("the lab starts");
    // A fresh API server's own loopback traffic is a few hundred requests; the
    // flood must outnumber it to be the top agent by the count, not by fiat.
    let size = ScenarioSize {
        flood_requests: 2000,
        ..ScenarioSize::default()
    };
    let flood = runtime
        .block_on(lab.apply(Scenario::Flood, size))
        .expect("the flood runs");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::copy(lab.audit_log(), &log).unwrap();
    let log_arg = log.to_str().unwrap();
    let (expected, expected_429) = independent_count(&log, FLOODER_USER_AGENT);
    assert!(
        expected > 0,
        "the flooder is not in the audit log ({flood:?})"
    );

    // With the cluster: the flooder is the top agent, counted as the file says,
    // and the LIST rules come from the server's own /version.
    let sandbox = Sandbox::new();
    let live = sandbox.run(
        APIDIAG,
        lab.admin_kubeconfig(),
        &["throttle", "--audit-log", log_arg, "-o", "json"],
    );
    let report = analysis(&live);
    let top = finding(&report, "throttle.top-agents");
    let first = &table(top, "top user agents")[0];
    assert_eq!(first[0], FLOODER_USER_AGENT, "{top:#}");
    assert_eq!(first[1], expected.to_string(), "{top:#}");
    assert_eq!(first[4], expected_429.to_string(), "{top:#}");
    assert!(first[7].as_str().unwrap().contains("flooder"), "{top:#}");
    let input = finding(&report, "throttle.input");
    assert!(input.to_string().contains("/version"), "{input:#}");
    for id in [
        "throttle.latency-by-agent",
        "throttle.slo-breaches",
        "throttle.intensive-lists",
        "throttle.call-patterns",
    ] {
        let f = finding(&report, id);
        assert!(
            f["source"]["section"].as_str().unwrap().contains("Cause 5"),
            "{f:#}"
        );
    }
    // The flooder LISTs configmaps and pods of every namespace.
    let lists = finding(&report, "throttle.intensive-lists");
    let flooder_lists: Vec<&Value> = table(lists, "successful LISTs, etcd first")
        .iter()
        .filter(|r| r[1] == FLOODER_USER_AGENT)
        .collect();
    assert!(
        flooder_lists
            .iter()
            .any(|r| r[2] == "(all)" && r[3] == "pods"),
        "{lists:#}"
    );

    // No cluster at all (no kubeconfig, an empty HOME): the same table from the file.
    let offline = Sandbox::new()
        .cmd(APIDIAG)
        .args(["throttle", "--audit-log", log_arg, "-o", "json"])
        .output()
        .unwrap();
    let report = analysis(&offline);
    let top = finding(&report, "throttle.top-agents");
    let first = &table(top, "top user agents")[0];
    assert_eq!(first[0], FLOODER_USER_AGENT);
    assert_eq!(first[1], expected.to_string());
    let input = finding(&report, "throttle.input").to_string();
    assert!(input.contains("no cluster reached"), "{input}");
    // And for people: the report and its chart, not an error.
    let human = Sandbox::new()
        .cmd(APIDIAG)
        .args(["throttle", "--audit-log", log_arg, "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(matches!(human.status.code(), Some(0 | 1)), "{text}");
    assert!(
        text.contains("[throttle.top-agents]")
            && text.contains(FLOODER_USER_AGENT)
            && text.contains(|c| ('▁'..='█').contains(&c)),
        "{text}"
    );

    // Bad input is reported, not fatal: a malformed line (line 3) and a file
    // that is not an audit log, in one folder with a good copy.
    let folder = dir.path().join("mixed");
    std::fs::create_dir(&folder).unwrap();
    let good = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(2, "{\"stage\": \"ResponseComplete\", truncated");
    std::fs::write(folder.join("audit.log"), lines.join("\n") + "\n").unwrap();
    std::fs::write(folder.join("notes.txt"), "shopping list: eggs, milk\n").unwrap();
    let mixed = Sandbox::new()
        .cmd(APIDIAG)
        .args(["throttle", "--server-version", "1.37", "-o", "json"])
        .arg("--audit-log")
        .arg(&folder)
        .output()
        .unwrap();
    let report = analysis(&mixed);
    let input = finding(&report, "throttle.input");
    assert_eq!(input["severity"], "warning", "{input:#}");
    let not_used = table(input, "first records not used");
    assert!(
        not_used
            .iter()
            .any(|r| r[0].as_str().unwrap().ends_with("audit.log") && r[1] == "line 3"),
        "{input:#}"
    );
    assert!(
        input.to_string().contains("notes.txt") && input.to_string().contains("not an audit log"),
        "{input:#}"
    );
    let first = &table(finding(&report, "throttle.top-agents"), "top user agents")[0];
    assert_eq!(first[1], expected.to_string(), "the good lines still count");

    // --kql prints one query with the stage filter, and needs no log.
    let kql = Sandbox::new()
        .cmd(APIDIAG)
        .args(["throttle", "--kql", "resource-specific"])
        .output()
        .unwrap();
    assert_code(&kql, 0);
    let query = String::from_utf8_lossy(&kql.stdout);
    assert!(
        query.starts_with("AKSAudit") && query.contains("Stage != \"RequestReceived\""),
        "{query}"
    );

    // --html: one self-contained page with the chart and the tables (2 s bins,
    // so that the lab's few seconds of traffic draw lines, not points).
    let page = dir.path().join("report.html");
    let html = Sandbox::new()
        .cmd(APIDIAG)
        .args(["throttle", "--server-version", "1.37", "--bin", "2s"])
        .args(["--audit-log", log_arg])
        .arg("--html")
        .arg(&page)
        .output()
        .unwrap();
    assert!(matches!(html.status.code(), Some(0 | 1)));
    let page = std::fs::read_to_string(&page).unwrap();
    assert!(
        page.contains("<svg") && page.contains("<polyline"),
        "{page}"
    );
    assert!(page.contains(FLOODER_USER_AGENT));
    // Nothing is fetched: no tag carries a URL, and nothing is linked or imported.
    for tag in page.split('<').skip(1).filter_map(|t| t.split('>').next()) {
        assert!(
            !tag.contains("http://") && !tag.contains("https://"),
            "<{tag}>"
        );
        assert!(!tag.contains("src=") && !tag.contains("href="), "<{tag}>");
    }
    assert!(!page.contains("@import") && !page.contains("url("));
}
