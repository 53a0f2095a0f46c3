//! The driving loop: the policy run to its next step, and an exchange
//! driven through `dyn Drive` (list entries to a callback, the output kept
//! aside) so a driver's I/O loop exists once in a binary.

use crate::envelope::DataDecoder;
use crate::error::{Error, Transport};
use crate::request::Request;

use super::machine::{Ask, Machine, Out};
use super::typed::{ItemReady, Typed};
use super::{BodyTap, Exchange, Step};

/// Runs the policy to the next step (not generic: once in a binary).
#[inline(never)]
pub(super) fn advance(
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
    pub(super) ex: Exchange<'x, R, D, N, S>,
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
pub(super) fn drive<'a>(
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
pub(super) fn render<'a>(
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
