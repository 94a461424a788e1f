//! The aggregates of one parser thread, merged at the end.
//!
//! Every table is either keyed by something small (agents, verb/resource
//! groups, time bins) or by something unbounded (objects, selectors), and all
//! are [`TopK`] tables so memory stays bounded whatever the input; while a
//! table is below its capacity it is exact, and since every merge is a sum
//! (time bins are keyed by absolute time) the result does not depend on how
//! files or chunks were spread over threads, nor on file order.

use crate::event::Request;
use crate::histogram::LatencyHistogram;
use crate::list_class::ListRules;
use crate::slo::Scope;
use crate::time::Micros;
use crate::topk::{Tally, TopK, compose};
use crate::uri::{Query, path};

/// How many keys each table keeps (at least; up to twice before pruning).
///
/// The defaults bound one parser thread's tables to about 40 MiB in the worst
/// case (every table full, every latency group spanning 100 µs to a minute);
/// a real cluster's audit log fills a small part of that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// User agents.
    pub agents: usize,
    /// (user agent, user) pairs.
    pub pairs: usize,
    /// (agent, verb, resource, scope) latency groups.
    pub latency_groups: usize,
    /// (agent, time bin) cells.
    pub bins: usize,
    /// LIST keys (agent, namespace, resource, class, paginated).
    pub lists: usize,
    /// Keys of each call-pattern table (per object or selector).
    pub patterns: usize,
}

impl Default for Capacity {
    fn default() -> Self {
        Self {
            agents: 2048,
            pairs: 4096,
            latency_groups: 4096,
            bins: 20_000,
            lists: 4096,
            patterns: 4096,
        }
    }
}

/// Per user agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentTally {
    pub requests: u64,
    pub watches: u64,
    pub busy_micros: u64,
    pub too_many: u64,
    pub client_errors: u64,
    pub server_errors: u64,
}

impl Tally for AgentTally {
    fn weight(&self) -> u64 {
        self.requests
    }
    fn merge(&mut self, o: &Self) {
        self.requests += o.requests;
        self.watches += o.watches;
        self.busy_micros += o.busy_micros;
        self.too_many += o.too_many;
        self.client_errors += o.client_errors;
        self.server_errors += o.server_errors;
    }
}

/// Per (user agent, user): the mapping a FlowSchema needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairTally {
    pub requests: u64,
    /// Union of the groups seen, sorted, at most [`MAX_GROUPS`].
    pub groups: Vec<String>,
}

const MAX_GROUPS: usize = 16;

impl PairTally {
    fn add_groups(&mut self, groups: impl IntoIterator<Item = String>) {
        for g in groups {
            if let Err(at) = self.groups.binary_search(&g)
                && self.groups.len() < MAX_GROUPS
            {
                self.groups.insert(at, g);
            }
        }
    }
}

impl Tally for PairTally {
    fn weight(&self) -> u64 {
        self.requests
    }
    fn merge(&mut self, o: &Self) {
        self.requests += o.requests;
        self.add_groups(o.groups.iter().cloned());
    }
}

impl Tally for LatencyHistogram {
    fn weight(&self) -> u64 {
        self.count()
    }
    fn merge(&mut self, o: &Self) {
        LatencyHistogram::merge(self, o);
    }
}

/// One (agent, time bin) cell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BinTally {
    pub requests: u64,
    pub timed: u64,
    pub sum_micros: u64,
    pub max_micros: u64,
}

impl Tally for BinTally {
    fn weight(&self) -> u64 {
        self.requests
    }
    fn merge(&mut self, o: &Self) {
        self.requests += o.requests;
        self.timed += o.timed;
        self.sum_micros += o.sum_micros;
        self.max_micros = self.max_micros.max(o.max_micros);
    }
}

/// Successful LISTs of one key: totals, and per-minute counts of the latest
/// minutes so the report can cut the detector's window (30 minutes before the
/// newest event) without knowing the newest event while reading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListTally {
    pub total: u64,
    pub total_micros: u64,
    /// The latest minute seen and the counts of the minutes up to it, newest first.
    pub head: Micros,
    pub minutes: Vec<(u64, u64)>,
}

impl ListTally {
    fn add(&mut self, minute: Micros, latency: u64, slots: usize) {
        self.total += 1;
        self.total_micros += latency;
        self.place(minute, 1, latency, slots);
    }

    fn place(&mut self, minute: Micros, n: u64, micros: u64, slots: usize) {
        if slots == 0 {
            return;
        }
        if self.minutes.is_empty() {
            self.head = minute;
            self.minutes.resize(slots, (0, 0));
        }
        if minute > self.head {
            let shift = usize::try_from(minute - self.head)
                .unwrap_or(usize::MAX)
                .min(slots);
            self.minutes.rotate_right(shift);
            self.minutes[..shift].fill((0, 0));
            self.head = minute;
        }
        let back = usize::try_from(self.head - minute).unwrap_or(usize::MAX);
        if let Some(slot) = self.minutes.get_mut(back) {
            slot.0 += n;
            slot.1 += micros;
        }
    }

    /// Count and latency sum of the minutes `first..=last`.
    pub fn window(&self, first: Micros, last: Micros) -> (u64, u64) {
        let mut sum = (0, 0);
        for (back, &(n, us)) in self.minutes.iter().enumerate() {
            let minute = self.head - back as Micros;
            if (first..=last).contains(&minute) {
                sum.0 += n;
                sum.1 += us;
            }
        }
        sum
    }
}

impl Tally for ListTally {
    fn weight(&self) -> u64 {
        self.total
    }
    fn merge(&mut self, o: &Self) {
        self.total += o.total;
        self.total_micros += o.total_micros;
        let slots = self.minutes.len().max(o.minutes.len());
        for (back, &(n, us)) in o.minutes.iter().enumerate() {
            if n > 0 {
                self.place(o.head - back as Micros, n, us, slots);
            }
        }
    }
}

/// Calls of one key over time: enough for a rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub count: u64,
    pub first: Micros,
    pub last: Micros,
}

impl Span {
    fn add(&mut self, t: Micros) {
        self.first = if self.count == 0 {
            t
        } else {
            self.first.min(t)
        };
        self.last = if self.count == 0 { t } else { self.last.max(t) };
        self.count += 1;
    }
}

impl Tally for Span {
    fn weight(&self) -> u64 {
        self.count
    }
    fn merge(&mut self, o: &Self) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *o;
            return;
        }
        self.count += o.count;
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
    }
}

/// What the aggregates need to know while adding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub rules: ListRules,
    pub bin_micros: i64,
    /// Minutes kept per LIST key (the detector window plus one).
    pub list_slots: usize,
    pub capacity: Capacity,
}

/// Everything counted, for one category of records.
#[derive(Debug, Clone)]
pub struct Aggregates {
    pub counted: u64,
    pub watch_opens: u64,
    pub oldest: Option<Micros>,
    pub newest: Option<Micros>,
    pub agents: TopK<AgentTally>,
    pub pairs: TopK<PairTally>,
    pub latency: TopK<LatencyHistogram>,
    pub bins: TopK<BinTally>,
    pub lists: TopK<ListTally>,
    pub list_calls: TopK<Span>,
    pub watches: TopK<Span>,
    pub gets: TopK<Span>,
    pub writes: TopK<Span>,
    scratch: Scratch,
}

/// Buffers reused for every event, so counting one allocates nothing unless a key is new.
#[derive(Debug, Clone, Default)]
struct Scratch {
    key: String,
    resource: String,
    number: String,
    selector: String,
}

pub(crate) const MINUTE: i64 = 60_000_000;

impl Aggregates {
    pub(crate) fn new(c: &Capacity) -> Self {
        Self {
            counted: 0,
            watch_opens: 0,
            oldest: None,
            newest: None,
            agents: TopK::new(c.agents),
            pairs: TopK::new(c.pairs),
            latency: TopK::new(c.latency_groups),
            bins: TopK::new(c.bins),
            lists: TopK::new(c.lists),
            list_calls: TopK::new(c.patterns),
            watches: TopK::new(c.patterns),
            gets: TopK::new(c.patterns),
            writes: TopK::new(c.patterns),
            scratch: Scratch::default(),
        }
    }

    /// Counts one request (already chosen by stage and filters).
    pub(crate) fn add(&mut self, r: &Request<'_>, watch_open: bool, s: &Settings) {
        let t = r.received;
        self.counted += 1;
        self.watch_opens += u64::from(watch_open);
        self.oldest = Some(self.oldest.map_or(t, |o| o.min(t)));
        self.newest = Some(self.newest.map_or(t, |n| n.max(t)));
        let (ua, user, verb) = (r.user_agent(), &*r.event.user.username, &*r.event.verb);
        let obj = r.object();
        let code = r.code();
        let timed = !r.is_long_running();

        let a = self.agents.entry(ua);
        a.requests += 1;
        a.watches += u64::from(verb == "watch");
        a.too_many += u64::from(code == 429);
        a.client_errors += u64::from((400..500).contains(&code) && code != 429);
        a.server_errors += u64::from(code >= 500);
        if timed {
            a.busy_micros += r.latency;
        }

        let pair = self
            .pairs
            .entry(compose(&mut self.scratch.key, &[ua, user]));
        pair.requests += 1;
        if pair.requests == 1 {
            pair.add_groups(r.groups());
        }

        let Scratch {
            key,
            resource,
            number,
            selector,
        } = &mut self.scratch;
        resource_key(
            resource,
            &obj.resource,
            &obj.subresource,
            &obj.api_group,
            &r.event.request_uri,
        );
        let scope = Scope::of(&obj.namespace, &obj.name);
        if timed {
            self.latency
                .entry(compose(key, &[ua, verb, resource, scope_code(scope)]))
                .record(r.latency);
        }

        let bin = t.div_euclid(s.bin_micros) * s.bin_micros;
        decimal(number, bin);
        let cell = self.bins.entry(compose(key, &[ua, number]));
        cell.requests += 1;
        if timed {
            cell.timed += 1;
            cell.sum_micros += r.latency;
            cell.max_micros = cell.max_micros.max(r.latency);
        }

        let ns = &*obj.namespace;
        match verb {
            "list" => {
                let q = Query::parse(&r.event.request_uri);
                q.write_selector(selector);
                self.list_calls
                    .entry(compose(key, &[ua, user, resource, ns, selector]))
                    .add(t);
                if (200..300).contains(&code) {
                    let class =
                        crate::report::class_code(s.rules.classify_query(&obj.resource, &q));
                    let paged = if q.limit > 0 { "paged" } else { "unpaged" };
                    let entry = self
                        .lists
                        .entry(compose(key, &[ua, ns, resource, class, paged]));
                    entry.add(t.div_euclid(MINUTE), r.latency, s.list_slots);
                }
            }
            "watch" if watch_open => {
                Query::parse(&r.event.request_uri).write_selector(selector);
                self.watches
                    .entry(compose(key, &[ua, user, resource, ns, selector]))
                    .add(t);
            }
            "get" if !obj.name.is_empty() => {
                self.gets
                    .entry(compose(key, &[ua, user, resource, ns, &obj.name]))
                    .add(t);
            }
            "update" | "patch" if !obj.name.is_empty() => {
                self.writes
                    .entry(compose(key, &[ua, user, resource, ns, &obj.name]))
                    .add(t);
            }
            _ => {}
        }
    }

    /// Adds another thread's aggregates of the same category.
    pub(crate) fn merge(&mut self, o: &Self) {
        self.counted += o.counted;
        self.watch_opens += o.watch_opens;
        self.oldest = [self.oldest, o.oldest].into_iter().flatten().min();
        self.newest = [self.newest, o.newest].into_iter().flatten().max();
        self.agents.merge(&o.agents);
        self.pairs.merge(&o.pairs);
        self.latency.merge(&o.latency);
        self.bins.merge(&o.bins);
        self.lists.merge(&o.lists);
        self.list_calls.merge(&o.list_calls);
        self.watches.merge(&o.watches);
        self.gets.merge(&o.gets);
        self.writes.merge(&o.writes);
    }

    /// The largest weight any table dropped: 0 while every figure is exact.
    pub fn approximation_floor(&self) -> u64 {
        [
            self.agents.floor(),
            self.pairs.floor(),
            self.latency.floor(),
            self.bins.floor(),
            self.lists.floor(),
            self.list_calls.floor(),
            self.watches.floor(),
            self.gets.floor(),
            self.writes.floor(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }
}

/// `pods`, `pods/status`, `deployments.apps`, `deployments.apps/scale`; for a
/// non-resource request its path (`/readyz`).
pub(crate) fn resource_key(key: &mut String, resource: &str, sub: &str, group: &str, uri: &str) {
    key.clear();
    if resource.is_empty() {
        key.push_str(path(uri));
        return;
    }
    key.push_str(resource);
    if !group.is_empty() {
        key.push('.');
        key.push_str(group);
    }
    if !sub.is_empty() {
        key.push('/');
        key.push_str(sub);
    }
}

/// `write!(out, "{n}")`, without the formatting machinery (it ran for every
/// event and cost more than the bin lookup itself).
fn decimal(out: &mut String, n: i64) {
    out.clear();
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let mut rest = n.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

pub(crate) fn scope_code(scope: Scope) -> &'static str {
    match scope {
        Scope::Resource => "resource",
        Scope::Namespace => "namespace",
        Scope::Cluster => "cluster",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_as_display_writes_them() {
        let mut out = String::from("stale");
        for n in [0, 7, -7, 1_764_547_200_000_000, i64::MIN, i64::MAX] {
            decimal(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn minute_ring_keeps_the_latest_minutes() {
        let mut l = ListTally::default();
        for m in [10, 11, 11, 40, 41] {
            l.add(m, 5, 31);
        }
        assert_eq!(l.total, 5);
        assert_eq!(l.window(11, 41), (4, 20));
        assert_eq!(l.window(12, 41), (2, 10));
        let mut other = ListTally::default();
        other.add(50, 1, 31);
        let mut merged = l.clone();
        merged.merge(&other);
        let mut reverse = other.clone();
        reverse.merge(&l);
        assert_eq!(merged.window(20, 50), (3, 11));
        assert_eq!(merged.window(20, 50), reverse.window(20, 50));
        assert_eq!(merged.total, 6);
    }

    #[test]
    fn resource_keys() {
        let key = |r, s, g, u| {
            let mut k = String::from("stale");
            resource_key(&mut k, r, s, g, u);
            k
        };
        assert_eq!(key("pods", "", "", "/api/v1/pods"), "pods");
        assert_eq!(
            key("deployments", "scale", "apps", ""),
            "deployments.apps/scale"
        );
        assert_eq!(key("", "", "", "/readyz?verbose"), "/readyz");
    }

    #[test]
    fn spans_merge_in_any_order() {
        let (mut a, mut b) = (Span::default(), Span::default());
        a.add(5);
        a.add(3);
        b.add(9);
        let mut ab = a;
        ab.merge(&b);
        let mut ba = b;
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!((ab.count, ab.first, ab.last), (3, 3, 9));
    }
}
