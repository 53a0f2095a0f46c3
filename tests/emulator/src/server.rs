//! HTTP serving with hyper, and fault injection on the wire.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};

use crate::api::{dispatch, Reply};
use crate::config::Config;
use crate::faults::Faults;
use crate::log::{LogEntry, RequestLog};
use crate::render::{self, Format};
use crate::request::{parse, split_suffix, ParseError};
use crate::store::Store;

pub(crate) struct Ctx {
    pub cfg: Mutex<Config>,
    pub store: Arc<Mutex<Store>>,
    pub faults: Faults,
    pub log: RequestLog,
}

type Body = BoxBody<Bytes, std::io::Error>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
                    Some((
                        Err(std::io::Error::other("injected reset")),
                        (it, reset, true),
                    ))
                }
                None => None,
            }
        },
    );
    // Chunked when asked for; otherwise Content-Length is set by the caller.
    (BodyExt::boxed(StreamBody::new(stream)), !f.chunked)
}

/// Serves one request; an error closes the connection without an answer
/// (an injected reset).
pub(crate) async fn handle(
    req: Request<Incoming>,
    ctx: Arc<Ctx>,
) -> Result<Response<Body>, std::io::Error> {
    let method = req.method().as_str().to_string();
    let raw_path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let mut entry = LogEntry {
        method,
        path: raw_path.clone(),
        api_method: None,
        query,
        credentials: vec![],
        params: vec![],
        parts: vec![],
        status: 200,
        error_code: None,
        task: None,
    };
    let cfg = lock(&ctx.cfg).clone();
    let mut cookie = None;
    let (status, content_type, payload, filename): (u16, &str, Vec<u8>, Option<String>) = if ctx
        .faults
        .take(|f| &mut f.http_503_next)
    {
        (
            503,
            "text/html",
            render::html_page(503, "Service Temporarily Unavailable").into_bytes(),
            None,
        )
    } else {
        match parse(req, cfg.upload_limit, &ctx.faults).await {
            Err(ParseError::Reset) => {
                entry.status = 0;
                ctx.log.push(entry);
                return Err(std::io::Error::other("injected reset mid-upload"));
            }
            Err(ParseError::TooLarge) => (
                413,
                "text/html",
                render::html_page(413, "Request Entity Too Large").into_bytes(),
                None,
            ),
            Err(ParseError::Bad(msg)) => {
                let format = split_suffix(&raw_path).1;
                let env = render::failure(None, &msg);
                let text = if format == Some(Format::Xml) {
                    render::to_xml(&env)
                } else {
                    env.to_string()
                };
                (400, "application/json", text.into_bytes(), None)
            }
            Ok(api) => {
                entry.credentials = api.sources.clone();
                entry.params = api.params.iter().map(|(k, _)| k.clone()).collect();
                entry.parts = api.parts.clone();
                entry.task = api.param("uuid").map(str::to_string);
                let outcome = if ctx.faults.take(|f| &mut f.unavailable_next) {
                    crate::api::Outcome {
                        reply: Reply::Envelope {
                            status: 200,
                            body: render::failure(Some(107), "Service is temporarily unavailable."),
                        },
                        set_cookie: None,
                        method: None,
                        error_code: Some(107),
                    }
                } else {
                    let mut store = lock(&ctx.store);
                    let out = dispatch(&cfg, &mut store, &api);
                    if ctx.faults.get().expire_sessions && out.method != Some("login") {
                        store.sessions.clear();
                    }
                    out
                };
                entry.api_method = outcome.method;
                entry.error_code = outcome.error_code;
                cookie = outcome.set_cookie;
                match outcome.reply {
                    Reply::Envelope { status, body } => {
                        if api.format == Some(Format::Xml) {
                            (
                                status,
                                "application/xml",
                                render::to_xml(&body).into_bytes(),
                                None,
                            )
                        } else {
                            (
                                status,
                                "application/json",
                                body.to_string().into_bytes(),
                                None,
                            )
                        }
                    }
                    Reply::Raw {
                        status,
                        content_type,
                        filename,
                        bytes,
                    } => (status, content_type, bytes, filename),
                    Reply::Html { status, title } => (
                        status,
                        "text/html",
                        render::html_page(status, title).into_bytes(),
                        None,
                    ),
                }
            }
        }
    };
    entry.status = status;
    let reset = ctx.faults.take(|f| &mut f.reset_next);
    let close = ctx.faults.get().connection_close;
    let len = payload.len();
    let (b, with_length) = body(payload, &ctx.faults, reset);
    let mut resp = Response::builder()
        .status(status)
        .header("content-type", content_type);
    if with_length {
        resp = resp.header("content-length", len.to_string());
    }
    if let Some(f) = filename {
        resp = resp.header(
            "content-disposition",
            format!("attachment; filename=\"{f}\""),
        );
    }
    if let Some(c) = cookie {
        resp = resp.header("set-cookie", format!("ll_session={c}; Path=/; HttpOnly"));
    }
    if close {
        resp = resp.header("connection", "close");
    }
    ctx.log.push(entry);
    Ok(resp.body(b).unwrap_or_else(|_| {
        Response::new(
            Full::new(Bytes::new())
                .map_err(|n: Infallible| match n {})
                .boxed(),
        )
    }))
}
