//! The exchange driven through lastline-ffi's C functions with arbitrary
//! server bytes, read sizes and write sizes: what a C caller sees of a
//! hostile server. Shared by the `ffi_exchange` fuzz target and the
//! corpus replay in `transports/ffi/tests/fuzz_replay.rs`.

use lastline_ffi::*;

/// One run: `data[0]` picks the operation, `data[1]` the read size,
/// `data[2]` the write size, `data[3]` the authentication and whether the
/// connection fails; the rest is everything the server sends, across
/// every connection the exchange opens.
pub(crate) fn ffi_exchange(data: &[u8]) {
    let [op, read_size, write_size, mode, server @ ..] = data else {
        return;
    };
    let read_size = usize::from(*read_size).max(1);
    let write_size = usize::from(*write_size).max(1);
    let mut ex = core::mem::MaybeUninit::<ll_exchange>::uninit();
    let ex = ex.as_mut_ptr();
    let cfg = ll_config {
        host: c"analysis.example".as_ptr(),
        port: 443,
        tls: 1,
        key: c"key".as_ptr(),
        token: c"token".as_ptr(),
        auth: u32::from(mode % 3),
        base_path: core::ptr::null(),
        user_agent: core::ptr::null(),
        seed: 7,
        max_attempts: 3,
    };
    let mut cursor = core::mem::MaybeUninit::<ll_cursor>::uninit();
    let cursor = cursor.as_mut_ptr();
    let sample = [0x4du8; 300];
    // SAFETY: the handles are local storage of their sizes; the pointers
    // passed are valid for the calls.
    unsafe {
        assert_eq!(ll_exchange_init(ex, size_of::<ll_exchange>(), &cfg), LL_OK);
        assert_eq!(
            ll_cursor_init(cursor, size_of::<ll_cursor>(), 1_700_000_000),
            LL_OK
        );
        let uuid = c"05243bb7443e4bba80a5890969102082".as_ptr();
        let params = [ll_param {
            name: c"uuid".as_ptr(),
            value: uuid,
        }];
        let started = match op % 6 {
            0 => ll_exchange_call(ex, LL_METHOD_PING, core::ptr::null(), 0, LL_FORMAT_JSON),
            1 => ll_exchange_call(
                ex,
                LL_METHOD_GET_ANALYSIS_TAGS,
                params.as_ptr(),
                1,
                LL_FORMAT_JSON,
            ),
            2 => ll_exchange_call(ex, LL_METHOD_GET_RESULTS, params.as_ptr(), 1, LL_FORMAT_PDF),
            3 => ll_exchange_call(ex, LL_METHOD_GET_RESULT, params.as_ptr(), 1, LL_FORMAT_JSON),
            4 => {
                let d = ll_digests {
                    md5: [1; 16],
                    sha1: [2; 20],
                    sha256: [3; 32],
                    len: sample.len() as u64,
                    has: LL_DIGEST_MD5 | LL_DIGEST_SHA1 | LL_DIGEST_SHA256,
                };
                let name = [ll_param {
                    name: c"filename".as_ptr(),
                    value: c"x.bin".as_ptr(),
                }];
                ll_exchange_submit(ex, &d, name.as_ptr(), 1)
            }
            _ => ll_exchange_completed(ex, cursor, 0),
        };
        assert_eq!(started, LL_OK);
        let mut fed = 0usize;
        let mut now = 0u64;
        let mut step = core::mem::zeroed::<ll_step>();
        for _ in 0..1_000_000 {
            assert_eq!(ll_exchange_next(ex, now, &mut step), LL_OK);
            match step.kind {
                LL_STEP_CONNECT => {
                    assert!(!step.host.is_null());
                    if mode & 0x80 != 0 && fed == 0 {
                        assert_eq!(ll_exchange_failed(ex, LL_TRANSPORT_CONNECT), LL_OK);
                    }
                }
                LL_STEP_WRITE => {
                    assert!(step.data_len > 0 && !step.data.is_null());
                    assert_eq!(ll_exchange_wrote(ex, step.data_len.min(write_size)), LL_OK);
                }
                LL_STEP_SEND_SAMPLE => {
                    assert!(step.sample_offset + step.sample_len == sample.len() as u64);
                    let n = (step.sample_len as usize)
                        .min(write_size)
                        .min(step.space_len);
                    assert_eq!(ll_exchange_wrote(ex, n), LL_OK);
                }
                LL_STEP_READ => {
                    assert!(step.space_len > 0);
                    let rest = server.get(fed..).unwrap_or(&[]);
                    let n = rest.len().min(read_size).min(step.space_len);
                    core::ptr::copy_nonoverlapping(rest.as_ptr(), step.space, n);
                    fed += n;
                    assert_eq!(ll_exchange_read(ex, n), LL_OK);
                }
                LL_STEP_SLEEP => now = now.max(step.until_ms),
                LL_STEP_RESTART => {
                    if mode & 0x40 != 0 {
                        assert_eq!(ll_exchange_cannot_restart(ex), LL_OK);
                    }
                }
                LL_STEP_ENTRY | LL_STEP_DATA => {
                    assert!(step.data_len == 0 || !step.data.is_null());
                }
                LL_STEP_EVENT => {}
                LL_STEP_DONE => {
                    if step.result != LL_OK {
                        let mut e = ll_error::default();
                        assert_eq!(ll_exchange_error(ex, &mut e), LL_OK);
                        assert_eq!(e.result, step.result);
                        let mut text = [0 as core::ffi::c_char; 4096];
                        let mut needed = 0usize;
                        let r =
                            ll_exchange_error_text(ex, text.as_mut_ptr(), text.len(), &mut needed);
                        assert_eq!(needed, e.text_len);
                        if r == LL_OK {
                            // No control character reaches the caller.
                            let bytes = core::ffi::CStr::from_ptr(text.as_ptr()).to_bytes();
                            assert_eq!(bytes.len(), needed);
                            assert!(bytes.iter().all(|&b| b >= 0x20 && b != 0x7f));
                        }
                    }
                    assert_eq!(ll_exchange_drop(ex), LL_OK);
                    assert_eq!(ll_cursor_drop(cursor), LL_OK);
                    return;
                }
                other => panic!("unknown step kind {other}"),
            }
        }
        panic!("no end after a million steps");
    }
}
