//! The client's one error type.

use std::fmt;
use std::io;

use lastline_core::{ApiError, ApiMessage, ErrorCode};

/// Everything that can go wrong, with the API's answer, the HTTP status,
/// the connection and our own validation kept apart.
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// The API answered with an error envelope.
    Api {
        /// The error code (its name: [`ErrorCode::name`]); the reference
        /// makes it optional.
        code: Option<ErrorCode>,
        /// The server's message.
        message: String,
    },
    /// The server answered with an HTTP status that carries no envelope
    /// (404 on a download, a proxy's 502 page, 413 for an upload).
    Http {
        /// The status code.
        status: u16,
        /// What the reference says it means.
        meaning: &'static str,
    },
    /// A request was refused before any byte was sent (a parameter out of
    /// range, a malformed hash, bad credentials).
    Invalid(Box<lastline_core::Error>),
    /// The server's answer could not be understood (bad framing, bad JSON,
    /// a value over capacity).
    Protocol(Box<lastline_core::Error>),
    /// Connecting, TLS or the connection failed.
    Transport {
        /// The kind of failure.
        kind: io::ErrorKind,
        /// What the connection layer said.
        detail: String,
    },
    /// The server did not answer in time.
    Timeout(String),
    /// Reading the sample or writing a download failed.
    Io(io::Error),
    /// The sample changed between hashing and upload.
    SampleChanged,
    /// The configuration is unusable (URL, CA file, plain HTTP).
    Config(String),
}

impl Error {
    /// The API error code, if the API answered with an error.
    pub fn api_code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { code, .. } => *code,
            _ => None,
        }
    }

    /// The HTTP status, for [`Error::Http`].
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    fn api(a: ApiError, message: Option<&ApiMessage>) -> Self {
        let message = message.map_or_else(String::new, |m| {
            let mut text = m.text.as_str().to_owned();
            if m.truncated {
                text.push('…');
            }
            text
        });
        Self::Api {
            code: a.code,
            message,
        }
    }

    /// Maps the embedded client's error; `detail` is what the connection
    /// layer said about the last failure, if anything, and `message` the
    /// failure envelope's text.
    pub(crate) fn from_embedded(e: lastline_embedded::Error, detail: Option<String>) -> Self {
        use lastline_core::Error as Core;
        use lastline_core::Transport as T;
        use lastline_embedded::Error as E;
        // An exchange's failure: its error, with the server's message.
        let (e, message) = match e {
            E::Exchange(f) => (E::Core(f.error), f.message),
            other => (other, None),
        };
        let message = message.as_ref();
        match e {
            E::Core(Core::Transport(T::TimedOut)) => {
                Self::Timeout(detail.unwrap_or_else(|| "no answer in time".into()))
            }
            E::Core(Core::Transport(t)) => Self::Transport {
                kind: match t {
                    T::Closed => io::ErrorKind::UnexpectedEof,
                    T::Connect => io::ErrorKind::ConnectionRefused,
                    _ => io::ErrorKind::Other,
                },
                detail: detail.unwrap_or_else(|| Core::Transport(t).to_string()),
            },
            E::Core(Core::Api(a)) => Self::api(a, message),
            E::Core(Core::HttpStatus { status }) => Self::Http {
                status,
                meaning: lastline_core::response::status_meaning(status),
            },
            E::Core(Core::PayloadTooLarge) => Self::Http {
                status: 413,
                meaning: lastline_core::response::status_meaning(413),
            },
            E::Core(Core::NotAnEnvelope { status, .. }) if status != 200 => Self::Http {
                status,
                meaning: lastline_core::response::status_meaning(status),
            },
            E::Core(
                c @ (Core::InvalidParam { .. }
                | Core::MissingParam { .. }
                | Core::HeaderInjection { .. }),
            ) => Self::Invalid(Box::new(c)),
            E::Core(c) => Self::Protocol(Box::new(c)),
            E::Io(embedded_io::ErrorKind::TimedOut) => {
                Self::Timeout(detail.unwrap_or_else(|| "no answer in time".into()))
            }
            E::Io(kind) => Self::Transport {
                kind: kind.into(),
                detail: detail.unwrap_or_else(|| format!("{kind:?}")),
            },
            E::Closed => Self::Transport {
                kind: io::ErrorKind::UnexpectedEof,
                detail: detail.unwrap_or_else(|| "connection closed by the server".into()),
            },
            E::Sample(kind) => Self::Io(io::Error::new(kind.into(), "reading the sample failed")),
            E::SampleChanged => Self::SampleChanged,
            E::Sink(kind) => Self::Io(io::Error::new(kind.into(), "storing the download failed")),
            _ => Self::Transport {
                kind: io::ErrorKind::Other,
                detail: detail.unwrap_or_else(|| "unknown failure".into()),
            },
        }
    }
}

impl From<lastline_core::Error> for Error {
    fn from(e: lastline_core::Error) -> Self {
        Self::from_embedded(lastline_embedded::Error::Core(e), None)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api {
                code: Some(c),
                message,
            } => write!(f, "API error {c}: {message}"),
            Self::Api {
                code: None,
                message,
            } => write!(f, "API error: {message}"),
            Self::Http { status, meaning } => write!(f, "HTTP {status}: {meaning}"),
            Self::Invalid(e) => write!(f, "request refused before sending: {e}"),
            Self::Protocol(e) => write!(f, "unexpected answer from the server: {e}"),
            Self::Transport { detail, .. } => write!(f, "connection failed: {detail}"),
            Self::Timeout(d) => write!(f, "timed out: {d}"),
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::SampleChanged => f.write_str("the sample changed between hashing and upload"),
            Self::Config(m) => write!(f, "configuration: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Invalid(e) | Self::Protocol(e) => Some(&**e),
            _ => None,
        }
    }
}
