//! The small codecs the core writes and reads with: decimal digits, hex
//! (out in lower case, in either case), base64 (the Basic credential),
//! form percent-encoding. Hand-written where a crate's would cost firmware
//! more than the code using it (core/FIRMWARE.md), or, for reading hex,
//! time: every UUID of every list entry goes through it, and the `hex`
//! crate's per-digit error values made it a third of a completion page's
//! decoding. Each is checked against an independent codec in the tests
//! (`std`, the `hex`, `base64` and `form_urlencoded` crates).

use crate::emit::Sink;

/// The value of a hex digit (either case), or 16 and up for any other
/// byte. (Branches, not arithmetic: with well-formed input they are always
/// predicted, and measured faster than a branch-free form.)
#[inline]
fn nibble(b: u8) -> u8 {
    let digit = b.wrapping_sub(b'0');
    let letter = (b | 0x20).wrapping_sub(b'a');
    if digit < 10 {
        digit
    } else if letter < 6 {
        letter.wrapping_add(10)
    } else {
        0xff
    }
}

/// Decodes the hex digits `hex` (two a byte, either case) into `out`,
/// which must be exactly half as long; `None` for any other byte or
/// length.
pub(crate) fn hex_decode(hex: &[u8], out: &mut [u8]) -> Option<()> {
    if hex.len() != out.len().checked_mul(2)? {
        return None;
    }
    // A machine word of digits at a time: every byte checked and valued at
    // once (a UUID is four such words on a 64-bit host, eight on a
    // Cortex-M), the few left over one by one.
    const W: usize = core::mem::size_of::<usize>();
    const ONES: usize = usize::MAX / 255;
    const HIGH: usize = ONES << 7;
    // The high bit of each byte of `x` (all below 0x80) set where it is at
    // least `c`: the sum cannot carry into the next byte.
    let at_least = |x: usize, c: u8| {
        x.wrapping_add(ONES.wrapping_mul(usize::from(0x80u8.wrapping_sub(c)))) & HIGH
    };
    let mut words_in = hex.chunks_exact(W);
    let mut words_out = out.chunks_exact_mut(W / 2);
    let mut bad = 0usize;
    for (word, dst) in (&mut words_in).zip(&mut words_out) {
        let w = usize::from_le_bytes(<[u8; W]>::try_from(word).ok()?);
        let lower = w | ONES.wrapping_mul(0x20);
        let digit = at_least(w, b'0') & !at_least(w, b'9' + 1);
        let letter = at_least(lower, b'a') & !at_least(lower, b'f' + 1);
        // Beyond ASCII (where the sums above may carry), or neither.
        bad |= (w & HIGH) | (!(digit | letter) & HIGH);
        // A digit's value: its low nibble, plus 9 for a letter (bit 6).
        let v = (w & ONES.wrapping_mul(0x0f)).wrapping_add(((w >> 6) & ONES).wrapping_mul(9));
        // Each even byte of `t` is a pair of digits as one byte.
        let t = (v << 4) | (v >> 8);
        for (o, b) in dst.iter_mut().zip(t.to_le_bytes().iter().step_by(2)) {
            *o = *b;
        }
    }
    let mut bad_byte = 0u8;
    for (o, pair) in words_out
        .into_remainder()
        .iter_mut()
        .zip(words_in.remainder().chunks_exact(2))
    {
        let (hi, lo) = match pair {
            [h, l] => (nibble(*h), nibble(*l)),
            _ => return None,
        };
        bad_byte |= hi | lo;
        *o = (hi << 4) | (lo & 0x0f);
    }
    (bad == 0 && bad_byte < 16).then_some(())
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

/// The standard base64 alphabet (RFC 4648 §4).
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Writes the padded standard base64 of `bytes` through `put`, four
/// characters at a time.
///
/// Hand-written rather than the `base64` crate's engine: encoding the one
/// short Basic credential is all the core needs, and the engine (with the
/// decode table it carries) cost a firmware image 888 bytes of flash against
/// about 150 here. Checked against the `base64` crate in the tests.
pub(crate) fn base64_into(mut bytes: impl Iterator<Item = u8>, put: &mut dyn FnMut(&[u8])) {
    loop {
        let mut group = [0u8; 3];
        let mut n = 0usize;
        for slot in group.iter_mut() {
            match bytes.next() {
                Some(b) => {
                    *slot = b;
                    n = n.saturating_add(1);
                }
                None => break,
            }
        }
        if n == 0 {
            return;
        }
        let [a, b, c] = group;
        let sextets = [
            a >> 2,
            (a << 4 | b >> 4) & 63,
            (b << 2 | c >> 6) & 63,
            c & 63,
        ];
        let mut out = [b'='; 4];
        // n bytes give n + 1 characters; the rest stays padding.
        for (o, &v) in out.iter_mut().zip(sextets.iter()).take(n.saturating_add(1)) {
            *o = BASE64.get(usize::from(v)).copied().unwrap_or(b'=');
        }
        put(&out);
        if n < 3 {
            return;
        }
    }
}

/// Whether form encoding leaves `b` as it is.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
}

/// Writes `bytes` form-encoded into `sink`, in runs of plain bytes.
pub fn form_encode_into<S: Sink + ?Sized>(sink: &mut S, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut rest = bytes;
    while !rest.is_empty() {
        let plain = rest
            .iter()
            .position(|&b| !unreserved(b))
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(plain);
        if !run.is_empty() {
            sink.put(run);
        }
        let Some((&b, tail)) = tail.split_first() else {
            break;
        };
        if b == b' ' {
            sink.put(b"+");
        } else {
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0');
            sink.put(&[b'%', hi, lo]);
        }
        rest = tail;
    }
}

#[cfg(test)]
mod tests {

    proptest::proptest! {
        /// Hex in: every string of hex digits (either case) decodes as the
        /// `hex` crate decodes it, and any other byte or length is refused
        /// as it refuses it.
        #[test]
        fn hex_decodes_as_the_hex_crate(s in "[0-9a-fA-F]{0,40}|[ -~]{0,12}|[\\x00-\\xff]{0,6}|[0-9a-f]{0,24}[^0-9a-fA-F][0-9a-fA-F]{0,24}") {
            let b = s.as_bytes();
            let mut ours = std::vec![0u8; b.len() / 2];
            let mut theirs = std::vec![0u8; b.len() / 2];
            let ok = super::hex_decode(b, &mut ours).is_some();
            let want = hex::decode_to_slice(b, &mut theirs).is_ok() && b.len() % 2 == 0;
            proptest::prop_assert_eq!(ok, want, "{:?}", s);
            if ok {
                proptest::prop_assert_eq!(ours, theirs);
            }
        }
    }

    #[test]
    fn every_byte_is_a_hex_digit_only_when_the_hex_crate_says_so() {
        for b in 0..=255u8 {
            let pair = [b'0', b];
            let (mut ours, mut theirs) = ([0u8; 1], [0u8; 1]);
            let ok = super::hex_decode(&pair, &mut ours).is_some();
            assert_eq!(
                ok,
                hex::decode_to_slice(pair, &mut theirs).is_ok(),
                "{b:#x}"
            );
            if ok {
                assert_eq!(ours, theirs, "{b:#x}");
            }
        }
    }
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

#[cfg(test)]
mod base64_tests {
    extern crate std;
    use super::base64_into;
    use base64::Engine as _;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn ours(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        base64_into(input.iter().copied(), &mut |b| out.extend_from_slice(b));
        out
    }

    #[test]
    fn rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(ours(input.as_bytes()), want.as_bytes(), "{input:?}");
        }
    }

    proptest! {
        #[test]
        fn matches_the_base64_crate(input in proptest::collection::vec(any::<u8>(), 0..600)) {
            let want = base64::engine::general_purpose::STANDARD.encode(&input);
            prop_assert_eq!(ours(&input), want.into_bytes());
        }
    }
}

#[cfg(test)]
mod form_tests {
    extern crate std;
    use super::form_encode_into;
    use crate::emit::Sink;
    use proptest::prelude::*;
    use std::string::String;
    use std::vec::Vec;

    struct Bytes(Vec<u8>);

    impl Sink for Bytes {
        fn put(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
    }

    proptest! {
        /// What `form_urlencoded` parses back is the text given.
        #[test]
        fn form_urlencoded_reads_back_what_was_written(text in "\\PC{0,60}") {
            let mut out = Bytes(Vec::new());
            form_encode_into(&mut out, text.as_bytes());
            let pair = [b"k=".as_slice(), &out.0].concat();
            let back: Vec<(String, String)> = form_urlencoded::parse(&pair).into_owned().collect();
            prop_assert_eq!(back, std::vec![(String::from("k"), text)]);
        }
    }
}
