//! The client: the embedded client's protocol and workflow logic over
//! ureq connections, plus files, threads and a clock.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use lastline_core::envelope::DataDecoder;
use lastline_core::request::{Request, SubmitFile};
use lastline_core::responses::CompletedTask;
use lastline_core::types::Uuid;
use lastline_core::workflow::{HashFirstOutcome, NextPoll};
use lastline_embedded::blocking;

use crate::config::{Config, Settings};
use crate::connection::{LastFailure, UreqConnector};
use crate::cursor_file::{Cursor, CursorFile};
use crate::sample::{hash_sample, ReaderSample};
use crate::Error;

/// Receive buffer: the largest response head, and reads of this size.
const RX: usize = 32 * 1024;
/// The largest JSON member or list entry decoded (skipped members, such as
/// a full report, may be any size).
const UNITS: usize = 64 * 1024;

/// The clock, randomness and sleep behind retries.
struct StdTimer {
    start: Instant,
    random: RandomState,
    counter: u64,
}

impl blocking::Timer for StdTimer {
    fn now_ms(&mut self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
    fn random(&mut self) -> u32 {
        self.counter += 1;
        self.random.hash_one(self.counter) as u32
    }
    fn delay_ms(&mut self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

type Inner = blocking::Client<'static, UreqConnector, StdTimer, RX, UNITS, Settings>;

/// What the client did on its own, as a `log` record.
#[cfg(feature = "log")]
fn log_event(e: &lastline_embedded::Event) {
    use lastline_embedded::Event;
    match e {
        Event::Retry {
            attempt,
            delay_ms,
            error,
        } => {
            log::warn!(target: "lastline", "attempt {attempt} failed ({error}); retrying in {delay_ms} ms")
        }
        Event::Reconnect => {
            log::info!(target: "lastline", "the server had closed the kept-alive connection; reconnected")
        }
        Event::Relogin => log::info!(target: "lastline", "the session had ended; logged in again"),
        Event::Redirect {
            status,
            other_origin,
        } => log::info!(
            target: "lastline",
            "followed a {status} redirect{}",
            if *other_origin { " to another origin, without credentials" } else { "" }
        ),
    }
}

/// Hears how long operations are going (for progress bars). Every method
/// has a default that does nothing.
pub trait Observer {
    /// `done` of `total` bytes hashed.
    fn hashing(&mut self, _done: u64, _total: u64) {}
    /// The server knows the hash (`false`) or asked for the file (`true`).
    fn upload_needed(&mut self, _needed: bool) {}
    /// `done` of `total` bytes handed to the connection.
    fn uploading(&mut self, _done: u64, _total: u64) {}
    /// `done` of `total` awaited tasks completed.
    fn waiting(&mut self, _done: usize, _total: usize) {}
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quiet;

impl Observer for Quiet {}

/// How [`Client::wait_for`] waits.
#[derive(Clone, Copy, Debug)]
pub struct Wait<'a> {
    /// Pause between completion pages once caught up.
    pub poll_interval: Duration,
    /// Give up after this long.
    pub timeout: Duration,
    /// Save the cursor here after every page.
    pub save_to: Option<&'a CursorFile>,
}

impl Default for Wait<'_> {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(3600),
            save_to: None,
        }
    }
}

/// A blocking client for one server, over one keep-alive connection
/// (reopened when the server closes it).
pub struct Client {
    inner: Box<Inner>,
    last_failure: LastFailure,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `config` (checked now; nothing is connected yet).
    pub fn new(config: Config) -> Result<Self, Error> {
        let (uri, settings) = config.settle()?;
        let connector = UreqConnector::new(uri, &config);
        let last_failure = connector.last_failure.clone();
        let timer = StdTimer {
            start: Instant::now(),
            random: RandomState::new(),
            counter: 0,
        };
        #[allow(unused_mut)]
        let mut inner = Box::new(blocking::Client::new(connector, timer, settings));
        #[cfg(feature = "log")]
        inner.set_event_hook(log_event);
        Ok(Self {
            inner,
            last_failure,
        })
    }

    /// Forgets the connection layer's last word: a failure that a retry
    /// got past must not explain a later one.
    fn begin(&mut self) {
        if let Ok(mut s) = self.last_failure.lock() {
            *s = None;
        }
    }

    fn error(&self, e: lastline_embedded::Error) -> Error {
        let detail = self.last_failure.lock().ok().and_then(|mut s| s.take());
        Error::from_embedded(e, detail)
    }

    /// Calls any of the 29 methods with its own decoder; list entries go to
    /// `each` as they arrive.
    pub fn call<R: Request>(
        &mut self,
        req: &R,
        mut each: impl FnMut(<R::Response as DataDecoder>::Item),
    ) -> Result<<R::Response as DataDecoder>::Output, Error> {
        self.call_with::<R, R::Response>(req, &mut each)
    }

    /// Calls a method with a decoder of your choice (a lighter one, such
    /// as `ResultSummaryDecoder` for `get_result`).
    pub fn call_with<R: Request, D: DataDecoder + Default>(
        &mut self,
        req: &R,
        each: &mut dyn FnMut(D::Item),
    ) -> Result<D::Output, Error> {
        self.begin();
        self.inner
            .call_with::<R, D>(req, None, each)
            .map_err(|e| self.error(e))
    }

    /// Downloads a raw response (artifact, PDF/RTF report, exported
    /// report, IOC report) into `out`; returns the bytes written.
    // The sink's error type is the embedded client's (inline, no heap).
    #[allow(clippy::result_large_err)]
    pub fn download<R: Request>(&mut self, req: &R, out: &mut dyn Write) -> Result<u64, Error> {
        self.begin();
        let mut written = 0u64;
        let mut failed: Option<io::Error> = None;
        let result = self.inner.download(req, &mut |chunk: &[u8]| {
            out.write_all(chunk).map_err(|e| {
                let kind = e.kind().into();
                failed = Some(e);
                lastline_embedded::Error::Sink(kind)
            })?;
            written += chunk.len() as u64;
            Ok(())
        });
        if let Some(e) = failed {
            return Err(Error::Io(e));
        }
        result.map_err(|e| self.error(e))?;
        out.flush()?;
        Ok(written)
    }

    /// Submits a file hash-first: hashes it once (on two threads when it is
    /// large), submits by hash, and uploads it, streamed with
    /// `Content-Length`, only if the server asks (101).
    pub fn submit_file(
        &mut self,
        path: &Path,
        options: SubmitFile<'_>,
        observer: &mut dyn Observer,
    ) -> Result<HashFirstOutcome, Error> {
        let file = File::open(path)?;
        let options = SubmitFile {
            filename: options
                .filename
                .or_else(|| path.file_name().and_then(|n| n.to_str())),
            ..options
        };
        self.submit_reader(file, options, observer)
    }

    /// [`submit_file`](Self::submit_file) from any `Read + Seek`.
    pub fn submit_reader<S: Read + Seek>(
        &mut self,
        mut sample: S,
        options: SubmitFile<'_>,
        observer: &mut dyn Observer,
    ) -> Result<HashFirstOutcome, Error> {
        self.begin();
        let total = sample.seek(SeekFrom::End(0))?;
        sample.seek(SeekFrom::Start(0))?;
        let digests = hash_sample(&mut sample, total, &mut |done| {
            observer.hashing(done, total)
        })?;
        if digests.len != total {
            return Err(Error::SampleChanged);
        }
        let mut asked = false;
        let mut progress = |done: u64, total: u64| {
            if !asked {
                asked = true;
                observer.upload_needed(true);
            }
            observer.uploading(done, total);
        };
        let mut source = ReaderSample::new(sample, total, &mut progress)?;
        let result = self.inner.submit_hashed(digests, &mut source, options);
        if let Some(e) = source.failure.take() {
            return Err(Error::Io(e));
        }
        drop(source);
        let outcome = result.map_err(|e| self.error(e))?;
        if !outcome.uploaded {
            observer.upload_needed(false);
        }
        Ok(outcome)
    }

    /// Reads one page of completions after `cursor`, handing each new task
    /// to `each`. Save the cursor after it returns.
    pub fn completions(
        &mut self,
        cursor: &mut Cursor,
        each: &mut dyn FnMut(&CompletedTask),
    ) -> Result<NextPoll, Error> {
        self.begin();
        self.inner
            .completions(cursor, each)
            .map_err(|e| self.error(e))
    }

    /// Waits until every task in `tasks` has completed, reading only the
    /// completion cursor (never polling tasks one by one, which the
    /// reference warns gets clients blocked). Other completions seen on the
    /// way go to `others`. Returns the awaited tasks in the order given.
    pub fn wait_for(
        &mut self,
        tasks: &[Uuid],
        cursor: &mut Cursor,
        wait: Wait<'_>,
        observer: &mut dyn Observer,
        others: &mut dyn FnMut(&CompletedTask),
    ) -> Result<Vec<CompletedTask>, Error> {
        let wanted: HashSet<Uuid> = tasks.iter().copied().collect();
        let mut found: HashMap<Uuid, CompletedTask> = HashMap::new();
        let deadline = Instant::now() + wait.timeout;
        observer.waiting(0, wanted.len());
        loop {
            let next = self.completions(cursor, &mut |t| {
                if wanted.contains(&t.task_uuid) {
                    found.entry(t.task_uuid).or_insert_with(|| t.clone());
                } else {
                    others(t);
                }
            })?;
            if let Some(file) = wait.save_to {
                file.save(cursor)?;
            }
            observer.waiting(found.len(), wanted.len());
            if found.len() == wanted.len() {
                let mut seen = HashSet::new();
                return Ok(tasks
                    .iter()
                    .filter(|u| seen.insert(**u))
                    .filter_map(|u| found.remove(u))
                    .collect());
            }
            if next == NextPoll::Later {
                let now = Instant::now();
                if now >= deadline {
                    return Err(Error::Timeout(format!(
                        "{} of {} tasks completed within {:?}",
                        found.len(),
                        wanted.len(),
                        wait.timeout
                    )));
                }
                std::thread::sleep(wait.poll_interval.min(deadline - now));
            }
        }
    }

    /// Closes the connection (the next call opens a new one).
    pub fn disconnect(&mut self) {
        self.inner.disconnect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send<T: Send>() {}

    #[test]
    fn a_client_can_move_to_another_thread() {
        is_send::<Client>();
        is_send::<Error>();
    }
}
