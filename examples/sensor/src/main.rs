//! A network sensor, firmware: it hashes captured files, submits them
//! hash-first over TLS (embedded-tls, server certificate verified against
//! a pinned CA) with lastline-embedded, uploads only what the server asks
//! for, and learns the verdicts from a persisted completion cursor
//! ([`flow`], shared by the boards).
//!
//! Two boards: a register stand-in (the default; built in CI to measure
//! flash and RAM: its socket, RNG and clock are volatile registers the
//! optimiser cannot see through), and QEMU's mps2-an386 (`--features
//! qemu`; run by `scripts/qemu-sensor.sh` against the emulator over TLS).
#![no_std]
#![no_main]
// Errors carry the whole failure (its message too): a firmware choice the
// flow keeps, not boxes.
#![allow(clippy::result_large_err)]

mod captures;
mod flow;
#[cfg(feature = "qemu")]
mod mps2;
#[cfg(not(feature = "qemu"))]
mod standin;

#[cortex_m_rt::entry]
fn main() -> ! {
    #[cfg(feature = "qemu")]
    mps2::main();
    #[cfg(not(feature = "qemu"))]
    standin::main();
}
