//! Shared by the integration tests: the lab fixture, conversion of its events
//! into every AKS export shape (written here with `serde_json::Value` and the
//! `csv` writer, independently of the engine's readers), a text fingerprint of
//! a report so two reports can be compared whole, and an independent count.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use apidiag_audit::{Focus, Options, Report, analyze};
use serde_json::{Value, json};

/// The lab's audit log (kube-apiserver v1.37.1, scenarios flood, failed-pods,
/// helm-history, plus kubectl polling one ConfigMap and annotating it 40 times).
pub const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/lab-flood.audit.log.gz"
);

/// The fixture's text.
pub fn fixture_text() -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(FIXTURE).expect("fixture"))
        .read_to_string(&mut text)
        .expect("fixture is gzip text");
    text
}

/// The fixture's events.
pub fn fixture_events() -> Vec<Value> {
    fixture_text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("fixture line is JSON"))
        .collect()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

/// Gzips `text` into `dir/name`.
pub fn write_gz(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).expect("gzip");
    let path = dir.join(name);
    std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
    path
}

/// Log Analytics writes seven fraction digits.
fn seven(ts: &Value) -> String {
    ts.as_str().unwrap_or_default().replace('Z', "0Z")
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn resource_record(e: &Value, log: Value) -> Value {
    json!({
        "time": e["stageTimestamp"],
        "resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/LAB",
        "category": "kube-audit",
        "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
        "properties": {"log": log, "stream": "stdout", "pod": "kube-apiserver-6d7fc956fd-s68ss"},
    })
}

/// A storage-account blob: one record a line, `properties.log` an escaped
/// string with a trailing newline, or the event as an object.
pub fn storage_blob(events: &[Value], log_as_object: bool) -> String {
    events
        .iter()
        .map(|e| {
            let log = if log_as_object {
                e.clone()
            } else {
                Value::String(format!("{e}\n"))
            };
            resource_record(e, log).to_string() + "\n"
        })
        .collect()
}

/// Event Hub capture: several pretty-printed `{"records":[…]}` documents.
pub fn event_hub(events: &[Value], per_document: usize) -> String {
    events
        .chunks(per_document.max(1))
        .map(|chunk| {
            let records: Vec<Value> = chunk
                .iter()
                .map(|e| resource_record(e, Value::String(e.to_string())))
                .collect();
            serde_json::to_string_pretty(&json!({ "records": records })).expect("json") + "\n"
        })
        .collect()
}

/// One `AKSAudit` row, every value a string as `az` prints it.
pub fn aks_audit_row(e: &Value) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("TableName", "PrimaryResult".into()),
        ("TimeGenerated", seven(&e["stageTimestamp"])),
        ("Level", text(&e["level"])),
        ("AuditId", text(&e["auditID"])),
        ("Stage", text(&e["stage"])),
        ("RequestUri", text(&e["requestURI"])),
        ("Verb", text(&e["verb"])),
        ("User", text(&e["user"])),
        ("SourceIps", text(&e["sourceIPs"])),
        ("UserAgent", text(&e["userAgent"])),
        ("ObjectRef", text(&e["objectRef"])),
        ("ResponseStatus", text(&e["responseStatus"])),
        ("RequestObject", "skipped-too-big-size-object".into()),
        ("RequestReceivedTime", seven(&e["requestReceivedTimestamp"])),
        ("StageReceivedTime", seven(&e["stageTimestamp"])),
        ("Annotations", text(&e["annotations"])),
        ("PodName", "kube-apiserver-6d7fc956fd-s68ss".into()),
        ("Type", "AKSAudit".into()),
        ("_ResourceId", "/subscriptions/0000/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/lab".into()),
    ])
}

/// One `AzureDiagnostics` row.
pub fn diagnostics_row(e: &Value) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("TableName", "PrimaryResult".into()),
        ("TimeGenerated", seven(&e["stageTimestamp"])),
        ("Category", "kube-audit".into()),
        ("log_s", format!("{e}\n")),
        ("pod_s", "kube-apiserver-6d7fc956fd-s68ss".into()),
        ("ResourceId", "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/LAB".into()),
        ("Type", "AzureDiagnostics".into()),
    ])
}

/// `az monitor log-analytics query -o json`: one indented array.
pub fn az_query(rows: &[BTreeMap<&'static str, String>]) -> String {
    serde_json::to_string_pretty(rows).expect("json")
}

/// The portal's CSV export; datetime headers carry ` [UTC]`.
pub fn csv_export(rows: &[BTreeMap<&'static str, String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let Some(first) = rows.first() else {
        return String::new();
    };
    let header = |k: &str| {
        if k.ends_with("Time") || k == "TimeGenerated" {
            format!("{k} [UTC]")
        } else {
            k.to_owned()
        }
    };
    w.write_record(first.keys().map(|k| header(k)))
        .expect("csv");
    for row in rows {
        w.write_record(row.values()).expect("csv");
    }
    String::from_utf8(w.into_inner().expect("csv")).expect("utf8")
}

/// Every table of a report as text, for comparing two reports whole.
pub fn fingerprint(report: &Report) -> String {
    let mut out = format!("total {}\n", report.total_requests());
    let agents = report.top_agents(usize::MAX);
    for a in &agents {
        out += &format!("{a:?}\n");
    }
    let names: Vec<String> = agents.iter().map(|a| a.user_agent.clone()).collect();
    for b in report.latency_bins(&names) {
        out += &format!("{b:?}\n");
    }
    for r in report.latency_by_verb_resource(&Focus::TopAgents(usize::MAX)) {
        out += &format!("{r:?}\n");
    }
    out += &format!("{:?}\n", report.intensive_lists());
    for p in report.call_patterns() {
        out += &format!("{p:?}\n");
    }
    out
}

/// Analyzes paths with default options.
pub fn run(paths: &[PathBuf]) -> Report {
    run_with(paths, &Options::default())
}

/// Analyzes paths.
pub fn run_with(paths: &[PathBuf], options: &Options) -> Report {
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    analyze(&paths, options).expect("analyze")
}

/// Per user agent: (requests, 429s, watches, 5xx), counted by `jq` when it is
/// on PATH, else with `serde_json::Value`: either way not by the engine.
pub fn independent_counts(log: &Path) -> BTreeMap<String, [u64; 4]> {
    const FILTER: &str = r#"[.[] | select(((.stage == "ResponseComplete" or .stage == "Panic") and (.verb != "watch" or (.responseStatus.code // 0) >= 400)) or (.stage == "ResponseStarted" and .verb == "watch"))] | group_by(.userAgent // "") | map({key: (.[0].userAgent // ""), value: [length, (map(select(.responseStatus.code == 429)) | length), (map(select(.verb == "watch")) | length), (map(select((.responseStatus.code // 0) >= 500)) | length)]}) | from_entries"#;
    if let Ok(out) = Command::new("jq")
        .args(["-s", "-c", FILTER])
        .arg(log)
        .output()
    {
        assert!(
            out.status.success(),
            "jq failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return serde_json::from_slice(&out.stdout).expect("jq prints JSON");
    }
    let mut counts: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    for line in std::fs::read_to_string(log).expect("log").lines() {
        let e: Value = serde_json::from_str(line).expect("json");
        let (stage, verb) = (
            e["stage"].as_str().unwrap_or(""),
            e["verb"].as_str().unwrap_or(""),
        );
        let code = e["responseStatus"]["code"].as_u64().unwrap_or(0);
        let counted = (matches!(stage, "ResponseComplete" | "Panic")
            && (verb != "watch" || code >= 400))
            || (stage == "ResponseStarted" && verb == "watch");
        if counted {
            let c = counts
                .entry(e["userAgent"].as_str().unwrap_or("").to_owned())
                .or_default();
            c[0] += 1;
            c[1] += u64::from(code == 429);
            c[2] += u64::from(verb == "watch");
            c[3] += u64::from(code >= 500);
        }
    }
    counts
}

/// Per user agent, the sum of latencies of counted non-watch requests in
/// microseconds, with timestamps read by `jiff` (not the engine's fast path).
pub fn independent_busy(log: &Path) -> BTreeMap<String, u64> {
    let mut busy: BTreeMap<String, u64> = BTreeMap::new();
    for line in std::fs::read_to_string(log).expect("log").lines() {
        let e: Value = serde_json::from_str(line).expect("json");
        if !matches!(e["stage"].as_str(), Some("ResponseComplete" | "Panic"))
            || e["verb"] == "watch"
        {
            continue;
        }
        let at = |field: &str| {
            e[field]
                .as_str()
                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                .expect("timestamp")
                .as_microsecond()
        };
        let latency = (at("stageTimestamp") - at("requestReceivedTimestamp")).max(0) as u64;
        *busy
            .entry(e["userAgent"].as_str().unwrap_or("").to_owned())
            .or_default() += latency;
    }
    busy
}
