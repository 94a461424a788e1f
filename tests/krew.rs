//! The two ways users install apidiag, for real: `kubectl krew install` of the
//! archive and manifest `krew/package.sh` makes (with krew v0.4.3 built from its
//! module, `krew/go/build.sh`), and `cargo install --path plugins/kubectl-apidiag`;
//! then `kubectl apidiag …` through kubectl, against the lab.
//!
//! What runs is never older than the code: the krew archive packages the binary
//! cargo built for this test (`package.sh --binary`; its release build would
//! cost minutes of CI for the same source), and cargo install builds from this
//! source (`--debug`, in this test's target dir, so it reuses what is built);
//! each test also checks that the installed binary names the same version and
//! commit as the one cargo built for this test.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use apidiag_test::{Sandbox, assert_code, check_names, json_report, kubectl, lab};

/// The two tests take turns: cargo install re-links `target/debug/kubectl-apidiag`,
/// the binary the krew test packages, and a copy taken mid-link would be torn.
static TURNS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The suite binary cargo built for this test, the reference for `version`.
const APIDIAG: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The target dir this test was built in (its tmp dir's parent): cargo install
/// builds there, reusing what cargo built for the tests.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs a build step (no timeout: a cold release build takes minutes), failing
/// with its output; returns its stdout.
fn build_step(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert_code(&output, 0);
    String::from_utf8(output.stdout).unwrap()
}

fn version_of(binary: &Path) -> String {
    let output = Command::new(binary).arg("version").output().unwrap();
    assert_code(&output, 0);
    String::from_utf8(output.stdout).unwrap()
}

/// The folder kubectl is in, for a PATH that holds nothing else of the user's.
fn kubectl_dir() -> PathBuf {
    kubectl().parent().unwrap().to_path_buf()
}

/// `kubectl ARGS…` in `sandbox`; with `krew_root`, krew's environment for it.
fn kubectl_in(sandbox: &Sandbox, krew_root: Option<&Path>, args: &[&str]) -> std::process::Output {
    let mut cmd = sandbox.cmd(kubectl());
    if let Some(root) = krew_root {
        // Our own krew home, and no call to GitHub for a newer krew.
        cmd.env("KREW_ROOT", root).env("KREW_NO_UPGRADE_CHECK", "1");
    }
    cmd.args(args).output().unwrap()
}

/// What the manifest's platform for this machine names: its `bin` and the set
/// of `files[].from`.
fn this_platform(manifest: &serde_json::Value) -> (String, BTreeSet<String>) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("no krew platform for {other}"),
    };
    let platforms = manifest["spec"]["platforms"].as_array().unwrap();
    // package.sh leaves out the platform it has no checksum for: krew rejects a
    // manifest with an unfilled sha256.
    assert_eq!(platforms.len(), 1, "{manifest:#}");
    let platform = &platforms[0];
    assert_eq!(platform["selector"]["matchLabels"]["os"], "linux");
    assert_eq!(platform["selector"]["matchLabels"]["arch"], arch);
    let files = platform["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["to"], ".", "{f}");
            f["from"].as_str().unwrap().to_string()
        })
        .collect();
    (platform["bin"].as_str().unwrap().to_string(), files)
}

#[test]
fn krew_installs_the_package_and_uninstalls_it() {
    let _turn = TURNS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let lab = lab();
    let kubeconfig = lab.admin_kubeconfig().to_str().unwrap().to_string();

    let krew_dir = build_step(&mut Command::new(workspace().join("krew/go/build.sh")));
    let krew_dir = PathBuf::from(krew_dir.lines().last().unwrap());
    assert!(krew_dir.join("kubectl-krew").is_file(), "{krew_dir:?}");

    let dist = tempfile::tempdir().unwrap();
    let printed = build_step(
        Command::new(workspace().join("krew/package.sh"))
            .arg("--out")
            .arg(dist.path())
            .arg("--target-dir")
            .arg(target_dir())
            .arg("--binary")
            .arg(APIDIAG),
    );
    let printed: Vec<&str> = printed.lines().collect();
    let version = env!("CARGO_PKG_VERSION");
    let archive = dist.path().join(format!(
        "apidiag-v{version}-{}-unknown-linux-gnu.tar.gz",
        std::env::consts::ARCH
    ));
    let manifest_path = dist.path().join("apidiag.yaml");
    assert_eq!(
        printed,
        [archive.to_str().unwrap(), manifest_path.to_str().unwrap()]
    );

    // The archive holds exactly what the manifest says: nothing missing, nothing extra.
    let manifest: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["spec"]["version"], format!("v{version}"));
    let (bin, files) = this_platform(&manifest);
    assert_eq!(bin, "kubectl-apidiag");
    let listing = build_step(Command::new("tar").arg("-tzf").arg(&archive));
    let members: BTreeSet<String> = listing.lines().map(String::from).collect();
    assert_eq!(
        members.len(),
        listing.lines().count(),
        "twice in the archive:\n{listing}"
    );
    assert_eq!(members, files);
    assert_eq!(
        files,
        BTreeSet::from(
            ["LICENSE", "kubectl-apidiag", "kubectl_complete-apidiag"].map(String::from)
        )
    );

    // kubectl finds kubectl-krew on PATH, and the plugins krew links in $KREW_ROOT/bin.
    let krew_root = tempfile::tempdir().unwrap();
    let krew_bin = krew_root.path().join("bin");
    let sandbox = Sandbox::new().with_path(&[&krew_bin, &krew_dir, &kubectl_dir()]);
    let install = kubectl_in(
        &sandbox,
        Some(krew_root.path()),
        &[
            "krew",
            "install",
            &format!("--manifest={}", manifest_path.display()),
            &format!("--archive={}", archive.display()),
        ],
    );
    assert_code(&install, 0);
    let stderr = String::from_utf8_lossy(&install.stderr);
    assert!(stderr.contains("Installed plugin: apidiag"), "{stderr}");
    let link = krew_bin.join("kubectl-apidiag");
    let target = std::fs::read_link(&link).unwrap();
    assert_eq!(
        target,
        krew_root
            .path()
            .join(format!("store/apidiag/v{version}/kubectl-apidiag"))
    );

    // What krew installed is, byte for byte, the binary cargo built from this
    // source for this test (packaged, unpacked into krew's store, linked).
    assert_eq!(
        std::fs::read(&link).unwrap(),
        std::fs::read(APIDIAG).unwrap(),
        "krew's copy differs from the packaged binary"
    );

    // Through krew's symlink, against the lab.
    let all = kubectl_in(&sandbox, None, &["apidiag", "--kubeconfig", &kubeconfig]);
    assert_code(&all, 0);
    let text = String::from_utf8_lossy(&all.stdout);
    assert!(text.starts_with("apidiag https://127.0.0.1:"), "{text}");
    let last = text.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("cost: ") && last.contains("API requests"),
        "{text}"
    );

    let etcd = kubectl_in(
        &sandbox,
        None,
        &["apidiag", "etcd", "-o", "json", "--kubeconfig", &kubeconfig],
    );
    assert_code(&etcd, 0);
    let report = json_report(&etcd.stdout);
    let checks = check_names(&report);
    assert_eq!(checks, ["etcd"]);
    assert_eq!(
        report["checks"][0]["status"]["state"], "complete",
        "{report:#}"
    );

    let undo = kubectl_in(&sandbox, None, &["apidiag", "undo", "--help"]);
    assert_code(&undo, 0);
    let help = String::from_utf8_lossy(&undo.stdout);
    assert!(
        help.starts_with("Restore a backup bundle written by a remediation")
            && help.contains("Usage: kubectl apidiag undo"),
        "{help}"
    );

    // kubectl's plugin completion, with the helper on PATH as completions/README.md
    // tells krew users: copied from krew's store into $KREW_ROOT/bin.
    std::fs::copy(
        krew_root
            .path()
            .join(format!("store/apidiag/v{version}/kubectl_complete-apidiag")),
        krew_bin.join("kubectl_complete-apidiag"),
    )
    .unwrap();
    let complete = kubectl_in(&sandbox, None, &["__complete", "apidiag", ""]);
    assert_code(&complete, 0);
    assert_eq!(
        String::from_utf8_lossy(&complete.stdout),
        "etcd\nguard\nthrottle\nwebhooks\nconnectivity\nundo\nbackups\nversion\nhelp\n:4\n"
    );
    let fixes = kubectl_in(
        &sandbox,
        None,
        &["__complete", "apidiag", "guard", "--fix", ""],
    );
    assert_code(&fixes, 0);
    assert_eq!(
        String::from_utf8_lossy(&fixes.stdout),
        "skip-update\nraise-shares\ndelete\n:4\n"
    );

    // `krew list` and `krew uninstall` want a plugin index, a git clone that
    // `kubectl krew update` fetches from GitHub; an empty local repository stands
    // in for it (the test needs no network, and apidiag is in no index anyway).
    build_step(
        Command::new("git")
            .args(["init", "-q"])
            .arg(krew_root.path().join("index/default")),
    );
    let list = kubectl_in(&sandbox, Some(krew_root.path()), &["krew", "list"]);
    assert_code(&list, 0);
    // Installed from a manifest, not from an index: krew calls that detached.
    assert_eq!(String::from_utf8_lossy(&list.stdout), "detached/apidiag\n");

    let uninstall = kubectl_in(
        &sandbox,
        Some(krew_root.path()),
        &["krew", "uninstall", "apidiag"],
    );
    assert_code(&uninstall, 0);
    let stderr = String::from_utf8_lossy(&uninstall.stderr);
    assert!(stderr.contains("Uninstalled plugin: apidiag"), "{stderr}");
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "krew left {link:?} behind"
    );
    assert!(!krew_root.path().join("store/apidiag").exists());
    let gone = kubectl_in(&sandbox, None, &["apidiag", "version"]);
    assert_ne!(gone.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&gone.stderr);
    assert!(stderr.contains("unknown command \"apidiag\""), "{stderr}");
}

#[test]
fn cargo_install_gives_a_working_kubectl_apidiag() {
    let _turn = TURNS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let lab = lab();
    // Read before the install, which re-links this very path.
    let built_for_this_test = version_of(Path::new(APIDIAG));
    let root = tempfile::tempdir().unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Offline: the dependencies are already here (this test was built from them).
    build_step(
        Command::new(cargo)
            .current_dir(workspace())
            .args([
                "install",
                "--debug",
                "--locked",
                "--offline",
                "--path",
                "plugins/kubectl-apidiag",
            ])
            .arg("--root")
            .arg(root.path())
            .arg("--target-dir")
            .arg(target_dir()),
    );
    let bin = root.path().join("bin");
    let installed: Vec<String> = std::fs::read_dir(&bin)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(installed, ["kubectl-apidiag"]);

    let sandbox = Sandbox::new().with_path(&[&bin, &kubectl_dir()]);
    let version = kubectl_in(&sandbox, None, &["apidiag", "version"]);
    assert_code(&version, 0);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        built_for_this_test
    );

    let etcd = kubectl_in(
        &sandbox,
        None,
        &[
            "apidiag",
            "etcd",
            "-o",
            "json",
            "--kubeconfig",
            lab.admin_kubeconfig().to_str().unwrap(),
        ],
    );
    assert_code(&etcd, 0);
    assert_eq!(json_report(&etcd.stdout)["checks"][0]["check"], "etcd");
}
