//! One exchange with the server as a sans-IO state machine: a typed
//! request goes in, the steps to take come out — connect, write these
//! bytes, send the sample, read into this buffer, sleep until, here is a
//! list entry or download bytes, restart your sink, done — and the whole
//! policy lives here, once, for calls and downloads alike:
//!
//! - **Session** ([`AuthMode::Session`]): log in before the first request,
//!   and again, once, on error 122 (or HTTP 401 from a raw endpoint), then
//!   send the request again.
//! - **Retries**: 107, HTTP 5xx and 429, connections closed or reset, and
//!   timeouts wait on the jittered [`RetryPolicy`](crate::workflow::RetryPolicy) schedule, at least as
//!   long as `Retry-After` says (capped by [`Settings::retry_after_cap_ms`]).
//! - **Reconnect**: a kept-alive connection the server closed before any
//!   byte of the answer is opened again once and the request sent again
//!   (not counted as a retry).
//! - **Redirects**: 301, 302, 303, 307 and 308 with a relative or absolute
//!   `Location`, at most [`MAX_REDIRECTS`] in a row. Credentials (Basic,
//!   session cookie, key/api_token fields) go only to the configured
//!   server's origin (scheme, host, port); another origin gets the request
//!   without them. HTTPS to plain HTTP is refused; 303 becomes a GET.
//! - **Downloads are retried like calls**: once bytes reached the sink,
//!   the machine says [`Step::RestartSink`] first; a sink that cannot
//!   start over ends the download with [`Error::SinkCannotRestart`].
//! - **Errors carry everything** ([`Failure`]): the error (API code,
//!   HTTP status, transport failure), the server's message, the status of
//!   the last answer, and the attempts made.
//!
//! # Phases of an attempt
//!
//! ```text
//!            +-------- redirect, re-login, reconnect --------+
//!            v                                               |
//!  Begin --> Connecting --> Begin --> Sending <--> Sample    |
//!    ^                                   |                   |
//!    |                                   v                   |
//!    |                               Receiving --------------+--> Over
//!    |                                   | a retry (answer.rs: the table)
//!    +---- Waiting(t) <-- Restarting(t) -+ (Restarting: the sink starts over)
//! ```
//!
//! The rooms of this module follow it: `settings` (origin, settings, the
//! link that outlives an exchange), `machine` (the phases and what the
//! driver reports), `answer` (what an answer means: read on, retry, log in
//! again, end), `redirect` (following a `Location`; what each target
//! gets), `typed` (the readers, the only per-method code), `driving` (the
//! loop to the next step, and [`Drive`]), `outcome` ([`Event`],
//! [`Failure`]).
//!
//! # What is sent again (at-least-once)
//!
//! A request that failed in a way a retry can fix is sent again, even when
//! it had gone out whole and no answer came (a reset, a timeout): the
//! server may have acted on it. Reads are unaffected. A submission by hash
//! returns the same task within its `expires`, so it is idempotent. An
//! upload may, if the server acted on the first copy and does not return
//! the earlier task for the same content, create a second task: uploads
//! are delivered at least once, never lost. Failures a retry cannot fix
//! (a 4xx, an API error other than 107 and 122, a TLS verification
//! failure) are never sent again.
//!
//! # Driving it
//!
//! ```
//! use lastline_core::exchange::{AuthMode, Exchange, Link, Origin, Settings, Step};
//! use lastline_core::request::Ping;
//! use lastline_core::decoders::StringData;
//! use lastline_core::Credentials;
//!
//! let settings = Settings::new(
//!     Origin { https: false, host: "127.0.0.1", port: 8642 },
//!     Credentials::new("key", Some("token")).unwrap(),
//! );
//! let mut link = Link::new();
//! let mut buf = [0u8; 1024];
//! let mut ex = Exchange::<_, StringData, 64>::call(&Ping, &settings, &mut link, &mut buf);
//! // A scripted server: one answer.
//! let answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r\n{\"success\": 1, \"data\": \"pong\"}\n";
//! let mut sent = Vec::new();
//! let mut answered = false;
//! let (now_ms, random) = (0, 7);
//! let pong = loop {
//!     match ex.poll(now_ms, random) {
//!         Step::Connect(origin) => assert_eq!(origin.port, 8642), // open a connection
//!         Step::Write(bytes) => sent.extend_from_slice(bytes),     // write them all
//!         Step::Read(space) => {
//!             let n = if answered { 0 } else { space[..answer.len()].copy_from_slice(answer); answer.len() };
//!             answered = true;
//!             ex.received(n);
//!         }
//!         Step::Done(result) => break result.unwrap(),
//!         other => panic!("not in this script: {other:?}"),
//!     }
//! };
//! assert_eq!(pong.as_str(), "pong");
//! assert!(sent.starts_with(b"GET /authentication/ping.json HTTP/1.1\r\n"));
//! ```

mod answer;
mod driving;
mod machine;
mod outcome;
mod redirect;
mod settings;
mod typed;

pub use driving::{Drive, Driven};
pub use outcome::{Event, Failure};
pub use redirect::{LOCATION_CAPACITY, MAX_REDIRECTS};
pub use settings::{AuthMode, Link, Origin, Settings};

use core::fmt;

use crate::decoders::NoData;
use crate::envelope::DataDecoder;
use crate::error::{Error, Transport};
use crate::http::Describe;
use crate::request::{ByName, Login, Request};

use driving::{advance, render};
use machine::{Machine, Out, Phase};
use typed::{ItemReady, Part, Reader, Typed};

/// What the driver does next. Polling again after a step means it was
/// done: the bytes were written, the sample sent, the sleep slept.
#[derive(Debug)]
pub enum Step<'a, I, O> {
    /// Open a new connection to this origin (closing any other first).
    /// Then [`Exchange::failed`] if it could not be opened.
    Connect(Origin<'a>),
    /// Write all these bytes (or [`Exchange::failed`]).
    Write(&'a [u8]),
    /// Write the whole sample, `len` bytes, from its first byte (or
    /// [`Exchange::failed`]); `scratch` is free to read it into, piece by
    /// piece.
    SendSample {
        /// Its length.
        len: u64,
        /// The exchange's buffer, unused while the sample goes out.
        scratch: &'a mut [u8],
    },
    /// Read into this space, then [`Exchange::received`] with the count (0:
    /// the peer closed), or [`Exchange::failed`].
    Read(&'a mut [u8]),
    /// Sleep until this time (milliseconds on the clock given to
    /// [`Exchange::poll`]).
    Sleep {
        /// When to poll again.
        until_ms: u64,
    },
    /// A list entry of the answer.
    Item(I),
    /// The next bytes of a download.
    Data(&'a [u8]),
    /// The download starts again: forget the bytes given so far, or call
    /// [`Exchange::cannot_restart`] before polling again.
    RestartSink,
    /// Something the exchange did on its own, for the record.
    Event(Event),
    /// The exchange is over. Then [`Exchange::keeps_connection`] says
    /// whether the connection may carry the next one.
    Done(Result<O, Failure>),
}

/// Receives a call's body as the server sent it (de-framed: no chunk
/// sizes) while its decoder reads it: for passing the server's own JSON
/// on once the typed decoder accepted it ([`Driven::keeping_body`]).
pub trait BodyTap {
    /// The next bytes of the body.
    fn put(&mut self, bytes: &[u8]);
    /// The call is sent again: forget the bytes given so far.
    fn restart(&mut self);
}

/// One exchange: the request `R`, its answer decoded by `D` with units of
/// `N` bytes (a download: `D` = [`NoData`], `N` = 0). `SESSIONS` false
/// leaves the login out of the code (a client that never logs in); a
/// session mode is then sent as Basic.
///
/// `R` is the request's type — a typed [`Request`], or [`ByName`] for a
/// method named at run time ([`Exchange::call_by_name`]).
pub struct Exchange<'x, R, D: DataDecoder, const N: usize, const SESSIONS: bool = true> {
    m: Machine<'x>,
    part: Part<'x, D, N, SESSIONS>,
    request: core::marker::PhantomData<&'x R>,
}

impl<R, D: DataDecoder, const N: usize, const S: bool> fmt::Debug for Exchange<'_, R, D, N, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("method", &self.m.req.shape().name())
            .field("phase", &self.m.phase)
            .field("attempts", &self.m.attempts)
            .finish_non_exhaustive()
    }
}

impl<'x, R: Request, D: DataDecoder + Default, const N: usize, const S: bool>
    Exchange<'x, R, D, N, S>
{
    /// An exchange whose answer is an envelope decoded by `D`; `buf` is the
    /// send and receive buffer (a response head must fit in it).
    pub fn call(
        req: &'x R,
        settings: &'x Settings<'x>,
        link: &'x mut Link,
        buf: &'x mut [u8],
    ) -> Self {
        Self::start(req, settings, link, buf, false)
    }
}

impl<'x, D: DataDecoder + Default, const N: usize, const S: bool>
    Exchange<'x, ByName<'x>, D, N, S>
{
    /// An exchange of a method named at run time, whose answer is an
    /// envelope decoded by `D` (usually [`RawData`](crate::decoders::RawData)).
    pub fn call_by_name(
        req: &'x ByName<'x>,
        settings: &'x Settings<'x>,
        link: &'x mut Link,
        buf: &'x mut [u8],
    ) -> Self {
        Self::start(req, settings, link, buf, false)
    }
}

impl<'x, const S: bool> Exchange<'x, ByName<'x>, NoData, 0, S> {
    /// An exchange of a method named at run time whose answer is a
    /// download (a method whose [`MethodInfo::response`](crate::request::MethodInfo::response)
    /// is raw), handed out as [`Step::Data`].
    pub fn download_by_name(
        req: &'x ByName<'x>,
        settings: &'x Settings<'x>,
        link: &'x mut Link,
        buf: &'x mut [u8],
    ) -> Self {
        Self::start(req, settings, link, buf, true)
    }
}

impl<'x, R: Request, const S: bool> Exchange<'x, R, NoData, 0, S> {
    /// An exchange whose answer is a download, handed out as
    /// [`Step::Data`].
    pub fn download(
        req: &'x R,
        settings: &'x Settings<'x>,
        link: &'x mut Link,
        buf: &'x mut [u8],
    ) -> Self {
        Self::start(req, settings, link, buf, true)
    }
}

impl<'x, R, D: DataDecoder + Default, const N: usize, const S: bool> Exchange<'x, R, D, N, S> {
    fn start(
        req: &'x dyn Describe,
        settings: &'x Settings<'x>,
        link: &'x mut Link,
        buf: &'x mut [u8],
        download: bool,
    ) -> Self {
        // With `S` false no login request is referred to, so its code is
        // left out.
        let login: Option<&'x dyn Describe> = if S { Some(&Login) } else { None };
        Self {
            m: Machine::new(settings, link, buf, req, login, download),
            part: Part {
                reader: Reader::Idle,
                output: None,
                item: None,
                each: None,
                tap: None,
            },
            request: core::marker::PhantomData,
        }
    }

    /// The download's file name (`Content-Disposition`), once its head
    /// arrived.
    pub fn filename(&self) -> Option<&str> {
        match &self.part.reader {
            Reader::Download(r) => r.head().and_then(|h| h.filename()),
            _ => None,
        }
    }

    /// Whether the connection may carry the next exchange (after
    /// [`Step::Done`]); the [`Link`] knows it too.
    pub fn keeps_connection(&self) -> bool {
        self.m.link.idle_connection
    }

    /// The connection could not be opened, written or read.
    pub fn failed(&mut self, how: Transport) {
        self.m.failed(how);
    }

    /// `n` bytes were read into the space of [`Step::Read`]; 0: the peer
    /// closed the connection.
    pub fn received(&mut self, n: usize) {
        self.m.received(n);
    }

    /// The sink cannot start the download over (after [`Step::RestartSink`]):
    /// the exchange ends in [`Error::SinkCannotRestart`].
    pub fn cannot_restart(&mut self) {
        if let Phase::Restarting(_) = self.m.phase {
            self.m.done(Err(Error::SinkCannotRestart));
        }
    }

    /// The next step. `now_ms` is any monotonic clock in milliseconds (the
    /// one `Sleep` refers to); `random` any 32 random bits (jitter, the
    /// multipart boundary).
    pub fn poll(&mut self, now_ms: u64, random: u32) -> Step<'_, D::Item, D::Output> {
        match advance(&mut self.m, &mut self.part, now_ms, random) {
            Ok(out) => self.typed(out),
            Err(ItemReady) => match self.part.item.take() {
                Some(item) => Step::Item(item),
                None => Step::Done(Err(self
                    .m
                    .failure(Error::WorkflowMisuse(text!("no entry"))))),
            },
        }
    }

    /// The typed step for `out`.
    fn typed(&mut self, out: Out) -> Step<'_, D::Item, D::Output> {
        if let Out::Done = out {
            return Step::Done(match self.m.outcome.take() {
                Some(Ok(())) => self.part.take_output().map_err(|e| self.m.failure(e)),
                Some(Err(f)) => Err(f),
                None => Err(self
                    .m
                    .failure(Error::WorkflowMisuse(text!("polled after Done")))),
            });
        }
        match render(&mut self.m, self.part.held(), out) {
            Step::Connect(o) => Step::Connect(o),
            Step::Write(b) => Step::Write(b),
            Step::SendSample { len, scratch } => Step::SendSample { len, scratch },
            Step::Read(space) => Step::Read(space),
            Step::Sleep { until_ms } => Step::Sleep { until_ms },
            Step::Data(d) => Step::Data(d),
            Step::RestartSink => Step::RestartSink,
            Step::Event(e) => Step::Event(e),
            Step::Item(never) => match never {},
            // `Done` was answered above; `render` has no typed output.
            Step::Done(Err(f)) => Step::Done(Err(f)),
            Step::Done(Ok(())) => Step::Done(Err(Failure {
                error: Error::WorkflowMisuse(text!("a success without its output")),
                attempts: 1,
                status: None,
                message: None,
            })),
        }
    }
}
