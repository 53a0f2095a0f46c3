//! What the emulator saw: for tests to assert on.

use std::sync::{Arc, Mutex};

/// Where a request's credentials came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// `key`/`api_token` in the URL's query string.
    Url,
    /// `key`/`api_token` in the body.
    Body,
    /// HTTP Basic.
    Basic,
    /// A session cookie.
    Cookie,
}

/// A multipart part as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartInfo {
    /// Field name.
    pub name: String,
    /// Part file name, if any.
    pub filename: Option<String>,
    /// Bytes.
    pub size: u64,
}

/// One request.
#[derive(Clone, Debug)]
pub struct LogEntry {
    /// HTTP method.
    pub method: String,
    /// Path as sent (with suffix, without query).
    pub path: String,
    /// The API method it was routed to (`get_completed`, ...), if any.
    pub api_method: Option<&'static str>,
    /// Query string as sent.
    pub query: String,
    /// Where credentials came from (several are possible).
    pub credentials: Vec<CredentialSource>,
    /// Parameters received (names only).
    pub params: Vec<String>,
    /// Multipart parts.
    pub parts: Vec<PartInfo>,
    /// HTTP status of the answer; 0 when the connection was closed without
    /// one (an injected reset mid-upload).
    pub status: u16,
    /// API error code answered, if any.
    pub error_code: Option<i64>,
    /// Task UUID the request named (`uuid`), if any.
    pub task: Option<String>,
}

/// The request log of a running emulator.
#[derive(Clone, Debug, Default)]
pub struct RequestLog(pub(crate) Arc<Mutex<Vec<LogEntry>>>);

impl RequestLog {
    /// Every entry so far.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forgets the entries.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub(crate) fn push(&self, e: LogEntry) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(e);
    }
}
