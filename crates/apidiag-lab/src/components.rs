//! The command lines of etcd, kube-apiserver and kube-controller-manager.
//!
//! Everything here is a deliberate choice for a lab that must start in seconds,
//! look like a managed cluster to apidiag, and make faults observable quickly;
//! the reasons sit next to the flags.

use std::path::{Path, PathBuf};

use crate::pki::{FRONT_PROXY_CLIENT, PkiFiles};

/// The service CIDR; `10.0.0.1` (the `kubernetes` Service) is in the serving SANs.
pub const SERVICE_CIDR: &str = "10.0.0.0/16";

/// The service-account token issuer, as on a kubeadm cluster.
pub const SERVICE_ACCOUNT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// etcd's backend quota: 8 GiB, the value AKS uses (and etcd's recommended maximum).
pub const ETCD_QUOTA_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// The API server's total concurrency is the sum of these two (60 seats). Low on
/// purpose: APF shares them out by `nominalConcurrencyShares`, so a one-share
/// priority level gets a single seat and the `flood` scenario is rejected within
/// milliseconds, while `system:masters` (exempt) and the built-in levels keep
/// plenty for tests and kube-controller-manager.
pub const MAX_REQUESTS_INFLIGHT: u32 = 40;
/// See [`MAX_REQUESTS_INFLIGHT`].
pub const MAX_MUTATING_REQUESTS_INFLIGHT: u32 = 20;

/// How often the API server refreshes `apiserver_storage_size_bytes` and the object
/// counts (`apiserver_resource_objects`/`apiserver_storage_objects`). Upstream polls
/// every 30 s / 1 min; 5 s lets tests see their objects without long sleeps.
pub const STORAGE_METRICS_POLL: &str = "5s";

/// Audit every request at Metadata level: who, what, from which user agent and with
/// what response code, but no bodies, which keeps the log small enough to keep.
/// `RequestReceived` is omitted because `ResponseComplete` carries the same and more.
pub const AUDIT_POLICY: &str = "\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - RequestReceived
rules:
  - level: Metadata
";

/// Files and directories one lab uses.
#[derive(Debug, Clone)]
pub struct Layout {
    pub dir: PathBuf,
    pub logs: PathBuf,
    pub etcd_data: PathBuf,
    pub audit_log: PathBuf,
    pub audit_policy: PathBuf,
    pub admin_kubeconfig: PathBuf,
    pub user_kubeconfig: PathBuf,
    pub flooder_kubeconfig: PathBuf,
    pub controller_manager_kubeconfig: PathBuf,
}

impl Layout {
    pub fn new(dir: &Path) -> Layout {
        Layout {
            dir: dir.to_owned(),
            logs: dir.join("logs"),
            etcd_data: dir.join("etcd"),
            audit_log: dir.join("audit/audit.log"),
            audit_policy: dir.join("audit/policy.yaml"),
            admin_kubeconfig: dir.join("kubeconfig"),
            user_kubeconfig: dir.join("kubeconfig-user"),
            flooder_kubeconfig: dir.join("kubeconfig-flooder"),
            controller_manager_kubeconfig: dir.join("kubeconfig-controller-manager"),
        }
    }

    pub fn pki(&self) -> PathBuf {
        self.dir.join("pki")
    }

    pub fn log(&self, component: &str) -> PathBuf {
        self.logs.join(format!("{component}.log"))
    }
}

/// Single-member etcd on two loopback ports.
pub fn etcd_args(layout: &Layout, client_port: u16, peer_port: u16) -> Vec<String> {
    let client = format!("http://127.0.0.1:{client_port}");
    let peer = format!("http://127.0.0.1:{peer_port}");
    vec![
        "--name=lab".into(),
        format!("--data-dir={}", layout.etcd_data.display()),
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=lab={peer}"),
        "--initial-cluster-state=new".into(),
        // The lab's data is disposable; fsync would make bulk scenarios disk-bound.
        "--unsafe-no-fsync".into(),
        format!("--quota-backend-bytes={ETCD_QUOTA_BYTES}"),
        // Warnings and errors only: etcd logs every request at info.
        "--log-level=warn".into(),
    ]
}

/// kube-apiserver configured like a small managed control plane.
pub fn apiserver_args(
    layout: &Layout,
    pki: &PkiFiles,
    port: u16,
    etcd_client_port: u16,
) -> Vec<String> {
    let p = |path: &Path| path.display().to_string();
    vec![
        "--bind-address=127.0.0.1".into(),
        "--advertise-address=127.0.0.1".into(),
        // The endpoint reconciler refuses loopback addresses, and nothing in the lab
        // reaches the API server through the `kubernetes` Service anyway.
        "--endpoint-reconciler-type=none".into(),
        format!("--secure-port={port}"),
        format!("--etcd-servers=http://127.0.0.1:{etcd_client_port}"),
        format!("--tls-cert-file={}", p(&pki.serving_cert)),
        format!("--tls-private-key-file={}", p(&pki.serving_key)),
        format!("--client-ca-file={}", p(&pki.ca_cert)),
        // RBAC only: there are no kubelets to authorize with the Node authorizer.
        "--authorization-mode=RBAC".into(),
        format!("--service-account-issuer={SERVICE_ACCOUNT_ISSUER}"),
        format!("--service-account-key-file={}", p(&pki.service_account_pub)),
        format!(
            "--service-account-signing-key-file={}",
            p(&pki.service_account_key)
        ),
        format!("--service-cluster-ip-range={SERVICE_CIDR}"),
        "--allow-privileged=true".into(),
        // APF with a deliberately small seat budget (see MAX_REQUESTS_INFLIGHT).
        "--enable-priority-and-fairness=true".into(),
        format!("--max-requests-inflight={MAX_REQUESTS_INFLIGHT}"),
        format!("--max-mutating-requests-inflight={MAX_MUTATING_REQUESTS_INFLIGHT}"),
        // The aggregation layer, so APIService faults are real.
        format!(
            "--requestheader-client-ca-file={}",
            p(&pki.front_proxy_ca_cert)
        ),
        format!("--requestheader-allowed-names={FRONT_PROXY_CLIENT}"),
        "--requestheader-username-headers=X-Remote-User".into(),
        "--requestheader-group-headers=X-Remote-Group".into(),
        "--requestheader-extra-headers-prefix=X-Remote-Extra-".into(),
        format!(
            "--proxy-client-cert-file={}",
            p(&pki.front_proxy_client_cert)
        ),
        format!("--proxy-client-key-file={}", p(&pki.front_proxy_client_key)),
        // No kube-proxy on loopback: reach extension servers and webhooks through
        // their endpoints, so a Service without endpoints fails fast and clearly.
        "--enable-aggregator-routing=true".into(),
        format!("--audit-policy-file={}", p(&layout.audit_policy)),
        format!("--audit-log-path={}", p(&layout.audit_log)),
        "--audit-log-format=json".into(),
        // Blocking (the default for the log backend) so a request is in the log by
        // the time its response arrives; tests rely on that.
        "--audit-log-mode=blocking".into(),
        "--audit-log-maxsize=1024".into(),
        "--audit-log-maxbackup=1".into(),
        format!("--etcd-db-metric-poll-interval={STORAGE_METRICS_POLL}"),
        format!("--etcd-count-metric-poll-period={STORAGE_METRICS_POLL}"),
        // Scenario events (e.g. the guard's) should outlive an afternoon's lab.
        "--event-ttl=24h".into(),
        "--profiling=false".into(),
        "--v=1".into(),
    ]
}

/// `--controllers`: every default one but node lifecycle, and without
/// `workload_controllers` not the Deployment, ReplicaSet and DaemonSet ones.
fn controllers(workload_controllers: bool) -> String {
    let mut controllers = "--controllers=*,-node-lifecycle-controller".to_owned();
    if !workload_controllers {
        controllers
            .push_str(",-deployment-controller,-replicaset-controller,-daemonset-controller");
    }
    controllers
}

/// kube-controller-manager: enough of it to run Jobs, CronJobs, TTL-after-finished,
/// garbage collection and service accounts, fast.
///
/// Never the node lifecycle controller: no kubelet renews a Node's Lease in the
/// lab, so it would mark every Node a scenario or test writes Unknown 40–50 s
/// later, taint it and evict its Pods. Without `workload_controllers`, not the
/// Deployment, ReplicaSet and DaemonSet controllers either ([`LabOptions`]).
///
/// [`LabOptions`]: crate::LabOptions
pub fn controller_manager_args(
    layout: &Layout,
    pki: &PkiFiles,
    workload_controllers: bool,
) -> Vec<String> {
    let p = |path: &Path| path.display().to_string();
    let kubeconfig = p(&layout.controller_manager_kubeconfig);
    vec![
        controllers(workload_controllers),
        format!("--kubeconfig={kubeconfig}"),
        // Nothing scrapes it, and one port fewer is one race fewer.
        "--secure-port=0".into(),
        "--leader-elect=false".into(),
        // One identity (system:kube-controller-manager) for every controller: no
        // per-controller tokens to mint, and the bootstrap RBAC policy covers it.
        "--use-service-account-credentials=false".into(),
        format!(
            "--service-account-private-key-file={}",
            p(&pki.service_account_key)
        ),
        format!("--root-ca-file={}", p(&pki.ca_cert)),
        format!("--cluster-signing-cert-file={}", p(&pki.ca_cert)),
        format!("--cluster-signing-key-file={}", p(&pki.ca_key)),
        format!("--service-cluster-ip-range={SERVICE_CIDR}"),
        // Client-side rate limits would make bulk Job completion crawl (and its
        // APF level, workload-high, still bounds it server-side).
        "--kube-api-qps=500".into(),
        "--kube-api-burst=1000".into(),
        "--concurrent-job-syncs=50".into(),
        "--concurrent-ttl-after-finished-syncs=20".into(),
        "--concurrent-gc-syncs=30".into(),
        "--v=1".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_lifecycle_never_runs_and_a_scale_lab_has_no_workload_controllers() {
        assert_eq!(
            controllers(true),
            "--controllers=*,-node-lifecycle-controller"
        );
        assert_eq!(
            controllers(false),
            "--controllers=*,-node-lifecycle-controller,-deployment-controller,-replicaset-controller,-daemonset-controller"
        );
    }
}
