//! `kubectl apidiag etcd`: what fills etcd, and guided cleanups (guide: Cause 3 /
//! Solution 3, Cause 6 / Solution 6; Helm history: TCP time-outs, Cause 6).

fn main() -> std::process::ExitCode {
    apidiag_core::run::main(apidiag_core::checks::etcd::run)
}
