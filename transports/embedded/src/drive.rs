//! What both clients share besides their I/O: the exchange settings from
//! the options, how stream errors become transport failures, the events'
//! log lines.

use lastline_core::exchange::{Event, Origin, Settings};
use lastline_core::Transport;

use crate::{AuthMode, Error, Options};

/// The exchange settings for the options; `retries` false allows one
/// attempt only; `sessions` false reads a session mode as Basic.
pub(crate) fn settings<'a>(
    o: &Options<'a>,
    retries: bool,
    sessions: bool,
) -> Result<Settings<'a>, Error> {
    let server = Origin::from_authority(o.host, o.https).ok_or(Error::Core(
        lastline_core::Error::InvalidParam {
            param: "host",
            reason: "not host or host:port",
        },
    ))?;
    let mut s = Settings::new(server, o.credentials);
    s.base_path = o.base_path;
    s.user_agent = o.user_agent;
    s.auth = match o.auth {
        AuthMode::Session if !sessions => AuthMode::Basic,
        a => a,
    };
    s.retry = o.retry;
    if !retries {
        s.retry.max_attempts = 1;
    }
    Ok(s)
}

/// A read or write error as the exchange counts it.
pub(crate) fn transport(kind: embedded_io::ErrorKind) -> Transport {
    use embedded_io::ErrorKind as K;
    match kind {
        K::TimedOut => Transport::TimedOut,
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::NotConnected => {
            Transport::Closed
        }
        _ => Transport::Io,
    }
}

/// A connector's error as the exchange counts it: a stream error is worth
/// retrying; any other error (the connector cannot reach that origin, the
/// TLS handshake refused the certificate) ends the call.
pub(crate) fn connect_failure(e: &Error) -> Transport {
    match e {
        Error::Io(embedded_io::ErrorKind::TimedOut) => Transport::TimedOut,
        Error::Io(_) => Transport::Connect,
        _ => Transport::Refused,
    }
}

/// Logs what the exchange did on its own (defmt; nothing without it).
pub(crate) fn log_event(e: &Event) {
    match e {
        Event::Retry { delay_ms, .. } => {
            let _ = delay_ms;
            crate::log!(
                warn,
                "lastline: a call failed; retrying in {=u64} ms",
                *delay_ms
            );
        }
        Event::Reconnect => {
            crate::log!(
                debug,
                "lastline: kept-alive connection was closed; reconnecting"
            );
        }
        Event::Relogin => {
            crate::log!(info, "lastline: session expired; logging in again");
        }
        Event::Redirect { status, .. } => {
            let _ = status;
            crate::log!(info, "lastline: redirected ({=u16})", *status);
        }
    }
}
