//! `--audit-log`: from the flags to a printed report, with or without a cluster.
//!
//! `apidiag_core::run::single` opens the connection first and gives up when it
//! cannot; an audit log needs no cluster, so this path builds the report itself.
//! The server is asked only for `/version`, which decides where LISTs were served
//! from, and only when `--server-version` does not say it. Whatever happens to
//! that request, the log is analyzed.

use std::path::PathBuf;

use apidiag_audit::{AuditError, Filter, ListRules, Options, ServerVersion, Window};
use apidiag_core::check::Context;
use apidiag_core::cli::GlobalArgs;
use apidiag_core::exit::Outcome;
use apidiag_core::finding::{CheckReport, REPORT_SCHEMA, Report, ServerInfo};
use apidiag_core::run::{OpenError, Printer, with_hint};

use crate::{Args, NAME, findings};

/// Why an analysis produced no report.
#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    /// An input that cannot be found, a bad glob, a thread that cannot start.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The engine's task panicked or was cancelled.
    #[error("the audit analysis stopped: {0}")]
    Engine(String),
    /// `--html` could not be written.
    #[error("cannot write `{path}`: {source}")]
    Html {
        /// The file given to `--html`.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl ThrottleError {
    /// What to do next.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Audit(AuditError::NotFound { .. } | AuditError::BadGlob { .. }) => Some(
                "--audit-log takes files, folders, globs (quoted, so the shell leaves them) or `-`",
            ),
            Self::Html { .. } => Some("give --html a path in a folder you may write to"),
            _ => None,
        }
    }

    /// The exit outcome: a wrong path is a usage error.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Audit(AuditError::NotFound { .. } | AuditError::BadGlob { .. })
            | Self::Audit(AuditError::NoInput) => Outcome::Usage,
            Self::Audit(AuditError::Thread(_)) | Self::Engine(_) => Outcome::Internal,
            _ => Outcome::CouldNotCheck,
        }
    }
}

/// Which server-version rules classify LISTs, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSource {
    pub version: ServerVersion,
    /// `--server-version`, the live server's `/version`, or why neither.
    pub from: String,
    /// Neither said it: the newest rules known were assumed.
    pub assumed: bool,
}

/// The live server, when one was reached.
struct Live {
    ctx: Option<Context>,
    server: ServerInfo,
    cost: apidiag_core::api::Cost,
}

/// Reads the version from `--server-version` or the live server; never fails.
async fn server_version(
    global: &GlobalArgs,
    given: Option<ServerVersion>,
) -> (VersionSource, Live) {
    let offline = |why: String| VersionSource {
        version: ServerVersion::NEWEST_KNOWN,
        from: format!(
            "{why}; the rules of {}, the newest known, were used (give --server-version)",
            ServerVersion::NEWEST_KNOWN
        ),
        assumed: true,
    };
    let no_server = || Live {
        ctx: None,
        server: ServerInfo::default(),
        cost: Default::default(),
    };
    if let Some(version) = given {
        let source = VersionSource {
            version,
            from: "--server-version".into(),
            assumed: false,
        };
        return (source, no_server());
    }
    match apidiag_core::run::open(global).await {
        Ok(ctx) => {
            let parsed = ctx
                .server
                .version
                .as_deref()
                .and_then(|v| ServerVersion::parse(v).ok());
            let source = match parsed {
                Some(version) => VersionSource {
                    version,
                    from: format!("the API server's /version ({})", ctx.server.url),
                    assumed: false,
                },
                None => offline("the API server did not give a readable /version".into()),
            };
            let live = Live {
                server: ctx.server.clone(),
                cost: ctx.api.cost(),
                ctx: Some(ctx),
            };
            (source, live)
        }
        Err(OpenError::Connect(error)) => (
            offline(format!("no cluster reached ({error})")),
            no_server(),
        ),
        Err(OpenError::Api { api, server, error }) => {
            let why = error.to_string();
            let why = why.lines().next().unwrap_or_default();
            let source = offline(format!("the API server did not answer /version ({why})"));
            let live = Live {
                ctx: None,
                server,
                cost: api.cost(),
            };
            (source, live)
        }
    }
}

/// The engine's options from the flags.
pub fn options(args: &Args, namespace: Option<String>, version: ServerVersion) -> Options {
    Options {
        window: Window {
            since: args.since,
            until: args.until,
        },
        filter: Filter {
            user_agent: args.user_agent.clone(),
            user: args.audit_user.clone(),
            namespace,
        },
        bin: args.bin,
        rules: ListRules::for_version(version),
        ..Options::default()
    }
}

/// Runs the engine on its own threads, off the async runtime.
pub async fn analyze(
    inputs: Vec<String>,
    options: Options,
) -> Result<apidiag_audit::Report, ThrottleError> {
    tokio::task::spawn_blocking(move || apidiag_audit::analyze(&inputs, &options))
        .await
        .map_err(|e| ThrottleError::Engine(e.to_string()))?
        .map_err(ThrottleError::from)
}

/// `kubectl apidiag throttle --audit-log …`.
pub async fn run(global: &GlobalArgs, args: Args) -> Outcome {
    match report(global, &args).await {
        Ok((report, html)) => {
            Printer::new(global).finish(&report);
            if let Some(path) = html {
                eprintln!("wrote {}", path.display());
            }
            report.outcome()
        }
        Err(error) => {
            eprintln!("error: {}", with_hint(&error, error.hint()));
            error.outcome()
        }
    }
}

async fn report(
    global: &GlobalArgs,
    args: &Args,
) -> Result<(Report, Option<PathBuf>), ThrottleError> {
    let (version, live) = server_version(global, args.server_version).await;
    let namespace = global.connection.namespace.clone();
    let options = options(args, namespace, version.version);
    let audit = analyze(args.audit_log.clone(), options).await?;
    let mut check = findings::check_report(&audit, usize::from(args.top), args, &version);
    if let Some(ctx) = &live.ctx {
        check = ctx.judged(check);
    }
    if let Some(path) = &args.html {
        let page = crate::html::page(&audit, &check, usize::from(args.top));
        std::fs::write(path, page).map_err(|source| ThrottleError::Html {
            path: path.clone(),
            source,
        })?;
    }
    let cost = live.ctx.as_ref().map_or(live.cost, |ctx| ctx.api.cost());
    Ok((whole(live.server, cost, check), args.html.clone()))
}

/// The run's report around the check's: what `-o json` prints.
pub fn whole(server: ServerInfo, cost: apidiag_core::api::Cost, check: CheckReport) -> Report {
    debug_assert_eq!(check.check, NAME);
    Report {
        schema: REPORT_SCHEMA.into(),
        apidiag_version: apidiag_core::VERSION.into(),
        server,
        checks: vec![check],
        cost,
        remediation: None,
    }
}
