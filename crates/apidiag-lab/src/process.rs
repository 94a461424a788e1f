//! Starting and stopping control-plane processes without ever leaking one.
//!
//! Three mechanisms cover every way a lab can end:
//! - `Drop` kills each child's process group (a normal end, or a panicking test
//!   that unwinds);
//! - each child gets `PR_SET_PDEATHSIG=SIGKILL`, so the kernel kills it when its
//!   parent dies without unwinding (a test binary that exits with labs still alive,
//!   a `SIGKILL`, an abort);
//! - each child leads its own process group, so a kill reaches anything it forks.
//!
//! The death signal fires when the *thread* that forked the child exits, not the
//! process. Labs are started from short-lived threads and runtimes (a
//! `#[tokio::test]`'s runtime, the shared lab's start-up thread), so children are
//! forked by a dedicated [`Spawner`] thread that lives exactly as long as its lab.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rustix::process::{Pid, Signal};

use crate::LabError;

/// What a child is started with.
#[derive(Debug)]
pub(crate) struct ProcessSpec {
    /// etcd, kube-apiserver or kube-controller-manager.
    pub component: &'static str,
    pub program: PathBuf,
    pub args: Vec<String>,
    /// stdout and stderr both go here.
    pub log: PathBuf,
}

/// A running child, killed with its process group on drop.
#[derive(Debug)]
pub(crate) struct ChildProcess {
    pub component: &'static str,
    pub log: PathBuf,
    child: Child,
}

impl ChildProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// If the child has exited, how.
    pub fn exit_status(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("unknown ({e})")),
        }
    }

    /// The error to report when the child died during start-up.
    pub fn exited_error(&self, status: String) -> LabError {
        LabError::ProcessExited {
            component: self.component,
            status,
            log: self.log.clone(),
            tail: log_tail(&self.log, 25),
        }
    }

    /// Kills the process group and reaps the child.
    pub fn kill(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// SIGKILLs the process group led by `pid` (the children are group leaders).
pub(crate) fn kill_group(pid: u32) {
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = rustix::process::kill_process_group(pid, Signal::KILL);
    }
}

/// Sends `signal` to one process; false if it does not exist (any more).
pub(crate) fn signal(pid: u32, signal: Signal) -> bool {
    i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .is_some_and(|pid| rustix::process::kill_process(pid, signal).is_ok())
}

/// Whether a process with this pid is running. A zombie (dead, not yet reaped by
/// its parent) counts as gone: it holds no ports and no memory.
pub(crate) fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name, which may contain spaces.
    let state = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next());
    !matches!(state, Some('Z' | 'X') | None)
}

/// Resident memory of a process (VmRSS), if it exists.
pub(crate) fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

type Job = Box<dyn FnOnce() + Send>;

/// A thread that forks the lab's children and lives as long as the lab, so that
/// `PR_SET_PDEATHSIG` fires when the lab's process dies and not before.
#[derive(Debug)]
pub(crate) struct Spawner {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Spawner {
    pub fn new() -> Result<Spawner, LabError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("apidiag-lab-spawner".into())
            .spawn(move || {
                // Ends when the lab drops the sender, after it has killed its children.
                while let Ok(job) = rx.recv() {
                    job();
                }
            })
            .map_err(LabError::io("starting the lab's spawner thread"))?;
        Ok(Spawner {
            jobs: Some(tx),
            thread: Some(thread),
        })
    }

    /// Starts `spec` from the spawner thread.
    pub fn spawn(&self, spec: ProcessSpec) -> Result<ChildProcess, LabError> {
        let (reply_tx, reply_rx) = mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = reply_tx.send(spawn_tethered(spec));
        });
        let gone = || LabError::Io {
            context: "the lab's spawner thread is gone".into(),
            source: std::io::Error::other("spawner thread exited"),
        };
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(job)
            .map_err(|_| gone())?;
        reply_rx.recv().map_err(|_| gone())?
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn spawn_tethered(spec: ProcessSpec) -> Result<ChildProcess, LabError> {
    let log = File::create(&spec.log)
        .map_err(LabError::io(format!("creating {}", spec.log.display())))?;
    let log_err = log
        .try_clone()
        .map_err(LabError::io(format!("opening {}", spec.log.display())))?;
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0);
    tether(&mut cmd, Tether::DieWithParent);
    let child = cmd.spawn().map_err(|source| LabError::Spawn {
        component: spec.component,
        program: spec.program.clone(),
        source,
    })?;
    Ok(ChildProcess {
        component: spec.component,
        log: spec.log,
        child,
    })
}

/// How a child relates to the process that starts it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tether {
    /// Killed by the kernel when the spawning thread dies (lab components).
    DieWithParent,
    /// Its own session, immune to the terminal closing (the `up` daemon).
    Detach,
}

/// Sets up the child between fork and exec.
///
/// This is the crate's one `unsafe` block: `pre_exec` is unsafe because the closure
/// runs in the forked child, where only async-signal-safe operations are allowed.
/// It only makes raw syscalls through rustix (no allocation, no locks): `prctl`,
/// `getppid`, `kill` and `setsid`.
#[allow(unsafe_code)]
pub(crate) fn tether(cmd: &mut Command, tether: Tether) {
    let parent = rustix::process::getpid();
    // SAFETY: see above; the closure captures only a `Copy` pid and enum.
    unsafe {
        cmd.pre_exec(move || {
            match tether {
                Tether::DieWithParent => {
                    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
                    // The parent may have died before prctl took effect.
                    if rustix::process::getppid() != Some(parent) {
                        rustix::process::kill_process(rustix::process::getpid(), Signal::KILL)?;
                    }
                }
                Tether::Detach => {
                    rustix::process::setsid()?;
                }
            }
            Ok(())
        })
    };
}

/// The last `lines` lines of a log file (for error messages).
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("(cannot read {}: {e})", path.display()));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn sleeper(dir: &Path) -> ProcessSpec {
        ProcessSpec {
            component: "etcd",
            program: "/bin/sh".into(),
            // A grandchild too: killing the group must take it down as well.
            args: vec!["-c".into(), "sleep 300 & echo started; wait".into()],
            log: dir.join("sleeper.log"),
        }
    }

    fn wait_gone(pid: u32) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !alive(pid) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Live (non-zombie) members of a process group, read from /proc.
    fn group_members(pgid: u32) -> usize {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
            .filter(|stat| {
                let Some((_, rest)) = stat.rsplit_once(") ") else {
                    return false;
                };
                let fields: Vec<&str> = rest.split_whitespace().collect();
                fields.len() > 2 && !matches!(fields[0], "Z" | "X") && fields[2] == pgid.to_string()
            })
            .count()
    }

    #[test]
    fn drop_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let spawner = Spawner::new().unwrap();
        let child = spawner.spawn(sleeper(dir.path())).unwrap();
        let pid = child.pid();
        assert!(alive(pid));
        let deadline = Instant::now() + Duration::from_secs(5);
        while group_members(pid) < 2 {
            assert!(Instant::now() < deadline, "the grandchild never started");
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(child);
        assert!(!alive(pid));
        let deadline = Instant::now() + Duration::from_secs(5);
        while group_members(pid) > 0 {
            assert!(Instant::now() < deadline, "the grandchild survived");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn children_die_with_their_spawner_thread() {
        let dir = tempfile::tempdir().unwrap();
        let spawner = Spawner::new().unwrap();
        let child = spawner.spawn(sleeper(dir.path())).unwrap();
        let pid = child.pid();
        // Forget the handle so Drop cannot be what kills it, then end the thread.
        std::mem::forget(child);
        drop(spawner);
        assert!(wait_gone(pid), "pdeathsig did not kill {pid}");
    }

    #[test]
    fn exit_status_and_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let spawner = Spawner::new().unwrap();
        let mut child = spawner
            .spawn(ProcessSpec {
                component: "kube-apiserver",
                program: "/bin/sh".into(),
                args: vec![
                    "-c".into(),
                    "echo one; echo listen: address already in use >&2; exit 3".into(),
                ],
                log: dir.path().join("x.log"),
            })
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(s) = child.exit_status() {
                break s;
            }
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(10));
        };
        let err = child.exited_error(status);
        assert!(err.is_port_race(), "{err}");
        assert!(err.to_string().contains("exit status: 3"), "{err}");
    }
}
