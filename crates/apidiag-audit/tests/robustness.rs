//! Bad input never aborts and never hides: malformed lines, a truncated gzip,
//! files that are not audit logs, the legacy format, an empty window, and
//! arbitrary bytes.

mod support;

use std::time::Duration;

use apidiag_audit::{
    AuditError, Note, Options, Problem, TimeBound, Window, analyze, parse_time_bound,
};
use proptest::prelude::*;
use support::*;

#[test]
fn malformed_lines_are_counted_and_named_and_the_rest_still_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clean = run(&[write(dir.path(), "clean.log", &fixture_text())]);
    let mut lines: Vec<String> = fixture_text().lines().map(str::to_owned).collect();
    // 1-based line numbers after insertion: 3, 11, 12, and a truncated event at 20.
    lines.insert(2, "{\"kind\":\"Event\",".into());
    lines.insert(10, "garbage".into());
    lines.insert(11, "{\"kind\":\"Pod\",\"stage\":\"ResponseComplete\",\"verb\":\"get\",\"requestReceivedTimestamp\":\"2026-01-01T00:00:00Z\",\"stageTimestamp\":\"2026-01-01T00:00:00Z\"}".into());
    let cut = lines[19].len() / 2;
    let truncated = lines[19][..cut].to_owned();
    lines.insert(19, truncated);
    lines.insert(30, String::new());
    let report = run(&[write(dir.path(), "dirty.log", &(lines.join("\r\n") + "\n"))]);
    let file = &report.files[0];
    assert_eq!(file.malformed, 3, "{file:?}");
    assert_eq!(file.not_events, 1);
    let at: Vec<u64> = file.samples.iter().map(|s| s.at).collect();
    assert_eq!(at, [3, 11, 12, 20]);
    assert!(file.samples[2].reason.contains("Pod"), "{:?}", file.samples);
    assert!(file.numbered_by_line);
    assert_eq!(fingerprint(&report), fingerprint(&clean));
}

#[test]
fn an_event_longer_than_a_chunk_is_read_whole() {
    // RequestResponse-level events carry whole objects: several MiB on one line.
    // Regression: the line reader once looped forever on a line longer than a chunk.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut events = fixture_events();
    let big = "x".repeat(3 << 20);
    events[5]["requestObject"] = serde_json::json!({ "data": big });
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    assert!(text.lines().nth(5).is_some_and(|l| l.len() > 3 << 20));
    for path in [
        write(dir.path(), "big.log", &text),
        write_gz(dir.path(), "big.log.gz", &text),
    ] {
        let report = run(&[path]);
        assert_eq!(report.files[0].malformed, 0);
        assert_eq!(
            fingerprint(&report),
            fingerprint(&run(&[write(dir.path(), "plain.log", &fixture_text())]))
        );
    }
}

#[test]
fn a_nine_mib_line_is_read_whole_and_lines_keep_their_numbers() {
    // Longer than several chunks: read whole, and the lines around it keep their numbers.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut events = fixture_events();
    events[5]["requestObject"] = serde_json::json!({ "data": "x".repeat(9 << 20) });
    let mut lines: Vec<String> = events.iter().map(ToString::to_string).collect();
    lines.insert(2, "garbage before".into());
    lines.insert(lines.len() - 3, "garbage after".into());
    let report = run(&[write(dir.path(), "big.log", &(lines.join("\n") + "\n"))]);
    let file = &report.files[0];
    assert_eq!(file.malformed, 2, "{file:?}");
    let at: Vec<u64> = file.samples.iter().map(|s| s.at).collect();
    assert_eq!(at, [3, lines.len() as u64 - 3]);
    let clean = run(&[write(dir.path(), "clean.log", &fixture_text())]);
    assert_eq!(fingerprint(&report), fingerprint(&clean));
}

#[test]
fn a_line_that_is_not_utf8_is_named_and_the_rest_of_its_chunk_counts() {
    // UTF-8 is checked per chunk first: a bad byte must cost one line, not the chunk.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = Vec::new();
    for (i, line) in fixture_text().lines().enumerate() {
        if i == 6 {
            bytes.extend_from_slice(b"{\"kind\":\"Event\",\"verb\":\"\xff\"}\n");
        }
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    let path = dir.path().join("bad-utf8.log");
    std::fs::write(&path, &bytes).expect("write");
    let report = run(&[path]);
    let file = &report.files[0];
    assert_eq!(file.malformed, 1, "{file:?}");
    assert_eq!(file.samples[0].at, 7);
    assert_eq!(file.samples[0].reason, "not UTF-8");
    let clean = run(&[write(dir.path(), "clean.log", &fixture_text())]);
    assert_eq!(fingerprint(&report), fingerprint(&clean));
}

#[test]
fn a_truncated_gzip_is_reported_and_what_came_before_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let whole = write_gz(dir.path(), "whole.log.gz", &fixture_text());
    let bytes = std::fs::read(&whole).expect("read");
    let cut = write(dir.path(), "cut.log.gz", "");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).expect("write");
    let report = run(&[cut]);
    let file = &report.files[0];
    assert_eq!(file.problems, [Problem::TruncatedGzip], "{file:?}");
    assert!(
        file.counted > 0 && file.counted < run(&[whole]).total_requests(),
        "{file:?}"
    );
}

#[test]
fn files_that_are_not_audit_logs_say_what_is_known_and_the_run_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(dir.path(), "audit.log", &fixture_text());
    let text = write(
        dir.path(),
        "notes.txt",
        "kube-apiserver restarted at noon\n",
    );
    let pod = write(
        dir.path(),
        "pod.json",
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}\n",
    );
    let legacy = write(
        dir.path(),
        "legacy.log",
        "2017-03-21T03:57:09.106841886-04:00 AUDIT: id=\"c939d2a7-1c37-4ef1-b2f7-4ba9b1e43b53\" stage=\"RequestReceived\" ip=\"127.0.0.1\" method=\"get\" user=\"admin\"\n",
    );
    let empty = write(dir.path(), "empty.log", "");
    let report = run(&[good.clone(), text, pod, legacy, empty]);
    assert_eq!(report.total_requests(), run(&[good]).total_requests());
    let problems: Vec<String> = report
        .files
        .iter()
        .flat_map(|f| f.problems.iter().map(ToString::to_string))
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0].contains("not an audit log")
            && problems[0].contains("kube-apiserver JSON lines")
            && problems[0].contains("CSV")
    );
    assert!(problems[1].contains("not an audit log"));
    assert!(problems[2].contains("--audit-log-format=json"));
    assert!(report.files[4].problems.is_empty() && report.files[4].records == 0);
}

#[test]
fn missing_inputs_are_errors() {
    assert!(matches!(
        analyze(&["/nonexistent/audit.log"], &Options::default()),
        Err(AuditError::NotFound { .. })
    ));
    assert!(matches!(
        analyze::<&str>(&[], &Options::default()),
        Err(AuditError::NoInput)
    ));
}

#[test]
fn an_empty_window_is_reported_as_such() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = write(dir.path(), "audit.log", &fixture_text());
    let future = Window {
        since: Some(parse_time_bound("2099-01-01T00:00:00Z").expect("time")),
        until: None,
    };
    let report = run_with(
        std::slice::from_ref(&log),
        &Options {
            window: future,
            ..Options::default()
        },
    );
    // Every event of a stage that can count: completions (watch ends too) and watch opens.
    let all = fixture_events()
        .iter()
        .filter(|e| {
            matches!(e["stage"].as_str(), Some("ResponseComplete" | "Panic"))
                || (e["stage"] == "ResponseStarted" && e["verb"] == "watch")
        })
        .count() as u64;
    assert!(all > run(&[log]).total_requests());
    assert_eq!(report.total_requests(), 0);
    assert_eq!(
        report.notes,
        [Note::EmptyWindow {
            events: all,
            filtered: all
        }]
    );
    assert!(report.top_agents(10).is_empty() && report.intensive_lists().rows.is_empty());
}

#[test]
fn a_window_back_from_the_newest_event_counts_what_jq_would() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = write(dir.path(), "audit.log", &fixture_text());
    let whole = run(std::slice::from_ref(&log));
    let (_, newest) = whole.span().expect("events");
    let window = Window {
        since: Some(TimeBound::BeforeNewest(Duration::from_secs(60))),
        until: None,
    };
    let report = run_with(
        std::slice::from_ref(&log),
        &Options {
            window,
            ..Options::default()
        },
    );
    assert_eq!(report.window.since, newest - 60_000_000);
    let events = fixture_events();
    let expected = events
        .iter()
        .filter(|e| {
            let counted = (matches!(e["stage"].as_str(), Some("ResponseComplete" | "Panic"))
                && (e["verb"] != "watch"
                    || e["responseStatus"]["code"].as_u64().unwrap_or(0) >= 400))
                || (e["stage"] == "ResponseStarted" && e["verb"] == "watch");
            let t: jiff::Timestamp = e["requestReceivedTimestamp"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("time");
            counted && t.as_microsecond() >= newest - 60_000_000
        })
        .count() as u64;
    assert_eq!(report.total_requests(), expected);
    assert!(expected > 0 && expected < whole.total_requests());
}

#[test]
fn filters_by_user_agent_user_and_namespace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = write(dir.path(), "audit.log", &fixture_text());
    let by_agent = run_with(
        std::slice::from_ref(&log),
        &Options {
            filter: apidiag_audit::Filter {
                user_agent: Some("kubectl/".into()),
                ..Default::default()
            },
            ..Options::default()
        },
    );
    assert!(
        by_agent
            .top_agents(usize::MAX)
            .iter()
            .all(|a| a.user_agent.starts_with("kubectl/"))
    );
    let by_ns = run_with(
        &[log],
        &Options {
            filter: apidiag_audit::Filter {
                namespace: Some("default".into()),
                user: Some("lab-admin".into()),
                ..Default::default()
            },
            ..Options::default()
        },
    );
    assert!(by_ns.total_requests() >= 80, "{}", by_ns.total_requests());
    assert!(
        by_ns
            .top_agents(usize::MAX)
            .iter()
            .flat_map(|a| &a.users)
            .all(|u| u.username == "lab-admin")
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("input");
        std::fs::write(&path, &bytes).expect("write");
        let report = run(&[path]);
        let file = &report.files[0];
        prop_assert!(file.records >= file.malformed);
    }

    #[test]
    fn mangled_events_in_every_shape_never_panic(cut in 0usize..2000, flip in 0usize..2000, byte in any::<u8>(), shape in 0usize..4) {
        let events: Vec<serde_json::Value> = fixture_events().into_iter().take(20).collect();
        let text = match shape {
            0 => events.iter().map(|e| format!("{e}\n")).collect(),
            1 => storage_blob(&events, false),
            2 => event_hub(&events, 7),
            _ => az_query(&events.iter().map(aks_audit_row).collect::<Vec<_>>()),
        };
        let mut bytes = text.into_bytes();
        let flip = flip % bytes.len();
        bytes[flip] = byte;
        bytes.truncate(bytes.len().saturating_sub(cut));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("input");
        std::fs::write(&path, &bytes).expect("write");
        let report = run(&[path]);
        prop_assert!(report.total_requests() <= 20 * 2);
    }
}

/// Bytes that change the meaning of JSON text, so that mangling a line mostly
/// makes lines that are still nearly JSON (the scanner's hard cases).
const JSON_BYTES: &[u8] = b"\"\\{}[],: \t\r\n0123456789-+.eEtrufalsn/u\x01";

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The fast scanner of kube-apiserver lines agrees with serde on every
    /// line it takes (it hands the others to serde).
    #[test]
    fn the_scanner_agrees_with_serde_on_mangled_lines(
        line in 0usize..500,
        edits in proptest::collection::vec((0usize..4000, 0usize..JSON_BYTES.len(), 0usize..3, 1usize..4), 1..4),
    ) {
        let lines = fixture_lines();
        let mut bytes = lines[line % lines.len()].clone().into_bytes();
        for (at, byte, how, len) in edits {
            let at = at % (bytes.len() + 1);
            let end = (at + len).min(bytes.len());
            match how {
                0 => bytes.insert(at, JSON_BYTES[byte]),
                1 => { bytes.drain(at..end); }
                _ => {
                    let copy = bytes[at..end].to_vec();
                    bytes.splice(at..at, copy);
                }
            }
        }
        apidiag_audit::fuzzing::event_line(&bytes);
    }
}

fn fixture_lines() -> &'static [String] {
    static LINES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    LINES.get_or_init(|| fixture_text().lines().map(str::to_owned).collect())
}

#[test]
fn unbounded_keys_stay_bounded_and_say_so() {
    // 20,000 GETs of distinct objects (a kubelet-like client) and one object read 500 times.
    let dir = tempfile::tempdir().expect("tempdir");
    let template = fixture_events()
        .into_iter()
        .find(|e| e["verb"] == "get" && e["objectRef"]["name"].is_string())
        .expect("a GET");
    let mut text = String::new();
    for i in 0..20_500u32 {
        let mut e = template.clone();
        let name = if i < 20_000 {
            format!("object-{i}")
        } else {
            "hot".to_owned()
        };
        e["objectRef"]["name"] = name.into();
        e["stage"] = "ResponseComplete".into();
        text += &format!("{e}\n");
    }
    let small = apidiag_audit::Capacity {
        patterns: 64,
        ..Default::default()
    };
    let options = Options {
        capacity: small,
        thresholds: apidiag_audit::Thresholds {
            get_min_calls: 100,
            get_per_second: 0.0,
            ..Default::default()
        },
        ..Options::default()
    };
    let report = run_with(&[write(dir.path(), "gets.log", &text)], &options);
    assert!(
        report
            .notes
            .iter()
            .any(|n| matches!(n, Note::Approximate(floor) if *floor >= 1)),
        "{:?}",
        report.notes
    );
    // The agent table is still exact, and the heavy hitter is found with its exact count.
    assert_eq!(report.top_agents(1)[0].requests, 20_500);
    let polls = report.call_patterns();
    assert_eq!(polls.len(), 1, "{polls:#?}");
    assert_eq!((polls[0].target.as_str(), polls[0].calls), ("hot", 500));
}
