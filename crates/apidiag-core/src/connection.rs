//! Turning the connection flags into a client, the way kubectl does.
//!
//! kubectl's rules: `--kubeconfig` names one file; otherwise every file in
//! `KUBECONFIG` is merged (first one wins per key); otherwise `~/.kube/config`;
//! otherwise, inside a pod, the service account. `--context`, `--cluster`, `--user`
//! pick entries; `--as`/`--as-group` impersonate. Exec credential plugins come with
//! kube-rs. kube-rs' own retry layer is switched off because [`crate::api`] retries
//! itself: it has to count every request it sends and honour `Retry-After`.

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};

use crate::cli::ConnectionArgs;

/// A configured client and what it is connected to.
#[derive(Clone)]
pub struct Connection {
    pub client: kube::Client,
    /// The API server URL, for messages and backups.
    pub server: String,
    /// The kubeconfig context in use, if any (none in-cluster).
    pub context: Option<String>,
    /// The namespace checks use when they need one.
    pub namespace: String,
    /// `--request-timeout`: how long one request may take, whole (None: no limit).
    pub request_timeout: Option<std::time::Duration>,
}

/// Why no client could be made. Each variant says what to try next.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No kubeconfig anywhere and not running in a pod.
    #[error(
        "no kubeconfig found (looked at --kubeconfig, $KUBECONFIG, ~/.kube/config) and not running in a pod\nhint: pass --kubeconfig FILE, or set KUBECONFIG; without a cluster, start the lab: `cargo run -p apidiag-lab -- up`"
    )]
    NoConfig,
    /// The kubeconfig file could not be read or parsed.
    #[error(
        "could not read kubeconfig `{path}`: {source}\nhint: check the path and that the file is valid YAML"
    )]
    ReadKubeconfig {
        path: String,
        #[source]
        source: KubeconfigError,
    },
    /// The kubeconfig was read but the chosen context, cluster or user does not work.
    #[error(
        "kubeconfig {what}: {source}\nhint: `kubectl config get-contexts` lists the contexts; pick one with --context"
    )]
    Select {
        what: String,
        #[source]
        source: KubeconfigError,
    },
    /// The client could not be built (TLS material, proxy settings).
    #[error(
        "could not set up a client for {server}: {source}\nhint: check the certificate data in the kubeconfig"
    )]
    Client {
        server: String,
        #[source]
        source: kube::Error,
    },
    /// A header value (user agent, impersonation) was not valid HTTP.
    #[error("invalid value for {what}: {value:?}")]
    InvalidHeader { what: &'static str, value: String },
}

/// What kubectl would connect to and as whom, before any byte is sent: the
/// client configuration of the selected context (or the pod's service account).
pub struct Resolved {
    pub config: kube::Config,
    /// The kubeconfig context in use (none in-cluster).
    pub context: Option<String>,
    /// The configuration came from the pod's service account, not a kubeconfig.
    pub in_cluster: bool,
}

/// Resolves the shared connection flags as kubectl does (which kubeconfig,
/// which context, cluster and user), without building a client: the
/// connectivity check probes that path itself before any client talks on it.
pub async fn resolve(args: &ConnectionArgs) -> Result<Resolved, ConnectError> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
    };
    Ok(match load_kubeconfig(args)? {
        Some(kubeconfig) => {
            let (config, context) = select(kubeconfig, &options).await?;
            Resolved {
                config,
                context,
                in_cluster: false,
            }
        }
        None => match kube::Config::incluster() {
            Ok(config) => Resolved {
                config,
                context: None,
                in_cluster: true,
            },
            Err(_) => return Err(ConnectError::NoConfig),
        },
    })
}

/// Builds a client from the shared connection flags.
pub async fn connect(args: &ConnectionArgs) -> Result<Connection, ConnectError> {
    let Resolved {
        mut config,
        context,
        ..
    } = resolve(args).await?;

    if let Some(namespace) = &args.namespace {
        config.default_namespace = namespace.clone();
    }
    if let Some(user) = &args.impersonate {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !args.impersonate_groups.is_empty() {
        config.auth_info.impersonate_groups = Some(args.impersonate_groups.clone());
    }
    // --request-timeout bounds each request whole, as kubectl's does: the
    // ApiClient enforces it (and knows a timeout from a dropped connection), so
    // the client's own idle-read timeout stays off.
    config.read_timeout = None;
    config.connect_timeout = Some(
        args.request_timeout
            .0
            .unwrap_or(std::time::Duration::from_secs(30))
            .min(std::time::Duration::from_secs(30)),
    );
    config.reset_reader_on_write = true;
    config.default_retry = false;
    let agent = crate::user_agent();
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_str(&agent).map_err(|_| ConnectError::InvalidHeader {
            what: "user agent",
            value: agent.clone(),
        })?,
    ));

    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let namespace = config.default_namespace.clone();
    let client = kube::Client::try_from(config).map_err(|source| ConnectError::Client {
        server: server.clone(),
        source,
    })?;
    Ok(Connection {
        request_timeout: args.request_timeout.0,
        client,
        server,
        context,
        namespace,
    })
}

/// The client configuration for the context `options` names, else the current
/// one, and that context's name. It sends nothing: it looks the context, cluster
/// and user up, parses the server URL and loads the CA (which may name a file).
pub async fn select(
    kubeconfig: Kubeconfig,
    options: &KubeConfigOptions,
) -> Result<(kube::Config, Option<String>), ConnectError> {
    let context = options
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone());
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, options)
        .await
        .map_err(|source| ConnectError::Select {
            what: match &options.context {
                Some(name) => format!("context `{name}`"),
                None => "current context".to_string(),
            },
            source,
        })?;
    Ok((config, context))
}

/// Merges kubeconfigs the way kubectl merges the files of `KUBECONFIG`, in order:
/// the first to set a key (a cluster, user or context name, the current context)
/// wins. Each comes with the place it was read from, which an error names.
/// `None` when there are none.
pub fn merge_kubeconfigs(
    configs: impl IntoIterator<Item = (String, Kubeconfig)>,
) -> Result<Option<Kubeconfig>, ConnectError> {
    let mut merged: Option<Kubeconfig> = None;
    for (path, next) in configs {
        merged = Some(match merged {
            None => next,
            Some(current) => current
                .merge(next)
                .map_err(|source| ConnectError::ReadKubeconfig { path, source })?,
        });
    }
    Ok(merged)
}

/// The kubeconfig kubectl would use, or `None` when there is none (in-cluster).
fn load_kubeconfig(args: &ConnectionArgs) -> Result<Option<Kubeconfig>, ConnectError> {
    if let Some(path) = &args.kubeconfig {
        return read_kubeconfig(path).map(Some);
    }
    if let Some(paths) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        // kubectl skips entries that do not exist; a KUBECONFIG naming only missing
        // files behaves like no kubeconfig at all. Like kubectl, every file is read
        // before any is merged.
        let configs = std::env::split_paths(&paths)
            .filter(|p| p.exists())
            .map(|path| Ok((path.display().to_string(), read_kubeconfig(&path)?)))
            .collect::<Result<Vec<_>, ConnectError>>()?;
        if let Some(merged) = merge_kubeconfigs(configs)? {
            return Ok(Some(merged));
        }
    }
    match home_kubeconfig() {
        Some(path) if path.exists() => read_kubeconfig(&path).map(Some),
        _ => Ok(None),
    }
}

/// [`Kubeconfig::read_from`] less a panic: kube-client 5.0 indexes past the end
/// of a file that starts with a UTF-16 byte-order mark and has an odd number of
/// bytes. No such file is UTF-16, so it gets the error kube gives for invalid
/// UTF-16 instead. Only a regular file is looked at first: peeking into a pipe
/// (`--kubeconfig <(…)`) would take the bytes kube is about to read.
fn read_kubeconfig(path: &Path) -> Result<Kubeconfig, ConnectError> {
    let error = |source| ConnectError::ReadKubeconfig {
        path: path.display().to_string(),
        source,
    };
    if is_torn_utf16(path) {
        let invalid = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "Invalid UTF-16: an odd number of bytes",
        );
        return Err(error(KubeconfigError::ReadConfig(invalid, path.into())));
    }
    Kubeconfig::read_from(path).map_err(error)
}

/// Whether `path` is a regular file with a UTF-16 byte-order mark and an odd
/// length. Any error is left for [`Kubeconfig::read_from`] to report.
fn is_torn_utf16(path: &Path) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut bom = [0u8; 2];
    file.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.len() % 2 == 1)
        && file.read_exact(&mut bom).is_ok()
        && matches!(bom, [0xFF, 0xFE] | [0xFE, 0xFF])
}

fn home_kubeconfig() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".kube").join("config"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> Kubeconfig {
        Kubeconfig::from_yaml(yaml).expect("test kubeconfig")
    }

    const LAB: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: "https://127.0.0.1:6443"
users:
- name: admin
  user:
    token: first
contexts:
- name: admin@lab
  context:
    cluster: lab
    user: admin
current-context: admin@lab
"#;

    const OTHER: &str = r#"
clusters:
- name: lab
  cluster:
    server: "https://10.0.0.1:6443"
- name: prod
  cluster:
    server: "https://prod.example:443"
users:
- name: admin
  user:
    token: second
contexts:
- name: admin@prod
  context:
    cluster: prod
    user: admin
    namespace: team
current-context: admin@prod
"#;

    #[test]
    fn merging_keeps_the_first_of_each_name_and_the_first_current_context() {
        let merged = merge_kubeconfigs([
            ("a".to_string(), config(LAB)),
            ("b".to_string(), config(OTHER)),
        ])
        .expect("merge")
        .expect("a kubeconfig");
        assert_eq!(merged.current_context.as_deref(), Some("admin@lab"));
        let clusters: Vec<_> = merged
            .clusters
            .iter()
            .map(|c| {
                let server = c.cluster.as_ref().and_then(|c| c.server.as_deref());
                (c.name.as_str(), server)
            })
            .collect();
        assert_eq!(
            clusters,
            [
                ("lab", Some("https://127.0.0.1:6443")),
                ("prod", Some("https://prod.example:443"))
            ]
        );
        // The second file's `admin` is dropped, not merged field by field.
        assert_eq!(merged.auth_infos.len(), 1);
        assert_eq!(merged.contexts.len(), 2);
    }

    /// kube-client 5.0 panicked ("index out of bounds") on a kubeconfig file that
    /// starts with a UTF-16 byte-order mark and has an odd length.
    #[test]
    fn regression_an_odd_length_utf16_kubeconfig_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("temp dir");
        for bom in [[0xFF, 0xFE], [0xFE, 0xFF]] {
            let path = dir.path().join("config");
            std::fs::write(&path, [bom[0], bom[1], b'k']).expect("write");
            let err = read_kubeconfig(&path).expect_err("not UTF-16");
            assert!(
                matches!(
                    &err,
                    ConnectError::ReadKubeconfig {
                        source: KubeconfigError::ReadConfig(..),
                        ..
                    }
                ),
                "{err:?}"
            );
        }
        // An even-length UTF-16 file still reads.
        let path = dir.path().join("utf16le");
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(
            "kind: Config\ncurrent-context: lab\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        std::fs::write(&path, bytes).expect("write");
        let config = read_kubeconfig(&path).expect("UTF-16 LE reads");
        assert_eq!(config.current_context.as_deref(), Some("lab"));
    }

    #[test]
    fn merging_nothing_is_no_kubeconfig() {
        assert!(merge_kubeconfigs([]).expect("merge").is_none());
    }

    #[test]
    fn a_kubeconfig_of_another_kind_is_named_in_the_error() {
        let err = merge_kubeconfigs([
            ("a".to_string(), config(LAB)),
            ("b".to_string(), config("kind: Policy\n")),
        ])
        .expect_err("kinds differ");
        assert!(
            matches!(&err, ConnectError::ReadKubeconfig { path, .. } if path == "b"),
            "{err:?}"
        );
    }

    #[test]
    fn select_takes_the_current_context_unless_one_is_named() {
        let merged = merge_kubeconfigs([
            ("a".to_string(), config(LAB)),
            ("b".to_string(), config(OTHER)),
        ])
        .expect("merge")
        .expect("a kubeconfig");
        let (config, context) =
            futures::executor::block_on(select(merged.clone(), &KubeConfigOptions::default()))
                .expect("current context");
        assert_eq!(context.as_deref(), Some("admin@lab"));
        assert_eq!(config.cluster_url.to_string(), "https://127.0.0.1:6443/");
        assert_eq!(config.default_namespace, "default");

        let options = KubeConfigOptions {
            context: Some("admin@prod".into()),
            ..KubeConfigOptions::default()
        };
        let (config, context) =
            futures::executor::block_on(select(merged.clone(), &options)).expect("named context");
        assert_eq!(context.as_deref(), Some("admin@prod"));
        assert_eq!(config.default_namespace, "team");

        let options = KubeConfigOptions {
            context: Some("nope".into()),
            ..KubeConfigOptions::default()
        };
        let err = futures::executor::block_on(select(merged, &options)).expect_err("no such");
        assert!(
            matches!(&err, ConnectError::Select { what, .. } if what == "context `nope`"),
            "{err:?}"
        );
    }
}
