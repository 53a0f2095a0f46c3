//! Writing a request: head and body, resumably, into caller buffers.

use crate::auth::{Auth, Credentials};
use crate::emit::{Counter, Sink, Window};
use crate::error::Error;
use crate::form::{encode_into, FormWriter};
use crate::multipart::{check_boundary, Boundary, PartWriter};
use crate::request::{Allowed, BodyKind, HttpMethod, Params, Request, Value};

/// Where and how requests are sent.
#[derive(Clone, Copy, Debug)]
pub struct ClientConfig<'a> {
    /// `Host` header: the server's name, with `:port` if not the default
    /// (or give the port in [`Self::port`]).
    pub host: &'a str,
    /// A port written after `host` in the `Host` header (`host:port`).
    pub port: Option<u16>,
    /// A path prefix before every method's path (usually empty).
    pub base_path: &'a str,
    /// `User-Agent` header.
    pub user_agent: &'a str,
    /// How requests authenticate.
    pub auth: Auth<'a>,
    /// Send `x-nsx-lastline-no-session: 1` so the server opens no session.
    pub no_session: bool,
    /// Ask the server to keep the connection open.
    pub keep_alive: bool,
    /// Send the request to a redirect's `Location` instead of the method's
    /// path (set by [`crate::exchange`], which follows redirects).
    pub redirect: Option<RedirectTarget<'a>>,
}

/// A request sent again where a redirect pointed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RedirectTarget<'a> {
    /// The request line's target: the `Location`'s path and query.
    pub target: &'a str,
    /// Send it as a GET without a body (a 301, 302 or 303 answer): the
    /// target then carries every parameter it needs.
    pub as_get: bool,
}

impl<'a> ClientConfig<'a> {
    /// HTTP Basic to `host`, keep-alive, sessionless.
    pub fn new(host: &'a str, credentials: Credentials<'a>) -> Self {
        Self {
            host,
            base_path: "",
            user_agent: concat!("lastline-core/", env!("CARGO_PKG_VERSION")),
            port: None,
            auth: Auth::Basic(credentials),
            no_session: true,
            keep_alive: true,
            redirect: None,
        }
    }
}

/// What the encoder needs to know of a request besides its parameters,
/// read once per request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    name: &'static str,
    /// `login` (its credentials always travel in the body).
    is_login: bool,
    path: &'static str,
    allowed: Allowed,
    needs_token: bool,
    format: Option<crate::types::Format>,
    body_kind: BodyKind,
    pub(crate) upload_len: Option<u64>,
    preferred_method: HttpMethod,
}

impl Shape {
    /// The method's name.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }
}

/// The object-safe face of a [`Request`] the (non-generic) encoder works
/// with, so its code exists once in a binary whatever the request types.
/// Three entries per request type: everything but the checks and the
/// parameters comes back at once as a [`Shape`].
pub(crate) trait Describe {
    fn shape(&self) -> Shape;
    fn validate(&self) -> Result<(), Error>;
    fn params(&self, p: &mut dyn Params);
}

impl<R: Request> Describe for R {
    fn shape(&self) -> Shape {
        Shape {
            name: R::NAME,
            // Folded per request type at compile time.
            is_login: R::NAME.as_bytes() == b"login",
            path: R::PATH,
            allowed: R::ALLOWED,
            needs_token: R::NEEDS_TOKEN,
            format: Request::format(self),
            body_kind: Request::body_kind(self),
            upload_len: Request::upload_len(self),
            preferred_method: Request::preferred_method(self),
        }
    }
    fn validate(&self) -> Result<(), Error> {
        Request::validate(self)
    }
    fn params(&self, p: &mut dyn Params) {
        Request::params(self, p)
    }
}

// A request named at run time describes itself from the method table.
impl Describe for crate::request::ByName<'_> {
    fn shape(&self) -> Shape {
        let m = self.method();
        let parts = self.has_parts();
        Shape {
            name: m.name,
            is_login: m.name.as_bytes() == b"login",
            path: m.path,
            allowed: m.allowed,
            needs_token: m.needs_token,
            format: self.format(),
            body_kind: if parts {
                BodyKind::Multipart
            } else {
                BodyKind::Form
            },
            upload_len: self.upload(),
            preferred_method: match m.allowed {
                Allowed::Post => HttpMethod::Post,
                _ if parts => HttpMethod::Post,
                Allowed::Get | Allowed::GetOrPost => HttpMethod::Get,
            },
        }
    }
    fn validate(&self) -> Result<(), Error> {
        // Every parameter was checked as it was added.
        Ok(())
    }
    fn params(&self, p: &mut dyn Params) {
        self.write(p);
    }
}

/// What [`RequestEncoder::poll`] asks the transport to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Step {
    /// Send the first `n` bytes of the buffer, then poll again.
    Write(usize),
    /// Send exactly `len` bytes of the sample, then call
    /// [`RequestEncoder::file_sent`] and poll again.
    SendFile {
        /// The sample's length.
        len: u64,
    },
    /// The request is complete.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Prefix(u64),
    File,
    Suffix(u64),
    Done,
}

fn check_header(header: &'static str, v: &str) -> Result<(), Error> {
    if v.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(Error::HeaderInjection { header });
    }
    Ok(())
}

/// Writes one request. Built from a checked request and the client
/// configuration; nothing is written unless every check passed.
///
/// Not generic over the request type (only [`Self::new`] is): a
/// transport's write loop over it exists once in a firmware image, not
/// once per method.
#[derive(Debug)]
pub struct RequestEncoder<'r> {
    inner: Encoder<'r>,
}

impl<'r> RequestEncoder<'r> {
    /// Checks `req` and `cfg` and plans the request. `entropy` seeds the
    /// multipart boundary (use fresh random bytes per upload).
    pub fn new<R: Request>(
        req: &'r R,
        cfg: &'r ClientConfig<'r>,
        entropy: [u8; 16],
    ) -> Result<Self, Error> {
        Ok(Self {
            inner: Encoder::new(req, cfg, entropy)?,
        })
    }

    /// The HTTP method chosen.
    pub fn method(&self) -> HttpMethod {
        self.inner.method
    }

    /// The body's length (the `Content-Length` sent), 0 for GET.
    pub fn content_length(&self) -> u64 {
        self.inner.body_len
    }

    /// Head plus body length: every byte the request puts on the wire.
    pub fn total_len(&self) -> u64 {
        self.inner.total_len()
    }

    /// Writes the next bytes into `out` (any size from 1 byte) or asks for
    /// the sample.
    pub fn poll(&mut self, out: &mut [u8]) -> Step {
        self.inner.poll(out)
    }

    /// The transport sent the sample's bytes.
    pub fn file_sent(&mut self) {
        self.inner.file_sent();
    }

    /// How far the request has been written: with the same request,
    /// configuration and entropy, [`Self::resume`] goes on from there.
    pub fn position(&self) -> EncodePosition {
        EncodePosition(self.inner.phase)
    }

    /// An encoder that goes on where one with the same request,
    /// configuration and entropy was at `pos` (for a state machine that
    /// cannot keep an encoder borrowing a configuration it builds anew).
    pub fn resume<R: Request>(
        req: &'r R,
        cfg: &'r ClientConfig<'r>,
        entropy: [u8; 16],
        pos: EncodePosition,
    ) -> Result<Self, Error> {
        Self::resume_erased(req, cfg, entropy, pos)
    }

    /// [`Self::resume`] for a request seen through its object-safe face
    /// (the exchange machine holds one, so its encoding is not generic).
    pub(crate) fn resume_erased(
        req: &'r dyn Describe,
        cfg: &'r ClientConfig<'r>,
        entropy: [u8; 16],
        pos: EncodePosition,
    ) -> Result<Self, Error> {
        let mut inner = Encoder::new(req, cfg, entropy)?;
        inner.phase = pos.0;
        Ok(Self { inner })
    }
}

/// Where a [`RequestEncoder`] is in its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodePosition(Phase);

impl EncodePosition {
    /// Before the first byte.
    pub const START: Self = Self(Phase::Prefix(0));
}

/// The encoder's state, independent of the request's type.
struct Encoder<'r> {
    req: &'r dyn Describe,
    shape: Shape,
    cfg: &'r ClientConfig<'r>,
    method: HttpMethod,
    body: Option<BodyKind>,
    creds_in_body: Option<Credentials<'r>>,
    basic: Option<Credentials<'r>>,
    boundary: Boundary,
    body_len: u64,
    prefix_len: u64,
    phase: Phase,
}

impl core::fmt::Debug for Encoder<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RequestEncoder")
            .field("method", &self.shape.name)
            .field("http_method", &self.method)
            .field("body_len", &self.body_len)
            .finish()
    }
}

impl<'r> Encoder<'r> {
    fn new(
        req: &'r dyn Describe,
        cfg: &'r ClientConfig<'r>,
        entropy: [u8; 16],
    ) -> Result<Self, Error> {
        req.validate()?;
        let shape = req.shape();
        check_header("Host", cfg.host)?;
        check_header("User-Agent", cfg.user_agent)?;
        if cfg.host.is_empty() {
            return Err(Error::InvalidParam {
                param: "host",
                reason: text!("empty"),
            });
        }
        // A plain path in the request line: `/` first, not last, and no
        // space, control character, `?` or `#`.
        let path = cfg.base_path.as_bytes();
        if !path.is_empty()
            && (path.first() != Some(&b'/')
                || path.last() == Some(&b'/')
                || path
                    .iter()
                    .any(|&b| b <= b' ' || matches!(b, 0x7f | b'?' | b'#')))
        {
            return Err(Error::InvalidParam {
                param: "base_path",
                reason: text!("must be a plain path that starts and does not end with '/'"),
            });
        }
        if let Some(r) = cfg.redirect {
            // An origin-form target: `/` first, nothing that would end or
            // split the request line.
            let t = r.target.as_bytes();
            if t.first() != Some(&b'/') || t.iter().any(|&b| b <= b' ' || b == 0x7f) {
                return Err(Error::InvalidParam {
                    param: "Location",
                    reason: text!("not a path and query a request line can carry"),
                });
            }
        }
        let is_login = shape.is_login;
        let needs_body = shape.upload_len.is_some() || shape.body_kind == BodyKind::Multipart;
        let (creds, body_creds) = match cfg.auth {
            Auth::Basic(c) => (Some(c), is_login),
            Auth::BodyFields(c) => (Some(c), shape.allowed != Allowed::Get),
            Auth::Session(cookie) => {
                check_header("Cookie", cookie.as_str())?;
                (None, false)
            }
            Auth::None => (None, false),
        };
        if let Some(c) = creds {
            if shape.needs_token && c.api_token().is_none() && !is_login {
                return Err(Error::MissingParam { param: "api_token" });
            }
        }
        let method = if needs_body || body_creds || shape.allowed == Allowed::Post {
            if shape.allowed == Allowed::Get {
                return Err(Error::InvalidParam {
                    param: "method",
                    reason: text!("GET-only method cannot carry a body"),
                });
            }
            HttpMethod::Post
        } else {
            shape.preferred_method
        };
        let method = match cfg.redirect {
            Some(r) if r.as_get => HttpMethod::Get,
            _ => method,
        };
        let body = (method == HttpMethod::Post).then_some(shape.body_kind);
        let mut enc = Encoder {
            req,
            shape,
            cfg,
            method,
            body,
            creds_in_body: if body_creds { creds } else { None },
            basic: if body_creds { None } else { creds },
            boundary: Boundary::new(entropy),
            body_len: 0,
            prefix_len: 0,
            phase: Phase::Prefix(0),
        };
        if body == Some(BodyKind::Multipart) {
            check_boundary(|p| enc.all_params(p), &enc.boundary)?;
        }
        let mut body_counter = Counter::default();
        enc.emit_body_prefix(&mut body_counter);
        let mut suffix = Counter::default();
        enc.emit_suffix(&mut suffix);
        enc.body_len = body_counter
            .0
            .saturating_add(shape.upload_len.unwrap_or(0))
            .saturating_add(suffix.0);
        let mut prefix = Counter::default();
        enc.emit_prefix(&mut prefix);
        enc.prefix_len = prefix.0;
        Ok(enc)
    }

    fn total_len(&self) -> u64 {
        let head_and_prefix = self.prefix_len;
        let mut suffix = Counter::default();
        self.emit_suffix(&mut suffix);
        head_and_prefix
            .saturating_add(self.shape.upload_len.unwrap_or(0))
            .saturating_add(suffix.0)
    }

    fn poll(&mut self, out: &mut [u8]) -> Step {
        loop {
            match self.phase {
                Phase::Prefix(off) => {
                    if off >= self.prefix_len {
                        self.phase = match self.shape.upload_len {
                            Some(_) if self.body == Some(BodyKind::Multipart) => Phase::File,
                            _ => Phase::Suffix(0),
                        };
                        continue;
                    }
                    let mut w = Window::new(off, out);
                    self.emit_prefix(&mut w);
                    let n = w.written();
                    self.phase = Phase::Prefix(off.saturating_add(n as u64));
                    return Step::Write(n);
                }
                Phase::File => {
                    return Step::SendFile {
                        len: self.shape.upload_len.unwrap_or(0),
                    }
                }
                Phase::Suffix(off) => {
                    let mut w = Window::new(off, out);
                    self.emit_suffix(&mut w);
                    let n = w.written();
                    if n == 0 {
                        self.phase = Phase::Done;
                        continue;
                    }
                    self.phase = Phase::Suffix(off.saturating_add(n as u64));
                    return Step::Write(n);
                }
                Phase::Done => return Step::Done,
            }
        }
    }

    fn file_sent(&mut self) {
        if self.phase == Phase::File {
            self.phase = Phase::Suffix(0);
        }
    }

    fn all_params(&self, p: &mut dyn Params) {
        if let Some(c) = self.creds_in_body {
            p.text("key", c.key());
            if let Some(t) = c.api_token() {
                p.text("api_token", t);
            }
        }
        self.req.params(p);
    }

    /// The method's own request target: path, suffix, and for GET the
    /// query.
    fn emit_target(&self, s: &mut dyn Sink) {
        s.put(self.cfg.base_path.as_bytes());
        s.put(self.shape.path.as_bytes());
        if let Some(f) = self.shape.format {
            s.put(b".");
            s.put(f.as_str().as_bytes());
        }
        if self.method == HttpMethod::Get {
            let mut q = QueryParams {
                sink: &mut *s,
                first: true,
            };
            self.req.params(&mut q);
        }
    }

    fn emit_prefix(&self, s: &mut dyn Sink) {
        s.put(self.method.as_str().as_bytes());
        s.put(b" ");
        if let Some(r) = self.cfg.redirect {
            s.put(r.target.as_bytes());
        } else {
            self.emit_target(s);
        }
        s.put(b" HTTP/1.1\r\nHost: ");
        s.put(self.cfg.host.as_bytes());
        if let Some(p) = self.cfg.port {
            let mut digits = [0u8; 20];
            s.put(b":");
            s.put(crate::codec::decimal(u64::from(p), &mut digits));
        }
        s.put(b"\r\nUser-Agent: ");
        s.put(self.cfg.user_agent.as_bytes());
        s.put(b"\r\nAccept: application/json, */*\r\n");
        if let Some(c) = self.basic {
            s.put(b"Authorization: Basic ");
            basic_token(s, c);
            s.put(b"\r\n");
        }
        if let Auth::Session(cookie) = self.cfg.auth {
            s.put(b"Cookie: ");
            s.put(cookie.as_str().as_bytes());
            s.put(b"\r\n");
        }
        if self.cfg.no_session {
            s.put(b"x-nsx-lastline-no-session: 1\r\n");
        }
        s.put(if self.cfg.keep_alive {
            b"Connection: keep-alive\r\n" as &[u8]
        } else {
            b"Connection: close\r\n"
        });
        match self.body {
            Some(BodyKind::Form) => s.put(b"Content-Type: application/x-www-form-urlencoded\r\n"),
            Some(BodyKind::Multipart) => {
                s.put(b"Content-Type: multipart/form-data; boundary=");
                s.put(self.boundary.as_str().as_bytes());
                s.put(b"\r\n");
            }
            None => {}
        }
        if self.body.is_some() {
            s.put(b"Content-Length: ");
            let mut digits = [0u8; 20];
            s.put(crate::codec::decimal(self.body_len, &mut digits));
            s.put(b"\r\n");
        }
        s.put(b"\r\n");
        self.emit_body_prefix(s);
    }

    fn emit_body_prefix(&self, s: &mut dyn Sink) {
        match self.body {
            Some(BodyKind::Form) => {
                let mut f = FormParams {
                    w: FormWriter::new(s),
                };
                self.all_params(&mut f);
            }
            Some(BodyKind::Multipart) => {
                let mut p = PartWriter::new(s, &self.boundary);
                self.all_params(&mut p);
                if self.shape.upload_len.is_some() {
                    p.file_head();
                }
            }
            None => {}
        }
    }

    fn emit_suffix(&self, s: &mut dyn Sink) {
        if self.body == Some(BodyKind::Multipart) {
            PartWriter::new(s, &self.boundary).close(self.shape.upload_len.is_some());
        }
    }
}

fn basic_token(s: &mut dyn Sink, c: Credentials<'_>) {
    // base64("key:token") without building the joined string.
    let token = c.api_token().unwrap_or("");
    let bytes = c
        .key()
        .bytes()
        .chain(core::iter::once(b':'))
        .chain(token.bytes());
    crate::codec::base64_into(bytes, &mut |b| s.put(b));
}

struct FormParams<'s, S: Sink + ?Sized> {
    w: FormWriter<'s, S>,
}

impl<S: Sink + ?Sized> Params for FormParams<'_, S> {
    fn value(&mut self, name: &'static str, value: Value<'_>) {
        self.w.pair_with(name, |put| value.write(put));
    }
    fn file_text(&mut self, name: &'static str, value: &str) {
        self.text(name, value);
    }
    fn file_lines(&mut self, name: &'static str, lines: &[&str]) {
        self.w.pair_with(name, |put| {
            for (i, l) in lines.iter().enumerate() {
                if i > 0 {
                    put(b"\n");
                }
                put(l.as_bytes());
            }
        });
    }
}

/// Parameters of a GET, after the path: `?a=1&b=2`.
struct QueryParams<'s> {
    sink: &'s mut dyn Sink,
    first: bool,
}

impl QueryParams<'_> {
    fn name(&mut self, name: &str) {
        self.sink.put(if self.first { b"?" } else { b"&" });
        self.first = false;
        encode_into(self.sink, name.as_bytes());
        self.sink.put(b"=");
    }
}

impl Params for QueryParams<'_> {
    fn value(&mut self, name: &'static str, value: Value<'_>) {
        self.name(name);
        let sink = &mut *self.sink;
        value.write(&mut |b: &[u8]| encode_into(sink, b));
    }
    fn file_text(&mut self, name: &'static str, value: &str) {
        self.text(name, value);
    }
    fn file_lines(&mut self, name: &'static str, lines: &[&str]) {
        self.name(name);
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                encode_into(self.sink, b"\n");
            }
            encode_into(self.sink, l.as_bytes());
        }
    }
}
