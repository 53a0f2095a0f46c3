//! The API's JSON envelope, decoded in units as bytes arrive.
//!
//! `{"success": 1, "data": {...}}` or `{"success": 0, "error_code": N,
//! "error": "..."}`, members in any order. A [`DataDecoder`] per method
//! reads the members of `data` it knows into fixed-capacity values, has
//! lists handed to it one entry at a time (so a list of any length needs
//! only room for one entry), and leaves everything else to a [`Skipper`]
//! (so a multi-megabyte `report` costs no memory).

use crate::api_error::{ApiError, ApiMessage, ErrorCode, MESSAGE_CAPACITY};
use crate::error::{Error, JsonError};
use crate::json::{Fail, KeyBuf, Reader, Skipper};
use crate::progress::Progress;

/// How a decoder wants a member of `data` treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The decoder read the value.
    Read,
    /// Hand the entries of this array (named for errors) to
    /// [`DataDecoder::element`] one by one.
    List(&'static str),
    /// Hand the members of this object to [`DataDecoder::element`] one by
    /// one, with their keys.
    Map(&'static str),
    /// Either an array or an object (`get_completed` sends both).
    ListOrMap(&'static str),
    /// As [`Field::Map`], for a map whose values' shape the reference
    /// leaves open: an entry too large for the unit buffer is skipped
    /// whole, whatever its size, and [`DataDecoder::skipped`] records it,
    /// instead of failing the answer.
    OpenMap(&'static str),
    /// Not wanted: skip it, whatever its size.
    Skip,
}

/// Reads the `data` of one method's envelope.
///
/// `field` and `element` may be called again for the same unit when the
/// bytes ran out inside it, so they must change `self` only once the unit
/// is read whole. A value the decoder refuses is failed with
/// [`Reader::fail`], which records what was wrong for the error.
pub trait DataDecoder {
    /// An entry of a streamed list.
    type Item;
    /// Everything else of `data`, returned when the envelope ends.
    type Output;

    /// Whether a success may come without `data`.
    const DATA_OPTIONAL: bool = false;

    /// The members of `data` whose entries are streamed to the caller one
    /// by one as [`Self::Item`]s (the answer to "is this method a list?");
    /// empty when `data` comes back whole as [`Self::Output`]. A test
    /// checks each decoder streams exactly these.
    const LISTS: &'static [&'static str] = &[];

    /// `data` is not an object (login and ping answer a string).
    fn scalar(&mut self, r: &mut Reader<'_>) -> Result<(), Fail> {
        let _ = r;
        Err(r.fail("data", JsonError::WrongType(text!("an object"))))
    }

    /// A member of `data` named `key`, positioned at its value: read it and
    /// answer [`Field::Read`], or answer how to treat it without reading.
    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail>;

    /// One entry of the list `list` (`key` is set for maps).
    fn element(
        &mut self,
        list: &'static str,
        key: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<Self::Item, Fail> {
        let _ = key;
        Err(r.fail(list, JsonError::WrongType(text!("no entries"))))
    }

    /// An entry of the open map `list` ([`Field::OpenMap`]) was too large
    /// for the unit buffer and was skipped: record it in the output.
    fn skipped(&mut self, list: &'static str) {
        let _ = list;
    }

    /// The decoded `data`, once the envelope said success. Fails when a
    /// required member was absent.
    fn finish(&mut self) -> Result<Self::Output, Error>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    List,
    Map,
    Either,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resume {
    Envelope,
    Data,
    /// A skipped entry's key: its `:` and value follow.
    EntryColon(&'static str),
    /// A skipped entry of an open map: the map goes on.
    Entry(&'static str),
}

#[derive(Clone, Debug)]
enum Phase {
    Start,
    /// Inside the `error` string: its start is kept, the rest skipped, so a
    /// message longer than the unit buffer cannot hide the error code.
    Message {
        escape: bool,
    },
    EnvMember {
        first: bool,
    },
    DataMember {
        first: bool,
    },
    ListOpen {
        id: &'static str,
        shape: Shape,
        open: bool,
    },
    ListNext {
        id: &'static str,
        map: bool,
        first: bool,
        /// The entries' shape is open: one too large is skipped.
        open: bool,
    },
    /// The `:` after a skipped entry's key.
    EntryColon {
        id: &'static str,
    },
    Skip {
        skipper: Skipper,
        then: Resume,
    },
    Trailing,
}

/// The object-safe face of a [`DataDecoder`] that the (non-generic)
/// envelope state machine talks to, so its code exists once in a binary
/// however many methods it decodes.
pub(crate) trait Visitor {
    fn scalar(&mut self, r: &mut Reader<'_>) -> Result<(), Fail>;
    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail>;
    /// Reads an entry and keeps it until the caller takes it.
    fn element(
        &mut self,
        list: &'static str,
        key: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<(), Fail>;
    /// An entry of the open map `list` was skipped (too large).
    fn skipped(&mut self, list: &'static str);
}

/// Where a [`DecoderVisitor`] puts each list entry it reads.
pub(crate) trait EntrySink<T> {
    /// Takes one entry; an error stops decoding.
    fn entry(&mut self, item: T) -> Result<(), Fail>;
}

/// The last entry read, for the step that hands it out.
impl<T> EntrySink<T> for Option<T> {
    fn entry(&mut self, item: T) -> Result<(), Fail> {
        *self = Some(item);
        Ok(())
    }
}

/// Each entry to a callback as soon as it is read: the callback's error
/// stops decoding and is kept here.
struct Each<F> {
    each: F,
    stopped: Option<Error>,
}

impl<T, F: FnMut(T) -> Result<(), Error>> EntrySink<T> for Each<F> {
    fn entry(&mut self, item: T) -> Result<(), Fail> {
        (self.each)(item).map_err(|e| {
            self.stopped = Some(e);
            Fail::Bad
        })
    }
}

/// Adapts a [`DataDecoder`] to [`Visitor`], its list entries to `entries`
/// (by default the last one read, kept for the caller to take).
pub(crate) struct DecoderVisitor<'d, D: DataDecoder, S = Option<<D as DataDecoder>::Item>> {
    pub data: &'d mut D,
    pub entries: S,
}

impl<'d, D: DataDecoder> DecoderVisitor<'d, D> {
    /// A visitor that keeps the last entry read.
    pub(crate) fn new(data: &'d mut D) -> Self {
        Self {
            data,
            entries: None,
        }
    }
}

impl<D: DataDecoder, S: EntrySink<D::Item>> Visitor for DecoderVisitor<'_, D, S> {
    fn scalar(&mut self, r: &mut Reader<'_>) -> Result<(), Fail> {
        self.data.scalar(r)
    }
    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        self.data.field(key, r)
    }
    fn element(
        &mut self,
        list: &'static str,
        key: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<(), Fail> {
        let item = self.data.element(list, key, r)?;
        self.entries.entry(item)
    }
    fn skipped(&mut self, list: &'static str) {
        self.data.skipped(list);
    }
}

/// The envelope state machine without the method's decoder.
#[derive(Debug)]
pub(crate) struct EnvelopeState {
    phase: Phase,
    success: Option<bool>,
    code: Code,
    /// `error` as read: its raw (still escaped) start, decoded only when
    /// the outcome is asked for, so a decoder holds the message once.
    message: Message,
    raw_message: heapless::Vec<u8, MESSAGE_CAPACITY>,
    message_cut: bool,
    data_seen: bool,
    /// `data`'s members read so far (a second one is refused).
    data_keys: crate::json::KeySet,
}

/// Decodes one envelope with the data decoder `D`.
#[derive(Debug)]
pub struct EnvelopeDecoder<D> {
    data: D,
    core: EnvelopeState,
}

impl<D: DataDecoder + Default> Default for EnvelopeDecoder<D> {
    fn default() -> Self {
        Self::new(D::default())
    }
}

fn dup(r: &mut Reader<'_>, at: &'static str) -> Fail {
    r.fail(at, JsonError::DuplicateKey)
}

impl<D: DataDecoder> EnvelopeDecoder<D> {
    /// A decoder at the start of a body.
    pub fn new(data: D) -> Self {
        Self {
            data,
            core: EnvelopeState::new(),
        }
    }

    /// True once the envelope's closing `}` was read.
    pub fn is_done(&self) -> bool {
        self.core.is_done()
    }

    /// Reads from `input` (the body bytes at hand, starting where the last
    /// call's consumed count ended). Returns how many bytes it consumed and
    /// what it found. Unconsumed bytes must be passed again, followed by
    /// more.
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Progress<D::Item>), Error> {
        let mut slot = DecoderVisitor::new(&mut self.data);
        let (n, step) = self.core.decode(input, &mut slot)?;
        Ok((n, to_step(step, &mut slot)))
    }

    /// A failure envelope's message (read it before [`Self::finish`],
    /// which consumes the decoder), once [`Progress::Done`] was returned.
    pub fn api_message(&self) -> Option<ApiMessage> {
        self.core.api_message()
    }

    /// The result, once [`Progress::Done`] was returned: the decoded data on
    /// success, [`Error::Api`] for a failure envelope.
    pub fn finish(mut self) -> Result<D::Output, Error> {
        self.core.outcome(D::DATA_OPTIONAL)?;
        self.data.finish()
    }
}

pub(crate) fn to_step<D: DataDecoder>(
    step: Progress<()>,
    slot: &mut DecoderVisitor<'_, D>,
) -> Progress<D::Item> {
    match (step, slot.entries.take()) {
        (Progress::Item(()), Some(item)) => Progress::Item(item),
        (Progress::Done, _) => Progress::Done,
        _ => Progress::NeedMore,
    }
}

impl EnvelopeState {
    pub(crate) const fn new() -> Self {
        Self {
            phase: Phase::Start,
            success: None,
            code: Code::Absent,
            message: Message::Absent,
            raw_message: heapless::Vec::new(),
            message_cut: false,
            data_seen: false,
            data_keys: crate::json::KeySet::new(),
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Trailing)
    }

    #[inline(never)]
    pub(crate) fn decode(
        &mut self,
        input: &[u8],
        v: &mut dyn Visitor,
    ) -> Result<(usize, Progress<()>), Error> {
        self.decode_units(input, v, true)
    }

    /// Reads units from `input`; after an entry, returns
    /// [`Progress::Item(())`] when `stop_at_items` (the visitor holds it for the
    /// caller), else reads on (the visitor handed it on already).
    fn decode_units(
        &mut self,
        input: &[u8],
        v: &mut dyn Visitor,
        stop_at_items: bool,
    ) -> Result<(usize, Progress<()>), Error> {
        let mut used = 0usize;
        loop {
            let rest = input.get(used..).unwrap_or(&[]);
            let mut r = Reader::new(rest);
            match self.unit(&mut r, v) {
                Ok(UnitOut::Continue) => used = used.saturating_add(r.pos()),
                Ok(UnitOut::Item) if !stop_at_items => used = used.saturating_add(r.pos()),
                Ok(UnitOut::Item) => return Ok((used.saturating_add(r.pos()), Progress::Item(()))),
                Ok(UnitOut::Done) => return Ok((used.saturating_add(r.pos()), Progress::Done)),
                Ok(UnitOut::Consumed(n)) => {
                    used = used.saturating_add(n);
                    if !matches!(self.phase, Phase::Skip { .. } | Phase::Message { .. }) {
                        continue;
                    }
                    return Ok((used, Progress::NeedMore));
                }
                Err(Fail::Incomplete) => return Ok((used, Progress::NeedMore)),
                Err(Fail::Bad) => return Err(r.error()),
            }
        }
    }

    #[inline(never)]
    fn unit(&mut self, r: &mut Reader<'_>, v: &mut dyn Visitor) -> Result<UnitOut, Fail> {
        match self.phase {
            Phase::Start => {
                if r.peek()? != b'{' {
                    return Err(r.fail_with(crate::json::Problem::BadEnvelope(text!(
                        "body is not a JSON object"
                    ))));
                }
                r.expect(b'{', "envelope", text!("'{'"))?;
                self.phase = Phase::EnvMember { first: true };
            }
            Phase::EnvMember { first } => {
                if !r.more_members(first, "envelope")? {
                    self.phase = Phase::Trailing;
                    return Ok(UnitOut::Done);
                }
                let mut scratch = KeyBuf::new();
                let key = r.key("envelope", &mut scratch)?;
                match key.as_str() {
                    "success" => {
                        if self.success.is_some() {
                            return Err(dup(r, "success"));
                        }
                        // The wire dialect: an integer 0 or 1, nothing else.
                        let b = r.peek()?;
                        if !(b == b'-' || b.is_ascii_digit()) {
                            return Err(
                                r.fail("success", JsonError::WrongType(text!("integer 0 or 1")))
                            );
                        }
                        self.success = Some(match r.int::<i64>("success")? {
                            0 => false,
                            1 => true,
                            _ => {
                                return Err(
                                    r.fail("success", JsonError::InvalidValue(text!("0 or 1")))
                                )
                            }
                        });
                    }
                    "error_code" => {
                        if self.code != Code::Absent {
                            return Err(dup(r, "error_code"));
                        }
                        // An integer (also "101", as every integer is
                        // read); names travel in the message, not here.
                        self.code = if r.null()? {
                            Code::Null
                        } else {
                            Code::Given(ErrorCode::from_number(r.int::<i32>("error_code")?))
                        };
                    }
                    "error" => {
                        if self.message != Message::Absent {
                            return Err(dup(r, "error"));
                        }
                        if r.null()? {
                            self.message = Message::Null;
                        } else {
                            r.expect(b'"', "error", text!("a string"))?;
                            self.raw_message.clear();
                            self.message_cut = false;
                            self.phase = Phase::Message { escape: false };
                        }
                    }
                    "data" => {
                        if self.data_seen {
                            return Err(dup(r, "data"));
                        }
                        match r.peek()? {
                            b'{' => {
                                r.expect(b'{', "data", text!("'{'"))?;
                                self.phase = Phase::DataMember { first: true };
                            }
                            b'n' => {
                                r.null()?;
                                self.phase = Phase::EnvMember { first: false };
                            }
                            _ => {
                                v.scalar(r)?;
                                self.phase = Phase::EnvMember { first: false };
                            }
                        }
                        self.data_seen = true;
                    }
                    _ => {
                        self.phase = Phase::Skip {
                            skipper: Skipper::new(),
                            then: Resume::Envelope,
                        }
                    }
                }
                if let Phase::EnvMember { first: true } = self.phase {
                    self.phase = Phase::EnvMember { first: false };
                }
            }
            Phase::DataMember { first } => {
                if !r.more_members(first, "data")? {
                    self.phase = Phase::EnvMember { first: false };
                    return Ok(UnitOut::Continue);
                }
                let mut scratch = KeyBuf::new();
                let key = r.key("data", &mut scratch)?;
                let field = v.field(key.as_str(), r)?;
                if !matches!(field, Field::Skip) && !self.data_keys.insert(key.as_str()) {
                    return Err(r.fail("data", JsonError::DuplicateKey));
                }
                self.phase = match field {
                    Field::Read => Phase::DataMember { first: false },
                    Field::Skip => Phase::Skip {
                        skipper: Skipper::new(),
                        then: Resume::Data,
                    },
                    Field::List(id) => Phase::ListOpen {
                        id,
                        shape: Shape::List,
                        open: false,
                    },
                    Field::Map(id) => Phase::ListOpen {
                        id,
                        shape: Shape::Map,
                        open: false,
                    },
                    Field::OpenMap(id) => Phase::ListOpen {
                        id,
                        shape: Shape::Map,
                        open: true,
                    },
                    Field::ListOrMap(id) => Phase::ListOpen {
                        id,
                        shape: Shape::Either,
                        open: false,
                    },
                };
            }
            Phase::ListOpen { id, shape, open } => {
                if r.null()? {
                    self.phase = Phase::DataMember { first: false };
                    return Ok(UnitOut::Continue);
                }
                let map = match (r.open()?, shape) {
                    (Some(b'['), Shape::List | Shape::Either) => false,
                    (Some(b'{'), Shape::Map | Shape::Either) => true,
                    _ => {
                        return Err(r.fail(
                            id,
                            JsonError::WrongType(match shape {
                                Shape::List => text!("a list"),
                                Shape::Map => text!("an object"),
                                Shape::Either => text!("a list or an object"),
                            }),
                        ))
                    }
                };
                self.phase = Phase::ListNext {
                    id,
                    map,
                    first: true,
                    open,
                };
            }
            Phase::ListNext {
                id,
                map,
                first,
                open,
            } => {
                let more = if map {
                    r.more_members(first, id)?
                } else {
                    r.more_elements(first, id)?
                };
                if !more {
                    self.phase = Phase::DataMember { first: false };
                    return Ok(UnitOut::Continue);
                }
                if map {
                    // An entry's key is data (an activity, a UUID): as long
                    // as it came, the decoder judges its length.
                    let mut scratch = KeyBuf::new();
                    let key = r.entry_key(id, &mut scratch)?;
                    v.element(id, Some(key), r)?;
                } else {
                    v.element(id, None, r)?;
                }
                self.phase = Phase::ListNext {
                    id,
                    map,
                    first: false,
                    open,
                };
                return Ok(UnitOut::Item);
            }
            Phase::EntryColon { id } => {
                r.expect(b':', id, text!("':'"))?;
                self.phase = Phase::Skip {
                    skipper: Skipper::new(),
                    then: Resume::Entry(id),
                };
            }
            Phase::Message { mut escape } => {
                let rest = r.rest();
                for (i, &b) in rest.iter().enumerate() {
                    if !escape && b == b'"' {
                        self.message = Message::Raw;
                        self.phase = Phase::EnvMember { first: false };
                        return Ok(UnitOut::Consumed(i.saturating_add(1)));
                    }
                    if b < 0x20 {
                        return Err(r.fail(
                            "error",
                            JsonError::Syntax(text!("no control characters in strings")),
                        ));
                    }
                    escape = !escape && b == b'\\';
                    if self.raw_message.push(b).is_err() {
                        self.message_cut = true;
                    }
                }
                self.phase = Phase::Message { escape };
                return Ok(UnitOut::Consumed(rest.len()));
            }
            Phase::Skip {
                ref mut skipper,
                then,
            } => {
                let rest = r.rest();
                let n = skipper.feed(rest).map_err(|k| r.fail("skipped value", k))?;
                if skipper.is_done() {
                    self.phase = match then {
                        Resume::Envelope => Phase::EnvMember { first: false },
                        Resume::Data => Phase::DataMember { first: false },
                        Resume::EntryColon(id) => Phase::EntryColon { id },
                        Resume::Entry(id) => Phase::ListNext {
                            id,
                            map: true,
                            first: false,
                            open: true,
                        },
                    };
                }
                return Ok(UnitOut::Consumed(n));
            }
            Phase::Trailing => {
                match r.peek() {
                    Ok(_) => return Err(r.fail("envelope", JsonError::TrailingData)),
                    Err(Fail::Incomplete) => {}
                    Err(e) => return Err(e),
                }
                return Ok(UnitOut::Done);
            }
        }
        Ok(UnitOut::Continue)
    }

    /// An entry of an open map that does not fit in `held` (the whole unit
    /// buffer): skipped from here, streaming, and recorded. Answers the
    /// bytes used, or `None` when the machine is not at such an entry.
    fn skip_entry(&mut self, held: &[u8], v: &mut dyn Visitor) -> Result<Option<usize>, Error> {
        let Phase::ListNext {
            id,
            map: true,
            first,
            open: true,
        } = self.phase
        else {
            return Ok(None);
        };
        let mut r = Reader::new(held);
        match r.more_members(first, id) {
            Ok(true) => {}
            Ok(false) | Err(Fail::Incomplete) => return Ok(None),
            Err(Fail::Bad) => return Err(r.error()),
        }
        v.skipped(id);
        // The key, then its value: each skipped as a JSON value.
        self.phase = Phase::Skip {
            skipper: Skipper::new(),
            then: Resume::EntryColon(id),
        };
        Ok(Some(r.pos()))
    }

    /// Decodes the kept start of the message into `out` (in place: the
    /// text is not moved around) and answers whether it was cut. When it
    /// was cut, a cut escape or UTF-8 sequence at its end is dropped.
    fn decode_message(&self, out: &mut heapless::String<MESSAGE_CAPACITY>) -> Result<bool, Error> {
        out.clear();
        if self.message != Message::Raw {
            return Ok(false);
        }
        let raw = self.raw_message.as_slice();
        let tries = if self.message_cut {
            raw.len().min(12)
        } else {
            0
        };
        let mut last = JsonError::InvalidEscape;
        for drop in 0..=tries {
            out.clear();
            let kept = raw.get(..raw.len().saturating_sub(drop)).unwrap_or(&[]);
            match crate::json::decode_message(kept, out) {
                Ok(cut) => return Ok(cut || self.message_cut),
                Err(kind) => last = kind,
            }
        }
        Err(Error::json("error", last))
    }

    /// The failure envelope's message, once the envelope was read whole;
    /// `None` when it had none (or `null`).
    pub(crate) fn api_message(&self) -> Option<ApiMessage> {
        if self.message != Message::Raw || !self.is_done() {
            return None;
        }
        let mut message = ApiMessage::default();
        message.truncated = self.decode_message(&mut message.text).ok()?;
        Some(message)
    }

    /// Whether the envelope said success (with data, unless optional).
    pub(crate) fn outcome(&mut self, data_optional: bool) -> Result<(), Error> {
        if !self.is_done() {
            return Err(Error::json(
                "envelope",
                JsonError::Syntax(text!("the rest of the envelope")),
            ));
        }
        match self.success {
            None => Err(Error::BadEnvelope(text!("no 'success' member"))),
            Some(false) => {
                let mut text = heapless::String::new();
                self.decode_message(&mut text)?;
                let given = match self.code {
                    Code::Given(c) => Some(c),
                    Code::Absent | Code::Null => None,
                };
                let code = given.or_else(|| {
                    // Codes without a number travel by name in the message.
                    text.as_bytes()
                        .split(|&b| !(b.is_ascii_uppercase() || b == b'_'))
                        .filter_map(|w| core::str::from_utf8(w).ok())
                        .find_map(ErrorCode::from_name)
                });
                Err(Error::Api(ApiError { code }))
            }
            Some(true) => {
                // A malformed message is an error even beside success.
                self.decode_message(&mut heapless::String::new())?;
                if !self.data_seen && !data_optional {
                    return Err(Error::BadEnvelope(text!("success without 'data'")));
                }
                Ok(())
            }
        }
    }
}

/// What the envelope's `error_code` member was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Code {
    Absent,
    Null,
    Given(ErrorCode),
}

/// What the envelope's `error` member was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Message {
    Absent,
    Null,
    /// A string, kept in `EnvelopeState::raw_message`.
    Raw,
}

enum UnitOut {
    Continue,
    Consumed(usize),
    Item,
    Done,
}

/// Decodes a whole body at once, passing each list entry to `each`.
pub fn decode_with<D: DataDecoder>(
    mut data: D,
    body: &[u8],
    each: impl FnMut(D::Item) -> Result<(), Error>,
) -> Result<D::Output, Error> {
    let mut core = EnvelopeState::new();
    // Entries go to `each` as the decoder reads them, not through the
    // step it returns: an entry is moved once, not five times.
    let mut v = DecoderVisitor {
        data: &mut data,
        entries: Each {
            each,
            stopped: None,
        },
    };
    let mut at = 0usize;
    loop {
        let decoded = core.decode_units(body.get(at..).unwrap_or(&[]), &mut v, false);
        if let Some(e) = v.entries.stopped.take() {
            return Err(e);
        }
        let (n, step) = decoded?;
        at = at.saturating_add(n);
        match step {
            // Below the head: never `Head`.
            Progress::Item(()) | Progress::Head => {}
            Progress::Done => {
                if body
                    .get(at..)
                    .is_some_and(|rest| !rest.trim_ascii().is_empty())
                {
                    return Err(Error::json("envelope", JsonError::TrailingData));
                }
                core.outcome(D::DATA_OPTIONAL)?;
                return data.finish();
            }
            Progress::NeedMore => {
                return Err(Error::json(
                    "envelope",
                    JsonError::Syntax(text!("more JSON before the body ended")),
                ));
            }
        }
    }
}

/// Decodes a whole body, collecting list entries into a vector of
/// capacity `N`; more entries than that is an error.
pub fn decode_all<D: DataDecoder + Default, const N: usize>(
    body: &[u8],
) -> Result<(D::Output, heapless::Vec<D::Item, N>), Error> {
    let mut items = heapless::Vec::new();
    let out = decode_with(D::default(), body, |item| {
        items
            .push(item)
            .map_err(|_| Error::json("data", JsonError::TooManyItems { capacity: N }))
    })?;
    Ok((out, items))
}

/// Holds body bytes between arrivals so that a unit split across reads can
/// be decoded whole. `N` bounds the largest unit (member or list entry).
#[derive(Debug)]
pub struct UnitBuffer<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Default for UnitBuffer<N> {
    fn default() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> UnitBuffer<N> {
    /// Free room.
    pub fn space(&self) -> usize {
        N.saturating_sub(self.len)
    }

    /// Appends as much of `bytes` as fits; returns how much.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        crate::buffer::push(&mut self.buf, &mut self.len, bytes)
    }

    /// Runs `dec` over the bytes held and drops what it consumed. A full
    /// buffer in which no unit completes is [`Error::BufferTooSmall`].
    pub fn decode<D: DataDecoder>(
        &mut self,
        dec: &mut EnvelopeDecoder<D>,
    ) -> Result<Progress<D::Item>, Error> {
        let mut slot = DecoderVisitor::new(&mut dec.data);
        let step = units_decode(&mut self.buf, &mut self.len, &mut dec.core, &mut slot)?;
        Ok(to_step(step, &mut slot))
    }

    /// Bytes held and not yet consumed.
    pub fn held(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// Runs the envelope machine over `buf[..*len]` and drops what it
/// consumed. A full buffer in which no unit completes is
/// [`Error::BufferTooSmall`]. Not generic, so it exists once.
#[inline(never)]
pub(crate) fn units_decode(
    buf: &mut [u8],
    len: &mut usize,
    core: &mut EnvelopeState,
    v: &mut dyn Visitor,
) -> Result<Progress<()>, Error> {
    loop {
        let held = buf.get(..*len).unwrap_or(&[]);
        let (n, step) = core.decode(held, v)?;
        *len = crate::buffer::move_to_front(buf, n.min(*len), *len);
        if step != Progress::NeedMore || *len < buf.len() {
            return Ok(step);
        }
        // Full, and no unit completes in it: an open shape's entry is
        // skipped; anything else is too large to read.
        let held = buf.get(..*len).unwrap_or(&[]);
        match core.skip_entry(held, v)? {
            Some(n) => *len = crate::buffer::move_to_front(buf, n.min(*len), *len),
            None => {
                return Err(Error::BufferTooSmall {
                    capacity: buf.len(),
                })
            }
        }
    }
}
