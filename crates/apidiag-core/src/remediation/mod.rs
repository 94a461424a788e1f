//! Guided remediation: plan, preview, server dry run, consent, backup, act.
//!
//! The order is the safety argument, so it lives in one function ([`execute`]) that
//! every check's fixes go through:
//! 1. the plan is shown (object counts and names; a diff for patches);
//! 2. every operation is sent once with `dryRun=All`, so RBAC, admission and
//!    validation speak before anything changes;
//! 3. consent: `--dry-run` stops here; `--yes` proceeds; a terminal gets a question;
//!    no terminal and no `--yes` changes nothing and never waits for input;
//! 4. a backup bundle with every object to delete or patch is written and synced;
//! 5. the operations run with UID/resourceVersion preconditions, so an object that
//!    changed since the preview is skipped and reported, never overwritten blindly.
//!    Each outcome is journalled as it happens; Ctrl-C stops scheduling new work.

mod interrupt;
mod pace;
pub mod restore;
mod send;
pub mod stream;
mod take_back;
pub mod undo;

pub use take_back::take_back;

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{ApiClient, ApiError};
use crate::backup::{BackupError, Bundle};
use crate::cli::RemediationArgs;
use crate::object::{Change, ObjectRef, apply_merge_patch, diff};
use crate::style::Palette;
use send::{apply, dry_run};
pub(crate) use send::{created_uid, send};

/// A remediation: the API operations that carry out one of a guide's solutions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The check that offers it.
    pub check: String,
    /// Stable id, e.g. `guard.skip-update`.
    pub id: String,
    pub title: String,
    /// Shown before consent, e.g. the guide's warning against scaling straight back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// Questions the user must answer yes to (or confirm with a flag under `--yes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledgements: Vec<Acknowledgement>,
    pub operations: Vec<Operation>,
}

/// Something the user must confirm that the tool cannot verify.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Acknowledgement {
    pub question: String,
    /// The flag that answers yes non-interactively, e.g. `--clients-fixed`.
    pub flag: String,
    /// Whether the flag was given.
    #[serde(default)]
    pub given: bool,
}

/// One API operation of a plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub target: ObjectRef,
    pub action: Action,
    /// The object as seen at preview time (for patches and deletes): what the
    /// backup holds and what a patch diff is computed against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
}

/// What to do to the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Action {
    /// A JSON merge patch. The target's resourceVersion is added as a precondition.
    Patch { patch: Value },
    /// Delete, with the target's UID and resourceVersion as preconditions.
    Delete {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        propagation: Option<String>,
    },
    /// Create this object in the target's collection.
    Create {
        object: Value,
        /// Written through the `status` subresource right after the create (undo of
        /// a finished Job: its completion, so it is not run again).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<Value>,
        /// A merge patch applied after the status, e.g. `{"spec":{"suspend":false}}`
        /// for a Job created suspended so that nothing ran before its status was back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<Value>,
    },
}

impl Action {
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Patch { .. } => "patch",
            Action::Delete { .. } => "delete",
            Action::Create { .. } => "create",
        }
    }
}

impl Operation {
    /// A JSON merge patch of `object` as it was read: the preview's diff, the
    /// backup and the resourceVersion precondition all come from that copy.
    pub fn patch(resource: &crate::object::ResourceType, object: &Value, patch: Value) -> Self {
        Operation {
            target: ObjectRef::of(resource, object),
            action: Action::Patch { patch },
            before: Some(object.clone()),
        }
    }

    /// Deleting `object` as it was read (its UID and resourceVersion are the
    /// preconditions; the copy is what the backup keeps).
    pub fn delete(resource: &crate::object::ResourceType, object: &Value) -> Self {
        Operation {
            target: ObjectRef::of(resource, object),
            action: Action::Delete { propagation: None },
            before: Some(object.clone()),
        }
    }

    /// The changes a patch makes, for the preview (Secret values masked).
    pub fn changes(&self) -> Vec<Change> {
        match (&self.action, &self.before) {
            (Action::Patch { patch }, Some(before)) => {
                diff(before, &apply_merge_patch(before, patch))
                    .into_iter()
                    .map(|change| crate::redact::change(&self.target.resource.kind, change))
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}

/// How a remediation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum RemediationState {
    /// Every operation was applied.
    Applied,
    /// Some operations were applied, others skipped or failed.
    Partial,
    /// `--dry-run`: previewed and dry-run on the server, nothing changed.
    DryRun,
    /// Not applied; `reason` says why (no terminal and no `--yes`, declined, …).
    Skipped { reason: String },
    /// Nothing could be applied.
    Failed { reason: String },
}

impl RemediationState {
    /// How a run that sent `operations` ended: all done, none, or some.
    pub fn of(operations: &[OperationResult]) -> Self {
        let done = operations.iter().filter(|o| o.outcome == "done").count();
        if done == operations.len() {
            RemediationState::Applied
        } else if done == 0 {
            RemediationState::Failed {
                reason: "no operation was applied".into(),
            }
        } else {
            RemediationState::Partial
        }
    }
}

/// One operation's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationResult {
    pub target: String,
    pub action: String,
    pub outcome: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// What a remediation did: part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemediationResult {
    pub id: String,
    pub title: String,
    #[serde(flatten)]
    pub state: RemediationState,
    pub operations: Vec<OperationResult>,
    /// The backup bundle's path, when one was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
}

impl RemediationResult {
    pub fn summary(&self) -> String {
        let done = self
            .operations
            .iter()
            .filter(|o| o.outcome == "done")
            .count();
        let total = self.operations.len();
        match &self.state {
            RemediationState::Applied => {
                format!("{}: applied {done} of {total} operations", self.id)
            }
            RemediationState::Partial => format!(
                "{}: applied {done} of {total} operations; the others were skipped or failed (see above)",
                self.id
            ),
            RemediationState::DryRun => format!(
                "{}: dry run only, {total} operations previewed, nothing changed",
                self.id
            ),
            RemediationState::Skipped { reason } => format!("{}: not applied: {reason}", self.id),
            RemediationState::Failed { reason } => format!("{}: failed: {reason}", self.id),
        }
    }

    pub fn outcome(&self) -> crate::exit::Outcome {
        use crate::exit::Outcome;
        match self.state {
            RemediationState::Applied => Outcome::Healthy,
            RemediationState::DryRun => Outcome::Healthy,
            RemediationState::Skipped { .. } => Outcome::RemediationSkipped,
            RemediationState::Partial | RemediationState::Failed { .. } => {
                Outcome::RemediationIncomplete
            }
        }
    }

    /// A fix that was asked for but could not even be planned (nothing to fix, or
    /// an option that does not fit what the cluster holds): not applied, exit 4.
    pub fn not_planned(id: &str, reason: &str) -> Self {
        RemediationResult {
            id: id.to_string(),
            title: String::new(),
            state: RemediationState::Skipped {
                reason: reason.to_string(),
            },
            operations: Vec::new(),
            backup: None,
        }
    }

    fn without_changes(plan: &Plan, state: RemediationState) -> Self {
        RemediationResult {
            id: plan.id.clone(),
            title: plan.title.clone(),
            state,
            operations: plan
                .operations
                .iter()
                .map(|op| OperationResult {
                    target: op.target.display(),
                    action: op.action.verb().into(),
                    outcome: "not-run".into(),
                    message: String::new(),
                })
                .collect(),
            backup: None,
        }
    }
}

/// Why a remediation could not even start.
#[derive(Debug, thiserror::Error)]
pub enum RemediationError {
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error("could not ask for confirmation: {0}")]
    Prompt(String),
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Taking a change back within the run ([`take_back`]) could not plan its undo.
    #[error(transparent)]
    Undo(#[from] undo::UndoError),
}

impl RemediationError {
    /// What to do next, apart from the message.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            RemediationError::Backup(error) => error.hint(),
            RemediationError::Prompt(_) => None,
            RemediationError::Api(error) => error.hint(),
            RemediationError::Undo(error) => error.hint(),
        }
    }
}

/// Where the remediation runs and how it may talk to the user.
pub struct Session<'a> {
    pub api: &'a ApiClient,
    pub args: &'a RemediationArgs,
    /// The cluster as this run reaches it, recorded in every bundle.
    pub origin: crate::backup::Origin,
    pub palette: Palette,
    /// Operations in flight at once; deletes of thousands of objects want more than one.
    pub concurrency: usize,
    /// Where backups go (normally [`crate::backup::root`]).
    pub backup_root: std::path::PathBuf,
}

/// How consent is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Consent {
    DryRun,
    Yes,
    Ask,
    NoTerminal,
}

pub(crate) fn consent(args: &RemediationArgs) -> Consent {
    if args.dry_run {
        Consent::DryRun
    } else if args.yes {
        Consent::Yes
    } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        Consent::Ask
    } else {
        Consent::NoTerminal
    }
}

/// Runs a plan through preview, dry run, consent, backup and action.
pub async fn execute(
    session: &Session<'_>,
    mut plan: Plan,
) -> Result<RemediationResult, RemediationError> {
    let palette = session.palette;
    eprint!("{}", preview(&plan, palette));
    if plan.operations.is_empty() {
        eprintln!("nothing to do");
        return Ok(RemediationResult::without_changes(
            &plan,
            RemediationState::Applied,
        ));
    }

    // The server's own verdict before anything changes.
    let dry = dry_run(session, &plan).await;
    let refused: Vec<&(usize, ApiError)> = dry.iter().filter(|(_, e)| !e.is_not_found()).collect();
    if dry.is_empty() {
        eprintln!(
            "server dry run: all {} operations accepted",
            plan.operations.len()
        );
    } else {
        let gone = dry.len() - refused.len();
        eprintln!(
            "server dry run: {} of {} operations refused{}:",
            refused.len(),
            plan.operations.len(),
            if gone > 0 {
                format!(", {gone} objects already gone")
            } else {
                String::new()
            }
        );
        for (index, error) in dry.iter().take(10) {
            eprintln!(
                "  {}: {}",
                plan.operations[*index].target.display(),
                first_line(&error.to_string())
            );
        }
    }
    if !refused.is_empty() && refused.len() == plan.operations.len() {
        let reason = format!(
            "the server refused every operation in the dry run ({})",
            first_line(&refused[0].1.to_string())
        );
        return Ok(RemediationResult::without_changes(
            &plan,
            RemediationState::Failed { reason },
        ));
    }

    match consent(session.args) {
        Consent::DryRun => {
            eprintln!("--dry-run: stopping before any change");
            return Ok(RemediationResult::without_changes(
                &plan,
                RemediationState::DryRun,
            ));
        }
        Consent::NoTerminal => {
            let reason = "no terminal to ask on and no --yes; nothing was changed".to_string();
            eprintln!("{reason}\nhint: re-run with --yes to apply, or --dry-run to preview only");
            return Ok(RemediationResult::without_changes(
                &plan,
                RemediationState::Skipped { reason },
            ));
        }
        Consent::Yes => {
            if let Some(missing) = plan.acknowledgements.iter().find(|a| !a.given) {
                let reason = format!(
                    "{} (pass {} with --yes to confirm)",
                    missing.question, missing.flag
                );
                eprintln!("not applied: {reason}");
                return Ok(RemediationResult::without_changes(
                    &plan,
                    RemediationState::Skipped { reason },
                ));
            }
        }
        Consent::Ask => {
            for ack in plan.acknowledgements.iter_mut().filter(|a| !a.given) {
                if !ask(&ack.question)? {
                    let reason = format!("not confirmed: {}", ack.question);
                    return Ok(RemediationResult::without_changes(
                        &plan,
                        RemediationState::Skipped { reason },
                    ));
                }
                ack.given = true;
            }
            if !ask(&format!(
                "Apply {} ({} operations)?",
                plan.id,
                plan.operations.len()
            ))? {
                let reason = "declined".to_string();
                return Ok(RemediationResult::without_changes(
                    &plan,
                    RemediationState::Skipped { reason },
                ));
            }
        }
    }

    let bundle = Bundle::write(&session.backup_root, &plan, &session.origin)?;
    eprintln!("backup written: {}", bundle.dir.display());
    let operations = apply(session, &plan, &bundle).await?;
    let state = RemediationState::of(&operations);
    let result = RemediationResult {
        id: plan.id.clone(),
        title: plan.title.clone(),
        state,
        operations,
        backup: Some(bundle.dir.display().to_string()),
    };
    eprintln!("{}", result.summary());
    Ok(result)
}

pub(crate) fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

pub(crate) fn ask(question: &str) -> Result<bool, RemediationError> {
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(|e| RemediationError::Prompt(e.to_string()))
}

/// The plan as people read it: what, how many, which, and for patches the diff.
pub fn preview(plan: &Plan, palette: Palette) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{} {} — {}", palette.bold("plan"), plan.id, plan.title);
    let mut counts: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for op in &plan.operations {
        *counts
            .entry((
                op.action.verb().to_string(),
                op.target.resource.kind.clone(),
            ))
            .or_default() += 1;
    }
    for ((verb, kind), count) in &counts {
        let _ = writeln!(
            out,
            "  {verb} {count} {kind}{}",
            if *count == 1 { "" } else { "(s)" }
        );
    }
    const SHOWN: usize = 20;
    for op in plan.operations.iter().take(SHOWN) {
        let _ = writeln!(out, "    {} {}", op.action.verb(), op.target.display());
        for change in op.changes() {
            if let Some(before) = &change.before {
                let _ = writeln!(
                    out,
                    "      {}",
                    palette.removed(&format!("- {}: {before}", change.path))
                );
            }
            if let Some(after) = &change.after {
                let _ = writeln!(
                    out,
                    "      {}",
                    palette.added(&format!("+ {}: {after}", change.path))
                );
            }
        }
        if let Action::Create { object, .. } = &op.action
            && let Ok(yaml) =
                serde_saphyr::to_string(&crate::redact::object(&op.target.resource.kind, object))
        {
            for line in yaml.lines() {
                let _ = writeln!(out, "      {}", palette.added(&format!("+ {line}")));
            }
        }
    }
    if plan.operations.len() > SHOWN {
        let _ = writeln!(out, "    … and {} more", plan.operations.len() - SHOWN);
    }
    if let Some(warning) = &plan.warning {
        let _ = writeln!(out, "  {} {warning}", palette.error("warning:"));
    }
    out
}

/// A progress bar on stderr, hidden when stderr is not a terminal (logs and pipes
/// get the summary lines only).
pub(crate) fn progress_bar(len: u64, message: &str, template: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::ResourceType;
    use serde_json::json;

    #[test]
    fn preview_shows_the_patch_diff_and_warning() {
        let resource = ResourceType::new(
            "flowcontrol.apiserver.k8s.io",
            "v1",
            "flowschemas",
            "FlowSchema",
            false,
        );
        let before = json!({"metadata": {"name": "g", "resourceVersion": "3", "labels": {}}});
        let plan = Plan {
            check: "guard".into(),
            id: "guard.skip-update".into(),
            title: "label".into(),
            warning: Some("do not scale back".into()),
            acknowledgements: vec![],
            operations: vec![Operation {
                target: ObjectRef::of(&resource, &before),
                action: Action::Patch {
                    patch: json!({"metadata": {"labels": {"aks-managed-skip-update-operation": "true"}}}),
                },
                before: Some(before),
            }],
        };
        let text = preview(&plan, Palette::plain());
        assert!(text.contains("plan guard.skip-update — label"), "{text}");
        assert!(text.contains("patch 1 FlowSchema"), "{text}");
        assert!(text.contains("patch flowschema/g"), "{text}");
        assert!(
            text.contains("+ metadata.labels.aks-managed-skip-update-operation: \"true\""),
            "{text}"
        );
        assert!(text.contains("warning: do not scale back"), "{text}");
    }

    /// "Secret data is never printed": neither in a create's object nor in a
    /// patch's diff, in any form (base64 or decoded).
    #[test]
    fn preview_never_prints_secret_data() {
        let secrets = ResourceType::new("", "v1", "secrets", "Secret", true);
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "app", "resourceVersion": "7"},
            "data": {"password": "aHVudGVyMg=="}, "stringData": {"token": "s3cr3t-token"}});
        let plan = Plan {
            check: "etcd".into(),
            id: "undo.etcd.helm-history".into(),
            title: "restore".into(),
            warning: None,
            acknowledgements: vec![],
            operations: vec![
                Operation {
                    target: ObjectRef::of(&secrets, &secret),
                    action: Action::Create {
                        object: secret.clone(),
                        status: None,
                        resume: None,
                    },
                    before: None,
                },
                Operation {
                    target: ObjectRef::of(&secrets, &secret),
                    action: Action::Patch {
                        patch: json!({"data": {"password": "bmV3LXBhc3N3b3Jk"}}),
                    },
                    before: Some(secret),
                },
            ],
        };
        let text = preview(&plan, Palette::plain());
        for leaked in [
            "aHVudGVyMg",
            "hunter2",
            "s3cr3t-token",
            "bmV3LXBhc3N3b3Jk",
            "new-password",
        ] {
            assert!(!text.contains(leaked), "{leaked} printed:\n{text}");
        }
        assert!(text.contains("password: \"*** (7 bytes)\""), "{text}");
        assert!(
            text.contains("- data.password: *** (before, 7 bytes)"),
            "{text}"
        );
        assert!(
            text.contains("+ data.password: *** (after, 12 bytes)"),
            "{text}"
        );
    }

    #[test]
    fn outcomes_map_to_exit_codes() {
        use crate::exit::Outcome;
        let result = |state| RemediationResult {
            id: "x".into(),
            title: "x".into(),
            state,
            operations: vec![],
            backup: None,
        };
        assert_eq!(
            result(RemediationState::Applied).outcome(),
            Outcome::Healthy
        );
        assert_eq!(
            result(RemediationState::Skipped { reason: "r".into() }).outcome(),
            Outcome::RemediationSkipped
        );
        assert_eq!(
            result(RemediationState::Partial).outcome(),
            Outcome::RemediationIncomplete
        );
    }
}
