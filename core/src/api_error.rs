//! Error codes of the Analyst API (`error_code` in a failure envelope).

use core::fmt;

/// Capacity of the server's error message kept in [`ApiError`].
pub const MESSAGE_CAPACITY: usize = 128;

/// An `error_code` as numbered by the reference (101..123) and by deployed
/// servers (124 = `INVALID_PRIORITY`, see `wire-dialect.md`).
///
/// Codes the reference does not document (102, 103, 110, 111, anything new)
/// are kept as [`ErrorCode::Other`] rather than refused.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 101: the server does not have the file; upload its content.
    FileUploadRequired,
    /// 104: the key/api_token pair is wrong.
    InvalidCredentials,
    /// 105: a UUID parameter is not one the API returned.
    InvalidUuid,
    /// 106: no result for this task (yet).
    NoResultFound,
    /// 107: the service is temporarily unavailable; retry later.
    TemporarilyUnavailable,
    /// 108: the credentials are valid but lack permission.
    PermissionDenied,
    /// 109: the uploaded file is larger than the limit.
    FileTooLarge,
    /// 112: invalid download metadata.
    InvalidDMetadata,
    /// 113: the file type is not accepted.
    InvalidFileType,
    /// 114: the artifact id is malformed or unknown.
    InvalidArtifactUuid,
    /// 115: the licence's submission limit is exhausted.
    SubmissionLimitExceeded,
    /// 116: `hash_algorithm` is not one of MD5, SHA1, SHA256.
    InvalidHashAlgorithm,
    /// 117: the URL (or referer) is invalid.
    InvalidUrl,
    /// 118: the report version is invalid.
    InvalidReportVersion,
    /// 119: a file could not be extracted from the submitted archive.
    FileExtractionFailed,
    /// 120: the report cannot be expressed as an IOC.
    NoIocExtractable,
    /// 121: the chain of child tasks is too deep.
    ChildTaskChainTooDeep,
    /// 122: no credentials, or the session expired: authenticate again.
    AuthenticationRequired,
    /// 123: the data is no longer available.
    DataNoLongerAvailable,
    /// 124: the priority is not in 1..=10 (numbered by deployed servers).
    InvalidPriority,
    /// Any other number, kept as sent.
    Other(i64),
}

impl ErrorCode {
    /// Maps a number from the wire to a code; unknown numbers are kept.
    pub const fn from_number(n: i64) -> Self {
        match n {
            101 => Self::FileUploadRequired,
            104 => Self::InvalidCredentials,
            105 => Self::InvalidUuid,
            106 => Self::NoResultFound,
            107 => Self::TemporarilyUnavailable,
            108 => Self::PermissionDenied,
            109 => Self::FileTooLarge,
            112 => Self::InvalidDMetadata,
            113 => Self::InvalidFileType,
            114 => Self::InvalidArtifactUuid,
            115 => Self::SubmissionLimitExceeded,
            116 => Self::InvalidHashAlgorithm,
            117 => Self::InvalidUrl,
            118 => Self::InvalidReportVersion,
            119 => Self::FileExtractionFailed,
            120 => Self::NoIocExtractable,
            121 => Self::ChildTaskChainTooDeep,
            122 => Self::AuthenticationRequired,
            123 => Self::DataNoLongerAvailable,
            124 => Self::InvalidPriority,
            other => Self::Other(other),
        }
    }

    /// The number on the wire.
    pub const fn number(self) -> i64 {
        match self {
            Self::FileUploadRequired => 101,
            Self::InvalidCredentials => 104,
            Self::InvalidUuid => 105,
            Self::NoResultFound => 106,
            Self::TemporarilyUnavailable => 107,
            Self::PermissionDenied => 108,
            Self::FileTooLarge => 109,
            Self::InvalidDMetadata => 112,
            Self::InvalidFileType => 113,
            Self::InvalidArtifactUuid => 114,
            Self::SubmissionLimitExceeded => 115,
            Self::InvalidHashAlgorithm => 116,
            Self::InvalidUrl => 117,
            Self::InvalidReportVersion => 118,
            Self::FileExtractionFailed => 119,
            Self::NoIocExtractable => 120,
            Self::ChildTaskChainTooDeep => 121,
            Self::AuthenticationRequired => 122,
            Self::DataNoLongerAvailable => 123,
            Self::InvalidPriority => 124,
            Self::Other(n) => n,
        }
    }

    /// The reference's symbolic name (`ANALYSIS_API_...`), or `None` for
    /// an undocumented number.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::FileUploadRequired => "ANALYSIS_API_FILE_UPLOAD_REQUIRED",
            Self::InvalidCredentials => "ANALYSIS_API_INVALID_CREDENTIALS",
            Self::InvalidUuid => "ANALYSIS_API_INVALID_UUID",
            Self::NoResultFound => "ANALYSIS_API_NO_RESULT_FOUND",
            Self::TemporarilyUnavailable => "ANALYSIS_API_TEMPORARILY_UNAVAILABLE",
            Self::PermissionDenied => "ANALYSIS_API_PERMISSION_DENIED",
            Self::FileTooLarge => "ANALYSIS_API_FILE_TOO_LARGE",
            Self::InvalidDMetadata => "ANALYSIS_API_INVALID_D_METADATA",
            Self::InvalidFileType => "ANALYSIS_API_INVALID_FILE_TYPE",
            Self::InvalidArtifactUuid => "ANALYSIS_API_INVALID_ARTIFACT_UUID",
            Self::SubmissionLimitExceeded => "ANALYSIS_API_SUBMISSION_LIMIT_EXCEEDED",
            Self::InvalidHashAlgorithm => "ANALYSIS_API_INVALID_HASH_ALGORITHM",
            Self::InvalidUrl => "ANALYSIS_API_INVALID_URL",
            Self::InvalidReportVersion => "ANALYSIS_API_INVALID_REPORT_VERSION",
            Self::FileExtractionFailed => "ANALYSIS_API_FILE_EXTRACTION_FAILED",
            Self::NoIocExtractable => "ANALYSIS_API_NO_IOC_EXTRACTABLE",
            Self::ChildTaskChainTooDeep => "ANALYSIS_API_CHILD_TASK_CHAIN_TOO_DEEP",
            Self::AuthenticationRequired => "ANALYSIS_API_AUTHENTICATION_REQUIRED",
            Self::DataNoLongerAvailable => "ANALYSIS_API_DATA_NO_LONGER_AVAILABLE",
            Self::InvalidPriority => "ANALYSIS_API_INVALID_PRIORITY",
            Self::Other(_) => return None,
        })
    }

    /// Maps a symbolic name (with or without the `ANALYSIS_API_` prefix) to
    /// a code. Servers that send the name instead of the number, or put it
    /// in the message of an envelope without `error_code`, are understood.
    pub fn from_name(name: &str) -> Option<Self> {
        let short = name.strip_prefix("ANALYSIS_API_").unwrap_or(name);
        const ALL: [ErrorCode; 20] = [
            ErrorCode::FileUploadRequired,
            ErrorCode::InvalidCredentials,
            ErrorCode::InvalidUuid,
            ErrorCode::NoResultFound,
            ErrorCode::TemporarilyUnavailable,
            ErrorCode::PermissionDenied,
            ErrorCode::FileTooLarge,
            ErrorCode::InvalidDMetadata,
            ErrorCode::InvalidFileType,
            ErrorCode::InvalidArtifactUuid,
            ErrorCode::SubmissionLimitExceeded,
            ErrorCode::InvalidHashAlgorithm,
            ErrorCode::InvalidUrl,
            ErrorCode::InvalidReportVersion,
            ErrorCode::FileExtractionFailed,
            ErrorCode::NoIocExtractable,
            ErrorCode::ChildTaskChainTooDeep,
            ErrorCode::AuthenticationRequired,
            ErrorCode::DataNoLongerAvailable,
            ErrorCode::InvalidPriority,
        ];
        // The wire dialect calls 101 FILE_NOT_AVAILABLE.
        if short == "FILE_NOT_AVAILABLE" {
            return Some(ErrorCode::FileUploadRequired);
        }
        ALL.into_iter().find(|c| {
            c.name()
                .and_then(|n| n.strip_prefix("ANALYSIS_API_"))
                .is_some_and(|n| n == short)
        })
    }

    /// Whether waiting and sending the same request again can succeed.
    pub const fn is_retryable(self) -> bool {
        matches!(self, Self::TemporarilyUnavailable)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({})", name, self.number()),
            None => write!(f, "undocumented error code {}", self.number()),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ErrorCode {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "error_code {=i64}", self.number())
    }
}

/// A failure envelope: `{"success": 0, "error_code": N, "error": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ApiError {
    /// `error_code`; optional in the reference.
    pub code: Option<ErrorCode>,
    /// `error`, the server's message, up to [`MESSAGE_CAPACITY`] bytes.
    pub message: heapless::String<MESSAGE_CAPACITY>,
    /// True when the server's message was longer than [`MESSAGE_CAPACITY`]
    /// and `message` holds only its start. The code is what programs act
    /// on; the message is for people, so a long one does not hide the code.
    pub message_truncated: bool,
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
            Some(code) => write!(f, "API error {code}")?,
            None => f.write_str("API error without error_code")?,
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
            if self.message_truncated {
                f.write_str("...")?;
            }
        }
        Ok(())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ApiError {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "ApiError {{ code: {}, message: {=str} }}",
            self.code,
            self.message.as_str()
        )
    }
}
