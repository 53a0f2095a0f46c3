//! Redirects and URLs: following a `Location` (relative or absolute,
//! within the limits), and what the current target gets — credentials go
//! only to the configured server's origin.

use crate::api_error::ApiMessage;
use crate::auth::Auth;
use crate::error::Error;
use crate::http::{ClientConfig, RedirectTarget, ResponseHead};
use crate::workflow::Session;

use super::machine::{Conn, Machine, Out, Phase};
use super::outcome::Event;
use super::settings::{parse_port, AuthMode, Origin, Settings};

/// Most redirects followed in a row.
pub const MAX_REDIRECTS: u8 = 5;

/// Longest `Location` (or absolute URL made of a relative one) followed.
pub const LOCATION_CAPACITY: usize = 512;

/// A redirect being followed: spans of the absolute URL in `location`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Redirected {
    pub(super) https: bool,
    pub(super) host: (usize, usize),
    pub(super) port: u16,
    pub(super) target: (usize, usize),
    pub(super) as_get: bool,
    pub(super) other_origin: bool,
}

/// The encoder's configuration for the current target: credentials only
/// to the configured server.
#[inline(never)]
pub(super) fn config<'c>(
    s: &'c Settings<'c>,
    session: &'c Session,
    location: &'c str,
    redirect: Option<Redirected>,
    login: bool,
    sessions: bool,
) -> ClientConfig<'c> {
    let to_server = !redirect.is_some_and(|r| r.other_origin);
    let auth = match (to_server, s.auth, session.cookie()) {
        (false, _, _) => Auth::None,
        (true, AuthMode::Session, Some(c)) if sessions && !login => Auth::Session(c),
        (true, AuthMode::BodyFields, _) => Auth::BodyFields(s.credentials),
        _ => Auth::Basic(s.credentials),
    };
    let origin = match redirect {
        Some(r) if r.other_origin => Origin {
            https: r.https,
            host: location.get(r.host.0..r.host.1).unwrap_or(""),
            port: r.port,
        },
        _ => s.server,
    };
    ClientConfig {
        host: origin.host,
        port: origin.host_port(),
        base_path: s.base_path,
        user_agent: s.user_agent,
        auth,
        no_session: !(sessions && s.auth == AuthMode::Session),
        keep_alive: true,
        redirect: redirect.map(|r| RedirectTarget {
            target: location.get(r.target.0..r.target.1).unwrap_or("/"),
            as_get: r.as_get,
        }),
    }
}

/// Spans of an absolute `http(s)://host[:port]/target` URL.
pub(super) fn parse_url(url: &str) -> Option<Redirected> {
    let b = url.as_bytes();
    let starts = |p: &[u8]| {
        b.len() >= p.len() && b.get(..p.len()).is_some_and(|x| x.eq_ignore_ascii_case(p))
    };
    let (https, rest_at) = if starts(b"https://") {
        (true, 8)
    } else if starts(b"http://") {
        (false, 7)
    } else {
        return None;
    };
    let rest = b.get(rest_at..)?;
    let auth_len = rest
        .iter()
        .position(|&c| c == b'/' || c == b'?' || c == b'#')
        .unwrap_or(rest.len());
    let authority = rest.get(..auth_len)?;
    // Byte loops, not `contains` (core/FIRMWARE.md).
    if authority.is_empty() || authority.iter().any(|&c| c == b'@') {
        return None;
    }
    // host, then an optional :port (after an IPv6 literal's `]`).
    let colon = match authority.iter().rposition(|&c| c == b':') {
        Some(i) if !authority.get(i..)?.iter().any(|&c| c == b']') => Some(i),
        _ => None,
    };
    let (host_len, port) = match colon {
        Some(i) => {
            let digits = authority.get(i.saturating_add(1)..)?;
            (i, parse_port(digits)?)
        }
        None => (auth_len, if https { 443 } else { 80 }),
    };
    if !Origin::is_host(authority.get(..host_len)?) {
        return None;
    }
    let target_at = rest_at.saturating_add(auth_len);
    let mut target_end = b.len();
    if let Some(h) = b.get(target_at..)?.iter().position(|&c| c == b'#') {
        target_end = target_at.saturating_add(h);
    }
    Some(Redirected {
        https,
        host: (rest_at, rest_at.saturating_add(host_len)),
        port,
        target: (target_at, target_end),
        as_get: false,
        other_origin: false,
    })
}

/// Whether `b` starts with a URI scheme (`name:` before any `/?#`).
pub(super) fn has_scheme(b: &[u8]) -> bool {
    for (i, &c) in b.iter().enumerate() {
        match c {
            b':' => return i > 0,
            b'/' | b'?' | b'#' => return false,
            c if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.') => {}
            _ => return false,
        }
    }
    false
}

/// `loc` as an absolute URL in `out`: as it is, or joined to the origin
/// (and, for a path-relative one, the directory of `current_target`).
/// Scanned byte by byte: string searching would bring its search
/// routines into firmware.
pub(super) fn absolute<const N: usize>(
    loc: &str,
    origin: Origin<'_>,
    current_target: &str,
    out: &mut heapless::String<N>,
) -> Result<(), Error> {
    let too_long = |_| Error::BadRedirect(text!("Location too long"));
    let l = loc.trim_ascii();
    let b = l.as_bytes();
    if parse_url(l).is_some() {
        return out.push_str(l).map_err(too_long);
    }
    if b.starts_with(b"//") || has_scheme(b) {
        return Err(Error::BadRedirect(text!("not an http(s) URL")));
    }
    out.push_str(if origin.https { "https://" } else { "http://" })
        .map_err(too_long)?;
    origin.authority(out).map_err(too_long)?;
    if !b.starts_with(b"/") {
        // The current target's directory: up to its last `/` before any
        // query (positions of ASCII bytes, so the slice is a `str`).
        let t = current_target.as_bytes();
        let path_end = t
            .iter()
            .position(|&c| c == b'?' || c == b'#')
            .unwrap_or(t.len());
        let dir_end = t
            .get(..path_end)
            .and_then(|p| p.iter().rposition(|&c| c == b'/'))
            .map_or(0, |i| i.saturating_add(1));
        out.push_str(
            current_target
                .get(..dir_end)
                .filter(|d| !d.is_empty())
                .unwrap_or("/"),
        )
        .map_err(too_long)?;
    }
    out.push_str(l).map_err(too_long)
}

impl Machine<'_> {
    pub(super) fn target_origin(&self) -> Origin<'_> {
        match self.redirect {
            Some(r) if r.other_origin => Origin {
                https: r.https,
                host: self.location.get(r.host.0..r.host.1).unwrap_or(""),
                port: r.port,
            },
            _ => self.settings.server,
        }
    }

    /// A head arrived: a redirect is followed here.
    pub(super) fn on_head(&mut self, head: Option<&ResponseHead>) -> Option<Out> {
        let head = head?;
        self.status = Some(head.status);
        self.retry_after = head.retry_after;
        if !head.is_redirect() {
            return None;
        }
        let status = head.status;
        let mut next = heapless::String::<LOCATION_CAPACITY>::new();
        let built = match head.location() {
            Some(loc) => absolute(loc, self.target_origin(), self.redirect_target(), &mut next),
            None => Err(Error::BadRedirect(text!("no Location"))),
        };
        // The 3xx's body is not read: this connection is done.
        self.conn = Conn::None;
        if let Err(e) = built {
            return Some(self.done(Err(e)));
        }
        self.hops = self.hops.saturating_add(1);
        if self.hops > MAX_REDIRECTS {
            return Some(self.done(Err(Error::TooManyRedirects {
                limit: MAX_REDIRECTS,
            })));
        }
        let was_https = self.target_origin().https;
        let Some(parsed) = parse_url(&next) else {
            return Some(self.done(Err(Error::BadRedirect(text!("not an http(s) URL")))));
        };
        if was_https && !parsed.https {
            return Some(self.done(Err(Error::BadRedirect(text!("from HTTPS to plain HTTP")))));
        }
        let other_origin = !Origin {
            https: parsed.https,
            host: next.get(parsed.host.0..parsed.host.1).unwrap_or(""),
            port: parsed.port,
        }
        .same_as(&self.settings.server);
        if other_origin && self.req.shape().upload_len.is_some() {
            // A sample goes to the configured origin or nowhere.
            let mut message = ApiMessage::default();
            message.truncated = crate::api_error::push_cut(&mut message.text, &next);
            let out = self.done(Err(Error::UploadRedirected));
            if let Some(Err(f)) = &mut self.outcome {
                f.message = Some(message);
            }
            return Some(out);
        }
        let as_get = status == 303 || self.redirect.is_some_and(|r| r.as_get);
        self.location = next;
        self.redirect = Some(Redirected {
            as_get,
            other_origin,
            ..parsed
        });
        self.phase = Phase::Begin;
        Some(Out::Event(Event::Redirect {
            status,
            other_origin,
        }))
    }

    pub(super) fn redirect_target(&self) -> &str {
        match self.redirect {
            Some(r) => self.location.get(r.target.0..r.target.1).unwrap_or("/"),
            None => "/",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_and_urls() {
        let o = |a, https| Origin::from_authority(a, https).map(|o| (o.host, o.port));
        assert_eq!(
            o("analysis.lastline.com", true),
            Some(("analysis.lastline.com", 443))
        );
        assert_eq!(o("127.0.0.1:8642", false), Some(("127.0.0.1", 8642)));
        assert_eq!(o("[::1]:8642", false), Some(("[::1]", 8642)));
        assert_eq!(o("[::1]", true), Some(("[::1]", 443)));
        assert_eq!(o("h:99999", true), None);
        assert_eq!(o(":80", true), None);
        let u = parse_url("HTTPS://cdn.example:8443/a/b?x=1#frag").unwrap();
        let url = "HTTPS://cdn.example:8443/a/b?x=1#frag";
        assert!(u.https && u.port == 8443);
        assert_eq!(&url[u.host.0..u.host.1], "cdn.example");
        assert_eq!(&url[u.target.0..u.target.1], "/a/b?x=1");
        assert!(parse_url("http://[::1]:81/").is_some());
        for bad in [
            "ftp://x/",
            "http://user@x/",
            "http:///p",
            "http://x:0/",
            "http://a\u{9b}2Jb/",
            "http://a%1bb/",
            "http://a\u{7f}/",
            "http://a\u{e9}.example/",
            "http://[]/",
            "http://[::1\u{1b}]/",
            "http://a,b/",
        ] {
            assert!(parse_url(bad).is_none(), "{bad}");
        }
        let mut out = heapless::String::<128>::new();
        let here = Origin {
            https: false,
            host: "h",
            port: 81,
        };
        absolute("next?y=2", here, "/dir/file?q", &mut out).unwrap();
        assert_eq!(out.as_str(), "http://h:81/dir/next?y=2");
        out.clear();
        absolute("/root", here, "/dir/file", &mut out).unwrap();
        assert_eq!(out.as_str(), "http://h:81/root");
        assert!(absolute(
            "//evil.example/x",
            here,
            "/",
            &mut heapless::String::<128>::new()
        )
        .is_err());
    }
}
