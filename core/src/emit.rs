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

// The digit writer lives with the other small codecs; its public path
// stays here.
pub use crate::codec::decimal;

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
