//! The configuration a caller passes to `ll_exchange_init`, and the copy
//! of its strings the handle keeps (the caller's may go away).

use core::ffi::c_char;

use lastline_core::exchange::{AuthMode, Origin, Settings};
use lastline_core::Credentials;

use crate::arena::Arena;
use crate::handle::c_text;
use crate::result::*;
use crate::step::{LL_AUTH_BASIC, LL_AUTH_BODY, LL_AUTH_SESSION};

/// Where and how to reach the server.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ll_config {
    /// The server's host, NUL-terminated (a name, an IPv4 address, or an
    /// IPv6 address in brackets).
    pub host: *const c_char,
    /// Its port (0: 443 with TLS, 80 without).
    pub port: u16,
    /// 1: HTTPS (the caller's TLS, verifying the server); 0: plain HTTP.
    pub tls: u32,
    /// The API key.
    pub key: *const c_char,
    /// The API token (NULL for licences without one).
    pub token: *const c_char,
    /// `LL_AUTH_*`.
    pub auth: u32,
    /// A path before every method's path (NULL: none).
    pub base_path: *const c_char,
    /// `User-Agent` (NULL: the library's).
    pub user_agent: *const c_char,
    /// Seeds the retry jitter and multipart boundaries (any random value,
    /// from the board's RNG).
    pub seed: u32,
    /// Attempts per request, the first included (0: the core's default).
    pub max_attempts: u32,
}

/// Longest host name taken.
const HOST_MAX: usize = 255;
/// Longest key, token, base path or user agent taken.
const FIELD_MAX: usize = 255;
/// Bytes kept for the configuration's strings.
pub(crate) const CONFIG_TEXT: usize = 1152;

/// Builds the settings, copying the strings into `text`.
///
/// # Safety
/// Every non-NULL pointer of `cfg` is a NUL-terminated string.
pub(crate) unsafe fn settings(
    cfg: &ll_config,
    text: &Arena<CONFIG_TEXT>,
) -> Result<Settings<'static>, i32> {
    // SAFETY: as the caller promised.
    let (host, key, token, base, agent) = unsafe {
        (
            c_text(cfg.host, HOST_MAX)?,
            c_text(cfg.key, FIELD_MAX)?,
            c_text(cfg.token, FIELD_MAX)?,
            c_text(cfg.base_path, FIELD_MAX)?,
            c_text(cfg.user_agent, FIELD_MAX)?,
        )
    };
    let (Some(host), Some(key)) = (host, key) else {
        return Err(LL_ERR_NULL);
    };
    let keep = |text: &Arena<CONFIG_TEXT>, s: &str| text.keep(s).ok_or(LL_ERR_INVALID_PARAM);
    let host = keep(text, host)?;
    let key = keep(text, key)?;
    let token = match token {
        Some(t) => Some(keep(text, t)?),
        None => None,
    };
    let tls = match cfg.tls {
        0 => false,
        1 => true,
        _ => return Err(LL_ERR_INVALID_PARAM),
    };
    let port = match cfg.port {
        0 if tls => 443,
        0 => 80,
        p => p,
    };
    if !Origin::is_host(host.as_bytes()) {
        return Err(LL_ERR_INVALID_PARAM);
    }
    let credentials = Credentials::new(key, token).map_err(|_| LL_ERR_INVALID_PARAM)?;
    let mut s = Settings::new(
        Origin {
            https: tls,
            host,
            port,
        },
        credentials,
    );
    s.auth = match cfg.auth {
        LL_AUTH_BASIC => AuthMode::Basic,
        LL_AUTH_BODY => AuthMode::BodyFields,
        LL_AUTH_SESSION => AuthMode::Session,
        _ => return Err(LL_ERR_INVALID_PARAM),
    };
    if let Some(b) = base {
        s.base_path = keep(text, b)?;
    }
    if let Some(a) = agent {
        s.user_agent = keep(text, a)?;
    }
    if cfg.max_attempts > 0 {
        s.retry.max_attempts = cfg.max_attempts;
    }
    Ok(s)
}
