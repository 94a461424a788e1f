//! Whether a throttle FlowSchema took effect: the API server digested it (its
//! `Dangling` condition is `False`), the metrics of a window show requests
//! dispatched (and queued or rejected) under its name, and nobody else's 429s
//! rose. Run right after `--fix flowschema`, and again with `--verify NAME` once
//! the client has been running for a while.

use std::time::{Duration, Instant};

use serde_json::Value;

use apidiag_core::api::ApiClient;
use apidiag_core::check::Context;
use apidiag_core::finding::{Evidence, Finding, Severity};
use apidiag_core::flowcontrol::FlowControlApi;
use apidiag_metrics::load::{self, ApfFlow};
use apidiag_metrics::{MetricFamilies, Window};

use crate::live::findings::OWN_PREFIX;
use crate::live::humantime_short;

/// How long the API server may take to digest a new FlowSchema.
const DIGEST_TIMEOUT: Duration = Duration::from_secs(15);

/// What the verification saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub flow_schema: String,
    /// `Some(true)`: Dangling=False; `Some(false)`: Dangling=True; `None`: no condition yet.
    pub digested: Option<bool>,
    /// The FlowSchema is gone.
    pub missing: bool,
    /// Its traffic in the window, when it had any.
    pub flow: Option<ApfFlow>,
    /// 429s of every other flow schema per second, in the window.
    pub others_rejected_per_second: f64,
    /// The same before the fix, when the run measured it.
    pub others_before_per_second: Option<f64>,
    /// The worst queue-wait P99 of every other flow schema in the window: what a
    /// throttle that pushed load onto others would raise.
    pub others_wait_p99: Option<f64>,
    /// The same before the fix.
    pub others_wait_p99_before: Option<f64>,
    pub seconds: f64,
}

/// Other clients' side of the load, measured before a fix to compare after.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Baseline {
    pub rejected_per_second: f64,
    pub wait_p99: Option<f64>,
}

impl Baseline {
    pub fn of(flows: &[ApfFlow], seconds: f64) -> Self {
        Baseline {
            rejected_per_second: others_rejected(flows) / seconds.max(f64::MIN_POSITIVE),
            wait_p99: others_wait(flows),
        }
    }
}

/// The worst queue-wait P99 among flow schemas apidiag did not create.
pub fn others_wait(flows: &[ApfFlow]) -> Option<f64> {
    flows
        .iter()
        .filter(|f| !f.flow_schema.starts_with(OWN_PREFIX))
        .filter_map(|f| f.wait_p99_seconds)
        .reduce(f64::max)
}

/// The `Dangling` condition of a FlowSchema as served.
fn dangling(schema: &Value) -> Option<bool> {
    schema["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Dangling")
        .and_then(|c| c["status"].as_str())
        .map(|s| s == "True")
}

/// Polls the FlowSchema until its `Dangling` condition appears (one GET a second).
async fn digested(
    api: &ApiClient,
    path: &str,
) -> Result<(bool, Option<bool>), apidiag_core::api::ApiError> {
    let deadline = Instant::now() + DIGEST_TIMEOUT;
    loop {
        let Some(schema) = api.get_opt::<Value>(path).await? else {
            return Ok((true, None));
        };
        let state = dangling(&schema);
        if state.is_some() || Instant::now() > deadline {
            return Ok((false, state.map(|d| !d)));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Reads the FlowSchema and a `window` of metrics.
pub async fn verify(
    ctx: &Context,
    api: &FlowControlApi,
    name: &str,
    window: Duration,
    before: Option<Baseline>,
) -> Result<Verification, apidiag_core::api::ApiError> {
    let path = api.flow_schemas().object_path(None, name);
    let (missing, digested) = digested(&ctx.api, &path).await?;
    let window = window.max(Duration::from_secs(1));
    let first = MetricFamilies::parse(&ctx.api.get_text("/metrics").await?);
    let first_done = Instant::now();
    tokio::time::sleep(window).await;
    let second = MetricFamilies::parse(&ctx.api.get_text("/metrics").await?);
    let w = match Window::between(&first, &second, first_done.elapsed().as_secs_f64()) {
        Ok(w) => w,
        // Another replica answered: its counters since start still show the schema.
        // (read since it started, so rates stay rates).
        Err(_) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            Window::since_start(&second, now)
                .unwrap_or_else(|_| Window::since_start_assuming(&second, window.as_secs_f64()))
        }
    };
    let (flows, _) = load::apf(&w);
    Ok(Verification {
        flow_schema: name.to_string(),
        digested,
        missing,
        flow: flows.iter().find(|f| f.flow_schema == name).cloned(),
        others_rejected_per_second: others_rejected(&flows) / w.seconds(),
        others_before_per_second: before.map(|b| b.rejected_per_second),
        others_wait_p99: others_wait(&flows),
        others_wait_p99_before: before.and_then(|b| b.wait_p99),
        seconds: w.seconds(),
    })
}

/// 429s APF gave every flow schema apidiag did not create.
pub fn others_rejected(flows: &[ApfFlow]) -> f64 {
    flows
        .iter()
        .filter(|f| !f.flow_schema.starts_with(OWN_PREFIX))
        .map(ApfFlow::rejected_total)
        .fold(0.0, |total, v| total + v)
}

impl Verification {
    /// Whether other clients' 429s rose by more than half (and by at least one a
    /// second, so that noise around zero is not a rise).
    pub fn others_rose(&self) -> bool {
        let rejected = self.others_before_per_second.is_some_and(|before| {
            self.others_rejected_per_second > before * 1.5
                && self.others_rejected_per_second - before >= 1.0
        });
        // Queue waits: doubled and by half a second at least (APF's histogram
        // buckets are coarse; smaller moves are noise).
        let waited = match (self.others_wait_p99_before, self.others_wait_p99) {
            (Some(before), Some(after)) => after > before * 2.0 && after - before >= 0.5,
            (None, Some(after)) => self.others_before_per_second.is_some() && after >= 1.0,
            _ => false,
        };
        rejected || waited
    }

    /// `throttle.flowschema-verified`.
    pub fn finding(&self) -> Finding {
        let name = &self.flow_schema;
        let span = humantime_short(self.seconds);
        let (severity, title) = if self.missing {
            (
                Severity::Warning,
                format!("FlowSchema `{name}` does not exist"),
            )
        } else if self.digested == Some(false) {
            (
                Severity::Warning,
                format!(
                    "FlowSchema `{name}` is Dangling: its PriorityLevelConfiguration is missing, so the API server skips it"
                ),
            )
        } else if self.others_rose() {
            (
                Severity::Warning,
                format!("Other clients got more 429s after `{name}` was created"),
            )
        } else {
            match &self.flow {
                Some(flow) if flow.dispatched > 0.0 || flow.rejected_total() > 0.0 => (
                    Severity::Ok,
                    format!(
                        "FlowSchema `{name}` classifies the client: {} requests dispatched, {} queued now, {} rejected in {span}",
                        flow.dispatched,
                        flow.in_queue,
                        flow.rejected_total()
                    ),
                ),
                _ => (
                    Severity::Info,
                    format!(
                        "FlowSchema `{name}` is in effect, but the client sent nothing it matched in {span}"
                    ),
                ),
            }
        };
        let mut finding = Finding::new("throttle.flowschema-verified", severity, title)
            .detail(
                "Read back: the FlowSchema's Dangling condition, then two /metrics scrapes: \
                 apiserver_flowcontrol_dispatched_requests_total, _rejected_requests_total and \
                 _current_inqueue_requests for this flow schema, and the 429s of every other flow schema.",
            )
            .evidence(Evidence::new(
                "digested",
                match self.digested {
                    Some(true) => "Dangling=False",
                    Some(false) => "Dangling=True",
                    None => "no Dangling condition yet",
                },
            ))
            .evidence(Evidence::new(
                "other flow schemas' 429s",
                match self.others_before_per_second {
                    Some(before) => format!(
                        "{:.2}/s before the fix, {:.2}/s after",
                        before, self.others_rejected_per_second
                    ),
                    None => format!("{:.2}/s", self.others_rejected_per_second),
                },
            ))
            .evidence(Evidence::new(
                "other flow schemas' worst queue wait (P99)",
                match (self.others_wait_p99_before, self.others_wait_p99) {
                    (Some(b), Some(a)) => format!("{b:.3}s before the fix, {a:.3}s after"),
                    (None, Some(a)) => format!("{a:.3}s"),
                    (Some(b), None) => format!("{b:.3}s before the fix, no queueing after"),
                    (None, None) => "no queueing".into(),
                },
            ))
            .source(crate::source("Solution 5b: verify the FlowSchema"));
        if let Some(flow) = &self.flow {
            finding = finding.evidence(Evidence::table(
                "its traffic",
                &[
                    "priority level",
                    "dispatched",
                    "rejected",
                    "in queue now",
                    "wait P99",
                ],
                vec![vec![
                    flow.priority_level.clone(),
                    format!("{}", flow.dispatched),
                    format!("{}", flow.rejected_total()),
                    format!("{}", flow.in_queue),
                    flow.wait_p99_seconds
                        .map_or("-".into(), |w| format!("{w:.2}s")),
                ]],
            ));
        }
        if severity != Severity::Ok {
            finding = finding.next(format!("kubectl apidiag throttle --verify {name}"));
        }
        finding
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flow(name: &str, dispatched: f64, rejected: f64) -> ApfFlow {
        ApfFlow {
            priority_level: name.into(),
            flow_schema: name.into(),
            dispatched,
            rejected: vec![("queue-full".into(), rejected)],
            in_queue: 0.0,
            wait_p99_seconds: None,
            executing_seats: None,
        }
    }

    fn verification(flow: Option<ApfFlow>, before: Option<f64>, after: f64) -> Verification {
        Verification {
            flow_schema: "apidiag-throttle-x".into(),
            digested: Some(true),
            missing: false,
            flow,
            others_rejected_per_second: after,
            others_before_per_second: before,
            others_wait_p99: None,
            others_wait_p99_before: None,
            seconds: 10.0,
        }
    }

    #[test]
    fn dangling_reads_the_condition() {
        let s = |status: &str| json!({"status": {"conditions": [{"type": "Dangling", "status": status}]}});
        assert_eq!(dangling(&s("True")), Some(true));
        assert_eq!(dangling(&s("False")), Some(false));
        assert_eq!(dangling(&json!({})), None);
    }

    #[test]
    fn verdicts() {
        let ours = flow("apidiag-throttle-x", 40.0, 3.0);
        assert_eq!(
            verification(Some(ours.clone()), Some(0.0), 0.0)
                .finding()
                .severity,
            Severity::Ok
        );
        assert_eq!(
            verification(None, None, 0.0).finding().severity,
            Severity::Info
        );
        let rose = verification(Some(ours.clone()), Some(0.5), 5.0);
        assert!(rose.others_rose());
        assert_eq!(rose.finding().severity, Severity::Warning);
        assert!(!verification(Some(ours.clone()), Some(0.0), 0.5).others_rose());
        let mut slower = verification(Some(ours), Some(0.0), 0.0);
        slower.others_wait_p99_before = Some(0.1);
        slower.others_wait_p99 = Some(2.0);
        assert!(slower.others_rose());
        slower.others_wait_p99 = Some(0.3);
        assert!(!slower.others_rose());
        let mut dangling = verification(None, None, 0.0);
        dangling.digested = Some(false);
        assert!(dangling.finding().title.contains("Dangling"));
        assert_eq!(
            others_rejected(&[
                flow("apidiag-throttle-x", 1.0, 9.0),
                flow("global-default", 1.0, 2.0)
            ]),
            2.0
        );
    }
}
