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

crate::client::client!(,);
