//! The `kubectl-apidiag` suite: every check as a subcommand, run in this process,
//! and the commands of the suite. `main.rs` only hands argv to [`suite::run`].

pub mod backups;
pub mod complete;
pub mod suite;
pub mod undo;

pub use suite::{Args, CHECKS, Command, run};
