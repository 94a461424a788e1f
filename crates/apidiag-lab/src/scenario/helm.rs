//! `helm-history`: Helm 3 keeps every release revision as an object (default
//! `--history-max` is 10, but charts installed with 0 or by old tooling keep all),
//! each holding the whole gzipped, base64-encoded release. They are stored exactly
//! as Helm's drivers store them: Secrets of type `helm.sh/release.v1` named
//! `sh.helm.release.v1.<release>.v<N>` with labels `owner`, `name`, `status`,
//! `version` and `modifiedAt`, and one release through the ConfigMap driver.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use std::collections::BTreeMap;

use super::util::{self, Rng};
use super::{SCENARIO_LABEL, Scenario, ScenarioContext, ScenarioReport, ScenarioSize};
use crate::LabError;
use crate::encoding::base64;

pub(super) const NAMESPACE: &str = "lab-helm";

/// `(release, share of ScenarioSize::helm_revisions in percent, driver)`.
const RELEASES: [(&str, usize, Driver); 4] = [
    ("web", 100, Driver::Secret),
    ("api", 75, Driver::Secret),
    ("worker", 60, Driver::Secret),
    ("legacy", 40, Driver::ConfigMap),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driver {
    Secret,
    ConfigMap,
}

/// A revision's `release` value: base64 of a gzip stream. The payload is random
/// (incompressible, like real compressed chart templates) and 12–40 KiB, the range
/// of typical charts.
fn release_blob(release: &str, version: usize) -> String {
    let mut rng = Rng::new(util::seed(&format!("{release}.v{version}")));
    let len = 12 * 1024 + rng.below(28 * 1024) as usize;
    // gzip header: magic, deflate, no flags, no mtime, no extra flags, OS unknown.
    let mut gz = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff];
    gz.extend(rng.bytes(len));
    base64(&gz)
}

/// The labels Helm's storage drivers set.
fn helm_labels(release: &str, version: usize, latest: usize) -> BTreeMap<String, String> {
    let status = if version == latest {
        "deployed"
    } else {
        "superseded"
    };
    // modifiedAt is a Unix timestamp; one revision a day up to today.
    let modified = jiff::Timestamp::now().as_second() - 86_400 * (latest - version) as i64;
    [
        ("owner", "helm".to_owned()),
        ("name", release.to_owned()),
        ("status", status.to_owned()),
        ("version", version.to_string()),
        ("modifiedAt", modified.to_string()),
        (SCENARIO_LABEL, Scenario::HelmHistory.name().to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `sh.helm.release.v1.<release>.v<version>`, Helm's object name.
pub(crate) fn object_name(release: &str, version: usize) -> String {
    format!("sh.helm.release.v1.{release}.v{version}")
}

pub(super) async fn apply(
    ctx: &ScenarioContext,
    size: &ScenarioSize,
    report: &mut ScenarioReport,
) -> Result<(), LabError> {
    let client = ctx.client();
    util::ensure_namespace(client, Scenario::HelmHistory, NAMESPACE).await?;
    let mut secrets = Vec::new();
    let mut config_maps = Vec::new();
    for (release, share, driver) in RELEASES {
        let latest = (size.helm_revisions * share / 100).max(1);
        for version in 1..=latest {
            let meta = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(object_name(release, version)),
                namespace: Some(NAMESPACE.into()),
                labels: Some(helm_labels(release, version, latest)),
                ..Default::default()
            };
            let blob = release_blob(release, version);
            match driver {
                Driver::Secret => secrets.push(Secret {
                    metadata: meta,
                    type_: Some("helm.sh/release.v1".into()),
                    data: Some([("release".to_owned(), ByteString(blob.into_bytes()))].into()),
                    ..Secret::default()
                }),
                Driver::ConfigMap => config_maps.push(ConfigMap {
                    metadata: meta,
                    data: Some([("release".to_owned(), blob)].into()),
                    ..ConfigMap::default()
                }),
            }
        }
    }
    let c = size.concurrency;
    report.add(
        "Secret",
        util::create_all(client, "helm-history: Secrets", secrets, c).await?,
    );
    report.add(
        "ConfigMap",
        util::create_all(client, "helm-history: ConfigMaps", config_maps, c).await?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_look_like_helm_payloads() {
        let blob = release_blob("web", 3);
        assert!(blob.starts_with("H4sI"), "gzip magic in base64");
        assert!(
            (16 * 1024..56 * 1024).contains(&blob.len()),
            "{}",
            blob.len()
        );
        assert_eq!(blob, release_blob("web", 3));
    }

    #[test]
    fn only_the_latest_revision_is_deployed() {
        assert_eq!(helm_labels("web", 40, 40)["status"], "deployed");
        assert_eq!(helm_labels("web", 39, 40)["status"], "superseded");
        assert_eq!(helm_labels("web", 7, 40)["version"], "7");
        assert_eq!(object_name("web", 7), "sh.helm.release.v1.web.v7");
    }
}
