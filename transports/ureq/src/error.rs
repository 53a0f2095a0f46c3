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
        /// Attempts made, the last one included.
        attempts: u32,
    },
    /// The server answered with an HTTP status that carries no envelope
    /// (404 on a download, a proxy's 502 page, 413 for an upload).
    Http {
        /// The status code.
        status: u16,
        /// What the reference says it means.
        meaning: &'static str,
        /// The server's words, when the status came with a failure
        /// envelope (a rate limit's `error`); empty otherwise.
        message: String,
        /// Attempts made, the last one included.
        attempts: u32,
    },
    /// A request was refused before any byte was sent (a parameter out of
    /// range, a malformed hash, bad credentials).
    Invalid(Box<lastline_core::Error>),
    /// The server's answer could not be understood (bad framing, bad JSON,
    /// a value over capacity).
    Protocol {
        /// What was wrong with it.
        error: Box<lastline_core::Error>,
        /// Attempts made, the last one included.
        attempts: u32,
    },
    /// Connecting, TLS or the connection failed.
    Transport {
        /// The kind of failure.
        kind: io::ErrorKind,
        /// What the connection layer said.
        detail: String,
        /// The connection layer's error (ureq's), the error's `source()`.
        cause: Option<Box<dyn std::error::Error + Send + Sync>>,
        /// Attempts made, the last one included.
        attempts: u32,
    },
    /// The server did not answer in time.
    Timeout {
        /// What timed out.
        detail: String,
        /// Attempts made, the last one included.
        attempts: u32,
    },
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
    /// The server redirected an upload to another origin: the sample was
    /// not sent there (uploads go to the configured server or nowhere).
    UploadRedirected {
        /// The `Location` it named (as the server sent it: escape it
        /// before showing it).
        to: String,
        /// Attempts made, the last one included.
        attempts: u32,
    },
    /// Reading the sample or writing a download failed.
    Io(io::Error),
    /// The sample changed between hashing and upload.
    SampleChanged,
    /// The base URL is plain `http://` to a host other than this machine:
    /// the credentials would cross the network unencrypted. Use
    /// `https://`, or allow it with [`crate::Config::allow_insecure_http`].
    PlainHttp {
        /// The host the URL names.
        host: String,
    },
    /// The configuration is unusable (URL, CA file, proxy).
    Config(String),
}

impl lastline_core::workflow::ApiFailure for Error {
    fn api_code(&self) -> Option<ErrorCode> {
        Error::api_code(self)
    }
}

impl Error {
    /// The API error code, if the API answered with an error.
    pub fn api_code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { code, .. } => *code,
            _ => None,
        }
    }

    /// Attempts made at the exchange that failed (the last one included),
    /// for the errors of an exchange with the server.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Self::Api { attempts, .. }
            | Self::Http { attempts, .. }
            | Self::Protocol { attempts, .. }
            | Self::Transport { attempts, .. }
            | Self::Timeout { attempts, .. }
            | Self::UploadRedirected { attempts, .. } => Some(*attempts),
            _ => None,
        }
    }

    /// An answer that could not be understood, at the first attempt.
    pub(crate) fn protocol(e: lastline_core::Error) -> Self {
        Self::Protocol {
            error: Box::new(e),
            attempts: 1,
        }
    }

    /// The HTTP status, for [`Error::Http`].
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    fn api(a: ApiError, message: Option<&ApiMessage>, attempts: u32) -> Self {
        Self::Api {
            code: a.code,
            message: words(message),
            attempts,
        }
    }

    fn http(status: u16, message: Option<&ApiMessage>, attempts: u32) -> Self {
        Self::Http {
            status,
            meaning: lastline_core::response::status_meaning(status),
            message: words(message),
            attempts,
        }
    }

    /// Maps an exchange's failure: its error with the server's message,
    /// and for a transport failure the connection layer's last error.
    pub(crate) fn from_failure(
        f: lastline_core::exchange::Failure,
        cause: Option<crate::connection::ConnError>,
    ) -> Self {
        Self::from_core(f.error, f.message.as_ref(), cause, f.attempts.max(1))
    }

    fn from_core(
        e: lastline_core::Error,
        message: Option<&ApiMessage>,
        cause: Option<crate::connection::ConnError>,
        attempts: u32,
    ) -> Self {
        use lastline_core::Error as Core;
        use lastline_core::Transport as T;
        let detail = |fallback: String| cause.as_ref().map_or(fallback, |c| c.to_string());
        match e {
            Core::Api(a) => Self::api(a, message, attempts),
            Core::UploadRedirected => Self::UploadRedirected {
                to: message.map_or_else(String::new, |m| m.to_string()),
                attempts,
            },
            Core::HttpStatus { status } => Self::http(status, message, attempts),
            Core::PayloadTooLarge => Self::http(413, message, attempts),
            Core::NotAnEnvelope { status, .. } if status != 200 => {
                Self::http(status, message, attempts)
            }
            c @ (Core::InvalidParam { .. }
            | Core::MissingParam { .. }
            | Core::HeaderInjection { .. }) => Self::Invalid(Box::new(c)),
            Core::Transport(T::TimedOut) => Self::Timeout {
                detail: detail("no answer in time".into()),
                attempts,
            },
            Core::Transport(t) => Self::Transport {
                kind: match t {
                    T::Closed => io::ErrorKind::UnexpectedEof,
                    T::Connect => io::ErrorKind::ConnectionRefused,
                    _ => io::ErrorKind::Other,
                },
                detail: detail(Core::Transport(t).to_string()),
                cause: cause.map(|c| Box::new(c) as Box<dyn std::error::Error + Send + Sync>),
                attempts,
            },
            c => Self::Protocol {
                error: Box::new(c),
                attempts,
            },
        }
    }
}

/// A failure envelope's `error`, marked when it was cut to fit.
fn words(message: Option<&ApiMessage>) -> String {
    message.map_or_else(String::new, |m| {
        let mut text = m.text.as_str().to_owned();
        if m.truncated {
            text.push('…');
        }
        text
    })
}

impl From<lastline_core::Error> for Error {
    fn from(e: lastline_core::Error) -> Self {
        Self::from_core(e, None, None, 1)
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
                ..
            } => write!(f, "API error {c}: {message}"),
            Self::Api {
                code: None,
                message,
                ..
            } => write!(f, "API error: {message}"),
            Self::Http {
                status,
                meaning,
                message,
                ..
            } => {
                write!(f, "HTTP {status}: {meaning}")?;
                if message.is_empty() {
                    Ok(())
                } else {
                    write!(f, ": {message}")
                }
            }
            Self::Invalid(e) => write!(f, "request refused before sending: {e}"),
            Self::Protocol { error, .. } => write!(f, "unexpected answer from the server: {error}"),
            Self::Transport { detail, .. } => write!(f, "connection failed: {detail}"),
            Self::Timeout { detail, .. } => write!(f, "timed out: {detail}"),
            Self::Pending {
                completed,
                awaited,
                waited,
            } => write!(
                f,
                "still pending: {completed} of {awaited} tasks completed within {waited:?}"
            ),
            Self::UploadRedirected { to, .. } => write!(
                f,
                "the server redirected the upload to another origin ({to}): not sent there"
            ),
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::SampleChanged => f.write_str("the sample changed between hashing and upload"),
            Self::PlainHttp { host } => write!(
                f,
                "refusing plain http:// to {host}: credentials would cross the network \
                 unencrypted (use https://, or allow insecure HTTP explicitly)"
            ),
            Self::Config(m) => write!(f, "configuration: {m}"),
        }?;
        // Say how hard it tried.
        match self.attempts() {
            Some(n) if n > 1 => write!(f, " (after {n} attempts)"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Invalid(e) | Self::Protocol { error: e, .. } => Some(&**e),
            Self::Transport { cause: Some(c), .. } => Some(&**c),
            _ => None,
        }
    }
}
