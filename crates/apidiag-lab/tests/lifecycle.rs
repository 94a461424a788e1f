//! Starting and stopping labs leaks nothing: not on drop, not when the owning
//! process exits without dropping, and not through the `up`/`down` CLI.

// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{Ipv4Addr, TcpListener};
use std::process::Command;
use std::time::Instant;

use apidiag_lab::{Lab, LabOptions};
use common::{alive, eventually, kubectl};

fn port_of(server: &str) -> u16 {
    server.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn drop_kills_every_process_and_frees_the_port() {
    let started = Instant::now();
    let lab = Lab::start(LabOptions {
        controller_manager: false,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    eprintln!("lab without kube-controller-manager: {}", lab.startup());
    assert!(started.elapsed() < LabOptions::default().ready_timeout);
    let pids: Vec<u32> = lab.pids().into_iter().map(|(_, p)| p).collect();
    assert_eq!(pids.len(), 2, "etcd and kube-apiserver only");
    let port = port_of(lab.server());
    let dir = lab.dir().to_owned();
    assert!(dir.join("kubeconfig").is_file());
    for (component, rss) in lab.rss_bytes() {
        assert!(rss > 1024 * 1024, "{component} has no RSS?");
    }
    drop(lab);
    for pid in pids {
        assert!(!alive(pid), "{pid} survived the drop");
    }
    assert!(!dir.exists(), "the temporary directory is removed");
    assert!(
        eventually(5, || TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()),
        "port {port} still taken"
    );
}

/// Runs only as the child of `children_die_with_an_owner_that_exits`: starts a
/// lab, records its pids and exits without dropping it.
#[test]
fn orphan_helper() {
    let Some(out) = std::env::var_os("APIDIAG_LAB_ORPHAN_HELPER") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = runtime
        .block_on(Lab::start(LabOptions {
            controller_manager: true,
            verbose: false,
            ..LabOptions::default()
        }))
        .unwrap();
    let pids: Vec<String> = lab.pids().into_iter().map(|(_, p)| p.to_string()).collect();
    std::fs::write(out, format!("{}\n{}", lab.server(), pids.join(" "))).unwrap();
    // No unwinding, no destructors: only the kernel's PR_SET_PDEATHSIG is left.
    std::process::exit(0);
}

#[test]
fn children_die_with_an_owner_that_exits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pids");
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "orphan_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("APIDIAG_LAB_ORPHAN_HELPER", &out)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&out).expect("the helper recorded its lab");
    let (server, pids) = text.split_once('\n').unwrap();
    let pids: Vec<u32> = pids
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 3);
    for pid in &pids {
        assert!(eventually(10, || !alive(*pid)), "{pid} outlived its owner");
    }
    let port = port_of(server);
    assert!(eventually(5, || TcpListener::bind((
        Ipv4Addr::LOCALHOST,
        port
    ))
    .is_ok()));
}

#[test]
fn cli_up_status_down() {
    let bin = env!("CARGO_BIN_EXE_apidiag-lab");
    let state_dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .env("APIDIAG_LAB_DIR", state_dir.path())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Whatever happens below, do not leave a detached lab behind.
    type Run<'a> = &'a dyn Fn(&[&str]) -> (bool, String, String);
    struct Down<'a>(Run<'a>);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            (self.0)(&["down"]);
        }
    }
    let _down = Down(&run);

    let (ok, stdout, stderr) = run(&["up", "--scenario", "failed-pods"]);
    assert!(ok, "up failed: {stderr}");
    let kubeconfig = state_dir.path().join("kubeconfig");
    assert_eq!(
        stdout.trim(),
        format!("export KUBECONFIG={}", kubeconfig.display())
    );
    assert!(state_dir.path().join("kubeconfig-user").is_file());

    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(state_dir.path().join("state.json")).unwrap(),
    )
    .unwrap();
    let pids: Vec<u32> = state["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_u64().unwrap() as u32)
        .chain([state["pid"].as_u64().unwrap() as u32])
        .collect();
    assert_eq!(pids.len(), 4);
    assert_eq!(state["scenarios"][0], "failed-pods");

    let (ok, out, err) = kubectl(&kubeconfig, &["get", "pods", "-n", "lab-failed-a"]);
    assert!(ok && out.contains("Error"), "{out}{err}");
    let (ok, out, _) = run(&["status"]);
    assert!(ok && out.contains("/readyz: ok"), "{out}");
    // `up` again reuses the running lab.
    let (ok, _, stderr) = run(&["up"]);
    assert!(ok && stderr.contains("already running"), "{stderr}");

    let (ok, _, stderr) = run(&["down"]);
    assert!(ok, "{stderr}");
    for pid in pids {
        assert!(eventually(10, || !alive(pid)), "{pid} survived down");
    }
    assert!(!kubeconfig.exists() && !state_dir.path().join("state.json").exists());
    assert!(!state_dir.path().join("run").exists());
    let (ok, _, _) = run(&["status"]);
    assert!(!ok, "status fails when nothing runs");
}
