//! What an answer means to the policy: read on, follow a redirect, log in
//! again, retry ([`crate::workflow::classify`]) or end.

use crate::api_error::{ApiMessage, ErrorCode};
use crate::error::{Error, Transport};
use crate::http::ResponseHead;
use crate::workflow::{RetryDecision, SessionAction};

use super::machine::{Answer, Conn, LoginEnd, Machine, Out, PeerEnd, Phase, Seen};
use super::outcome::{Event, Failure};
use super::settings::AuthMode;

impl Machine<'_> {
    /// What the reader found; `None` when more polling is needed.
    #[inline(never)]
    pub(super) fn seen(
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

    pub(super) fn read_more(&mut self) -> Option<Out> {
        if self.filled >= self.buf.len() {
            return Some(self.done(Err(Error::BufferTooSmall {
                capacity: self.buf.len(),
            })));
        }
        Some(Out::Read)
    }

    /// An answer was read whole; how the connection is left. Bytes
    /// already there after the answer answer no request of ours (a
    /// pipelined or forged second answer): one answer per request, so the
    /// connection carries no other.
    pub(super) fn finished(&mut self, keep_alive: bool) {
        if !keep_alive || self.send_broken.is_some() || self.filled > 0 {
            self.conn = Conn::None;
        }
    }

    pub(super) fn login_done(
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

    pub(super) fn call_done(
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
    pub(super) fn relogin(&mut self, e: &Error) -> Option<Option<Out>> {
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
    pub(super) fn answer_failed(
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

    pub(super) fn retry_or_fail(
        &mut self,
        e: Error,
        message: Option<ApiMessage>,
        head: Option<&ResponseHead>,
        now: u64,
        random: u32,
    ) -> Option<Out> {
        self.attempts = self.attempts.saturating_add(1);
        // The answer's head, or — the connection lost after it — what the
        // machine kept of it.
        let status = head.map(|h| h.status).or(self.status);
        let (e, retryable) = crate::workflow::classify(status, e);
        let retry_after = head.and_then(|h| h.retry_after).or(self.retry_after);
        let hint = retry_after.map(|s| {
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
}
