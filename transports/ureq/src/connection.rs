//! Connections: ureq's connector (DNS, TCP, proxies, rustls) opens them;
//! the core's HTTP/1.1 runs over them as `embedded_io` streams.

use std::sync::Arc;
use std::time::Duration;

use ureq::config::Config as UreqConfig;
use ureq::http::Uri;
use ureq::tls::{RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, Resolver};
use ureq::unversioned::transport::time::Instant;
use ureq::unversioned::transport::{
    ConnectionDetails, Connector as _, DefaultConnector, NextTimeout, Transport,
};
use ureq::Timeout;

use crate::config::{proxy_with, Config, ProxyChoice};

/// Opens connections to one server.
pub(crate) struct UreqConnector {
    uri: Uri,
    config: UreqConfig,
    resolver: DefaultResolver,
    connector: Arc<DefaultConnector>,
    connect_timeout: Duration,
    io_timeout: Duration,
}

impl UreqConnector {
    pub(crate) fn new(uri: Uri, cfg: &Config) -> Self {
        let roots = match &cfg.roots {
            Some(certs) => RootCerts::Specific(certs.clone()),
            None => RootCerts::PlatformVerifier,
        };
        let mut builder = UreqConfig::builder()
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .timeout_connect(Some(cfg.connect_timeout));
        builder = match &cfg.proxy {
            // A proxy from the environment (HTTPS_PROXY...) is used, but
            // never for this machine: it could not reach our loopback.
            ProxyChoice::FromEnv if uri.host().is_some_and(crate::config::is_loopback) => {
                builder.proxy(None)
            }
            ProxyChoice::FromEnv => builder,
            ProxyChoice::Direct => builder.proxy(None),
            // Built once by `Config::settle` already, so it builds here: a
            // proxy asked for is never silently left out.
            ProxyChoice::Url { url, except } => builder.proxy(proxy_with(url, except).ok()),
        };
        let config = builder.build();
        Self {
            uri,
            config,
            resolver: DefaultResolver::default(),
            connector: Arc::new(DefaultConnector::default()),
            connect_timeout: cfg.connect_timeout,
            io_timeout: cfg.io_timeout,
        }
    }

    /// The URI of `origin`: the configured server's own, or one made for
    /// a redirect's origin.
    fn uri_of(&self, origin: &lastline_core::exchange::Origin<'_>) -> Result<Uri, ureq::Error> {
        let same = self
            .uri
            .host()
            .is_some_and(|h| h.eq_ignore_ascii_case(origin.host))
            && self
                .uri
                .port_u16()
                .unwrap_or(if origin.https { 443 } else { 80 })
                == origin.port
            && (self.uri.scheme_str() == Some("https")) == origin.https;
        if same {
            return Ok(self.uri.clone());
        }
        let scheme = if origin.https { "https" } else { "http" };
        format!("{scheme}://{}:{}/", origin.host, origin.port)
            .parse::<Uri>()
            .map_err(|_| ureq::Error::BadUri(format!("{}:{}", origin.host, origin.port)))
    }

    fn open(&self, uri: &Uri, limit: Duration) -> Result<Box<dyn Transport>, ureq::Error> {
        let timeout = NextTimeout {
            after: limit.into(),
            reason: Timeout::Connect,
            per_read: None,
            per_write: None,
        };
        let through_proxy = self
            .config
            .proxy()
            .is_some_and(|p| !p.is_no_proxy(uri) && !p.resolve_target());
        let addrs = if through_proxy {
            self.resolver.empty()
        } else {
            self.resolver.resolve(uri, &self.config, timeout)?
        };
        let inner = self.connector.clone();
        let details = ConnectionDetails {
            uri,
            addrs,
            config: &self.config,
            request_level: false,
            resolver: &self.resolver,
            now: Instant::now(),
            timeout,
            current_time: Arc::new(Instant::now),
            // Proxy connectors call back here to reach the proxy itself.
            run_connector: Arc::new(move |d| {
                inner.connect(d, None)?.ok_or(ureq::Error::ConnectionFailed)
            }),
            register_shutdown: Arc::new(|_| Ok(())),
        };
        let t = self
            .connector
            .connect(&details, None)?
            .ok_or(ureq::Error::ConnectionFailed)?;
        if details.needs_tls() && !t.is_tls() {
            return Err(ureq::Error::TlsRequired);
        }
        Ok(t)
    }
}

impl UreqConnector {
    /// Opens a connection to `origin` (the server, or a redirect's),
    /// taking at most `within` (and the connect timeout).
    pub(crate) fn connect(
        &self,
        origin: &lastline_core::exchange::Origin<'_>,
        within: Option<Duration>,
    ) -> Result<Connection, ConnError> {
        let limit = within.map_or(self.connect_timeout, |w| w.min(self.connect_timeout));
        let opened = self.uri_of(origin).and_then(|uri| {
            self.open(&uri, limit).map_err(|e| match e {
                // Say where it tried.
                ureq::Error::Io(io) => ureq::Error::Io(std::io::Error::new(
                    io.kind(),
                    format!("connecting to {uri}: {io}"),
                )),
                other => other,
            })
        });
        match opened {
            Ok(transport) => Ok(Connection {
                transport,
                staged: 0,
                io_timeout: self.io_timeout,
                limit: self.io_timeout,
            }),
            Err(e) => Err(ConnError::from(e)),
        }
    }
}

fn kind_of(e: &ureq::Error) -> embedded_io::ErrorKind {
    match e {
        ureq::Error::Timeout(_) => embedded_io::ErrorKind::TimedOut,
        ureq::Error::Io(io) => io.kind().into(),
        ureq::Error::HostNotFound => embedded_io::ErrorKind::NotFound,
        ureq::Error::ConnectionFailed => embedded_io::ErrorKind::ConnectionRefused,
        _ => embedded_io::ErrorKind::Other,
    }
}

/// One open connection. Writes are staged in the transport's output
/// buffer and sent when it is full or on flush, so the core's small
/// writes become few TLS records.
pub(crate) struct Connection {
    transport: Box<dyn Transport>,
    staged: usize,
    io_timeout: Duration,
    /// The I/O timeout of the next read or write: less than `io_timeout`
    /// when a call's deadline is nearer.
    limit: Duration,
}

/// A connection failure: its kind, and what ureq said (the cause the
/// returned error carries).
#[derive(Debug)]
pub(crate) struct ConnError {
    pub(crate) kind: embedded_io::ErrorKind,
    pub(crate) cause: ureq::Error,
}

impl From<ureq::Error> for ConnError {
    fn from(cause: ureq::Error) -> Self {
        Self {
            kind: kind_of(&cause),
            cause,
        }
    }
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.cause.fmt(f)
    }
}

impl std::error::Error for ConnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

impl embedded_io::Error for ConnError {
    fn kind(&self) -> embedded_io::ErrorKind {
        self.kind
    }
}

impl Connection {
    /// Reads and writes from now on take at most `within` (and the I/O
    /// timeout).
    pub(crate) fn within(&mut self, within: Option<Duration>) {
        self.limit = within.map_or(self.io_timeout, |w| w.min(self.io_timeout));
    }

    /// Whether the connection is idle as a kept-alive one must be: open,
    /// with nothing received that no request asked for.
    pub(crate) fn is_idle(&mut self) -> bool {
        self.transport.buffers().input().is_empty() && self.transport.is_open()
    }

    fn timeout(&self, reason: Timeout) -> NextTimeout {
        NextTimeout {
            after: self.limit.into(),
            reason,
            per_read: None,
            per_write: None,
        }
    }

    fn fail(&self, e: ureq::Error) -> ConnError {
        ConnError::from(e)
    }

    fn transmit(&mut self) -> Result<(), ConnError> {
        if self.staged > 0 {
            let t = self.timeout(Timeout::PerWrite);
            let n = std::mem::take(&mut self.staged);
            self.transport
                .transmit_output(n, t)
                .map_err(|e| self.fail(e))?;
        }
        Ok(())
    }
}

impl embedded_io::ErrorType for Connection {
    type Error = ConnError;
}

impl embedded_io::Write for Connection {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ConnError> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.staged >= self.transport.buffers().output().len() {
            self.transmit()?;
        }
        let out = self.transport.buffers().output();
        let space = out.get_mut(self.staged..).unwrap_or_default();
        let n = space.len().min(buf.len());
        space[..n].copy_from_slice(&buf[..n]);
        self.staged += n;
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), ConnError> {
        self.transmit()
    }
}

impl embedded_io::Read for Connection {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ConnError> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.transmit()?;
        if self.transport.buffers().input().is_empty() {
            let t = self.timeout(Timeout::PerRead);
            let more = self.transport.await_input(t).map_err(|e| self.fail(e))?;
            if !more {
                return Ok(0);
            }
        }
        let buffers = self.transport.buffers();
        let input = buffers.input();
        let n = input.len().min(buf.len());
        buf[..n].copy_from_slice(&input[..n]);
        buffers.input_consume(n);
        Ok(n)
    }
}
