//! `--fix flowschema`, `--fix remove` and `--verify NAME` against the live API:
//! what to throttle from the flags or from the audit log's mapping of a user
//! agent to its users and calls, today's FlowSchemas and levels listed once, the
//! plan from [`crate::fix`] run through the guided flow (preview, server dry run,
//! consent, backup, create; `kubectl apidiag undo` removes both objects), then
//! the verification of [`crate::verify`].

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use apidiag_audit::{Focus, Report as AuditReport, Scope};
use apidiag_core::api::{ApiError, ListQuery};
use apidiag_core::check::Context;
use apidiag_core::cli::GlobalArgs;
use apidiag_core::exit::Outcome;
use apidiag_core::finding::{CheckReport, Evidence, Finding, Severity};
use apidiag_core::flowcontrol::FlowControlApi;
use apidiag_core::remediation::{RemediationResult, RemediationState};
use apidiag_core::run::CheckRun;

use crate::Args;
use crate::fix::{self, ObservedCall, ResourceRule, Subject, ThrottleRequest};
use crate::live::LiveLoad;

/// Which fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fix {
    /// Throttle one client: a PriorityLevelConfiguration with a hard seat cap and a FlowSchema ahead of the one that catches it today
    Flowschema,
    /// Delete every FlowSchema and PriorityLevelConfiguration apidiag created (label apidiag.io/generated)
    Remove,
}

impl Fix {
    pub fn id(self) -> &'static str {
        match self {
            Fix::Flowschema => fix::PLAN_ID,
            Fix::Remove => fix::REMOVE_PLAN_ID,
        }
    }
}

/// What the flags say to throttle; the audit log fills what they leave out.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub subjects: Vec<Subject>,
    pub verbs: Vec<String>,
    /// `pods`, `deployments.apps`, `pods/log`.
    pub resources: Vec<String>,
    pub namespaces: Vec<String>,
    pub seats: u32,
    pub reject: bool,
}

/// Seen in the audit log for one user agent: who sends it and what it calls.
#[derive(Debug, Clone, Default)]
pub struct FromAudit {
    pub user_agent: String,
    pub subjects: Vec<Subject>,
    pub calls: Vec<ObservedCall>,
    /// Users in `system:masters`: exempt, so never throttled.
    pub masters: Vec<String>,
    /// Non-resource paths, which a resource rule cannot match.
    pub non_resource: Vec<String>,
    /// Each user's groups as the audit log recorded them: where APF puts them.
    pub user_groups: std::collections::BTreeMap<String, Vec<String>>,
}

/// The mapping of the top agent matching `--user-agent` (the busiest when the
/// prefix matches several).
pub fn from_audit(audit: &AuditReport) -> Option<FromAudit> {
    let agent = audit.top_agents(1).into_iter().next()?;
    let mut out = FromAudit {
        user_agent: agent.user_agent.clone(),
        ..FromAudit::default()
    };
    for user in &agent.users {
        if user.groups.iter().any(|g| g == "system:masters") {
            out.masters.push(user.username.clone());
        } else {
            out.subjects.push(Subject::from_username(&user.username));
            out.user_groups
                .insert(user.username.clone(), user.groups.clone());
        }
    }
    let mut calls = BTreeSet::new();
    for row in audit.latency_by_verb_resource(&Focus::Agent(agent.user_agent.clone())) {
        if row.resource.starts_with('/') {
            out.non_resource.push(row.resource);
            continue;
        }
        let (api_group, resource) = split_resource(&row.resource);
        // The latency table keeps the scope, not the namespace: a namespaced call
        // is any namespace, and a named object may be cluster-scoped, so both.
        let namespaces: &[Option<&str>] = match row.scope {
            Scope::Cluster => &[None],
            Scope::Namespace => &[Some("*")],
            Scope::Resource => &[Some("*"), None],
        };
        for ns in namespaces {
            calls.insert(ObservedCall {
                verb: row.verb.clone(),
                api_group: api_group.clone(),
                resource: resource.clone(),
                namespace: ns.map(str::to_string),
            });
        }
    }
    out.calls = calls.into_iter().collect();
    Some(out)
}

/// `deployments.apps/scale` → (`apps`, `deployments/scale`); `pods` → (``, `pods`).
fn split_resource(text: &str) -> (String, String) {
    let (head, sub) = match text.split_once('/') {
        Some((h, s)) => (h, Some(s)),
        None => (text, None),
    };
    let (resource, group) = head.split_once('.').unwrap_or((head, ""));
    let resource = match sub {
        Some(s) => format!("{resource}/{s}"),
        None => resource.to_string(),
    };
    (group.to_string(), resource)
}

/// The throttle to plan, or why there is none.
pub fn request(
    wanted: &Wanted,
    audit: Option<&FromAudit>,
    live: Option<&LiveLoad>,
) -> Result<ThrottleRequest, String> {
    if let Some(found) = audit
        && !found.masters.is_empty()
        && found.subjects.is_empty()
    {
        return Err(format!(
            "`{}` is sent by {} in system:masters, which API Priority and Fairness exempts (FlowSchema exempt, precedence 1): it cannot be throttled; fix the client, or give it a credential outside system:masters",
            found.user_agent,
            found.masters.join(", ")
        ));
    }
    let subjects = if wanted.subjects.is_empty() {
        audit.map(|a| a.subjects.clone()).unwrap_or_default()
    } else {
        wanted.subjects.clone()
    };
    let given = !wanted.verbs.is_empty() || !wanted.resources.is_empty();
    let rules = match audit {
        Some(found) if !given && !found.calls.is_empty() => fix::rules_from_calls(&found.calls),
        _ => vec![rule_from_flags(wanted)],
    };
    let reason = match (audit, live) {
        (Some(found), _) => Some(format!("audit log: user agent {}", found.user_agent)),
        (None, Some(load)) => load
            .flows
            .iter()
            .find(|f| f.rejected_total() > 0.0)
            .map(|f| {
                format!(
                    "live: {} rejections in flow schema {} over {}",
                    f.rejected_total(),
                    f.flow_schema,
                    load.span()
                )
            }),
        (None, None) => None,
    };
    Ok(ThrottleRequest {
        subjects,
        rules,
        target_seats: wanted.seats,
        reject: wanted.reject,
        reason,
        user_groups: audit.map(|a| a.user_groups.clone()).unwrap_or_default(),
    })
}

/// `--verbs`, `--resources`, `--in-namespaces`, each "everything" when not given;
/// a rule of every namespace also covers namespace-less calls (cluster-wide LISTs
/// and cluster-scoped objects), which the guide's YAML misses.
fn rule_from_flags(wanted: &Wanted) -> ResourceRule {
    let all = || vec!["*".to_string()];
    let (mut groups, mut resources) = (BTreeSet::new(), BTreeSet::new());
    for text in &wanted.resources {
        let (group, resource) = split_resource(text);
        groups.insert(group);
        resources.insert(resource);
    }
    let namespaces = if wanted.namespaces.is_empty() {
        all()
    } else {
        wanted.namespaces.clone()
    };
    ResourceRule {
        verbs: if wanted.verbs.is_empty() {
            all()
        } else {
            wanted.verbs.clone()
        },
        api_groups: if groups.is_empty() {
            all()
        } else {
            groups.into_iter().collect()
        },
        resources: if resources.is_empty() {
            all()
        } else {
            resources.into_iter().collect()
        },
        cluster_scope: namespaces.iter().any(|n| n == "*"),
        namespaces,
    }
}

/// Today's FlowSchemas and levels (two small LISTs).
async fn listed(ctx: &Context) -> Result<(FlowControlApi, Vec<Value>, Vec<Value>), String> {
    let fail = |e: ApiError| e.to_string();
    let api = FlowControlApi::discover(&ctx.api)
        .await
        .map_err(fail)?
        .ok_or("this server does not serve flowcontrol.apiserver.k8s.io (API Priority and Fairness): nothing can be throttled")?;
    let query = ListQuery::default();
    let schemas = ctx
        .api
        .list_all::<Value>(&api.flow_schemas().collection_path(None), &query)
        .await
        .map_err(fail)?;
    let levels = ctx
        .api
        .list_all::<Value>(&api.priority_levels().collection_path(None), &query)
        .await
        .map_err(fail)?;
    Ok((api, schemas, levels))
}

/// A fix that was asked for and not planned: exit 4, with the reason.
fn not_planned(id: &str, reason: &str) -> Option<Result<RemediationResult, String>> {
    Some(apidiag_core::run::not_planned(id, &reason))
}

/// A fix ready to run: its plan, and what the verification needs.
pub struct Prepared {
    plan: apidiag_core::remediation::Plan,
    /// The FlowSchema to verify once applied (not for a removal).
    verify: Option<(FlowControlApi, String)>,
    /// Other clients' 429s and queue waits before the fix, from the live window.
    others_before: Option<crate::verify::Baseline>,
}

/// Plans `fix`, adding its explanation to `report`; `Err` is the result of a fix
/// that could not be planned (exit 4, with the reason).
pub async fn prepare(
    ctx: &Context,
    report: &mut CheckReport,
    fix: Fix,
    wanted: &Wanted,
    audit: Option<&FromAudit>,
    live: Option<&LiveLoad>,
) -> Result<Prepared, Option<Result<RemediationResult, String>>> {
    let (api, schemas, levels) = listed(ctx)
        .await
        .map_err(|reason| not_planned(fix.id(), &reason))?;
    if fix == Fix::Remove {
        let plan = fix::remove_plan(&schemas, &levels, &api)
            .map_err(|refusal| not_planned(fix.id(), &refusal.to_string()))?;
        return Ok(Prepared {
            plan,
            verify: None,
            others_before: None,
        });
    }
    let request = request(wanted, audit, live).map_err(|reason| not_planned(fix.id(), &reason))?;
    let server_seats = live.and_then(LiveLoad::server_seats);
    let planned = fix::plan(&request, &schemas, &levels, &api, server_seats)
        .map_err(|refusal| not_planned(fix.id(), &refusal.to_string()))?;
    report.push(plan_finding(&planned, audit));
    if !matches!(
        ctx.global.output.output,
        apidiag_core::cli::OutputFormat::Json | apidiag_core::cli::OutputFormat::Yaml
    ) {
        eprintln!("{}", planned.describe());
    }
    Ok(Prepared {
        plan: planned.plan,
        verify: Some((api, planned.flow_schema_name)),
        others_before: live.map(|l| crate::verify::Baseline::of(&l.flows, l.seconds)),
    })
}

/// Runs a prepared fix through the guided flow; once a throttle is applied, its
/// verification goes into `report` (and, for people, to stderr: the checks were
/// printed before the question).
pub async fn act(
    ctx: &Context,
    report: &mut CheckReport,
    prepared: Prepared,
    verify_window: Duration,
) -> Option<Result<RemediationResult, String>> {
    let result = apidiag_core::run::remediate(ctx, prepared.plan, 1).await;
    if let (Ok(done), Some((api, name))) = (&result, &prepared.verify)
        && done.state == RemediationState::Applied
    {
        match crate::verify::verify(ctx, api, name, verify_window, prepared.others_before).await {
            Ok(v) => {
                let finding = v.finding();
                if ctx.global.output.output == apidiag_core::cli::OutputFormat::Human {
                    eprintln!("verify: {} {}", finding.severity.label(), finding.title);
                }
                report.push(finding);
            }
            Err(error) => report.gap(format!(
                "the verification of FlowSchema {name} ({})",
                error.first_line()
            )),
        }
    }
    Some(result)
}

/// `throttle.flowschema-plan`: what the throttle is and why it is built so.
fn plan_finding(planned: &fix::ThrottlePlan, audit: Option<&FromAudit>) -> Finding {
    let rows = planned
        .caught_by
        .iter()
        .take(crate::findings::MAX_ROWS)
        .map(|(sample, schema, precedence)| {
            vec![sample.clone(), schema.clone(), precedence.to_string()]
        })
        .collect();
    let mut finding = Finding::new(
        "throttle.flowschema-plan",
        Severity::Info,
        format!(
            "FlowSchema `{}` at precedence {} into PriorityLevelConfiguration `{}`: {} shares = {} seats{}",
            planned.flow_schema_name,
            planned.precedence,
            planned.priority_level_name,
            planned.shares,
            planned.effective_seats,
            if planned.reject { ", Reject" } else { ", Queue" }
        ),
    )
    .detail(planned.describe())
    .evidence(Evidence::table("where the calls land today", &["sample call", "flow schema", "precedence"], rows))
    .source(crate::source("Solution 5b: throttle the offending client with a FlowSchema"));
    if let Some(found) = audit {
        if !found.masters.is_empty() {
            finding = finding.evidence(Evidence::new(
                "left out (system:masters is exempt)",
                found.masters.join(", "),
            ));
        }
        if !found.non_resource.is_empty() {
            finding = finding.evidence(Evidence::new(
                "not throttled (non-resource URLs)",
                found.non_resource.join(", "),
            ));
        }
    }
    finding
}

/// `--verify NAME`: the verification alone.
pub async fn verify_only(ctx: &Context, name: &str, window: Duration) -> CheckReport {
    let mut report = CheckReport::new(crate::NAME);
    let api = match FlowControlApi::discover(&ctx.api).await {
        Ok(Some(api)) => api,
        Ok(None) => {
            report.gap(
                "flowcontrol.apiserver.k8s.io is not served: there is no FlowSchema to verify",
            );
            return report;
        }
        Err(error) => {
            return apidiag_core::check::could_not_check(
                crate::NAME,
                &error,
                crate::live::PERMISSIONS,
            );
        }
    };
    match crate::verify::verify(ctx, &api, name, window, None).await {
        Ok(v) => report.push(v.finding()),
        Err(error) => {
            return apidiag_core::check::could_not_check(
                crate::NAME,
                &error,
                crate::live::PERMISSIONS,
            );
        }
    }
    report
}

/// `kubectl apidiag throttle --fix …` or `--verify NAME`.
pub async fn command(global: &GlobalArgs, args: &Args) -> Outcome {
    let verify_window = if args.window.is_zero() {
        DEFAULT_VERIFY_WINDOW
    } else {
        args.window
    };
    if let Some(name) = args.verify.clone() {
        return apidiag_core::run::single(global, crate::NAME, async |ctx, _printer| CheckRun {
            report: verify_only(ctx, &name, verify_window).await,
            remediation: None,
            findings_decide: false,
        })
        .await;
    }
    let Some(fix) = args.fix else {
        return Outcome::Usage;
    };
    let audit = if args.audit_log.is_empty() || fix == Fix::Remove {
        None
    } else {
        if args.user_agent.is_none() {
            eprintln!(
                "error: --fix flowschema with --audit-log needs --user-agent: the client to throttle\nhint: `kubectl apidiag throttle --audit-log PATH` lists the top user agents"
            );
            return Outcome::Usage;
        }
        let version = args
            .server_version
            .unwrap_or(apidiag_audit::ServerVersion::NEWEST_KNOWN);
        let options = crate::analysis::options(args, global.connection.namespace.clone(), version);
        match crate::analysis::analyze(args.audit_log.clone(), options).await {
            Ok(report) => match from_audit(&report) {
                Some(found) => Some(found),
                None => {
                    eprintln!(
                        "error: no request of a user agent starting with `{}` in the audit log",
                        args.user_agent.as_deref().unwrap_or_default()
                    );
                    return Outcome::Usage;
                }
            },
            Err(error) => {
                eprintln!(
                    "error: {}",
                    apidiag_core::run::with_hint(&error, error.hint())
                );
                return error.outcome();
            }
        }
    };
    let mut subjects = args.service_accounts.clone();
    subjects.extend(args.groups.iter().map(|g| Subject::Group(g.clone())));
    subjects.extend(args.subject_users.iter().map(|u| Subject::User(u.clone())));
    let wanted = Wanted {
        subjects,
        verbs: args.verbs.clone(),
        resources: args.resources.clone(),
        namespaces: args.in_namespaces.clone(),
        seats: args.seats,
        reject: args.reject,
    };
    // With an audit log the client is known, and a removal needs no load figures:
    // the load is read since start rather than waited for.
    let window = if audit.is_some() || fix == Fix::Remove {
        Duration::ZERO
    } else {
        args.window
    };
    let outcome = apidiag_core::run::single(global, crate::NAME, async |ctx, printer| {
        let (mut report, load) =
            crate::live::diagnose(ctx, window, crate::live::Depth::Check).await;
        let prepared = prepare(
            ctx,
            &mut report,
            fix,
            &wanted,
            audit.as_ref(),
            load.as_ref(),
        )
        .await;
        printer.checks(ctx, std::slice::from_ref(&report));
        let remediation = match prepared {
            Ok(prepared) => act(ctx, &mut report, prepared, verify_window).await,
            Err(not_planned) => not_planned,
        };
        CheckRun {
            report,
            remediation,
            findings_decide: false,
        }
    })
    .await;
    if outcome == Outcome::CouldNotCheck {
        eprintln!("{}", crate::NO_CLUSTER_HINT);
    }
    outcome
}

/// How long the verification watches the metrics when `--window` is 0.
const DEFAULT_VERIFY_WINDOW: Duration = Duration::from_secs(15);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_split_into_group_and_subresource() {
        assert_eq!(split_resource("pods"), ("".into(), "pods".into()));
        assert_eq!(
            split_resource("deployments.apps/scale"),
            ("apps".into(), "deployments/scale".into())
        );
        assert_eq!(
            split_resource("leases.coordination.k8s.io"),
            ("coordination.k8s.io".into(), "leases".into())
        );
    }

    #[test]
    fn flags_default_to_everything_and_every_namespace_includes_cluster_scope() {
        let rule = rule_from_flags(&Wanted::default());
        assert_eq!(rule.verbs, ["*"]);
        assert_eq!(rule.resources, ["*"]);
        assert!(rule.cluster_scope);
        let rule = rule_from_flags(&Wanted {
            verbs: vec!["list".into()],
            resources: vec!["pods".into(), "configmaps".into()],
            namespaces: vec!["team-a".into()],
            ..Wanted::default()
        });
        assert_eq!(rule.api_groups, [""]);
        assert_eq!(rule.resources, ["configmaps", "pods"]);
        assert!(!rule.cluster_scope);
    }

    #[test]
    fn an_agent_sent_only_by_system_masters_is_refused() {
        let found = FromAudit {
            user_agent: "tool/1".into(),
            masters: vec!["aksService".into()],
            ..FromAudit::default()
        };
        let error = request(&Wanted::default(), Some(&found), None).unwrap_err();
        assert!(
            error.contains("system:masters") && error.contains("aksService"),
            "{error}"
        );
    }
}
