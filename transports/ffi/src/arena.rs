//! Text the handle keeps for as long as it is referred to: append-only
//! storage whose strings live at fixed places inside the handle, so the
//! requests and settings borrowing them stay valid while the handle stays
//! where it was initialised.

use core::cell::{Cell, UnsafeCell};

/// `N` bytes of kept text.
pub(crate) struct Arena<const N: usize> {
    // Interior mutability: strings handed out are read through shared
    // references while later ones are appended after them.
    bytes: UnsafeCell<[u8; N]>,
    used: Cell<usize>,
}

impl<const N: usize> Arena<N> {
    /// Writes an empty arena at `p` (in place: a handle is too large to
    /// build on a firmware's stack and move).
    ///
    /// # Safety
    /// `p` is valid for writes and aligned.
    pub(crate) unsafe fn init(p: *mut Self) {
        // SAFETY: as the caller promised; zero bytes are a valid byte
        // array and a valid length.
        unsafe { p.write_bytes(0, 1) };
    }

    /// Forgets every string kept: `&mut` proves nothing refers to them.
    pub(crate) fn clear(&mut self) {
        self.used.set(0);
    }

    /// Keeps a copy of `s`; `None` when it does not fit.
    ///
    /// The copy is handed out as `'static`: its bytes are never written
    /// again until [`Self::clear`], which needs the arena exclusively, and
    /// the handle owning the arena refuses to run once moved.
    pub(crate) fn keep(&self, s: &str) -> Option<&'static str> {
        let start = self.used.get();
        let end = start.checked_add(s.len()).filter(|&e| e <= N)?;
        let base = self.bytes.get().cast::<u8>();
        // SAFETY: `start..end` lies within the array (checked above) and
        // past every string handed out so far, so no reference covers it.
        let dst = unsafe { base.add(start) };
        // SAFETY: as above; `s` cannot overlap the arena's unused tail.
        unsafe { core::ptr::copy_nonoverlapping(s.as_ptr(), dst, s.len()) };
        self.used.set(end);
        // SAFETY: the bytes were just copied from a `str` (valid UTF-8)
        // and are not written again until `clear` (see above).
        Some(unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(dst, s.len())) })
    }
}

#[cfg(test)]
mod tests {
    use super::Arena;

    #[test]
    fn strings_kept_stay_while_others_are_added_and_overflow_is_refused() {
        let mut a = core::mem::MaybeUninit::<Arena<8>>::uninit();
        // SAFETY: a local, aligned.
        unsafe { Arena::init(a.as_mut_ptr()) };
        // SAFETY: initialised just above.
        let a = unsafe { a.assume_init_mut() };
        let x = a.keep("abc").unwrap();
        let y = a.keep("defg").unwrap();
        assert_eq!((x, y), ("abc", "defg"));
        assert_eq!(a.keep("hi"), None);
        assert_eq!(a.keep("h"), Some("h"));
        a.clear();
        assert_eq!(a.keep("12345678"), Some("12345678"));
    }
}
