//! `object-bloat`: what makes etcd big and LISTs slow. Thousands of small
//! ConfigMaps, Secrets and Leases (count), a few objects close to the 1 MiB limit
//! (size), and pods whose specs carry hundreds of environment variables (the
//! classic "config in env" pattern, which every pod LIST pays for).

use k8s_openapi::ByteString;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use serde_json::{Value, json};

use super::util::{self, Rng, ago, from_json, labels};
use super::{Scenario, ScenarioContext, ScenarioReport, ScenarioSize};
use crate::LabError;

pub(super) const NAMESPACES: [&str; 3] = ["lab-bloat-a", "lab-bloat-b", "lab-bloat-c"];

/// Filler per small object: about what a typical app config or token weighs.
const SMALL_BYTES: usize = 600;

/// Sizes of the large objects, cycling: all between 0.5 and 0.9 MiB, under the
/// API server's 1 MiB limit for ConfigMap/Secret data.
const LARGE_KIB: [usize; 4] = [560, 920, 700, 870];

fn meta(name: &str, namespace: &str, app: &str) -> Value {
    json!({ "name": name, "namespace": namespace, "labels": labels(Scenario::ObjectBloat, &[("app", app)]) })
}

fn config_map(name: &str, namespace: &str, app: &str, bytes: usize) -> Result<ConfigMap, LabError> {
    let text = Rng::new(util::seed(name)).text(bytes);
    from_json(json!({ "metadata": meta(name, namespace, app), "data": { "config.yaml": text } }))
}

fn secret(name: &str, namespace: &str, app: &str, bytes: usize) -> Secret {
    let mut secret = Secret {
        type_: Some("Opaque".into()),
        ..Secret::default()
    };
    secret.metadata.name = Some(name.into());
    secret.metadata.namespace = Some(namespace.into());
    secret.metadata.labels = Some(
        [
            (
                super::SCENARIO_LABEL.to_owned(),
                Scenario::ObjectBloat.name().to_owned(),
            ),
            ("app".into(), app.into()),
        ]
        .into_iter()
        .collect(),
    );
    let token = Rng::new(util::seed(name)).bytes(bytes);
    secret.data = Some(
        [("token".to_owned(), ByteString(token))]
            .into_iter()
            .collect(),
    );
    secret
}

fn lease(name: &str, namespace: &str) -> Result<Lease, LabError> {
    from_json(json!({
        "metadata": meta(name, namespace, "leader-election"),
        "spec": {
            "holderIdentity": format!("{name}-holder"),
            "leaseDurationSeconds": 15,
            "acquireTime": ago(86_400),
            "renewTime": ago(5),
        },
    }))
}

fn env_heavy_pod(name: &str, namespace: &str, vars: usize) -> Result<Pod, LabError> {
    let mut rng = Rng::new(util::seed(name));
    let env: Vec<Value> = (0..vars)
        .map(|i| json!({ "name": format!("APP_SETTING_{i:04}"), "value": rng.text(64) }))
        .collect();
    from_json(json!({
        "metadata": meta(name, namespace, "env-heavy"),
        "spec": {
            "containers": [{ "name": "app", "image": "registry.lab.apidiag.dev/legacy-app:7.1", "env": env }],
        },
    }))
}

pub(super) async fn apply(
    ctx: &ScenarioContext,
    size: &ScenarioSize,
    report: &mut ScenarioReport,
) -> Result<(), LabError> {
    let client = ctx.client();
    for ns in NAMESPACES {
        util::ensure_namespace(client, Scenario::ObjectBloat, ns).await?;
    }
    let n = size.bloat_objects;
    let (n_cm, n_secret) = (n * 4 / 10, n * 4 / 10);
    let n_lease = n - n_cm - n_secret;
    let ns = |i: usize| NAMESPACES[i % NAMESPACES.len()];

    let mut config_maps = Vec::with_capacity(n_cm + size.large_objects);
    for i in 0..n_cm {
        config_maps.push(config_map(
            &format!("app-config-{i:05}"),
            ns(i),
            "app",
            SMALL_BYTES,
        )?);
    }
    let mut secrets: Vec<Secret> = (0..n_secret)
        .map(|i| secret(&format!("app-token-{i:05}"), ns(i), "app", SMALL_BYTES / 2))
        .collect();
    let leases = (0..n_lease)
        .map(|i| lease(&format!("worker-lock-{i:05}"), ns(i)))
        .collect::<Result<Vec<_>, _>>()?;
    // Large objects alternate ConfigMap/Secret, all in the first namespace.
    for i in 0..size.large_objects {
        let bytes = LARGE_KIB[i % LARGE_KIB.len()] * 1024;
        if i % 2 == 0 {
            config_maps.push(config_map(
                &format!("huge-config-{i}"),
                NAMESPACES[0],
                "huge",
                bytes,
            )?);
        } else {
            secrets.push(secret(
                &format!("huge-secret-{i}"),
                NAMESPACES[0],
                "huge",
                bytes,
            ));
        }
    }
    let pods = (0..size.env_heavy_pods)
        .map(|i| {
            env_heavy_pod(
                &format!("env-heavy-{i}"),
                NAMESPACES[1],
                size.env_vars_per_pod,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;

    let c = size.concurrency;
    report.add(
        "ConfigMap",
        util::create_all(client, "object-bloat: ConfigMaps", config_maps, c).await?,
    );
    report.add(
        "Secret",
        util::create_all(client, "object-bloat: Secrets", secrets, c).await?,
    );
    report.add(
        "Lease",
        util::create_all(client, "object-bloat: Leases", leases, c).await?,
    );
    report.add(
        "Pod",
        util::create_all(client, "object-bloat: Pods", pods, c).await?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_objects_stay_under_the_limit_and_over_half_a_mebibyte() {
        for kib in LARGE_KIB {
            assert!((512..1000).contains(&kib), "{kib}");
        }
        let cm = config_map("huge-config-0", "lab-bloat-a", "huge", 920 * 1024).unwrap();
        assert_eq!(cm.data.unwrap()["config.yaml"].len(), 920 * 1024);
    }

    #[test]
    fn env_heavy_pods_have_the_asked_env_vars() {
        let pod = env_heavy_pod("env-heavy-0", "lab-bloat-b", 400).unwrap();
        let env = pod.spec.unwrap().containers[0].env.clone().unwrap();
        assert_eq!(env.len(), 400);
    }
}
