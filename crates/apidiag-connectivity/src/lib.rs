//! `kubectl apidiag connectivity`: every path to and from the API server.
//!
//! Guides: "TCP time-outs when kubectl or other third-party tools connect to the
//! API server" (Causes 1–4 and 7), "Systematic approach to troubleshooting network
//! problems in AKS clusters" (the control-plane layer), "Troubleshoot API server
//! and etcd problems in AKS" (Cause 1) and the KubeAggregatedAPIErrors runbook.
//!
//! The ladder: the client path first ([`path`]: kubeconfig, DNS, TCP, TLS and
//! ALPN, on sockets of its own, since kube-rs hides the cause of a failed connect
//! and sends no ALPN), stopping at its first hard failure; then what the server
//! says ([`server`]: version, who this identity is, readyz/livez, the `kubernetes`
//! Service); then the paths from the API server, which run apart: [`tunnel`]
//! (konnectivity and the kubelets) and [`aggregated`] (APIServices).

pub mod aggregated;
pub mod node_probe;
pub mod path;
pub mod rung;
pub mod server;
pub mod tunnel;

use futures::FutureExt;

use apidiag_core::check::{CheckSpec, Context};
use apidiag_core::cli::GlobalArgs;
use apidiag_core::exit::Outcome;
use apidiag_core::finding::{CheckReport, ServerInfo};

use rung::Rung;

/// The check's name, as in `kubectl apidiag connectivity`.
pub const NAME: &str = "connectivity";

/// What `kubectl apidiag` runs of this check: the diagnosis, read-only.
pub const SPEC: CheckSpec = CheckSpec {
    name: NAME,
    about: "every path to and from the API server: DNS, TCP, TLS and ALPN from here, authentication, readyz, the konnectivity tunnel to the nodes, aggregated APIs",
    diagnose: |ctx| async move { diagnose_suite(ctx).await }.boxed(),
};

/// `--fix`: what this check can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fix {
    /// Delete the APIServices named by --apiservice whose Service or namespace is gone
    DeleteApiservice,
    /// Restart the tunnel agents (a rollout restart of konnectivity-agent, as Microsoft documents)
    RestartTunnel,
}

impl Fix {
    pub fn id(self) -> &'static str {
        match self {
            Fix::DeleteApiservice => "connectivity.delete-apiservice",
            Fix::RestartTunnel => "connectivity.restart-tunnel",
        }
    }
}

/// `kubectl apidiag connectivity`: the check's own flags (the shared ones come
/// from [`GlobalArgs`]).
#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Check every path to and from the API server, rung by rung, and aggregated APIs",
    long_about = "Check every path to and from the API server, rung by rung, each with what was tried, \
how long it took and the verdict in the words kubectl prints for that failure.\n\n\
From here: the kubeconfig (server, CA, client certificate expiry, exec plugin, proxy and NO_PROXY), DNS \
(public or private answers), TCP per address (timeout, refused, unreachable), TLS (chain against the \
kubeconfig CA, names, expiry) and the ALPN protocol the server picks. The ladder stops at the first \
hard failure on that path. Then the server: /version, who this identity is, /readyz and /livez, the \
`kubernetes` Service. Then the paths from the API server: the konnectivity tunnel (agents, and a \
pods/log probe per sampled node: a reply proves the tunnel to that node) and every APIService with the \
KubeAggregatedAPIErrors runbook's steps for the failing ones.\n\n\
With --fix the check shows a plan with the diff, dry-runs it, asks (or takes --yes), writes a backup, \
then acts; `kubectl apidiag undo` restores the objects.\n\n\
Guides: TCP time-outs when kubectl connects to the API server; Systematic approach to troubleshooting \
network problems in AKS clusters; Troubleshoot API server and etcd problems in AKS, Cause 1; the \
KubeAggregatedAPIErrors runbook.",
    after_help = after_help()
)]
pub struct Args {
    #[command(flatten)]
    pub path: path::PathArgs,
    #[command(flatten)]
    pub tunnel: tunnel::TunnelArgs,
    #[command(flatten)]
    pub node_probe: node_probe::NodeProbeArgs,
    /// Apply a fix (previewed, dry-run, confirmed, backed up, undoable)
    #[arg(long, value_name = "FIX", value_enum)]
    pub fix: Option<Fix>,
    /// With --fix delete-apiservice: an APIService to delete, by name (repeatable)
    #[arg(long, value_name = "NAME", requires = "fix")]
    pub apiservice: Vec<String>,
}

fn after_help() -> String {
    format!(
        "Examples:\n  kubectl apidiag connectivity\n  kubectl apidiag connectivity --client-ip 203.0.113.7 --authorized-ip-ranges 198.51.100.0/24\n  kubectl apidiag connectivity --fix delete-apiservice --apiservice v1beta1.metrics.example.com --dry-run\n  kubectl apidiag connectivity --fix restart-tunnel\n\n{}",
        Outcome::help_table()
    )
}

/// A report of `rungs`, in ladder order.
fn report_of(rungs: impl IntoIterator<Item = Rung>) -> CheckReport {
    let mut report = CheckReport::new(NAME);
    report.ladder = true;
    for rung in rungs {
        report.push(rung.finding);
    }
    report
}

/// The client path, as the suite runs it: resolved again from the shared flags
/// (the connection the suite opened went the same way).
async fn client_path(global: &GlobalArgs, args: &path::PathArgs) -> Result<Vec<Rung>, String> {
    match apidiag_core::connection::resolve(&global.connection).await {
        Ok(resolved) => Ok(path::client_path(&resolved, args).await),
        Err(error) => Err(error.to_string()),
    }
}

/// Everything after the client path: the server, the tunnel, aggregated APIs.
async fn diagnose_connected(
    ctx: &Context,
    args: &Args,
    mut rungs: Vec<Rung>,
) -> (
    CheckReport,
    Option<tunnel::Collected>,
    Option<aggregated::Collected>,
) {
    rungs.extend(server::rungs(ctx).await);
    let ((tunnel_rungs, tunnel), (aggregated_rungs, aggregated)) = futures::join!(
        tunnel::diagnose(ctx, &args.tunnel),
        aggregated::diagnose(ctx)
    );
    rungs.extend(tunnel_rungs);
    rungs.extend(aggregated_rungs);
    let mut report = report_of(rungs);
    for gap in aggregated.iter().flat_map(|c| &c.gaps) {
        report.gap(gap.clone());
    }
    (report, tunnel, aggregated)
}

/// The suite's run: read-only, default flags.
async fn diagnose_suite(ctx: &Context) -> CheckReport {
    let args = Args {
        path: path::PathArgs::default(),
        tunnel: tunnel::TunnelArgs::default(),
        node_probe: node_probe::NodeProbeArgs::default(),
        fix: None,
        apiservice: Vec::new(),
    };
    let mut gap = None;
    let rungs = match client_path(&ctx.global, &args.path).await {
        Ok(rungs) => rungs,
        Err(error) => {
            gap = Some(format!("the client path ({error})"));
            Vec::new()
        }
    };
    let (mut report, _, _) = diagnose_connected(ctx, &args, rungs).await;
    if let Some(gap) = gap {
        report.gap(gap);
    }
    report
}

/// `kubectl apidiag connectivity`: the client path first, with no client; then,
/// unless it failed hard, the rest through the run's one polite client; then
/// `--fix` if asked.
pub async fn run(global: GlobalArgs, args: Args) -> Outcome {
    let resolved = match apidiag_core::connection::resolve(&global.connection).await {
        Ok(resolved) => resolved,
        // No kubeconfig, or a broken one: the standard error says what to do.
        Err(error) => {
            return apidiag_core::run::Printer::new(&global).open_failed(
                &global,
                &[NAME],
                apidiag_core::run::OpenError::Connect(error),
            );
        }
    };
    let rungs = path::client_path(&resolved, &args.path).await;
    let server_info = ServerInfo {
        url: resolved
            .config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string(),
        context: resolved.context.clone(),
        version: None,
    };
    if rungs.iter().any(|r| r.stops) {
        return apidiag_core::run::without_client(&global, server_info, report_of(rungs));
    }
    let ctx = match apidiag_core::run::open(&global).await {
        Ok(ctx) => ctx,
        Err(error) => {
            let mut rungs = rungs;
            rungs.push(server::open_failed(&error));
            return apidiag_core::run::without_client(&global, server_info, report_of(rungs));
        }
    };
    let printer = apidiag_core::run::Printer::new(&global);
    apidiag_core::run::single_in(&ctx, printer, async |ctx, printer| {
        let (mut report, tunnel, aggregated) = diagnose_connected(ctx, &args, rungs).await;
        printer.checks(ctx, std::slice::from_ref(&report));
        if args.node_probe.wanted() {
            let (probed, remediation) = node_probe::run(ctx, &args.node_probe).await;
            // Shown as a section of its own: the diagnosis above was printed
            // before the probe asked its question.
            printer.more(&report_of(probed.clone()));
            for rung in probed {
                report.push(rung.finding);
            }
            return apidiag_core::run::CheckRun {
                report,
                remediation,
                findings_decide: true,
            };
        }
        let remediation = match args.fix {
            None => None,
            Some(fix) => {
                let planned = match fix {
                    Fix::DeleteApiservice => match &aggregated {
                        Some(collected) => aggregated::plan_delete(collected, &args.apiservice),
                        None => {
                            Err("the APIServices could not be read (see the report)".to_string())
                        }
                    },
                    Fix::RestartTunnel => match &tunnel {
                        Some(collected) => tunnel::plan_restart(collected),
                        None => {
                            Err("the tunnel agents could not be read (see the report)".to_string())
                        }
                    },
                };
                Some(apidiag_core::run::remediate_planned(ctx, fix.id(), planned, 1).await)
            }
        };
        apidiag_core::run::CheckRun {
            report,
            remediation,
            findings_decide: false,
        }
    })
    .await
}
