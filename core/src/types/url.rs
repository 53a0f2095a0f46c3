//! Checked URLs for `submit_url`.

use core::fmt;

/// Longest URL accepted.
pub const URL_CAPACITY: usize = 4096;

/// An absolute URL checked before it is sent: a scheme of letters, digits,
/// `+`, `-` or `.`, then `://`, a non-empty host, no white space or
/// control characters, at most [`URL_CAPACITY`] bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Url<'a>(&'a str);

/// Why a string is not an acceptable URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidUrl {
    /// Empty, or longer than [`URL_CAPACITY`].
    Length,
    /// No `scheme://`.
    NoScheme,
    /// Nothing between `://` and the path.
    NoHost,
    /// White space or a control character.
    BadCharacter,
}

impl fmt::Display for InvalidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Length => "URL is empty or too long",
            Self::NoScheme => "URL has no 'scheme://'",
            Self::NoHost => "URL has no host",
            Self::BadCharacter => "URL has white space or control characters",
        })
    }
}

impl<'a> Url<'a> {
    /// Checks `s`.
    pub fn parse(s: &'a str) -> Result<Self, InvalidUrl> {
        if s.is_empty() || s.len() > URL_CAPACITY {
            return Err(InvalidUrl::Length);
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(InvalidUrl::BadCharacter);
        }
        let (scheme, rest) = s.split_once("://").ok_or(InvalidUrl::NoScheme)?;
        let scheme_ok = scheme
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !scheme_ok {
            return Err(InvalidUrl::NoScheme);
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = authority.rsplit('@').next().unwrap_or("");
        if host.is_empty() || host.starts_with(':') {
            return Err(InvalidUrl::NoHost);
        }
        Ok(Self(s))
    }

    /// The URL as given.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

impl fmt::Display for Url<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Url<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Url({})", self.0)
    }
}
