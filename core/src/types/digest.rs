//! MD5, SHA-1 and SHA-256 digests as values.

use core::fmt;

/// A digest of `N` bytes, written as `2N` lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest<const N: usize>(pub [u8; N]);

/// An MD5 digest (16 bytes, 32 hex digits).
pub type Md5 = Digest<16>;
/// A SHA-1 digest (20 bytes, 40 hex digits).
pub type Sha1 = Digest<20>;
/// A SHA-256 digest (32 bytes, 64 hex digits).
pub type Sha256 = Digest<32>;

/// Why a string is not a digest of the expected length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidDigest;

impl fmt::Display for InvalidDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a hex digest of the expected length")
    }
}

impl<const N: usize> Digest<N> {
    /// Parses exactly `2N` hex digits (either case).
    pub fn parse(s: &str) -> Result<Self, InvalidDigest> {
        let mut out = [0u8; N];
        crate::codec::hex_decode(s.as_bytes(), &mut out).ok_or(InvalidDigest)?;
        Ok(Self(out))
    }

    /// Writes the lower-case hex form into `buf` (at least `2N` bytes) and
    /// returns it; an empty string if `buf` is too small.
    pub fn encode<'b>(&self, buf: &'b mut [u8]) -> &'b str {
        let Some(dst) = N.checked_mul(2).and_then(|n| buf.get_mut(..n)) else {
            return "";
        };
        crate::codec::hex_into(&self.0, dst);
        core::str::from_utf8(dst).unwrap_or("")
    }
}

impl<const N: usize> core::str::FromStr for Digest<N> {
    type Err = InvalidDigest;
    fn from_str(s: &str) -> Result<Self, InvalidDigest> {
        Self::parse(s)
    }
}

impl<const N: usize> fmt::Display for Digest<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            let pair = crate::codec::hex_pair(b);
            f.write_str(core::str::from_utf8(&pair).unwrap_or("??"))?;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for Digest<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

#[cfg(feature = "defmt")]
impl<const N: usize> defmt::Format for Digest<N> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=[u8]:02x}", self.0.as_slice())
    }
}

/// A digest of any of the three algorithms, for `query_file_hash` and
/// `is_blocked_file_hash` (which name the algorithm next to the value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnyDigest {
    /// MD5.
    Md5(Md5),
    /// SHA-1.
    Sha1(Sha1),
    /// SHA-256.
    Sha256(Sha256),
}

impl AnyDigest {
    /// The algorithm this digest belongs to.
    pub fn algorithm(&self) -> super::HashAlgorithm {
        match self {
            Self::Md5(_) => super::HashAlgorithm::Md5,
            Self::Sha1(_) => super::HashAlgorithm::Sha1,
            Self::Sha256(_) => super::HashAlgorithm::Sha256,
        }
    }
}

impl fmt::Display for AnyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Md5(d) => d.fmt(f),
            Self::Sha1(d) => d.fmt(f),
            Self::Sha256(d) => d.fmt(f),
        }
    }
}
