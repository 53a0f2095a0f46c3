//! Where the sample comes from: anything readable twice (to hash, then to
//! upload), such as flash or a capture ring buffer.

use embedded_io::ErrorKind;

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
