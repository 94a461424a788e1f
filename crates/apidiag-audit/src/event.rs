//! One audit event, read with only the fields the engine needs.
//!
//! The struct borrows from the line (`Cow` is borrowed unless the JSON string
//! has escapes, as Go's encoder writes `&` in a URI as `\u0026`), and every
//! other field, `requestObject` and `responseObject` included, is skipped by
//! serde's `IgnoredAny` without building anything. User groups stay raw text
//! until a (user agent, user) pair is new, since most events repeat a pair.
//!
//! The same struct is filled from `AKSAudit` rows, whose dynamic columns are
//! the event's sub-objects as JSON text, and by the scanner of
//! [`event_scan`](crate::event_scan), which reads kube-apiserver's own lines
//! faster and hands anything unusual back to serde.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::event_scan;
use crate::time::{Micros, parse_timestamp};

/// A kube-apiserver audit event (`audit.k8s.io/v1` or `v1beta1`), borrowed.
#[derive(Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent<'a> {
    /// `Event` for a real event; absent in some hand-made exports.
    #[serde(borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete` or `Panic`.
    #[serde(borrow)]
    pub stage: Cow<'a, str>,
    /// Path and query as the client sent them.
    #[serde(borrow, rename = "requestURI", default)]
    pub request_uri: Cow<'a, str>,
    /// The Kubernetes verb (`list`, `watch`, `get`, `patch`, …).
    #[serde(borrow)]
    pub verb: Cow<'a, str>,
    /// Who sent it.
    #[serde(borrow, default)]
    pub user: User<'a>,
    /// The client's user agent, as the client set it.
    #[serde(borrow, default)]
    pub user_agent: Option<Cow<'a, str>>,
    /// The object or collection addressed; absent for non-resource URLs.
    #[serde(borrow, default)]
    pub object_ref: Option<ObjectRef<'a>>,
    /// The response's status, with the HTTP code.
    #[serde(default)]
    pub response_status: Option<ResponseStatus>,
    /// When the server received the request.
    #[serde(borrow)]
    pub request_received_timestamp: Cow<'a, str>,
    /// When the server reached this stage.
    #[serde(borrow)]
    pub stage_timestamp: Cow<'a, str>,
}

/// `user` of an event.
#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
pub struct User<'a> {
    /// `system:serviceaccount:<ns>:<name>`, `system:node:<n>`, a person, …
    #[serde(borrow, default)]
    pub username: Cow<'a, str>,
    /// The groups as JSON text, parsed only when needed.
    #[serde(borrow, default)]
    pub groups: Option<RawGroups<'a>>,
}

/// The JSON text of `user.groups`, exactly as in the line. Not a `&RawValue`
/// because the scanner, which has checked the text already, cannot make one
/// without parsing it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawGroups<'a>(pub &'a str);

impl<'de: 'a, 'a> Deserialize<'de> for RawGroups<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(d).map(|raw| Self(raw.get()))
    }
}

/// `objectRef` of an event.
#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef<'a> {
    /// Plural resource name.
    #[serde(borrow, default)]
    pub resource: Cow<'a, str>,
    /// `status`, `exec`, `log`, …
    #[serde(borrow, default)]
    pub subresource: Cow<'a, str>,
    /// Empty for cluster-scoped calls and cluster-wide LISTs.
    #[serde(borrow, default)]
    pub namespace: Cow<'a, str>,
    /// Empty for collections.
    #[serde(borrow, default)]
    pub name: Cow<'a, str>,
    /// Empty for the core group.
    #[serde(borrow, default)]
    pub api_group: Cow<'a, str>,
}

/// `responseStatus` of an event: only the code matters here.
#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ResponseStatus {
    /// HTTP status code.
    #[serde(default)]
    pub code: Option<u16>,
}

/// Audit stages (kube-apiserver `filters/audit.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// First event of every request; its latency is 0 by construction.
    RequestReceived,
    /// Only long-running requests (watch and similar): headers sent.
    ResponseStarted,
    /// The handler returned.
    ResponseComplete,
    /// The handler panicked (code 500); replaces `ResponseComplete`.
    Panic,
}

impl Stage {
    /// Reads the stage's name.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "RequestReceived" => Self::RequestReceived,
            "ResponseStarted" => Self::ResponseStarted,
            "ResponseComplete" => Self::ResponseComplete,
            "Panic" => Self::Panic,
            _ => return None,
        })
    }
}

/// An event checked and reduced to what the aggregates use.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub stage: Stage,
    pub event: AuditEvent<'a>,
    pub received: Micros,
    /// Latency in microseconds: stage time minus receive time, never negative.
    pub latency: u64,
}

/// Why a record is not a usable event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unusable {
    /// Not JSON, or JSON missing a required field.
    Malformed(String),
    /// Valid JSON but some other `kind`.
    NotAnEvent(String),
}

impl<'a> Request<'a> {
    /// Checks an event: a known stage and two readable timestamps.
    pub fn from_event(event: AuditEvent<'a>) -> Result<Self, Unusable> {
        if let Some(kind) = event.kind.as_deref().filter(|k| *k != "Event") {
            return Err(Unusable::NotAnEvent(format!("kind `{kind}`")));
        }
        let stage = Stage::parse(&event.stage)
            .ok_or_else(|| Unusable::Malformed(format!("unknown stage `{}`", event.stage)))?;
        let received = parse_timestamp(&event.request_received_timestamp)
            .ok_or_else(|| Unusable::Malformed("bad requestReceivedTimestamp".into()))?;
        let staged = parse_timestamp(&event.stage_timestamp)
            .ok_or_else(|| Unusable::Malformed("bad stageTimestamp".into()))?;
        let latency = u64::try_from(staged.saturating_sub(received)).unwrap_or(0);
        Ok(Self {
            stage,
            event,
            received,
            latency,
        })
    }

    pub fn user_agent(&self) -> &str {
        self.event.user_agent.as_deref().unwrap_or("")
    }

    pub fn code(&self) -> u16 {
        self.event
            .response_status
            .as_ref()
            .and_then(|s| s.code)
            .unwrap_or(0)
    }

    pub fn object(&self) -> &ObjectRef<'a> {
        static NONE: ObjectRef<'static> = ObjectRef {
            resource: Cow::Borrowed(""),
            subresource: Cow::Borrowed(""),
            namespace: Cow::Borrowed(""),
            name: Cow::Borrowed(""),
            api_group: Cow::Borrowed(""),
        };
        self.event.object_ref.as_ref().unwrap_or(&NONE)
    }

    /// Requests whose duration is a session, not work: watches, exec/attach/
    /// port-forward/proxy, followed logs. They are counted but never timed.
    pub fn is_long_running(&self) -> bool {
        let sub = &*self.object().subresource;
        self.event.verb == "watch"
            || matches!(sub, "exec" | "attach" | "portforward" | "proxy")
            || (sub == "log" && self.event.request_uri.contains("follow=true"))
    }

    /// The groups, parsed (only called for a new agent/user pair).
    pub fn groups(&self) -> Vec<String> {
        self.event
            .user
            .groups
            .and_then(|raw| serde_json::from_str(raw.0).ok())
            .unwrap_or_default()
    }
}

/// Parses one kube-apiserver event line: the scanner first, serde when the
/// scanner does not take the line.
pub(crate) fn parse_event(line: &str) -> Result<Request<'_>, Unusable> {
    let event = match event_scan::scan(line) {
        Some(event) => event,
        None => serde_event(line)?,
    };
    Request::from_event(event)
}

/// The reference reading of a line, with serde.
pub(crate) fn serde_event(line: &str) -> Result<AuditEvent<'_>, Unusable> {
    // From `&str`: the line was checked as UTF-8 once, so serde does not check each string again.
    serde_json::from_str(line).map_err(|e| Unusable::Malformed(short(&e)))
}

/// A serde error in a few words, without the position the report gives anyway.
pub(crate) fn short(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"99b31d64","stage":"ResponseComplete","requestURI":"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x?a=1\u0026b=2","verb":"update","user":{"username":"aksService","groups":["system:masters","system:authenticated"]},"sourceIPs":["172.31.30.22"],"userAgent":"Go-http-client/2.0","objectRef":{"resource":"leases","namespace":"kube-system","name":"x","apiGroup":"coordination.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestObject":{"deep":[1,{"x":"y"}]},"requestReceivedTimestamp":"2023-01-10T22:13:00.640063Z","stageTimestamp":"2023-01-10T22:13:00.646142Z","annotations":{"authorization.k8s.io/decision":"allow"}}"#;

    #[test]
    fn reads_the_needed_fields_and_skips_the_rest() {
        let r = parse_event(SAMPLE).expect("valid");
        assert_eq!(r.stage, Stage::ResponseComplete);
        assert_eq!(r.latency, 6079);
        assert_eq!(r.user_agent(), "Go-http-client/2.0");
        assert_eq!(r.code(), 200);
        assert_eq!(r.object().resource, "leases");
        assert_eq!(
            r.event.request_uri,
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x?a=1&b=2"
        );
        assert_eq!(r.groups(), ["system:masters", "system:authenticated"]);
        assert!(!r.is_long_running());
    }

    #[test]
    fn escapes_are_decoded_and_plain_strings_borrowed() {
        let r = parse_event(SAMPLE).expect("valid");
        assert!(matches!(r.event.request_uri, Cow::Owned(_)));
        assert!(matches!(r.event.verb, Cow::Borrowed(_)));
    }

    #[test]
    fn unusable_records() {
        assert!(matches!(
            parse_event("{not json"),
            Err(Unusable::Malformed(_))
        ));
        assert!(matches!(
            parse_event("{\"stage\":\"x\"}"),
            Err(Unusable::Malformed(_))
        ));
        let other = SAMPLE.replace(r#""kind":"Event""#, r#""kind":"Pod""#);
        assert!(matches!(parse_event(&other), Err(Unusable::NotAnEvent(_))));
        let stage = SAMPLE.replace("ResponseComplete", "Later");
        assert!(matches!(parse_event(&stage), Err(Unusable::Malformed(_))));
    }

    #[test]
    fn clock_skew_never_gives_negative_latency() {
        let skew = SAMPLE.replace("22:13:00.646142Z", "22:12:59.000000Z");
        assert_eq!(parse_event(&skew).expect("valid").latency, 0);
    }
}
