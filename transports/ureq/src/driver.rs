//! The only I/O loop of the client: the core's exchange machine driven over
//! ureq's connections. The machine holds the policy (retries, sessions,
//! reconnects, redirects); this loop connects, writes, reads and sleeps,
//! and keeps the connection layer's last error, which the returned error
//! then carries as its cause.

use std::time::{Duration, Instant};

use embedded_io::{Read as _, Write as _};
use lastline_core::decoders::NoData;
use lastline_core::envelope::DataDecoder;
use lastline_core::exchange::{
    BodyTap, Drive, Driven, Event, Exchange, Link, Origin, Settings, Step,
};
use lastline_core::request::Request;
use lastline_core::workflow::SampleSource;
use lastline_core::Transport;

use crate::config::Settings as Owned;
use crate::connection::{ConnError, Connection, UreqConnector};
use crate::Error;

/// Receive buffer: the largest response head, and reads of this size.
const RX: usize = 32 * 1024;
/// The largest JSON member or list entry decoded (skipped members, such as
/// a full report, may be any size).
const UNITS: usize = 64 * 1024;

/// Where a download's bytes go: `put`, and `restart` (false: it cannot).
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error>;
    fn restart(&mut self) -> Result<bool, Error>;
}

/// The clock and randomness behind the machine's retries.
struct Clock {
    start: Instant,
    counter: u64,
    seed: u64,
}

impl Clock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn random(&mut self) -> u32 {
        use std::hash::BuildHasher;
        self.counter += 1;
        let s = std::collections::hash_map::RandomState::new();
        (s.hash_one(self.counter ^ self.seed) >> 16) as u32
    }
}

/// The connection, the session and the buffer, kept from call to call.
pub(crate) struct Driver {
    line: Line,
    link: Link,
    buf: Vec<u8>,
    pub(crate) settings: Owned,
}

/// What carries an exchange's bytes: apart from the session and the
/// buffer, which the live exchange borrows while the line runs it.
struct Line {
    connector: UreqConnector,
    conn: Option<Connection>,
    clock: Clock,
}

fn transport(e: &ConnError) -> Transport {
    match e.kind {
        embedded_io::ErrorKind::TimedOut => Transport::TimedOut,
        _ if tls_refused(&e.cause) => Transport::Refused,
        _ => Transport::Closed,
    }
}

/// TLS said no: rustls reports a certificate it did not verify (unknown
/// issuer, wrong name, expired) or a broken handshake as `InvalidData`
/// (the `io::Error` carrying its reason). Nothing about that is
/// transient: it is never retried.
fn tls_refused(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::InvalidData,
        ureq::Error::Tls(_) | ureq::Error::TlsRequired => true,
        _ => false,
    }
}

/// A connector's failure: worth retrying when the network failed; not when
/// TLS refused the certificate or the origin cannot be reached by URI.
fn connect_failure(e: &ConnError) -> Transport {
    match &e.cause {
        ureq::Error::Timeout(_) => Transport::TimedOut,
        c if tls_refused(c) => Transport::Refused,
        ureq::Error::Io(_) | ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
            Transport::Connect
        }
        _ => Transport::Refused,
    }
}

/// What the client did on its own, as a `log` record.
fn log_event(_e: &Event) {
    #[cfg(feature = "log")]
    match _e {
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

/// What stops an upload besides the connection: the sample.
enum Stop {
    Sample,
    SampleChanged,
}

impl Driver {
    pub(crate) fn new(connector: UreqConnector, settings: Owned) -> Self {
        Self {
            line: Line {
                connector,
                conn: None,
                clock: Clock {
                    start: Instant::now(),
                    counter: 0,
                    seed: u64::from(std::process::id()),
                },
            },
            link: Link::new(),
            buf: vec![0; RX],
            settings,
        }
    }

    /// Closes the connection (the next call opens a new one).
    pub(crate) fn disconnect(&mut self) {
        self.line.conn = None;
        self.link.disconnected();
    }

    /// One answer per request: a kept-alive connection on which bytes
    /// arrived while no request was out (a late answer to a request that
    /// timed out, a front end's idle `408`, a forged answer) or which the
    /// server closed is not used again; the next call opens a new one.
    fn check_idle(&mut self) {
        if let Some(c) = self.line.conn.as_mut() {
            if !c.is_idle() {
                self.disconnect();
            }
        }
    }

    /// One call: its list entries to `each`; an upload's sample from
    /// `sample`.
    pub(crate) fn call<R: Request, D: DataDecoder + Default>(
        &mut self,
        req: &R,
        sample: Option<&mut dyn SampleSource>,
        each: &mut dyn FnMut(D::Item),
        events: &mut dyn FnMut(&Event),
    ) -> Result<D::Output, Error> {
        self.call_tapped::<R, D>(req, sample, each, None, events)
    }

    /// [`Self::call`], its body also handed to `tap` as it is read.
    pub(crate) fn call_tapped<R: Request, D: DataDecoder + Default>(
        &mut self,
        req: &R,
        sample: Option<&mut dyn SampleSource>,
        each: &mut dyn FnMut(D::Item),
        tap: Option<&mut dyn BodyTap>,
        events: &mut dyn FnMut(&Event),
    ) -> Result<D::Output, Error> {
        self.check_idle();
        let s = self.settings.exchange()?;
        let ex = Exchange::<R, D, UNITS>::call(req, &s, &mut self.link, &mut self.buf);
        let mut driven = Driven::new(ex, each);
        if let Some(tap) = tap {
            driven = driven.keeping_body(tap);
        }
        let deadline = Deadline::start(self.settings.deadline);
        self.line.run(&mut driven, deadline, sample, None, events)?;
        driven
            .output()
            .ok_or_else(|| Error::protocol(lastline_core::Error::WorkflowMisuse("no output")))
    }

    /// One download into `sink`.
    pub(crate) fn download<R: Request>(
        &mut self,
        req: &R,
        sink: &mut dyn Sink,
        events: &mut dyn FnMut(&Event),
    ) -> Result<(), Error> {
        self.check_idle();
        let mut sink = Limited {
            sink,
            taken: 0,
            limit: self.settings.max_download,
        };
        let s = self.settings.exchange()?;
        let ex = Exchange::<R, NoData, 0>::download(req, &s, &mut self.link, &mut self.buf);
        let mut none = |_| {};
        let mut driven = Driven::new(ex, &mut none);
        let deadline = Deadline::start(self.settings.download_deadline);
        self.line
            .run(&mut driven, deadline, None, Some(&mut sink), events)
    }
}

/// A download's sink with the size limit: bytes past it end the download
/// with the core's `BodyTooLarge`, never a cut file that looks whole.
struct Limited<'s> {
    sink: &'s mut dyn Sink,
    taken: u64,
    limit: Option<u64>,
}

impl Sink for Limited<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.taken = self.taken.saturating_add(bytes.len() as u64);
        if let Some(limit) = self.limit.filter(|l| self.taken > *l) {
            return Err(Error::protocol(lastline_core::Error::Http(
                lastline_core::HttpError::BodyTooLarge {
                    length: self.taken,
                    limit,
                },
            )));
        }
        self.sink.put(bytes)
    }

    fn restart(&mut self) -> Result<bool, Error> {
        self.taken = 0;
        self.sink.restart()
    }
}

/// Writes all of `bytes`, then flushes.
fn write_all(c: &mut Connection, mut bytes: &[u8]) -> Result<(), ConnError> {
    while !bytes.is_empty() {
        let n = c.write(bytes)?;
        if n == 0 {
            return Err(ConnError::from(ureq::Error::Io(
                std::io::ErrorKind::WriteZero.into(),
            )));
        }
        // A writer claiming more than it was given ends the loop too.
        bytes = bytes.get(n..).unwrap_or_default();
    }
    c.flush()
}

fn send_sample(
    c: &mut Connection,
    sample: &mut dyn SampleSource,
    len: u64,
    scratch: &mut [u8],
) -> Result<Result<(), ConnError>, Stop> {
    if sample.len() != len {
        return Err(Stop::SampleChanged);
    }
    let mut at = 0u64;
    while at < len {
        let n = sample.read_at(at, scratch).map_err(|_| Stop::Sample)?;
        if n == 0 {
            return Err(Stop::SampleChanged);
        }
        if let Err(e) = write_all(c, &scratch[..n]) {
            return Ok(Err(e));
        }
        at += n as u64;
    }
    Ok(Ok(()))
}

/// The end of a call's time, if it has one.
#[derive(Clone, Copy)]
struct Deadline {
    at: Option<Instant>,
    total: Duration,
}

impl Deadline {
    fn start(total: Option<Duration>) -> Self {
        Self {
            at: total.map(|t| Instant::now() + t),
            total: total.unwrap_or_default(),
        }
    }

    /// The time left (`None`: no deadline), or the error once it passed.
    fn left(&self, attempts: u32) -> Result<Option<Duration>, Error> {
        let Some(at) = self.at else { return Ok(None) };
        match at.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(Some(left)),
            _ => Err(Error::Timeout {
                detail: format!("the call's deadline of {:?} passed", self.total),
                attempts,
            }),
        }
    }
}

impl Line {
    /// Drives one exchange to its end (or to its deadline: then the
    /// connection, in an unknown state, is dropped).
    fn run(
        &mut self,
        ex: &mut dyn Drive,
        deadline: Deadline,
        mut sample: Option<&mut dyn SampleSource>,
        mut sink: Option<&mut dyn Sink>,
        events: &mut dyn FnMut(&Event),
    ) -> Result<(), Error> {
        let Line {
            connector,
            conn,
            clock,
        } = self;
        // The connection layer's last word, for the error if the call fails.
        let mut last: Option<ConnError> = None;
        // Attempts that failed (the machine told them as retries).
        let mut failed = 0u32;
        loop {
            let left = match deadline.left(failed.saturating_add(1)) {
                Ok(left) => left,
                Err(e) => {
                    *conn = None;
                    return Err(e);
                }
            };
            if let Some(c) = conn.as_mut() {
                c.within(left);
            }
            let now = clock.now_ms();
            let random = clock.random();
            let failure = match ex.poll(now, random) {
                Step::Connect(origin) => {
                    *conn = None;
                    match connector.connect(&origin, left) {
                        Ok(c) => {
                            *conn = Some(c);
                            None
                        }
                        Err(e) => {
                            let t = connect_failure(&e);
                            last = Some(e);
                            Some(t)
                        }
                    }
                }
                Step::Write(bytes) => match conn.as_mut().map(|c| write_all(c, bytes)) {
                    Some(Ok(())) => None,
                    Some(Err(e)) => {
                        let t = transport(&e);
                        last = Some(e);
                        Some(t)
                    }
                    None => Some(Transport::Closed),
                },
                Step::SendSample { len, scratch } => {
                    let (Some(c), Some(s)) = (conn.as_mut(), sample.as_deref_mut()) else {
                        return Err(Error::SampleChanged);
                    };
                    match send_sample(c, s, len, scratch) {
                        Ok(Ok(())) => None,
                        Ok(Err(e)) => {
                            let t = transport(&e);
                            last = Some(e);
                            Some(t)
                        }
                        Err(Stop::SampleChanged) => return Err(Error::SampleChanged),
                        // The source keeps why (`ReaderSample::failure`).
                        Err(Stop::Sample) => {
                            return Err(Error::Io(std::io::Error::other(
                                "reading the sample failed",
                            )))
                        }
                    }
                }
                Step::Read(space) => match conn.as_mut().map(|c| c.read(space)) {
                    Some(Ok(n)) => {
                        ex.received(n);
                        None
                    }
                    Some(Err(e)) => {
                        let t = transport(&e);
                        last = Some(e);
                        Some(t)
                    }
                    None => Some(Transport::Closed),
                },
                Step::Sleep { until_ms } => {
                    let wait = Duration::from_millis(until_ms.saturating_sub(now));
                    if left.is_some_and(|l| wait >= l) {
                        // The retry would start after the deadline.
                        *conn = None;
                        return Err(Error::Timeout {
                            detail: format!(
                                "the call's deadline of {:?} would pass before the next attempt",
                                deadline.total
                            ),
                            attempts: failed.max(1),
                        });
                    }
                    std::thread::sleep(wait);
                    None
                }
                Step::Item(never) => match never {},
                Step::Data(d) => match sink.as_deref_mut() {
                    Some(s) => {
                        s.put(d)?;
                        None
                    }
                    // As lastline-embedded: download bytes are never dropped.
                    None => {
                        return Err(Error::from(lastline_core::Error::WorkflowMisuse("no sink")))
                    }
                },
                Step::RestartSink => {
                    let restarted = match sink.as_deref_mut() {
                        Some(s) => s.restart()?,
                        None => false,
                    };
                    if !restarted {
                        ex.cannot_restart();
                    }
                    None
                }
                Step::Event(e) => {
                    if let Event::Retry { attempt, .. } = e {
                        failed = attempt;
                    }
                    log_event(&e);
                    events(&e);
                    None
                }
                Step::Done(result) => {
                    if !ex.keeps_connection() {
                        *conn = None;
                    }
                    return result.map_err(|f| Error::from_failure(f, last.take()));
                }
            };
            if let Some(t) = failure {
                ex.failed(t);
            }
        }
    }
}

impl Owned {
    /// The core's settings for the next exchange, borrowing the strings
    /// `Config::settle` checked (the checks cannot fail again; they are
    /// errors, never panics).
    fn exchange(&self) -> Result<Settings<'_>, Error> {
        let server = Origin::from_authority(&self.host, self.https)
            .ok_or_else(|| Error::Config(format!("not host or host:port: {}", self.host)))?;
        let credentials = lastline_core::Credentials::new(&self.key, self.token.as_deref())?;
        let mut s = Settings::new(server, credentials);
        s.base_path = &self.base_path;
        s.user_agent = &self.user_agent;
        s.auth = self.auth;
        s.retry = self.retry;
        Ok(s)
    }
}
