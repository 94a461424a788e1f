//! Finding the workspace's `target/` directory, where `apidiag-lab up` keeps its
//! state and kubeconfigs (`target/lab/`) and where `demo` finds the plugins.

use std::path::{Path, PathBuf};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| manifest.to_owned(), Path::to_owned)
}

/// The cargo target directory: `CARGO_TARGET_DIR` if set (relative to the
/// workspace root), else the directory above the running executable that cargo
/// tagged with `CACHEDIR.TAG`, else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            workspace_root().join(dir)
        };
    }
    if let Some(dir) = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .skip(1)
            .find(|d| d.join("CACHEDIR.TAG").is_file())
            .map(Path::to_owned)
    }) {
        return dir;
    }
    workspace_root().join("target")
}

/// `target/lab`: state, kubeconfigs and the running lab's directory, unless
/// `APIDIAG_LAB_DIR` says otherwise (tests of the CLI use their own).
pub fn lab_dir() -> PathBuf {
    match std::env::var_os("APIDIAG_LAB_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => dir.into(),
        None => target_dir().join("lab"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_dir_is_found_from_the_test_executable() {
        // Test binaries live in target/<profile>/deps, below cargo's CACHEDIR.TAG.
        let dir = target_dir();
        assert!(
            dir.join("CACHEDIR.TAG").is_file() || std::env::var_os("CARGO_TARGET_DIR").is_some(),
            "{}",
            dir.display()
        );
        assert!(workspace_root().join("Cargo.toml").is_file());
        if std::env::var_os("APIDIAG_LAB_DIR").is_none() {
            assert_eq!(lab_dir(), dir.join("lab"));
        }
    }
}
