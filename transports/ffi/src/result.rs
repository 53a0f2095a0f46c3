//! Result codes: `int32_t`, 0 for success, negative for failure. A number
//! is never reused for another meaning; new failures get new numbers.

use core::ffi::c_char;

use lastline_core::exchange::Failure;
use lastline_core::Error;

/// Success.
pub const LL_OK: i32 = 0;
/// A pointer argument was NULL.
pub const LL_ERR_NULL: i32 = -1;
/// The handle's size (the `sizeof` given to `_init`) is not this
/// library's: the header and the library are from different versions.
pub const LL_ERR_SIZE: i32 = -2;
/// The handle's storage is not aligned for it.
pub const LL_ERR_ALIGNMENT: i32 = -3;
/// The handle is not initialised, or was dropped.
pub const LL_ERR_NOT_INITIALISED: i32 = -4;
/// The handle was copied or moved after `_init`: it must stay where it
/// was initialised.
pub const LL_ERR_MOVED: i32 = -5;
/// A call out of order: an operation already running, a step not
/// reported, a report for a step that was not asked for.
pub const LL_ERR_STATE: i32 = -6;
/// A panic inside the library (`std` builds): the handle is poisoned.
pub const LL_ERR_PANIC: i32 = -7;
/// The handle was poisoned by an earlier panic: drop it.
pub const LL_ERR_POISONED: i32 = -8;
/// A parameter was refused before anything was sent: an unknown method or
/// parameter, a value with control characters, too long a string.
pub const LL_ERR_INVALID_PARAM: i32 = -9;
/// A caller's buffer is too small (nothing was written into it).
pub const LL_ERR_BUFFER_TOO_SMALL: i32 = -10;
/// The server answered with a failure envelope: see the API code.
pub const LL_ERR_API: i32 = -11;
/// The server answered with an HTTP error status and no envelope.
pub const LL_ERR_HTTP: i32 = -12;
/// The connection failed (as the caller reported), after the retries.
pub const LL_ERR_TRANSPORT: i32 = -13;
/// The answer is not what the protocol allows (broken HTTP, bad JSON, a
/// missing field).
pub const LL_ERR_PROTOCOL: i32 = -14;
/// A value of the answer is larger than this library's capacity for it
/// (an error, never a cut).
pub const LL_ERR_CAPACITY: i32 = -15;
/// A redirect that is not followed (too many, HTTPS to HTTP, an upload to
/// another origin).
pub const LL_ERR_REDIRECT: i32 = -16;
/// The session expired again right after a fresh login.
pub const LL_ERR_SESSION: i32 = -17;
/// A completion page would move the cursor implausibly, or saved cursor
/// bytes are not a cursor.
pub const LL_ERR_CURSOR: i32 = -18;
/// A download had to start over and the caller cannot restart its sink.
pub const LL_ERR_RESTART: i32 = -19;
/// A failure this version does not classify further (see the text).
pub const LL_ERR_OTHER: i32 = -20;

/// The result code of a core error.
pub(crate) fn code_of(e: &Error) -> i32 {
    match e {
        Error::InvalidParam { .. } | Error::MissingParam { .. } | Error::HeaderInjection { .. } => {
            LL_ERR_INVALID_PARAM
        }
        Error::Api(_) => LL_ERR_API,
        Error::HttpStatus { .. } | Error::PayloadTooLarge => LL_ERR_HTTP,
        Error::Transport(_) => LL_ERR_TRANSPORT,
        Error::Http(_)
        | Error::NotAnEnvelope { .. }
        | Error::Json { .. }
        | Error::MissingField { .. }
        | Error::BadEnvelope(_) => LL_ERR_PROTOCOL,
        Error::BufferTooSmall { .. } => LL_ERR_CAPACITY,
        Error::TooManyRedirects { .. } | Error::BadRedirect(_) | Error::UploadRedirected => {
            LL_ERR_REDIRECT
        }
        Error::SessionExpired => LL_ERR_SESSION,
        Error::CorruptState | Error::CursorAhead { .. } => LL_ERR_CURSOR,
        Error::SinkCannotRestart => LL_ERR_RESTART,
        Error::WorkflowMisuse(_) => LL_ERR_STATE,
        _ => LL_ERR_OTHER,
    }
}

/// The result code of a failed exchange.
pub(crate) fn code_of_failure(f: &Failure) -> i32 {
    code_of(&f.error)
}

/// What a result code means, as a static NUL-terminated string (never
/// NULL; "unknown result" for a number this version does not know).
#[no_mangle]
pub extern "C" fn ll_result_str(result: i32) -> *const c_char {
    // NUL-terminated byte strings (cbindgen 0.24 cannot read C-string
    // literals).
    let s: &'static [u8] = match result {
        LL_OK => b"ok\0",
        LL_ERR_NULL => b"a pointer argument was NULL\0",
        LL_ERR_SIZE => b"handle size mismatch (header and library differ)\0",
        LL_ERR_ALIGNMENT => b"handle storage misaligned\0",
        LL_ERR_NOT_INITIALISED => b"handle not initialised or dropped\0",
        LL_ERR_MOVED => b"handle moved or copied after init\0",
        LL_ERR_STATE => b"call out of order\0",
        LL_ERR_PANIC => b"panic inside the library; handle poisoned\0",
        LL_ERR_POISONED => b"handle poisoned by an earlier panic\0",
        LL_ERR_INVALID_PARAM => b"invalid parameter\0",
        LL_ERR_BUFFER_TOO_SMALL => b"buffer too small\0",
        LL_ERR_API => b"the API answered with an error\0",
        LL_ERR_HTTP => b"HTTP error status\0",
        LL_ERR_TRANSPORT => b"connection failed\0",
        LL_ERR_PROTOCOL => b"malformed answer\0",
        LL_ERR_CAPACITY => b"answer larger than the library's capacity\0",
        LL_ERR_REDIRECT => b"redirect refused\0",
        LL_ERR_SESSION => b"session expired again after login\0",
        LL_ERR_CURSOR => b"completion cursor refused the page or the saved bytes\0",
        LL_ERR_RESTART => b"download must restart and the sink cannot\0",
        LL_ERR_OTHER => b"other failure\0",
        _ => b"unknown result\0",
    };
    s.as_ptr().cast::<c_char>()
}
