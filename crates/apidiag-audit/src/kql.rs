//! Queries to run where the data lives: Log Analytics is the distributed
//! engine for logs too big for one machine. Each query keeps only the stages
//! the engine counts (no `RequestReceived`, `ResponseStarted` only for
//! watches; the guide's own queries keep every stage and so count each
//! request twice) and exports only the columns the engine reads, so the
//! result of `az monitor log-analytics query -o json` or the portal's CSV
//! export feeds straight back in.
//!
//! One line on purpose: multi-line KQL given to `az monitor log-analytics
//! query --analytics-query` has been reported to return wrong results silently.

use std::time::Duration;

/// Which Log Analytics table layout the diagnostic setting writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KqlMode {
    /// Resource-specific tables: `AKSAudit` (every verb).
    ResourceSpecific,
    /// Legacy `AzureDiagnostics`: the event as JSON text in `log_s`.
    AzureDiagnostics,
}

/// The columns the resource-specific query exports: each one changes a table
/// when missing (`TimeGenerated` does not: the engine times requests by
/// `RequestReceivedTime`).
pub const RESOURCE_SPECIFIC_COLUMNS: [&str; 9] = [
    "Stage",
    "Verb",
    "RequestUri",
    "UserAgent",
    "User",
    "ObjectRef",
    "ResponseStatus",
    "RequestReceivedTime",
    "StageReceivedTime",
];

/// The columns the Azure diagnostics query exports: the event, and the
/// category that tells `kube-audit-admin` duplicates apart.
pub const AZURE_DIAGNOSTICS_COLUMNS: [&str; 2] = ["Category", "log_s"];

/// The query for the last hour.
pub fn kql(mode: KqlMode) -> String {
    kql_since(mode, Duration::from_secs(3600))
}

/// The query for the given look-back.
pub fn kql_since(mode: KqlMode, lookback: Duration) -> String {
    let ago = format!("ago({}m)", lookback.as_secs().div_ceil(60).max(1));
    match mode {
        KqlMode::ResourceSpecific => format!(
            "AKSAudit | where TimeGenerated > {ago} | where Stage != \"RequestReceived\" and (Stage != \"ResponseStarted\" or Verb == \"watch\") | project {}",
            RESOURCE_SPECIFIC_COLUMNS.join(", ")
        ),
        KqlMode::AzureDiagnostics => format!(
            "AzureDiagnostics | where TimeGenerated > {ago} | where Category in (\"kube-audit\", \"kube-audit-admin\") | extend e = parse_json(log_s) | where tostring(e.stage) != \"RequestReceived\" and (tostring(e.stage) != \"ResponseStarted\" or tostring(e.verb) == \"watch\") | project {}",
            AZURE_DIAGNOSTICS_COLUMNS.join(", ")
        ),
    }
}

/// The columns a query projects, read back from its text.
pub fn projected_columns(query: &str) -> Vec<&str> {
    query
        .rsplit_once("| project ")
        .map(|(_, cols)| {
            cols.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_the_stage_filter() {
        for mode in [KqlMode::ResourceSpecific, KqlMode::AzureDiagnostics] {
            let q = kql(mode);
            assert!(!q.contains('\n'));
            assert!(q.contains("RequestReceived") && q.contains("watch"), "{q}");
            assert!(q.contains("ago(60m)"));
        }
        assert_eq!(
            projected_columns(&kql(KqlMode::ResourceSpecific)),
            RESOURCE_SPECIFIC_COLUMNS
        );
        assert_eq!(
            projected_columns(&kql(KqlMode::AzureDiagnostics)),
            AZURE_DIAGNOSTICS_COLUMNS
        );
        assert!(kql_since(KqlMode::AzureDiagnostics, Duration::from_secs(90)).contains("ago(2m)"));
    }
}
