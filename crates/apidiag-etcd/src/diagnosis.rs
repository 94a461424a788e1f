//! The diagnosis: what fills etcd, read in order of cost, then judged.
//!
//! The check runs while the API server may already be struggling, so it reads in
//! order of cost: `/metrics` first (the run's one scrape: database size, objects
//! and estimated bytes per type, APF pressure: no LIST at all), then metadata-only,
//! paginated LISTs with server-side field and label selectors for what the metrics
//! cannot say (which Jobs completed, in which namespace, owned by what), and full
//! objects only where a fix needs them or where object size is the problem
//! ([`crate::large_objects`]). Memory is bounded by the page size: every listing is
//! folded into counters page by page.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;

use apidiag_core::api::{ApiError, ListPage, ListQuery};
use apidiag_core::check::Context;
use apidiag_core::finding::{CheckReport, Finding, Severity, Source};
use apidiag_core::object::ResourceType;

/// What the check needs to see everything; without some of it the report is
/// partial and names what it could not see.
pub const PERMISSIONS: &str = "get on the non-resource URL /metrics; list on jobs, cronjobs (batch), pods, secrets, configmaps and resourcequotas in all namespaces";

/// The thresholds and switches a diagnosis is judged with.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The etcd quota (`--quota-backend-bytes`); 8 GiB on AKS.
    pub quota_bytes: u64,
    /// Objects of one type above which etcd slows down (seed: 10,000).
    pub object_threshold: u64,
    /// Helm revisions per release above which history is flagged (Helm's own
    /// `--history-max` default is 10).
    pub history_max: usize,
    /// A ConfigMap or Secret at least this big is "large".
    pub large_object_bytes: u64,
    /// A Pod whose `env` sections serialize to at least this much is "env-heavy".
    pub env_heavy_bytes: u64,
    /// Read every ConfigMap, Secret and Pod to measure them even when the metrics
    /// say object size is not the problem.
    pub scan_sizes: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            quota_bytes: crate::db_size::AKS_QUOTA_BYTES,
            object_threshold: crate::object_counts::SEED_THRESHOLD,
            history_max: crate::helm_history::HELM_DEFAULT_HISTORY_MAX,
            large_object_bytes: crate::large_objects::LARGE_OBJECT_BYTES,
            env_heavy_bytes: crate::large_objects::ENV_HEAVY_BYTES,
            scan_sizes: false,
        }
    }
}

impl Settings {
    /// Leaked objects (completed Jobs, failed Pods) are a warning from a tenth of
    /// the per-type threshold: by then they are a good part of what slows etcd.
    pub fn leak_warning(&self) -> u64 {
        (self.object_threshold / 10).max(1)
    }
}

/// Which parts of the diagnosis to run: all of them, or those a fix needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections {
    pub metrics: bool,
    pub jobs: bool,
    pub failed_pods: bool,
    pub helm: bool,
    pub sizes: bool,
    pub quotas: bool,
}

impl Sections {
    pub fn all() -> Self {
        Sections {
            metrics: true,
            jobs: true,
            failed_pods: true,
            helm: true,
            sizes: true,
            quotas: true,
        }
    }
    pub(crate) fn none() -> Self {
        Sections {
            metrics: false,
            jobs: false,
            failed_pods: false,
            helm: false,
            sizes: false,
            quotas: false,
        }
    }
}

/// Well-known resource types, for paths and fallbacks.
pub mod types {
    use apidiag_core::object::ResourceType;

    pub fn jobs() -> ResourceType {
        ResourceType::new("batch", "v1", "jobs", "Job", true)
    }
    pub fn cronjobs() -> ResourceType {
        ResourceType::new("batch", "v1", "cronjobs", "CronJob", true)
    }
    pub fn pods() -> ResourceType {
        ResourceType::new("", "v1", "pods", "Pod", true)
    }
    pub fn secrets() -> ResourceType {
        ResourceType::new("", "v1", "secrets", "Secret", true)
    }
    pub fn config_maps() -> ResourceType {
        ResourceType::new("", "v1", "configmaps", "ConfigMap", true)
    }
    pub fn resource_quotas() -> ResourceType {
        ResourceType::new("", "v1", "resourcequotas", "ResourceQuota", true)
    }

    /// Namespaced types that commonly pile up, with their served version (core
    /// Events only: `events.k8s.io` serves the same objects again): the
    /// per-namespace breakdown of an over-threshold type and the LIST-based count
    /// when `/metrics` is out of reach use these (other types are named, not listed).
    pub fn common() -> Vec<ResourceType> {
        vec![
            pods(),
            config_maps(),
            secrets(),
            ResourceType::new("", "v1", "events", "Event", true),
            ResourceType::new("", "v1", "serviceaccounts", "ServiceAccount", true),
            ResourceType::new("", "v1", "services", "Service", true),
            jobs(),
            cronjobs(),
            ResourceType::new("apps", "v1", "replicasets", "ReplicaSet", true),
            ResourceType::new("apps", "v1", "deployments", "Deployment", true),
            ResourceType::new("coordination.k8s.io", "v1", "leases", "Lease", true),
            ResourceType::new(
                "discovery.k8s.io",
                "v1",
                "endpointslices",
                "EndpointSlice",
                true,
            ),
        ]
    }

    /// The common type for a `group`/`resource` pair from the metrics.
    pub fn lookup(group: Option<&str>, resource: &str) -> Option<ResourceType> {
        common()
            .into_iter()
            .find(|t| t.group == group.unwrap_or("") && t.plural == resource)
    }
}

pub(crate) fn source_cause3() -> Source {
    Source::apiserver_etcd(
        "Cause 3: An offending client leaks etcd objects and causes a slowdown of etcd; Solution 3",
    )
}

pub(crate) fn source_cause6() -> Source {
    Source::apiserver_etcd(
        "Cause 6: High etcd memory usage; Solution 6: determine the primary contributing factor",
    )
}

/// Everything the diagnosis read, folded: what the findings and the fixes use.
#[derive(Debug, Clone, Default)]
pub struct EtcdState {
    pub metrics: Option<crate::db_size::MetricsView>,
    pub counts: Option<crate::object_counts::ObjectCounts>,
    pub jobs: Option<crate::completed_jobs::JobsSurvey>,
    pub failed: Option<crate::failed_pods::FailedPods>,
    pub helm: Option<crate::helm_history::HelmHistory>,
    pub sizes: Option<crate::large_objects::SizeSurvey>,
    pub quotas: Option<crate::quotas::Quotas>,
}

/// Where a listing looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every namespace.
    Cluster,
    /// Only this namespace: the cluster-wide LIST was forbidden.
    Namespace(String),
}

impl Scope {
    pub fn describe(&self) -> String {
        match self {
            Scope::Cluster => "all namespaces".into(),
            Scope::Namespace(ns) => format!("namespace {ns} only"),
        }
    }
}

/// Lists `resource` in every namespace, page by page; when that is forbidden,
/// lists the context's namespace instead and notes the gap. `None` when nothing
/// could be listed (noted too).
pub(crate) async fn list_scoped<T: DeserializeOwned>(
    ctx: &Context,
    report: &mut CheckReport,
    resource: &ResourceType,
    query: &ListQuery,
    what: &str,
    mut on_page: impl FnMut(ListPage<T>),
) -> Option<Scope> {
    let api = &ctx.api;
    match api
        .list(&resource.collection_path(None), query, &mut on_page)
        .await
    {
        Ok(_) => return Some(Scope::Cluster),
        Err(ApiError::Forbidden { .. }) if !ctx.namespace.is_empty() => {}
        Err(error) => {
            report.gap(format!("{what} ({})", error.first_line()));
            return None;
        }
    }
    let namespace = ctx.namespace.clone();
    match api
        .list(
            &resource.collection_path(Some(&namespace)),
            query,
            &mut on_page,
        )
        .await
    {
        Ok(_) => {
            report.gap(format!(
                "{what} in other namespaces than {namespace} (list across all namespaces is forbidden)"
            ));
            Some(Scope::Namespace(namespace))
        }
        Err(error) => {
            report.gap(format!("{what} ({})", error.first_line()));
            None
        }
    }
}

/// The diagnosis: read-only, metrics first.
pub async fn diagnose(
    ctx: &Context,
    settings: &Settings,
    sections: Sections,
) -> (CheckReport, EtcdState) {
    let mut report = CheckReport::new("etcd");
    let mut state = EtcdState::default();

    if sections.metrics || sections.sizes {
        match ctx.metrics().await {
            Ok(families) => {
                state.metrics = Some(crate::db_size::MetricsView::read(families));
            }
            Err(error) => {
                report.gap(format!(
                    "/metrics ({}): no database size, no size estimates, no APF pressure; objects counted with LIST instead",
                    error.first_line()
                ));
            }
        }
    }

    if sections.metrics {
        state.counts = match state.metrics.as_ref().and_then(|m| m.counts.clone()) {
            Some(counts) => Some(counts),
            None => {
                let why = state
                    .metrics
                    .as_ref()
                    .map_or("/metrics not readable", |m| m.counts_missing.as_str())
                    .to_string();
                Some(crate::object_counts::count_by_listing(ctx, &mut report, &why).await)
                    // Nothing counted: the gap says why; a finding would claim "no
                    // type above the threshold" about types nobody saw.
                    .filter(|c| !c.types.is_empty())
            }
        };
        if let (Some(counts), Some(_)) = (state.counts.as_mut(), state.metrics.as_ref()) {
            crate::object_counts::break_down_by_namespace(ctx, &mut report, counts, settings).await;
        }
    }
    if sections.jobs {
        state.jobs = crate::completed_jobs::survey(ctx, &mut report).await;
    }
    if sections.failed_pods {
        state.failed = crate::failed_pods::survey(ctx, &mut report).await;
    }
    if sections.helm {
        state.helm = crate::helm_history::survey(ctx, &mut report).await;
    }
    if sections.sizes {
        let scan = crate::large_objects::should_scan(settings, state.metrics.as_ref());
        state.sizes = Some(crate::large_objects::survey(ctx, &mut report, settings, scan).await);
        if let (Some(helm), Some(sizes)) = (state.helm.as_mut(), state.sizes.as_ref()) {
            helm.use_measured_sizes(&sizes.helm_revision_bytes);
        }
    }
    if sections.helm
        && let Some(helm) = state.helm.as_mut()
    {
        helm.sample_sizes(ctx).await;
    }
    if sections.quotas {
        state.quotas = crate::quotas::survey(ctx, &mut report).await;
    }

    // Findings, in the order an SRE reads them: how big, how many, which factor,
    // then each kind of leak, then what would stop it coming back.
    if sections.metrics {
        if let Some(metrics) = &state.metrics {
            report.push(crate::db_size::finding(metrics, settings));
        }
        if let Some(counts) = &state.counts {
            report.push(crate::object_counts::finding(counts, settings));
        }
        let assessment =
            crate::dominant::assess(state.metrics.as_ref(), state.counts.as_ref(), settings);
        if assessment.pressures.iter().any(|p| p.ratio.is_some()) {
            report.push(crate::dominant::finding(&assessment));
        }
    }
    // Without metrics and without a scan nothing was measured about sizes: the
    // /metrics gap already says so.
    if let Some(sizes) = state
        .sizes
        .as_ref()
        .filter(|s| s.scanned || state.metrics.is_some())
    {
        report.push(crate::large_objects::finding(
            sizes,
            state.metrics.as_ref(),
            settings,
        ));
        report.push(crate::large_objects::env_finding(sizes, settings));
    }
    if let Some(jobs) = &state.jobs {
        for finding in crate::completed_jobs::findings(jobs, settings) {
            report.push(finding);
        }
    }
    if let Some(failed) = &state.failed {
        report.push(crate::failed_pods::finding(failed, settings));
    }
    if let Some(helm) = &state.helm {
        report.push(crate::helm_history::finding(helm, settings));
    }
    if let Some(quotas) = &state.quotas {
        let bloated = bloated_namespaces(&state, settings);
        report.push(crate::quotas::finding(quotas, &bloated));
    }

    if report.findings.is_empty() {
        // Nothing could be read at all: say so as one could-not-check.
        let reason = match &report.status {
            apidiag_core::finding::CheckStatus::Partial { gaps } => gaps.join("; "),
            _ => "nothing could be read".into(),
        };
        return (
            CheckReport::could_not_check(
                "etcd",
                format!("missing permission or unreachable: {reason}"),
                format!("this check needs: {PERMISSIONS}"),
            ),
            state,
        );
    }
    (report, state)
}

/// Namespaces where the diagnosis found objects piling up: completed Jobs, failed
/// Pods, Helm history above the limit, or a large share of an over-threshold type.
pub fn bloated_namespaces(state: &EtcdState, settings: &Settings) -> BTreeSet<String> {
    let mut namespaces = BTreeSet::new();
    if let Some(jobs) = &state.jobs {
        namespaces.extend(jobs.namespaces());
    }
    if let Some(failed) = &state.failed {
        namespaces.extend(failed.namespaces());
    }
    if let Some(helm) = &state.helm {
        namespaces.extend(helm.namespaces_over(settings.history_max));
    }
    if let Some(counts) = &state.counts {
        namespaces.extend(counts.bloated_namespaces(settings));
    }
    namespaces
}

/// An `ok` finding that says what was looked at.
pub(crate) fn ok(id: &str, title: impl Into<String>, source: Source) -> Finding {
    Finding::new(id, Severity::Ok, title).source(source)
}

/// `12345` → `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parses a size: `8Gi`, `512Ki`, `2G`, `1.5Mi`, `8589934592`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 8Gi, 512Ki or 2G"))?;
    let factor: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "K" | "k" | "KB" | "kB" => 1e3,
        "M" | "MB" => 1e6,
        "G" | "GB" => 1e9,
        "T" | "TB" => 1e12,
        "Ki" | "KiB" => 1024.0,
        "Mi" | "MiB" => 1024.0 * 1024.0,
        "Gi" | "GiB" => 1024.0 * 1024.0 * 1024.0,
        "Ti" | "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{other}` in `{text}` is not a unit: use Ki, Mi, Gi, K, M or G"
            ));
        }
    };
    Ok((number * factor).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_like_kubernetes_quantities() {
        assert_eq!(parse_size("8Gi").unwrap(), 8 * 1024 * 1024 * 1024);
        assert_eq!(parse_size("2G").unwrap(), 2_000_000_000);
        assert_eq!(parse_size("512Ki").unwrap(), 512 * 1024);
        assert_eq!(parse_size("1.5Mi").unwrap(), 1_572_864);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("8 parsecs").is_err());
        assert!(parse_size("Gi").is_err());
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(20_002), "20,002");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn leaks_warn_at_a_tenth_of_the_type_threshold() {
        assert_eq!(Settings::default().leak_warning(), 1000);
        let tiny = Settings {
            object_threshold: 5,
            ..Settings::default()
        };
        assert_eq!(tiny.leak_warning(), 1);
    }
}
