//! The completion cursor: where the caller's verdicts resume, kept in
//! storage the caller declares and persisted as bytes it stores (flash,
//! a file) between runs.

use core::ptr::{addr_of, addr_of_mut};

use lastline_core::types::Timestamp;
use lastline_core::workflow::CompletionCursor;

use crate::handle::{self, Header, Slot};
use crate::result::*;

/// How many task UUIDs the cursor remembers to hand each task on once.
pub(crate) const REMEMBERED: usize = 64;

/// The cursor the ABI keeps.
pub(crate) type Cursor = CompletionCursor<REMEMBERED>;

/// Bytes of an `ll_cursor`.
pub const LL_CURSOR_SIZE: usize = 1152;

/// The most bytes `ll_cursor_save` writes.
pub const LL_CURSOR_SAVED_MAX: usize = 1039;

/// A completion cursor: storage the caller declares, initialised by
/// `ll_cursor_init` or `ll_cursor_restore`.
#[repr(C)]
pub union ll_cursor {
    _opaque: [u8; LL_CURSOR_SIZE],
    _align: u64,
}

#[repr(C)]
pub(crate) struct CursorSlot {
    header: Header,
    pub(crate) cursor: Cursor,
}

impl Slot for CursorSlot {
    const LIVE: u64 = 0x4c4c_4355_5253_4c56;
    const POISONED: u64 = 0x4c4c_4355_5253_5053;
}

const _: () = assert!(core::mem::size_of::<CursorSlot>() <= LL_CURSOR_SIZE);
const _: () = assert!(core::mem::align_of::<CursorSlot>() <= core::mem::align_of::<ll_cursor>());
const _: () = assert!(Cursor::SAVED_LEN == LL_CURSOR_SAVED_MAX);

/// Initialises the cursor at `c` (`size`: its `sizeof`) to report tasks
/// completed from `start_unix` (seconds since 1970, UTC) on.
///
/// # Safety
/// `c` is NULL or points to `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn ll_cursor_init(c: *mut ll_cursor, size: usize, start_unix: i64) -> i32 {
    let Ok(start) = Timestamp::from_unix(start_unix) else {
        return LL_ERR_INVALID_PARAM;
    };
    // SAFETY: as the caller promised.
    unsafe { put(c, size, Cursor::new(start)) }
}

/// Initialises the cursor at `c` from `len` bytes `ll_cursor_save` wrote.
///
/// # Safety
/// `c` is NULL or points to `size` writable bytes; `bytes` is NULL or
/// `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ll_cursor_restore(
    c: *mut ll_cursor,
    size: usize,
    bytes: *const u8,
    len: usize,
) -> i32 {
    if bytes.is_null() {
        return LL_ERR_NULL;
    }
    // SAFETY: the caller promised `len` readable bytes.
    let saved = unsafe { core::slice::from_raw_parts(bytes, len) };
    match Cursor::restore(saved) {
        // SAFETY: as the caller promised.
        Ok(cursor) => unsafe { put(c, size, cursor) },
        Err(_) => LL_ERR_CURSOR,
    }
}

/// # Safety
/// `c` is NULL or points to `size` writable bytes.
unsafe fn put(c: *mut ll_cursor, size: usize, cursor: Cursor) -> i32 {
    let p = c.cast::<CursorSlot>();
    let ok = handle::check_storage(p, size, LL_CURSOR_SIZE);
    if ok != LL_OK {
        return ok;
    }
    // SAFETY: checked: non-null, aligned, large enough.
    unsafe {
        addr_of_mut!((*p).cursor).write(cursor);
        handle::mark_live(p);
    }
    LL_OK
}

/// Writes the cursor into `out` (`cap` bytes; `LL_CURSOR_SAVED_MAX` is
/// always enough) and its length into `*len`. Persist them after each
/// page.
///
/// # Safety
/// `c` is NULL or an `ll_cursor`; `out` is NULL or `cap` writable bytes;
/// `len` is NULL or a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn ll_cursor_save(
    c: *const ll_cursor,
    out: *mut u8,
    cap: usize,
    len: *mut usize,
) -> i32 {
    handle::enter(c.cast_mut().cast::<CursorSlot>(), |p| {
        if out.is_null() || len.is_null() {
            return LL_ERR_NULL;
        }
        // SAFETY: the caller promised `cap` writable bytes.
        let out = unsafe { core::slice::from_raw_parts_mut(out, cap) };
        // SAFETY: a live cursor slot.
        let cursor = unsafe { &*addr_of!((*p).cursor) };
        match cursor.save(out) {
            Ok(n) => {
                // SAFETY: non-null, as the caller promised a `size_t`.
                unsafe { len.write(n) };
                LL_OK
            }
            Err(_) => LL_ERR_BUFFER_TOO_SMALL,
        }
    })
}

/// The cursor's position: the next page starts after `*unix` (seconds
/// since 1970, UTC).
///
/// # Safety
/// `c` is NULL or an `ll_cursor`; `unix` is NULL or an `int64_t`.
#[no_mangle]
pub unsafe extern "C" fn ll_cursor_after(c: *const ll_cursor, unix: *mut i64) -> i32 {
    handle::enter(c.cast_mut().cast::<CursorSlot>(), |p| {
        if unix.is_null() {
            return LL_ERR_NULL;
        }
        // SAFETY: a live cursor slot; `unix` non-null as promised.
        unsafe { unix.write((*addr_of!((*p).cursor)).after().unix()) };
        LL_OK
    })
}

/// Drops the cursor (idempotent).
///
/// # Safety
/// `c` is NULL or an `ll_cursor`.
#[no_mangle]
pub unsafe extern "C" fn ll_cursor_drop(c: *mut ll_cursor) -> i32 {
    handle::drop_handle(c.cast::<CursorSlot>())
}
