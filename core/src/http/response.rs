//! Decoding an HTTP/1.1 response: head ([`super::head`]), then body framing.

use core::fmt;

use super::chunked::ChunkedDecoder;
use crate::auth::{SessionCookie, COOKIE_CAPACITY};
use crate::error::{Error, HttpError};
use crate::progress::Progress;

/// Room for the text of the headers a head keeps — the session cookie
/// (`name=value`), a download's file name and a redirect's `Location` —
/// together. One shared area instead of one per header: a response rarely
/// carries more than one of them, and every decoder holds a head.
pub const CAPTURE_CAPACITY: usize = 512;

/// The kind of body, from `Content-Type`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ContentType {
    /// `application/json` (or `text/json`, `+json`).
    Json,
    /// XML.
    Xml,
    /// An HTML page (proxies' error pages).
    Html,
    /// A PDF document.
    Pdf,
    /// Other text.
    Text,
    /// Anything else, e.g. `application/octet-stream`.
    Other,
    /// No `Content-Type` header.
    Missing,
}

impl ContentType {
    fn parse(v: &[u8]) -> Self {
        let main = v.split(|&b| b == b';').next().unwrap_or(&[]).trim_ascii();
        let is = |s: &[u8]| main.eq_ignore_ascii_case(s);
        let ends = |s: &[u8]| {
            main.len() >= s.len()
                && main
                    .get(main.len().saturating_sub(s.len())..)
                    .is_some_and(|t| t.eq_ignore_ascii_case(s))
        };
        if is(b"application/json") || is(b"text/json") || ends(b"+json") {
            Self::Json
        } else if is(b"text/html") || is(b"application/xhtml+xml") {
            Self::Html
        } else if is(b"application/xml") || is(b"text/xml") || ends(b"+xml") {
            Self::Xml
        } else if is(b"application/pdf") {
            Self::Pdf
        } else if main.len() >= 5
            && main
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"text/"))
        {
            Self::Text
        } else {
            Self::Other
        }
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Json => "JSON",
            Self::Xml => "XML",
            Self::Html => "HTML",
            Self::Pdf => "PDF",
            Self::Text => "text",
            Self::Other => "other",
            Self::Missing => "none",
        })
    }
}

/// How the body's end is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BodyFraming {
    /// `Content-Length` bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the server closes the connection.
    Close,
    /// No body (204, 304).
    Empty,
}

/// Where a captured header's text lies in [`ResponseHead`]'s capture area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u16,
    end: u16,
}

/// What the head of a response says.
#[derive(Clone, PartialEq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The body's kind.
    pub content_type: ContentType,
    /// How the body ends.
    pub framing: BodyFraming,
    /// Whether the connection can carry another request afterwards.
    pub keep_alive: bool,
    /// `Retry-After` in seconds: given as a number, or as an HTTP date
    /// measured against the answer's own `Date` (the server's clock;
    /// without a `Date`, `u32::MAX`: the longest wait the caller allows).
    pub retry_after: Option<u32>,
    /// The captured values' raw bytes: read (UTF-8 checked, parsed) only
    /// by the accessors, so an image that never asks for them carries none
    /// of that code.
    captured: heapless::Vec<u8, CAPTURE_CAPACITY>,
    cookie: Option<Span>,
    filename: Option<Span>,
    location: Option<Span>,
}

impl ResponseHead {
    const fn new() -> Self {
        Self {
            status: 0,
            content_type: ContentType::Missing,
            framing: BodyFraming::Empty,
            keep_alive: false,
            retry_after: None,
            captured: heapless::Vec::new(),
            cookie: None,
            filename: None,
            location: None,
        }
    }

    /// True for 3xx statuses that carry a `Location`.
    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308) && self.location.is_some()
    }

    /// The session cookie, if the response sets one (the first
    /// `Set-Cookie`); `None` when it is not a valid `name=value` pair.
    pub fn session_cookie(&self) -> Option<SessionCookie> {
        SessionCookie::from_set_cookie(self.raw(self.cookie)?).ok()
    }

    /// `Content-Disposition` file name of a download (of the first
    /// `Content-Disposition`, unquoted), when it is UTF-8.
    pub fn filename(&self) -> Option<&str> {
        let name = disposition_filename(self.raw(self.filename)?)?;
        core::str::from_utf8(name).ok()
    }

    /// `Location` of a redirect, when it is UTF-8.
    pub fn location(&self) -> Option<&str> {
        core::str::from_utf8(self.raw(self.location)?).ok()
    }

    fn raw(&self, span: Option<Span>) -> Option<&[u8]> {
        let s = span?;
        self.captured.get(usize::from(s.start)..usize::from(s.end))
    }
}

/// Keeps `v` (header `name`'s value) in the capture area `area` and
/// records where in `slot`, unless one of its kind is already kept (the
/// first wins).
fn capture(
    area: &mut heapless::Vec<u8, CAPTURE_CAPACITY>,
    slot: &mut Option<Span>,
    name: &'static str,
    v: &[u8],
) -> Result<(), HttpError> {
    if slot.is_some() {
        return Ok(());
    }
    let start = area.len();
    area.extend_from_slice(v)
        .map_err(|_| HttpError::HeaderTooLong(name))?;
    // Both ends are at most CAPTURE_CAPACITY.
    let end = area.len();
    *slot = Some(Span {
        start: u16::try_from(start).unwrap_or(0),
        end: u16::try_from(end).unwrap_or(0),
    });
    Ok(())
}

impl fmt::Debug for ResponseHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseHead")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("framing", &self.framing)
            .field("keep_alive", &self.keep_alive)
            .field("retry_after", &self.retry_after)
            .field("session_cookie", &self.cookie.map(|_| "<redacted>"))
            .field("filename", &self.filename())
            .field("location", &self.location())
            .finish()
    }
}

#[derive(Clone, Debug)]
enum State {
    Head,
    Length { left: u64, total: u64 },
    Chunked(ChunkedDecoder),
    Close { received: u64 },
    Done,
}

/// Decodes one response.
#[derive(Clone, Debug)]
pub struct ResponseDecoder {
    state: State,
    limit: Option<u64>,
    /// The final head, once read (`state` is past `Head`).
    head: ResponseHead,
    /// Interim (1xx) heads read before the final one.
    interim: u8,
}

/// Most interim (1xx) answers read before the final head: a server may
/// send `100 Continue` or `103 Early Hints` once or twice, not forever.
pub const MAX_INTERIM: u8 = 8;

impl Default for ResponseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

/// The `filename` parameter of a `Content-Disposition` value, unquoted.
fn disposition_filename(v: &[u8]) -> Option<&[u8]> {
    for param in v.split(|&b| b == b';').skip(1) {
        let param = param.trim_ascii();
        let Some(eq) = param.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (name, value) = param.split_at(eq);
        if !name.trim_ascii().eq_ignore_ascii_case(b"filename") {
            continue;
        }
        let value = value.get(1..).unwrap_or(&[]).trim_ascii();
        return Some(match value {
            [b'"', inner @ .., b'"'] => inner,
            v => v,
        });
    }
    None
}

impl ResponseDecoder {
    /// A decoder for a response to a GET or POST.
    pub fn new() -> Self {
        Self {
            state: State::Head,
            limit: None,
            head: ResponseHead::new(),
            interim: 0,
        }
    }

    /// Refuses bodies longer than `limit` (announced or received).
    pub fn with_body_limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The head, once [`Progress::Head`] was returned.
    pub fn head(&self) -> Option<&ResponseHead> {
        (!matches!(self.state, State::Head)).then_some(&self.head)
    }

    /// True once the body is complete.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Decodes from `input`, giving at most `max_body` body bytes per
    /// [`Progress::Item`]. Returns the bytes consumed and what was found. The head
    /// must fit in the input at once: when `input` is as large as the
    /// caller's buffer and [`Progress::NeedMore`] comes before the head, the
    /// head is too large ([`HttpError::HeadTooLarge`]).
    #[inline(never)]
    pub fn decode<'a>(
        &mut self,
        input: &'a [u8],
        max_body: usize,
    ) -> Result<(usize, Progress<&'a [u8]>), Error> {
        let mut used = 0usize;
        loop {
            let rest = input.get(used..).unwrap_or(&[]);
            match &mut self.state {
                State::Head => {
                    let head = match super::head::parse(rest) {
                        Ok(Some(head)) => head,
                        Ok(None) => return Ok((used, Progress::NeedMore)),
                        Err(why) => return Err(HttpError::MalformedHead(why).into()),
                    };
                    used = used.saturating_add(head.len);
                    if (100..200).contains(&head.status) {
                        // 100 Continue and friends precede the real head,
                        // a few of them.
                        self.interim = self.interim.saturating_add(1);
                        if self.interim > MAX_INTERIM {
                            return Err(HttpError::TooManyInterim { limit: MAX_INTERIM }.into());
                        }
                        continue;
                    }
                    interpret(&mut self.head, self.limit, &head)?;
                    self.state = match self.head.framing {
                        BodyFraming::Length(0) | BodyFraming::Empty => State::Done,
                        BodyFraming::Length(n) => State::Length { left: n, total: n },
                        BodyFraming::Chunked => State::Chunked(ChunkedDecoder::default()),
                        BodyFraming::Close => State::Close { received: 0 },
                    };
                    return Ok((used, Progress::Head));
                }
                State::Length { left, total } => {
                    if rest.is_empty() || max_body == 0 {
                        return Ok((used, Progress::NeedMore));
                    }
                    let n = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(rest.len())
                        .min(max_body);
                    *left = left.saturating_sub(n as u64);
                    let _ = total;
                    if *left == 0 {
                        self.state = State::Done;
                    }
                    return Ok((
                        used.saturating_add(n),
                        Progress::Item(rest.get(..n).unwrap_or(&[])),
                    ));
                }
                State::Chunked(c) => {
                    let (n, ev) = c.decode(rest, max_body)?;
                    used = used.saturating_add(n);
                    let received = c.received();
                    self.check_limit(received)?;
                    return Ok(match ev {
                        Progress::Item(d) => (used, Progress::Item(d)),
                        Progress::NeedMore => (used, Progress::NeedMore),
                        Progress::Done | Progress::Head => {
                            self.state = State::Done;
                            (used, Progress::Done)
                        }
                    });
                }
                State::Close { received } => {
                    if rest.is_empty() || max_body == 0 {
                        return Ok((used, Progress::NeedMore));
                    }
                    let n = rest.len().min(max_body);
                    *received = received.saturating_add(n as u64);
                    let r = *received;
                    self.check_limit(r)?;
                    return Ok((
                        used.saturating_add(n),
                        Progress::Item(rest.get(..n).unwrap_or(&[])),
                    ));
                }
                State::Done => return Ok((used, Progress::Done)),
            }
        }
    }

    /// The connection closed. Completes a close-delimited body; anything
    /// else still open is [`HttpError::TruncatedBody`].
    pub fn close(&mut self) -> Result<(), Error> {
        match &self.state {
            State::Done => Ok(()),
            State::Close { .. } => {
                self.state = State::Done;
                Ok(())
            }
            State::Head => Err(HttpError::MalformedHead(text!(
                "connection closed before the response head"
            ))
            .into()),
            State::Length { left, total } => Err(HttpError::TruncatedBody {
                received: total.saturating_sub(*left),
                expected: core::num::NonZeroU64::new(*total),
            }
            .into()),
            State::Chunked(c) => Err(HttpError::TruncatedBody {
                received: c.received(),
                expected: None,
            }
            .into()),
        }
    }

    fn check_limit(&self, n: u64) -> Result<(), HttpError> {
        match self.limit {
            Some(limit) if n > limit => Err(HttpError::BodyTooLarge { length: n, limit }),
            _ => Ok(()),
        }
    }
}

/// Seconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37
/// GMT`), the form servers send (the obsolete RFC 850 and asctime forms
/// are not taken; the day name is not checked).
fn http_date(v: &[u8]) -> Option<i64> {
    const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";
    let at = |i: usize| v.get(i).copied();
    let separators = [(7, b' '), (11, b' '), (16, b' '), (19, b':'), (22, b':')];
    if v.len() != 29
        || v.get(3..5) != Some(b", ")
        || v.get(25..) != Some(b" GMT")
        || separators.iter().any(|&(i, c)| at(i) != Some(c))
    {
        return None;
    }
    let num = |r: core::ops::Range<usize>| -> Option<u16> {
        let digits = v.get(r)?;
        digits.iter().try_fold(0u16, |n, &d| {
            d.is_ascii_digit().then(|| {
                n.saturating_mul(10)
                    .saturating_add(u16::from(d.saturating_sub(b'0')))
            })
        })
    };
    let name = v.get(8..11)?;
    let month = MONTHS.chunks(3).position(|m| m == name)?;
    let small = |n: Option<u16>| n.and_then(|n| u8::try_from(n).ok());
    let t = crate::types::Timestamp::from_parts(
        num(12..16)?,
        u8::try_from(month.saturating_add(1)).ok()?,
        small(num(5..7))?,
        small(num(17..19))?,
        small(num(20..22))?,
        small(num(23..25))?,
    )
    .ok()?;
    Some(t.unix())
}

/// Reads the headers we act on into `out`, in place (a head is large; it
/// is never moved).
#[inline(never)]
fn interpret(
    out: &mut ResponseHead,
    limit: Option<u64>,
    head: &super::head::Head<'_>,
) -> Result<(), HttpError> {
    let (status, version) = (head.status, head.version);
    out.status = status;
    out.content_type = ContentType::Missing;
    out.captured.clear();
    out.cookie = None;
    out.filename = None;
    out.location = None;
    out.retry_after = None;
    let mut length: Option<u64> = None;
    let (mut retry_at, mut date) = (None, None);
    let mut chunked = false;
    let mut connection_close = version == 0;
    for (name, v) in head.headers() {
        if name.eq_ignore_ascii_case(b"content-type") {
            out.content_type = ContentType::parse(v);
        } else if name.eq_ignore_ascii_case(b"content-length") {
            for part in v.split(|&b| b == b',') {
                // Digits only (no sign, no space inside), at most u64.
                let n = decimal_u64(part.trim_ascii()).ok_or(HttpError::BadContentLength)?;
                if length.is_some_and(|l| l != n) {
                    return Err(HttpError::ConflictingContentLength);
                }
                length = Some(n);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            let last = v.rsplit(|&b| b == b',').next().unwrap_or(&[]).trim_ascii();
            if !last.eq_ignore_ascii_case(b"chunked") {
                return Err(HttpError::UnsupportedTransferEncoding);
            }
            chunked = true;
        } else if name.eq_ignore_ascii_case(b"connection") {
            for token in v.split(|&b| b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    connection_close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && version == 0 {
                    connection_close = false;
                }
            }
        } else if name.eq_ignore_ascii_case(b"set-cookie") {
            // Only the first cookie's `name=value` pair is kept (checked
            // when read); later ones are ignored, whatever their size.
            let pair = v.split(|&b| b == b';').next().unwrap_or(&[]).trim_ascii();
            if out.cookie.is_none() && pair.len() > COOKIE_CAPACITY {
                return Err(HttpError::HeaderTooLong("Set-Cookie"));
            }
            capture(&mut out.captured, &mut out.cookie, "Set-Cookie", pair)?;
        } else if name.eq_ignore_ascii_case(b"content-disposition") {
            capture(
                &mut out.captured,
                &mut out.filename,
                "Content-Disposition",
                v,
            )?;
        } else if name.eq_ignore_ascii_case(b"location") {
            capture(&mut out.captured, &mut out.location, "Location", v)?;
        } else if name.eq_ignore_ascii_case(b"retry-after") {
            out.retry_after = decimal_u64(v).and_then(|n| u32::try_from(n).ok());
            retry_at = http_date(v);
        } else if name.eq_ignore_ascii_case(b"date") {
            date = http_date(v);
        }
    }
    out.retry_after = match (out.retry_after, retry_at, date) {
        (None, Some(at), Some(now)) => {
            Some(u32::try_from(at.saturating_sub(now).max(0)).unwrap_or(u32::MAX))
        }
        // A date with no `Date` to measure it against: a time we cannot
        // place, so the longest wait (the caller caps it); never sooner
        // than asked.
        (None, Some(_), None) => Some(u32::MAX),
        (given, _, _) => given,
    };
    // No HEAD requests are sent: only these statuses have no body.
    let framing = if status == 204 || status == 304 {
        BodyFraming::Empty
    } else if chunked {
        BodyFraming::Chunked
    } else if let Some(n) = length {
        BodyFraming::Length(n)
    } else {
        BodyFraming::Close
    };
    if let (BodyFraming::Length(n), Some(limit)) = (framing, limit) {
        if n > limit {
            return Err(HttpError::BodyTooLarge { length: n, limit });
        }
    }
    out.framing = framing;
    // A body that ends with the connection leaves nothing to reuse, and
    // a response with both framings may be a smuggling attempt.
    out.keep_alive =
        !connection_close && framing != BodyFraming::Close && !(chunked && length.is_some());
    Ok(())
}

/// Digits only, no sign, no overflow (core's `str::parse` would do, at
/// several hundred bytes of firmware flash more).
fn decimal_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let d = d.checked_sub(b'0').filter(|d| *d <= 9)?;
        n.checked_mul(10)?.checked_add(u64::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::http_date;
    use proptest::prelude::*;
    use std::time::{Duration, UNIX_EPOCH};

    extern crate std;

    proptest! {
        /// Every date the `httpdate` crate writes (years 1970..=9999) reads
        /// back as the same second.
        #[test]
        fn reads_what_an_independent_formatter_writes(secs in 0u64..253_402_300_799) {
            let text = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
            prop_assert_eq!(http_date(text.as_bytes()), Some(secs as i64), "{}", text);
        }

        /// Arbitrary bytes never panic, and whatever is accepted the oracle
        /// accepts as the same second.
        #[test]
        fn arbitrary_bytes_are_refused_or_agree_with_the_oracle(v in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Some(t) = http_date(&v) {
                let text = std::str::from_utf8(&v).unwrap();
                let oracle = httpdate::parse_http_date(text).unwrap();
                prop_assert_eq!(oracle.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64, t);
            }
        }
    }

    #[test]
    fn a_date_with_wrong_separators_is_refused() {
        assert_eq!(
            http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        for bad in [
            &b"Sun, 06xNov 1994 08:49:37 GMT"[..],
            b"Sun, 06 Nov 1994 08.49:37 GMT",
            b"Sun, 06 Nov 1994T08:49:37 GMT",
            b"Sun, 06 Nov 1994 08:49:37 UTC",
            b"Sunday, 06-Nov-94 08:49:37 GMT",
        ] {
            assert_eq!(
                http_date(bad),
                None,
                "{}",
                std::str::from_utf8(bad).unwrap()
            );
        }
    }
}
