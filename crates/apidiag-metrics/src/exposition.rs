//! Parser for the Prometheus text exposition format (0.0.4) that
//! kube-apiserver serves at `/metrics`, plus the few queries a diagnosis needs.
//!
//! The body is often tens of megabytes from a server that is already in
//! trouble, so the parser reads it once, line by line, and never fails as a
//! whole: a line it cannot read is skipped and counted in
//! [`MetricFamilies::skipped_lines`], so a report can say the data was
//! partial instead of saying nothing. Samples are grouped into families the
//! way the `# TYPE` lines declare them (a histogram's `_bucket`, `_sum` and
//! `_count` samples belong to its base name), because the stability and
//! deprecation notes kube-apiserver writes into `# HELP` are per family.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;

/// How many skipped line numbers are remembered, so a report can point at a
/// few examples without keeping a copy of a badly broken body.
const MAX_SKIPPED_EXAMPLES: usize = 8;

/// The kind of a metric family, from its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricType {
    /// A value that only goes up (resets on restart).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Cumulative `le` buckets plus `_sum` and `_count`.
    Histogram,
    /// Precomputed `quantile` samples plus `_sum` and `_count`.
    Summary,
    /// No `# TYPE` line, or `# TYPE … untyped`.
    Untyped,
}

impl MetricType {
    /// Reads the type token of a `# TYPE` line; `None` for anything the
    /// 0.0.4 format does not define.
    pub fn from_token(token: &str) -> Option<Self> {
        match token {
            "counter" => Some(Self::Counter),
            "gauge" => Some(Self::Gauge),
            "histogram" => Some(Self::Histogram),
            "summary" => Some(Self::Summary),
            "untyped" => Some(Self::Untyped),
            _ => None,
        }
    }

    /// The token as written in a `# TYPE` line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::Summary => "summary",
            Self::Untyped => "untyped",
        }
    }

    /// Whether samples named `<family><suffix>` belong to a family of this
    /// type. Only histograms and summaries have suffixed samples.
    fn owns_suffix(self, suffix: &str) -> bool {
        match self {
            Self::Histogram => matches!(suffix, "_bucket" | "_sum" | "_count"),
            Self::Summary => matches!(suffix, "_sum" | "_count"),
            _ => false,
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Kubernetes metric stability class, which component-base writes as a
/// `[STABLE]`-style prefix of the `# HELP` text. It tells a check how much it
/// may rely on a metric's name and labels staying as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Stability {
    /// For the component's own use; may change at any time.
    Internal,
    /// May change or disappear in any release.
    Alpha,
    /// Name and labels kept, but may still be deprecated on a short notice.
    Beta,
    /// Covered by the Kubernetes metrics deprecation policy.
    Stable,
}

impl Stability {
    /// Reads the word between the brackets (`STABLE`, `ALPHA`, …).
    pub fn from_token(token: &str) -> Option<Self> {
        match token {
            "INTERNAL" => Some(Self::Internal),
            "ALPHA" => Some(Self::Alpha),
            "BETA" => Some(Self::Beta),
            "STABLE" => Some(Self::Stable),
            _ => None,
        }
    }

    /// The word as kube-apiserver writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "INTERNAL",
            Self::Alpha => "ALPHA",
            Self::Beta => "BETA",
            Self::Stable => "STABLE",
        }
    }
}

impl fmt::Display for Stability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One sample line: `name{labels} value [timestamp]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// The sample's own name, e.g. `apiserver_request_duration_seconds_bucket`.
    pub name: String,
    /// Label pairs sorted by label name, without duplicates, so lookups can
    /// binary-search and two samples compare equal regardless of the order
    /// the server wrote them in.
    pub labels: Vec<(String, String)>,
    /// The value; `+Inf`, `-Inf` and `NaN` are kept as such.
    pub value: f64,
    /// The optional timestamp in milliseconds since the epoch.
    pub timestamp_ms: Option<i64>,
}

impl Sample {
    /// The value of label `name`, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()
            .and_then(|i| self.labels.get(i))
            .map(|(_, v)| v.as_str())
    }

    /// Whether every `(label, value)` pair of `filter` holds. As in PromQL, a
    /// missing label counts as the empty string, so `("subresource", "")`
    /// matches samples that have no `subresource` label.
    pub fn matches(&self, filter: &[(&str, &str)]) -> bool {
        filter
            .iter()
            .all(|(k, v)| self.label(k).unwrap_or("") == *v)
    }
}

/// All samples of one metric family plus its `# HELP` and `# TYPE`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricFamily {
    name: String,
    metric_type: MetricType,
    help: Option<String>,
    samples: Vec<Sample>,
}

impl MetricFamily {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            metric_type: MetricType::Untyped,
            help: None,
            samples: Vec::new(),
        }
    }

    /// The family name (for a histogram, the base name without `_bucket`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The declared type; [`MetricType::Untyped`] when there was no `# TYPE`.
    pub fn metric_type(&self) -> MetricType {
        self.metric_type
    }

    /// The unescaped `# HELP` text as served, annotations included.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The samples in the order they were served.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The stability class from the `[STABLE]`/`[BETA]`/`[ALPHA]`/`[INTERNAL]`
    /// prefix of the HELP text. `None` when there is no such prefix, which is
    /// the case for metrics that do not come from component-base (Go runtime,
    /// process metrics).
    pub fn stability(&self) -> Option<Stability> {
        self.help
            .as_deref()
            .and_then(|h| HelpNotes::parse(h).stability)
    }

    /// The version from a `(Deprecated since X.Y.Z)` note in the HELP text,
    /// e.g. `"1.28.0"`.
    pub fn deprecated_since(&self) -> Option<&str> {
        self.help
            .as_deref()
            .and_then(|h| HelpNotes::parse(h).deprecated_since)
    }

    /// Whether the HELP text marks the family deprecated, either with
    /// component-base's `(Deprecated since X.Y.Z)` note or with a free-text
    /// `[DEPRECATED` remark some metrics carry before the note is added.
    pub fn is_deprecated(&self) -> bool {
        self.help.as_deref().is_some_and(|h| {
            let notes = HelpNotes::parse(h);
            notes.deprecated_since.is_some() || notes.description.starts_with("[DEPRECATED")
        })
    }

    /// The HELP text without the stability and deprecation prefixes.
    pub fn description(&self) -> Option<&str> {
        self.help
            .as_deref()
            .map(|h| HelpNotes::parse(h).description)
    }
}

/// What component-base prepends to a HELP text. It writes the deprecation
/// note first and the stability prefix in front of it
/// (`[ALPHA] (Deprecated since 1.28.0) …`), but both orders are accepted so a
/// change there does not lose the information.
struct HelpNotes<'a> {
    stability: Option<Stability>,
    deprecated_since: Option<&'a str>,
    description: &'a str,
}

impl<'a> HelpNotes<'a> {
    fn parse(help: &'a str) -> Self {
        let mut notes = HelpNotes {
            stability: None,
            deprecated_since: None,
            description: help.trim_start(),
        };
        // At most one of each annotation; the loop stops at the first thing
        // that is neither, so free text that merely starts with '[' is kept.
        for _ in 0..2 {
            let rest = notes.description;
            if notes.stability.is_none()
                && let Some(inner) = rest.strip_prefix('[')
                && let Some((word, after)) = inner.split_once(']')
                && let Some(level) = Stability::from_token(word)
            {
                notes.stability = Some(level);
                notes.description = after.trim_start();
                continue;
            }
            if notes.deprecated_since.is_none()
                && let Some(inner) = rest.strip_prefix("(Deprecated since ")
                && let Some((version, after)) = inner.split_once(')')
            {
                notes.deprecated_since = Some(version.trim());
                notes.description = after.trim_start();
                continue;
            }
            break;
        }
        notes
    }
}

/// Everything parsed from one `/metrics` body.
#[derive(Debug, Clone, Default)]
pub struct MetricFamilies {
    families: Vec<MetricFamily>,
    /// Family name → index into `families`, so lookups stay O(1) on bodies
    /// with thousands of families.
    index: HashMap<String, usize>,
    skipped_lines: usize,
    skipped_examples: Vec<usize>,
}

impl MetricFamilies {
    /// Parses a whole exposition body. Never fails: lines that cannot be read
    /// are skipped and counted (see [`Self::skipped_lines`]).
    pub fn parse(text: &str) -> Self {
        let mut out = Self::default();
        // Samples of one name are written together, so remembering where the
        // last one went saves the hash lookups on almost every sample line.
        let mut last: Option<usize> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let ok = if let Some(comment) = line.strip_prefix('#') {
                last = None;
                out.comment(comment)
            } else {
                match parse_sample(line) {
                    Some(sample) => {
                        out.push_sample(sample, &mut last);
                        true
                    }
                    None => false,
                }
            };
            if !ok {
                out.skipped_lines += 1;
                if out.skipped_examples.len() < MAX_SKIPPED_EXAMPLES {
                    out.skipped_examples.push(i + 1);
                }
            }
        }
        out
    }

    /// How many non-blank lines could not be read (malformed samples,
    /// `# TYPE` with an unknown type, …). Plain comments are not counted.
    pub fn skipped_lines(&self) -> usize {
        self.skipped_lines
    }

    /// 1-based line numbers of the first few skipped lines.
    pub fn skipped_line_numbers(&self) -> &[usize] {
        &self.skipped_examples
    }

    /// Number of families (including families with HELP/TYPE but no samples).
    pub fn len(&self) -> usize {
        self.families.len()
    }

    /// Whether nothing at all was parsed.
    pub fn is_empty(&self) -> bool {
        self.families.is_empty()
    }

    /// All families in the order they first appeared.
    pub fn families(&self) -> impl Iterator<Item = &MetricFamily> {
        self.families.iter()
    }

    /// The family named exactly `name` (a histogram by its base name).
    pub fn family(&self, name: &str) -> Option<&MetricFamily> {
        self.index.get(name).and_then(|&i| self.families.get(i))
    }

    /// The family a sample called `sample_name` belongs to: the family of that
    /// exact name, else the histogram or summary it is a `_bucket`, `_sum` or
    /// `_count` of.
    pub fn family_of_sample(&self, sample_name: &str) -> Option<&MetricFamily> {
        self.resolve(sample_name).and_then(|i| self.families.get(i))
    }

    /// Samples whose own name is `name`, in served order. For a histogram
    /// ask for `x_bucket`, `x_sum` or `x_count`: as in PromQL there is no
    /// sample named `x` itself.
    pub fn samples<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.family_of_sample(name)
            .map(MetricFamily::samples)
            .unwrap_or_default()
            .iter()
            .filter(move |s| s.name == name)
    }

    /// Whether at least one sample called `name` was served. A family with
    /// HELP/TYPE but no samples does not count: a check needs values.
    pub fn has_samples(&self, name: &str) -> bool {
        self.samples(name).next().is_some()
    }

    /// Sum of the samples called `name` that match `filter` (see
    /// [`Sample::matches`]). `None` when no sample matched, so "absent" and
    /// "zero" stay apart.
    pub fn sum(&self, name: &str, filter: &[(&str, &str)]) -> Option<f64> {
        self.samples(name)
            .filter(|s| s.matches(filter))
            .map(|s| s.value)
            .reduce(|a, b| a + b)
    }

    /// [`MetricFamilies::sum`] of one metric read straight from a `/metrics`
    /// body: only that metric's lines are parsed, so a caller that samples one
    /// gauge often (a paced fix watching APF queues) does not build the whole
    /// set of families from a body of tens of MB each time.
    pub fn sum_in(text: &str, name: &str) -> Option<f64> {
        let lines: Vec<&str> = text
            .lines()
            .filter(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
            .collect();
        MetricFamilies::parse(&lines.join("\n")).sum(name, &[])
    }

    /// Like PromQL `sum by (label) (name)`: one entry per value of `label`
    /// (samples without it fall under `""`), sorted by that value.
    pub fn group_by(&self, name: &str, label: &str) -> Vec<(String, f64)> {
        self.group_by_labels(name, &[label], &[])
            .into_iter()
            .map(|(mut keys, v)| (keys.pop().unwrap_or_default(), v))
            .collect()
    }

    /// Like PromQL `sum by (l1, l2) (name)`, sorted by `(l1, l2)`.
    pub fn group_by2(&self, name: &str, l1: &str, l2: &str) -> Vec<(String, String, f64)> {
        self.group_by_labels(name, &[l1, l2], &[])
            .into_iter()
            .map(|(keys, v)| {
                let mut it = keys.into_iter();
                let a = it.next().unwrap_or_default();
                let b = it.next().unwrap_or_default();
                (a, b, v)
            })
            .collect()
    }

    /// The general form of [`Self::group_by`]: sums the samples called `name`
    /// that match `filter`, grouped by the values of `labels` (in that
    /// order), sorted by those values.
    pub fn group_by_labels(
        &self,
        name: &str,
        labels: &[&str],
        filter: &[(&str, &str)],
    ) -> Vec<(Vec<String>, f64)> {
        let mut groups: BTreeMap<Vec<&str>, f64> = BTreeMap::new();
        for s in self.samples(name).filter(|s| s.matches(filter)) {
            let key: Vec<&str> = labels.iter().map(|l| s.label(l).unwrap_or("")).collect();
            *groups.entry(key).or_insert(0.0) += s.value;
        }
        groups
            .into_iter()
            .map(|(k, v)| (k.into_iter().map(str::to_owned).collect(), v))
            .collect()
    }

    /// The histogram `name` (base name) summed over every label set that
    /// matches `filter`. `None` when no `_bucket`, `_sum` or `_count` sample
    /// matched.
    pub fn histogram(&self, name: &str, filter: &[(&str, &str)]) -> Option<Histogram> {
        Histogram::collect(self, name, filter)
    }

    /// Handles the text after `#`. Returns false for a HELP/TYPE line that
    /// cannot be read; other comments are fine.
    fn comment(&mut self, comment: &str) -> bool {
        let comment = comment.trim_start();
        let (keyword, rest) = split_token(comment);
        match keyword {
            "HELP" => {
                let (name, text) = split_token(rest);
                if !is_metric_name(name) {
                    return false;
                }
                let help = unescape_help(text);
                let i = self.family_index_or_insert(name);
                if let Some(f) = self.families.get_mut(i) {
                    f.help = Some(help);
                }
                true
            }
            "TYPE" => {
                let (name, rest) = split_token(rest);
                let (token, extra) = split_token(rest);
                let Some(t) = MetricType::from_token(token) else {
                    return false;
                };
                if !is_metric_name(name) || !extra.is_empty() {
                    return false;
                }
                let i = self.family_index_or_insert(name);
                if let Some(f) = self.families.get_mut(i) {
                    f.metric_type = t;
                }
                true
            }
            _ => true,
        }
    }

    fn push_sample(&mut self, sample: Sample, last: &mut Option<usize>) {
        // Same name as the previous sample → same family, as long as no
        // HELP/TYPE line came in between (the caller clears `last` then).
        let cached = last.filter(|&i| {
            self.families
                .get(i)
                .and_then(|f| f.samples.last())
                .is_some_and(|s| s.name == sample.name)
        });
        let i = match cached.or_else(|| self.resolve(&sample.name)) {
            Some(i) => i,
            // No TYPE line: an untyped family of its own, as Prometheus does.
            None => self.family_index_or_insert(&sample.name),
        };
        *last = Some(i);
        if let Some(f) = self.families.get_mut(i) {
            f.samples.push(sample);
        }
    }

    fn resolve(&self, sample_name: &str) -> Option<usize> {
        if let Some(&i) = self.index.get(sample_name) {
            return Some(i);
        }
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = sample_name.strip_suffix(suffix)
                && let Some(&i) = self.index.get(base)
                && self
                    .families
                    .get(i)
                    .is_some_and(|f| f.metric_type.owns_suffix(suffix))
            {
                return Some(i);
            }
        }
        None
    }

    fn family_index_or_insert(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.families.len();
        self.families.push(MetricFamily::new(name));
        self.index.insert(name.to_owned(), i);
        i
    }
}

/// Splits off the first whitespace-separated token; the rest keeps its inner
/// spacing (HELP text) but loses the separating whitespace.
fn split_token(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find([' ', '\t']) {
        Some(i) => {
            let (token, rest) = s.split_at(i);
            (token, rest.trim_start())
        }
        None => (s, ""),
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// HELP text escapes only `\\` and `\n`; any other backslash stays literal.
fn unescape_help(text: &str) -> String {
    if !text.contains('\\') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Parses one sample line (already trimmed). `None` means malformed.
fn parse_sample(line: &str) -> Option<Sample> {
    let mut cur = Cursor { s: line, pos: 0 };
    let name = cur.take_while(|b, first| {
        b.is_ascii_alphabetic() || b == b'_' || b == b':' || (!first && b.is_ascii_digit())
    });
    if name.is_empty() {
        return None;
    }
    let after_name = cur.pos;
    cur.skip_blanks();
    let labels = if cur.eat(b'{') {
        parse_labels(&mut cur)?
    } else {
        cur.pos = after_name;
        Vec::new()
    };
    // Whitespace must separate the value, or `m-1 2` would read as m = -1
    // at time 2.
    let rest = cur.rest();
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let mut tokens = rest.split_ascii_whitespace();
    let value = parse_value(tokens.next()?)?;
    let timestamp_ms = match tokens.next() {
        Some(t) => Some(t.parse::<i64>().ok()?),
        None => None,
    };
    if tokens.next().is_some() {
        return None;
    }
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
        timestamp_ms,
    })
}

/// Values are Go-formatted floats: `1.2e+06`, `+Inf`, `-Inf`, `NaN`. Rust's
/// float parser accepts all of these (case-insensitively for the words).
fn parse_value(token: &str) -> Option<f64> {
    token.parse::<f64>().ok()
}

/// Reads `name="value", …}` after the opening brace. A trailing comma and an
/// empty set are allowed; a repeated label name makes the line malformed
/// because which value is meant cannot be known.
fn parse_labels(cur: &mut Cursor<'_>) -> Option<Vec<(String, String)>> {
    let mut labels: Vec<(String, String)> = Vec::new();
    loop {
        cur.skip_blanks();
        if cur.eat(b'}') {
            break;
        }
        let name = cur.take_while(|b, first| {
            b.is_ascii_alphabetic() || b == b'_' || (!first && b.is_ascii_digit())
        });
        if name.is_empty() {
            return None;
        }
        cur.skip_blanks();
        if !cur.eat(b'=') {
            return None;
        }
        cur.skip_blanks();
        if !cur.eat(b'"') {
            return None;
        }
        let value = cur.quoted_rest()?;
        labels.push((name.to_owned(), value));
        cur.skip_blanks();
        if cur.eat(b',') {
            continue;
        }
        if cur.eat(b'}') {
            break;
        }
        return None;
    }
    labels.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    if labels.windows(2).any(|w| matches!(w, [a, b] if a.0 == b.0)) {
        return None;
    }
    Some(labels)
}

/// A byte position in one line. Every position it stops at is next to an
/// ASCII byte, so slicing there is always on a UTF-8 boundary; `get` is used
/// anyway so a mistake would skip a line rather than panic.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Takes ASCII bytes while `ok(byte, is_first)` holds.
    fn take_while(&mut self, ok: impl Fn(u8, bool) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if !ok(b, self.pos == start) {
                break;
            }
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or("")
    }

    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    /// Reads a label value up to its closing quote (the opening one is
    /// consumed). `\\`, `\"` and `\n` are unescaped; any other escape is kept
    /// literally, as Prometheus does. `None` if the quote is never closed.
    fn quoted_rest(&mut self) -> Option<String> {
        let bytes = self.s.as_bytes();
        let mut out = String::new();
        let mut seg = self.pos;
        let mut i = self.pos;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'"' => {
                    out.push_str(self.s.get(seg..i)?);
                    self.pos = i + 1;
                    return Some(out);
                }
                b'\\' => {
                    out.push_str(self.s.get(seg..i)?);
                    match bytes.get(i + 1)? {
                        b'\\' => out.push('\\'),
                        b'"' => out.push('"'),
                        b'n' => out.push('\n'),
                        _ => {
                            // Keep the backslash; the next character is
                            // copied with the following segment.
                            out.push('\\');
                            i += 1;
                            seg = i;
                            continue;
                        }
                    }
                    i += 2;
                    seg = i;
                }
                _ => i += 1,
            }
        }
        None
    }
}

/// One bucket of a [`Histogram`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bucket {
    /// Upper bound (`le`); the last bucket is `+Inf`.
    pub le: f64,
    /// Observations at or below `le` (cumulative, as served).
    pub cumulative_count: f64,
}

/// A histogram summed over the label sets that matched a filter, like PromQL
/// `sum by (le) (x_bucket{…})`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    buckets: Vec<Bucket>,
    sum: Option<f64>,
    count: Option<f64>,
}

impl Histogram {
    fn collect(families: &MetricFamilies, name: &str, filter: &[(&str, &str)]) -> Option<Self> {
        let bucket_name = format!("{name}_bucket");
        let mut raw: Vec<Bucket> = families
            .samples(&bucket_name)
            .filter(|s| s.matches(filter))
            .filter_map(|s| {
                let le = parse_value(s.label("le")?)?;
                (!le.is_nan()).then_some(Bucket {
                    le,
                    cumulative_count: s.value,
                })
            })
            .collect();
        let sum = families.sum(&format!("{name}_sum"), filter);
        let count = families.sum(&format!("{name}_count"), filter);
        if raw.is_empty() && sum.is_none() && count.is_none() {
            return None;
        }
        raw.sort_by(|a, b| a.le.total_cmp(&b.le));
        // Equal bounds come from different label sets: add them up.
        let mut buckets: Vec<Bucket> = Vec::with_capacity(raw.len());
        for b in raw {
            match buckets.last_mut() {
                Some(last) if last.le == b.le => last.cumulative_count += b.cumulative_count,
                _ => buckets.push(b),
            }
        }
        // Scrapes are not atomic, so a bucket can read lower than the one
        // below it; PromQL forces monotonicity the same way.
        let mut max = f64::NEG_INFINITY;
        for b in &mut buckets {
            if b.cumulative_count > max {
                max = b.cumulative_count;
            } else {
                b.cumulative_count = max;
            }
        }
        Some(Self {
            buckets,
            sum,
            count,
        })
    }

    /// The observations made since `earlier` was scraped (bucket by bucket,
    /// never below zero: a reset in between leaves this scrape's counts). A
    /// bound `earlier` lacks counts whole.
    pub fn minus(&self, earlier: &Histogram) -> Histogram {
        let before = |le: f64| {
            earlier
                .buckets
                .iter()
                .find(|b| b.le == le)
                .map_or(0.0, |b| b.cumulative_count)
        };
        let reset = self.count().unwrap_or(0.0) < earlier.count().unwrap_or(0.0);
        let take = |now: f64, then: f64| if reset || now < then { now } else { now - then };
        Histogram {
            buckets: self
                .buckets
                .iter()
                .map(|b| Bucket {
                    le: b.le,
                    cumulative_count: take(b.cumulative_count, before(b.le)),
                })
                .collect(),
            sum: self.sum.map(|s| take(s, earlier.sum.unwrap_or(0.0))),
            count: self.count.map(|c| take(c, earlier.count.unwrap_or(0.0))),
        }
    }

    /// Buckets by increasing `le`, cumulative counts made monotonic.
    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    /// The summed `_sum` samples.
    pub fn sum(&self) -> Option<f64> {
        self.sum
    }

    /// The summed `_count` samples, else the `+Inf` bucket.
    pub fn count(&self) -> Option<f64> {
        self.count.or_else(|| {
            self.buckets
                .last()
                .filter(|b| b.le == f64::INFINITY)
                .map(|b| b.cumulative_count)
        })
    }

    /// `sum / count`, the mean observation; `None` without observations.
    pub fn mean(&self) -> Option<f64> {
        match (self.sum, self.count()) {
            (Some(s), Some(c)) if c > 0.0 => Some(s / c),
            _ => None,
        }
    }

    /// Estimates the `q`-quantile the way PromQL `histogram_quantile` does:
    /// find the bucket holding rank `q·count` and interpolate linearly inside
    /// it (from 0 for the first bucket if its bound is positive). A rank in
    /// the `+Inf` bucket yields the highest finite bound. `q < 0` gives
    /// `-Inf` and `q > 1` gives `+Inf`, as in PromQL; `None` wherever PromQL
    /// would return NaN (no `+Inf` bucket, fewer than two buckets, no
    /// observations, `q` NaN).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if q.is_nan() {
            return None;
        }
        if q < 0.0 {
            return Some(f64::NEG_INFINITY);
        }
        if q > 1.0 {
            return Some(f64::INFINITY);
        }
        let b = &self.buckets;
        let n = b.len();
        let last = b.last()?;
        if last.le != f64::INFINITY || n < 2 {
            return None;
        }
        let observations = last.cumulative_count;
        if observations.is_nan() || observations <= 0.0 {
            return None;
        }
        let rank = q * observations;
        let i = b.partition_point(|x| x.cumulative_count < rank);
        if i >= n - 1 {
            return b.get(n - 2).map(|x| x.le);
        }
        let this = b.get(i)?;
        if i == 0 && this.le <= 0.0 {
            return Some(this.le);
        }
        let (start, below) = match i.checked_sub(1).and_then(|j| b.get(j)) {
            Some(prev) => (prev.le, prev.cumulative_count),
            None => (0.0, 0.0),
        };
        let in_bucket = this.cumulative_count - below;
        let v = start + (this.le - start) * ((rank - below) / in_bucket);
        (!v.is_nan()).then_some(v)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn sum_in_reads_one_metric_of_a_body() {
        let body = "# TYPE q gauge\nq{priority_level=\"a b\"} 3\nq{priority_level=\"c\"} 4\nq_other 9\nqq 1\n";
        assert_eq!(MetricFamilies::sum_in(body, "q"), Some(7.0));
        assert_eq!(MetricFamilies::sum_in(body, "absent"), None);
    }
    use super::*;

    fn parse(s: &str) -> MetricFamilies {
        MetricFamilies::parse(s)
    }

    #[test]
    fn fixture_1_37_parses_fully() {
        let f = parse(crate::fixtures::FIXTURE_1_37);
        assert_eq!(f.skipped_lines(), 0);
        assert_eq!(f.len(), 16);

        let so = f
            .family("apiserver_storage_objects")
            .expect("storage objects");
        assert_eq!(so.metric_type(), MetricType::Gauge);
        assert_eq!(so.stability(), Some(Stability::Stable));
        assert_eq!(so.deprecated_since(), Some("1.34.0"));
        assert!(so.is_deprecated());
        let ro = f
            .family("apiserver_resource_objects")
            .expect("resource objects");
        assert_eq!(ro.stability(), Some(Stability::Alpha));
        assert!(!ro.is_deprecated());
        let apf = f
            .family("apiserver_flowcontrol_rejected_requests_total")
            .expect("apf");
        assert_eq!(apf.stability(), Some(Stability::Beta));
        assert_eq!(apf.metric_type(), MetricType::Counter);
        let go = f.family("go_goroutines").expect("go");
        assert_eq!(go.stability(), None);
        assert_eq!(f.sum("go_goroutines", &[]), Some(1843.0));
        assert_eq!(
            f.sum("process_start_time_seconds", &[]),
            Some(1_712_345_678.91)
        );

        assert_eq!(
            f.sum(
                "apiserver_storage_size_bytes",
                &[("storage_cluster_id", "etcd-0")]
            ),
            Some(12_340_000.0)
        );
        assert_eq!(
            f.sum("apiserver_storage_objects", &[("resource", "jobs.batch")]),
            Some(20012.0)
        );
        assert_eq!(
            f.sum(
                "apiserver_resource_objects",
                &[("group", "batch"), ("resource", "jobs")]
            ),
            Some(20012.0)
        );

        let webhook: Vec<_> = f
            .samples("apiserver_admission_webhook_rejection_count")
            .collect();
        assert_eq!(webhook.len(), 1);
        assert_eq!(
            webhook[0].label("name"),
            Some("deny \"privileged\" pods\\prod\nv2")
        );
        assert_eq!(webhook[0].label("rejection_code"), Some("403"));

        assert_eq!(
            f.group_by("apiserver_request_total", "code"),
            vec![
                ("200".to_owned(), 2045.0),
                ("429".to_owned(), 1610.0),
                ("504".to_owned(), 5.0)
            ]
        );
        assert_eq!(
            f.group_by2("apiserver_request_total", "verb", "code"),
            vec![
                ("GET".to_owned(), "200".to_owned(), 2000.0),
                ("LIST".to_owned(), "200".to_owned(), 45.0),
                ("LIST".to_owned(), "429".to_owned(), 1610.0),
                ("LIST".to_owned(), "504".to_owned(), 5.0),
            ]
        );
    }

    #[test]
    fn fixture_1_37_request_latency_quantiles() {
        let f = parse(crate::fixtures::FIXTURE_1_37);
        let name = "apiserver_request_duration_seconds";
        assert_eq!(
            f.family_of_sample("apiserver_request_duration_seconds_bucket")
                .map(MetricFamily::name),
            Some(name)
        );
        assert_eq!(f.family(name).map(|h| h.samples().len()), Some(14));

        let get = f.histogram(name, &[("verb", "GET")]).expect("GET");
        assert_eq!(get.count(), Some(2000.0));
        assert_eq!(get.sum(), Some(21.7));
        let p50 = get.quantile(0.5).expect("p50");
        assert!((p50 - 0.005 * 1000.0 / 1200.0).abs() < 1e-12, "{p50}");
        let p99 = get.quantile(0.99).expect("p99");
        assert!((p99 - 0.64).abs() < 1e-12, "{p99}");

        let list = f.histogram(name, &[("verb", "LIST")]).expect("LIST");
        assert!((list.quantile(0.5).expect("p50") - 0.55).abs() < 1e-12);
        assert_eq!(list.quantile(0.9), Some(1.0));
        assert_eq!(list.mean(), Some(61.2 / 50.0));

        let all = f.histogram(name, &[]).expect("all");
        assert_eq!(all.count(), Some(2050.0));
        assert_eq!(
            all.buckets()
                .iter()
                .map(|b| b.cumulative_count)
                .collect::<Vec<_>>(),
            vec![1200.0, 1800.0, 1960.0, 2040.0, 2050.0]
        );
        let p99 = all.quantile(0.99).expect("p99");
        assert!((p99 - (0.1 + 0.9 * 69.5 / 80.0)).abs() < 1e-12, "{p99}");
        assert_eq!(all.quantile(1.0), Some(1.0));

        let wait = f
            .histogram(
                "apiserver_flowcontrol_request_wait_duration_seconds",
                &[("priority_level", "workload-low")],
            )
            .expect("wait");
        assert!((wait.quantile(0.5).expect("p50") - 0.1 * 500.0 / 900.0).abs() < 1e-12);
        assert_eq!(wait.mean(), Some(0.2125));
    }

    #[test]
    fn simple_sample_without_labels() {
        let f = parse("up 1\n");
        let s: Vec<_> = f.samples("up").collect();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].value, 1.0);
        assert!(s[0].labels.is_empty());
        assert_eq!(s[0].timestamp_ms, None);
        assert_eq!(f.skipped_lines(), 0);
    }

    #[test]
    fn special_values_and_exponents() {
        let f = parse("a +Inf\nb -Inf\nc NaN\nd 1.2e+06\ne -3.5E-2\nf 7 1712345678901\ng 0x10\n");
        assert_eq!(f.sum("a", &[]), Some(f64::INFINITY));
        assert_eq!(f.sum("b", &[]), Some(f64::NEG_INFINITY));
        assert!(f.sum("c", &[]).is_some_and(f64::is_nan));
        assert_eq!(f.sum("d", &[]), Some(1_200_000.0));
        assert_eq!(f.sum("e", &[]), Some(-0.035));
        let s: Vec<_> = f.samples("f").collect();
        assert_eq!(s[0].timestamp_ms, Some(1_712_345_678_901));
        // Hex is not a Prometheus value: skipped, not misread.
        assert!(!f.has_samples("g"));
        assert_eq!(f.skipped_lines(), 1);
        assert_eq!(f.skipped_line_numbers(), &[7]);
    }

    #[test]
    fn label_escapes_and_odd_label_sets() {
        let text = concat!(
            "m{path=\"C:\\\\dir\",msg=\"say \\\"hi\\\"\\nbye\",x=\"a\\tb\"} 1\n",
            "m{a=\"b\",} 2\n",
            "m{} 3\n",
            "m { a = \"c\" , b=\"}\" } 4 \t \n",
            "m{a=\"é,ü\"} 5\r\n",
        );
        let f = parse(text);
        assert_eq!(f.skipped_lines(), 0);
        let s: Vec<_> = f.samples("m").collect();
        assert_eq!(s.len(), 5);
        assert_eq!(s[0].label("path"), Some("C:\\dir"));
        assert_eq!(s[0].label("msg"), Some("say \"hi\"\nbye"));
        // Unknown escapes stay literal, like Prometheus.
        assert_eq!(s[0].label("x"), Some("a\\tb"));
        assert_eq!(s[1].labels, vec![("a".to_owned(), "b".to_owned())]);
        assert!(s[2].labels.is_empty());
        assert_eq!(s[2].value, 3.0);
        assert_eq!(s[3].label("a"), Some("c"));
        assert_eq!(s[3].label("b"), Some("}"));
        assert_eq!(s[3].value, 4.0);
        assert_eq!(s[4].label("a"), Some("é,ü"));
    }

    #[test]
    fn labels_are_sorted_and_duplicates_rejected() {
        let f = parse("m{z=\"1\",a=\"2\"} 1\nm{a=\"1\",a=\"2\"} 2\n");
        let s: Vec<_> = f.samples("m").collect();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].labels[0].0, "a");
        assert_eq!(s[0].labels[1].0, "z");
        assert_eq!(f.skipped_lines(), 1);
    }

    #[test]
    fn comments_help_and_type() {
        let text = "# random comment\n#\n# EOF\n# HELP x [BETA] (Deprecated since 1.28.0) Line\\none \\\\ two\n# TYPE x gauge\nx 5\n# TYPE y bogus\n# TYPE\n# HELP\n";
        let f = parse(text);
        let x = f.family("x").expect("family x");
        assert_eq!(x.metric_type(), MetricType::Gauge);
        assert_eq!(
            x.help(),
            Some("[BETA] (Deprecated since 1.28.0) Line\none \\ two")
        );
        assert_eq!(x.stability(), Some(Stability::Beta));
        assert_eq!(x.deprecated_since(), Some("1.28.0"));
        assert!(x.is_deprecated());
        assert_eq!(x.description(), Some("Line\none \\ two"));
        // Unknown type, TYPE without name, HELP without name.
        assert_eq!(f.skipped_lines(), 3);
    }

    #[test]
    fn help_annotations_in_either_order_and_free_text() {
        let f = parse(concat!(
            "# HELP a (Deprecated since 1.23.0) [ALPHA] Old.\n",
            "# HELP b [STABLE] [DEPRECATED, consider using c instead] Count.\n",
            "# HELP c [note] not a level\n",
            "# HELP d\n",
        ));
        let a = f.family("a").expect("a");
        assert_eq!(a.stability(), Some(Stability::Alpha));
        assert_eq!(a.deprecated_since(), Some("1.23.0"));
        assert_eq!(a.description(), Some("Old."));
        let b = f.family("b").expect("b");
        assert_eq!(b.stability(), Some(Stability::Stable));
        assert_eq!(b.deprecated_since(), None);
        assert!(b.is_deprecated());
        let c = f.family("c").expect("c");
        assert_eq!(c.stability(), None);
        assert!(!c.is_deprecated());
        assert_eq!(c.description(), Some("[note] not a level"));
        assert_eq!(f.family("d").and_then(MetricFamily::help), Some(""));
    }

    #[test]
    fn histogram_samples_join_their_family() {
        let text = concat!(
            "# TYPE h histogram\n",
            "h_bucket{le=\"1\"} 1\n",
            "h_bucket{le=\"+Inf\"} 2\n",
            "h_sum 3.5\n",
            "h_count 2\n",
            "# TYPE s summary\n",
            "s{quantile=\"0.5\"} 0.1\n",
            "s_sum 1\n",
            "s_count 4\n",
            "s_bucket 9\n",
        );
        let f = parse(text);
        assert_eq!(f.family("h").map(|h| h.samples().len()), Some(4));
        assert_eq!(
            f.family_of_sample("h_sum").map(MetricFamily::name),
            Some("h")
        );
        assert_eq!(f.family("s").map(|s| s.samples().len()), Some(3));
        // A summary has no buckets: that sample is its own untyped family.
        let sb = f.family("s_bucket").expect("s_bucket");
        assert_eq!(sb.metric_type(), MetricType::Untyped);
        assert_eq!(f.samples("h").count(), 0);
        assert_eq!(f.sum("h_count", &[]), Some(2.0));
    }

    #[test]
    fn sum_and_group_by() {
        let text = concat!(
            "r{verb=\"GET\",code=\"200\"} 10\n",
            "r{verb=\"GET\",code=\"500\"} 1\n",
            "r{verb=\"LIST\",code=\"200\"} 5\n",
            "r{verb=\"LIST\",code=\"200\",extra=\"x\"} 2\n",
            "r{code=\"429\"} 3\n",
        );
        let f = parse(text);
        assert_eq!(f.sum("r", &[]), Some(21.0));
        assert_eq!(f.sum("r", &[("verb", "GET")]), Some(11.0));
        assert_eq!(f.sum("r", &[("verb", "")]), Some(3.0));
        assert_eq!(f.sum("r", &[("verb", "WATCH")]), None);
        assert_eq!(f.sum("missing", &[]), None);
        assert_eq!(
            f.group_by("r", "verb"),
            vec![
                (String::new(), 3.0),
                ("GET".to_owned(), 11.0),
                ("LIST".to_owned(), 7.0)
            ]
        );
        assert_eq!(
            f.group_by2("r", "verb", "code"),
            vec![
                (String::new(), "429".to_owned(), 3.0),
                ("GET".to_owned(), "200".to_owned(), 10.0),
                ("GET".to_owned(), "500".to_owned(), 1.0),
                ("LIST".to_owned(), "200".to_owned(), 7.0),
            ]
        );
        assert_eq!(
            f.group_by_labels("r", &["code"], &[("verb", "GET")]),
            vec![
                (vec!["200".to_owned()], 10.0),
                (vec!["500".to_owned()], 1.0)
            ]
        );
    }

    fn hist(buckets: &[(&str, f64)]) -> Histogram {
        let mut text = String::from("# TYPE h histogram\n");
        for (le, c) in buckets {
            text.push_str(&format!("h_bucket{{le=\"{le}\"}} {c}\n"));
        }
        parse(&text).histogram("h", &[]).expect("histogram")
    }

    #[test]
    fn quantile_matches_promql() {
        let h = hist(&[("0.1", 10.0), ("0.5", 30.0), ("1", 40.0), ("+Inf", 40.0)]);
        // rank 20 lies in (0.1, 0.5]: 0.1 + 0.4 * (10/20)
        assert_eq!(h.quantile(0.5), Some(0.30000000000000004));
        // rank 4 in the first bucket, interpolated from 0.
        assert!((h.quantile(0.1).unwrap_or(0.0) - 0.04).abs() < 1e-12);
        assert_eq!(h.quantile(1.0), Some(1.0));
        assert_eq!(h.quantile(-0.1), Some(f64::NEG_INFINITY));
        assert_eq!(h.quantile(1.5), Some(f64::INFINITY));
        assert_eq!(h.quantile(f64::NAN), None);
        assert_eq!(h.count(), Some(40.0));
        // Rank in the +Inf bucket: the highest finite bound.
        let tail = hist(&[("1", 1.0), ("2", 2.0), ("+Inf", 10.0)]);
        assert_eq!(tail.quantile(0.99), Some(2.0));
        // Negative first bound is returned as is.
        let neg = hist(&[("-1", 5.0), ("+Inf", 10.0)]);
        assert_eq!(neg.quantile(0.1), Some(-1.0));
    }

    #[test]
    fn quantile_undefined_cases() {
        assert_eq!(hist(&[("1", 1.0), ("2", 2.0)]).quantile(0.5), None);
        assert_eq!(hist(&[("+Inf", 4.0)]).quantile(0.5), None);
        assert_eq!(hist(&[("1", 0.0), ("+Inf", 0.0)]).quantile(0.5), None);
    }

    #[test]
    fn histogram_aggregates_and_fixes_monotonicity() {
        let text = concat!(
            "# TYPE h histogram\n",
            "h_bucket{verb=\"GET\",le=\"1\"} 4\n",
            "h_bucket{verb=\"GET\",le=\"+Inf\"} 6\n",
            "h_bucket{verb=\"PUT\",le=\"1.0\"} 2\n",
            "h_bucket{verb=\"PUT\",le=\"+Inf\"} 1\n",
            "h_sum{verb=\"GET\"} 3\n",
            "h_sum{verb=\"PUT\"} 1\n",
            "h_count{verb=\"GET\"} 6\n",
            "h_count{verb=\"PUT\"} 1\n",
        );
        let f = parse(text);
        let all = f.histogram("h", &[]).expect("h");
        assert_eq!(
            all.buckets(),
            &[
                Bucket {
                    le: 1.0,
                    cumulative_count: 6.0
                },
                Bucket {
                    le: f64::INFINITY,
                    cumulative_count: 7.0
                },
            ]
        );
        assert_eq!(all.sum(), Some(4.0));
        assert_eq!(all.count(), Some(7.0));
        let put = f.histogram("h", &[("verb", "PUT")]).expect("put");
        // 2 then 1: forced up to 2, as PromQL does.
        assert_eq!(put.buckets()[1].cumulative_count, 2.0);
        assert_eq!(put.mean(), Some(1.0));
        assert!(f.histogram("h", &[("verb", "DELETE")]).is_none());
        assert!(f.histogram("nope", &[]).is_none());
    }

    #[test]
    fn untyped_bucket_samples_still_form_a_histogram() {
        let f = parse("h_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n");
        let h = f.histogram("h", &[]).expect("h");
        assert_eq!(h.quantile(0.5), Some(2.0));
        assert_eq!(h.count(), Some(2.0));
    }

    #[test]
    fn malformed_lines_are_skipped_and_counted() {
        let text = concat!(
            "ok 1\n",
            "1bad 2\n",
            "m{a=\"unterminated} 3\n",
            "m{a=\"x\"\n",
            "m{a=x} 4\n",
            "m{=\"x\"} 4\n",
            "m{a=\"x\"} \n",
            "m 1 2 3\n",
            "m 1 1.5\n",
            "m{a=\"trailing backslash\\\n",
            "{a=\"b\"} 1\n",
            "m abc\n",
            "m-1 2\n",
            "m{a=\"x\"}1\n",
            "ok 2\n",
        );
        let f = parse(text);
        assert_eq!(f.skipped_lines(), 13);
        assert_eq!(f.skipped_line_numbers(), &[2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(f.sum("ok", &[]), Some(3.0));
        assert!(!f.has_samples("m"));
    }

    /// Deterministic xorshift so the "fuzz" test is reproducible without a
    /// dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn garbage_and_truncated_lines_never_panic() {
        let good = concat!(
            "# HELP apiserver_request_total [STABLE] Counter of requests.\n",
            "# TYPE apiserver_request_total counter\n",
            "apiserver_request_total{code=\"200\",verb=\"GET\",resource=\"pods\"} 1.5e+03 1712345678901\n",
            "# TYPE h histogram\n",
            "h_bucket{le=\"+Inf\",msg=\"a\\\"b\\\\c\\nd\"} 3\n",
            "h_sum 2\n",
        );
        // Every prefix of every line, cut at any char boundary.
        for line in good.lines() {
            for (cut, _) in line.char_indices() {
                let f = parse(&line[..cut]);
                assert!(f.skipped_lines() <= 1);
            }
        }
        let alphabet: Vec<char> = "{}=\",\\ \t#\nab_:0.9e+-InfNaN\u{e9}\u{1F600}\r"
            .chars()
            .collect();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let len = rng.below(60);
            let mut s = String::new();
            for _ in 0..len {
                s.push(alphabet[rng.below(alphabet.len())]);
            }
            // Also splice garbage into a valid body.
            let at = rng.below(good.len());
            let at = (0..=at)
                .rev()
                .find(|&i| good.is_char_boundary(i))
                .unwrap_or(0);
            let mixed = format!("{}{}{}", &good[..at], s, &good[at..]);
            let f = parse(&s);
            let lines = s.lines().count();
            assert!(f.skipped_lines() <= lines);
            let g = parse(&mixed);
            assert!(g.skipped_lines() <= mixed.lines().count());
            for fam in g.families() {
                let _ = (fam.stability(), fam.deprecated_since(), fam.description());
            }
            let _ = g.histogram("h", &[]).and_then(|h| h.quantile(0.9));
        }
    }

    #[test]
    fn large_body_is_linear() {
        // 200k samples over 2k families: a quadratic parser would take
        // minutes here; this finishes in well under a second in release.
        let mut text = String::new();
        for fam in 0..2000 {
            text.push_str(&format!("# TYPE f{fam} gauge\n"));
            for i in 0..100 {
                text.push_str(&format!("f{fam}{{i=\"{i}\"}} {i}\n"));
            }
        }
        let f = parse(&text);
        assert_eq!(f.len(), 2000);
        assert_eq!(f.sum("f1999", &[]), Some(4950.0));
        assert_eq!(f.skipped_lines(), 0);
    }
}
