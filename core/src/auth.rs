//! Credentials and the session cookie. Neither ever appears in `Debug`,
//! `Display` or a request target.

use core::fmt;

use crate::error::{Error, HttpError};

/// Longest key or api_token accepted.
pub const CREDENTIAL_CAPACITY: usize = 256;
/// Longest session cookie (`name=value`) kept.
pub const COOKIE_CAPACITY: usize = 256;

/// An API key and, for most methods, an API token.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Credentials<'a> {
    key: &'a str,
    api_token: Option<&'a str>,
}

fn check_credential(param: &'static str, v: &str) -> Result<(), Error> {
    if v.is_empty() || v.len() > CREDENTIAL_CAPACITY {
        return Err(Error::InvalidParam {
            param,
            reason: text!("must be 1..=256 bytes"),
        });
    }
    if !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::InvalidParam {
            param,
            reason: text!("must be printable ASCII without spaces"),
        });
    }
    Ok(())
}

impl<'a> Credentials<'a> {
    /// Key and token, checked: printable ASCII (the reference says both are
    /// ASCII), at most [`CREDENTIAL_CAPACITY`] bytes. A key with `:` cannot
    /// travel as HTTP Basic user-id (RFC 7617) and is refused.
    pub fn new(key: &'a str, api_token: Option<&'a str>) -> Result<Self, Error> {
        check_credential("key", key)?;
        if key.bytes().any(|b| b == b':') {
            return Err(Error::InvalidParam {
                param: "key",
                reason: text!("must not contain ':'"),
            });
        }
        if let Some(t) = api_token {
            check_credential("api_token", t)?;
        }
        Ok(Self { key, api_token })
    }

    /// The key.
    pub fn key(&self) -> &'a str {
        self.key
    }

    /// The token, if any.
    pub fn api_token(&self) -> Option<&'a str> {
        self.api_token
    }
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials { key: <redacted>, api_token: <redacted> }")
    }
}

/// The `name=value` pair of a `Set-Cookie` header value (attributes after
/// the first `;` dropped), checked to be printable ASCII without spaces.
pub(crate) fn cookie_pair(header: &[u8]) -> Result<&str, Error> {
    let pair = header
        .split(|&b| b == b';')
        .next()
        .unwrap_or(&[])
        .trim_ascii();
    let ok = pair.iter().any(|&b| b == b'=')
        && pair.first() != Some(&b'=')
        && pair.iter().all(|&b| (0x21..0x7f).contains(&b));
    core::str::from_utf8(pair)
        .ok()
        .filter(|_| ok)
        .ok_or(Error::Http(HttpError::MalformedHead("Set-Cookie")))
}

/// The session cookie (`name=value`) that `login` set, replayed on later
/// requests instead of credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionCookie(heapless::String<COOKIE_CAPACITY>);

impl SessionCookie {
    /// Takes the `name=value` pair from a `Set-Cookie` header value
    /// (attributes after the first `;` are dropped).
    pub fn from_set_cookie(header: &[u8]) -> Result<Self, Error> {
        let mut slot = None;
        Self::fill_from_set_cookie(&mut slot, header)?;
        slot.ok_or(Error::Http(HttpError::MalformedHead("Set-Cookie")))
    }

    /// Like [`Self::from_set_cookie`], writing into `slot` in place.
    pub fn fill_from_set_cookie(slot: &mut Option<Self>, header: &[u8]) -> Result<(), Error> {
        let s = cookie_pair(header)?;
        let dst = &mut slot.insert(Self(heapless::String::new())).0;
        if dst.push_str(s).is_err() {
            *slot = None;
            return Err(Error::Http(HttpError::HeaderTooLong("Set-Cookie")));
        }
        Ok(())
    }

    /// The `name=value` pair, for a `Cookie` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Serialized form, to keep a session across restarts.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for SessionCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionCookie(<redacted>)")
    }
}

/// How a request proves who sends it.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    /// HTTP Basic (RFC 7617): key as user-id, api_token as password. The
    /// default; every endpoint accepts it.
    Basic(Credentials<'a>),
    /// `key` and `api_token` as fields of a POST body, for servers that
    /// need them there. Methods that allow GET are sent as POST; the few
    /// GET-only methods fall back to HTTP Basic, since credentials never
    /// go into a URL.
    BodyFields(Credentials<'a>),
    /// The cookie of a session opened by `login`.
    Session(&'a SessionCookie),
    /// No credentials (only useful against a test server).
    None,
}
