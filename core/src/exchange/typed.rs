//! The typed half: the answer's reader (a call's envelope, a download,
//! the login's), fed from the machine's buffer through the decoder's
//! object-safe face, so what is copied per method is a few short shims.

use crate::decoders::StringData;
use crate::envelope::{DataDecoder, DecoderVisitor, Visitor};
use crate::error::{Error, Transport};
use crate::http::ResponseHead;
use crate::response::{EnvelopeResponse, Progress, RawResponse, ResponseState};

use super::machine::{Answer, LoginEnd, Machine, Seen};
use super::BodyTap;

/// The answer's reader.
pub(super) enum Reader<D: DataDecoder, const N: usize> {
    /// Before the first attempt.
    Idle,
    Call(EnvelopeResponse<D, N>),
    Download(RawResponse),
    Login(EnvelopeResponse<StringData, 64>),
}

/// The typed half of an exchange: the answer's reader, what the reader
/// produced. Only what needs the method's types is here: the machine holds
/// the request through the encoder's object-safe face, and feeding and
/// closing the reader go through the decoder's (`Visitor`), so what is
/// copied per method is a few short shims.
pub(super) struct Part<'x, D: DataDecoder, const N: usize, const S: bool> {
    pub(super) reader: Reader<D, N>,
    pub(super) output: Option<D::Output>,
    /// A list entry the reader produced, for the typed caller to take.
    pub(super) item: Option<D::Item>,
    /// Where list entries go when the exchange is driven ([`Driven`]).
    pub(super) each: Option<&'x mut dyn FnMut(D::Item)>,
    /// Where a call's body goes as it is read, if anywhere.
    pub(super) tap: Option<&'x mut dyn BodyTap>,
}

/// The typed half as the policy's loop sees it: behind this trait the loop
/// ([`advance`]) is not generic and exists once in a binary.
pub(super) trait Typed {
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
pub(super) struct ItemReady;

impl<D: DataDecoder + Default, const N: usize, const S: bool> Part<'_, D, N, S> {
    /// A success's output (a download's is the empty one of its decoder).
    pub(super) fn take_output(&mut self) -> Result<D::Output, Error> {
        match self.output.take() {
            Some(out) => Ok(out),
            None => D::default().finish(),
        }
    }
}

/// What a call's reader saw, with the method's decoder finishing a success
/// and keeping a list entry: the only per-method part of reading.
pub(super) fn settle<D: DataDecoder>(
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
pub(super) fn feed_envelope(
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
        Ok((n, Progress::NeedMore)) => (n, Seen::NeedMore),
        Ok((n, Progress::Head)) => (n, Seen::Head),
        Ok((n, Progress::Item(()))) => (n, Seen::Item),
        Ok((n, Progress::Done)) => {
            let (keep, message) = (state.keep_alive(), state.api_message());
            (n, Seen::End(state.outcome(data_optional), keep, message))
        }
    };
    m.filled = crate::buffer::move_to_front(m.buf, used.min(m.filled), m.filled);
    seen
}

/// Closes a call's reader at the connection's end (not generic).
#[inline(never)]
pub(super) fn close_envelope(
    state: &mut ResponseState,
    units: &mut [u8],
    v: &mut dyn Visitor,
    data_optional: bool,
) -> Seen {
    match state.close(units, v) {
        Ok(Progress::Done) => {
            let message = state.api_message();
            Seen::End(state.outcome(data_optional), false, message)
        }
        Ok(_) => Seen::Failed(Error::Transport(Transport::Closed), None),
        Err(e) => Seen::Failed(e, None),
    }
}

/// Feeds the login's reader: a call's (its answer a string), the session
/// cookie taken from the head at the end.
#[inline(never)]
pub(super) fn feed_login(m: &mut Machine<'_>, r: &mut EnvelopeResponse<StringData, 64>) -> Seen {
    let (state, units, data) = r.parts();
    let mut v = DecoderVisitor::new(data);
    let seen = feed_envelope(m, state, units, &mut v, StringData::DATA_OPTIONAL, None);
    login_seen(seen, state, data)
}

/// What the login's reader saw, as the login's end once it ended.
pub(super) fn login_seen(seen: Seen, state: &ResponseState, data: &mut StringData) -> Seen {
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
pub(super) fn feed_raw(m: &mut Machine<'_>, r: &mut RawResponse) -> Seen {
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
    m.filled = crate::buffer::move_to_front(m.buf, used.min(m.filled), m.filled);
    seen
}

/// Closes the login's reader at the connection's end.
#[inline(never)]
pub(super) fn close_login(r: &mut EnvelopeResponse<StringData, 64>) -> Seen {
    let (state, units, data) = r.parts();
    let mut v = DecoderVisitor::new(data);
    let seen = close_envelope(state, units, &mut v, StringData::DATA_OPTIONAL);
    login_seen(seen, state, data)
}

/// Closes a download's reader at the connection's end.
#[inline(never)]
pub(super) fn close_raw(r: &mut RawResponse) -> Seen {
    match r.close() {
        Ok(()) => Seen::Closed,
        Err(e) => Seen::Failed(e, None),
    }
}

pub(super) fn head_of<D: DataDecoder, const N: usize>(r: &Reader<D, N>) -> Option<&ResponseHead> {
    match r {
        Reader::Call(r) => r.head(),
        Reader::Login(r) => r.head(),
        Reader::Download(r) => r.head(),
        Reader::Idle => None,
    }
}
