//! One kube-apiserver audit line, read by the audit engine's fast scanner and
//! by serde, which must agree whenever the scanner takes the line; the body is
//! `apidiag_audit::fuzzing::event_line`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    apidiag_audit::fuzzing::event_line(data);
});
