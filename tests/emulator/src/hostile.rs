//! A hostile server: not the emulator's faithful API, but a scripted TCP
//! server on loopback that answers each request with whatever a test
//! writes — forged answers, late answers, floods, trickles — and records
//! what reached it. For the tests that the SDK stays bounded, typed and
//! safe whatever a server (or the path to it) sends.
//!
//! Each accepted connection runs the script on its own thread: the
//! script reads requests with [`Conn::request`] and writes what it likes.
//! Every connection is recorded, and stops with the server (dropped).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request as the server read it.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The request line (`GET /path HTTP/1.1`).
    pub line: String,
    /// The head's header lines.
    pub headers: Vec<String>,
    /// The body (Content-Length bytes).
    pub body: Vec<u8>,
}

impl Request {
    /// The path, without the query.
    pub fn path(&self) -> &str {
        let target = self.line.split(' ').nth(1).unwrap_or("");
        target.split('?').next().unwrap_or("")
    }
}

/// One accepted connection, as a script sees it.
pub struct Conn {
    reader: BufReader<TcpStream>,
    /// The connection's stream, for writing.
    pub stream: TcpStream,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl Conn {
    /// Reads the next request (`None` once the client closed).
    pub fn request(&mut self) -> Option<Request> {
        let mut req = Request::default();
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if !line.trim().is_empty() {
                break;
            }
        }
        req.line = line.trim_end().to_owned();
        let mut len = 0usize;
        loop {
            line.clear();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let h = line.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((name, value)) = h.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    len = value.trim().parse().unwrap_or(0);
                }
            }
            req.headers.push(h.to_owned());
        }
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).ok()?;
        req.body = body;
        self.log.lock().unwrap().push(req.clone());
        Some(req)
    }

    /// Writes `bytes` (errors ignored: the client may have gone).
    pub fn send(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
        let _ = self.stream.flush();
    }

    /// Whether the server is being dropped (long scripts stop then).
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// A JSON answer with its head.
pub fn json(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The hostile server: a listener on loopback and its script.
pub struct Hostile {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Request>>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Hostile {
    /// Starts a server whose every connection runs `script`.
    pub fn start(script: impl Fn(&mut Conn) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        Self::serve(listener, Arc::new(script))
    }

    fn serve(listener: TcpListener, script: Arc<dyn Fn(&mut Conn) + Send + Sync>) -> Self {
        let addr = listener.local_addr().expect("address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, c, s) = (log.clone(), connections.clone(), stop.clone());
        listener.set_nonblocking(true).expect("nonblocking");
        thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        c.fetch_add(1, Ordering::Relaxed);
                        let script = script.clone();
                        let (log, stop) = (l.clone(), s.clone());
                        thread::spawn(move || {
                            let Ok(reader) = stream.try_clone() else {
                                return;
                            };
                            let mut conn = Conn {
                                reader: BufReader::new(reader),
                                stream,
                                log,
                                stop,
                            };
                            script(&mut conn);
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        });
        Self {
            addr,
            log,
            connections,
            stop,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request read so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
