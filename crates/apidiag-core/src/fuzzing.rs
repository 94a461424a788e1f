//! Bodies of the fuzz targets in `fuzz/` that exercise this crate.
//!
//! They live here, not in `fuzz/`, so that the cargo-fuzz targets (nightly) and
//! the stable smoke test that `cargo test --workspace` runs
//! (`tests/fuzz_smoke.rs`) call the very same code. Each takes the fuzzer's raw
//! bytes and must not panic on any of them.

use std::error::Error;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::backup::format;
use crate::connection::{merge_kubeconfigs, select};

/// Splits `data` into up to three kubeconfig documents, as if from three
/// `KUBECONFIG` entries, merges them as [`crate::connection`] does, and picks the
/// current context and then the first named one, as `--context` would.
pub fn kubeconfig_merge(data: &[u8]) {
    // NUL separates the files: YAML forbids it, so no input the fuzzer could
    // use inside a document is spent on splitting.
    let mut configs = Vec::new();
    for (i, part) in data.splitn(3, |&b| b == 0).enumerate() {
        // kube reads a file as UTF-8 and stops at anything else, as the tool
        // does at a file it cannot parse.
        let Ok(text) = std::str::from_utf8(part) else {
            return;
        };
        match Kubeconfig::from_yaml(text) {
            Ok(config) => configs.push((format!("document {i}"), config)),
            Err(e) => {
                render(&e);
                return;
            }
        }
    }
    let mut merged = match merge_kubeconfigs(configs) {
        Ok(Some(merged)) => merged,
        Ok(None) => return,
        Err(e) => {
            render(&e);
            return;
        }
    };
    // A CA named by path would be read from disk, and an input naming
    // `/dev/zero` would never finish; `*-data` is what the fuzzer exercises.
    for named in &mut merged.clusters {
        if let Some(cluster) = &mut named.cluster {
            cluster.certificate_authority = None;
        }
    }
    let named = KubeConfigOptions {
        context: merged.contexts.first().map(|c| c.name.clone()),
        ..KubeConfigOptions::default()
    };
    for options in [KubeConfigOptions::default(), named] {
        // `select` awaits nothing but its own work, so any executor runs it.
        match futures::executor::block_on(select(merged.clone(), &options)) {
            Ok((config, context)) => {
                let _ = (config.cluster_url.to_string(), context);
            }
            Err(e) => render(&e),
        }
    }
}

/// Reads `data` as a bundle's `manifest.json`, then, after the first NUL (JSON
/// never holds one), its `journal.jsonl`, with the functions `undo` reads bundles
/// with ([`format::read_manifest`], [`format::read_journal`]). Besides "no
/// panic" it checks what the format promises: what was read can be written and
/// reads back the same, and the journal keeps one entry per operation index.
pub fn bundle_reader(data: &[u8]) {
    let (manifest, journal) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };

    match format::read_manifest(manifest) {
        Ok(manifest) => {
            // Written once, the manifest is in the current schema's own form, so
            // reading and writing it again must change nothing.
            let mut written = Vec::new();
            format::write_manifest(&mut written, &manifest).expect("a read manifest writes");
            let again = format::read_manifest(&written).expect("a written manifest reads");
            let mut rewritten = Vec::new();
            format::write_manifest(&mut rewritten, &again).expect("a read manifest writes");
            assert!(
                written == rewritten,
                "manifest changed on a second round trip"
            );
        }
        Err(e) => render(&e),
    }

    for (&index, entry) in &format::read_journal(journal) {
        assert_eq!(
            index, entry.index,
            "journal entry filed under another index"
        );
        let line = format::journal_line(entry).expect("a read journal entry writes");
        let back = format::read_journal(&line);
        assert_eq!(
            back.get(&index),
            Some(entry),
            "journal line did not round-trip"
        );
    }
}

/// Formats an error and its sources as the binaries print them (`{:#}`), so a
/// message built from the input is exercised too.
fn render(error: &dyn Error) {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        message.push_str(": ");
        message.push_str(&e.to_string());
        source = e.source();
    }
    std::hint::black_box(message);
}
