//! How each export wraps an event, and how to unwrap one record.
//!
//! - kube-apiserver: the line is the event.
//! - Resource-log record (storage blob line, Event Hub record):
//!   `{"category":…,"properties":{"log":"<escaped event>\n"}}`, or `log` as an object.
//! - Table row (`az` query output, CSV export converted to the same JSON
//!   object of strings): `AzureDiagnostics` rows carry the event in `log_s`;
//!   `AKSAudit` rows carry it as columns, the sub-objects as JSON text.
//!
//! Every path ends in the same [`AuditEvent`], so the aggregates cannot tell
//! which export an event came from, which is what the shape tests check.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::event::{
    AuditEvent, ObjectRef, Request, ResponseStatus, Unusable, User, parse_event, short,
};

/// How records of a file are wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    Kube,
    ResourceLog,
    TableRow,
}

/// Which AKS category a record belongs to. `kube-audit-admin` (and table
/// `AKSAuditAdmin`) has no get/list events, and duplicates the writes of
/// `kube-audit`, so the two are counted apart and never added up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    Full,
    Admin,
    /// Another diagnostic category (an unfiltered `AzureDiagnostics` export).
    Other,
}

impl Category {
    fn of(name: Option<&str>) -> Self {
        match name {
            None | Some("kube-audit" | "AKSAudit" | "") => Self::Full,
            Some("kube-audit-admin" | "AKSAuditAdmin") => Self::Admin,
            Some(_) => Self::Other,
        }
    }
}

/// Unwraps one record and hands the event (or why there is none) to `f`.
pub(crate) fn with_record<R>(
    framing: Framing,
    record: &str,
    f: impl FnOnce(Category, Result<Request<'_>, Unusable>) -> R,
) -> R {
    match framing {
        Framing::Kube => f(Category::Full, parse_event(record)),
        Framing::ResourceLog => resource_log(record, f),
        Framing::TableRow => table_row(record, f),
    }
}

#[derive(Deserialize)]
struct ResourceRecord<'a> {
    #[serde(borrow, default)]
    category: Option<Cow<'a, str>>,
    #[serde(borrow)]
    properties: Properties<'a>,
}

#[derive(Deserialize)]
struct Properties<'a> {
    #[serde(borrow)]
    log: &'a RawValue,
}

fn resource_log<R>(
    record: &str,
    f: impl FnOnce(Category, Result<Request<'_>, Unusable>) -> R,
) -> R {
    let parsed: ResourceRecord<'_> = match serde_json::from_str(record) {
        Ok(r) => r,
        Err(e) => return f(Category::Full, Err(Unusable::Malformed(short(&e)))),
    };
    let category = Category::of(parsed.category.as_deref());
    let log = parsed.properties.log.get();
    if log.starts_with('"') {
        match serde_json::from_str::<Cow<'_, str>>(log) {
            Ok(text) => f(category, parse_event(&text)),
            Err(e) => f(category, Err(Unusable::Malformed(short(&e)))),
        }
    } else {
        f(category, parse_event(log))
    }
}

/// The columns of `AKSAudit` and `AzureDiagnostics` the engine reads.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TableRow<'a> {
    #[serde(rename = "Stage", borrow, default)]
    pub stage: Option<Cow<'a, str>>,
    #[serde(rename = "Verb", borrow, default)]
    pub verb: Option<Cow<'a, str>>,
    #[serde(rename = "RequestUri", borrow, default)]
    pub request_uri: Option<Cow<'a, str>>,
    #[serde(rename = "UserAgent", borrow, default)]
    pub user_agent: Option<Cow<'a, str>>,
    #[serde(rename = "User", borrow, default)]
    pub user: Option<Cow<'a, str>>,
    #[serde(rename = "ObjectRef", borrow, default)]
    pub object_ref: Option<Cow<'a, str>>,
    #[serde(rename = "ResponseStatus", borrow, default)]
    pub response_status: Option<Cow<'a, str>>,
    #[serde(rename = "RequestReceivedTime", borrow, default)]
    pub request_received_time: Option<Cow<'a, str>>,
    #[serde(rename = "StageReceivedTime", borrow, default)]
    pub stage_received_time: Option<Cow<'a, str>>,
    #[serde(rename = "log_s", borrow, default)]
    pub log_s: Option<Cow<'a, str>>,
    #[serde(rename = "Category", borrow, default)]
    pub category: Option<Cow<'a, str>>,
    #[serde(rename = "Type", borrow, default)]
    pub table: Option<Cow<'a, str>>,
}

/// Column names a CSV export must keep (the others are dropped on reading).
pub(crate) const TABLE_COLUMNS: [&str; 12] = [
    "Stage",
    "Verb",
    "RequestUri",
    "UserAgent",
    "User",
    "ObjectRef",
    "ResponseStatus",
    "RequestReceivedTime",
    "StageReceivedTime",
    "log_s",
    "Category",
    "Type",
];

fn table_row<R>(record: &str, f: impl FnOnce(Category, Result<Request<'_>, Unusable>) -> R) -> R {
    let row: TableRow<'_> = match serde_json::from_str(record) {
        Ok(r) => r,
        Err(e) => return f(Category::Full, Err(Unusable::Malformed(short(&e)))),
    };
    if let Some(log) = row.log_s.as_deref().filter(|l| !l.is_empty()) {
        let category = Category::of(row.category.as_deref());
        return f(category, parse_event(log));
    }
    let category = Category::of(row.table.as_deref().or(row.category.as_deref()));
    if row.stage.is_none() && row.verb.is_none() {
        let seen = row
            .category
            .as_deref()
            .or(row.table.as_deref())
            .unwrap_or("no audit columns");
        return f(
            Category::Other,
            Err(Unusable::NotAnEvent(format!("row of `{seen}`"))),
        );
    }
    let event = columns_event(&row);
    f(category, event.and_then(Request::from_event))
}

/// Builds the event from `AKSAudit` columns; dynamic columns are JSON text.
fn columns_event<'a>(row: &'a TableRow<'a>) -> Result<AuditEvent<'a>, Unusable> {
    fn dynamic<'a, T: Deserialize<'a>>(
        text: &'a Option<Cow<'a, str>>,
        column: &str,
    ) -> Result<Option<T>, Unusable> {
        match text.as_deref().map(str::trim) {
            None | Some("" | "null" | "{}") => Ok(None),
            Some(json) => serde_json::from_str(json)
                .map(Some)
                .map_err(|e| Unusable::Malformed(format!("column {column}: {}", short(&e)))),
        }
    }
    let text = |c: &'a Option<Cow<'a, str>>| Cow::Borrowed(c.as_deref().unwrap_or(""));
    let user: Option<User<'a>> = dynamic(&row.user, "User")?;
    let object_ref: Option<ObjectRef<'a>> = dynamic(&row.object_ref, "ObjectRef")?;
    let response_status: Option<ResponseStatus> = dynamic(&row.response_status, "ResponseStatus")?;
    Ok(AuditEvent {
        kind: None,
        stage: text(&row.stage),
        request_uri: text(&row.request_uri),
        verb: text(&row.verb),
        user: user.unwrap_or_default(),
        user_agent: row.user_agent.as_deref().map(Cow::Borrowed),
        object_ref,
        response_status,
        request_received_timestamp: text(&row.request_received_time),
        stage_timestamp: text(&row.stage_received_time),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/configmaps?limit=500","verb":"list","user":{"username":"u","groups":["g"]},"userAgent":"kubectl/v1.31.0","objectRef":{"resource":"configmaps","namespace":"default","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2025-05-30T18:02:52.425513Z","stageTimestamp":"2025-05-30T18:02:52.429672Z"}"#;

    /// (user agent, resource, latency, code) of a record.
    type Seen = Result<(String, String, u64, u16), Unusable>;

    fn summary(framing: Framing, record: &str) -> (Category, Seen) {
        with_record(framing, record, |c, r| {
            (
                c,
                r.map(|r| {
                    (
                        r.user_agent().to_owned(),
                        r.object().resource.to_string(),
                        r.latency,
                        r.code(),
                    )
                }),
            )
        })
    }

    fn expected() -> Seen {
        Ok(("kubectl/v1.31.0".into(), "configmaps".into(), 4159, 200))
    }

    #[test]
    fn storage_blob_string_and_object() {
        let escaped = serde_json::to_string(&format!("{EVENT}\n")).expect("string");
        let blob = format!(
            r#"{{"time":"t","category":"kube-audit","properties":{{"log":{escaped},"pod":"p"}}}}"#
        );
        assert_eq!(
            summary(Framing::ResourceLog, &blob),
            (Category::Full, expected())
        );
        let object = format!(r#"{{"category":"kube-audit-admin","properties":{{"log":{EVENT}}}}}"#);
        assert_eq!(
            summary(Framing::ResourceLog, &object),
            (Category::Admin, expected())
        );
    }

    #[test]
    fn aks_audit_columns() {
        let row = serde_json::json!({
            "TableName": "PrimaryResult", "Stage": "ResponseComplete", "Verb": "list",
            "RequestUri": "/api/v1/namespaces/default/configmaps?limit=500", "UserAgent": "kubectl/v1.31.0",
            "User": r#"{"username":"u","groups":["g"]}"#,
            "ObjectRef": r#"{"resource":"configmaps","apiVersion":"v1","namespace":"default"}"#,
            "ResponseStatus": r#"{"metadata":{},"code":200}"#,
            "RequestReceivedTime": "2025-05-30T18:02:52.4255130Z", "StageReceivedTime": "2025-05-30T18:02:52.4296720Z",
            "Type": "AKSAudit",
        });
        assert_eq!(
            summary(Framing::TableRow, &row.to_string()),
            (Category::Full, expected())
        );
    }

    #[test]
    fn azure_diagnostics_rows() {
        let row = serde_json::json!({"Category": "kube-audit", "log_s": EVENT});
        assert_eq!(
            summary(Framing::TableRow, &row.to_string()),
            (Category::Full, expected())
        );
        let other = serde_json::json!({"Category": "kube-apiserver", "log_s": ""});
        assert!(matches!(
            summary(Framing::TableRow, &other.to_string()),
            (Category::Other, Err(Unusable::NotAnEvent(_)))
        ));
    }

    #[test]
    fn broken_rows() {
        let bad =
            serde_json::json!({"Stage": "ResponseComplete", "Verb": "get", "User": "{broken"});
        assert!(
            matches!(summary(Framing::TableRow, &bad.to_string()).1, Err(Unusable::Malformed(m)) if m.contains("User"))
        );
        assert!(matches!(
            summary(Framing::ResourceLog, r#"{"properties":{}}"#).1,
            Err(Unusable::Malformed(_))
        ));
        assert!(matches!(
            summary(Framing::ResourceLog, r#"{"properties":{"log":"not json"}}"#).1,
            Err(Unusable::Malformed(_))
        ));
    }
}
