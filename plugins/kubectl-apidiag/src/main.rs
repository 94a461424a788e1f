//! `kubectl apidiag`: every check at once, each check as a subcommand, `undo`,
//! `backups` and `version`.

fn main() -> std::process::ExitCode {
    apidiag_core::run::main(kubectl_apidiag::run)
}
