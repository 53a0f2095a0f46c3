//! One streaming pass computing any subset of MD5, SHA-1 and SHA-256.

use md5::Digest as _;

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
const INTERLEAVE: usize = 64;

/// Streaming hasher: feed the sample in chunks of any size, in order.
#[derive(Clone)]
pub struct MultiHasher {
    md5: Option<md5::Md5>,
    sha1: Option<sha1::Sha1>,
    sha256: Option<sha2::Sha256>,
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
            md5: algorithms.md5.then(md5::Md5::new),
            sha1: algorithms.sha1.then(sha1::Sha1::new),
            sha256: algorithms.sha256.then(sha2::Sha256::new),
            len: 0,
        }
    }

    /// Hashes the next `chunk` of the sample.
    pub fn update(&mut self, chunk: &[u8]) {
        let several = [
            self.md5.is_some(),
            self.sha1.is_some(),
            self.sha256.is_some(),
        ]
        .iter()
        .filter(|&&on| on)
        .count()
            > 1;
        // MD5 is one long dependency chain per block. Feeding the digests
        // a block each in turn lets the CPU run SHA-1/SHA-256 work in the
        // gaps of that chain: measured 391 MB/s for all three against 347
        // when each digest walks the whole chunk (BENCHMARKS.md).
        let step = if several {
            INTERLEAVE
        } else {
            chunk.len().max(1)
        };
        for part in chunk.chunks(step) {
            if let Some(h) = &mut self.md5 {
                h.update(part);
            }
            if let Some(h) = &mut self.sha1 {
                h.update(part);
            }
            if let Some(h) = &mut self.sha256 {
                h.update(part);
            }
        }
        self.len = self.len.saturating_add(chunk.len() as u64);
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True before the first byte.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digests.
    pub fn finish(self) -> Digests {
        Digests {
            md5: self.md5.map(|h| crate::types::Digest(h.finalize().into())),
            sha1: self.sha1.map(|h| crate::types::Digest(h.finalize().into())),
            sha256: self
                .sha256
                .map(|h| crate::types::Digest(h.finalize().into())),
            len: self.len,
        }
    }
}

/// Digests of a sample already in memory.
pub fn digest(algorithms: Algorithms, data: &[u8]) -> Digests {
    let mut h = MultiHasher::new(algorithms);
    h.update(data);
    h.finish()
}
