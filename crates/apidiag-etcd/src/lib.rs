//! `kubectl apidiag etcd`: what fills etcd, and the guided cleanups.
//!
//! Guides: "Troubleshoot API server and etcd problems in AKS" (seed 001) Cause 3 /
//! Solution 3 (objects leaked into etcd: quotas, TTLs, cleanup) and Cause 6 /
//! Solution 6 (high etcd memory: request rate, object count or object size), with
//! the older revision's (seed 000) Etcd Performance Analyzer flow kept: find the
//! factor that dominates first, then act on it. "Troubleshoot TCP time-outs"
//! (seed 004) Cause 6: too many Helm release revisions.
//!
//! [`run`] is the entry point of `kubectl apidiag etcd` (the suite's subcommand and
//! the `kubectl-apidiag-etcd` binary); [`SPEC`] is what `kubectl apidiag` runs.
//! [`diagnosis`] reads in order of cost and judges; one module per question:
//! [`db_size`], [`object_counts`], [`large_objects`], [`completed_jobs`] (with
//! CronJob histories and TTLs), [`failed_pods`], [`helm_history`], [`quotas`],
//! [`dominant`]; [`fixes`] turns a diagnosis into the guided remediations.

pub mod ages;
pub mod allowance;
pub mod completed_jobs;
pub mod db_size;
pub mod diagnosis;
pub mod dominant;
pub mod failed_pods;
pub mod fixes;
pub mod helm_history;
pub mod large_objects;
pub mod object_counts;
pub mod quotas;

use std::time::Duration;

use futures::FutureExt;

use apidiag_core::check::CheckSpec;
pub(crate) use apidiag_core::check::Context;
use apidiag_core::cli::GlobalArgs;
use apidiag_core::exit::Outcome;

pub use diagnosis::{
    EtcdState, PERMISSIONS, Scope, Sections, Settings, bloated_namespaces, diagnose, parse_size,
    thousands, types,
};
pub(crate) use diagnosis::{list_scoped, ok, source_cause3, source_cause6};
pub use fixes::{DEFAULT_DELETE_QPS, Fix};

/// What `kubectl apidiag` runs of this check: the whole diagnosis, read-only.
pub const SPEC: CheckSpec = CheckSpec {
    name: "etcd",
    about: "what fills etcd: database size, objects per type, completed Jobs, failed Pods, Helm history, large objects",
    diagnose: |ctx| {
        async move { diagnose(ctx, &Settings::default(), Sections::all()).await.0 }.boxed()
    },
};

/// `kubectl apidiag etcd`: the check's own flags (the shared ones come from
/// [`GlobalArgs`], flattened by whoever runs the check).
#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Find what fills etcd (size, objects per type, completed Jobs, failed Pods, Helm history, large objects) and clean it up safely",
    long_about = "Find what fills etcd and slows the API server: the database size against its quota, objects per type, \
which factor dominates (request rate, object count, object size), completed Jobs, Jobs without a TTL, CronJobs keeping long \
histories, failed Pods, Helm release history, large ConfigMaps and Secrets, Pods with heavy env sections, and namespaces \
without object-count quotas.\n\n\
Reads /metrics first, then metadata-only, paginated LISTs with server-side selectors; the report ends with the requests \
and bytes it cost. Secret data is never printed. Without --fix nothing changes. With --fix it shows a plan, dry-runs it \
on the server, asks (or takes --yes), writes a backup, then acts; `kubectl apidiag undo` restores.\n\n\
Guides: Troubleshoot API server and etcd problems in AKS, Cause 3 / Solution 3 and Cause 6 / Solution 6; \
Troubleshoot TCP time-outs, Cause 6 (Helm history).",
    after_help = after_help()
)]
pub struct Args {
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
    #[command(flatten)]
    pub fix: FixArgs,
}

fn after_help() -> String {
    format!(
        "Examples:\n  kubectl apidiag etcd\n  kubectl apidiag etcd --scan-sizes -o json\n  \
kubectl apidiag etcd --fix completed-jobs --older-than 7d --dry-run\n  \
kubectl apidiag etcd --fix completed-jobs --in team-a --in team-b --yes\n  \
kubectl apidiag etcd --fix failed-pods --all-namespaces --yes\n  \
kubectl apidiag etcd --fix helm-history --keep 10 -A --yes\n  \
kubectl apidiag etcd --fix cronjob-ttl --ttl 3600 --in batch\n  \
kubectl apidiag etcd --fix object-quota --quota-objects 5000 --in team-a\n\n{}",
        Outcome::help_table()
    )
}

/// `kubectl apidiag etcd`: diagnose, then apply `--fix` if asked.
pub async fn run(global: GlobalArgs, args: Args) -> Outcome {
    let Args { thresholds, fix } = args;
    if fix.fix.is_some()
        && global.remediation.yes
        && fix.namespaces.is_empty()
        && !fix.all_namespaces
    {
        eprintln!(
            "error: --yes needs the namespaces to fix\nhint: name them with --in NAMESPACE (repeatable), or pass --all-namespaces"
        );
        return Outcome::Usage;
    }
    let settings = thresholds.settings();
    apidiag_core::run::single(&global, "etcd", async |ctx, printer| {
        let sections = fix.fix.map_or(Sections::all(), Fix::sections);
        let (report, state) = diagnose(ctx, &settings, sections).await;
        printer.checks(ctx, std::slice::from_ref(&report));
        let remediation = match fix.fix {
            None => None,
            Some(which) => Some(fixes::apply(ctx, &state, &settings, which, &fix).await),
        };
        apidiag_core::run::CheckRun {
            report,
            remediation,
            findings_decide: false,
        }
    })
    .await
}

/// Thresholds the diagnosis judges with.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Thresholds")]
pub struct ThresholdArgs {
    /// The etcd quota (--quota-backend-bytes) the database size is compared with; 8 GiB on AKS
    #[arg(long, value_name = "SIZE", default_value = "8Gi", value_parser = parse_size)]
    pub quota: u64,
    /// Objects of one type above which a type that leaks is flagged (guide:
    /// 10,000); types that grow with the cluster get at least as much, more on a
    /// big cluster (docs/checks/etcd.md)
    #[arg(long, value_name = "N", default_value_t = crate::object_counts::SEED_THRESHOLD)]
    pub object_threshold: u64,
    /// Helm revisions per release above which the release is flagged (Helm's --history-max default)
    #[arg(long, value_name = "N", default_value_t = crate::helm_history::HELM_DEFAULT_HISTORY_MAX)]
    pub history_max: usize,
    /// ConfigMaps and Secrets from this size are listed as large
    #[arg(long, value_name = "SIZE", default_value = "512Ki", value_parser = parse_size)]
    pub large_object_size: u64,
    /// Read every ConfigMap, Secret and Pod to list the largest, even when the metrics say size is not the problem
    #[arg(long)]
    pub scan_sizes: bool,
}

impl ThresholdArgs {
    pub fn settings(&self) -> Settings {
        Settings {
            quota_bytes: self.quota,
            object_threshold: self.object_threshold,
            history_max: self.history_max,
            large_object_bytes: self.large_object_size,
            scan_sizes: self.scan_sizes,
            ..Settings::default()
        }
    }
}

/// The fix and its choices.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Fixes")]
pub struct FixArgs {
    /// Apply one of the guide's fixes (previewed, dry-run, confirmed, backed up, undoable)
    #[arg(long, value_enum, value_name = "FIX")]
    pub fix: Option<Fix>,
    /// Only objects at least this old (creation time, as kubectl's AGE): 30m, 12h, 7d
    #[arg(long, value_name = "DURATION", requires = "fix", value_parser = apidiag_core::cli::parse_go_duration)]
    pub older_than: Option<Duration>,
    /// Fix in this namespace (repeatable); without it a terminal offers a multi-select
    #[arg(
        long = "in",
        value_name = "NAMESPACE",
        requires = "fix",
        conflicts_with = "all_namespaces"
    )]
    pub namespaces: Vec<String>,
    /// Fix in every namespace (one cluster-wide listing)
    #[arg(short = 'A', long, requires = "fix")]
    pub all_namespaces: bool,
    /// With --fix helm-history: revisions to keep per release (the deployed one is always kept)
    #[arg(long, value_name = "N", requires = "fix")]
    pub keep: Option<usize>,
    /// With --fix cronjob-ttl: ttlSecondsAfterFinished to set [default: 86400]
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..=i64::from(i32::MAX)), value_name = "SECONDS", requires = "fix")]
    pub ttl: Option<i64>,
    /// With --fix object-quota: the limit for each counted kind [default: 5000]
    #[arg(long, value_name = "N", requires = "fix")]
    pub quota_objects: Option<u64>,
    /// Requests per second at most while a fix deletes (the diagnosis keeps --qps); the pace adapts below it
    #[arg(long, value_name = "N", default_value_t = DEFAULT_DELETE_QPS, requires = "fix")]
    pub delete_qps: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::FromArgMatches;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        let matches = apidiag_core::run::check_command::<Args>("etcd").try_get_matches_from(
            std::iter::once("kubectl-apidiag-etcd").chain(args.iter().copied()),
        )?;
        Args::from_arg_matches(&matches)
    }

    #[test]
    fn the_command_line_is_consistent() {
        apidiag_core::run::check_command::<Args>("etcd").debug_assert();
    }

    #[test]
    fn flags_parse() {
        let args = parse(&[
            "--fix",
            "completed-jobs",
            "--older-than",
            "7d",
            "--in",
            "a",
            "--in",
            "b",
            "--quota",
            "4Gi",
        ])
        .unwrap();
        assert_eq!(args.fix.fix, Some(Fix::CompletedJobs));
        assert_eq!(args.fix.older_than, Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(args.fix.namespaces, ["a", "b"]);
        assert_eq!(
            args.thresholds.settings().quota_bytes,
            4 * 1024 * 1024 * 1024
        );
        assert!(parse(&["--older-than", "1d"]).is_err(), "needs --fix");
        assert!(parse(&["--fix", "failed-pods", "--in", "a", "-A"]).is_err());
        assert!(parse(&["--fix", "burn"]).is_err());
    }
}
