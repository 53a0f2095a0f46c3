//! The completion cursor on disk, so a restarted process misses and
//! repeats no completion.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use lastline_core::types::Timestamp;
use lastline_core::workflow::CompletionCursor;

/// Task UUIDs the std client's cursor remembers for de-duplication (more
/// than any server page holds).
pub const CURSOR_MEMORY: usize = 1024;

/// The std client's cursor.
pub type Cursor = CompletionCursor<CURSOR_MEMORY>;

/// A cursor saved in a file, replaced atomically on every save.
#[derive(Clone, Debug)]
pub struct CursorFile {
    path: PathBuf,
}

impl CursorFile {
    /// A cursor file at `path` (created by the first [`save`](Self::save)).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where it lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved cursor, or a new one starting at `start` if there is no
    /// file yet. A corrupt file is an error, not a silent restart.
    pub fn load_or(&self, start: Timestamp) -> Result<Cursor, crate::Error> {
        match fs::read(&self.path) {
            Ok(bytes) => Cursor::restore(&bytes).map_err(|_| {
                crate::Error::Config(format!(
                    "cursor file {} is corrupt or from another version",
                    self.path.display()
                ))
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Cursor::new(start)),
            Err(e) => Err(e.into()),
        }
    }

    /// Saves the cursor: written to a temporary file, synced, then renamed
    /// over the old one, so a crash leaves the old or the new cursor.
    pub fn save(&self, cursor: &Cursor) -> Result<(), crate::Error> {
        let mut buf = vec![0u8; Cursor::SAVED_LEN];
        let n = cursor.save(&mut buf)?;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&buf[..n])?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        Ok(())
    }
}
