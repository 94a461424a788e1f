//! Completed Jobs, Jobs without a TTL, and CronJobs that keep long histories
//! (seed 001 Solution 3: "delete completed jobs", "set Time to Live (TTL) values";
//! Solution 6: `kubectl delete jobs --field-selector status.successful=1`).
//!
//! One metadata-only LIST with the guide's own server-side field selector
//! (`status.successful=1`) finds them without transferring a single spec; the
//! owner (a CronJob) is in `ownerReferences`, the age in `creationTimestamp`.
//! Whether a Job has `ttlSecondsAfterFinished` is not in the metadata, but its
//! `managedFields` record who set which field: a TTL that is set is owned by
//! someone (the field has no default), so the check reads it from there instead
//! of fetching every Job's spec. CronJobs are few and read whole: their history
//! limits and whether their job template sets a TTL.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use apidiag_core::api::{ListPage, ListQuery, PartialObjectMetadata};
use apidiag_core::finding::{CheckReport, Evidence, Finding, Severity};

use crate::ages::AgeBuckets;
use crate::{Context, Scope, Settings, list_scoped, source_cause3, thousands, types};

/// The guide's field selector for Jobs that succeeded.
pub const SUCCEEDED: &str = "status.successful=1";
/// CronJob history limits above this are "long" (the defaults are 3 and 1).
pub const LONG_HISTORY: i64 = 10;

/// Completed Jobs of one namespace and owner.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobGroup {
    pub count: u64,
    pub ages: AgeBuckets,
    /// Jobs whose managedFields show no `ttlSecondsAfterFinished`.
    pub without_ttl: u64,
    /// Jobs without managedFields: TTL unknown.
    pub ttl_unknown: u64,
}

/// A CronJob and what it keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct CronJob {
    pub namespace: String,
    pub name: String,
    pub successful_limit: i64,
    pub failed_limit: i64,
    /// `spec.jobTemplate.spec.ttlSecondsAfterFinished`.
    pub template_ttl: Option<i64>,
    /// The object as read, for a fix's diff and backup.
    pub object: Value,
}

/// What the Jobs survey found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobsSurvey {
    /// Where completed Jobs were looked for; `None` when they could not be listed.
    pub scope: Option<Scope>,
    /// `(namespace, owning CronJob)` → completed Jobs.
    pub groups: BTreeMap<(String, Option<String>), JobGroup>,
    /// `None` when CronJobs could not be listed.
    pub cronjobs: Option<Vec<CronJob>>,
}

impl JobsSurvey {
    pub fn total(&self) -> u64 {
        self.groups.values().map(|g| g.count).sum()
    }

    pub fn without_ttl(&self) -> u64 {
        self.groups.values().map(|g| g.without_ttl).sum()
    }

    /// Namespaces with completed Jobs.
    pub fn namespaces(&self) -> Vec<String> {
        let mut namespaces: Vec<String> = self.groups.keys().map(|(ns, _)| ns.clone()).collect();
        namespaces.dedup();
        namespaces
    }

    /// Completed Jobs per namespace.
    pub fn per_namespace(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for ((ns, _), group) in &self.groups {
            *out.entry(ns.clone()).or_default() += group.count;
        }
        out
    }

    /// Completed Jobs a CronJob still keeps.
    pub fn kept_by(&self, cronjob: &CronJob) -> u64 {
        self.groups
            .get(&(cronjob.namespace.clone(), Some(cronjob.name.clone())))
            .map_or(0, |g| g.count)
    }

    /// CronJobs whose job template sets no TTL.
    pub fn cronjobs_without_ttl(&self) -> Vec<&CronJob> {
        self.cronjobs
            .iter()
            .flatten()
            .filter(|c| c.template_ttl.is_none())
            .collect()
    }

    /// Folds one metadata-only Job into the survey.
    pub fn add(&mut self, meta: &ObjectMeta, now: jiff::Timestamp) {
        let owner = meta
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.kind == "CronJob" && o.controller == Some(true))
            .map(|o| o.name.clone());
        let group = self
            .groups
            .entry((meta.namespace.clone().unwrap_or_default(), owner))
            .or_default();
        group.count += 1;
        group
            .ages
            .add(meta.creation_timestamp.as_ref().map(|t| t.0), now);
        match has_ttl(meta) {
            Some(true) => {}
            Some(false) => group.without_ttl += 1,
            None => group.ttl_unknown += 1,
        }
    }
}

/// Whether the managed fields show a `spec.ttlSecondsAfterFinished`; `None` when
/// the object carries no managed fields (someone stripped them).
pub fn has_ttl(meta: &ObjectMeta) -> Option<bool> {
    let managed = meta.managed_fields.as_ref().filter(|m| !m.is_empty())?;
    Some(managed.iter().any(|entry| {
        entry
            .fields_v1
            .as_ref()
            .is_some_and(|f| f.0["f:spec"].get("f:ttlSecondsAfterFinished").is_some())
    }))
}

impl CronJob {
    pub fn from_value(object: Value) -> CronJob {
        let spec = &object["spec"];
        CronJob {
            namespace: object["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            name: object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            // The API server defaults both limits; these are its defaults too.
            successful_limit: spec["successfulJobsHistoryLimit"].as_i64().unwrap_or(3),
            failed_limit: spec["failedJobsHistoryLimit"].as_i64().unwrap_or(1),
            template_ttl: spec["jobTemplate"]["spec"]["ttlSecondsAfterFinished"].as_i64(),
            object,
        }
    }

    pub fn long_history(&self) -> bool {
        self.successful_limit > LONG_HISTORY || self.failed_limit > LONG_HISTORY
    }
}

/// Lists completed Jobs (metadata only) and CronJobs.
pub async fn survey(ctx: &Context, report: &mut CheckReport) -> Option<JobsSurvey> {
    let now = jiff::Timestamp::now();
    let mut folded = JobsSurvey::default();
    let scope = list_scoped::<PartialObjectMetadata>(
        ctx,
        report,
        &types::jobs(),
        &ListQuery::metadata().fields(SUCCEEDED),
        "completed Jobs",
        |page| match page {
            ListPage::Items(items) => {
                for item in items {
                    folded.add(&item.metadata, now);
                }
            }
            ListPage::Restart => folded.groups.clear(),
        },
    )
    .await;
    let mut survey = JobsSurvey {
        scope,
        groups: folded.groups,
        cronjobs: None,
    };

    let mut cronjobs = Vec::new();
    let cron_scope = list_scoped::<Value>(
        ctx,
        report,
        &types::cronjobs(),
        &ListQuery::default(),
        "CronJobs",
        |page| match page {
            ListPage::Items(items) => cronjobs.extend(items.into_iter().map(CronJob::from_value)),
            ListPage::Restart => cronjobs.clear(),
        },
    )
    .await;
    if cron_scope.is_some() {
        survey.cronjobs = Some(cronjobs);
    }
    if survey.scope.is_none() && survey.cronjobs.is_none() {
        return None;
    }
    Some(survey)
}

/// `etcd.completed-jobs`, `etcd.jobs-without-ttl`, `etcd.cronjob-history`.
pub fn findings(survey: &JobsSurvey, settings: &Settings) -> Vec<Finding> {
    let mut out = Vec::new();
    let now = jiff::Timestamp::now();
    if let Some(scope) = &survey.scope {
        out.push(completed(survey, scope, settings, now));
        out.push(without_ttl(survey, settings));
    }
    if let Some(cronjobs) = &survey.cronjobs {
        out.push(history(survey, cronjobs));
    }
    out
}

fn completed(
    survey: &JobsSurvey,
    scope: &Scope,
    settings: &Settings,
    now: jiff::Timestamp,
) -> Finding {
    let total = survey.total();
    if total == 0 {
        return crate::ok(
            "etcd.completed-jobs",
            format!("No completed Jobs are kept ({})", scope.describe()),
            source_cause3(),
        )
        .evidence(Evidence::new(
            "looked for",
            format!("Jobs with --field-selector {SUCCEEDED}"),
        ));
    }
    let severity = if total >= settings.leak_warning() {
        Severity::Warning
    } else {
        Severity::Info
    };
    let mut all = AgeBuckets::default();
    let rows: Vec<Vec<String>> = survey
        .groups
        .iter()
        .map(|((ns, owner), g)| {
            all.merge(&g.ages);
            vec![
                ns.clone(),
                owner
                    .as_ref()
                    .map_or("-".into(), |o| format!("cronjob/{o}")),
                g.count.to_string(),
                g.ages.describe(),
                g.ages.oldest_age(now).unwrap_or_default(),
            ]
        })
        .collect();
    let namespaces = survey.per_namespace().len();
    Finding::new(
        "etcd.completed-jobs",
        severity,
        format!(
            "{} completed Job{} kept in {namespaces} namespace{}",
            thousands(total),
            if total == 1 { "" } else { "s" },
            if namespaces == 1 { "" } else { "s" },
        ),
    )
    .detail(
        "A Job that finished stays in etcd, with its Pods, until someone deletes it or its TTL expires. Delete the ones no \
         longer needed (background propagation removes their Pods too) and give the rest a TTL (guide, Solution 3 and \
         Solution 6). Jobs still running are never part of the cleanup.",
    )
    .evidence(Evidence::new("looked for", format!("Jobs with --field-selector {SUCCEEDED} ({})", scope.describe())))
    .evidence(Evidence::new("ages", all.describe()))
    .evidence(Evidence::table(
        "completed Jobs by namespace and owner",
        &["namespace", "owner", "completed", "ages", "oldest"],
        rows,
    ))
    .source(source_cause3())
    .offer(
        "etcd.completed-jobs",
        "delete completed Jobs (all, or --older-than), backed up",
        "kubectl apidiag etcd --fix completed-jobs --older-than 1d".into(),
    )
}

fn without_ttl(survey: &JobsSurvey, settings: &Settings) -> Finding {
    let missing = survey.without_ttl();
    let unknown: u64 = survey.groups.values().map(|g| g.ttl_unknown).sum();
    if missing == 0 {
        let mut f = crate::ok(
            "etcd.jobs-without-ttl",
            "Every completed Job has a ttlSecondsAfterFinished",
            source_cause3(),
        );
        if unknown > 0 {
            f = f.evidence(Evidence::new(
                "unknown",
                format!("{unknown} Jobs carry no managedFields, so their TTL could not be read"),
            ));
        }
        return f;
    }
    let severity = if missing >= settings.leak_warning() {
        Severity::Warning
    } else {
        Severity::Info
    };
    let rows: Vec<Vec<String>> = survey
        .groups
        .iter()
        .filter(|(_, g)| g.without_ttl > 0)
        .map(|((ns, owner), g)| {
            vec![
                ns.clone(),
                owner
                    .as_ref()
                    .map_or("-".into(), |o| format!("cronjob/{o}")),
                g.without_ttl.to_string(),
            ]
        })
        .collect();
    let cron_without: Vec<String> = survey
        .cronjobs_without_ttl()
        .iter()
        .map(|c| format!("{}/{}", c.namespace, c.name))
        .collect();
    let mut finding = Finding::new(
        "etcd.jobs-without-ttl",
        severity,
        format!(
            "{} completed Job{} without ttlSecondsAfterFinished",
            thousands(missing),
            if missing == 1 { "" } else { "s" }
        ),
    )
    .detail(
        "With `ttlSecondsAfterFinished` the TTL-after-finished controller deletes a finished Job (and its Pods) by itself. \
         For Jobs a CronJob creates, set it in the CronJob's job template (guide, Solution 3: limit object lifetime).",
    )
    .evidence(Evidence::new("read from", "managedFields of the metadata-only LIST (no spec was fetched)"))
    .evidence(Evidence::table(
        "completed Jobs without TTL",
        &["namespace", "owner", "without TTL"],
        rows,
    ))
    .source(source_cause3());
    if !cron_without.is_empty() {
        finding = finding
            .evidence(Evidence::new(
                "CronJobs whose template sets no TTL",
                cron_without.join(", "),
            ))
            .offer(
                "etcd.cronjob-ttl",
                "add ttlSecondsAfterFinished to the job templates of chosen CronJobs",
                "kubectl apidiag etcd --fix cronjob-ttl --ttl 86400".into(),
            );
    }
    finding
}

fn history(survey: &JobsSurvey, cronjobs: &[CronJob]) -> Finding {
    let long: Vec<&CronJob> = cronjobs.iter().filter(|c| c.long_history()).collect();
    if long.is_empty() {
        return crate::ok(
            "etcd.cronjob-history",
            format!(
                "No CronJob keeps more than {LONG_HISTORY} finished Jobs ({} CronJob{})",
                cronjobs.len(),
                if cronjobs.len() == 1 { "" } else { "s" }
            ),
            source_cause3(),
        );
    }
    Finding::new(
        "etcd.cronjob-history",
        Severity::Warning,
        format!(
            "{} CronJob{} keep{} long histories of finished Jobs",
            long.len(),
            if long.len() == 1 { "" } else { "s" },
            if long.len() == 1 { "s" } else { "" }
        ),
    )
    .detail(
        "successfulJobsHistoryLimit and failedJobsHistoryLimit say how many finished Jobs a CronJob keeps (defaults 3 and 1). \
         High limits let Jobs pile up in etcd: lower them in the CronJob spec, and give the job template a TTL.",
    )
    .evidence(Evidence::table(
        "CronJobs with history limits above 10",
        &["cronjob", "successful limit", "failed limit", "completed kept", "template TTL"],
        long.iter()
            .map(|c| {
                vec![
                    format!("{}/{}", c.namespace, c.name),
                    c.successful_limit.to_string(),
                    c.failed_limit.to_string(),
                    survey.kept_by(c).to_string(),
                    c.template_ttl.map_or("none".into(), |t| format!("{t}s")),
                ]
            })
            .collect(),
    ))
    .source(source_cause3())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(value: Value) -> ObjectMeta {
        serde_json::from_value(value).unwrap()
    }

    fn job(ns: &str, owner: Option<&str>, ttl: bool, created: &str) -> ObjectMeta {
        let mut spec = json!({"f:backoffLimit": {}});
        if ttl {
            spec["f:ttlSecondsAfterFinished"] = json!({});
        }
        let mut m = json!({"name": "j", "namespace": ns, "creationTimestamp": created,
            "managedFields": [{"manager": "m", "operation": "Update", "apiVersion": "batch/v1", "fieldsType": "FieldsV1",
                               "fieldsV1": {"f:spec": spec}}]});
        if let Some(o) = owner {
            m["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "CronJob", "name": o, "uid": "u", "controller": true}]);
        }
        meta(m)
    }

    #[test]
    fn jobs_group_by_namespace_and_owner_with_ttl_from_managed_fields() {
        let now: jiff::Timestamp = "2026-06-30T00:00:00Z".parse().unwrap();
        let mut s = JobsSurvey {
            scope: Some(Scope::Cluster),
            ..Default::default()
        };
        s.add(&job("a", Some("report"), true, "2026-06-29T00:00:00Z"), now);
        s.add(
            &job("a", Some("report"), false, "2026-06-01T00:00:00Z"),
            now,
        );
        s.add(&job("a", None, false, "2026-06-29T23:59:00Z"), now);
        s.add(&job("c", None, false, "2026-06-29T23:59:00Z"), now);
        let mut stripped = job("c", None, false, "2026-06-29T23:59:00Z");
        stripped.managed_fields = None;
        s.add(&stripped, now);
        assert_eq!(s.total(), 5);
        assert_eq!(s.without_ttl(), 3);
        assert_eq!(s.groups[&("a".into(), Some("report".into()))].count, 2);
        assert_eq!(s.groups[&("c".into(), None)].ttl_unknown, 1);
        assert_eq!(s.namespaces(), vec!["a".to_string(), "c".to_string()]);
        assert_eq!(s.per_namespace()["c"], 2);

        let found = findings(&s, &Settings::default());
        let ids: Vec<&str> = found.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["etcd.completed-jobs", "etcd.jobs-without-ttl"]);
        assert_eq!(found[0].severity, Severity::Info);
        assert!(
            found[0]
                .title
                .starts_with("5 completed Jobs kept in 2 namespaces"),
            "{}",
            found[0].title
        );
        assert_eq!(found[1].severity, Severity::Info);
        assert!(
            found[1].title.starts_with("3 completed Jobs without"),
            "{}",
            found[1].title
        );

        let strict = Settings {
            object_threshold: 30,
            ..Settings::default()
        };
        assert_eq!(findings(&s, &strict)[0].severity, Severity::Warning);
    }

    #[test]
    fn nothing_completed_is_ok() {
        let s = JobsSurvey {
            scope: Some(Scope::Cluster),
            cronjobs: Some(Vec::new()),
            ..Default::default()
        };
        for f in findings(&s, &Settings::default()) {
            assert_eq!(f.severity, Severity::Ok, "{f:?}");
        }
    }

    #[test]
    fn long_cronjob_histories_are_flagged() {
        let cron = |succ: Option<i64>, ttl: Option<i64>| {
            let mut spec = json!({"schedule": "* * * * *", "jobTemplate": {"spec": {}}});
            if let Some(s) = succ {
                spec["successfulJobsHistoryLimit"] = json!(s);
            }
            if let Some(t) = ttl {
                spec["jobTemplate"]["spec"]["ttlSecondsAfterFinished"] = json!(t);
            }
            CronJob::from_value(json!({"metadata": {"name": "c", "namespace": "n"}, "spec": spec}))
        };
        assert!(!cron(None, None).long_history(), "defaults are 3 and 1");
        assert!(!cron(Some(10), None).long_history());
        assert!(cron(Some(100_000), None).long_history());
        let s = JobsSurvey {
            scope: Some(Scope::Cluster),
            cronjobs: Some(vec![cron(Some(100_000), None), cron(None, Some(60))]),
            ..Default::default()
        };
        let f = history(&s, s.cronjobs.as_ref().unwrap());
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.title.starts_with("1 CronJob keeps"), "{}", f.title);
        assert_eq!(s.cronjobs_without_ttl().len(), 1);
    }
}
