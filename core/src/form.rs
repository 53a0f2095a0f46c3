//! `application/x-www-form-urlencoded` encoding, for query strings and
//! POST bodies.
//!
//! Bytes outside `A-Z a-z 0-9 * - . _` are percent-encoded and a space
//! becomes `+` (the WHATWG urlencoded serializer), so any text survives a
//! round trip through any conforming parser.

use crate::emit::Sink;

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
}

/// Writes `bytes` form-encoded into `sink`, in runs of plain bytes.
pub fn encode_into<S: Sink + ?Sized>(sink: &mut S, bytes: &[u8]) {
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

/// Writes `name=value` pairs joined by `&`.
pub struct FormWriter<'s, S: Sink + ?Sized> {
    sink: &'s mut S,
    first: bool,
}

impl<'s, S: Sink + ?Sized> FormWriter<'s, S> {
    /// A writer that starts a fresh list of pairs.
    pub fn new(sink: &'s mut S) -> Self {
        Self { sink, first: true }
    }

    /// Appends `name=value`.
    pub fn pair(&mut self, name: &str, value: &[u8]) {
        if !self.first {
            self.sink.put(b"&");
        }
        self.first = false;
        encode_into(self.sink, name.as_bytes());
        self.sink.put(b"=");
        encode_into(self.sink, value);
    }

    /// Appends `name=` and a value written by `f` (already-formatted text).
    pub fn pair_with(&mut self, name: &str, f: impl FnOnce(&mut dyn FnMut(&[u8]))) {
        if !self.first {
            self.sink.put(b"&");
        }
        self.first = false;
        encode_into(self.sink, name.as_bytes());
        self.sink.put(b"=");
        let sink = &mut *self.sink;
        f(&mut |b: &[u8]| encode_into(sink, b));
    }

    /// True while no pair has been written.
    pub fn is_empty(&self) -> bool {
        self.first
    }
}
