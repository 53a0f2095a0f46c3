//! Ctrl-C, handled once for the whole process: partial downloads are
//! removed, then the tasks still pending are listed (a submission is
//! never lost), then the process exits — 5 when tasks were pending, else
//! 130, the shell's status for an interrupt.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::ledger::Ledger;
use crate::status;

/// What an interrupt must clean up or tell.
struct Pending {
    ledger: Option<Ledger>,
    partial: Vec<PathBuf>,
}

static PENDING: Mutex<Pending> = Mutex::new(Pending {
    ledger: None,
    partial: Vec::new(),
});

fn pending() -> MutexGuard<'static, Pending> {
    // A panic elsewhere must not keep the files: use the list anyway.
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Installs the handler (once, at start).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        let mut p = pending();
        for f in p.partial.drain(..) {
            let _ = std::fs::remove_file(f);
        }
        let code = match &p.ledger {
            Some(l) if l.has_pending() => {
                l.list_pending("interrupted");
                status::PENDING
            }
            _ => status::INTERRUPTED,
        };
        std::process::exit(i32::from(code));
    });
}

/// The ledger whose pending tasks an interrupt lists.
pub fn tell(ledger: &Ledger) {
    pending().ledger = Some(ledger.clone());
}

/// A partial file an interrupt removes while this guard lives.
pub struct Partial(PathBuf);

impl Partial {
    /// Registers `path`.
    pub fn new(path: &Path) -> Self {
        pending().partial.push(path.to_owned());
        Self(path.to_owned())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        pending().partial.retain(|p| p != &self.0);
    }
}
