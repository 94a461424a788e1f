//! `kubectl apidiag`: every check at once, each check as a subcommand run in this
//! process, and the commands that belong to the suite (`undo`, `backups`,
//! `version`, completion).
//!
//! The command line is parsed once, by clap: `kubectl apidiag --context x guard
//! --fix delete` and `kubectl apidiag guard --fix delete --context x` mean the
//! same, because the shared flags are global. No check runs as another process,
//! so a stale `kubectl-apidiag-guard` on PATH can never answer for this binary.
//! This is the one place that names the checks (the core never does).

use std::ffi::OsString;

use clap::{CommandFactory, Parser, Subcommand};

use apidiag_core::check::CheckSpec;
use apidiag_core::cli::GlobalArgs;
use apidiag_core::exit::Outcome;
use apidiag_core::run::write_stdout;

/// The version and the commit this binary is built from (`0.1.0 (commit 1a2b3c4)`,
/// `-dirty` when the sources differed from it, `unknown` outside git; build.rs),
/// the same for `--version` and `version`. The workspace version is core's too.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("APIDIAG_COMMIT"),
    ")"
);

/// Every check built into this version, in report order.
pub const CHECKS: &[CheckSpec] = &[
    apidiag_etcd::SPEC,
    apidiag_guard::SPEC,
    apidiag_throttle::SPEC,
    apidiag_webhooks::SPEC,
    apidiag_connectivity::SPEC,
];

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-apidiag",
    bin_name = "kubectl apidiag",
    version = VERSION,
    about = "Diagnose and repair Kubernetes API server and etcd trouble",
    long_about = "Diagnose and repair Kubernetes API server and etcd trouble: timeouts, 429s, a bloated etcd, \
a webhook that blocks every create, the AKS managed API server guard.\n\n\
With no command, runs every installed check, read-only and concurrently, under one request budget \
and one /metrics scrape, and prints one report. `kubectl apidiag <check>` runs one check and offers its fixes.",
    after_help = after_help(),
    subcommand_help_heading = "Checks and commands"
)]
pub struct Args {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    // No doc comments: the help of a check is its Args' own, the same in its binary.
    Etcd(apidiag_etcd::Args),
    Guard(apidiag_guard::Args),
    // Boxed: its fix and audit flags make it much larger than the others.
    Throttle(Box<apidiag_throttle::Args>),
    Webhooks(apidiag_webhooks::Args),
    // Boxed: the client path's and the tunnel's flags make it large.
    Connectivity(Box<apidiag_connectivity::Args>),
    /// Restore a backup bundle written by a remediation (default: the newest one not yet restored in which something changed)
    Undo {
        /// Bundle name (from `kubectl apidiag backups`) or path
        bundle: Option<String>,
        /// Objects per second at most while a cleanup is restored (the diagnosis keeps --qps); the pace adapts below it
        #[arg(long, value_name = "N", default_value_t = apidiag_core::remediation::stream::DEFAULT_BULK_RATE, value_parser = positive_rate)]
        rate: f64,
        /// Restored Jobs whose ttlSecondsAfterFinished has passed (the TTL controller deletes them again at once): keep (as saved), drop (they stay), or a duration such as 24h (they stay that long)
        #[arg(long, value_name = "keep|drop|DURATION", default_value = "keep", value_parser = apidiag_core::remediation::undo::TtlChoice::parse)]
        ttl: apidiag_core::remediation::undo::TtlChoice,
        /// Confirm, with --yes, that restored Pods run again (a restored Pod is a new Pod: it is scheduled and its containers start over)
        #[arg(long)]
        rerun_pods: bool,
    },
    /// List the backup bundles remediations have written
    Backups,
    /// Print the version and the commit it was built from
    Version,
    /// Print shell completions for kubectl-apidiag
    #[command(hide = true)]
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Candidates for kubectl's plugin completion (see completions/kubectl_complete-apidiag)
    #[command(name = "__complete", hide = true)]
    Complete {
        /// The words after `kubectl apidiag`; the last one is being completed
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
    /// A check this build does not have, or a typo
    #[command(external_subcommand)]
    Other(Vec<OsString>),
}

fn after_help() -> String {
    let mut text = String::from(
        "Examples:\n  kubectl apidiag\n  kubectl apidiag --summary\n  kubectl apidiag guard -o json\n  kubectl apidiag throttle --audit-log ./audit.log\n  kubectl apidiag connectivity\n  kubectl apidiag etcd --fix completed-jobs --dry-run\n  kubectl apidiag backups\n  kubectl apidiag undo\n\n",
    );
    text.push_str(&Outcome::help_table());
    text
}

/// The `kubectl-apidiag` binary.
pub async fn run(args: Args) -> Outcome {
    let Args { global, command } = args;
    match command {
        None => apidiag_core::run::all(&global, CHECKS).await,
        Some(Command::Etcd(args)) => apidiag_etcd::run(global, args).await,
        Some(Command::Guard(args)) => apidiag_guard::run(global, args).await,
        Some(Command::Throttle(args)) => apidiag_throttle::run(global, *args).await,
        Some(Command::Webhooks(args)) => apidiag_webhooks::run(global, args).await,
        Some(Command::Connectivity(args)) => apidiag_connectivity::run(global, *args).await,
        Some(Command::Undo {
            bundle,
            rate,
            ttl,
            rerun_pods,
        }) => {
            let options = apidiag_core::remediation::restore::RestoreOptions {
                qps: rate,
                ttl,
                rerun_pods,
                ..Default::default()
            };
            crate::undo::run(bundle.as_deref(), options, &global).await
        }
        Some(Command::Backups) => crate::backups::run(&global.output),
        Some(Command::Version) => {
            write_stdout(&format!("kubectl-apidiag {VERSION}\n"));
            Outcome::Healthy
        }
        Some(Command::Completion { shell }) => {
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Args::command(), "kubectl-apidiag", &mut text);
            write_stdout(&String::from_utf8_lossy(&text));
            Outcome::Healthy
        }
        Some(Command::Complete { words }) => {
            let mut text = String::new();
            for candidate in crate::complete::candidates(&words) {
                text.push_str(&candidate);
                text.push('\n');
            }
            // cobra's ShellCompDirectiveNoFileComp: do not fall back to file names.
            text.push_str(":4\n");
            write_stdout(&text);
            Outcome::Healthy
        }
        Some(Command::Other(argv)) => unknown(&argv),
    }
}

/// A rate: a positive number (objects per second).
fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a positive number of objects per second"
        )),
    }
}

fn unknown(argv: &[OsString]) -> Outcome {
    let name = argv
        .first()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let installed: Vec<&str> = CHECKS.iter().map(|c| c.name).collect();
    eprintln!(
        "error: unknown command or check `{name}`\nhint: checks are {}; `kubectl apidiag --help` lists every command",
        installed.join(", ")
    );
    Outcome::Usage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definitions_are_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn shared_flags_before_or_after_the_check_mean_the_same() {
        for argv in [
            &[
                "kubectl-apidiag",
                "--context",
                "guard",
                "-o",
                "json",
                "guard",
                "--fix",
                "delete",
            ][..],
            &[
                "kubectl-apidiag",
                "guard",
                "--fix",
                "delete",
                "--context",
                "guard",
                "-o",
                "json",
            ][..],
        ] {
            let args = Args::try_parse_from(argv).unwrap();
            assert_eq!(args.global.connection.context.as_deref(), Some("guard"));
            assert_eq!(
                args.global.output.output,
                apidiag_core::cli::OutputFormat::Json
            );
            match args.command {
                Some(Command::Guard(guard)) => {
                    assert_eq!(guard.fix, Some(apidiag_guard::Fix::Delete))
                }
                other => panic!("{other:?}"),
            }
        }
        let args = Args::try_parse_from(["kubectl-apidiag", "-o", "json"]).unwrap();
        assert!(args.command.is_none());
    }

    #[test]
    fn a_check_subcommand_has_the_same_flags_as_its_binary() {
        let mut suite = Args::command();
        suite.build();
        for (name, mut own) in [
            (
                "etcd",
                apidiag_core::run::check_command::<apidiag_etcd::Args>("etcd"),
            ),
            (
                "guard",
                apidiag_core::run::check_command::<apidiag_guard::Args>("guard"),
            ),
            (
                "throttle",
                apidiag_core::run::check_command::<apidiag_throttle::Args>("throttle"),
            ),
        ] {
            own.build();
            let flags = |command: &clap::Command| {
                let mut longs: Vec<String> = command
                    .get_arguments()
                    .filter_map(|a| a.get_long().map(String::from))
                    .filter(|l| l != "help" && l != "version")
                    .collect();
                longs.sort();
                longs
            };
            let sub = suite.find_subcommand(name).unwrap();
            assert_eq!(flags(sub), flags(&own), "{name}");
            assert_eq!(
                sub.get_long_about().map(|s| s.to_string()),
                own.get_long_about().map(|s| s.to_string())
            );
        }
    }

    #[test]
    fn every_check_has_a_subcommand() {
        let suite = Args::command();
        for spec in CHECKS {
            assert!(suite.find_subcommand(spec.name).is_some(), "{}", spec.name);
        }
    }
}
