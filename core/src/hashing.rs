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

/// Bytes each digest takes before the next one's turn: one block.
use md5::digest::array::Array;
use md5::digest::block_api::{Block, Buffer, CtOutWrapper, FixedOutputCore, UpdateCore};
use md5::digest::consts::U32;

type Md5Core = md5::block_api::Md5Core;
type Sha1Core = sha1::block_api::Sha1Core;
type Sha256Core = CtOutWrapper<sha2::block_api::Sha256VarCore, U32>;

/// The block size of all three digests.
const BLOCK: usize = 64;

/// The running state of the chosen digests.
///
/// The three digests share one 64-byte block buffer and are fed block by
/// block from it (or straight from the input), instead of each keeping and
/// managing a buffer of its own: one copy of that logic in a firmware
/// image, and 128 bytes less state.
#[derive(Clone)]
pub struct MultiHasher {
    md5: Option<Md5Core>,
    sha1: Option<Sha1Core>,
    sha256: Option<Sha256Core>,
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
            md5: algorithms.md5.then(Md5Core::default),
            sha1: algorithms.sha1.then(Sha1Core::default),
            sha256: algorithms.sha256.then(Sha256Core::default),
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
    fn blocks(&mut self, blocks: &[Block<Md5Core>]) {
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
                h.update_blocks(block);
            }
            if let Some(h) = &mut self.sha1 {
                h.update_blocks(block);
            }
            if let Some(h) = &mut self.sha256 {
                h.update_blocks(block);
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
            let block = Array::from(self.buf);
            self.blocks(core::slice::from_ref(&block));
            self.pos = 0;
        }
        let (blocks, rest) = Array::slice_as_chunks(data);
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
        let tail = self.buf.get(..self.pos).unwrap_or(&[]);
        Digests {
            md5: self
                .md5
                .and_then(|h| finalize(h, tail))
                .map(|d| crate::types::Digest(d.into())),
            sha1: self
                .sha1
                .and_then(|h| finalize(h, tail))
                .map(|d| crate::types::Digest(d.into())),
            sha256: self
                .sha256
                .and_then(|h| finalize(h, tail))
                .map(|d| crate::types::Digest(d.into())),
            len: self.len,
        }
    }
}

/// Pads and finishes one digest over the last, partial block `tail`
/// (always shorter than a block, so the buffer accepts it).
fn finalize<C: FixedOutputCore>(mut core: C, tail: &[u8]) -> Option<md5::digest::Output<C>> {
    let mut buffer = Buffer::<C>::try_new(tail).ok()?;
    let mut out = md5::digest::Output::<C>::default();
    core.finalize_fixed_core(&mut buffer, &mut out);
    Some(out)
}

/// Digests of a sample already in memory.
pub fn digest(algorithms: Algorithms, data: &[u8]) -> Digests {
    let mut h = MultiHasher::new(algorithms);
    h.update(data);
    h.finish()
}
