//! The client: the core's exchange machine over ureq connections (the
//! driver), with files, threads, a clock and the workflows (hash-first,
//! the completion cursor) on top.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use lastline_core::decoders::{
    AnalysisResult, CompletedDecoder, CompletedTask, ResultItem, Submission, SubmitResultDecoder,
};
use lastline_core::envelope::DataDecoder;
use lastline_core::request::{Request, SubmitFile, Xml};
use lastline_core::types::Uuid;
use lastline_core::workflow::{HashFirst, NextPoll};

use crate::config::Config;
use crate::connection::UreqConnector;
use crate::cursor_file::{Cursor, CursorFile};
use crate::driver::{Driver, Sink};
use crate::sample::{hash_sample, ReaderSample};
use crate::Error;

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
    /// An awaited task completed: told the moment it is seen, before the
    /// cursor past it is saved, so a caller can keep it across a restart.
    fn completed(&mut self, _task: &CompletedTask) {}
    /// The client did something on its own: a retry, a reconnect, a new
    /// login, a redirect (also logged with the `log` feature).
    fn event(&mut self, _event: &lastline_core::exchange::Event) {}
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quiet;

impl Observer for Quiet {}

/// The name a file is submitted under: its own, with what a form field
/// cannot carry (bytes that are not UTF-8, control characters) as `_`, so
/// a file of any name can be submitted.
pub fn sample_name(name: &std::ffi::OsStr) -> String {
    name.to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_control() || c == '\u{fffd}' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// The local clock, for the cursor's sanity check (none if it is not
/// a time a cursor can hold).
fn now() -> Option<lastline_core::types::Timestamp> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    lastline_core::types::Timestamp::from_unix(i64::try_from(secs).ok()?).ok()
}

/// Pages read in a row while the server says more are ready, before a
/// pause of the poll interval: a server that always has more cannot keep
/// a waiting client reading without a breath.
pub const PAGES_PER_ROUND: u32 = 100;

/// What a reader of completion pages does after a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// Read the next page now.
    Now,
    /// Pause this long, then read the next page.
    After(Duration),
    /// The time is up: stop reading.
    Stop,
}

/// The one rule for reading completion pages in a loop ([`Client::wait_for`],
/// the CLI's `completed`): the time limit holds after every page, not
/// only once caught up, and at most [`PAGES_PER_ROUND`] pages are read in
/// a row before a pause, so a server that always has more cannot keep
/// the reader going.
#[derive(Clone, Debug)]
pub struct Pacing {
    deadline: Option<Instant>,
    pause: Duration,
    pages: u32,
}

impl Pacing {
    /// Reading for at most `limit` (`None`: until stopped), pausing
    /// `pause` once caught up.
    pub fn new(limit: Option<Duration>, pause: Duration) -> Self {
        Self {
            deadline: limit.map(|l| Instant::now() + l),
            pause,
            pages: 0,
        }
    }

    /// What to do after a page that said `next`.
    pub fn after_page(&mut self, next: NextPoll) -> Pace {
        let left = self
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()));
        if left.is_some_and(|l| l.is_zero()) {
            return Pace::Stop;
        }
        self.pages += 1;
        if next == NextPoll::Later || self.pages >= PAGES_PER_ROUND {
            self.pages = 0;
            return Pace::After(left.map_or(self.pause, |l| self.pause.min(l)));
        }
        Pace::Now
    }
}

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
    driver: Driver,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

/// A download's destination: any `Write`, which cannot start over.
struct WriteSink<'w> {
    out: &'w mut dyn Write,
    written: u64,
}

impl Sink for WriteSink<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn restart(&mut self) -> Result<bool, Error> {
        Ok(false)
    }
}

/// A download's temporary file: it can start over.
struct FileSink<'f> {
    file: &'f mut File,
    written: u64,
}

impl Sink for FileSink<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.file.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn restart(&mut self) -> Result<bool, Error> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.written = 0;
        Ok(true)
    }
}

/// A call's body, kept as it is read; a retry starts it over.
struct BodyBytes(Vec<u8>);

impl lastline_core::exchange::BodyTap for BodyBytes {
    fn put(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn restart(&mut self) {
        self.0.clear();
    }
}

/// A call's body, written to a file as it is read; a retry starts it over.
struct FileTap<'f> {
    file: &'f mut File,
    /// The first write that failed (the call's error once it ends).
    failed: Option<std::io::Error>,
}

impl lastline_core::exchange::BodyTap for FileTap<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            if let Err(e) = self.file.write_all(bytes) {
                self.failed = Some(e);
            }
        }
    }

    fn restart(&mut self) {
        let start = self
            .file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)));
        if let Err(e) = start {
            self.failed.get_or_insert(e);
        }
    }
}

/// A file submitted hash-first: its task, whether it was uploaded, and the
/// result the server answered with when it had analysed the same file
/// recently (a cached submission).
#[derive(Clone, Debug, PartialEq)]
pub struct FileSubmitted {
    /// What the server answered (the task; the score of a cached result).
    pub submission: Submission,
    /// Whether the content had to be uploaded.
    pub uploaded: bool,
    /// The cached result, inline (`None` for a new or pending task).
    pub result: Option<AnalysisResult>,
    /// The cached result's list entries: reports, child tasks, activities
    /// (the first [`INLINE_ITEMS`]; the rest counted).
    pub items: InlineItems,
}

/// How many list entries of a cached result are kept: the server decides
/// how many it sends, so past these they are counted, not held.
pub const INLINE_ITEMS: usize = 1024;

/// A cached result's list entries as they arrive: the first
/// [`INLINE_ITEMS`] kept, the number of the others in
/// [`skipped`](Self::skipped). Reads as the slice of those kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InlineItems {
    kept: Vec<ResultItem>,
    skipped: u64,
}

impl InlineItems {
    /// Keeps `item`, or counts it once [`INLINE_ITEMS`] are kept.
    pub fn push(&mut self, item: ResultItem) {
        if self.kept.len() < INLINE_ITEMS {
            self.kept.push(item);
        } else {
            self.skipped = self.skipped.saturating_add(1);
        }
    }

    /// Entries received past [`INLINE_ITEMS`] and not kept.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    fn clear(&mut self) {
        self.kept.clear();
        self.skipped = 0;
    }
}

impl std::ops::Deref for InlineItems {
    type Target = [ResultItem];

    fn deref(&self) -> &[ResultItem] {
        &self.kept
    }
}

impl Client {
    /// A client for `config` (checked now; nothing is connected yet).
    pub fn new(config: Config) -> Result<Self, Error> {
        let (uri, settings) = config.settle()?;
        let connector = UreqConnector::new(uri, &config);
        Ok(Self {
            driver: Driver::new(connector, settings),
        })
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
        self.driver.call::<R, D>(req, None, each, &mut |_| {})
    }

    /// Downloads a raw response (artifact, PDF/RTF report, exported
    /// report, IOC report) into `out`; returns the bytes written.
    // The sink's error type is the embedded client's (inline, no heap).
    #[allow(clippy::result_large_err)]
    pub fn download<R: Request>(&mut self, req: &R, out: &mut dyn Write) -> Result<u64, Error> {
        let mut sink = WriteSink { out, written: 0 };
        self.driver.download(req, &mut sink, &mut |_| {})?;
        sink.out.flush()?;
        Ok(sink.written)
    }

    /// Calls `req` for its XML answer (the reference's second format, for
    /// people) and streams the body, byte for byte, into `out`; returns the
    /// bytes written. The XML is not read: a failure the server renders in
    /// it is in the body (the HTTP-level policy holds as for a download:
    /// a 429 or 5xx is retried, a failure answered in JSON is an error).
    /// A method that answers only raw is refused before anything is sent.
    /// `out` cannot start over, so an answer cut off after its first bytes
    /// ends in an error; [`call_xml_to`](Self::call_xml_to) retries it.
    #[allow(clippy::result_large_err)]
    pub fn call_xml<R: Request>(&mut self, req: &R, out: &mut dyn Write) -> Result<u64, Error> {
        self.download(&Xml(req), out)
    }

    /// [`call_xml`](Self::call_xml) into `file` from its start: an answer
    /// cut off half-way is retried, the file truncated and written again.
    pub fn call_xml_to<R: Request>(&mut self, req: &R, file: &mut File) -> Result<u64, Error> {
        self.download_to(&Xml(req), file)
    }

    /// Calls `req` like [`call`](Self::call) and also returns the body as
    /// the server sent it (its envelope, member names and all), once the
    /// typed decoder has accepted it: for passing the server's JSON on
    /// (the CLI's `--json`) with the types' checks behind it.
    pub fn call_keeping_body<R: Request>(
        &mut self,
        req: &R,
        mut each: impl FnMut(<R::Response as DataDecoder>::Item),
    ) -> Result<(<R::Response as DataDecoder>::Output, Vec<u8>), Error> {
        let mut body = BodyBytes(Vec::new());
        let out = self.driver.call_tapped::<R, R::Response>(
            req,
            None,
            &mut each,
            Some(&mut body),
            &mut |_| {},
        )?;
        Ok((out, body.0))
    }

    /// Calls `req` like [`call`](Self::call) and writes the body, as the
    /// server sent it, into `body` from its start (a retry starts it
    /// over): the answer kept on disk, not in memory, for passing the
    /// server's JSON on once the typed decoder has accepted it, whatever
    /// its size.
    pub fn call_into<R: Request>(
        &mut self,
        req: &R,
        mut each: impl FnMut(<R::Response as DataDecoder>::Item),
        body: &mut File,
    ) -> Result<<R::Response as DataDecoder>::Output, Error> {
        body.set_len(0)?;
        body.seek(SeekFrom::Start(0))?;
        let mut tap = FileTap {
            file: body,
            failed: None,
        };
        let out = self.driver.call_tapped::<R, R::Response>(
            req,
            None,
            &mut each,
            Some(&mut tap),
            &mut |_| {},
        );
        if let Some(e) = tap.failed {
            return Err(Error::Io(e));
        }
        out
    }

    /// Refuses downloads larger than `bytes` from now on (`None`: no
    /// limit), as [`Config::max_download`] does.
    pub fn set_max_download(&mut self, bytes: Option<u64>) {
        self.driver.settings.max_download = bytes;
    }

    /// Downloads a raw response into the file at `path`: written to a
    /// temporary file beside it and renamed into place only once whole, so
    /// a failed download leaves nothing behind (and an existing file is
    /// kept). A download cut off half-way is retried: the temporary file
    /// starts over. Returns the bytes written.
    pub fn download_to_file<R: Request>(&mut self, req: &R, path: &Path) -> Result<u64, Error> {
        self.download_to_file_noting(req, path, &mut |_| {})
    }

    /// [`download_to_file`](Self::download_to_file), telling `temporary`
    /// the temporary file's path before writing it: a caller that exits
    /// on a signal (where destructors do not run) removes it then.
    pub fn download_to_file_noting<R: Request>(
        &mut self,
        req: &R,
        path: &Path,
        temporary: &mut dyn FnMut(&Path),
    ) -> Result<u64, Error> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".lastline-")
            .suffix(".part")
            .tempfile_in(dir)?;
        temporary(tmp.path());
        let written = self.download_to(req, tmp.as_file_mut())?;
        tmp.as_file_mut().sync_all()?;
        tmp.persist(path).map_err(|e| Error::Io(e.error))?;
        Ok(written)
    }

    /// Downloads a raw response into `file` from its start: a download cut
    /// off half-way is retried, the file truncated and written again (so
    /// it is the caller's to create, name, and remove on failure — a
    /// temporary file it removes on Ctrl-C, say). Returns the bytes
    /// written.
    pub fn download_to<R: Request>(&mut self, req: &R, file: &mut File) -> Result<u64, Error> {
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        let mut sink = FileSink { file, written: 0 };
        self.driver.download(req, &mut sink, &mut |_| {})?;
        Ok(sink.written)
    }

    /// Submits a file hash-first: hashes it once (on two threads when it is
    /// large), submits by hash, and uploads it, streamed with
    /// `Content-Length`, only if the server asks (101).
    pub fn submit_file(
        &mut self,
        path: &Path,
        options: SubmitFile<'_>,
        observer: &mut dyn Observer,
    ) -> Result<FileSubmitted, Error> {
        let file = File::open(path)?;
        let name = path.file_name().map(sample_name);
        let options = SubmitFile {
            filename: options.filename.or(name.as_deref()),
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
    ) -> Result<FileSubmitted, Error> {
        let total = sample.seek(SeekFrom::End(0))?;
        sample.seek(SeekFrom::Start(0))?;
        let digests = hash_sample(&mut sample, total, &mut |done| {
            observer.hashing(done, total)
        })?;
        if digests.len != total {
            return Err(Error::SampleChanged);
        }
        // The upload's progress and the client's events both go to the
        // observer (never at the same moment: they are separate steps).
        let shared = std::cell::RefCell::new(&mut *observer);
        let mut asked = false;
        let mut progress = |done: u64, total: u64| {
            let mut o = shared.borrow_mut();
            if !asked {
                asked = true;
                o.upload_needed(true);
            }
            o.uploading(done, total);
        };
        let mut source = ReaderSample::new(sample, total, &mut progress)?;
        let mut events = |e: &lastline_core::exchange::Event| shared.borrow_mut().event(e);
        let result = self.submit_hashed(digests, &mut source, options, &mut events);
        if let Some(e) = source.failure.take() {
            return Err(Error::Io(e));
        }
        drop(source);
        let outcome = result?;
        if !outcome.uploaded {
            observer.upload_needed(false);
        }
        Ok(outcome)
    }

    /// Submit by hash, upload from `sample` only on 101.
    fn submit_hashed(
        &mut self,
        digests: lastline_core::hashing::Digests,
        sample: &mut dyn lastline_core::workflow::SampleSource,
        options: SubmitFile<'_>,
        events: &mut dyn FnMut(&lastline_core::exchange::Event),
    ) -> Result<FileSubmitted, Error> {
        let mut flow = HashFirst::new(digests, options);
        let mut result = None;
        let mut items = InlineItems::default();
        loop {
            let req = flow
                .request()
                .ok_or(lastline_core::Error::WorkflowMisuse("hash-first finished"))?;
            items.clear();
            let answer = self
                .driver
                .call::<_, SubmitResultDecoder>(
                    &req,
                    Some(&mut *sample),
                    &mut |i| items.push(i),
                    &mut *events,
                )
                .map(|s| {
                    result = s.result;
                    s.submission
                });
            if let Some(done) = flow.on_response(answer)? {
                return Ok(FileSubmitted {
                    submission: done.submission,
                    uploaded: done.uploaded,
                    result,
                    items,
                });
            }
        }
    }

    /// Reads one page of completions after `cursor`, handing each new task
    /// to `each`. Save the cursor after it returns.
    pub fn completions(
        &mut self,
        cursor: &mut Cursor,
        each: &mut dyn FnMut(&CompletedTask),
    ) -> Result<NextPoll, Error> {
        let req = cursor.request();
        let page = self.driver.call::<_, CompletedDecoder>(
            &req,
            None,
            &mut |t| {
                if cursor.accept(t.task_uuid) {
                    each(&t);
                }
            },
            &mut |_| {},
        )?;
        Ok(cursor.page_done(&page, now())?)
    }

    /// Waits until every task in `tasks` has completed, reading only the
    /// completion cursor (never polling tasks one by one, which the
    /// reference warns gets clients blocked). Other completions seen on the
    /// way go to `others`. Returns the awaited tasks in the order given;
    /// [`Error::Pending`] when `wait.timeout` passes first (the tasks
    /// found by then were told to [`Observer::completed`]). Pages are read
    /// as [`Pacing`] says: the wait ends within the timeout plus one call,
    /// whatever the server answers.
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
        let mut pacing = Pacing::new(Some(wait.timeout), wait.poll_interval);
        observer.waiting(0, wanted.len());
        loop {
            let next = self.completions(cursor, &mut |t| {
                if wanted.contains(&t.task_uuid) {
                    if let Entry::Vacant(slot) = found.entry(t.task_uuid) {
                        observer.completed(t);
                        slot.insert(t.clone());
                    }
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
            match pacing.after_page(next) {
                Pace::Now => {}
                Pace::After(pause) => std::thread::sleep(pause),
                Pace::Stop => {
                    return Err(Error::Pending {
                        completed: found.len(),
                        awaited: wanted.len(),
                        waited: wait.timeout,
                    })
                }
            }
        }
    }

    /// Closes the connection (the next call opens a new one).
    pub fn disconnect(&mut self) {
        self.driver.disconnect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send<T: Send>() {}

    #[test]
    fn pacing_pauses_after_a_round_and_stops_at_its_limit() {
        let pause = Duration::from_millis(10);
        let mut p = Pacing::new(None, pause);
        for _ in 1..PAGES_PER_ROUND {
            assert_eq!(p.after_page(NextPoll::Now), Pace::Now);
        }
        assert_eq!(p.after_page(NextPoll::Now), Pace::After(pause));
        assert_eq!(p.after_page(NextPoll::Now), Pace::Now);
        assert_eq!(p.after_page(NextPoll::Later), Pace::After(pause));
        // A limit: the pause never runs past it, and once it passed, stop
        // (even while the server says more are ready).
        let mut p = Pacing::new(Some(Duration::from_millis(5)), Duration::from_secs(60));
        assert!(
            matches!(p.after_page(NextPoll::Later), Pace::After(d) if d <= Duration::from_millis(5))
        );
        std::thread::sleep(Duration::from_millis(6));
        assert_eq!(p.after_page(NextPoll::Now), Pace::Stop);
    }

    #[test]
    fn a_client_can_move_to_another_thread() {
        is_send::<Client>();
        is_send::<Error>();
    }
}

#[cfg(test)]
mod inline_items {
    use super::{InlineItems, INLINE_ITEMS};
    use lastline_core::decoders::ResultItem;
    use lastline_core::types::Uuid;

    #[test]
    fn a_cached_results_entries_are_kept_to_a_bound_and_the_rest_counted() {
        let mut items = InlineItems::default();
        let child = ResultItem::ChildTask(Uuid::parse("0123456789abcdef0123456789abcdef").unwrap());
        for _ in 0..INLINE_ITEMS + 5 {
            items.push(child.clone());
        }
        assert_eq!((items.len(), items.skipped()), (INLINE_ITEMS, 5));
        items.clear();
        assert_eq!((items.len(), items.skipped()), (0, 0));
    }
}
