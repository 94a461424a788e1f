//! One running control plane: start it, hand out its files and clients, stop it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Service, ServiceAccount};
use tempfile::TempDir;

use crate::components::{self, Layout};
use crate::kubeconfig::{self, ClientOptions};
use crate::pki::{self, Pki};
use crate::ports::{self, Reserved};
use crate::process::{ChildProcess, ProcessSpec, Spawner};
use crate::scenario::{self, Scenario, ScenarioContext, ScenarioReport, ScenarioSize};
use crate::{LabError, binaries, bootstrap};

mod faults;

/// How to start a lab.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// Run kube-controller-manager (default: yes). Without it no Job completes, no
    /// `default` ServiceAccount appears in new namespaces (the lab's scenarios create
    /// their own), and nothing is garbage-collected; the API server starts a second
    /// sooner.
    pub controller_manager: bool,
    /// Run kube-controller-manager's Deployment, ReplicaSet and DaemonSet
    /// controllers (default: yes). A lab for `aks-scale` runs without them: they
    /// would create Pods of their own for the objects the scenario writes, and
    /// with no scheduler nothing would bind them. (The node lifecycle controller
    /// never runs: no kubelet renews a Node's Lease here.)
    pub workload_controllers: bool,
    /// Run in this directory (emptied first, kept afterwards) instead of a temporary
    /// one that is deleted on drop. `apidiag-lab up` uses `target/lab/run`.
    pub dir: Option<PathBuf>,
    /// How long the processes may take to become ready before [`LabError::Timeout`]
    /// (default 90 s, which is generous for a loaded CI machine; a warm start takes a
    /// few seconds). Counted from when they are spawned, so building the binaries on
    /// a cold cache (minutes) does not count; a start-up retried after a port race
    /// gets the whole budget again for its new processes.
    pub ready_timeout: Duration,
    /// Extra kube-apiserver flags, appended (a repeated flag's last value wins).
    pub extra_apiserver_args: Vec<String>,
    /// Print start-up progress and timing to stderr (default: yes).
    pub verbose: bool,
    /// The Kubernetes minor to run, as `1.31` (default: `APIDIAG_LAB_K8S`, else
    /// the newest pinned). Each minor is pinned once, in `go/` ([`binaries`]).
    pub k8s: Option<String>,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            controller_manager: true,
            workload_controllers: true,
            dir: None,
            ready_timeout: Duration::from_secs(90),
            extra_apiserver_args: Vec::new(),
            verbose: true,
            k8s: std::env::var("APIDIAG_LAB_K8S")
                .ok()
                .filter(|v| !v.trim().is_empty()),
        }
    }
}

/// Where a lab's start-up time went, measured from [`Lab::start`] (so a cold build
/// shows here, although it does not count against [`LabOptions::ready_timeout`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StartupTiming {
    /// Checking (or, on a cold cache, building) the binaries.
    pub binaries: Duration,
    /// Until etcd and kube-apiserver had been spawned (certificates, kubeconfigs).
    pub spawned: Duration,
    /// Until kube-apiserver's `/readyz` returned ok and it had created the
    /// `default/kubernetes` Service.
    pub apiserver_ready: Duration,
    /// Until the lab was usable: RBAC bootstrap done and, with
    /// kube-controller-manager, the `default` ServiceAccount in `default` created.
    pub total: Duration,
}

impl std::fmt::Display for StartupTiming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ready in {:.1}s (binaries {:.1}s, spawned {:.1}s, apiserver ready {:.1}s)",
            self.total.as_secs_f64(),
            self.binaries.as_secs_f64(),
            self.spawned.as_secs_f64(),
            self.apiserver_ready.as_secs_f64()
        )
    }
}

/// Start-up time on two clocks.
///
/// [`StartupTiming`] counts from [`Lab::start`], the build included: that is what
/// someone waiting for a lab lives through. The readiness budget must not: a cold
/// build takes about nine minutes, and counting it made the first start on a fresh
/// machine time out ("/readyz was not ready after 90s") right after a successful
/// build. So each start-up attempt gets its own [`ReadyDeadline`], begun when its
/// processes are about to be spawned. Instants are passed in rather than read here,
/// so the tests can play a nine-minute build without waiting for one.
#[derive(Debug, Clone, Copy)]
struct StartupClock {
    /// When [`Lab::start`] was called.
    began: Instant,
}

impl StartupClock {
    fn began_at(began: Instant) -> StartupClock {
        StartupClock { began }
    }

    /// Time since [`Lab::start`] at `now`, for [`StartupTiming`].
    fn since_start(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.began)
    }

    /// The readiness budget of an attempt whose processes are spawned at `spawning`.
    /// Not counted from `began`: that would charge the build to the processes.
    fn ready_deadline(&self, spawning: Instant, timeout: Duration) -> ReadyDeadline {
        ReadyDeadline {
            from: spawning,
            timeout,
        }
    }
}

/// How long one start-up attempt's processes have to become ready.
#[derive(Debug, Clone, Copy)]
struct ReadyDeadline {
    from: Instant,
    timeout: Duration,
}

impl ReadyDeadline {
    fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.from) >= self.timeout
    }
}

#[derive(Debug)]
enum LabDir {
    Temp(TempDir),
    Kept(PathBuf),
}

impl LabDir {
    fn path(&self) -> &Path {
        match self {
            LabDir::Temp(t) => t.path(),
            LabDir::Kept(p) => p,
        }
    }
}

/// A running etcd + kube-apiserver (+ kube-controller-manager) on 127.0.0.1.
///
/// Dropping it kills every process it started; so does the death of the process
/// that owns it, however that happens.
#[derive(Debug)]
pub struct Lab {
    layout: Layout,
    server: String,
    controller_manager: bool,
    workload_controllers: bool,
    timing: StartupTiming,
    /// Started in order etcd, kube-apiserver, kube-controller-manager; killed in reverse.
    processes: Vec<ChildProcess>,
    /// How kube-apiserver was started, to start it again on the same etcd
    /// ([`Lab::restart_apiserver`]).
    apiserver: Option<(PathBuf, Vec<String>)>,
    /// Dropped after the processes: its thread's exit would kill them anyway.
    spawner: Option<Spawner>,
    /// Dropped last, once nothing writes into it any more.
    dir: Option<LabDir>,
}

/// The prefix of temporary lab directories, also used to sweep stale ones.
const TEMP_PREFIX: &str = "apidiag-lab-";
/// Records which process owns a lab directory.
const OWNER_FILE: &str = "owner.pid";

impl Lab {
    /// Starts a lab: builds the binaries if needed, generates certificates, starts
    /// the processes and waits until the API server is ready and bootstrapped.
    ///
    /// [`LabOptions::ready_timeout`] starts once the binaries are there; the
    /// [`StartupTiming`] counts from this call.
    pub async fn start(opts: LabOptions) -> Result<Lab, LabError> {
        Lab::start_with(opts, StartupClock::began_at(Instant::now())).await
    }

    /// [`Lab::start`] on a given clock (tests start it in the past to play a slow build).
    async fn start_with(opts: LabOptions, clock: StartupClock) -> Result<Lab, LabError> {
        let k8s = opts.k8s.clone();
        let bins = tokio::task::spawn_blocking(move || binaries::ensure(k8s.as_deref()))
            .await
            .map_err(|e| LabError::io("building the binaries")(std::io::Error::other(e)))??;
        let built = clock.since_start(Instant::now());
        let mut attempt = 1;
        loop {
            match Lab::start_once(&opts, &bins, clock, built).await {
                // Another process took a port between our choosing and binding it.
                Err(e) if e.is_port_race() && attempt < 4 => {
                    if opts.verbose {
                        eprintln!("apidiag-lab: a port was taken during start-up, retrying");
                    }
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn start_once(
        opts: &LabOptions,
        bins: &binaries::Binaries,
        clock: StartupClock,
        built: Duration,
    ) -> Result<Lab, LabError> {
        let dir = prepare_dir(opts.dir.as_deref())?;
        let layout = Layout::new(dir.path());
        for d in [&layout.logs, &layout.etcd_data] {
            std::fs::create_dir_all(d)
                .map_err(LabError::io(format!("creating {}", d.display())))?;
        }
        if let Some(parent) = layout.audit_policy.parent() {
            std::fs::create_dir_all(parent)
                .map_err(LabError::io(format!("creating {}", parent.display())))?;
        }
        pki::write_file(&layout.audit_policy, components::AUDIT_POLICY, false)?;

        let pki = Pki::generate()?;
        let files = pki.write(&layout.pki())?;
        let [api_port, etcd_client, etcd_peer]: [Reserved; 3] =
            ports::reserve(3)?.try_into().map_err(|_| LabError::Io {
                context: "reserving ports".into(),
                source: std::io::Error::other("wrong number of ports"),
            })?;
        let server = format!("https://127.0.0.1:{}", api_port.port());
        write_kubeconfigs(&layout, &server, &pki)?;

        let mut lab = Lab {
            layout,
            server,
            controller_manager: opts.controller_manager,
            workload_controllers: opts.controller_manager && opts.workload_controllers,
            timing: StartupTiming {
                binaries: built,
                ..StartupTiming::default()
            },
            processes: Vec::new(),
            apiserver: None,
            spawner: Some(Spawner::new()?),
            dir: Some(dir),
        };
        // From here on an error drops `lab`, which kills whatever was started.
        // The budget starts now, not at `Lab::start`, and afresh on every attempt:
        // the build is behind us, and a retry's processes are new.
        let deadline = clock.ready_deadline(Instant::now(), opts.ready_timeout);
        let (client_port, peer_port) = (etcd_client.release(), etcd_peer.release());
        let etcd = lab.spawn(
            "etcd",
            &bins.etcd,
            components::etcd_args(&lab.layout, client_port, peer_port),
        )?;
        lab.processes.push(etcd);
        let mut api_args =
            components::apiserver_args(&lab.layout, &files, api_port.release(), client_port);
        api_args.extend(opts.extra_apiserver_args.iter().cloned());
        lab.apiserver = Some((bins.kube_apiserver.clone(), api_args.clone()));
        let apiserver = lab.spawn("kube-apiserver", &bins.kube_apiserver, api_args)?;
        lab.processes.push(apiserver);
        lab.timing.spawned = clock.since_start(Instant::now());

        let kcm = (
            bins.kube_controller_manager.clone(),
            components::controller_manager_args(&lab.layout, &files, lab.workload_controllers),
        );
        lab.wait_ready(opts, clock, deadline, kcm).await?;
        lab.timing.total = clock.since_start(Instant::now());
        if opts.verbose {
            eprintln!(
                "apidiag-lab: {} at {} — {}",
                lab.k8s_version(),
                lab.server,
                lab.timing
            );
        }
        Ok(lab)
    }

    fn spawn(
        &self,
        component: &'static str,
        program: &Path,
        args: Vec<String>,
    ) -> Result<ChildProcess, LabError> {
        let spawner = self.spawner.as_ref().ok_or_else(|| LabError::Io {
            context: "starting a process".into(),
            source: std::io::Error::other("the lab is stopping"),
        })?;
        spawner.spawn(ProcessSpec {
            component,
            program: program.to_owned(),
            args,
            log: self.layout.log(component),
        })
    }

    /// Polls `/readyz`, waits for the `default/kubernetes` Service, bootstraps
    /// RBAC, starts kube-controller-manager and waits for it to create the
    /// `default` ServiceAccount.
    ///
    /// kube-controller-manager starts only once its permissions exist: started
    /// earlier, its controllers spend their first seconds in forbidden-and-retry
    /// loops, which costs more than the second it would gain.
    async fn wait_ready(
        &mut self,
        opts: &LabOptions,
        clock: StartupClock,
        deadline: ReadyDeadline,
        (kcm_program, kcm_args): (PathBuf, Vec<String>),
    ) -> Result<(), LabError> {
        let client = kubeconfig::client(
            &self.layout.admin_kubeconfig,
            ClientOptions {
                user_agent: Some("apidiag-lab/start"),
                no_retry: true,
            },
        )
        .await?;
        let mut last: String;
        loop {
            self.check_processes()?;
            let request = http::Request::get("/readyz")
                .body(Vec::new())
                .map_err(http_error)?;
            match client.request_text(request).await {
                Ok(body) if body.trim() == "ok" => break,
                Ok(body) => last = body,
                Err(kube::Error::Api(status)) => last = status.message.clone(),
                Err(e) => last = e.to_string(),
            }
            self.check_deadline(deadline, "kube-apiserver /readyz", &last)?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The controller that creates the `kubernetes` Service waits for
        // `/readyz` itself and then retries every 10 s: on a loaded machine the
        // Service comes seconds after ready, and a check run in them rightly
        // calls it missing.
        let services = kube::Api::<Service>::namespaced(client.clone(), "default");
        self.wait_exists(
            &services,
            "kubernetes",
            "the default/kubernetes Service (kube-apiserver)",
            deadline,
        )
        .await?;
        self.timing.apiserver_ready = clock.since_start(Instant::now());
        bootstrap::user(&client).await?;
        if !opts.controller_manager {
            return Ok(());
        }
        bootstrap::controller_manager(&client).await?;
        let process = self.spawn("kube-controller-manager", &kcm_program, kcm_args)?;
        self.processes.push(process);

        let accounts = kube::Api::<ServiceAccount>::namespaced(client.clone(), "default");
        self.wait_exists(
            &accounts,
            "default",
            "the default ServiceAccount (kube-controller-manager)",
            deadline,
        )
        .await
    }

    /// Polls until `name` exists, while the processes run and the deadline holds.
    async fn wait_exists<K>(
        &mut self,
        api: &kube::Api<K>,
        name: &str,
        what: &str,
        deadline: ReadyDeadline,
    ) -> Result<(), LabError>
    where
        K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
    {
        loop {
            self.check_processes()?;
            let last = match api.get_opt(name).await {
                Ok(Some(_)) => return Ok(()),
                Ok(None) => "not created yet".to_string(),
                Err(e) => e.to_string(),
            };
            self.check_deadline(deadline, what, &last)?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn check_processes(&mut self) -> Result<(), LabError> {
        for process in &mut self.processes {
            if let Some(status) = process.exit_status() {
                return Err(process.exited_error(status));
            }
        }
        Ok(())
    }

    fn check_deadline(
        &self,
        deadline: ReadyDeadline,
        what: &str,
        last: &str,
    ) -> Result<(), LabError> {
        if !deadline.expired(Instant::now()) {
            return Ok(());
        }
        Err(LabError::Timeout {
            what: what.into(),
            after: deadline.timeout,
            logs: self.layout.logs.clone(),
            detail: if last.is_empty() {
                String::new()
            } else {
                format!("; last answer: {}", last.trim())
            },
        })
    }

    /// The API server's URL, `https://127.0.0.1:PORT`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The lab's directory (certificates, kubeconfigs, logs, audit log, etcd data).
    pub fn dir(&self) -> &Path {
        &self.layout.dir
    }

    /// The directory with `etcd.log`, `kube-apiserver.log` and
    /// `kube-controller-manager.log`.
    pub fn logs_dir(&self) -> &Path {
        &self.layout.logs
    }

    /// The Kubernetes release this lab runs, e.g. `v1.31.14`: its binaries' cache
    /// directory is named by it.
    pub fn k8s_version(&self) -> String {
        self.apiserver
            .as_ref()
            .and_then(|(binary, _)| binary.parent()?.file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "unknown".into())
    }

    /// Kubeconfig of the cluster admin (`lab-admin`, group `system:masters`).
    pub fn admin_kubeconfig(&self) -> &Path {
        &self.layout.admin_kubeconfig
    }

    /// Kubeconfig of `lab-user`: may get/list/create pods and ConfigMaps in
    /// namespace `team-a` (its default namespace) and nothing else.
    pub fn user_kubeconfig(&self) -> &Path {
        &self.layout.user_kubeconfig
    }

    /// Kubeconfig of `flooder` (group `lab:flooders`), the `flood` scenario's client.
    pub fn flooder_kubeconfig(&self) -> &Path {
        &self.layout.flooder_kubeconfig
    }

    /// The API server's audit log: one JSON event per line, every request at
    /// Metadata level, written before the response is sent.
    pub fn audit_log(&self) -> &Path {
        &self.layout.audit_log
    }

    /// Whether kube-controller-manager runs in this lab.
    pub fn has_controller_manager(&self) -> bool {
        self.controller_manager
    }

    /// Whether kube-controller-manager runs its workload controllers
    /// ([`LabOptions::workload_controllers`]).
    pub fn has_workload_controllers(&self) -> bool {
        self.workload_controllers
    }

    /// Where start-up time went.
    pub fn startup(&self) -> StartupTiming {
        self.timing
    }

    /// The component name and pid of every process the lab started.
    pub fn pids(&self) -> Vec<(&'static str, u32)> {
        self.processes
            .iter()
            .map(|p| (p.component, p.pid()))
            .collect()
    }

    /// Resident memory (VmRSS) of every process the lab started, by component.
    pub fn rss_bytes(&self) -> Vec<(&'static str, u64)> {
        self.processes
            .iter()
            .map(|p| (p.component, crate::process::rss_bytes(p.pid()).unwrap_or(0)))
            .collect()
    }

    /// A new admin client (its own connection pool, so any tokio runtime may use it).
    pub async fn admin_client(&self) -> Result<kube::Client, LabError> {
        kubeconfig::client(self.admin_kubeconfig(), ClientOptions::default()).await
    }

    /// A new `lab-user` client.
    pub async fn user_client(&self) -> Result<kube::Client, LabError> {
        kubeconfig::client(self.user_kubeconfig(), ClientOptions::default()).await
    }

    /// GETs a path (e.g. `/metrics`, `/version`) as admin and returns the body.
    pub async fn get_text(&self, path: &str) -> Result<String, LabError> {
        let request = http::Request::get(path)
            .body(Vec::new())
            .map_err(http_error)?;
        self.admin_client()
            .await?
            .request_text(request)
            .await
            .map_err(LabError::kube(format!("GET {path}")))
    }

    /// Applies a scenario through the API as the admin.
    pub async fn apply(
        &self,
        scenario: Scenario,
        size: ScenarioSize,
    ) -> Result<ScenarioReport, LabError> {
        let ctx = ScenarioContext::new(
            self.admin_kubeconfig(),
            self.flooder_kubeconfig(),
            self.controller_manager,
            self.workload_controllers,
        )
        .await?;
        scenario::apply(&ctx, scenario, &size).await
    }

    /// Kills every process now (also what `Drop` does).
    pub fn stop(&mut self) {
        while let Some(mut process) = self.processes.pop() {
            process.kill();
        }
        self.spawner.take();
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop();
        self.dir.take();
    }
}

fn http_error(e: http::Error) -> LabError {
    LabError::io("building a request")(std::io::Error::other(e))
}

fn write_kubeconfigs(layout: &Layout, server: &str, pki: &Pki) -> Result<(), LabError> {
    let ca = &pki.ca.pair.cert_pem;
    let files = [
        (&layout.admin_kubeconfig, pki::ADMIN, &pki.admin, None),
        (
            &layout.user_kubeconfig,
            pki::USER,
            &pki.user,
            Some(bootstrap::USER_NAMESPACE),
        ),
        (&layout.flooder_kubeconfig, pki::FLOODER, &pki.flooder, None),
        (
            &layout.controller_manager_kubeconfig,
            pki::CONTROLLER_MANAGER,
            &pki.controller_manager,
            None,
        ),
    ];
    for (path, identity, creds, namespace) in files {
        kubeconfig::write(
            path,
            &kubeconfig::render(server, ca, identity.user, creds, namespace),
        )?;
    }
    Ok(())
}

/// Creates the lab directory and records this process as its owner.
fn prepare_dir(dir: Option<&Path>) -> Result<LabDir, LabError> {
    let dir = match dir {
        Some(path) => {
            if path.exists() {
                std::fs::remove_dir_all(path)
                    .map_err(LabError::io(format!("emptying {}", path.display())))?;
            }
            std::fs::create_dir_all(path)
                .map_err(LabError::io(format!("creating {}", path.display())))?;
            LabDir::Kept(path.to_owned())
        }
        None => {
            sweep_stale_temp_dirs();
            LabDir::Temp(
                tempfile::Builder::new()
                    .prefix(TEMP_PREFIX)
                    .tempdir()
                    .map_err(LabError::io("creating a temporary lab directory"))?,
            )
        }
    };
    let owner = dir.path().join(OWNER_FILE);
    pki::write_file(&owner, &std::process::id().to_string(), false)?;
    Ok(dir)
}

/// Removes temporary lab directories whose owner process is gone. The shared lab
/// of a test binary is a static and never dropped, so its directory outlives the
/// process (its children do not: they die with it); the next lab cleans up.
fn sweep_stale_temp_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let path = entry.path();
        let owner = std::fs::read_to_string(path.join(OWNER_FILE))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        // No owner file yet: a lab being created right now, or junk; leave it.
        if let Some(pid) = owner
            && pid != std::process::id()
            && !crate::process::alive(pid)
        {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// The lab shared by all tests of one test binary, started on first use.
///
/// It is started from a dedicated thread with its own runtime, so it does not
/// depend on any one test's runtime, and it is never dropped: its processes die
/// with the test binary (`PR_SET_PDEATHSIG`). Tests that change cluster-wide state
/// (webhooks, APF, APIServices) should use [`Lab::start`] instead.
///
/// # Panics
/// If the lab cannot start; every test using it then fails with the reason.
pub fn shared() -> &'static Lab {
    static SHARED: OnceLock<Result<Lab, String>> = OnceLock::new();
    let result = SHARED.get_or_init(|| {
        let started = std::thread::Builder::new()
            .name("apidiag-lab-shared".into())
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot build a tokio runtime: {e}"))?;
                runtime
                    .block_on(Lab::start(LabOptions::default()))
                    .map_err(|e| e.to_string())
            })
            .map_err(|e| format!("cannot start a thread: {e}"))
            .and_then(|t| {
                t.join()
                    .map_err(|_| "the start-up thread panicked".to_string())
            });
        started.and_then(|r| r)
    });
    match result {
        Ok(lab) => lab,
        Err(message) => panic!("{}", LabError::Shared(message.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Duration = Duration::from_secs(90);
    /// A cold `binaries::ensure` (`go/build.sh` with an empty Go cache).
    const COLD_BUILD: Duration = Duration::from_secs(9 * 60);

    #[test]
    fn a_long_build_does_not_eat_into_the_readiness_budget() {
        let began = Instant::now();
        let clock = StartupClock::began_at(began);
        let spawning = began + COLD_BUILD;
        let deadline = clock.ready_deadline(spawning, BUDGET);
        // A warm start takes seconds once the processes are spawned.
        assert!(!deadline.expired(spawning + Duration::from_secs(5)));
        assert!(!deadline.expired(spawning + BUDGET - Duration::from_millis(1)));
        assert!(deadline.expired(spawning + BUDGET));
        // StartupTiming still counts from Lab::start, the build included.
        assert_eq!(
            clock.since_start(spawning + Duration::from_secs(3)),
            COLD_BUILD + Duration::from_secs(3)
        );
    }

    #[test]
    fn a_retried_attempt_gets_the_whole_budget_again() {
        let began = Instant::now();
        let clock = StartupClock::began_at(began);
        let first = clock.ready_deadline(began + COLD_BUILD, BUDGET);
        // The first attempt lost a port race late in its budget.
        let retry_at = began + COLD_BUILD + Duration::from_secs(80);
        assert!(!first.expired(retry_at));
        let second = clock.ready_deadline(retry_at, BUDGET);
        assert!(first.expired(retry_at + Duration::from_secs(30)));
        assert!(!second.expired(retry_at + Duration::from_secs(30)));
    }

    /// The whole of `Lab::start` with a build that took longer than the readiness
    /// budget (the clock began before it): the lab must still come up, and its
    /// timing must show the build.
    #[tokio::test]
    async fn a_start_after_a_slow_build_is_not_timed_out() {
        let opts = LabOptions {
            controller_manager: false,
            ..LabOptions::default()
        };
        let slow_build = opts.ready_timeout + Duration::from_secs(60);
        let began = Instant::now()
            .checked_sub(slow_build)
            .expect("an instant ten minutes ago");
        let lab = Lab::start_with(opts, StartupClock::began_at(began))
            .await
            .expect("the build must not count against ready_timeout");
        let timing = lab.startup();
        assert!(timing.binaries >= slow_build, "{timing}");
        assert!(timing.total >= timing.apiserver_ready, "{timing}");
        assert!(timing.apiserver_ready >= timing.spawned, "{timing}");
    }
}
