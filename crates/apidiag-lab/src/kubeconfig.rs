//! Kubeconfig files for the lab's identities, and clients built from them.
//!
//! Credentials are embedded (`*-data`) rather than referenced by path, so a
//! kubeconfig stays usable when copied out of the lab directory, exactly like the
//! admin kubeconfig of a managed cluster. Clients are always built from these files,
//! so tests exercise the same path kubectl and the plugins take.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::LabError;
use crate::encoding::base64;
use crate::pki::CertKey;

/// The cluster's name inside every lab kubeconfig.
pub const CLUSTER_NAME: &str = "apidiag-lab";

/// Renders a kubeconfig for one client-certificate user.
///
/// `namespace` becomes the context's default namespace (kubectl's `-n`).
pub fn render(
    server: &str,
    ca_cert_pem: &str,
    user: &str,
    credentials: &CertKey,
    namespace: Option<&str>,
) -> String {
    let context = format!("{user}@{CLUSTER_NAME}");
    let namespace = namespace
        .map(|ns| format!("    namespace: {}\n", yaml_str(ns)))
        .unwrap_or_default();
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {cluster}\n  \
           cluster:\n    \
             server: {server}\n    \
             certificate-authority-data: {ca}\n\
         users:\n\
         - name: {user}\n  \
           user:\n    \
             client-certificate-data: {cert}\n    \
             client-key-data: {key}\n\
         contexts:\n\
         - name: {context}\n  \
           context:\n    \
             cluster: {cluster}\n    \
             user: {user}\n\
         {namespace}\
         current-context: {context}\n",
        cluster = CLUSTER_NAME,
        server = yaml_str(server),
        ca = base64(ca_cert_pem.as_bytes()),
        user = yaml_str(user),
        cert = base64(credentials.cert_pem.as_bytes()),
        key = base64(credentials.key_pem.as_bytes()),
        context = yaml_str(&context),
    )
}

/// Quotes a value for YAML: user names such as `system:kube-controller-manager`
/// contain `:` and would otherwise risk being read as something else.
fn yaml_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// Writes a kubeconfig with owner-only permissions (it carries a private key).
pub fn write(path: &Path, contents: &str) -> Result<(), LabError> {
    crate::pki::write_file(path, contents, true)
}

/// Options for [`client`].
#[derive(Debug, Clone, Default)]
pub struct ClientOptions<'a> {
    /// The User-Agent header, so the audit log and APF metrics can tell callers apart.
    pub user_agent: Option<&'a str>,
    /// Turn off kube-rs' automatic retries of 429/503/504, e.g. to count throttling.
    pub no_retry: bool,
}

/// A new client for a kubeconfig file (a fresh connection pool every call, so it is
/// safe to use from any tokio runtime).
pub async fn client(path: &Path, options: ClientOptions<'_>) -> Result<kube::Client, LabError> {
    let config = config(path, options).await?;
    kube::Client::try_from(config).map_err(|e| LabError::Kubeconfig {
        path: path.to_owned(),
        source: Box::new(e),
    })
}

/// The kube-rs configuration of a kubeconfig file, with [`ClientOptions`] applied.
pub async fn config(path: &Path, options: ClientOptions<'_>) -> Result<kube::Config, LabError> {
    let err = |e: Box<dyn std::error::Error + Send + Sync>| LabError::Kubeconfig {
        path: path.to_owned(),
        source: e,
    };
    let kubeconfig = Kubeconfig::read_from(path).map_err(|e| err(Box::new(e)))?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .map_err(|e| err(Box::new(e)))?;
    if let Some(agent) = options.user_agent {
        let value = http::HeaderValue::from_str(agent).map_err(|e| err(Box::new(e)))?;
        config.headers.push((http::header::USER_AGENT, value));
    }
    if options.no_retry {
        config.default_retry = false;
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> CertKey {
        CertKey {
            cert_pem: "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n".into(),
            key_pem: "-----BEGIN PRIVATE KEY-----\nxyz\n-----END PRIVATE KEY-----\n".into(),
        }
    }

    #[test]
    fn renders_a_kubeconfig_kube_rs_can_parse() {
        let yaml = render(
            "https://127.0.0.1:6443",
            "CA",
            "system:kube-controller-manager",
            &creds(),
            Some("team-a"),
        );
        let kc = Kubeconfig::from_yaml(&yaml).unwrap();
        assert_eq!(
            kc.current_context.as_deref(),
            Some("system:kube-controller-manager@apidiag-lab")
        );
        let cluster = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:6443"));
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some("Q0E="));
        let ctx = kc.contexts[0].context.as_ref().unwrap();
        assert_eq!(ctx.namespace.as_deref(), Some("team-a"));
        assert_eq!(ctx.user.as_deref(), Some("system:kube-controller-manager"));
        let auth = kc.auth_infos[0].auth_info.as_ref().unwrap();
        assert_eq!(
            auth.client_certificate_data.as_deref(),
            Some(base64(creds().cert_pem.as_bytes()).as_str())
        );
    }

    #[test]
    fn namespace_is_optional() {
        let yaml = render("https://127.0.0.1:1", "CA", "lab-admin", &creds(), None);
        let kc = Kubeconfig::from_yaml(&yaml).unwrap();
        assert_eq!(kc.contexts[0].context.as_ref().unwrap().namespace, None);
    }

    #[tokio::test]
    async fn config_applies_user_agent_and_retry_options() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        let pki = crate::pki::Pki::generate().unwrap();
        let yaml = render(
            "https://127.0.0.1:1",
            &pki.ca.pair.cert_pem,
            "lab-admin",
            &pki.admin,
            None,
        );
        write(&path, &yaml).unwrap();
        let options = ClientOptions {
            user_agent: Some("lab-test/1.0"),
            no_retry: true,
        };
        let config = config(&path, options).await.unwrap();
        assert!(!config.default_retry);
        assert_eq!(config.headers[0].1, "lab-test/1.0");
        assert_eq!(config.cluster_url.to_string(), "https://127.0.0.1:1/");
        client(&path, ClientOptions::default()).await.unwrap();
    }
}
