//! `kubectl-apidiag-connectivity`: `kubectl apidiag connectivity` for a direct
//! install (kubectl runs it when it is on PATH); the same code as the suite's
//! subcommand.

fn main() -> std::process::ExitCode {
    apidiag_core::run::check_main("connectivity", apidiag_connectivity::run)
}
