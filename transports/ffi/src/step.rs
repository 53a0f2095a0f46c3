//! The one step type the loop answers with, and the numbers in it. Kinds
//! are `uint32_t` constants, never C enums: the size of an enum differs
//! between ABIs (`-fshort-enums`, common on Cortex-M).

use core::ffi::c_char;

/// Open a connection to `host`:`port` (TLS when `tls` is 1), closing any
/// other first; then call `ll_exchange_next` again, or
/// `ll_exchange_failed` if it could not be opened.
pub const LL_STEP_CONNECT: u32 = 1;
/// Write `data[0..data_len]`; report how many bytes went out with
/// `ll_exchange_wrote` (fewer is fine: the rest comes back as the next
/// step), or `ll_exchange_failed`.
pub const LL_STEP_WRITE: u32 = 2;
/// Write the sample's bytes from `sample_offset` on (`sample_len` are
/// left); `space`/`space_len` is free to read them into. Report the count
/// written with `ll_exchange_wrote`.
pub const LL_STEP_SEND_SAMPLE: u32 = 3;
/// Read into `space[0..space_len]`; report the count with
/// `ll_exchange_read` (0: the peer closed), or `ll_exchange_failed`.
pub const LL_STEP_READ: u32 = 4;
/// Nothing to do before `until_ms` (on the clock given to
/// `ll_exchange_next`).
pub const LL_STEP_SLEEP: u32 = 5;
/// A list entry of the answer: for a call, `data` is the entry's JSON,
/// `name` the member of `data` it belongs to, `key` its key in a map; for
/// a completion page, a task completed since the cursor (`task_uuid`,
/// `score` when `has_score`).
pub const LL_STEP_ENTRY: u32 = 6;
/// The next bytes of a download, `data[0..data_len]`.
pub const LL_STEP_DATA: u32 = 7;
/// The download starts over: forget the bytes given so far (or call
/// `ll_exchange_cannot_restart`).
pub const LL_STEP_RESTART: u32 = 8;
/// Something the exchange did on its own (`event`, `attempt`; a retry's
/// wait in `until_ms`), for a log.
pub const LL_STEP_EVENT: u32 = 9;
/// The operation is over: `result` is `LL_OK` or the failure's code
/// (details: `ll_exchange_error`). For a call, `data` is the answer's
/// `data` as JSON (its streamed lists left out); for a submission,
/// `task_uuid` and `uploaded`; for a completion page, `more` (ask again
/// now). `keep_connection` says whether the connection may carry the next
/// operation (else close it).
pub const LL_STEP_DONE: u32 = 10;

/// A retry after a failure (`attempt` failed so far; `until_ms` is the
/// wait).
pub const LL_EVENT_RETRY: u32 = 1;
/// A kept-alive connection had closed: a new one carries the request.
pub const LL_EVENT_RECONNECT: u32 = 2;
/// The session ended (122): logging in again.
pub const LL_EVENT_RELOGIN: u32 = 3;
/// A redirect was followed (`attempt` holds its HTTP status).
pub const LL_EVENT_REDIRECT: u32 = 4;
/// The server does not have the sample (101): it is uploaded now.
pub const LL_EVENT_UPLOAD: u32 = 5;

/// How the caller's connection failed (`ll_exchange_failed`): it could
/// not be opened (DNS, refused, unreachable).
pub const LL_TRANSPORT_CONNECT: u32 = 1;
/// The peer closed or reset the connection.
pub const LL_TRANSPORT_CLOSED: u32 = 2;
/// Reading or writing failed otherwise.
pub const LL_TRANSPORT_IO: u32 = 3;
/// A read or write took longer than the caller allows.
pub const LL_TRANSPORT_TIMEOUT: u32 = 4;
/// A failure no retry can fix: the server's certificate was not
/// verified, the origin may not be reached.
pub const LL_TRANSPORT_REFUSED: u32 = 5;

/// Every request carries HTTP Basic credentials (the default).
pub const LL_AUTH_BASIC: u32 = 0;
/// Credentials in POST bodies (GET-only methods use Basic).
pub const LL_AUTH_BODY: u32 = 1;
/// Log in once, send the session cookie, log in again on 122.
pub const LL_AUTH_SESSION: u32 = 2;

/// The answer as the JSON envelope (the default).
pub const LL_FORMAT_JSON: u32 = 0;
/// The answer as XML, handed over as download bytes.
pub const LL_FORMAT_XML: u32 = 1;
/// A `get_results` report as PDF (download bytes).
pub const LL_FORMAT_PDF: u32 = 2;
/// A `get_results` report as RTF (download bytes).
pub const LL_FORMAT_RTF: u32 = 3;

/// One step of the loop, filled by `ll_exchange_next`. Only the fields
/// its `kind` names are meaningful; pointers into the handle stay valid
/// until the next call on the handle.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ll_step {
    /// `LL_STEP_*`.
    pub kind: u32,
    /// `DONE`: `LL_OK` or the failure's code.
    pub result: i32,
    /// `WRITE`, `DATA`, `ENTRY`, `DONE`: bytes to write or take.
    pub data: *const u8,
    /// Their length.
    pub data_len: usize,
    /// `READ`: where to read; `SEND_SAMPLE`: scratch space.
    pub space: *mut u8,
    /// Its length.
    pub space_len: usize,
    /// `CONNECT`: the host, NUL-terminated (a name, an IPv4 address, or
    /// an IPv6 address in brackets).
    pub host: *const c_char,
    /// `CONNECT`: the port.
    pub port: u16,
    /// `CONNECT`: 1 for TLS.
    pub tls: u32,
    /// `SEND_SAMPLE`: the offset of the next sample byte to write.
    pub sample_offset: u64,
    /// `SEND_SAMPLE`: the sample bytes left to write.
    pub sample_len: u64,
    /// `SLEEP`: when to call again; `EVENT` (retry): the retry's wait.
    pub until_ms: u64,
    /// `EVENT`: `LL_EVENT_*`.
    pub event: u32,
    /// `EVENT`: attempts failed so far (retry) or the redirect's status.
    pub attempt: u32,
    /// `ENTRY` of a call: the member of `data` the entry belongs to, as
    /// JSON string contents (control characters escaped as `\u00XX`).
    pub name: *const u8,
    /// Its length.
    pub name_len: usize,
    /// `ENTRY` of a call: the entry's key when the member is a map (else
    /// NULL), as JSON string contents.
    pub key: *const u8,
    /// Its length.
    pub key_len: usize,
    /// `ENTRY` of a completion page, `DONE` of a submission: the task's
    /// UUID as 32 hex digits, NUL-terminated.
    pub task_uuid: [c_char; 33],
    /// `ENTRY` of a completion page: 1 when `score` is set.
    pub has_score: u32,
    /// `ENTRY` of a completion page: the task's score.
    pub score: i32,
    /// `DONE` of a submission: 1 when the sample was uploaded (the server
    /// did not have it).
    pub uploaded: u32,
    /// `DONE` of a completion page: 1 when more completions are ready now.
    pub more: u32,
    /// `DONE`: 1 when the connection may carry the next operation.
    pub keep_connection: u32,
}

impl ll_step {
    /// A step of `kind` with every other field empty.
    pub(crate) const fn of(kind: u32) -> Self {
        Self {
            kind,
            result: 0,
            data: core::ptr::null(),
            data_len: 0,
            space: core::ptr::null_mut(),
            space_len: 0,
            host: core::ptr::null(),
            port: 0,
            tls: 0,
            sample_offset: 0,
            sample_len: 0,
            until_ms: 0,
            event: 0,
            attempt: 0,
            name: core::ptr::null(),
            name_len: 0,
            key: core::ptr::null(),
            key_len: 0,
            task_uuid: [0; 33],
            has_score: 0,
            score: 0,
            uploaded: 0,
            more: 0,
            keep_connection: 0,
        }
    }

    /// Writes `uuid` into `task_uuid`.
    pub(crate) fn set_uuid(&mut self, uuid: &lastline_core::types::Uuid) {
        let mut hex = [0u8; 32];
        let s = uuid.encode(&mut hex);
        for (dst, src) in self.task_uuid.iter_mut().zip(s.bytes()) {
            *dst = src as c_char;
        }
        if let Some(last) = self.task_uuid.last_mut() {
            *last = 0;
        }
    }
}
