//! # lastline-emulator
//!
//! A local emulator of the whole Lastline Analyst API, for tests, examples,
//! benchmarks and offline firmware development. It is a witness, not a
//! mirror of the SDK: where the reference leaves room it serves the range
//! a real server may send.
//!
//! - Every method at its documented path (suffixes in any case, the wire
//!   dialect's aliases), a content-addressed file store, tasks that
//!   complete after a configurable delay with deterministic verdicts
//!   (content with the EICAR test string scores 100), sessions, exports,
//!   IOCs, child tasks from archives.
//! - Resubmissions of the same content (by any hash) or URL within
//!   `expires` return the same task, with its result once complete;
//!   privileged parameters are refused (108) only off their default.
//! - Open shapes in a rich ([`Reading::Rich`], the default) or a plain
//!   reading, integers in hex, optional fields left out, flags as strings
//!   ([`Shapes`]).
//! - Three origins: the API, a CDN that exported reports redirect to (302),
//!   a datacenter that API calls may be redirected to (307); the log says
//!   which credentials reached which ([`Origin`], [`Violation`]).
//! - Faults per endpoint ([`FaultRule`]): 107, 122, 5xx and 429 with or
//!   without `Retry-After`, resets before the head, mid-head and mid-body,
//!   slow answers, closes; latency for WAN benchmarks; HTTPS with a test
//!   PKI ([`pki`]).
//! - Reports (PDF, RTF, JSON) that show the file, hashes, score, verdict,
//!   threat and times.
//!
//! Its request parsing and JSON are its own (hyper, multer, serde_json),
//! and it reads the contract from the API catalog, independent of the SDK
//! it checks.
//!
//! ```
//! use std::io::{Read, Write};
//! use lastline_emulator::{Config, Emulator, Fault, FaultRule, Reading, Shapes};
//!
//! let emu = Emulator::start(Config {
//!     key: "K".into(),
//!     token: "T".into(),
//!     shapes: Shapes { reading: Reading::Plain, ..Shapes::default() },
//!     ..Config::default()
//! })
//! .unwrap();
//! // Any HTTP client will do; here a bare socket, credentials by Basic auth.
//! let ask = |path: &str| {
//!     let mut s = std::net::TcpStream::connect(emu.addr()).unwrap();
//!     // "K:T" in base64.
//!     write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic SzpU\r\nConnection: close\r\n\r\n").unwrap();
//!     let mut answer = String::new();
//!     s.read_to_string(&mut answer).unwrap();
//!     answer
//! };
//! let pong = ask("/authentication/ping.json");
//! assert!(pong.contains(r#""data":"pong""#) && pong.contains(r#""success":1"#));
//! // The next ping answers 503 with Retry-After; other methods are untouched.
//! emu.faults().add("ping:503,retry-after=2".parse().unwrap());
//! emu.faults().add(FaultRule::new(Some("get_api_utc_timestamp"), Fault::Unavailable, 1));
//! let busy = ask("/authentication/ping.json");
//! assert!(busy.starts_with("HTTP/1.1 503") && busy.contains("retry-after: 2"));
//! assert!(ask("/analysis/get_api_utc_timestamp.json").contains(r#""error_code":107"#));
//! assert_eq!(emu.log().entries().len(), 3);
//! assert_ne!(emu.cdn_addr(), emu.addr()); // exported reports are served there
//! ```

#![warn(missing_docs)]

mod api;
mod catalog;
mod config;
mod faults;
pub mod hostile;
mod log;
pub mod pki;
mod render;
mod request;
mod server;
mod shapes;
mod store;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub use api::{method_names, LONG_ACTIVITY};
pub use config::{Config, Hex, Reading, Redirect, Shapes, TlsIdentity};
pub use faults::{Fault, FaultRule, FaultSettings, Faults, RetryAfter};
pub use log::{CredentialSource, LogEntry, Origin, PartInfo, RequestLog, Violation};
pub use server::RATE_LIMITED;
pub use store::EICAR;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use server::{Addrs, Conn, Ctx, CutIo};
use tokio::io::{AsyncRead, AsyncWrite};

/// A running emulator: the API on one port, and beside it the CDN that
/// exported reports redirect to and the datacenter that API calls may be
/// redirected to, each on a port of its own (another origin). Stops when
/// dropped.
pub struct Emulator {
    addrs: Addrs,
    ctx: Arc<Ctx>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

fn tls_acceptor(id: &TlsIdentity) -> std::io::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("TLS {what}: {e}"))
    };
    let certs = CertificateDer::pem_slice_iter(&id.cert_chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("certificate", &e))?;
    let key = PrivateKeyDer::from_pem_slice(&id.key_pem).map_err(|e| bad("key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| bad("versions", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad("identity", &e))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}

fn serve<S>(stream: S, ctx: Arc<Ctx>, origin: Origin)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let conn = Arc::new(Conn::default());
        let io = CutIo {
            inner: stream,
            conn: conn.clone(),
        };
        let svc = service_fn(move |req| server::handle(req, ctx.clone(), origin, conn.clone()));
        let _ = http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(io), svc)
            .await;
    });
}

async fn accept_loop(
    listener: TcpListener,
    ctx: Arc<Ctx>,
    origin: Origin,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let ctx = ctx.clone();
        match &tls {
            None => serve(stream, ctx, origin),
            Some(acceptor) => {
                let accepting = acceptor.accept(stream);
                tokio::spawn(async move {
                    // A failed handshake just ends that connection.
                    if let Ok(s) = accepting.await {
                        serve(s, ctx, origin);
                    }
                });
            }
        }
    }
}

impl Emulator {
    /// Starts on `127.0.0.1` at a free port.
    pub fn start(cfg: Config) -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0", cfg)
    }

    /// Starts on `addr` (the CDN and datacenter origins take free ports on
    /// the same address).
    pub fn start_on(addr: &str, cfg: Config) -> std::io::Result<Self> {
        let api = TcpListener::bind(addr)?;
        let ip = api.local_addr()?.ip();
        let cdn = TcpListener::bind((ip, 0))?;
        let datacenter = TcpListener::bind((ip, 0))?;
        for l in [&api, &cdn, &datacenter] {
            l.set_nonblocking(true)?;
        }
        let addrs = Addrs {
            api: api.local_addr()?,
            cdn: cdn.local_addr()?,
            datacenter: datacenter.local_addr()?,
        };
        let tls = cfg.tls.as_ref().map(tls_acceptor).transpose()?;
        let store = store::Store::new(cfg.seed, cfg.clock_offset_secs);
        let faults = Faults(Arc::new(Mutex::new(cfg.faults.clone())));
        let ctx = Arc::new(Ctx {
            scheme: if tls.is_some() { "https" } else { "http" },
            cfg: Mutex::new(cfg),
            store: Arc::new(Mutex::new(store)),
            faults,
            log: RequestLog::default(),
            addrs,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = ctx.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("lastline-emulator".into())
            .spawn(move || {
                rt.block_on(async move {
                    for (l, origin) in [
                        (api, Origin::Api),
                        (cdn, Origin::Cdn),
                        (datacenter, Origin::Datacenter),
                    ] {
                        tokio::spawn(accept_loop(l, serving.clone(), origin, tls.clone()));
                    }
                    let _ = stopped.await;
                });
                // Dropping the runtime ends every connection.
            })?;
        Ok(Self {
            addrs,
            ctx,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address the API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addrs.api
    }

    /// The CDN origin's address (exported reports are redirected there).
    pub fn cdn_addr(&self) -> SocketAddr {
        self.addrs.cdn
    }

    /// The datacenter origin's address (datacenter redirects go there).
    pub fn datacenter_addr(&self) -> SocketAddr {
        self.addrs.datacenter
    }

    /// `http://127.0.0.1:PORT`, or `https://` when serving TLS.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.ctx.scheme, self.addrs.api)
    }

    /// The fault switches, changeable while running.
    pub fn faults(&self) -> &Faults {
        &self.ctx.faults
    }

    /// The request log.
    pub fn log(&self) -> &RequestLog {
        &self.ctx.log
    }

    /// The accepted key and token.
    pub fn credentials(&self) -> (String, String) {
        let c = self.ctx.cfg.lock().unwrap_or_else(|e| e.into_inner());
        (c.key.clone(), c.token.clone())
    }

    /// Moves the emulator's clock by `secs` (completions become due).
    pub fn advance_clock(&self, secs: i64) {
        self.ctx
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clock_offset += secs;
    }

    /// Forgets every stored file now (data retention).
    pub fn forget_files(&self) {
        self.ctx
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forget_files();
    }

    /// Changes the configuration (upload limit, page size, delay...).
    pub fn configure(&self, f: impl FnOnce(&mut Config)) {
        f(&mut self.ctx.cfg.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Stops serving and waits for the server thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}
