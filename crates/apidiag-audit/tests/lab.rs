//! The lab's own audit log with the flood scenario: the flooder is the top
//! agent, and every count equals an independent count of the same file.

mod support;

use apidiag_audit::{Focus, ListClass, ListRules, Note, Options, PatternKind, ServerVersion};
use support::*;

#[test]
fn the_flooder_is_the_top_talker_by_requests_and_its_429s_show() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = write(dir.path(), "audit.log", &fixture_text());
    let report = run(&[log]);
    let top = &report.top_agents(1)[0];
    assert_eq!(top.user_agent, "lab-flooder/1.0");
    assert!(top.too_many_requests > 0, "{top:?}");
    assert_eq!(top.users.len(), 1);
    assert_eq!(top.users[0].username, "flooder");
    assert!(
        top.users[0].groups.contains(&"lab:flooders".to_owned()),
        "{:?}",
        top.users[0]
    );
    assert!(report.notes.is_empty(), "{:?}", report.notes);
}

#[test]
fn every_count_equals_an_independent_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = write(dir.path(), "audit.log", &fixture_text());
    let expected = independent_counts(&log);
    let report = run(std::slice::from_ref(&log));
    let got: std::collections::BTreeMap<String, [u64; 4]> = report
        .top_agents(usize::MAX)
        .into_iter()
        .map(|a| {
            (
                a.user_agent,
                [a.requests, a.too_many_requests, a.watches, a.server_errors],
            )
        })
        .collect();
    assert_eq!(got, expected);
    let busy: std::collections::BTreeMap<String, u64> = report
        .top_agents(usize::MAX)
        .into_iter()
        .map(|a| (a.user_agent, a.busy.as_micros() as u64))
        .filter(|(_, b)| *b > 0)
        .collect();
    let mut expected_busy = independent_busy(&log);
    expected_busy.retain(|_, b| *b > 0);
    assert_eq!(busy, expected_busy);
    assert_eq!(
        report.total_requests(),
        expected.values().map(|c| c[0]).sum::<u64>()
    );
    let file = &report.files[0];
    assert_eq!(file.records, fixture_text().lines().count() as u64);
    assert_eq!(
        file.records,
        file.counted + file.malformed + file.not_events + file.other_stages + file.filtered
    );
    assert_eq!(file.malformed, 0);
}

#[test]
fn the_flooders_cluster_wide_lists_and_polling_are_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = write(dir.path(), "audit.log", &fixture_text());
    let report = run(&[log]);
    let lists = report.intensive_lists();
    let flooder: Vec<_> = lists
        .rows
        .iter()
        .filter(|r| r.user_agent == "lab-flooder/1.0")
        .collect();
    assert!(!flooder.is_empty());
    // `?limit=500` without resourceVersion: the cache on 1.37, etcd on 1.30.
    assert!(
        flooder
            .iter()
            .all(|r| r.cluster_wide && r.paginated && r.class == ListClass::WatchCache),
        "{flooder:?}"
    );
    let old = Options {
        rules: ListRules::for_version(ServerVersion {
            major: 1,
            minor: 30,
        }),
        ..Options::default()
    };
    let report_1_30 = run_with(&[write(dir.path(), "again.log", &fixture_text())], &old);
    assert!(
        report_1_30
            .intensive_lists()
            .rows
            .iter()
            .filter(|r| r.user_agent == "lab-flooder/1.0")
            .all(|r| r.class == ListClass::Etcd)
    );

    let patterns = report.call_patterns();
    let kinds = |kind| patterns.iter().filter(move |p| p.kind == kind);
    assert!(
        kinds(PatternKind::ListPolling)
            .any(|p| p.user_agent == "lab-flooder/1.0" && p.namespace.is_empty()),
        "{patterns:#?}"
    );
    assert!(
        kinds(PatternKind::GetPolling)
            .any(|p| p.target == "poll-target" && p.user_agent.starts_with("kubectl/")),
        "{patterns:#?}"
    );
    assert!(
        kinds(PatternKind::WriteStorm).any(|p| p.target == "poll-target" && p.calls == 40),
        "{patterns:#?}"
    );
    assert!(
        !kinds(PatternKind::WatchChurn)
            .any(|p| p.user_agent.starts_with("kube-controller-manager")),
        "{patterns:#?}"
    );
}

#[test]
fn p99_by_verb_and_resource_judged_against_the_slos() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = run(&[write(dir.path(), "audit.log", &fixture_text())]);
    let rows = report.latency_by_verb_resource(&Focus::Agent("lab-flooder/1.0".into()));
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.user_agent == "lab-flooder/1.0" && r.verb == "list")
    );
    assert!(
        rows.iter()
            .all(|r| r.p50 <= r.p99 && r.p99 <= r.max && r.slo.is_some()),
        "{rows:#?}"
    );
    // The flooder's LISTs are queued by its one-seat level but nowhere near 30 s.
    assert!(rows.iter().all(|r| !r.breach));
    let top = report.latency_by_verb_resource(&Focus::TopAgents(3));
    let agents: std::collections::BTreeSet<_> = top.iter().map(|r| r.user_agent.as_str()).collect();
    assert!(agents.len() <= 3 && agents.contains("lab-flooder/1.0"));
    assert!(top.iter().all(|r| r.verb != "watch"));
}

#[test]
fn latency_bins_cover_the_span_and_add_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = run_with(
        &[write(dir.path(), "audit.log", &fixture_text())],
        &Options {
            bin: std::time::Duration::from_secs(60),
            ..Options::default()
        },
    );
    let agents: Vec<String> = report
        .top_agents(usize::MAX)
        .into_iter()
        .map(|a| a.user_agent)
        .collect();
    let bins = report.latency_bins(&agents);
    let (oldest, newest) = report.span().expect("events");
    let expected_bins =
        (newest.div_euclid(60_000_000) - oldest.div_euclid(60_000_000) + 1) as usize;
    let total: u64 = bins.iter().flat_map(|b| &b.bins).map(|b| b.requests).sum();
    assert_eq!(total, report.total_requests());
    assert!(bins.iter().all(|b| b.bins.len() == expected_bins));
    assert!(
        !report
            .notes
            .iter()
            .any(|n| matches!(n, Note::EmptyWindow { .. }))
    );
}
