//! The blocking client: a loop over the core's exchange machine, over
//! `embedded_io::{Read, Write}` streams the [`Connector`](crate::blocking::Connector) opens.

use embedded_io::{Error as _, Read, Write};
use lastline_core::decoders::{CompletedDecoder, CompletedTask, NoData, SubmitDecoder};
use lastline_core::envelope::DataDecoder;
use lastline_core::exchange::{Drive, Driven, Event, Exchange, Link, Origin, Settings, Step};
use lastline_core::request::{Request, SubmitFile};
use lastline_core::workflow::{CompletionCursor, HashFirst, HashFirstOutcome, NextPoll};
use lastline_core::Transport;

use crate::drive::{connect_failure, log_event, transport};
use crate::{DownloadSink, Error, SampleSource};

/// Opens connections (TCP, then TLS) to an origin: the server, or where
/// one of its redirects points. Return [`Error::Io`] for a failure worth
/// retrying; any other error ends the call (a connector that reaches only
/// the server refuses other origins so).
pub trait Connector {
    /// A connected stream.
    type Connection: Read + Write;
    /// Connects to `origin`.
    fn connect(&mut self, origin: &Origin<'_>) -> Result<Self::Connection, Error>;
}

/// The caller's clock, randomness and sleep, for the retry schedule.
pub trait Timer {
    /// Milliseconds on a monotonic clock.
    fn now_ms(&mut self) -> u64;
    /// Any random 32 bits (jitter, multipart boundaries).
    fn random(&mut self) -> u32;
    /// Sleeps for `ms` milliseconds.
    fn delay_ms(&mut self, ms: u64);
    /// Whether failed calls may be retried at all (see [`NoRetry`]).
    fn retries(&self) -> bool {
        true
    }
}

/// A timer for clients that never retry.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRetry;

impl Timer for NoRetry {
    fn now_ms(&mut self) -> u64 {
        0
    }
    fn random(&mut self) -> u32 {
        0
    }
    fn delay_ms(&mut self, _: u64) {}
    fn retries(&self) -> bool {
        false
    }
}

/// The Analyst API over a caller-supplied stream. `RX` is the send and
/// receive buffer, `UNITS` the largest JSON member or list entry decoded,
/// `SESSIONS` false leaves the login out of the image (a session mode is
/// then sent as Basic: about 2 KiB less flash for firmware that never
/// logs in).
pub struct Client<
    'a,
    C: Connector,
    T: Timer,
    const RX: usize = 2048,
    const UNITS: usize = 512,
    const SESSIONS: bool = true,
> {
    connector: C,
    timer: T,
    conn: Option<C::Connection>,
    settings: Settings<'a>,
    link: Link,
    rx: [u8; RX],
    on_event: Option<fn(&Event)>,
}

/// Writes all of `buf`; a write of 0 bytes is a closed connection
/// (embedded-io 0.7's `write_all` would panic on it).
fn write_all<W: Write>(w: &mut W, mut buf: &[u8]) -> Result<(), Transport> {
    while !buf.is_empty() {
        match w.write(buf) {
            Ok(0) => return Err(Transport::Closed),
            Ok(n) => buf = buf.get(n..).unwrap_or(&[]),
            Err(e) => return Err(transport(e.kind())),
        }
    }
    w.flush().map_err(|e| transport(e.kind()))
}

/// Writes the sample from its start through `scratch`.
fn send_sample<W: Write>(
    w: &mut W,
    sample: &mut dyn SampleSource,
    len: u64,
    scratch: &mut [u8],
) -> Result<Result<(), Transport>, Error> {
    if sample.len() != len {
        return Err(Error::SampleChanged);
    }
    let mut at = 0u64;
    while at < len {
        let n = sample.read_at(at, scratch).map_err(|_| Error::Sample)?;
        if n == 0 {
            return Err(Error::SampleChanged);
        }
        if let Err(t) = write_all(w, scratch.get(..n).unwrap_or(&[])) {
            return Ok(Err(t));
        }
        at = at.saturating_add(n as u64);
    }
    Ok(Ok(()))
}

/// Drives one exchange to its end: the only I/O loop of this client.
fn run<C: Connector, T: Timer>(
    ex: &mut dyn Drive,
    connector: &mut C,
    conn: &mut Option<C::Connection>,
    timer: &mut T,
    mut sample: Option<&mut (dyn SampleSource + '_)>,
    mut sink: Option<&mut (dyn DownloadSink + '_)>,
    on_event: Option<fn(&Event)>,
) -> Result<(), Error> {
    loop {
        let now = timer.now_ms();
        let random = timer.random();
        match ex.poll(now, random) {
            Step::Connect(origin) => {
                *conn = None;
                match connector.connect(&origin) {
                    Ok(c) => *conn = Some(c),
                    Err(e) => ex.failed(connect_failure(&e)),
                }
            }
            Step::Write(bytes) => match conn.as_mut().map(|c| write_all(c, bytes)) {
                Some(Ok(())) => {}
                Some(Err(t)) => ex.failed(t),
                None => ex.failed(Transport::Closed),
            },
            Step::SendSample { len, scratch } => {
                let (Some(c), Some(s)) = (conn.as_mut(), sample.as_deref_mut()) else {
                    return Err(Error::SampleChanged);
                };
                if let Err(t) = send_sample(c, s, len, scratch)? {
                    ex.failed(t);
                }
            }
            Step::Read(space) => match conn.as_mut().map(|c| c.read(space)) {
                Some(Ok(n)) => ex.received(n),
                Some(Err(e)) => ex.failed(transport(e.kind())),
                None => ex.failed(Transport::Closed),
            },
            Step::Sleep { until_ms } => timer.delay_ms(until_ms.saturating_sub(now)),
            Step::Item(never) => match never {},
            Step::Data(d) => match sink.as_deref_mut() {
                Some(s) => s.put(d)?,
                None => return Err(Error::Core(lastline_core::Error::WorkflowMisuse("no sink"))),
            },
            Step::RestartSink => {
                if !sink.as_deref_mut().is_some_and(|s| s.restart()) {
                    ex.cannot_restart();
                }
            }
            Step::Event(e) => {
                log_event(&e);
                if let Some(f) = on_event {
                    f(&e);
                }
            }
            Step::Done(result) => {
                if !ex.keeps_connection() {
                    *conn = None;
                }
                return result.map_err(Error::Exchange);
            }
        }
    }
}

impl<'a, C: Connector, T: Timer, const RX: usize, const UNITS: usize, const SESSIONS: bool>
    Client<'a, C, T, RX, UNITS, SESSIONS>
{
    /// A client that connects through `connector` and retries with
    /// `timer` ([`NoRetry`] for none).
    pub fn new(connector: C, timer: T, settings: Settings<'a>) -> Self {
        Self {
            connector,
            timer,
            conn: None,
            settings,
            link: Link::new(),
            rx: [0; RX],
            on_event: None,
        }
    }

    /// A client whose first connection is already open (a TLS session the
    /// caller has just set up, say): `connector` is asked for a new one
    /// only once the server closes it.
    pub fn with_connection(
        connector: C,
        connection: C::Connection,
        timer: T,
        settings: Settings<'a>,
    ) -> Self {
        let mut client = Self::new(connector, timer, settings);
        client.conn = Some(connection);
        client.link.adopt_connection();
        client
    }

    /// Calls `hook` with every retry, reconnect, re-login and redirect the
    /// client makes on its own (they are also logged with `defmt` when the
    /// `defmt` feature is on).
    pub fn set_event_hook(&mut self, hook: fn(&Event)) {
        self.on_event = Some(hook);
    }

    /// Closes the connection (the next call opens a new one).
    pub fn disconnect(&mut self) {
        self.conn = None;
        self.link.disconnected();
    }

    // Not inlined: each exchange's machine then lives in a frame of its own,
    // and the frames of a caller's several exchanges share the stack.
    #[inline(never)]
    fn exchange<R: Request, D: DataDecoder + Default, const N: usize>(
        &mut self,
        req: &R,
        download: Option<&mut (dyn DownloadSink + '_)>,
        sample: Option<&mut (dyn SampleSource + '_)>,
        each: &mut dyn FnMut(D::Item),
    ) -> Result<D::Output, Error> {
        // The caller's settings; a timer that cannot wait allows one
        // attempt only.
        let mut s = self.settings;
        if !self.timer.retries() {
            s.retry.max_attempts = 1;
        }
        let result = if let Some(sink) = download {
            let ex =
                Exchange::<R, NoData, 0, SESSIONS>::download(req, &s, &mut self.link, &mut self.rx);
            let mut none = |_| {};
            let mut d = Driven::new(ex, &mut none);
            let c = (&mut self.connector, &mut self.conn, &mut self.timer);
            run(&mut d, c.0, c.1, c.2, sample, Some(sink), self.on_event).map(|()| None)
        } else {
            let ex = Exchange::<R, D, N, SESSIONS>::call(req, &s, &mut self.link, &mut self.rx);
            let mut d = Driven::new(ex, each);
            let c = (&mut self.connector, &mut self.conn, &mut self.timer);
            run(&mut d, c.0, c.1, c.2, sample, None, self.on_event).map(|()| d.output())
        };
        if result.is_err() && self.conn.is_none() {
            self.link.disconnected();
        }
        match result? {
            Some(out) => Ok(out),
            None => D::default().finish().map_err(Error::Core),
        }
    }

    /// Calls a method and decodes its answer with `D` (the method's
    /// decoder, or a lighter one), handing list entries to `each`; the
    /// sample, for an upload, is read from `sample` (from its start on
    /// every attempt). Entries of a failed attempt may be seen again.
    pub fn call_with<R: Request, D: DataDecoder + Default>(
        &mut self,
        req: &R,
        sample: Option<&mut (dyn SampleSource + '_)>,
        each: &mut dyn FnMut(D::Item),
    ) -> Result<D::Output, Error> {
        self.exchange::<R, D, UNITS>(req, None, sample, each)
    }

    /// Calls a method with its own decoder.
    pub fn call<R: Request>(
        &mut self,
        req: &R,
        mut each: impl FnMut(<R::Response as DataDecoder>::Item),
    ) -> Result<<R::Response as DataDecoder>::Output, Error> {
        self.call_with::<R, R::Response>(req, None, &mut each)
    }

    /// Downloads a raw response (artifact, PDF report, exported report,
    /// IOC report) into `sink`, piece by piece, with the same policy as
    /// calls; a download cut off half-way is retried if the sink can start
    /// over. Documented failure statuses become errors.
    pub fn download<R: Request>(
        &mut self,
        req: &R,
        sink: &mut dyn DownloadSink,
    ) -> Result<(), Error> {
        self.exchange::<R, NoData, 0>(req, Some(sink), None, &mut |_| {})
    }

    /// Submits a sample hash-first: one hashing pass, submission by
    /// hash, and an upload streamed from the source only when the server
    /// asks (101).
    pub fn submit_hash_first<S: SampleSource>(
        &mut self,
        sample: &mut S,
        options: SubmitFile<'_>,
    ) -> Result<HashFirstOutcome, Error> {
        let digests = crate::sample::hash_sample(sample)?;
        self.submit_hashed(digests, sample, options)
    }

    /// Hash-first with digests computed elsewhere: submit by hash, upload
    /// from `sample` only on 101. The sample's length must equal
    /// `digests.len`.
    pub fn submit_hashed<S: SampleSource>(
        &mut self,
        digests: lastline_core::hashing::Digests,
        sample: &mut S,
        options: SubmitFile<'_>,
    ) -> Result<HashFirstOutcome, Error> {
        if sample.len() != digests.len {
            return Err(Error::SampleChanged);
        }
        let mut flow = HashFirst::new(digests, options);
        loop {
            let Some(req) = flow.request() else {
                return Err(lastline_core::Error::WorkflowMisuse("hash-first finished").into());
            };
            let answer = self.call_with::<_, SubmitDecoder>(&req, Some(sample), &mut |_| {});
            if let Some(done) = flow.on_response(answer)? {
                return Ok(done);
            }
        }
    }

    /// Reads one page of completions after the cursor, handing each new
    /// task to `each`, and moves the cursor on. Persist the cursor
    /// (`save`) after it returns.
    pub fn completions<const K: usize>(
        &mut self,
        cursor: &mut CompletionCursor<K>,
        each: &mut dyn FnMut(&CompletedTask),
    ) -> Result<NextPoll, Error> {
        let req = cursor.request();
        let page = self.call_with::<_, CompletedDecoder>(&req, None, &mut |t| {
            if cursor.accept(t.task_uuid) {
                each(&t);
            }
        })?;
        Ok(cursor.page_done(&page, None)?)
    }
}
