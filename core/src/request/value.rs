//! Parameter values and their wire text, written without `core::fmt` (its
//! machinery costs firmware several KiB of flash for a few numbers).

use core::net::Ipv4Addr;

use crate::codec::decimal;
use crate::types::{AnyDigest, ArtifactId, Digest, Timestamp, Uuid};

/// A parameter's value.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    /// Text as given.
    Text(&'a str),
    /// A decimal integer.
    Int(i64),
    /// A 0/1 flag.
    Flag(bool),
    /// A UUID, 32 hex digits.
    Uuid(Uuid),
    /// A timestamp in its wire form.
    Time(Timestamp),
    /// A digest, lower-case hex.
    Hex(&'a [u8]),
    /// A dotted-quad address.
    Ip(Ipv4Addr),
    /// `<report-UUID>:<artifact-name>`.
    Artifact(ArtifactId<'a>),
}

impl Value<'_> {
    /// Writes the value's wire text through `put`, in pieces.
    pub fn write(&self, put: &mut dyn FnMut(&[u8])) {
        match *self {
            Self::Text(s) => put(s.as_bytes()),
            Self::Int(i) => {
                if i < 0 {
                    put(b"-");
                }
                let mut buf = [0u8; 20];
                put(decimal(i.unsigned_abs(), &mut buf));
            }
            Self::Flag(b) => put(if b { b"1" } else { b"0" }),
            Self::Uuid(u) => hex(put, u.as_bytes()),
            Self::Time(t) => {
                let mut buf = [0u8; 19];
                put(t.encode(&mut buf).as_bytes());
            }
            Self::Hex(bytes) => hex(put, bytes),
            Self::Ip(ip) => {
                for (i, o) in ip.octets().into_iter().enumerate() {
                    if i > 0 {
                        put(b".");
                    }
                    let mut buf = [0u8; 20];
                    put(decimal(u64::from(o), &mut buf));
                }
            }
            Self::Artifact(a) => {
                hex(put, a.report().as_bytes());
                put(b":");
                put(a.name().as_bytes());
            }
        }
    }
}

/// Lower-case hex, a pair of digits at a time (UUIDs and digests alike).
fn hex(put: &mut dyn FnMut(&[u8]), bytes: &[u8]) {
    for &b in bytes {
        put(&crate::codec::hex_pair(b));
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value<'_> {
            fn from(v: $t) -> Self {
                Self::Int(i64::from(v))
            }
        }
    )*};
}
from_int!(i32, u32, u16);

impl From<u64> for Value<'_> {
    fn from(v: u64) -> Self {
        Self::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<Uuid> for Value<'_> {
    fn from(v: Uuid) -> Self {
        Self::Uuid(v)
    }
}

impl From<Timestamp> for Value<'_> {
    fn from(v: Timestamp) -> Self {
        Self::Time(v)
    }
}

impl<'a, const N: usize> From<&'a Digest<N>> for Value<'a> {
    fn from(v: &'a Digest<N>) -> Self {
        Self::Hex(&v.0)
    }
}

impl<'a> From<&'a AnyDigest> for Value<'a> {
    fn from(v: &'a AnyDigest) -> Self {
        match v {
            AnyDigest::Md5(d) => Self::Hex(&d.0),
            AnyDigest::Sha1(d) => Self::Hex(&d.0),
            AnyDigest::Sha256(d) => Self::Hex(&d.0),
        }
    }
}

impl From<Ipv4Addr> for Value<'_> {
    fn from(v: Ipv4Addr) -> Self {
        Self::Ip(v)
    }
}

impl<'a> From<ArtifactId<'a>> for Value<'a> {
    fn from(v: ArtifactId<'a>) -> Self {
        Self::Artifact(v)
    }
}

impl From<crate::types::Priority> for Value<'_> {
    fn from(v: crate::types::Priority) -> Self {
        Self::Int(i64::from(v.get()))
    }
}

macro_rules! from_choice {
    ($($t:ident),*) => {$(
        impl From<crate::types::$t> for Value<'_> {
            fn from(v: crate::types::$t) -> Self {
                Self::Text(v.as_str())
            }
        }
    )*};
}
from_choice!(
    HashAlgorithm,
    Protocol,
    Direction,
    ReportType,
    Format,
    TaskType,
    BlockDecision
);
