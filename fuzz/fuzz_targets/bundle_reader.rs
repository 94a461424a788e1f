//! A backup bundle's `manifest.json` and, after a NUL, its `journal.jsonl`, read
//! as `undo` reads them; the body is `apidiag_core::fuzzing::bundle_reader`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    apidiag_core::fuzzing::bundle_reader(data);
});
