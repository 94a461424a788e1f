//! The body of the `metrics_exposition` fuzz target.
//!
//! It lives in the crate, not in `fuzz/`, so that the cargo-fuzz target (nightly)
//! and the stable smoke test that `cargo test --workspace` runs
//! (`crates/apidiag-core/tests/fuzz_smoke.rs`) call the very same code. Besides
//! "no panic" it asserts only what the parser's documentation promises; an
//! assertion that fails is a bug in the parser or in its docs.
//!
//! Not asserted: that the queries find every sample served under a name. A body
//! that declares a family after its name was used (`# TYPE x histogram`,
//! `x_count 1`, then `# HELP x_count …` or `# TYPE x gauge`) leaves samples that
//! `samples("x_count")` no longer reaches. kube-apiserver never writes that, and
//! which family such a sample belongs to is not defined by the format.

use crate::exposition::{MetricFamilies, MetricType};
use crate::names;

/// Parses `data` as a `/metrics` body, checks the documented promises of the
/// result, and runs the queries the checks run on a scrape.
pub fn metrics_exposition(data: &[u8]) {
    // The tool hands the parser only valid UTF-8 (the API layer rejects any other
    // body). Lossy decoding keeps the fuzzer's invalid inputs useful instead of
    // discarding them, and a U+FFFD is just another non-ASCII character.
    let text = String::from_utf8_lossy(data);
    let families = MetricFamilies::parse(&text);
    check_promises(&text, &families);

    // What the checks ask of a scrape: none of it may panic on any body.
    let _ = names::db_size(&families);
    let _ = names::object_counts(&families);
    let _ = names::object_size_estimates(&families);
    let _ = names::rejected_requests(&families);
    let _ = names::priority_levels(&families);
    let _ = names::long_running_watches(&families);
}

fn check_promises(text: &str, families: &MetricFamilies) {
    // "Never fails: lines that cannot be read are skipped and counted": each
    // non-blank line is a sample, a comment or a skipped line, never two of them.
    let lines = text.lines().count();
    let non_blank = text.lines().filter(|l| !l.trim().is_empty()).count();
    let samples: usize = families.families().map(|f| f.samples().len()).sum();
    assert!(
        samples + families.skipped_lines() <= non_blank,
        "{samples} samples and {} skipped lines from {non_blank} non-blank lines",
        families.skipped_lines()
    );
    // "1-based line numbers of the first few skipped lines".
    let skipped = families.skipped_line_numbers();
    assert!(skipped.len() <= families.skipped_lines());
    assert!(skipped.iter().all(|&n| (1..=lines).contains(&n)));
    assert!(skipped.windows(2).all(|w| matches!(w, [a, b] if a < b)));

    for family in families.families() {
        // `family(name)` finds "the family named exactly `name`": each name is one
        // family, and it is this one.
        assert!(!family.name().is_empty());
        assert!(
            families
                .family(family.name())
                .is_some_and(|found| std::ptr::eq(found, family)),
            "family `{}` is not found under its own name",
            family.name()
        );
        for sample in family.samples() {
            assert!(!sample.name.is_empty());
            // "Label pairs sorted by label name, without duplicates".
            assert!(
                sample
                    .labels
                    .windows(2)
                    .all(|w| matches!(w, [a, b] if a.0 < b.0)),
                "labels of `{}` not sorted and unique: {:?}",
                sample.name,
                sample.labels
            );
        }
        if family.metric_type() == MetricType::Histogram {
            check_histogram(families, family.name());
        }
    }
}

fn check_histogram(families: &MetricFamilies, name: &str) {
    let Some(histogram) = families.histogram(name, &[]) else {
        return;
    };
    // "Buckets by increasing `le`, cumulative counts made monotonic."
    let buckets = histogram.buckets();
    assert!(
        buckets.windows(2).all(|w| matches!(w, [a, b]
            if a.le < b.le && a.cumulative_count <= b.cumulative_count)),
        "buckets of `{name}` not increasing: {buckets:?}"
    );
    // "`q < 0` gives `-Inf` and `q > 1` gives `+Inf`, as in PromQL; `None` …
    // `q` NaN".
    assert_eq!(histogram.quantile(-0.5), Some(f64::NEG_INFINITY));
    assert_eq!(histogram.quantile(1.5), Some(f64::INFINITY));
    assert_eq!(histogram.quantile(f64::NAN), None);
    for q in [0.0, 0.5, 0.99, 1.0] {
        let _ = histogram.quantile(q);
    }
    let _ = (histogram.mean(), histogram.count(), histogram.sum());
}
