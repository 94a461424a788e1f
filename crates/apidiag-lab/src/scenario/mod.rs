//! Faults injected into a lab through the real API, as the admin.
//!
//! Each scenario reproduces one thing apidiag diagnoses, with the objects a real
//! cluster would have (the same names, labels, owner references and statuses),
//! so a check that passes here has been exercised against the API server's real
//! validation, field selectors, APF and admission. Scenarios keep to their own
//! `lab-*` namespaces where the fault allows (tests can isolate by namespace), are
//! composable, and can be applied again to the same lab: existing objects are kept.
//!
//! Sizes are parameters ([`ScenarioSize`]); the defaults apply every scenario in
//! well under a minute, [`ScenarioSize::benchmark`] builds a cluster big enough for
//! apidiag's benchmark.

mod apiservice;
mod bloat;
mod failed_pods;
mod flood;
mod guard;
mod helm;
mod jobs;
mod konnectivity;
pub mod scale;
pub(crate) mod util;
mod webhook;
mod webhook_faults;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::LabError;
use crate::kubeconfig::{self, ClientOptions};

pub use apiservice::{NAME as APISERVICE_NAME, ORPHAN as APISERVICE_ORPHAN};
pub use flood::{
    NAME as FLOODER_NAME, PRECEDENCE as FLOODER_PRECEDENCE, USER_AGENT as FLOODER_USER_AGENT,
};
pub use guard::{
    EVENT as GUARD_EVENT, GUARD as GUARD_NAME, PRECEDENCE as GUARD_PRECEDENCE,
    SCALING_STATUS as GUARD_SCALING_STATUS,
};
pub use jobs::EXPECT_LABEL as JOBS_EXPECT_LABEL;
pub use konnectivity::APP_LABEL as KONNECTIVITY_LABEL;
pub use webhook::CONFIGURATION as WEBHOOK_CONFIGURATION;
pub use webhook_faults::{
    CHAIN as WEBHOOK_CHAIN_NAMESPACE, HANG as WEBHOOK_HANG_NAMESPACE,
    MUTATING as WEBHOOK_FAULTS_MUTATING, NO_SERVICE as WEBHOOK_NO_SERVICE_NAMESPACE,
    REFUSED as WEBHOOK_REFUSED_NAMESPACE, VALIDATING as WEBHOOK_FAULTS_VALIDATING,
};

/// The user agent of every request a scenario makes as admin.
pub const USER_AGENT: &str = "apidiag-lab/scenario";

/// Label on every object a scenario creates: `lab.apidiag.dev/scenario=<name>`.
pub const SCENARIO_LABEL: &str = "lab.apidiag.dev/scenario";

/// A fault to inject. The CLI names are the kebab-case forms (`completed-jobs`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
#[value(rename_all = "kebab-case")]
pub enum Scenario {
    /// Completed Jobs piling up in `lab-jobs-*`, some owned by CronJobs with a huge
    /// history limit, some with a TTL; plus Jobs that are still running.
    CompletedJobs,
    /// Pods in phase `Failed` (errors, OOM kills, evictions) in `lab-failed-*`.
    FailedPods,
    /// Many small ConfigMaps, Secrets and Leases in `lab-bloat-*`, a few near the
    /// 1 MiB limit, and Pods with hundreds of environment variables.
    ObjectBloat,
    /// Helm release history: dozens of revisions per release as Secrets (and one
    /// release as ConfigMaps) in `lab-helm`.
    HelmHistory,
    /// A `failurePolicy: Fail` validating webhook on every pod creation (outside
    /// kube-system) whose Service has no endpoints.
    FailingWebhook,
    /// Admission webhooks that break in each known way, one namespace each: a URL
    /// nobody listens on, one that never answers, a missing Service, a chain of
    /// `Ignore` webhooks whose timeouts add up to the request's, one on node leases.
    WebhookFaults,
    /// The AKS managed API server guard: its FlowSchema, PriorityLevelConfiguration,
    /// kube-system Event and scaling-status ConfigMap.
    Guard,
    /// An offending client (`flooder`, group `lab:flooders`) confined to a one-seat
    /// priority level, bursting LIST calls until it is throttled with 429s.
    Flood,
    /// An aggregated APIService whose Service has no endpoints (Available=False).
    #[value(name = "unavailable-apiservice")]
    UnavailableApiService,
    /// konnectivity-agent Pods in kube-system in CrashLoopBackOff with many restarts.
    KonnectivityCrashloop,
    /// A cluster of the size AKS is tested at: 5,000 Nodes and 200,000 Pods
    /// (`--nodes`, `--pods`) with their Leases, owners, Services, ConfigMaps,
    /// Secrets and Events; 1% of the Pods are Jobs', half of them failed. Needs a
    /// lab started with it (its controller manager runs no workload controllers).
    AksScale,
}

impl Scenario {
    /// Every fault scenario (what `--all` and the demo apply), in an order that
    /// composes: [`Scenario::ORDER`] without `aks-scale`.
    pub const ALL: [Scenario; 10] = {
        let mut all = [Scenario::Flood; 10];
        let mut i = 0;
        while i < all.len() {
            all[i] = Scenario::ORDER[i + 1];
            i += 1;
        }
        all
    };

    /// The CLI name, e.g. `completed-jobs`.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::CompletedJobs => "completed-jobs",
            Scenario::FailedPods => "failed-pods",
            Scenario::ObjectBloat => "object-bloat",
            Scenario::HelmHistory => "helm-history",
            Scenario::FailingWebhook => "failing-webhook",
            Scenario::WebhookFaults => "webhook-faults",
            Scenario::Guard => "guard",
            Scenario::Flood => "flood",
            Scenario::UnavailableApiService => "unavailable-apiservice",
            Scenario::KonnectivityCrashloop => "konnectivity-crashloop",
            Scenario::AksScale => "aks-scale",
        }
    }

    /// The namespaces the scenario creates objects in (including `kube-system` for
    /// the ones that must live there; cluster-scoped objects are not listed).
    pub fn namespaces(self) -> &'static [&'static str] {
        match self {
            Scenario::CompletedJobs => &jobs::NAMESPACES,
            Scenario::FailedPods => &failed_pods::NAMESPACES,
            Scenario::ObjectBloat => &bloat::NAMESPACES,
            Scenario::HelmHistory => &[helm::NAMESPACE],
            Scenario::FailingWebhook => &[webhook::NAMESPACE],
            Scenario::WebhookFaults => &webhook_faults::NAMESPACES,
            Scenario::Guard => &["kube-system"],
            Scenario::Flood => &[],
            Scenario::UnavailableApiService => &[apiservice::NAMESPACE],
            Scenario::KonnectivityCrashloop => &["kube-system"],
            // Its app namespaces (`lab-scale-NNN`) depend on the size:
            // `scale::namespaces`.
            Scenario::AksScale => &["kube-system"],
        }
    }

    /// Every scenario, in an order that composes: the ones that create pods come
    /// before the failing webhook (which rejects pod creation), and the flood comes
    /// last so it lists a full cluster. `aks-scale` comes first; it takes minutes at
    /// its full size, so [`Scenario::ALL`] leaves it out.
    pub const ORDER: [Scenario; 11] = [
        Scenario::AksScale,
        Scenario::ObjectBloat,
        Scenario::HelmHistory,
        Scenario::CompletedJobs,
        Scenario::FailedPods,
        Scenario::KonnectivityCrashloop,
        Scenario::UnavailableApiService,
        Scenario::Guard,
        Scenario::FailingWebhook,
        Scenario::WebhookFaults,
        Scenario::Flood,
    ];

    /// Orders scenarios as [`Scenario::ORDER`] does, dropping duplicates.
    pub fn in_safe_order(scenarios: &[Scenario]) -> Vec<Scenario> {
        Scenario::ORDER
            .into_iter()
            .filter(|s| scenarios.contains(s))
            .collect()
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How `completed-jobs` brings Jobs to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum JobsMode {
    /// `controller` up to [`JobsMode::AUTO_CONTROLLER_LIMIT`] Jobs (and when
    /// kube-controller-manager runs), `bulk` above.
    #[default]
    Auto,
    /// The real job controller runs each Job; the lab acts as the kubelet and marks
    /// the pods `Succeeded`. Real, but a few hundred Jobs per minute at most.
    Controller,
    /// Jobs carry `spec.managedBy: lab.apidiag.dev/bulk` so the job controller
    /// leaves them alone, and the lab writes a complete status through
    /// `jobs/status`. Thousands per minute, with completion times spread over the
    /// past month.
    Bulk,
}

impl JobsMode {
    /// Largest Job count `Auto` still runs through the job controller.
    pub const AUTO_CONTROLLER_LIMIT: usize = 500;
}

/// How big each scenario is. `Default` is small enough that applying every
/// scenario takes well under a minute.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSize {
    /// Jobs `completed-jobs` completes (the running ones come on top).
    pub completed_jobs: usize,
    /// Jobs `completed-jobs` leaves running (pods never complete).
    pub running_jobs: usize,
    /// How `completed-jobs` completes them.
    pub jobs_mode: JobsMode,
    /// Pods `failed-pods` fails.
    pub failed_pods: usize,
    /// Small ConfigMaps + Secrets + Leases `object-bloat` creates (40/40/20 %).
    pub bloat_objects: usize,
    /// ConfigMaps/Secrets of 0.5–0.9 MiB `object-bloat` creates.
    pub large_objects: usize,
    /// Pods with hundreds of env vars `object-bloat` creates.
    pub env_heavy_pods: usize,
    /// Env vars on each of those pods.
    pub env_vars_per_pod: usize,
    /// Revisions of the biggest Helm release (the others have fewer).
    pub helm_revisions: usize,
    /// LIST requests the flooder sends at most.
    pub flood_requests: usize,
    /// How many of them are in flight at once.
    pub flood_concurrency: usize,
    /// How long the flood may last at most.
    pub flood_duration: Duration,
    /// konnectivity-agent Pods in CrashLoopBackOff.
    pub crashloop_pods: usize,
    /// Nodes `aks-scale` registers.
    pub scale_nodes: usize,
    /// Pods `aks-scale` binds to them.
    pub scale_pods: usize,
    /// Admin requests in flight while creating objects in bulk.
    pub concurrency: usize,
}

impl Default for ScenarioSize {
    fn default() -> Self {
        ScenarioSize {
            completed_jobs: 24,
            running_jobs: 2,
            jobs_mode: JobsMode::Auto,
            failed_pods: 12,
            bloat_objects: 3000,
            large_objects: 4,
            env_heavy_pods: 3,
            env_vars_per_pod: 400,
            helm_revisions: 40,
            flood_requests: 400,
            flood_concurrency: 32,
            flood_duration: Duration::from_secs(20),
            crashloop_pods: 2,
            // The guides: "tested ... at a scale of 5,000 nodes and 200,000 pods".
            scale_nodes: 5000,
            scale_pods: 200_000,
            concurrency: 48,
        }
    }
}

impl ScenarioSize {
    /// The defaults with every count multiplied by `factor` (at least one of each;
    /// the flood and the per-pod env var count are not scaled).
    pub fn scaled(factor: f64) -> ScenarioSize {
        let d = ScenarioSize::default();
        let scale = |n: usize| ((n as f64 * factor).round() as usize).max(1);
        ScenarioSize {
            completed_jobs: scale(d.completed_jobs),
            failed_pods: scale(d.failed_pods),
            bloat_objects: scale(d.bloat_objects),
            large_objects: scale(d.large_objects),
            env_heavy_pods: scale(d.env_heavy_pods),
            helm_revisions: scale(d.helm_revisions),
            crashloop_pods: scale(d.crashloop_pods),
            scale_nodes: scale(d.scale_nodes),
            scale_pods: scale(d.scale_pods),
            ..d
        }
    }

    /// A cluster for apidiag's benchmark: 20,000 completed Jobs (bulk mode) and
    /// 50,000 small objects, plus the usual large ones and Helm history.
    pub fn benchmark() -> ScenarioSize {
        ScenarioSize {
            completed_jobs: 20_000,
            jobs_mode: JobsMode::Bulk,
            failed_pods: 200,
            bloat_objects: 50_000,
            large_objects: 8,
            helm_revisions: 100,
            concurrency: 64,
            ..ScenarioSize::default()
        }
    }
}

/// What applying a scenario did.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioReport {
    /// The scenario.
    pub scenario: Scenario,
    /// The namespaces it used.
    pub namespaces: Vec<String>,
    /// Objects it made sure exist, by kind (created now or kept from before).
    pub objects: BTreeMap<String, usize>,
    /// For `flood`: what the burst got back.
    pub flood: Option<FloodOutcome>,
    /// How long it took.
    pub elapsed: Duration,
    /// Anything worth knowing (e.g. which Jobs mode ran).
    pub notes: Vec<String>,
}

impl ScenarioReport {
    fn new(scenario: Scenario) -> ScenarioReport {
        ScenarioReport {
            scenario,
            namespaces: scenario
                .namespaces()
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            objects: BTreeMap::new(),
            flood: None,
            elapsed: Duration::ZERO,
            notes: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, kind: &str, count: usize) {
        *self.objects.entry(kind.to_owned()).or_default() += count;
    }

    /// How many objects of `kind` (e.g. `Job`, `Secret`) the scenario ensured.
    pub fn count(&self, kind: &str) -> usize {
        self.objects.get(kind).copied().unwrap_or(0)
    }
}

impl std::fmt::Display for ScenarioReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<24} {:>5.1}s ",
            self.scenario.name(),
            self.elapsed.as_secs_f64()
        )?;
        let objects: Vec<String> = self
            .objects
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        f.write_str(&objects.join(", "))?;
        if let Some(flood) = &self.flood {
            write!(
                f,
                "; flood: {} requests, {} throttled (429), {} ok, {} other errors",
                flood.sent, flood.throttled, flood.ok, flood.other_errors
            )?;
        }
        for note in &self.notes {
            write!(f, "; {note}")?;
        }
        Ok(())
    }
}

/// What the `flood` burst got back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FloodOutcome {
    /// Requests sent.
    pub sent: u64,
    /// Answered 429 Too Many Requests (APF rejected them).
    pub throttled: u64,
    /// Answered 2xx.
    pub ok: u64,
    /// Anything else (transport errors, other status codes).
    pub other_errors: u64,
}

/// What a scenario needs from the lab: an admin client and the flooder's kubeconfig.
#[derive(Clone)]
pub struct ScenarioContext {
    client: kube::Client,
    flooder_kubeconfig: PathBuf,
    controller_manager: bool,
    workload_controllers: bool,
}

impl ScenarioContext {
    /// A context for the lab whose admin and flooder kubeconfigs these are.
    /// `controller_manager` says whether kube-controller-manager runs (it decides
    /// how `completed-jobs` works), `workload_controllers` whether it runs the
    /// Deployment, ReplicaSet and DaemonSet controllers (`aks-scale` needs them
    /// off, `konnectivity-crashloop` uses them).
    pub async fn new(
        admin_kubeconfig: &Path,
        flooder_kubeconfig: &Path,
        controller_manager: bool,
        workload_controllers: bool,
    ) -> Result<ScenarioContext, LabError> {
        let client = kubeconfig::client(
            admin_kubeconfig,
            ClientOptions {
                user_agent: Some(USER_AGENT),
                no_retry: false,
            },
        )
        .await?;
        Ok(ScenarioContext {
            client,
            flooder_kubeconfig: flooder_kubeconfig.to_owned(),
            controller_manager,
            workload_controllers: controller_manager && workload_controllers,
        })
    }

    pub(crate) fn client(&self) -> &kube::Client {
        &self.client
    }
}

/// Applies one scenario.
pub async fn apply(
    ctx: &ScenarioContext,
    scenario: Scenario,
    size: &ScenarioSize,
) -> Result<ScenarioReport, LabError> {
    let started = Instant::now();
    let mut report = ScenarioReport::new(scenario);
    match scenario {
        Scenario::CompletedJobs => jobs::apply(ctx, size, &mut report).await?,
        Scenario::FailedPods => failed_pods::apply(ctx, size, &mut report).await?,
        Scenario::ObjectBloat => bloat::apply(ctx, size, &mut report).await?,
        Scenario::HelmHistory => helm::apply(ctx, size, &mut report).await?,
        Scenario::FailingWebhook => webhook::apply(ctx, &mut report).await?,
        Scenario::WebhookFaults => webhook_faults::apply(ctx, &mut report).await?,
        Scenario::Guard => guard::apply(ctx, &mut report).await?,
        Scenario::Flood => flood::apply(ctx, size, &mut report).await?,
        Scenario::UnavailableApiService => apiservice::apply(ctx, &mut report).await?,
        Scenario::KonnectivityCrashloop => konnectivity::apply(ctx, size, &mut report).await?,
        Scenario::AksScale => scale::apply(ctx, size, &mut report).await?,
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn cli_names_are_kebab_case_and_match_name() {
        for s in Scenario::ORDER {
            let pv = s.to_possible_value().unwrap();
            assert_eq!(pv.get_name(), s.name());
            assert_eq!(Scenario::from_str(s.name(), false).unwrap(), s);
        }
        assert_eq!(Scenario::value_variants().len(), Scenario::ORDER.len());
        assert!(!Scenario::ALL.contains(&Scenario::AksScale));
    }

    #[test]
    fn namespaces_are_lab_prefixed_unless_they_must_be_kube_system() {
        for s in Scenario::ORDER {
            for ns in s.namespaces() {
                assert!(ns.starts_with("lab-") || *ns == "kube-system", "{s}: {ns}");
            }
        }
    }

    #[test]
    fn safe_order_puts_the_webhook_after_pod_creators() {
        let order = Scenario::in_safe_order(&[
            Scenario::Flood,
            Scenario::FailingWebhook,
            Scenario::FailedPods,
        ]);
        assert_eq!(
            order,
            [
                Scenario::FailedPods,
                Scenario::FailingWebhook,
                Scenario::Flood
            ]
        );
    }

    #[test]
    fn scaling_multiplies_counts() {
        let s = ScenarioSize::scaled(10.0);
        assert_eq!(s.bloat_objects, 30_000);
        assert_eq!(s.completed_jobs, 240);
        assert_eq!(s.flood_requests, ScenarioSize::default().flood_requests);
        assert!(ScenarioSize::scaled(0.0).completed_jobs >= 1);
        let b = ScenarioSize::benchmark();
        assert!(b.completed_jobs >= 20_000 && b.bloat_objects >= 50_000);
    }
}
