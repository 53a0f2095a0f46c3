//! MD5 and SHA-1 compression in loop form, for firmware.
//!
//! Hand-written because no crate offers it: md-5 and sha1 unroll all
//! their rounds (4.8 KiB of flash together on thumbv7em), sha2 alone has a
//! compact build. A loop over the rounds is a fifth of that, its table
//! included; hashing all three digests then takes about 1.5 times the
//! instructions on a Cortex-M4 (BENCHMARKS.md), which a sensor hashing
//! each captured file once can afford. Checked against the md-5 and sha1
//! crates block by block (the tests below) and through `MultiHasher`
//! (tests/properties.rs, run without `fast-digests` in CI).
//!
//! Every index is a round number masked with `& 15` into a 16-word array
//! or below 4 into a 4-entry table: none can panic, which is what the
//! crate's `indexing_slicing` lint guards.
#![allow(clippy::indexing_slicing)]

/// MD5's additive constants, `floor(abs(sin(i + 1)) * 2^32)` (RFC 1321
/// §3.4).
const MD5_K: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

/// MD5's rotations: four per round, repeated over its 16 steps.
const MD5_S: [[u32; 4]; 4] = [
    [7, 12, 17, 22],
    [5, 9, 14, 20],
    [4, 11, 16, 23],
    [6, 10, 15, 21],
];

/// SHA-1's round constants, one per 20 steps (FIPS 180-4 §4.2.1).
const SHA1_K: [u32; 4] = [0x5a82_7999, 0x6ed9_eba1, 0x8f1b_bcdc, 0xca62_c1d6];

/// The 16 message words of a block, in the digest's byte order.
fn words(block: &[u8; 64], order: fn([u8; 4]) -> u32) -> [u32; 16] {
    let mut w = [0; 16];
    for (w, bytes) in w.iter_mut().zip(block.as_chunks::<4>().0) {
        *w = order(*bytes);
    }
    w
}

/// Adds a block's result into the chaining state.
fn add<const N: usize>(state: &mut [u32; N], result: [u32; N]) {
    for (s, r) in state.iter_mut().zip(result) {
        *s = s.wrapping_add(r);
    }
}

/// MD5's compression function over whole blocks (RFC 1321 §3.4).
pub(super) fn md5(state: &mut [u32; 4], blocks: &[[u8; 64]]) {
    for block in blocks {
        let m = words(block, u32::from_le_bytes);
        let [mut a, mut b, mut c, mut d] = *state;
        for (i, &k) in MD5_K.iter().enumerate() {
            let round = i >> 4;
            // Each round's function and the order it reads the words in.
            let (f, word) = match round {
                0 => ((b & c) | (!b & d), i),
                1 => ((b & d) | (c & !d), i.wrapping_mul(5).wrapping_add(1)),
                2 => (b ^ c ^ d, i.wrapping_mul(3).wrapping_add(5)),
                _ => (c ^ (b | !d), i.wrapping_mul(7)),
            };
            let sum = a.wrapping_add(f).wrapping_add(k).wrapping_add(m[word & 15]);
            let next = b.wrapping_add(sum.rotate_left(MD5_S[round & 3][i & 3]));
            (a, b, c, d) = (d, next, b, c);
        }
        add(state, [a, b, c, d]);
    }
}

/// SHA-1's compression function over whole blocks (FIPS 180-4 §6.1.2),
/// its message schedule kept in 16 words that are rewritten in place.
pub(super) fn sha1(state: &mut [u32; 5], blocks: &[[u8; 64]]) {
    for block in blocks {
        let mut w = words(block, u32::from_be_bytes);
        let [mut a, mut b, mut c, mut d, mut e] = *state;
        for i in 0..80usize {
            if i >= 16 {
                let x = w[i.wrapping_add(13) & 15]
                    ^ w[i.wrapping_add(8) & 15]
                    ^ w[i.wrapping_add(2) & 15]
                    ^ w[i & 15];
                w[i & 15] = x.rotate_left(1);
            }
            let round = i / 20;
            let f = match round {
                0 => (b & c) | (!b & d),
                2 => (b & c) | (b & d) | (c & d),
                _ => b ^ c ^ d,
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(SHA1_K[round & 3])
                .wrapping_add(w[i & 15]);
            (a, b, c, d, e) = (t, a, b.rotate_left(30), c, d);
        }
        add(state, [a, b, c, d, e]);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// Block by block, from any chaining state, the same as the crates'
        /// compression functions.
        #[test]
        fn same_as_the_crates(
            state in any::<[u32; 5]>(),
            data in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let (blocks, _) = data.as_chunks::<64>();
            let [a, b, c, d, _] = state;
            let (mut ours, mut theirs) = ([a, b, c, d], [a, b, c, d]);
            super::md5(&mut ours, blocks);
            md5::block_api::compress(&mut theirs, blocks);
            prop_assert_eq!(ours, theirs);
            let (mut ours, mut theirs) = (state, state);
            super::sha1(&mut ours, blocks);
            sha1::block_api::compress(&mut theirs, blocks);
            prop_assert_eq!(ours, theirs);
        }
    }
}
