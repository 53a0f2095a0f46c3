//! Task, report, IOC and export identifiers.

use core::fmt;
use core::str::FromStr;

/// A UUID as the API returns it: 32 lower-case hex digits without dashes
/// (e.g. `05243bb7443e4bba80a5890969102082`). Kept as 16 bytes.
///
/// Parsing also accepts upper-case digits and the dashed 8-4-4-4-12 form;
/// [`Display`](fmt::Display) always writes the canonical form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uuid([u8; 16]);

/// Why a string is not a [`Uuid`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUuid;

impl fmt::Display for InvalidUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a UUID (32 hex digits)")
    }
}

impl Uuid {
    /// The UUID with these 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses 32 hex digits, or the dashed 36-character form.
    pub fn parse(s: &str) -> Result<Self, InvalidUuid> {
        let b = s.as_bytes();
        let mut digits = [0u8; 32];
        match b.len() {
            32 => digits.copy_from_slice(b),
            36 => {
                let mut n = 0usize;
                for (i, &c) in b.iter().enumerate() {
                    if matches!(i, 8 | 13 | 18 | 23) {
                        if c != b'-' {
                            return Err(InvalidUuid);
                        }
                    } else {
                        *digits.get_mut(n).ok_or(InvalidUuid)? = c;
                        n = n.checked_add(1).ok_or(InvalidUuid)?;
                    }
                }
            }
            _ => return Err(InvalidUuid),
        }
        let mut out = [0u8; 16];
        hex::decode_to_slice(digits, &mut out).map_err(|_| InvalidUuid)?;
        Ok(Self(out))
    }

    /// Writes the canonical 32-digit form into `buf` and returns it.
    pub fn encode<'b>(&self, buf: &'b mut [u8; 32]) -> &'b str {
        // hex never fails for a 32-byte buffer and 16 input bytes.
        crate::codec::hex_into(&self.0, buf);
        core::str::from_utf8(buf).unwrap_or("")
    }
}

impl FromStr for Uuid {
    type Err = InvalidUuid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 32];
        f.write_str(self.encode(&mut buf))
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Uuid {
    fn format(&self, f: defmt::Formatter<'_>) {
        let mut buf = [0u8; 32];
        defmt::write!(f, "{=str}", self.encode(&mut buf))
    }
}
