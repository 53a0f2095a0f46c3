//! What both clients share besides their I/O: how stream errors become
//! transport failures, the events' log lines.

use lastline_core::exchange::Event;
use lastline_core::Transport;

use crate::Error;

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
