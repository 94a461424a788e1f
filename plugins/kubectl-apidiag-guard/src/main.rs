//! `kubectl apidiag guard`: the AKS managed API server guard (guide: Cause 4, Solution 4).

fn main() -> std::process::ExitCode {
    apidiag_core::run::main(apidiag_core::checks::guard::run)
}
