//! The plan for `throttle --fix flowschema`: a PriorityLevelConfiguration with a
//! hard seat cap and a FlowSchema that sends the offender's calls to it.
//!
//! - **Precedence.** Each sample call is classified against today's FlowSchemas;
//!   the lowest precedence that catches one, minus one, is the new schema's, so it
//!   is evaluated first for every sample, while its subjects keep everybody else
//!   out. Never 2 or less: those belong to `exempt` and `probes`.
//! - **Server view.** A FlowSchema whose priority level is not among `levels` is
//!   skipped, as the server skips a dangling one; a rerun ignores its own
//!   FlowSchema and level (same subjects → same names) and patches them.
//! - **Version.** Objects are written in the served `api.version` with its shares
//!   field. `lendablePercent: 0` and `borrowingLimitPercent: 0` make the cap hard;
//!   v1beta2 has those fields only from 1.26: they are emitted anyway and the
//!   server's dry run rejects them on an older server, which is the honest answer
//!   (without them the level would borrow up to the whole server).
//! - **Order.** The level first, then the schema: a schema created first would be
//!   dangling and its traffic would fall through to today's schema meanwhile.

use std::fmt::Write as _;

use serde_json::{Value, json};

use apidiag_core::flowcontrol::{FlowControlApi, GROUP};
use apidiag_core::object::{ObjectRef, ResourceType};
use apidiag_core::remediation::{Action, Operation, Plan};

use super::matching::{first_match, name, precedence};
use super::refusal::{Refusal, check_subject};
use super::samples::samples;
use super::seats::{effective_seats, server_seats, shares_for, total_shares};
use super::spec::{Subject, ThrottleRequest};

/// Label on every object apidiag generates; `--remove` deletes by it.
pub const GENERATED_LABEL: &str = "apidiag.io/generated";
/// Annotation with the subjects in words.
pub const SUBJECT_ANNOTATION: &str = "apidiag.io/subject";
/// Annotation with the caller's evidence text.
pub const REASON_ANNOTATION: &str = "apidiag.io/reason";
/// Marks the suggested and mandatory objects the API server maintains.
pub const AUTOUPDATE_ANNOTATION: &str = "apf.kubernetes.io/autoupdate-spec";
/// The plan's id.
pub const PLAN_ID: &str = "throttle.flowschema";

/// A planned throttle, with the figures that explain it.
#[derive(Debug, Clone)]
pub struct ThrottlePlan {
    /// The level first, then the schema; `Patch` instead of `Create` on a rerun.
    pub plan: Plan,
    /// The new FlowSchema's `matchingPrecedence`.
    pub precedence: i64,
    /// Each sample call, the FlowSchema it lands in today and that one's precedence.
    pub caught_by: Vec<(String, String, i64)>,
    /// The new level's concurrency shares.
    pub shares: u64,
    /// The seats those shares give: `ceil(ServerCL × shares / (total + shares))`.
    pub effective_seats: u64,
    /// ServerCL used.
    pub server_seats: u64,
    /// Whether ServerCL is the default 600 because the caller did not know it.
    pub server_seats_assumed: bool,
    /// Σ shares of the other levels.
    pub total_shares: u64,
    pub flow_schema_name: String,
    pub priority_level_name: String,
    /// Calls beyond the cap are rejected (429) instead of queued.
    pub reject: bool,
}

/// `apidiag-throttle-<10 hex digits>`, from the subjects only: the same subjects
/// give the same name, so a rerun (other rules, other seats) finds its objects.
/// FNV-1a, because std's hasher may change between Rust releases.
pub fn generated_name(subjects: &[Subject]) -> String {
    let mut canonical: Vec<String> = subjects
        .iter()
        .map(|s| match s {
            Subject::User(n) => format!("user\0{n}"),
            Subject::Group(n) => format!("group\0{n}"),
            Subject::ServiceAccount { namespace, name } => format!("sa\0{namespace}\0{name}"),
        })
        .collect();
    canonical.sort();
    canonical.dedup();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in canonical.join("\n").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("apidiag-throttle-{:010x}", hash >> 24)
}

/// Whether apidiag generated the object.
pub fn is_generated(object: &Value) -> bool {
    object["metadata"]["labels"][GENERATED_LABEL] == "true"
}

/// Plans the throttle, or says why not. `server_seats` is Σ
/// `apiserver_flowcontrol_nominal_limit_seats` when the caller could read it.
pub fn plan(
    request: &ThrottleRequest,
    schemas: &[Value],
    levels: &[Value],
    api: &FlowControlApi,
    server_seats_measured: Option<f64>,
) -> Result<ThrottlePlan, Refusal> {
    validate(request)?;
    if levels.is_empty() {
        return Err(Refusal::NoPriorityLevels);
    }
    let object_name = generated_name(&request.subjects);
    let own_schema = find_own(schemas, &object_name, "FlowSchema")?;
    let own_level = find_own(levels, &object_name, "PriorityLevelConfiguration")?;

    // The schemas the server would try: not our own (a rerun replaces it), not
    // those whose level is missing (dangling).
    let live: Vec<Value> = schemas
        .iter()
        .filter(|s| name(s) != object_name)
        .filter(|s| {
            let level = s["spec"]["priorityLevelConfiguration"]["name"].as_str();
            levels.iter().any(|l| Some(name(l)) == level)
        })
        .cloned()
        .collect();
    let mut caught_by = Vec::new();
    for sample in samples(request, &live) {
        let Some(f0) = first_match(&live, &sample) else {
            return Err(Refusal::Unmatched {
                sample: sample.describe(),
            });
        };
        let (f0_name, f0_precedence) = (name(f0), precedence(f0));
        if matches!(f0_name, "exempt" | "probes") || f0_precedence <= 3 {
            return Err(Refusal::Exempt {
                sample: sample.describe(),
                flow_schema: f0_name.into(),
                precedence: f0_precedence,
            });
        }
        caught_by.push((sample.describe(), f0_name.to_string(), f0_precedence));
    }
    let Some(lowest) = caught_by.iter().map(|(_, _, p)| *p).min() else {
        // validate() guarantees a subject and a rule, so at least one sample.
        return Err(Refusal::NoRules);
    };
    let new_precedence = lowest - 1;

    let (server, assumed) = server_seats(server_seats_measured);
    let target = u64::from(request.target_seats);
    let total = total_shares(levels, api, &object_name);
    let Some(shares) = shares_for(target, total, server) else {
        return Err(Refusal::TargetTooLarge {
            target: request.target_seats,
            server,
        });
    };
    let effective = effective_seats(shares, total, server);

    let metadata = metadata(&object_name, request);
    let level = priority_level(api, &metadata, shares, request.reject);
    let schema = flow_schema(api, &metadata, &object_name, new_precedence, request);
    let operations = vec![
        operation(&api.priority_levels(), level, own_level),
        operation(&api.flow_schemas(), schema, own_schema),
    ];
    let subjects = subjects_in_words(&request.subjects);
    let plan = Plan {
        check: "throttle".into(),
        id: PLAN_ID.into(),
        title: format!(
            "throttle {subjects} to about {effective} seats: FlowSchema {object_name} (precedence {new_precedence}) and its PriorityLevelConfiguration"
        ),
        warning: Some(format!(
            "every other priority level shrinks to {total}/{} of its seats; {}",
            total + shares,
            if request.reject {
                "calls beyond the cap are answered 429 at once"
            } else {
                "calls beyond the cap wait in one queue of 50, then get 429"
            }
        )),
        acknowledgements: Vec::new(),
        operations,
    };
    Ok(ThrottlePlan {
        plan,
        precedence: new_precedence,
        caught_by,
        shares,
        effective_seats: effective,
        server_seats: server,
        server_seats_assumed: assumed,
        total_shares: total,
        flow_schema_name: object_name.clone(),
        priority_level_name: object_name,
        reject: request.reject,
    })
}

impl ThrottlePlan {
    /// A few lines for the preview: where the traffic lands today, why this
    /// precedence, what the seats mean, and how excess calls are answered.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let mut landing: Vec<(&str, i64, usize, &str)> = Vec::new();
        for (sample, schema, prec) in &self.caught_by {
            match landing.iter_mut().find(|(s, ..)| s == schema) {
                Some(entry) => entry.2 += 1,
                None => landing.push((schema, *prec, 1, sample)),
            }
        }
        landing.sort_by_key(|(s, p, ..)| (*p, *s));
        for (schema, prec, count, example) in &landing {
            let calls = if *count == 1 { "call" } else { "calls" };
            let _ = writeln!(
                out,
                "today: {count} sample {calls} land in FlowSchema {schema} (precedence {prec}), e.g. {example}"
            );
        }
        let _ = writeln!(
            out,
            "precedence {}: one below {}, the first FlowSchema that catches this traffic today, so the new one is tried first; its subjects keep everybody else out",
            self.precedence,
            self.precedence + 1
        );
        let assumed = if self.server_seats_assumed {
            " (the default --max-requests-inflight + --max-mutating-requests-inflight; the real figure was not known)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "seats: {} shares = {} seats of the server's {}{assumed}, next to {} shares of the other levels; not {} concurrent calls: a LIST takes about one seat per 100 objects",
            self.shares, self.effective_seats, self.server_seats, self.total_shares, self.shares
        );
        let _ = writeln!(
            out,
            "hard cap: lendablePercent 0 and borrowingLimitPercent 0, so the level neither lends nor borrows seats"
        );
        let _ = write!(
            out,
            "{}",
            if self.reject {
                "limit response Reject: calls beyond the cap get 429 at once"
            } else {
                "limit response Queue (1 queue, hand size 1, 50 waiting): calls beyond the cap wait, and get 429 when 50 wait already"
            }
        );
        out
    }
}

fn validate(request: &ThrottleRequest) -> Result<(), Refusal> {
    if request.subjects.is_empty() {
        return Err(Refusal::NoSubjects);
    }
    if request.rules.is_empty() {
        return Err(Refusal::NoRules);
    }
    for (index, rule) in request.rules.iter().enumerate() {
        let field = if rule.verbs.is_empty() {
            "verbs"
        } else if rule.api_groups.is_empty() {
            "apiGroups"
        } else if rule.resources.is_empty() {
            "resources"
        } else if rule.namespaces.is_empty() && !rule.cluster_scope {
            "namespaces (nor clusterScope)"
        } else {
            continue;
        };
        return Err(Refusal::EmptyRule { index, field });
    }
    request.subjects.iter().try_for_each(check_subject)?;
    if request.target_seats == 0 {
        return Err(Refusal::ZeroSeats);
    }
    Ok(())
}

/// The object named `object_name`, when there is one and apidiag generated it.
fn find_own<'a>(
    objects: &'a [Value],
    object_name: &str,
    kind: &'static str,
) -> Result<Option<&'a Value>, Refusal> {
    let Some(object) = objects.iter().find(|o| name(o) == object_name) else {
        return Ok(None);
    };
    if object["metadata"]["annotations"][AUTOUPDATE_ANNOTATION].is_string() {
        return Err(Refusal::Bootstrap {
            kind,
            name: object_name.into(),
        });
    }
    if !is_generated(object) {
        return Err(Refusal::NotGenerated {
            kind,
            name: object_name.into(),
        });
    }
    Ok(Some(object))
}

fn subjects_in_words(subjects: &[Subject]) -> String {
    subjects
        .iter()
        .map(Subject::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

fn metadata(object_name: &str, request: &ThrottleRequest) -> Value {
    // Null removes a stale reason when a rerun patches without one.
    let reason = request.reason.as_deref().map_or(Value::Null, |r| json!(r));
    json!({
        "name": object_name,
        "labels": {GENERATED_LABEL: "true"},
        "annotations": {
            SUBJECT_ANNOTATION: subjects_in_words(&request.subjects),
            REASON_ANNOTATION: reason,
        },
    })
}

fn priority_level(api: &FlowControlApi, metadata: &Value, shares: u64, reject: bool) -> Value {
    let limit_response = if reject {
        // Null: a rerun that switches Queue to Reject must drop `queuing`, which
        // the server refuses beside Reject.
        json!({"type": "Reject", "queuing": null})
    } else {
        json!({"type": "Queue", "queuing": {"queues": 1, "handSize": 1, "queueLengthLimit": 50}})
    };
    json!({
        "apiVersion": format!("{GROUP}/{}", api.version),
        "kind": "PriorityLevelConfiguration",
        "metadata": metadata,
        "spec": {
            "type": "Limited",
            "limited": {
                api.shares_field(): shares,
                "lendablePercent": 0,
                "borrowingLimitPercent": 0,
                "limitResponse": limit_response,
            },
        },
    })
}

fn flow_schema(
    api: &FlowControlApi,
    metadata: &Value,
    level_name: &str,
    matching_precedence: i64,
    request: &ThrottleRequest,
) -> Value {
    json!({
        "apiVersion": format!("{GROUP}/{}", api.version),
        "kind": "FlowSchema",
        "metadata": metadata,
        "spec": {
            "priorityLevelConfiguration": {"name": level_name},
            "matchingPrecedence": matching_precedence,
            "distinguisherMethod": {"type": "ByUser"},
            "rules": [{
                "subjects": request.subjects.iter().map(Subject::to_value).collect::<Vec<_>>(),
                "resourceRules": request.rules.iter().map(|r| r.to_value()).collect::<Vec<_>>(),
            }],
        },
    })
}

/// A create, or on a rerun a merge patch of our own object (labels, annotations
/// and the whole spec; merge patches replace arrays, so the rules are exact).
fn operation(resource: &ResourceType, object: Value, existing: Option<&Value>) -> Operation {
    match existing {
        None => {
            let object = without_nulls(object);
            Operation {
                target: ObjectRef::of(resource, &object),
                action: Action::Create {
                    object,
                    status: None,
                    resume: None,
                },
                before: None,
            }
        }
        Some(existing) => Operation {
            target: ObjectRef::of(resource, existing),
            action: Action::Patch {
                patch: json!({"metadata": {
                    "labels": object["metadata"]["labels"],
                    "annotations": object["metadata"]["annotations"],
                }, "spec": object["spec"]}),
            },
            before: Some(existing.clone()),
        },
    }
}

/// A create carries no nulls (they only mean "remove" in a merge patch).
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}
