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
        Self::parse_ascii(s.as_bytes())
    }

    /// [`Self::parse`] for bytes (as they came in a JSON string: no UTF-8
    /// check needed, for no byte beyond ASCII is a hex digit).
    pub fn parse_ascii(b: &[u8]) -> Result<Self, InvalidUuid> {
        let mut out = [0u8; 16];
        let ok = match b.len() {
            32 => crate::codec::hex_decode(b, &mut out),
            36 => {
                // 8-4-4-4-12: the dashes, and the five runs of digits.
                let dashes = [8, 13, 18, 23].iter().all(|&i| b.get(i) == Some(&b'-'));
                // Digits from..to become bytes at..end.
                let runs = [
                    (0, 8, 0, 4),
                    (9, 13, 4, 6),
                    (14, 18, 6, 8),
                    (19, 23, 8, 10),
                    (24, 36, 10, 16),
                ];
                dashes
                    && runs.iter().all(|&(from, to, at, end)| {
                        match (b.get(from..to), out.get_mut(at..end)) {
                            (Some(hex), Some(dst)) => crate::codec::hex_decode(hex, dst).is_some(),
                            _ => false,
                        }
                    })
            }
            .then_some(()),
            _ => None,
        };
        ok.map(|()| Self(out)).ok_or(InvalidUuid)
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

#[cfg(test)]
mod tests {
    use super::Uuid;
    use proptest::prelude::*;

    proptest! {
        /// Any 16 bytes: the plain form, upper case and the dashed form all
        /// parse back to them.
        #[test]
        fn every_form_parses_back(bytes in proptest::array::uniform16(any::<u8>())) {
            let plain: std::string::String = bytes.iter().map(|b| std::format!("{b:02x}")).collect();
            let dashed = std::format!(
                "{}-{}-{}-{}-{}",
                &plain[..8], &plain[8..12], &plain[12..16], &plain[16..20], &plain[20..]
            );
            let want = Ok(Uuid::from_bytes(bytes));
            prop_assert_eq!(Uuid::parse(&plain), want);
            prop_assert_eq!(Uuid::parse(&plain.to_uppercase()), want);
            prop_assert_eq!(Uuid::parse(&dashed), want);
        }

        /// Anything else is refused: a dash out of place, a non-hex byte,
        /// another length.
        #[test]
        fn other_strings_are_refused(s in "[0-9a-f-]{30,38}|.{0,40}") {
            let hex = s.bytes().all(|b| b.is_ascii_hexdigit());
            let dashed = s.len() == 36
                && s.bytes().enumerate().all(|(i, b)| {
                    if matches!(i, 8 | 13 | 18 | 23) { b == b'-' } else { b.is_ascii_hexdigit() }
                });
            let valid = (s.len() == 32 && hex) || dashed;
            prop_assert_eq!(Uuid::parse(&s).is_ok(), valid, "{:?}", s);
        }
    }
}
