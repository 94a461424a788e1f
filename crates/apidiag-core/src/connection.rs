//! Turning the connection flags into a client, the way kubectl does.
//!
//! kubectl's rules: `--kubeconfig` names one file; otherwise every file in
//! `KUBECONFIG` is merged (first one wins per key); otherwise `~/.kube/config`;
//! otherwise, inside a pod, the service account. `--context`, `--cluster`, `--user`
//! pick entries; `--as`/`--as-group` impersonate. Exec credential plugins come with
//! kube-rs. kube-rs' own retry layer is switched off because [`crate::api`] retries
//! itself: it has to count every request it sends and honour `Retry-After`.

use std::path::PathBuf;

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

/// Builds a client from the shared connection flags.
pub async fn connect(args: &ConnectionArgs) -> Result<Connection, ConnectError> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
    };
    let kubeconfig = load_kubeconfig(args)?;
    let (mut config, context) = match kubeconfig {
        Some(kubeconfig) => {
            let context = options
                .context
                .clone()
                .or_else(|| kubeconfig.current_context.clone());
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|source| ConnectError::Select {
                    what: match &options.context {
                        Some(name) => format!("context `{name}`"),
                        None => "current context".to_string(),
                    },
                    source,
                })?;
            (config, context)
        }
        None => match kube::Config::incluster() {
            Ok(config) => (config, None),
            Err(_) => return Err(ConnectError::NoConfig),
        },
    };

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

/// The kubeconfig kubectl would use, or `None` when there is none (in-cluster).
fn load_kubeconfig(args: &ConnectionArgs) -> Result<Option<Kubeconfig>, ConnectError> {
    if let Some(path) = &args.kubeconfig {
        return Kubeconfig::read_from(path).map(Some).map_err(|source| {
            ConnectError::ReadKubeconfig {
                path: path.display().to_string(),
                source,
            }
        });
    }
    if let Some(paths) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        // kubectl skips entries that do not exist; a KUBECONFIG naming only missing
        // files behaves like no kubeconfig at all.
        let mut merged: Option<Kubeconfig> = None;
        for path in std::env::split_paths(&paths).filter(|p| p.exists()) {
            let next =
                Kubeconfig::read_from(&path).map_err(|source| ConnectError::ReadKubeconfig {
                    path: path.display().to_string(),
                    source,
                })?;
            merged = Some(match merged {
                None => next,
                Some(current) => {
                    current
                        .merge(next)
                        .map_err(|source| ConnectError::ReadKubeconfig {
                            path: path.display().to_string(),
                            source,
                        })?
                }
            });
        }
        if merged.is_some() {
            return Ok(merged);
        }
    }
    let default = home_kubeconfig();
    match default {
        Some(path) if path.exists() => {
            Kubeconfig::read_from(&path)
                .map(Some)
                .map_err(|source| ConnectError::ReadKubeconfig {
                    path: path.display().to_string(),
                    source,
                })
        }
        _ => Ok(None),
    }
}

fn home_kubeconfig() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".kube").join("config"))
}
