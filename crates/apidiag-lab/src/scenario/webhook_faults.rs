//! `webhook-faults`: the ways an admission webhook breaks a cluster, each kept to
//! a namespace of its own (a `kubernetes.io/metadata.name` namespaceSelector), so
//! a test can create a pod in one and see exactly that fault:
//!
//! | namespace | webhook | fault |
//! |---|---|---|
//! | `lab-wh-refused` | validating, Fail, URL `https://127.0.0.1:<closed port>` | nothing listens: connection refused |
//! | `lab-wh-hang` | validating, Fail, 3 s, URL to a listener that never answers | every pod creation waits 3 s, then fails |
//! | `lab-wh-nosvc` | validating, Fail, Service that does not exist | `service "…" not found` |
//! | `lab-wh-chain` | three mutating, Ignore, 10 s each, reinvocation IfNeeded, to the silent listener | a chained budget of 60 s: requests fail with 504 although every webhook is Ignore |
//! | `kube-node-lease` | validating, Ignore, 10 s, lease UPDATEs, to the silent listener | a node heartbeat (10 s budget) would wait out the timeout |
//!
//! The silent listener accepts TCP connections and never answers (not even the
//! TLS handshake); it lives as long as the process that applied the scenario (a
//! test, or `apidiag-lab up`'s server). The lab has no kubelet, so nothing renews
//! node leases and the lease webhook is never called unless a test does it.

use std::net::{TcpListener, TcpStream};
use std::sync::OnceLock;

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use kube::Api;
use serde_json::{Value, json};

use super::util::{self, from_json, labels};
use super::{Scenario, ScenarioContext, ScenarioReport};
use crate::LabError;

/// Namespaces of the pod faults, in the table's order.
pub const REFUSED: &str = "lab-wh-refused";
pub const HANG: &str = "lab-wh-hang";
pub const NO_SERVICE: &str = "lab-wh-nosvc";
pub const CHAIN: &str = "lab-wh-chain";
pub(super) const NAMESPACES: [&str; 4] = [REFUSED, HANG, NO_SERVICE, CHAIN];

/// The ValidatingWebhookConfiguration holding the validating faults.
pub const VALIDATING: &str = "lab-webhook-faults";
/// The MutatingWebhookConfiguration of the Ignore chain.
pub const MUTATING: &str = "lab-webhook-chain";

/// The port of the listener that accepts and never answers, started once per process.
fn silent_port() -> Result<u16, LabError> {
    static PORT: OnceLock<u16> = OnceLock::new();
    if let Some(port) = PORT.get() {
        return Ok(*port);
    }
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| LabError::Scenario {
        scenario: Scenario::WebhookFaults.name(),
        message: format!("cannot open the silent listener: {e}"),
    })?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::Builder::new()
        .name("lab-silent-webhook".into())
        .spawn(move || {
            // Held, never read or answered, so the caller waits out its timeout.
            let mut held: Vec<TcpStream> = Vec::new();
            for stream in listener.incoming().flatten() {
                held.push(stream);
                // Bounded: drop the oldest once many are held.
                if held.len() > 1024 {
                    held.remove(0);
                }
            }
        })
        .map_err(|e| LabError::Scenario {
            scenario: Scenario::WebhookFaults.name(),
            message: format!("cannot start the silent listener: {e}"),
        })?;
    Ok(*PORT.get_or_init(|| port))
}

/// A port nothing listens on: bound and closed again (the kernel does not hand it
/// out again at once).
fn closed_port() -> Result<u16, LabError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| LabError::Scenario {
            scenario: Scenario::WebhookFaults.name(),
            message: format!("cannot find a closed port: {e}"),
        })
}

fn only_namespace(name: &str) -> Value {
    json!({ "matchExpressions": [{
        "key": "kubernetes.io/metadata.name", "operator": "In", "values": [name],
    }] })
}

fn pods_create() -> Value {
    json!([{
        "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
        "resources": ["pods"], "scope": "Namespaced",
    }])
}

fn webhook(name: &str, client: Value, namespace: &str, policy: &str, timeout: u32) -> Value {
    json!({
        "name": name,
        "clientConfig": client,
        "rules": pods_create(),
        "namespaceSelector": only_namespace(namespace),
        "failurePolicy": policy,
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "timeoutSeconds": timeout,
    })
}

pub(super) async fn apply(
    ctx: &ScenarioContext,
    report: &mut ScenarioReport,
) -> Result<(), LabError> {
    let client = ctx.client();
    for namespace in NAMESPACES {
        util::ensure_namespace(client, Scenario::WebhookFaults, namespace).await?;
    }
    let silent = format!("https://127.0.0.1:{}/admit", silent_port()?);
    let refused = format!("https://127.0.0.1:{}/admit", closed_port()?);

    let mut lease = webhook(
        "leases.faults.lab.apidiag.dev",
        json!({ "url": silent }),
        "kube-node-lease",
        "Ignore",
        10,
    );
    lease["rules"] = json!([{
        "apiGroups": ["coordination.k8s.io"], "apiVersions": ["v1"], "operations": ["UPDATE"],
        "resources": ["leases"], "scope": "Namespaced",
    }]);
    let validating: ValidatingWebhookConfiguration = from_json(json!({
        "metadata": { "name": VALIDATING, "labels": labels(Scenario::WebhookFaults, &[]) },
        "webhooks": [
            webhook("refused.faults.lab.apidiag.dev", json!({ "url": refused }), REFUSED, "Fail", 5),
            webhook("hang.faults.lab.apidiag.dev", json!({ "url": silent }), HANG, "Fail", 3),
            webhook(
                "nosvc.faults.lab.apidiag.dev",
                json!({ "service": { "namespace": NO_SERVICE, "name": "policy-engine", "path": "/validate", "port": 443 } }),
                NO_SERVICE,
                "Fail",
                5,
            ),
            lease,
        ],
    }))?;
    util::create_or_keep(&Api::all(client.clone()), &validating).await?;
    report.add("ValidatingWebhookConfiguration", 1);

    let chain: Vec<Value> = (1..=3)
        .map(|i| {
            let mut w = webhook(
                &format!("chain-{i}.faults.lab.apidiag.dev"),
                json!({ "url": silent }),
                CHAIN,
                "Ignore",
                10,
            );
            w["reinvocationPolicy"] = json!("IfNeeded");
            w
        })
        .collect();
    let mutating: MutatingWebhookConfiguration = from_json(json!({
        "metadata": { "name": MUTATING, "labels": labels(Scenario::WebhookFaults, &[]) },
        "webhooks": chain,
    }))?;
    util::create_or_keep(&Api::all(client.clone()), &mutating).await?;
    report.add("MutatingWebhookConfiguration", 1);
    util::until_a_webhook_rejects_pods(client, Scenario::WebhookFaults, REFUSED).await
}
