//! Value types shared by requests and responses.

mod artifact;
mod digest;
mod options;
mod passwords;
mod timestamp;
mod url;
mod uuid;

pub use artifact::{check_artifact_name, ArtifactId, InvalidArtifactId, ARTIFACT_NAME_CAPACITY};
pub use digest::{AnyDigest, Digest, InvalidDigest, Md5, Sha1, Sha256};
pub use options::{
    BlockDecision, Direction, Format, HashAlgorithm, InvalidChoice, Priority, Protocol, ReportType,
    TaskType,
};
pub use passwords::{
    InvalidPasswordCandidates, PasswordCandidates, MAX_PASSWORD_CANDIDATES,
    MAX_PASSWORD_CANDIDATES_BYTES,
};
pub use timestamp::{InvalidTimestamp, Timestamp};
pub use url::{InvalidUrl, Url, URL_CAPACITY};
pub use uuid::{InvalidUuid, Uuid};
