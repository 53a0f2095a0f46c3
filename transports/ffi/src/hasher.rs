//! The streaming hasher: MD5, SHA-1 and SHA-256 of a sample in one pass,
//! fed by the caller as it reads the sample, for a submission by hash.

use core::ptr::addr_of_mut;

use lastline_core::hashing::{Algorithms, Digests, MultiHasher};

use crate::handle::{self, Header, Slot};
use crate::result::*;

/// Bytes of an `ll_hasher` (every target; a const assertion holds the
/// storage to it).
pub const LL_HASHER_SIZE: usize = 512;

/// A hasher: storage the caller declares, initialised by
/// `ll_hasher_init`.
#[repr(C)]
pub union ll_hasher {
    _opaque: [u8; LL_HASHER_SIZE],
    _align: u64,
}

/// `ll_digests.has`: `md5` is set.
pub const LL_DIGEST_MD5: u32 = 1;
/// `ll_digests.has`: `sha1` is set.
pub const LL_DIGEST_SHA1: u32 = 2;
/// `ll_digests.has`: `sha256` is set.
pub const LL_DIGEST_SHA256: u32 = 4;

/// A sample's digests and length.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ll_digests {
    /// MD5.
    pub md5: [u8; 16],
    /// SHA-1.
    pub sha1: [u8; 20],
    /// SHA-256.
    pub sha256: [u8; 32],
    /// The sample's length in bytes.
    pub len: u64,
    /// Which digests are set (`LL_DIGEST_*`).
    pub has: u32,
}

impl ll_digests {
    pub(crate) fn to_core(self) -> Digests {
        use lastline_core::types::Digest;
        Digests {
            md5: (self.has & LL_DIGEST_MD5 != 0).then_some(Digest(self.md5)),
            sha1: (self.has & LL_DIGEST_SHA1 != 0).then_some(Digest(self.sha1)),
            sha256: (self.has & LL_DIGEST_SHA256 != 0).then_some(Digest(self.sha256)),
            len: self.len,
        }
    }
}

#[repr(C)]
pub(crate) struct HasherSlot {
    header: Header,
    hasher: MultiHasher,
}

impl Slot for HasherSlot {
    const LIVE: u64 = 0x4c4c_4841_5348_4c56;
    const POISONED: u64 = 0x4c4c_4841_5348_5053;
}

const _: () = assert!(core::mem::size_of::<HasherSlot>() <= LL_HASHER_SIZE);
const _: () = assert!(core::mem::align_of::<HasherSlot>() <= core::mem::align_of::<ll_hasher>());

/// Initialises the hasher at `h`, `size` bytes (`sizeof` of it).
///
/// # Safety
/// `h` is NULL or points to `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn ll_hasher_init(h: *mut ll_hasher, size: usize) -> i32 {
    let p = h.cast::<HasherSlot>();
    let ok = handle::check_storage(p, size, LL_HASHER_SIZE);
    if ok != LL_OK {
        return ok;
    }
    // SAFETY: checked: non-null, aligned, large enough.
    unsafe {
        addr_of_mut!((*p).hasher).write(MultiHasher::new(Algorithms::ALL));
        handle::mark_live(p);
    }
    LL_OK
}

/// Feeds `len` bytes of the sample.
///
/// # Safety
/// `h` is NULL or an `ll_hasher`; `bytes` is NULL or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ll_hasher_update(h: *mut ll_hasher, bytes: *const u8, len: usize) -> i32 {
    handle::enter(h.cast::<HasherSlot>(), |p| {
        if bytes.is_null() && len > 0 {
            return LL_ERR_NULL;
        }
        let chunk = if len == 0 {
            &[][..]
        } else {
            // SAFETY: the caller promised `len` readable bytes.
            unsafe { core::slice::from_raw_parts(bytes, len) }
        };
        // SAFETY: a live hasher slot (checked by `enter`).
        unsafe { (*addr_of_mut!((*p).hasher)).update(chunk) };
        LL_OK
    })
}

/// Writes the digests of everything fed into `out`; the hasher is then
/// dropped (initialise it again for another sample).
///
/// # Safety
/// `h` is NULL or an `ll_hasher`; `out` is NULL or an `ll_digests`.
#[no_mangle]
pub unsafe extern "C" fn ll_hasher_finish(h: *mut ll_hasher, out: *mut ll_digests) -> i32 {
    if out.is_null() {
        return match handle::live(h.cast::<HasherSlot>()) {
            Ok(_) => LL_ERR_NULL,
            Err(code) => code,
        };
    }
    handle::enter(h.cast::<HasherSlot>(), |p| {
        // SAFETY: a live slot: the hasher is moved out and the slot marked
        // dropped before anything can read it again.
        let hasher = unsafe { addr_of_mut!((*p).hasher).read() };
        // SAFETY: as above.
        unsafe { handle::mark_dropped(p) };
        let d = hasher.finish();
        let mut c = ll_digests {
            len: d.len,
            ..ll_digests::default()
        };
        if let Some(m) = d.md5 {
            c.md5 = m.0;
            c.has |= LL_DIGEST_MD5;
        }
        if let Some(s) = d.sha1 {
            c.sha1 = s.0;
            c.has |= LL_DIGEST_SHA1;
        }
        if let Some(s) = d.sha256 {
            c.sha256 = s.0;
            c.has |= LL_DIGEST_SHA256;
        }
        // SAFETY: `out` is non-null and, as the caller promised, an
        // `ll_digests`.
        unsafe { out.write(c) };
        LL_OK
    })
}

/// Drops the hasher (idempotent).
///
/// # Safety
/// `h` is NULL or an `ll_hasher`.
#[no_mangle]
pub unsafe extern "C" fn ll_hasher_drop(h: *mut ll_hasher) -> i32 {
    handle::drop_handle(h.cast::<HasherSlot>())
}
