//! Error codes of the Analyst API (`error_code` in a failure envelope).

use core::fmt;

/// Capacity of the server's error message kept by the decoder that read it
/// ([`ApiMessage`]).
pub const MESSAGE_CAPACITY: usize = 128;

/// Declares [`ErrorCode`] from one table: variant, number, name without
/// the `ANALYSIS_API_` prefix.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $number:literal, $name:literal;)*) => {
        /// An `error_code` as numbered by the reference (101..123) and by deployed
        /// servers (124 = `INVALID_PRIORITY`, see `wire-dialect.md`).
        ///
        /// Codes the reference does not document (102, 103, 110, 111, anything new)
        /// are kept as [`ErrorCode::Other`] rather than refused.
        #[non_exhaustive]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
            /// Any other number, kept as sent.
            Other(i32),
        }

        impl ErrorCode {
            /// Maps a number from the wire to a code; unknown numbers are kept.
            pub const fn from_number(n: i32) -> Self {
                match n {
                    $($number => Self::$variant,)*
                    other => Self::Other(other),
                }
            }

            /// The number on the wire.
            pub const fn number(self) -> i32 {
                match self {
                    $(Self::$variant => $number,)*
                    Self::Other(n) => n,
                }
            }

            /// The reference's symbolic name (`ANALYSIS_API_...`), or `None` for
            /// an undocumented number.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $(Self::$variant => Some(concat!("ANALYSIS_API_", $name)),)*
                    Self::Other(_) => None,
                }
            }

            /// Every name without its prefix, each followed by `,`: one
            /// string, so a lookup stores no table of pointers.
            const NAMES: &'static str = concat!($($name, ",",)*);
            /// The numbers of [`Self::NAMES`], in order.
            const NUMBERS: &'static [u8] = &[$($number,)*];
        }
    };
}

error_codes! {
    /// 101: the server does not have the file; upload its content.
    FileUploadRequired = 101, "FILE_UPLOAD_REQUIRED";
    /// 104: the key/api_token pair is wrong.
    InvalidCredentials = 104, "INVALID_CREDENTIALS";
    /// 105: a UUID parameter is not one the API returned.
    InvalidUuid = 105, "INVALID_UUID";
    /// 106: no result for this task (yet).
    NoResultFound = 106, "NO_RESULT_FOUND";
    /// 107: the service is temporarily unavailable; retry later.
    TemporarilyUnavailable = 107, "TEMPORARILY_UNAVAILABLE";
    /// 108: the credentials are valid but lack permission.
    PermissionDenied = 108, "PERMISSION_DENIED";
    /// 109: the uploaded file is larger than the limit.
    FileTooLarge = 109, "FILE_TOO_LARGE";
    /// 112: invalid download metadata.
    InvalidDMetadata = 112, "INVALID_D_METADATA";
    /// 113: the file type is not accepted.
    InvalidFileType = 113, "INVALID_FILE_TYPE";
    /// 114: the artifact id is malformed or unknown.
    InvalidArtifactUuid = 114, "INVALID_ARTIFACT_UUID";
    /// 115: the licence's submission limit is exhausted.
    SubmissionLimitExceeded = 115, "SUBMISSION_LIMIT_EXCEEDED";
    /// 116: `hash_algorithm` is not one of MD5, SHA1, SHA256.
    InvalidHashAlgorithm = 116, "INVALID_HASH_ALGORITHM";
    /// 117: the URL (or referer) is invalid.
    InvalidUrl = 117, "INVALID_URL";
    /// 118: the report version is invalid.
    InvalidReportVersion = 118, "INVALID_REPORT_VERSION";
    /// 119: a file could not be extracted from the submitted archive.
    FileExtractionFailed = 119, "FILE_EXTRACTION_FAILED";
    /// 120: the report cannot be expressed as an IOC.
    NoIocExtractable = 120, "NO_IOC_EXTRACTABLE";
    /// 121: the chain of child tasks is too deep.
    ChildTaskChainTooDeep = 121, "CHILD_TASK_CHAIN_TOO_DEEP";
    /// 122: no credentials, or the session expired: authenticate again.
    AuthenticationRequired = 122, "AUTHENTICATION_REQUIRED";
    /// 123: the data is no longer available.
    DataNoLongerAvailable = 123, "DATA_NO_LONGER_AVAILABLE";
    /// 124: the priority is not in 1..=10 (numbered by deployed servers).
    InvalidPriority = 124, "INVALID_PRIORITY";
}

/// The prefix of every symbolic error name.
const NAME_PREFIX: &str = "ANALYSIS_API_";

impl ErrorCode {
    /// Maps a symbolic name (with or without the `ANALYSIS_API_` prefix) to
    /// a code. Servers that send the name instead of the number, or put it
    /// in the message of an envelope without `error_code`, are understood.
    pub fn from_name(name: &str) -> Option<Self> {
        let short = name.strip_prefix(NAME_PREFIX).unwrap_or(name);
        // The wire dialect calls 101 FILE_NOT_AVAILABLE.
        if short == "FILE_NOT_AVAILABLE" {
            return Some(ErrorCode::FileUploadRequired);
        }
        let at = Self::NAMES
            .as_bytes()
            .split(|&b| b == b',')
            .position(|n| n == short.as_bytes())?;
        Self::NUMBERS
            .get(at)
            .map(|&n| Self::from_number(i32::from(n)))
    }

    /// Whether waiting and sending the same request again can succeed.
    pub const fn is_retryable(self) -> bool {
        matches!(self, Self::TemporarilyUnavailable)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.number()),
            None => write!(f, "undocumented error code {}", self.number()),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ErrorCode {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "error_code {=i32}", self.number())
    }
}

/// A failure envelope, `{"success": 0, "error_code": N, "error": "..."}`:
/// the code, which is what programs act on.
///
/// The server's message, which is for people, stays with the reader that
/// decoded the envelope ([`crate::response::EnvelopeResponse::api_message`],
/// [`crate::envelope::EnvelopeDecoder::api_message`]) instead of riding in
/// every `Result`: carrying 128 bytes of text through each frame cost a
/// firmware client about 2 KiB of stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ApiError {
    /// `error_code`; optional in the reference (then looked up by name in
    /// the message, where some servers put it).
    pub code: Option<ErrorCode>,
}

impl ApiError {
    /// Whether this error says to retry later (107).
    pub fn is_retryable(&self) -> bool {
        self.code.is_some_and(ErrorCode::is_retryable)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "API error {code}"),
            None => f.write_str("API error without error_code"),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ApiError {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "ApiError {{ code: {} }}", self.code)
    }
}

/// The `error` text of a failure envelope, for people.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ApiMessage {
    /// The message, up to [`MESSAGE_CAPACITY`] bytes.
    pub text: heapless::String<MESSAGE_CAPACITY>,
    /// True when the server's message was longer and `text` holds only its
    /// start (cut at a character boundary).
    pub truncated: bool,
}

/// Appends as much of `s` as fits in `out`, cut at a character boundary;
/// true when it was cut.
pub(crate) fn push_cut<const N: usize>(out: &mut heapless::String<N>, s: &str) -> bool {
    for (i, c) in s.char_indices() {
        if out.push(c).is_err() {
            return i < s.len();
        }
    }
    false
}

impl fmt::Display for ApiMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        if self.truncated {
            f.write_str("...")?;
        }
        Ok(())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ApiMessage {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.text.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_for_every_numbered_code() {
        for n in 100..130 {
            let code = ErrorCode::from_number(n);
            match code.name() {
                Some(name) => {
                    assert_eq!(ErrorCode::from_name(name), Some(code));
                    let short = name.strip_prefix(NAME_PREFIX).unwrap();
                    assert_eq!(ErrorCode::from_name(short), Some(code));
                }
                None => assert_eq!(code, ErrorCode::Other(n)),
            }
        }
    }

    #[test]
    fn lookup_refuses_what_is_not_a_whole_name() {
        // The name table is one comma-separated string ending in a comma:
        // neither the empty piece after it nor part of a name may match.
        for not_a_name in [
            "",
            ",",
            NAME_PREFIX,
            "INVALID",
            "INVALID_UUID,",
            "FILE_UPLOAD_REQUIRED,INVALID_CREDENTIALS",
            "invalid_uuid",
        ] {
            assert_eq!(ErrorCode::from_name(not_a_name), None, "{not_a_name:?}");
        }
        assert_eq!(
            ErrorCode::from_name("ANALYSIS_API_FILE_NOT_AVAILABLE"),
            Some(ErrorCode::FileUploadRequired)
        );
    }
}
