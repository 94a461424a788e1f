//! `kubectl apidiag throttle`: who loads the API server, live from `/metrics` or
//! from an audit log.
//!
//! Guide: "Troubleshoot API server and etcd problems in AKS", Cause 5 / Solution 5
//! (an offending client makes excessive LIST or PUT calls) and its troubleshooting
//! checklist: the top user agents and the users behind them, their latency over
//! time in 5-minute bins, the P99 of their calls by verb and resource against the
//! upstream SLOs, and the resource-intensive LISTs the AKS portal's detector shows.
//! The guide does this with Kusto queries in Log Analytics; here the kube-free
//! engine `apidiag-audit` reads whatever export the user has, on a laptop.
//!
//! Without `--audit-log` the check reads the load now from two `/metrics` scrapes
//! ([`live`]): APF rejections and queues per priority level and flow schema, LISTs
//! served from etcd per resource, latency against the SLOs, open watches. Metrics
//! never name a client, so that report ends by saying how to get an audit log.
//!
//! The audit analysis needs no cluster: an SRE with only an exported log gets the
//! whole report. The live server is asked for one thing, its `/version` (which
//! rules decide whether a LIST is served from the watch cache or from etcd), and
//! only when `--server-version` is not given; when it cannot be reached the newest
//! rules known are used and the report says so.
//!
//! [`run`] is the entry point (the suite's subcommand and the
//! `kubectl-apidiag-throttle` binary); [`SPEC`] is what `kubectl apidiag` runs
//! (live, since start, read-only); [`analysis`] runs
//! the engine, [`findings`] turns its tables into findings, [`input`] reports what
//! was read, [`chart`] and [`html`] draw the latency over time.

pub mod agents;
pub mod analysis;
pub mod chart;
pub mod findings;
pub mod fix;
pub mod html;
pub mod input;
pub mod lists;
pub mod live;
pub mod remedy;
pub mod verify;

use std::path::PathBuf;
use std::time::Duration;

use futures::FutureExt;

use apidiag_audit::{KqlMode, ServerVersion, TimeBound};
use apidiag_core::check::CheckSpec;
use apidiag_core::cli::GlobalArgs;
use apidiag_core::exit::Outcome;
use apidiag_core::finding::Source;

pub use analysis::ThrottleError;

/// The check's name, as in `kubectl apidiag throttle`.
pub const NAME: &str = "throttle";

/// What `kubectl apidiag` runs of this check: live load from the run's one
/// `/metrics` scrape, read since the API server started (no wait, no request of
/// its own); `kubectl apidiag throttle` measures a window.
pub const SPEC: CheckSpec = CheckSpec {
    name: NAME,
    about: "who loads the API server: APF rejections, LISTs from etcd, latency against the SLOs, watches; top clients from an audit log",
    diagnose: |ctx| {
        async move {
            live::diagnose(ctx, Duration::ZERO, live::Depth::Suite)
                .await
                .0
        }
        .boxed()
    },
};

/// `--kql`: which Log Analytics layout the diagnostic setting writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KqlArg {
    /// Resource-specific tables (`AKSAudit`)
    ResourceSpecific,
    /// The legacy `AzureDiagnostics` table (`log_s`)
    AzureDiagnostics,
}

impl From<KqlArg> for KqlMode {
    fn from(arg: KqlArg) -> Self {
        match arg {
            KqlArg::ResourceSpecific => KqlMode::ResourceSpecific,
            KqlArg::AzureDiagnostics => KqlMode::AzureDiagnostics,
        }
    }
}

/// `kubectl apidiag throttle`: the check's own flags (the shared ones come from
/// [`GlobalArgs`]). The user filter is `--audit-user` because `--user` is already
/// kubectl's kubeconfig user; the namespace filter is the shared `-n/--namespace`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Find what and who loads the API server (live from /metrics, or from an audit log) and throttle the offending client with a FlowSchema",
    long_about = "Find what and who loads the API server, and throttle the offending client.\n\n\
Live (the default): two /metrics scrapes --window apart (one process, or the pair is refused): API \
Priority and Fairness rejections and queues per priority level and flow schema, LISTs served from etcd \
per resource (the server's own LISTs subtracted), P99 latency against the SLOs, large LIST responses, \
open watches, and one APF dump. Metrics cannot name a client: the audit log does.\n\n\
--audit-log reads any export: kube-apiserver JSON lines, AKS storage-account blobs, Event Hub captures, \
`az monitor log-analytics query` output, CSV; gzip, folders and globs; `-` for standard input. It \
reports the top user agents and the users or service accounts behind them (what a FlowSchema can \
match), their latency in time bins, the P99 of their calls by verb and resource against the SLOs, \
resource-intensive LISTs (watch cache or etcd) and call patterns. Each request is counted once \
(ResponseComplete; watches on ResponseStarted). No cluster is needed; the live server is asked only \
for its version, unless --server-version gives it. -n/--namespace keeps only requests in that namespace. \
--kql prints the Log Analytics query that exports what this check reads.\n\n\
--fix flowschema throttles one client: the subject from --service-account, --group, --subject-user, or \
the users behind --user-agent in --audit-log; the calls from --verbs/--resources/--in-namespaces or as \
the audit log shows them. It writes a PriorityLevelConfiguration with a hard cap (--seats; lending and \
borrowing 0; Queue, or --reject) and a FlowSchema just ahead of the one that catches that traffic today, \
in the flowcontrol version the server serves; it refuses system:masters, nodes and the control plane. \
Previewed, dry-run on the server, confirmed (or --yes), backed up, then verified; `kubectl apidiag undo` \
removes both, --verify NAME checks again later, --fix remove deletes every one apidiag made.\n\n\
Guide: Troubleshoot API server and etcd problems in AKS, Cause 5 and Solution 5, and its checklist.",
    after_help = after_help()
)]
pub struct Args {
    /// Without --audit-log: how long to wait between the two /metrics scrapes (0: read the counters since the API server started)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_window, conflicts_with = "audit_log")]
    pub window: Duration,
    /// Audit logs to read: files, folders, globs, `-` for standard input (repeat or give several)
    #[arg(long, value_name = "PATH", num_args = 1.., action = clap::ArgAction::Append, conflicts_with = "kql")]
    pub audit_log: Vec<String>,
    /// Only requests received at or after this: RFC 3339, or a duration before the newest event (15m, 2h)
    #[arg(long, value_name = "TIME", value_parser = apidiag_audit::parse_time_bound)]
    pub since: Option<TimeBound>,
    /// Only requests received at or before this: RFC 3339, or a duration before the newest event
    #[arg(long, value_name = "TIME", value_parser = apidiag_audit::parse_time_bound, requires = "audit_log")]
    pub until: Option<TimeBound>,
    /// Only user agents that start with this (`kubectl/` matches every kubectl)
    #[arg(long, value_name = "PREFIX", requires = "audit_log")]
    pub user_agent: Option<String>,
    /// Only requests of this user, exactly (e.g. system:serviceaccount:ns:name)
    #[arg(long, value_name = "NAME", requires = "audit_log")]
    pub audit_user: Option<String>,
    /// Width of the latency time bins
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = apidiag_audit::parse_duration)]
    pub bin: Duration,
    /// The server's Kubernetes version, for where LISTs are served from (default: the live server's /version)
    #[arg(long, value_name = "VERSION", value_parser = ServerVersion::parse, requires = "audit_log")]
    pub server_version: Option<ServerVersion>,
    /// How many user agents the tables and the chart show
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    pub top: u16,
    /// Also write one self-contained HTML page (inline SVG chart and the tables, no network)
    #[arg(long, value_name = "FILE", requires = "audit_log")]
    pub html: Option<PathBuf>,
    /// Print the Log Analytics query that exports what this check reads, and exit
    #[arg(long, value_enum, value_name = "MODE")]
    pub kql: Option<KqlArg>,
    /// Throttle a client with API Priority and Fairness, or remove what apidiag created (previewed, dry-run, confirmed, backed up, undoable)
    #[arg(long, value_enum, value_name = "FIX", conflicts_with_all = ["kql", "verify"])]
    pub fix: Option<remedy::Fix>,
    /// With --fix flowschema: a service account to throttle (repeatable)
    #[arg(long = "service-account", value_name = "NS/NAME", value_parser = fix::Subject::parse_service_account, requires = "fix")]
    pub service_accounts: Vec<fix::Subject>,
    /// With --fix flowschema: a group to throttle (repeatable)
    #[arg(long = "group", value_name = "NAME", requires = "fix")]
    pub groups: Vec<String>,
    /// With --fix flowschema: a user to throttle (repeatable; --user is kubectl's kubeconfig user)
    #[arg(long = "subject-user", value_name = "NAME", requires = "fix")]
    pub subject_users: Vec<String>,
    /// With --fix flowschema: the verbs to throttle (default: those of the audit log, else every verb)
    #[arg(long, value_delimiter = ',', value_name = "VERB,…", requires = "fix")]
    pub verbs: Vec<String>,
    /// With --fix flowschema: the resources to throttle, `pods`, `deployments.apps`, `pods/log` (default: the audit log's, else all)
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "RESOURCE,…",
        requires = "fix"
    )]
    pub resources: Vec<String>,
    /// With --fix flowschema: the namespaces to throttle in (default: every namespace and namespace-less calls)
    #[arg(
        long = "in-namespaces",
        value_delimiter = ',',
        value_name = "NS,…",
        requires = "fix"
    )]
    pub in_namespaces: Vec<String>,
    /// With --fix flowschema: the seats the throttled calls may hold at once (a LIST takes about one per 100 objects)
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub seats: u32,
    /// With --fix flowschema: answer calls beyond the cap with 429 at once instead of queueing them
    #[arg(long, requires = "fix")]
    pub reject: bool,
    /// Check that a throttle FlowSchema took effect: digested, dispatching, nobody else's 429s up (over --window)
    #[arg(long, value_name = "NAME", conflicts_with = "audit_log")]
    pub verify: Option<String>,
}

/// `--window`: a duration, or `0` for "since the API server started".
fn parse_window(text: &str) -> Result<Duration, apidiag_audit::ParseError> {
    if text.trim().trim_end_matches('s') == "0" {
        return Ok(Duration::ZERO);
    }
    apidiag_audit::parse_duration(text)
}

fn after_help() -> String {
    format!(
        "Examples:\n  kubectl apidiag throttle\n  kubectl apidiag throttle --window 2m\n  kubectl apidiag throttle --audit-log ./PT1H.json\n  kubectl apidiag throttle --audit-log /var/log/kubernetes/audit/ --since 30m\n  kubectl apidiag throttle --audit-log 'exports/*.json.gz' --user-agent kubectl/ --html report.html\n  kubectl apidiag throttle --kql resource-specific --since 2h\n  kubectl apidiag throttle --fix flowschema --service-account team-a/poller --seats 4 --dry-run\n  kubectl apidiag throttle --audit-log ./PT1H.json --user-agent grafana-operator/ --fix flowschema\n  kubectl apidiag throttle --verify apidiag-throttle-d1dd07243c\n\n{}",
        Outcome::help_table()
    )
}

/// The guide section every finding of this check implements.
pub(crate) fn source(step: &str) -> Source {
    Source::apiserver_etcd(&format!(
        "Cause 5: an offending client makes excessive LIST or PUT calls; Solution 5 and the troubleshooting checklist ({step})"
    ))
}

/// Said when live mode could not reach the cluster.
pub(crate) const NO_CLUSTER_HINT: &str = "hint: an exported audit log needs no cluster: kubectl apidiag throttle --audit-log PATH \
     (AKS: diagnostic setting kube-audit; `kubectl apidiag throttle --kql resource-specific` prints the export query)";

/// `kubectl apidiag throttle`: print a query (`--kql`), analyze an audit log, or
/// say how to get one.
pub async fn run(global: GlobalArgs, args: Args) -> Outcome {
    if let Some(mode) = args.kql {
        let lookback = match args.since {
            Some(TimeBound::BeforeNewest(d)) => d,
            _ => Duration::from_secs(3600),
        };
        let query = apidiag_audit::kql_since(mode.into(), lookback);
        apidiag_core::run::write_stdout(&format!("{query}\n"));
        return Outcome::Healthy;
    }
    if args.fix.is_some() || args.verify.is_some() {
        return remedy::command(&global, &args).await;
    }
    if args.audit_log.is_empty() {
        let window = args.window;
        let outcome = apidiag_core::run::single(&global, NAME, async |ctx, _printer| {
            let (report, _load) = live::diagnose(ctx, window, live::Depth::Check).await;
            apidiag_core::run::CheckRun {
                report,
                remediation: None,
                findings_decide: false,
            }
        })
        .await;
        if outcome == Outcome::CouldNotCheck {
            // Live mode needs the cluster; the audit analysis does not.
            eprintln!("{NO_CLUSTER_HINT}");
        }
        return outcome;
    }
    analysis::run(&global, args).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        apidiag_core::run::check_command::<Args>(NAME).debug_assert();
    }

    #[test]
    fn several_logs_after_one_flag_or_repeated() {
        use clap::FromArgMatches;
        let parse = |argv: &[&str]| {
            let matches = apidiag_core::run::check_command::<Args>(NAME)
                .try_get_matches_from(argv)
                .unwrap_or_else(|e| panic!("{e}"));
            Args::from_arg_matches(&matches).unwrap_or_else(|e| panic!("{e}"))
        };
        let args = parse(&[
            "x",
            "--audit-log",
            "a",
            "b",
            "--audit-log",
            "c",
            "--top",
            "3",
        ]);
        assert_eq!(args.audit_log, ["a", "b", "c"]);
        assert_eq!(args.top, 3);
        assert_eq!(args.bin, Duration::from_secs(300));
    }
}
