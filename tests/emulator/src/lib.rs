//! # lastline-emulator
//!
//! A local emulator of the whole Lastline Analyst API, for tests, examples,
//! benchmarks and offline firmware development. It serves every method of
//! the reference at its documented path (with `.json`/`.xml` suffixes and
//! the wire dialect's aliases), keeps a content-addressed file store and
//! tasks that complete after a configurable delay with deterministic
//! verdicts (content with the EICAR test string scores 100), and injects
//! faults on request. Its request parsing and JSON are its own (hyper,
//! multer, serde_json), independent of the SDK it checks.
//!
//! ```
//! use std::io::{Read, Write};
//! use lastline_emulator::{Config, Emulator};
//!
//! let emu = Emulator::start(Config { key: "K".into(), token: "T".into(), ..Config::default() }).unwrap();
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
//! emu.faults().set(|f| f.unavailable_next = 1); // the next call answers 107
//! assert!(ask("/authentication/ping.json").contains(r#""error_code":107"#));
//! assert_eq!(emu.log().entries().len(), 2);
//! ```

#![warn(missing_docs)]

mod api;
mod config;
mod faults;
mod log;
mod render;
mod request;
mod server;
mod store;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub use api::method_names;
pub use config::Config;
pub use faults::{FaultSettings, Faults};
pub use log::{CredentialSource, LogEntry, PartInfo, RequestLog};
pub use store::EICAR;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use server::Ctx;

/// A running emulator. Stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    ctx: Arc<Ctx>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts on `127.0.0.1` at a free port.
    pub fn start(cfg: Config) -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0", cfg)
    }

    /// Starts on `addr`.
    pub fn start_on(addr: &str, cfg: Config) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let store = store::Store::new(cfg.seed, cfg.clock_offset_secs);
        let faults = Faults(Arc::new(Mutex::new(cfg.faults.clone())));
        let ctx = Arc::new(Ctx {
            cfg: Mutex::new(cfg),
            store: Arc::new(Mutex::new(store)),
            faults,
            log: RequestLog::default(),
        });
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = ctx.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new().name("lastline-emulator".into()).spawn(move || {
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let ctx = serving.clone();
                            tokio::spawn(async move {
                                let svc = service_fn(move |req| server::handle(req, ctx.clone()));
                                let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), svc).await;
                            });
                        }
                    }
                }
            });
        })?;
        Ok(Self {
            addr,
            ctx,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
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
