//! What a check is to the framework: the [`Context`] it runs in and the
//! [`CheckSpec`] the suite runs it by. The core never names a check; the list of
//! checks belongs to the `kubectl-apidiag` plugin, which depends on every check
//! crate.
//!
//! A check reads the cluster politely and returns a [`CheckReport`]. Checks that
//! can fix what they find also return the state their plans are built from, so a
//! fix never re-reads what the diagnosis already read.

use futures::future::BoxFuture;
use tokio::sync::OnceCell;

use apidiag_metrics::MetricFamilies;

use crate::api::{ApiClient, ApiError};
use crate::cli::GlobalArgs;
use crate::finding::{CheckReport, ServerInfo};

/// What every check gets: the one polite client of the run, what is known of the
/// server, and the run's one `/metrics` scrape.
pub struct Context {
    pub api: ApiClient,
    pub server: ServerInfo,
    /// The namespace for namespaced checks (from `-n` or the kubeconfig context).
    pub namespace: String,
    pub global: GlobalArgs,
    metrics: OnceCell<Result<MetricFamilies, ApiError>>,
    cluster_uid: OnceCell<Result<Option<String>, ApiError>>,
}

impl Context {
    pub fn new(api: ApiClient, server: ServerInfo, namespace: String, global: GlobalArgs) -> Self {
        Context {
            api,
            server,
            namespace,
            global,
            metrics: OnceCell::new(),
            cluster_uid: OnceCell::new(),
        }
    }

    /// `/metrics`, fetched and parsed once per run whoever asks first: on a
    /// 5,000-node cluster the scrape is tens of MB, and every check of
    /// `kubectl apidiag` reads it. Checks running concurrently wait for the one
    /// fetch; a failed fetch is not retried within the run (the client already
    /// retried it), so every check reports the same gap.
    pub async fn metrics(&self) -> Result<&MetricFamilies, &ApiError> {
        self.metrics
            .get_or_init(|| async {
                self.api
                    .get_text("/metrics")
                    .await
                    .map(|text| MetricFamilies::parse(&text))
            })
            .await
            .as_ref()
    }

    /// The cluster's identity: the UID of its `kube-system` namespace, read once
    /// (one GET) when a fix or an undo needs it. `Ok(None)` where this identity may
    /// not read it (403, 404); another error (a timeout, a 5xx) is an error, so that
    /// undo can refuse rather than skip the check.
    pub async fn cluster_uid(&self) -> Result<Option<&str>, &ApiError> {
        #[derive(serde::Deserialize)]
        struct Namespace {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        }
        self.cluster_uid
            .get_or_init(|| async {
                match self
                    .api
                    .get::<Namespace>("/api/v1/namespaces/kube-system")
                    .await
                {
                    Ok(ns) => Ok(ns.metadata.uid),
                    Err(error) if error.is_forbidden() || error.is_not_found() => Ok(None),
                    Err(error) => Err(error),
                }
            })
            .await
            .as_ref()
            .map(Option::as_deref)
    }
}

impl Context {
    /// `report` as it stands once the run is over: when a request of this run got
    /// no answer within `--request-timeout`, the API server (or the etcd behind
    /// it) stalled, every later request was not sent, and whatever the check
    /// concluded rests on evidence that is missing. It could not check, and says
    /// why, instead of showing findings that look like a diagnosis.
    pub fn judged(&self, mut report: CheckReport) -> CheckReport {
        if !self.api.stalled()
            || matches!(
                report.status,
                crate::finding::CheckStatus::CouldNotCheck { .. }
            )
        {
            return report;
        }
        let limit = self
            .global
            .connection
            .request_timeout
            .0
            .map_or(String::new(), |d| format!(" ({d:?})"));
        report.status = crate::finding::CheckStatus::CouldNotCheck {
            reason: format!(
                "the API server stopped answering: a request got no answer within --request-timeout{limit}, and apidiag sent nothing more so as not to add to its queue"
            ),
            hint: "`kubectl get --raw '/readyz?verbose'` says whether the API server reaches etcd; `kubectl apidiag connectivity` checks the path to it; a longer --request-timeout waits longer".into(),
        };
        report.findings.clear();
        report
    }
}

/// A check as the suite runs it when given no check: name, one line, and its
/// read-only diagnosis.
pub struct CheckSpec {
    /// As in `kubectl apidiag <name>` and the `kubectl-apidiag-<name>` binary.
    pub name: &'static str,
    pub about: &'static str,
    /// Read-only diagnosis.
    pub diagnose: for<'a> fn(&'a Context) -> BoxFuture<'a, CheckReport>,
}

/// A check's report when an API error stopped it: permission problems say which
/// permissions the check needs, everything else says what failed and the error's
/// own hint.
pub fn could_not_check(check: &str, error: &ApiError, permissions: &str) -> CheckReport {
    let hint = match error {
        ApiError::Forbidden { .. } => format!("this check needs: {permissions}"),
        _ => error.hint().unwrap_or_default().to_string(),
    };
    CheckReport::could_not_check(check, error.to_string(), hint)
}
