//! `/metrics` bodies for tests, shaped like real kube-apiserver output: the
//! same HELP/TYPE layout, label order and float formatting (Go's `%g`-style
//! `1.234e+07`), trimmed to the families the checks read plus a few others
//! around them, so tests exercise the parser on what it will really meet.

/// A 1.37 server: new names only where 1.37 has them, the deprecated
/// `apiserver_storage_objects` still present (as with
/// `--show-hidden-metrics-for-version`), APF under load, one webhook name
/// with every label escape.
pub(crate) const FIXTURE_1_37: &str = r#"# HELP apiserver_admission_webhook_rejection_count [ALPHA] Admission webhook rejection count, identified by name and broken out for each admission type (validating or admit) and operation. Additional labels specify an error type (calling_webhook_error or apiserver_internal_error if an error occurred; no_error otherwise) and optionally a non-zero rejection code if the webhook rejects the request with an HTTP status code (honored by the apiserver when the code is greater or equal to 400). Codes greater than 600 are truncated to 600, to keep the metrics cardinality bounded.
# TYPE apiserver_admission_webhook_rejection_count counter
apiserver_admission_webhook_rejection_count{error_type="no_error",name="deny \"privileged\" pods\\prod\nv2",operation="CREATE",rejection_code="403",type="validating"} 17
# HELP apiserver_flowcontrol_current_executing_requests [BETA] Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage in the API Priority and Fairness subsystem
# TYPE apiserver_flowcontrol_current_executing_requests gauge
apiserver_flowcontrol_current_executing_requests{flow_schema="exempt",priority_level="exempt"} 3
apiserver_flowcontrol_current_executing_requests{flow_schema="kube-controller-manager",priority_level="workload-high"} 2
apiserver_flowcontrol_current_executing_requests{flow_schema="kube-system-service-accounts",priority_level="workload-low"} 2
apiserver_flowcontrol_current_executing_requests{flow_schema="service-accounts",priority_level="workload-low"} 5
# HELP apiserver_flowcontrol_current_inqueue_requests [BETA] Number of requests currently pending in queues of the API Priority and Fairness subsystem
# TYPE apiserver_flowcontrol_current_inqueue_requests gauge
apiserver_flowcontrol_current_inqueue_requests{flow_schema="global-default",priority_level="global-default"} 0
apiserver_flowcontrol_current_inqueue_requests{flow_schema="kube-system-service-accounts",priority_level="workload-low"} 11
apiserver_flowcontrol_current_inqueue_requests{flow_schema="service-accounts",priority_level="workload-low"} 30
# HELP apiserver_flowcontrol_dispatched_requests_total [BETA] Number of requests executed by API Priority and Fairness subsystem
# TYPE apiserver_flowcontrol_dispatched_requests_total counter
apiserver_flowcontrol_dispatched_requests_total{flow_schema="exempt",priority_level="exempt"} 5012
apiserver_flowcontrol_dispatched_requests_total{flow_schema="kube-controller-manager",priority_level="workload-high"} 99120
apiserver_flowcontrol_dispatched_requests_total{flow_schema="service-accounts",priority_level="workload-low"} 182734
# HELP apiserver_flowcontrol_nominal_limit_seats [BETA] Nominal number of execution seats configured for each priority level
# TYPE apiserver_flowcontrol_nominal_limit_seats gauge
apiserver_flowcontrol_nominal_limit_seats{priority_level="exempt"} 0
apiserver_flowcontrol_nominal_limit_seats{priority_level="global-default"} 49
apiserver_flowcontrol_nominal_limit_seats{priority_level="workload-high"} 98
apiserver_flowcontrol_nominal_limit_seats{priority_level="workload-low"} 245
# HELP apiserver_flowcontrol_rejected_requests_total [BETA] Number of requests rejected by API Priority and Fairness subsystem
# TYPE apiserver_flowcontrol_rejected_requests_total counter
apiserver_flowcontrol_rejected_requests_total{flow_schema="global-default",priority_level="global-default",reason="concurrency-limit"} 4
apiserver_flowcontrol_rejected_requests_total{flow_schema="kube-scheduler",priority_level="workload-high",reason="cancelled"} 1
apiserver_flowcontrol_rejected_requests_total{flow_schema="service-accounts",priority_level="workload-low",reason="queue-full"} 1523
apiserver_flowcontrol_rejected_requests_total{flow_schema="service-accounts",priority_level="workload-low",reason="time-out"} 87
# HELP apiserver_flowcontrol_request_wait_duration_seconds [BETA] Length of time a request spent waiting in its queue
# TYPE apiserver_flowcontrol_request_wait_duration_seconds histogram
apiserver_flowcontrol_request_wait_duration_seconds_bucket{execute="true",flow_schema="service-accounts",priority_level="workload-low",le="0.1"} 900
apiserver_flowcontrol_request_wait_duration_seconds_bucket{execute="true",flow_schema="service-accounts",priority_level="workload-low",le="1"} 980
apiserver_flowcontrol_request_wait_duration_seconds_bucket{execute="true",flow_schema="service-accounts",priority_level="workload-low",le="10"} 1000
apiserver_flowcontrol_request_wait_duration_seconds_bucket{execute="true",flow_schema="service-accounts",priority_level="workload-low",le="+Inf"} 1000
apiserver_flowcontrol_request_wait_duration_seconds_sum{execute="true",flow_schema="service-accounts",priority_level="workload-low"} 212.5
apiserver_flowcontrol_request_wait_duration_seconds_count{execute="true",flow_schema="service-accounts",priority_level="workload-low"} 1000
# HELP apiserver_longrunning_requests [ALPHA] Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.
# TYPE apiserver_longrunning_requests gauge
apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="cluster",subresource="",verb="WATCH",version="v1"} 120
apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="namespace",subresource="",verb="WATCH",version="v1"} 35
apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="namespace",subresource="exec",verb="CONNECT",version="v1"} 2
apiserver_longrunning_requests{component="apiserver",group="batch",resource="jobs",scope="cluster",subresource="",verb="WATCH",version="v1"} 12
# HELP apiserver_request_duration_seconds [STABLE] Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.
# TYPE apiserver_request_duration_seconds histogram
apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="GET",version="v1",le="0.005"} 1200
apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="GET",version="v1",le="0.025"} 1800
apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="GET",version="v1",le="0.1"} 1950
apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="GET",version="v1",le="1"} 2000
apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="GET",version="v1",le="+Inf"} 2000
apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="GET",version="v1"} 21.7
apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="GET",version="v1"} 2000
apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="batch",resource="jobs",scope="cluster",subresource="",verb="LIST",version="v1",le="0.005"} 0
apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="batch",resource="jobs",scope="cluster",subresource="",verb="LIST",version="v1",le="0.025"} 0
apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="batch",resource="jobs",scope="cluster",subresource="",verb="LIST",version="v1",le="0.1"} 10
apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="batch",resource="jobs",scope="cluster",subresource="",verb="LIST",version="v1",le="1"} 40
apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="batch",resource="jobs",scope="cluster",subresource="",verb="LIST",version="v1",le="+Inf"} 50
apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="batch",resource="jobs",scope="cluster",subresource="",verb="LIST",version="v1"} 61.2
apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="batch",resource="jobs",scope="cluster",subresource="",verb="LIST",version="v1"} 50
# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="GET",version="v1"} 2000
apiserver_request_total{code="200",component="apiserver",dry_run="",group="batch",resource="jobs",scope="cluster",subresource="",verb="LIST",version="v1"} 45
apiserver_request_total{code="429",component="apiserver",dry_run="",group="batch",resource="jobs",scope="cluster",subresource="",verb="LIST",version="v1"} 1610
apiserver_request_total{code="504",component="apiserver",dry_run="",group="batch",resource="jobs",scope="cluster",subresource="",verb="LIST",version="v1"} 5
# HELP apiserver_resource_objects [ALPHA] Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.
# TYPE apiserver_resource_objects gauge
apiserver_resource_objects{group="",resource="configmaps"} 412
apiserver_resource_objects{group="",resource="events"} -1
apiserver_resource_objects{group="batch",resource="jobs"} 20012
apiserver_resource_objects{group="coordination.k8s.io",resource="leases"} 37
# HELP apiserver_resource_size_estimate_bytes [ALPHA] Estimated size of stored objects in database. Estimate is based on sum of last observed sizes of serialized objects. In case of a fetching error, the value will be -1.
# TYPE apiserver_resource_size_estimate_bytes gauge
apiserver_resource_size_estimate_bytes{group="",resource="configmaps"} 1.8e+06
apiserver_resource_size_estimate_bytes{group="batch",resource="jobs"} 8.4123e+07
# HELP apiserver_storage_objects [STABLE] (Deprecated since 1.34.0) [DEPRECATED, consider using apiserver_resource_objects instead] Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.
# TYPE apiserver_storage_objects gauge
apiserver_storage_objects{resource="configmaps"} 412
apiserver_storage_objects{resource="jobs.batch"} 20012
apiserver_storage_objects{resource="leases.coordination.k8s.io"} 37
# HELP apiserver_storage_size_bytes [STABLE] Size of the storage database file physically allocated in bytes.
# TYPE apiserver_storage_size_bytes gauge
apiserver_storage_size_bytes{storage_cluster_id="etcd-0"} 1.234e+07
apiserver_storage_size_bytes{storage_cluster_id="etcd-1"} 4.5e+06
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 1843
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1.71234567891e+09
"#;

/// An old server with the pre-1.26 names: `etcd_db_total_size_in_bytes` per
/// etcd endpoint (served up to 1.25), `apiserver_registered_watchers`
/// (deprecated 1.23, gone in 1.25) and `apiserver_storage_objects` as the
/// only object count.
pub(crate) const FIXTURE_OLD: &str = r#"# HELP apiserver_registered_watchers [ALPHA] (Deprecated since 1.23.0) Number of currently registered watchers for a given resources
# TYPE apiserver_registered_watchers gauge
apiserver_registered_watchers{group="",kind="Pod",version="v1"} 88
apiserver_registered_watchers{group="apps",kind="Deployment",version="v1"} 14
# HELP apiserver_storage_objects [STABLE] Number of stored objects at the time of last check split by kind.
# TYPE apiserver_storage_objects gauge
apiserver_storage_objects{resource="configmaps"} 300
apiserver_storage_objects{resource="deployments.apps"} 52
apiserver_storage_objects{resource="jobs.batch"} 1200
apiserver_storage_objects{resource="leases.coordination.k8s.io"} 9
# HELP etcd_db_total_size_in_bytes [ALPHA] Total size of the etcd database file physically allocated in bytes.
# TYPE etcd_db_total_size_in_bytes gauge
etcd_db_total_size_in_bytes{endpoint="http://127.0.0.1:2379"} 7.5497472e+07
etcd_db_total_size_in_bytes{endpoint="https://10.0.0.2:2379"} 7.6e+07
"#;

/// An excerpt of a kube-apiserver 1.19 scrape: objects are counted only by
/// `etcd_object_counts`, the database size only by `etcd_db_total_size_in_bytes`.
pub(crate) const FIXTURE_1_19: &str = r#"# HELP etcd_db_total_size_in_bytes [ALPHA] Total size of the etcd database file physically allocated in bytes.
# TYPE etcd_db_total_size_in_bytes gauge
etcd_db_total_size_in_bytes{endpoint="https://127.0.0.1:2379"} 4.2156032e+07
# HELP etcd_object_counts [ALPHA] Number of stored objects at the time of last check split by kind.
# TYPE etcd_object_counts gauge
etcd_object_counts{resource="configmaps"} 61
etcd_object_counts{resource="events"} 1204
etcd_object_counts{resource="jobs.batch"} 14007
etcd_object_counts{resource="leases.coordination.k8s.io"} 12
etcd_object_counts{resource="secrets"} 233
"#;

/// An excerpt of a kube-apiserver 1.21 scrape, the first release that serves
/// `apiserver_storage_objects`, still next to `etcd_object_counts`.
pub(crate) const FIXTURE_1_21: &str = r#"# HELP apiserver_storage_objects [STABLE] Number of stored objects at the time of last check split by kind.
# TYPE apiserver_storage_objects gauge
apiserver_storage_objects{resource="configmaps"} 70
apiserver_storage_objects{resource="jobs.batch"} 9001
# HELP etcd_object_counts [ALPHA] (Deprecated since 1.22.0) Number of stored objects at the time of last check split by kind. This metric is replaced by apiserver_storage_object_counts.
# TYPE etcd_object_counts gauge
etcd_object_counts{resource="configmaps"} 70
etcd_object_counts{resource="jobs.batch"} 9001
"#;
