//! Session: log in once, reuse the cookie, log in again once on 122.

use crate::auth::SessionCookie;
use crate::error::Error;
use crate::ErrorCode;

/// What to do after a response while using a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SessionAction {
    /// Carry on with the answer.
    Continue,
    /// The session expired: log in again, then send the request again.
    ReloginAndRetry,
}

/// Session state.
#[derive(Clone, Debug, Default)]
pub struct Session {
    cookie: Option<SessionCookie>,
    relogin_pending: bool,
}

impl Session {
    /// No session yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A session restored from a saved cookie.
    pub fn with_cookie(cookie: SessionCookie) -> Self {
        Self {
            cookie: Some(cookie),
            relogin_pending: false,
        }
    }

    /// The cookie to send, or `None` when `login` must come first.
    pub fn cookie(&self) -> Option<&SessionCookie> {
        self.cookie.as_ref()
    }

    /// Digests the answer to `login`: its result and the cookie its head
    /// set.
    pub fn on_login(
        &mut self,
        answer: Result<(), Error>,
        cookie: Option<SessionCookie>,
    ) -> Result<(), Error> {
        answer?;
        self.cookie = Some(cookie.ok_or(Error::MissingField {
            field: "Set-Cookie",
        })?);
        Ok(())
    }

    /// Digests the answer to a request sent with the session. A 122 leads
    /// to one new login and retry; a second 122 in a row is
    /// [`Error::SessionExpired`].
    pub fn on_response<T>(&mut self, answer: &Result<T, Error>) -> Result<SessionAction, Error> {
        self.on_error_code(answer.as_ref().err().and_then(Error::api_code))
    }

    /// Like [`Self::on_response`], from the API error code of the answer
    /// (`None` for a success or a failure that is not an API error), for
    /// transports with error types of their own.
    pub fn on_error_code(&mut self, code: Option<ErrorCode>) -> Result<SessionAction, Error> {
        if code == Some(ErrorCode::AuthenticationRequired) {
            self.cookie = None;
            if self.relogin_pending {
                self.relogin_pending = false;
                return Err(Error::SessionExpired);
            }
            self.relogin_pending = true;
            return Ok(SessionAction::ReloginAndRetry);
        }
        self.relogin_pending = false;
        Ok(SessionAction::Continue)
    }

    /// Drops the session (e.g. after the server closed it).
    pub fn clear(&mut self) {
        self.cookie = None;
    }
}
