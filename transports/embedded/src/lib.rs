//! # lastline-embedded
//!
//! The Lastline Analyst API for devices with their own TCP/IP and TLS
//! stack: `lastline-core` driven over `embedded_io` (blocking) or
//! `embedded_io_async` streams the caller connects, with fixed buffers and
//! no heap. A network sensor hashes a captured file once, asks the server
//! whether it knows the hash, uploads only when told to, and learns verdicts
//! from one completion cursor it can persist across reboots.
//!
//! - [`blocking::Client`] / [`asynch::Client`]: every method (`call`,
//!   `call_with`, `download`), [`submit_hash_first`](blocking::Client::submit_hash_first)
//!   from a [`SampleSource`] read twice, [`completions`](blocking::Client::completions)
//!   on a [`CompletionCursor`](lastline_core::workflow::CompletionCursor).
//! - Each client is a short loop over `lastline-core`'s
//!   [exchange machine](lastline_core::exchange): sessions (login, one
//!   re-login on 122), retries on the core's schedule with `Retry-After`
//!   through the caller's [`blocking::Timer`], one reconnect when a
//!   kept-alive connection was closed, redirects (credentials only to the
//!   configured server), and downloads restarted through a
//!   [`DownloadSink`] — the same policy for calls and downloads. What it
//!   does on its own is logged with `defmt` (feature `defmt`).
//! - A [`blocking::Connector`] opens a stream to an origin (typically TLS
//!   over your TCP stack): the server, or where a redirect points. The
//!   client connects again when the server closes.
//! - A write that writes nothing is a closed connection, never a panic.
//! - Errors carry everything: [`Error::Exchange`] holds the API's code and
//!   message, the HTTP status and the attempts made.
//!
//! A client takes the core's [`Settings`] (the server's [`Origin`],
//! credentials, authentication, retry policy), as every transport of the
//! workspace hands them to the exchange.
//!
//! Sized for firmware: the receive buffer doubles as the send buffer, a
//! client whose `SESSIONS` parameter is `false` leaves the session code out
//! of the image when the credentials go with every request,
//! `Client::with_connection` takes a
//! connection the caller already opened (a TLS session), without the
//! `error-text` feature (on by default) errors carry no prose, and without
//! `fast-digests` (on by default) MD5 and SHA-1 are the core's loop-form
//! ones. The sensor
//! example's figures are in BENCHMARKS.md.
//!
//! # Stacks whose sessions borrow their buffers (embassy-net, embedded-tls)
//!
//! A [`Connector`](asynch::Connector) returns an owned connection, and an
//! embassy-net `TcpSocket` or an embedded-tls `TlsConnection` borrows its
//! buffers: such a connection cannot come out of a connector (it would
//! borrow the connector). The `Connector` shape is kept, and the pattern
//! is a session per connection, opened by your task: TCP, then TLS, given
//! to [`Client::with_connection`](asynch::Client::with_connection) with a
//! connector that refuses; when a request fails because the server closed
//! the connection ([`Error::Exchange`] with a transport error), open the
//! next session and go on. Keep the work in `lastline-core`'s state
//! machines, outside the session: the hash-first submission
//! ([`HashFirst`](lastline_core::workflow::HashFirst): one request at a
//! time, `request()` then `on_response()`) and the completion cursor. The
//! repository's `examples/embassy-sensor` (embassy-net + embedded-tls +
//! the async client) and `examples/sensor` (blocking; it runs in QEMU
//! against the emulator over TLS 1.3, also with every connection closed by
//! the server) do exactly this.
//!
//! # Features
//!
//! - `error-text` (default): `lastline-core`'s explanations in errors;
//!   off, errors keep their variant, parameter and field (about 1 KiB
//!   less flash).
//! - `fast-digests` (default): `lastline-core`'s MD5 and SHA-1 from the
//!   `md-5` and `sha1` crates; off, its loop-form ones (the same digests,
//!   about 4 KiB less flash, slower).
//! - `defmt`: the client's own actions (retries with their error and
//!   wait, reconnects, re-logins, redirects) are logged with
//!   `defmt::info!`/`warn!`, and errors, events and failures implement
//!   `defmt::Format` (`defmt::error!("{}", e)`). Add a defmt transport
//!   (defmt-rtt, say) to the firmware as for any defmt log.
//!
//! Firmware targets: `rustup target add thumbv7em-none-eabihf` (Cortex-M4F;
//! any Cortex-M target works), then build for it.
//!
//! ```no_run
//! use lastline_embedded::{blocking::{Client, Connector, NoRetry}, Error, Origin, Settings, SliceSample};
//! use lastline_core::{request::SubmitFile, types::Timestamp, workflow::CompletionCursor, Credentials};
//!
//! struct Tcp; // your TLS stream factory
//! # struct Stream;
//! # impl embedded_io::ErrorType for Stream { type Error = embedded_io::ErrorKind; }
//! # impl embedded_io::Read for Stream { fn read(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> { Ok(0) } }
//! # impl embedded_io::Write for Stream { fn write(&mut self, b: &[u8]) -> Result<usize, Self::Error> { Ok(b.len()) } fn flush(&mut self) -> Result<(), Self::Error> { Ok(()) } }
//! impl Connector for Tcp {
//!     type Connection = Stream;
//!     fn connect(&mut self, origin: &Origin<'_>) -> Result<Stream, Error> { Ok(Stream) }
//! }
//! static CAPTURE: [u8; 4] = *b"MZ\0\0";
//! let creds = Credentials::new("key", Some("token")).unwrap();
//! let server = Origin { https: true, host: "analysis.lastline.com", port: 443 };
//! let mut client: Client<'_, Tcp, NoRetry> = Client::new(Tcp, NoRetry, Settings::new(server, creds));
//! let outcome = client.submit_hash_first(&mut SliceSample(&CAPTURE), SubmitFile::default()).unwrap();
//! let mut cursor = CompletionCursor::<16>::new(Timestamp::parse("2024-01-01").unwrap());
//! client.completions(&mut cursor, &mut |t| {
//!     if t.task_uuid == outcome.submission.task_uuid {
//!         let _verdict = t.score;
//!     }
//! }).unwrap();
//! ```
#![no_std]
// The workspace's lints (`Cargo.toml`): no unsafe code, every public item
// documented, nothing `pub` that is not reachable. And, as in the core, no
// panics in the library: no unwrap/expect, unchecked indexing or
// arithmetic that can overflow.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::todo,
    clippy::unimplemented
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]
// Errors carry the core's error inline: without a heap there is nothing
// to box it in.
#![allow(clippy::result_large_err)]

/// Logs through defmt when the `defmt` feature is on; nothing otherwise.
macro_rules! log {
    ($level:ident, $($arg:tt)*) => {
        #[cfg(feature = "defmt")]
        defmt::$level!($($arg)*);
    };
}
pub(crate) use log;

mod client;
mod drive;
mod error;
mod sample;

pub use error::Error;
pub use lastline_core::exchange::{AuthMode, Event, Failure, Origin, Settings};
pub use lastline_core::workflow::{SampleSource, SampleUnreadable, SliceSample};

/// Where a download's bytes go. Any `FnMut(&[u8]) -> Result<(), Error>`
/// is one that cannot start over; a sink that can (a file it may
/// truncate, a buffer it may clear) says so in [`DownloadSink::restart`],
/// and a download cut off half-way is then retried.
pub trait DownloadSink {
    /// Stores the next bytes.
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error>;
    /// Forgets everything stored so far; `false` if it cannot.
    fn restart(&mut self) -> bool {
        false
    }
}

impl<F: FnMut(&[u8]) -> Result<(), Error>> DownloadSink for F {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self(bytes)
    }
}

/// The blocking client, over `embedded_io::{Read, Write}`.
pub mod blocking;

/// The async client, over `embedded_io_async::{Read, Write}`.
// Embedded executors are single-threaded: the traits' futures need not be
// `Send`, which is what this lint is about.
#[allow(async_fn_in_trait)]
pub mod asynch;
