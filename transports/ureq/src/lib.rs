//! # lastline-ureq
//!
//! A blocking client for the Lastline Analyst API. The protocol — request
//! encoding, response decoding, validation, hash-first, the completion
//! cursor, sessions and the retry table — is `lastline-core`'s: this
//! crate drives the core's exchange machine (`lastline_core::exchange`)
//! with a loop of its own and adds only I/O: connections from ureq 3 (DNS,
//! proxies, TCP, rustls with the platform's roots or your CA, timeouts),
//! files, two hashing threads and a clock.
//!
//! - [`Client::call`]: any of the 29 methods, typed; list entries stream.
//! - [`Client::download`]: raw reports and artifacts into any `Write`.
//! - [`Client::call_xml`]: a method's XML answer (the reference's format
//!   for people), byte for byte into any `Write`.
//! - [`Client::submit_file`]: hash once, submit by hash, upload (streamed,
//!   `Content-Length` set, memory independent of the size) only on 101;
//!   a file the server analysed recently comes back with its result
//!   ([`FileSubmitted::result`]).
//! - [`Client::wait_for`]: verdicts through one completion cursor, which a
//!   [`CursorFile`] keeps across restarts.
//! - [`Pool::submit_files`]: many files over several connections at once,
//!   each file's outcome as it completes.
//! - [`Config`]: a proxy of your own ([`Config::proxy`], with
//!   [`Config::no_proxy`] exceptions) or the environment's, a whole
//!   configuration from `LASTLINE_*` variables ([`Config::from_env`]),
//!   and a deadline per call over retries and waits ([`Config::deadline`])
//!   besides the connect and I/O timeouts.
//!
//! ```no_run
//! use lastline_core::request::{GetResult, SubmitFile};
//! use lastline_core::types::Timestamp;
//! use lastline_ureq::{Client, Config, CursorFile, Quiet, Wait};
//!
//! let config = Config::new("https://analysis.lastline.com", "key", "token");
//! let mut client = Client::new(config)?;
//! let done = client.submit_file("sample.exe".as_ref(), SubmitFile::default(), &mut Quiet)?;
//! let file = CursorFile::new("lastline.cursor");
//! let mut cursor = file.load_or(Timestamp::from_unix(0).unwrap())?;
//! let wait = Wait { save_to: Some(&file), ..Wait::default() };
//! let verdicts = client.wait_for(&[done.submission.task_uuid], &mut cursor, wait, &mut Quiet, &mut |_| {})?;
//! println!("score {:?}", verdicts[0].score);
//! let summary = client.call(&GetResult::new(done.submission.task_uuid), |_| {})?;
//! # let _ = summary;
//! # Ok::<(), lastline_ureq::Error>(())
//! ```
//!
//! # Which ureq
//!
//! ureq is a normal dependency, `>=3.5.0, <3.6`: CI builds and tests this
//! crate against the lowest and the highest version of that range. It is
//! not a plain `3` because this crate drives ureq's connection layer
//! (`ureq::unversioned::transport`: DNS, proxies, TCP, rustls, timeouts)
//! itself, and that layer is outside ureq's semver promise — 3.4 lacks
//! fields this crate sets, and a later release may change it again. An
//! application already on another ureq 3.x gets a second copy of ureq
//! (cargo allows it; ureq keeps no global state). If a future 3.5.x
//! breaks the build, pin the last good one in your application:
//! `cargo update -p ureq --precise 3.5.2`.
//!
//! # Features
//!
//! - `log`: what the client does on its own (retries, reconnects,
//!   re-logins, redirects) as `log` records with target `lastline`.
// The workspace's lints (`Cargo.toml`): no unsafe code, every public item
// documented, nothing `pub` that is not reachable.

mod client;
mod config;
mod connection;
mod cursor_file;
mod driver;
mod error;
mod pool;
mod sample;

pub use client::{
    sample_name, Client, FileSubmitted, InlineItems, Observer, Pace, Pacing, Quiet, Wait,
    INLINE_ITEMS, PAGES_PER_ROUND,
};
pub use config::{Config, DEFAULT_DEADLINE, DEFAULT_DOWNLOAD_DEADLINE};
pub use cursor_file::{Cursor, CursorFile, CURSOR_MEMORY};
pub use error::Error;
pub use lastline_core::exchange::AuthMode;
pub use pool::{Pool, Submitted};
pub use sample::hash_reader;

pub use lastline_core as core;
