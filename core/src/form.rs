//! `application/x-www-form-urlencoded` encoding, for query strings and
//! POST bodies.
//!
//! Bytes outside `A-Z a-z 0-9 * - . _` are percent-encoded and a space
//! becomes `+` (the WHATWG urlencoded serializer), so any text survives a
//! round trip through any conforming parser.

use crate::emit::Sink;

// The percent encoder lives with the other small codecs; its public path
// stays here.
pub use crate::codec::form_encode_into as encode_into;

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
