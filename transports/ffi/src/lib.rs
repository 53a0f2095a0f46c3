//! The Lastline Analyst API from C: a heap-free C ABI over
//! [`lastline_core`]'s exchange machine. The caller does the I/O — its
//! sockets, its TLS (lwIP and mbedTLS on a sensor, POSIX sockets, another
//! runtime's event loop) — and this library the whole protocol and its
//! policy: requests for every method checked against the method table,
//! HTTP/1.1, sessions and re-login on 122, retries on 107, 429 and 5xx on
//! the caller's clock, redirects (credentials only to the configured
//! origin), hash-first submission and the completion cursor.
//!
//! **Unstable until 1.0**: the header's `LL_VERSION_*` names the version
//! the header came with; a handle's size is checked at `_init`, so a
//! header and a library from different versions refuse to run together.
//!
//! # The loop
//!
//! Handles are storage the caller declares — no allocation, ever — sized
//! by the header's macros, initialised in place, never moved after:
//!
//! ```c
//! ll_exchange ex;
//! ll_config cfg = { .host = "analysis.example", .port = 443, .tls = 1,
//!                   .key = key, .token = token, .seed = board_random() };
//! if (ll_exchange_init(&ex, sizeof ex, &cfg) != LL_OK) return;
//!
//! ll_param p[] = { { "uuid", task } };
//! ll_exchange_call(&ex, LL_METHOD_GET_PROGRESS, p, 1, LL_FORMAT_JSON);
//! for (;;) {
//!     ll_step st;
//!     ll_exchange_next(&ex, now_ms(), &st);
//!     switch (st.kind) {
//!     case LL_STEP_CONNECT: if (!net_open(st.host, st.port, st.tls))
//!                               ll_exchange_failed(&ex, LL_TRANSPORT_CONNECT);
//!                           break;
//!     case LL_STEP_WRITE:   n = net_write(st.data, st.data_len);
//!                           n < 0 ? ll_exchange_failed(&ex, LL_TRANSPORT_IO)
//!                                 : ll_exchange_wrote(&ex, n);
//!                           break;
//!     case LL_STEP_READ:    n = net_read(st.space, st.space_len);
//!                           n < 0 ? ll_exchange_failed(&ex, LL_TRANSPORT_IO)
//!                                 : ll_exchange_read(&ex, n);
//!                           break;
//!     case LL_STEP_SLEEP:   sleep_until(st.until_ms); break;
//!     case LL_STEP_ENTRY:   /* a list entry: st.data, st.data_len */ break;
//!     case LL_STEP_DONE:    /* st.result; st.data: the answer's data */
//!                           if (!st.keep_connection) net_close();
//!                           goto done;
//!     }
//! }
//! ```
//!
//! The other operations run through the same loop:
//! [`ll_exchange_submit`] (hash-first: digests from an [`ll_hasher`] the
//! caller feeds; `LL_STEP_SEND_SAMPLE` only when the server does not have
//! the file) and [`ll_exchange_completed`] (one page of verdicts after an
//! [`ll_cursor`] the caller persists as bytes). Failures are result codes
//! ([`ll_result_str`]); the last one's API code, HTTP status, attempts and
//! the server's words come from [`ll_exchange_error`] and
//! [`ll_exchange_error_text`].
//!
//! # Builds
//!
//! `staticlib` and `cdylib`. With the default `std` feature every entry
//! point is a panic boundary (a panic answers `LL_ERR_PANIC` and poisons
//! the handle). Without it (`--no-default-features`, for firmware) the
//! crate is `no_std`, calls no allocator, and a panic — none is expected:
//! the core has none outside its tests — calls the firmware's
//! `void ll_abort(void)`.
#![cfg_attr(not(feature = "std"), no_std)]
#![allow(non_camel_case_types)]
// The pinned cbindgen (0.24.3) cannot read C-string literals (`c"..."`):
// NUL-terminated byte strings stand in for them.
#![allow(clippy::manual_c_str_literals)]

mod arena;
mod config;
mod cursor;
mod exchange;
mod failure;
mod handle;
mod hasher;
mod methods;
mod result;
mod step;
mod version;

pub use config::ll_config;
pub use cursor::*;
pub use exchange::*;
pub use failure::*;
pub use hasher::*;
pub use methods::*;
pub use result::*;
pub use step::*;
pub use version::*;

#[cfg(all(not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    extern "C" {
        /// The firmware's handler: reset, halt, or log and reset.
        fn ll_abort() -> !;
    }
    // SAFETY: the firmware provides `ll_abort` (the README says so); it
    // takes nothing and does not return.
    unsafe { ll_abort() }
}
