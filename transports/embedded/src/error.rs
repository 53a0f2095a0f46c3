//! The transport's error type.

use core::fmt;

use embedded_io::ErrorKind;

/// Everything that can go wrong talking to the API over embedded-io.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The connection failed (the stream's error kind).
    Io(ErrorKind),
    /// The peer closed the connection (a read returned 0, or a write
    /// wrote nothing).
    Closed,
    /// Reading the sample failed.
    Sample,
    /// The sample changed between hashing and upload (its length differs).
    SampleChanged,
    /// The caller's download sink refused a piece (its error kind).
    Sink(ErrorKind),
    /// The protocol core refused something outside an exchange (a
    /// workflow driven out of order, a cursor that cannot be restored).
    Core(lastline_core::Error),
    /// An exchange with the server failed: the error (API code, HTTP
    /// status, transport failure), the server's message, the attempts.
    Exchange(lastline_core::exchange::Failure),
}

impl lastline_core::workflow::ApiFailure for Error {
    fn api_code(&self) -> Option<lastline_core::ErrorCode> {
        Error::api_code(self)
    }
}

impl Error {
    /// Whether trying again later can help: API 107, HTTP 5xx, and any
    /// connection failure.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Io(_) | Self::Closed => true,
            Self::Core(e) => e.is_retryable(),
            Self::Exchange(f) => f.error.is_retryable(),
            Self::Sample | Self::SampleChanged | Self::Sink(_) => false,
        }
    }

    /// Whether the connection is gone — the server closed it, it broke, or
    /// the server stayed unavailable through the client's retries — so
    /// that a new connection (a new TLS session) may carry on where the
    /// work stood. For callers that open connections themselves and give
    /// them to `Client::with_connection` (a connector that refuses to
    /// reconnect makes the next request fail so).
    pub fn ends_connection(&self) -> bool {
        match self {
            Self::Io(_) | Self::Closed => true,
            Self::Exchange(f) => {
                matches!(f.error, lastline_core::Error::Transport(_)) || f.error.is_retryable()
            }
            _ => false,
        }
    }

    /// The API error code, if the API answered with an error.
    pub fn api_code(&self) -> Option<lastline_core::ErrorCode> {
        match self {
            Self::Core(e) => e.api_code(),
            Self::Exchange(f) => f.error.api_code(),
            _ => None,
        }
    }

    /// The core's error, wherever it is held.
    pub fn core(&self) -> Option<&lastline_core::Error> {
        match self {
            Self::Core(e) => Some(e),
            Self::Exchange(f) => Some(&f.error),
            _ => None,
        }
    }
}

impl From<lastline_core::exchange::Failure> for Error {
    fn from(f: lastline_core::exchange::Failure) -> Self {
        Self::Exchange(f)
    }
}

impl From<lastline_core::Error> for Error {
    fn from(e: lastline_core::Error) -> Self {
        Self::Core(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(k) => write!(f, "connection failed: {k:?}"),
            Self::Closed => f.write_str("connection closed by the peer"),
            Self::Sample => f.write_str("reading the sample failed"),
            Self::SampleChanged => f.write_str("the sample changed between hashing and upload"),
            Self::Sink(k) => write!(f, "storing the download failed: {k:?}"),
            Self::Core(e) => e.fmt(f),
            Self::Exchange(x) => x.fmt(f),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Core(e) => Some(e),
            Self::Exchange(f) => Some(f),
            _ => None,
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Error {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Io(k) => defmt::write!(f, "io: {}", k),
            Self::Closed => defmt::write!(f, "closed"),
            Self::Sample => defmt::write!(f, "sample unreadable"),
            Self::SampleChanged => defmt::write!(f, "sample changed"),
            Self::Sink(k) => defmt::write!(f, "sink: {}", k),
            Self::Core(e) => defmt::write!(f, "{}", e),
            Self::Exchange(x) => defmt::write!(f, "{}", x),
        }
    }
}

#[cfg(test)]
mod ends_connection_tests {
    use super::Error;
    use lastline_core::exchange::Failure;
    use lastline_core::{ApiError, ErrorCode, Transport};

    fn failed(error: lastline_core::Error) -> Error {
        Error::Exchange(Failure {
            error,
            attempts: 1,
            status: None,
            message: None,
        })
    }

    #[test]
    fn the_connection_ends_with_transport_failures_and_spent_retries_only() {
        assert!(Error::Closed.ends_connection());
        assert!(Error::Io(embedded_io::ErrorKind::ConnectionReset).ends_connection());
        assert!(failed(lastline_core::Error::Transport(Transport::Refused)).ends_connection());
        assert!(failed(lastline_core::Error::HttpStatus { status: 503 }).ends_connection());
        let api = |code| failed(lastline_core::Error::Api(ApiError { code: Some(code) }));
        assert!(api(ErrorCode::TemporarilyUnavailable).ends_connection());
        assert!(!api(ErrorCode::FileUploadRequired).ends_connection());
        assert!(!failed(lastline_core::Error::HttpStatus { status: 404 }).ends_connection());
        assert!(!Error::SampleChanged.ends_connection());
    }
}
