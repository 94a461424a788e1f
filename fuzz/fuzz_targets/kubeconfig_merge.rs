//! Up to three kubeconfigs (separated by NUL) merged as `KUBECONFIG` is, then the
//! context chosen; the body is `apidiag_core::fuzzing::kubeconfig_merge`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    apidiag_core::fuzzing::kubeconfig_merge(data);
});
