//! The client path against real local listeners: a closed port, a listener
//! that never answers, TLS servers with rcgen certificates, exec plugins as
//! shell scripts, a proxy that refuses. Each `Resolved` comes from kubeconfig
//! YAML through `apidiag_core::connection::select`, as the binary resolves it.

// Helpers outside #[test] functions unwrap too: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use apidiag_connectivity::path::proxy::ProxyEnv;
use apidiag_connectivity::path::{PathArgs, client_path_in};
use apidiag_connectivity::rung::{Rung, human_duration};
use apidiag_core::connection::{Resolved, select};
use apidiag_core::finding::Severity;
use base64::Engine;
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A kubeconfig with one context `test` for `server`, its `cluster` and `user`
/// sections' extra lines as given (already indented by 4 spaces).
async fn resolve_yaml(server: &str, cluster: &str, user: &str) -> Resolved {
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: \"{server}\"\n{cluster}users:\n- name: u\n  user:\n{user}contexts:\n- name: test\n  context:\n    cluster: c\n    user: u\ncurrent-context: test\n"
    );
    let kubeconfig = Kubeconfig::from_yaml(&yaml).expect("kubeconfig");
    let (config, context) = select(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("context");
    Resolved {
        config,
        context,
        in_cluster: false,
    }
}

const TOKEN: &str = "    token: abc\n";

fn args(connect_timeout: Duration) -> PathArgs {
    PathArgs {
        connect_timeout,
        ..PathArgs::default()
    }
}

fn ids(rungs: &[Rung]) -> Vec<&str> {
    rungs.iter().map(|r| r.finding.id.as_str()).collect()
}

fn find<'a>(rungs: &'a [Rung], id: &str) -> &'a Rung {
    rungs
        .iter()
        .find(|r| r.finding.id == id)
        .unwrap_or_else(|| panic!("no {id} in {:?}", ids(rungs)))
}

/// `<what>: <verdict> (<took>)`, with the timing the rung recorded.
fn timed(rung: &Rung, head: &str) -> String {
    format!("{head} ({})", human_duration(rung.took.expect("timed")))
}

struct Ca {
    params: rcgen::CertificateParams,
    key: rcgen::KeyPair,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let pem = params.self_signed(&key).unwrap().pem();
    Ca { params, key, pem }
}

/// A leaf for `names` signed by `ca`, optionally valid only in the past.
fn leaf(ca: &Ca, names: &[&str], expired: bool) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "kube-apiserver");
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let issuer = rcgen::Issuer::from_params(&ca.params, &ca.key);
    (params.signed_by(&key, &issuer).unwrap(), key)
}

/// A TLS server on 127.0.0.1 with `cert` and the ALPN protocols it accepts;
/// it completes handshakes and closes.
async fn tls_server(cert: rcgen::Certificate, key: rcgen::KeyPair, alpn: &[&str]) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(stream).await;
            });
        }
    });
    port
}

fn ca_data(ca: &Ca) -> String {
    format!("    certificate-authority-data: {}\n", b64(&ca.pem))
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_closed_port_is_refused_and_stops_the_ladder() {
    let port = closed_port().await;
    let resolved = resolve_yaml(&format!("https://127.0.0.1:{port}"), "", TOKEN).await;
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_secs(2)),
        &ProxyEnv::default(),
    )
    .await;
    assert_eq!(
        ids(&rungs),
        [
            "connectivity.kubeconfig.ok",
            "connectivity.path.direct",
            "connectivity.dns.ip-literal",
            "connectivity.tcp.refused",
            "connectivity.path.not-tried",
        ]
    );
    assert_eq!(
        rungs[0].finding.title,
        format!("kubeconfig context `test`: https://127.0.0.1:{port}, bearer token")
    );
    assert_eq!(
        rungs[0].finding.evidence[1].value,
        "the system's trusted roots (no CA in the kubeconfig)"
    );
    let tcp = &rungs[3];
    assert_eq!(tcp.finding.severity, Severity::Critical);
    assert!(tcp.stops);
    assert_eq!(
        tcp.finding.title,
        timed(tcp, &format!("TCP 127.0.0.1:{port}: refused"))
    );
    assert!(tcp.finding.detail.starts_with(&format!(
        "kubectl says: `The connection to the server 127.0.0.1:{port} was refused - did you specify the right host or port?`."
    )));
    assert_eq!(rungs[4].finding.title, "not tried: TLS, ALPN");
}

#[tokio::test]
async fn a_listener_that_never_answers_is_a_tls_handshake_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let resolved = resolve_yaml(&format!("https://127.0.0.1:{port}"), "", TOKEN).await;
    let started = std::time::Instant::now();
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_millis(400)),
        &ProxyEnv::default(),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        ids(&rungs),
        [
            "connectivity.kubeconfig.ok",
            "connectivity.path.direct",
            "connectivity.dns.ip-literal",
            "connectivity.tcp.connected",
            "connectivity.tls.timeout",
            "connectivity.path.not-tried",
        ]
    );
    let tls = find(&rungs, "connectivity.tls.timeout");
    assert!(tls.stops);
    assert_eq!(
        tls.finding.title,
        "TLS handshake with 127.0.0.1: no ServerHello in 800 ms"
    );
    assert!(tls.finding.detail.starts_with(
        "kubectl says: `Unable to connect to the server: net/http: TLS handshake timeout`."
    ));
    assert_eq!(rungs[5].finding.title, "not tried: ALPN");
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_an_unknown_authority_naming_its_issuer() {
    let trusted = ca("apidiag cluster CA");
    let other = ca("Corp TLS Inspection CA");
    let (cert, key) = leaf(&other, &["localhost"], false);
    let port = tls_server(cert, key, &["h2"]).await;
    let resolved = resolve_yaml(
        &format!("https://localhost:{port}"),
        &ca_data(&trusted),
        TOKEN,
    )
    .await;
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_secs(2)),
        &ProxyEnv::default(),
    )
    .await;
    let tls = find(&rungs, "connectivity.tls.unknown-issuer");
    assert!(tls.stops);
    assert_eq!(
        tls.finding.title,
        timed(
            tls,
            "TLS handshake with localhost: certificate signed by unknown authority (issuer \"Corp TLS Inspection CA\")"
        )
    );
    assert!(tls.finding.detail.starts_with("kubectl says: `Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority`. The server presented a chain issued by \"Corp TLS Inspection CA\", which the kubeconfig's CA does not trust. A TLS-inspecting proxy"), "{}", tls.finding.detail);
    let chain = &tls.finding.evidence[0];
    assert_eq!(chain.rows.len(), 1);
    assert_eq!(chain.rows[0][0], "CN=kube-apiserver");
    assert_eq!(chain.rows[0][1], "CN=Corp TLS Inspection CA");
    assert_eq!(chain.rows[0][2], "localhost");
    assert_eq!(ids(&rungs).last(), Some(&"connectivity.path.not-tried"));
}

#[tokio::test]
async fn an_expired_serving_certificate_is_named_with_its_date() {
    let trusted = ca("apidiag cluster CA");
    let (cert, key) = leaf(&trusted, &["localhost"], true);
    let port = tls_server(cert, key, &["h2"]).await;
    let resolved = resolve_yaml(
        &format!("https://localhost:{port}"),
        &ca_data(&trusted),
        TOKEN,
    )
    .await;
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_secs(2)),
        &ProxyEnv::default(),
    )
    .await;
    let tls = find(&rungs, "connectivity.tls.expired");
    assert!(tls.stops);
    assert_eq!(
        tls.finding.title,
        timed(
            tls,
            "TLS handshake with localhost: the server's certificate expired 2021-01-01T00:00:00Z (or is not yet valid)"
        )
    );
    assert!(tls.finding.detail.starts_with("kubectl says: `Unable to connect to the server: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time "));
    assert!(
        tls.finding
            .detail
            .contains(" is after 2021-01-01T00:00:00Z`.")
    );
}

#[tokio::test]
async fn a_certificate_for_other_names_is_a_name_mismatch_in_go_words() {
    let trusted = ca("apidiag cluster CA");
    let (cert, key) = leaf(&trusted, &["kubernetes", "kubernetes.default"], false);
    let port = tls_server(cert, key, &["h2"]).await;
    let resolved = resolve_yaml(
        &format!("https://127.0.0.1:{port}"),
        &ca_data(&trusted),
        TOKEN,
    )
    .await;
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_secs(2)),
        &ProxyEnv::default(),
    )
    .await;
    let tls = find(&rungs, "connectivity.tls.name-mismatch");
    assert!(tls.stops);
    assert_eq!(
        tls.finding.title,
        timed(
            tls,
            "TLS handshake with 127.0.0.1: the certificate is not valid for 127.0.0.1"
        )
    );
    assert!(tls.finding.detail.starts_with("kubectl says: `Unable to connect to the server: tls: failed to verify certificate: x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs`."), "{}", tls.finding.detail);

    // With tls-server-name naming one of its SANs, the same server verifies.
    let cluster = format!(
        "{}    tls-server-name: kubernetes.default\n",
        ca_data(&trusted)
    );
    let resolved = resolve_yaml(&format!("https://127.0.0.1:{port}"), &cluster, TOKEN).await;
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_secs(2)),
        &ProxyEnv::default(),
    )
    .await;
    let tls = find(&rungs, "connectivity.tls.verified");
    assert_eq!(
        tls.finding.title,
        timed(
            tls,
            "TLS handshake with kubernetes.default: TLSv1_3, verified by the kubeconfig's CA"
        )
    );
}

#[tokio::test]
async fn a_server_that_selects_h2_passes_every_rung() {
    let trusted = ca("apidiag cluster CA");
    let (cert, key) = leaf(&trusted, &["localhost"], false);
    let port = tls_server(cert, key, &["h2", "http/1.1"]).await;
    let resolved = resolve_yaml(
        &format!("https://localhost:{port}"),
        &ca_data(&trusted),
        TOKEN,
    )
    .await;
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_secs(2)),
        &ProxyEnv::default(),
    )
    .await;
    let ids = ids(&rungs);
    // localhost may resolve to ::1 as well as 127.0.0.1: one TCP rung each.
    let tcp = ids
        .iter()
        .filter(|id| **id == "connectivity.tcp.connected")
        .count()
        + ids
            .iter()
            .filter(|id| **id == "connectivity.tcp.refused")
            .count();
    assert!((1..=2).contains(&tcp), "{ids:?}");
    assert_eq!(
        ids[..3],
        [
            "connectivity.kubeconfig.ok",
            "connectivity.path.direct",
            "connectivity.dns.resolved"
        ]
    );
    assert_eq!(
        ids[ids.len() - 2..],
        ["connectivity.tls.verified", "connectivity.alpn.h2"]
    );
    assert!(rungs.iter().all(|r| !r.stops));
    let alpn = find(&rungs, "connectivity.alpn.h2");
    assert_eq!(alpn.finding.severity, Severity::Ok);
    assert_eq!(
        alpn.finding.title,
        "ALPN (offered h2, http/1.1): the server selected h2"
    );
}

#[tokio::test]
async fn a_server_that_selects_no_protocol_warns_about_konnectivity() {
    let trusted = ca("apidiag cluster CA");
    let (cert, key) = leaf(&trusted, &["127.0.0.1"], false);
    let port = tls_server(cert, key, &[]).await;
    let resolved = resolve_yaml(
        &format!("https://127.0.0.1:{port}"),
        &ca_data(&trusted),
        TOKEN,
    )
    .await;
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_secs(2)),
        &ProxyEnv::default(),
    )
    .await;
    assert_eq!(
        ids(&rungs),
        [
            "connectivity.kubeconfig.ok",
            "connectivity.path.direct",
            "connectivity.dns.ip-literal",
            "connectivity.tcp.connected",
            "connectivity.tls.verified",
            "connectivity.alpn.none",
        ]
    );
    let alpn = &rungs[5];
    assert_eq!(alpn.finding.severity, Severity::Warning);
    assert_eq!(
        alpn.finding.title,
        "ALPN (offered h2, http/1.1): no protocol selected"
    );
    let chain = &rungs[4].finding.evidence[0];
    assert_eq!(chain.rows[0][2], "127.0.0.1");
}

#[tokio::test]
async fn an_expired_client_certificate_stops_before_any_packet() {
    let issuer = ca("apidiag cluster CA");
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "alice");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 6, 30);
    let cert = params
        .signed_by(
            &key,
            &rcgen::Issuer::from_params(&issuer.params, &issuer.key),
        )
        .unwrap();
    let user = format!(
        "    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(&cert.pem()),
        b64(&key.serialize_pem())
    );
    let port = closed_port().await;
    let resolved = resolve_yaml(&format!("https://127.0.0.1:{port}"), "", &user).await;
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_secs(2)),
        &ProxyEnv::default(),
    )
    .await;
    assert_eq!(
        ids(&rungs),
        [
            "connectivity.kubeconfig.ok",
            "connectivity.client-cert.expired",
            "connectivity.path.not-tried",
        ]
    );
    assert_eq!(
        rungs[1].finding.title,
        "client certificate for user `alice`: expired 2021-06-30T00:00:00Z (offline check)"
    );
    assert_eq!(
        rungs[2].finding.title,
        "not tried: exec plugin, DNS, TCP, TLS, ALPN"
    );
}

/// An executable shell script `name` in `dir`.
fn script(dir: &std::path::Path, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

fn exec_user(command: &str, extra: &str) -> String {
    format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {command}\n      args: [get-token, --login, azurecli]\n      env:\n      - name: AAD_LOGIN_METHOD\n        value: azurecli\n{extra}"
    )
}

#[tokio::test]
async fn a_failing_exec_plugin_is_quoted_as_kubectl_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = script(
        dir.path(),
        "kubelogin",
        "echo \"info: $KUBERNETES_EXEC_INFO $AAD_LOGIN_METHOD $*\" >&2\nread line && echo \"stdin was open\" >&2\necho \"Error: failed to get token: AzureCLICredential: ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n",
    );
    let port = closed_port().await;
    let resolved = resolve_yaml(
        &format!("https://127.0.0.1:{port}"),
        "",
        &exec_user(&plugin, ""),
    )
    .await;
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_secs(2)),
        &ProxyEnv::default(),
    )
    .await;
    assert_eq!(
        ids(&rungs),
        [
            "connectivity.kubeconfig.ok",
            "connectivity.exec.failed",
            "connectivity.path.not-tried",
        ]
    );
    let exec = &rungs[1];
    assert!(exec.stops);
    assert_eq!(
        exec.finding.title,
        timed(
            exec,
            &format!(
                "exec credential plugin `{plugin}`: getting credentials: exec: executable {plugin} failed with exit code 1"
            )
        )
    );
    assert_eq!(exec.finding.evidence.len(), 1);
    assert_eq!(
        exec.finding.evidence[0].value,
        "info: {\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}} azurecli get-token --login azurecli\nError: failed to get token: AzureCLICredential: ERROR: Please run 'az login' to setup account."
    );
}

#[tokio::test]
async fn a_missing_exec_plugin_says_not_found_with_its_install_hint() {
    let port = closed_port().await;
    let user = exec_user(
        "kubelogin-apidiag-missing",
        "      installHint: |\n        install kubelogin: az aks install-cli\n",
    );
    let resolved = resolve_yaml(&format!("https://127.0.0.1:{port}"), "", &user).await;
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_secs(2)),
        &ProxyEnv::default(),
    )
    .await;
    let exec = find(&rungs, "connectivity.exec.not-found");
    assert!(exec.stops);
    assert_eq!(
        exec.finding.title,
        "exec credential plugin `kubelogin-apidiag-missing`: exec: executable kubelogin-apidiag-missing not found"
    );
    assert!(
        exec.finding
            .detail
            .ends_with(" Its install hint: install kubelogin: az aks install-cli")
    );
}

#[tokio::test]
async fn a_working_exec_plugin_lets_the_ladder_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = script(
        dir.path(),
        "token",
        "echo '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"status\":{\"token\":\"s3cr3t\"}}'\n",
    );
    let port = closed_port().await;
    let resolved = resolve_yaml(
        &format!("https://127.0.0.1:{port}"),
        "",
        &exec_user(&plugin, ""),
    )
    .await;
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_secs(2)),
        &ProxyEnv::default(),
    )
    .await;
    assert_eq!(
        ids(&rungs)[..4],
        [
            "connectivity.kubeconfig.ok",
            "connectivity.exec.ok",
            "connectivity.path.direct",
            "connectivity.dns.ip-literal"
        ]
    );
    assert_eq!(
        rungs[1].finding.title,
        timed(
            &rungs[1],
            &format!("exec credential plugin `{plugin}`: returned a token")
        )
    );
    assert!(!format!("{rungs:?}").contains("s3cr3t"));
}

/// A proxy that answers every CONNECT with `status`, and the request it got.
async fn refusing_proxy(status: &'static str) -> (u16, tokio::sync::oneshot::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 1024];
        let n = stream.read(&mut buf).await.unwrap();
        let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
        stream.write_all(status.as_bytes()).await.unwrap();
        stream
            .write_all(b"\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
    });
    (port, rx)
}

#[tokio::test]
async fn https_proxy_is_tested_with_connect_and_its_refusal_reported() {
    let (proxy_port, request) = refusing_proxy("HTTP/1.1 403 Forbidden").await;
    let proxy = format!("http://127.0.0.1:{proxy_port}");
    let env = ProxyEnv {
        https_proxy: Some(("HTTPS_PROXY", proxy.clone())),
        no_proxy: Some(("NO_PROXY", ".internal.example".into())),
    };
    // kube merges HTTPS_PROXY into proxy_url; a kubeconfig proxy-url stands for it here.
    let cluster = format!("    proxy-url: {proxy}\n");
    let resolved = resolve_yaml("https://aks-x.hcp.eastus.azmk8s.io:443", &cluster, TOKEN).await;
    let rungs = client_path_in(&resolved, &args(Duration::from_secs(2)), &env).await;
    assert_eq!(
        ids(&rungs),
        [
            "connectivity.kubeconfig.ok",
            "connectivity.path.proxy",
            "connectivity.dns.ip-literal",
            "connectivity.tcp.proxy-refused",
            "connectivity.path.not-tried",
        ]
    );
    assert_eq!(
        rungs[1].finding.title,
        format!("path: through the proxy {proxy}/ (HTTPS_PROXY), as kubectl goes")
    );
    assert_eq!(
        request.await.unwrap(),
        "CONNECT aks-x.hcp.eastus.azmk8s.io:443 HTTP/1.1\r\nHost: aks-x.hcp.eastus.azmk8s.io:443\r\n\r\n"
    );
    let refused = &rungs[3];
    assert_eq!(
        refused.finding.title,
        timed(
            refused,
            &format!(
                "TCP CONNECT aks-x.hcp.eastus.azmk8s.io:443 through the proxy 127.0.0.1:{proxy_port}: the proxy answered `HTTP/1.1 403 Forbidden`"
            )
        )
    );
    assert!(
        refused
            .finding
            .detail
            .starts_with("kubectl says: `Unable to connect to the server: Forbidden`.")
    );
    assert_eq!(
        rungs[0].finding.evidence[3].value,
        "AKS public API server endpoint, Azure public cloud"
    );
}

#[tokio::test]
async fn no_proxy_sends_kubectl_direct_and_that_path_is_tested() {
    let port = closed_port().await;
    let env = ProxyEnv {
        https_proxy: Some(("https_proxy", "http://proxy.invalid:3128".into())),
        no_proxy: Some(("no_proxy", "10.0.0.0/8,127.0.0.0/8".into())),
    };
    let cluster = "    proxy-url: http://proxy.invalid:3128\n";
    let resolved = resolve_yaml(&format!("https://127.0.0.1:{port}"), cluster, TOKEN).await;
    let rungs = client_path_in(&resolved, &args(Duration::from_secs(2)), &env).await;
    assert_eq!(
        ids(&rungs)[..4],
        [
            "connectivity.kubeconfig.ok",
            "connectivity.path.no-proxy",
            "connectivity.dns.ip-literal",
            "connectivity.tcp.refused",
        ]
    );
    // Loopback is exempt before any NO_PROXY entry is looked at, as in Go.
    assert_eq!(
        rungs[1].finding.title,
        format!(
            "path: direct to 127.0.0.1:{port}: kubectl skips the proxy http://proxy.invalid:3128/ (Go never proxies localhost or a loopback address)"
        )
    );
}

#[tokio::test]
async fn authorized_ip_math_runs_even_when_tcp_stops() {
    let port = closed_port().await;
    let resolved = resolve_yaml(&format!("https://127.0.0.1:{port}"), "", TOKEN).await;
    let args = PathArgs {
        connect_timeout: Duration::from_secs(2),
        client_ip: Some("203.0.113.9".parse().unwrap()),
        authorized_ip_ranges: vec!["198.51.100.0/24".parse().unwrap()],
    };
    let rungs = client_path_in(&resolved, &args, &ProxyEnv::default()).await;
    let last = rungs.last().unwrap();
    assert_eq!(last.finding.id, "connectivity.authorized-ip.outside");
    assert_eq!(
        last.finding.title,
        "authorized IP ranges: 203.0.113.9 is outside every range (198.51.100.0/24)"
    );
    assert_eq!(ids(&rungs)[rungs.len() - 2], "connectivity.path.not-tried");
}

/// Needs a network that drops SYNs to 10.255.255.1 (unrouted on most networks,
/// so the connect times out). This sandbox's NAT answers every SYN, so it is
/// opt-in here (`cargo test -- --ignored`); the unit tests of the error mapping
/// cover a timeout wherever this cannot.
#[tokio::test]
#[ignore = "needs a network that drops SYNs to 10.255.255.1; this sandbox answers them"]
async fn an_unanswered_syn_is_a_timeout() {
    let resolved = resolve_yaml("https://10.255.255.1:443", "", TOKEN).await;
    let rungs = client_path_in(
        &resolved,
        &args(Duration::from_secs(1)),
        &ProxyEnv::default(),
    )
    .await;
    let tcp = &rungs[3];
    assert_eq!(
        tcp.finding.id, "connectivity.tcp.timeout",
        "{:?}",
        tcp.finding
    );
    assert!(tcp.stops);
    assert_eq!(
        tcp.finding.title,
        "TCP 10.255.255.1:443: no answer in 1.0 s (timeout)"
    );
    assert!(tcp.finding.detail.starts_with(
        "kubectl says: `Unable to connect to the server: dial tcp 10.255.255.1:443: i/o timeout`. A private address that does not answer"
    ));
}
