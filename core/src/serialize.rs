//! `serde::Serialize` for value types, in their wire spelling (behind the
//! `serde` feature): UUIDs and digests as hex, timestamps as the API's
//! date format, enums as the words the API uses.

use serde::{Serialize, Serializer};

use crate::api_error::ErrorCode;
use crate::types::{AnyDigest, ArtifactId, Digest, Priority, Timestamp, Url, Uuid};

macro_rules! as_display {
    ($($t:ty),+) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    )+};
}

as_display!(
    AnyDigest,
    ArtifactId<'_>,
    Timestamp,
    Url<'_>,
    Uuid,
    Priority
);

impl<const N: usize> Serialize for Digest<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Codes as their number (what scripts compare against the reference).
impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(self.number())
    }
}
