//! The Prometheus text parser of `apidiag-metrics` and the queries the checks run
//! on a scrape; the body is `apidiag_metrics::fuzzing::metrics_exposition`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    apidiag_metrics::fuzzing::metrics_exposition(data);
});
