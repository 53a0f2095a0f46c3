//! One completion cursor over `get_completed` for every pending task.
//!
//! The reference warns that clients polling `get_results` or
//! `get_progress` per task get blocked; this cursor asks once for all.
//! Ranges are inclusive and the next call starts at `resume` (else
//! `before`). Tasks are de-duplicated by UUID against the last `K`
//! delivered, so a server that repeats the boundary second, or a page
//! fetched again after a reboot, delivers nothing twice. Saved to a few
//! bytes after every delivered task, the cursor loses and repeats nothing
//! across restarts as long as a page holds at most `K` tasks.

use heapless::Deque;

use crate::decoders::CompletionPage;
use crate::error::{Error, JsonError};
use crate::request::{GetCompleted, GetCompletedWithMetadata};
use crate::types::{Timestamp, Uuid};

/// Version byte of the saved form.
pub const CURSOR_VERSION: u8 = 1;

/// When to ask again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NextPoll {
    /// More results are ready: ask again now.
    Now,
    /// Caught up: ask again after the caller's poll interval.
    Later,
}

/// How far a page's `resume` may lie past its own `before`: the
/// reference's `resume` is `before` plus one second; a minute allows for
/// servers that round.
pub const RESUME_ALLOWANCE_SECS: i64 = 60;

/// How far past the caller's clock the next `after` may lie: a day, for
/// clocks that are off (a sensor without a battery-backed clock passes
/// none at all). Beyond it, the cursor would skip every completion until
/// then.
pub const CLOCK_ALLOWANCE_SECS: i64 = 24 * 3600;

/// The cursor. `K` UUIDs are remembered for de-duplication.
#[derive(Clone, Debug)]
pub struct CompletionCursor<const K: usize = 64> {
    after: Timestamp,
    recent: Deque<Uuid, K>,
    /// Tasks accepted from the page being read.
    on_page: usize,
    /// The page named a task twice.
    repeated: bool,
}

fn fnv1a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

impl<const K: usize> CompletionCursor<K> {
    /// A cursor that reports tasks completed from `start` on.
    pub fn new(start: Timestamp) -> Self {
        Self {
            after: start,
            recent: Deque::new(),
            on_page: 0,
            repeated: false,
        }
    }

    /// Where the next call starts.
    pub fn after(&self) -> Timestamp {
        self.after
    }

    /// The next `get_completed` call (with scores).
    pub fn request(&self) -> GetCompleted {
        GetCompleted {
            after: self.after,
            before: None,
            include_score: Some(true),
        }
    }

    /// The next `get_completed_with_metadata` call.
    pub fn request_with_metadata(&self) -> GetCompletedWithMetadata {
        GetCompletedWithMetadata {
            after: self.after,
            before: None,
        }
    }

    /// A task from the current page: true if it is new (deliver it),
    /// false if it was delivered before.
    pub fn accept(&mut self, task: Uuid) -> bool {
        if let Some(i) = self.recent.iter().position(|u| *u == task) {
            // Within the page being read (its tasks are the newest), a
            // second entry for one task: the page is refused at its end.
            if i >= self.recent.len().saturating_sub(self.on_page) {
                self.repeated = true;
            }
            return false;
        }
        self.on_page = self.on_page.saturating_add(1);
        if self.recent.is_full() {
            self.recent.pop_front();
        }
        let _ = self.recent.push_back(task);
        true
    }

    /// The page ended (its envelope decoded): move the cursor on. The new
    /// position never goes back.
    ///
    /// `now` is the caller's clock, if it has one. A page is refused — a
    /// typed error, the cursor not moved — when its `resume` lies more
    /// than [`RESUME_ALLOWANCE_SECS`] past its own `before`, when the next
    /// `after` lies more than [`CLOCK_ALLOWANCE_SECS`] past `now` (either
    /// would skip every completion until then), or when it named a task
    /// twice (the first entry was handed on; which score is true cannot
    /// be told).
    pub fn page_done(
        &mut self,
        page: &CompletionPage,
        now: Option<Timestamp>,
    ) -> Result<NextPoll, Error> {
        let repeated = core::mem::take(&mut self.repeated);
        self.on_page = 0;
        if repeated {
            return Err(Error::json("tasks", JsonError::DuplicateKey));
        }
        let next = page.next_after();
        if let Some(resume) = page.resume {
            if resume.unix() > page.before.unix().saturating_add(RESUME_ALLOWANCE_SECS) {
                return Err(Error::CursorAhead {
                    next: resume,
                    limit: page.before,
                });
            }
        }
        if let Some(now) = now {
            let limit = now.unix().saturating_add(CLOCK_ALLOWANCE_SECS);
            if next.unix() > limit {
                return Err(Error::CursorAhead { next, limit: now });
            }
        }
        let moved = next > self.after;
        if moved {
            self.after = next;
        }
        Ok(if page.more_results_available && moved {
            NextPoll::Now
        } else {
            NextPoll::Later
        })
    }

    /// Bytes [`Self::save`] needs at most.
    pub const SAVED_LEN: usize = 1 + 8 + 2 + 16 * K + 4;

    /// Writes the cursor into `out`; returns the length used.
    pub fn save(&self, out: &mut [u8]) -> Result<usize, Error> {
        let n = self.recent.len();
        let len = 15usize.saturating_add(n.saturating_mul(16));
        let capacity = out.len();
        let buf = out
            .get_mut(..len)
            .ok_or(Error::BufferTooSmall { capacity })?;
        let (body, sum) = buf.split_at_mut(len.saturating_sub(4));
        let (head, uuids) = body.split_at_mut(11);
        let after = self.after.unix().to_le_bytes();
        let count = u16::try_from(n).unwrap_or(u16::MAX).to_le_bytes();
        for (dst, src) in head.iter_mut().zip(
            [CURSOR_VERSION]
                .iter()
                .chain(after.iter())
                .chain(count.iter()),
        ) {
            *dst = *src;
        }
        for (slot, u) in uuids.chunks_exact_mut(16).zip(self.recent.iter()) {
            slot.copy_from_slice(u.as_bytes());
        }
        sum.copy_from_slice(&fnv1a(body).to_le_bytes());
        Ok(len)
    }

    /// Restores a cursor written by [`Self::save`].
    pub fn restore(bytes: &[u8]) -> Result<Self, Error> {
        let (body, sum) = bytes
            .split_at_checked(bytes.len().checked_sub(4).ok_or(Error::CorruptState)?)
            .ok_or(Error::CorruptState)?;
        if fnv1a(body).to_le_bytes() != sum {
            return Err(Error::CorruptState);
        }
        let (head, uuids) = body.split_at_checked(11).ok_or(Error::CorruptState)?;
        let [version, a0, a1, a2, a3, a4, a5, a6, a7, n0, n1] =
            *<&[u8; 11]>::try_from(head).map_err(|_| Error::CorruptState)?;
        if version != CURSOR_VERSION {
            return Err(Error::CorruptState);
        }
        let after = Timestamp::from_unix(i64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]))
            .map_err(|_| Error::CorruptState)?;
        let n = usize::from(u16::from_le_bytes([n0, n1]));
        if uuids.len() != n.saturating_mul(16) || n > K {
            return Err(Error::CorruptState);
        }
        let mut recent = Deque::new();
        for chunk in uuids.chunks_exact(16) {
            let bytes: [u8; 16] = chunk.try_into().map_err(|_| Error::CorruptState)?;
            recent
                .push_back(Uuid::from_bytes(bytes))
                .map_err(|_| Error::CorruptState)?;
        }
        Ok(Self {
            after,
            recent,
            on_page: 0,
            repeated: false,
        })
    }
}
