//! Streaming `multipart/form-data` for `submit_file` and `submit_url`.
//!
//! The body is a prefix (form fields, FILE parameters, the head of the
//! `file` part), the sample's bytes, and a suffix (the closing boundary).
//! The encoder writes prefix and suffix; the transport streams the sample
//! in between, so the core never holds or copies it, and the body's exact
//! length is known before its first byte.

use core::fmt;

use crate::emit::Sink;
use crate::error::Error;
use crate::request::{Params, Value};

/// Length of a boundary: `lastline-` and 32 hex digits.
pub const BOUNDARY_LEN: usize = 41;

/// A boundary made from 16 bytes of caller-supplied entropy. With 128
/// random bits the chance that a sample contains it is negligible; text
/// fields are checked for it before anything is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Boundary([u8; BOUNDARY_LEN]);

impl Boundary {
    /// The boundary for these random bytes.
    pub fn new(entropy: [u8; 16]) -> Self {
        let mut b = [0u8; BOUNDARY_LEN];
        let (prefix, hex_part) = b.split_at_mut(9);
        prefix.copy_from_slice(b"lastline-");
        crate::codec::hex_into(&entropy, hex_part);
        Self(b)
    }

    /// The boundary text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("lastline-boundary")
    }
}

impl fmt::Debug for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Boundary({})", self.as_str())
    }
}

/// Writes parameters as parts of a multipart body.
pub struct PartWriter<'s, S: Sink + ?Sized> {
    sink: &'s mut S,
    boundary: &'s Boundary,
}

impl<'s, S: Sink + ?Sized> PartWriter<'s, S> {
    /// A writer of parts separated by `boundary`.
    pub fn new(sink: &'s mut S, boundary: &'s Boundary) -> Self {
        Self { sink, boundary }
    }

    fn open(&mut self, name: &str, filename: Option<&str>) {
        self.sink.put(b"--");
        self.sink.put(self.boundary.as_str().as_bytes());
        self.sink
            .put(b"\r\nContent-Disposition: form-data; name=\"");
        self.sink.put(name.as_bytes());
        self.sink.put(b"\"");
        if let Some(f) = filename {
            self.sink.put(b"; filename=\"");
            self.sink.put(f.as_bytes());
            self.sink.put(b"\"");
        }
        self.sink.put(b"\r\n\r\n");
    }

    /// The head of the `file` part; the sample's bytes follow it.
    pub fn file_head(&mut self) {
        self.sink.put(b"--");
        self.sink.put(self.boundary.as_str().as_bytes());
        // The real name travels in the `filename` field, as the official
        // client does; the part's file name is a placeholder.
        self.sink.put(b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sample\"\r\nContent-Type: application/octet-stream\r\n\r\n");
    }

    /// Ends the body after the last part (after the sample's bytes).
    pub fn close(&mut self, after_file: bool) {
        if after_file {
            self.sink.put(b"\r\n");
        }
        self.sink.put(b"--");
        self.sink.put(self.boundary.as_str().as_bytes());
        self.sink.put(b"--\r\n");
    }
}

impl<S: Sink + ?Sized> Params for PartWriter<'_, S> {
    fn value(&mut self, name: &'static str, value: Value<'_>) {
        self.open(name, None);
        let sink = &mut *self.sink;
        value.write(&mut |b: &[u8]| sink.put(b));
        self.sink.put(b"\r\n");
    }

    fn file_text(&mut self, name: &'static str, value: &str) {
        self.open(name, Some(name));
        self.sink.put(value.as_bytes());
        self.sink.put(b"\r\n");
    }

    fn file_lines(&mut self, name: &'static str, lines: &[&str]) {
        self.open(name, Some(name));
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                self.sink.put(b"\n");
            }
            self.sink.put(l.as_bytes());
        }
        self.sink.put(b"\r\n");
    }
}

/// Finds text parameters that contain the boundary.
pub(crate) struct BoundaryCheck<'b> {
    pub boundary: &'b str,
    pub offender: Option<&'static str>,
}

impl Params for BoundaryCheck<'_> {
    fn value(&mut self, name: &'static str, value: Value<'_>) {
        // Only free text can hold a boundary; numbers, UUIDs and the like
        // cannot spell `lastline-` and 32 hex digits.
        let text = match value {
            Value::Text(t) => t,
            Value::Artifact(a) => a.name(),
            _ => return,
        };
        // A plain window scan: values are short, and str::contains would
        // bring a two-way searcher into firmware.
        let b = self.boundary.as_bytes();
        if text.as_bytes().windows(b.len()).any(|w| w == b) {
            self.offender = Some(name);
        }
    }
    fn file_text(&mut self, name: &'static str, value: &str) {
        self.text(name, value);
    }
    fn file_lines(&mut self, name: &'static str, lines: &[&str]) {
        for l in lines {
            self.text(name, l);
        }
    }
}

pub(crate) fn check_boundary(
    req_params: impl FnOnce(&mut dyn Params),
    boundary: &Boundary,
) -> Result<(), Error> {
    let mut check = BoundaryCheck {
        boundary: boundary.as_str(),
        offender: None,
    };
    req_params(&mut check);
    match check.offender {
        Some(param) => Err(Error::InvalidParam {
            param,
            reason: text!("contains the multipart boundary"),
        }),
        None => Ok(()),
    }
}
