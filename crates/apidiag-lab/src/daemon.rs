//! `apidiag-lab up/down/status`: a lab that outlives the command that started it.
//!
//! `up` re-executes the binary as a hidden `serve` command in its own session
//! (immune to the terminal closing). `serve` owns the lab's processes, which die
//! with it; it writes `target/lab/state.json` (pids, URL, kubeconfigs) and the
//! kubeconfigs `target/lab/kubeconfig{,-user,-flooder}`, then waits for a signal.
//! `down` signals it, waits, and kills whatever is left by pid as a last resort.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::process::{self, Tether};
use crate::scenario::{self, JobsMode, Scenario, ScenarioContext, ScenarioSize};
use crate::{Lab, LabError, LabOptions, target};

/// What `serve` records about the running lab.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct State {
    /// The `serve` process.
    pub pid: u32,
    /// `https://127.0.0.1:PORT`.
    pub server: String,
    /// The lab directory (`target/lab/run`).
    pub dir: PathBuf,
    /// Admin kubeconfig (`target/lab/kubeconfig`).
    pub kubeconfig: PathBuf,
    /// `lab-user` kubeconfig (`target/lab/kubeconfig-user`).
    pub kubeconfig_user: PathBuf,
    /// `flooder` kubeconfig (`target/lab/kubeconfig-flooder`).
    pub kubeconfig_flooder: PathBuf,
    /// The audit log.
    pub audit_log: PathBuf,
    /// `(component, pid)` of the control-plane processes.
    pub processes: Vec<(String, u32)>,
    /// Whether kube-controller-manager runs.
    pub controller_manager: bool,
    /// Whether it runs the workload controllers (not in a lab for `aks-scale`).
    #[serde(default = "yes")]
    pub workload_controllers: bool,
    /// Scenarios applied so far.
    pub scenarios: Vec<String>,
    /// When the lab became ready (RFC 3339).
    pub started: String,
    /// Start-up time in seconds.
    pub startup_seconds: f64,
    /// False while `serve` is still applying scenarios.
    pub ready: bool,
}

fn yes() -> bool {
    true
}

/// Paths under `target/lab`.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `target/lab`.
    pub root: PathBuf,
    /// `target/lab/state.json`.
    pub state: PathBuf,
    /// `target/lab/serve.log`: the daemon's output.
    pub log: PathBuf,
    /// `target/lab/run`: the lab directory.
    pub run: PathBuf,
    /// `target/lab/kubeconfig`.
    pub kubeconfig: PathBuf,
    /// `target/lab/kubeconfig-user`.
    pub kubeconfig_user: PathBuf,
    /// `target/lab/kubeconfig-flooder`.
    pub kubeconfig_flooder: PathBuf,
}

impl Paths {
    /// The paths under [`target::lab_dir`].
    pub fn new() -> Paths {
        Paths::under(&target::lab_dir())
    }

    /// The paths under `root`.
    pub fn under(root: &Path) -> Paths {
        Paths {
            root: root.to_owned(),
            state: root.join("state.json"),
            log: root.join("serve.log"),
            run: root.join("run"),
            kubeconfig: root.join("kubeconfig"),
            kubeconfig_user: root.join("kubeconfig-user"),
            kubeconfig_flooder: root.join("kubeconfig-flooder"),
        }
    }

    /// The recorded state, if any.
    pub fn read_state(&self) -> Option<State> {
        let text = std::fs::read_to_string(&self.state).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn write_state(&self, state: &State) -> Result<(), LabError> {
        let tmp = self.state.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(state)
            .map_err(|e| LabError::io("serializing the state")(e.into()))?;
        std::fs::write(&tmp, text).map_err(LabError::io(format!("writing {}", tmp.display())))?;
        std::fs::rename(&tmp, &self.state)
            .map_err(LabError::io(format!("writing {}", self.state.display())))
    }

    /// The state of a lab whose `serve` process is alive.
    pub fn running(&self) -> Option<State> {
        self.read_state().filter(|s| process::alive(s.pid))
    }
}

impl Default for Paths {
    fn default() -> Self {
        Paths::new()
    }
}

/// How `up` should start the lab.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Scenarios to apply once the lab is ready.
    pub scenarios: Vec<Scenario>,
    /// Their size.
    pub scale: f64,
    /// Use [`ScenarioSize::benchmark`] instead of `scale`.
    pub benchmark: bool,
    /// How `completed-jobs` completes Jobs.
    pub jobs_mode: JobsMode,
    /// Run kube-controller-manager.
    pub controller_manager: bool,
    /// `aks-scale`'s Nodes and Pods, instead of its default 5,000 and 200,000.
    pub nodes: Option<usize>,
    pub pods: Option<usize>,
}

impl UpOptions {
    /// The scenario size these options ask for.
    pub fn size(&self) -> ScenarioSize {
        let mut size = if self.benchmark {
            ScenarioSize::benchmark()
        } else {
            ScenarioSize::scaled(self.scale)
        };
        if self.jobs_mode != JobsMode::Auto {
            size.jobs_mode = self.jobs_mode;
        }
        size.scale_nodes = self.nodes.unwrap_or(size.scale_nodes);
        size.scale_pods = self.pods.unwrap_or(size.scale_pods);
        size
    }

    /// A lab for `aks-scale` runs kube-controller-manager without its workload
    /// controllers ([`LabOptions::workload_controllers`]).
    pub fn workload_controllers(&self) -> bool {
        !self.scenarios.contains(&Scenario::AksScale)
    }

    fn serve_args(&self) -> Vec<String> {
        let mut args = vec!["serve".to_owned()];
        args.extend(self.scenarios.iter().map(|s| format!("--scenario={s}")));
        // The two conflict: `--benchmark` is a size of its own.
        if self.benchmark {
            args.push("--benchmark".into());
        } else {
            args.push(format!("--scale={}", self.scale));
        }
        if let Some(mode) = clap::ValueEnum::to_possible_value(&self.jobs_mode) {
            args.push(format!("--jobs-mode={}", mode.get_name()));
        }
        if !self.controller_manager {
            args.push("--no-controller-manager".into());
        }
        args.extend(self.nodes.map(|n| format!("--nodes={n}")));
        args.extend(self.pods.map(|n| format!("--pods={n}")));
        args
    }
}

/// The shell line that points kubectl at the lab.
pub fn export_line(paths: &Paths) -> String {
    format!("export KUBECONFIG={}", paths.kubeconfig.display())
}

/// Starts a background lab (or reuses the running one, applying any scenarios to
/// it) and returns its state.
pub async fn up(opts: &UpOptions) -> Result<State, LabError> {
    let paths = Paths::new();
    if let Some(state) = paths.running() {
        eprintln!(
            "apidiag-lab: a lab is already running at {} (pid {})",
            state.server, state.pid
        );
        if !opts.scenarios.is_empty() {
            apply_to_running(&opts.scenarios, &opts.size()).await?;
        }
        return Ok(paths.running().unwrap_or(state));
    }
    cleanup(&paths);
    std::fs::create_dir_all(&paths.root)
        .map_err(LabError::io(format!("creating {}", paths.root.display())))?;
    let log = std::fs::File::create(&paths.log)
        .map_err(LabError::io(format!("creating {}", paths.log.display())))?;
    let log_err = log
        .try_clone()
        .map_err(LabError::io("opening the serve log"))?;
    let exe =
        std::env::current_exe().map_err(LabError::io("locating the apidiag-lab executable"))?;
    let mut cmd = Command::new(&exe);
    cmd.args(opts.serve_args())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    process::tether(&mut cmd, Tether::Detach);
    let mut child = cmd.spawn().map_err(|source| LabError::Spawn {
        component: "apidiag-lab serve",
        program: exe.clone(),
        source,
    })?;

    eprintln!(
        "apidiag-lab: starting a lab in the background (log: {})",
        paths.log.display()
    );
    let started = Instant::now();
    let mut said_building = false;
    loop {
        if let Some(state) = paths
            .read_state()
            .filter(|s| s.ready && s.pid == child.id())
        {
            return Ok(state);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(LabError::ProcessExited {
                component: "apidiag-lab serve",
                status: status.to_string(),
                log: paths.log.clone(),
                tail: process::log_tail(&paths.log, 30),
            });
        }
        if !said_building
            && std::fs::read_to_string(&paths.log)
                .is_ok_and(|l| l.contains("apidiag-lab: building"))
        {
            eprintln!(
                "apidiag-lab: building the control plane from source first; this takes several minutes once"
            );
            said_building = true;
        }
        if started.elapsed() > Duration::from_secs(45 * 60) {
            return Err(LabError::Timeout {
                what: "apidiag-lab serve".into(),
                after: started.elapsed(),
                logs: paths.log.clone(),
                detail: String::new(),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Applies scenarios to the lab `up` started, from this process.
pub async fn apply_to_running(
    scenarios: &[Scenario],
    size: &ScenarioSize,
) -> Result<Vec<scenario::ScenarioReport>, LabError> {
    let paths = Paths::new();
    let mut state = paths
        .running()
        .ok_or_else(|| LabError::NotRunning(paths.state.clone()))?;
    let ctx = ScenarioContext::new(
        &state.kubeconfig,
        &state.kubeconfig_flooder,
        state.controller_manager,
        state.workload_controllers,
    )
    .await?;
    let mut reports = Vec::new();
    for s in Scenario::in_safe_order(scenarios) {
        let report = scenario::apply(&ctx, s, size).await?;
        println!("{report}");
        reports.push(report);
        if !state.scenarios.contains(&s.name().to_owned()) {
            state.scenarios.push(s.name().to_owned());
        }
    }
    paths.write_state(&state)?;
    Ok(reports)
}

/// The hidden `serve` command: runs the lab in the foreground until SIGTERM,
/// SIGINT or SIGHUP.
pub async fn serve(opts: &UpOptions) -> Result<(), LabError> {
    let paths = Paths::new();
    let mut lab = Lab::start(LabOptions {
        controller_manager: opts.controller_manager,
        workload_controllers: opts.workload_controllers(),
        dir: Some(paths.run.clone()),
        ..LabOptions::default()
    })
    .await?;
    for (from, to) in [
        (lab.admin_kubeconfig(), &paths.kubeconfig),
        (lab.user_kubeconfig(), &paths.kubeconfig_user),
        (lab.flooder_kubeconfig(), &paths.kubeconfig_flooder),
    ] {
        std::fs::copy(from, to).map_err(LabError::io(format!(
            "copying {} to {}",
            from.display(),
            to.display()
        )))?;
    }
    let mut state = State {
        pid: std::process::id(),
        server: lab.server().to_owned(),
        dir: lab.dir().to_owned(),
        kubeconfig: paths.kubeconfig.clone(),
        kubeconfig_user: paths.kubeconfig_user.clone(),
        kubeconfig_flooder: paths.kubeconfig_flooder.clone(),
        audit_log: lab.audit_log().to_owned(),
        processes: lab
            .pids()
            .into_iter()
            .map(|(c, p)| (c.to_owned(), p))
            .collect(),
        controller_manager: lab.has_controller_manager(),
        workload_controllers: lab.has_workload_controllers(),
        scenarios: Vec::new(),
        started: scenario::util::rfc3339(jiff::Timestamp::now()),
        startup_seconds: lab.startup().total.as_secs_f64(),
        ready: false,
    };
    // Recorded before scenarios run, so `down` can stop a lab stuck in one.
    paths.write_state(&state)?;
    let result = async {
        let size = opts.size();
        for s in Scenario::in_safe_order(&opts.scenarios) {
            let report = lab.apply(s, size.clone()).await?;
            println!("{report}");
            state.scenarios.push(s.name().to_owned());
        }
        if opts.scenarios.contains(&Scenario::AksScale) {
            // Its metrics since start would describe the lab's bulk load (tens of
            // writes in flight for minutes), which no cluster at rest shows; checks
            // that read them since start should see the cluster, not its making.
            lab.restart_apiserver().await?;
            state.processes = lab
                .pids()
                .into_iter()
                .map(|(c, p)| (c.to_owned(), p))
                .collect();
            println!("apidiag-lab: restarted kube-apiserver, so its metrics start with the cluster in place");
        }
        state.ready = true;
        paths.write_state(&state)?;
        println!("apidiag-lab: ready; {}", export_line(&paths));
        wait_for_signal().await
    }
    .await;
    println!("apidiag-lab: stopping");
    drop(lab);
    let _ = std::fs::remove_file(&paths.state);
    result
}

async fn wait_for_signal() -> Result<(), LabError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term =
        signal(SignalKind::terminate()).map_err(LabError::io("installing a SIGTERM handler"))?;
    let mut int =
        signal(SignalKind::interrupt()).map_err(LabError::io("installing a SIGINT handler"))?;
    let mut hup =
        signal(SignalKind::hangup()).map_err(LabError::io("installing a SIGHUP handler"))?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = hup.recv() => {}
    }
    Ok(())
}

/// Stops the lab `up` started: SIGTERM to `serve`, then SIGKILL to anything left.
/// Returns the state of the lab it stopped, if there was one.
pub fn down() -> Result<Option<State>, LabError> {
    let paths = Paths::new();
    let state = paths.read_state();
    if let Some(state) = &state
        && process::alive(state.pid)
    {
        process::signal(state.pid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(15);
        while process::alive(state.pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if process::alive(state.pid) {
            process::signal(state.pid, rustix::process::Signal::KILL);
        }
    }
    cleanup(&paths);
    Ok(state)
}

/// Kills processes a previous lab may have left (their pids are only trusted while
/// they still run the lab's binaries) and removes its files, keeping the log.
fn cleanup(paths: &Paths) {
    if let Some(state) = paths.read_state() {
        for (_, pid) in &state.processes {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            if exe.starts_with(crate::binaries::cache_root()) || exe.starts_with(&state.dir) {
                process::kill_group(*pid);
            }
        }
    }
    for file in [
        &paths.state,
        &paths.kubeconfig,
        &paths.kubeconfig_user,
        &paths.kubeconfig_flooder,
    ] {
        let _ = std::fs::remove_file(file);
    }
    let _ = std::fs::remove_dir_all(&paths.run);
}

/// A human summary of the running lab (for `status`), or None if none runs.
pub async fn status() -> Result<Option<String>, LabError> {
    let paths = Paths::new();
    let Some(state) = paths.running() else {
        return Ok(None);
    };
    let mut out = format!(
        "lab running at {} (serve pid {}, up since {}, started in {:.1}s)\n",
        state.server, state.pid, state.started, state.startup_seconds
    );
    let mut total = 0;
    for (component, pid) in &state.processes {
        let rss = process::rss_bytes(*pid).unwrap_or(0);
        total += rss;
        let alive = if process::alive(*pid) {
            "running"
        } else {
            "GONE"
        };
        out += &format!(
            "  {component:<24} pid {pid:<8} {alive:<8} RSS {:>6.0} MiB\n",
            mib(rss)
        );
    }
    out += &format!("  total RSS {:.0} MiB\n", mib(total));
    let readyz = match crate::kubeconfig::client(&state.kubeconfig, Default::default()).await {
        Ok(client) => {
            let request = http::Request::get("/readyz")
                .body(Vec::new())
                .map_err(|e| LabError::io("building a request")(std::io::Error::other(e)))?;
            match client.request_text(request).await {
                Ok(body) => body.trim().to_owned(),
                Err(e) => e.to_string(),
            }
        }
        Err(e) => e.to_string(),
    };
    out += &format!("  /readyz: {readyz}\n");
    out += &format!(
        "  scenarios: {}\n",
        if state.scenarios.is_empty() {
            "none".to_owned()
        } else {
            state.scenarios.join(", ")
        }
    );
    out += &format!(
        "  audit log: {}\n  {}\n",
        state.audit_log.display(),
        export_line(&paths)
    );
    Ok(Some(out))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Where `demo` finds `kubectl-apidiag`: next to this executable (the same cargo
/// target directory), else on PATH.
pub fn find_plugin(name: &str) -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()?
        .parent()
        .map(|d| d.join(name))
        .filter(|p| p.is_file());
    beside.or_else(|| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    })
}
