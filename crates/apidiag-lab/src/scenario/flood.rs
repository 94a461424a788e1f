//! `flood`: an offending client and the throttling it causes. The client
//! (`flooder`, group `lab:flooders`, user agent `lab-flooder/1.0`) is classified by
//! FlowSchema `lab-flooder` into PriorityLevelConfiguration `lab-flooder`, which
//! has one seat, one queue of length one and may not borrow. A burst of concurrent
//! cluster-wide LISTs then gets real 429s from APF, visible in the audit log and
//! in `apiserver_flowcontrol_rejected_requests_total{flow_schema="lab-flooder"}`,
//! while every other client keeps its own seats.
//!
//! The burst is bounded by count and by time, goes to the lab's loopback address
//! only, and stops by itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::flowcontrol::v1::{FlowSchema, PriorityLevelConfiguration};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::Api;
use serde_json::json;

use super::util::{self, from_json, labels};
use super::{FloodOutcome, Scenario, ScenarioContext, ScenarioReport, ScenarioSize};
use crate::LabError;
use crate::kubeconfig::{self, ClientOptions};
use crate::pki::FLOODER;

/// Name of the flooder's FlowSchema, PriorityLevelConfiguration and RBAC objects.
pub const NAME: &str = "lab-flooder";
/// The flooder's user agent.
pub const USER_AGENT: &str = "lab-flooder/1.0";
/// The FlowSchema's precedence: after the built-in exempt and probe schemas, and
/// before the `guard` scenario's (1000), so the two compose.
pub const PRECEDENCE: i32 = 500;

/// What the flooder LISTs, round-robin: all ConfigMaps and all Pods, cluster-wide.
const PATHS: [&str; 2] = ["/api/v1/configmaps?limit=500", "/api/v1/pods?limit=500"];

pub(super) async fn apply(
    ctx: &ScenarioContext,
    size: &ScenarioSize,
    report: &mut ScenarioReport,
) -> Result<(), LabError> {
    let client = ctx.client();
    let meta = |name: &str| json!({ "name": name, "labels": labels(Scenario::Flood, &[]) });

    // Real LISTs, not 403s: the flooder may read what it floods.
    let role: ClusterRole = from_json(json!({
        "metadata": meta(NAME),
        "rules": [{ "apiGroups": [""], "resources": ["configmaps", "pods"], "verbs": ["get", "list", "watch"] }],
    }))?;
    util::create_or_keep(&Api::all(client.clone()), &role).await?;
    let binding: ClusterRoleBinding = from_json(json!({
        "metadata": meta(NAME),
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": FLOODER.groups[0] }],
    }))?;
    util::create_or_keep(&Api::all(client.clone()), &binding).await?;
    report.add("ClusterRole", 1);
    report.add("ClusterRoleBinding", 1);

    let level: PriorityLevelConfiguration = from_json(json!({
        "metadata": meta(NAME),
        "spec": {
            "type": "Limited",
            "limited": {
                "nominalConcurrencyShares": 1,
                "lendablePercent": 0,
                "borrowingLimitPercent": 0,
                "limitResponse": {
                    "type": "Queue",
                    "queuing": { "queues": 1, "handSize": 1, "queueLengthLimit": 1 },
                },
            },
        },
    }))?;
    util::create_or_keep(&Api::all(client.clone()), &level).await?;
    let schema: FlowSchema = from_json(json!({
        "metadata": meta(NAME),
        "spec": {
            "matchingPrecedence": PRECEDENCE,
            "priorityLevelConfiguration": { "name": NAME },
            "distinguisherMethod": { "type": "ByUser" },
            "rules": [{
                "subjects": [{ "kind": "Group", "group": { "name": FLOODER.groups[0] } }],
                "resourceRules": [{
                    "verbs": ["*"], "apiGroups": ["*"], "resources": ["*"],
                    "clusterScope": true, "namespaces": ["*"],
                }],
                "nonResourceRules": [{ "verbs": ["*"], "nonResourceURLs": ["*"] }],
            }],
        },
    }))?;
    util::create_or_keep(&Api::all(client.clone()), &schema).await?;
    report.add("PriorityLevelConfiguration", 1);
    report.add("FlowSchema", 1);
    wait_until_classified(client).await?;

    let outcome = burst(ctx, size).await?;
    report.flood = Some(outcome);
    if outcome.throttled == 0 {
        return Err(LabError::Scenario {
            scenario: Scenario::Flood.name(),
            message: format!(
                "the burst got no 429s ({} ok, {} other errors); check the lab-flooder FlowSchema and the \
                 API server's --max-requests-inflight",
                outcome.ok, outcome.other_errors
            ),
        });
    }
    Ok(())
}

/// The API server's APF controller marks a FlowSchema with a `Dangling` condition
/// once it has digested it; before that the flooder still lands in global-default.
async fn wait_until_classified(client: &kube::Client) -> Result<(), LabError> {
    let schemas: Api<FlowSchema> = Api::all(client.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let schema = util::retrying(|| schemas.get(NAME))
            .await
            .map_err(LabError::kube("reading FlowSchema lab-flooder"))?;
        let digested = schema.status.and_then(|s| s.conditions).is_some_and(|c| {
            c.iter().any(|c| {
                c.type_.as_deref() == Some("Dangling") && c.status.as_deref() == Some("False")
            })
        });
        if digested {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(LabError::Scenario {
                scenario: Scenario::Flood.name(),
                message: "the API server did not pick up FlowSchema lab-flooder within 30s".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sends up to `flood_requests` LISTs, `flood_concurrency` at a time, for at most
/// `flood_duration`, and counts the answers.
async fn burst(ctx: &ScenarioContext, size: &ScenarioSize) -> Result<FloodOutcome, LabError> {
    let flooder = kubeconfig::client(
        &ctx.flooder_kubeconfig,
        ClientOptions {
            user_agent: Some(USER_AGENT),
            // Count every 429 instead of letting the client retry it away.
            no_retry: true,
        },
    )
    .await?;
    let (ok, throttled, other) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let deadline = Instant::now() + size.flood_duration;
    let flooder = &flooder;
    let counters = (&ok, &throttled, &other);
    let mut requests = futures::stream::iter(0..size.flood_requests)
        .map(|i| async move {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return false;
            }
            let request = http::Request::get(PATHS[i % PATHS.len()])
                .body(kube::client::Body::empty())
                .map_err(std::io::Error::other);
            let answer = match request {
                Ok(request) => tokio::time::timeout(remaining, flooder.send(request))
                    .await
                    .ok(),
                Err(_) => None,
            };
            let counter = match answer {
                Some(Ok(response)) => {
                    let status = response.status();
                    // Read the body so the connection goes back to the pool.
                    let _ = response.into_body().collect_bytes().await;
                    if status == http::StatusCode::TOO_MANY_REQUESTS {
                        counters.1
                    } else if status.is_success() {
                        counters.0
                    } else {
                        counters.2
                    }
                }
                _ => counters.2,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            true
        })
        .buffer_unordered(size.flood_concurrency.max(1));
    let mut sent = 0;
    while let Some(was_sent) = requests.next().await {
        sent += u64::from(was_sent);
    }
    Ok(FloodOutcome {
        sent,
        throttled: throttled.load(Ordering::Relaxed),
        ok: ok.load(Ordering::Relaxed),
        other_errors: other.load(Ordering::Relaxed),
    })
}
