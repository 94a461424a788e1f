//! The flags every plugin shares, defined once and flattened into each binary.
//!
//! The connection flags mirror kubectl's names and meanings, so an SRE can paste the
//! same `--context`/`--as` they use with kubectl. The manners flags bound what a run
//! may cost the API server; the remediation flags are the only way a plugin changes
//! anything without asking.

use std::time::Duration;

use clap::{Args, ValueEnum};

/// Connection, output, manners and remediation flags, shared by every plugin.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub manners: MannersArgs,
    #[command(flatten)]
    pub remediation: RemediationArgs,
}

/// How to reach the cluster, as kubectl does.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Connection (as kubectl)")]
pub struct ConnectionArgs {
    /// Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Namespace for namespaced checks (default: the context's namespace)
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,
    /// Username to impersonate for the operation
    #[arg(long = "as", global = true, value_name = "USER")]
    pub impersonate: Option<String>,
    /// Group to impersonate (repeat for several groups)
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub impersonate_groups: Vec<String>,
    /// How long to wait for one API request before giving up: 30s, 1m, 0 for no limit
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: RequestTimeout,
}

/// A request timeout; `0` means none, as with kubectl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeout(pub Option<Duration>);

impl Default for RequestTimeout {
    fn default() -> Self {
        RequestTimeout(Some(Duration::from_secs(30)))
    }
}

/// Parses kubectl-style durations: `0`, `500ms`, `30s`, `2m`, `1h`, `1m30s`, or bare seconds.
pub fn parse_duration(text: &str) -> Result<RequestTimeout, String> {
    parse_go_duration(text).map(|d| RequestTimeout((!d.is_zero()).then_some(d)))
}

/// A Go-style duration (`1h2m3s`, `250ms`) or a bare number of seconds.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("`{text}` lacks a unit: use s, m, h or ms"))?;
        let (number, tail) = rest.split_at(digits);
        let number: f64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration such as 30s, 2m or 1h"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let seconds = match unit {
            "ms" => number / 1000.0,
            "s" => number,
            "m" => number * 60.0,
            "h" => number * 3600.0,
            "d" => number * 86400.0,
            _ => {
                return Err(format!(
                    "`{unit}` in `{text}` is not a unit: use ms, s, m, h or d"
                ));
            }
        };
        total += Duration::from_secs_f64(seconds);
        rest = tail;
    }
    Ok(total)
}

/// How the report is printed.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
    /// When to use colour in human output (NO_COLOR is honoured)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Human output: show `ok` findings in full, not as a count
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
    /// Human output: print only the summary (one line per finding above ok) and the cost
    #[arg(long, global = true, conflicts_with = "verbose")]
    pub summary: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    #[default]
    Human,
    Json,
    Yaml,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Limits on what one run may ask of the API server.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Manners (what a run may cost the API server)")]
pub struct MannersArgs {
    /// Requests per second, at most, averaged over a run
    #[arg(long, global = true, default_value_t = 20.0, value_name = "N")]
    pub qps: f64,
    /// Requests that may be sent back to back before --qps applies
    #[arg(long, global = true, default_value_t = 40, value_name = "N")]
    pub burst: u32,
    /// Requests one run may send in all; checks that would need more stop and say so
    #[arg(long, global = true, default_value_t = 5000, value_name = "N")]
    pub max_requests: u64,
    /// Objects per page in LIST requests
    #[arg(long, global = true, default_value_t = 500, value_name = "N")]
    pub page_size: u32,
}

impl Default for MannersArgs {
    fn default() -> Self {
        MannersArgs {
            qps: 20.0,
            burst: 40,
            max_requests: 5000,
            page_size: 500,
        }
    }
}

/// Whether and how a remediation may change the cluster.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Remediation")]
pub struct RemediationArgs {
    /// Apply the chosen remediation without asking (a backup is still written first)
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// Show the plan and dry-run it on the server, then stop without changing anything
    #[arg(long, global = true, conflicts_with = "yes")]
    pub dry_run: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_kubectl() {
        assert_eq!(parse_duration("0").unwrap(), RequestTimeout(None));
        assert_eq!(
            parse_duration("30s").unwrap(),
            RequestTimeout(Some(Duration::from_secs(30)))
        );
        assert_eq!(parse_go_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(
            parse_go_duration("250ms").unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(parse_go_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(
            parse_go_duration("7d").unwrap(),
            Duration::from_secs(7 * 86400)
        );
        assert_eq!(parse_go_duration("45").unwrap(), Duration::from_secs(45));
        assert!(parse_go_duration("10x").is_err());
        assert!(parse_go_duration("s").is_err());
        assert!(parse_go_duration("").is_err());
    }
}
