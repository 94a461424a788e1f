//! The binary's own command line, without a cluster.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-apidiag");

#[test]
fn help_lists_the_checks_and_exit_codes() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "guard",
        "etcd",
        "webhooks",
        "connectivity",
        "throttle",
        "undo",
        "backups",
        "Exit codes:",
    ] {
        assert!(text.contains(expected), "missing {expected:?}:\n{text}");
    }
}

#[test]
fn version_subcommand_and_flag_agree() {
    let sub = Command::new(BIN).arg("version").output().unwrap();
    let flag = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(sub.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&sub.stdout),
        String::from_utf8_lossy(&flag.stdout)
    );
    assert!(String::from_utf8_lossy(&sub.stdout).starts_with("kubectl-apidiag 0."));
}

/// `version` names the commit the binary is built from: this checkout's HEAD,
/// marked `-dirty` or not (build.rs), never a hard-coded or stale one.
#[test]
fn version_names_the_commit_it_was_built_from() {
    let head = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(head.status.success(), "these tests run in a git checkout");
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    let output = Command::new(BIN).arg("version").output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let clean = format!(
        "kubectl-apidiag {} (commit {head})\n",
        env!("CARGO_PKG_VERSION")
    );
    let dirty = format!(
        "kubectl-apidiag {} (commit {head}-dirty)\n",
        env!("CARGO_PKG_VERSION")
    );
    assert!(
        text == clean || text == dirty,
        "{text:?} is neither {clean:?} nor {dirty:?}"
    );
}

#[test]
fn completion_scripts_are_generated() {
    let output = Command::new(BIN)
        .args(["completion", "bash"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("kubectl-apidiag"));
}

#[test]
fn committed_completions_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../completions");
    for (shell, extension) in [
        ("bash", "bash"),
        ("zsh", "zsh"),
        ("fish", "fish"),
        ("powershell", "ps1"),
    ] {
        let generated = Command::new(BIN)
            .args(["completion", shell])
            .output()
            .unwrap();
        assert_eq!(generated.status.code(), Some(0), "{shell}");
        let file = format!("kubectl-apidiag.{extension}");
        let committed = std::fs::read(dir.join(&file)).unwrap();
        assert!(
            generated.stdout == committed,
            "completions/{file} is stale: regenerate with `kubectl-apidiag completion {shell} > completions/{file}`"
        );
    }
}

#[test]
fn kubectl_plugin_completion_protocol() {
    let output = Command::new(BIN)
        .args(["__complete", "guard", "--fix", ""])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "skip-update\nraise-shares\ndelete\n:4\n"
    );
}

/// `kubectl apidiag backups | head -1` closes the pipe before the command is done
/// writing: that ends the command quietly, never in a panic.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["backups", "-o", "json"][..],
        &["version"],
        &["completion", "zsh"],
        &["__complete", ""],
    ] {
        let mut child = Command::new(BIN)
            .args(args)
            .env("HOME", home.path())
            .env_remove("APIDIAG_BACKUP_DIR")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before the child writes anything.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// With no HOME and no APIDIAG_BACKUP_DIR there is no private place for backups:
/// the commands that need one say so instead of using the current folder.
#[test]
fn no_home_means_no_backups_in_the_current_folder() {
    let cwd = tempfile::tempdir().unwrap();
    for args in [&["backups"][..], &["undo", "--yes"]] {
        let output = Command::new(BIN)
            .args(args)
            .env_remove("HOME")
            .env_remove("APIDIAG_BACKUP_DIR")
            .current_dir(cwd.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(64), "{args:?}: {stderr}");
        assert!(
            stderr.contains("no place for backups"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("APIDIAG_BACKUP_DIR"), "{args:?}: {stderr}");
    }
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
}
