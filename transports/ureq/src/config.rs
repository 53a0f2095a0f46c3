//! What the client needs to know: where the server is, who we are, whom
//! to trust and how long to wait.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use lastline_core::exchange::{AuthMode, Origin};
use lastline_core::workflow::RetryPolicy;
use lastline_core::Credentials;
use ureq::http::Uri;
use ureq::tls::{Certificate, PemItem};

use crate::Error;

/// Which proxy connections go through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum ProxyChoice {
    /// The environment's (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, with
    /// `NO_PROXY`), never for a loopback server.
    #[default]
    FromEnv,
    /// None at all.
    Direct,
    /// This one (`http://host:port`, `socks5://...`), with these
    /// exceptions (`NO_PROXY`-style expressions).
    Url { url: String, except: Vec<String> },
}

/// Client configuration. `Debug` never shows the credentials.
#[derive(Clone)]
pub struct Config {
    pub(crate) base_url: String,
    key: String,
    token: Option<String>,
    pub(crate) auth: AuthMode,
    pub(crate) roots: Option<Arc<Vec<Certificate<'static>>>>,
    pub(crate) connect_timeout: Duration,
    pub(crate) io_timeout: Duration,
    pub(crate) allow_http: bool,
    pub(crate) retry: RetryPolicy,
    user_agent: String,
    pub(crate) proxy: ProxyChoice,
    pub(crate) deadline: Option<Duration>,
    pub(crate) download_deadline: Option<Duration>,
    pub(crate) max_download: Option<u64>,
}

/// The most a call may take by default, retries and waits included: a
/// server that trickles its answer, sends interim answers without end or
/// goes silent cannot hold a call longer.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

/// The most a download may take by default (reports and artifacts can be
/// large).
pub const DEFAULT_DOWNLOAD_DEADLINE: Duration = Duration::from_secs(3600);

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base_url)
            .field("credentials", &"<redacted>")
            .field("auth", &self.auth)
            .field("custom_ca", &self.roots.as_ref().map(|r| r.len()))
            .field("connect_timeout", &self.connect_timeout)
            .field("io_timeout", &self.io_timeout)
            .field("allow_http", &self.allow_http)
            .field("retry", &self.retry)
            // A proxy URL may hold a password: its scheme and host only.
            .field(
                "proxy",
                &match &self.proxy {
                    ProxyChoice::FromEnv => "from the environment".to_owned(),
                    ProxyChoice::Direct => "none".to_owned(),
                    ProxyChoice::Url { url, .. } => url
                        .parse::<Uri>()
                        .ok()
                        .and_then(|u| u.host().map(str::to_owned))
                        .unwrap_or_else(|| "<unparsable>".to_owned()),
                },
            )
            .field("deadline", &self.deadline)
            .field("download_deadline", &self.download_deadline)
            .field("max_download", &self.max_download)
            .finish()
    }
}

impl Config {
    /// A server (`https://analysis.lastline.com`, say) and the account's key
    /// and API token. HTTP Basic, platform roots, 10 s to connect, 60 s per
    /// read or write, [`DEFAULT_DEADLINE`] per call and
    /// [`DEFAULT_DOWNLOAD_DEADLINE`] per download, no download size limit,
    /// the core's default retry policy.
    pub fn new(base_url: &str, key: &str, api_token: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            token: Some(api_token.to_owned()),
            auth: AuthMode::Basic,
            roots: None,
            connect_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(60),
            allow_http: false,
            retry: RetryPolicy::default(),
            user_agent: concat!("lastline-ureq/", env!("CARGO_PKG_VERSION")).to_owned(),
            proxy: ProxyChoice::FromEnv,
            deadline: Some(DEFAULT_DEADLINE),
            download_deadline: Some(DEFAULT_DOWNLOAD_DEADLINE),
            max_download: None,
        }
    }

    /// A configuration from `LASTLINE_*` environment variables:
    /// `LASTLINE_API_KEY` and `LASTLINE_API_TOKEN` (required),
    /// `LASTLINE_BASE_URL` (default `https://analysis.lastline.com`),
    /// `LASTLINE_AUTH` (`basic`, `session` or `body`), `LASTLINE_CA` (a PEM
    /// file), `LASTLINE_PROXY` and `LASTLINE_NO_PROXY` (comma-separated),
    /// `LASTLINE_CONNECT_TIMEOUT`, `LASTLINE_TIMEOUT` (per read or write)
    /// and `LASTLINE_DEADLINE` (per call) in seconds, `LASTLINE_RETRIES`
    /// (retries after the first attempt), `LASTLINE_INSECURE_HTTP=1`.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// [`Self::from_env`] with the variables read through `var` (a map in
    /// tests, another source of settings in an application).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let need =
            |name: &str| var(name).ok_or_else(|| Error::Config(format!("{name} is not set")));
        let seconds = |name: &str| -> Result<Option<Duration>, Error> {
            var(name)
                .map(|v| {
                    v.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s > 0.0)
                        .map(Duration::from_secs_f64)
                        .ok_or_else(|| {
                            Error::Config(format!("{name}={v:?}: not a number of seconds"))
                        })
                })
                .transpose()
        };
        let base =
            var("LASTLINE_BASE_URL").unwrap_or_else(|| "https://analysis.lastline.com".into());
        let mut c = Self::new(
            &base,
            &need("LASTLINE_API_KEY")?,
            &need("LASTLINE_API_TOKEN")?,
        );
        if let Some(a) = var("LASTLINE_AUTH") {
            c.auth = match a.trim().to_ascii_lowercase().as_str() {
                "basic" => AuthMode::Basic,
                "session" => AuthMode::Session,
                "body" => AuthMode::BodyFields,
                _ => {
                    return Err(Error::Config(format!(
                        "LASTLINE_AUTH={a:?}: basic, session or body"
                    )))
                }
            };
        }
        if let Some(path) = var("LASTLINE_CA") {
            let pem = std::fs::read(&path)
                .map_err(|e| Error::Config(format!("LASTLINE_CA={path}: {e}")))?;
            c = c.ca_pem(&pem)?;
        }
        if let Some(url) = var("LASTLINE_PROXY") {
            c = c.proxy(&url);
        }
        if let Some(list) = var("LASTLINE_NO_PROXY") {
            for host in list.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                c = c.no_proxy(host);
            }
        }
        if let Some(d) = seconds("LASTLINE_CONNECT_TIMEOUT")? {
            c.connect_timeout = d;
        }
        if let Some(d) = seconds("LASTLINE_TIMEOUT")? {
            c.io_timeout = d;
        }
        if let Some(d) = seconds("LASTLINE_DEADLINE")? {
            c = c.deadline(d);
        }
        if let Some(n) = var("LASTLINE_RETRIES") {
            let n: u32 = n
                .trim()
                .parse()
                .map_err(|_| Error::Config(format!("LASTLINE_RETRIES={n:?}: a count")))?;
            c.retry = RetryPolicy {
                max_attempts: n.saturating_add(1),
                ..RetryPolicy::default()
            };
        }
        if let Some(v) = var("LASTLINE_INSECURE_HTTP") {
            c.allow_http = matches!(v.trim(), "1" | "true" | "yes");
        }
        Ok(c)
    }

    /// Connects through this proxy (`http://host:3128`, with
    /// `user:password@` if it asks; `https://` and `socks5://` too),
    /// whatever the environment says, the server's host included.
    pub fn proxy(mut self, url: &str) -> Self {
        let except = match std::mem::take(&mut self.proxy) {
            ProxyChoice::Url { except, .. } => except,
            _ => Vec::new(),
        };
        self.proxy = ProxyChoice::Url {
            url: url.to_owned(),
            except,
        };
        self
    }

    /// Hosts reached without the proxy set by [`Self::proxy`]: a name
    /// (`analysis.example`), a domain (`.example.com`), or `*` (all).
    pub fn no_proxy(mut self, host: &str) -> Self {
        if let ProxyChoice::Url { except, .. } = &mut self.proxy {
            except.push(host.to_owned());
        }
        self
    }

    /// Connects directly, even when the environment names a proxy.
    pub fn without_proxy(mut self) -> Self {
        self.proxy = ProxyChoice::Direct;
        self
    }

    /// The most one call or download may take, retries and waits
    /// included (by default [`DEFAULT_DEADLINE`] for a call,
    /// [`DEFAULT_DOWNLOAD_DEADLINE`] for a download). A call over it ends
    /// in [`Error::Timeout`].
    pub fn deadline(mut self, total: Duration) -> Self {
        self.deadline = Some(total);
        self.download_deadline = Some(total);
        self
    }

    /// No deadline: only the connect and I/O timeouts bound each step and
    /// the retry policy the attempts (a server trickling one byte per
    /// timeout can then hold a call for as long as it likes).
    pub fn without_deadline(mut self) -> Self {
        self.deadline = None;
        self.download_deadline = None;
        self
    }

    /// Refuses a download larger than `bytes` ([`Error::Protocol`] with
    /// the core's `BodyTooLarge`), whatever it announced: what was written
    /// by then stays in the destination (a file download leaves none).
    pub fn max_download(mut self, bytes: u64) -> Self {
        self.max_download = Some(bytes);
        self
    }

    /// How requests authenticate (Basic by default; `Session` logs in once
    /// and replays the cookie).
    pub fn auth(mut self, auth: AuthMode) -> Self {
        self.auth = auth;
        self
    }

    /// Trusts only these CA certificates (PEM, one or more), instead of
    /// the platform's roots: appliances often use their own CA.
    pub fn ca_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(e) => return Err(Error::Config(format!("CA file: {e}"))),
            }
        }
        if certs.is_empty() {
            return Err(Error::Config("CA file holds no PEM certificate".into()));
        }
        self.roots = Some(Arc::new(certs));
        Ok(self)
    }

    /// Trusts only this CA certificate (DER).
    pub fn ca_der(mut self, der: &[u8]) -> Self {
        self.roots = Some(Arc::new(vec![Certificate::from_der(der).to_owned()]));
        self
    }

    /// Time allowed to connect (TCP and TLS), and for each read or write.
    pub fn timeouts(mut self, connect: Duration, io: Duration) -> Self {
        self.connect_timeout = connect;
        self.io_timeout = io;
        self
    }

    /// Allows `http://` to a host that is not loopback. Credentials then
    /// cross the network in clear text: only for lab setups.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// When failed calls (API 107, HTTP 5xx, connection failures) are
    /// tried again.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The `User-Agent` sent.
    pub fn user_agent(mut self, ua: &str) -> Self {
        self.user_agent = ua.to_owned();
        self
    }

    /// Checks everything and splits the URL for the core.
    pub(crate) fn settle(&self) -> Result<(Uri, Settings), Error> {
        let uri: Uri = self
            .base_url
            .parse()
            .map_err(|e| Error::Config(format!("base URL {:?}: {e}", self.base_url)))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => {
                return Err(Error::Config(format!(
                    "base URL {:?} must start with https:// or http://",
                    self.base_url
                )))
            }
        };
        let host = uri
            .host()
            .ok_or_else(|| Error::Config(format!("base URL {:?} has no host", self.base_url)))?;
        if uri.query().is_some() {
            return Err(Error::Config("base URL must not have a query".into()));
        }
        if !https && !self.allow_http && !is_loopback(host) {
            return Err(Error::PlainHttp {
                host: host.to_owned(),
            });
        }
        Credentials::new(&self.key, self.token.as_deref())?;
        if let ProxyChoice::Url { url, except } = &self.proxy {
            proxy_with(url, except)?;
        }
        let host_header = match uri.port_u16() {
            Some(p) if !(https && p == 443 || !https && p == 80) => format!("{host}:{p}"),
            _ => host.to_owned(),
        };
        if Origin::from_authority(&host_header, https).is_none() {
            return Err(Error::Config(format!(
                "base URL {:?}: not host or host:port",
                self.base_url
            )));
        }
        let settings = Settings {
            host: host_header,
            base_path: uri.path().trim_end_matches('/').to_owned(),
            user_agent: self.user_agent.clone(),
            https,
            key: self.key.clone(),
            token: self.token.clone(),
            auth: self.auth,
            retry: self.retry,
            deadline: self.deadline,
            download_deadline: self.download_deadline,
            max_download: self.max_download,
        };
        Ok((uri, settings))
    }
}

/// The proxy at `url`, with `except` reached directly: what connections
/// use, and what `Config::settle` checks.
pub(crate) fn proxy_with(url: &str, except: &[String]) -> Result<ureq::Proxy, Error> {
    let bad = |e: ureq::Error| Error::Config(format!("proxy: {e}"));
    let p = ureq::Proxy::new(url).map_err(bad)?;
    if except.is_empty() {
        return Ok(p);
    }
    let mut b = ureq::Proxy::builder(p.protocol())
        .host(p.host())
        .port(p.port())
        .resolve_target(p.resolve_target());
    if let Some(u) = p.username() {
        b = b.username(u);
    }
    if let Some(pw) = p.password() {
        b = b.password(pw);
    }
    for e in except {
        b = b.no_proxy(e);
    }
    b.build().map_err(bad)
}

pub(crate) fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// The configuration as checked once (`Config::settle`): the owned
/// strings the core's [`lastline_core::exchange::Settings`] borrow for
/// each exchange.
pub(crate) struct Settings {
    /// `host` or `host:port` (the `Host` header's form).
    pub(crate) host: String,
    pub(crate) https: bool,
    pub(crate) base_path: String,
    pub(crate) user_agent: String,
    pub(crate) key: String,
    pub(crate) token: Option<String>,
    pub(crate) auth: AuthMode,
    pub(crate) retry: RetryPolicy,
    /// The most one call may take.
    pub(crate) deadline: Option<Duration>,
    /// The most one download may take.
    pub(crate) download_deadline: Option<Duration>,
    /// The largest download taken.
    pub(crate) max_download: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:9",
            "https://a.example",
        ] {
            assert!(Config::new(ok, "k", "t").settle().is_ok(), "{ok}");
        }
        let remote = Config::new("http://analysis.example", "k", "t");
        assert!(
            matches!(remote.settle(), Err(Error::PlainHttp { host }) if host == "analysis.example")
        );
        assert!(remote.allow_insecure_http(true).settle().is_ok());
        assert!(Config::new("ftp://x", "k", "t").settle().is_err());
        assert!(Config::new("https://x/?a=1", "k", "t").settle().is_err());
    }

    #[test]
    fn host_header_and_base_path() {
        let (_, s) = Config::new("https://a.example:8443/api/", "k", "t")
            .settle()
            .unwrap();
        assert_eq!(
            (s.host.as_str(), s.base_path.as_str()),
            ("a.example:8443", "/api")
        );
        let (_, s) = Config::new("https://a.example:443", "k", "t")
            .settle()
            .unwrap();
        assert_eq!(s.host, "a.example");
    }

    #[test]
    fn debug_hides_credentials() {
        let c = Config::new("https://a.example", "KEY123", "TOKEN456");
        let d = format!("{c:?}");
        assert!(!d.contains("KEY123") && !d.contains("TOKEN456"), "{d}");
    }

    #[test]
    fn bad_credentials_are_refused() {
        assert!(matches!(
            Config::new("https://a.example", "a:b", "t").settle(),
            Err(Error::Invalid { .. })
        ));
    }
}
