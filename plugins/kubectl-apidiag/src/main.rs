//! `kubectl apidiag`: runs every check, hands `kubectl apidiag <check>` to its
//! binary, and owns `undo`, `backups` and `version`.

fn main() -> std::process::ExitCode {
    apidiag_core::run::main(apidiag_core::suite::run)
}
