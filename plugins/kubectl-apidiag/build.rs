//! Records the commit this binary is built from, for `kubectl apidiag version`:
//! `APIDIAG_COMMIT` is `git rev-parse --short HEAD`, with `-dirty` when tracked
//! files differ from it, or `unknown` outside a git checkout (a source tarball).
//! A packager building from a tarball can name the commit in `APIDIAG_COMMIT`.
//!
//! Two git commands by hand rather than vergen or built: they are all we need,
//! need no dependency tree (neither crate is in the offline registry cache), and
//! behave the same with a worktree, where `.git` is a file, not a folder.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=APIDIAG_COMMIT");
    let commit = match std::env::var("APIDIAG_COMMIT") {
        Ok(given) if !given.is_empty() => given,
        _ => from_git().unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo::rustc-env=APIDIAG_COMMIT={commit}");
}

/// The short commit and dirty mark, or None when this package is not tracked by
/// git (a tarball unpacked inside some other repository is not "its" commit).
fn from_git() -> Option<String> {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    git(&manifest, &["ls-files", "--error-unmatch", "Cargo.toml"])?;
    let commit = git(&manifest, &["rev-parse", "--short", "HEAD"])?;
    rerun_when_the_tree_moves(&manifest);
    let dirty = git(
        &manifest,
        &["status", "--porcelain", "--untracked-files=no"],
    )
    .is_some_and(|changes| !changes.is_empty());
    Some(if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    })
}

/// Cargo reruns this script only for the paths named here: a new commit or
/// branch (HEAD, its ref, packed-refs), staging (the index), and any source edit
/// in the workspace, so the dirty mark follows the sources the binary is built
/// from. Edits elsewhere (docs) can leave it stale; they do not change the binary.
fn rerun_when_the_tree_moves(manifest: &Path) {
    let absolute = |args: &[&str]| git(manifest, args).map(|p| manifest.join(p));
    if let Some(git_dir) = absolute(&["rev-parse", "--git-dir"]) {
        for file in ["HEAD", "index"] {
            println!("cargo::rerun-if-changed={}", git_dir.join(file).display());
        }
    }
    if let Some(common) = absolute(&["rev-parse", "--git-common-dir"]) {
        println!(
            "cargo::rerun-if-changed={}",
            common.join("packed-refs").display()
        );
        if let Some(branch) = git(manifest, &["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo::rerun-if-changed={}", common.join(branch).display());
        }
    }
    if let Some(top) = git(manifest, &["rev-parse", "--show-toplevel"]) {
        let top = Path::new(&top);
        for source in ["Cargo.toml", "Cargo.lock", "crates", "plugins"] {
            println!("cargo::rerun-if-changed={}", top.join(source).display());
        }
    }
}

/// One git command's trimmed stdout, or None if git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}
