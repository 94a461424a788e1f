//! A bundle written by this release (`kubectl apidiag guard --fix skip-update`
//! against the lab, then undone) stays readable: the on-disk format is a promise to
//! every user who has a backup, so a change that breaks reading it fails here.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use apidiag_core::backup::{BUNDLE_SCHEMA, Bundle, OperationOutcome};
use apidiag_core::remediation::Action;

#[test]
fn a_bundle_of_this_release_reads_back_whole() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/guard-skip-update");
    let bundle = Bundle::open(dir.to_str().unwrap()).unwrap();
    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(raw["schema"], BUNDLE_SCHEMA);
    let manifest = bundle.manifest().unwrap();
    assert_eq!(manifest.plan_id, "guard.skip-update");
    assert_eq!(manifest.server, "https://127.0.0.1:43383");
    assert_eq!(
        manifest.cluster_uid.as_deref(),
        Some("db394f79-1deb-4d58-8d50-d712c4406f0d")
    );
    let kinds: Vec<&str> = manifest
        .operations
        .iter()
        .map(|o| o.operation.target.resource.kind.as_str())
        .collect();
    assert_eq!(kinds, ["FlowSchema", "PriorityLevelConfiguration"]);
    for entry in &manifest.operations {
        assert!(matches!(entry.operation.action, Action::Patch { .. }));
        let saved = bundle.object(entry).unwrap().expect("a saved object");
        assert_eq!(saved["metadata"]["name"], "aks-managed-apiserver-guard");
        assert_eq!(
            saved["metadata"]["uid"].as_str(),
            entry.operation.target.uid.as_deref()
        );
    }
    let journal = bundle.journal().unwrap();
    assert_eq!(journal.len(), 2);
    assert!(
        journal
            .values()
            .all(|e| e.outcome == OperationOutcome::Done)
    );
    assert!(bundle.restored(), "undo.jsonl records the restore");
    assert!(bundle.may_have_changed());
}
