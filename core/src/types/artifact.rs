//! Artifact identifiers: `<report-UUID>:<artifact-name>`.

use core::fmt;

use super::Uuid;

/// Longest artifact name accepted.
pub const ARTIFACT_NAME_CAPACITY: usize = 128;

/// An artifact id as `get_result_artifact` and `is_risky_analysis_artifact`
/// take it: the report's UUID and the artifact's name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ArtifactId<'a> {
    report: Uuid,
    name: &'a str,
}

/// Why a string is not an artifact id or name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidArtifactId {
    /// No `:` separates report UUID and name.
    MissingColon,
    /// The part before `:` is not a UUID.
    BadReportUuid,
    /// The name is empty, longer than [`ARTIFACT_NAME_CAPACITY`], or has
    /// control characters, white space or a `/`.
    BadName,
}

impl fmt::Display for InvalidArtifactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MissingColon => "artifact id must be '<report-UUID>:<artifact-name>'",
            Self::BadReportUuid => "artifact id's report part is not a UUID",
            Self::BadName => "artifact name is empty, too long or has forbidden characters",
        })
    }
}

/// Checks an artifact name (the part after `:`).
pub fn check_artifact_name(name: &str) -> Result<(), InvalidArtifactId> {
    let ok = !name.is_empty()
        && name.len() <= ARTIFACT_NAME_CAPACITY
        && !name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '/');
    if ok {
        Ok(())
    } else {
        Err(InvalidArtifactId::BadName)
    }
}

impl<'a> ArtifactId<'a> {
    /// An artifact id from its two parts.
    pub fn new(report: Uuid, name: &'a str) -> Result<Self, InvalidArtifactId> {
        check_artifact_name(name)?;
        Ok(Self { report, name })
    }

    /// Parses `<report-UUID>:<artifact-name>`.
    pub fn parse(s: &'a str) -> Result<Self, InvalidArtifactId> {
        let (report, name) = s.split_once(':').ok_or(InvalidArtifactId::MissingColon)?;
        let report = Uuid::parse(report).map_err(|_| InvalidArtifactId::BadReportUuid)?;
        Self::new(report, name)
    }

    /// The report's UUID.
    pub fn report(&self) -> Uuid {
        self.report
    }

    /// The artifact's name.
    pub fn name(&self) -> &'a str {
        self.name
    }
}

impl fmt::Display for ArtifactId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.report, self.name)
    }
}

impl fmt::Debug for ArtifactId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ArtifactId({self})")
    }
}
