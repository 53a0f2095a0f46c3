//! Resumable output: a request is described once as a sequence of byte
//! pieces, then copied into caller buffers of any size, in steps.
//!
//! Each step replays the description and copies only the window that
//! follows what earlier steps wrote. Pieces wholly before the window cost
//! a length comparison, so a body of `p` pieces written through a buffer
//! of `b` bytes costs `O(p * len / b)` comparisons and no allocation.

/// Receives the pieces of an output, in order.
pub trait Sink {
    /// The next bytes of the output.
    fn put(&mut self, bytes: &[u8]);
}

/// Writes `v` in decimal into `buf`, returning the digits.
pub fn decimal(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i = i.saturating_sub(1);
        let (q, r) = div_rem_10(v);
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0'.saturating_add(r);
        }
        v = q;
        if v == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or(&[])
}

/// `v / 10` and `v % 10` by 16-bit long division: four 32-bit divides,
/// which a Cortex-M does in hardware, instead of the ~1 KiB library
/// routine a 64-bit divide would pull into firmware.
#[allow(clippy::arithmetic_side_effects)] // see the comment in the loop
fn div_rem_10(v: u64) -> (u64, u8) {
    let mut q = 0u64;
    let mut r = 0u32;
    // The four 16-bit pieces, high first, by constant shifts (a variable
    // 64-bit shift is a library call on a Cortex-M).
    for piece in [v >> 48, v >> 32, v >> 16, v] {
        // r < 10, so the partial dividend stays below 10 * 2^16.
        let cur = (r << 16) | (piece as u32 & 0xFFFF);
        q = (q << 16) | u64::from(cur / 10);
        r = cur % 10;
    }
    (q, r as u8)
}

/// The two lower-case hex digits of `b`.
///
/// By table rather than the `hex` crate's encoder (kept for decoding):
/// digests, UUIDs and boundaries are written two digits at a time, and
/// the crate's slice encoder with its iterator adapters cost firmware
/// about 400 bytes more.
pub(crate) fn hex_pair(b: u8) -> [u8; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digit = |n: u8| DIGITS.get(usize::from(n & 15)).copied().unwrap_or(b'0');
    [digit(b >> 4), digit(b)]
}

/// Writes the lower-case hex of `bytes` into the start of `out` (which
/// holds at least twice as many bytes; extra input is ignored).
pub(crate) fn hex_into(bytes: &[u8], out: &mut [u8]) {
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&hex_pair(b));
    }
}

/// Counts the bytes of an output.
#[derive(Debug, Default)]
pub struct Counter(pub u64);

impl Sink for Counter {
    fn put(&mut self, bytes: &[u8]) {
        self.0 = self.0.saturating_add(bytes.len() as u64);
    }
}

/// Copies the window `[skip, skip + out.len())` of an output into `out`.
#[derive(Debug)]
pub struct Window<'o> {
    skip: u64,
    out: &'o mut [u8],
    written: usize,
    seen: u64,
}

impl<'o> Window<'o> {
    /// A window starting `skip` bytes into the output.
    pub fn new(skip: u64, out: &'o mut [u8]) -> Self {
        Self {
            skip,
            out,
            written: 0,
            seen: 0,
        }
    }

    /// Bytes copied into `out`.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Total length of the output seen.
    pub fn total(&self) -> u64 {
        self.seen
    }
}

impl Sink for Window<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let start = self.seen;
        self.seen = self.seen.saturating_add(bytes.len() as u64);
        if self.seen <= self.skip || self.written >= self.out.len() {
            return;
        }
        let from = usize::try_from(self.skip.saturating_sub(start)).unwrap_or(usize::MAX);
        let src = bytes.get(from..).unwrap_or(&[]);
        let dst = self.out.get_mut(self.written..).unwrap_or(&mut []);
        let n = src.len().min(dst.len());
        if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
            d.copy_from_slice(s);
        }
        self.written = self.written.saturating_add(n);
        self.skip = self.skip.saturating_add(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::string::ToString;

    fn text(v: u64) -> std::string::String {
        let mut buf = [0u8; 20];
        std::string::String::from_utf8(decimal(v, &mut buf).to_vec()).unwrap()
    }

    proptest! {
        /// The table writer agrees with the `hex` crate's encoder.
        #[test]
        fn hex_matches_the_hex_crate(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut ours = std::vec![0u8; bytes.len() * 2];
            hex_into(&bytes, &mut ours);
            let mut theirs = std::vec![0u8; bytes.len() * 2];
            hex::encode_to_slice(&bytes, &mut theirs).unwrap();
            prop_assert_eq!(&ours, &theirs);
            for (i, &b) in bytes.iter().enumerate() {
                prop_assert_eq!(&hex_pair(b)[..], &theirs[2 * i..2 * i + 2]);
            }
        }
    }

    #[test]
    fn hex_into_stops_at_the_shorter_side() {
        let mut out = [b'.'; 5];
        hex_into(&[0xab, 0xcd, 0xef], &mut out);
        assert_eq!(&out, b"abcd.");
        let mut out = [b'.'; 8];
        hex_into(&[0x01], &mut out);
        assert_eq!(&out, b"01......");
    }

    #[test]
    fn decimal_edges() {
        for v in [
            0,
            9,
            10,
            65_535,
            65_536,
            655_359,
            u64::from(u32::MAX),
            1 << 32,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(text(v), v.to_string());
        }
    }

    proptest! {
        #[test]
        fn decimal_matches_std(v: u64) {
            prop_assert_eq!(text(v), v.to_string());
        }
    }
}
