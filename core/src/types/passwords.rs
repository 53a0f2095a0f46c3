//! `password_candidates`: passwords to try on encrypted samples.

/// At most this many passwords.
pub const MAX_PASSWORD_CANDIDATES: usize = 1000;
/// At most this many bytes once encoded (one password per line).
pub const MAX_PASSWORD_CANDIDATES_BYTES: usize = 131_072;

/// A checked list of passwords, sent as one part with one password per
/// line (`\n`-separated, UTF-8), as the catalog reads the reference.
#[derive(Clone, Copy)]
pub struct PasswordCandidates<'a> {
    list: &'a [&'a str],
}

/// Why a list cannot be sent as `password_candidates`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidPasswordCandidates {
    /// More than [`MAX_PASSWORD_CANDIDATES`] entries.
    TooMany,
    /// More than [`MAX_PASSWORD_CANDIDATES_BYTES`] bytes once encoded.
    TooLarge,
    /// An entry is empty or holds a line break.
    BadEntry,
}

impl core::fmt::Display for InvalidPasswordCandidates {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::TooMany => "more than 1000 password candidates",
            Self::TooLarge => "password candidates exceed 128 KiB",
            Self::BadEntry => "a password candidate is empty or has a line break",
        })
    }
}

impl<'a> PasswordCandidates<'a> {
    /// Checks `list`.
    pub fn new(list: &'a [&'a str]) -> Result<Self, InvalidPasswordCandidates> {
        if list.len() > MAX_PASSWORD_CANDIDATES {
            return Err(InvalidPasswordCandidates::TooMany);
        }
        let mut total: usize = 0;
        for p in list {
            if p.is_empty() || p.contains(['\n', '\r']) {
                return Err(InvalidPasswordCandidates::BadEntry);
            }
            total = total.saturating_add(p.len()).saturating_add(1);
        }
        if total.saturating_sub(1) > MAX_PASSWORD_CANDIDATES_BYTES {
            return Err(InvalidPasswordCandidates::TooLarge);
        }
        Ok(Self { list })
    }

    /// The passwords.
    pub fn as_slice(&self) -> &'a [&'a str] {
        self.list
    }
}

impl core::fmt::Debug for PasswordCandidates<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Passwords are secrets too.
        write!(f, "PasswordCandidates({} entries)", self.list.len())
    }
}
