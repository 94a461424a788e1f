//! Finds the control-plane binaries, building them first if needed.
//!
//! Nothing prebuilt is downloaded: `go/build.sh` compiles etcd, kube-apiserver and
//! kube-controller-manager from the upstream modules pinned in `go/go.mod` into a
//! per-version cache and prints the directory. A complete cache makes it return at
//! once, so the lab simply runs it every time instead of second-guessing it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use crate::LabError;

/// The three binaries of one pinned release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    /// The cache directory holding them.
    pub dir: PathBuf,
    /// `etcd`.
    pub etcd: PathBuf,
    /// `kube-apiserver`.
    pub kube_apiserver: PathBuf,
    /// `kube-controller-manager`.
    pub kube_controller_manager: PathBuf,
}

impl Binaries {
    fn in_dir(dir: PathBuf) -> Result<Binaries, LabError> {
        let bins = Binaries {
            etcd: dir.join("etcd"),
            kube_apiserver: dir.join("kube-apiserver"),
            kube_controller_manager: dir.join("kube-controller-manager"),
            dir,
        };
        for bin in [
            &bins.etcd,
            &bins.kube_apiserver,
            &bins.kube_controller_manager,
        ] {
            if !bin.is_file() {
                return Err(LabError::BinaryMissing {
                    dir: bins.dir.clone(),
                    missing: bin.clone(),
                });
            }
        }
        Ok(bins)
    }
}

/// The build script, found through this crate's source directory.
pub fn build_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("go/build.sh")
}

/// Builds the binaries if the cache lacks them (minutes, once per version) and
/// returns where they are (milliseconds when cached).
///
/// Go's output streams to this process's stderr so a cold build shows progress.
/// Concurrent callers in one process wait for each other rather than racing two
/// Go builds into the same cache.
///
/// `k8s` picks the Kubernetes minor (`1.31`; `None`: the newest pinned).
pub fn ensure(k8s: Option<&str>) -> Result<Binaries, LabError> {
    static BUILT: Mutex<Vec<(Option<String>, Binaries)>> = Mutex::new(Vec::new());
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, bins)) = built.iter().find(|(minor, _)| minor.as_deref() == k8s) {
        return Ok(bins.clone());
    }
    let bins = run_build_script(k8s)?;
    built.push((k8s.map(str::to_string), bins.clone()));
    Ok(bins)
}

fn run_build_script(k8s: Option<&str>) -> Result<Binaries, LabError> {
    let script = build_script();
    let mut command = Command::new("bash");
    // The choice is this call's, not whatever the environment says.
    match k8s {
        Some(minor) => command.env("APIDIAG_LAB_K8S", minor),
        None => command.env_remove("APIDIAG_LAB_K8S"),
    };
    let output = command
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(LabError::io(format!("running {}", script.display())))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        if go_missing() {
            return Err(LabError::GoNotFound);
        }
        return Err(LabError::BuildFailed {
            status: output.status.to_string(),
            cache: cache_root().display().to_string(),
        });
    }
    // build.sh prints the directory last; anything before it is not ours to parse.
    let dir = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| PathBuf::from(l.trim()))
        .ok_or_else(|| LabError::BuildFailed {
            status: "build.sh printed no directory".into(),
            cache: cache_root().display().to_string(),
        })?;
    Binaries::in_dir(dir)
}

fn go_missing() -> bool {
    Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
}

/// Where build.sh caches builds, mirroring its own default (for messages only).
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("APIDIAG_LAB_CACHE") {
        return dir.into();
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("apidiag-lab");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".cache/apidiag-lab")
}
