//! The same events in every export shape give identical tables; several
//! files give the same tables whatever their order, their mix of shapes, and
//! the number of parser threads.

mod support;

use apidiag_audit::{Note, Options, Shape};
use serde_json::Value;
use support::*;

fn baseline(dir: &std::path::Path) -> String {
    fingerprint(&run(&[write(dir, "audit.log", &fixture_text())]))
}

#[test]
fn every_aks_shape_gives_the_tables_of_the_kube_apiserver_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let expected = baseline(dir.path());
    let events = fixture_events();
    let aks: Vec<_> = events.iter().map(aks_audit_row).collect();
    let diag: Vec<_> = events.iter().map(diagnostics_row).collect();
    let cases = [
        (
            "PT1H.json",
            storage_blob(&events, false),
            Shape::StorageBlob,
        ),
        (
            "PT1H-object.json",
            storage_blob(&events, true),
            Shape::StorageBlob,
        ),
        ("eventhub.json", event_hub(&events, 100), Shape::EventHub),
        ("aksaudit.json", az_query(&aks), Shape::AzQuery),
        ("azurediagnostics.json", az_query(&diag), Shape::AzQuery),
        ("aksaudit.csv", csv_export(&aks), Shape::Csv),
        ("azurediagnostics.csv", csv_export(&diag), Shape::Csv),
    ];
    for (name, text, shape) in cases {
        for gz in [false, true] {
            let path = if gz {
                write_gz(dir.path(), &format!("{name}.gz"), &text)
            } else {
                write(dir.path(), name, &text)
            };
            let report = run(&[path]);
            let file = &report.files[0];
            assert_eq!((file.shape, file.gzip), (Some(shape), gz), "{name}");
            assert_eq!(file.records, events.len() as u64, "{name}: {file:?}");
            assert_eq!(
                (file.malformed, file.not_events, &file.problems[..]),
                (0, 0, &[][..]),
                "{name}: {file:?}"
            );
            assert_eq!(fingerprint(&report), expected, "{name} (gzip: {gz})");
        }
    }
}

#[test]
fn file_order_threads_and_mixed_shapes_do_not_change_the_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let expected = baseline(dir.path());
    let events = fixture_events();
    let third = events.len() / 3;
    let (a, rest) = events.split_at(third);
    let (b, c) = rest.split_at(third);
    let jsonl = |e: &[Value]| e.iter().map(|v| format!("{v}\n")).collect::<String>();

    let split = tempfile::tempdir().expect("tempdir");
    let paths = [
        write(split.path(), "audit-2.log", &jsonl(c)),
        write_gz(split.path(), "audit-1.log.gz", &jsonl(b)),
        write(split.path(), "audit.log", &jsonl(a)),
    ];
    for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
        for threads in [1, 3] {
            let ordered: Vec<_> = order.iter().map(|&i| paths[i].clone()).collect();
            let report = run_with(
                &ordered,
                &Options {
                    threads,
                    ..Options::default()
                },
            );
            assert_eq!(
                fingerprint(&report),
                expected,
                "order {order:?}, {threads} threads"
            );
        }
    }

    // One folder, three shapes (the folder is walked, each file detected alone).
    let mixed = tempfile::tempdir().expect("tempdir");
    write_gz(mixed.path(), "kube-apiserver-audit.log.gz", &jsonl(a));
    let nested = mixed.path().join("y=2026/m=12/d=01/h=10/m=00");
    std::fs::create_dir_all(&nested).expect("mkdir");
    write(&nested, "PT1H.json", &storage_blob(b, false));
    let rows: Vec<_> = c.iter().map(aks_audit_row).collect();
    write(mixed.path(), "export.csv", &csv_export(&rows));
    let report = run(&[mixed.path().to_path_buf()]);
    let shapes: Vec<_> = report.files.iter().map(|f| f.shape).collect();
    assert_eq!(shapes.len(), 3);
    for shape in [Shape::KubeApiserver, Shape::StorageBlob, Shape::Csv] {
        assert!(shapes.contains(&Some(shape)), "{shapes:?}");
    }
    assert_eq!(fingerprint(&report), expected);
}

#[test]
fn kube_audit_admin_alone_is_flagged_and_next_to_kube_audit_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = fixture_events();
    let writes: Vec<Value> = events
        .iter()
        .filter(|e| !matches!(e["verb"].as_str(), Some("get" | "list" | "watch")))
        .cloned()
        .collect();
    let admin = event_hub(&writes, 50).replace("\"kube-audit\"", "\"kube-audit-admin\"");
    let admin_path = write(dir.path(), "admin.json", &admin);
    let alone = run(std::slice::from_ref(&admin_path));
    assert_eq!(alone.notes, [Note::AdminOnly]);
    assert!(alone.intensive_lists().rows.is_empty());

    let full_path = write(dir.path(), "full.json", &event_hub(&events, 50));
    let both = run(&[admin_path, full_path.clone()]);
    let counted_writes = writes
        .iter()
        .filter(|e| e["stage"] == "ResponseComplete")
        .count() as u64;
    assert_eq!(both.notes, [Note::AdminIgnored(counted_writes)]);
    let full = run(&[full_path]);
    assert_eq!(fingerprint(&both), fingerprint(&full));
}

#[test]
fn watches_fall_back_to_response_complete_when_the_policy_omits_response_started() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = fixture_events();
    let without: String = events
        .iter()
        .filter(|e| e["stage"] != "ResponseStarted")
        .map(|e| format!("{e}\n"))
        .collect();
    let ends = events
        .iter()
        .filter(|e| {
            e["verb"] == "watch"
                && e["stage"] == "ResponseComplete"
                && e["responseStatus"]["code"].as_u64().unwrap_or(0) < 400
        })
        .count() as u64;
    let report = run(&[write(dir.path(), "audit.log", &without)]);
    if ends > 0 {
        assert_eq!(report.notes, [Note::WatchesOnComplete(ends)]);
    } else {
        assert!(report.notes.is_empty());
    }
    let watches: u64 = report
        .top_agents(usize::MAX)
        .iter()
        .map(|a| a.watches)
        .sum();
    let refused = events
        .iter()
        .filter(|e| {
            e["verb"] == "watch"
                && e["stage"] == "ResponseComplete"
                && e["responseStatus"]["code"].as_u64().unwrap_or(0) >= 400
        })
        .count() as u64;
    assert_eq!(watches, ends + refused);
}

#[test]
fn request_received_events_are_never_counted() {
    // Like an AKS log: a RequestReceived event (latency 0) before every completion.
    // Counting every stage, as the guide's queries do, would double the requests.
    let dir = tempfile::tempdir().expect("tempdir");
    let expected = baseline(dir.path());
    let mut doubled = Vec::new();
    for e in fixture_events() {
        if e["stage"] == "ResponseComplete"
            || (e["stage"] == "ResponseStarted" && e["verb"] == "watch")
        {
            let mut received = e.clone();
            received["stage"] = "RequestReceived".into();
            received["stageTimestamp"] = e["requestReceivedTimestamp"].clone();
            received
                .as_object_mut()
                .expect("object")
                .remove("responseStatus");
            doubled.push(received);
        }
        doubled.push(e);
    }
    let jsonl: String = doubled.iter().map(|e| format!("{e}\n")).collect();
    let rows: Vec<_> = doubled.iter().map(aks_audit_row).collect();
    for (name, text) in [
        ("audit.log", jsonl),
        ("PT1H.json", storage_blob(&doubled, false)),
        ("aks.json", az_query(&rows)),
    ] {
        let report = run(&[write(dir.path(), name, &text)]);
        assert_eq!(fingerprint(&report), expected, "{name}");
        assert!(
            report.files[0].other_stages > report.total_requests() / 2,
            "{name}: {:?}",
            report.files[0]
        );
    }
}
