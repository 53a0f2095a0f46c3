//! The policy's machine without the method's types: the phases of an
//! attempt (connect, log in, send, receive, wait), what the driver reports
//! (written, read, failed), and how an exchange ends.

use crate::api_error::ApiMessage;
use crate::error::{Error, Transport};
use crate::http::{Describe, EncodePosition, EncodeStep, RequestEncoder};
use crate::workflow::RetryState;

use super::outcome::{Event, Failure};
use super::redirect::{config, Redirected, LOCATION_CAPACITY};
use super::settings::{AuthMode, Link, Settings};

/// Where an exchange stands (the diagram in the module's doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
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
pub(super) enum Answer {
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
pub(super) enum PeerEnd {
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
pub(super) enum Conn {
    None,
    /// To the server; `used`: it carried a request before this one.
    Server {
        used: bool,
    },
    /// To another origin (a redirect's).
    Other,
}

/// A step before it borrows the exchange (list entries aside).
#[derive(Debug)]
pub(super) enum Out {
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
pub(super) enum Ask {
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
pub(super) struct LoginEnd {
    pub(super) answer: Result<(), Error>,
    pub(super) keep_alive: bool,
    pub(super) cookie: Option<crate::auth::SessionCookie>,
    /// A refusal's words.
    pub(super) message: Option<ApiMessage>,
}

/// What the reader found, without its types: a call's output stays with
/// the typed part.
pub(super) enum Seen {
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
pub(super) struct Machine<'x> {
    pub(super) settings: &'x Settings<'x>,
    pub(super) link: &'x mut Link,
    pub(super) buf: &'x mut [u8],
    /// The request, through the encoder's object-safe face.
    pub(super) req: &'x dyn Describe,
    /// The login request, in clients that log in (`None`: the login's code
    /// is not in the binary).
    pub(super) login_req: Option<&'x dyn Describe>,
    pub(super) filled: usize,
    /// Bytes of `buf` to drop at the next poll (handed out as `Data`).
    pub(super) consume: usize,
    pub(super) download: bool,
    pub(super) login: bool,
    pub(super) phase: Phase,
    pub(super) conn: Conn,
    pub(super) retry: RetryState,
    pub(super) attempts: u32,
    pub(super) reconnected: bool,
    /// The request went out on a connection that carried one before.
    pub(super) on_reused: bool,
    /// How far this attempt's answer got.
    pub(super) answer: Answer,
    pub(super) hops: u8,
    pub(super) redirect: Option<Redirected>,
    pub(super) location: heapless::String<LOCATION_CAPACITY>,
    pub(super) status: Option<u16>,
    /// The attempt's answer's `Retry-After` (seconds), kept from its head:
    /// a connection lost after the head still waits as the server asked.
    pub(super) retry_after: Option<u32>,
    pub(super) entropy: [u8; 16],
    pub(super) pos: EncodePosition,
    pub(super) pending: Option<Event>,
    /// A failure the driver reported, handled at the next poll.
    pub(super) pending_error: Option<Error>,
    pub(super) end: PeerEnd,
    /// Writing failed: the server may still have answered (a 413 before
    /// the whole upload arrived), so the answer is read before giving up.
    pub(super) send_broken: Option<Transport>,
    /// Once over: success (the output is the typed part's), or the failure.
    pub(super) outcome: Option<Result<(), Failure>>,
}

/// Boundary entropy: the caller's random bits mixed with a counter, so
/// two requests never share a boundary even with a poor random source.
pub(super) fn entropy(random: u32, nonce: u32) -> [u8; 16] {
    let mut e = [0u8; 16];
    for (i, b) in e.iter_mut().enumerate() {
        let word = if i < 8 { random } else { nonce };
        let shift = u32::try_from(i & 3).unwrap_or(0).wrapping_mul(8);
        *b = (word >> shift) as u8 ^ (i as u8).wrapping_mul(0x9d);
    }
    e
}

impl<'x> Machine<'x> {
    pub(super) fn new(
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
            retry_after: None,
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
    pub(super) fn sessions(&self) -> bool {
        self.login_req.is_some()
    }

    /// The next piece of the request (or the login) into the buffer.
    #[inline(never)]
    pub(super) fn encode(&mut self) -> Result<EncodeStep, Error> {
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
    pub(super) fn failed(&mut self, how: Transport) {
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
    pub(super) fn received(&mut self, n: usize) {
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
    pub(super) fn next(&mut self, now_ms: u64, random: u32) -> Ask {
        if self.consume > 0 {
            let n = core::mem::take(&mut self.consume);
            self.filled = crate::buffer::move_to_front(self.buf, n.min(self.filled), self.filled);
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
    pub(super) fn begin(&mut self, random: u32) -> Ask {
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
        self.retry_after = None;
        self.phase = Phase::Sending;
        Ask::NewReader
    }

    /// What the encoder produced.
    #[inline(never)]
    pub(super) fn encoded(&mut self, step: Result<EncodeStep, Error>) -> Option<Out> {
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

    /// The connection broke while sending or receiving.
    pub(super) fn lost(&mut self, how: Transport) {
        self.conn = Conn::None;
        if self.on_reused && self.answer == Answer::Awaited && !self.reconnected {
            self.reconnected = true;
            self.pending = Some(Event::Reconnect);
            self.phase = Phase::Begin;
            return;
        }
        self.pending_error = Some(Error::Transport(how));
    }

    pub(super) fn failure(&self, error: Error) -> Failure {
        Failure {
            error,
            attempts: self.attempts.max(1),
            status: self.status,
            message: None,
        }
    }

    /// Over, with this outcome (a success's output is the typed part's).
    pub(super) fn done(&mut self, out: Result<(), Error>) -> Out {
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
