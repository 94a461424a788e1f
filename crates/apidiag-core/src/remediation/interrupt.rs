//! Ctrl-C during a fix or an undo.
//!
//! The first press stops sending: the requests in flight finish and are
//! journalled, the report says what was done, and a rerun continues. A second
//! press means "now": the caller flushes its journal and the process exits 130
//! (128 + SIGINT, what shells report for a program killed by Ctrl-C) without
//! waiting for the requests in flight. Those may still reach the server; their
//! operations have no journal line, and undo treats such an operation as "may
//! have been done" and looks at the cluster, so nothing is lost either way.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

use crate::exit::Outcome;

/// Watches Ctrl-C for as long as it lives.
pub(crate) struct Interrupt {
    presses: watch::Receiver<u32>,
    stop: Arc<AtomicBool>,
    watcher: tokio::task::JoinHandle<()>,
}

impl Interrupt {
    pub(crate) fn watch() -> Self {
        let (tx, presses) = watch::channel(0u32);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let watcher = tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::SeqCst);
                tx.send_modify(|n| *n += 1);
                if *tx.borrow() == 1 {
                    eprintln!(
                        "\ninterrupted: finishing the requests in flight (Ctrl-C again to quit at once)"
                    );
                }
            }
        });
        Interrupt {
            presses,
            stop,
            watcher,
        }
    }

    /// Whether Ctrl-C was pressed: send nothing more.
    pub(crate) fn requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The flag behind [`Interrupt::requested`], for closures that outlive a borrow.
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Resolves on the second press (never, if there is none).
    pub(crate) async fn again(&mut self) {
        if self.presses.wait_for(|n| *n >= 2).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

/// Ends the process after a second Ctrl-C, once the caller has flushed what it
/// must: `sent` operations were answered and journalled, `pending` were in
/// flight or not sent.
pub(crate) fn quit_now(sent: usize, pending: usize, bundle: &std::path::Path) -> ! {
    eprintln!(
        "interrupted twice: quit at once after {sent} answered operations; {pending} were in flight or not sent. \
         The journal is in {}; run the same command again to continue, or `kubectl apidiag undo` to restore what was done",
        bundle.display()
    );
    std::process::exit(i32::from(Outcome::Interrupted.code()))
}
