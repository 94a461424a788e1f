//! The CI smoke run of the fuzz targets in `fuzz/`, on stable Rust.
//!
//! cargo-fuzz needs nightly, which CI does not promise, so the long runs happen
//! outside CI (`fuzz/README.md`). This test calls the same target bodies
//! (`apidiag_metrics::fuzzing`, `apidiag_core::fuzzing`) on every seed in
//! `fuzz/seeds/<target>/`, then on a few thousand inputs made from the seeds. A
//! panic or a failed assertion in a body fails the test, and proptest shrinks the
//! input before printing it: add it to the seeds as a regression.
//!
//! proptest draws and shrinks the edits; the edits themselves are written here
//! because proptest generates values, not mutations of a byte string. They are
//! the few that libFuzzer's mutator is built from: insert, remove, overwrite, copy
//! a span elsewhere, insert a token of the format.
//!
//! The random seed is fixed, so CI sees the same inputs on every run and a
//! failure there reproduces; `PROPTEST_RNG_SEED` and `PROPTEST_CASES` widen a
//! local run.

use std::path::Path;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::RngSeed;

/// The seeds of one target, in name order, read from `fuzz/seeds/<target>/`.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("seeds of `{target}` in {}: {e}", dir.display()));
    let mut paths: Vec<_> = entries
        .map(|entry| entry.expect("seed directory entry").path())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no seeds in {}", dir.display());
    paths
        .iter()
        .map(|path| std::fs::read(path).expect("seed file"))
        .collect()
}

/// `cases` inputs per target unless `PROPTEST_CASES` is set; the RNG seed fixed
/// unless `PROPTEST_RNG_SEED` is set. Nothing is written next to the tests: a
/// failing input belongs in `fuzz/seeds/`, where the fuzzer replays it too.
fn config(cases: u32) -> ProptestConfig {
    let defaults = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            defaults.cases
        } else {
            cases
        },
        rng_seed: match defaults.rng_seed {
            RngSeed::Random => RngSeed::Fixed(0x0061_7069_6469_6167),
            fixed => fixed,
        },
        failure_persistence: None,
        ..defaults
    }
}

/// One change to an input. Positions are [`Index`]es, which fit any length.
#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, Vec<u8>),
    Token(Index, &'static [u8]),
    Remove(Index, usize),
    Overwrite(Index, u8),
    Copy { from: Index, len: usize, to: Index },
}

impl Edit {
    fn apply(&self, input: &mut Vec<u8>) {
        // An insertion point is one of len + 1 places; a byte to change, one of len.
        let at = |i: &Index, len: usize| i.index(len + 1);
        match self {
            Edit::Insert(i, bytes) => {
                let at = at(i, input.len());
                input.splice(at..at, bytes.iter().copied());
            }
            Edit::Token(i, token) => {
                let at = at(i, input.len());
                input.splice(at..at, token.iter().copied());
            }
            Edit::Remove(i, len) => {
                let at = at(i, input.len());
                let end = (at + len).min(input.len());
                input.drain(at..end);
            }
            Edit::Overwrite(i, byte) => {
                if !input.is_empty() {
                    let at = i.index(input.len());
                    input[at] = *byte;
                }
            }
            Edit::Copy { from, len, to } => {
                if !input.is_empty() {
                    let start = from.index(input.len());
                    let span = input[start..(start + len).min(input.len())].to_vec();
                    let to = at(to, input.len());
                    input.splice(to..to, span);
                }
            }
        }
    }
}

fn edit(tokens: &'static [&'static [u8]]) -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), vec(any::<u8>(), 1..8)).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<Index>(), select(tokens)).prop_map(|(i, t)| Edit::Token(i, t)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Edit::Remove(i, n)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Overwrite(i, b)),
        (any::<Index>(), 1usize..256, any::<Index>()).prop_map(|(from, len, to)| Edit::Copy {
            from,
            len,
            to
        }),
    ]
}

/// A seed with one to eight edits.
fn mutated(
    target: &str,
    tokens: &'static [&'static [u8]],
) -> impl Strategy<Value = Vec<u8>> + use<> {
    (select(seeds(target)), vec(edit(tokens), 1..8)).prop_map(|(mut input, edits)| {
        for edit in &edits {
            edit.apply(&mut input);
        }
        input
    })
}

const METRICS_TOKENS: &[&[u8]] = &[
    b"\n",
    b"{",
    b"}",
    b"=\"",
    b"\",",
    b"\\",
    b"\\n",
    b"\\\"",
    b" ",
    b"\t",
    b"# HELP ",
    b"# TYPE ",
    b" histogram\n",
    b" summary\n",
    b" counter\n",
    b"_bucket",
    b"_sum",
    b"_count",
    b"le=\"+Inf\"",
    b"le=\"NaN\"",
    b"quantile=\"0.5\"",
    b"[STABLE] ",
    b"(Deprecated since 1.2.3) ",
    b" NaN",
    b" +Inf",
    b" -Inf",
    b" 1e308",
    b" -0",
    b" 9223372036854775807",
    b"\xc3\xa9",
    b"\xff",
];

const KUBECONFIG_TOKENS: &[&[u8]] = &[
    b"\0",
    b"\n",
    b"---\n",
    b"- ",
    b": ",
    b"name: ",
    b"cluster: ",
    b"user: ",
    b"context: ",
    b"current-context: ",
    b"server: ",
    b"certificate-authority-data: ",
    b"exec:\n",
    b"provideClusterInfo: true",
    b"&a ",
    b"*a",
    b"<<: ",
    b"!!binary ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"'",
    b"~",
    b"null",
    b"kind: Policy\n",
    b"apiVersion: v2\n",
    b"https://[::1",
    b"%",
    b"\t",
];

const BUNDLE_TOKENS: &[&[u8]] = &[
    b"\0",
    b"\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"\\u0000",
    b"\\ud800",
    b"null",
    b"true",
    b"-0",
    b"1e309",
    b"18446744073709551616",
    b"\"schema\":",
    b"\"apidiag.dev/backup/v1\"",
    b"\"type\":\"create\"",
    b"\"type\":\"delete\"",
    b"\"objectLine\":",
    b"\"index\":",
    b"\"outcome\":\"skipped\"",
];

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn metrics_exposition_survives_mutated_scrapes(
        input in mutated("metrics_exposition", METRICS_TOKENS)
    ) {
        apidiag_metrics::fuzzing::metrics_exposition(&input);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// Lines shaped like the format but drawn at random: the mutations above keep
    /// close to real scrapes, these reach label and value forms the seeds lack.
    #[test]
    fn metrics_exposition_survives_generated_lines(
        lines in vec(
            prop_oneof![
                "[a-z_:][a-z0-9_:]{0,8}(_bucket|_sum|_count)?(\\{([a-z_]{1,3}[ ]?=[ ]?\"([^\"\\\\]|\\\\[\\\\\"n])*\",?){0,3}\\})?[ \t]{1,2}[-+]?([0-9.]{1,6}(e[-+]?[0-9]{1,3})?|Inf|NaN)( -?[0-9]{1,19})?",
                "# (HELP|TYPE) [a-z_:]{1,8} (counter|gauge|histogram|summary|untyped|[^\n]{0,12})",
            ],
            0..40,
        )
    ) {
        apidiag_metrics::fuzzing::metrics_exposition(lines.join("\n").as_bytes());
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn kubeconfig_merge_survives_mutated_kubeconfigs(
        input in mutated("kubeconfig_merge", KUBECONFIG_TOKENS)
    ) {
        apidiag_core::fuzzing::kubeconfig_merge(&input);
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn bundle_reader_survives_mutated_bundles(
        input in mutated("bundle_reader", BUNDLE_TOKENS)
    ) {
        apidiag_core::fuzzing::bundle_reader(&input);
    }
}

/// Every seed as it is, so a regression seed is replayed exactly.
#[test]
fn every_seed_replays() {
    for seed in seeds("metrics_exposition") {
        apidiag_metrics::fuzzing::metrics_exposition(&seed);
    }
    for seed in seeds("kubeconfig_merge") {
        apidiag_core::fuzzing::kubeconfig_merge(&seed);
    }
    let bundles = seeds("bundle_reader");
    for seed in &bundles {
        apidiag_core::fuzzing::bundle_reader(seed);
    }
    // The seeds must reach past the first parse, or the mutations above start
    // from nothing but errors.
    let readable = bundles
        .iter()
        .filter_map(|seed| seed.split(|&b| b == 0).next())
        .filter(|manifest| apidiag_core::backup::format::read_manifest(manifest).is_ok())
        .count();
    assert!(
        readable >= 2,
        "{readable} bundle seeds have a readable manifest"
    );
}
