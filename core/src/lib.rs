//! # lastline-core
//!
//! The Lastline Analyst API as a `no_std`, heap-free, sans-IO protocol
//! core: it writes the exact bytes of every request into buffers you own
//! and turns the bytes you read back into typed values or typed errors. It
//! never opens a socket, reads a clock, draws randomness or allocates.
//!
//! - [`request`]: every method as a typed request; [`http::RequestEncoder`]
//!   writes it (form or streaming multipart body) in steps of any size.
//! - [`response`]: HTTP/1.1 responses (head, length / chunked / close
//!   framing) with JSON envelopes decoded in units into
//!   fixed-capacity types ([`decoders`]), lists streamed entry by entry,
//!   raw downloads passed through.
//! - [`hashing`]: MD5, SHA-1 and SHA-256 in one streaming pass.
//! - [`workflow`]: hash-first submission (and the
//!   [`SampleSource`](workflow::SampleSource) it hashes and uploads), the
//!   completion cursor, session re-login and the retry table, as pure
//!   state machines.
//! - [`exchange`]: all of it for one request — session login and
//!   re-login, the retry table and `Retry-After`, reconnects, redirects
//!   with credentials for the configured origin only, restartable
//!   downloads — as one machine a transport polls: `poll(now_ms, random)`
//!   answers a [`exchange::Step`] (connect, write these bytes, send the
//!   sample, read into this buffer, sleep until, an entry, download bytes,
//!   done) and the transport reports back (`received(n)`, `failed(how)`).
//!   Every transport of this workspace is that loop over its own I/O:
//!
//! ```text
//! let mut ex = Exchange::<_, SubmitDecoder, 512>::call(&req, &settings, &mut link, &mut buf);
//! loop {
//!     match ex.poll(clock.now_ms(), rng.next()) {
//!         Step::Connect(origin) => open(origin)?,   // or ex.failed(Transport::Connect)
//!         Step::Write(bytes) => socket.write_all(bytes)?,
//!         Step::SendSample { len, scratch } => stream_the_sample(len, scratch)?,
//!         Step::Read(space) => { let n = socket.read(space)?; ex.received(n) }
//!         Step::Sleep { until_ms } => sleep_until(until_ms),
//!         Step::Item(entry) => each(entry),
//!         Step::Data(bytes) => sink.put(bytes)?,
//!         Step::RestartSink => sink.restart()?,
//!         Step::Event(e) => log(e),
//!         Step::Done(result) => break result,
//!     }
//! }
//! ```
//!
//! (a runnable one is in [`exchange`]'s documentation).
//!
//! ## The whole flow
//!
//! Hash a sample, submit it by hash, upload it when the server asks (101),
//! then learn its verdict from the completion cursor. Here the "server" is
//! canned bytes; a transport would read them from a socket.
//!
//! ```
//! use lastline_core::{
//!     hashing::{digest, Algorithms},
//!     http::{ClientConfig, EncodeStep, RequestEncoder},
//!     response::{EnvelopeResponse, Progress},
//!     decoders::{CompletedDecoder, SubmitDecoder},
//!     workflow::{CompletionCursor, HashFirst, NextPoll},
//!     request::SubmitFile,
//!     types::Timestamp,
//!     Credentials, Error,
//! };
//!
//! // Writes a request, streaming `sample` where the encoder asks for it.
//! fn send(enc: &mut RequestEncoder<'_>, sample: &[u8]) -> Vec<u8> {
//!     let (mut wire, mut buf) = (Vec::new(), [0u8; 256]);
//!     loop {
//!         match enc.poll(&mut buf) {
//!             EncodeStep::Write(n) => wire.extend_from_slice(&buf[..n]),
//!             EncodeStep::SendFile { .. } => { wire.extend_from_slice(sample); enc.file_sent(); }
//!             EncodeStep::Done => return wire,
//!         }
//!     }
//! }
//!
//! // Reads a whole response, collecting streamed list entries.
//! fn read<D: lastline_core::envelope::DataDecoder + Default>(bytes: &[u8]) -> (Result<D::Output, Error>, Vec<D::Item>) {
//!     let mut resp = EnvelopeResponse::<D, 512>::default();
//!     let (mut at, mut items) = (0, Vec::new());
//!     loop {
//!         let (n, p) = resp.feed(&bytes[at..]).unwrap();
//!         at += n;
//!         match p {
//!             Progress::Item(i) => items.push(i),
//!             Progress::Done => return (resp.finish(), items),
//!             Progress::Head => {}
//!             // All bytes given and still not done: the peer closed early.
//!             Progress::NeedMore => { resp.close().unwrap(); return (resp.finish(), items) }
//!         }
//!     }
//! }
//!
//! let sample = b"MZ... a captured file";
//! let creds = Credentials::new("my-key", Some("my-token")).unwrap();
//! let cfg = ClientConfig::new("analysis.lastline.com", creds);
//!
//! // 1. Hash once, submit by hash.
//! let mut flow = HashFirst::new(digest(Algorithms::MD5_SHA1, sample), SubmitFile::default());
//! let by_hash = flow.request().unwrap();
//! let wire = send(&mut RequestEncoder::new(&by_hash, &cfg, [7; 16]).unwrap(), sample);
//! assert!(wire.starts_with(b"POST /analysis/submit/file.json HTTP/1.1\r\n"));
//!
//! // 2. The server does not know the file (101): upload it.
//! let answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n\
//!     {\"success\": 0, \"error_code\": 101, \"error\": \"File upload required\"}";
//! let (result, _) = read::<SubmitDecoder>(answer);
//! assert_eq!(flow.on_response(result).unwrap(), None);
//! let upload = flow.request().unwrap();
//! let wire = send(&mut RequestEncoder::new(&upload, &cfg, [7; 16]).unwrap(), sample);
//! assert!(wire.windows(sample.len()).any(|w| w == sample));
//! let answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
//!     5a\r\n{\"success\": 1, \"data\": {\"task_uuid\": \"05243bb7443e4bba80a5890969102082\", \"expires\": null}}\r\n0\r\n\r\n";
//! let (result, _) = read::<SubmitDecoder>(answer);
//! let done = flow.on_response(result).unwrap().unwrap();
//! assert!(done.uploaded);
//! let task = done.submission.task_uuid;
//!
//! // 3. One completion cursor for all tasks.
//! let mut cursor = CompletionCursor::<16>::new(Timestamp::parse("2020-08-05 14:00:39").unwrap());
//! let _next_request = cursor.request(); // get_completed after=..., include_score=1
//! let body = br#"{"success": 1, "data": {"after": "2020-08-05 14:00:39", "before": "2020-08-07 00:25:49",
//!   "resume": "2020-08-07 00:25:50", "more_results_available": 0,
//!   "tasks": {"05243bb7443e4bba80a5890969102082": 100}}}"#;
//! let answer = [format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(), body].concat();
//! let (page, tasks) = read::<CompletedDecoder>(&answer);
//! for t in &tasks {
//!     if cursor.accept(t.task_uuid) {
//!         assert_eq!((t.task_uuid, t.score), (task, Some(100)));
//!     }
//! }
//! assert_eq!(cursor.page_done(&page.unwrap(), None), Ok(NextPoll::Later));
//! assert_eq!(cursor.after().to_string(), "2020-08-07 00:25:50");
//! ```
//!
//! # Features
//!
//! - `error-text` (default): explanations in errors ("expected a
//!   string"); off, errors keep their variant, parameter and field but no
//!   prose — about 1 KiB less flash for firmware that never shows an error
//!   to a person.
//! - `fast-digests` (default): MD5 and SHA-1 from the `md-5` and `sha1`
//!   crates (every round unrolled; SHA-NI for SHA-1 on x86-64). Off, the
//!   core's own loop-form MD5 and SHA-1: the same digests, about 4 KiB
//!   less flash on a Cortex-M, slower (about 1.5 times the instructions for
//!   all three digests on a Cortex-M4), for firmware that hashes
//!   each captured file once.
//! - `defmt`: `defmt::Format` for errors, events and the types firmware
//!   logs (`defmt::info!("{}", failure)`).
//! - `serde`: `Serialize` for the response types (no_std, no alloc), for
//!   tools that print JSON.
#![no_std]
// The workspace's lints (`Cargo.toml`): no unsafe code, every public item
// documented, nothing `pub` that is not reachable.
// No panics in the library: no unwrap/expect, unchecked indexing or
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
// Errors are returned by value: without a heap there is nothing to box
// them in.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]
// Small byte scans are written as loops on purpose: `contains` brings
// core's memchr into a firmware image (core/FIRMWARE.md).
#![allow(clippy::manual_contains)]
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

#[cfg(test)]
extern crate std;

/// The explanation in an error ("expected a string", "chunk size is not
/// hex"): kept with the `error-text` feature (on by default), an empty
/// string without it. Errors still say what went wrong by their variant,
/// parameter or field; firmware that never shows an error to a person
/// turns the feature off and saves about 1 KiB of flash.
#[cfg(feature = "error-text")]
macro_rules! text {
    ($s:literal) => {
        $s
    };
}
#[cfg(not(feature = "error-text"))]
macro_rules! text {
    ($s:literal) => {
        ""
    };
}

pub mod api_error;
pub mod auth;
pub mod buffer;
mod codec;
pub mod decoders;
pub mod emit;
pub mod envelope;
mod error;
pub mod exchange;
pub mod form;
pub mod hashing;
pub mod http;
pub mod json;
pub mod multipart;
mod progress;
pub mod request;
pub mod response;
#[cfg(feature = "serde")]
mod serialize;
pub mod types;
pub mod workflow;

pub use api_error::{ApiError, ApiMessage, ErrorCode};
pub use auth::{Auth, Credentials, SessionCookie};
pub use error::{Error, HttpError, JsonError, Transport};
pub use progress::Progress;
