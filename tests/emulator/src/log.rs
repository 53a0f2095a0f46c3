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

/// Which of the emulator's origins (ports) a request reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// The API's address (`Emulator::addr`).
    #[default]
    Api,
    /// The CDN that exported reports redirect to (`Emulator::cdn_addr`).
    Cdn,
    /// The datacenter that API calls may be redirected to
    /// (`Emulator::datacenter_addr`).
    Datacenter,
}

/// Something a request did that a strict server notices (the request
/// is still served, as servers do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A parameter the reference does not document for the method.
    UndocumentedParam(String),
    /// `key` or `api_token` in the URL, where proxies and logs keep them.
    CredentialsInUrl,
    /// Credentials (Basic, session cookie, key/api_token) sent to an
    /// origin other than the API's: the CDN or the datacenter.
    CredentialsToOtherOrigin,
    /// The task was asked about again while incomplete (the reference:
    /// poll `get_completed`, not each task).
    PollingIncompleteTask(String),
    /// A multipart body that could not be parsed.
    MalformedMultipart(String),
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
    /// The origin it reached.
    pub origin: Origin,
    /// Path as sent (with suffix, without query).
    pub path: String,
    /// The format suffix as sent, case kept (`json`, `PDF`...), if any.
    pub suffix: Option<String>,
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
    /// `Location` of a redirect answered.
    pub location: Option<String>,
    /// What a strict server would notice about the request.
    pub violations: Vec<Violation>,
    /// The connection that carried it (numbered as accepted, from 1).
    pub connection: u64,
}

impl LogEntry {
    /// An entry for a request as it arrived, before anything is known of
    /// its answer.
    pub(crate) fn new<B>(origin: Origin, req: &hyper::Request<B>) -> Self {
        Self {
            method: req.method().as_str().to_string(),
            origin,
            path: req.uri().path().to_string(),
            suffix: None,
            api_method: None,
            query: req.uri().query().unwrap_or("").to_string(),
            credentials: vec![],
            params: vec![],
            parts: vec![],
            status: 200,
            error_code: None,
            task: None,
            location: None,
            connection: 0,
            violations: vec![],
        }
    }
}

/// The request log of a running emulator.
#[derive(Clone, Debug, Default)]
pub struct RequestLog(pub(crate) Arc<Mutex<Vec<LogEntry>>>);

impl RequestLog {
    /// Every entry so far.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The API methods called so far, each once, sorted.
    pub fn methods_called(&self) -> Vec<&'static str> {
        let mut called: Vec<&'static str> = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|e| e.api_method)
            .collect();
        called.sort_unstable();
        called.dedup();
        called
    }

    /// Forgets the entries.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub(crate) fn push(&self, e: LogEntry) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(e);
    }
}
