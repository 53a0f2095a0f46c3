//! A JSON reader built for fixed memory and input that arrives in pieces.
//!
//! No crate parses JSON incrementally without a heap while accepting the
//! API's `0x` hex numbers and 0/1 flags, so this one is hand-written and
//! tested against `serde_json`. [`Reader`] reads one unit (a key and its
//! value, a list entry) from the bytes at hand and says
//! [`Fail::Incomplete`] when they end first, so the caller can keep them
//! and retry with more. [`Skipper`] walks past values nobody asked for
//! (a multi-megabyte `report`) byte by byte, holding only a bit stack.
//!
//! # The duplicate rule
//!
//! A member a decoder reads that appears twice in one object is refused
//! ([`JsonError::DuplicateKey`]),
//! everywhere: the envelope, `data`, and every record within (at most
//! [`KEYS_TRACKED`] members read per object, more than any record of the
//! reference has). A second value cannot be told apart from one injected
//! after the first, and readers downstream disagree on which wins (first,
//! last); refusing leaves no reading to choose. Members that are skipped
//! (unknown, open shapes) are not tracked: no value of theirs is used.

mod reader;
mod skip;

pub(crate) use reader::{decode_message, KeySet};
pub use reader::{Key, KeyBuf, Reader, KEYS_TRACKED};
pub use skip::Skipper;

use crate::error::{Error, JsonError};

/// Deepest nesting accepted anywhere in a response.
pub const MAX_DEPTH: usize = 64;

/// A problem found while reading a unit: small and `Copy`, so parsing
/// frames stay small; it becomes an [`Error`] at the public boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A JSON value is wrong.
    Json {
        /// Which field.
        at: &'static str,
        /// What was wrong.
        kind: JsonError,
    },
    /// A required member is absent.
    MissingField(&'static str),
    /// The envelope itself is wrong.
    BadEnvelope(&'static str),
}

impl From<Problem> for Error {
    fn from(p: Problem) -> Self {
        match p {
            Problem::Json { at, kind } => Error::Json { at, kind },
            Problem::MissingField(field) => Error::MissingField { field },
            Problem::BadEnvelope(what) => Error::BadEnvelope(what),
        }
    }
}

/// Why a unit could not be read. One byte: what was wrong is kept by the
/// [`Reader`] that found it ([`Reader::problem`]), so every read returns a
/// small result (in registers on a 32-bit target) instead of moving a
/// 24-byte problem through each frame (about 1 KiB of firmware flash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fail {
    /// The bytes ended inside the unit: keep them, add more, try again.
    Incomplete,
    /// The unit is wrong: the reader says how ([`Reader::problem`]).
    Bad,
}
