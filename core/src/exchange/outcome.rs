//! What an exchange tells its driver besides the steps: the events it
//! caused on its own, and how it failed.

use core::fmt;

use crate::api_error::ApiMessage;
use crate::error::Error;

/// Something the exchange did on its own, for the driver to show (log,
/// defmt, an observer).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// The request failed and is sent again after `delay_ms`.
    Retry {
        /// Attempts failed so far.
        attempt: u32,
        /// The wait before the next attempt.
        delay_ms: u64,
        /// Why the attempt failed.
        error: Error,
    },
    /// A kept-alive connection was closed before any answer: a new one
    /// carries the request again.
    Reconnect,
    /// The session ended (122): logging in again.
    Relogin,
    /// The answer was a redirect, followed.
    Redirect {
        /// Its status.
        status: u16,
        /// Whether it leads to another origin (sent without credentials).
        other_origin: bool,
    },
}

/// How an exchange failed, with everything known about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// What went wrong (the API's code, an HTTP status, the transport...).
    pub error: Error,
    /// Attempts made, the last one included.
    pub attempts: u32,
    /// The HTTP status of the last answer, if one came.
    pub status: Option<u16>,
    /// The server's words, for people: a failure envelope's `error`, or
    /// the `Location` of a redirect refused as
    /// [`Error::UploadRedirected`].
    pub message: Option<ApiMessage>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)?;
        if let Some(m) = &self.message {
            if !m.text.is_empty() {
                write!(f, ": {}", m.text)?;
            }
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

/// A failure outside any attempt (a workflow driven out of order).
impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self {
            error,
            attempts: 0,
            status: None,
            message: None,
        }
    }
}

impl core::error::Error for Failure {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Failure {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{} (attempts: {=u32})", self.error, self.attempts)
    }
}
