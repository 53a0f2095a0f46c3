//! Deterministic fault injection, switchable at start and at run time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The fault switches.
#[derive(Clone, Debug, Default)]
pub struct FaultSettings {
    /// The next N API calls answer 107 (temporarily unavailable).
    pub unavailable_next: u32,
    /// The next N requests answer HTTP 503 with an HTML page.
    pub http_503_next: u32,
    /// The next N responses are cut off (connection reset) after half of
    /// their body.
    pub reset_next: u32,
    /// The next N uploads are broken off: once part of the file has
    /// arrived, the connection is closed with no answer.
    pub reset_upload_next: u32,
    /// Send response bodies in pieces of this many bytes with this pause
    /// between them.
    pub dribble: Option<(usize, Duration)>,
    /// Expire every session after each call.
    pub expire_sessions: bool,
    /// Send bodies with chunked transfer encoding.
    pub chunked: bool,
    /// Close the connection after every response.
    pub connection_close: bool,
}

/// Shared, mutable fault switches of a running emulator.
#[derive(Clone, Debug, Default)]
pub struct Faults(pub(crate) Arc<Mutex<FaultSettings>>);

impl Faults {
    /// Changes the switches.
    pub fn set(&self, f: impl FnOnce(&mut FaultSettings)) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g);
    }

    /// A copy of the switches.
    pub fn get(&self) -> FaultSettings {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Takes one from a counter; true if it was positive.
    pub(crate) fn take(&self, pick: impl FnOnce(&mut FaultSettings) -> &mut u32) -> bool {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = pick(&mut g);
        if *n > 0 {
            *n -= 1;
            true
        } else {
            false
        }
    }
}
