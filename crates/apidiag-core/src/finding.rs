//! Findings: what a check concluded, with its evidence and where it comes from.
//!
//! A finding is the unit of the report and of the JSON schema
//! (`docs/report-schema.md`). Its `id` is stable and documented (`docs/checks.md`),
//! so scripts can match on it; its `source` names the seed section it implements, so
//! an SRE can read the guide behind it.

use serde::{Deserialize, Serialize};

use crate::api::Cost;

/// How bad a finding is. Ordered: `Ok < Info < Warning < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Ok,
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// A guide section a finding implements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// The guide, e.g. "Troubleshoot API server and etcd problems in AKS".
    pub guide: String,
    /// The section, e.g. "Cause 4: AKS managed API server guard was applied".
    pub section: String,
}

impl Source {
    /// Seed 001, the newer "Troubleshoot API server and etcd problems in AKS".
    pub fn apiserver_etcd(section: &str) -> Self {
        Source {
            guide: "Troubleshoot API server and etcd problems in AKS".into(),
            section: section.into(),
        }
    }
}

/// One fact that supports a finding, as a label and a value. Tables are evidence
/// too: `rows` holds them with `columns` as the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub label: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<Vec<String>>,
}

impl Evidence {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Evidence {
            label: label.into(),
            value: value.into(),
            columns: Vec::new(),
            rows: Vec::new(),
        }
    }

    pub fn table(label: impl Into<String>, columns: &[&str], rows: Vec<Vec<String>>) -> Self {
        Evidence {
            label: label.into(),
            value: String::new(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
        }
    }
}

/// A way out that the tool offers for a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemediationOffer {
    /// Stable id, e.g. `guard.skip-update`.
    pub id: String,
    pub title: String,
    /// The command that runs it (guided: it previews and asks first).
    pub command: String,
}

/// What a check concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Stable id, e.g. `guard.applied`.
    pub id: String,
    pub severity: Severity,
    pub title: String,
    /// Why it matters and what the guide says to do, in a few sentences.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remediations: Vec<RemediationOffer>,
    /// Related commands to run next (e.g. `kubectl apidiag throttle`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next: Vec<String>,
}

impl Finding {
    pub fn new(id: &str, severity: Severity, title: impl Into<String>) -> Self {
        Finding {
            id: id.to_string(),
            severity,
            title: title.into(),
            detail: String::new(),
            evidence: Vec::new(),
            source: None,
            remediations: Vec::new(),
            next: Vec::new(),
        }
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
    pub fn evidence(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }
    pub fn source(mut self, source: Source) -> Self {
        self.source = Some(source);
        self
    }
    pub fn offer(mut self, id: &str, title: &str, command: String) -> Self {
        self.remediations.push(RemediationOffer {
            id: id.to_string(),
            title: title.to_string(),
            command,
        });
        self
    }
    pub fn next(mut self, command: impl Into<String>) -> Self {
        self.next.push(command.into());
        self
    }
}

/// Whether a check could look at what it needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum CheckStatus {
    /// The check saw everything it needed.
    Complete,
    /// The check ran but some evidence was out of reach; `gaps` says which.
    Partial { gaps: Vec<String> },
    /// The check could not conclude anything.
    CouldNotCheck { reason: String, hint: String },
}

/// One check's part of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    /// The check's name, as in `kubectl apidiag <name>`.
    pub check: String,
    pub status: CheckStatus,
    pub findings: Vec<Finding>,
    /// The findings are the steps of a ladder (connectivity's rungs): people see
    /// each one in order, passed ones as a line, instead of worst first with the
    /// passed ones counted. Not part of the JSON: scripts get the order anyway.
    #[serde(skip)]
    pub ladder: bool,
}

impl CheckReport {
    pub fn new(check: &str) -> Self {
        CheckReport {
            check: check.to_string(),
            status: CheckStatus::Complete,
            findings: Vec::new(),
            ladder: false,
        }
    }

    pub fn could_not_check(
        check: &str,
        reason: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        CheckReport {
            check: check.to_string(),
            status: CheckStatus::CouldNotCheck {
                reason: reason.into(),
                hint: hint.into(),
            },
            findings: Vec::new(),
            ladder: false,
        }
    }

    /// Notes evidence the check could not reach; the check stays useful but partial.
    pub fn gap(&mut self, what: impl Into<String>) {
        let what = what.into();
        match &mut self.status {
            CheckStatus::Complete => self.status = CheckStatus::Partial { gaps: vec![what] },
            CheckStatus::Partial { gaps } => gaps.push(what),
            CheckStatus::CouldNotCheck { .. } => {}
        }
    }

    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// The worst severity among the findings.
    pub fn worst(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Ok)
    }
}

/// Facts about the server, read once per run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// `gitVersion` from `/version`, when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The whole report of a run: what `-o json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// `apidiag.dev/v1`: bumped only on incompatible changes.
    pub schema: String,
    pub apidiag_version: String,
    pub server: ServerInfo,
    pub checks: Vec<CheckReport>,
    /// What the run cost the API server.
    pub cost: Cost,
    /// The remediation that ran, if one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<crate::remediation::RemediationResult>,
}

pub const REPORT_SCHEMA: &str = "apidiag.dev/v1";

impl Report {
    /// The exit outcome of the diagnosis alone (a remediation may override it).
    pub fn outcome(&self) -> crate::exit::Outcome {
        use crate::exit::Outcome;
        let could_not = self
            .checks
            .iter()
            .any(|c| matches!(c.status, CheckStatus::CouldNotCheck { .. }));
        let worst = self
            .checks
            .iter()
            .map(CheckReport::worst)
            .max()
            .unwrap_or(Severity::Ok);
        // A check that saw only part of the cluster and found nothing above ok
        // has not shown the cluster healthy: `kubectl apidiag etcd && echo
        // healthy` must not say so.
        let partial = self
            .checks
            .iter()
            .any(|c| matches!(c.status, CheckStatus::Partial { .. }));
        match worst {
            Severity::Critical => Outcome::Critical,
            Severity::Warning => Outcome::Warning,
            _ if could_not || partial => Outcome::CouldNotCheck,
            _ => Outcome::Healthy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Outcome;

    fn report(checks: Vec<CheckReport>) -> Report {
        Report {
            schema: REPORT_SCHEMA.into(),
            apidiag_version: "0".into(),
            server: ServerInfo::default(),
            checks,
            cost: Cost::default(),
            remediation: None,
        }
    }

    #[test]
    fn outcome_follows_the_worst_finding() {
        let mut ok = CheckReport::new("guard");
        ok.push(Finding::new("guard.applied", Severity::Ok, "not applied"));
        assert_eq!(report(vec![ok.clone()]).outcome(), Outcome::Healthy);

        let mut warn = CheckReport::new("etcd");
        warn.push(Finding::new("etcd.x", Severity::Warning, "w"));
        assert_eq!(
            report(vec![ok.clone(), warn.clone()]).outcome(),
            Outcome::Warning
        );

        let mut crit = CheckReport::new("guard");
        crit.push(Finding::new("guard.applied", Severity::Critical, "c"));
        assert_eq!(report(vec![warn, crit]).outcome(), Outcome::Critical);

        let blind = CheckReport::could_not_check("guard", "forbidden", "ask for RBAC");
        assert_eq!(
            report(vec![ok.clone(), blind]).outcome(),
            Outcome::CouldNotCheck
        );

        // Partial and nothing above ok: not healthy (exit 3), but a warning found in
        // what could be seen still says warning.
        let mut partial = CheckReport::new("etcd");
        partial.push(Finding::new("etcd.db-size", Severity::Ok, "small"));
        partial.gap("secrets (forbidden)");
        assert_eq!(
            report(vec![ok.clone(), partial.clone()]).outcome(),
            Outcome::CouldNotCheck
        );
        partial.push(Finding::new("etcd.completed-jobs", Severity::Warning, "w"));
        assert_eq!(report(vec![ok, partial]).outcome(), Outcome::Warning);
    }

    #[test]
    fn gaps_make_a_check_partial() {
        let mut check = CheckReport::new("guard");
        check.gap("metrics");
        check.gap("events");
        assert_eq!(
            check.status,
            CheckStatus::Partial {
                gaps: vec!["metrics".into(), "events".into()]
            }
        );
    }
}
