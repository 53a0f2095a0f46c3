//! Ctrl-C, handled once for the whole process: partial downloads are
//! removed, then the tasks still pending are listed (a submission is
//! never lost), then the process exits — 5 when tasks were pending, else
//! 130, the shell's status for an interrupt.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::status;

/// Tasks an interrupt lists (the ledger of the command running).
pub trait PendingTasks: Send {
    /// Whether any task is still without a verdict.
    fn has_pending(&self) -> bool;
    /// Tells the tasks still pending, saying `why`.
    fn list_pending(&self, why: &str);
}

/// What an interrupt must clean up or tell.
struct Pending {
    tasks: Option<Box<dyn PendingTasks>>,
    partial: Vec<PathBuf>,
}

static PENDING: Mutex<Pending> = Mutex::new(Pending {
    tasks: None,
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
        let code = match &p.tasks {
            Some(l) if l.has_pending() => {
                l.list_pending("interrupted");
                status::PENDING
            }
            _ => status::INTERRUPTED,
        };
        std::process::exit(i32::from(code));
    });
}

/// The tasks an interrupt lists from now on.
pub fn tell(tasks: Box<dyn PendingTasks>) {
    pending().tasks = Some(tasks);
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
