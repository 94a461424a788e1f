//! How a plugin run goes, from argv to exit code, shared by every binary.
//!
//! The suite's `main.rs` calls [`main`] with its argument type and one async
//! function; a check's own binary calls [`check_main`], which builds the same
//! command `kubectl apidiag <check>` parses (the check's flags, then the shared
//! ones). Parsing errors exit 64 (help and version exit 0); the run gets a
//! single-threaded runtime (a diagnosis waits on the network, it does not compute);
//! [`open`] connects like kubectl and reads `/version`; [`single`] runs one check,
//! prints the diagnosis, then runs the requested remediation and prints its outcome
//! and what the run cost; [`all`] runs the checks it is given concurrently.

use std::ffi::OsString;
use std::future::Future;
use std::io::Write;
use std::process::ExitCode;

use clap::{Args, FromArgMatches, Parser};

use crate::api::{ApiClient, ApiError};
use crate::check::{CheckSpec, Context, could_not_check};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::connection;
use crate::exit::Outcome;
use crate::finding::{CheckReport, REPORT_SCHEMA, Report, ServerInfo};
use crate::remediation::{self, Plan, RemediationResult, Session};
use crate::render;
use crate::style::Palette;

/// Parses the command line, runs `body` to completion and exits with its outcome.
pub fn main<A, F, Fut>(body: F) -> ExitCode
where
    A: Parser,
    F: FnOnce(A) -> Fut,
    Fut: Future<Output = Outcome>,
{
    run_parsed(A::try_parse_from(std::env::args_os()), body)
}

/// The command of a check's own binary, `kubectl-apidiag-<name>`: the check's
/// flags (and its help text, from its `clap::Args`), then the shared ones; the
/// same as `kubectl apidiag <name>`.
pub fn check_command<A: Args>(name: &str) -> clap::Command {
    let command = clap::Command::new(format!("kubectl-apidiag-{name}"))
        .bin_name(format!("kubectl apidiag {name}"))
        .version(crate::VERSION);
    let command = A::augment_args(command);
    let (about, long_about) = (
        command.get_about().cloned(),
        command.get_long_about().cloned(),
    );
    // The shared flags come last in the help; their struct's doc comment must not
    // become the check's description.
    let mut command = GlobalArgs::augment_args(command);
    if let Some(about) = about {
        command = command.about(about);
    }
    if let Some(long_about) = long_about {
        command = command.long_about(long_about);
    }
    command
}

/// The `main` of a check's own binary: parses [`check_command`], then runs `body`
/// with the shared flags and the check's.
pub fn check_main<A, F, Fut>(name: &str, body: F) -> ExitCode
where
    A: Args + FromArgMatches,
    F: FnOnce(GlobalArgs, A) -> Fut,
    Fut: Future<Output = Outcome>,
{
    check_main_from(name, std::env::args_os(), body)
}

/// [`check_main`] with explicit arguments, for tests.
pub fn check_main_from<A, F, Fut, I>(name: &str, args: I, body: F) -> ExitCode
where
    A: Args + FromArgMatches,
    F: FnOnce(GlobalArgs, A) -> Fut,
    Fut: Future<Output = Outcome>,
    I: IntoIterator<Item = OsString>,
{
    let parsed = check_command::<A>(name)
        .try_get_matches_from(args)
        .and_then(|matches| {
            Ok((
                GlobalArgs::from_arg_matches(&matches)?,
                A::from_arg_matches(&matches)?,
            ))
        });
    run_parsed(parsed, |(global, args)| body(global, args))
}

fn run_parsed<T, F, Fut>(parsed: Result<T, clap::Error>, body: F) -> ExitCode
where
    F: FnOnce(T) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let args = match parsed {
        Ok(args) => args,
        Err(error) => return usage_error(error),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return Outcome::Internal.into();
        }
    };
    runtime.block_on(body(args)).into()
}

fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let _ = error.print();
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => Outcome::Healthy.into(),
        _ => Outcome::Usage.into(),
    }
}

/// Why a run could not start talking to the cluster.
pub enum OpenError {
    /// No client: the kubeconfig is missing or broken.
    Connect(connection::ConnectError),
    /// A client, but the server did not answer `/version`.
    Api {
        api: ApiClient,
        server: ServerInfo,
        error: ApiError,
    },
}

/// Connects as kubectl would and reads the server version.
pub async fn open(global: &GlobalArgs) -> Result<Context, OpenError> {
    let connection = connection::connect(&global.connection)
        .await
        .map_err(OpenError::Connect)?;
    let api = ApiClient::new(&connection, &global.manners);
    let mut server = ServerInfo {
        url: connection.server.clone(),
        context: connection.context.clone(),
        version: None,
    };
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Version {
        git_version: String,
    }
    match api.get::<Version>("/version").await {
        Ok(version) => server.version = Some(version.git_version),
        // Some clusters restrict /version; the checks can still run.
        Err(ApiError::Forbidden { .. }) => {}
        Err(error) => return Err(OpenError::Api { api, server, error }),
    }
    Ok(Context::new(
        api,
        server,
        connection.namespace,
        global.clone(),
    ))
}

/// What a check body hands back: its report, and the remediation it ran if any.
pub struct CheckRun {
    pub report: CheckReport,
    pub remediation: Option<Result<RemediationResult, String>>,
    /// The findings decide the exit code even when a remediation ran: a probe
    /// that creates something to look from (connectivity's node probe) finds
    /// its results after it acts, unlike a fix, whose findings were what it fixed.
    pub findings_decide: bool,
}

/// Runs one check: opens the connection, runs `body`, prints, and returns the outcome.
/// The body gets a [`Printer`] so a human report can be shown before a remediation
/// asks its question.
pub async fn single<F>(global: &GlobalArgs, check: &str, body: F) -> Outcome
where
    F: AsyncFnOnce(&Context, &mut Printer) -> CheckRun,
{
    let mut printer = Printer::new(global);
    let ctx = match open(global).await {
        Ok(ctx) => ctx,
        Err(error) => return printer.open_failed(global, &[check], error),
    };
    single_in(&ctx, printer, body).await
}

/// [`single`] on a connection the check opened itself (with [`open`]): the
/// connectivity check probes the path before it lets a client use it.
pub async fn single_in<F>(ctx: &Context, mut printer: Printer, body: F) -> Outcome
where
    F: AsyncFnOnce(&Context, &mut Printer) -> CheckRun,
{
    let run = body(ctx, &mut printer).await;
    let (remediation, failure) = match run.remediation {
        None => (None, None),
        Some(Ok(result)) => (Some(result), None),
        Some(Err(message)) => (None, Some(message)),
    };
    let report = Report {
        schema: REPORT_SCHEMA.into(),
        apidiag_version: crate::VERSION.into(),
        server: ctx.server.clone(),
        checks: vec![ctx.judged(run.report)],
        cost: ctx.api.cost(),
        remediation,
    };
    printer.finish(&report);
    if let Some(message) = failure {
        eprintln!("error: {message}");
        return Outcome::Internal;
    }
    match &report.remediation {
        Some(result) if result.state != remediation::RemediationState::DryRun => {
            if run.findings_decide && result.state == remediation::RemediationState::Applied {
                report.outcome()
            } else {
                result.outcome()
            }
        }
        _ => report.outcome(),
    }
}

/// Prints `check`, a report made without a client (the path to the server
/// failed before one could talk on it), and returns its outcome. The run cost
/// nothing: no request was sent.
pub fn without_client(global: &GlobalArgs, server: ServerInfo, check: CheckReport) -> Outcome {
    let report = Report {
        schema: REPORT_SCHEMA.into(),
        apidiag_version: crate::VERSION.into(),
        server,
        checks: vec![check],
        cost: crate::api::Cost::default(),
        remediation: None,
    };
    Printer::new(global).finish(&report);
    report.outcome()
}

/// Runs `plan` through the guided flow with this run's client and flags.
pub async fn remediate(
    ctx: &Context,
    plan: Plan,
    concurrency: usize,
) -> Result<RemediationResult, String> {
    remediation::execute(&session(ctx, concurrency).await?, plan)
        .await
        .map_err(|e| with_hint(&e, e.hint()))
}

/// A fix that was asked for and could not be planned (nothing to fix, an option
/// that does not fit the cluster, a refusal): said on stderr, and reported as not
/// applied, which exit 4 says.
pub fn not_planned(id: &str, reason: &dyn std::fmt::Display) -> Result<RemediationResult, String> {
    eprintln!("{id}: {reason}");
    Ok(RemediationResult::not_planned(id, &reason.to_string()))
}

/// Runs fix `id` through the guided flow when it was planned, else
/// [`not_planned`].
pub async fn remediate_planned<E: std::fmt::Display>(
    ctx: &Context,
    id: &str,
    planned: Result<Plan, E>,
    concurrency: usize,
) -> Result<RemediationResult, String> {
    match planned {
        Ok(plan) => remediate(ctx, plan, concurrency).await,
        Err(reason) => not_planned(id, &reason),
    }
}

/// The remediation session of this run: its client, flags, the cluster it
/// reaches (URL, context, identity) and where backups go. Fails, before the fix
/// lists, asks or writes anything, when there is no place for backups.
pub async fn session(ctx: &Context, concurrency: usize) -> Result<Session<'_>, String> {
    let backup_root = crate::backup::root().map_err(|e| with_hint(&e, e.hint()))?;
    Ok(Session {
        api: &ctx.api,
        args: &ctx.global.remediation,
        origin: crate::backup::Origin {
            server: ctx.server.url.clone(),
            context: ctx.server.context.clone(),
            // Recorded when it can be read; a bundle without it is checked by URL.
            cluster_uid: ctx.cluster_uid().await.ok().flatten().map(str::to_string),
        },
        palette: Palette::for_stderr(ctx.global.output.color),
        concurrency,
        backup_root,
    })
}

/// Prints the report in two halves for people (checks first, so they are on screen
/// before a remediation asks anything; remediation and cost last) and in one piece
/// for scripts.
pub struct Printer {
    format: OutputFormat,
    palette: Palette,
    view: render::View,
    checks_printed: bool,
}

impl Printer {
    pub fn new(global: &GlobalArgs) -> Self {
        Printer {
            format: global.output.output,
            palette: Palette::for_stdout(global.output.color),
            view: render::View::from_args(&global.output),
            checks_printed: false,
        }
    }

    /// Shows more findings of a check already shown (human output only).
    pub fn more(&mut self, check: &CheckReport) {
        if self.format == OutputFormat::Human && !check.findings.is_empty() {
            write_stdout(&render::human_section(check, self.palette, self.view));
        }
    }

    /// Shows the diagnosis now (human output only).
    pub fn checks(&mut self, ctx: &Context, checks: &[CheckReport]) {
        if self.format != OutputFormat::Human {
            return;
        }
        let report = Report {
            schema: REPORT_SCHEMA.into(),
            apidiag_version: crate::VERSION.into(),
            server: ctx.server.clone(),
            checks: checks.to_vec(),
            cost: ctx.api.cost(),
            remediation: None,
        };
        write_stdout(&render::human_checks(&report, self.palette, self.view));
        self.checks_printed = true;
    }

    /// Prints what has not been printed yet.
    pub fn finish(&mut self, report: &Report) {
        let text = match self.format {
            OutputFormat::Human if self.checks_printed => {
                render::human_footer(report, self.palette)
            }
            OutputFormat::Human => render::human(report, self.palette, self.view),
            format => match render::render(report, format, self.palette, self.view) {
                Ok(text) => text,
                Err(error) => {
                    eprintln!("error: {error}");
                    return;
                }
            },
        };
        write_stdout(&text);
    }

    /// Says why the run could not start talking to the cluster.
    pub fn open_failed(
        &mut self,
        global: &GlobalArgs,
        checks: &[&str],
        error: OpenError,
    ) -> Outcome {
        match error {
            OpenError::Connect(error) => {
                eprintln!(
                    "{} {error}",
                    Palette::for_stderr(global.output.color).error("error:")
                );
                Outcome::CouldNotCheck
            }
            OpenError::Api { api, server, error } => {
                let reports = checks
                    .iter()
                    .map(|check| {
                        could_not_check(check, &error, "get on the non-resource URL /version")
                    })
                    .collect();
                let report = Report {
                    schema: REPORT_SCHEMA.into(),
                    apidiag_version: crate::VERSION.into(),
                    server,
                    checks: reports,
                    cost: api.cost(),
                    remediation: None,
                };
                self.finish(&report);
                Outcome::CouldNotCheck
            }
        }
    }
}

/// `message`, and on a line of its own what to do next: how every error that has
/// a hint is shown.
pub fn with_hint(message: &dyn std::fmt::Display, hint: Option<&str>) -> String {
    match hint {
        Some(hint) => format!("{message}\nhint: {hint}"),
        None => message.to_string(),
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub fn write_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Runs `checks` concurrently, read-only, through one client and one `/metrics`
/// scrape.
pub async fn all(global: &GlobalArgs, checks: &[CheckSpec]) -> Outcome {
    let names: Vec<&str> = checks.iter().map(|c| c.name).collect();
    let mut printer = Printer::new(global);
    let ctx = match open(global).await {
        Ok(ctx) => ctx,
        Err(error) => return printer.open_failed(global, &names, error),
    };
    let checks = futures::future::join_all(checks.iter().map(|spec| (spec.diagnose)(&ctx)))
        .await
        .into_iter()
        .map(|report| ctx.judged(report))
        .collect();
    let report = Report {
        schema: REPORT_SCHEMA.into(),
        apidiag_version: crate::VERSION.into(),
        server: ctx.server.clone(),
        checks,
        cost: ctx.api.cost(),
        remediation: None,
    };
    printer.finish(&report);
    report.outcome()
}
