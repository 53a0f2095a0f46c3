//! One streaming pass computing any subset of MD5, SHA-1 and SHA-256.

use crate::types::{Md5, Sha1, Sha256};

/// Which digests a [`MultiHasher`] computes. Hash only what you need:
/// SHA-256 alone is about five times faster than all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Algorithms {
    /// Compute MD5.
    pub md5: bool,
    /// Compute SHA-1.
    pub sha1: bool,
    /// Compute SHA-256.
    pub sha256: bool,
}

impl Algorithms {
    /// All three.
    pub const ALL: Self = Self {
        md5: true,
        sha1: true,
        sha256: true,
    };
    /// MD5 and SHA-1, what hash submission and the official client use.
    pub const MD5_SHA1: Self = Self {
        md5: true,
        sha1: true,
        sha256: false,
    };
    /// SHA-256 only.
    pub const SHA256: Self = Self {
        md5: false,
        sha1: false,
        sha256: true,
    };
}

/// The digests a [`MultiHasher`] produced; `None` for those not asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Digests {
    /// MD5, if computed.
    pub md5: Option<Md5>,
    /// SHA-1, if computed.
    pub sha1: Option<Sha1>,
    /// SHA-256, if computed.
    pub sha256: Option<Sha256>,
    /// Bytes hashed.
    pub len: u64,
}

/// The block size of all three digests.
const BLOCK: usize = 64;

/// The compression functions: the hash crates' own (unrolled rounds,
/// SHA-NI for SHA-1 on x86-64), or with the `fast-digests` feature off
/// the core's loop-form MD5 and SHA-1 (`compact`), about 4 KiB less
/// flash on a Cortex-M. SHA-256 is always sha2's, whose compact form is
/// its own build option (`sha2_backend_soft="compact"`).
#[cfg(feature = "fast-digests")]
use md5::block_api::compress as md5_compress;
#[cfg(feature = "fast-digests")]
use sha1::block_api::compress as sha1_compress;
use sha2::block_api::compress256 as sha256_compress;

#[cfg(not(feature = "fast-digests"))]
use compact::{md5 as md5_compress, sha1 as sha1_compress};

/// The loop-form MD5 and SHA-1, compiled without `fast-digests` (and in
/// tests, where they are checked against the crates).
#[cfg(any(test, not(feature = "fast-digests")))]
mod compact;

/// The initial chaining values (RFC 1321 §3.3, FIPS 180-4 §5.3.1 and
/// §5.3.3).
const MD5_IV: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
const SHA1_IV: [u32; 5] = [
    0x6745_2301,
    0xefcd_ab89,
    0x98ba_dcfe,
    0x1032_5476,
    0xc3d2_e1f0,
];
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The running state of the chosen digests.
///
/// The three digests are Merkle–Damgård hashes over 64-byte blocks: they
/// share one block buffer, are fed block by block from it (or straight
/// from the input), and are padded by one routine; only their chaining
/// state and compression function are their own. One copy of the
/// buffering and padding in a firmware image, and no per-digest buffer.
#[derive(Clone)]
pub struct MultiHasher {
    md5: Option<[u32; 4]>,
    sha1: Option<[u32; 5]>,
    sha256: Option<[u32; 8]>,
    buf: [u8; BLOCK],
    pos: usize,
    len: u64,
}

impl core::fmt::Debug for MultiHasher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MultiHasher")
            .field("md5", &self.md5.is_some())
            .field("sha1", &self.sha1.is_some())
            .field("sha256", &self.sha256.is_some())
            .field("len", &self.len)
            .finish()
    }
}

impl MultiHasher {
    /// A hasher for `algorithms`.
    pub fn new(algorithms: Algorithms) -> Self {
        Self {
            md5: algorithms.md5.then_some(MD5_IV),
            sha1: algorithms.sha1.then_some(SHA1_IV),
            sha256: algorithms.sha256.then_some(SHA256_IV),
            buf: [0; BLOCK],
            pos: 0,
            len: 0,
        }
    }

    /// Feeds whole blocks to every chosen digest, one block to each in
    /// turn when there are several: MD5 is one long dependency chain per block, and interleaving
    /// lets the CPU run SHA-1/SHA-256 work in its gaps (measured 391 MB/s
    /// for all three against 347 when each digest walks the whole input;
    /// BENCHMARKS.md).
    fn blocks(&mut self, blocks: &[[u8; BLOCK]]) {
        let several = [
            self.md5.is_some(),
            self.sha1.is_some(),
            self.sha256.is_some(),
        ]
        .iter()
        .filter(|&&on| on)
        .count()
            > 1;
        // A single digest takes all the blocks at once.
        let step = if several { 1 } else { blocks.len().max(1) };
        for block in blocks.chunks(step) {
            if let Some(h) = &mut self.md5 {
                md5_compress(h, block);
            }
            if let Some(h) = &mut self.sha1 {
                sha1_compress(h, block);
            }
            if let Some(h) = &mut self.sha256 {
                sha256_compress(h, block);
            }
        }
    }

    /// Feeds the next bytes of the input.
    pub fn update(&mut self, chunk: &[u8]) {
        self.len = self.len.saturating_add(chunk.len() as u64);
        let mut data = chunk;
        if self.pos > 0 {
            let take = BLOCK.saturating_sub(self.pos).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(dst) = self.buf.get_mut(self.pos..self.pos.saturating_add(take)) {
                dst.copy_from_slice(head);
            }
            self.pos = self.pos.saturating_add(take);
            data = rest;
            if self.pos < BLOCK {
                return;
            }
            let block = self.buf;
            self.blocks(core::slice::from_ref(&block));
            self.pos = 0;
        }
        let (blocks, rest) = data.as_chunks::<BLOCK>();
        self.blocks(blocks);
        if let Some(dst) = self.buf.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        self.pos = rest.len();
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing was fed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digests of everything fed.
    pub fn finish(self) -> Digests {
        // The padding all three share: 0x80, zeros, and the length in
        // bits in the last 8 bytes (little-endian for MD5, big-endian for
        // the SHAs), in one block or, when the tail leaves no room for
        // the length, two.
        let mut pad = [[0u8; BLOCK]; 2];
        let [first, _] = &mut pad;
        if let (Some(dst), Some(tail)) = (first.get_mut(..self.pos), self.buf.get(..self.pos)) {
            dst.copy_from_slice(tail);
        }
        if let Some(b) = first.get_mut(self.pos) {
            *b = 0x80;
        }
        let blocks = if self.pos < LENGTH_AT { 1 } else { 2 };
        let bits = self.len.wrapping_mul(8);
        let md5 = self.md5.map(|mut h| {
            md5_compress(&mut h, with_length(&mut pad, blocks, bits.to_le_bytes()));
            words_out(&h, u32::to_le_bytes)
        });
        let last = with_length(&mut pad, blocks, bits.to_be_bytes());
        let sha1 = self.sha1.map(|mut h| {
            sha1_compress(&mut h, last);
            words_out(&h, u32::to_be_bytes)
        });
        let sha256 = self.sha256.map(|mut h| {
            sha256_compress(&mut h, last);
            words_out(&h, u32::to_be_bytes)
        });
        Digests {
            md5: md5.map(crate::types::Digest),
            sha1: sha1.map(crate::types::Digest),
            sha256: sha256.map(crate::types::Digest),
            len: self.len,
        }
    }
}

/// Where the length goes in the last padded block.
const LENGTH_AT: usize = BLOCK - 8;

/// The first `blocks` padding blocks, the last ending in `length`.
fn with_length(pad: &mut [[u8; BLOCK]; 2], blocks: usize, length: [u8; 8]) -> &[[u8; BLOCK]] {
    let pad = pad.get_mut(..blocks).unwrap_or_default();
    if let Some(dst) = pad.last_mut().and_then(|b| b.get_mut(LENGTH_AT..)) {
        dst.copy_from_slice(&length);
    }
    pad
}

/// A digest's output: its chaining words, each in the digest's byte
/// order.
fn words_out<const W: usize, const N: usize>(
    words: &[u32; W],
    order: fn(u32) -> [u8; 4],
) -> [u8; N] {
    let mut out = [0; N];
    for (dst, w) in out.as_chunks_mut::<4>().0.iter_mut().zip(words) {
        *dst = order(*w);
    }
    out
}

/// Digests of a sample already in memory.
pub fn digest(algorithms: Algorithms, data: &[u8]) -> Digests {
    let mut h = MultiHasher::new(algorithms);
    h.update(data);
    h.finish()
}
