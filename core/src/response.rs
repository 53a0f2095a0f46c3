//! Whole responses: HTTP head and framing, then either a JSON envelope
//! decoded in units ([`EnvelopeResponse`]) or a raw download passed through
//! in pieces ([`RawResponse`]), with failures turned into typed errors.

use crate::decoders::NoData;
use crate::envelope::{
    units_decode, DataDecoder, DecoderVisitor, EnvelopeDecoder, EnvelopeState, UnitBuffer, Visitor,
};
use crate::error::Error;
use crate::error::JsonError;
use crate::http::{ContentType, ResponseDecoder, ResponseHead};
use crate::json::Reader;

/// Largest body accepted for an envelope unless set otherwise (the body is
/// streamed, so this bounds time, not memory).
pub const DEFAULT_ENVELOPE_LIMIT: u64 = 256 * 1024 * 1024;

// The status table lives with the error that shows it (no module cycle:
// `error` needs nothing of the readers); its public path stays here.
pub use crate::error::{status_error, status_meaning};

pub use crate::progress::Progress;

/// Reads a response whose body is a JSON envelope decoded by `D`, using a
/// unit buffer of `N` bytes (the largest member or list entry it can hold).
#[derive(Debug)]
pub struct EnvelopeResponse<D: DataDecoder, const N: usize> {
    data: D,
    state: ResponseState,
    units: [u8; N],
}

/// What sees a body's bytes as they go to the decoder (the exchange's
/// `BodyTap` behind a closure).
pub(crate) type BodyBytes<'t> = &'t mut dyn FnMut(&[u8]);

/// Everything of a response reader but the method's decoder and the
/// buffer's size, so its code exists once in a binary.
#[derive(Debug)]
pub(crate) struct ResponseState {
    http: ResponseDecoder,
    core: EnvelopeState,
    held: usize,
    stage: Stage,
}

/// How far a call's body has been read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Nothing but white space yet: is the body an envelope at all?
    Sniffing,
    /// The envelope's units are decoded as the body arrives.
    Decoding,
    /// The body ended: the units held are decoded to the envelope's end.
    BodyEnded,
    /// The envelope ended: the rest of the body may only be white space.
    Trailing,
    /// Both ended.
    Done,
    /// Not an envelope: refused.
    Refused,
}

impl<D: DataDecoder + Default, const N: usize> Default for EnvelopeResponse<D, N> {
    fn default() -> Self {
        Self::new(D::default())
    }
}

impl<D: DataDecoder, const N: usize> EnvelopeResponse<D, N> {
    /// A reader before the response's first byte.
    pub fn new(data: D) -> Self {
        Self::with_limit(data, DEFAULT_ENVELOPE_LIMIT)
    }

    /// A reader that refuses bodies over `limit` bytes.
    pub fn with_limit(data: D, limit: u64) -> Self {
        Self {
            data,
            state: ResponseState::new(limit),
            units: [0; N],
        }
    }

    /// The head, once read.
    pub fn head(&self) -> Option<&ResponseHead> {
        self.state.head()
    }

    /// Whether the connection can be reused after this response.
    pub fn keep_alive(&self) -> bool {
        self.state.keep_alive()
    }

    /// Feeds bytes read from the connection; returns how many were
    /// consumed and what was found. Pass unconsumed bytes again with more.
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, Progress<D::Item>), Error> {
        let mut slot = DecoderVisitor::new(&mut self.data);
        let (n, found) = self.state.feed(input, &mut self.units, &mut slot, None)?;
        Ok((n, to_progress(found, &mut slot)))
    }

    /// The connection closed: ends a close-delimited body.
    pub fn close(&mut self) -> Result<Progress<D::Item>, Error> {
        let mut slot = DecoderVisitor::new(&mut self.data);
        let found = self.state.close(&mut self.units, &mut slot)?;
        Ok(to_progress(found, &mut slot))
    }

    /// A failure envelope's message, for people, once the response was
    /// read ([`Self::finish`] returns the code as [`Error::Api`]).
    pub fn api_message(&self) -> Option<crate::ApiMessage> {
        self.state.api_message()
    }

    /// The decoded data, after [`Progress::Done`]: a failure envelope is
    /// [`Error::Api`].
    pub fn finish(&mut self) -> Result<D::Output, Error> {
        self.state.outcome(D::DATA_OPTIONAL)?;
        self.data.finish()
    }

    /// The reader's parts: its non-generic state, its unit buffer and the
    /// method's decoder (for the exchange machine, whose reading is then
    /// not generic).
    pub(crate) fn parts(&mut self) -> (&mut ResponseState, &mut [u8], &mut D) {
        (&mut self.state, &mut self.units, &mut self.data)
    }
}

impl ResponseState {
    /// The head, once read.
    pub(crate) fn head(&self) -> Option<&ResponseHead> {
        self.http.head()
    }

    /// Whether the connection can be reused after this response.
    pub(crate) fn keep_alive(&self) -> bool {
        self.http.head().is_some_and(|h| h.keep_alive)
    }

    /// A failure envelope's message.
    pub(crate) fn api_message(&self) -> Option<crate::ApiMessage> {
        self.core.api_message()
    }
}

fn to_progress<D: DataDecoder>(
    found: Progress<()>,
    slot: &mut DecoderVisitor<'_, D>,
) -> Progress<D::Item> {
    match (found, slot.entries.take()) {
        (Progress::Item(()), Some(item)) => Progress::Item(item),
        (Progress::Head, _) => Progress::Head,
        (Progress::Done, _) => Progress::Done,
        _ => Progress::NeedMore,
    }
}

impl ResponseState {
    /// Not inlined: a reader for each method then shares one copy of this
    /// sizable initialisation.
    #[inline(never)]
    fn new(limit: u64) -> Self {
        Self {
            http: ResponseDecoder::new().with_body_limit(limit),
            core: EnvelopeState::new(),
            held: 0,
            stage: Stage::Sniffing,
        }
    }

    /// Whether the response ended in a success envelope (not generic).
    #[inline(never)]
    pub(crate) fn outcome(&mut self, data_optional: bool) -> Result<(), Error> {
        if self.stage != Stage::Done {
            return Err(Error::WorkflowMisuse(text!(
                "finish before the response ended"
            )));
        }
        self.core.outcome(data_optional)
    }

    /// The connection closed (not generic, so it exists once).
    #[inline(never)]
    pub(crate) fn close(
        &mut self,
        units: &mut [u8],
        v: &mut dyn Visitor,
    ) -> Result<Progress<()>, Error> {
        self.http.close()?;
        self.body_ended()?;
        let (_, found) = self.feed(&[], units, v, None)?;
        Ok(found)
    }

    /// Feeds `input`; `tap`, if any, sees every byte of the body as it
    /// goes to the decoder (de-framed: no chunk sizes).
    pub(crate) fn feed(
        &mut self,
        input: &[u8],
        units: &mut [u8],
        v: &mut dyn Visitor,
        mut tap: Option<BodyBytes<'_>>,
    ) -> Result<(usize, Progress<()>), Error> {
        let mut used = 0usize;
        loop {
            if self.stage == Stage::Done {
                return Ok((used, Progress::Done));
            }
            // Decode what the unit buffer holds before taking more bytes.
            let decoding = matches!(self.stage, Stage::Decoding | Stage::BodyEnded);
            if self.http.head().is_some() && decoding {
                match units_decode(units, &mut self.held, &mut self.core, v)? {
                    Progress::Item(()) => return Ok((used, Progress::Item(()))),
                    Progress::Done => {
                        self.stage = match self.stage {
                            Stage::BodyEnded => Stage::Done,
                            _ => Stage::Trailing,
                        };
                        if !units
                            .get(..self.held)
                            .unwrap_or(&[])
                            .trim_ascii()
                            .is_empty()
                        {
                            return Err(Error::json("envelope", JsonError::TrailingData));
                        }
                        continue;
                    }
                    // Below the head: never `Head`.
                    Progress::NeedMore | Progress::Head => {
                        if self.stage == Stage::BodyEnded {
                            return Err(Error::json(
                                "envelope",
                                JsonError::Syntax(text!("more JSON before the body ended")),
                            ));
                        }
                    }
                }
            }
            let rest = input.get(used..).unwrap_or(&[]);
            let room = if self.stage == Stage::Trailing {
                usize::MAX
            } else {
                units.len().saturating_sub(self.held)
            };
            let (n, ev) = self.http.decode(rest, room)?;
            used = used.saturating_add(n);
            match ev {
                Progress::NeedMore => return Ok((used, Progress::NeedMore)),
                Progress::Head => {
                    if self.http.head().is_some_and(|h| h.status == 413) {
                        return Err(Error::PayloadTooLarge);
                    }
                    return Ok((used, Progress::Head));
                }
                Progress::Item(bytes) => {
                    if let Some(tap) = tap.as_mut() {
                        tap(bytes);
                    }
                    if self.stage == Stage::Trailing {
                        if !bytes.trim_ascii().is_empty() {
                            return Err(Error::json("envelope", JsonError::TrailingData));
                        }
                        continue;
                    }
                    crate::buffer::push(units, &mut self.held, bytes);
                    self.sniff(units)?;
                }
                Progress::Done => self.body_ended()?,
            }
        }
    }

    /// The HTTP body ended: an envelope's units are decoded to its end; a
    /// body that never showed one is refused.
    fn body_ended(&mut self) -> Result<(), Error> {
        self.stage = match self.stage {
            Stage::Sniffing => {
                self.stage = Stage::Refused;
                return Err(self.not_envelope());
            }
            Stage::Decoding => Stage::BodyEnded,
            Stage::Trailing => Stage::Done,
            other => other,
        };
        Ok(())
    }

    fn not_envelope(&self) -> Error {
        let (status, content_type) = self
            .http
            .head()
            .map_or((0, ContentType::Missing), |h| (h.status, h.content_type));
        if status >= 300 {
            status_error(status)
        } else {
            Error::NotAnEnvelope {
                status,
                content_type,
            }
        }
    }

    fn sniff(&mut self, units: &[u8]) -> Result<(), Error> {
        if self.stage != Stage::Sniffing {
            return Ok(());
        }
        match units
            .get(..self.held)
            .unwrap_or(&[])
            .iter()
            .find(|b| !b.is_ascii_whitespace())
        {
            None => Ok(()),
            Some(b'{') => {
                self.stage = Stage::Decoding;
                Ok(())
            }
            Some(_) => {
                self.stage = Stage::Refused;
                Err(self.not_envelope())
            }
        }
    }
}

/// What a raw download yields: [`Progress::Head`] once the head says a
/// download follows (inspect it with `head()`), [`Progress::Item`] with
/// the next bytes of the download (a sub-slice of the input, or the start
/// of a JSON download the reader held back while telling it from a failure
/// envelope), [`Progress::Done`] at its end.
pub type RawEvent<'a> = Progress<&'a [u8]>;

#[derive(Debug, PartialEq, Eq)]
enum RawMode {
    Head,
    /// Buffering the start of a JSON body to see whether it is a failure
    /// envelope.
    Sniff,
    /// A download whose first bytes the reader holds: they go out next.
    Held,
    Download,
    Envelope,
}

/// Reads a raw download (artifact, PDF report, exported report, IOC
/// report). Documented failure statuses (401, 404, 410, 412, 413, 422) and
/// 5xx become [`Error::HttpStatus`]; a failure envelope becomes
/// [`Error::Api`]; a success envelope (get_ioc_report's contents are "as
/// get_results") is the download's data, like any other document.
#[derive(Debug)]
pub struct RawResponse {
    http: ResponseDecoder,
    mode: RawMode,
    drain_held: bool,
    env: EnvelopeDecoder<NoData>,
    units: UnitBuffer<512>,
    /// A failure envelope's message, once one was read.
    message: Option<crate::ApiMessage>,
}

impl Default for RawResponse {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether the JSON that starts a download's body is a failure envelope
/// (`Some(true)`), the download itself (`Some(false)`: any other document,
/// and a success envelope, whose only meaning is success), or not yet
/// known (`None`: more bytes needed).
fn envelope_key(held: &[u8]) -> Option<bool> {
    let mut r = Reader::new(held);
    match r.peek() {
        Ok(b'{') => {}
        Ok(_) => return Some(false),
        Err(_) => return None,
    }
    let _ = r.expect(b'{', "body", text!("'{'"));
    let mut scratch = crate::json::KeyBuf::new();
    match r.key("body", &mut scratch) {
        Ok(k) if k.as_str() == "success" => {}
        Ok(k) if matches!(k.as_str(), "error_code" | "error") => return Some(true),
        Ok(_) => return Some(false),
        Err(crate::json::Fail::Incomplete) => return None,
        Err(_) => return Some(false),
    }
    match r.flag("success") {
        Ok(success) => Some(!success),
        Err(crate::json::Fail::Incomplete) => None,
        // A `success` that is not a flag: the envelope's reader says what.
        Err(_) => Some(true),
    }
}

impl RawResponse {
    /// A reader before the response's first byte.
    pub fn new() -> Self {
        Self {
            http: ResponseDecoder::new(),
            mode: RawMode::Head,
            drain_held: false,
            env: EnvelopeDecoder::new(NoData),
            units: UnitBuffer::default(),
            message: None,
        }
    }

    /// A failure envelope's message, for people, after the reader
    /// returned its [`Error::Api`].
    pub fn api_message(&self) -> Option<crate::ApiMessage> {
        self.message.clone()
    }

    /// The head, once read: `filename` holds the download's name.
    pub fn head(&self) -> Option<&ResponseHead> {
        self.http.head()
    }

    /// Whether the connection can be reused after this response.
    pub fn keep_alive(&self) -> bool {
        self.http.head().is_some_and(|h| h.keep_alive)
    }

    /// Feeds bytes read from the connection. The event may borrow the
    /// input or bytes the reader held back; use it before the next call.
    pub fn feed<'s>(&'s mut self, input: &'s [u8]) -> Result<(usize, RawEvent<'s>), Error> {
        if self.drain_held {
            self.units = UnitBuffer::default();
            self.drain_held = false;
        }
        if self.mode == RawMode::Held {
            self.mode = RawMode::Download;
            self.drain_held = true;
            return Ok((0, Progress::Item(self.units.held())));
        }
        let mut used = 0usize;
        loop {
            let rest = input.get(used..).unwrap_or(&[]);
            let room = match self.mode {
                RawMode::Download | RawMode::Head | RawMode::Held => usize::MAX,
                RawMode::Sniff | RawMode::Envelope => self.units.space(),
            };
            let (n, ev) = self.http.decode(rest, room)?;
            used = used.saturating_add(n);
            match ev {
                Progress::NeedMore => return Ok((used, Progress::NeedMore)),
                Progress::Head => {
                    let (status, json) = self.http.head().map_or((0, false), |h| {
                        (h.status, h.content_type == ContentType::Json)
                    });
                    if status == 413 {
                        return Err(Error::PayloadTooLarge);
                    }
                    self.mode = if json {
                        RawMode::Sniff
                    } else if (200..300).contains(&status) {
                        RawMode::Download
                    } else {
                        return Err(status_error(status));
                    };
                    if self.mode == RawMode::Download {
                        return Ok((used, Progress::Head));
                    }
                }
                Progress::Item(bytes) => match self.mode {
                    RawMode::Download => return Ok((used, Progress::Item(bytes))),
                    RawMode::Sniff | RawMode::Envelope => {
                        self.units.push(bytes);
                        if self.mode == RawMode::Sniff {
                            match envelope_key(self.units.held()) {
                                None => {}
                                Some(true) => self.mode = RawMode::Envelope,
                                Some(false) => return self.json_download(used),
                            }
                        }
                        if self.mode == RawMode::Envelope {
                            if let Progress::Done = self.units.decode(&mut self.env)? {
                                return Err(self.envelope_error());
                            }
                        }
                    }
                    RawMode::Head | RawMode::Held => {}
                },
                Progress::Done => {
                    return match self.mode {
                        RawMode::Envelope | RawMode::Sniff => {
                            let _ = self.units.decode(&mut self.env);
                            Err(self.envelope_error())
                        }
                        _ => Ok((used, Progress::Done)),
                    };
                }
            }
        }
    }

    /// The connection closed: ends a close-delimited download.
    pub fn close(&mut self) -> Result<(), Error> {
        self.http.close()
    }

    /// The bytes the last [`Progress::Item`] handed out when they were
    /// ones the reader held back (empty otherwise), until the next feed.
    pub fn held(&self) -> &[u8] {
        if self.drain_held {
            self.units.held()
        } else {
            &[]
        }
    }

    fn json_download(&mut self, used: usize) -> Result<(usize, RawEvent<'static>), Error> {
        // A JSON document that is not an envelope is the download itself;
        // what was held to tell is handed out by the next call.
        let status = self.http.head().map_or(0, |h| h.status);
        if !(200..300).contains(&status) {
            return Err(status_error(status));
        }
        self.mode = RawMode::Held;
        Ok((used, Progress::Head))
    }

    fn envelope_error(&mut self) -> Error {
        let status = self.http.head().map_or(0, |h| h.status);
        let env = core::mem::replace(&mut self.env, EnvelopeDecoder::new(NoData));
        self.message = env.api_message();
        match env.finish() {
            Err(e @ Error::Api(_)) => e,
            _ if !(200..300).contains(&status) => status_error(status),
            Ok(()) => Error::BadEnvelope(text!("a download answered with a success envelope")),
            Err(e) => e,
        }
    }
}
