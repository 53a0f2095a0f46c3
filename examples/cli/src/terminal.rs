//! The terminal: whether output is JSON, and the progress bars (indicatif) shown on stderr while hashing, uploading and waiting.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use lastline_ureq::Observer;

use crate::safe;

/// How results and progress are shown.
pub struct Ui {
    /// JSON output.
    pub json: bool,
    /// Progress bars on stderr.
    pub progress: bool,
}

impl Ui {
    /// Progress bars for one job (hidden when stderr is not a terminal).
    pub fn bars(&mut self, label: &str) -> Bars {
        Bars {
            bar: None,
            label: safe::text(label).into_owned(),
            enabled: self.progress,
        }
    }
}

/// indicatif bars for hashing, upload and waiting.
pub struct Bars {
    bar: Option<ProgressBar>,
    label: String,
    enabled: bool,
}

impl Bars {
    /// Runs `f` with the bar hidden, so lines it writes to the terminal
    /// do not mix with the bar (which is drawn again after).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// `done` of `total` things (files submitted, say).
    pub fn count(&mut self, what: &str, done: usize, total: usize) {
        if let Some(b) = self.stage(what, total as u64, false) {
            b.set_position(done as u64);
        }
    }

    fn stage(&mut self, what: &str, len: u64, bytes: bool) -> Option<&ProgressBar> {
        if !self.enabled {
            return None;
        }
        let current = self.bar.as_ref().map(|b| b.message());
        if current.as_deref() != Some(what) {
            if let Some(b) = self.bar.take() {
                b.finish_and_clear();
            }
            let template = if bytes {
                "{prefix} {msg:>9} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}"
            } else {
                "{prefix} {msg:>9} [{bar:30}] {pos}/{len} {elapsed}"
            };
            let b = ProgressBar::new(len)
                .with_style(
                    ProgressStyle::with_template(template)
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                )
                .with_prefix(self.label.clone())
                .with_message(what.to_owned());
            if !bytes {
                // Waiting shows progress only when a task completes: the
                // elapsed time ticks on so it never looks hung.
                b.enable_steady_tick(Duration::from_millis(500));
            }
            self.bar = Some(b);
        }
        self.bar.as_ref()
    }

    /// Removes the bar.
    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Observer for Bars {
    fn hashing(&mut self, done: u64, total: u64) {
        if let Some(b) = self.stage("hashing", total, true) {
            b.set_position(done);
        }
    }
    fn upload_needed(&mut self, needed: bool) {
        if !needed {
            self.finish();
        }
    }
    fn uploading(&mut self, done: u64, total: u64) {
        if let Some(b) = self.stage("uploading", total, true) {
            b.set_position(done);
        }
    }
    fn waiting(&mut self, done: usize, total: usize) {
        if let Some(b) = self.stage("waiting", total as u64, false) {
            b.set_position(done as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_follow_hashing_upload_and_waiting() {
        let mut ui = Ui {
            json: false,
            progress: true,
        };
        let mut b = ui.bars("sample");
        b.hashing(5, 10);
        let bar = b.bar.clone().unwrap();
        assert_eq!(
            (bar.message(), bar.position(), bar.length()),
            ("hashing".to_string(), 5, Some(10))
        );
        b.upload_needed(true);
        b.uploading(3, 10);
        let bar = b.bar.clone().unwrap();
        assert_eq!(
            (bar.message(), bar.position()),
            ("uploading".to_string(), 3)
        );
        b.upload_needed(false);
        assert!(b.bar.is_none());
        b.waiting(1, 2);
        let bar = b.bar.clone().unwrap();
        assert_eq!(
            (bar.message(), bar.position(), bar.length()),
            ("waiting".to_string(), 1, Some(2))
        );
        b.finish();
        assert!(b.bar.is_none());
        // Not on a terminal (or --quiet): no bars at all.
        let mut quiet = Ui {
            json: false,
            progress: false,
        };
        let mut b = quiet.bars("sample");
        b.hashing(1, 2);
        assert!(b.bar.is_none());
    }
}
