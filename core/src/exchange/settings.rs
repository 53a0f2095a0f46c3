//! Where and how to talk to the server: the origin, the settings every
//! exchange shares, and the link (session, kept-alive connection) that
//! outlives one.

use crate::auth::Credentials;
use crate::workflow::{RetryPolicy, Session};

/// How requests authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AuthMode {
    /// HTTP Basic on every request (the default).
    Basic,
    /// Credentials in POST bodies (GET-only methods fall back to Basic).
    BodyFields,
    /// Log in once; send the session cookie; log in again on 122.
    Session,
}

/// A server's origin: scheme, host and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Origin<'a> {
    /// HTTPS (TLS) rather than plain HTTP.
    pub https: bool,
    /// The host: a DNS name, an IPv4 address, or an IPv6 address in
    /// brackets.
    pub host: &'a str,
    /// The TCP port.
    pub port: u16,
}

impl<'a> Origin<'a> {
    /// The origin of `authority` (`host` or `host:port`, an IPv6 address in
    /// brackets), with the scheme's default port when none is given;
    /// `None` when the port is not a port number.
    pub fn from_authority(authority: &'a str, https: bool) -> Option<Self> {
        let b = authority.as_bytes();
        let colon = b.iter().rposition(|&c| c == b':').filter(|&i| {
            // Not one inside an IPv6 literal.
            !b.get(i..)
                .is_some_and(|rest| rest.iter().any(|&c| c == b']'))
                && (b.first().is_none_or(|&c| c != b'[') || b.get(i.wrapping_sub(1)) == Some(&b']'))
        });
        let (host, port) = match colon {
            Some(i) => (
                authority.get(..i)?,
                parse_port(b.get(i.saturating_add(1)..)?)?,
            ),
            None => (authority, if https { 443 } else { 80 }),
        };
        (!host.is_empty()).then_some(Self { https, host, port })
    }
}

impl Origin<'_> {
    /// Whether `host` is one a connection can be opened to: a DNS name or
    /// an IPv4 address (letters, digits, `-`, `.`, `_`), or an IPv6
    /// address in brackets. A redirect's host is the server's word and
    /// goes to the driver's resolver and logs: nothing else passes, above
    /// all no control character, percent escape or byte above ASCII.
    pub fn is_host(host: &[u8]) -> bool {
        match host {
            [b'[', inner @ .., b']'] => {
                !inner.is_empty()
                    && inner
                        .iter()
                        .all(|&c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.'))
            }
            _ => {
                !host.is_empty()
                    && host
                        .iter()
                        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
            }
        }
    }

    pub(super) fn default_port(&self) -> u16 {
        if self.https {
            443
        } else {
            80
        }
    }

    /// The port the `Host` header names (none for the scheme's default).
    pub(super) fn host_port(&self) -> Option<u16> {
        (self.port != self.default_port()).then_some(self.port)
    }

    /// Whether `other` is the same origin (host names compare without
    /// case).
    pub fn same_as(&self, other: &Origin<'_>) -> bool {
        self.https == other.https
            && self.port == other.port
            && self.host.eq_ignore_ascii_case(other.host)
    }

    /// Writes `host` or `host:port` (the `Host` header's form).
    pub(super) fn authority<const N: usize>(
        &self,
        out: &mut heapless::String<N>,
    ) -> Result<(), heapless::CapacityError> {
        out.push_str(self.host)?;
        if let Some(p) = self.host_port() {
            let mut digits = [0u8; 20];
            out.push(':')?;
            for &c in crate::codec::decimal(u64::from(p), &mut digits) {
                out.push(char::from(c))?;
            }
        }
        Ok(())
    }
}

/// Where and how to talk to the server: what every exchange shares.
#[derive(Clone, Copy, Debug)]
pub struct Settings<'a> {
    /// The configured server: the only origin credentials go to.
    pub server: Origin<'a>,
    /// A path prefix before every method's path (usually empty).
    pub base_path: &'a str,
    /// `User-Agent`.
    pub user_agent: &'a str,
    /// Key and token.
    pub credentials: Credentials<'a>,
    /// How requests authenticate.
    pub auth: AuthMode,
    /// When to retry.
    pub retry: RetryPolicy,
    /// The longest wait a `Retry-After` may ask for, in milliseconds.
    pub retry_after_cap_ms: u64,
}

impl<'a> Settings<'a> {
    /// HTTP Basic to `server`, the default retry policy, `Retry-After`
    /// honoured up to a minute.
    pub fn new(server: Origin<'a>, credentials: Credentials<'a>) -> Self {
        Self {
            server,
            base_path: "",
            user_agent: concat!("lastline-core/", env!("CARGO_PKG_VERSION")),
            credentials,
            auth: AuthMode::Basic,
            retry: RetryPolicy::default(),
            retry_after_cap_ms: 60_000,
        }
    }
}

/// What outlives one exchange: the session, and whether a kept-alive
/// connection to the server is open. The driver keeps one per client and
/// says [`Link::disconnected`] when it drops a connection on its own.
#[derive(Clone, Debug, Default)]
pub struct Link {
    pub(super) session: Session,
    pub(super) idle_connection: bool,
    pub(super) nonce: u32,
}

impl Link {
    /// No session, no connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// The session state (its cookie, once logged in).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Whether the last exchange left a connection to the server open for
    /// the next one.
    pub fn connection_open(&self) -> bool {
        self.idle_connection
    }

    /// The driver closed the connection (the next exchange opens one).
    pub fn disconnected(&mut self) {
        self.idle_connection = false;
    }

    /// The driver holds a connection to the server it opened itself (a
    /// TLS session set up before the client): the next exchange uses it.
    pub fn adopt_connection(&mut self) {
        self.idle_connection = true;
    }
}

pub(super) fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 {
        return None;
    }
    let mut v: u32 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v
            .saturating_mul(10)
            .saturating_add(u32::from(d.saturating_sub(b'0')));
    }
    u16::try_from(v).ok().filter(|&p| p > 0)
}
