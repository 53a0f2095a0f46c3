//! HTTP serving with hyper on three origins (the API, its datacenter, its
//! CDN), and fault injection on the wire.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::api::{dispatch, error_reply, route, Outcome, Reply};
use crate::config::{Config, Redirect};
use crate::faults::{Fault, Faults, RetryAfter};
use crate::log::{CredentialSource, LogEntry, Origin, RequestLog, Violation};
use crate::render::{self, Format};
use crate::request::{parse, split_suffix, ParseError};
use crate::store::Store;

/// The emulator's origins.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Addrs {
    pub api: SocketAddr,
    pub cdn: SocketAddr,
    pub datacenter: SocketAddr,
}

pub(crate) struct Ctx {
    pub cfg: Mutex<Config>,
    pub store: Arc<Mutex<Store>>,
    pub faults: Faults,
    pub log: RequestLog,
    pub addrs: Addrs,
    /// `http` or `https`.
    pub scheme: &'static str,
}

impl Ctx {
    fn url(&self, origin: Origin, target: &str) -> String {
        let addr = match origin {
            Origin::Api => self.addrs.api,
            Origin::Cdn => self.addrs.cdn,
            Origin::Datacenter => self.addrs.datacenter,
        };
        format!("{}://{addr}{target}", self.scheme)
    }
}

type Body = BoxBody<Bytes, io::Error>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bytes written on one connection, and where to break it off: hyper
/// writes the head itself, so a cut inside it happens below hyper.
#[derive(Debug)]
pub(crate) struct Conn {
    written: AtomicU64,
    cut_at: AtomicU64,
    /// Which connection (in the order they were accepted, from 1).
    pub(crate) number: u64,
}

/// Connections accepted so far, on every origin of every emulator.
static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

impl Default for Conn {
    fn default() -> Self {
        Self {
            written: AtomicU64::new(0),
            cut_at: AtomicU64::new(u64::MAX),
            number: CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
        }
    }
}

impl Conn {
    /// Breaks the connection off a few bytes into the next response (its
    /// status line): the earlier responses on it were written whole.
    fn cut_next_head(&self) {
        let at = self.written.load(Ordering::SeqCst) + 12;
        self.cut_at.store(at, Ordering::SeqCst);
    }
}

/// A stream that stops writing where its [`Conn`] says.
pub(crate) struct CutIo<S> {
    pub inner: S,
    pub conn: Arc<Conn>,
}

impl<S: AsyncRead + Unpin> AsyncRead for CutIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for CutIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = self.conn.written.load(Ordering::SeqCst);
        let cut = self.conn.cut_at.load(Ordering::SeqCst);
        if written >= cut {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "injected reset mid-head",
            )));
        }
        let room = usize::try_from(cut - written).unwrap_or(usize::MAX);
        let n = buf.len().min(room);
        let polled = Pin::new(&mut self.inner).poll_write(cx, &buf[..n]);
        if let Poll::Ready(Ok(k)) = polled {
            self.conn.written.fetch_add(k as u64, Ordering::SeqCst);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Body bytes shaped by the fault switches.
fn body(bytes: Vec<u8>, faults: &Faults, reset: bool) -> (Body, bool) {
    let f = faults.get();
    let len = bytes.len();
    if !reset && f.dribble.is_none() && !f.chunked {
        return (
            Full::new(Bytes::from(bytes))
                .map_err(|never: Infallible| match never {})
                .boxed(),
            true,
        );
    }
    let piece = f.dribble.map_or(len.max(1), |(n, _)| n.max(1));
    let pause = f.dribble.map_or(Duration::ZERO, |(_, d)| d);
    let cut = if reset { len / 2 } else { len };
    let chunks: Vec<Bytes> = bytes[..cut]
        .chunks(piece)
        .map(Bytes::copy_from_slice)
        .collect();
    let stream = futures_util::stream::unfold(
        (chunks.into_iter(), reset, false),
        move |(mut it, reset, failed)| async move {
            if failed {
                return None;
            }
            match it.next() {
                Some(c) => {
                    if !pause.is_zero() {
                        tokio::time::sleep(pause).await;
                    }
                    Some((Ok(Frame::data(c)), (it, reset, false)))
                }
                None if reset => {
                    // Let what was sent reach the client, then break off.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((Err(io::Error::other("injected reset")), (it, reset, true)))
                }
                None => None,
            }
        },
    );
    // Chunked when asked for; otherwise Content-Length is set by the caller.
    (BodyExt::boxed(StreamBody::new(stream)), !f.chunked)
}

/// An answer before it goes on the wire.
#[derive(Default)]
struct Answer {
    status: u16,
    content_type: &'static str,
    payload: Vec<u8>,
    filename: Option<String>,
    location: Option<String>,
    cookie: Option<String>,
    retry_after: Option<String>,
}

impl Answer {
    /// A rate limiter's 429: a failure envelope without a code.
    fn rate_limited() -> Self {
        Self {
            status: 429,
            content_type: "application/json",
            payload: render::failure(None, RATE_LIMITED).to_string().into_bytes(),
            ..Self::default()
        }
    }

    fn html(status: u16, title: &str) -> Self {
        Self {
            status,
            content_type: "text/html",
            payload: render::html_page(status, title).into_bytes(),
            ..Self::default()
        }
    }
}

/// The words of a rate-limited answer ([`Fault::RateLimited`]).
pub const RATE_LIMITED: &str = "Too many requests: the limit is 10 per minute";

/// How the wire treats the answer.
#[derive(Default)]
struct Wire {
    close: bool,
    reset_body: bool,
    delay: Duration,
}

fn server_error_title(status: u16) -> &'static str {
    match status {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        _ => "Server Error",
    }
}

fn retry_after(ctx: &Ctx, ra: RetryAfter) -> String {
    match ra {
        RetryAfter::Seconds(n) => n.to_string(),
        RetryAfter::HttpDate(n) => {
            render::http_date(lock(&ctx.store).now().saturating_add(i64::from(n)))
        }
    }
}

/// What the wire-level faults do to an answer (the others replace it).
fn wire_fault(fault: Fault, wire: &mut Wire, conn: &Conn) {
    match fault {
        Fault::ResetMidHead => conn.cut_next_head(),
        Fault::ResetMidBody => wire.reset_body = true,
        Fault::Slow(d) => wire.delay += d,
        Fault::Close => wire.close = true,
        _ => {}
    }
}

/// The API failure an injected 107 or 122 answers with (a 122 also ends
/// every session).
fn api_fault(
    ctx: &Ctx,
    code: i64,
    method: Option<&'static str>,
    format: Option<Format>,
) -> Outcome {
    let reply = if code == 122 {
        lock(&ctx.store).sessions.clear();
        error_reply(
            method.unwrap_or(""),
            format,
            Some(122),
            "session expired, authenticate again",
        )
    } else {
        Reply::Envelope {
            status: 200,
            body: render::failure(Some(code), "Service is temporarily unavailable."),
        }
    };
    Outcome {
        reply,
        set_cookie: None,
        method,
        error_code: Some(code),
        violations: vec![],
    }
}

fn credentials_seen(req: &Request<Incoming>) -> Vec<CredentialSource> {
    let mut seen = Vec::new();
    if req.headers().contains_key("authorization") {
        seen.push(CredentialSource::Basic);
    }
    let cookie = req
        .headers()
        .get_all("cookie")
        .iter()
        .any(|v| v.to_str().is_ok_and(|c| c.contains("ll_session=")));
    if cookie {
        seen.push(CredentialSource::Cookie);
    }
    let query = req.uri().query().unwrap_or("");
    if form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "key" || k == "api_token") {
        seen.push(CredentialSource::Url);
    }
    seen
}

/// The CDN origin: serves what exported-report redirects point at, and
/// notes any credential that followed the client there.
async fn serve_cdn(
    req: Request<Incoming>,
    ctx: Arc<Ctx>,
    conn: Arc<Conn>,
) -> Result<Response<Body>, io::Error> {
    let credentials = credentials_seen(&req);
    let mut entry = LogEntry::new(Origin::Cdn, &req);
    entry.connection = conn.number;
    if !credentials.is_empty() {
        entry.violations.push(Violation::CredentialsToOtherOrigin);
    }
    entry.credentials = credentials;
    let mut wire = Wire::default();
    // Only rules naming the CDN apply here.
    let fault = ctx.faults.take_rule(Some("cdn"), false);
    if let Some(f) = fault {
        wire_fault(f, &mut wire, &conn);
    }
    let found = entry
        .path
        .strip_prefix("/exports/")
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(token, _)| lock(&ctx.store).cdn.get(token).cloned());
    let answer = match (fault, found) {
        (
            Some(Fault::ServerError {
                status,
                retry_after: ra,
            }),
            _,
        ) => Answer {
            retry_after: ra.map(|r| retry_after(&ctx, r)),
            ..Answer::html(status, server_error_title(status))
        },
        (Some(Fault::TooManyRequests(ra)), _) => Answer {
            retry_after: Some(retry_after(&ctx, ra)),
            ..Answer::html(429, "Too Many Requests")
        },
        (Some(Fault::RateLimited(ra)), _) => Answer {
            retry_after: Some(retry_after(&ctx, ra)),
            ..Answer::rate_limited()
        },
        (_, _) if entry.method != "GET" => Answer::html(405, "Method Not Allowed"),
        (_, Some((file, bytes))) => Answer {
            status: 200,
            content_type: "application/pdf",
            payload: bytes,
            filename: Some(file),
            ..Answer::default()
        },
        (_, None) => Answer::html(404, "Not Found"),
    };
    if fault == Some(Fault::ResetBeforeHead) {
        entry.status = 0;
        ctx.log.push(entry);
        return Err(io::Error::other("injected reset before the head"));
    }
    finish(&ctx, entry, answer, wire).await
}

/// Serves one request on the API or datacenter origin; an error closes the
/// connection without an answer (an injected reset).
pub(crate) async fn handle(
    req: Request<Incoming>,
    ctx: Arc<Ctx>,
    origin: Origin,
    conn: Arc<Conn>,
) -> Result<Response<Body>, io::Error> {
    if matches!(origin, Origin::Cdn) {
        return serve_cdn(req, ctx, conn).await;
    }
    let raw_path = req.uri().path().to_string();
    let mut entry = LogEntry::new(origin, &req);
    entry.connection = conn.number;
    let cfg = lock(&ctx.cfg).clone();
    let (path, format) = split_suffix(&raw_path);
    let routed = route(&path);
    let mut wire = Wire {
        close: ctx.faults.get().connection_close,
        reset_body: ctx.faults.take(|f| &mut f.reset_next),
        delay: cfg.latency,
    };
    if ctx.faults.take(|f| &mut f.http_503_next) {
        let answer = Answer::html(503, "Service Temporarily Unavailable");
        return finish(&ctx, entry, answer, wire).await;
    }
    let mut api = match parse(req, cfg.upload_limit, &ctx.faults).await {
        Ok(api) => api,
        Err(ParseError::Reset) => {
            entry.status = 0;
            ctx.log.push(entry);
            return Err(io::Error::other("injected reset mid-upload"));
        }
        Err(ParseError::TooLarge) => {
            let answer = Answer::html(413, "Request Entity Too Large");
            return finish(&ctx, entry, answer, wire).await;
        }
        Err(e @ (ParseError::Bad(_) | ParseError::Multipart(_))) => {
            let msg = match e {
                ParseError::Multipart(m) => {
                    entry
                        .violations
                        .push(Violation::MalformedMultipart(m.clone()));
                    format!("malformed multipart: {m}")
                }
                ParseError::Bad(m) => m,
                _ => String::new(),
            };
            let env = render::failure(None, &msg);
            let (content_type, text) = if format == Some(Format::Xml) {
                ("application/xml", render::to_xml(&env))
            } else {
                ("application/json", env.to_string())
            };
            let answer = Answer {
                status: 400,
                content_type,
                payload: text.into_bytes(),
                ..Answer::default()
            };
            return finish(&ctx, entry, answer, wire).await;
        }
    };
    entry.credentials = api.sources.clone();
    entry.params = api.params.iter().map(|(k, _)| k.clone()).collect();
    entry.parts = api.parts.clone();
    entry.task = api.param("uuid").map(str::to_string);
    entry.suffix = api.suffix.clone();
    entry.api_method = routed;
    if origin == Origin::Datacenter {
        if let Some(grant) = api.param("ll_redirect") {
            api.redirect_grant = lock(&ctx.store).redirect_grants.remove(grant);
        }
        if !api.sources.is_empty() {
            entry.violations.push(Violation::CredentialsToOtherOrigin);
        }
    }
    // The older counter switch is a 107 for whatever comes next.
    let fault = if ctx.faults.take(|f| &mut f.unavailable_next) {
        Some(Fault::Unavailable)
    } else {
        ctx.faults.take_rule(routed, true)
    };
    if let Some(f) = fault {
        wire_fault(f, &mut wire, &conn);
    }
    let redirect_allowed = !matches!(
        api.param("allow_datacenter_redirect"),
        Some("0" | "false" | "False")
    );
    let mut retry = None;
    let outcome = match fault {
        Some(Fault::ServerError {
            status,
            retry_after: ra,
        }) => {
            retry = ra.map(|r| retry_after(&ctx, r));
            Err(Answer::html(status, server_error_title(status)))
        }
        Some(Fault::TooManyRequests(ra)) => {
            retry = Some(retry_after(&ctx, ra));
            Err(Answer::html(429, "Too Many Requests"))
        }
        Some(Fault::RateLimited(ra)) => {
            retry = Some(retry_after(&ctx, ra));
            Err(Answer::rate_limited())
        }
        Some(Fault::Unavailable) => Ok(api_fault(&ctx, 107, routed, api.format)),
        Some(Fault::SessionGone) => Ok(api_fault(&ctx, 122, routed, api.format)),
        _ if origin == Origin::Api
            && routed.is_some()
            && redirect_allowed
            && cfg.datacenter_redirect != Redirect::Off =>
        {
            if cfg.datacenter_redirect == Redirect::Once {
                lock(&ctx.cfg).datacenter_redirect = Redirect::Off;
            }
            let grant = {
                let mut store = lock(&ctx.store);
                let g = store.new_uuid();
                store.redirect_grants.insert(g.clone());
                g
            };
            let sep = if entry.query.is_empty() { "" } else { "&" };
            Ok(Outcome {
                reply: Reply::Redirect {
                    status: 307,
                    to: Origin::Datacenter,
                    target: format!("{raw_path}?{}{sep}ll_redirect={grant}", entry.query),
                },
                set_cookie: None,
                method: routed,
                error_code: None,
                violations: vec![],
            })
        }
        _ => {
            let mut store = lock(&ctx.store);
            let out = dispatch(&cfg, &mut store, &api);
            if ctx.faults.get().expire_sessions && out.method != Some("login") {
                store.sessions.clear();
            }
            Ok(out)
        }
    };
    let answer = match outcome {
        Err(mut answer) => {
            answer.retry_after = retry;
            answer
        }
        Ok(outcome) => {
            entry.error_code = outcome.error_code;
            entry.violations.extend(outcome.violations);
            let mut answer = match outcome.reply {
                Reply::Envelope { status, body } => {
                    let body = crate::shapes::apply(routed, body, &cfg.shapes);
                    let (content_type, text) = if api.format == Some(Format::Xml) {
                        ("application/xml", render::to_xml(&body))
                    } else {
                        ("application/json", body.to_string())
                    };
                    let text = crate::shapes::unmark(text);
                    Answer {
                        status,
                        content_type,
                        payload: text.into_bytes(),
                        ..Answer::default()
                    }
                }
                Reply::Raw {
                    status,
                    content_type,
                    filename,
                    bytes,
                } => Answer {
                    status,
                    content_type,
                    payload: bytes,
                    filename,
                    ..Answer::default()
                },
                Reply::Html { status, title } => Answer::html(status, title),
                Reply::Redirect { status, to, target } => Answer {
                    location: Some(ctx.url(to, &target)),
                    ..Answer::html(
                        status,
                        if status == 302 {
                            "Found"
                        } else {
                            "Temporary Redirect"
                        },
                    )
                },
            };
            answer.cookie = outcome.set_cookie;
            answer
        }
    };
    if fault == Some(Fault::ResetBeforeHead) {
        // Served (a submission made its task), then gone without a word.
        entry.status = 0;
        ctx.log.push(entry);
        return Err(io::Error::other("injected reset before the head"));
    }
    finish(&ctx, entry, answer, wire).await
}

/// Logs and sends an answer as the wire switches say.
async fn finish(
    ctx: &Ctx,
    mut entry: LogEntry,
    answer: Answer,
    wire: Wire,
) -> Result<Response<Body>, io::Error> {
    entry.status = answer.status;
    entry.location = answer.location.clone();
    ctx.log.push(entry);
    if !wire.delay.is_zero() {
        tokio::time::sleep(wire.delay).await;
    }
    let len = answer.payload.len();
    let (b, with_length) = body(answer.payload, &ctx.faults, wire.reset_body);
    let mut resp = Response::builder()
        .status(answer.status)
        .header("content-type", answer.content_type);
    if with_length {
        resp = resp.header("content-length", len.to_string());
    }
    if let Some(f) = answer.filename {
        resp = resp.header(
            "content-disposition",
            format!("attachment; filename=\"{f}\""),
        );
    }
    if let Some(l) = answer.location {
        resp = resp.header("location", l);
    }
    if let Some(r) = answer.retry_after {
        resp = resp.header("retry-after", r);
    }
    if let Some(c) = answer.cookie {
        resp = resp.header("set-cookie", format!("ll_session={c}; Path=/; HttpOnly"));
    }
    if wire.close {
        resp = resp.header("connection", "close");
    }
    Ok(resp.body(b).unwrap_or_else(|_| {
        Response::new(
            Full::new(Bytes::new())
                .map_err(|n: Infallible| match n {})
                .boxed(),
        )
    }))
}
