//! Live load from two scrapes, in each labelling of the LIST counters the
//! supported minors serve (1.26–1.33, 1.34–1.36, 1.37+), written as those
//! servers write them.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use apidiag_metrics::load::{
    ListScheme, apf, list_load, non_apf_throttling, request_load, watch_growth,
};
use apidiag_metrics::{MetricFamilies, Window};

const START: &str = "process_start_time_seconds 1.79613075368e+09\n";

fn pair(before: &str, after: &str) -> (MetricFamilies, MetricFamilies) {
    (
        MetricFamilies::parse(&format!("{START}{before}")),
        MetricFamilies::parse(&format!("{START}{after}")),
    )
}

#[test]
fn v1_37_one_family_split_by_storage_and_the_checker_subtracted() {
    let (b, a) = pair(
        r#"apiserver_storage_list_total{group="",index="",resource="pods",storage="etcd"} 10
apiserver_storage_list_fetched_objects_total{group="",index="",resource="pods",storage="etcd"} 100000
apiserver_storage_list_returned_objects_total{group="",index="",resource="pods",storage="etcd"} 100000
apiserver_storage_list_total{group="",index="",resource="pods",storage="watchcache"} 5
apiserver_resource_objects{group="",resource="pods"} 20000
"#,
        r#"apiserver_storage_list_total{group="",index="",resource="pods",storage="etcd"} 70
apiserver_storage_list_fetched_objects_total{group="",index="",resource="pods",storage="etcd"} 1300000
apiserver_storage_list_returned_objects_total{group="",index="",resource="pods",storage="etcd"} 1200000
apiserver_storage_list_evaluated_objects_total{group="",index="",resource="pods",storage="etcd"} 1300000
apiserver_storage_list_total{group="",index="",resource="pods",storage="watchcache"} 25
apiserver_storage_list_total{group="apps",index="",resource="deployments",storage="watchcache"} 3
apiserver_resource_objects{group="",resource="pods"} 20000
"#,
    );
    let w = Window::between(&b, &a, 600.0).unwrap();
    let (scheme, rows) = list_load(&w, Some(37)).unwrap();
    assert_eq!(scheme, ListScheme::StorageLabel);
    let pods = &rows[0];
    assert_eq!(pods.name(), "pods");
    assert_eq!(pods.etcd_calls, 60.0);
    assert_eq!(pods.etcd_fetched, 1_200_000.0);
    assert_eq!(pods.cache_calls, Some(20.0));
    assert_eq!(pods.objects, Some(20000.0));
    // Two checker rounds in 10 minutes, two pages of 10,000 each.
    assert_eq!(pods.internal_calls, 4.0);
    assert_eq!(pods.client_etcd_calls(), 56.0);
    assert_eq!(pods.client_etcd_fetched(), 1_160_000.0);
    let deployments = rows
        .iter()
        .find(|r| r.name() == "deployments.apps")
        .unwrap();
    assert_eq!(deployments.etcd_calls, 0.0);
    assert_eq!(deployments.cache_calls, Some(3.0));
}

#[test]
fn v1_34_to_36_etcd_only_storage_and_cache_by_group_resource() {
    let (b, a) = pair(
        "apiserver_storage_list_total{group=\"batch\",resource=\"jobs\"} 1\n\
         apiserver_cache_list_total{group=\"\",index=\"\",resource=\"configmaps\"} 2\n",
        "apiserver_storage_list_total{group=\"batch\",resource=\"jobs\"} 11\n\
         apiserver_storage_list_fetched_objects_total{group=\"batch\",resource=\"jobs\"} 500\n\
         apiserver_cache_list_total{group=\"\",index=\"\",resource=\"configmaps\"} 9\n\
         apiserver_cache_list_total{group=\"\",index=\"f:spec.nodeName\",resource=\"configmaps\"} 1\n",
    );
    let w = Window::between(&b, &a, 60.0).unwrap();
    let (scheme, rows) = list_load(&w, Some(35)).unwrap();
    assert_eq!(scheme, ListScheme::GroupResource);
    let jobs = rows.iter().find(|r| r.name() == "jobs.batch").unwrap();
    assert_eq!(jobs.etcd_calls, 10.0);
    // No object count served: one page per 5-minute round, a fifth of a round.
    assert!((jobs.internal_calls - 0.2).abs() < 1e-9);
    let cm = rows.iter().find(|r| r.name() == "configmaps").unwrap();
    assert_eq!(cm.cache_calls, Some(8.0));
}

#[test]
fn v1_31_qualified_names_prefixes_and_the_limit_one_probes() {
    let (b, a) = pair(
        "apiserver_storage_list_total{resource=\"nodes\"} 0\n",
        "apiserver_storage_list_total{resource=\"nodes\"} 40\n\
         apiserver_storage_list_fetched_objects_total{resource=\"nodes\"} 1030\n\
         apiserver_storage_list_total{resource=\"deployments.apps\"} 2\n\
         apiserver_cache_list_total{index=\"\",resource_prefix=\"/minions\"} 30\n\
         apiserver_cache_list_total{index=\"\",resource_prefix=\"/deployments\"} 4\n",
    );
    let w = Window::between(&b, &a, 60.0).unwrap();
    let (scheme, rows) = list_load(&w, Some(31)).unwrap();
    assert_eq!(scheme, ListScheme::Qualified);
    let nodes = rows.iter().find(|r| r.name() == "nodes").unwrap();
    assert_eq!(nodes.cache_calls, Some(30.0));
    // Each of the 30 cache LISTs first read one object from etcd.
    assert_eq!(nodes.client_etcd_calls(), 10.0);
    assert_eq!(nodes.client_etcd_fetched(), 1000.0);
    let deployments = rows.iter().find(|r| r.resource == "deployments").unwrap();
    assert_eq!(deployments.group.as_deref(), Some("apps"));
    assert_eq!(deployments.cache_calls, Some(4.0));
}

#[test]
fn requests_latency_apf_and_watches() {
    let (b, a) = pair(
        r#"apiserver_request_total{code="200",component="apiserver",group="",resource="pods",scope="cluster",subresource="",verb="LIST",version="v1"} 10
apiserver_request_total{code="429",component="apiserver",group="",resource="pods",scope="cluster",subresource="",verb="LIST",version="v1"} 0
apiserver_request_duration_seconds_bucket{group="",resource="pods",scope="cluster",subresource="",verb="LIST",le="30"} 10
apiserver_request_duration_seconds_bucket{group="",resource="pods",scope="cluster",subresource="",verb="LIST",le="60"} 10
apiserver_request_duration_seconds_bucket{group="",resource="pods",scope="cluster",subresource="",verb="LIST",le="+Inf"} 10
apiserver_flowcontrol_dispatched_requests_total{flow_schema="lab",priority_level="lab"} 5
apiserver_flowcontrol_rejected_requests_total{flow_schema="lab",priority_level="lab",reason="queue-full"} 1
apiserver_longrunning_requests{group="",resource="secrets",scope="namespace",verb="WATCH"} 10
"#,
        r#"apiserver_request_total{code="200",component="apiserver",group="",resource="pods",scope="cluster",subresource="",verb="LIST",version="v1"} 20
apiserver_request_total{code="429",component="apiserver",group="",resource="pods",scope="cluster",subresource="",verb="LIST",version="v1"} 40
apiserver_request_duration_seconds_bucket{group="",resource="pods",scope="cluster",subresource="",verb="LIST",le="30"} 10
apiserver_request_duration_seconds_bucket{group="",resource="pods",scope="cluster",subresource="",verb="LIST",le="60"} 20
apiserver_request_duration_seconds_bucket{group="",resource="pods",scope="cluster",subresource="",verb="LIST",le="+Inf"} 20
apiserver_flowcontrol_dispatched_requests_total{flow_schema="lab",priority_level="lab"} 15
apiserver_flowcontrol_rejected_requests_total{flow_schema="lab",priority_level="lab",reason="queue-full"} 37
apiserver_flowcontrol_current_inqueue_requests{flow_schema="lab",priority_level="lab"} 1
apiserver_flowcontrol_nominal_limit_seats{priority_level="lab"} 1
apiserver_longrunning_requests{group="",resource="secrets",scope="namespace",verb="WATCH"} 25
apiserver_longrunning_requests{group="",resource="secrets",scope="cluster",verb="WATCH"} 5
"#,
    );
    let w = Window::between(&b, &a, 30.0).unwrap();
    let requests = request_load(&w, 10);
    let pods = &requests[0];
    assert_eq!(
        (
            pods.verb.as_str(),
            pods.resource.as_str(),
            pods.scope.as_str()
        ),
        ("LIST", "pods", "cluster")
    );
    assert_eq!(pods.requests, 50.0);
    assert_eq!(pods.too_many_requests, 40.0);
    // The window's 10 LISTs took 30–60 s: the P99 is above the 30 s SLO.
    assert!(pods.p99_seconds.unwrap() > 30.0, "{pods:?}");
    assert!(pods.breaches_slo());

    let (flows, levels) = apf(&w);
    assert_eq!(flows[0].flow_schema, "lab");
    assert_eq!(flows[0].dispatched, 10.0);
    assert_eq!(flows[0].rejected, vec![("queue-full".to_owned(), 36.0)]);
    assert_eq!(flows[0].in_queue, 1.0);
    assert_eq!(levels[0].nominal_seats, Some(1.0));
    assert_eq!(non_apf_throttling(&w), Some(4.0));

    let watches = watch_growth(&w);
    assert_eq!(watches[0].resource, "secrets");
    assert_eq!((watches[0].before, watches[0].now), (Some(10.0), 30.0));
}

#[test]
fn since_start_reads_the_counters_whole() {
    let a = MetricFamilies::parse(&format!(
        "{START}apiserver_flowcontrol_rejected_requests_total{{flow_schema=\"x\",priority_level=\"y\",reason=\"time-out\"}} 3\n"
    ));
    let w = Window::since_start(&a, 1.79613075368e9 + 3600.0).unwrap();
    let (flows, _) = apf(&w);
    assert_eq!(flows[0].rejected_total(), 3.0);
    assert!((w.seconds() - 3600.0).abs() < 1e-3);
    assert!(list_load(&w, Some(37)).is_none());
    assert_eq!(non_apf_throttling(&w), None);
    assert_eq!(watch_growth(&w), vec![]);
}
