//! `kubectl apidiag`: every check at once, the hand-off to one check's binary, and
//! the commands that belong to the suite (`undo`, `backups`, `version`, `completion`).
//!
//! `kubectl apidiag guard` reaches this binary when only `kubectl-apidiag` is on PATH
//! (the krew layout: krew links one binary per plugin). It then runs the sibling
//! `kubectl-apidiag-guard` from the folder of its own resolved path, or else from
//! PATH, passing arguments, stdin/stdout and the exit code through (it `exec`s).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand};

use crate::backup::{self, Bundle};
use crate::cli::GlobalArgs;
use crate::exit::Outcome;
use crate::style::Palette;

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-apidiag",
    bin_name = "kubectl apidiag",
    version = crate::VERSION,
    about = "Diagnose and repair Kubernetes API server and etcd trouble",
    long_about = "Diagnose and repair Kubernetes API server and etcd trouble: timeouts, 429s, a bloated etcd, \
a webhook that blocks every create, the AKS managed API server guard.\n\n\
With no command, runs every installed check, read-only and concurrently, under one request budget, \
and prints one report. `kubectl apidiag <check>` runs one check and offers its fixes.",
    after_help = after_help()
)]
pub struct Args {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Restore a backup bundle written by a remediation (default: the newest)
    Undo {
        /// Bundle name (from `kubectl apidiag backups`) or path
        bundle: Option<String>,
    },
    /// List the backup bundles remediations have written
    Backups,
    /// Print the version
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
    /// Run one check: etcd, webhooks, guard, throttle, connectivity
    #[command(external_subcommand)]
    Check(Vec<OsString>),
}

fn after_help() -> String {
    let mut text = String::from("Checks (run as `kubectl apidiag <check>`, each has --help):\n");
    for name in crate::checks::SUITE {
        let about = crate::checks::ALL
            .iter()
            .find(|c| c.name == *name)
            .map(|c| c.about)
            .unwrap_or("(not installed in this build)");
        text.push_str(&format!("  {name:<13} {about}\n"));
    }
    text.push_str("\nExamples:\n  kubectl apidiag\n  kubectl apidiag guard -o json\n  kubectl apidiag backups\n  kubectl apidiag undo\n\n");
    text.push_str(&Outcome::help_table());
    text
}

/// The `kubectl-apidiag` binary.
pub async fn run(args: Args) -> Outcome {
    match args.command {
        None => crate::run::all(&args.global).await,
        Some(Command::Version) => {
            println!("kubectl-apidiag {}", crate::VERSION);
            Outcome::Healthy
        }
        Some(Command::Completion { shell }) => {
            let mut command = Args::command();
            clap_complete::generate(
                shell,
                &mut command,
                "kubectl-apidiag",
                &mut std::io::stdout(),
            );
            Outcome::Healthy
        }
        Some(Command::Backups) => backups(&args.global.output),
        Some(Command::Undo { bundle }) => undo(bundle.as_deref(), &args.global).await,
        Some(Command::Complete { words }) => {
            for candidate in complete(&words) {
                println!("{candidate}");
            }
            // cobra's ShellCompDirectiveNoFileComp: do not fall back to file names.
            println!(":4");
            Outcome::Healthy
        }
        Some(Command::Check(argv)) => dispatch(argv, std::env::args_os().skip(1).collect()),
    }
}

fn backups(output: &crate::cli::OutputArgs) -> Outcome {
    let root = backup::root();
    let bundles = match backup::list(&root) {
        Ok(bundles) => bundles,
        Err(error) => {
            eprintln!("error: {error}");
            return Outcome::Internal;
        }
    };
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        name: String,
        path: String,
        created: String,
        check: String,
        plan: String,
        operations: usize,
        done: usize,
        restored: bool,
        server: String,
    }
    let rows: Vec<Row> = bundles
        .iter()
        .map(|(bundle, manifest)| Row {
            name: bundle.name(),
            path: bundle.dir.display().to_string(),
            created: manifest.created.clone(),
            check: manifest.check.clone(),
            plan: manifest.plan_id.clone(),
            operations: manifest.operations.len(),
            done: bundle
                .journal()
                .map(|j| {
                    j.values()
                        .filter(|e| e.outcome == backup::OperationOutcome::Done)
                        .count()
                })
                .unwrap_or(0),
            restored: bundle.restored(),
            server: manifest.server.clone(),
        })
        .collect();
    match output.output {
        crate::cli::OutputFormat::Json => match serde_json::to_string_pretty(&rows) {
            Ok(text) => println!("{text}"),
            Err(error) => eprintln!("error: {error}"),
        },
        crate::cli::OutputFormat::Yaml => match serde_saphyr::to_string(&rows) {
            Ok(text) => print!("{text}"),
            Err(error) => eprintln!("error: {error}"),
        },
        crate::cli::OutputFormat::Human => {
            if rows.is_empty() {
                eprintln!("no backup bundles in {}", root.display());
                return Outcome::Healthy;
            }
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        r.plan.clone(),
                        format!("{}/{}", r.done, r.operations),
                        if r.restored {
                            "restored".into()
                        } else {
                            "".into()
                        },
                        r.server.clone(),
                    ]
                })
                .collect();
            let columns: Vec<String> = ["bundle", "plan", "done", "state", "server"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            for line in crate::render::table(&columns, &table) {
                println!("{line}");
            }
            println!(
                "\n{}",
                Palette::for_stdout(output.color).dim(&format!("in {}", root.display()))
            );
        }
    }
    Outcome::Healthy
}

async fn undo(bundle: Option<&str>, global: &GlobalArgs) -> Outcome {
    let bundle = match bundle {
        Some(name) => Bundle::open(name),
        None => match Bundle::latest_to_undo(&backup::root()) {
            Ok(Some(bundle)) => Ok(bundle),
            Ok(None) => {
                eprintln!(
                    "error: no backup bundle left to restore in {}\nhint: bundles are written by `--fix` runs; `kubectl apidiag backups` lists them, and `kubectl apidiag undo NAME` restores a given one",
                    backup::root().display()
                );
                return Outcome::Usage;
            }
            Err(error) => Err(error),
        },
    };
    let bundle = match bundle {
        Ok(bundle) => bundle,
        Err(error) => {
            eprintln!("error: {error}");
            return Outcome::Usage;
        }
    };
    crate::run::single(global, "undo", async |ctx, _printer| {
        let mut report = crate::finding::CheckReport::new("undo");
        let (plan, notes) = match crate::remediation::undo::plan(&ctx.api, &bundle).await {
            Ok(found) => found,
            Err(error) => {
                let text = error.to_string();
                let mut lines = text.lines();
                let reason = lines.next().unwrap_or_default().to_string();
                let hint = lines.collect::<Vec<_>>().join(" ");
                return crate::run::CheckRun {
                    report: crate::finding::CheckReport::could_not_check("undo", reason, hint),
                    remediation: None,
                };
            }
        };
        for note in &notes {
            report.push(crate::finding::Finding::new(
                "undo.note",
                crate::finding::Severity::Info,
                format!("{}: {}", note.target, note.note),
            ));
        }
        let result = crate::run::remediate(ctx, plan, 8).await;
        if let Ok(result) = &result
            && result.state == crate::remediation::RemediationState::Applied
            && let Err(error) = bundle.record_restore(result.backup.as_deref())
        {
            eprintln!("warning: restored, but could not mark the bundle: {error}");
        }
        crate::run::CheckRun {
            report,
            remediation: Some(result),
        }
    })
    .await
}

/// The clap command of a check built into this version, for completion.
fn check_command(name: &str) -> Option<clap::Command> {
    match name {
        "etcd" => Some(crate::checks::etcd::Args::command()),
        "guard" => Some(crate::checks::guard::Args::command()),
        _ => None,
    }
}

/// Completion candidates for the words after `kubectl apidiag` (the last one is
/// the partial word). Flags and their values come from the clap definitions, so
/// they cannot drift from what the binaries accept.
pub fn complete(words: &[String]) -> Vec<String> {
    let (partial, before) = match words.split_last() {
        Some((last, before)) => (last.as_str(), before),
        None => ("", &[][..]),
    };
    let top = Args::command();
    let command = match before.iter().find(|w| !w.starts_with('-')) {
        None => top.clone(),
        Some(first) => match check_command(first) {
            Some(command) => command,
            None => top
                .find_subcommand(first)
                .cloned()
                .unwrap_or_else(|| top.clone()),
        },
    };
    let mut candidates: Vec<String> = Vec::new();
    // A flag's value: its possible values, if it has a fixed set.
    let previous = before
        .last()
        .and_then(|w| w.strip_prefix("--").or_else(|| w.strip_prefix('-')));
    if let Some(previous) = previous
        && let Some(arg) = command.get_arguments().find(|a| {
            a.get_long() == Some(previous)
                || a.get_short().map(|c| c.to_string()).as_deref() == Some(previous)
        })
        && arg.get_action().takes_values()
    {
        candidates.extend(
            arg.get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string()),
        );
        return candidates
            .into_iter()
            .filter(|c| c.starts_with(partial))
            .collect();
    }
    if partial.starts_with('-') {
        candidates.extend(
            command
                .get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| a.get_long().map(|l| format!("--{l}"))),
        );
    } else if before.iter().all(|w| w.starts_with('-')) {
        candidates.extend(crate::checks::SUITE.iter().map(|s| s.to_string()));
        candidates.extend(["undo", "backups", "version"].map(String::from));
    } else if before.first().map(String::as_str) == Some("undo")
        && let Ok(bundles) = backup::list(&backup::root())
    {
        candidates.extend(bundles.iter().map(|(bundle, _)| bundle.name()));
    }
    candidates
        .into_iter()
        .filter(|c| c.starts_with(partial))
        .collect()
}

/// Hands `kubectl apidiag <check> …` to `kubectl-apidiag-<check>`, with every
/// argument but the check's name: kubectl passes `kubectl apidiag --context x guard`
/// as `--context x guard`, and the sibling must see that `--context x` too.
fn dispatch(argv: Vec<OsString>, raw: Vec<OsString>) -> Outcome {
    let Some(name) = argv.first().and_then(|n| n.to_str()).map(str::to_string) else {
        eprintln!("error: missing check name");
        return Outcome::Usage;
    };
    if !crate::checks::SUITE.contains(&name.as_str()) {
        eprintln!(
            "error: unknown command or check `{name}`\nhint: checks are {}; `kubectl apidiag --help` lists commands",
            crate::checks::SUITE.join(", ")
        );
        return Outcome::Usage;
    }
    let binary = format!("kubectl-apidiag-{name}");
    let Some(path) = find_sibling(&binary) else {
        eprintln!(
            "error: the `{name}` check is not installed: no `{binary}` next to kubectl-apidiag or on PATH\nhint: reinstall the apidiag bundle (krew install apidiag), or run `kubectl apidiag` for the checks this build has"
        );
        return Outcome::Usage;
    };
    exec(&path, &forwarded_args(&raw, &name))
}

/// The raw arguments without the check name: flags before it, and all after it.
pub fn forwarded_args(raw: &[OsString], check: &str) -> Vec<OsString> {
    // Which flags take a value, so a value equal to a check name is not mistaken
    // for the check (`--context guard guard`).
    let command = Args::command();
    let mut takes_value: Vec<String> = Vec::new();
    for arg in command.get_arguments() {
        if arg.get_action().takes_values() {
            if let Some(long) = arg.get_long() {
                takes_value.push(format!("--{long}"));
            }
            if let Some(short) = arg.get_short() {
                takes_value.push(format!("-{short}"));
            }
        }
    }
    let mut skip_next = false;
    for (i, token) in raw.iter().enumerate() {
        let text = token.to_string_lossy();
        if skip_next {
            skip_next = false;
            continue;
        }
        if text.starts_with('-') {
            skip_next = !text.contains('=') && takes_value.iter().any(|flag| *flag == text);
            continue;
        }
        if text == check {
            let mut out = raw[..i].to_vec();
            out.extend_from_slice(&raw[i + 1..]);
            return out;
        }
    }
    raw.to_vec()
}

/// The sibling binary: next to this executable's resolved path (krew's store
/// folder, where the archive's binaries live), else on PATH.
pub fn find_sibling(binary: &str) -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.canonicalize().ok())
        .and_then(|exe| exe.parent().map(|dir| dir.join(binary)));
    if let Some(path) = beside.filter(|p| is_executable(p)) {
        return Some(path);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(binary))
            .find(|p| is_executable(p))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn exec(path: &Path, args: &[OsString]) -> Outcome {
    use std::os::unix::process::CommandExt;
    // exec replaces this process: stdin, stdout, stderr and the exit code are the
    // sibling's own, with nothing in between.
    let error = std::process::Command::new(path).args(args).exec();
    eprintln!("error: could not run {}: {error}", path.display());
    Outcome::Internal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definitions_are_consistent() {
        Args::command().debug_assert();
        crate::checks::guard::Args::command().debug_assert();
        crate::checks::etcd::Args::command().debug_assert();
    }

    #[test]
    fn global_flags_before_the_check_are_forwarded() {
        let raw: Vec<OsString> = [
            "--context",
            "guard",
            "-o",
            "json",
            "guard",
            "--fix",
            "delete",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let forwarded: Vec<String> = forwarded_args(&raw, "guard")
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect();
        assert_eq!(
            forwarded,
            vec!["--context", "guard", "-o", "json", "--fix", "delete"]
        );
    }

    #[test]
    fn completion_offers_checks_flags_and_values() {
        let words = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let first = complete(&words(&[""]));
        for expected in ["etcd", "guard", "throttle", "undo", "backups"] {
            assert!(first.contains(&expected.to_string()), "{first:?}");
        }
        assert_eq!(complete(&words(&["gu"])), vec!["guard"]);
        let fixes = complete(&words(&["guard", "--fix", ""]));
        assert_eq!(fixes, vec!["skip-update", "raise-shares", "delete"]);
        let flags = complete(&words(&["guard", "--cli"]));
        assert_eq!(flags, vec!["--clients-fixed"]);
        let output = complete(&words(&["-o", ""]));
        assert_eq!(output, vec!["human", "json", "yaml"]);
    }

    #[test]
    fn a_check_name_is_an_external_subcommand() {
        let args = Args::try_parse_from(["kubectl-apidiag", "guard", "-o", "json"]).unwrap();
        match args.command {
            Some(Command::Check(argv)) => assert_eq!(argv, vec!["guard", "-o", "json"]),
            other => panic!("{other:?}"),
        }
        let args = Args::try_parse_from(["kubectl-apidiag", "-o", "json"]).unwrap();
        assert!(args.command.is_none());
        assert_eq!(args.global.output.output, crate::cli::OutputFormat::Json);
    }
}
