//! What every scenario needs: typed objects from JSON manifests, idempotent and
//! concurrent creation, namespaces that can hold pods, timestamps and filler data.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{SCENARIO_LABEL, Scenario};
use crate::LabError;

/// Deserializes a JSON manifest into a typed object. Manifests read like the YAML
/// a person would apply, which keeps the scenarios reviewable.
pub(crate) fn from_json<K: DeserializeOwned>(value: Value) -> Result<K, LabError> {
    serde_json::from_value(value).map_err(|e| LabError::Io {
        context: format!("building an object ({})", std::any::type_name::<K>()),
        source: std::io::Error::other(e),
    })
}

/// `metadata.labels` for an object of `scenario`, plus `extra`.
pub(crate) fn labels(scenario: Scenario, extra: &[(&str, &str)]) -> Value {
    let mut map = serde_json::Map::new();
    map.insert(SCENARIO_LABEL.into(), scenario.name().into());
    for (k, v) in extra {
        map.insert((*k).into(), (*v).into());
    }
    Value::Object(map)
}

fn is_transient(e: &kube::Error) -> bool {
    match e {
        // A fail-closed webhook that cannot be called answers 500 too, but in a lab
        // that is `failing-webhook` doing its job: retrying only wastes seconds.
        kube::Error::Api(s) if is_webhook_failure(s) => false,
        kube::Error::Api(s) => matches!(s.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// Runs `op`, retrying transient failures (an API server busy with a bulk scenario
/// sometimes answers 5xx or drops a connection) a few times with a short back-off.
pub(crate) async fn retrying<T, Fut>(mut op: impl FnMut() -> Fut) -> Result<T, kube::Error>
where
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut attempt = 0u32;
    loop {
        match op().await {
            Err(e) if is_transient(&e) && attempt < 6 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt * attempt))).await;
            }
            other => return other,
        }
    }
}

/// The API server's answer when it could not call a `failurePolicy: Fail` webhook
/// (an InternalError, "failed calling webhook …").
fn is_webhook_failure(s: &kube::core::Status) -> bool {
    s.message.contains("failed calling webhook")
}

/// Creates `obj`, or returns the existing object of that name (scenarios can be
/// applied twice).
///
/// It creates first and looks only when the create fails. A GET before every
/// create would double the requests of a first apply, and the benchmark creates
/// tens of thousands of objects. Looking only on a 409 is not enough, though: the
/// API server runs admission before storage reports "already exists", so on a lab
/// with `failing-webhook` applying `failed-pods` again gets the webhook's error
/// for pods that are already there. So any failed create is followed by one GET,
/// and an object found is kept; the create's error is reported only when there is
/// nothing to keep (a create that then loses a race to a concurrent one gets a 409,
/// and the GET finds the winner).
pub(crate) async fn create_or_keep<K>(api: &Api<K>, obj: &K) -> Result<K, LabError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
{
    let name = obj.name_any();
    let params = PostParams::default();
    let error = match retrying(|| api.create(&params, obj)).await {
        Ok(created) => return Ok(created),
        Err(e) => e,
    };
    let already_exists = matches!(&error, kube::Error::Api(s) if s.code == 409);
    let existing = retrying(|| api.get_opt(&name)).await;
    match existing {
        Ok(Some(kept)) => Ok(kept),
        // After a 409 the lookup is what failed; otherwise the create's error says
        // why the object is not there.
        Err(e) if already_exists => Err(LabError::kube(format!(
            "reading existing {} {name}",
            K::kind(&())
        ))(e)),
        Ok(None) | Err(_) => Err(LabError::kube(format!(
            "creating {} {}{name}",
            K::kind(&()),
            obj.namespace()
                .map(|ns| format!("{ns}/"))
                .unwrap_or_default()
        ))(error)),
    }
}

/// Runs `f` over `items` with `concurrency` in flight, stopping at the first error.
/// Reports progress on stderr for big batches (the benchmark creates tens of
/// thousands of objects).
pub(crate) async fn run_concurrently<T, F, Fut>(
    what: &str,
    items: Vec<T>,
    concurrency: usize,
    f: F,
) -> Result<usize, LabError>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<(), LabError>>,
{
    let total = items.len();
    let step = if total >= 1000 {
        total / 10
    } else {
        usize::MAX
    };
    let mut stream =
        futures::stream::iter(items.into_iter().map(f)).buffer_unordered(concurrency.max(1));
    let mut done = 0;
    while let Some(result) = stream.next().await {
        result?;
        done += 1;
        if done % step == 0 {
            eprintln!("apidiag-lab: {what}: {done}/{total}");
        }
    }
    Ok(done)
}

/// Creates namespaced objects (each in its own `metadata.namespace`) concurrently,
/// keeping any that exist.
pub(crate) async fn create_all<K>(
    client: &Client,
    what: &str,
    objects: Vec<K>,
    concurrency: usize,
) -> Result<usize, LabError>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug,
{
    run_concurrently(what, objects, concurrency, |obj| async move {
        let api: Api<K> = Api::namespaced(client.clone(), &obj.namespace().unwrap_or_default());
        create_or_keep(&api, &obj).await.map(|_| ())
    })
    .await
}

/// Merge-patches the `status` subresource, as a kubelet or controller would.
pub(crate) async fn patch_status<K>(api: &Api<K>, name: &str, status: &Value) -> Result<K, LabError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let patch = Patch::Merge(json!({ "status": status }));
    let params = PatchParams::default();
    retrying(|| api.patch_status(name, &params, &patch))
        .await
        .map_err(LabError::kube(format!(
            "updating the status of {} {name}",
            K::kind(&())
        )))
}

/// Creates a scenario namespace that can hold pods right away: the ServiceAccount
/// admission plugin rejects pods until `default` exists, and kube-controller-manager
/// (if it runs at all) creates it only a moment later.
pub(crate) async fn ensure_namespace(
    client: &Client,
    scenario: Scenario,
    name: &str,
) -> Result<(), LabError> {
    let ns: Namespace = from_json(json!({
        "metadata": { "name": name, "labels": labels(scenario, &[]) },
    }))?;
    create_or_keep(&Api::all(client.clone()), &ns).await?;
    ensure_service_account(client, name).await
}

/// Makes sure the `default` ServiceAccount of `namespace` exists.
pub(crate) async fn ensure_service_account(
    client: &Client,
    namespace: &str,
) -> Result<(), LabError> {
    let sa: ServiceAccount =
        from_json(json!({ "metadata": { "name": "default", "namespace": namespace } }))?;
    create_or_keep(&Api::namespaced(client.clone(), namespace), &sa).await?;
    Ok(())
}

/// A timestamp as the API writes them (RFC 3339, whole seconds, UTC).
pub(crate) fn rfc3339(ts: jiff::Timestamp) -> String {
    jiff::Timestamp::from_second(ts.as_second())
        .unwrap_or(ts)
        .to_string()
}

/// `now - seconds`, as [`rfc3339`].
pub(crate) fn ago(seconds: i64) -> String {
    let now = jiff::Timestamp::now();
    rfc3339(
        now.checked_sub(jiff::SignedDuration::from_secs(seconds))
            .unwrap_or(now),
    )
}

/// A small deterministic generator (xorshift64*) for filler data and spread-out
/// timestamps: the same seed gives the same lab, and no `rand` dependency.
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0; slight modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// Printable filler of exactly `len` characters (base64 of random bytes, which
    /// neither etcd nor the API server can compress away).
    pub fn text(&mut self, len: usize) -> String {
        let mut s = crate::encoding::base64(&self.bytes(len * 3 / 4 + 3));
        s.truncate(len);
        s
    }
}

/// The characters the API server uses for generated name suffixes (no vowels,
/// no look-alikes).
pub(crate) const NAME_SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A stable seed from a name, so each object gets its own filler.
pub(crate) fn seed(name: &str) -> u64 {
    // FNV-1a.
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Waits until a webhook of `scenario` takes effect in `namespace`: the API server
/// loads webhook configurations asynchronously, so a dry-run pod creation (webhooks
/// without side effects still run) is tried until it fails by a webhook call.
pub(crate) async fn until_a_webhook_rejects_pods(
    client: &Client,
    scenario: Scenario,
    namespace: &str,
) -> Result<(), LabError> {
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), namespace);
    let probe = from_json(json!({
        "metadata": { "name": "webhook-probe", "namespace": namespace },
        "spec": { "containers": [{ "name": "probe", "image": "registry.lab.apidiag.dev/probe:1" }] },
    }))?;
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let last = match pods.create(&dry_run, &probe).await {
            Err(kube::Error::Api(s)) if s.message.contains("failed calling webhook") => {
                return Ok(());
            }
            Err(e) => e.to_string(),
            Ok(_) => "pod creation still allowed".to_owned(),
        };
        if std::time::Instant::now() > deadline {
            return Err(LabError::Scenario {
                scenario: scenario.name(),
                message: format!(
                    "the webhook did not take effect within 30s (last: {last}); see logs/kube-apiserver.log"
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_text_has_the_asked_length() {
        let a = Rng::new(seed("x")).text(1000);
        let b = Rng::new(seed("x")).text(1000);
        assert_eq!(a, b);
        assert_eq!(a.len(), 1000);
        assert_ne!(a, Rng::new(seed("y")).text(1000));
        assert!(Rng::new(1).below(7) < 7);
    }

    #[test]
    fn timestamps_are_whole_second_rfc3339() {
        let s = ago(3600);
        assert!(s.ends_with('Z') && !s.contains('.'), "{s}");
        assert_eq!(s.len(), "2026-01-01T00:00:00Z".len());
    }
}
