//! Reads JSON units from a window of bytes.

use heapless::string::StringView;
use heapless::String;

use super::{Fail, Problem, Skipper};
use crate::error::JsonError;
use crate::types::{Digest, Timestamp, Uuid};

/// Longest key compared against known names; longer keys are unknown.
const KEY_CAPACITY: usize = 64;

/// Where [`Reader::key`] decodes a key that has escapes (rare): the
/// caller's, so a key is returned as a small borrowed value rather than
/// moved around in a 64-byte buffer.
pub type KeyBuf = String<KEY_CAPACITY>;

/// A key of an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key<'k> {
    /// The key: borrowed from the input, or decoded into the caller's
    /// [`KeyBuf`] when it had escapes.
    Name(&'k str),
    /// A key longer than any known name.
    Long,
}

impl<'k> Key<'k> {
    /// The key, or "" for a long one.
    pub fn as_str(&self) -> &'k str {
        match *self {
            Self::Name(s) => s,
            Self::Long => "",
        }
    }
}

/// A cursor over bytes at hand. Every read either completes and advances,
/// or fails; on [`Fail::Incomplete`] the caller discards the reader and
/// retries the unit from its start with more bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    problem: Option<Problem>,
    /// The value just consumed was skipped, not read (see [`Self::object`]).
    skipped: bool,
}

/// Most members of one object whose duplicates are caught: more than any
/// record of the reference has.
pub const KEYS_TRACKED: usize = 24;

/// The members of one object a decoder read, by hash, so a second one of
/// the same name is caught (the duplicate rule: see the module doc).
#[derive(Debug)]
pub(crate) struct KeySet {
    hashes: heapless::Vec<u32, KEYS_TRACKED>,
}

impl KeySet {
    /// None recorded.
    pub(crate) const fn new() -> Self {
        Self {
            hashes: heapless::Vec::new(),
        }
    }

    /// Records `key`; false when it was recorded before.
    pub(crate) fn insert(&mut self, key: &str) -> bool {
        // FNV-1a: the names read are the decoders' own, few and distinct.
        let h = key.bytes().fold(0x811c_9dc5u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        if self.hashes.contains(&h) {
            return false;
        }
        // Past the capacity the rest go untracked (no record has as many).
        let _ = self.hashes.push(h);
        true
    }
}

/// The end of the run of plain string bytes (not `"`, `\\`, or a control
/// byte) from `i`: a machine word at a time, for most of a string is such
/// a run. Word-sized, so a Cortex-M does it in 32-bit operations.
pub(super) fn plain_run_end(buf: &[u8], mut i: usize) -> usize {
    const W: usize = core::mem::size_of::<usize>();
    const ONES: usize = usize::MAX / 255;
    const HIGH: usize = ONES << 7;
    // Bytes equal to zero in `x` get their high bit set (and only bytes
    // after a true one may be flagged falsely: the first flag is exact).
    let zero = |x: usize| x.wrapping_sub(ONES) & !x & HIGH;
    while let Some(chunk) = buf.get(i..i.saturating_add(W)) {
        let Ok(bytes) = <[u8; W]>::try_from(chunk) else {
            break;
        };
        let w = usize::from_le_bytes(bytes);
        // A control byte is below 0x20: subtracting 0x20 borrows into its
        // high bit, unless the byte had that bit set (beyond ASCII).
        let special = zero(w ^ (ONES * usize::from(b'"')))
            | zero(w ^ (ONES * usize::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
        if special != 0 {
            return i.saturating_add((special.trailing_zeros() / 8) as usize);
        }
        i = i.saturating_add(W);
    }
    while let Some(&b) = buf.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i = i.saturating_add(1);
    }
    i
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn hex_val(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

/// Parses a decimal or `0x` hex integer, as the API writes numbers. The
/// digits are summed in 64 bits (a firmware target has no 128-bit
/// multiply): beyond ±`u64::MAX` it is `None`.
fn parse_int(tok: &[u8]) -> Option<i128> {
    let (neg, digits) = match tok.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, tok),
    };
    let (radix, digits) = match digits {
        [b'0', b'x' | b'X', rest @ ..] => (16u32, rest),
        _ => (10u32, digits),
    };
    if digits.is_empty() || digits.len() > 30 {
        return None;
    }
    if radix == 10 && digits.len() > 1 && digits.first() == Some(&b'0') {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        let d = char::from(d).to_digit(radix)?;
        v = v.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
    }
    let v = i128::from(v);
    Some(if neg { v.checked_neg()? } else { v })
}

/// Parses `-?digits[.digits][(e|E)[+-]digits]` to the nearest `f32` it
/// can reach with 18 significant digits and repeated scaling.
fn parse_decimal(tok: &[u8]) -> Option<f32> {
    let (neg, mut rest) = match tok.split_first() {
        Some((b'-', r)) => (true, r),
        _ => (false, tok),
    };
    let mut mant: u64 = 0;
    let mut exp: i32 = 0;
    let mut any = false;
    let mut frac = false;
    while let Some((&c, r)) = rest.split_first() {
        match c {
            b'0'..=b'9' => {
                any = true;
                if mant < 100_000_000_000_000_000 {
                    mant = mant
                        .checked_mul(10)?
                        .checked_add(u64::from(c.saturating_sub(b'0')))?;
                    if frac {
                        exp = exp.checked_sub(1)?;
                    }
                } else if !frac {
                    exp = exp.checked_add(1)?;
                }
            }
            b'.' if !frac => frac = true,
            b'e' | b'E' => {
                let (eneg, digits) = match r.split_first() {
                    Some((b'-', d)) => (true, d),
                    Some((b'+', d)) => (false, d),
                    _ => (false, r),
                };
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let mut e: i32 = 0;
                for &d in digits {
                    e = e
                        .saturating_mul(10)
                        .saturating_add(i32::from(d.saturating_sub(b'0')))
                        .min(1000);
                }
                exp = if eneg {
                    exp.checked_sub(e)?
                } else {
                    exp.checked_add(e)?
                };
                rest = &[];
                continue;
            }
            _ => return None,
        }
        rest = r;
    }
    if !any {
        return None;
    }
    let mut v = mant as f32;
    let mut e = exp;
    while e > 0 && v.is_finite() {
        v *= 10.0;
        e = e.saturating_sub(1);
    }
    while e < 0 && v != 0.0 {
        v /= 10.0;
        e = e.saturating_add(1);
    }
    Some(if neg { -v } else { v })
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            problem: None,
            skipped: false,
        }
    }

    /// Records that the value at `at` is wrong (`kind`): the [`Fail`] to
    /// return. Decoders call it for values the reader cannot judge.
    #[inline(never)]
    pub fn fail(&mut self, at: &'static str, kind: JsonError) -> Fail {
        self.fail_with(Problem::Json { at, kind })
    }

    /// Records `problem`: the [`Fail`] to return.
    pub fn fail_with(&mut self, problem: Problem) -> Fail {
        self.problem = Some(problem);
        Fail::Bad
    }

    /// What was wrong, after a read answered [`Fail::Bad`].
    pub fn problem(&self) -> Option<Problem> {
        self.problem
    }

    /// A string-shaped value that was not `what`: a wrong type or an
    /// over-long string reads as an invalid value.
    fn type_as(&mut self, e: Fail, at: &'static str, what: &'static str) -> Fail {
        match (e, self.problem) {
            (
                Fail::Bad,
                Some(Problem::Json {
                    kind: JsonError::TooLong { .. } | JsonError::WrongType(_),
                    ..
                }),
            ) => self.fail(at, JsonError::InvalidValue(what)),
            _ => e,
        }
    }

    /// The error for a [`Fail::Bad`] this reader answered.
    pub(crate) fn error(&self) -> crate::Error {
        self.problem
            .unwrap_or(Problem::BadEnvelope(text!("invalid JSON")))
            .into()
    }

    /// Bytes consumed.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The bytes not yet consumed.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    fn bump(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.buf.len());
    }

    /// Skips white space; returns the next byte without consuming it.
    pub fn peek(&mut self) -> Result<u8, Fail> {
        while let Some(&b) = self.buf.get(self.pos) {
            if !is_ws(b) {
                return Ok(b);
            }
            self.bump(1);
        }
        Err(Fail::Incomplete)
    }

    /// Consumes `b` (after white space) or fails with `what` expected.
    pub fn expect(&mut self, b: u8, at: &'static str, what: &'static str) -> Result<(), Fail> {
        if self.peek()? == b {
            self.bump(1);
            Ok(())
        } else {
            Err(self.fail(at, JsonError::Syntax(what)))
        }
    }

    /// After `{` or a member: consumes `,` and returns true if another
    /// member follows, or consumes `}` and returns false. `first` tells
    /// whether no member was read yet.
    pub fn more_members(&mut self, first: bool, at: &'static str) -> Result<bool, Fail> {
        self.more(first, b'}', at, text!("',' or '}'"))
    }

    /// Like [`Self::more_members`] for arrays.
    pub fn more_elements(&mut self, first: bool, at: &'static str) -> Result<bool, Fail> {
        self.more(first, b']', at, text!("',' or ']'"))
    }

    fn more(
        &mut self,
        first: bool,
        close: u8,
        at: &'static str,
        what: &'static str,
    ) -> Result<bool, Fail> {
        let b = self.peek()?;
        if b == close {
            self.bump(1);
            return Ok(false);
        }
        if first {
            return Ok(true);
        }
        if b == b',' {
            self.bump(1);
            // A trailing comma is not JSON.
            if self.peek()? == close {
                return Err(self.fail(at, JsonError::Syntax(text!("a value after ','"))));
            }
            return Ok(true);
        }
        Err(self.fail(at, JsonError::Syntax(what)))
    }

    /// Reads `"key" :`; a key with escapes is decoded into `scratch`.
    pub fn key<'k>(&mut self, at: &'static str, scratch: &'k mut KeyBuf) -> Result<Key<'k>, Fail>
    where
        'a: 'k,
    {
        if self.peek()? != b'"' {
            return Err(self.fail(at, JsonError::Syntax(text!("a key"))));
        }
        let key = match self.short(at, scratch.as_mut_view()) {
            Ok(s) if s.len() > KEY_CAPACITY => Key::Long,
            Ok(s) => Key::Name(s),
            Err(Fail::Bad)
                if matches!(
                    self.problem,
                    Some(Problem::Json {
                        kind: JsonError::TooLong { .. },
                        ..
                    })
                ) =>
            {
                Key::Long
            }
            Err(e) => return Err(e),
        };
        self.expect(b':', at, text!("':'"))?;
        Ok(key)
    }

    /// Reads the key of a map entry and its `:`: borrowed whatever its
    /// length when it has no escapes (the caller judges it), else decoded
    /// into `scratch`, whose capacity bounds it.
    pub fn entry_key<'k>(
        &mut self,
        at: &'static str,
        scratch: &'k mut KeyBuf,
    ) -> Result<&'k str, Fail>
    where
        'a: 'k,
    {
        let key = self.short(at, scratch.as_mut_view())?;
        self.expect(b':', at, text!("':'"))?;
        Ok(key)
    }

    /// A short string: borrowed from the input when it has no escapes
    /// (its length is the caller's to judge), else decoded into `scratch`
    /// (whose capacity bounds it). Not generic: one copy serves keys,
    /// UUIDs, timestamps and digests.
    fn short<'k>(&mut self, at: &'static str, scratch: &'k mut StringView) -> Result<&'k str, Fail>
    where
        'a: 'k,
    {
        let (raw, escaped) = self.raw_string(at)?;
        if !escaped {
            return core::str::from_utf8(raw).map_err(|_| self.fail(at, JsonError::InvalidUtf8));
        }
        scratch.clear();
        decode_into_view(raw, true, scratch).map_err(|k| self.fail(at, k))?;
        Ok(scratch.as_str())
    }

    /// Scans a string token; returns its raw contents and whether it has
    /// escapes. Control bytes and malformed escapes are refused.
    fn raw_string(&mut self, at: &'static str) -> Result<(&'a [u8], bool), Fail> {
        if self.peek()? != b'"' {
            return Err(self.fail(at, JsonError::WrongType(text!("a string"))));
        }
        let start = self.pos.saturating_add(1);
        let mut i = start;
        let mut escaped = false;
        loop {
            i = plain_run_end(self.buf, i);
            let Some(&b) = self.buf.get(i) else {
                return Err(Fail::Incomplete);
            };
            match b {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    let Some(&e) = self.buf.get(i.saturating_add(1)) else {
                        return Err(Fail::Incomplete);
                    };
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                            i = i.saturating_add(2)
                        }
                        b'u' => {
                            let hex = self
                                .buf
                                .get(i.saturating_add(2)..i.saturating_add(6))
                                .ok_or(Fail::Incomplete)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(self.fail(at, JsonError::InvalidEscape));
                            }
                            i = i.saturating_add(6);
                        }
                        _ => return Err(self.fail(at, JsonError::InvalidEscape)),
                    }
                }
                0..=0x1f => {
                    return Err(self.fail(
                        at,
                        JsonError::Syntax(text!("no control characters in strings")),
                    ))
                }
                _ => i = i.saturating_add(1),
            }
        }
        let raw = self.buf.get(start..i).unwrap_or(&[]);
        self.pos = i.saturating_add(1);
        Ok((raw, escaped))
    }

    /// Reads a string into a string of capacity `N`; longer is an error.
    pub fn string<const N: usize>(&mut self, at: &'static str) -> Result<String<N>, Fail> {
        let (raw, escaped) = self.raw_string(at)?;
        let mut out = String::new();
        decode_into(raw, escaped, &mut out).map_err(|k| self.fail(at, k))?;
        Ok(out)
    }

    /// Reads a string into `dst` in place (large values are not moved
    /// through return slots: it matters on small stacks). `null` clears
    /// it and answers false.
    pub fn string_into<const N: usize>(
        &mut self,
        at: &'static str,
        dst: &mut String<N>,
    ) -> Result<bool, Fail> {
        dst.clear();
        if self.null()? {
            return Ok(false);
        }
        let (raw, escaped) = self.raw_string(at)?;
        decode_into(raw, escaped, dst).map_err(|k| self.fail(at, k))?;
        Ok(true)
    }

    /// Reads a string, keeping at most `N` bytes; returns it and whether
    /// it was cut (only for messages meant for people).
    pub fn string_lossy<const N: usize>(
        &mut self,
        at: &'static str,
    ) -> Result<(String<N>, bool), Fail> {
        let (raw, escaped) = self.raw_string(at)?;
        let mut out = String::new();
        match decode_into(raw, escaped, &mut out) {
            Ok(()) => Ok((out, false)),
            Err(JsonError::TooLong { .. }) => Ok((out, true)),
            Err(k) => Err(self.fail(at, k)),
        }
    }

    /// Consumes `null` if it is next; returns whether it was.
    pub fn null(&mut self) -> Result<bool, Fail> {
        if self.peek()? != b'n' {
            return Ok(false);
        }
        let tok = self.token()?;
        if tok == b"null" {
            Ok(true)
        } else {
            Err(self.fail("value", JsonError::Syntax(text!("null"))))
        }
    }

    /// A number or literal token (must be followed by a delimiter).
    fn token(&mut self) -> Result<&'a [u8], Fail> {
        self.peek()?;
        let start = self.pos;
        let mut i = start;
        loop {
            let Some(&b) = self.buf.get(i) else {
                return Err(Fail::Incomplete);
            };
            if !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.')) {
                break;
            }
            i = i.saturating_add(1);
        }
        let tok = self.buf.get(start..i).unwrap_or(&[]);
        self.pos = i;
        Ok(tok)
    }

    /// An integer: JSON number, `0x` hex, or either inside a string.
    pub fn int<T: TryFrom<i128>>(&mut self, at: &'static str) -> Result<T, Fail> {
        let v = self.wide_int(at)?;
        T::try_from(v).map_err(|_| self.fail(at, JsonError::NumberOutOfRange))
    }

    /// [`Reader::int`] before narrowing: one copy in a binary, not one per
    /// integer type.
    #[inline(never)]
    fn wide_int(&mut self, at: &'static str) -> Result<i128, Fail> {
        let v = match self.peek()? {
            b'"' => {
                let (raw, escaped) = self.raw_string(at)?;
                if escaped {
                    return Err(self.fail(at, JsonError::WrongType(text!("an integer"))));
                }
                parse_int(raw)
            }
            b'-' | b'0'..=b'9' => {
                let tok = self.token()?;
                parse_int(tok)
            }
            _ => return Err(self.fail(at, JsonError::WrongType(text!("an integer")))),
        };
        v.ok_or_else(|| self.fail(at, JsonError::WrongType(text!("an integer"))))
    }

    /// A number with a fraction (`relevance`); integers and hex accepted.
    /// Parsed to `f32` by hand: core's float parser brings ~15 KiB of
    /// tables into firmware for one field that needs no such precision.
    pub fn float(&mut self, at: &'static str) -> Result<f32, Fail> {
        let tok = match self.peek()? {
            b'"' => {
                let (raw, _) = self.raw_string(at)?;
                raw
            }
            b'-' | b'0'..=b'9' => self.token()?,
            _ => return Err(self.fail(at, JsonError::WrongType(text!("a number")))),
        };
        if let Some(i) = parse_int(tok) {
            return Ok(i as f32);
        }
        let v = parse_decimal(tok).ok_or(self.fail(at, JsonError::WrongType(text!("a number"))))?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.fail(at, JsonError::NumberOutOfRange))
        }
    }

    /// A 0/1 flag: `0`/`1` (any number form), `"0"`/`"1"`, or a JSON boolean.
    pub fn flag(&mut self, at: &'static str) -> Result<bool, Fail> {
        match self.peek()? {
            b't' | b'f' => match self.token()? {
                b"true" => Ok(true),
                b"false" => Ok(false),
                _ => Err(self.fail(at, JsonError::Syntax(text!("true or false")))),
            },
            b'"' | b'-' | b'0'..=b'9' => match self.int::<i64>(at) {
                Ok(0) => Ok(false),
                Ok(1) => Ok(true),
                Ok(_) | Err(Fail::Bad) => {
                    Err(self.fail(at, JsonError::InvalidValue(text!("0 or 1"))))
                }
                Err(Fail::Incomplete) => Err(Fail::Incomplete),
            },
            _ => Err(self.fail(at, JsonError::WrongType(text!("a 0/1 flag")))),
        }
    }

    /// A UUID string.
    pub fn uuid(&mut self, at: &'static str) -> Result<Uuid, Fail> {
        // Without escapes (as every server writes them), straight from the
        // raw bytes: no copy, no UTF-8 check (the hex check covers it).
        let (raw, escaped) = self
            .raw_string(at)
            .map_err(|e| self.type_as(e, at, text!("a UUID")))?;
        let mut scratch = String::<36>::new();
        let digits = if escaped {
            decode_into_view(raw, true, scratch.as_mut_view())
                .map_err(|k| self.fail(at, k))
                .map_err(|e| self.type_as(e, at, text!("a UUID")))?;
            scratch.as_bytes()
        } else {
            raw
        };
        Uuid::parse_ascii(digits)
            .map_err(|_| self.fail(at, JsonError::InvalidValue(text!("a UUID"))))
    }

    /// A timestamp string in either API format.
    pub fn timestamp(&mut self, at: &'static str) -> Result<Timestamp, Fail> {
        let mut scratch = String::<19>::new();
        let s = self
            .short(at, scratch.as_mut_view())
            .map_err(|e| self.type_as(e, at, text!("a timestamp")))?;
        Timestamp::parse(s)
            .map_err(|_| self.fail(at, JsonError::InvalidValue(text!("a timestamp"))))
    }

    /// A hex digest string of `N` bytes.
    pub fn digest<const N: usize>(&mut self, at: &'static str) -> Result<Digest<N>, Fail> {
        let mut scratch = String::<64>::new();
        let s = self
            .short(at, scratch.as_mut_view())
            .map_err(|e| self.type_as(e, at, text!("a hex digest")))?;
        Digest::parse(s).map_err(|_| self.fail(at, JsonError::InvalidValue(text!("a hex digest"))))
    }

    /// Skips one value of any shape, if it is wholly at hand.
    pub fn skip(&mut self, at: &'static str) -> Result<(), Fail> {
        let mut s = Skipper::new();
        let n = s.feed(self.rest()).map_err(|k| self.fail(at, k))?;
        if !s.is_done() {
            return Err(Fail::Incomplete);
        }
        self.bump(n);
        self.skipped = true;
        Ok(())
    }

    /// Skips one value of any shape, if it is wholly at hand, and returns
    /// its bytes as they stand in the input (white space around it left
    /// out).
    pub fn raw_value(&mut self, at: &'static str) -> Result<&'a [u8], Fail> {
        self.peek()?;
        let start = self.pos;
        self.skip(at)?;
        let raw = self.buf.get(start..self.pos).unwrap_or(&[]);
        let end = raw
            .iter()
            .rposition(|&b| !is_ws(b))
            .map_or(0, |i| i.saturating_add(1));
        Ok(raw.get(..end).unwrap_or(&[]))
    }

    /// Reads a list of strings, each of capacity `N`, into `out`.
    pub fn string_list<const N: usize, const M: usize>(
        &mut self,
        at: &'static str,
    ) -> Result<heapless::Vec<String<N>, M>, Fail> {
        let mut out = heapless::Vec::new();
        self.list(at, |r| {
            let s = r.string::<N>(at)?;
            out.push(s)
                .map_err(|_| r.fail(at, JsonError::TooManyItems { capacity: M }))
        })?;
        Ok(out)
    }

    /// Reads a list of integers into `out`.
    pub fn int_list<T: TryFrom<i128>, const M: usize>(
        &mut self,
        at: &'static str,
    ) -> Result<heapless::Vec<T, M>, Fail> {
        let mut out = heapless::Vec::new();
        self.list(at, |r| {
            let v = r.int::<T>(at)?;
            out.push(v)
                .map_err(|_| r.fail(at, JsonError::TooManyItems { capacity: M }))
        })?;
        Ok(out)
    }

    /// Calls `each` for every element of an array (`null` is an empty
    /// array).
    pub fn list(
        &mut self,
        at: &'static str,
        mut each: impl FnMut(&mut Self) -> Result<(), Fail>,
    ) -> Result<(), Fail> {
        if self.null()? {
            return Ok(());
        }
        if self.peek()? != b'[' {
            return Err(self.fail(at, JsonError::WrongType(text!("a list"))));
        }
        self.bump(1);
        let mut first = true;
        while self.more_elements(first, at)? {
            first = false;
            each(self)?;
        }
        Ok(())
    }

    /// Calls `each` with every key of an object, positioned at its value
    /// (which `each` must consume: read it, or [`Self::skip`] it). A
    /// member read twice is refused (the module's duplicate rule).
    pub fn object(
        &mut self,
        at: &'static str,
        mut each: impl FnMut(&mut Self, &str) -> Result<(), Fail>,
    ) -> Result<(), Fail> {
        if self.peek()? != b'{' {
            return Err(self.fail(at, JsonError::WrongType(text!("an object"))));
        }
        self.bump(1);
        // The enclosing object's member is read, whatever is skipped within.
        let enclosing = self.skipped;
        let mut read = KeySet::new();
        let mut first = true;
        while self.more_members(first, at)? {
            first = false;
            let mut scratch = KeyBuf::new();
            let key = self.key(at, &mut scratch)?;
            self.skipped = false;
            each(self, key.as_str())?;
            if !self.skipped && !read.insert(key.as_str()) {
                return Err(self.fail(at, JsonError::DuplicateKey));
            }
        }
        self.skipped = enclosing;
        Ok(())
    }

    /// Consumes `{` or `[` if next; returns which, without consuming
    /// anything else.
    pub fn open(&mut self) -> Result<Option<u8>, Fail> {
        match self.peek()? {
            b @ (b'{' | b'[') => {
                self.bump(1);
                Ok(Some(b))
            }
            _ => Ok(None),
        }
    }
}

/// Decodes a raw string body (between the quotes) into `out`.
fn decode_into<const N: usize>(
    raw: &[u8],
    escaped: bool,
    out: &mut String<N>,
) -> Result<(), JsonError> {
    decode_into_view(raw, escaped, out.as_mut_view())
}

/// [`decode_into`] for any capacity: one copy in a binary, not one per
/// string size.
#[inline(never)]
fn decode_into_view(raw: &[u8], escaped: bool, out: &mut StringView) -> Result<(), JsonError> {
    let too_long = JsonError::TooLong {
        capacity: out.capacity(),
    };
    if !escaped {
        let s = core::str::from_utf8(raw).map_err(|_| JsonError::InvalidUtf8)?;
        return push_prefix(out, s);
    }
    let mut rest = raw;
    while !rest.is_empty() {
        let run = rest.iter().position(|&b| b == b'\\').unwrap_or(rest.len());
        let (plain, tail) = rest.split_at(run);
        let s = core::str::from_utf8(plain).map_err(|_| JsonError::InvalidUtf8)?;
        push_prefix(out, s)?;
        let Some((_, tail)) = tail.split_first() else {
            break;
        };
        let Some((&e, tail)) = tail.split_first() else {
            return Err(JsonError::InvalidEscape);
        };
        rest = tail;
        let c = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let (hi, tail) = read_u4(rest)?;
                rest = tail;
                if (0xD800..0xDC00).contains(&hi) {
                    let lo = match rest {
                        [b'\\', b'u', tail @ ..] => {
                            let (lo, tail) = read_u4(tail)?;
                            rest = tail;
                            lo
                        }
                        _ => return Err(JsonError::InvalidEscape),
                    };
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(JsonError::InvalidEscape);
                    }
                    let cp = 0x10000u32
                        .checked_add((hi.saturating_sub(0xD800) << 10) | lo.saturating_sub(0xDC00))
                        .ok_or(JsonError::InvalidEscape)?;
                    char::from_u32(cp).ok_or(JsonError::InvalidEscape)?
                } else {
                    char::from_u32(hi).ok_or(JsonError::InvalidEscape)?
                }
            }
            _ => return Err(JsonError::InvalidEscape),
        };
        out.push(c).map_err(|_| too_long)?;
    }
    Ok(())
}

/// Appends `s`, or as many whole characters of it as fit and then fails
/// (the kept start serves messages shown with a "cut" flag).
fn push_prefix(out: &mut StringView, s: &str) -> Result<(), JsonError> {
    if out.push_str(s).is_ok() {
        return Ok(());
    }
    // Keep what fits, cut at a character boundary.
    let mut cut = out.capacity().saturating_sub(out.len()).min(s.len());
    while cut > 0 && !s.is_char_boundary(cut) {
        cut = cut.saturating_sub(1);
    }
    let _ = out.push_str(s.get(..cut).unwrap_or(""));
    Err(JsonError::TooLong {
        capacity: out.capacity(),
    })
}

fn read_u4(b: &[u8]) -> Result<(u32, &[u8]), JsonError> {
    let (hex, rest) = b.split_at_checked(4).ok_or(JsonError::InvalidEscape)?;
    let mut v = 0u32;
    for &h in hex {
        v = (v << 4) | hex_val(h).ok_or(JsonError::InvalidEscape)?;
    }
    Ok((v, rest))
}

/// Decodes a string body (between the quotes) into `out`, keeping what
/// fits; returns whether it was cut. Other errors (bad escapes, invalid
/// UTF-8) are returned.
pub(crate) fn decode_message<const N: usize>(
    raw: &[u8],
    out: &mut String<N>,
) -> Result<bool, JsonError> {
    // Byte loops rather than `contains` here and in other small scans:
    // `contains` brings core's memchr into firmware (core/FIRMWARE.md).
    match decode_into(raw, raw.iter().any(|&b| b == b'\\'), out) {
        Ok(()) => Ok(false),
        Err(JsonError::TooLong { .. }) => Ok(true),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The word-at-a-time scan stops where a byte-by-byte one does, from
        /// any start, in strings of every kind of byte (quotes, escapes,
        /// control bytes, beyond ASCII) near word edges.
        #[test]
        fn plain_runs_end_where_a_byte_scan_ends(
            bytes in proptest::collection::vec(prop_oneof![
                4 => 0x20u8..0x7f,
                1 => Just(b'"'),
                1 => Just(b'\\'),
                1 => 0u8..0x20,
                2 => 0x80u8..=0xff,
            ], 0..40),
            start in 0usize..41,
        ) {
            let want = (start..bytes.len())
                .find(|&i| matches!(bytes[i], b'"' | b'\\' | 0..=0x1f))
                .unwrap_or(bytes.len().max(start));
            prop_assert_eq!(super::plain_run_end(&bytes, start), want);
        }
    }

    use super::*;

    #[test]
    fn numbers_in_every_form() {
        for (src, want) in [
            ("42 ", 42i64),
            ("0x1f ", 31),
            ("\"0x1F\"", 31),
            ("\"50\"", 50),
            ("-7,", -7),
            ("0 ", 0),
        ] {
            assert_eq!(
                Reader::new(src.as_bytes()).int::<i64>("n").unwrap(),
                want,
                "{src}"
            );
        }
        for bad in [
            "01 ",
            "1.5 ",
            "\"x\"",
            "true ",
            "0x ",
            "99999999999999999999999999999999999 ",
        ] {
            assert!(
                matches!(Reader::new(bad.as_bytes()).int::<i64>("n"), Err(Fail::Bad)),
                "{bad}"
            );
        }
        assert_eq!(Reader::new(b"12").int::<i64>("n"), Err(Fail::Incomplete));
        assert!(matches!(
            Reader::new(b"300 ").int::<u8>("n"),
            Err(Fail::Bad)
        ));
    }

    #[test]
    fn the_reader_keeps_what_was_wrong() {
        let mut r = Reader::new(b"\"x\" ");
        assert_eq!(r.problem(), None);
        assert_eq!(r.int::<i32>("score"), Err(Fail::Bad));
        assert_eq!(
            r.problem(),
            Some(Problem::Json {
                at: "score",
                kind: JsonError::WrongType(text!("an integer"))
            })
        );
        // A string that is not a UUID reads as an invalid value.
        let mut r = Reader::new(b"\"not-a-uuid\" ");
        assert_eq!(r.uuid("task_uuid"), Err(Fail::Bad));
        assert!(matches!(
            r.problem(),
            Some(Problem::Json {
                at: "task_uuid",
                kind: JsonError::InvalidValue(_)
            })
        ));
        // A decoder's own verdicts travel the same way.
        let mut r = Reader::new(b"");
        assert_eq!(r.fail_with(Problem::MissingField("f")), Fail::Bad);
        assert_eq!(r.error(), crate::Error::MissingField { field: "f" });
        // Running out of bytes is not a problem.
        let mut r = Reader::new(b"12");
        assert_eq!(r.int::<i32>("n"), Err(Fail::Incomplete));
        assert_eq!(r.problem(), None);
    }

    #[test]
    fn keys_borrowed_decoded_or_long() {
        let mut scratch = KeyBuf::new();
        let mut r = Reader::new(br#""plain": 1"#);
        assert_eq!(r.key("k", &mut scratch), Ok(Key::Name("plain")));
        // Escapes are decoded into the caller's buffer.
        let mut r = Reader::new(br#""succ\u0065ss" :1"#);
        assert_eq!(r.key("k", &mut scratch), Ok(Key::Name("success")));
        assert_eq!(scratch.as_str(), "success");
        // Longer than any known name, with or without escapes: Long.
        let long = [b'a'; 65];
        let mut src = b"\"".to_vec();
        src.extend_from_slice(&long);
        src.extend_from_slice(b"\":");
        let mut r = Reader::new(&src);
        assert_eq!(r.key("k", &mut scratch), Ok(Key::Long));
        let mut src = b"\"\\n".to_vec();
        src.extend_from_slice(&long);
        src.extend_from_slice(b"\":");
        let mut r = Reader::new(&src);
        assert_eq!(r.key("k", &mut scratch), Ok(Key::Long));
        assert_eq!(Key::Long.as_str(), "");
        // 64 bytes exactly is still a name.
        let mut src = b"\"".to_vec();
        src.extend_from_slice(&long[..64]);
        src.extend_from_slice(b"\":");
        let mut r = Reader::new(&src);
        assert_eq!(r.key("k", &mut scratch).map(|k| k.as_str().len()), Ok(64));
        // Bad escapes, bad UTF-8 and a missing ':' are errors; a cut key
        // asks for more.
        for bad in [&br#""\q":"#[..], b"\"\xff\":", b"\"k\" 1", b"k:"] {
            assert!(
                matches!(Reader::new(bad).key("k", &mut scratch), Err(Fail::Bad)),
                "{bad:?}"
            );
        }
        assert_eq!(
            Reader::new(br#""ke"#).key("k", &mut scratch),
            Err(Fail::Incomplete)
        );
    }

    #[test]
    fn integers_reach_the_ends_of_64_bits() {
        let int = |s: &str| Reader::new(s.as_bytes()).int::<i64>("n");
        let uint = |s: &str| Reader::new(s.as_bytes()).int::<u64>("n");
        assert_eq!(uint("18446744073709551615 "), Ok(u64::MAX));
        assert_eq!(uint("0xffffffffffffffff "), Ok(u64::MAX));
        assert_eq!(int("-9223372036854775808 "), Ok(i64::MIN));
        assert_eq!(int("9223372036854775807 "), Ok(i64::MAX));
        assert_eq!(uint("-0 "), Ok(0));
        for out_of_range in [
            "9223372036854775808 ",
            "-9223372036854775809 ",
            "18446744073709551616 ",
            "0x10000000000000000 ",
            "-18446744073709551616 ",
        ] {
            assert!(
                matches!(int(out_of_range), Err(Fail::Bad)),
                "{out_of_range}"
            );
        }
        assert!(matches!(uint("-1 "), Err(Fail::Bad)));
        assert!(matches!(uint("18446744073709551616 "), Err(Fail::Bad)));
        // Integers beyond 64 bits still read as floats.
        let f = Reader::new(b"100000000000000000000 ").float("f").unwrap();
        assert!((f - 1e20).abs() < 1e14, "{f}");
    }

    #[test]
    fn strings_decode_escapes() {
        let mut r = Reader::new(br#""a\"b\\c\u00e9\ud83d\ude00\n""#);
        assert_eq!(
            r.string::<32>("s").unwrap().as_str(),
            "a\"b\\c\u{e9}\u{1f600}\n"
        );
        assert!(matches!(
            Reader::new(br#""\ud83d""#).string::<8>("s"),
            Err(Fail::Bad)
        ));
        assert!(matches!(
            Reader::new(br#""abcdef""#).string::<3>("s"),
            Err(Fail::Bad)
        ));
        assert_eq!(
            Reader::new(br#""abc"#).string::<8>("s"),
            Err(Fail::Incomplete)
        );
        assert!(matches!(
            Reader::new(b"\"\xff\"").string::<8>("s"),
            Err(Fail::Bad)
        ));
    }

    #[test]
    fn flags_accept_int_string_bool() {
        for (src, want) in [
            ("1 ", true),
            ("0 ", false),
            ("\"1\"", true),
            ("true ", true),
            ("false ", false),
            ("0x1 ", true),
        ] {
            assert_eq!(
                Reader::new(src.as_bytes()).flag("f").unwrap(),
                want,
                "{src}"
            );
        }
        for bad in ["2 ", "\"yes\"", "null ", "[]"] {
            assert!(
                matches!(Reader::new(bad.as_bytes()).flag("f"), Err(Fail::Bad)),
                "{bad}"
            );
        }
    }
}
