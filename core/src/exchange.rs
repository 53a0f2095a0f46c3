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
//!   timeouts wait on the jittered [`RetryPolicy`] schedule, at least as
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

use core::fmt;

use crate::api_error::{ApiMessage, ErrorCode};
use crate::auth::{Auth, Credentials};
use crate::decoders::{NoData, StringData};
use crate::envelope::{DataDecoder, DecoderVisitor, Visitor};
use crate::error::{Error, Transport};
use crate::http::{
    ClientConfig, Describe, EncodePosition, EncodeStep, RedirectTarget, RequestEncoder,
    ResponseHead,
};
use crate::request::{Login, Request};
use crate::response::{EnvelopeResponse, Found, Progress, RawResponse, ResponseState};
use crate::workflow::{RetryDecision, RetryPolicy, RetryState, Session, SessionAction};

/// Most redirects followed in a row.
pub const MAX_REDIRECTS: u8 = 5;
/// Longest `Location` (or absolute URL made of a relative one) followed.
pub const LOCATION_CAPACITY: usize = 512;

/// How requests authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AuthMode {
    /// HTTP Basic on every request (the default).
    Basic,
    /// Credentials in POST bodies (GET-only methods fall back to Basic).
    BodyFields,
    /// Log in once; send the session cookie; log in again on 122.
    Session,
}

/// A server's origin: scheme, host and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Origin<'a> {
    /// HTTPS (TLS) rather than plain HTTP.
    pub https: bool,
    /// The host: a DNS name, an IPv4 address, or an IPv6 address in
    /// brackets.
    pub host: &'a str,
    /// The TCP port.
    pub port: u16,
}

impl<'a> Origin<'a> {
    /// The origin of `authority` (`host` or `host:port`, an IPv6 address in
    /// brackets), with the scheme's default port when none is given;
    /// `None` when the port is not a port number.
    pub fn from_authority(authority: &'a str, https: bool) -> Option<Self> {
        let b = authority.as_bytes();
        let colon = b.iter().rposition(|&c| c == b':').filter(|&i| {
            // Not one inside an IPv6 literal.
            !b.get(i..)
                .is_some_and(|rest| rest.iter().any(|&c| c == b']'))
                && (b.first().is_none_or(|&c| c != b'[') || b.get(i.wrapping_sub(1)) == Some(&b']'))
        });
        let (host, port) = match colon {
            Some(i) => (
                authority.get(..i)?,
                parse_port(b.get(i.saturating_add(1)..)?)?,
            ),
            None => (authority, if https { 443 } else { 80 }),
        };
        (!host.is_empty()).then_some(Self { https, host, port })
    }
}

impl Origin<'_> {
    fn default_port(&self) -> u16 {
        if self.https {
            443
        } else {
            80
        }
    }

    /// The port the `Host` header names (none for the scheme's default).
    fn host_port(&self) -> Option<u16> {
        (self.port != self.default_port()).then_some(self.port)
    }

    /// Whether `other` is the same origin (host names compare without
    /// case).
    pub fn same_as(&self, other: &Origin<'_>) -> bool {
        self.https == other.https
            && self.port == other.port
            && self.host.eq_ignore_ascii_case(other.host)
    }

    /// Writes `host` or `host:port` (the `Host` header's form).
    fn authority<const N: usize>(
        &self,
        out: &mut heapless::String<N>,
    ) -> Result<(), heapless::CapacityError> {
        out.push_str(self.host)?;
        if let Some(p) = self.host_port() {
            let mut digits = [0u8; 20];
            out.push(':')?;
            for &c in crate::codec::decimal(u64::from(p), &mut digits) {
                out.push(char::from(c))?;
            }
        }
        Ok(())
    }
}

/// Where and how to talk to the server: what every exchange shares.
#[derive(Clone, Copy, Debug)]
pub struct Settings<'a> {
    /// The configured server: the only origin credentials go to.
    pub server: Origin<'a>,
    /// A path prefix before every method's path (usually empty).
    pub base_path: &'a str,
    /// `User-Agent`.
    pub user_agent: &'a str,
    /// Key and token.
    pub credentials: Credentials<'a>,
    /// How requests authenticate.
    pub auth: AuthMode,
    /// When to retry.
    pub retry: RetryPolicy,
    /// The longest wait a `Retry-After` may ask for, in milliseconds.
    pub retry_after_cap_ms: u64,
}

impl<'a> Settings<'a> {
    /// HTTP Basic to `server`, the default retry policy, `Retry-After`
    /// honoured up to a minute.
    pub fn new(server: Origin<'a>, credentials: Credentials<'a>) -> Self {
        Self {
            server,
            base_path: "",
            user_agent: concat!("lastline-core/", env!("CARGO_PKG_VERSION")),
            credentials,
            auth: AuthMode::Basic,
            retry: RetryPolicy::default(),
            retry_after_cap_ms: 60_000,
        }
    }
}

/// What outlives one exchange: the session, and whether a kept-alive
/// connection to the server is open. The driver keeps one per client and
/// says [`Link::disconnected`] when it drops a connection on its own.
#[derive(Clone, Debug, Default)]
pub struct Link {
    session: Session,
    idle_connection: bool,
    nonce: u32,
}

impl Link {
    /// No session, no connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// The session state (its cookie, once logged in).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Whether the last exchange left a connection to the server open for
    /// the next one.
    pub fn connection_open(&self) -> bool {
        self.idle_connection
    }

    /// The driver closed the connection (the next exchange opens one).
    pub fn disconnected(&mut self) {
        self.idle_connection = false;
    }

    /// The driver holds a connection to the server it opened itself (a
    /// TLS session set up before the client): the next exchange uses it.
    pub fn adopt_connection(&mut self) {
        self.idle_connection = true;
    }
}

/// Something the exchange did on its own, for the driver to show (log,
/// defmt, an observer).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// The request failed and is sent again after `delay_ms`.
    Retry {
        /// Attempts failed so far.
        attempt: u32,
        /// The wait before the next attempt.
        delay_ms: u64,
        /// Why the attempt failed.
        error: Error,
    },
    /// A kept-alive connection was closed before any answer: a new one
    /// carries the request again.
    Reconnect,
    /// The session ended (122): logging in again.
    Relogin,
    /// The answer was a redirect, followed.
    Redirect {
        /// Its status.
        status: u16,
        /// Whether it leads to another origin (sent without credentials).
        other_origin: bool,
    },
}

/// How an exchange failed, with everything known about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// What went wrong (the API's code, an HTTP status, the transport...).
    pub error: Error,
    /// Attempts made, the last one included.
    pub attempts: u32,
    /// The HTTP status of the last answer, if one came.
    pub status: Option<u16>,
    /// The server's words, for people: a failure envelope's `error`, or
    /// the `Location` of a redirect refused as
    /// [`Error::UploadRedirected`].
    pub message: Option<ApiMessage>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)?;
        if let Some(m) = &self.message {
            if !m.text.is_empty() {
                write!(f, ": {}", m.text)?;
            }
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl core::error::Error for Failure {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Failure {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{} (attempts: {=u32})", self.error, self.attempts)
    }
}

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

/// The answer's reader.
enum Reader<D: DataDecoder, const N: usize> {
    /// Before the first attempt.
    Idle,
    Call(EnvelopeResponse<D, N>),
    Download(RawResponse),
    Login(EnvelopeResponse<StringData, 64>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Start an attempt: connect, log in, or send.
    Begin,
    /// `Connect` was asked for.
    Connecting,
    /// Writing the request.
    Sending,
    /// `SendSample` was asked for.
    Sample,
    /// Reading the answer.
    Receiving,
    /// Before the next attempt.
    Waiting(u64),
    /// `RestartSink` was asked for; then wait until this time.
    Restarting(u64),
    /// Over.
    Over,
}

/// How far an attempt's answer got, which decides what a failure now
/// calls for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    /// No byte yet: a connection closed now is lost (and a kept-alive one
    /// is reopened once).
    Awaited,
    /// Bytes arrived, none of them handed to the caller.
    Arriving,
    /// Body bytes reached the caller's sink or tap: a retry must have it
    /// start over first.
    Delivered,
}

/// Where the end of the peer's bytes stands, within one answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PeerEnd {
    /// Bytes may still come (or the reader is being told they will not).
    Open,
    /// The peer closed after part of the answer arrived; the reader is
    /// told at the next poll.
    Closed,
    /// The reader was closed at the connection's end: needing more now is
    /// a lost connection.
    Told,
}

/// Where the connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conn {
    None,
    /// To the server; `used`: it carried a request before this one.
    Server {
        used: bool,
    },
    /// To another origin (a redirect's).
    Other,
}

/// A redirect being followed: spans of the absolute URL in `location`.
#[derive(Clone, Copy, Debug)]
struct Redirected {
    https: bool,
    host: (usize, usize),
    port: u16,
    target: (usize, usize),
    as_get: bool,
    other_origin: bool,
}

/// A step before it borrows the exchange (list entries aside).
#[derive(Debug)]
enum Out {
    Connect,
    Write(usize),
    SendSample(u64),
    Read,
    Sleep(u64),
    Data {
        at: Option<usize>,
        len: usize,
    },
    RestartSink,
    Event(Event),
    /// Over: the outcome is in `Machine::outcome`.
    Done,
}

/// What the policy needs from the typed part next.
enum Ask {
    Out(Out),
    /// A new reader for the answer (the login's when `Machine::login`).
    NewReader,
    /// The next piece of the request (the login when `Machine::login`).
    Encode,
    /// What the reader makes of the bytes in `buf`.
    Feed,
    /// The peer closed inside the answer: close the reader.
    Eof,
}

/// The login's answer, read whole.
struct LoginEnd {
    answer: Result<(), Error>,
    keep_alive: bool,
    cookie: Option<crate::auth::SessionCookie>,
    /// A refusal's words.
    message: Option<ApiMessage>,
}

/// What the reader found, without its types: a call's output stays with
/// the typed part.
enum Seen {
    NeedMore,
    Head,
    /// A list entry is in the decoder's visitor (the typed part takes it).
    Item,
    /// A call's end: its outcome (its output kept aside), keep-alive, a
    /// failure envelope's message.
    End(Result<(), Error>, bool, Option<ApiMessage>),
    LoginEnd(LoginEnd),
    /// A download ended (keep-alive).
    DownloadEnd(bool),
    /// Download bytes at `buf[at..at + len]`, or (`at` = None) held by the
    /// reader.
    Data {
        at: Option<usize>,
        len: usize,
    },
    /// A close-delimited download ended with the connection: feed again.
    Closed,
    /// The answer was refused, with a failure envelope's message if any.
    Failed(Error, Option<ApiMessage>),
}

/// Everything of an exchange but the types of its request and answer: the
/// policy, whose code then exists once in a binary whatever the methods
/// called.
struct Machine<'x> {
    settings: &'x Settings<'x>,
    link: &'x mut Link,
    buf: &'x mut [u8],
    /// The request, through the encoder's object-safe face.
    req: &'x dyn Describe,
    /// The login request, in clients that log in (`None`: the login's code
    /// is not in the binary).
    login_req: Option<&'x dyn Describe>,
    filled: usize,
    /// Bytes of `buf` to drop at the next poll (handed out as `Data`).
    consume: usize,
    download: bool,
    login: bool,
    phase: Phase,
    conn: Conn,
    retry: RetryState,
    attempts: u32,
    reconnected: bool,
    /// The request went out on a connection that carried one before.
    on_reused: bool,
    /// How far this attempt's answer got.
    answer: Answer,
    hops: u8,
    redirect: Option<Redirected>,
    location: heapless::String<LOCATION_CAPACITY>,
    status: Option<u16>,
    entropy: [u8; 16],
    pos: EncodePosition,
    pending: Option<Event>,
    /// A failure the driver reported, handled at the next poll.
    pending_error: Option<Error>,
    end: PeerEnd,
    /// Writing failed: the server may still have answered (a 413 before
    /// the whole upload arrived), so the answer is read before giving up.
    send_broken: Option<Transport>,
    /// Once over: success (the output is the typed part's), or the failure.
    outcome: Option<Result<(), Failure>>,
}

/// One exchange: the request `R`, its answer decoded by `D` with units of
/// `N` bytes (a download: `D` = [`NoData`], `N` = 0). `SESSIONS` false
/// leaves the login out of the code (a client that never logs in); a
/// session mode is then sent as Basic.
pub struct Exchange<'x, R: Request, D: DataDecoder, const N: usize, const SESSIONS: bool = true> {
    m: Machine<'x>,
    part: Part<'x, D, N, SESSIONS>,
    request: core::marker::PhantomData<&'x R>,
}

/// The typed half of an exchange: the answer's reader, what the reader
/// produced. Only what needs the method's types is here: the machine holds
/// the request through the encoder's object-safe face, and feeding and
/// closing the reader go through the decoder's (`Visitor`), so what is
/// copied per method is a few short shims.
struct Part<'x, D: DataDecoder, const N: usize, const S: bool> {
    reader: Reader<D, N>,
    output: Option<D::Output>,
    /// A list entry the reader produced, for the typed caller to take.
    item: Option<D::Item>,
    /// Where list entries go when the exchange is driven ([`Driven`]).
    each: Option<&'x mut dyn FnMut(D::Item)>,
    /// Where a call's body goes as it is read, if anywhere.
    tap: Option<&'x mut dyn BodyTap>,
}

/// The typed half as the policy's loop sees it: behind this trait the loop
/// ([`advance`]) is not generic and exists once in a binary.
trait Typed {
    /// A new reader for the answer (the login's, or a download's).
    fn new_reader(&mut self, login: bool, download: bool);
    /// Feeds the machine's bytes to the reader; `None`: a list entry is
    /// waiting in the part.
    fn feed(&mut self, m: &mut Machine<'_>) -> Option<Seen>;
    /// The peer closed inside the answer.
    fn close(&mut self) -> Seen;
    /// The answer's head, once read.
    fn head(&self) -> Option<&ResponseHead>;
    /// Bytes a download's reader held back and hands out last.
    fn held(&self) -> &[u8];
    /// Gives the waiting list entry to the callback of a driven exchange.
    fn hand_item(&mut self);
    /// Starts the body tap over, if there is one (`false`: none, the
    /// driver's sink restarts).
    fn restart_tap(&mut self) -> bool;
}

/// A list entry is waiting in the typed part.
struct ItemReady;

/// Runs the policy to the next step (not generic: once in a binary).
#[inline(never)]
fn advance(
    m: &mut Machine<'_>,
    t: &mut dyn Typed,
    now_ms: u64,
    random: u32,
) -> Result<Out, ItemReady> {
    loop {
        match m.next(now_ms, random) {
            Ask::Out(o) => return Ok(o),
            Ask::NewReader => t.new_reader(m.login, m.download),
            Ask::Encode => {
                let step = m.encode();
                if let Some(o) = m.encoded(step) {
                    return Ok(o);
                }
            }
            Ask::Feed => {
                let Some(seen) = t.feed(m) else {
                    return Err(ItemReady);
                };
                if let Some(o) = m.seen(seen, t.head(), now_ms, random) {
                    return Ok(o);
                }
            }
            Ask::Eof => {
                let seen = t.close();
                if let Some(o) = m.seen(seen, t.head(), now_ms, random) {
                    return Ok(o);
                }
            }
        }
    }
}

impl<R: Request, D: DataDecoder, const N: usize, const S: bool> fmt::Debug
    for Exchange<'_, R, D, N, S>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("method", &R::NAME)
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

impl<'x, R: Request, D: DataDecoder + Default, const N: usize, const S: bool>
    Exchange<'x, R, D, N, S>
{
    fn start(
        req: &'x R,
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

impl<D: DataDecoder + Default, const N: usize, const S: bool> Part<'_, D, N, S> {
    /// A success's output (a download's is the empty one of its decoder).
    fn take_output(&mut self) -> Result<D::Output, Error> {
        match self.output.take() {
            Some(out) => Ok(out),
            None => D::default().finish(),
        }
    }
}

/// What a call's reader saw, with the method's decoder finishing a success
/// and keeping a list entry: the only per-method part of reading.
fn settle<D: DataDecoder>(
    seen: Seen,
    item: Option<D::Item>,
    data: &mut D,
    output: &mut Option<D::Output>,
    slot: &mut Option<D::Item>,
) -> Option<Seen> {
    match seen {
        Seen::Item if item.is_some() => {
            *slot = item;
            None
        }
        Seen::Item => Some(Seen::NeedMore),
        Seen::End(Ok(()), keep, message) => {
            let outcome = data.finish().map(|out| *output = Some(out));
            Some(Seen::End(outcome, keep, message))
        }
        other => Some(other),
    }
}

impl<D: DataDecoder + Default, const N: usize, const S: bool> Typed for Part<'_, D, N, S> {
    // `S` and `N == 0` (only downloads have no units) are constants of the
    // instantiation: a client that never logs in or never downloads carries
    // none of those readers' code.
    fn new_reader(&mut self, login: bool, download: bool) {
        self.reader = if S && login {
            Reader::Login(EnvelopeResponse::new(StringData::default()))
        } else if N == 0 && download {
            Reader::Download(RawResponse::new())
        } else {
            Reader::Call(EnvelopeResponse::new(D::default()))
        };
    }

    fn feed(&mut self, m: &mut Machine<'_>) -> Option<Seen> {
        match &mut self.reader {
            Reader::Call(r) => {
                let (state, units, data) = r.parts();
                let mut v = DecoderVisitor::new(data);
                let tap = self.tap.as_mut().map(|t| &mut **t as &mut dyn BodyTap);
                let seen = feed_envelope(m, state, units, &mut v, D::DATA_OPTIONAL, tap);
                let item = v.entries.take();
                settle(seen, item, data, &mut self.output, &mut self.item)
            }
            Reader::Login(r) if S => Some(feed_login(m, r)),
            Reader::Download(r) if N == 0 => Some(feed_raw(m, r)),
            _ => Some(Seen::Failed(
                Error::WorkflowMisuse(text!("no reader")),
                None,
            )),
        }
    }

    fn close(&mut self) -> Seen {
        if head_of(&self.reader).is_none() {
            // Cut inside the head: the connection failed, not the answer.
            return Seen::Failed(Error::Transport(Transport::Closed), None);
        }
        match &mut self.reader {
            Reader::Call(r) => {
                let (state, units, data) = r.parts();
                let mut v = DecoderVisitor::new(data);
                let seen = close_envelope(state, units, &mut v, D::DATA_OPTIONAL);
                settle(seen, None, data, &mut self.output, &mut self.item)
                    .unwrap_or(Seen::Failed(Error::Transport(Transport::Closed), None))
            }
            Reader::Login(r) if S => close_login(r),
            Reader::Download(r) if N == 0 => close_raw(r),
            _ => Seen::Failed(Error::Transport(Transport::Closed), None),
        }
    }

    fn head(&self) -> Option<&ResponseHead> {
        head_of(&self.reader)
    }

    fn held(&self) -> &[u8] {
        match &self.reader {
            Reader::Download(r) if N == 0 => r.held(),
            _ => &[],
        }
    }

    fn hand_item(&mut self) {
        if let (Some(each), Some(item)) = (self.each.as_mut(), self.item.take()) {
            each(item);
        }
    }

    fn restart_tap(&mut self) -> bool {
        match self.tap.as_mut() {
            Some(tap) => {
                tap.restart();
                true
            }
            None => false,
        }
    }
}

/// Feeds a call's reader (not generic: once in a binary).
#[inline(never)]
fn feed_envelope(
    m: &mut Machine<'_>,
    state: &mut ResponseState,
    units: &mut [u8],
    v: &mut dyn Visitor,
    data_optional: bool,
    tap: Option<&mut dyn BodyTap>,
) -> Seen {
    let input = m.buf.get(..m.filled).unwrap_or(&[]);
    let mut tapped = false;
    let result = match tap {
        Some(tap) => {
            let mut put = |bytes: &[u8]| {
                tapped = true;
                tap.put(bytes);
            };
            state.feed(input, units, v, Some(&mut put))
        }
        None => state.feed(input, units, v, None),
    };
    // Body bytes left the machine: a retry starts the tap over first.
    if tapped {
        m.answer = Answer::Delivered;
    }
    let (used, seen) = match result {
        Err(e) => (0, Seen::Failed(e, state.api_message())),
        Ok((n, Found::NeedMore)) => (n, Seen::NeedMore),
        Ok((n, Found::Head)) => (n, Seen::Head),
        Ok((n, Found::Item)) => (n, Seen::Item),
        Ok((n, Found::Done)) => {
            let (keep, message) = (state.keep_alive(), state.api_message());
            (n, Seen::End(state.outcome(data_optional), keep, message))
        }
    };
    m.filled = crate::envelope::move_to_front(m.buf, used.min(m.filled), m.filled);
    seen
}

/// Closes a call's reader at the connection's end (not generic).
#[inline(never)]
fn close_envelope(
    state: &mut ResponseState,
    units: &mut [u8],
    v: &mut dyn Visitor,
    data_optional: bool,
) -> Seen {
    match state.close(units, v) {
        Ok(Found::Done) => {
            let message = state.api_message();
            Seen::End(state.outcome(data_optional), false, message)
        }
        Ok(_) => Seen::Failed(Error::Transport(Transport::Closed), None),
        Err(e) => Seen::Failed(e, None),
    }
}

/// An exchange as a driver sees it when the types of its answer do not
/// matter to it: list entries go to a callback and the output is kept
/// aside ([`Driven`]). A driver written over `&mut dyn Drive` has one copy
/// of its I/O loop in a binary, whatever the methods it calls.
pub trait Drive {
    /// As [`Exchange::poll`]; `Done` carries `Ok(())` for a success (the
    /// output is [`Driven::output`]'s).
    fn poll(&mut self, now_ms: u64, random: u32) -> Step<'_, core::convert::Infallible, ()>;
    /// As [`Exchange::failed`].
    fn failed(&mut self, how: Transport);
    /// As [`Exchange::received`].
    fn received(&mut self, n: usize);
    /// As [`Exchange::cannot_restart`].
    fn cannot_restart(&mut self);
    /// As [`Exchange::keeps_connection`].
    fn keeps_connection(&self) -> bool;
}

/// An [`Exchange`] whose list entries go to `each` and whose output is
/// kept, driven through [`Drive`].
pub struct Driven<'x, R: Request, D: DataDecoder, const N: usize, const S: bool = true> {
    ex: Exchange<'x, R, D, N, S>,
}

impl<'x, R: Request, D: DataDecoder + Default, const N: usize, const S: bool>
    Driven<'x, R, D, N, S>
{
    /// `ex`, with its list entries handed to `each`.
    pub fn new(mut ex: Exchange<'x, R, D, N, S>, each: &'x mut dyn FnMut(D::Item)) -> Self {
        ex.part.each = Some(each);
        Self { ex }
    }

    /// Also hands the call's body to `tap` as it is read (de-framed), the
    /// same bytes the typed decoder accepts; a retry restarts the tap.
    pub fn keeping_body(mut self, tap: &'x mut dyn BodyTap) -> Self {
        self.ex.part.tap = Some(tap);
        self
    }

    /// The output of a call's success, once `Done` said `Ok` (a download
    /// has none).
    pub fn output(&mut self) -> Option<D::Output> {
        self.ex.part.output.take()
    }

    /// The download's file name, once its head arrived.
    pub fn filename(&self) -> Option<&str> {
        self.ex.filename()
    }
}

impl<R: Request, D: DataDecoder + Default, const N: usize, const S: bool> Drive
    for Driven<'_, R, D, N, S>
{
    fn poll(&mut self, now_ms: u64, random: u32) -> Step<'_, core::convert::Infallible, ()> {
        drive(&mut self.ex.m, &mut self.ex.part, now_ms, random)
    }

    fn failed(&mut self, how: Transport) {
        self.ex.failed(how);
    }

    fn received(&mut self, n: usize) {
        self.ex.received(n);
    }

    fn cannot_restart(&mut self) {
        self.ex.cannot_restart();
    }

    fn keeps_connection(&self) -> bool {
        self.ex.keeps_connection()
    }
}

/// A driven exchange's next step: list entries go to its callback (not
/// generic: once in a binary).
#[inline(never)]
fn drive<'a>(
    m: &'a mut Machine<'_>,
    t: &'a mut dyn Typed,
    now_ms: u64,
    random: u32,
) -> Step<'a, core::convert::Infallible, ()> {
    let out = loop {
        match advance(m, t, now_ms, random) {
            // A call's body tap starts over here; a download's sink is the
            // driver's.
            Ok(Out::RestartSink) if t.restart_tap() => {}
            Ok(out) => break out,
            Err(ItemReady) => t.hand_item(),
        }
    };
    render(m, t.held(), out)
}

/// The step for `out`, without the answer's types (a success's output
/// stays with the typed part).
#[inline(never)]
fn render<'a>(
    m: &'a mut Machine<'_>,
    held: &'a [u8],
    out: Out,
) -> Step<'a, core::convert::Infallible, ()> {
    match out {
        Out::Connect => Step::Connect(m.target_origin()),
        Out::Write(n) => Step::Write(m.buf.get(..n).unwrap_or(&[])),
        Out::SendSample(len) => Step::SendSample {
            len,
            scratch: &mut *m.buf,
        },
        Out::Read => Step::Read(m.buf.get_mut(m.filled..).unwrap_or(&mut [])),
        Out::Sleep(until_ms) => Step::Sleep { until_ms },
        Out::Data { at: Some(at), len } => {
            Step::Data(m.buf.get(at..at.saturating_add(len)).unwrap_or(&[]))
        }
        Out::Data { at: None, .. } => Step::Data(held),
        Out::RestartSink => Step::RestartSink,
        Out::Event(e) => Step::Event(e),
        Out::Done => Step::Done(match m.outcome.take() {
            Some(r) => r,
            None => Err(m.failure(Error::WorkflowMisuse(text!("polled after Done")))),
        }),
    }
}

/// The encoder's configuration for the current target: credentials only
/// to the configured server.
#[inline(never)]
fn config<'c>(
    s: &'c Settings<'c>,
    session: &'c Session,
    location: &'c str,
    redirect: Option<Redirected>,
    login: bool,
    sessions: bool,
) -> ClientConfig<'c> {
    let to_server = !redirect.is_some_and(|r| r.other_origin);
    let auth = match (to_server, s.auth, session.cookie()) {
        (false, _, _) => Auth::None,
        (true, AuthMode::Session, Some(c)) if sessions && !login => Auth::Session(c),
        (true, AuthMode::BodyFields, _) => Auth::BodyFields(s.credentials),
        _ => Auth::Basic(s.credentials),
    };
    let origin = match redirect {
        Some(r) if r.other_origin => Origin {
            https: r.https,
            host: location.get(r.host.0..r.host.1).unwrap_or(""),
            port: r.port,
        },
        _ => s.server,
    };
    ClientConfig {
        host: origin.host,
        port: origin.host_port(),
        base_path: s.base_path,
        user_agent: s.user_agent,
        auth,
        no_session: !(sessions && s.auth == AuthMode::Session),
        keep_alive: true,
        redirect: redirect.map(|r| RedirectTarget {
            target: location.get(r.target.0..r.target.1).unwrap_or("/"),
            as_get: r.as_get,
        }),
    }
}

/// Feeds the login's reader: a call's (its answer a string), the session
/// cookie taken from the head at the end.
#[inline(never)]
fn feed_login(m: &mut Machine<'_>, r: &mut EnvelopeResponse<StringData, 64>) -> Seen {
    let (state, units, data) = r.parts();
    let mut v = DecoderVisitor::new(data);
    let seen = feed_envelope(m, state, units, &mut v, StringData::DATA_OPTIONAL, None);
    login_seen(seen, state, data)
}

/// What the login's reader saw, as the login's end once it ended.
fn login_seen(seen: Seen, state: &ResponseState, data: &mut StringData) -> Seen {
    match seen {
        Seen::End(outcome, keep, message) => {
            let answer = outcome.and_then(|()| data.finish().map(|_| ()));
            Seen::LoginEnd(LoginEnd {
                answer,
                keep_alive: keep,
                cookie: state.head().and_then(|h| h.session_cookie()),
                message,
            })
        }
        // A string has no entries.
        Seen::Item => Seen::NeedMore,
        other => other,
    }
}

/// Feeds a download's reader (not generic: once in a binary).
#[inline(never)]
fn feed_raw(m: &mut Machine<'_>, r: &mut RawResponse) -> Seen {
    let input = m.buf.get(..m.filled).unwrap_or(&[]);
    let base = input.as_ptr() as usize;
    let (used, seen) = match r.feed(input) {
        Err(e) => (0, Seen::Failed(e, r.api_message())),
        Ok((n, Progress::NeedMore)) => (n, Seen::NeedMore),
        Ok((n, Progress::Head)) => (n, Seen::Head),
        Ok((n, Progress::Done)) => (n, Seen::DownloadEnd(r.keep_alive())),
        Ok((n, Progress::Item(d))) => {
            // A piece of `buf`, or bytes the reader held back; it stays in
            // `buf` until the next poll.
            let at = (d.as_ptr() as usize).wrapping_sub(base);
            let inside = at <= input.len() && d.len() <= input.len().saturating_sub(at);
            let at = (inside && !d.is_empty()).then_some(at);
            let len = d.len();
            m.consume = n;
            m.answer = Answer::Delivered;
            return Seen::Data { at, len };
        }
    };
    m.filled = crate::envelope::move_to_front(m.buf, used.min(m.filled), m.filled);
    seen
}

/// Closes the login's reader at the connection's end.
#[inline(never)]
fn close_login(r: &mut EnvelopeResponse<StringData, 64>) -> Seen {
    let (state, units, data) = r.parts();
    let mut v = DecoderVisitor::new(data);
    let seen = close_envelope(state, units, &mut v, StringData::DATA_OPTIONAL);
    login_seen(seen, state, data)
}

/// Closes a download's reader at the connection's end.
#[inline(never)]
fn close_raw(r: &mut RawResponse) -> Seen {
    match r.close() {
        Ok(()) => Seen::Closed,
        Err(e) => Seen::Failed(e, None),
    }
}

fn head_of<D: DataDecoder, const N: usize>(r: &Reader<D, N>) -> Option<&ResponseHead> {
    match r {
        Reader::Call(r) => r.head(),
        Reader::Login(r) => r.head(),
        Reader::Download(r) => r.head(),
        Reader::Idle => None,
    }
}

impl<'x> Machine<'x> {
    fn new(
        settings: &'x Settings<'x>,
        link: &'x mut Link,
        buf: &'x mut [u8],
        req: &'x dyn Describe,
        login_req: Option<&'x dyn Describe>,
        download: bool,
    ) -> Self {
        let conn = if link.idle_connection {
            Conn::Server { used: true }
        } else {
            Conn::None
        };
        link.idle_connection = false;
        Self {
            settings,
            link,
            buf,
            req,
            login_req,
            filled: 0,
            consume: 0,
            download,
            login: false,
            phase: Phase::Begin,
            conn,
            retry: RetryState::new(settings.retry),
            attempts: 0,
            reconnected: false,
            on_reused: false,
            answer: Answer::Awaited,
            hops: 0,
            redirect: None,
            location: heapless::String::new(),
            status: None,
            entropy: [0; 16],
            pos: EncodePosition::START,
            pending: None,
            pending_error: None,
            end: PeerEnd::Open,
            send_broken: None,
            outcome: None,
        }
    }

    /// Whether this client logs in (its login's code is in the binary).
    fn sessions(&self) -> bool {
        self.login_req.is_some()
    }

    /// The next piece of the request (or the login) into the buffer.
    #[inline(never)]
    fn encode(&mut self) -> Result<EncodeStep, Error> {
        let cfg = config(
            self.settings,
            &self.link.session,
            &self.location,
            self.redirect,
            self.login,
            self.login_req.is_some(),
        );
        let req = match self.login_req {
            Some(login) if self.login => login,
            _ => self.req,
        };
        let mut enc = RequestEncoder::resume_erased(req, &cfg, self.entropy, self.pos)?;
        let step = enc.poll(self.buf);
        // Past the sample as soon as it is asked for: the next poll comes
        // once the driver sent it.
        if matches!(step, EncodeStep::SendFile { .. }) {
            enc.file_sent();
        }
        self.pos = enc.position();
        Ok(step)
    }

    #[inline(never)]
    fn failed(&mut self, how: Transport) {
        match self.phase {
            Phase::Connecting => {
                self.conn = Conn::None;
                self.pending_error = Some(Error::Transport(how));
            }
            Phase::Sending | Phase::Sample
                if self.send_broken.is_none() && how != Transport::Refused =>
            {
                // The server may have answered before reading it all.
                self.send_broken = Some(how);
                self.phase = Phase::Receiving;
                self.filled = 0;
            }
            Phase::Sending | Phase::Sample | Phase::Receiving => {
                self.lost(self.send_broken.unwrap_or(how))
            }
            _ => {}
        }
    }

    #[inline(never)]
    fn received(&mut self, n: usize) {
        if self.phase != Phase::Receiving {
            return;
        }
        if n == 0 {
            if self.answer != Answer::Awaited {
                self.end = PeerEnd::Closed;
            } else {
                self.lost(self.send_broken.unwrap_or(Transport::Closed));
            }
            return;
        }
        if self.answer == Answer::Awaited {
            self.answer = Answer::Arriving;
        }
        self.filled = self.filled.saturating_add(n).min(self.buf.len());
    }

    /// What comes next, as far as the policy alone can say.
    // Not inlined (here and in the entry points beside it): the policy
    // exists once in a binary, not once per method called.
    #[inline(never)]
    fn next(&mut self, now_ms: u64, random: u32) -> Ask {
        if self.consume > 0 {
            let n = core::mem::take(&mut self.consume);
            self.filled = crate::envelope::move_to_front(self.buf, n.min(self.filled), self.filled);
        }
        loop {
            if let Some(e) = self.pending.take() {
                return Ask::Out(Out::Event(e));
            }
            if let Some(e) = self.pending_error.take() {
                if let Some(out) = self.retry_or_fail(e, None, None, now_ms, random) {
                    return Ask::Out(out);
                }
                continue;
            }
            match self.phase {
                Phase::Over => return Ask::Out(Out::Done),
                Phase::Waiting(until) if now_ms < until => return Ask::Out(Out::Sleep(until)),
                Phase::Waiting(_) => self.phase = Phase::Begin,
                Phase::Restarting(until) => self.phase = Phase::Waiting(until),
                Phase::Begin => return self.begin(random),
                Phase::Connecting => {
                    // Connected: the driver polled again.
                    self.conn = if self.redirect.is_some_and(|r| r.other_origin) {
                        Conn::Other
                    } else {
                        Conn::Server { used: false }
                    };
                    self.phase = Phase::Begin;
                }
                // The driver polled again: the sample went out.
                Phase::Sample => self.phase = Phase::Sending,
                Phase::Sending => return Ask::Encode,
                Phase::Receiving if self.end == PeerEnd::Closed => {
                    self.end = PeerEnd::Open;
                    self.conn = Conn::None;
                    return Ask::Eof;
                }
                Phase::Receiving => return Ask::Feed,
            }
        }
    }

    /// Starts an attempt: a connection first, then a reader for the answer.
    fn begin(&mut self, random: u32) -> Ask {
        let to_server = !self.redirect.is_some_and(|r| r.other_origin);
        // A redirect drops its connection, so `Other` here is the one
        // opened for the current hop.
        let connected = matches!(
            (self.conn, to_server),
            (Conn::Server { .. }, true) | (Conn::Other, false)
        );
        if !connected {
            self.phase = Phase::Connecting;
            self.conn = Conn::None;
            return Ask::Out(Out::Connect);
        }
        // Whether this request is the login: decided at an attempt's first
        // hop, kept while its redirects are followed.
        if self.redirect.is_none() {
            self.login = self.sessions()
                && to_server
                && self.settings.auth == AuthMode::Session
                && self.link.session.cookie().is_none();
        }
        self.on_reused = matches!(self.conn, Conn::Server { used: true });
        if let Conn::Server { used } = &mut self.conn {
            *used = true;
        }
        self.link.nonce = self.link.nonce.wrapping_add(1);
        self.entropy = entropy(random, self.link.nonce);
        self.pos = EncodePosition::START;
        self.answer = Answer::Awaited;
        self.end = PeerEnd::Open;
        self.status = None;
        self.phase = Phase::Sending;
        Ask::NewReader
    }

    fn target_origin(&self) -> Origin<'_> {
        match self.redirect {
            Some(r) if r.other_origin => Origin {
                https: r.https,
                host: self.location.get(r.host.0..r.host.1).unwrap_or(""),
                port: r.port,
            },
            _ => self.settings.server,
        }
    }

    /// What the encoder produced.
    #[inline(never)]
    fn encoded(&mut self, step: Result<EncodeStep, Error>) -> Option<Out> {
        match step {
            Ok(EncodeStep::Write(n)) => Some(Out::Write(n)),
            Ok(EncodeStep::SendFile { len }) => {
                self.phase = Phase::Sample;
                Some(Out::SendSample(len))
            }
            Ok(EncodeStep::Done) => {
                self.phase = Phase::Receiving;
                self.filled = 0;
                self.end = PeerEnd::Open;
                None
            }
            // A request that cannot be written is not sent at all.
            Err(e) => Some(self.done(Err(e))),
        }
    }

    /// What the reader found; `None` when more polling is needed.
    #[inline(never)]
    fn seen(
        &mut self,
        seen: Seen,
        head: Option<&ResponseHead>,
        now: u64,
        random: u32,
    ) -> Option<Out> {
        match seen {
            Seen::Failed(e, message) => self.answer_failed(e, message, head, now, random),
            Seen::NeedMore if self.end == PeerEnd::Told => {
                self.answer_failed(Error::Transport(Transport::Closed), None, head, now, random)
            }
            Seen::NeedMore | Seen::Item => self.read_more(),
            Seen::Head => self.on_head(head),
            Seen::End(outcome, keep, message) => {
                self.call_done(outcome, keep, message, head, now, random)
            }
            Seen::LoginEnd(end) => self.login_done(end, head, now, random),
            Seen::DownloadEnd(keep) => {
                self.finished(keep);
                Some(self.done(Ok(())))
            }
            Seen::Data { at, len } => Some(Out::Data { at, len }),
            Seen::Closed => {
                self.end = PeerEnd::Told;
                None
            }
        }
    }

    fn read_more(&mut self) -> Option<Out> {
        if self.filled >= self.buf.len() {
            return Some(self.done(Err(Error::BufferTooSmall {
                capacity: self.buf.len(),
            })));
        }
        Some(Out::Read)
    }

    /// A head arrived: a redirect is followed here.
    fn on_head(&mut self, head: Option<&ResponseHead>) -> Option<Out> {
        let head = head?;
        self.status = Some(head.status);
        if !head.is_redirect() {
            return None;
        }
        let status = head.status;
        let mut next = heapless::String::<LOCATION_CAPACITY>::new();
        let built = match head.location() {
            Some(loc) => absolute(loc, self.target_origin(), self.redirect_target(), &mut next),
            None => Err(Error::BadRedirect(text!("no Location"))),
        };
        // The 3xx's body is not read: this connection is done.
        self.conn = Conn::None;
        if let Err(e) = built {
            return Some(self.done(Err(e)));
        }
        self.hops = self.hops.saturating_add(1);
        if self.hops > MAX_REDIRECTS {
            return Some(self.done(Err(Error::TooManyRedirects {
                limit: MAX_REDIRECTS,
            })));
        }
        let was_https = self.target_origin().https;
        let Some(parsed) = parse_url(&next) else {
            return Some(self.done(Err(Error::BadRedirect(text!("not an http(s) URL")))));
        };
        if was_https && !parsed.https {
            return Some(self.done(Err(Error::BadRedirect(text!("from HTTPS to plain HTTP")))));
        }
        let other_origin = !Origin {
            https: parsed.https,
            host: next.get(parsed.host.0..parsed.host.1).unwrap_or(""),
            port: parsed.port,
        }
        .same_as(&self.settings.server);
        if other_origin && self.req.shape().upload_len.is_some() {
            // A sample goes to the configured origin or nowhere.
            let mut message = ApiMessage::default();
            message.truncated = crate::api_error::push_cut(&mut message.text, &next);
            let out = self.done(Err(Error::UploadRedirected));
            if let Some(Err(f)) = &mut self.outcome {
                f.message = Some(message);
            }
            return Some(out);
        }
        let as_get = status == 303 || self.redirect.is_some_and(|r| r.as_get);
        self.location = next;
        self.redirect = Some(Redirected {
            as_get,
            other_origin,
            ..parsed
        });
        self.phase = Phase::Begin;
        Some(Out::Event(Event::Redirect {
            status,
            other_origin,
        }))
    }

    fn redirect_target(&self) -> &str {
        match self.redirect {
            Some(r) => self.location.get(r.target.0..r.target.1).unwrap_or("/"),
            None => "/",
        }
    }

    /// An answer was read whole; how the connection is left. Bytes
    /// already there after the answer answer no request of ours (a
    /// pipelined or forged second answer): one answer per request, so the
    /// connection carries no other.
    fn finished(&mut self, keep_alive: bool) {
        if !keep_alive || self.send_broken.is_some() || self.filled > 0 {
            self.conn = Conn::None;
        }
    }

    fn login_done(
        &mut self,
        end: LoginEnd,
        head: Option<&ResponseHead>,
        now: u64,
        random: u32,
    ) -> Option<Out> {
        let LoginEnd {
            answer,
            keep_alive,
            cookie,
            message,
        } = end;
        self.finished(keep_alive);
        // The session is the configured origin's own: a login answered
        // by another origin (after a redirect) sets none.
        let cookie = cookie.filter(|_| !self.redirect.is_some_and(|r| r.other_origin));
        match self.link.session.on_login(answer, cookie) {
            Ok(()) => {
                // A redirect the login followed was the login's: the
                // request itself starts at the server.
                self.redirect = None;
                self.hops = 0;
                self.phase = Phase::Begin;
                None
            }
            Err(e) => self.answer_failed(e, message, head, now, random),
        }
    }

    fn call_done(
        &mut self,
        outcome: Result<(), Error>,
        keep: bool,
        message: Option<ApiMessage>,
        head: Option<&ResponseHead>,
        now: u64,
        random: u32,
    ) -> Option<Out> {
        self.finished(keep);
        match outcome {
            Ok(()) => {
                if self.sessions() && self.settings.auth == AuthMode::Session {
                    let _ = self.link.session.on_error_code(None);
                }
                Some(self.done(Ok(())))
            }
            Err(e) => {
                if let Some(out) = self.relogin(&e) {
                    return out;
                }
                self.retry_or_fail(e, message, head, now, random)
            }
        }
    }

    /// A 122 (or a raw 401) in session mode: log in again, once.
    fn relogin(&mut self, e: &Error) -> Option<Option<Out>> {
        let to_server = !self.redirect.is_some_and(|r| r.other_origin);
        let gone = e.api_code() == Some(ErrorCode::AuthenticationRequired)
            || (self.download && matches!(e, Error::HttpStatus { status: 401 }));
        if !(self.sessions()
            && gone
            && to_server
            && self.settings.auth == AuthMode::Session
            && !self.login)
        {
            return None;
        }
        match self
            .link
            .session
            .on_error_code(Some(ErrorCode::AuthenticationRequired))
        {
            Ok(SessionAction::ReloginAndRetry) => {
                self.redirect = None;
                self.hops = 0;
                if self.answer == Answer::Delivered {
                    self.pending = Some(Event::Relogin);
                    self.phase = Phase::Restarting(0);
                    Some(Some(Out::RestartSink))
                } else {
                    self.phase = Phase::Begin;
                    Some(Some(Out::Event(Event::Relogin)))
                }
            }
            Ok(SessionAction::Continue) => None,
            Err(e) => Some(Some(self.done(Err(e)))),
        }
    }

    /// The answer could not be read (or said failure at its head).
    fn answer_failed(
        &mut self,
        e: Error,
        message: Option<ApiMessage>,
        head: Option<&ResponseHead>,
        now: u64,
        random: u32,
    ) -> Option<Out> {
        if self.status.is_none() {
            self.status = head.map(|h| h.status);
        }
        // A reader refuses a 3xx as it refuses any status it does not
        // expect: it is a redirect to follow.
        if head.is_some_and(|h| h.is_redirect()) {
            return self.on_head(head);
        }
        // A broken or refused answer leaves the connection unusable.
        self.conn = Conn::None;
        if let Some(out) = self.relogin(&e) {
            return out;
        }
        self.retry_or_fail(e, message, head, now, random)
    }

    fn retry_or_fail(
        &mut self,
        e: Error,
        message: Option<ApiMessage>,
        head: Option<&ResponseHead>,
        now: u64,
        random: u32,
    ) -> Option<Out> {
        self.attempts = self.attempts.saturating_add(1);
        let (e, retryable) = crate::workflow::classify(head.map(|h| h.status), e);
        let hint = head.and_then(|h| h.retry_after).map(|s| {
            u64::from(s)
                .saturating_mul(1000)
                .min(self.settings.retry_after_cap_ms)
        });
        match self.retry.on_failure(now, retryable, random, hint) {
            RetryDecision::RetryAt(at) => {
                self.redirect = None;
                self.hops = 0;
                let event = Event::Retry {
                    attempt: self.attempts,
                    delay_ms: at.saturating_sub(now),
                    error: e,
                };
                if self.answer == Answer::Delivered {
                    self.pending = Some(event);
                    self.phase = Phase::Restarting(at);
                    Some(Out::RestartSink)
                } else {
                    self.phase = Phase::Waiting(at);
                    Some(Out::Event(event))
                }
            }
            RetryDecision::GiveUp => {
                self.phase = Phase::Over;
                // A failure envelope read whole leaves the connection usable.
                self.link.idle_connection = matches!(self.conn, Conn::Server { .. });
                self.outcome = Some(Err(Failure {
                    error: e,
                    attempts: self.attempts,
                    status: self.status,
                    message,
                }));
                Some(Out::Done)
            }
        }
    }

    /// The connection broke while sending or receiving.
    fn lost(&mut self, how: Transport) {
        self.conn = Conn::None;
        if self.on_reused && self.answer == Answer::Awaited && !self.reconnected {
            self.reconnected = true;
            self.pending = Some(Event::Reconnect);
            self.phase = Phase::Begin;
            return;
        }
        self.pending_error = Some(Error::Transport(how));
    }

    fn failure(&self, error: Error) -> Failure {
        Failure {
            error,
            attempts: self.attempts.max(1),
            status: self.status,
            message: None,
        }
    }

    /// Over, with this outcome (a success's output is the typed part's).
    fn done(&mut self, out: Result<(), Error>) -> Out {
        self.phase = Phase::Over;
        self.link.idle_connection = matches!(self.conn, Conn::Server { .. });
        let attempts = self.attempts.saturating_add(1);
        let status = self.status;
        self.outcome = Some(out.map_err(|error| Failure {
            error,
            attempts,
            status,
            message: None,
        }));
        Out::Done
    }
}

/// Boundary entropy: the caller's random bits mixed with a counter, so
/// two requests never share a boundary even with a poor random source.
fn entropy(random: u32, nonce: u32) -> [u8; 16] {
    let mut e = [0u8; 16];
    for (i, b) in e.iter_mut().enumerate() {
        let word = if i < 8 { random } else { nonce };
        let shift = u32::try_from(i & 3).unwrap_or(0).wrapping_mul(8);
        *b = (word >> shift) as u8 ^ (i as u8).wrapping_mul(0x9d);
    }
    e
}

/// Spans of an absolute `http(s)://host[:port]/target` URL.
fn parse_url(url: &str) -> Option<Redirected> {
    let b = url.as_bytes();
    let starts = |p: &[u8]| {
        b.len() >= p.len() && b.get(..p.len()).is_some_and(|x| x.eq_ignore_ascii_case(p))
    };
    let (https, rest_at) = if starts(b"https://") {
        (true, 8)
    } else if starts(b"http://") {
        (false, 7)
    } else {
        return None;
    };
    let rest = b.get(rest_at..)?;
    let auth_len = rest
        .iter()
        .position(|&c| c == b'/' || c == b'?' || c == b'#')
        .unwrap_or(rest.len());
    let authority = rest.get(..auth_len)?;
    // Byte loops, not `contains` (core/FIRMWARE.md).
    if authority.is_empty() || authority.iter().any(|&c| c == b'@') {
        return None;
    }
    // host, then an optional :port (after an IPv6 literal's `]`).
    let colon = match authority.iter().rposition(|&c| c == b':') {
        Some(i) if !authority.get(i..)?.iter().any(|&c| c == b']') => Some(i),
        _ => None,
    };
    let (host_len, port) = match colon {
        Some(i) => {
            let digits = authority.get(i.saturating_add(1)..)?;
            (i, parse_port(digits)?)
        }
        None => (auth_len, if https { 443 } else { 80 }),
    };
    if host_len == 0 {
        return None;
    }
    let target_at = rest_at.saturating_add(auth_len);
    let mut target_end = b.len();
    if let Some(h) = b.get(target_at..)?.iter().position(|&c| c == b'#') {
        target_end = target_at.saturating_add(h);
    }
    Some(Redirected {
        https,
        host: (rest_at, rest_at.saturating_add(host_len)),
        port,
        target: (target_at, target_end),
        as_get: false,
        other_origin: false,
    })
}

fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 {
        return None;
    }
    let mut v: u32 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v
            .saturating_mul(10)
            .saturating_add(u32::from(d.saturating_sub(b'0')));
    }
    u16::try_from(v).ok().filter(|&p| p > 0)
}

/// Whether `b` starts with a URI scheme (`name:` before any `/?#`).
fn has_scheme(b: &[u8]) -> bool {
    for (i, &c) in b.iter().enumerate() {
        match c {
            b':' => return i > 0,
            b'/' | b'?' | b'#' => return false,
            c if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.') => {}
            _ => return false,
        }
    }
    false
}

/// `loc` as an absolute URL in `out`: as it is, or joined to the origin
/// (and, for a path-relative one, the directory of `current_target`).
/// Scanned byte by byte: string searching would bring its search
/// routines into firmware.
fn absolute<const N: usize>(
    loc: &str,
    origin: Origin<'_>,
    current_target: &str,
    out: &mut heapless::String<N>,
) -> Result<(), Error> {
    let too_long = |_| Error::BadRedirect(text!("Location too long"));
    let l = loc.trim_ascii();
    let b = l.as_bytes();
    if parse_url(l).is_some() {
        return out.push_str(l).map_err(too_long);
    }
    if b.starts_with(b"//") || has_scheme(b) {
        return Err(Error::BadRedirect(text!("not an http(s) URL")));
    }
    out.push_str(if origin.https { "https://" } else { "http://" })
        .map_err(too_long)?;
    origin.authority(out).map_err(too_long)?;
    if !b.starts_with(b"/") {
        // The current target's directory: up to its last `/` before any
        // query (positions of ASCII bytes, so the slice is a `str`).
        let t = current_target.as_bytes();
        let path_end = t
            .iter()
            .position(|&c| c == b'?' || c == b'#')
            .unwrap_or(t.len());
        let dir_end = t
            .get(..path_end)
            .and_then(|p| p.iter().rposition(|&c| c == b'/'))
            .map_or(0, |i| i.saturating_add(1));
        out.push_str(
            current_target
                .get(..dir_end)
                .filter(|d| !d.is_empty())
                .unwrap_or("/"),
        )
        .map_err(too_long)?;
    }
    out.push_str(l).map_err(too_long)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_and_urls() {
        let o = |a, https| Origin::from_authority(a, https).map(|o| (o.host, o.port));
        assert_eq!(
            o("analysis.lastline.com", true),
            Some(("analysis.lastline.com", 443))
        );
        assert_eq!(o("127.0.0.1:8642", false), Some(("127.0.0.1", 8642)));
        assert_eq!(o("[::1]:8642", false), Some(("[::1]", 8642)));
        assert_eq!(o("[::1]", true), Some(("[::1]", 443)));
        assert_eq!(o("h:99999", true), None);
        assert_eq!(o(":80", true), None);
        let u = parse_url("HTTPS://cdn.example:8443/a/b?x=1#frag").unwrap();
        let url = "HTTPS://cdn.example:8443/a/b?x=1#frag";
        assert!(u.https && u.port == 8443);
        assert_eq!(&url[u.host.0..u.host.1], "cdn.example");
        assert_eq!(&url[u.target.0..u.target.1], "/a/b?x=1");
        for bad in ["ftp://x/", "http://user@x/", "http:///p", "http://x:0/"] {
            assert!(parse_url(bad).is_none(), "{bad}");
        }
        let mut out = heapless::String::<128>::new();
        let here = Origin {
            https: false,
            host: "h",
            port: 81,
        };
        absolute("next?y=2", here, "/dir/file?q", &mut out).unwrap();
        assert_eq!(out.as_str(), "http://h:81/dir/next?y=2");
        out.clear();
        absolute("/root", here, "/dir/file", &mut out).unwrap();
        assert_eq!(out.as_str(), "http://h:81/root");
        assert!(absolute(
            "//evil.example/x",
            here,
            "/",
            &mut heapless::String::<128>::new()
        )
        .is_err());
    }
}
