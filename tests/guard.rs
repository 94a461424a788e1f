//! `kubectl apidiag guard` end to end, against a real kube-apiserver.
//!
//! One story on a fresh lab, in order, because every step changes cluster-wide
//! objects: a healthy cluster, the guard applied, each way a fix can be refused,
//! each fix applied with its backup, and each undone from that backup. The cluster
//! is read back with real kubectl, not with apidiag's own client.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use apidiag_test::{
    Lab, LabOptions, Sandbox, Scenario, ScenarioSize, findings, json_report, k8s_version, kubectl,
};
use serde_json::Value;

/// The suite binary, built by cargo from this source for this test.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

const GUARD: &str = "aks-managed-apiserver-guard";
const LABEL: &str = "aks-managed-skip-update-operation";

/// Reads an object with kubectl; `None` when it does not exist.
fn kubectl_get(sandbox: &Sandbox, kubeconfig: &Path, kind: &str) -> Option<Value> {
    let output = sandbox
        .cmd(kubectl())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", kind, GUARD, "-o", "json", "--ignore-not-found"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    if output.stdout.is_empty() {
        None
    } else {
        Some(serde_json::from_slice(&output.stdout).unwrap())
    }
}

fn label(object: &Value) -> Option<&str> {
    object["metadata"]["labels"][LABEL].as_str()
}

fn shares(object: &Value) -> i64 {
    object["spec"]["limited"]["nominalConcurrencyShares"]
        .as_i64()
        .unwrap()
}

#[test]
fn guard_story_on_a_real_api_server() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = runtime
        .block_on(Lab::start(LabOptions {
            controller_manager: false,
            ..LabOptions::default()
        }))
        .expect("the lab starts");
    let admin = lab.admin_kubeconfig();
    let sandbox = Sandbox::new();
    let guard = |args: &[&str]| sandbox.run(APIDIAG, admin, &[&["guard"], args].concat());
    let code = |output: &std::process::Output| output.status.code().unwrap_or(-1);
    let stderr =
        |output: &std::process::Output| String::from_utf8_lossy(&output.stderr).into_owned();

    // A healthy cluster: no guard, exit 0, one ok finding.
    let healthy = guard(&["-o", "json"]);
    assert_eq!(code(&healthy), 0, "{}", stderr(&healthy));
    let report = json_report(&healthy.stdout);
    let found = findings(&report, "guard");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["severity"], "ok");
    assert_eq!(report["server"]["version"], k8s_version());

    // Nothing to fix on a healthy cluster: the fix is not applied (exit 4), no bundle.
    let nothing = guard(&["--fix", "delete", "--yes", "--clients-fixed"]);
    assert_eq!(code(&nothing), 4, "{}", stderr(&nothing));
    assert!(
        stderr(&nothing).contains("the guard is not applied"),
        "{}",
        stderr(&nothing)
    );
    assert!(sandbox.bundles().is_empty());

    // The guard, as AKS applies it.
    runtime
        .block_on(lab.apply(Scenario::Guard, ScenarioSize::default()))
        .expect("guard scenario");
    let applied = guard(&["-o", "json"]);
    assert_eq!(code(&applied), 2, "critical: {}", stderr(&applied));
    let report = json_report(&applied.stdout);
    let finding = findings(&report, "guard")
        .into_iter()
        .find(|f| f["id"] == "guard.applied")
        .cloned()
        .expect("guard.applied finding");
    assert_eq!(finding["severity"], "critical");
    let evidence = |label: &str| -> String {
        finding["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["label"] == label)
            .map(|e| e["value"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("no evidence {label:?} in {finding:#}"))
    };
    assert!(
        evidence("flowschema").contains("flowcontrol.apiserver.k8s.io/v1"),
        "{finding:#}"
    );
    assert!(evidence("matches").contains("group system:"), "{finding:#}");
    assert!(
        evidence("priority level").contains("nominalConcurrencyShares"),
        "{finding:#}"
    );
    assert!(
        evidence("skip-update label").contains(&format!("{LABEL} not set")),
        "{finding:#}"
    );
    assert!(
        evidence("event").contains("aks-managed-apiserver-throttling-enabled"),
        "{finding:#}"
    );
    assert!(
        evidence("429s by the guard").contains("rejected"),
        "{finding:#}"
    );
    let offered: Vec<&str> = finding["remediations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        offered,
        vec!["guard.skip-update", "guard.raise-shares", "guard.delete"]
    );
    assert_eq!(finding["next"][0], "kubectl apidiag throttle");
    assert!(
        findings(&report, "guard")
            .iter()
            .any(|f| f["id"] == "guard.scaling-status"),
        "{report:#}"
    );

    // Human output says the same without colour.
    let human = guard(&[]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains(
            "critical The AKS managed API server guard is applied; it has rejected no request"
        ),
        "{text}"
    );
    assert!(
        text.contains("fix: kubectl apidiag guard --fix skip-update"),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "colour without a terminal: {text}"
    );

    let fs_before = kubectl_get(&sandbox, admin, "flowschema").unwrap();
    let pl_before = kubectl_get(&sandbox, admin, "prioritylevelconfiguration").unwrap();
    assert_eq!(label(&fs_before), None);

    // --dry-run: the plan is shown and dry-run on the server; nothing changes.
    let dry = guard(&["--fix", "skip-update", "--dry-run"]);
    assert_eq!(code(&dry), 2, "{}", stderr(&dry));
    assert!(
        stderr(&dry).contains("server dry run: all 2 operations accepted"),
        "{}",
        stderr(&dry)
    );
    assert!(
        stderr(&dry).contains(&format!("+ metadata.labels.{LABEL}: \"true\"")),
        "{}",
        stderr(&dry)
    );
    assert_eq!(
        label(&kubectl_get(&sandbox, admin, "flowschema").unwrap()),
        None
    );
    assert!(sandbox.bundles().is_empty());

    // No terminal and no --yes: nothing changes, nothing waits, exit 4.
    let skipped = guard(&["--fix", "skip-update"]);
    assert_eq!(code(&skipped), 4, "{}", stderr(&skipped));
    assert!(
        stderr(&skipped).contains("no terminal to ask on and no --yes"),
        "{}",
        stderr(&skipped)
    );
    assert_eq!(
        label(&kubectl_get(&sandbox, admin, "flowschema").unwrap()),
        None
    );
    assert!(sandbox.bundles().is_empty());

    // --yes: labels both objects, after writing a backup of both.
    let labelled = guard(&["--fix", "skip-update", "--yes", "-o", "json"]);
    assert_eq!(code(&labelled), 0, "{}", stderr(&labelled));
    let result = json_report(&labelled.stdout)["remediation"].clone();
    assert_eq!(result["state"], "applied", "{result:#}");
    assert_eq!(
        label(&kubectl_get(&sandbox, admin, "flowschema").unwrap()),
        Some("true")
    );
    assert_eq!(
        label(&kubectl_get(&sandbox, admin, "prioritylevelconfiguration").unwrap()),
        Some("true")
    );
    let bundles = sandbox.bundles();
    assert_eq!(bundles.len(), 1);
    assert_eq!(
        result["backup"].as_str().unwrap(),
        bundles[0].to_str().unwrap()
    );
    let saved: Value =
        serde_json::from_slice(&std::fs::read(bundles[0].join("objects/00000.json")).unwrap())
            .unwrap();
    assert_eq!(saved["metadata"]["uid"], fs_before["metadata"]["uid"]);
    assert_eq!(
        label(&saved),
        None,
        "the backup holds the object before the change"
    );

    // The check now sees the label.
    let after = json_report(&guard(&["-o", "json"]).stdout);
    let finding = findings(&after, "guard")
        .into_iter()
        .find(|f| f["id"] == "guard.applied")
        .cloned()
        .unwrap();
    assert!(
        finding.to_string().contains("true on both objects"),
        "{finding:#}"
    );

    // undo restores both objects from the bundle.
    let undo = sandbox.run(APIDIAG, admin, &["undo", "--yes"]);
    assert_eq!(code(&undo), 0, "{}", stderr(&undo));
    assert_eq!(
        label(&kubectl_get(&sandbox, admin, "flowschema").unwrap()),
        None
    );
    assert_eq!(
        label(&kubectl_get(&sandbox, admin, "prioritylevelconfiguration").unwrap()),
        None
    );
    let listed = sandbox
        .cmd(APIDIAG)
        .args(["backups", "-o", "json"])
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let first = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["plan"] == "guard.skip-update")
        .unwrap();
    assert_eq!(first["restored"], true, "{listed:#}");
    assert_eq!(first["done"], 2, "{listed:#}");

    // Shares at or below the current ones are refused before anything is sent.
    let lower = guard(&["--fix", "raise-shares", "--shares", "3", "--yes"]);
    assert_eq!(code(&lower), 4, "{}", stderr(&lower));
    assert!(
        stderr(&lower).contains("above the current 5"),
        "{}",
        stderr(&lower)
    );

    // raise-shares: the served field, and the label so AKS keeps it.
    let raised = guard(&["--fix", "raise-shares", "--shares", "40", "--yes"]);
    assert_eq!(code(&raised), 0, "{}", stderr(&raised));
    let pl = kubectl_get(&sandbox, admin, "prioritylevelconfiguration").unwrap();
    assert_eq!(shares(&pl), 40);
    assert_ne!(shares(&pl_before), 40);
    assert_eq!(label(&pl), Some("true"));

    // delete: refused under --yes until the clients are confirmed fixed.
    let refused = guard(&["--fix", "delete", "--yes"]);
    assert_eq!(code(&refused), 4, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--clients-fixed"),
        "{}",
        stderr(&refused)
    );
    assert!(kubectl_get(&sandbox, admin, "flowschema").is_some());

    let deleted = guard(&["--fix", "delete", "--yes", "--clients-fixed"]);
    assert_eq!(code(&deleted), 0, "{}", stderr(&deleted));
    assert!(
        stderr(&deleted).contains("Avoid scaling") || stderr(&deleted).contains("avoid scaling"),
        "{}",
        stderr(&deleted)
    );
    assert!(kubectl_get(&sandbox, admin, "flowschema").is_none());
    assert!(kubectl_get(&sandbox, admin, "prioritylevelconfiguration").is_none());

    // With the guard gone, the event alone is a warning.
    let gone = guard(&["-o", "json"]);
    assert_eq!(code(&gone), 1, "{}", stderr(&gone));

    // undo re-creates both, as they were just before the delete.
    // Bundle names start with the second they were written in; several fixes in one
    // second sort by plan name, so find the delete's bundle by its name.
    let newest = sandbox
        .bundles()
        .into_iter()
        .find(|b| b.to_string_lossy().ends_with("-guard-delete"))
        .expect("the delete's bundle");
    let newest_name = newest.to_str().unwrap();
    let undo = sandbox.run(APIDIAG, admin, &["undo", newest_name, "--yes"]);
    assert_eq!(code(&undo), 0, "{}", stderr(&undo));
    let pl = kubectl_get(&sandbox, admin, "prioritylevelconfiguration").expect("re-created");
    assert_eq!(shares(&pl), 40);
    assert_eq!(label(&pl), Some("true"));
    let fs = kubectl_get(&sandbox, admin, "flowschema").expect("re-created");
    assert_ne!(
        fs["metadata"]["uid"], fs_before["metadata"]["uid"],
        "a new object"
    );
    assert_eq!(fs["spec"], fs_before["spec"]);
    let back = guard(&["-o", "json"]);
    assert_eq!(code(&back), 2, "{}", stderr(&back));

    // Undoing the same bundle again finds nothing to do.
    let again = sandbox.run(APIDIAG, admin, &["undo", newest_name, "--yes"]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert!(
        stderr(&again).contains("nothing to do"),
        "{}",
        stderr(&again)
    );

    // And the raise-shares before the delete: its inverse patch applies to the
    // re-created object, which still carries what the fix set.
    let raise = sandbox
        .bundles()
        .into_iter()
        .find(|b| b.to_string_lossy().ends_with("-guard-raise-shares"))
        .expect("the raise-shares bundle");
    let undo = sandbox.run(APIDIAG, admin, &["undo", raise.to_str().unwrap(), "--yes"]);
    assert_eq!(code(&undo), 0, "{}", stderr(&undo));
    let pl = kubectl_get(&sandbox, admin, "prioritylevelconfiguration").unwrap();
    assert_eq!(shares(&pl), shares(&pl_before));
}
