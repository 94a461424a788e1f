//! The exec credential plugin (kubelogin, aws-iam-authenticator, gke-gcloud-…),
//! run as kubectl runs it before its first request: the kubeconfig's command,
//! args and env, plus `KUBERNETES_EXEC_INFO`, stdin closed (non-interactive),
//! stderr captured. A plugin that fails is the whole problem, and kubectl
//! shows it only as "getting credentials: exec: … failed with exit code 1".
//! The token it returns is never shown: only that one came back.

use std::process::Stdio;
use std::time::{Duration, Instant};

use apidiag_core::finding::{Evidence, Severity};
use kube::config::{ExecConfig, ExecInteractiveMode};
use serde_json::{Value, json};

use crate::rung::Rung;

/// How long the plugin may take: a cached token comes back at once, and a
/// plugin that would open a browser has no terminal here.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How many of the plugin's last stderr lines the rung quotes.
const STDERR_LINES: usize = 5;

const DEFAULT_API_VERSION: &str = "client.authentication.k8s.io/v1beta1";

/// `KUBERNETES_EXEC_INFO` for a non-interactive run.
pub fn exec_info(exec: &ExecConfig) -> Value {
    json!({
        "apiVersion": exec.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION),
        "kind": "ExecCredential",
        "spec": { "interactive": false },
    })
}

/// The last `STDERR_LINES` non-empty lines of `stderr`, trimmed.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(STDERR_LINES)..].join("\n")
}

/// Runs the plugin and judges what it did.
pub async fn run(exec: &ExecConfig, timeout: Duration) -> Rung {
    let Some(command) = exec.command.as_deref().filter(|c| !c.is_empty()) else {
        return Rung::new(
            "connectivity.exec.no-command",
            Severity::Critical,
            "exec credential plugin",
            "the kubeconfig's exec section names no command",
            None,
        )
        .stopping();
    };
    let what = format!("exec credential plugin `{command}`");
    if exec.interactive_mode == Some(ExecInteractiveMode::Always) {
        return Rung::new(
            "connectivity.exec.interactive",
            Severity::Info,
            &what,
            "not run: interactiveMode is Always (it needs a terminal)",
            None,
        );
    }
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(exec.args.iter().flatten())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for name in exec.drop_env.iter().flatten() {
        cmd.env_remove(name);
    }
    for pair in exec.env.iter().flatten() {
        if let (Some(name), Some(value)) = (pair.get("name"), pair.get("value")) {
            cmd.env(name, value);
        }
    }
    cmd.env("KUBERNETES_EXEC_INFO", exec_info(exec).to_string());
    let started = Instant::now();
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let hint = exec.install_hint.as_deref().map(str::trim).unwrap_or("");
            return Rung::new(
                "connectivity.exec.not-found",
                Severity::Critical,
                &what,
                format!("exec: executable {command} not found"),
                None,
            )
            .stopping()
            .with(|f| {
                let mut detail = format!(
                    "kubectl says: `Unable to connect to the server: getting credentials: exec: executable {command} not found`. It looks like you are trying to use a client-go credential plugin that is not installed: install it, or put it on PATH."
                );
                if !hint.is_empty() {
                    detail.push_str(&format!(" Its install hint: {hint}"));
                }
                f.detail(detail)
            });
        }
        Err(error) => {
            return Rung::new(
                "connectivity.exec.failed",
                Severity::Critical,
                &what,
                format!("could not start: {error}"),
                None,
            )
            .stopping();
        }
    };
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => {
            return Rung::new(
                "connectivity.exec.timeout",
                Severity::Critical,
                &what,
                format!("no answer in {} s", timeout.as_secs()),
                None,
            )
            .stopping()
            .with(|f| f.detail("The plugin did not finish: it may be waiting for a login in a browser or on a device code. Run it once by hand (for kubelogin: `kubelogin convert-kubeconfig -l azurecli` after `az login` needs no prompt), then try again."));
        }
        Ok(Err(error)) => {
            return Rung::new(
                "connectivity.exec.failed",
                Severity::Critical,
                &what,
                format!("could not be waited for: {error}"),
                None,
            )
            .stopping();
        }
        Ok(Ok(output)) => output,
    };
    let took = Some(started.elapsed());
    if !output.status.success() {
        let code = output
            .status
            .code()
            .map(|c| c.to_string())
            .unwrap_or_else(|| "none (killed by a signal)".into());
        let stderr = tail(&output.stderr);
        return Rung::new(
            "connectivity.exec.failed",
            Severity::Critical,
            &what,
            format!("getting credentials: exec: executable {command} failed with exit code {code}"),
            took,
        )
        .stopping()
        .with(|mut f| {
            f = f.detail(format!(
                "kubectl says: `Unable to connect to the server: getting credentials: exec: executable {command} failed with exit code {code}`, after the plugin's own error. The credential plugin failed before any request was sent: fix it on this machine (for kubelogin: `az login`, or `kubelogin convert-kubeconfig -l azurecli`), then try again."
            ));
            if !stderr.is_empty() {
                f = f.evidence(Evidence::new("plugin stderr", stderr));
            }
            f
        });
    }
    judge_output(&what, &output.stdout, took)
}

/// The verdict on what the plugin printed (it exited 0).
pub fn judge_output(what: &str, stdout: &[u8], took: Option<Duration>) -> Rung {
    let bad = |why: String| {
        Rung::new(
            "connectivity.exec.bad-output",
            Severity::Critical,
            what,
            format!("its output is not an ExecCredential ({why})"),
            took,
        )
        .stopping()
        .with(|f| f.detail("kubectl fails with `getting credentials: decoding stdout: …`: the plugin must print an ExecCredential JSON object with a status. Check its version against the kubeconfig's exec apiVersion."))
    };
    let value: Value = match serde_json::from_slice(stdout) {
        Ok(value) => value,
        Err(error) => return bad(format!("not JSON: {error}")),
    };
    if value["kind"] != "ExecCredential" {
        return bad(format!("kind is {}", value["kind"]));
    }
    let status = &value["status"];
    let credential = if status["token"].as_str().is_some_and(|t| !t.is_empty()) {
        "a token"
    } else if status["clientCertificateData"].as_str().is_some() {
        "a client certificate"
    } else {
        return bad("no status.token or status.clientCertificateData".into());
    };
    let verdict = match status["expirationTimestamp"].as_str() {
        Some(expiry) => format!("returned {credential} (expires {expiry})"),
        None => format!("returned {credential}"),
    };
    Rung::pass("connectivity.exec.ok", what, verdict, took)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_info_is_non_interactive() {
        let exec = ExecConfig {
            api_version: Some("client.authentication.k8s.io/v1".into()),
            ..ExecConfig::default()
        };
        assert_eq!(
            exec_info(&exec),
            json!({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "spec": {"interactive": false}})
        );
    }

    #[test]
    fn output_is_judged_without_showing_the_token() {
        let ok = judge_output(
            "exec credential plugin `kubelogin`",
            br#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"s3cr3t","expirationTimestamp":"2027-01-01T00:00:00Z"}}"#,
            None,
        );
        assert_eq!(ok.finding.id, "connectivity.exec.ok");
        assert_eq!(
            ok.finding.title,
            "exec credential plugin `kubelogin`: returned a token (expires 2027-01-01T00:00:00Z)"
        );
        assert!(!format!("{:?}", ok.finding).contains("s3cr3t"));
        let bad = judge_output("p", b"hello", None);
        assert_eq!(bad.finding.id, "connectivity.exec.bad-output");
        assert!(bad.stops);
        let wrong_kind = judge_output("p", br#"{"kind":"Status"}"#, None);
        assert_eq!(
            wrong_kind.finding.title,
            "p: its output is not an ExecCredential (kind is \"Status\")"
        );
    }

    #[test]
    fn stderr_tail_keeps_the_last_lines() {
        assert_eq!(tail(b"a\n\n b \nc\nd\ne\nf\n"), "b\nc\nd\ne\nf");
    }
}
