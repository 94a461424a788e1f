//! `apidiag-lab`: a real control plane on loopback for people (`up`, `down`,
//! `status`, `apply`, `demo`). Everything happens in the library; this is flags.

use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use apidiag_lab::daemon::{self, Paths, UpOptions};
use apidiag_lab::{JobsMode, Scenario};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "apidiag-lab",
    version,
    about = "A real kube-apiserver, etcd and kube-controller-manager on 127.0.0.1, with injectable faults"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start a lab in the background and print the KUBECONFIG to use.
    Up(LabArgs),
    /// Stop the lab started by `up` and remove its files.
    Down,
    /// Show the running lab: URL, processes, memory, readiness, scenarios.
    Status,
    /// Apply scenarios to the running lab.
    Apply(SizeArgs),
    /// Start a lab with every scenario and run `kubectl-apidiag` against it.
    Demo {
        /// Arguments for kubectl-apidiag (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Run a lab in the foreground until SIGTERM (what `up` runs in the background).
    #[command(hide = true)]
    Serve(LabArgs),
}

#[derive(Args, Clone)]
struct LabArgs {
    #[command(flatten)]
    size: SizeArgs,
    /// Do not run kube-controller-manager (Jobs never complete on their own).
    #[arg(long)]
    no_controller_manager: bool,
}

#[derive(Args, Clone)]
struct SizeArgs {
    /// A scenario to apply (repeatable; see `--help` for the list).
    #[arg(long = "scenario", value_enum)]
    scenarios: Vec<Scenario>,
    /// Apply every scenario.
    #[arg(long, conflicts_with = "scenarios")]
    all: bool,
    /// Multiply every scenario's default size.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Benchmark sizes: 20,000 completed Jobs and 50,000 other objects.
    #[arg(long, conflicts_with = "scale")]
    benchmark: bool,
    /// How completed-jobs completes its Jobs.
    #[arg(long, value_enum, default_value_t = JobsMode::Auto)]
    jobs_mode: JobsMode,
    /// Nodes aks-scale registers (default 5,000, the size AKS is tested at).
    #[arg(long, value_name = "N")]
    nodes: Option<usize>,
    /// Pods aks-scale binds to them (default 200,000).
    #[arg(long, value_name = "N")]
    pods: Option<usize>,
}

impl SizeArgs {
    fn scenarios(&self) -> Vec<Scenario> {
        if self.all {
            Scenario::ALL.to_vec()
        } else {
            self.scenarios.clone()
        }
    }

    fn up_options(&self, controller_manager: bool) -> UpOptions {
        UpOptions {
            scenarios: self.scenarios(),
            scale: self.scale,
            benchmark: self.benchmark,
            jobs_mode: self.jobs_mode,
            controller_manager,
            nodes: self.nodes,
            pods: self.pods,
        }
    }
}

impl LabArgs {
    fn up_options(&self) -> UpOptions {
        self.size.up_options(!self.no_controller_manager)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("apidiag-lab: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = Paths::new();
    match cli.command {
        Cmd::Up(args) => {
            let state = daemon::up(&args.up_options()).await?;
            eprintln!(
                "apidiag-lab: lab ready at {} ({} {}; scenarios: {})",
                state.server,
                apidiag_lab::k8s_version(),
                if state.controller_manager {
                    "with kube-controller-manager"
                } else {
                    "without kube-controller-manager"
                },
                if state.scenarios.is_empty() {
                    "none".to_owned()
                } else {
                    state.scenarios.join(", ")
                }
            );
            eprintln!(
                "apidiag-lab: unprivileged user: {}",
                paths.kubeconfig_user.display()
            );
            println!("{}", daemon::export_line(&paths));
        }
        Cmd::Down => match daemon::down()? {
            Some(state) => eprintln!("apidiag-lab: stopped the lab at {}", state.server),
            None => eprintln!("apidiag-lab: no lab was running"),
        },
        Cmd::Status => match daemon::status().await? {
            Some(text) => print!("{text}"),
            None => {
                eprintln!("apidiag-lab: no lab is running (start one with `apidiag-lab up`)");
                return Ok(ExitCode::FAILURE);
            }
        },
        Cmd::Apply(args) => {
            let scenarios = args.scenarios();
            if scenarios.is_empty() {
                bail!("name at least one --scenario (or --all)");
            }
            daemon::apply_to_running(&scenarios, &args.up_options(true).size()).await?;
        }
        Cmd::Demo { args } => return demo(&paths, &args).await,
        Cmd::Serve(args) => daemon::serve(&args.up_options()).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds `kubectl-apidiag` (the suite: every check runs inside it) when the demo
/// runs from a source checkout, so `cargo run -p apidiag-lab -- demo` works on a
/// fresh clone and never shows a stale build. (cargo releases its build lock before
/// it runs the binary.) An installed `apidiag-lab` without the sources skips this
/// and uses what it finds.
fn build_plugins() -> anyhow::Result<()> {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if !workspace.join("plugins/kubectl-apidiag").is_dir() {
        return Ok(());
    }
    // Only the suite's package: building the whole workspace could rebuild this
    // very binary under our feet.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("apidiag-lab: building kubectl-apidiag");
    let status = match Command::new(&cargo)
        .args(["build", "--quiet", "-p", "kubectl-apidiag"])
        .current_dir(&workspace)
        .status()
    {
        Ok(status) => status,
        // No cargo here: an installed lab uses the plugins it finds.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).context("running cargo build"),
    };
    anyhow::ensure!(
        status.success(),
        "building kubectl-apidiag failed ({status}); see the errors above"
    );
    Ok(())
}

async fn demo(paths: &Paths, args: &[String]) -> anyhow::Result<ExitCode> {
    build_plugins()?;
    let plugin = daemon::find_plugin("kubectl-apidiag").context(
        "kubectl-apidiag was not found next to apidiag-lab or on PATH; build the workspace first with `cargo build`",
    )?;
    if daemon::down()?.is_some() {
        eprintln!("apidiag-lab: stopped the running lab to start a fresh one with every scenario");
    }
    let state = daemon::up(&UpOptions {
        scenarios: Scenario::ALL.to_vec(),
        scale: 1.0,
        benchmark: false,
        jobs_mode: JobsMode::Auto,
        controller_manager: true,
        nodes: None,
        pods: None,
    })
    .await?;
    eprintln!(
        "apidiag-lab: lab with every scenario at {}; running {}",
        state.server,
        plugin.display()
    );
    let status = Command::new(&plugin)
        .args(args)
        .env("KUBECONFIG", &paths.kubeconfig)
        .status()
        .with_context(|| format!("running {}", plugin.display()))?;
    eprintln!(
        "apidiag-lab: kubectl-apidiag exited with {status}; the lab keeps running ({}; stop it with `apidiag-lab down`)",
        daemon::export_line(paths)
    );
    // 1 and 2 mean kubectl-apidiag found warnings or critical problems: for the
    // demo, whose lab is full of them, that is the demo working.
    Ok(match status.code() {
        Some(0..=2) => ExitCode::SUCCESS,
        code => ExitCode::from(u8::try_from(code.unwrap_or(1)).unwrap_or(1)),
    })
}
