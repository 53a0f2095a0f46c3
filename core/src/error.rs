//! The crate's one error type.

use core::fmt;

use crate::api_error::ApiError;
use crate::http::ContentType;

/// What was wrong with an HTTP response's head or framing.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HttpError {
    /// The status line or a header is not HTTP/1.x (what was wrong).
    MalformedHead(&'static str),
    /// A response head larger than the caller's buffer.
    HeadTooLarge,
    /// `Content-Length` is not a decimal number that fits in 64 bits.
    BadContentLength,
    /// Two `Content-Length` headers disagree.
    ConflictingContentLength,
    /// A `Transfer-Encoding` other than `chunked`.
    UnsupportedTransferEncoding,
    /// The chunked framing is broken (what was wrong).
    BadChunk(&'static str),
    /// The connection ended before the body did.
    TruncatedBody {
        /// Body bytes received.
        received: u64,
        /// Body bytes announced (`None` for chunked). Never zero: an
        /// empty body cannot be cut short (and the niche keeps every
        /// `Result` carrying an error 8 bytes smaller).
        expected: Option<core::num::NonZeroU64>,
    },
    /// A header we keep (cookie, file name, location) is longer than its
    /// capacity.
    HeaderTooLong(&'static str),
    /// More interim (1xx) answers before the final head than are read.
    TooManyInterim {
        /// How many are read.
        limit: u8,
    },
    /// A body longer than the caller allows for this response.
    BodyTooLarge {
        /// Bytes announced or seen.
        length: u64,
        /// Bytes allowed.
        limit: u64,
    },
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedHead(what) => write!(f, "malformed HTTP response head: {what}"),
            Self::HeadTooLarge => f.write_str("HTTP response head larger than the buffer"),
            Self::BadContentLength => f.write_str("invalid Content-Length"),
            Self::ConflictingContentLength => f.write_str("conflicting Content-Length headers"),
            Self::UnsupportedTransferEncoding => f.write_str("unsupported Transfer-Encoding"),
            Self::BadChunk(what) => write!(f, "bad chunked encoding: {what}"),
            Self::TruncatedBody {
                received,
                expected: Some(e),
            } => {
                write!(f, "connection closed after {received} of {e} body bytes")
            }
            Self::TruncatedBody {
                received,
                expected: None,
            } => {
                write!(
                    f,
                    "connection closed inside the chunked body after {received} bytes"
                )
            }
            Self::HeaderTooLong(name) => write!(f, "header {name} is longer than its capacity"),
            Self::BodyTooLarge { length, limit } => {
                write!(f, "body of {length} bytes exceeds the limit of {limit}")
            }
            Self::TooManyInterim { limit } => {
                write!(
                    f,
                    "more than {limit} interim (1xx) answers before the response"
                )
            }
        }
    }
}

/// What was wrong with a JSON value.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum JsonError {
    /// Not JSON at this point (what was expected).
    Syntax(&'static str),
    /// Valid JSON of the wrong type (the type expected).
    WrongType(&'static str),
    /// A string longer than the field's capacity.
    TooLong {
        /// Bytes the field holds.
        capacity: usize,
    },
    /// More list or map entries than the capacity.
    TooManyItems {
        /// Entries the field holds.
        capacity: usize,
    },
    /// Nesting deeper than the parser allows.
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A string is not UTF-8.
    InvalidUtf8,
    /// A bad `\` escape in a string.
    InvalidEscape,
    /// A number outside the field's range.
    NumberOutOfRange,
    /// The right type but not an allowed value (what was expected).
    InvalidValue(&'static str),
    /// Bytes after the end of the document.
    TrailingData,
    /// The same key twice.
    DuplicateKey,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(what) => write!(f, "invalid JSON, expected {what}"),
            Self::WrongType(what) => write!(f, "expected {what}"),
            Self::TooLong { capacity } => {
                write!(f, "string longer than its capacity of {capacity} bytes")
            }
            Self::TooManyItems { capacity } => write!(f, "more than {capacity} entries"),
            Self::TooDeep { limit } => write!(f, "nested deeper than {limit} levels"),
            Self::InvalidUtf8 => f.write_str("string is not valid UTF-8"),
            Self::InvalidEscape => f.write_str("invalid escape sequence in string"),
            Self::NumberOutOfRange => f.write_str("number out of range"),
            Self::InvalidValue(what) => write!(f, "invalid value, expected {what}"),
            Self::TrailingData => f.write_str("data after the end of the JSON document"),
            Self::DuplicateKey => f.write_str("duplicate key"),
        }
    }
}

/// How the byte stream under an exchange failed, as its driver reports it
/// ([`crate::exchange::Exchange::failed`]).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Transport {
    /// No connection could be opened (DNS, refused, unreachable).
    Connect,
    /// The peer closed the connection or reset it.
    Closed,
    /// Reading or writing failed otherwise.
    Io,
    /// A read or write took longer than the driver allows.
    TimedOut,
    /// A failure no retry can fix: the server's TLS certificate was not
    /// verified, the driver cannot reach that origin, and the like.
    Refused,
}

impl Transport {
    fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "cannot connect",
            Self::Closed => "connection closed",
            Self::Io => "connection failed",
            Self::TimedOut => "timed out",
            Self::Refused => "connection refused for good (TLS verification or policy)",
        }
    }
}

/// What an HTTP status means when no envelope explains it.
pub fn status_meaning(status: u16) -> &'static str {
    match status {
        300..=399 => "redirect (follow Location)",
        400 => "Bad Request",
        401 => "Unauthorized: access to the service was denied",
        403 => "Forbidden",
        404 => "Not Found: the requested item is not available",
        405 => "Method Not Allowed",
        410 => "Gone: the item is no longer available",
        412 => "Precondition Failed: the task uuid is not valid",
        413 => "Request Entity Too Large",
        422 => "Unprocessable Entity: an identifier is not valid",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ if (500..600).contains(&status) => "server error",
        _ => "unexpected status",
    }
}

/// The error for an HTTP status that no envelope explains.
pub fn status_error(status: u16) -> Error {
    Error::HttpStatus { status }
}

/// Everything that can go wrong in `lastline-core`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// A request parameter was refused before any byte was written.
    InvalidParam {
        /// The parameter's name in the reference.
        param: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A required request parameter is missing.
    MissingParam {
        /// The parameter's name in the reference.
        param: &'static str,
    },
    /// A header value would contain CR, LF or another control byte.
    HeaderInjection {
        /// The header's name.
        header: &'static str,
    },
    /// The response's HTTP head or framing is broken.
    Http(HttpError),
    /// The server answered with an HTTP error status and no API envelope
    /// (an HTML 502 page, or a raw download's documented failure status).
    /// What the status means is [`status_meaning`]
    /// (shown by `Display`; not stored, so firmware that never formats an
    /// error carries none of that text).
    HttpStatus {
        /// The status code.
        status: u16,
    },
    /// HTTP 413: a front proxy refused the upload as too large.
    PayloadTooLarge,
    /// A body that should be a JSON envelope is something else (an HTML
    /// page, a PDF, empty).
    NotAnEnvelope {
        /// The response's status.
        status: u16,
        /// Its `Content-Type`.
        content_type: ContentType,
    },
    /// A JSON value in the response is wrong.
    Json {
        /// Which field (`data.tasks[].task_uuid`, `success`, ...).
        at: &'static str,
        /// What was wrong.
        kind: JsonError,
    },
    /// A field the reference requires is absent.
    MissingField {
        /// Which field.
        field: &'static str,
    },
    /// The envelope has no `success`, or `success` is 1 without `data`.
    BadEnvelope(&'static str),
    /// A unit of the response (a field or list entry) does not fit in the
    /// caller's buffer.
    BufferTooSmall {
        /// The buffer's size.
        capacity: usize,
    },
    /// The API answered with a failure envelope.
    Api(ApiError),
    /// The session expired again right after a fresh login.
    SessionExpired,
    /// Bytes given to restore a cursor are not a cursor this crate wrote.
    CorruptState,
    /// A workflow was driven out of order (what it expected).
    WorkflowMisuse(&'static str),
    /// The connection failed (as the driver reported it).
    Transport(Transport),
    /// More redirects in a row than an exchange follows.
    TooManyRedirects {
        /// How many it follows.
        limit: u8,
    },
    /// A redirect from HTTPS to plain HTTP, or to a `Location` that is not
    /// a URL the exchange can follow.
    BadRedirect(&'static str),
    /// A download had to start again after part of it reached the sink,
    /// and the sink cannot start over.
    SinkCannotRestart,
    /// The server redirected an upload to another origin: the sample is
    /// not sent there (the reference documents datacenter redirects for
    /// reads, never for submissions). The exchange's
    /// [`Failure::message`](crate::exchange::Failure::message) holds the
    /// `Location` it named.
    UploadRedirected,
    /// A completion page would move the cursor implausibly far ahead: its
    /// `resume` past its own `before`, or past the caller's clock. The
    /// cursor is not moved (it would skip every completion until then).
    CursorAhead {
        /// Where the page would move the cursor.
        next: crate::types::Timestamp,
        /// What it may not pass by the allowance: the page's `before`,
        /// or the caller's clock.
        limit: crate::types::Timestamp,
    },
}

impl Error {
    /// True for errors that a retry after a delay can fix: 107, HTTP 5xx
    /// without an envelope, and a body cut off by the connection.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(e) => e.is_retryable(),
            Self::HttpStatus { status, .. } => *status >= 500 || *status == 429,
            Self::Http(HttpError::TruncatedBody { .. }) => true,
            Self::Transport(t) => !matches!(t, Transport::Refused),
            _ => false,
        }
    }

    /// The API error code, if this is a failure envelope.
    pub fn api_code(&self) -> Option<crate::ErrorCode> {
        match self {
            Self::Api(e) => e.code,
            _ => None,
        }
    }

    pub(crate) fn json(at: &'static str, kind: JsonError) -> Self {
        Self::Json { at, kind }
    }
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        Self::Http(e)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidParam { param, reason } => {
                write!(f, "invalid parameter {param}: {reason}")
            }
            Self::MissingParam { param } => write!(f, "missing required parameter {param}"),
            Self::HeaderInjection { header } => {
                write!(f, "value of header {header} has control characters")
            }
            Self::Http(e) => e.fmt(f),
            Self::HttpStatus { status } => write!(f, "HTTP {status}: {}", status_meaning(*status)),
            Self::PayloadTooLarge => {
                f.write_str("HTTP 413: the upload is larger than the server accepts")
            }
            Self::NotAnEnvelope {
                status,
                content_type,
            } => {
                write!(
                    f,
                    "HTTP {status} response is not a JSON envelope (Content-Type: {content_type})"
                )
            }
            Self::Json { at, kind } => write!(f, "response field {at}: {kind}"),
            Self::MissingField { field } => write!(f, "response lacks required field {field}"),
            Self::BadEnvelope(what) => write!(f, "malformed envelope: {what}"),
            Self::BufferTooSmall { capacity } => {
                write!(
                    f,
                    "a response field or entry does not fit in the {capacity}-byte buffer"
                )
            }
            Self::Api(e) => e.fmt(f),
            Self::SessionExpired => f.write_str("session expired again right after logging in"),
            Self::CorruptState => f.write_str("saved state is corrupt or from another version"),
            Self::WorkflowMisuse(what) => write!(f, "workflow driven out of order: {what}"),
            Self::Transport(t) => f.write_str(t.as_str()),
            Self::TooManyRedirects { limit } => write!(f, "more than {limit} redirects"),
            Self::BadRedirect(what) => write!(f, "redirect not followed: {what}"),
            Self::SinkCannotRestart => {
                f.write_str("the download had to start again and its destination cannot start over")
            }
            Self::UploadRedirected => {
                f.write_str("the server redirected the upload to another origin (not sent there)")
            }
            Self::CursorAhead { next, limit } => write!(
                f,
                "completion page would move the cursor to {next}, far past {limit}: not moved"
            ),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(feature = "defmt")]
impl defmt::Format for Error {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::InvalidParam { param, reason } => {
                defmt::write!(f, "invalid parameter {=str}: {=str}", param, reason)
            }
            Self::MissingParam { param } => defmt::write!(f, "missing parameter {=str}", param),
            Self::HeaderInjection { header } => {
                defmt::write!(f, "header injection in {=str}", header)
            }
            Self::Http(e) => defmt::write!(f, "{}", e),
            Self::HttpStatus { status } => {
                defmt::write!(f, "HTTP {=u16}: {=str}", status, status_meaning(*status))
            }
            Self::PayloadTooLarge => defmt::write!(f, "HTTP 413"),
            Self::NotAnEnvelope {
                status,
                content_type,
            } => defmt::write!(f, "HTTP {=u16} not an envelope ({})", status, content_type),
            Self::Json { at, kind } => defmt::write!(f, "field {=str}: {}", at, kind),
            Self::MissingField { field } => defmt::write!(f, "missing field {=str}", field),
            Self::BadEnvelope(w) => defmt::write!(f, "bad envelope: {=str}", w),
            Self::BufferTooSmall { capacity } => {
                defmt::write!(f, "buffer of {=usize} too small", capacity)
            }
            Self::Api(e) => defmt::write!(f, "{}", e),
            Self::SessionExpired => defmt::write!(f, "session expired"),
            Self::CorruptState => defmt::write!(f, "corrupt state"),
            Self::WorkflowMisuse(w) => defmt::write!(f, "workflow misuse: {=str}", w),
            Self::Transport(t) => defmt::write!(f, "{=str}", t.as_str()),
            Self::TooManyRedirects { limit } => defmt::write!(f, "over {=u8} redirects", limit),
            Self::BadRedirect(w) => defmt::write!(f, "bad redirect: {=str}", w),
            Self::SinkCannotRestart => defmt::write!(f, "sink cannot restart"),
            Self::UploadRedirected => defmt::write!(f, "upload redirected to another origin"),
            Self::CursorAhead { next, limit } => defmt::write!(
                f,
                "cursor ahead: {=i64} past {=i64}",
                next.unix(),
                limit.unix()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    /// The explanation is there with `error-text` and gone without it;
    /// either way the error names the field and the kind of problem.
    #[test]
    fn error_text_follows_its_feature() {
        let shown = Error::json("score", JsonError::WrongType(text!("an integer"))).to_string();
        assert!(
            shown.contains("score") && shown.contains("expected"),
            "{shown}"
        );
        assert_eq!(
            shown.contains("an integer"),
            cfg!(feature = "error-text"),
            "{shown}"
        );
    }
}
