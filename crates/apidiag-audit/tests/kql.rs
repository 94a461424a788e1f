//! The `--kql` queries export what the `az` reader accepts: rows with exactly
//! the projected columns give the tables of the kube-apiserver log, and each
//! column is needed (leaving one out changes the tables).

mod support;

use std::collections::BTreeMap;

use apidiag_audit::{KqlMode, kql, projected_columns};
use serde_json::Value;
use support::*;

/// What the query's `where` keeps: no RequestReceived, ResponseStarted only for watches.
fn kept(e: &Value) -> bool {
    e["stage"] != "RequestReceived" && (e["stage"] != "ResponseStarted" || e["verb"] == "watch")
}

fn project(
    row: BTreeMap<&'static str, String>,
    columns: &[&str],
) -> BTreeMap<&'static str, String> {
    row.into_iter()
        .filter(|(k, _)| *k == "TableName" || columns.contains(k))
        .collect()
}

#[test]
fn both_modes_feed_back_into_the_engine_and_need_every_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let expected = fingerprint(&run(&[write(dir.path(), "audit.log", &fixture_text())]));
    let events: Vec<Value> = fixture_events().into_iter().filter(kept).collect();
    for mode in [KqlMode::ResourceSpecific, KqlMode::AzureDiagnostics] {
        let query = kql(mode);
        let columns = projected_columns(&query);
        let rows = |columns: &[&str]| -> Vec<BTreeMap<&'static str, String>> {
            let mut rows: Vec<_> = events
                .iter()
                .map(|e| match mode {
                    KqlMode::ResourceSpecific => project(aks_audit_row(e), columns),
                    KqlMode::AzureDiagnostics => project(diagnostics_row(e), columns),
                })
                .collect();
            if mode == KqlMode::AzureDiagnostics {
                // The query keeps kube-audit-admin too: its rows repeat the writes.
                let writes = events
                    .iter()
                    .filter(|e| e["verb"] == "patch" || e["verb"] == "create");
                rows.extend(writes.map(|e| {
                    let mut row = project(diagnostics_row(e), columns);
                    row.entry("Category")
                        .and_modify(|c| *c = "kube-audit-admin".into());
                    row
                }));
            }
            rows
        };
        let path = write(dir.path(), "export.json", &az_query(&rows(&columns)));
        let report = run(std::slice::from_ref(&path));
        assert_eq!(report.files[0].malformed, 0, "{query}");
        assert_eq!(fingerprint(&report), expected, "{query}");
        for missing in &columns {
            let fewer: Vec<&str> = columns.iter().copied().filter(|c| c != missing).collect();
            let path = write(dir.path(), "fewer.json", &az_query(&rows(&fewer)));
            assert_ne!(
                fingerprint(&run(&[path])),
                expected,
                "{mode:?} does not need {missing}"
            );
        }
    }
}
