//! Where the sample comes from: anything readable twice (to hash, then to
//! upload), such as flash or a capture ring buffer.

use embedded_io::ErrorKind;
use lastline_core::hashing::{Algorithms, Digests, MultiHasher};

use crate::Error;

/// A sample that can be read at any offset, as often as needed.
pub trait SampleSource {
    /// Its length in bytes.
    fn len(&self) -> u64;

    /// True for an empty sample.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns how many (0 only
    /// at the end).
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, ErrorKind>;
}

/// A sample held in memory (a static capture buffer).
#[derive(Clone, Copy, Debug)]
pub struct SliceSample<'a>(pub &'a [u8]);

impl SampleSource for SliceSample<'_> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let start = usize::try_from(offset).map_err(|_| ErrorKind::InvalidInput)?;
        let rest = self.0.get(start..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        if let (Some(d), Some(s)) = (buf.get_mut(..n), rest.get(..n)) {
            d.copy_from_slice(s);
        }
        Ok(n)
    }
}

/// Hashes a whole sample (MD5, SHA-1, SHA-256) in one pass. Not inlined:
/// the hasher states and the read buffer then live in a frame of their own
/// that is gone before the submission's deeper calls run.
#[inline(never)]
pub(crate) fn hash_sample(sample: &mut dyn SampleSource) -> Result<Digests, Error> {
    let mut h = MultiHasher::new(Algorithms::ALL);
    let mut buf = [0u8; 256];
    let mut at = 0u64;
    let len = sample.len();
    while at < len {
        let n = sample.read_at(at, &mut buf).map_err(Error::Sample)?;
        if n == 0 {
            return Err(Error::SampleChanged);
        }
        h.update(buf.get(..n).unwrap_or(&[]));
        at = at.saturating_add(n as u64);
    }
    Ok(h.finish())
}
