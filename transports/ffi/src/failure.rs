//! How the last operation failed, for C: the numbers in a struct, the
//! words in the caller's buffer.

use core::ffi::c_char;
use core::fmt::{self, Write};

use lastline_core::exchange::Failure;

use crate::exchange::{last_failure, ll_exchange, ExchangeSlot};
use crate::handle;
use crate::result::*;

/// The last failure of an exchange handle.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ll_error {
    /// Its result code (`LL_ERR_*`).
    pub result: i32,
    /// The API's error code (`LL_ERR_API`), else 0.
    pub api_code: i32,
    /// The HTTP status of the last answer, else 0.
    pub http_status: u32,
    /// Attempts made, the last one included (0: refused before sending).
    pub attempts: u32,
    /// Bytes of its text (`ll_exchange_error_text`), without the NUL.
    pub text_len: usize,
}

/// Writes a failure's text with control characters escaped (`\xNN`): the
/// server's message comes from the network and may be aimed at a
/// terminal.
struct Escaped<'a> {
    out: Option<&'a mut [u8]>,
    len: usize,
}

impl Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let mut utf8 = [0u8; 4];
            let mut escape = [b'\\', b'x', 0, 0];
            let bytes: &[u8] = if c.is_control() {
                let v = u32::from(c);
                let hex = b"0123456789abcdef";
                escape[2] = hex[((v >> 4) & 15) as usize];
                escape[3] = hex[(v & 15) as usize];
                if v > 0xff {
                    // Not reached: Unicode controls are C0 and C1.
                    return Err(fmt::Error);
                }
                &escape
            } else {
                c.encode_utf8(&mut utf8).as_bytes()
            };
            let end = self.len + bytes.len();
            if let Some(out) = self.out.as_deref_mut() {
                match out.get_mut(self.len..end) {
                    Some(dst) => dst.copy_from_slice(bytes),
                    None => return Err(fmt::Error),
                }
            }
            self.len = end;
        }
        Ok(())
    }
}

/// The text of `f`: its length, and whether it fit `out` (with room for
/// the NUL).
pub(crate) fn text(f: &Failure, out: &mut [u8]) -> (usize, bool) {
    let mut count = Escaped { out: None, len: 0 };
    let _ = write!(count, "{f}");
    let len = count.len;
    if len >= out.len() {
        return (len, false);
    }
    let mut w = Escaped {
        out: Some(out),
        len: 0,
    };
    let fits = write!(w, "{f}").is_ok();
    if let Some(nul) = w.out.and_then(|o| o.get_mut(len)) {
        *nul = 0;
    }
    (len, fits)
}

/// Fills `*err` with the last failure of `ex`; `LL_ERR_STATE` when there
/// was none.
///
/// # Safety
/// `ex` is NULL or an `ll_exchange`; `err` is NULL or an `ll_error`.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_error(ex: *mut ll_exchange, err: *mut ll_error) -> i32 {
    handle::enter(ex.cast::<ExchangeSlot>(), |s| {
        if err.is_null() {
            return LL_ERR_NULL;
        }
        let Some(f) = last_failure(s) else {
            return LL_ERR_STATE;
        };
        let e = ll_error {
            result: code_of_failure(f),
            api_code: f.error.api_code().map_or(0, |c| c.number()),
            http_status: f.status.map_or(0, u32::from),
            attempts: f.attempts,
            text_len: text(f, &mut []).0,
        };
        // SAFETY: non-null, as the caller promised an `ll_error`.
        unsafe { err.write(e) };
        LL_OK
    })
}

/// Writes the last failure's text — what went wrong and the server's own
/// words, control characters escaped — NUL-terminated into `buf` (`cap`
/// bytes). Too small a buffer gets nothing (an empty string when `cap` >
/// 0) and `LL_ERR_BUFFER_TOO_SMALL`; `*needed` (if not NULL) is then the
/// text's length without the NUL.
///
/// # Safety
/// `ex` is NULL or an `ll_exchange`; `buf` is NULL or `cap` writable
/// bytes; `needed` is NULL or a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_error_text(
    ex: *mut ll_exchange,
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> i32 {
    handle::enter(ex.cast::<ExchangeSlot>(), |s| {
        if buf.is_null() {
            return LL_ERR_NULL;
        }
        let Some(f) = last_failure(s) else {
            return LL_ERR_STATE;
        };
        // SAFETY: the caller promised `cap` writable bytes.
        let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), cap) };
        let (len, fits) = text(f, out);
        if !needed.is_null() {
            // SAFETY: non-null, as the caller promised a `size_t`.
            unsafe { needed.write(len) };
        }
        if fits {
            LL_OK
        } else {
            if let Some(first) = out.first_mut() {
                *first = 0;
            }
            LL_ERR_BUFFER_TOO_SMALL
        }
    })
}
