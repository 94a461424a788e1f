//! Object size (seed 001 Solution 6, "if large objects are consuming excessive
//! memory": move environment variables from Pod specs to ConfigMaps, split large
//! Secrets and ConfigMaps).
//!
//! Reading every ConfigMap, Secret and Pod is the expensive LIST the guides warn
//! about, so the check first asks the metrics: `apiserver_resource_size_estimate_bytes`
//! (1.34+) gives the stored bytes per type, and the database size says whether size
//! can be the problem at all. The full, paginated scan runs only when it can
//! (the database is large) or when asked (`--scan-sizes`). It measures each
//! object as the server serialized it, keeps names and sizes of the largest, and
//! drops each page, Secret data included, as soon as it is measured: no Secret
//! value is ever kept or printed.

use std::collections::BTreeMap;

use serde_json::Value;

use apidiag_core::api::{ListPage, ListQuery, human_bytes};
use apidiag_core::finding::{CheckReport, Evidence, Finding, Severity};

use crate::db_size::{LARGE_DB_BYTES, MetricsView, WARNING_QUOTA_SHARE};
use crate::helm_history::Driver;
use crate::{Context, Settings, list_scoped, source_cause6, thousands, types};

/// ConfigMaps and Secrets from this size are "large": half the API server's
/// 1 MiB limit for their data, where splitting them becomes the advice.
pub const LARGE_OBJECT_BYTES: u64 = 512 * 1024;
/// Pods whose `env` sections serialize to this much carry their configuration in
/// the spec (a few hundred variables), which every Pod LIST then pays for.
pub const ENV_HEAVY_BYTES: u64 = 16 * 1024;
/// Rows kept and shown.
const SHOWN: usize = 10;

/// One measured object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasuredObject {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub bytes: u64,
}

/// One Pod with a heavy environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvHeavy {
    pub namespace: String,
    pub name: String,
    pub variables: usize,
    pub bytes: u64,
}

/// What the size survey found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SizeSurvey {
    /// Whether objects were read one by one, and why (or why not).
    pub scanned: bool,
    pub reason: String,
    /// ConfigMaps and Secrets measured.
    pub measured: u64,
    /// The largest, biggest first.
    pub largest: Vec<MeasuredObject>,
    /// How many are at least the large-object size.
    pub large: u64,
    pub pods_measured: u64,
    pub env_heavy: Vec<EnvHeavy>,
    pub env_heavy_count: u64,
    /// Measured sizes of Helm revisions, for the Helm finding.
    pub helm_revision_bytes: BTreeMap<(Driver, String, String), u64>,
}

/// Whether to read objects one by one, and why.
pub fn should_scan(settings: &Settings, metrics: Option<&MetricsView>) -> (bool, String) {
    if settings.scan_sizes {
        return (true, "--scan-sizes".into());
    }
    let Some(metrics) = metrics else {
        return (
            false,
            "object sizes unknown without /metrics; --scan-sizes reads every ConfigMap, Secret and Pod to measure them".into(),
        );
    };
    match metrics.db_bytes {
        Some((bytes, _))
            if bytes > LARGE_DB_BYTES as f64
                || bytes / settings.quota_bytes.max(1) as f64 >= WARNING_QUOTA_SHARE =>
        {
            (
                true,
                format!(
                    "the database is large ({}): object size may be the factor",
                    human_bytes(bytes as u64)
                ),
            )
        }
        Some((bytes, _)) => (
            false,
            format!(
                "the database is {} (large from {}), so object size is not the factor; objects were not read one by one (--scan-sizes reads them)",
                human_bytes(bytes as u64),
                human_bytes(LARGE_DB_BYTES)
            ),
        ),
        None => (
            false,
            "no database size served; objects were not read one by one (--scan-sizes reads them)"
                .into(),
        ),
    }
}

/// How many bytes a JSON value serializes to, without building the text.
pub fn serialized_len(value: &Value) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail; a value that cannot serialize counts as 0.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Variables and serialized bytes of every `env` section of a Pod.
pub fn env_weight(pod: &Value) -> (usize, u64) {
    let spec = &pod["spec"];
    let mut variables = 0;
    let mut bytes = 0;
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for container in spec[list].as_array().into_iter().flatten() {
            if let Some(env) = container.get("env") {
                variables += env.as_array().map_or(0, Vec::len);
                bytes += serialized_len(env);
            }
        }
    }
    (variables, bytes)
}

impl SizeSurvey {
    fn measure(&mut self, kind: &'static str, object: &Value, settings: &Settings) {
        let bytes = serialized_len(object);
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.measured += 1;
        if bytes >= settings.large_object_bytes {
            self.large += 1;
        }
        if object["metadata"]["labels"]["owner"] == "helm" {
            let driver = if kind == "Secret" {
                Driver::Secret
            } else {
                Driver::ConfigMap
            };
            self.helm_revision_bytes
                .insert((driver, namespace.clone(), name.clone()), bytes);
        }
        keep_largest(
            &mut self.largest,
            MeasuredObject {
                kind,
                namespace,
                name,
                bytes,
            },
            |s| s.bytes,
        );
    }

    fn measure_pod(&mut self, pod: &Value, settings: &Settings) {
        self.pods_measured += 1;
        let (variables, bytes) = env_weight(pod);
        if bytes >= settings.env_heavy_bytes {
            self.env_heavy_count += 1;
            keep_largest(
                &mut self.env_heavy,
                EnvHeavy {
                    namespace: pod["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    name: pod["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    variables,
                    bytes,
                },
                |e| e.bytes,
            );
        }
    }
}

/// Keeps the `SHOWN` largest, biggest first.
fn keep_largest<T>(list: &mut Vec<T>, item: T, size: impl Fn(&T) -> u64) {
    let at = list.partition_point(|x| size(x) >= size(&item));
    if at < SHOWN {
        list.insert(at, item);
        list.truncate(SHOWN);
    }
}

pub async fn survey(
    ctx: &Context,
    report: &mut CheckReport,
    settings: &Settings,
    (scan, reason): (bool, String),
) -> SizeSurvey {
    let mut survey = SizeSurvey {
        scanned: false,
        reason,
        ..SizeSurvey::default()
    };
    if !scan {
        return survey;
    }
    survey.scanned = true;
    for (kind, resource) in [
        ("ConfigMap", types::config_maps()),
        ("Secret", types::secrets()),
    ] {
        let folded = &mut survey;
        // A listing restarted after a 410 measures some objects twice: the largest
        // stay right, the counts become an upper bound. Rare enough to accept.
        list_scoped::<Value>(
            ctx,
            report,
            &resource,
            &ListQuery::default(),
            &format!("{kind}s (sizes)"),
            |page| {
                if let ListPage::Items(items) = page {
                    for item in &items {
                        folded.measure(kind, item, settings);
                    }
                    // `items`, Secret data included, is dropped here, page by page.
                }
            },
        )
        .await;
    }
    let folded = &mut survey;
    list_scoped::<Value>(
        ctx,
        report,
        &types::pods(),
        &ListQuery::default(),
        "Pods (env sizes)",
        |page| {
            if let ListPage::Items(items) = page {
                for pod in &items {
                    folded.measure_pod(pod, settings);
                }
            }
        },
    )
    .await;
    survey
}

/// Estimated bytes of the types that usually hold the bytes, from the metrics.
/// None while the counts hold nothing ([`ObjectCounts::from_metrics`]): the
/// estimates come from the same poll, so they would read 0 B as if measured.
///
/// [`ObjectCounts::from_metrics`]: crate::object_counts::ObjectCounts::from_metrics
pub fn estimates(metrics: &MetricsView) -> Vec<(String, Option<u64>, f64)> {
    let (Some(all), Some(_)) = (&metrics.estimates, &metrics.counts) else {
        return Vec::new();
    };
    let count = |name: &str| {
        metrics.counts.as_ref().and_then(|c| {
            c.types
                .iter()
                .find(|t| t.qualified() == name)
                .map(|t| t.count)
        })
    };
    let mut rows: Vec<(String, Option<u64>, f64)> = all
        .iter()
        .map(|(name, bytes)| (name.clone(), count(name), *bytes))
        .collect();
    rows.sort_by(|a, b| b.2.total_cmp(&a.2));
    rows.truncate(SHOWN);
    rows
}

/// `etcd.large-objects`.
pub fn finding(survey: &SizeSurvey, metrics: Option<&MetricsView>, settings: &Settings) -> Finding {
    let estimate_rows: Vec<Vec<String>> = metrics
        .map(estimates)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, count, bytes)| {
            vec![
                name,
                count.map_or("?".into(), |c| c.to_string()),
                human_bytes(bytes as u64),
                count
                    .filter(|c| *c > 0)
                    .map_or(String::new(), |c| human_bytes((bytes / c as f64) as u64)),
            ]
        })
        .collect();
    let estimate_lookup = metrics.map_or(String::new(), |m| m.estimate_lookup.clone());
    let with_estimates = |mut f: Finding| {
        if !estimate_lookup.is_empty() {
            f = f.evidence(Evidence::new("estimates", estimate_lookup.clone()));
        }
        if !estimate_rows.is_empty() {
            f = f.evidence(Evidence::table(
                "stored bytes per type (server estimate)",
                &["type", "objects", "bytes", "average"],
                estimate_rows.clone(),
            ));
        }
        f
    };
    if !survey.scanned {
        return with_estimates(
            crate::ok(
                "etcd.large-objects",
                "Object size was judged from the metrics, without reading objects",
                source_cause6(),
            )
            .evidence(Evidence::new("why", survey.reason.clone())),
        );
    }
    let rows: Vec<Vec<String>> = survey
        .largest
        .iter()
        .map(|s| {
            vec![
                s.kind.to_lowercase(),
                format!("{}/{}", s.namespace, s.name),
                human_bytes(s.bytes),
                if s.bytes >= settings.large_object_bytes {
                    "large".into()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    let table = Evidence::table(
        "largest ConfigMaps and Secrets (names and sizes only)",
        &["kind", "object", "size", "flag"],
        rows,
    );
    let scanned = Evidence::new(
        "measured",
        format!(
            "{} ConfigMaps and Secrets, read page by page and dropped once measured ({})",
            thousands(survey.measured),
            survey.reason
        ),
    );
    if survey.large == 0 {
        return with_estimates(
            crate::ok(
                "etcd.large-objects",
                format!(
                    "No ConfigMap or Secret reaches {}",
                    human_bytes(settings.large_object_bytes)
                ),
                source_cause6(),
            )
            .evidence(scanned)
            .evidence(table),
        );
    }
    with_estimates(
        Finding::new(
            "etcd.large-objects",
            Severity::Warning,
            format!(
                "{} ConfigMap{}/Secrets of {} or more",
                survey.large,
                if survey.large == 1 { "" } else { "s" },
                human_bytes(settings.large_object_bytes)
            ),
        )
        .detail(
            "Large objects make etcd and the API server's watch cache hold and send more on every change and every LIST. \
             Split large Secrets and ConfigMaps into smaller, more manageable pieces (guide, Solution 6).",
        )
        .evidence(scanned)
        .evidence(table)
        .source(source_cause6()),
    )
}

/// `etcd.env-heavy-pods`.
pub fn env_finding(survey: &SizeSurvey, settings: &Settings) -> Finding {
    if !survey.scanned {
        return crate::ok(
            "etcd.env-heavy-pods",
            "Pod specs were not read one by one",
            source_cause6(),
        )
        .evidence(Evidence::new("why", survey.reason.clone()));
    }
    if survey.env_heavy_count == 0 {
        return crate::ok(
            "etcd.env-heavy-pods",
            format!(
                "No Pod carries {} or more of environment variables ({} Pods read)",
                human_bytes(settings.env_heavy_bytes),
                thousands(survey.pods_measured)
            ),
            source_cause6(),
        );
    }
    Finding::new(
        "etcd.env-heavy-pods",
        Severity::Warning,
        format!(
            "{} Pod{} carr{} {} or more of environment variables in the spec",
            survey.env_heavy_count,
            if survey.env_heavy_count == 1 { "" } else { "s" },
            if survey.env_heavy_count == 1 { "ies" } else { "y" },
            human_bytes(settings.env_heavy_bytes)
        ),
    )
    .detail(
        "Every Pod stored, watched and listed carries its whole environment. Move the variables to a ConfigMap and \
         reference it with `envFrom` (guide, Solution 6: reduce Pod specification sizes).",
    )
    .evidence(Evidence::table(
        "Pods with the heaviest env sections",
        &["pod", "variables", "env bytes"],
        survey
            .env_heavy
            .iter()
            .map(|p| vec![format!("{}/{}", p.namespace, p.name), p.variables.to_string(), human_bytes(p.bytes)])
            .collect(),
    ))
    .source(source_cause6())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_are_the_serialized_length() {
        let v = json!({"a": "bc"});
        assert_eq!(serialized_len(&v), r#"{"a":"bc"}"#.len() as u64);
    }

    #[test]
    fn env_weight_counts_every_container() {
        let pod = json!({"spec": {
            "containers": [{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}, {"name": "b"}],
            "initContainers": [{"name": "i", "env": [{"name": "Z", "value": "3"}]}]}});
        let (vars, bytes) = env_weight(&pod);
        assert_eq!(vars, 3);
        assert!(bytes > 40);
    }

    #[test]
    fn the_largest_are_kept_in_order_and_secrets_lose_their_data() {
        let settings = Settings::default();
        let mut s = SizeSurvey::default();
        for i in 0..30u64 {
            let secret = json!({"metadata": {"name": format!("s{i}"), "namespace": "n"}, "data": {"k": "x".repeat((i * 40_000) as usize)}});
            s.measure("Secret", &secret, &settings);
        }
        assert_eq!(s.measured, 30);
        assert_eq!(s.largest.len(), SHOWN);
        assert_eq!(s.largest[0].name, "s29");
        assert!(s.largest.windows(2).all(|w| w[0].bytes >= w[1].bytes));
        assert_eq!(
            s.large,
            (0..30u64)
                .filter(|i| i * 40_000 >= LARGE_OBJECT_BYTES)
                .count() as u64
        );
        s.scanned = true;
        let f = finding(&s, None, &settings);
        assert_eq!(f.severity, Severity::Warning);
        let text = serde_json::to_string(&f).unwrap();
        assert!(!text.contains("xxxx"), "no Secret data in the report");
    }

    #[test]
    fn the_scan_runs_only_when_size_can_matter() {
        let small = MetricsView {
            db_bytes: Some((190e6, "apiserver_storage_size_bytes")),
            ..MetricsView::default()
        };
        let (scan, why) = should_scan(&Settings::default(), Some(&small));
        assert!(!scan);
        assert!(why.contains("--scan-sizes"), "{why}");
        let large = MetricsView {
            db_bytes: Some((3.0e9, "apiserver_storage_size_bytes")),
            ..MetricsView::default()
        };
        assert!(should_scan(&Settings::default(), Some(&large)).0);
        let forced = Settings {
            scan_sizes: true,
            ..Settings::default()
        };
        assert!(should_scan(&forced, Some(&small)).0);
        assert!(!should_scan(&Settings::default(), None).0);
        let f = finding(
            &SizeSurvey {
                reason: why,
                ..Default::default()
            },
            Some(&small),
            &Settings::default(),
        );
        assert_eq!(f.severity, Severity::Ok);
    }
}
