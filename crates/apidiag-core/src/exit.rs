//! Exit codes, one per outcome a script may want to branch on.
//!
//! They are part of the interface (documented in `docs/exit-codes.md` and in every
//! plugin's `--help`), so each has a fixed number and a test that pins it.

use std::process::ExitCode;

/// What a run ended with. The numbers never change once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every check ran and found nothing worse than `info`.
    Healthy,
    /// At least one `warning` finding, nothing critical.
    Warning,
    /// At least one `critical` finding.
    Critical,
    /// A check could not run (no permission, server unreachable, budget spent), or
    /// saw only part of the cluster and found nothing above `info` there.
    CouldNotCheck,
    /// A remediation was offered but not applied: no terminal to ask on and no `--yes`,
    /// or the user said no.
    RemediationSkipped,
    /// A remediation ran but some operations failed or were skipped because the object
    /// changed since the preview.
    RemediationIncomplete,
    /// The command line was wrong.
    Usage,
    /// Ctrl-C twice during a fix or an undo: quit at once, the journal flushed.
    /// 128 + SIGINT, as shells report a program that Ctrl-C killed.
    Interrupted,
    /// apidiag itself failed (a bug, or the local disk refused a backup).
    Internal,
}

impl Outcome {
    /// The process exit code.
    pub const fn code(self) -> u8 {
        match self {
            Outcome::Healthy => 0,
            Outcome::Warning => 1,
            Outcome::Critical => 2,
            Outcome::CouldNotCheck => 3,
            Outcome::RemediationSkipped => 4,
            Outcome::RemediationIncomplete => 5,
            Outcome::Usage => 64,
            Outcome::Internal => 70,
            Outcome::Interrupted => 130,
        }
    }

    /// One line for `--help` and the docs.
    pub const fn describe(self) -> &'static str {
        match self {
            Outcome::Healthy => "healthy: nothing worse than info",
            Outcome::Warning => "warnings found",
            Outcome::Critical => "critical findings",
            Outcome::CouldNotCheck => {
                "a check could not run, or saw only part of the cluster and found nothing there"
            }
            Outcome::RemediationSkipped => {
                "a remediation was not applied (no terminal and no --yes, or declined)"
            }
            Outcome::RemediationIncomplete => "a remediation left some operations undone",
            Outcome::Usage => "usage error",
            Outcome::Internal => "internal error",
            Outcome::Interrupted => {
                "Ctrl-C twice during a fix or undo: quit at once (journal kept; a rerun continues)"
            }
        }
    }

    pub const ALL: [Outcome; 9] = [
        Outcome::Healthy,
        Outcome::Warning,
        Outcome::Critical,
        Outcome::CouldNotCheck,
        Outcome::RemediationSkipped,
        Outcome::RemediationIncomplete,
        Outcome::Usage,
        Outcome::Internal,
        Outcome::Interrupted,
    ];

    /// The exit-code table printed at the end of every `--help`.
    pub fn help_table() -> String {
        let mut out = String::from("Exit codes:\n");
        for outcome in Self::ALL {
            out.push_str(&format!(
                "  {:>3}  {}\n",
                outcome.code(),
                outcome.describe()
            ));
        }
        out
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        ExitCode::from(outcome.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_pinned_and_distinct() {
        let codes: Vec<u8> = Outcome::ALL.iter().map(|o| o.code()).collect();
        assert_eq!(codes, vec![0, 1, 2, 3, 4, 5, 64, 70, 130]);
        let unique: std::collections::HashSet<u8> = codes.iter().copied().collect();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn help_table_lists_every_code() {
        let table = Outcome::help_table();
        for outcome in Outcome::ALL {
            assert!(table.contains(outcome.describe()), "{table}");
        }
    }
}
