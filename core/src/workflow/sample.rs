//! The sample a hash-first submission reads: hashed once ([`digest_sample`]),
//! then, only if the server asks (101), uploaded — read again from its
//! first byte on every attempt, so a source must read at any offset, as
//! often as asked. The exchange never reads it: its
//! [`Step::SendSample`](crate::exchange::Step::SendSample) hands the
//! driver a scratch buffer to stream it through.

use crate::hashing::{Algorithms, Digests, MultiHasher};

/// A sample that can be read at any offset, as often as needed: a capture
/// buffer ([`SliceSample`]), a file, flash.
pub trait SampleSource {
    /// Its length in bytes.
    fn len(&self) -> u64;

    /// True for an empty sample.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns how many (0 only
    /// at the end), or [`SampleUnreadable`] (the source keeps why: a
    /// file's error, a flash fault).
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, SampleUnreadable>;
}

/// A sample could not be read; its source knows why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SampleUnreadable;

/// Why a sample could not be hashed or sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SampleError {
    /// A read failed.
    Unreadable,
    /// It ended before its length (it changed since it was measured).
    Changed,
}

impl From<SampleUnreadable> for SampleError {
    fn from(_: SampleUnreadable) -> Self {
        Self::Unreadable
    }
}

/// A sample held in memory (a static capture buffer).
#[derive(Clone, Copy, Debug)]
pub struct SliceSample<'a>(pub &'a [u8]);

impl SampleSource for SliceSample<'_> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, SampleUnreadable> {
        let start = usize::try_from(offset).map_err(|_| SampleUnreadable)?;
        let rest = self.0.get(start..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        if let (Some(d), Some(s)) = (buf.get_mut(..n), rest.get(..n)) {
            d.copy_from_slice(s);
        }
        Ok(n)
    }
}

/// Hashes a whole sample (the `algorithms` chosen) in one pass through a
/// small buffer. Not inlined: the hasher states and the buffer then live
/// in a frame of their own, gone before a submission's deeper calls run.
#[inline(never)]
pub fn digest_sample(
    sample: &mut dyn SampleSource,
    algorithms: Algorithms,
) -> Result<Digests, SampleError> {
    let mut h = MultiHasher::new(algorithms);
    let mut buf = [0u8; 256];
    let mut at = 0u64;
    let len = sample.len();
    while at < len {
        let n = sample.read_at(at, &mut buf)?;
        if n == 0 {
            return Err(SampleError::Changed);
        }
        h.update(buf.get(..n).unwrap_or(&[]));
        at = at.saturating_add(n as u64);
    }
    Ok(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashing::digest;

    #[test]
    fn a_sample_hashes_as_its_bytes_and_a_short_one_is_changed() {
        let bytes: std::vec::Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let got = digest_sample(&mut SliceSample(&bytes), Algorithms::ALL).unwrap();
        assert_eq!(got, digest(Algorithms::ALL, &bytes));
        struct Short;
        impl SampleSource for Short {
            fn len(&self) -> u64 {
                10
            }
            fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, SampleUnreadable> {
                Ok(if offset < 4 { buf.len().min(4) } else { 0 })
            }
        }
        assert_eq!(
            digest_sample(&mut Short, Algorithms::ALL),
            Err(SampleError::Changed)
        );
    }
}
