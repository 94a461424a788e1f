//! kubectl's plugin completion: `kubectl apidiag <TAB>` runs
//! `kubectl_complete-apidiag`, which asks `kubectl-apidiag __complete WORDS…`.
//!
//! Hand-written because kubectl's protocol (one candidate a line, then a `:4`
//! directive) is cobra's, not one that clap_complete's generators speak; the
//! candidates still come from the clap definitions, so they cannot drift from what
//! the binary accepts.

use clap::CommandFactory;

use apidiag_core::backup;

use crate::suite::Args;

/// Completion candidates for the words after `kubectl apidiag` (the last one is
/// the partial word).
pub fn candidates(words: &[String]) -> Vec<String> {
    let (partial, before) = match words.split_last() {
        Some((last, before)) => (last.as_str(), before),
        None => ("", &[][..]),
    };
    let mut top = Args::command();
    // Building propagates the global flags into every subcommand.
    top.build();
    let command = subcommand_word(&top, before)
        .and_then(|first| top.find_subcommand(first))
        .unwrap_or(&top);
    let mut candidates: Vec<String> = Vec::new();
    // A flag's value: its possible values, if it has a fixed set.
    let previous = before
        .last()
        .and_then(|w| w.strip_prefix("--").or_else(|| w.strip_prefix('-')));
    if let Some(previous) = previous
        && let Some(arg) = command.get_arguments().find(|a| {
            a.get_long() == Some(previous)
                || a.get_short().map(|c| c.to_string()).as_deref() == Some(previous)
        })
        && arg.get_action().takes_values()
    {
        candidates.extend(
            arg.get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string()),
        );
    } else if partial.starts_with('-') {
        candidates.extend(
            command
                .get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| a.get_long().map(|l| format!("--{l}"))),
        );
    } else if subcommand_word(&top, before).is_none() {
        candidates.extend(
            top.get_subcommands()
                .filter(|c| !c.is_hide_set())
                .map(|c| c.get_name().to_string()),
        );
    } else if subcommand_word(&top, before) == Some("undo")
        && let Ok(root) = backup::root()
        && let Ok(bundles) = backup::list(&root)
    {
        candidates.extend(bundles.iter().map(|(bundle, _)| bundle.name()));
    }
    candidates
        .into_iter()
        .filter(|c| c.starts_with(partial))
        .collect()
}

/// The first word that is neither a flag nor a flag's value: the subcommand
/// (`--context x etcd` → `etcd`).
fn subcommand_word<'a>(top: &clap::Command, words: &'a [String]) -> Option<&'a str> {
    let takes_value = |word: &str| {
        !word.contains('=')
            && top.get_arguments().any(|a| {
                a.get_action().takes_values()
                    && (word
                        .strip_prefix("--")
                        .is_some_and(|l| a.get_long() == Some(l))
                        || word.strip_prefix('-').is_some_and(|s| {
                            s.len() == 1 && a.get_short().map(String::from).as_deref() == Some(s)
                        }))
            })
    };
    let mut skip = false;
    for word in words {
        if skip {
            skip = false;
        } else if word.starts_with('-') {
            skip = takes_value(word);
        } else {
            return Some(word);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn completion_offers_checks_flags_and_values() {
        let first = candidates(&words(&[""]));
        for expected in ["etcd", "guard", "undo", "backups", "version"] {
            assert!(first.contains(&expected.to_string()), "{first:?}");
        }
        assert!(!first.iter().any(|c| c.starts_with("__")), "{first:?}");
        assert_eq!(candidates(&words(&["gu"])), vec!["guard"]);
        let fixes = candidates(&words(&["guard", "--fix", ""]));
        assert_eq!(fixes, vec!["skip-update", "raise-shares", "delete"]);
        let flags = candidates(&words(&["guard", "--cli"]));
        assert_eq!(flags, vec!["--clients-fixed"]);
        let output = candidates(&words(&["-o", ""]));
        assert_eq!(output, vec!["human", "json", "yaml"]);
        // Shared flags are completed after a check too (they are global).
        let shared = candidates(&words(&["etcd", "--kubec"]));
        assert_eq!(shared, vec!["--kubeconfig"]);
        let etcd_fixes = candidates(&words(&["--context", "x", "etcd", "--fix", "he"]));
        assert_eq!(etcd_fixes, vec!["helm-history"]);
    }
}
