//! The byte buffers the envelope reader and the exchange share: bytes
//! appended up to a fixed capacity, and what is left after a consumer took
//! its part moved to the front. No allocation, no `memmove`.

/// Appends as much of `bytes` to `buf[..*len]` as fits.
pub(crate) fn push(buf: &mut [u8], len: &mut usize, bytes: &[u8]) -> usize {
    let room = buf.len().saturating_sub(*len);
    let n = bytes.len().min(room);
    match (buf.get_mut(*len..len.saturating_add(n)), bytes.get(..n)) {
        (Some(dst), Some(src)) => {
            dst.copy_from_slice(src);
            *len = len.saturating_add(n);
            n
        }
        _ => 0,
    }
}

/// Moves `buf[from..to]` to the front of `buf` and returns its length.
///
/// A forward byte loop rather than `copy_within`: the bytes only ever move
/// down, and `copy_within` brings `memmove` into firmware (core/FIRMWARE.md) for
/// these few short copies.
pub fn move_to_front(buf: &mut [u8], from: usize, to: usize) -> usize {
    let to = to.min(buf.len());
    let mut dst = 0usize;
    for src in from..to {
        let b = buf.get(src).copied().unwrap_or(0);
        if let Some(slot) = buf.get_mut(dst) {
            *slot = b;
        }
        dst = dst.saturating_add(1);
    }
    dst
}
