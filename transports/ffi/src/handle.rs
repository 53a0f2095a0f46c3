//! Caller-owned handles: storage the C caller declares (`ll_exchange ex;`)
//! and this library initialises in place, checked at every entry point.
//!
//! Each handle's storage starts with a [`Header`]: a magic number naming
//! the handle's type and state, and the address it was initialised at. A
//! handle used before `_init`, after `_drop`, under another type, or after
//! being copied or moved (its inner references point into the old place)
//! is refused with a result code instead of being read.

use core::ptr::{addr_of, addr_of_mut};

use crate::result::*;

/// The start of every handle's storage.
#[repr(C)]
pub(crate) struct Header {
    magic: u64,
    home: usize,
}

/// What a handle's storage holds after the header.
pub(crate) trait Slot {
    /// The magic number of a live handle of this type.
    const LIVE: u64;
    /// The magic number of a handle of this type poisoned by a panic.
    const POISONED: u64;
}

/// Marks storage that holds no live handle (never initialised looks like
/// anything; dropped looks like this).
const DROPPED: u64 = 0;

/// The header of the slot at `p`.
fn header<S: Slot>(p: *mut S) -> *mut Header {
    p.cast::<Header>()
}

/// Checks that `p` points to storage of `size` bytes fit for an `S`: the
/// first check of every `_init`.
pub(crate) fn check_storage<S: Slot>(p: *mut S, size: usize, declared: usize) -> i32 {
    if p.is_null() {
        LL_ERR_NULL
    } else if size != declared || core::mem::size_of::<S>() > declared {
        LL_ERR_SIZE
    } else if !(p as usize).is_multiple_of(core::mem::align_of::<S>()) {
        LL_ERR_ALIGNMENT
    } else {
        LL_OK
    }
}

/// Marks the slot at `p` live at its address (after its fields were
/// initialised).
///
/// # Safety
/// `p` passed [`check_storage`].
pub(crate) unsafe fn mark_live<S: Slot>(p: *mut S) {
    let h = header(p);
    // SAFETY: `p` is non-null, aligned and large enough (check_storage);
    // the header is plain integers, written through the raw pointer.
    unsafe {
        addr_of_mut!((*h).home).write(p as usize);
        addr_of_mut!((*h).magic).write(S::LIVE);
    }
}

/// Marks the slot dropped (idempotent: a second drop finds it dropped).
///
/// # Safety
/// `p` passed [`check_storage`]-like checks: non-null and aligned.
pub(crate) unsafe fn mark_dropped<S: Slot>(p: *mut S) {
    // SAFETY: as the caller promised; the header is plain integers.
    unsafe { addr_of_mut!((*header(p)).magic).write(DROPPED) }
}

/// The body of every `_drop`: marks the storage at `p` dropped, whatever
/// it held (idempotent; a handle holds no resources).
pub(crate) fn drop_handle<S: Slot>(p: *mut S) -> i32 {
    if p.is_null() {
        return LL_ERR_NULL;
    }
    if !(p as usize).is_multiple_of(core::mem::align_of::<S>()) {
        return LL_ERR_ALIGNMENT;
    }
    // SAFETY: non-null and aligned; the caller's storage is a handle's.
    unsafe { mark_dropped(p) };
    LL_OK
}

/// Checks that `p` is a live slot of type `S` at the address it was
/// initialised at: `Ok(p)` to use, or the result code to return.
pub(crate) fn live<S: Slot>(p: *mut S) -> Result<*mut S, i32> {
    if p.is_null() {
        return Err(LL_ERR_NULL);
    }
    if !(p as usize).is_multiple_of(core::mem::align_of::<S>()) {
        return Err(LL_ERR_ALIGNMENT);
    }
    let h = header(p);
    // SAFETY: non-null and aligned; the caller's storage is at least a
    // header long (every handle type is). A handle never initialised
    // holds whatever its bytes were: read as integers, such bytes name no
    // live handle but by a 1 in 2^64 chance.
    let (magic, home) = unsafe {
        (
            addr_of!((*h).magic).read_volatile(),
            addr_of!((*h).home).read_volatile(),
        )
    };
    if magic == S::POISONED {
        Err(LL_ERR_POISONED)
    } else if magic != S::LIVE {
        Err(LL_ERR_NOT_INITIALISED)
    } else if home != p as usize {
        Err(LL_ERR_MOVED)
    } else {
        Ok(p)
    }
}

/// Runs `f` on the live slot at `p`: the entry point's body. With `std`, a
/// panic in `f` poisons the handle and answers [`LL_ERR_PANIC`].
pub(crate) fn enter<S: Slot>(p: *mut S, f: impl FnOnce(*mut S) -> i32) -> i32 {
    match live(p) {
        Ok(p) => guard(p, f),
        Err(code) => code,
    }
}

#[cfg(feature = "std")]
pub(crate) fn guard<S: Slot>(p: *mut S, f: impl FnOnce(*mut S) -> i32) -> i32 {
    // The slot is poisoned on a panic, never read again: whatever state
    // the panic left it in cannot be observed.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(p))) {
        Ok(code) => code,
        Err(_) => {
            // SAFETY: `p` is a live slot (checked by the caller); the
            // header is plain integers.
            unsafe { addr_of_mut!((*header(p)).magic).write(S::POISONED) };
            LL_ERR_PANIC
        }
    }
}

#[cfg(not(feature = "std"))]
pub(crate) fn guard<S: Slot>(p: *mut S, f: impl FnOnce(*mut S) -> i32) -> i32 {
    // Without std a panic cannot be caught: it ends in the panic handler
    // (lib.rs), which calls the firmware's `ll_abort()`.
    f(p)
}

/// A NUL-terminated C string of at most `max` bytes, as UTF-8 text;
/// `Ok(None)` for NULL.
///
/// # Safety
/// `s` is NULL or points to readable bytes up to a NUL or `max + 1` bytes,
/// whichever comes first.
pub(crate) unsafe fn c_text<'a>(
    s: *const core::ffi::c_char,
    max: usize,
) -> Result<Option<&'a str>, i32> {
    if s.is_null() {
        return Ok(None);
    }
    let p = s.cast::<u8>();
    let mut len = 0usize;
    loop {
        if len > max {
            return Err(LL_ERR_INVALID_PARAM);
        }
        // SAFETY: the caller promised readable bytes up to the NUL or
        // `max + 1` bytes; `len <= max` here.
        if unsafe { p.add(len).read() } == 0 {
            break;
        }
        len = len.saturating_add(1);
    }
    // SAFETY: the `len` bytes before the NUL were just read.
    let bytes = unsafe { core::slice::from_raw_parts(p, len) };
    core::str::from_utf8(bytes)
        .map(Some)
        .map_err(|_| LL_ERR_INVALID_PARAM)
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[repr(C)]
    struct Probe {
        header: Header,
        value: u32,
    }

    impl Slot for Probe {
        const LIVE: u64 = 0x5052_4f42_454c_4956;
        const POISONED: u64 = 0x5052_4f42_4550_4f49;
    }

    #[test]
    fn a_panic_poisons_the_handle_and_answers_its_code() {
        let mut storage = Probe {
            header: Header { magic: 0, home: 0 },
            value: 1,
        };
        let p: *mut Probe = &mut storage;
        assert_eq!(enter(p, |_| LL_OK), LL_ERR_NOT_INITIALISED);
        // SAFETY: `p` points to a Probe on this stack frame.
        unsafe { mark_live(p) };
        assert_eq!(enter(p, |_| 7), 7);
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let code = enter(p, |_| panic!("inside"));
        std::panic::set_hook(hook);
        assert_eq!(code, LL_ERR_PANIC);
        assert_eq!(enter(p, |_| LL_OK), LL_ERR_POISONED);
        // SAFETY: as above.
        unsafe { mark_dropped(p) };
        assert_eq!(enter(p, |_| LL_OK), LL_ERR_NOT_INITIALISED);
    }

    #[test]
    fn a_moved_handle_is_refused() {
        let mut a = Probe {
            header: Header { magic: 0, home: 0 },
            value: 1,
        };
        let pa: *mut Probe = &mut a;
        // SAFETY: `pa` points to a Probe on this stack frame.
        unsafe { mark_live(pa) };
        let mut b = Probe {
            header: Header {
                magic: a.header.magic,
                home: a.header.home,
            },
            value: a.value,
        };
        assert_eq!(enter(&mut b as *mut Probe, |_| LL_OK), LL_ERR_MOVED);
        assert_eq!(enter(pa, |_| LL_OK), LL_OK);
    }

    #[test]
    fn c_text_is_bounded_and_utf8() {
        // SAFETY: NUL-terminated literals.
        unsafe {
            assert_eq!(c_text(b"abc\0".as_ptr().cast(), 3), Ok(Some("abc")));
            assert_eq!(
                c_text(b"abcd\0".as_ptr().cast(), 3),
                Err(LL_ERR_INVALID_PARAM)
            );
            assert_eq!(c_text(core::ptr::null(), 3), Ok(None));
            assert_eq!(
                c_text(b"\xff\0".as_ptr().cast(), 3),
                Err(LL_ERR_INVALID_PARAM)
            );
        }
    }
}
