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
        /// The connection layer's error (ureq's), the error's `source()`.
        cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The server did not answer in time.
    Timeout(String),
    /// Waiting for tasks gave up before all had completed (the server
    /// answered; the analyses are still running).
    Pending {
        /// Awaited tasks that completed.
        completed: usize,
        /// Tasks awaited.
        awaited: usize,
        /// How long it waited.
        waited: std::time::Duration,
    },
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

    /// Maps an exchange's failure: its error with the server's message,
    /// and for a transport failure the connection layer's last error.
    pub(crate) fn from_failure(
        f: lastline_core::exchange::Failure,
        cause: Option<crate::connection::ConnError>,
    ) -> Self {
        let attempts = f.attempts;
        let e = Self::from_core(f.error, f.message.as_ref(), cause);
        match e {
            // Say how hard it tried.
            Self::Transport {
                kind,
                detail,
                cause,
            } if attempts > 1 => Self::Transport {
                kind,
                detail: format!("{detail} (after {attempts} attempts)"),
                cause,
            },
            e => e,
        }
    }

    fn from_core(
        e: lastline_core::Error,
        message: Option<&ApiMessage>,
        cause: Option<crate::connection::ConnError>,
    ) -> Self {
        use lastline_core::Error as Core;
        use lastline_core::Transport as T;
        let detail = |fallback: String| cause.as_ref().map_or(fallback, |c| c.to_string());
        match e {
            Core::Api(a) => Self::api(a, message),
            Core::HttpStatus { status } => Self::Http {
                status,
                meaning: lastline_core::response::status_meaning(status),
            },
            Core::PayloadTooLarge => Self::Http {
                status: 413,
                meaning: lastline_core::response::status_meaning(413),
            },
            Core::NotAnEnvelope { status, .. } if status != 200 => Self::Http {
                status,
                meaning: lastline_core::response::status_meaning(status),
            },
            c @ (Core::InvalidParam { .. }
            | Core::MissingParam { .. }
            | Core::HeaderInjection { .. }) => Self::Invalid(Box::new(c)),
            Core::Transport(T::TimedOut) => Self::Timeout(detail("no answer in time".into())),
            Core::Transport(t) => Self::Transport {
                kind: match t {
                    T::Closed => io::ErrorKind::UnexpectedEof,
                    T::Connect => io::ErrorKind::ConnectionRefused,
                    _ => io::ErrorKind::Other,
                },
                detail: detail(Core::Transport(t).to_string()),
                cause: cause.map(|c| Box::new(c) as Box<dyn std::error::Error + Send + Sync>),
            },
            c => Self::Protocol(Box::new(c)),
        }
    }
}

impl From<lastline_core::Error> for Error {
    fn from(e: lastline_core::Error) -> Self {
        Self::from_core(e, None, None)
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
            Self::Pending {
                completed,
                awaited,
                waited,
            } => write!(
                f,
                "still pending: {completed} of {awaited} tasks completed within {waited:?}"
            ),
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
            Self::Transport { cause: Some(c), .. } => Some(&**c),
            _ => None,
        }
    }
}
