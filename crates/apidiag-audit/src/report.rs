//! The tables a check shows, computed from the merged aggregates: top user
//! agents and who is behind them, latency per agent over time, P99 by verb
//! and resource against the SLOs, resource-intensive LISTs, call patterns,
//! and notes on what the input did not allow (admin-only category, watches
//! counted on completion, approximations, an empty window).

use std::collections::HashMap;
use std::time::Duration;

use crate::aggregate::{Aggregates, MINUTE};
use crate::list_class::{ListClass, ListRules};
use crate::patterns::{CallPattern, PatternKind, Thresholds, per_minute};
use crate::slo::{Scope, SloClass};
use crate::summary::FileSummary;
use crate::time::{Micros, Resolved};
use crate::topk::parts;

/// The result of [`analyze`](crate::analyze).
#[derive(Debug, Clone)]
pub struct Report {
    /// Per input file: shape, counts, malformed samples, problems.
    pub files: Vec<FileSummary>,
    /// The window applied, in microseconds (open ends are `i64::MIN`/`MAX`).
    pub window: Resolved,
    /// What the input allows and what it does not.
    pub notes: Vec<Note>,
    pub(crate) aggregates: Aggregates,
    pub(crate) bin: Duration,
    pub(crate) list_window: Option<Duration>,
    pub(crate) rules: ListRules,
    pub(crate) thresholds: Thresholds,
}

/// Something the reader of a report must know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Only `kube-audit-admin` (or `AKSAuditAdmin`) records: no get/list, so the
    /// LIST table and GET polling cannot be judged; collect `kube-audit`.
    AdminOnly,
    /// Both categories were given; the `kube-audit-admin` records (this many)
    /// repeat writes of `kube-audit` and were not counted.
    AdminIgnored(u64),
    /// No watch had a `ResponseStarted` event (the policy omits the stage), so
    /// watches (this many) were counted on `ResponseComplete`.
    WatchesOnComplete(u64),
    /// A table outgrew its bound; counts of keys lighter than this may be low
    /// and light keys may be missing (heavy hitters are right).
    Approximate(u64),
    /// Nothing was counted: no event at all, or none in the window and filters.
    EmptyWindow {
        /// Events of a stage that can count (completions, watch ends included,
        /// and watch opens) read before the window and filters.
        events: u64,
        /// Of those, outside the window or the filters.
        filtered: u64,
    },
}

/// One user agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRow {
    /// The user agent as the client sent it.
    pub user_agent: String,
    /// Requests (watches counted once, when they open).
    pub requests: u64,
    /// Share of all requests counted, 0..=1.
    pub share: f64,
    /// Of the requests, watches.
    pub watches: u64,
    /// Sum of latencies, watches and other long-running calls excluded.
    pub busy: Duration,
    /// 429 responses received.
    pub too_many_requests: u64,
    /// Other 4xx responses.
    pub client_errors: u64,
    /// 5xx responses.
    pub server_errors: u64,
    /// The users behind it, most requests first: what a FlowSchema can match.
    pub users: Vec<UserRow>,
}

/// A user behind an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// `system:serviceaccount:<ns>:<name>`, `system:node:<n>`, a person…
    pub username: String,
    /// Requests of this (agent, user) pair.
    pub requests: u64,
    /// Groups seen (sorted, at most 16).
    pub groups: Vec<String>,
}

/// One time bin of one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bin {
    /// Start of the bin (microseconds since the epoch, a multiple of the width).
    pub start: Micros,
    /// Requests received in the bin.
    pub requests: u64,
    /// Of those, timed (not long-running).
    pub timed: u64,
    /// Mean latency of the timed ones.
    pub mean: Duration,
    /// Largest latency.
    pub max: Duration,
}

/// An agent's latency over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentBins {
    /// The agent.
    pub user_agent: String,
    /// Every bin from the first to the last counted event, empty ones included.
    pub bins: Vec<Bin>,
}

/// Which agents the P99 table covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Focus {
    /// The `n` agents with the most requests.
    TopAgents(usize),
    /// One agent, exactly as sent.
    Agent(String),
}

/// Latency of one (agent, verb, resource, scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyRow {
    /// Who.
    pub user_agent: String,
    /// The verb.
    pub verb: String,
    /// `pods`, `deployments.apps/scale`, or a path for non-resource calls.
    pub resource: String,
    /// One object, one namespace, or the cluster.
    pub scope: Scope,
    /// Calls timed.
    pub count: u64,
    /// Median (±1.6 %).
    pub p50: Duration,
    /// 99th percentile (±1.6 %).
    pub p99: Duration,
    /// Largest, exact.
    pub max: Duration,
    /// The SLO that applies, if any.
    pub slo: Option<SloClass>,
    /// P99 above the SLO.
    pub breach: bool,
}

/// The resource-intensive LIST table.
#[derive(Debug, Clone, PartialEq)]
pub struct ListTable {
    /// The minutes covered (start of the first, end of the last); `None` for the whole window.
    pub window: Option<(Micros, Micros)>,
    /// The rules used to classify.
    pub rules: ListRules,
    /// Rows, etcd first, then by count.
    pub rows: Vec<ListRow>,
}

/// Successful LISTs of one (agent, namespace, resource, class, paginated).
#[derive(Debug, Clone, PartialEq)]
pub struct ListRow {
    /// Who.
    pub user_agent: String,
    /// Empty for cluster-wide.
    pub namespace: String,
    /// `pods`, `deployments.apps`, …
    pub resource: String,
    /// Watch cache or etcd.
    pub class: ListClass,
    /// Had a `limit`.
    pub paginated: bool,
    /// No namespace: every namespace (or a cluster-scoped resource).
    pub cluster_wide: bool,
    /// LISTs in the table's window.
    pub count: u64,
    /// Per minute over the table's window (or the whole span).
    pub per_minute: f64,
    /// Mean latency.
    pub mean: Duration,
}

pub(crate) fn class_code(class: ListClass) -> &'static str {
    match class {
        ListClass::WatchCache => "cache",
        ListClass::Etcd => "etcd",
    }
}

fn micros(us: u64) -> Duration {
    Duration::from_micros(us)
}

impl Report {
    /// Requests counted.
    pub fn total_requests(&self) -> u64 {
        self.aggregates.counted
    }

    /// Receive time of the first and the last counted request.
    pub fn span(&self) -> Option<(Micros, Micros)> {
        Some((self.aggregates.oldest?, self.aggregates.newest?))
    }

    /// The server-version rules the LIST table used.
    pub fn rules(&self) -> ListRules {
        self.rules
    }

    /// The `n` agents with the most requests (ties by name), with their users.
    pub fn top_agents(&self, n: usize) -> Vec<AgentRow> {
        let total = self.total_requests().max(1) as f64;
        let mut users: HashMap<&str, Vec<UserRow>> = HashMap::new();
        for (key, pair) in self.aggregates.pairs.ranked() {
            let p = parts(key);
            let (agent, user) = (
                p.first().copied().unwrap_or(""),
                p.get(1).copied().unwrap_or(""),
            );
            users.entry(agent).or_default().push(UserRow {
                username: user.to_owned(),
                requests: pair.requests,
                groups: pair.groups.clone(),
            });
        }
        self.aggregates
            .agents
            .ranked()
            .into_iter()
            .take(n)
            .map(|(agent, a)| AgentRow {
                user_agent: agent.to_owned(),
                requests: a.requests,
                share: a.requests as f64 / total,
                watches: a.watches,
                busy: micros(a.busy_micros),
                too_many_requests: a.too_many,
                client_errors: a.client_errors,
                server_errors: a.server_errors,
                users: users.remove(agent).unwrap_or_default(),
            })
            .collect()
    }

    /// Latency per time bin for these agents (in this order).
    pub fn latency_bins(&self, agents: &[String]) -> Vec<AgentBins> {
        let width = i64::try_from(self.bin.as_micros())
            .unwrap_or(i64::MAX)
            .max(1);
        let Some((oldest, newest)) = self.span() else {
            return agents
                .iter()
                .map(|a| AgentBins {
                    user_agent: a.clone(),
                    bins: Vec::new(),
                })
                .collect();
        };
        let (first, last) = (
            oldest.div_euclid(width) * width,
            newest.div_euclid(width) * width,
        );
        let mut cells: HashMap<(&str, Micros), Bin> = HashMap::new();
        for (key, cell) in self.aggregates.bins.ranked() {
            let p = parts(key);
            let (Some(agent), Some(start)) = (p.first(), p.get(1).and_then(|s| s.parse().ok()))
            else {
                continue;
            };
            let mean = cell.sum_micros.checked_div(cell.timed).unwrap_or(0);
            let bin = Bin {
                start,
                requests: cell.requests,
                timed: cell.timed,
                mean: micros(mean),
                max: micros(cell.max_micros),
            };
            cells.insert((agent, start), bin);
        }
        // Gaps are filled so a chart shows quiet time; a span of more bins than this is not.
        let fill = (last - first) / width < 100_000;
        agents
            .iter()
            .map(|agent| {
                let mut bins: Vec<Bin> = if fill {
                    (0..=(last - first) / width)
                        .map(|i| first + i * width)
                        .map(|start| {
                            cells.get(&(agent.as_str(), start)).copied().unwrap_or(Bin {
                                start,
                                requests: 0,
                                timed: 0,
                                mean: Duration::ZERO,
                                max: Duration::ZERO,
                            })
                        })
                        .collect()
                } else {
                    cells
                        .iter()
                        .filter(|((a, _), _)| *a == agent)
                        .map(|(_, b)| *b)
                        .collect()
                };
                bins.sort_by_key(|b| b.start);
                AgentBins {
                    user_agent: agent.clone(),
                    bins,
                }
            })
            .collect()
    }

    /// P99 by verb and resource for the focus agents, judged against the SLOs.
    pub fn latency_by_verb_resource(&self, focus: &Focus) -> Vec<LatencyRow> {
        let order: Vec<String> = match focus {
            Focus::TopAgents(n) => self
                .top_agents(*n)
                .into_iter()
                .map(|a| a.user_agent)
                .collect(),
            Focus::Agent(a) => vec![a.clone()],
        };
        let rank: HashMap<&str, usize> = order
            .iter()
            .enumerate()
            .map(|(i, a)| (a.as_str(), i))
            .collect();
        let mut rows = Vec::new();
        for (key, h) in self.aggregates.latency.ranked() {
            let p = parts(key);
            let [agent, verb, resource, scope] = p[..] else {
                continue;
            };
            if !rank.contains_key(agent) {
                continue;
            }
            let scope = match scope {
                "resource" => Scope::Resource,
                "namespace" => Scope::Namespace,
                _ => Scope::Cluster,
            };
            let bare = if resource.starts_with('/') {
                ""
            } else {
                resource
            };
            let slo = SloClass::of(verb, bare, scope);
            let p99 = micros(h.quantile(0.99));
            rows.push(LatencyRow {
                user_agent: agent.to_owned(),
                verb: verb.to_owned(),
                resource: resource.to_owned(),
                scope,
                count: h.count(),
                p50: micros(h.quantile(0.5)),
                p99,
                max: micros(h.max()),
                slo,
                breach: slo.is_some_and(|s| p99 > s.limit()),
            });
        }
        rows.sort_by(|a, b| {
            (
                rank[a.user_agent.as_str()],
                std::cmp::Reverse(a.count),
                &a.verb,
                &a.resource,
                a.scope,
            )
                .cmp(&(
                    rank[b.user_agent.as_str()],
                    std::cmp::Reverse(b.count),
                    &b.verb,
                    &b.resource,
                    b.scope,
                ))
        });
        rows
    }

    /// Successful LISTs by agent, namespace and resource, served from etcd or
    /// the watch cache, over the detector window before the newest event.
    pub fn intensive_lists(&self) -> ListTable {
        let window = match (self.list_window, self.aggregates.newest) {
            (Some(w), Some(newest)) => {
                let minutes = (w.as_micros() as i64 / MINUTE).max(1);
                let last = newest.div_euclid(MINUTE);
                Some((last - minutes + 1, last))
            }
            _ => None,
        };
        let span_minutes = match (window, self.span()) {
            (Some((first, last)), Some((oldest, _))) => {
                (last - first.max(oldest.div_euclid(MINUTE)) + 1) as f64
            }
            (None, Some((oldest, newest))) => ((newest - oldest) as f64 / MINUTE as f64).max(1.0),
            _ => 1.0,
        };
        let mut rows = Vec::new();
        for (key, l) in self.aggregates.lists.ranked() {
            let p = parts(key);
            let [agent, namespace, resource, class, paged] = p[..] else {
                continue;
            };
            let (count, sum) = match window {
                Some((first, last)) => l.window(first, last),
                None => (l.total, l.total_micros),
            };
            if count == 0 {
                continue;
            }
            rows.push(ListRow {
                user_agent: agent.to_owned(),
                namespace: namespace.to_owned(),
                resource: resource.to_owned(),
                class: if class == "etcd" {
                    ListClass::Etcd
                } else {
                    ListClass::WatchCache
                },
                paginated: paged == "paged",
                cluster_wide: namespace.is_empty(),
                count,
                per_minute: count as f64 / span_minutes,
                mean: micros(sum / count),
            });
        }
        rows.sort_by(|a, b| {
            (
                std::cmp::Reverse(a.class),
                std::cmp::Reverse(a.count),
                &a.user_agent,
                &a.namespace,
                &a.resource,
                a.paginated,
            )
                .cmp(&(
                    std::cmp::Reverse(b.class),
                    std::cmp::Reverse(b.count),
                    &b.user_agent,
                    &b.namespace,
                    &b.resource,
                    b.paginated,
                ))
        });
        ListTable {
            window: window.map(|(f, l)| (f * MINUTE, (l + 1) * MINUTE)),
            rules: self.rules,
            rows,
        }
    }

    /// Keys whose call rate exceeds its pattern's threshold, most calls first.
    pub fn call_patterns(&self) -> Vec<CallPattern> {
        let a = &self.aggregates;
        let watched: std::collections::HashSet<&str> =
            a.watches.ranked().into_iter().map(|(k, _)| k).collect();
        let tables = [
            (PatternKind::ListPolling, &a.list_calls),
            (PatternKind::WatchChurn, &a.watches),
            (PatternKind::GetPolling, &a.gets),
            (PatternKind::WriteStorm, &a.writes),
        ];
        let mut out = Vec::new();
        for (kind, table) in tables {
            let (threshold, min_calls) = self.thresholds.limit(kind);
            for (key, span) in table.ranked() {
                let rate = per_minute(span);
                // An informer LISTs once and then watches the same key: that is not polling.
                if span.count < min_calls
                    || rate < threshold
                    || (kind == PatternKind::ListPolling && watched.contains(key))
                {
                    continue;
                }
                let p = parts(key);
                let [agent, user, resource, namespace, target] = p[..] else {
                    continue;
                };
                out.push(CallPattern {
                    kind,
                    user_agent: agent.to_owned(),
                    user: user.to_owned(),
                    resource: resource.to_owned(),
                    namespace: namespace.to_owned(),
                    target: target.to_owned(),
                    calls: span.count,
                    span: micros(u64::try_from(span.last - span.first).unwrap_or(0)),
                    per_minute: rate,
                    threshold_per_minute: threshold,
                });
            }
        }
        out.sort_by(|x, y| {
            (x.kind, std::cmp::Reverse(x.calls), &x.user_agent, &x.target).cmp(&(
                y.kind,
                std::cmp::Reverse(y.calls),
                &y.user_agent,
                &y.target,
            ))
        });
        out
    }
}
