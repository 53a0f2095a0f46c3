//! The client's configuration: the connection flags, then the environment, then the config file (`settings`), made into one `lastline_ureq::Config`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use lastline_ureq::{AuthMode, Config};

use crate::settings;
use crate::status::{self, Failure};

/// How to reach the server and authenticate: flags over the environment
/// over the config file (global: before or after the subcommand).
#[derive(Args, Debug)]
pub struct ConnectionArgs {
    /// Server URL [default: the config file's base_url, else https://analysis.lastline.com].
    #[arg(long, global = true, env = "LASTLINE_BASE_URL")]
    pub base_url: Option<String>,
    /// A [profile.NAME] of the config file, over its top-level settings.
    #[arg(long, global = true, env = "LASTLINE_PROFILE")]
    pub profile: Option<String>,
    /// Config file [default: ~/.config/lastline/config].
    #[arg(long, global = true, env = "LASTLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Trust only this CA (PEM) for TLS, instead of the platform's roots.
    #[arg(long, global = true)]
    pub ca: Option<PathBuf>,
    /// Allow plain http:// to a host that is not loopback.
    #[arg(long, global = true)]
    pub insecure_http: bool,
    /// Seconds allowed for each read or write [default: the config file's
    /// `timeout`, else 60].
    #[arg(long, global = true)]
    pub timeout: Option<f64>,
    /// Seconds a whole call or download may take, retries and waits
    /// included [default: the config file's `deadline`, else 120 for a
    /// call and 3600 for a download].
    #[arg(long, global = true)]
    pub deadline: Option<f64>,
    /// Connect through this proxy (`http://host:port`) [default: the
    /// config file's `proxy`, else HTTPS_PROXY and the like].
    #[arg(long, global = true, env = "LASTLINE_PROXY")]
    pub proxy: Option<String>,
    /// How to authenticate [default: the config file's `auth`, else basic].
    #[arg(long, global = true, value_enum)]
    pub auth: Option<Auth>,
    /// Times a failed call is retried (107, HTTP 5xx and 429, a dropped
    /// connection) before it gives up [default: 5].
    #[arg(long, global = true, value_name = "N")]
    pub retries: Option<u32>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Auth {
    /// HTTP Basic on every request.
    Basic,
    /// Log in once, reuse the session cookie.
    Session,
    /// Credentials as POST fields.
    Body,
}

/// The client's configuration: flags, then the environment, then the file.
pub fn client_config(cli: &ConnectionArgs) -> Result<Config, Failure> {
    let bad = |m: String| Failure::local(status::ERROR, m);
    let profile = settings::profile(cli.profile.as_deref());
    let file = settings::load(cli.config.as_deref(), profile.as_deref()).map_err(bad)?;
    let (key, token) =
        settings::credentials(&file).map_err(|m| Failure::local(status::CREDENTIALS, m))?;
    let base = cli
        .base_url
        .clone()
        .or_else(|| file.get("base_url").map(str::to_owned))
        .unwrap_or_else(|| settings::DEFAULT_BASE_URL.to_owned());
    let from_file = match file.get("auth") {
        None => None,
        Some(v) => Some(Auth::from_str(v, true).map_err(|_| {
            bad(format!(
                "config file: auth = {v:?}: expected basic, session or body"
            ))
        })?),
    };
    let auth = match cli.auth.or(from_file).unwrap_or(Auth::Basic) {
        Auth::Basic => AuthMode::Basic,
        Auth::Session => AuthMode::Session,
        Auth::Body => AuthMode::BodyFields,
    };
    // A flag, else the file (checked as numbers when read).
    let number = |flag: Option<f64>, name: &str| -> Option<f64> {
        flag.or_else(|| file.get(name).and_then(|v| v.parse().ok()))
            .filter(|s: &f64| s.is_finite() && *s > 0.0)
    };
    let mut config = Config::new(&base, &key, &token);
    let retries = cli
        .retries
        .or_else(|| file.get("retries").and_then(|v| v.parse().ok()));
    if let Some(n) = retries {
        config = config.retry(lastline_core::workflow::RetryPolicy {
            max_attempts: n.saturating_add(1),
            ..lastline_core::workflow::RetryPolicy::default()
        });
    }
    let io = number(cli.timeout, "timeout").unwrap_or(60.0);
    if let Some(d) = number(cli.deadline, "deadline") {
        config = config.deadline(Duration::from_secs_f64(d));
    }
    if let Some(p) = cli.proxy.as_deref().or_else(|| file.get("proxy")) {
        config = config.proxy(p);
    }
    let mut config = config
        .auth(auth)
        .timeouts(Duration::from_secs(10), Duration::from_secs_f64(io))
        .allow_insecure_http(cli.insecure_http)
        .user_agent(concat!("lastline-cli/", env!("CARGO_PKG_VERSION")));
    let ca = cli.ca.clone().or_else(|| file.get("ca").map(PathBuf::from));
    if let Some(ca) = ca {
        let pem = std::fs::read(&ca).map_err(|e| bad(format!("CA file {}: {e}", ca.display())))?;
        config = config.ca_pem(&pem)?;
    }
    Ok(config)
}
