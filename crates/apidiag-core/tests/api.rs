//! The polite client's LIST handling: pagination, retries, 410 restarts (scripted,
//! since the real server will not fail on demand), and metadata-only and cached
//! LISTs against the real API server, checked in its audit log.

// In a test, a panic is the failure report.
#![allow(clippy::unwrap_used)]

use apidiag_core::api::{
    ACCEPT_METADATA_LIST, ApiClient, ListPage, ListQuery, PartialObjectMetadata,
};
use apidiag_core::cli::{ConnectionArgs, MannersArgs};
use apidiag_core::connection::connect;
use apidiag_test::scripted::{Reply, ScriptedServer};
use serde_json::json;

async fn client(kubeconfig: &std::path::Path, page_size: u32) -> ApiClient {
    let connection = connect(&ConnectionArgs {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        ..ConnectionArgs::default()
    })
    .await
    .expect("connects");
    ApiClient::new(
        &connection,
        &MannersArgs {
            page_size,
            ..MannersArgs::default()
        },
    )
}

fn page(names: &[&str], next: &str) -> Reply {
    let items: Vec<_> = names
        .iter()
        .map(|n| json!({"metadata": {"name": n}}))
        .collect();
    Reply::json(
        200,
        json!({"kind": "PartialObjectMetadataList", "metadata": {"continue": next, "resourceVersion": "7"}, "items": items}),
    )
}

#[tokio::test]
async fn pages_follow_continue_retry_a_500_and_restart_after_410() {
    let path = "GET /api/v1/configmaps";
    let server = ScriptedServer::start(vec![
        (path, page(&["a", "b"], "c1")),
        (
            path,
            Reply::status(500, "InternalError", "etcd leader changed"),
        ),
        (path, page(&["c"], "c2")),
        (
            path,
            Reply::status(410, "Expired", "The provided continue parameter is too old"),
        ),
        (path, page(&["a", "b"], "c3")),
        (path, page(&["c", "d"], "")),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let api = client(&server.kubeconfig(dir.path()), 2).await;

    let mut events = Vec::new();
    let summary = api
        .list::<PartialObjectMetadata>("/api/v1/configmaps", &ListQuery::metadata(), |page| {
            match page {
                ListPage::Items(items) => events.push(format!(
                    "items {}",
                    items
                        .iter()
                        .map(|i| i.metadata.name.clone().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(",")
                )),
                ListPage::Restart => events.push("restart".into()),
            }
        })
        .await
        .expect("the listing completes");
    assert_eq!(
        events,
        vec!["items a,b", "items c", "restart", "items a,b", "items c,d"]
    );
    assert_eq!(summary.restarts, 1);
    assert_eq!(summary.items, 4, "items counted since the restart");
    assert!(server.unused().is_empty(), "{:?}", server.unused());

    let queries: Vec<String> = server.requests().into_iter().map(|(r, _)| r).collect();
    assert_eq!(
        queries,
        vec![
            "GET /api/v1/configmaps?limit=2",
            "GET /api/v1/configmaps?limit=2&continue=c1",
            "GET /api/v1/configmaps?limit=2&continue=c1",
            "GET /api/v1/configmaps?limit=2&continue=c2",
            "GET /api/v1/configmaps?limit=2",
            "GET /api/v1/configmaps?limit=2&continue=c3",
        ]
    );
    assert_eq!(api.cost().requests, 6);
}

#[tokio::test]
async fn metadata_only_and_cached_lists_on_the_real_server() {
    let lab = apidiag_test::lab();
    let api = client(lab.admin_kubeconfig(), 2).await;
    let namespace = "core-api-lists";
    // Set up with kubectl, a real client (`create`, not `apply`: its
    // last-applied annotation would copy the bodies into the metadata): the core's own writes need a backup
    // bundle (`WriteMode`), which a test of reads has no reason to make.
    let mut items =
        vec![json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})];
    for i in 0..5 {
        items.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("cm-{i}"), "namespace": namespace, "labels": {"apidiag-test": "lists"}},
            "data": {"payload": "x".repeat(2000)}}));
    }
    kubectl_create(
        lab.admin_kubeconfig(),
        &json!({"apiVersion": "v1", "kind": "List", "items": items}),
    );
    let collection = format!("/api/v1/namespaces/{namespace}/configmaps");

    // Metadata only: names without bodies, in pages of two.
    let before = api.cost();
    let mut names = Vec::new();
    let summary = api
        .list::<PartialObjectMetadata>(
            &collection,
            &ListQuery::metadata().labels("apidiag-test=lists"),
            |page| {
                if let ListPage::Items(items) = page {
                    names.extend(items.into_iter().filter_map(|i| i.metadata.name));
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(names, vec!["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]);
    assert_eq!(summary.pages, 3);
    let metadata_bytes = api.cost().bytes_received - before.bytes_received;
    assert!(
        metadata_bytes < 5 * 2000,
        "bodies were sent: {metadata_bytes} bytes"
    );

    let raw = api
        .get_raw(&format!("{collection}?limit=1"), Some(ACCEPT_METADATA_LIST))
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(body["kind"], "PartialObjectMetadataList");
    assert!(body["items"][0].get("data").is_none());

    // Cached: the first page asks for resourceVersion=0; the audit log shows it.
    let cached = api
        .list_all::<PartialObjectMetadata>(
            &collection,
            &ListQuery::metadata().labels("apidiag-test=lists").cached(),
        )
        .await
        .unwrap();
    assert_eq!(cached.len(), 5);
    let audit = std::fs::read_to_string(lab.audit_log()).unwrap();
    let ours: Vec<&str> = audit
        .lines()
        .filter(|l| {
            l.contains(&collection)
                && l.contains("kubectl-apidiag/")
                && l.contains("ResponseComplete")
        })
        .collect();
    assert!(
        ours.iter().any(|l| l.contains("resourceVersion=0")),
        "no cached LIST in the audit log:\n{}",
        ours.join("\n")
    );
}

fn kubectl_create(kubeconfig: &std::path::Path, list: &serde_json::Value) {
    use std::io::Write;
    let mut child = std::process::Command::new(apidiag_test::kubectl())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["create", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("kubectl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.to_string().as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "kubectl create failed");
}
