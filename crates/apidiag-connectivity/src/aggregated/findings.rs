//! The judgement: what was read becomes rungs. One Ok rung when every
//! APIService is available; else, per unavailable one, a Critical finding
//! named after its reason, with the condition quoted, the runbook's evidence,
//! what it breaks (in the words kubectl prints) and what to do next; and an
//! `orphaned` finding with the delete fix where the rules of research §4 hold.

use apidiag_core::finding::{Evidence, Severity};

use super::apiservice::{ApiService, Reason, ServiceSeen, orphaned};
use super::collect::{Backend, Collected};
use super::runbook;
use crate::rung::Rung;

/// The fix the orphaned finding offers.
pub const DELETE_FIX: &str = "connectivity.delete-apiservice";

/// The rungs of the APIServices in `collected`.
pub fn rungs(collected: &Collected) -> Vec<Rung> {
    let apis = collected.parsed();
    let mut unavailable: Vec<&ApiService> = apis.iter().filter(|a| !a.is_available()).collect();
    unavailable.sort_by(|a, b| a.name.cmp(&b.name));
    let mut rungs = Vec::new();
    if unavailable.is_empty() {
        rungs.push(Rung::pass(
            "connectivity.apiservice.available",
            "APIServices",
            format!("{} of {} available", apis.len(), apis.len()),
            None,
        ));
    }
    rungs.extend(flapping(collected, &apis));
    for api in unavailable {
        let backend = api
            .service
            .as_ref()
            .and_then(|s| collected.backends.get(&s.key()).map(|b| (s.key(), b)));
        rungs.push(unavailable_rung(collected, api, backend));
        let seen = collected.seen(api);
        if orphaned(api, seen).is_ok() {
            rungs.push(orphan_rung(api, seen == ServiceSeen::NamespaceGone));
        }
    }
    rungs
}

/// Available APIServices that were unavailable since this API server started
/// (`aggregator_unavailable_apiservice_total` > 0): the intermittent failures
/// the KubeAggregatedAPIErrors alert is about, which a look at the conditions
/// now would miss.
fn flapping(collected: &Collected, apis: &[ApiService]) -> Vec<Rung> {
    let Some(metrics) = &collected.metrics else {
        return Vec::new();
    };
    let mut available: Vec<&ApiService> = apis.iter().filter(|a| a.is_available()).collect();
    available.sort_by(|a, b| a.name.cmp(&b.name));
    available
        .into_iter()
        .filter_map(|api| {
            let m = metrics.get(&api.name)?;
            let total: f64 = m.transitions.iter().map(|(_, n)| n).sum();
            (total > 0.0).then(|| {
                Rung::new(
                    "connectivity.apiservice.flapping",
                    Severity::Warning,
                    &format!("APIService {}", api.name),
                    format!("available now, unavailable {total} times since this API server started"),
                    None,
                )
                .with(|f| {
                    f.detail(format!(
                        "Each time, discovery of {} failed (kubectl: `{}`) until the backend answered again: the KubeAggregatedAPIErrors alert's intermittent errors. Correlate with its Pods' restarts and events, and on AKS with the tunnel; on AKS this is one API server replica's count, reset when that replica restarts.",
                        api.group_version(),
                        discovery_error(&api.group_version())
                    ))
                    .evidence(runbook::metrics(Some(m)))
                })
            })
        })
        .collect()
}

/// The words kubectl prints on every discovery while `gv` is unavailable.
fn discovery_error(gv: &str) -> String {
    format!(
        "couldn't get resource list for {gv}: the server is currently unable to handle the request"
    )
}

/// What the reason means and what to do, in a sentence or two.
fn meaning(api: &ApiService, reason: &Reason, message: &str) -> String {
    let service = api
        .service
        .as_ref()
        .map(|s| format!("{}/{}", s.namespace, s.name))
        .unwrap_or_default();
    match reason {
        Reason::ServiceNotFound => format!("The Service {service} it sends requests to does not exist. If what served {} was uninstalled, the APIService was left behind: delete it (see the orphaned finding). Otherwise reinstall or recreate the Service.", api.group_version()),
        Reason::EndpointsNotFound => format!("The Service {service} has no EndpointSlices: it has no selector, or the EndpointSlice controller (kube-controller-manager) has not made them. Check the Service's selector and that kube-controller-manager runs."),
        Reason::MissingEndpoints => format!("The Service {service} has no ready address on the port the APIService uses: its Pods are missing, not Ready, or do not expose that port. Look at the Pods, their restarts and last lines below."),
        Reason::ServicePortError => format!("The Service {service} has no port {}: fix spec.service.port of the APIService or the Service's ports.", api.service.as_ref().map(|s| s.port).unwrap_or(443)),
        Reason::FailedDiscoveryCheck if tunnel_suspect(message) => "The API server could not reach the backend: on clusters with konnectivity (AKS) its calls to Pods ride the tunnel, and `i/o timeout` or `No agent available` point at the tunnel rather than at the backend.".to_string(),
        Reason::FailedDiscoveryCheck if message.contains("connection refused") => "The backend's address answered with a refusal: nothing listens on the target port (the server is starting or crashed). Look at the Pods and their last lines below.".to_string(),
        Reason::FailedDiscoveryCheck if message.contains("x509") || message.contains("bad status from") => "The backend answered, but not with discovery: a certificate it or the API server does not accept (check spec.caBundle and the front-proxy client certificate), or an error status. Its log says which.".to_string(),
        Reason::FailedDiscoveryCheck => "The API server reached the Service's endpoints but the discovery request failed or timed out: the backend is overloaded or stuck, or the network between the API server and its Pods drops traffic (NetworkPolicies, the konnectivity tunnel on AKS).".to_string(),
        Reason::Local | Reason::Passed | Reason::Other(_) => "The API server could not finish its check (it could not read the Service or its EndpointSlices, or has not checked yet): its own log says why; check again in a minute.".to_string(),
    }
}

/// `FailedDiscoveryCheck` texts of a broken API server → Pod path on
/// konnectivity clusters (research §3, §4).
fn tunnel_suspect(message: &str) -> bool {
    message.contains("i/o timeout") || message.contains("No agent available")
}

/// What the APIService's outage breaks besides discovery, by its group.
fn breaks(api: &ApiService) -> Option<String> {
    match api.group.as_str() {
        "metrics.k8s.io" => Some("`kubectl top` fails (`Error from server (ServiceUnavailable): the server is currently unable to handle the request (get nodes.metrics.k8s.io)`), and HorizontalPodAutoscalers on CPU or memory stop scaling.".into()),
        "custom.metrics.k8s.io" => Some("HorizontalPodAutoscalers on custom metrics cannot read them and stop scaling.".into()),
        "external.metrics.k8s.io" => Some("HorizontalPodAutoscalers on external metrics cannot read them and stop scaling.".into()),
        _ => None,
    }
}

/// Terminating namespaces whose deletion waits on discovery, and whether the
/// condition names this group/version.
fn stuck_namespaces<'a>(collected: &'a Collected, gv: &str) -> Vec<(&'a str, bool)> {
    collected
        .terminating
        .iter()
        .filter_map(|ns| {
            let condition = ns["status"]["conditions"].as_array()?.iter().find(|c| {
                c["type"] == "NamespaceDeletionDiscoveryFailure" && c["status"] == "True"
            })?;
            let names_it = condition["message"]
                .as_str()
                .is_some_and(|m| m.contains(gv));
            Some((
                ns["metadata"]["name"].as_str().unwrap_or_default(),
                names_it,
            ))
        })
        .collect()
}

fn unavailable_rung(
    collected: &Collected,
    api: &ApiService,
    backend: Option<((String, String), &Backend)>,
) -> Rung {
    let reason = api.reason();
    let (status, reason_text, message) = match &api.available {
        Some(a) => (a.status.as_str(), a.reason.as_str(), a.message.as_str()),
        None => ("Unknown", "", ""),
    };
    let verdict = match reason_text {
        "" => "unavailable (no Available condition yet)".to_string(),
        r => format!("unavailable ({r})"),
    };
    let gv = api.group_version();
    let mut detail = format!(
        "The availability controller says Available={status}{}{}. kubectl prints `{}` on every discovery (kubectl get, apply, api-resources), and every client that runs discovery (controllers, Helm) meets the same error. {}",
        if reason_text.is_empty() {
            String::new()
        } else {
            format!(", reason {reason_text}")
        },
        if message.is_empty() {
            String::new()
        } else {
            format!(": `{message}`")
        },
        discovery_error(&gv),
        meaning(api, &reason, message),
    );
    if let Some(more) = breaks(api) {
        detail.push(' ');
        detail.push_str(&more);
    }
    let stuck = stuck_namespaces(collected, &gv);
    let naming: Vec<&str> = stuck.iter().filter(|(_, n)| *n).map(|(n, _)| *n).collect();
    detail.push(' ');
    detail.push_str(&match (naming.is_empty(), stuck.is_empty()) {
        (false, _) => format!("Namespace deletion waits on it: {} stuck in Terminating ({}).", naming.len(), naming.join(", ")),
        (true, false) => format!("{} namespaces are stuck in Terminating on discovery ({}), and every namespace deletion waits while it is unavailable.", stuck.len(), stuck.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")),
        (true, true) => "Every namespace deletion in the cluster hangs in Terminating while it is unavailable (none is stuck now).".to_string(),
    });
    let mut rung = Rung::new(
        &format!("connectivity.apiservice.{}", reason.id_part()),
        Severity::Critical,
        &format!("APIService {}", api.name),
        verdict,
        None,
    )
    .with(|f| f.detail(detail));
    if let Some(since) = api.available.as_ref().and_then(|a| a.since.as_deref()) {
        rung = rung.with(|f| f.evidence(Evidence::new("unavailable since", since)));
    }
    if !naming.is_empty() {
        rung = rung.with(|f| {
            f.evidence(Evidence::new(
                "stuck namespaces",
                format!("{} (NamespaceDeletionDiscoveryFailure)", naming.join(", ")),
            ))
        });
    }
    if let Some((key, backend)) = backend {
        rung = rung.with(|f| runbook_evidence(f, &key, backend));
    } else if let Some(service) = &api.service
        && collected.not_examined.contains(&service.key())
    {
        rung = rung.with(|f| {
            f.evidence(Evidence::new(
                "backend",
                format!(
                    "not examined: only the first {} unavailable APIServices' Services are",
                    super::collect::BACKEND_CAP
                ),
            ))
        });
    }
    if collected.metrics.is_some() {
        let metrics = collected.metrics.as_ref().and_then(|m| m.get(&api.name));
        rung = rung.with(|f| f.evidence(runbook::metrics(metrics)));
    }
    if reason == Reason::FailedDiscoveryCheck && tunnel_suspect(message) {
        rung = rung.with(|f| f.next("the tunnel rungs of this report (connectivity.tunnel.*): `kubectl apidiag connectivity`"));
    }
    if let Some(service) = &api.service {
        rung = rung.with(|f| {
            f.next(format!(
                "kubectl get apiservice {} -o yaml; kubectl -n {} get pods,endpointslices,events",
                api.name, service.namespace
            ))
        });
    }
    rung
}

fn runbook_evidence(
    mut finding: apidiag_core::finding::Finding,
    key: &(String, String),
    backend: &Backend,
) -> apidiag_core::finding::Finding {
    let (ns, _) = key;
    finding = finding.evidence(runbook::service(key, backend));
    let service = backend.service.as_ref().ok().and_then(Option::as_ref);
    match &backend.slices {
        Some(Ok(slices)) if slices.is_empty() => {
            finding = finding.evidence(Evidence::new("endpoint slices", "none"))
        }
        Some(Ok(slices)) => finding = finding.evidence(runbook::slices(slices)),
        Some(Err(e)) => {
            finding = finding.evidence(Evidence::new(
                "endpoint slices",
                format!("could not be read: {e}"),
            ))
        }
        None => {}
    }
    let mut pods: &[serde_json::Value] = &[];
    match &backend.pods {
        Some(Ok(list)) if list.is_empty() => {
            finding = finding.evidence(Evidence::new("pods", "none match the Service's selector"));
        }
        Some(Ok(list)) => {
            pods = list;
            finding = finding.evidence(runbook::pods(list));
        }
        Some(Err(e)) => {
            finding = finding.evidence(Evidence::new("pods", format!("could not be read: {e}")))
        }
        None => {}
    }
    if let Some(log) = &backend.log {
        finding = finding.evidence(runbook::log(log));
    }
    match &backend.events {
        Some(Ok(events)) if events.is_empty() => {
            finding = finding.evidence(Evidence::new(format!("warning events in {ns}"), "none"));
        }
        Some(Ok(events)) => finding = finding.evidence(runbook::events(ns, events)),
        Some(Err(e)) => {
            finding = finding.evidence(Evidence::new(
                format!("warning events in {ns}"),
                format!("could not be read: {e}"),
            ))
        }
        None => {}
    }
    match &backend.policies {
        Some(Ok(policies)) => {
            if let Some(table) = runbook::policies(policies, pods, service) {
                finding = finding.evidence(table).evidence(Evidence::new(
                    "network policy note",
                    "on konnectivity clusters (AKS) the API server's calls come from the konnectivity-agent Pods' network, not from the API server's IP: an ingress rule that allows only the API server's address blocks them",
                ));
            }
        }
        Some(Err(e)) => {
            finding = finding.evidence(Evidence::new(
                "network policies",
                format!("could not be read: {e}"),
            ))
        }
        None => {}
    }
    finding
}

fn orphan_rung(api: &ApiService, namespace_gone: bool) -> Rung {
    let service = api
        .service
        .as_ref()
        .map(|s| format!("{}/{}", s.namespace, s.name))
        .unwrap_or_default();
    let gone = if namespace_gone {
        format!("its Service {service} and that namespace are gone")
    } else {
        format!("its Service {service} is gone")
    };
    Rung::new(
        "connectivity.apiservice.orphaned",
        Severity::Warning,
        &format!("APIService {}", api.name),
        format!("orphaned ({gone})"),
        None,
    )
    .with(|f| {
        f.detail(format!(
            "Nothing serves {} any more, and no AKS or addon-manager label claims the APIService. Deleting it ends the discovery errors and lets stuck namespaces finish; the fix backs it up first and `kubectl apidiag undo` re-creates it.",
            api.group_version()
        ))
        .offer(
            DELETE_FIX,
            "delete the orphaned APIService",
            format!("kubectl apidiag connectivity --fix delete-apiservice --apiservice {}", api.name),
        )
    })
}
