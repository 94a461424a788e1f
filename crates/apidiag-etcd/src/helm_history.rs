//! Helm release history (seed 004 Cause 6: "too many releases in your Helm
//! deployments"; solution: `--history-max`).
//!
//! Helm 3 stores every revision of a release as one object holding the whole
//! gzipped release: a Secret of type `helm.sh/release.v1` named
//! `sh.helm.release.v1.<release>.v<N>` (the default driver) or a ConfigMap (the
//! ConfigMap driver), both labelled `owner=helm`, `name=<release>`,
//! `version=<N>`, `status=deployed|superseded|…`. The labels say everything the
//! grouping needs, so the survey lists metadata only (Secret data never leaves
//! the server for it). Sizes come from the size scan when it ran, otherwise from
//! one GET of each release's newest revision (revisions of one release are about
//! the same size), and are marked as estimates.

use std::collections::{BTreeMap, BTreeSet};

use apidiag_core::api::{ListPage, ListQuery, PartialObjectMetadata, human_bytes};
use apidiag_core::finding::{CheckReport, Evidence, Finding, Severity, Source};
use apidiag_core::object::ResourceType;

use crate::{Context, Settings, list_scoped, types};

/// Helm's label on the objects its storage drivers write.
pub const OWNER_SELECTOR: &str = "owner=helm";
/// Helm 3's `--history-max` default.
pub const HELM_DEFAULT_HISTORY_MAX: usize = 10;

fn source() -> Source {
    Source {
        guide: "Troubleshoot TCP time-outs when kubectl or other third-party tools connect to the API server".into(),
        section: "Cause 6: Too many releases in your Helm deployments".into(),
    }
}

/// Which storage driver holds a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Driver {
    Secret,
    ConfigMap,
}

impl Driver {
    pub fn resource(self) -> ResourceType {
        match self {
            Driver::Secret => types::secrets(),
            Driver::ConfigMap => types::config_maps(),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Driver::Secret => "secret",
            Driver::ConfigMap => "configmap",
        }
    }
}

/// One stored revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub version: u64,
    pub status: String,
    /// The object's name.
    pub object: String,
}

impl Revision {
    /// Revisions a prune must keep whatever their age: the deployed one, and one
    /// an install, upgrade or rollback is working on.
    pub fn protected(&self) -> bool {
        self.status == "deployed" || self.status.starts_with("pending")
    }
}

/// One release's stored history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub namespace: String,
    pub name: String,
    pub driver: Driver,
    pub revisions: Vec<Revision>,
    /// Total bytes of the stored revisions, and whether that is an estimate.
    pub bytes: Option<(u64, bool)>,
}

impl Release {
    pub fn newest(&self) -> Option<&Revision> {
        self.revisions.iter().max_by_key(|r| r.version)
    }

    pub fn deployed(&self) -> Vec<u64> {
        self.revisions
            .iter()
            .filter(|r| r.status == "deployed")
            .map(|r| r.version)
            .collect()
    }

    /// The revisions a prune to the newest `keep` deletes: older than the newest
    /// `keep`, and never a protected one.
    pub fn prunable(&self, keep: usize) -> Vec<&Revision> {
        let mut by_version: Vec<&Revision> = self.revisions.iter().collect();
        by_version.sort_by_key(|r| std::cmp::Reverse(r.version));
        by_version
            .into_iter()
            .skip(keep)
            .filter(|r| !r.protected())
            .collect()
    }
}

/// Every release found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelmHistory {
    pub releases: Vec<Release>,
    /// What could not be listed, e.g. "Secrets (forbidden)".
    pub unseen: Vec<String>,
}

impl HelmHistory {
    /// Groups labelled objects into releases.
    pub fn group(
        objects: impl IntoIterator<Item = (Driver, String, BTreeMap<String, String>)>,
    ) -> Self {
        let mut releases: BTreeMap<(String, String, Driver), Vec<Revision>> = BTreeMap::new();
        for (driver, namespace, labels) in objects {
            let Some(name) = labels.get("name") else {
                continue;
            };
            let Some(version) = labels.get("version").and_then(|v| v.parse().ok()) else {
                continue;
            };
            let object = labels.get("__object").cloned().unwrap_or_default();
            releases
                .entry((namespace, name.clone(), driver))
                .or_default()
                .push(Revision {
                    version,
                    status: labels.get("status").cloned().unwrap_or_default(),
                    object,
                });
        }
        HelmHistory {
            releases: releases
                .into_iter()
                .map(|((namespace, name, driver), mut revisions)| {
                    revisions.sort_by_key(|r| r.version);
                    Release {
                        namespace,
                        name,
                        driver,
                        revisions,
                        bytes: None,
                    }
                })
                .collect(),
            unseen: Vec::new(),
        }
    }

    pub fn over(&self, history_max: usize) -> Vec<&Release> {
        self.releases
            .iter()
            .filter(|r| r.revisions.len() > history_max)
            .collect()
    }

    pub fn namespaces_over(&self, history_max: usize) -> BTreeSet<String> {
        self.over(history_max)
            .into_iter()
            .map(|r| r.namespace.clone())
            .collect()
    }

    /// Exact sizes from the size scan: `(driver, namespace, object name)` → bytes.
    pub fn use_measured_sizes(&mut self, measured: &BTreeMap<(Driver, String, String), u64>) {
        if measured.is_empty() {
            return;
        }
        for release in &mut self.releases {
            let mut total = 0;
            let mut all = true;
            for revision in &release.revisions {
                match measured.get(&(
                    release.driver,
                    release.namespace.clone(),
                    revision.object.clone(),
                )) {
                    Some(bytes) => total += bytes,
                    None => all = false,
                }
            }
            if all {
                release.bytes = Some((total, false));
            }
        }
    }

    /// For releases without measured sizes: GET the newest revision and count every
    /// revision as big as it (one request per release, never the whole history).
    pub async fn sample_sizes(&mut self, ctx: &Context) {
        for release in &mut self.releases {
            if release.bytes.is_some() {
                continue;
            }
            let Some(newest) = release.newest() else {
                continue;
            };
            let path = release
                .driver
                .resource()
                .object_path(Some(&release.namespace), &newest.object);
            if let Ok(response) = ctx.api.get_raw(&path, None).await {
                let one = response.body.len() as u64;
                release.bytes = Some((one * release.revisions.len() as u64, true));
            }
        }
    }
}

pub async fn survey(ctx: &Context, report: &mut CheckReport) -> Option<HelmHistory> {
    let mut objects = Vec::new();
    let mut unseen = Vec::new();
    let mut seen_any = false;
    for driver in [Driver::Secret, Driver::ConfigMap] {
        let mut page_objects = Vec::new();
        let scope = list_scoped::<PartialObjectMetadata>(
            ctx,
            report,
            &driver.resource(),
            &ListQuery::metadata().labels(OWNER_SELECTOR),
            &format!("Helm release {}s", driver.name()),
            |page| match page {
                ListPage::Items(items) => {
                    for item in items {
                        let mut labels = item.metadata.labels.unwrap_or_default();
                        labels.insert("__object".into(), item.metadata.name.unwrap_or_default());
                        page_objects.push((
                            driver,
                            item.metadata.namespace.unwrap_or_default(),
                            labels,
                        ));
                    }
                }
                ListPage::Restart => page_objects.clear(),
            },
        )
        .await;
        match scope {
            Some(_) => seen_any = true,
            None => unseen.push(format!("{}s", driver.name())),
        }
        objects.extend(page_objects);
    }
    if !seen_any {
        return None;
    }
    let mut history = HelmHistory::group(objects);
    history.unseen = unseen;
    Some(history)
}

/// `etcd.helm-history`.
pub fn finding(history: &HelmHistory, settings: &Settings) -> Finding {
    let max = settings.history_max;
    let over = history.over(max);
    let rows: Vec<Vec<String>> = history
        .releases
        .iter()
        .map(|r| {
            vec![
                r.namespace.clone(),
                r.name.clone(),
                r.driver.name().into(),
                r.revisions.len().to_string(),
                r.deployed()
                    .iter()
                    .map(|v| format!("v{v}"))
                    .collect::<Vec<_>>()
                    .join(","),
                match r.bytes {
                    Some((b, true)) => format!("≈{}", human_bytes(b)),
                    Some((b, false)) => human_bytes(b),
                    None => "?".into(),
                },
                if r.revisions.len() > max {
                    format!("> {max}")
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    let table = Evidence::table(
        "Helm releases (owner=helm)",
        &[
            "namespace",
            "release",
            "driver",
            "revisions",
            "deployed",
            "size",
            "flag",
        ],
        rows,
    );
    if over.is_empty() {
        let mut f = crate::ok(
            "etcd.helm-history",
            format!(
                "No Helm release keeps more than {max} revisions ({} release{})",
                history.releases.len(),
                if history.releases.len() == 1 { "" } else { "s" }
            ),
            source(),
        );
        if !history.releases.is_empty() {
            f = f.evidence(table);
        }
        return f;
    }
    let revisions: usize = over.iter().map(|r| r.revisions.len()).sum();
    let prunable: usize = over.iter().map(|r| r.prunable(max).len()).sum();
    Finding::new(
        "etcd.helm-history",
        Severity::Warning,
        format!(
            "{} Helm release{} keep{} more than {max} revisions ({revisions} stored)",
            over.len(),
            if over.len() == 1 { "" } else { "s" },
            if over.len() == 1 { "s" } else { "" }
        ),
    )
    .detail(format!(
        "Helm keeps every revision of a release as an object holding the whole release, and by default without limit. \
         Set a limit on the next upgrade: `helm upgrade … --history-max {max}` (Helm 3) or `helm init --history-max {max}` \
         (Helm 2). Pruning now to the newest {max} per release would delete {prunable} revisions; the deployed revision is never deleted."
    ))
    .evidence(table)
    .source(source())
    .offer(
        "etcd.helm-history",
        "prune Helm history to the newest N revisions per release (the deployed one stays)",
        format!("kubectl apidiag etcd --fix helm-history --keep {max}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(name: &str, version: u64, status: &str) -> BTreeMap<String, String> {
        [
            ("owner", "helm".to_string()),
            ("name", name.to_string()),
            ("version", version.to_string()),
            ("status", status.to_string()),
            ("__object", format!("sh.helm.release.v1.{name}.v{version}")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn history(n: u64, deployed: u64) -> HelmHistory {
        HelmHistory::group((1..=n).map(|v| {
            (
                Driver::Secret,
                "lab-helm".to_string(),
                labels(
                    "web",
                    v,
                    if v == deployed {
                        "deployed"
                    } else {
                        "superseded"
                    },
                ),
            )
        }))
    }

    #[test]
    fn revisions_group_into_releases() {
        let mut objects: Vec<_> = (1..=3)
            .map(|v| {
                (
                    Driver::Secret,
                    "a".to_string(),
                    labels("web", v, "superseded"),
                )
            })
            .collect();
        objects.push((
            Driver::ConfigMap,
            "a".into(),
            labels("legacy", 1, "deployed"),
        ));
        objects.push((Driver::Secret, "b".into(), labels("web", 1, "deployed")));
        let mut no_version = labels("broken", 1, "deployed");
        no_version.remove("version");
        objects.push((Driver::Secret, "a".into(), no_version));
        let h = HelmHistory::group(objects);
        assert_eq!(
            h.releases.len(),
            3,
            "same name in two namespaces is two releases"
        );
        let web = h
            .releases
            .iter()
            .find(|r| r.namespace == "a" && r.name == "web")
            .unwrap();
        assert_eq!(web.revisions.len(), 3);
        assert_eq!(web.newest().unwrap().version, 3);
    }

    #[test]
    fn prune_keeps_the_newest_and_the_deployed() {
        let h = history(40, 40);
        let web = &h.releases[0];
        let prunable: Vec<u64> = web.prunable(10).iter().map(|r| r.version).collect();
        assert_eq!(prunable, (1..=30).rev().collect::<Vec<_>>());
        // A rollback made an old revision the deployed one: it stays.
        let rolled_back = history(40, 5);
        let prunable: Vec<u64> = rolled_back.releases[0]
            .prunable(10)
            .iter()
            .map(|r| r.version)
            .collect();
        assert!(!prunable.contains(&5));
        assert_eq!(prunable.len(), 29);
        assert!(history(8, 8).releases[0].prunable(10).is_empty());
        // Keep 0 still never deletes the deployed revision.
        assert_eq!(history(3, 3).releases[0].prunable(0).len(), 2);
    }

    #[test]
    fn releases_over_history_max_are_flagged_with_the_guides_advice() {
        let f = finding(&history(40, 40), &Settings::default());
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            f.title
                .starts_with("1 Helm release keeps more than 10 revisions (40 stored)"),
            "{}",
            f.title
        );
        assert!(f.detail.contains("--history-max 10"));
        assert!(f.detail.contains("would delete 30 revisions"));
        assert_eq!(
            f.remediations[0].command,
            "kubectl apidiag etcd --fix helm-history --keep 10"
        );
        assert_eq!(
            finding(&history(10, 10), &Settings::default()).severity,
            Severity::Ok
        );
    }

    #[test]
    fn measured_sizes_replace_estimates() {
        let mut h = history(2, 2);
        let measured: BTreeMap<_, _> = [
            (
                (
                    Driver::Secret,
                    "lab-helm".to_string(),
                    "sh.helm.release.v1.web.v1".to_string(),
                ),
                100,
            ),
            (
                (
                    Driver::Secret,
                    "lab-helm".to_string(),
                    "sh.helm.release.v1.web.v2".to_string(),
                ),
                150,
            ),
        ]
        .into_iter()
        .collect();
        h.use_measured_sizes(&measured);
        assert_eq!(h.releases[0].bytes, Some((250, false)));
    }
}
